//! Hostile AWS answers and crashes around UpdateService, against moto through the
//! real SDK clients. A [`Tamper`] rewrites one operation's answers (or drops its
//! connection) below the SDK, so the worker's parsing and decisions see exactly
//! what a broken or hostile endpoint would send.
//!
//! Each case asserts the safe behaviour: a `hold` whose logged reason names the
//! cause, and no UpdateService call served by the emulator.
//!
//! Last, the fault-injection soak, shortened: 60 ticks with 20% of the
//! autoscaler's AWS calls faulted must end with no wrong action and no corrupt
//! state. `make reliability` runs the full 1,000 ticks.

use fast_autoscaler_worker::core::target::TargetId;
use std::sync::Arc;

use fast_autoscaler_core::policy::Action;
use fast_autoscaler_core::state::{ActionRecord, ServiceState};
use fast_autoscaler_tests::faults::{Tamper, Tampering};
use fast_autoscaler_tests::{emulator_or_skip, tick_now, workspace_binary, Emulator};
use fast_autoscaler_worker::store::StateStore;
use fast_autoscaler_worker::{
    Autoscaler, AutoscalerConfig, DecisionRecord, EvaluateOptions, ManualClock, Tick,
};
use serde_json::{json, Value};

const CLUSTER: &str = "hostile";
const SERVICE: &str = "workers";
const BUCKET: &str = "hostile-state";

async fn provision(emulator: &Emulator, queue: &str, desired: i32) -> String {
    let url = emulator.create_queue(queue).await;
    emulator.create_service(CLUSTER, SERVICE, desired).await;
    emulator.create_bucket(BUCKET).await;
    url
}

/// The step rule (+1 task per 100 messages above 100, scale-in below 10, at most
/// halving), bounds 1..=10, no cooldowns (so nothing but the answer holds it back).
fn document(queue: &str, scale_out_cooldown: u64) -> Value {
    json!({
        "state_bucket": BUCKET,
        "services": [{
            "cluster": CLUSTER, "service": SERVICE,
            "provider": {"type": "sqs", "queue_url": queue},
            "min_tasks": 1, "max_tasks": 10,
            "scale_up_threshold": 100, "scale_down_threshold": 10,
            "tasks_per_message": 0.01, "max_scale_down_factor": 0.5,
            "scale_in_cooldown": 0, "scale_out_cooldown": scale_out_cooldown,
        }]
    })
}

/// A worker whose every AWS call (providers included) goes through `tamper`.
fn tampered_worker(emulator: &Emulator, document: &Value, tamper: &Arc<Tamper>) -> Autoscaler {
    let aws = emulator
        .aws
        .to_builder()
        .http_client(tamper.client())
        .build();
    let config = AutoscalerConfig::from_document(&document.to_string(), &|_| None)
        .unwrap_or_else(|e| panic!("test configuration rejected: {e}"));
    Autoscaler::new(config, &aws).expect("the providers build")
}

fn clean_worker(emulator: &Emulator, document: &Value) -> Autoscaler {
    Autoscaler::new(fast_autoscaler_tests::config_from(document), &emulator.aws)
        .expect("the providers build")
}

async fn evaluate(autoscaler: &Autoscaler) -> DecisionRecord {
    let mut records = autoscaler
        .evaluate(&tick_now(), EvaluateOptions::default())
        .await;
    assert_eq!(records.len(), 1);
    records.remove(0)
}

fn update_service_calls(emulator: &Emulator) -> u64 {
    emulator
        .calls()
        .get("ecs:UpdateService")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn garbage_queue_attributes_hold_in_both_directions() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, "jobs", 6).await;
    // The queue is empty, so a trusted zero would halve the service, and a trusted
    // huge count would take it to max_tasks. Neither may happen.
    for garbage in [
        "lots",
        "-5",
        "",
        "12.5",
        "99999999999999999999999",
        "1099511627777",
    ] {
        let tamper = Tamper::new(
            "GetQueueAttributes",
            Tampering::json(move |answer| {
                answer["Attributes"]["ApproximateNumberOfMessages"] = json!(garbage);
            }),
        );
        let worker = tampered_worker(&emulator, &document(&queue, 0), &tamper);
        emulator.reset_calls();
        let record = evaluate(&worker).await;
        assert!(tamper.hits() >= 1, "the answer was tampered with");
        assert_eq!(
            (record.action, record.new_desired, record.visible),
            (Action::Hold, Some(6), None),
            "{garbage:?}: {}",
            record.reason
        );
        assert!(
            record.reason.contains("ApproximateNumberOfMessages")
                && record.reason.contains(&format!("{garbage:?}")),
            "the logged reason names the attribute and the value: {}",
            record.reason
        );
        assert_eq!(update_service_calls(&emulator), 0, "{garbage:?}");
        assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 6);
    }
    // A missing attribute is as bad as a garbled one.
    let tamper = Tamper::new(
        "GetQueueAttributes",
        Tampering::json(|answer| {
            if let Some(attributes) = answer["Attributes"].as_object_mut() {
                attributes.remove("ApproximateNumberOfMessages");
            }
        }),
    );
    let record = evaluate(&tampered_worker(&emulator, &document(&queue, 0), &tamper)).await;
    assert_eq!(record.action, Action::Hold, "{}", record.reason);
    assert!(record.reason.contains("<missing>"), "{}", record.reason);
}

#[tokio::test]
async fn broken_or_inactive_ecs_answers_hold_and_call_no_update_service() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, "jobs", 4).await;
    // 500 messages: the step rule wants more tasks, so only the answer stops it.
    emulator.send_messages(&queue, 500).await;
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 6] = [
        (
            "draining",
            |a| a["services"][0]["status"] = json!("DRAINING"),
            "the ECS service is DRAINING, not ACTIVE",
        ),
        (
            "inactive",
            |a| a["services"][0]["status"] = json!("INACTIVE"),
            "the ECS service is INACTIVE, not ACTIVE",
        ),
        (
            "missing without a failure",
            |a| {
                a["services"] = json!([]);
                a["failures"] = json!([]);
            },
            "not in the DescribeServices answer",
        ),
        (
            "missing with a failure",
            |a| {
                a["services"] = json!([]);
                a["failures"] = json!([{"arn": format!("arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/{SERVICE}"), "reason": "MISSING"}]);
            },
            "MISSING",
        ),
        (
            "negative desiredCount",
            |a| a["services"][0]["desiredCount"] = json!(-3),
            "desiredCount = -3",
        ),
        (
            "negative runningCount",
            |a| a["services"][0]["runningCount"] = json!(-1),
            "runningCount = -1",
        ),
    ];
    for (case, edit, expected) in cases {
        let tamper = Tamper::new("DescribeServices", Tampering::json(edit));
        let worker = tampered_worker(&emulator, &document(&queue, 0), &tamper);
        emulator.reset_calls();
        let record = evaluate(&worker).await;
        assert!(tamper.hits() >= 1, "{case}: the answer was tampered with");
        assert_eq!(record.action, Action::Hold, "{case}: {}", record.reason);
        assert!(
            record.reason.contains(expected),
            "{case}: the logged reason names the cause ({expected}): {}",
            record.reason
        );
        assert_eq!(update_service_calls(&emulator), 0, "{case}");
        assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 4, "{case}");
    }
    // The same service with honest answers does scale out: the cases above held
    // because of the answers alone.
    let honest = evaluate(&clean_worker(&emulator, &document(&queue, 0))).await;
    assert_eq!(honest.action, Action::ScaleOut, "{}", honest.reason);
}

#[tokio::test]
async fn a_state_of_another_version_or_cut_short_in_transit_denies_scale_in() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, "jobs", 6).await;
    let key = StateStore::key(&TargetId::ecs_service(CLUSTER, SERVICE));

    // Written by some other (future) build: its meaning is unknown, so it is not trusted.
    let mut other = ServiceState::new(&TargetId::ecs_service(CLUSTER, SERVICE));
    other.version = 99;
    emulator
        .put_object(BUCKET, &key, &serde_json::to_vec(&other).expect("json"))
        .await;
    let record = evaluate(&clean_worker(&emulator, &document(&queue, 0))).await;
    assert_eq!(
        (record.action, record.new_desired),
        (Action::Hold, Some(6)),
        "{}",
        record.reason
    );
    assert!(record.reason.contains("version 99"), "{}", record.reason);
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 6);

    // A sound object whose answer is cut in half on the way.
    let sound = ServiceState::new(&TargetId::ecs_service(CLUSTER, SERVICE));
    emulator
        .put_object(BUCKET, &key, &serde_json::to_vec(&sound).expect("json"))
        .await;
    let tamper = Tamper::new(
        "S3 GetObject",
        Tampering::Rewrite(Box::new(|body| body[..body.len() / 2].to_string())),
    );
    let record = evaluate(&tampered_worker(&emulator, &document(&queue, 0), &tamper)).await;
    assert!(tamper.hits() >= 1);
    assert_eq!(
        (record.action, record.new_desired),
        (Action::Hold, Some(6)),
        "{}",
        record.reason
    );
    // The SDK validates S3's response checksum, so the cut body fails as a read
    // error before it could be parsed; either way the state is not trusted.
    assert!(
        record.reason.contains("cannot read the scaling state")
            || record.reason.contains("unreadable"),
        "{}",
        record.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 6);
    // Whatever is stored now parses.
    let stored = emulator.state_object(BUCKET, &key).await.expect("state");
    ServiceState::parse(&stored).expect("the stored state parses");
}

/// The worker claims the action in S3, then its UpdateService never reaches ECS
/// (the worker died, or its connection did). The next tick, by another worker,
/// must apply the claimed change once (not twice) and then keep the cooldown.
#[tokio::test]
async fn a_crash_after_the_claim_and_before_update_service_is_redone_once() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, "jobs", 2).await;
    emulator.send_messages(&queue, 300).await;
    let document = document(&queue, 60);

    let tamper = Tamper::new("UpdateService", Tampering::DropBeforeSending);
    let crashed = evaluate(&tampered_worker(&emulator, &document, &tamper)).await;
    assert!(tamper.hits() >= 1);
    assert_eq!(crashed.action, Action::Hold, "{}", crashed.reason);
    assert!(
        crashed.reason.contains("UpdateService failed")
            && crashed.reason.contains("the claim was released"),
        "{}",
        crashed.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 2);
    let claimed = ServiceState::parse(
        &emulator
            .state_object(
                BUCKET,
                &StateStore::key(&TargetId::ecs_service(CLUSTER, SERVICE)),
            )
            .await
            .expect("the claim was written"),
    )
    .expect("state parses");
    let claim = claimed.last_action.expect("claimed action");
    // 300 messages: +1 task per 100, from 2; the failed claimant released its
    // lease, so the next tick need not wait for it.
    assert_eq!((claim.from, claim.to), (2, 5));
    assert!(claim
        .lease_until_ms
        .is_some_and(|until| until <= fast_autoscaler_worker::now_ms()));

    // Another worker, a tick later: ECS never saw the claim, so it is redone now
    // (not after the 60 s scale-out cooldown), to the same absolute count.
    let next = clean_worker(&emulator, &document);
    let redone = evaluate(&next).await;
    assert_eq!(
        (redone.action, redone.new_desired),
        (Action::ScaleOut, Some(5)),
        "{}",
        redone.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);
    // And the redone action starts the cooldown: no second scale-out.
    let after = evaluate(&next).await;
    assert_eq!(after.action, Action::None, "{}", after.reason);
    assert!(after.reason.contains("cooldown"), "{}", after.reason);
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);
}

/// UpdateService reached ECS, but the worker never learned it (the answer was
/// lost, the worker died before logging). The claim in S3 already records the
/// action, so the next tick sees it applied and keeps its cooldown.
#[tokio::test]
async fn a_crash_after_update_service_neither_double_scales_nor_loses_the_cooldown() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, "jobs", 2).await;
    emulator.send_messages(&queue, 300).await;
    let document = document(&queue, 60);

    let tamper = Tamper::new("UpdateService", Tampering::DropAfterSending);
    emulator.reset_calls();
    let crashed = evaluate(&tampered_worker(&emulator, &document, &tamper)).await;
    assert_eq!(crashed.action, Action::Hold, "{}", crashed.reason);
    // The SDK retried the dropped call; desired counts are absolute, so each retry
    // set the same 5 and none added to it.
    assert!(update_service_calls(&emulator) >= 1);
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);

    let next = clean_worker(&emulator, &document);
    for _ in 0..3 {
        let record = evaluate(&next).await;
        assert_eq!(
            (record.action, record.new_desired),
            (Action::None, Some(5)),
            "{}",
            record.reason
        );
        assert!(record.reason.contains("cooldown"), "{}", record.reason);
    }
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);
}

/// A worker died after claiming 2 → 5 in S3 and before its UpdateService, with no
/// chance to release the claim. While the claim's lease holds, another worker
/// cannot tell a crash from a slow UpdateService: it stands down and says so.
/// Once the lease has expired, it takes the claim over. Time is moved with a
/// `ManualClock`, not slept through.
#[tokio::test]
async fn a_dead_workers_claim_is_taken_over_only_after_its_lease() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, "jobs", 2).await;
    emulator.send_messages(&queue, 300).await;
    let document = document(&queue, 60);
    let claimed_at = fast_autoscaler_worker::now_ms();
    let lease_ms = 10_000;
    let dead =
        ServiceState::new(&TargetId::ecs_service(CLUSTER, SERVICE)).with_action(ActionRecord {
            action: Action::ScaleOut,
            from: 2,
            to: 5,
            at_ms: claimed_at,
            tick_due_ms: claimed_at - 50,
            reason: "surge".into(),
            lease_until_ms: Some(claimed_at + lease_ms),
        });
    let key = StateStore::key(&TargetId::ecs_service(CLUSTER, SERVICE));
    emulator
        .put_object(BUCKET, &key, &serde_json::to_vec(&dead).expect("json"))
        .await;
    emulator.reset_calls();

    let clock = Arc::new(ManualClock::at(claimed_at + 3_000));
    let other = clean_worker(&emulator, &document).with_clock(clock.clone());
    let tick = |due_ms| Tick::new(due_ms, 10, 0);
    let waited = other
        .evaluate(&tick(claimed_at + 3_000), EvaluateOptions::default())
        .await
        .remove(0);
    assert_eq!(
        (waited.action, waited.new_desired, waited.applied),
        (Action::None, Some(2), false),
        "{}",
        waited.reason
    );
    assert!(
        waited.reason.contains("stood down") && waited.reason.contains("2 → 5"),
        "{}",
        waited.reason
    );
    assert_eq!(update_service_calls(&emulator), 0);

    clock.set(claimed_at + lease_ms + 1);
    let taken_over = other
        .evaluate(&tick(claimed_at + lease_ms + 1), EvaluateOptions::default())
        .await
        .remove(0);
    assert_eq!(
        (
            taken_over.action,
            taken_over.new_desired,
            taken_over.applied
        ),
        (Action::ScaleOut, Some(5), true),
        "{}",
        taken_over.reason
    );
    assert_eq!(update_service_calls(&emulator), 1);
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);
}

/// The figures a lab binary printed (`name   value` lines), or `None` when it
/// could not find the emulator outside CI (it says why).
struct Printed(String);

impl Printed {
    fn of(binary: &str, args: &[&str]) -> Option<Printed> {
        let output = std::process::Command::new(workspace_binary(binary))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("the {binary} binary runs: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("needs the moto emulator") && std::env::var_os("CI").is_none() {
            eprintln!("skipped: {stderr}");
            return None;
        }
        assert!(output.status.success(), "{stdout}\n{stderr}");
        Some(Printed(stdout))
    }

    fn figure(&self, name: &str) -> u64 {
        self.0
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l[name.len()..].split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name:?} in:\n{}", self.0))
    }
}

/// The soak (`lab`'s `soak` binary), shortened.
#[test]
fn a_short_soak_under_faults_takes_no_wrong_action() {
    let Some(soak) = Printed::of("soak", &["--ticks", "60", "--fault-rate", "0.2"]) else {
        return;
    };
    let stdout = &soak.0;
    assert_eq!(soak.figure("ticks"), 60);
    assert!(soak.figure("faults injected: total") > 0, "{stdout}");
    assert!(
        soak.figure("actions taken (desiredCount changed)") > 0,
        "the soak must scale: {stdout}"
    );
    assert_eq!(soak.figure("wrong actions (must be 0)"), 0, "{stdout}");
    assert_eq!(soak.figure("state corruptions (must be 0)"), 0, "{stdout}");
}

/// Worker processes killed at random (`lab`'s `chaos` binary, `make chaos` for
/// 200 rounds), shortened: no double action, no lost decision, no corrupt state,
/// and some claims were left by a killed worker between its claim and its
/// UpdateService, so the window was exercised.
#[test]
fn worker_processes_killed_at_random_lose_nothing_and_act_once() {
    let Some(chaos) = Printed::of("chaos", &["--rounds", "25", "--kill-rate", "0.4"]) else {
        return;
    };
    let stdout = &chaos.0;
    assert_eq!(chaos.figure("rounds"), 25);
    assert!(chaos.figure("killed with SIGKILL") > 0, "{stdout}");
    assert!(
        chaos.figure("claims left unapplied by a killed worker") > 0,
        "no worker was killed between its claim and its UpdateService:\n{stdout}"
    );
    assert_eq!(chaos.figure("double actions (must be 0)"), 0, "{stdout}");
    assert_eq!(chaos.figure("lost decisions (must be 0)"), 0, "{stdout}");
    assert_eq!(chaos.figure("corrupt states (must be 0)"), 0, "{stdout}");
}
