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
    /// Whether the queue reports how many messages were consumed, as ActiveMQ and
    /// RabbitMQ do and SQS does not. With it the predictive policy measures the
    /// tasks' real throughput instead of trusting `task_throughput`.
    pub consumption_counter: bool,
}

/// A scaling strategy to simulate.
#[derive(Debug, Clone)]
pub enum Strategy {
    /// Fast Autoscaler with a policy, evaluated every `tick_s` seconds.
    FastAutoscaler {
        name: String,
        tick_s: usize,
        policy: Box<PolicySettings>,
    },
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
            Strategy::FastAutoscaler { name, tick_s, .. } => format!("{name} {tick_s}s"),
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
    last_scale_out_s: Option<usize>,
    /// Fast Autoscaler: the policy's memory, as the worker keeps it in S3.
    memory: policy::Memory,
    /// Target tracking: consecutive one-minute datapoints above / below target.
    above: u32,
    below: u32,
    /// KEDA: recent (time, recommendation) for the stabilization window.
    recent: VecDeque<(usize, u32)>,
}

impl Decider<'_> {
    fn interval_s(&self) -> usize {
        match self.strategy {
            Strategy::FastAutoscaler { tick_s, .. } => (*tick_s).max(1),
            Strategy::TargetTracking { .. } => 60,
            Strategy::Keda { .. } => 30,
        }
    }

    /// The new desired count at `now` for a backlog, or `None` to stay.
    fn decide(
        &mut self,
        now: usize,
        backlog: f64,
        busy: f64,
        current: u32,
        running: u32,
        dequeued: Option<u64>,
    ) -> Option<u32> {
        let (min, max) = (self.policy.min_tasks, self.policy.max_tasks);
        match self.strategy {
            Strategy::FastAutoscaler { policy: own, .. } => {
                // A busy task holds one message in flight, as SQS would report it.
                let metrics = QueueMetrics {
                    visible: backlog as u64,
                    in_flight: busy.ceil() as u64,
                    delayed: 0,
                    dequeued_total: dequeued,
                };
                let observed = policy::Observation {
                    metrics: Ok(&metrics),
                    current,
                    running,
                    now_ms: now as u64 * 1000,
                };
                let (proposed, memory) =
                    policy::recommend_with_memory(own, &observed, &self.memory);
                self.memory = memory;
                if !proposed.action.changes_count() {
                    return None;
                }
                let history = History::Known {
                    last_action_ms: self.last_action_s.map(|s| s as u64 * 1000),
                    last_scale_out_ms: self.last_scale_out_s.map(|s| s as u64 * 1000),
                };
                let decided =
                    policy::apply_cooldown(own, proposed, history, now as u64 * 1000, current);
                (decided.action == Action::ScaleOut || decided.action == Action::ScaleIn)
                    .then_some(decided.new_desired)
            }
            &Strategy::TargetTracking { target_per_task } => {
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
            &Strategy::Keda { target_per_task } => {
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
        last_scale_out_s: None,
        memory: policy::Memory::default(),
        above: 0,
        below: 0,
        recent: VecDeque::new(),
    };
    let interval = decider.interval_s();
    let (mut max_backlog, mut task_seconds, mut actions) = (backlog, 0.0, 0u64);
    let mut first_scale_out_s = None;
    let mut series = Vec::new();
    let mut consumed = 0.0;

    for (now, arrivals) in trace.arrivals.iter().enumerate() {
        if *arrivals > 0.0 {
            queue.push_back((now, *arrivals));
            backlog += arrivals;
        }
        // Running tasks work through the queue in arrival order.
        let full_capacity = tasks.running(now) as f64 * workload.mu;
        let mut capacity = full_capacity;
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
        consumed += full_capacity - capacity;
        let busy = (full_capacity - capacity) / workload.mu;
        max_backlog = f64::max(max_backlog, backlog);

        if now % interval == 0 {
            let current = tasks.count();
            let running = tasks.running(now) as u32;
            let dequeued = workload.consumption_counter.then_some(consumed as u64);
            if let Some(desired) = decider.decide(now, backlog, busy, current, running, dequeued) {
                if desired > current
                    && trace.surge_start_s.is_some_and(|s| now >= s)
                    && first_scale_out_s.is_none()
                {
                    first_scale_out_s = trace.surge_start_s.map(|s| (now - s) as f64);
                }
                tasks.set(desired, now, workload.startup_s);
                decider.last_action_s = Some(now);
                if desired > current {
                    decider.last_scale_out_s = Some(now);
                }
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

/// The example policy's bounds with this product's additions, as the README
/// recommends them: the predictive mode (told the workload's throughput and
/// start-up delay, draining within 60 s), an emergency tier at 500 messages, and a
/// 120-second scale-in stabilization window, which takes over from a long scale-in
/// cooldown (60 s here instead of 120 s).
pub fn recommended_policy(workload: Workload) -> PolicySettings {
    PolicySettings {
        kind: PolicyKind::Predictive {
            task_throughput: workload.mu,
            task_startup_s: workload.startup_s as u64,
            target_drain_s: 60,
        },
        emergency_backlog: Some(500),
        scale_in_stabilization_s: 120,
        scale_in_cooldown_s: 60,
        ..example_policy()
    }
}

/// A Fast Autoscaler strategy.
pub fn fast(name: &str, tick_s: usize, policy: &PolicySettings) -> Strategy {
    Strategy::FastAutoscaler {
        name: name.to_string(),
        tick_s,
        policy: Box::new(policy.clone()),
    }
}

/// The strategies compared for a configured policy: the policy at the original's
/// 60-second schedule (the baseline, first), the same at `fast_tick_s`, and the two
/// emulated baselines.
pub fn standard_strategies(policy: &PolicySettings, fast_tick_s: usize) -> Vec<Strategy> {
    let target = target_per_task(policy);
    vec![
        fast("fast-autoscaler", 60, policy),
        fast("fast-autoscaler", fast_tick_s, policy),
        Strategy::TargetTracking {
            target_per_task: target,
        },
        Strategy::Keda {
            target_per_task: target,
        },
    ]
}

/// The strategies of the default run: the original (its step rule at 60 s, the
/// baseline, first), the same rule at `fast_tick_s`, the recommended policy at
/// `fast_tick_s`, and the two emulated baselines.
pub fn example_strategies(workload: Workload, fast_tick_s: usize) -> Vec<Strategy> {
    let original = example_policy();
    let target = target_per_task(&original);
    vec![
        fast("original step", 60, &original),
        fast("step", fast_tick_s, &original),
        fast("recommended", fast_tick_s, &recommended_policy(workload)),
        Strategy::TargetTracking {
            target_per_task: target,
        },
        Strategy::Keda {
            target_per_task: target,
        },
    ]
}

/// The comparison table: one row per strategy, with ratios against the first
/// (the 60-second baseline) and the p99 ratio against emulated target tracking.
pub fn comparison_table(outcomes: &[Outcome]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.2}", a / b)
        } else {
            "-".into()
        }
    };
    let baseline = outcomes.first();
    let tracking = outcomes
        .iter()
        .find(|o| o.strategy == "aws target tracking");
    let _ = writeln!(
        out,
        "{:<22} {:>6} {:>6} {:>6} {:>8} {:>9} {:>8} {:>7} | vs {:<16} {:>5} {:>5} {:>5} | p99 vs tt",
        "strategy",
        "p50 s",
        "p95 s",
        "p99 s",
        "backlog",
        "1st out",
        "task-h",
        "actions",
        baseline.map_or("", |b| b.strategy.as_str()),
        "p99",
        "cost",
        "churn",
    );
    for o in outcomes {
        let (p99, cost, churn) = baseline.map_or_else(
            || ("-".into(), "-".into(), "-".into()),
            |b| {
                (
                    ratio(o.p99_wait_s, b.p99_wait_s),
                    ratio(o.task_seconds, b.task_seconds),
                    ratio(o.scaling_actions as f64, b.scaling_actions as f64),
                )
            },
        );
        let _ = writeln!(
            out,
            "{:<22} {:>6.0} {:>6.0} {:>6.0} {:>8.0} {:>9} {:>8.1} {:>7} | {:<19} {:>5} {:>5} {:>5} | {:>9}",
            o.strategy,
            o.p50_wait_s,
            o.p95_wait_s,
            o.p99_wait_s,
            o.max_backlog,
            o.first_scale_out_s.map_or("-".into(), |s| format!("{s:.0} s")),
            o.task_seconds / 3600.0,
            o.scaling_actions,
            "",
            p99,
            cost,
            churn,
            tracking.map_or("-".into(), |t| ratio(o.p99_wait_s, t.p99_wait_s)),
        );
    }
    out
}

/// An SVG chart of backlog (top) and task count (bottom) over time, one line per
/// strategy. Hand-written SVG: a few polylines need no plotting library.
pub fn svg_chart(trace: &Trace, outcomes: &[Outcome]) -> String {
    use std::fmt::Write;
    const COLOURS: [&str; 6] = [
        "#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e",
    ];
    let (width, panel, left, top, gap) = (900.0, 220.0, 70.0, 40.0, 50.0);
    let plot_w = width - left - 20.0;
    let duration = trace.arrivals.len().max(1) as f64;
    let max_backlog = outcomes
        .iter()
        .flat_map(|o| o.series.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let max_tasks = outcomes
        .iter()
        .flat_map(|o| o.series.iter().map(|p| f64::from(p.2)))
        .fold(1.0, f64::max);
    let height = top + 2.0 * panel + gap + 40.0 + 18.0 * outcomes.len() as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{left}" y="22" font-size="15">Trace "{}": backlog (messages) and tasks over {:.1} h</text>"#,
        trace.name,
        duration / 3600.0
    );
    for (i, (label, max)) in [("backlog", max_backlog), ("tasks", max_tasks)]
        .into_iter()
        .enumerate()
    {
        let y0 = top + i as f64 * (panel + gap);
        let _ = writeln!(
            svg,
            r##"<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel}" fill="none" stroke="#ccc"/><text x="{}" y="{}" text-anchor="end">{max:.0}</text><text x="{}" y="{}" text-anchor="end">0</text><text x="{}" y="{}" transform="rotate(-90 {} {})" text-anchor="middle">{label}</text>"##,
            left - 4.0,
            y0 + 10.0,
            left - 4.0,
            y0 + panel,
            left - 45.0,
            y0 + panel / 2.0,
            left - 45.0,
            y0 + panel / 2.0,
        );
        for (n, o) in outcomes.iter().enumerate() {
            let points: Vec<String> = o
                .series
                .iter()
                .map(|&(t, backlog, tasks)| {
                    let value = if i == 0 { backlog } else { f64::from(tasks) };
                    format!(
                        "{:.1},{:.1}",
                        left + plot_w * t as f64 / duration,
                        y0 + panel - panel * value / max
                    )
                })
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
                COLOURS[n % COLOURS.len()],
                points.join(" ")
            );
        }
    }
    let axis_y = top + 2.0 * panel + gap + 14.0;
    let _ = writeln!(
        svg,
        r#"<text x="{left}" y="{axis_y}">0 h</text><text x="{}" y="{axis_y}" text-anchor="end">{:.1} h</text>"#,
        left + plot_w,
        duration / 3600.0
    );
    for (n, o) in outcomes.iter().enumerate() {
        let y = axis_y + 20.0 + 18.0 * n as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="3"/><text x="{}" y="{y}">{}: p99 wait {:.0} s, {:.1} task-hours, {} actions</text>"#,
            y - 4.0,
            left + 24.0,
            y - 4.0,
            COLOURS[n % COLOURS.len()],
            left + 30.0,
            o.strategy,
            o.p99_wait_s,
            o.task_seconds / 3600.0,
            o.scaling_actions
        );
    }
    svg.push_str("</svg>\n");
    svg
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
        consumption_counter: false,
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
            &fast("recommended", 10, &recommended_policy(WORKLOAD)),
        );
        assert!(
            outcome.first_scale_out_s.is_some_and(|s| s <= 10.0),
            "{outcome:?}"
        );
        assert!(outcome.p99_wait_s >= outcome.p50_wait_s);
        assert!(outcome.max_backlog > 0.0 && outcome.task_seconds >= 7200.0);
    }

    /// The predictive policy configured with half the tasks' real throughput: on a
    /// queue without a consumption counter it over-provisions, and on one with a
    /// counter it measures the real throughput and comes close to a correct
    /// configuration.
    #[test]
    fn a_consumption_counter_corrects_a_misconfigured_throughput() {
        let counted = Workload {
            consumption_counter: true,
            ..WORKLOAD
        };
        let correct = fast("recommended", 10, &recommended_policy(WORKLOAD));
        let halved = fast(
            "recommended",
            10,
            &recommended_policy(Workload {
                mu: WORKLOAD.mu / 2.0,
                ..WORKLOAD
            }),
        );
        // Bursts saturate the queue, where a wrong throughput matters most.
        for name in ["bursty", "spike"] {
            let trace = Trace::built_in(name, 7200).unwrap();
            let reference = run(&trace, WORKLOAD, &policy(), &correct);
            let blind = run(&trace, WORKLOAD, &policy(), &halved);
            let measured = run(&trace, counted, &policy(), &halved);
            assert!(
                blind.task_seconds > 1.25 * reference.task_seconds,
                "{name}: a halved throughput over-provisions: {blind:?} vs {reference:?}"
            );
            assert!(
                measured.task_seconds < 1.15 * reference.task_seconds,
                "{name}: measuring corrects it: {measured:?} vs {reference:?}"
            );
            assert!(
                measured.p99_wait_s <= reference.p99_wait_s * 1.1 + 5.0,
                "{name}: without waiting longer: {measured:?} vs {reference:?}"
            );
        }
    }

    #[test]
    fn faster_ticks_answer_a_surge_sooner_than_the_original_schedule() {
        let trace = Trace::built_in("spike", 7200).unwrap();
        let quick = run(
            &trace,
            WORKLOAD,
            &policy(),
            &fast("fast-autoscaler", 10, &policy()),
        );
        let slow = run(
            &trace,
            WORKLOAD,
            &policy(),
            &fast("fast-autoscaler", 60, &policy()),
        );
        assert!(quick.max_backlog <= slow.max_backlog, "{quick:?} {slow:?}");
        // The recommended policy at 10 s beats the original at 60 s on the spike.
        let recommended = run(
            &trace,
            WORKLOAD,
            &policy(),
            &fast("recommended", 10, &recommended_policy(WORKLOAD)),
        );
        assert!(
            recommended.p99_wait_s < slow.p99_wait_s / 2.0,
            "{recommended:?} {slow:?}"
        );
        assert!(recommended.task_seconds <= slow.task_seconds * 1.1);
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
