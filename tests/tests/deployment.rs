//! The deployment, checked offline: `serverless package` on dummy zips, cfn-lint and
//! checkov on the generated CloudFormation template, assertions on what the
//! template grants, and the real cargo-lambda zips that `make test` builds.

use std::path::{Path, PathBuf};
use std::process::Command;

use fast_autoscaler_tests::{missing, venv_bin, workspace_root};
use serde_json::Value;

const QUEUE_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:jobs";
const SERVICE_ARN: &str = "arn:aws:ecs:eu-west-1:123456789012:service/prod/workers";
const SECRET_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:amq-AbCdEf";
const BROKER_ARN: &str =
    "arn:aws:mq:eu-west-1:123456789012:broker:orders:b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9";

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fast-autoscaler-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Packages the service with dummy zips; answers the generated template's path.
fn package() -> Option<PathBuf> {
    let serverless = workspace_root().join("node_modules/.bin/serverless");
    if !serverless.exists() {
        return missing(
            "the Serverless Framework",
            "run `make test` (it runs `npm ci`, which installs serverless@3 from package.json)",
        );
    }
    let python = venv_bin("python");
    if !python.exists() {
        return missing("the project venv", "run `make venv`");
    }
    let artifacts = scratch_dir("artifacts");
    for function in ["scheduler", "worker"] {
        let dir = artifacts.join(function);
        std::fs::create_dir_all(&dir).expect("artifact directory");
        std::fs::write(dir.join("bootstrap"), b"dummy").expect("dummy bootstrap");
        let status = Command::new(&python)
            .args(["-m", "zipfile", "-c", "bootstrap.zip", "bootstrap"])
            .current_dir(&dir)
            .status()
            .expect("zipping the dummy bootstrap");
        assert!(status.success());
    }
    let out = scratch_dir("package");
    let output = Command::new(&serverless)
        .args([
            "package",
            "--stage",
            "ci",
            "--region",
            "eu-west-1",
            "--package",
        ])
        .arg(&out)
        .arg(format!("--param=artifactDir={}", artifacts.display()))
        .args([
            "--param=architecture=x86_64",
            "--param=ecsClusterName=prod",
            "--param=ecsServiceName=workers",
            "--param=sqsQueueUrl=https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
        ])
        .arg(format!("--param=monitoredQueueArns={QUEUE_ARN}"))
        .arg(format!("--param=ecsServiceArns={SERVICE_ARN}"))
        .arg(format!("--param=secretArns={SECRET_ARN}"))
        .arg(format!("--param=amqBrokerArns={BROKER_ARN}"))
        .arg("--param=amqCloudwatchFallback=true")
        .current_dir(workspace_root())
        .env("SLS_TELEMETRY_DISABLED", "1")
        .env("SLS_NOTIFICATIONS_MODE", "off")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("running serverless package");
    assert!(
        output.status.success(),
        "serverless package failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(out.join("cloudformation-template-update-stack.json"))
}

/// checkov's CloudFormation checks, offline: no failed check, and every skipped one
/// carries its justification (the `comment` of its `Metadata.checkov.skip` entry in
/// serverless.yml).
fn checkov_finds_nothing_unjustified(template: &Path) {
    let checkov = venv_bin("checkov");
    if !checkov.exists() {
        missing::<()>("checkov", "run `make venv` (requirements-dev.txt pins it)");
        return;
    }
    let output = Command::new(&checkov)
        .args([
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--compact",
            // Offline: no policy download, no platform mapping, no version check.
            "--skip-download",
            "-f",
        ])
        .arg(template)
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_DISABLE_VERSION_CHECK", "true")
        .env("ANONYMOUS_TELEMETRY", "false")
        .output()
        .expect("running checkov");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let checks = |kind: &str| {
        report["results"][kind]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let failed: Vec<String> = checks("failed_checks")
        .iter()
        .map(|c| {
            format!(
                "{} on {}: {}",
                c["check_id"], c["resource"], c["check_name"]
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "checkov findings:\n{}",
        failed.join("\n")
    );
    let skipped = checks("skipped_checks");
    assert_eq!(
        Some(skipped.len() as u64),
        report["summary"]["skipped"].as_u64(),
        "{}",
        report["summary"]
    );
    assert!(
        report["summary"]["passed"].as_u64().unwrap_or(0) >= 30,
        "checkov ran its checks: {}",
        report["summary"]
    );
    for check in &skipped {
        let comment = check["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or_default();
        assert!(
            comment.len() >= 40,
            "{} on {} is suppressed without a justification: {comment:?}",
            check["check_id"],
            check["resource"]
        );
    }
    println!(
        "checkov: {} passed, 0 failed, {} suppressed with a justification",
        report["summary"]["passed"],
        skipped.len()
    );
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("template")).expect("template JSON")
}

/// Every (role, statement) of the template's inline IAM policies.
fn statements(template: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for (name, resource) in template["Resources"].as_object().expect("resources") {
        if resource["Type"] != "AWS::IAM::Role" {
            continue;
        }
        for policy in resource["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for statement in policy["PolicyDocument"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
            {
                // A conditional statement is {"Fn::If": [cond, statement, NoValue]}.
                let statement = statement.get("Fn::If").map_or(statement, |f| &f[1]);
                found.push((name.clone(), statement.clone()));
            }
        }
    }
    found
}

fn list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn actions_of(statement: &Value) -> Vec<String> {
    list(&statement["Action"])
        .iter()
        .filter_map(|a| a.as_str().map(String::from))
        .collect()
}

fn statement<'a>(all: &'a [(String, Value)], role: &str, sid: &str) -> &'a Value {
    &all.iter()
        .find(|(r, s)| r == role && s["Sid"] == sid)
        .unwrap_or_else(|| panic!("{role} has no statement {sid}"))
        .1
}

#[test]
fn the_packaged_template_is_least_privilege_lint_clean_and_wired_up() {
    let Some(template_path) = package() else {
        return;
    };

    // cfn-lint, with one documented exception: W3005 flags the DependsOn that the
    // Serverless Framework itself adds to each function.
    let lint = Command::new(venv_bin("cfn-lint"))
        .args(["--ignore-checks", "W3005", "--"])
        .arg(&template_path)
        .output()
        .expect("running cfn-lint");
    assert!(
        lint.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    checkov_finds_nothing_unjustified(&template_path);

    let template = load(&template_path);
    let resources = &template["Resources"];
    let all = statements(&template);

    // No wildcard resource on the services the autoscaler touches.
    for (role, s) in &all {
        let guarded = actions_of(s).iter().any(|a| {
            ["ecs:", "s3:", "sqs:", "secretsmanager:", "mq:"]
                .iter()
                .any(|p| a.starts_with(p))
        });
        if guarded {
            for resource in list(&s["Resource"]) {
                assert_ne!(resource, Value::String("*".into()), "{role}: {s}");
                assert!(!resource.to_string().contains("\"*\""), "{role}: {s}");
            }
        }
        assert_ne!(s["Action"], Value::String("*".into()), "{role}: {s}");
    }

    // Scheduler: send ticks, nothing else but its own logs.
    let scheduler: Vec<&Value> = all
        .iter()
        .filter(|(r, _)| r == "SchedulerRole")
        .map(|(_, s)| s)
        .collect();
    assert_eq!(scheduler.len(), 2, "{scheduler:?}");
    let send = statement(&all, "SchedulerRole", "SendTicks");
    assert_eq!(actions_of(send), ["sqs:SendMessage"]);
    assert_eq!(
        send["Resource"],
        serde_json::json!({"Fn::GetAtt": ["TickQueue", "Arn"]})
    );

    // Worker: each permission on exactly the configured resources.
    let read = statement(&all, "WorkerRole", "ReadMonitoredQueues");
    assert_eq!(actions_of(read), ["sqs:GetQueueAttributes"]);
    assert_eq!(
        read["Resource"],
        serde_json::json!({"Ref": "MonitoredQueueArns"})
    );
    assert_eq!(
        template["Parameters"]["MonitoredQueueArns"]["Default"],
        QUEUE_ARN
    );
    let scale = statement(&all, "WorkerRole", "ScaleConfiguredServices");
    assert_eq!(
        actions_of(scale),
        ["ecs:DescribeServices", "ecs:UpdateService"]
    );
    assert_eq!(
        scale["Resource"],
        serde_json::json!({"Ref": "EcsServiceArns"})
    );
    assert_eq!(
        template["Parameters"]["EcsServiceArns"]["Default"],
        SERVICE_ARN
    );
    let state = statement(&all, "WorkerRole", "ScalingState");
    assert_eq!(actions_of(state), ["s3:GetObject", "s3:PutObject"]);
    assert!(
        state["Resource"]
            .to_string()
            .contains("/autoscaling-state/*"),
        "{state}"
    );
    let secrets = statement(&all, "WorkerRole", "ReadProviderSecrets");
    assert_eq!(actions_of(secrets), ["secretsmanager:GetSecretValue"]);
    assert_eq!(
        secrets["Resource"],
        serde_json::json!({"Ref": "SecretArns"})
    );
    assert_eq!(template["Parameters"]["SecretArns"]["Default"], SECRET_ARN);
    // Amazon MQ: describe only the listed brokers; CloudWatch reads only when the
    // fallback is on (GetMetricData has no resource-level permissions).
    let brokers = statement(&all, "WorkerRole", "ResolveBrokerEndpoints");
    assert_eq!(actions_of(brokers), ["mq:DescribeBroker"]);
    assert_eq!(
        brokers["Resource"],
        serde_json::json!({"Ref": "AmqBrokerArns"})
    );
    assert_eq!(
        template["Parameters"]["AmqBrokerArns"]["Default"],
        BROKER_ARN
    );
    let fallback = statement(&all, "WorkerRole", "ReadQueueSizeFallback");
    assert_eq!(actions_of(fallback), ["cloudwatch:GetMetricData"]);
    assert_eq!(
        template["Parameters"]["AmqCloudwatchFallback"]["AllowedValues"],
        serde_json::json!(["true", "false"])
    );

    let consume = statement(&all, "WorkerRole", "ConsumeTicks");
    assert_eq!(
        actions_of(consume),
        [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes"
        ]
    );
    assert_eq!(
        consume["Resource"],
        serde_json::json!({"Fn::GetAtt": ["TickQueue", "Arn"]})
    );

    // Tick queue: short-lived, encrypted, invisible longer than the worker runs.
    let queue = &resources["TickQueue"]["Properties"];
    let worker = &resources["WorkerLambdaFunction"]["Properties"];
    assert_eq!(queue["MessageRetentionPeriod"], 60);
    assert_eq!(queue["SqsManagedSseEnabled"], true);
    assert!(
        queue["VisibilityTimeout"].as_u64() > worker["Timeout"].as_u64(),
        "{queue} vs {worker}"
    );

    // Functions: custom runtime, the requested architecture, a concurrency cap.
    for function in ["SchedulerLambdaFunction", "WorkerLambdaFunction"] {
        let p = &resources[function]["Properties"];
        assert_eq!(
            (p["Runtime"].as_str(), p["Handler"].as_str()),
            (Some("provided.al2023"), Some("bootstrap")),
            "{function}"
        );
        assert_eq!(
            p["Architectures"],
            serde_json::json!(["x86_64"]),
            "{function}"
        );
    }
    assert!(worker["ReservedConcurrentExecutions"]
        .as_u64()
        .is_some_and(|n| n >= 1));
    assert_eq!(
        worker["Environment"]["Variables"]["AWS_LAMBDA_LOG_FORMAT"],
        "JSON"
    );

    // The schedule and the event source mapping.
    let rule = resources
        .as_object()
        .expect("resources")
        .values()
        .find(|r| r["Type"] == "AWS::Events::Rule")
        .expect("a schedule rule");
    assert_eq!(rule["Properties"]["ScheduleExpression"], "rate(1 minute)");
    assert!(rule["Properties"]["Targets"]
        .to_string()
        .contains("SchedulerLambdaFunction"));
    let mapping = resources
        .as_object()
        .expect("resources")
        .values()
        .find(|r| r["Type"] == "AWS::Lambda::EventSourceMapping")
        .expect("an SQS event source mapping");
    let m = &mapping["Properties"];
    assert_eq!(
        m["EventSourceArn"],
        serde_json::json!({"Fn::GetAtt": ["TickQueue", "Arn"]})
    );
    assert!(m["FunctionName"]
        .to_string()
        .contains("WorkerLambdaFunction"));
    assert!(m["BatchSize"].as_u64().is_some_and(|b| b <= 10), "{m}");
    assert_eq!(m["MaximumBatchingWindowInSeconds"], 0, "{m}");

    // The state bucket and the alarms.
    let bucket = &resources["StateBucket"]["Properties"];
    assert_eq!(
        bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"],
        true
    );
    assert!(bucket["BucketEncryption"].is_object());
    assert!(
        resources["WorkerErrorsAlarm"].is_object() && resources["NoTickEvaluatedAlarm"].is_object()
    );
    assert_eq!(
        resources["NoTickEvaluatedAlarm"]["Properties"]["MetricName"],
        "TicksEvaluated"
    );
    assert_eq!(
        resources["NoTickEvaluatedAlarm"]["Properties"]["TreatMissingData"],
        "breaching"
    );
}

#[test]
fn cargo_lambda_built_both_function_zips() {
    for function in ["scheduler", "worker"] {
        let zip = workspace_root()
            .join("target/lambda")
            .join(function)
            .join("bootstrap.zip");
        if !zip.exists() {
            let _: Option<()> = missing(
                &format!("{}", zip.display()),
                "run `make test`, which builds the Lambda zips with `cargo lambda build --release --output-format zip` first",
            );
            return;
        }
        let python = venv_bin("python");
        let listing = Command::new(&python)
            .args(["-m", "zipfile", "-l"])
            .arg(&zip)
            .output()
            .expect("listing the zip");
        let names = String::from_utf8_lossy(&listing.stdout);
        assert!(
            listing.status.success() && names.contains("bootstrap"),
            "{}: {names}",
            zip.display()
        );
        let size = std::fs::metadata(&zip).expect("zip metadata").len();
        assert!(size > 100_000, "{} is only {size} bytes", zip.display());
        println!("{function}: {} ({size} bytes)", zip.display());
    }
}
