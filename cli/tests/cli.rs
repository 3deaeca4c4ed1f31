//! The `fast-autoscaler` CLI, run as a process: `decide`, `metrics`, `check-config`,
//! `run` against the emulator, and `simulate`.

use std::path::Path;

use fast_autoscaler_tests::{emulator_or_skip, run_cli, Emulator};
use serde_json::{json, Value};

/// Runs this package's `fast-autoscaler` binary with only `env` and `args`.
fn cli(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    run_cli(Path::new(env!("CARGO_BIN_EXE_fast-autoscaler")), env, args)
}

fn single_service_env(emulator: &Emulator, queue: &str) -> Vec<(String, String)> {
    let mut env = emulator.env();
    env.extend(
        [
            ("ECS_CLUSTER", "cli-cluster"),
            ("SERVICE_NAME", "workers"),
            ("S3_CONFIG_BUCKET", "cli-state"),
            ("SQS_QUEUE_URL", queue),
            ("MIN_TASKS", "1"),
            ("MAX_TASKS", "100"),
            ("SCALE_DOWN_THRESHOLD", "10"),
            ("MAX_SCALE_DOWN_FACTOR", "0.5"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    env
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[tokio::test]
async fn cli_decide_reproduces_the_known_cases_and_rejects_bad_config() {
    // decide needs no AWS, but it reads the configuration exactly as the Lambda does.
    let env: Vec<(String, String)> = [
        ("ECS_CLUSTER", "c"),
        ("SERVICE_NAME", "s"),
        ("S3_CONFIG_BUCKET", "state-bucket"),
        (
            "SQS_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
        ),
        ("MIN_TASKS", "1"),
        ("MAX_TASKS", "100"),
        ("SCALE_UP_THRESHOLD", "100"),
        ("SCALE_DOWN_THRESHOLD", "10"),
        ("TASKS_PER_MESSAGE", "0.01"),
        ("MAX_SCALE_DOWN_FACTOR", "0.5"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    for (desired, visible, expected, action) in [
        (10, 50, 10, "none"),
        (10, 200, 12, "scale_out"),
        (10, 5, 5, "scale_in"),
        (90, 5000, 100, "scale_out"),
    ] {
        let (code, stdout, stderr) = cli(
            &env,
            &[
                "decide",
                "--visible",
                &visible.to_string(),
                "--in-flight",
                "0",
                "--desired",
                &desired.to_string(),
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        let answer: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
        assert_eq!(
            (answer["desired_count"].clone(), answer["action"].clone()),
            (json!(expected), json!(action)),
            "{answer}"
        );
        assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }

    let mut bad = env.clone();
    bad.push(("MIN_TASKS".into(), "500".into()));
    bad.push(("SCALING_POLICY".into(), "fancy".into()));
    let (code, stdout, stderr) = cli(
        &bad,
        &[
            "decide",
            "--visible",
            "1",
            "--in-flight",
            "0",
            "--desired",
            "1",
        ],
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("MIN_TASKS = 500") && stderr.contains("SCALING_POLICY = \"fancy\""),
        "{stderr}"
    );

    let (code, _, stderr) = cli(&bad, &["check-config"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("2 problems"), "{stderr}");
}

/// `decide` answers as the worker would now: a scheduled window that holds now
/// applies (it was judged for 1970 before), `--at` judges another moment, and
/// `--running` reaches the predictive rule's running-task terms.
#[test]
fn decide_answers_now_or_at_a_moment_with_the_running_tasks_given() {
    let now = jiff::Timestamp::now();
    let hour = |offset: i64| {
        let t = now
            .checked_add(jiff::SignedDuration::from_hours(offset))
            .expect("a time");
        t.strftime("%H:00").to_string()
    };
    let document = json!({"state_bucket": "decide-state", "services": [{
        "cluster": "c", "service": "s", "min_tasks": 1, "max_tasks": 100,
        "provider": {"type": "sqs", "queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"},
        "scaling_policy": "predictive", "task_throughput": 1, "task_startup_seconds": 45,
        "scale_in_cooldown": 0, "scale_out_cooldown": 0,
        "scheduled_bounds": [{"days": "daily", "from": hour(-1), "to": hour(2), "min_tasks": 30}],
    }]});
    let file = std::env::temp_dir().join(format!("decide-{}.json", std::process::id()));
    std::fs::write(&file, document.to_string()).expect("configuration file");
    let config = file.to_string_lossy().into_owned();
    let decide = |extra: &[&str]| {
        let mut args = vec!["--config", &config, "decide", "--in-flight", "0"];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = cli(&[], &args);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<Value>(stdout.trim()).expect("one JSON object")
    };
    // Now, inside the window: its minimum of 30 holds.
    let inside = decide(&["--visible", "0", "--desired", "2"]);
    assert_eq!(inside["desired_count"], 30, "{inside}");
    // Six hours later, outside it: the policy's own minimum of 1.
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(6))
        .expect("a time");
    let outside = decide(&[
        "--visible",
        "0",
        "--desired",
        "2",
        "--at",
        &later.to_string(),
    ]);
    assert_eq!(outside["desired_count"], 1, "{outside}");
    let second = later.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    assert!(
        outside["at"]
            .as_str()
            .is_some_and(|at| at.starts_with(&second)),
        "{outside}"
    );
    // The same backlog with 10 tasks running works more of it off during a
    // start-up than with none running: fewer tasks are wanted.
    let busy = ["--visible", "3000", "--desired", "10"];
    let with = |running: &str| {
        let mut args = busy.to_vec();
        args.extend(["--running", running]);
        decide(&args)
    };
    let (all_running, none_running) = (with("10"), with("0"));
    assert_eq!(all_running["running"], 10);
    assert!(
        none_running["desired_count"].as_u64() > all_running["desired_count"].as_u64(),
        "{none_running} vs {all_running}"
    );
    let (code, _, stderr) = cli(
        &[],
        &[
            "--config",
            &config,
            "decide",
            "--visible",
            "0",
            "--in-flight",
            "0",
            "--desired",
            "1",
            "--at",
            "soon",
        ],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("--at \"soon\": not a moment"), "{stderr}");
    let _ = std::fs::remove_file(&file);
}

/// `check-config` and `decide` read the configuration as plain data: they load
/// no AWS configuration and build no client, so with no region set (where the
/// SDK would ask the instance metadata service, here a closed loopback port) they
/// answer with nothing on stderr.
#[test]
fn check_config_and_decide_need_no_aws() {
    let env: Vec<(String, String)> = [
        ("ECS_CLUSTER", "c"),
        ("SERVICE_NAME", "s"),
        ("S3_CONFIG_BUCKET", "state-bucket"),
        ("QUEUE_TYPE", "redis"),
        ("REDIS_URL", "rediss://127.0.0.1:1"),
        ("REDIS_KEY", "jobs"),
        (
            "REDIS_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-AbCdEf",
        ),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let (code, stdout, stderr) = cli(&env, &["check-config"]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    assert!(stdout.contains("\"type\":\"redis\""), "{stdout}");
    let decide = [
        "decide",
        "--visible",
        "200",
        "--in-flight",
        "0",
        "--desired",
        "10",
    ];
    let (code, stdout, stderr) = cli(&env, &decide);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    assert!(stdout.contains("\"action\":\"scale_out\""), "{stdout}");
}

/// A command that needs AWS, with no region anywhere (no profile: the process
/// has no HOME; the instance metadata service a closed loopback port): one line saying what to set, not the SDK's
/// warnings. And a bad `--for`: one line naming it and what is valid, before
/// any AWS call.
#[test]
fn missing_regions_and_bad_durations_get_one_line_each() {
    let env: Vec<(String, String)> = [
        ("ECS_CLUSTER", "c"),
        ("SERVICE_NAME", "s"),
        ("S3_CONFIG_BUCKET", "state-bucket"),
        (
            "SQS_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
        ),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let (code, stdout, stderr) = cli(&env, &["metrics"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("no AWS region is set: set AWS_REGION"),
        "{stderr}"
    );

    let mut env = env;
    env.push(("AWS_REGION".into(), "us-east-1".into()));
    for (duration, why) in [
        ("-5m", "a pause cannot end before it starts"),
        ("0s", "too short to pause anything"),
        ("8d", "beyond a week"),
        ("soon", "not a duration"),
    ] {
        let (code, stdout, stderr) = cli(&env, &["pause", "s", "--for", duration]);
        assert_eq!(code, 2, "{duration}: {stdout}{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("--for {duration:?}: {why}"))
                && stderr.contains("; expected a duration such as 30m, 2h"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn cli_metrics_check_config_and_run() {
    let emulator = emulator_or_skip!();
    let queue = emulator.create_queue("cli-jobs").await;
    emulator.create_service("cli-cluster", "workers", 3).await;
    emulator.create_bucket("cli-state").await;
    emulator.send_messages(&queue, 250).await;
    let env = single_service_env(&emulator, &queue);

    let (code, stdout, stderr) = cli(&env, &["metrics"]);
    assert_eq!(code, 0, "{stderr}");
    let lines = json_lines(&stdout);
    assert_eq!(
        lines,
        [
            json!({"service": "cli-cluster/workers", "provider": "sqs", "visible": 250, "in_flight": 0, "delayed": 0})
        ]
    );

    let (code, stdout, stderr) = cli(&env, &["check-config"]);
    assert_eq!(code, 0, "{stderr}");
    let effective: Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(effective["source"], "environment");
    assert_eq!(
        effective["services"][0]["provider"]["queue_url"],
        json!(queue)
    );
    assert_eq!(effective["services"][0]["policy"]["max_tasks"], 100);

    // --dry-run decides but mutates nothing.
    let (code, stdout, stderr) = cli(&env, &["run", "--once", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    let decision = &json_lines(&stdout)[0];
    assert_eq!(
        (decision["action"].clone(), decision["new_desired"].clone()),
        (json!("scale_out"), json!(5)),
        "{decision}"
    );
    assert_eq!(emulator.desired_count("cli-cluster", "workers").await, 3);
    assert!(emulator
        .state_object("cli-state", "autoscaling-state/cli-cluster/workers")
        .await
        .is_none());

    // The real run applies it.
    let (code, stdout, stderr) = cli(&env, &["run", "--once"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json_lines(&stdout)[0]["action"], "scale_out");
    assert_eq!(emulator.desired_count("cli-cluster", "workers").await, 5);
    assert!(emulator
        .state_object("cli-state", "autoscaling-state/cli-cluster/workers")
        .await
        .is_some());
}

#[tokio::test]
async fn pause_holds_a_service_sets_a_count_expires_and_resume_ends_it() {
    let emulator = emulator_or_skip!();
    let queue = emulator.create_queue("pause-jobs").await;
    emulator.create_service("cli-cluster", "workers", 3).await;
    emulator.create_bucket("cli-state").await;
    emulator.send_messages(&queue, 250).await;
    let env = single_service_env(&emulator, &queue);
    let run_once = || {
        let (code, stdout, stderr) = cli(&env, &["run", "--once"]);
        assert_eq!(code, 0, "{stderr}");
        json_lines(&stdout).remove(0)
    };

    // Bad input names the argument and what is valid; nothing is written.
    for (args, expected) in [
        (&["pause", "nosuch"][..], "configured: cli-cluster/workers"),
        (
            &["pause", "workers", "--for", "soon"][..],
            "--for \"soon\": not a duration; expected a duration such as 30m, 2h",
        ),
        (&["pause", "workers", "--for", "9d"][..], "beyond a week"),
        (
            &["pause", "workers", "--at", "500"][..],
            "--at 500: above the max_tasks 100 of cli-cluster/workers",
        ),
    ] {
        let (code, _, stderr) = cli(&env, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(emulator
        .state_object("cli-state", "autoscaling-state/cli-cluster/workers")
        .await
        .is_none());

    // Paused: 250 messages want 5 tasks, the count stays at 3, and the reason says
    // why and what the policy wanted.
    let (code, stdout, stderr) = cli(
        &env,
        &["pause", "workers", "--for", "2h", "--reason", "deploy"],
    );
    assert_eq!(code, 0, "{stderr}");
    let paused = &json_lines(&stdout)[0];
    assert_eq!(
        (paused["service"].clone(), paused["paused"].clone()),
        (json!("cli-cluster/workers"), json!(true))
    );
    assert!(
        paused["note"]
            .as_str()
            .unwrap_or_default()
            .ends_with(": deploy"),
        "{paused}"
    );
    let decision = run_once();
    assert_eq!(
        (
            decision["action"].clone(),
            decision["new_desired"].clone(),
            decision["paused"].clone()
        ),
        (json!("none"), json!(3), json!(true)),
        "{decision}"
    );
    let reason = decision["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("paused until") && reason.contains("would scale_out to 5"),
        "{reason}"
    );
    assert_eq!(emulator.desired_count("cli-cluster", "workers").await, 3);

    // Paused at a count: the worker sets it, as a claimed action.
    let (code, _, stderr) = cli(
        &env,
        &["pause", "cli-cluster/workers", "--at", "4", "--for", "7d"],
    );
    assert_eq!(code, 0, "{stderr}");
    let decision = run_once();
    assert_eq!(
        (decision["action"].clone(), decision["applied"].clone()),
        (json!("scale_out"), json!(true)),
        "{decision}"
    );
    assert_eq!(emulator.desired_count("cli-cluster", "workers").await, 4);

    // Resumed: the policy decides again at once; the pause's own change started
    // no scale-out cooldown.
    let (code, stdout, stderr) = cli(&env, &["resume", "workers"]);
    assert_eq!(
        (code, json_lines(&stdout)[0]["paused"].clone()),
        (0, json!(false)),
        "{stderr}"
    );
    let decision = run_once();
    assert_eq!(
        (decision["action"].clone(), decision["paused"].clone()),
        (json!("scale_out"), json!(false)),
        "{decision}"
    );
    let resumed = emulator.desired_count("cli-cluster", "workers").await;
    assert!(resumed > 4, "{decision}");

    // A pause ends by itself when it expires.
    let (code, _, stderr) = cli(&env, &["pause", "workers", "--for", "1s"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(run_once()["paused"], json!(true));
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let decision = run_once();
    assert_eq!(decision["paused"], json!(false), "{decision}");
}

/// `status`: a row per target, an ECS service and an Auto Scaling group side
/// by side, with their counts, last action and its reason, cooldown and pause;
/// as a table or JSON lines; a group that cannot be read makes it exit 1.
#[tokio::test]
async fn status_shows_every_target_its_counts_last_action_cooldown_and_pause() {
    let emulator = emulator_or_skip!();
    let queue = emulator.create_queue("status-jobs").await;
    emulator.create_service("cli-cluster", "workers", 1).await;
    emulator.create_group("gpu-workers", 1, 8, 1).await;
    emulator.create_bucket("cli-state").await;
    emulator.send_messages(&queue, 300).await;
    let policy = |target: Value| {
        let mut service = json!({"provider": {"type": "sqs", "queue_url": queue},
            "scaling_policy": "target", "target_messages_per_task": 100,
            "min_tasks": 1, "max_tasks": 8, "scale_in_cooldown": 600, "scale_out_cooldown": 0});
        for (k, v) in target.as_object().expect("an object") {
            service[k] = v.clone();
        }
        service
    };
    let document = json!({"state_bucket": "cli-state", "services": [
        policy(json!({"cluster": "cli-cluster", "service": "workers"})),
        policy(json!({"target": {"type": "ec2_asg", "name": "gpu-workers"}})),
    ]});
    let file = std::env::temp_dir().join(format!("status-{}.json", std::process::id()));
    std::fs::write(&file, document.to_string()).expect("configuration file");
    let config = file.to_string_lossy().into_owned();
    let env = emulator.env();
    let (code, stdout, stderr) = cli(&env, &["--config", &config, "run", "--once"]);
    assert_eq!(code, 0, "{stderr}");
    let applied: Vec<Value> = json_lines(&stdout)
        .iter()
        .map(|d| json!([d["service"], d["new_desired"], d["applied"]]))
        .collect();
    assert_eq!(
        applied,
        [
            json!(["cli-cluster/workers", 3, true]),
            json!(["ec2_asg:gpu-workers", 3, true])
        ]
    );
    // The group is paused by its label; the service by its name.
    let (code, _, stderr) = cli(
        &env,
        &[
            "--config",
            &config,
            "pause",
            "ec2_asg:gpu-workers",
            "--for",
            "1h",
        ],
    );
    assert_eq!(code, 0, "{stderr}");

    let (code, table, stderr) = cli(&env, &["--config", &config, "status"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("TARGET") && lines[0].contains("COOLDOWN"),
        "{table}"
    );
    let row = |label: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no row for {label}: {table}"))
    };
    let service = row("cli-cluster/workers");
    assert!(
        lines[service].contains("ecs_service")
            && lines[service].contains("3/3")
            && lines[service].contains("scale_out 1 → 3")
            && (lines[service].contains("in 9m") || lines[service].contains("in 10m0s")),
        "{table}"
    );
    assert!(lines[service + 1].starts_with("    reason: "), "{table}");
    let group = row("ec2_asg:gpu-workers");
    assert!(
        lines[group].contains("ec2_asg")
            && lines[group].contains("3/3")
            && lines[group].contains("yes"),
        "{table}"
    );

    let (code, stdout, stderr) = cli(&env, &["--config", &config, "status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let rows = json_lines(&stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["target_type"], "ec2_asg");
    assert_eq!(rows[1]["standing"]["last_action"]["to"], 3);
    assert!(
        rows[1]["standing"]["pause"]["until_ms"].is_u64(),
        "{}",
        rows[1]
    );
    assert!(rows[0]["standing"]["pause"].is_null(), "{}", rows[0]);
    assert!(
        rows[0]["standing"]["scale_in_in_s"].as_u64() > Some(500),
        "{}",
        rows[0]
    );

    // A group that does not exist: its row says so, and status exits 1.
    let mut broken = document.clone();
    broken["services"][1]["target"]["name"] = json!("no-such-group");
    std::fs::write(&file, broken.to_string()).expect("configuration file");
    let (code, table, _) = cli(&env, &["--config", &config, "status"]);
    assert_eq!(code, 1, "{table}");
    assert!(
        table.contains("problem: Auto Scaling group \"no-such-group\" not found"),
        "{table}"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn the_default_simulation_compares_strategies_and_draws_them() {
    let chart = std::env::temp_dir().join(format!("fa-simulation-{}.svg", std::process::id()));
    let chart_arg = chart.to_string_lossy().to_string();
    let (code, stdout, stderr) = cli(&[], &["simulate", "--svg", &chart_arg]);
    assert_eq!(code, 0, "{stderr}");
    let strategies = [
        "original step 60s",
        "step 10s",
        "recommended 10s",
        "aws target tracking  ",
        "aws target tracking 20s",
        "keda defaults",
        "oracle (waits ≤",
    ];
    for strategy in strategies {
        // Each in the comparison table, and again in the SPEC elasticity table.
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(strategy)).count(),
            2,
            "{strategy} in:\n{stdout}"
        );
    }
    assert!(stdout.contains("oracle frontier"), "{stdout}");
    assert!(stdout.contains("fastest possible"), "{stdout}");
    // The original's 60-second schedule is the baseline of the ratio columns.
    let baseline = stdout
        .lines()
        .find(|l| l.starts_with("original step 60s"))
        .expect("baseline row");
    assert!(baseline.contains("1.00  1.00  1.00"), "{baseline}");
    // The recommended policy answers the spike with a lower p99 than the original.
    let ratio_of = |line: &str| -> f64 {
        let after = line.split('|').nth(1).expect("ratio columns");
        after
            .split_whitespace()
            .next()
            .expect("p99 ratio")
            .parse()
            .expect("a number")
    };
    let ours = stdout
        .lines()
        .find(|l| l.starts_with("recommended 10s"))
        .expect("row");
    assert!(ratio_of(ours) < 1.0, "{ours}");

    let svg = std::fs::read_to_string(&chart).expect("the chart is written");
    let _ = std::fs::remove_file(&chart);
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg:.200}"
    );
    // Two panels (backlog, tasks), one line per strategy and the oracle in each,
    // and a legend.
    assert_eq!(svg.matches("<polyline").count(), 2 * strategies.len());
    for strategy in strategies {
        assert!(svg.contains(strategy.trim_end()), "legend lacks {strategy}");
    }
}

#[test]
fn bad_simulation_inputs_exit_2_naming_the_flag() {
    for (args, needle) in [
        (
            &["simulate", "--trace", "tsunami"][..],
            "--trace \"tsunami\"",
        ),
        (&["simulate", "--mu", "0"][..], "--mu"),
        (&["simulate", "--hours", "0"][..], "--hours"),
        (
            &["simulate", "--svg", "/nonexistent-dir/chart.svg"][..],
            "--svg",
        ),
        (
            &["simulate", "--trace", "/nonexistent-dir/sent.json"][..],
            "not a built-in trace",
        ),
    ] {
        let (code, _, stderr) = cli(&[], args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

/// A CloudWatch `GetMetricData` export is read as a trace directly, and a broken
/// one is refused naming the field.
#[test]
fn simulate_reads_a_cloudwatch_export() {
    let dir = std::env::temp_dir();
    let good = dir.join(format!("fa-sent-{}.json", std::process::id()));
    let minutes: Vec<String> = (0..60)
        .map(|m| format!("\"2026-11-28T10:{m:02}:00Z\""))
        .collect();
    let values: Vec<String> = (0..60)
        .map(|m| {
            if (20..30).contains(&m) {
                "1800".into()
            } else {
                "60".into()
            }
        })
        .collect();
    let export = format!(
        r#"{{"MetricDataResults": [{{"Id": "sent", "Label": "NumberOfMessagesSent", "Timestamps": [{}], "Values": [{}], "StatusCode": "Complete"}}], "Messages": []}}"#,
        minutes.join(", "),
        values.join(", ")
    );
    std::fs::write(&good, export).expect("export written");
    let path = good.to_string_lossy().to_string();
    let (code, stdout, stderr) = cli(&[], &["simulate", "--trace", &path, "--svg", "none"]);
    let _ = std::fs::remove_file(&good);
    assert_eq!(code, 0, "{stderr}");
    // 50 quiet minutes at 1/s and ten at 30/s: 21,000 messages over an hour.
    assert!(
        stdout.contains("NumberOfMessagesSent") && stdout.contains("(1.0 h, 21000 messages)"),
        "{stdout}"
    );

    let bad = dir.join(format!("fa-bad-{}.json", std::process::id()));
    std::fs::write(
        &bad,
        r#"{"MetricDataResults": [{"Id": "sent", "Timestamps": ["noon", "2026-11-28T10:01:00Z"], "Values": [1, 2]}]}"#,
    )
    .expect("export written");
    let path = bad.to_string_lossy().to_string();
    let (code, _, stderr) = cli(&[], &["simulate", "--trace", &path]);
    let _ = std::fs::remove_file(&bad);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("Timestamps[0]") && stderr.contains("noon"),
        "{stderr}"
    );
}

/// `tune` searches settings on a workload, prints the frontier beside the oracle's,
/// draws it, and prints a configuration the worker accepts.
/// The configuration JSON `tune` prints for its chosen point.
fn chosen_configuration(stdout: &str) -> Value {
    stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .expect("the chosen configuration as JSON")
}

/// `check-config` accepts `chosen` as a configuration's defaults.
fn assert_the_worker_accepts(chosen: &Value) {
    let document = json!({
        "state_bucket": "tuned-state",
        "defaults": chosen,
        "services": [{"cluster": "c", "service": "s",
            "provider": {"type": "sqs", "queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"}}],
    });
    let env = vec![
        ("AUTOSCALER_CONFIG".to_string(), document.to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
    ];
    let (code, _, stderr) = cli(&env, &["check-config"]);
    assert_eq!(code, 0, "{chosen}: {stderr}");
}

#[test]
fn tune_prints_a_frontier_a_chart_and_a_configuration_the_worker_accepts() {
    let chart = std::env::temp_dir().join(format!("fa-tune-{}.svg", std::process::id()));
    let chart_arg = chart.to_string_lossy().to_string();
    let args = [
        "tune",
        "--trace",
        "bursty",
        "--hours",
        "1",
        "--max-p99",
        "120",
        "--svg",
        &chart_arg,
    ];
    let (code, stdout, stderr) = cli(&[], &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Pareto frontier"), "{stdout}");
    assert!(stdout.contains("oracle"), "{stdout}");
    assert!(stdout.contains("chosen (--max-p99 120"), "{stdout}");
    let chosen = chosen_configuration(&stdout);
    assert_eq!(chosen["scaling_policy"], "predictive");
    let svg = std::fs::read_to_string(&chart).expect("the chart is written");
    let _ = std::fs::remove_file(&chart);
    assert!(
        svg.contains("Pareto frontier") && svg.contains("<circle"),
        "{svg:.300}"
    );

    // The chosen settings pass the worker's own validation.
    assert_the_worker_accepts(&chosen);

    // With spare capacity searched too: five times the settings, a utilization
    // column, and a chosen point that may hold spare tasks still passes the
    // worker's validation. A tight p99 on bursts is where spare tasks pay.
    let spare = "tune --trace bursty --hours 1 --max-p99 53 --spare-capacity --svg none";
    let (code, stdout, stderr) = cli(&[], &spare.split(' ').collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("tune: 250 settings"), "{stdout}");
    // Frontier rows: drain, stabilization, cooldown, use %, p99, ...
    let spare_on_frontier = stdout
        .lines()
        .skip_while(|l| !l.contains("use %"))
        .skip(1)
        .map_while(|l| l.split_whitespace().nth(3)?.parse::<u32>().ok())
        .any(|use_pct| use_pct < 100);
    assert!(spare_on_frontier, "{stdout}");
    let chosen = chosen_configuration(&stdout);
    assert_the_worker_accepts(&chosen);

    // A goal nothing meets says so; contradictory choices are refused.
    let (code, stdout, _) = cli(
        &[],
        &[
            "tune", "--trace", "bursty", "--hours", "1", "--budget", "0", "--svg", "none",
        ],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("no setting meets"), "{stdout}");
    let (code, _, stderr) = cli(&[], &["tune", "--max-p99", "60", "--budget", "10"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--budget"), "{stderr}");
    let (code, _, stderr) = cli(&[], &["tune", "--max-p99=-5"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--max-p99 -5"), "{stderr}");
}

/// Shards as separate processes: `run --once --shard k/3` for each k at once,
/// against moto. Each decides only its own services (as
/// `fast_autoscaler_core::shards` assigns them), no service is decided twice,
/// and together they decide every service.
#[tokio::test]
async fn shards_run_as_separate_processes_each_deciding_its_own_services() {
    let emulator = emulator_or_skip!();
    let queue = emulator.create_queue("sharded").await;
    emulator.create_bucket("shard-state").await;
    let names: Vec<String> = (0..12).map(|i| format!("svc-{i:02}")).collect();
    for name in &names {
        emulator.create_service("sharded", name, 1).await;
    }
    let services: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"cluster": "sharded", "service": name,
            "provider": {"type": "sqs", "queue_url": queue}, "min_tasks": 1, "max_tasks": 5})
        })
        .collect();
    let file = std::env::temp_dir().join(format!("fa-shards-{}.json", std::process::id()));
    let document = json!({"state_bucket": "shard-state", "services": services});
    std::fs::write(&file, document.to_string()).expect("the configuration file");
    let env = emulator.env();
    let config = file.to_string_lossy().to_string();
    let runs: Vec<_> = (0..3)
        .map(|k| {
            let (env, config) = (env.clone(), config.clone());
            let shard = format!("{k}/3");
            std::thread::spawn(move || {
                cli(
                    &env,
                    &["--config", &config, "run", "--once", "--shard", &shard],
                )
            })
        })
        .collect();
    let mut decided = Vec::new();
    for (k, run) in runs.into_iter().enumerate() {
        let (code, stdout, stderr) = run.join().expect("a shard's process");
        assert_eq!(code, 0, "shard {k}: {stderr}");
        for line in json_lines(&stdout) {
            let service = line["service"].as_str().expect("a service").to_string();
            let name = service.rsplit('/').next().unwrap_or_default().to_string();
            assert_eq!(
                fast_autoscaler_core::shards::shard_of(
                    &fast_autoscaler_core::target::TargetId::ecs_service("sharded", &name),
                    3
                ),
                k as u32,
                "{service} decided by shard {k}"
            );
            decided.push(name);
        }
    }
    decided.sort();
    assert_eq!(decided, names, "every service once, across the shards");
    let _ = std::fs::remove_file(file);
}
