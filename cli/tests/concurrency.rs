//! Concurrent workers take exactly the actions one worker takes over the same queue
//! depths, against moto through the real SDK clients:
//!
//! - in one process, eight `Autoscaler`s evaluating the same tick, for 200 rounds;
//! - as real processes, eight `fast-autoscaler run --once` at a time, each with a
//!   tick of its own, while moto holds every UpdateService and SetDesiredCapacity
//!   400 ms, over four ECS services and an EC2 Auto Scaling group.
//!
//! Each round the queue is set to a depth from one seeded sequence (surges, plateaus
//! and drains), then every worker gets the same tick, as SQS's at-least-once
//! delivery can hand a tick to several Lambda instances. The workers start a few
//! milliseconds apart, so some read ECS after another one's UpdateService: without
//! the claim in S3 they would step again from the new count, and the sequence of
//! desired counts would differ from the single worker's. Cooldowns are 0 so that
//! both runs are determined by the depths alone (cooldowns under faults are checked
//! by the soak).

use std::time::Duration;

use fast_autoscaler_core::policy::Action;
use fast_autoscaler_tests::processes::{
    self, four_services, run_once_each, set_depth, Line, Plan, XorShift, FOUR_SERVICES,
};
use fast_autoscaler_tests::{config_from, emulator_or_skip, tick_now, Emulator};
use fast_autoscaler_worker::{Autoscaler, EvaluateOptions};
use serde_json::{json, Value};

const ROUNDS: usize = 200;
const WORKERS: usize = 8;
const BUCKET: &str = "concurrency-state";
const SERVICES: [&str; 2] = ["step-workers", "target-workers"];

fn depths() -> Vec<u64> {
    processes::depths(ROUNDS)
}

/// Two services on one queue: the step rule (+1 task per 10 messages above 10,
/// scale-in below 3, at most halving) and target tracking (5 messages per task),
/// bounds 1..=20.
fn document(cluster: &str, queue: &str) -> Value {
    let common = json!({
        "cluster": cluster,
        "provider": {"type": "sqs", "queue_url": queue},
        "min_tasks": 1, "max_tasks": 20,
        "scale_in_cooldown": 0, "scale_out_cooldown": 0,
    });
    let mut step = common.clone();
    step["service"] = json!(SERVICES[0]);
    step["scaling_policy"] = json!("step");
    step["scale_up_threshold"] = json!(10);
    step["scale_down_threshold"] = json!(3);
    step["tasks_per_message"] = json!(0.1);
    step["max_scale_down_factor"] = json!(0.5);
    let mut target = common;
    target["service"] = json!(SERVICES[1]);
    target["scaling_policy"] = json!("target");
    target["target_messages_per_task"] = json!(5);
    json!({"state_bucket": BUCKET, "services": [step, target]})
}

/// What one run did: the desired count of each service after every round, the
/// actions reported, and the UpdateService calls the emulator served.
#[derive(Debug, Default)]
struct Run {
    desired: Vec<[i32; 2]>,
    actions: usize,
    /// Rounds in which more than one worker reported acting on one service.
    double_actions: usize,
    /// Workers that stood down because another one had claimed the tick.
    stood_down: usize,
    update_service_calls: u64,
}

/// Both services' desired counts, in one DescribeServices call.
async fn desired_counts(emulator: &Emulator, cluster: &str) -> [i32; 2] {
    let answer = emulator
        .ecs()
        .describe_services()
        .cluster(cluster)
        .set_services(Some(SERVICES.iter().map(|s| s.to_string()).collect()))
        .send()
        .await
        .expect("DescribeServices");
    SERVICES.map(|name| {
        answer
            .services()
            .iter()
            .find(|s| s.service_name() == Some(name))
            .map(|s| s.desired_count())
            .unwrap_or_else(|| panic!("{name} described"))
    })
}

async fn run(emulator: &Emulator, cluster: &str, workers: usize) -> Run {
    let queue = emulator.create_queue(&format!("{cluster}-jobs")).await;
    for service in SERVICES {
        emulator.create_service(cluster, service, 1).await;
    }
    let doc = document(cluster, &queue);
    let autoscalers: Vec<Autoscaler> = (0..workers)
        .map(|_| Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build"))
        .collect();
    let mut stagger = XorShift(0x5ca1ab1e);
    let mut result = Run::default();
    let mut depth = 0;
    emulator.reset_calls();
    let started = std::time::Instant::now();
    for (round, target) in depths().into_iter().enumerate() {
        if round % 50 == 0 {
            eprintln!(
                "{cluster}: round {round} at {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        set_depth(emulator, &queue, &mut depth, target).await;
        let tick = tick_now();
        let delays: Vec<u64> = (0..workers).map(|_| stagger.next(25)).collect();
        let evaluations = autoscalers.iter().zip(&delays).map(|(a, delay)| {
            let tick = &tick;
            async move {
                tokio::time::sleep(Duration::from_millis(*delay)).await;
                a.evaluate(tick, EvaluateOptions::default()).await
            }
        });
        let all = futures::future::join_all(evaluations).await;
        for (index, service) in SERVICES.iter().enumerate() {
            let acted = all
                .iter()
                .filter(|records| records[index].action.changes_count())
                .count();
            result.actions += acted;
            if acted > 1 {
                result.double_actions += 1;
                eprintln!("round {round}: {acted} workers acted on {service}");
            }
            result.stood_down += all
                .iter()
                .filter(|records| {
                    records[index].action == Action::None
                        && (records[index].reason.contains("already evaluated")
                            || records[index].reason.contains("another worker"))
                })
                .count();
        }
        result.desired.push(desired_counts(emulator, cluster).await);
    }
    result.update_service_calls = emulator
        .calls()
        .get("ecs:UpdateService")
        .copied()
        .unwrap_or(0);
    result
}

#[tokio::test]
async fn eight_workers_take_exactly_the_actions_of_one() {
    let emulator = emulator_or_skip!();
    emulator.create_bucket(BUCKET).await;
    let single = run(&emulator, "single", 1).await;
    let eight = run(&emulator, "eight", WORKERS).await;

    println!("{:<44} {:>8} {:>8}", "", "1 worker", "8 workers");
    println!("{:<44} {:>8} {:>8}", "rounds", ROUNDS, ROUNDS);
    println!(
        "{:<44} {:>8} {:>8}",
        "actions reported", single.actions, eight.actions
    );
    println!(
        "{:<44} {:>8} {:>8}",
        "UpdateService calls served", single.update_service_calls, eight.update_service_calls
    );
    println!(
        "{:<44} {:>8} {:>8}",
        "rounds where two workers acted on a service", single.double_actions, eight.double_actions
    );
    println!(
        "{:<44} {:>8} {:>8}",
        "workers that stood down (claim taken)", single.stood_down, eight.stood_down
    );
    let differing = single
        .desired
        .iter()
        .zip(&eight.desired)
        .filter(|(a, b)| a != b)
        .count();
    println!(
        "{:<44} {:>8} {:>8}",
        "rounds whose desired counts differ", 0, differing
    );

    assert!(
        single.actions >= 20,
        "the depth sequence must make the single worker act often ({} actions)",
        single.actions
    );
    let first_difference = single
        .desired
        .iter()
        .zip(&eight.desired)
        .position(|(a, b)| a != b);
    assert_eq!(
        first_difference,
        None,
        "the desired counts [step, target] diverge at that round: one worker {:?}, eight {:?}",
        first_difference.map(|r| single.desired[r]),
        first_difference.map(|r| eight.desired[r]),
    );
    assert_eq!(eight.double_actions, 0);
    assert_eq!(eight.actions, single.actions);
    assert_eq!(eight.update_service_calls, single.update_service_calls);
    assert!(
        eight.stood_down > 0,
        "some workers must have lost the race and stood down"
    );
}

// ---------------------------------------------------------------------------
// Real processes: `fast-autoscaler run --once`, eight at a time.
// ---------------------------------------------------------------------------

const PROCESS_ROUNDS: usize = 50;
const PROCESSES: usize = 8;
const PROCESS_SERVICES: [(&str, &str, u64); 4] = FOUR_SERVICES;
/// How long moto holds each UpdateService before applying it: the window in which
/// a claim is written but ECS does not show it yet.
const SLOW_UPDATE_SERVICE_MS: u64 = 400;

/// Messages per instance of the Auto Scaling group beside the four services.
const GROUP_PER_TASK: u64 = 4;

/// The group's name in a run.
fn group(prefix: &str) -> String {
    format!("{prefix}-per-{GROUP_PER_TASK}")
}

/// The four target-rule services of `processes::four_services`, and a group on
/// the same rule: a worker that takes another's claim for a crashed one shows
/// as a second UpdateService or SetDesiredCapacity.
fn process_document(prefix: &str, queue: &str) -> Value {
    let mut services = four_services(prefix, queue);
    let mut on_group = services[0].clone();
    let object = on_group.as_object_mut().expect("an object");
    object.remove("cluster");
    object.remove("service");
    on_group["target"] = json!({"type": "ec2_asg", "name": group(prefix)});
    on_group["target_messages_per_task"] = json!(GROUP_PER_TASK);
    services.push(on_group);
    json!({"state_bucket": BUCKET, "services": services})
}

#[derive(Debug, Default)]
struct ProcessRun {
    /// Each target's desired count after every round: the four services, then
    /// the group.
    desired: Vec<[i32; 5]>,
    applied: usize,
    /// UpdateService and SetDesiredCapacity calls served.
    update_service_calls: u64,
    /// Workers that stood down, each saying why in its reason.
    stood_down: usize,
    /// Of those, the ones that found another worker's claim in progress.
    in_progress: usize,
    /// Lines that did not act although their round's service changed, and say
    /// neither that they stood down nor that the count was already right.
    unexplained: Vec<String>,
}

async fn process_desired(emulator: &Emulator, prefix: &str) -> [i32; 5] {
    let mut counts = [0; 5];
    for (i, (cluster, service, _)) in PROCESS_SERVICES.iter().enumerate() {
        counts[i] = emulator
            .desired_count(&format!("{prefix}-{cluster}"), service)
            .await;
    }
    counts[4] = emulator.group(&group(prefix)).await.desired;
    counts
}

/// The targets' labels, in the order of [`process_desired`].
fn process_targets(prefix: &str) -> Vec<String> {
    PROCESS_SERVICES
        .iter()
        .map(|(cluster, service, _)| format!("{prefix}-{cluster}/{service}"))
        .chain([format!("ec2_asg:{}", group(prefix))])
        .collect()
}

/// Starts `processes` CLI processes up to 250 ms apart (seeded), none killed,
/// waits for all, and answers their decision lines.
async fn run_processes(
    env: &[(String, String)],
    config: &std::path::Path,
    processes: usize,
    stagger: &mut XorShift,
) -> Vec<Line> {
    let plans: Vec<Plan> = (0..processes)
        .map(|_| Plan {
            start_after_ms: stagger.next(250),
            kill_after_ms: None,
        })
        .collect();
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_fast-autoscaler"));
    run_once_each(binary, env, config, &plans)
        .await
        .into_iter()
        .flat_map(|ended| ended.lines)
        .collect()
}

async fn process_rounds(emulator: &Emulator, prefix: &str, processes: usize) -> ProcessRun {
    let queue = emulator.create_queue(&format!("{prefix}-jobs")).await;
    for (cluster, service, _) in PROCESS_SERVICES {
        emulator
            .create_service(&format!("{prefix}-{cluster}"), service, 1)
            .await;
    }
    emulator.create_group(&group(prefix), 1, 60, 1).await;
    let config = std::env::temp_dir().join(format!(
        "fa-concurrency-{prefix}-{}.json",
        std::process::id()
    ));
    std::fs::write(&config, process_document(prefix, &queue).to_string()).expect("config file");
    let mut env = emulator.env();
    env.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    emulator.delay_calls(&[
        ("ecs:UpdateService", SLOW_UPDATE_SERVICE_MS),
        ("autoscaling:SetDesiredCapacity", SLOW_UPDATE_SERVICE_MS),
    ]);
    emulator.reset_calls();

    let mut result = ProcessRun::default();
    let mut stagger = XorShift(0x0dd_ba11);
    let mut depth = 0;
    let mut before = process_desired(emulator, prefix).await;
    for target in depths().into_iter().take(PROCESS_ROUNDS) {
        set_depth(emulator, &queue, &mut depth, target).await;
        let lines = run_processes(&env, &config, processes, &mut stagger).await;
        let after = process_desired(emulator, prefix).await;
        for (i, id) in process_targets(prefix).iter().enumerate() {
            let of_service: Vec<&Line> = lines.iter().filter(|l| &l.service == id).collect();
            result.applied += of_service.iter().filter(|l| l.applied).count();
            for line in of_service.iter().filter(|l| !l.applied) {
                if line.reason.contains("stood down") {
                    result.stood_down += 1;
                    result.in_progress += usize::from(line.reason.contains("holds it for"));
                } else if after[i] != before[i] && line.current_desired != Some(after[i] as u64) {
                    result.unexplained.push(format!("{id}: {}", line.reason));
                }
            }
        }
        result.desired.push(after);
        before = after;
    }
    emulator.delay_calls(&[]);
    let calls = emulator.calls();
    result.update_service_calls = ["ecs:UpdateService", "autoscaling:SetDesiredCapacity"]
        .iter()
        .map(|operation| calls.get(*operation).copied().unwrap_or(0))
        .sum();
    let _ = std::fs::remove_file(&config);
    result
}

/// Eight `fast-autoscaler run --once` processes per round, each with its own tick
/// (due when it starts), started up to 250 ms apart while every UpdateService takes
/// 400 ms: workers read the state between another worker's claim and ECS showing
/// it. They must stand down, saying so, rather than take the claim for a crashed
/// worker's and apply it again.
#[tokio::test]
async fn eight_processes_apply_what_one_applies_and_say_why_they_stood_down() {
    let emulator = emulator_or_skip!();
    emulator.create_bucket(BUCKET).await;
    let single = process_rounds(&emulator, "one", 1).await;
    let eight = process_rounds(&emulator, "eight", PROCESSES).await;

    println!("{:<48} {:>9} {:>11}", "", "1 process", "8 processes");
    println!(
        "{:<48} {:>9} {:>11}",
        "rounds", PROCESS_ROUNDS, PROCESS_ROUNDS
    );
    for (label, a, b) in [
        (
            "actions applied",
            single.applied as u64,
            eight.applied as u64,
        ),
        (
            "UpdateService and SetDesiredCapacity served",
            single.update_service_calls,
            eight.update_service_calls,
        ),
        (
            "stood down (reason given)",
            single.stood_down as u64,
            eight.stood_down as u64,
        ),
        (
            "of which: another worker's claim in progress",
            single.in_progress as u64,
            eight.in_progress as u64,
        ),
        (
            "did not act and did not say why",
            single.unexplained.len() as u64,
            eight.unexplained.len() as u64,
        ),
    ] {
        println!("{label:<48} {a:>9} {b:>11}");
    }

    assert!(
        single.applied >= 40,
        "the depths must make the services change often ({} actions)",
        single.applied
    );
    assert_eq!(
        single.update_service_calls, single.applied as u64,
        "one process: one UpdateService or SetDesiredCapacity per applied action"
    );
    let group_changes = single
        .desired
        .windows(2)
        .filter(|w| w[0][4] != w[1][4])
        .count();
    assert!(
        group_changes >= 10,
        "the depths must make the group change often ({group_changes} changes)"
    );
    assert!(eight.unexplained.is_empty(), "{:#?}", eight.unexplained);
    let first_difference = single
        .desired
        .iter()
        .zip(&eight.desired)
        .position(|(a, b)| a != b);
    assert_eq!(
        first_difference,
        None,
        "the desired counts diverge at that round: one process {:?}, eight {:?}",
        first_difference.map(|r| single.desired[r]),
        first_difference.map(|r| eight.desired[r]),
    );
    assert_eq!(eight.update_service_calls, single.update_service_calls);
    assert_eq!(eight.applied, single.applied);
    assert!(
        eight.in_progress > 0,
        "no worker met another's claim in progress: the window was not exercised"
    );
}

/// Anticipation's own history (a Redis list, which publishes no arrivals
/// metric) under racing processes: four `fast-autoscaler run --once` per round
/// on the same state, every S3 PutObject held 300 ms so that they all read it
/// before any writes. Each round 50 messages arrive; only the worker whose
/// state write lands notes them, so the history counts each message once, not
/// once per process.
#[tokio::test]
async fn racing_processes_add_each_arrival_to_the_own_history_once() {
    const ROUNDS: u64 = 6;
    const PER_ROUND: u64 = 50;
    let emulator = emulator_or_skip!();
    let Some(server) = fast_autoscaler_tests::redis::RedisServer::start() else {
        return;
    };
    let bucket = "own-history-state";
    emulator.create_bucket(bucket).await;
    emulator.create_service("own", "list-workers", 1).await;
    let secret = aws_sdk_secretsmanager::Client::new(&emulator.aws)
        .create_secret()
        .name("redis/own-history-races")
        .secret_string(json!({"password": server.password}).to_string())
        .send()
        .await
        .expect("CreateSecret");
    // One task at most, working a thousandth of a message a second: what the
    // estimate counts is the list's growth.
    let document = json!({"state_bucket": bucket, "services": [{
        "cluster": "own", "service": "list-workers", "min_tasks": 1, "max_tasks": 1,
        "scaling_policy": "predictive", "task_throughput": 0.001, "anticipation": "on",
        "provider": {"type": "redis", "url": server.url(), "secret_arn": secret.arn().expect("an ARN"),
            "ca_bundle": server.pki.ca_pem, "key": "jobs", "missing_key_is_empty": true},
    }]});
    let config = std::env::temp_dir().join(format!("fa-own-history-{}.json", std::process::id()));
    std::fs::write(&config, document.to_string()).expect("config file");
    let mut env = emulator.env();
    env.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    let mut stagger = XorShift(0x5eed);
    // The first round leaves the first reading in the state.
    run_processes(&env, &config, 1, &mut stagger).await;
    emulator.delay_calls(&[("s3:PutObject", 300)]);
    let mut app = server.connection().await;
    for round in 0..ROUNDS {
        let jobs: Vec<String> = (0..PER_ROUND).map(|i| format!("job-{round}-{i}")).collect();
        fast_autoscaler_tests::redis::RedisServer::push(&mut app, "jobs", &jobs).await;
        let plans: Vec<Plan> = (0..4)
            .map(|_| Plan {
                start_after_ms: stagger.next(40),
                kill_after_ms: None,
            })
            .collect();
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_fast-autoscaler"));
        run_once_each(binary, &env, &config, &plans).await;
    }
    emulator.delay_calls(&[]);
    let _ = std::fs::remove_file(&config);
    let history = emulator
        .state_object(bucket, "forecasts/own/list-workers.history.json")
        .await
        .expect("the own history was written");
    let history: fast_autoscaler_worker::core::forecast::Arrivals =
        serde_json::from_slice(&history).expect("the history parses");
    let counted: u64 = (history.start_minute..history.end_minute())
        .filter_map(|minute| history.get(minute))
        .map(u64::from)
        .sum();
    // Each addition rounds its minutes' shares: a message or two per round.
    let arrived = ROUNDS * PER_ROUND;
    assert!(
        counted.abs_diff(arrived) <= 2 * ROUNDS,
        "{arrived} messages arrived; the history counts {counted} (once per racing process would be about {})",
        4 * arrived
    );
}
