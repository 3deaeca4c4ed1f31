//! The deployment, checked offline: `serverless package` (osls) on dummy zips,
//! outside a VPC and in one, cfn-lint and checkov on the generated CloudFormation
//! template, assertions on what the template grants, the dashboard against the
//! metrics the worker emits, bad parameters, and the real cargo-lambda zips that
//! `make test` builds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fast_autoscaler_core::policy::Action;
use fast_autoscaler_tests::{missing, venv_bin, workspace_root};
use fast_autoscaler_worker::record::AnticipationRecord;
use fast_autoscaler_worker::{emf, DecisionRecord};
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

/// The stage parameters of the default deployment: one SQS service, every
/// optional permission on, outside any VPC.
fn default_params() -> Vec<String> {
    [
        "ecsClusterName=prod".to_string(),
        "ecsServiceName=workers".into(),
        "sqsQueueUrl=https://sqs.eu-west-1.amazonaws.com/123456789012/jobs".into(),
        format!("monitoredQueueArns={QUEUE_ARN}"),
        format!("ecsServiceArns={SERVICE_ARN}"),
        format!("secretArns={SECRET_ARN}"),
        format!("amqBrokerArns={BROKER_ARN}"),
        "amqCloudwatchFallback=true".into(),
    ]
    .into()
}

/// Runs `serverless package` (osls, from package.json) on dummy zips with `params`;
/// answers its output directory and whether it succeeded, with what it printed.
fn run_package(name: &str, params: &[String]) -> Option<(PathBuf, bool, String)> {
    let serverless = workspace_root().join("node_modules/.bin/serverless");
    if !serverless.exists() {
        return missing(
            "osls (the Serverless Framework v3's open-source continuation)",
            "run `make test` (it runs `npm ci`, which installs osls from package.json)",
        );
    }
    let python = venv_bin("python");
    if !python.exists() {
        return missing("the project venv", "run `make venv`");
    }
    let artifacts = scratch_dir(&format!("{name}-artifacts"));
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
    let out = scratch_dir(&format!("{name}-package"));
    // Serverless cleans and writes `.serverless/` in the service's directory
    // whatever `--package` says, so two runs at once break each other.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
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
        .arg("--param=architecture=x86_64")
        .args(params.iter().map(|p| format!("--param={p}")))
        .current_dir(workspace_root())
        .env("SLS_TELEMETRY_DISABLED", "1")
        .env("SLS_NOTIFICATIONS_MODE", "off")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("running serverless package");
    let printed = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((out, output.status.success(), printed))
}

/// Packages the service; answers the generated template's path.
fn package(name: &str, params: &[String]) -> Option<PathBuf> {
    let (out, ok, printed) = run_package(name, params)?;
    assert!(ok, "serverless package failed:\n{printed}");
    Some(out.join("cloudformation-template-update-stack.json"))
}

/// cfn-lint, with one documented exception: W3005 flags the DependsOn that the
/// Serverless Framework itself adds to each function.
fn cfn_lint_is_clean(template: &Path) {
    let lint = Command::new(venv_bin("cfn-lint"))
        .args(["--ignore-checks", "W3005", "--"])
        .arg(template)
        .output()
        .expect("running cfn-lint");
    assert!(
        lint.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// checkov's CloudFormation checks, offline: no failed check, and every skipped one
/// carries its justification (the `comment` of its `Metadata.checkov.skip` entry in
/// serverless.yml).
/// Answers the suppressed checks as `(check id, resource)`.
fn checkov_finds_nothing_unjustified(template: &Path) -> Vec<(String, String)> {
    let checkov = venv_bin("checkov");
    if !checkov.exists() {
        missing::<()>("checkov", "run `make venv` (requirements-dev.txt pins it)");
        return Vec::new();
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
    skipped
        .iter()
        .map(|c| {
            (
                c["check_id"].as_str().unwrap_or_default().to_string(),
                c["resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
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
    let Some(template_path) = package("default", &default_params()) else {
        return;
    };
    cfn_lint_is_clean(&template_path);
    let skipped = checkov_finds_nothing_unjustified(&template_path);
    // Outside a VPC, the worker's CKV_AWS_117 is a documented choice.
    assert!(
        skipped.contains(&(
            "CKV_AWS_117".into(),
            "AWS::Lambda::Function.WorkerLambdaFunction".into()
        )),
        "{skipped:?}"
    );

    let template = load(&template_path);
    let resources = &template["Resources"];
    let all = statements(&template);

    // No wildcard resource on the services the autoscaler touches, but for
    // ListQueues, which has no resource-level permissions (and only with a prefix).
    for (role, s) in &all {
        if actions_of(s) == ["sqs:ListQueues"] {
            continue;
        }
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
    let fallback = statement(&all, "WorkerRole", "ReadCloudwatchMetrics");
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
    // One shard: two concurrent evaluations at most, one tick a slot.
    assert_eq!(worker["ReservedConcurrentExecutions"], 2);
    let scheduler = &resources["SchedulerLambdaFunction"]["Properties"];
    assert_eq!(scheduler["Environment"]["Variables"]["TICK_SHARDS"], "1");
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
    let paused = &resources["PausedTooLongAlarm"]["Properties"];
    // A stage parameter: CloudFormation takes the number as text.
    assert_eq!(
        (
            paused["MetricName"].as_str(),
            paused["EvaluationPeriods"].to_string().trim_matches('"')
        ),
        (Some("PausedServices"), "4"),
        "{paused}"
    );
    assert!(emitted_metrics().contains("PausedServices"));

    assert_eq!(template["Parameters"]["ListsQueues"]["Default"], "false");
    assert_eq!(
        template["Parameters"]["CloudwatchProvider"]["Default"],
        "false"
    );
    // Single-service mode: no document; the dashboard has the one service's row.
    assert_eq!(worker["Environment"]["Variables"]["AUTOSCALER_CONFIG"], "");
    let rows = dashboard_services(&template);
    assert_eq!(rows, ["prod/workers"]);
    // Outside a VPC: no network configuration, no endpoint, no EC2 permission
    // that could take effect (their conditions are false).
    assert_eq!(template["Parameters"]["VpcSubnetIds"]["Default"], "");
}

/// The name of every metric the worker's log lines declare, from the worker's own
/// line builders (worker/src/emf.rs) on a decision with every field present.
fn emitted_metrics() -> BTreeSet<String> {
    let record = DecisionRecord {
        service: "prod/workers".into(),
        target_type: "ecs_service".into(),
        provider: "sqs",
        visible: Some(1),
        in_flight: Some(1),
        delayed: Some(0),
        oldest_message_age_s: Some(1),
        current_desired: Some(1),
        running: Some(1),
        new_desired: Some(1),
        action: Action::None,
        applied: false,
        paused: true,
        reason: String::new(),
        cooldown_remaining_s: 0,
        tick_due_ms: 0,
        tick_lag_ms: 0,
        duration_ms: 0,
        dry_run: false,
        anticipation: Some(AnticipationRecord {
            surge_expected_at: "2026-12-03T14:00:00Z".into(),
            tasks: 15,
            added: 14,
            forecast_only: false,
        }),
    };
    let summary = emf::TickSummary {
        evaluated_lag_ms: Some(1),
        ..emf::TickSummary::default()
    };
    [emf::decision_line(&record, 0), emf::tick_line(0, &summary)]
        .iter()
        .flat_map(|line| {
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m["Name"].as_str().map(String::from))
        .collect()
}

/// Checks the dashboard's body: every metric it draws is one the worker emits, in
/// its namespace, in the stack's region; answers the services it has rows for.
fn dashboard_services(template: &Value) -> Vec<String> {
    let body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
        .as_str()
        .expect("the dashboard body is a string");
    let body: Value = serde_json::from_str(body).expect("the dashboard body is JSON");
    let emitted = emitted_metrics();
    let mut drawn = BTreeSet::new();
    let mut services = Vec::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        if widget["type"] != "metric" {
            continue;
        }
        assert_eq!(widget["properties"]["region"], "eu-west-1", "{widget}");
        for line in widget["properties"]["metrics"].as_array().expect("metrics") {
            let line = line.as_array().expect("a metric line");
            assert_eq!(line[0], emf::NAMESPACE, "{widget}");
            let name = line[1].as_str().expect("a metric name");
            assert!(
                emitted.contains(name),
                "the dashboard draws {name}, which the worker never emits (it emits {emitted:?})"
            );
            drawn.insert(name.to_string());
            if line.len() > 3 && line[2] == "Service" {
                let service = line[3].as_str().expect("a service").to_string();
                if !services.contains(&service) {
                    services.push(service);
                }
            }
        }
    }
    // Backlog against tasks, actions, holds, pauses, lag and the heartbeat.
    for wanted in [
        "VisibleMessages",
        "InFlightMessages",
        "NewDesiredCount",
        "RunningCount",
        "ScalingActions",
        "Errors",
        "Paused",
        "TickLagMs",
        "TicksEvaluated",
    ] {
        assert!(drawn.contains(wanted), "the dashboard lacks {wanted}");
    }
    services
}

#[test]
fn vpc_mode_attaches_the_worker_creates_its_endpoints_and_reads_the_config_file() {
    let mut params = default_params();
    params.extend(
        [
            "autoscalerConfigFile=autoscaler.example.json",
            "vpcId=vpc-0abc1234",
            "vpcSubnetIds=subnet-0aaa1111,subnet-0bbb2222",
            "vpcSecurityGroupIds=sg-0ccc3333",
            "vpcEndpoints=true",
            "vpcRouteTableIds=rtb-0ddd4444",
        ]
        .map(String::from),
    );
    let Some(template_path) = package("vpc", &params) else {
        return;
    };
    cfn_lint_is_clean(&template_path);
    let skipped = checkov_finds_nothing_unjustified(&template_path);
    // In a VPC, CKV_AWS_117 passes: nothing about it is suppressed.
    assert!(
        !skipped.iter().any(|(id, resource)| id == "CKV_AWS_117" && resource.ends_with("WorkerLambdaFunction")),
        "{skipped:?}"
    );
    let template = load(&template_path);
    let resources = &template["Resources"];
    let parameters = &template["Parameters"];
    assert_eq!(
        parameters["VpcSubnetIds"]["Default"],
        "subnet-0aaa1111,subnet-0bbb2222"
    );
    assert_eq!(parameters["VpcSecurityGroupIds"]["Default"], "sg-0ccc3333");
    assert_eq!(parameters["VpcEndpoints"]["Default"], "true");

    // The worker is attached; the scheduler stays outside.
    let worker = &resources["WorkerLambdaFunction"]["Properties"];
    let vpc = &worker["VpcConfig"]["Fn::If"];
    assert_eq!(vpc[0], "InVpc", "{worker}");
    assert_eq!(
        vpc[1]["SubnetIds"],
        serde_json::json!({"Ref": "VpcSubnetIds"})
    );
    assert_eq!(
        vpc[1]["SecurityGroupIds"],
        serde_json::json!({"Ref": "VpcSecurityGroupIds"})
    );
    assert!(resources["SchedulerLambdaFunction"]["Properties"]
        .get("VpcConfig")
        .is_none());

    // Its network permissions: describing (no resource-level permissions exist),
    // and changing interfaces only in its own VPC.
    let all = statements(&template);
    let describe = statement(&all, "WorkerRole", "DescribeVpcNetwork");
    assert_eq!(
        actions_of(describe),
        ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    );
    let attach = statement(&all, "WorkerRole", "AttachToOwnVpc");
    assert!(actions_of(attach).contains(&"ec2:CreateNetworkInterface".to_string()));
    assert!(
        attach["Condition"]["ArnEquals"]["ec2:Vpc"]
            .to_string()
            .contains("vpc/${VpcId}"),
        "{attach}"
    );

    // The endpoints the worker calls, each under its condition, and the S3 gateway.
    let endpoint = |name: &str| {
        let r = &resources[name];
        assert_eq!(r["Type"], "AWS::EC2::VPCEndpoint", "{name}");
        (
            r["Condition"].as_str().unwrap_or_default().to_string(),
            r["Properties"]["ServiceName"].to_string(),
        )
    };
    for (name, condition, service) in [
        ("SqsEndpoint", "CreatesVpcEndpoints", ".sqs"),
        ("EcsEndpoint", "EcsVpcEndpoint", ".ecs"),
        (
            "SecretsManagerVpcEndpoint",
            "SecretsManagerEndpoint",
            ".secretsmanager",
        ),
        ("AmazonMqVpcEndpoint", "AmazonMqEndpoint", ".mq"),
        ("CloudwatchVpcEndpoint", "CloudwatchEndpoint", ".monitoring"),
        ("S3GatewayEndpoint", "CreatesVpcEndpoints", ".s3"),
    ] {
        let (found_condition, found_service) = endpoint(name);
        assert_eq!(found_condition, condition, "{name}");
        assert!(found_service.contains(service), "{name}: {found_service}");
    }
    assert_eq!(
        resources["S3GatewayEndpoint"]["Properties"]["VpcEndpointType"],
        "Gateway"
    );
    let ingress = &resources["VpcEndpointSecurityGroup"]["Properties"]["SecurityGroupIngress"][0];
    assert_eq!(
        (ingress["FromPort"].as_u64(), ingress["ToPort"].as_u64()),
        (Some(443), Some(443))
    );

    // The configuration document from the repository's file, compacted, and a
    // dashboard row per configured service.
    let file =
        std::fs::read_to_string(workspace_root().join("autoscaler.example.json")).expect("example");
    let document: Value = serde_json::from_str(&file).expect("example JSON");
    let deployed = worker["Environment"]["Variables"]["AUTOSCALER_CONFIG"]
        .as_str()
        .expect("a string");
    assert_eq!(
        serde_json::from_str::<Value>(deployed).expect("JSON"),
        document
    );
    assert!(!deployed.contains('\n'));
    assert_eq!(
        dashboard_services(&template),
        ["prod/image-workers", "prod/mailer"]
    );
}

#[test]
fn bad_deployment_parameters_stop_packaging_naming_the_parameter() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["vpcSubnetIds=subnet-0aaa1111", "vpcId=vpc-0abc1234"],
            "vpcSecurityGroupIds is empty",
        ),
        (
            &["vpcSubnetIds=subnet-0aaa1111", "vpcSecurityGroupIds=sg-1"],
            "vpcId",
        ),
        (
            &[
                "vpcSubnetIds=0aaa1111",
                "vpcSecurityGroupIds=sg-1",
                "vpcId=vpc-1",
            ],
            "vpcSubnetIds: \"0aaa1111\" is not an ID starting with \"subnet-\"",
        ),
        (
            &["vpcSecurityGroupIds=sg-1"],
            "vpcSecurityGroupIds set without vpcSubnetIds",
        ),
        (
            &["autoscalerConfigFile=no-such-file.json"],
            "autoscalerConfigFile no-such-file.json: cannot read",
        ),
        (
            &[
                "autoscalerConfigFile=autoscaler.example.json",
                "autoscalerConfig={}",
            ],
            "autoscalerConfigFile and autoscalerConfig are both set",
        ),
    ];
    for (i, (params, expected)) in cases.iter().enumerate() {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        let Some((_, ok, printed)) = run_package(&format!("bad-{i}"), &params) else {
            return;
        };
        assert!(!ok, "{params:?} was packaged:\n{printed}");
        assert!(
            printed.contains(expected),
            "{params:?}: expected {expected:?} in:\n{printed}"
        );
    }
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

#[test]
fn a_queue_name_prefix_the_cloudwatch_and_kinesis_providers_and_anticipation_grant_their_calls() {
    let file = scratch_dir("prefix-config").join("autoscaler.json");
    let document = serde_json::json!({"services": [
        {"cluster": "prod", "service": "orders", "providers": [{"type": "sqs", "queue_name_prefix": "orders-"}]},
        {"cluster": "prod", "service": "streams", "provider": {"type": "cloudwatch", "namespace": "AWS/Kinesis",
            "metric_name": "GetRecords.IteratorAgeMilliseconds", "dimensions": {"StreamName": "clicks"}}},
        {"cluster": "prod", "service": "shards", "provider": {"type": "kinesis", "stream_name": "orders"},
            "anticipation": "forecast_only"}]});
    std::fs::write(&file, document.to_string()).expect("the configuration file");
    let mut params = default_params();
    params.push(format!("autoscalerConfigFile={}", file.display()));
    // A stream the worker reads must be among the ARNs it may describe.
    let Some((_, ok, printed)) = run_package("kinesis-unlisted", &params) else {
        return;
    };
    assert!(
        !ok && printed.contains(
            "reads stream \"orders\", which stage parameter kinesisStreamArns does not list"
        ),
        "packaged without the stream's ARN:\n{printed}"
    );
    params.push(format!("kinesisStreamArns={STREAM_ARN}"));
    let Some(template_path) = package("prefix", &params) else {
        return;
    };
    cfn_lint_is_clean(&template_path);
    let template = load(&template_path);
    assert_eq!(template["Parameters"]["ListsQueues"]["Default"], "true");
    let all = statements(&template);
    let list = statement(&all, "WorkerRole", "ListQueuesByPrefix");
    assert_eq!(actions_of(list), ["sqs:ListQueues"]);
    assert_eq!(list["Resource"], "*");
    assert_eq!(
        dashboard_services(&template),
        ["prod/orders", "prod/streams", "prod/shards"]
    );
    // The cloudwatch provider turns on the read-only GetMetricData statement.
    assert_eq!(
        template["Parameters"]["CloudwatchProvider"]["Default"],
        "true"
    );
    let conditions = template["Conditions"]["ReadsCloudwatch"].to_string();
    assert!(conditions.contains("CloudwatchProvider"), "{conditions}");
    // Anticipation learns from CloudWatch too, and keeps its patterns under
    // forecasts/ of the state bucket, and nowhere else.
    assert_eq!(template["Parameters"]["Anticipates"]["Default"], "true");
    assert!(conditions.contains("LearnsForecasts"), "{conditions}");
    let forecasts = statement(&all, "WorkerRole", "LearnedForecasts");
    assert_eq!(actions_of(forecasts), ["s3:GetObject", "s3:PutObject"]);
    let resource = forecasts["Resource"].to_string();
    assert!(resource.contains("/forecasts/*"), "{resource}");
    // The kinesis provider: the shard count of the listed stream only.
    let shards = statement(&all, "WorkerRole", "ReadStreamShardCounts");
    assert_eq!(actions_of(shards), ["kinesis:DescribeStreamSummary"]);
    assert_eq!(
        shards["Resource"],
        serde_json::json!({"Ref": "KinesisStreamArns"})
    );
    assert_eq!(
        template["Parameters"]["KinesisStreamArns"]["Default"],
        STREAM_ARN
    );
}

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";

const GROUP_ARN: &str =
    "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/gpu-workers";

/// Auto Scaling groups get their own calls, on the listed groups only, beside
/// an ECS service's; a deployment that scales only groups grants no ECS call;
/// a group missing from `autoScalingGroupArns` stops packaging, naming it.
#[test]
fn auto_scaling_groups_are_scaled_with_their_own_least_privilege_calls() {
    let file = scratch_dir("groups-config").join("autoscaler.json");
    let queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/renders";
    let group = serde_json::json!({"target": {"type": "ec2_asg", "name": "gpu-workers"},
        "provider": {"type": "sqs", "queue_url": queue}});
    let service = serde_json::json!({"cluster": "prod", "service": "workers",
        "provider": {"type": "sqs", "queue_url": queue}});
    std::fs::write(
        &file,
        serde_json::json!({"services": [service, group]}).to_string(),
    )
    .expect("the configuration file");
    let mut params = default_params();
    params.push(format!("autoscalerConfigFile={}", file.display()));
    let Some((_, ok, printed)) = run_package("groups-unlisted", &params) else {
        return;
    };
    assert!(
        !ok && printed.contains(
            "scales Auto Scaling group \"gpu-workers\", which stage parameter autoScalingGroupArns does not list"
        ),
        "packaged without the group's ARN:\n{printed}"
    );
    let mut bad = params.clone();
    bad.push("autoScalingGroupArns=gpu-workers".into());
    let Some((_, ok, printed)) = run_package("groups-bad-arn", &bad) else {
        return;
    };
    assert!(
        !ok && printed
            .contains("autoScalingGroupArns: \"gpu-workers\" is not an Auto Scaling group ARN"),
        "packaged with a name for an ARN:\n{printed}"
    );
    params.push(format!("autoScalingGroupArns={GROUP_ARN}"));
    let Some(template_path) = package("groups", &params) else {
        return;
    };
    cfn_lint_is_clean(&template_path);
    let template = load(&template_path);
    let all = statements(&template);
    let scale = statement(&all, "WorkerRole", "ScaleConfiguredGroups");
    assert_eq!(actions_of(scale), ["autoscaling:SetDesiredCapacity"]);
    assert_eq!(
        scale["Resource"],
        serde_json::json!({"Ref": "AutoScalingGroupArns"})
    );
    assert_eq!(
        template["Parameters"]["AutoScalingGroupArns"]["Default"],
        GROUP_ARN
    );
    let describe = statement(&all, "WorkerRole", "DescribeGroups");
    assert_eq!(
        actions_of(describe),
        ["autoscaling:DescribeAutoScalingGroups"]
    );
    assert_eq!(describe["Resource"], "*");
    assert_eq!(
        dashboard_services(&template),
        ["prod/workers", "ec2_asg:gpu-workers"]
    );
    // Each scaling statement only where its kind is scaled.
    let raw = template["Resources"]["WorkerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .expect("statements")
        .clone();
    for (sid, condition) in [
        ("ScaleConfiguredServices", "ScalesServices"),
        ("ScaleConfiguredGroups", "ScalesGroups"),
        ("DescribeGroups", "ScalesGroups"),
    ] {
        let guarded = raw.iter().any(|s| {
            s.get("Fn::If")
                .is_some_and(|f| f[0] == condition && f[1]["Sid"] == sid)
        });
        assert!(guarded, "{sid} is not under {condition}");
    }
    // Only groups: no ECS ARN is needed, and none is granted.
    let only = scratch_dir("groups-only-config").join("autoscaler.json");
    std::fs::write(&only, serde_json::json!({"services": [group]}).to_string())
        .expect("the configuration file");
    let params: Vec<String> = default_params()
        .into_iter()
        .filter(|p| !p.starts_with("ecsServiceArns="))
        .chain([
            format!("autoscalerConfigFile={}", only.display()),
            format!("autoScalingGroupArns={GROUP_ARN}"),
        ])
        .collect();
    let Some(template_path) = package("groups-only", &params) else {
        return;
    };
    cfn_lint_is_clean(&template_path);
    let template = load(&template_path);
    assert_eq!(template["Parameters"]["EcsServiceArns"]["Default"], "");
    assert_eq!(dashboard_services(&template), ["ec2_asg:gpu-workers"]);
}

/// `tickShards` sets the scheduler's ticks per slot and derives the worker's
/// reserved concurrency from it; a count the interval cannot spread is refused
/// at packaging, naming the parameter.
#[test]
fn shards_set_the_schedulers_ticks_and_the_workers_concurrency() {
    let mut params = default_params();
    params.push("tickShards=11".into());
    let Some((_, ok, printed)) = run_package("shards-too-many", &params) else {
        return;
    };
    assert!(
        !ok && printed.contains("stage parameter tickShards = \"11\": expected a whole number from 1 to tickIntervalSeconds (10)"),
        "packaged 11 shards of a 10-second interval:\n{printed}"
    );
    params.pop();
    params.push("tickShards=5".into());
    let Some(template_path) = package("shards", &params) else {
        return;
    };
    let template = load(&template_path);
    let resources = &template["Resources"];
    let scheduler = &resources["SchedulerLambdaFunction"]["Properties"];
    assert_eq!(scheduler["Environment"]["Variables"]["TICK_SHARDS"], "5");
    let worker = &resources["WorkerLambdaFunction"]["Properties"];
    assert_eq!(worker["ReservedConcurrentExecutions"], 10);
}
