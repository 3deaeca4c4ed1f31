//! What can be simulated, and the strategies `simulate` compares.

use fast_autoscaler_core::forecast::Pattern;
use fast_autoscaler_core::settings::{
    AnticipationMode, PolicyKind, PolicySettings, ScaleInRelease, DEFAULT_TOLERANCE,
};

use crate::autoscaler::FastAutoscaler;
use crate::aws_predictive::AwsPredictive;
use crate::baselines::{Keda, TargetTracking, TargetTrackingMetrics};
use crate::scaler::Scaler;
use crate::trace::Trace;
use crate::workload::Workload;

/// A scaling strategy to simulate.
#[derive(Debug, Clone)]
pub enum Strategy {
    /// Fast Autoscaler with a policy, evaluated every `tick_s` seconds.
    FastAutoscaler {
        name: String,
        tick_s: usize,
        policy: Box<PolicySettings>,
    },
    /// Fast Autoscaler whose policy anticipates from a pattern given whole,
    /// every surge of the trace exactly, instead of one it learns: a bound on
    /// what a better forecaster could gain (see [`crate::foreknown`]).
    Foreknown {
        name: String,
        tick_s: usize,
        policy: Box<PolicySettings>,
        pattern: Box<Pattern>,
    },
    /// AWS target tracking on backlog per task (see [`crate::baselines`]).
    TargetTracking {
        target_per_task: f64,
        metrics: TargetTrackingMetrics,
    },
    /// KEDA's defaults: polling every 30 s, HPA desired = ceil(backlog / target),
    /// scale-in to the highest recommendation of the last 300 s.
    Keda { target_per_task: f64 },
    /// AWS predictive scaling (hourly forecasts, see [`crate::aws_predictive`])
    /// under one-minute target tracking on backlog per task.
    AwsPredictive {
        target_per_task: f64,
        /// Messages one task processes per second: the forecast's target.
        task_throughput: f64,
    },
}

impl Strategy {
    pub fn label(&self) -> String {
        match self {
            Strategy::FastAutoscaler { name, tick_s, .. }
            | Strategy::Foreknown { name, tick_s, .. } => format!("{name} {tick_s}s"),
            Strategy::TargetTracking { metrics, .. } => {
                if metrics.period_s == 60 {
                    "aws target tracking".into()
                } else {
                    format!("aws target tracking {}s", metrics.period_s)
                }
            }
            Strategy::Keda { .. } => "keda defaults".into(),
            Strategy::AwsPredictive { .. } => "aws predictive + tracking".into(),
        }
    }

    /// A fresh decider for one run of `trace`; `policy` gives the baselines
    /// their bounds.
    pub(crate) fn scaler<'a>(
        &'a self,
        policy: &'a PolicySettings,
        trace: &Trace,
    ) -> Box<dyn Scaler + 'a> {
        match self {
            Strategy::FastAutoscaler {
                tick_s,
                policy: own,
                ..
            } => Box::new(FastAutoscaler::new(own, *tick_s, trace)),
            Strategy::Foreknown {
                tick_s,
                policy: own,
                pattern,
                ..
            } => Box::new(FastAutoscaler::foreknown(own, *tick_s, trace, pattern)),
            &Strategy::TargetTracking {
                target_per_task,
                metrics,
            } => Box::new(TargetTracking::new(policy, target_per_task, metrics)),
            &Strategy::Keda { target_per_task } => Box::new(Keda::new(policy, target_per_task)),
            &Strategy::AwsPredictive {
                target_per_task,
                task_throughput,
            } => Box::new(AwsPredictive::new(
                policy,
                trace,
                task_throughput,
                target_per_task,
                TargetTrackingMetrics::ONE_MINUTE,
            )),
        }
    }
}

/// The backlog one task should carry, for the baselines that need a target.
pub fn target_per_task(policy: &PolicySettings) -> f64 {
    match policy.kind {
        PolicyKind::Step {
            tasks_per_message, ..
        } => 1.0 / tasks_per_message,
        PolicyKind::Target { messages_per_task } => messages_per_task,
        PolicyKind::Predictive {
            task_throughput,
            target_drain_s,
            ..
        } => task_throughput * target_drain_s as f64,
    }
}

/// How `simulate` names the policy it uses without a configuration.
pub const EXAMPLE_POLICY_SOURCE: &str = "built-in example policy";

/// The policy `simulate` uses when no configuration is given: the original's step
/// rule with min 1, max 200, +1 task per 100 messages above 100, scale-in below 10
/// by at most half, 120 s cooldowns.
pub fn example_policy() -> PolicySettings {
    PolicySettings {
        min_tasks: 1,
        max_tasks: 200,
        scale_out_cooldown_s: 120,
        scale_in_cooldown_s: 120,
        use_combined_messages: false,
        kind: PolicyKind::Step {
            scale_up_threshold: 100.0,
            scale_down_threshold: 10.0,
            tasks_per_message: 0.01,
            max_scale_down_factor: 0.5,
        },
        ..PolicySettings::default()
    }
}

/// The recommended configuration, derived from the one thing every workload has
/// in common, the task start-up delay S, and not from any trace:
///
/// - the predictive rule, told the tasks' throughput and S;
/// - `target_drain_seconds = S`: a task ordered for a backlog works at least as
///   long as it took to start, so its start-up is at most half its cost;
/// - `scale_in_stabilization = S`, released gradually, with no scale-in cooldown:
///   idle tasks are let go a share at a time over as long as restarting one
///   would cost (randomized ski rental across the fleet, at most e/(e − 1) ≈ 1.58
///   times the cost of knowing the future in expectation, where releasing them
///   all after S is up to twice);
/// - no scale-out cooldown and no emergency tier: the rule counts the tasks
///   already starting, so a tick never orders the same tasks twice, and it sizes
///   every order by what can still help once started.
///
/// The bounds are the example policy's.
pub fn recommended_policy(workload: Workload) -> PolicySettings {
    let startup_s = workload.startup_s as u64;
    PolicySettings {
        kind: PolicyKind::Predictive {
            task_throughput: workload.mu,
            task_startup_s: startup_s,
            target_drain_s: startup_s.max(1),
            target_utilization: 1.0,
            tolerance: DEFAULT_TOLERANCE,
        },
        emergency_backlog: None,
        scale_in_stabilization_s: startup_s,
        scale_in_release: ScaleInRelease::Gradual,
        scale_in_cooldown_s: 0,
        scale_out_cooldown_s: 0,
        ..example_policy()
    }
}

/// The recommended configuration with anticipation on (see
/// `fast_autoscaler_core::policy::modifiers::anticipation`).
pub fn anticipating_policy(workload: Workload) -> PolicySettings {
    let mut policy = recommended_policy(workload);
    policy.anticipation.mode = AnticipationMode::On;
    policy
}

/// The strategies a trace with a day or more to learn from adds: the
/// recommended configuration anticipating, and AWS predictive scaling with
/// target tracking on `policy`'s backlog per task.
pub fn periodic_strategies(
    workload: Workload,
    fast_tick_s: usize,
    policy: &PolicySettings,
) -> Vec<Strategy> {
    vec![
        fast("anticipating", fast_tick_s, &anticipating_policy(workload)),
        Strategy::AwsPredictive {
            target_per_task: target_per_task(policy),
            task_throughput: workload.mu,
        },
    ]
}

/// Whether a trace holds a day or more, history included: enough for AWS
/// predictive scaling to forecast, and for daily surges to be learned.
pub fn has_days(trace: &crate::Trace) -> bool {
    trace.history_per_minute.len() * 60 + trace.arrivals.len() >= 86_400
}

/// A Fast Autoscaler strategy.
pub fn fast(name: &str, tick_s: usize, policy: &PolicySettings) -> Strategy {
    Strategy::FastAutoscaler {
        name: name.to_string(),
        tick_s,
        policy: Box::new(policy.clone()),
    }
}

/// The emulated baselines for a policy: AWS target tracking with one-minute and
/// with 20-second metrics, and KEDA's defaults, all on the policy's backlog per task.
pub fn baseline_strategies(policy: &PolicySettings) -> Vec<Strategy> {
    let target = target_per_task(policy);
    vec![
        Strategy::TargetTracking {
            target_per_task: target,
            metrics: TargetTrackingMetrics::ONE_MINUTE,
        },
        Strategy::TargetTracking {
            target_per_task: target,
            metrics: TargetTrackingMetrics::TWENTY_SECONDS,
        },
        Strategy::Keda {
            target_per_task: target,
        },
    ]
}

/// The strategies compared for a configured policy: the policy at the original's
/// 60-second schedule (the baseline, first), the same at `fast_tick_s`, and the
/// emulated baselines.
pub fn standard_strategies(policy: &PolicySettings, fast_tick_s: usize) -> Vec<Strategy> {
    let mut strategies = vec![
        fast("fast-autoscaler", 60, policy),
        fast("fast-autoscaler", fast_tick_s, policy),
    ];
    strategies.extend(baseline_strategies(policy));
    strategies
}

/// The strategies of the default run: the original (its step rule at 60 s, the
/// baseline, first), the same rule at `fast_tick_s`, the recommended policy at
/// `fast_tick_s`, and the emulated baselines.
pub fn example_strategies(workload: Workload, fast_tick_s: usize) -> Vec<Strategy> {
    let original = example_policy();
    let mut strategies = vec![
        fast("original step", 60, &original),
        fast("step", fast_tick_s, &original),
        fast("recommended", fast_tick_s, &recommended_policy(workload)),
    ];
    strategies.extend(baseline_strategies(&original));
    strategies
}
