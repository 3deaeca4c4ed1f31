//! EC2 Auto Scaling groups as targets, beside ECS services, against the
//! emulator's groups through the real SDK clients: each scaled through its own
//! kind's calls, within the group's own MinSize and MaxSize, never below its
//! protected instances, and every bad group a hold that names it.

use super::*;

const GROUP: &str = "gpu-workers";

/// A queue per target, the group at `desired` of 1..=5 instances, the ECS
/// service at 2 and the state bucket; answers the two queues.
async fn provision_both(emulator: &Emulator, desired: i32) -> (String, String) {
    let jobs = emulator.create_queue("jobs").await;
    let renders = emulator.create_queue("renders").await;
    emulator.create_service(CLUSTER, SERVICE, 2).await;
    emulator.create_group(GROUP, 1, 5, desired).await;
    emulator.create_bucket(BUCKET).await;
    (jobs, renders)
}

/// One task (or instance) per 100 messages, from 0 to 10, no cooldowns.
fn target_policy(queue: &str) -> Value {
    json!({
        "provider": {"type": "sqs", "queue_url": queue},
        "scaling_policy": "target",
        "target_messages_per_task": 100,
        "min_tasks": 0,
        "max_tasks": 10,
        "scale_in_cooldown": 0,
        "scale_out_cooldown": 0,
    })
}

/// The ECS service on `jobs` and the group on `renders`.
fn mixed(jobs: &str, renders: &str) -> Value {
    let mut service = target_policy(jobs);
    service["cluster"] = json!(CLUSTER);
    service["service"] = json!(SERVICE);
    let mut group = target_policy(renders);
    group["target"] = json!({"type": "ec2_asg", "name": GROUP});
    json!({"state_bucket": BUCKET, "services": [service, group]})
}

async fn evaluate_all(autoscaler: &Autoscaler) -> Vec<DecisionRecord> {
    autoscaler
        .evaluate(&tick_now(), EvaluateOptions::default())
        .await
}

fn calls(emulator: &Emulator, operation: &str) -> u64 {
    emulator.calls().get(operation).copied().unwrap_or(0)
}

#[tokio::test]
async fn a_group_scales_beside_an_ecs_service_each_through_its_own_calls() {
    let emulator = emulator_or_skip!();
    let (jobs, renders) = provision_both(&emulator, 1).await;
    let autoscaler = Autoscaler::new(config_from(&mixed(&jobs, &renders)), &emulator.aws)
        .expect("the providers and targets build");
    emulator.send_messages(&jobs, 300).await;
    emulator.send_messages(&renders, 400).await;
    emulator.reset_calls();
    let records = evaluate_all(&autoscaler).await;
    let (service, group) = (&records[0], &records[1]);
    assert_eq!(
        (
            service.action,
            service.new_desired,
            service.target_type.as_str()
        ),
        (Action::ScaleOut, Some(3), "ecs_service"),
        "{}",
        service.reason
    );
    assert_eq!(
        (group.service.as_str(), group.target_type.as_str()),
        ("ec2_asg:gpu-workers", "ec2_asg")
    );
    assert_eq!(
        (
            group.action,
            group.current_desired,
            group.new_desired,
            group.applied
        ),
        (Action::ScaleOut, Some(1), Some(4), true),
        "{}",
        group.reason
    );
    // One describe call of each kind, one change of each.
    for (operation, expected) in [
        ("autoscaling:DescribeAutoScalingGroups", 1),
        ("autoscaling:SetDesiredCapacity", 1),
        ("ecs:DescribeServices", 1),
        ("ecs:UpdateService", 1),
    ] {
        assert_eq!(calls(&emulator, operation), expected, "{operation}");
    }
    assert_eq!(emulator.group(GROUP).await.desired, 4);
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 3);
    // The group's claim is kept under its own key, with its kind.
    let key = StateStore::key(&TargetId::new("ec2_asg", "", GROUP));
    assert_eq!(key, "autoscaling-state/ec2_asg:gpu-workers");
    let bytes = emulator
        .state_object(BUCKET, &key)
        .await
        .expect("the group's state");
    let state = ServiceState::parse(&bytes).expect("parses");
    assert_eq!(state.target, TargetId::new("ec2_asg", "", GROUP));
    assert_eq!(state.last_action.map(|a| (a.from, a.to)), Some((1, 4)));

    // 900 messages want 9 instances: the group's MaxSize of 5 holds the request,
    // and the reason says so. Nothing is asked that the group would refuse.
    emulator.send_messages(&renders, 500).await;
    emulator.reset_calls();
    let group = evaluate_all(&autoscaler).await.remove(1);
    assert_eq!(
        (group.action, group.new_desired),
        (Action::ScaleOut, Some(5)),
        "{}",
        group.reason
    );
    assert!(
        group
            .reason
            .ends_with("scale_out to 9 held at 5: the group's MaxSize 5"),
        "{}",
        group.reason
    );
    assert_eq!(emulator.group(GROUP).await.desired, 5);
    // At its max, the group is left alone: no call is sent.
    emulator.reset_calls();
    let group = evaluate_all(&autoscaler).await.remove(1);
    assert_eq!(
        (group.action, group.new_desired),
        (Action::None, Some(5)),
        "{}",
        group.reason
    );
    assert!(group.reason.contains("MaxSize 5"), "{}", group.reason);
    assert_eq!(calls(&emulator, "autoscaling:SetDesiredCapacity"), 0);
}

#[tokio::test]
async fn protected_instances_are_never_asked_away() {
    let emulator = emulator_or_skip!();
    let (jobs, renders) = provision_both(&emulator, 5).await;
    emulator.protect_instances(GROUP, 3).await;
    let autoscaler = Autoscaler::new(config_from(&mixed(&jobs, &renders)), &emulator.aws)
        .expect("the providers and targets build");
    // An empty queue wants 0 instances; the group's MinSize is 1, but three
    // instances are protected from scale-in: the request stops at 3.
    let group = evaluate_all(&autoscaler).await.remove(1);
    assert_eq!(
        (group.action, group.new_desired, group.applied),
        (Action::ScaleIn, Some(3), true),
        "{}",
        group.reason
    );
    assert!(
        group
            .reason
            .ends_with("scale_in to 0 held at 3: 3 instances protected from scale-in"),
        "{}",
        group.reason
    );
    let view = emulator.group(GROUP).await;
    assert_eq!((view.desired, view.protected), (3, 3));
    // Every instance protected: no scale-in is asked for at all.
    emulator.protect_instances(GROUP, 3).await;
    emulator.reset_calls();
    let group = evaluate_all(&autoscaler).await.remove(1);
    assert_eq!(
        (group.action, group.new_desired),
        (Action::None, Some(3)),
        "{}",
        group.reason
    );
    assert_eq!(calls(&emulator, "autoscaling:SetDesiredCapacity"), 0);
}

#[tokio::test]
async fn a_missing_group_holds_names_it_and_changes_nothing() {
    let emulator = emulator_or_skip!();
    let (jobs, renders) = provision_both(&emulator, 2).await;
    let mut document = mixed(&jobs, &renders);
    document["services"][1]["target"]["name"] = json!("no-such-group");
    let autoscaler = Autoscaler::new(config_from(&document), &emulator.aws)
        .expect("the providers and targets build");
    emulator.send_messages(&renders, 400).await;
    emulator.reset_calls();
    let records = evaluate_all(&autoscaler).await;
    let group = &records[1];
    assert_eq!(group.action, Action::Hold, "{}", group.reason);
    assert!(
        group.reason.contains("\"no-such-group\" not found"),
        "{}",
        group.reason
    );
    assert_one_clean_line(&group.reason);
    assert_eq!(calls(&emulator, "autoscaling:SetDesiredCapacity"), 0);
    // The ECS service beside it is decided as usual.
    assert_ne!(records[0].action, Action::Hold, "{}", records[0].reason);
}

/// The emulator's SetDesiredCapacity refuses what AWS refuses: a capacity
/// outside the group's bounds, and a group that does not exist.
#[tokio::test]
async fn the_emulator_refuses_a_capacity_outside_the_groups_bounds_as_aws_does() {
    let emulator = emulator_or_skip!();
    emulator.create_group(GROUP, 1, 5, 2).await;
    let set = |name: &'static str, desired: i32| {
        let asg = emulator.autoscaling();
        async move {
            asg.set_desired_capacity()
                .auto_scaling_group_name(name)
                .desired_capacity(desired)
                .send()
                .await
                .map_err(|e| fast_autoscaler_worker::common::aws_error::one_line(&e))
        }
    };
    let above = set(GROUP, 6).await.expect_err("above MaxSize");
    assert!(above.contains("above max value 5"), "{above}");
    let below = set(GROUP, 0).await.expect_err("below MinSize");
    assert!(below.contains("below min value 1"), "{below}");
    let missing = set("no-such-group", 1).await.expect_err("no such group");
    assert!(missing.contains("not found"), "{missing}");
    set(GROUP, 5).await.expect("within the bounds");
    assert_eq!(emulator.group(GROUP).await.desired, 5);
    assert_eq!(calls(&emulator, "autoscaling:SetDesiredCapacity"), 4);
}
