//! The rate-aware rule. It answers two questions, because new tasks and running
//! tasks are not worth the same:
//!
//! - **Scale-out: what can still help once the start-up delay has passed.** A
//!   task ordered now works only after `task_startup_s`. The backlog expected then
//!   is today's, plus the sustained arrivals over the start-up, less what the
//!   running tasks (and, about half the time, the pending ones) work off
//!   meanwhile. The rule orders what drains that within `target_drain_s`, on top
//!   of what keeps up with arrivals: `ceil((λ + expected / target_drain) / μ)`. A
//!   backlog the current tasks drain before new ones would be ready orders none:
//!   such a task would only cost money.
//! - **Scale-in: running tasks that have work are kept.** A running task that is
//!   busy costs nothing extra: the work is done either way, and stopping it only
//!   delays it. So the count never falls below the tasks the backlog keeps busy
//!   until the next tick, `ceil((λ + backlog / tick) / μ)`; pending tasks (paid,
//!   not yet working) count among them only that far. Idle tasks are released by
//!   the stabilization window after that.
//!
//! λ is the sustained arrival rate (see [`crate::policy::rates::sustained_rate`]),
//! and μ the task throughput, measured where the queue reports consumption and
//! configured otherwise.
//!
//! With a `target_utilization` u below 1 the plan counts each task as `u · μ`,
//! so `1/u` times the tasks the work needs are asked for: spare capacity for
//! what arrives between ticks, paid for whether it comes or not. The tasks kept
//! because the backlog keeps them busy are counted at their full μ.

use super::Wanted;
use crate::policy::memory::Memory;
use crate::policy::rates::{sustained_rate, RECENT_WINDOW_MS};
use crate::policy::reading::{tasks_ceil, tasks_round, Reading};
#[cfg(doc)]
use crate::settings::PolicyKind;

/// The predictive rule's settings (see [`PolicyKind::Predictive`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Predictive {
    pub task_throughput: f64,
    pub task_startup_s: u64,
    pub target_drain_s: u64,
    pub target_utilization: f64,
}

/// How far below a count its need must fall before a pending task of it is
/// cancelled, in tasks: a hysteresis band between ordering and cancelling.
///
/// A task is ordered when the need rounds above the count (half a task over it)
/// and, without the band, cancelled when it rounds back (half a task under).
/// The sustained rate wobbles by about a task between ticks (Poisson arrivals of
/// a few per second over its fifteen-second window), and each tick counts the
/// pending task just ordered as working half the start-up, so a need near a
/// whole number ordered a task at one tick and cancelled it at the next, two
/// actions that left the service where it was. Measured on the built-in and
/// the random workloads (`bench quality`), a whole task of band removes a fifth
/// of all actions at the same p99 and +0.3 % task-hours on average: a pending
/// task kept by the band costs at most the rest of its start-up, and when the
/// need comes back it is already on its way.
///
/// The band is wider where the rate's own noise is: see [`CANCEL_MARGIN_ERRORS`].
const CANCEL_MARGIN_TASKS: f64 = 1.0;

/// The cancel band in standard errors of the sustained rate, where that is more
/// than [`CANCEL_MARGIN_TASKS`].
///
/// Arrivals counted over the rate's short window of T seconds are Poisson: at λ
/// a second the estimate's standard error is `√(λ / T)`, or `√(λ / T) / (μ·u)`
/// tasks. At 1 to 4 messages a second with μ = 1 that is under half a task and
/// the whole task holds; at 8 it is 0.7, and the need swings past a whole task
/// between ticks on noise alone, so a task ordered on the upswing was cancelled
/// on the downswing. Two standard errors is the usual line between noise and a
/// change. Measured on the built-in and random workloads (`bench quality`): a
/// tenth fewer actions on the 20 traces (diurnal's 15.5 an hour to 6.3), at
/// +0.3 % task-hours on average, +1.5 % at worst, the p99 within 1 %; and on
/// the 51 periodic workloads the p99 and cost unchanged (±1 s, +0.2 %).
/// With ticks longer than the short window the rate is counted over longer
/// and is less noisy than this says: the band then errs wide, keeping a
/// pending task a little more often, which costs at most its start-up.
const CANCEL_MARGIN_ERRORS: f64 = 2.0;

/// What the next start-up delay looks like, for a count of tasks.
struct Outlook {
    /// Sustained arrivals per second.
    lambda: f64,
    mu: f64,
    /// The share of a task's capacity the plan counts on.
    utilization: f64,
    backlog: f64,
    running: f64,
    startup_s: f64,
    drain_s: f64,
}

impl Outlook {
    /// The tasks to have, with why: as many as the need once ready when that is
    /// at least `current`, else the fewest of them enough, pending ones included.
    fn plan(&self, current: u64, mu_text: &str, target_drain_s: u64) -> (u64, String) {
        // Rounded to the nearest task, not up: a fraction of a task is left to the
        // backlog, which grows, raises the expected backlog and orders it a tick
        // later if it is real. Rounding up would keep a spare task for every
        // estimate a little over a whole number, paying its start-up each time it
        // wobbles.
        let to_order = tasks_round(self.needed(current as f64));
        if to_order >= current {
            return (
                to_order,
                format!("{to_order} task(s) at {mu_text} to drain it in {target_drain_s}s"),
            );
        }
        let margin = self.cancel_margin();
        let enough = self.fewest_enough(current, margin);
        let mut why = format!(
            "{enough} task(s) at {mu_text} drain it in {target_drain_s}s, pending ones included"
        );
        let tight = self.fewest_enough(current, 0.0);
        if enough > tight {
            let spare = if margin > CANCEL_MARGIN_TASKS {
                format!("{margin:.1} tasks, two standard errors of the arrival rate,")
            } else {
                "a whole task".to_string()
            };
            why.push_str(&format!(
                " ({tight} would, but a pending task is cancelled only with {spare} to spare)"
            ));
        }
        (enough, why)
    }

    /// How many tasks to spare a pending task is cancelled with: a whole one, or
    /// more where the rate's Poisson noise is more (see [`CANCEL_MARGIN_ERRORS`]).
    fn cancel_margin(&self) -> f64 {
        let window_s = RECENT_WINDOW_MS as f64 / 1000.0;
        let noise_tasks = (self.lambda / window_s).sqrt() / (self.mu * self.utilization);
        CANCEL_MARGIN_TASKS.max(CANCEL_MARGIN_ERRORS * noise_tasks)
    }

    /// The backlog expected once tasks ordered now are ready, with `total` tasks
    /// (running ones work the whole start-up; the others, started at unknown
    /// times, about half of it).
    fn expected(&self, total: f64) -> f64 {
        let others = (total - self.running).max(0.0);
        let worked = self.mu * self.startup_s * (self.running + others / 2.0);
        (self.backlog + self.lambda * self.startup_s - worked).max(0.0)
    }

    /// The tasks needed once ready, with `total` tasks until then: those that
    /// keep up with arrivals and drain the expected backlog within the target.
    fn needed(&self, total: f64) -> f64 {
        (self.lambda + self.expected(total) / self.drain_s) / (self.mu * self.utilization)
    }

    /// The fewest tasks, from the running ones up to `current`, that are enough
    /// once the pending ones among them are ready: pending tasks beyond that would
    /// find the backlog drained. `needed` falls as tasks are added, so the first
    /// count that covers its own need is the answer (found by bisection).
    ///
    /// A pending task stays unless the count without it is enough with `margin`
    /// tasks to spare (see [`CANCEL_MARGIN_TASKS`]); running tasks are left to
    /// stabilization, without it.
    fn fewest_enough(&self, current: u64, margin: f64) -> u64 {
        let enough = |n: u64| tasks_round(self.needed(n as f64) + margin) <= n;
        let (mut low, mut high) = (self.running as u64, current);
        if enough(low) {
            return tasks_round(self.needed(self.running)).min(low);
        }
        while low + 1 < high {
            let middle = low + (high - low) / 2;
            if enough(middle) {
                high = middle;
            } else {
                low = middle;
            }
        }
        high
    }
}

pub(crate) fn wanted(reading: &Reading<'_>, memory: &Memory, rule: Predictive) -> Wanted {
    let Predictive {
        task_throughput,
        task_startup_s,
        target_drain_s,
        target_utilization,
    } = rule;
    // The measured throughput, where the queue service reports consumption; the
    // configured one otherwise (and until enough saturated work was seen).
    let mu = reading.measured.unwrap_or(task_throughput);
    let mut mu_text = match reading.measured {
        Some(m) => format!("{m:.2}/s each (measured)"),
        None => format!("{task_throughput}/s each"),
    };
    if target_utilization < 1.0 {
        mu_text.push_str(&format!(" used at {:.0} %", target_utilization * 100.0));
    }
    let total = reading.total;
    let dequeued = reading.metrics.dequeued_total;
    let now = reading.now_ms;
    let rate = sustained_rate(&memory.samples, total, reading.busy, dequeued, mu, now);
    let outlook = Outlook {
        lambda: rate.unwrap_or(0.0),
        mu,
        utilization: target_utilization,
        backlog: total as f64,
        running: f64::from(reading.running),
        startup_s: task_startup_s as f64,
        drain_s: target_drain_s as f64,
    };
    let current = u64::from(reading.current);
    let (planned, plan_text) = outlook.plan(current, &mu_text, target_drain_s);
    // Running tasks the backlog keeps busy until the next tick are never released.
    let busy = tasks_ceil((outlook.lambda + outlook.backlog / tick_seconds(memory, now)) / mu);
    let keep = busy.min(u64::from(reading.running));
    let wanted = planned.max(keep);
    let rate_text = match rate {
        Some(r) => format!("sustained arrivals ≈ {r:.1}/s"),
        None => "arrival rate not known yet (no sample in the last minute)".into(),
    };
    let keep_text = if keep > planned {
        format!("; keeping {keep} running task(s) the backlog keeps busy until the next tick")
    } else {
        String::new()
    };
    Wanted::new(
        wanted,
        format!(
            "{} {total}, {rate_text}, expected backlog after {task_startup_s}s start-up ≈ {:.0}: {plan_text}{keep_text}",
            reading.label,
            outlook.expected(current as f64)
        ),
    )
}

/// Seconds since the previous sample (the tick interval), 10 without one.
pub(crate) fn tick_seconds(memory: &Memory, now_ms: u64) -> f64 {
    memory
        .samples
        .last()
        .map(|s| now_ms.saturating_sub(s.at_ms) as f64 / 1000.0)
        .filter(|s| *s >= 1.0)
        .unwrap_or(10.0)
}

/// The tasks a backlog needs to drain in `target_drain_s` at `mu` each.
pub(crate) fn tasks_for_backlog(mu: f64, target_drain_s: u64, total: u64) -> u64 {
    tasks_ceil(total as f64 / (mu * target_drain_s as f64))
}

#[cfg(test)]
mod tests {
    use crate::metrics::QueueMetrics;

    use crate::policy::test_support::*;
    use crate::policy::*;
    use crate::settings::PolicyKind;

    #[test]
    fn predictive_provisions_for_arrivals_and_the_backlog_after_start_up() {
        let policy = predictive_policy();
        // 10 running tasks, backlog 100 growing to 500 in 10 s: 40/s growth + 10/s worked = 50/s.
        let (_, memory) =
            recommend_with_memory(&policy, &at(&visible(100), 10, 10, 0), &Memory::default());
        let (d, memory) =
            recommend_with_memory(&policy, &at(&visible(500), 10, 10, 10_000), &memory);
        let rate = arrival_rate(&memory.samples[..1], 500, 10, None, 1.0, 10_000).unwrap();
        assert!((rate - 50.0).abs() < 1e-9, "{rate}");
        // Expected backlog after 45 s: 500 + 50×45 − 10×45 = 2300; (50 + 2300/60) / 1
        // = 88.3, to the nearest task 88.
        assert_eq!(d.new_desired, 88, "{}", d.reason);
        assert!(d.reason.contains("arrivals ≈ 50.0/s"), "{}", d.reason);
        // With no history yet the estimate is the backlog alone, less what the one
        // running task works off meanwhile: (500 − 45) / 60 = 7.6 → 8 tasks.
        let d = recommend(&policy, Ok(&visible(500)), 1);
        assert_eq!(d.new_desired, 8, "{}", d.reason);
        assert!(d.reason.contains("not known yet"), "{}", d.reason);
        // An empty queue with busy tasks (in flight) keeps them: arrivals ≈ their rate.
        let steady = QueueMetrics {
            visible: 0,
            in_flight: 12,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        };
        let (_, memory) =
            recommend_with_memory(&policy, &at(&steady, 20, 20, 0), &Memory::default());
        let (d, _) = recommend_with_memory(&policy, &at(&steady, 20, 20, 30_000), &memory);
        assert_eq!(d.new_desired, 12, "{}", d.reason);
    }

    #[test]
    fn predictive_measures_the_throughput_where_the_queue_counts_consumption() {
        // Configured at 1 msg/s per task, but the 10 tasks really consume 2 msg/s each.
        let policy = predictive_policy();
        let mut memory = Memory::default();
        let mut decision = None;
        // Arrivals of 30/s against 20/s consumed: the backlog grows by 10/s.
        for tick in 0..7u64 {
            let at_ms = tick * 10_000;
            let reading = counted(1_000 + 100 * tick, 200 * tick);
            let (d, next) = recommend_with_memory(&policy, &at(&reading, 10, 10, at_ms), &memory);
            memory = next;
            decision = Some(d);
        }
        let d = decision.expect("decided");
        let measured = measured_throughput(&memory.samples, 60_000).expect("measured");
        assert!((measured - 2.0).abs() < 1e-9, "{measured}");
        assert!(d.reason.contains("2.00/s each (measured)"), "{}", d.reason);
        assert!(d.reason.contains("arrivals ≈ 30.0/s"), "{}", d.reason);
        // Expected backlog after 45 s: 1600 + 30×45 − 20×45 = 2050;
        // (30 + 2050/60) / 2 = 32.1 → 32 tasks, where the configured 1/s would want 64.
        assert_eq!(d.new_desired, 32, "{}", d.reason);

        // Too little saturated work, a counter that went back, or no counter at
        // all: the configured throughput stands.
        assert_eq!(measured_throughput(&memory.samples[..1], 10_000), None);
        let mut restarted = memory.samples.clone();
        if let Some(last) = restarted.last_mut() {
            last.dequeued = Some(0);
        }
        assert_eq!(measured_throughput(&restarted, 60_000), None);
        let mut uncounted = memory.samples.clone();
        uncounted.iter_mut().for_each(|s| s.dequeued = None);
        assert_eq!(measured_throughput(&uncounted, 60_000), None);
        // An idle queue (nothing waiting) shows demand, not capacity: not measured.
        let mut idle = memory.samples.clone();
        idle.iter_mut().for_each(|s| s.backlog = 0);
        assert_eq!(measured_throughput(&idle, 60_000), None);
    }

    /// A burst of 600 messages within a few seconds, then the usual 1/s: at the
    /// tick after it, the last minute's rate still carries the burst, but the
    /// last seconds' does not, so the order is sized for the backlog the burst
    /// left and not for a burst that goes on.
    #[test]
    fn a_burst_that_has_ended_is_not_planned_for_as_if_it_went_on() {
        let policy = predictive_policy();
        let mut memory = Memory::default();
        // A quiet minute at 1/s with one task: the queue stays empty.
        for tick in 0..6u64 {
            let quiet = QueueMetrics {
                visible: 0,
                in_flight: 1,
                delayed: 0,
                dequeued_total: None,
                oldest_message: None,
                max_consumers: None,
                busiest: None,
            };
            let (_, next) =
                recommend_with_memory(&policy, &at(&quiet, 1, 1, tick * 10_000), &memory);
            memory = next;
        }
        // 600 arrived between t = 50 s and 60 s, then nothing more but 1/s.
        let (after_burst, next) =
            recommend_with_memory(&policy, &at(&visible(600), 1, 1, 60_000), &memory);
        let (later, _) = recommend_with_memory(
            &policy,
            &at(&visible(600), after_burst.new_desired, 1, 70_000),
            &next,
        );
        // At 60 s both rates show the burst (61/s over 10 s, 11/s over the minute,
        // the busy task included): the lower, 11/s, plans
        // (11 + (600 + 11×45 − 45)/60) = 28.5 → 29 tasks.
        assert_eq!(after_burst.new_desired, 29, "{}", after_burst.reason);
        // At 70 s the last seconds show ~1/s: the 28 pending tasks are more than the
        // 600 need (they would find the queue drained), so some are cancelled.
        assert!(
            later.new_desired < 29 && later.new_desired >= 5,
            "{}",
            later.reason
        );
        assert!(
            later.reason.contains("pending ones included"),
            "{}",
            later.reason
        );
    }

    /// Below full utilization the plan asks for 1/u times the tasks the work
    /// needs, and says so.
    #[test]
    fn a_target_utilization_plans_spare_tasks() {
        let mut policy = predictive_policy();
        // 10 running tasks, backlog 100 growing to 500 in 10 s: 50/s arrive, and
        // at full use (50 + 2300/60) = 88.3 → 88 tasks (as above); at 0.8, 110.
        if let PolicyKind::Predictive {
            target_utilization, ..
        } = &mut policy.kind
        {
            *target_utilization = 0.8;
        }
        let (_, memory) =
            recommend_with_memory(&policy, &at(&visible(100), 10, 10, 0), &Memory::default());
        let (d, _) = recommend_with_memory(&policy, &at(&visible(500), 10, 10, 10_000), &memory);
        assert_eq!(d.new_desired, 110, "{}", d.reason);
        assert!(d.reason.contains("1/s each used at 80 %"), "{}", d.reason);
    }

    /// Running tasks the backlog keeps busy are never released, however few the
    /// rule would order from scratch.
    #[test]
    fn running_tasks_with_work_until_the_next_tick_are_kept() {
        let policy = predictive_policy();
        // 40 running tasks, 1000 waiting, nothing arriving: over the 45 s start-up
        // they work off 1800, so nothing is to be ordered, but all 40 have work
        // until the next tick (1000 / 10 s = 100 tasks' worth).
        let (d, _) =
            recommend_with_memory(&policy, &at(&visible(1000), 40, 40, 0), &Memory::default());
        assert_eq!(
            (d.action, d.new_desired),
            (Action::None, 40),
            "{}",
            d.reason
        );
        assert!(
            d.reason.contains("keeping 40 running task(s)"),
            "{}",
            d.reason
        );
        // With 100 waiting, 10 tasks' worth: the rest may go.
        let (d, _) =
            recommend_with_memory(&policy, &at(&visible(100), 40, 40, 0), &Memory::default());
        assert_eq!(d.new_desired, 10, "{}", d.reason);
    }

    /// A pending task is cancelled only when the count without it is enough with
    /// a whole task to spare: a need that wobbles around a whole number does not
    /// order a task at one tick and cancel it at the next.
    #[test]
    fn a_pending_task_is_cancelled_only_with_a_whole_task_to_spare() {
        let policy = predictive_policy();
        // 8 running and 1 pending, nothing known of arrivals: with the 8 alone the
        // backlog expected after the start-up is b − 8 × 45, to drain in 60 s.
        let decide = |backlog: u64| {
            recommend_with_memory(&policy, &at(&visible(backlog), 9, 8, 0), &Memory::default()).0
        };
        // 840 waiting: the 8 need 480 / 60 = 8.0 tasks, just enough, but not with
        // a task to spare: the pending one stays.
        let d = decide(840);
        assert_eq!((d.action, d.new_desired), (Action::None, 9), "{}", d.reason);
        assert!(
            d.reason.contains(
                "(8 would, but a pending task is cancelled only with a whole task to spare)"
            ),
            "{}",
            d.reason
        );
        // 780 waiting: 420 / 60 = 7.0, a whole task under the 8: it is cancelled
        // (the running ones have work until the next tick and stay).
        let d = decide(780);
        assert_eq!(
            (d.action, d.new_desired),
            (Action::ScaleIn, 8),
            "{}",
            d.reason
        );
    }

    /// Where the arrival rate's own noise is more than a task, so is the band:
    /// two standard errors of the rate, counted over its short window.
    #[test]
    fn the_cancel_band_widens_with_the_arrival_rates_noise() {
        let policy = predictive_policy();
        // 30 running tasks kept busy, 60 waiting before and after: 30/s, whose
        // 15-second count has a standard error of √(30/15) ≈ 1.41 tasks.
        let (_, memory) =
            recommend_with_memory(&policy, &at(&visible(60), 30, 30, 0), &Memory::default());
        let with_pending = |pending: u32| {
            recommend_with_memory(
                &policy,
                &at(&visible(60), 30 + pending, 30, 10_000),
                &memory,
            )
            .0
        };
        // 3 pending: 31 tasks would do (30 + 37.5/60 = 30.6), and with a whole task
        // of band 32; with 2.8 tasks of band all 33 stay.
        let d = with_pending(3);
        assert_eq!(
            (d.action, d.new_desired),
            (Action::None, 33),
            "{}",
            d.reason
        );
        assert!(
            d.reason.contains(
                "(31 would, but a pending task is cancelled only with 2.8 tasks, \
                 two standard errors of the arrival rate, to spare)"
            ),
            "{}",
            d.reason
        );
        // 6 pending: the 33 are enough with 2.8 to spare (30.0 + 2.8 → 33), the
        // other three go.
        let d = with_pending(6);
        assert_eq!(
            (d.action, d.new_desired),
            (Action::ScaleIn, 33),
            "{}",
            d.reason
        );
    }
}
