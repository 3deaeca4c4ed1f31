//! A discrete-event simulator of a queue, its workers and an autoscaler.
//!
//! One-second steps: messages arrive from a trace, each running task processes
//! `mu` messages a second in arrival order, a new task starts working
//! `startup_s` seconds after it is requested (Fargate takes ~45 s), and a
//! scale-in stops tasks at once (pending ones first). The autoscaler observes the
//! backlog only at its own tick times.
//!
//! Fast Autoscaler's strategies run the worker's own [`policy::recommend`] and
//! [`policy::apply_cooldown`] — the same code, configuration and cooldown logic
//! as the Lambda — so the figures are about this product, not a copy of it. The
//! baselines model AWS target tracking and KEDA from their documented defaults.
//!
//! No I/O: a trace in, figures out.

use std::collections::VecDeque;

use fast_autoscaler_providers::QueueMetrics;
use serde::Serialize;

use crate::config::{PolicyKind, PolicySettings};
use crate::policy::{self, Action, History};

/// Messages arriving each second.
#[derive(Debug, Clone)]
pub struct Trace {
    pub name: String,
    pub arrivals: Vec<f64>,
    /// Messages already waiting at t = 0.
    pub initial_backlog: f64,
    /// When the surge the trace is about begins, if it has one.
    pub surge_start_s: Option<usize>,
}

/// The built-in trace names.
pub const BUILT_IN_TRACES: [&str; 5] = ["spike", "ramp", "diurnal", "bursty", "drain"];

/// A small deterministic generator (xorshift64*), so traces repeat exactly.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson draw (Knuth for small means, normal approximation above).
    fn poisson(&mut self, mean: f64) -> f64 {
        if mean > 30.0 {
            let u1 = self.next_f64().max(f64::MIN_POSITIVE);
            let u2 = self.next_f64();
            let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            return (mean + normal * mean.sqrt()).round().max(0.0);
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0.0, 1.0);
        loop {
            p *= self.next_f64();
            if p <= limit {
                return k;
            }
            k += 1.0;
        }
    }
}

impl Trace {
    /// A built-in trace over `duration_s` seconds.
    pub fn built_in(name: &str, duration_s: usize) -> Result<Trace, String> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut surge_start_s = None;
        let mut initial_backlog = 0.0;
        let arrivals: Vec<f64> = match name {
            // Quiet, then 25× the load for ten minutes.
            "spike" => {
                let start = duration_s / 4;
                surge_start_s = Some(start);
                (0..duration_s)
                    .map(|t| {
                        if (start..start + 600).contains(&t) {
                            50.0
                        } else {
                            2.0
                        }
                    })
                    .collect()
            }
            // Load climbs steadily to 40/s over the first half, then falls back.
            "ramp" => {
                surge_start_s = Some(0);
                let half = (duration_s / 2).max(1) as f64;
                (0..duration_s)
                    .map(|t| 40.0 * (1.0 - (t as f64 - half).abs() / half))
                    .collect()
            }
            // A day's cycle between 5/s and 40/s.
            "diurnal" => (0..duration_s)
                .map(|t| 22.5 - 17.5 * (std::f64::consts::TAU * t as f64 / 86_400.0).cos())
                .collect(),
            // Poisson at 5/s with two-minute bursts at 60/s every twenty minutes.
            "bursty" => {
                surge_start_s = Some(600);
                (0..duration_s)
                    .map(|t| {
                        let mean = if t >= 600 && (t - 600) % 1200 < 120 {
                            60.0
                        } else {
                            5.0
                        };
                        rng.poisson(mean)
                    })
                    .collect()
            }
            // A backlog of 20,000 and nothing more: how fast is it drained?
            "drain" => {
                surge_start_s = Some(0);
                initial_backlog = 20_000.0;
                vec![0.0; duration_s]
            }
            other => {
                return Err(format!(
                    "--trace {other:?}: expected one of {} or a CSV file of timestamp,arrivals",
                    BUILT_IN_TRACES.join(", ")
                ))
            }
        };
        Ok(Trace {
            name: name.to_string(),
            arrivals,
            initial_backlog,
            surge_start_s,
        })
    }

    /// A `timestamp,arrivals` CSV (a header line is allowed). Timestamps are seconds
    /// (or any increasing numbers); rows further apart than one second spread their
    /// arrivals evenly over the gap, as a one-minute CloudWatch export needs.
    pub fn from_csv(name: &str, text: &str) -> Result<Trace, String> {
        let mut rows: Vec<(f64, f64)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            let is_header = n == 0
                && line
                    .split(',')
                    .next()
                    .is_some_and(|f| f.trim().parse::<f64>().is_err());
            if line.is_empty() || is_header {
                continue;
            }
            let mut fields = line.split(',').map(str::trim);
            let parse = |field: Option<&str>, what: &str| -> Result<f64, String> {
                let text = field.unwrap_or("");
                text.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| {
                        format!("{name} line {}: {what} {text:?} is not a number ≥ 0", n + 1)
                    })
            };
            let t = parse(fields.next(), "timestamp")?;
            let a = parse(fields.next(), "arrivals")?;
            if let Some(&(previous, _)) = rows.last() {
                if t <= previous {
                    return Err(format!(
                        "{name} line {}: timestamp {t} is not after {previous}",
                        n + 1
                    ));
                }
            }
            rows.push((t, a));
        }
        if rows.len() < 2 {
            return Err(format!(
                "{name}: at least two rows of timestamp,arrivals are needed"
            ));
        }
        let mut arrivals = Vec::new();
        for pair in rows.windows(2) {
            let gap = ((pair[1].0 - pair[0].0).round() as usize).max(1);
            arrivals.extend(std::iter::repeat_n(pair[0].1 / gap as f64, gap));
        }
        Ok(Trace {
            name: name.to_string(),
            arrivals,
            initial_backlog: 0.0,
            surge_start_s: None,
        })
    }
}

/// How tasks behave.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Messages one task processes per second.
    pub mu: f64,
    /// Seconds from a task being requested to it processing messages.
    pub startup_s: usize,
}

/// A scaling strategy to simulate.
#[derive(Debug, Clone)]
pub enum Strategy {
    /// Fast Autoscaler's policy, evaluated every `tick_s` seconds.
    FastAutoscaler { tick_s: usize },
    /// AWS target tracking on backlog per task, from one-minute datapoints: scale
    /// out after 3 of 3 datapoints above target, in after 15 of 15 below, with
    /// 300-second cooldowns.
    TargetTracking { target_per_task: f64 },
    /// KEDA's defaults: polling every 30 s, HPA desired = ceil(backlog / target),
    /// scale-in to the highest recommendation of the last 300 s.
    Keda { target_per_task: f64 },
}

impl Strategy {
    pub fn label(&self) -> String {
        match self {
            Strategy::FastAutoscaler { tick_s } => format!("fast-autoscaler {tick_s}s"),
            Strategy::TargetTracking { .. } => "aws target tracking".into(),
            Strategy::Keda { .. } => "keda defaults".into(),
        }
    }
}

/// The figures of one simulated run.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub strategy: String,
    pub p50_wait_s: f64,
    pub p95_wait_s: f64,
    pub p99_wait_s: f64,
    pub max_backlog: f64,
    /// Seconds from the trace's surge start to the first scale-out.
    pub first_scale_out_s: Option<f64>,
    /// Task-seconds paid for (pending and running): the cost.
    pub task_seconds: f64,
    /// Changes of the desired count: the churn.
    pub scaling_actions: u64,
    /// Samples for a chart: (time s, backlog, tasks), one a minute.
    #[serde(skip)]
    pub series: Vec<(usize, f64, u32)>,
}

/// Message waits in one-second buckets; the last bucket holds everything longer.
struct WaitHistogram {
    buckets: Vec<f64>,
    total: f64,
}

impl WaitHistogram {
    const LIMIT_S: usize = 6 * 3600;

    fn new() -> Self {
        WaitHistogram {
            buckets: vec![0.0; Self::LIMIT_S + 1],
            total: 0.0,
        }
    }

    fn record(&mut self, wait_s: usize, count: f64) {
        self.buckets[wait_s.min(Self::LIMIT_S)] += count;
        self.total += count;
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.total <= 0.0 {
            return 0.0;
        }
        let wanted = self.total * p / 100.0;
        let mut seen = 0.0;
        for (wait, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                return wait as f64;
            }
        }
        Self::LIMIT_S as f64
    }
}

/// The tasks of the simulated service: when each requested task starts working.
struct Tasks {
    /// Ready times of tasks, oldest first; a task is running once its time has come.
    ready_at: VecDeque<usize>,
}

impl Tasks {
    fn count(&self) -> u32 {
        self.ready_at.len() as u32
    }

    /// Ready times are pushed in non-decreasing order and removed from the back,
    /// so the running ones are a prefix.
    fn running(&self, now: usize) -> usize {
        self.ready_at.partition_point(|r| *r <= now)
    }

    fn set(&mut self, desired: u32, now: usize, startup_s: usize) {
        while self.count() < desired {
            self.ready_at.push_back(now + startup_s);
        }
        // Stop pending tasks first (the newest), then running ones.
        while self.count() > desired {
            self.ready_at.pop_back();
        }
    }
}

/// Per-strategy decision state.
struct Decider<'a> {
    strategy: &'a Strategy,
    policy: &'a PolicySettings,
    last_action_s: Option<usize>,
    /// Target tracking: consecutive one-minute datapoints above / below target.
    above: u32,
    below: u32,
    /// KEDA: recent (time, recommendation) for the stabilization window.
    recent: VecDeque<(usize, u32)>,
}

impl Decider<'_> {
    fn interval_s(&self) -> usize {
        match self.strategy {
            Strategy::FastAutoscaler { tick_s } => (*tick_s).max(1),
            Strategy::TargetTracking { .. } => 60,
            Strategy::Keda { .. } => 30,
        }
    }

    /// The new desired count at `now` for a backlog, or `None` to stay.
    fn decide(&mut self, now: usize, backlog: f64, current: u32) -> Option<u32> {
        let (min, max) = (self.policy.min_tasks, self.policy.max_tasks);
        match *self.strategy {
            Strategy::FastAutoscaler { .. } => {
                let metrics = QueueMetrics {
                    visible: backlog as u64,
                    in_flight: 0,
                    delayed: 0,
                };
                let proposed = policy::recommend(self.policy, Ok(&metrics), current);
                if !proposed.action.changes_count() {
                    return None;
                }
                let history = History::Known {
                    last_action_ms: self.last_action_s.map(|s| s as u64 * 1000),
                };
                let decided = policy::apply_cooldown(
                    self.policy,
                    proposed,
                    history,
                    now as u64 * 1000,
                    current,
                );
                (decided.action == Action::ScaleOut || decided.action == Action::ScaleIn)
                    .then_some(decided.new_desired)
            }
            Strategy::TargetTracking { target_per_task } => {
                let per_task = backlog / f64::from(current.max(1));
                if per_task > target_per_task {
                    self.above += 1;
                    self.below = 0;
                } else if per_task < target_per_task {
                    self.below += 1;
                    self.above = 0;
                } else {
                    (self.above, self.below) = (0, 0);
                }
                let cooled = self.last_action_s.is_none_or(|last| now >= last + 300);
                let wanted = ((backlog / target_per_task).ceil() as u32).clamp(min, max);
                if self.above >= 3 && cooled && wanted > current {
                    return Some(wanted);
                }
                if self.below >= 15 && cooled && wanted < current {
                    return Some(wanted);
                }
                None
            }
            Strategy::Keda { target_per_task } => {
                let wanted = ((backlog / target_per_task).ceil() as u32).clamp(min, max);
                self.recent.push_back((now, wanted));
                while self.recent.front().is_some_and(|(t, _)| *t + 300 < now) {
                    self.recent.pop_front();
                }
                let stabilized = self.recent.iter().map(|(_, w)| *w).max().unwrap_or(wanted);
                let next = if wanted > current {
                    wanted
                } else {
                    stabilized.min(current)
                };
                (next != current).then_some(next)
            }
        }
    }
}

/// Runs one strategy over a trace.
pub fn run(
    trace: &Trace,
    workload: Workload,
    policy: &PolicySettings,
    strategy: &Strategy,
) -> Outcome {
    let mut queue: VecDeque<(usize, f64)> = VecDeque::new();
    if trace.initial_backlog > 0.0 {
        queue.push_back((0, trace.initial_backlog));
    }
    let mut backlog = trace.initial_backlog;
    let mut tasks = Tasks {
        ready_at: VecDeque::new(),
    };
    tasks.set(policy.min_tasks, 0, 0);
    let mut waits = WaitHistogram::new();
    let mut decider = Decider {
        strategy,
        policy,
        last_action_s: None,
        above: 0,
        below: 0,
        recent: VecDeque::new(),
    };
    let interval = decider.interval_s();
    let (mut max_backlog, mut task_seconds, mut actions) = (backlog, 0.0, 0u64);
    let mut first_scale_out_s = None;
    let mut series = Vec::new();

    for (now, arrivals) in trace.arrivals.iter().enumerate() {
        if *arrivals > 0.0 {
            queue.push_back((now, *arrivals));
            backlog += arrivals;
        }
        // Running tasks work through the queue in arrival order.
        let mut capacity = tasks.running(now) as f64 * workload.mu;
        while capacity > 0.0 {
            let Some(front) = queue.front_mut() else {
                break;
            };
            let taken = front.1.min(capacity);
            waits.record(now - front.0, taken);
            front.1 -= taken;
            capacity -= taken;
            backlog -= taken;
            if front.1 <= 1e-9 {
                queue.pop_front();
            }
        }
        backlog = backlog.max(0.0);
        max_backlog = f64::max(max_backlog, backlog);

        if now % interval == 0 {
            let current = tasks.count();
            if let Some(desired) = decider.decide(now, backlog, current) {
                if desired > current
                    && trace.surge_start_s.is_some_and(|s| now >= s)
                    && first_scale_out_s.is_none()
                {
                    first_scale_out_s = trace.surge_start_s.map(|s| (now - s) as f64);
                }
                tasks.set(desired, now, workload.startup_s);
                decider.last_action_s = Some(now);
                actions += 1;
            }
        }
        task_seconds += f64::from(tasks.count());
        if now % 60 == 0 {
            series.push((now, backlog, tasks.count()));
        }
    }
    // Messages still queued at the end wait at least until then.
    let end = trace.arrivals.len();
    for (arrived, count) in queue {
        waits.record(end.saturating_sub(arrived), count);
    }
    Outcome {
        strategy: strategy.label(),
        p50_wait_s: waits.percentile(50.0),
        p95_wait_s: waits.percentile(95.0),
        p99_wait_s: waits.percentile(99.0),
        max_backlog,
        first_scale_out_s,
        task_seconds,
        scaling_actions: actions,
        series,
    }
}

/// The backlog one task should carry, for the baselines that need a target.
pub fn target_per_task(policy: &PolicySettings) -> f64 {
    match policy.kind {
        PolicyKind::Step {
            tasks_per_message, ..
        } => 1.0 / tasks_per_message,
        PolicyKind::Target { messages_per_task } => messages_per_task,
    }
}

/// The policy `simulate` uses when no configuration is given: the original's step
/// rule with min 1, max 200, +1 task per 100 messages above 100, scale-in below 10
/// by at most half, 120 s cooldown.
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
    }
}

/// The four strategies compared in one run.
pub fn standard_strategies(policy: &PolicySettings, fast_tick_s: usize) -> Vec<Strategy> {
    let target = target_per_task(policy);
    vec![
        Strategy::FastAutoscaler {
            tick_s: fast_tick_s,
        },
        Strategy::FastAutoscaler { tick_s: 60 },
        Strategy::TargetTracking {
            target_per_task: target,
        },
        Strategy::Keda {
            target_per_task: target,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PolicySettings {
        example_policy()
    }

    const WORKLOAD: Workload = Workload {
        mu: 1.0,
        startup_s: 45,
    };

    #[test]
    fn built_in_traces_exist_and_unknown_names_list_them() {
        for name in BUILT_IN_TRACES {
            assert_eq!(
                Trace::built_in(name, 3600).expect(name).arrivals.len(),
                3600
            );
        }
        let err = Trace::built_in("tsunami", 10).unwrap_err();
        assert!(BUILT_IN_TRACES.iter().all(|n| err.contains(n)), "{err}");
    }

    #[test]
    fn csv_traces_spread_minutes_and_reject_garbage() {
        let trace = Trace::from_csv("t.csv", "timestamp,arrivals\n0,60\n60,120\n120,0\n").unwrap();
        assert_eq!(trace.arrivals.len(), 120);
        assert!((trace.arrivals.iter().sum::<f64>() - 180.0).abs() < 1e-9);
        for (bad, needle) in [
            ("0,1\n0,2\n", "not after"),
            ("0,x\n1,2\n", "arrivals \"x\""),
            ("0,1\n", "two rows"),
            ("0,-3\n1,1\n", "≥ 0"),
        ] {
            let err = Trace::from_csv("t.csv", bad).unwrap_err();
            assert!(err.contains(needle), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_simulation_conserves_messages_and_scales_on_a_spike() {
        let trace = Trace::built_in("spike", 7200).unwrap();
        let outcome = run(
            &trace,
            WORKLOAD,
            &policy(),
            &Strategy::FastAutoscaler { tick_s: 10 },
        );
        // Waits are recorded for every message, processed or not.
        assert!(
            outcome.first_scale_out_s.is_some_and(|s| s <= 10.0),
            "{outcome:?}"
        );
        assert!(outcome.p99_wait_s >= outcome.p50_wait_s);
        assert!(outcome.max_backlog > 0.0 && outcome.task_seconds >= 7200.0);
    }

    #[test]
    fn faster_ticks_answer_a_surge_sooner_than_the_original_schedule() {
        let trace = Trace::built_in("spike", 7200).unwrap();
        let fast = run(
            &trace,
            WORKLOAD,
            &policy(),
            &Strategy::FastAutoscaler { tick_s: 10 },
        );
        let slow = run(
            &trace,
            WORKLOAD,
            &policy(),
            &Strategy::FastAutoscaler { tick_s: 60 },
        );
        assert!(
            fast.first_scale_out_s <= slow.first_scale_out_s,
            "{fast:?} {slow:?}"
        );
        assert!(fast.max_backlog <= slow.max_backlog, "{fast:?} {slow:?}");
    }

    #[test]
    fn the_drain_trace_is_worked_off() {
        let trace = Trace::built_in("drain", 7200).unwrap();
        for strategy in standard_strategies(&policy(), 10) {
            let outcome = run(&trace, WORKLOAD, &policy(), &strategy);
            assert!(
                outcome
                    .series
                    .last()
                    .is_some_and(|(_, backlog, _)| *backlog < 1.0),
                "{outcome:?}"
            );
        }
    }
}
