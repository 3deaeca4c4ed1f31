//! The simulation loop: one-second steps of arrivals, work and scaling decisions,
//! and the figures of a run.

use std::collections::VecDeque;

use fast_autoscaler_core::settings::PolicySettings;
use serde::Serialize;

use crate::age_metric::AgeMetric;
use crate::scaler::Seen;

use crate::elasticity::{demand, elasticity, Elasticity};
use crate::strategy::Strategy;
use crate::trace::Trace;
use crate::workload::Workload;

/// The figures of one simulated run.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub strategy: String,
    pub p50_wait_s: f64,
    pub p95_wait_s: f64,
    pub p99_wait_s: f64,
    /// The longest wait (messages still queued at the end count until then).
    pub max_wait_s: f64,
    pub max_backlog: f64,
    /// Seconds from the trace's surge start to the first scale-out.
    pub first_scale_out_s: Option<f64>,
    /// Task-seconds paid for (pending and running): the cost.
    pub task_seconds: f64,
    /// Changes of the desired count: the churn.
    pub scaling_actions: u64,
    /// The SPEC elasticity metrics of running tasks against demand.
    pub elasticity: Elasticity,
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

    fn max(&self) -> f64 {
        self.buckets
            .iter()
            .rposition(|count| *count > 0.0)
            .map_or(0.0, |wait| wait as f64)
    }
}

/// The tasks of the simulated service: when each requested task starts working.
#[derive(Default)]
pub(crate) struct Tasks {
    /// Ready times of tasks, oldest first; a task is running once its time has come.
    ready_at: VecDeque<usize>,
}

impl Tasks {
    pub(crate) fn count(&self) -> u32 {
        self.ready_at.len() as u32
    }

    /// Ready times are pushed in non-decreasing order and removed from the back,
    /// so the running ones are a prefix.
    pub(crate) fn running(&self, now: usize) -> usize {
        self.ready_at.partition_point(|r| *r <= now)
    }

    pub(crate) fn set(&mut self, desired: u32, now: usize, startup_s: usize) {
        while self.count() < desired {
            self.ready_at.push_back(now + startup_s);
        }
        // Stop pending tasks first (the newest), then running ones.
        while self.count() > desired {
            self.ready_at.pop_back();
        }
    }
}

/// The queue: messages waiting in arrival order, and how long the served ones waited.
pub(crate) struct Queue {
    /// (arrival second, messages) in arrival order.
    fifo: VecDeque<(usize, f64)>,
    pub(crate) backlog: f64,
    /// Messages consumed so far.
    pub(crate) consumed: f64,
    waits: WaitHistogram,
}

impl Queue {
    pub(crate) fn new(initial_backlog: f64) -> Self {
        let mut queue = Queue {
            fifo: VecDeque::new(),
            backlog: 0.0,
            consumed: 0.0,
            waits: WaitHistogram::new(),
        };
        queue.arrive(0, initial_backlog);
        queue
    }

    pub(crate) fn arrive(&mut self, now: usize, messages: f64) {
        if messages > 0.0 {
            self.fifo.push_back((now, messages));
            self.backlog += messages;
        }
    }

    /// Works off up to `capacity` messages, oldest first; answers how many.
    pub(crate) fn work(&mut self, now: usize, capacity: f64) -> f64 {
        let mut left = capacity;
        while left > 0.0 {
            let Some(front) = self.fifo.front_mut() else {
                break;
            };
            let taken = front.1.min(left);
            self.waits.record(now - front.0, taken);
            front.1 -= taken;
            left -= taken;
            self.backlog -= taken;
            if front.1 <= 1e-9 {
                self.fifo.pop_front();
            }
        }
        self.backlog = self.backlog.max(0.0);
        let worked = capacity - left;
        self.consumed += worked;
        worked
    }

    /// How long the oldest waiting message has waited at `now`.
    pub(crate) fn oldest_age(&self, now: usize) -> usize {
        self.fifo
            .front()
            .map_or(0, |(arrived, _)| now.saturating_sub(*arrived))
    }

    /// The waits, counting messages still queued at `end` as waiting until then.
    fn into_waits(mut self, end: usize) -> WaitHistogram {
        for (arrived, count) in std::mem::take(&mut self.fifo) {
            self.waits.record(end.saturating_sub(arrived), count);
        }
        self.waits
    }
}

/// Runs one strategy over a trace.
pub fn run(
    trace: &Trace,
    workload: Workload,
    policy: &PolicySettings,
    strategy: &Strategy,
) -> Outcome {
    let mut queue = Queue::new(trace.initial_backlog);
    let mut tasks = Tasks {
        ready_at: VecDeque::new(),
    };
    tasks.set(policy.min_tasks, 0, 0);
    let mut scaler = strategy.scaler(policy, trace);
    let interval = scaler.interval_s();
    let mut tally = Tally::new(queue.backlog, trace.arrivals.len());
    let mut first_scale_out_s = None;
    let mut ages = AgeMetric::default();

    for (now, arrivals) in trace.arrivals.iter().enumerate() {
        queue.arrive(now, *arrivals);
        // Running tasks work through the queue in arrival order.
        let running = tasks.running(now);
        let worked = queue.work(now, running as f64 * workload.mu);
        ages.record(now, queue.oldest_age(now));
        if now % interval == 0 {
            let seen = Seen {
                now_s: now,
                backlog: queue.backlog,
                busy: worked / workload.mu,
                current: tasks.count(),
                running: running as u32,
                dequeued: workload
                    .consumption_counter
                    .then_some(queue.consumed as u64),
                oldest_message: ages.newest(now),
            };
            if let Some(desired) = scaler.decide(&seen) {
                let surge_started = trace.surge_start_s.filter(|s| now >= *s);
                if desired > seen.current && first_scale_out_s.is_none() {
                    first_scale_out_s = surge_started.map(|s| (now - s) as f64);
                }
                tasks.set(desired, now, workload.startup_s);
                tally.actions += 1;
            }
        }
        tally.second(now, queue.backlog, running as u32, tasks.count());
    }
    let task_seconds = tally.paid;
    Outcome {
        first_scale_out_s,
        ..tally.outcome(strategy.label(), queue, trace, workload, task_seconds)
    }
}

/// The figures of a fixed plan of running tasks, one count per second, as the
/// oracle makes one: its waits through the same queue, and its cost (running
/// task-seconds plus `startup_s` for every task started).
pub fn run_plan(
    trace: &Trace,
    workload: Workload,
    plan: &[u32],
    initial_tasks: u32,
    label: String,
) -> Outcome {
    let mut queue = Queue::new(trace.initial_backlog);
    let mut tally = Tally::new(queue.backlog, trace.arrivals.len());
    let mut previous = initial_tasks;
    for (now, arrivals) in trace.arrivals.iter().enumerate() {
        queue.arrive(now, *arrivals);
        let running = plan.get(now).copied().unwrap_or(0);
        queue.work(now, f64::from(running) * workload.mu);
        tally.actions += u64::from(running != previous);
        previous = running;
        tally.second(now, queue.backlog, running, running);
    }
    let task_seconds = crate::oracle::plan_cost(plan, initial_tasks, workload.startup_s);
    tally.outcome(label, queue, trace, workload, task_seconds)
}

/// What a run counts second by second, besides the waits the queue keeps.
pub(crate) struct Tally {
    max_backlog: f64,
    /// Changes of the desired count.
    pub(crate) actions: u64,
    /// Task-seconds of tasks requested (pending and running).
    pub(crate) paid: f64,
    /// Running tasks each second, for the elasticity metrics.
    supply: Vec<u32>,
    /// (time s, backlog, tasks requested), one a minute.
    series: Vec<(usize, f64, u32)>,
}

impl Tally {
    pub(crate) fn new(initial_backlog: f64, seconds: usize) -> Self {
        Tally {
            max_backlog: initial_backlog,
            actions: 0,
            paid: 0.0,
            supply: Vec::with_capacity(seconds),
            series: Vec::new(),
        }
    }

    /// The end of second `now`: the backlog left, the tasks that worked in it and
    /// the tasks requested.
    pub(crate) fn second(&mut self, now: usize, backlog: f64, running: u32, requested: u32) {
        self.max_backlog = self.max_backlog.max(backlog);
        self.supply.push(running);
        self.paid += f64::from(requested);
        if now.is_multiple_of(60) {
            self.series.push((now, backlog, requested));
        }
    }

    pub(crate) fn outcome(
        self,
        label: String,
        queue: Queue,
        trace: &Trace,
        workload: Workload,
        task_seconds: f64,
    ) -> Outcome {
        let waits = queue.into_waits(trace.arrivals.len());
        Outcome {
            strategy: label,
            p50_wait_s: waits.percentile(50.0),
            p95_wait_s: waits.percentile(95.0),
            p99_wait_s: waits.percentile(99.0),
            max_wait_s: waits.max(),
            max_backlog: self.max_backlog,
            first_scale_out_s: None,
            task_seconds,
            scaling_actions: self.actions,
            elasticity: elasticity(&demand(&trace.arrivals, workload.mu), &self.supply),
            series: self.series,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{example_policy, fast, recommended_policy, standard_strategies};

    fn policy() -> PolicySettings {
        example_policy()
    }

    const WORKLOAD: Workload = Workload {
        mu: 1.0,
        startup_s: 45,
        consumption_counter: false,
    };

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
            let figures =
                |o: &Outcome| format!("{:.0} task-s, p99 {:.0} s", o.task_seconds, o.p99_wait_s);
            let (r, b, m) = (figures(&reference), figures(&blind), figures(&measured));
            // (Less than it was with idle tasks released all at once: a gradual
            // release lets the surplus go sooner.)
            assert!(
                blind.task_seconds > 1.05 * reference.task_seconds,
                "{name}: a halved throughput over-provisions: {b} vs {r}"
            );
            assert!(
                measured.task_seconds < 1.1 * reference.task_seconds
                    && measured.task_seconds < blind.task_seconds,
                "{name}: measuring corrects it: {m} vs {r} (blind {b})"
            );
            assert!(
                measured.p99_wait_s <= reference.p99_wait_s * 1.1 + 5.0,
                "{name}: without waiting longer: {m} vs {r}"
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
    fn the_wait_goal_answers_the_age_cloudwatch_publishes_without_running_away() {
        use fast_autoscaler_core::settings::PolicyKind;
        let trace = Trace::built_in("spike", 7200).unwrap();
        // A count goal too lax for the spike: only the wait goal can help.
        let lax = PolicySettings {
            kind: PolicyKind::Target {
                messages_per_task: 1000.0,
            },
            scale_out_cooldown_s: 0,
            scale_in_cooldown_s: 60,
            ..policy()
        };
        let with_goal = PolicySettings {
            max_wait_s: Some(120),
            ..lax.clone()
        };
        let without = run(&trace, WORKLOAD, &lax, &fast("target", 10, &lax));
        let with = run(&trace, WORKLOAD, &lax, &fast("target", 10, &with_goal));
        let minutely = run(&trace, WORKLOAD, &lax, &fast("target", 60, &with_goal));
        let figures = |o: &Outcome| {
            format!(
                "max wait {:.0} s, p99 {:.0} s, {:.0} task-s",
                o.max_wait_s, o.p99_wait_s, o.task_seconds
            )
        };
        assert!(
            with.max_wait_s < 0.6 * without.max_wait_s,
            "the wait goal shortens the longest wait: {} vs {}",
            figures(&with),
            figures(&without)
        );
        // The age is a minute's maximum, a minute late, so six ticks a minute read
        // the same figure: scaling today's count by it on each would compound
        // (twice the task-seconds of one reading a minute, before the rule scaled
        // the tasks running when the age was measured).
        assert!(
            with.task_seconds < 1.3 * minutely.task_seconds,
            "10 s ticks: {} against 60 s ticks: {}",
            figures(&with),
            figures(&minutely)
        );
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
