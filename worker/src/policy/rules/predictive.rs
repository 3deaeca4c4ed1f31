//! The rate-aware rule: estimate the arrival rate λ from the last minute's
//! samples, and provision for the arrivals plus the backlog expected once new
//! tasks have started, drained within `target_drain_s`:
//! `ceil((λ + expected / target_drain) / μ)`, where μ is the task throughput
//! (measured where the queue reports consumption, configured otherwise).

use super::Wanted;
#[cfg(doc)]
use crate::config::PolicyKind;
use crate::policy::memory::Memory;
use crate::policy::rates::arrival_rate;
use crate::policy::reading::{tasks_ceil, Reading};

/// The predictive rule's settings (see [`PolicyKind::Predictive`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Predictive {
    pub task_throughput: f64,
    pub task_startup_s: u64,
    pub target_drain_s: u64,
}

pub(crate) fn wanted(reading: &Reading<'_>, memory: &Memory, rule: Predictive) -> Wanted {
    let Predictive {
        task_throughput,
        task_startup_s,
        target_drain_s,
    } = rule;
    // The measured throughput, where the queue service reports consumption; the
    // configured one otherwise (and until enough saturated work was seen).
    let mu = reading.measured.unwrap_or(task_throughput);
    let mu_text = match reading.measured {
        Some(m) => format!("{m:.2}/s each (measured)"),
        None => format!("{task_throughput}/s each"),
    };
    let total = reading.total;
    let rate = arrival_rate(
        &memory.samples,
        total,
        reading.busy,
        reading.metrics.dequeued_total,
        mu,
        reading.now_ms,
    );
    let lambda = rate.unwrap_or(0.0);
    // Over the start-up delay, running tasks work the whole time and pending ones
    // (started at unknown times) about half of it.
    let pending = reading.current.saturating_sub(reading.running);
    let startup = task_startup_s as f64;
    let capacity = mu * startup * (f64::from(reading.running) + f64::from(pending) / 2.0);
    let expected = (total as f64 + lambda * startup - capacity).max(0.0);
    let wanted = tasks_ceil((lambda + expected / target_drain_s as f64) / mu);
    let rate_text = match rate {
        Some(r) => format!("arrivals ≈ {r:.1}/s"),
        None => "arrival rate not known yet (no sample in the last minute)".into(),
    };
    Wanted::new(
        wanted,
        format!(
            "{} {total}, {rate_text}, expected backlog after {task_startup_s}s start-up ≈ {expected:.0}: \
             {wanted} task(s) at {mu_text} to drain it in {target_drain_s}s",
            reading.label
        ),
    )
}

/// The tasks a backlog needs to drain in `target_drain_s` at `mu` each.
pub(crate) fn tasks_for_backlog(mu: f64, target_drain_s: u64, total: u64) -> u64 {
    tasks_ceil(total as f64 / (mu * target_drain_s as f64))
}

#[cfg(test)]
mod tests {
    use fast_autoscaler_providers::QueueMetrics;

    use crate::policy::test_support::*;
    use crate::policy::*;

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
        // Expected backlog after 45 s: 500 + 50×45 − 10×45 = 2300; (50 + 2300/60) / 1 = 88.3 → 89.
        assert_eq!(d.new_desired, 89, "{}", d.reason);
        assert!(d.reason.contains("arrivals ≈ 50.0/s"), "{}", d.reason);
        // With no history yet the estimate is the backlog alone, less what the one
        // running task works off meanwhile: (500 − 45) / 60 → 8 tasks.
        let d = recommend(&policy, Ok(&visible(500)), 1);
        assert_eq!(d.new_desired, 8, "{}", d.reason);
        assert!(d.reason.contains("not known yet"), "{}", d.reason);
        // An empty queue with busy tasks (in flight) keeps them: arrivals ≈ their rate.
        let steady = QueueMetrics {
            visible: 0,
            in_flight: 12,
            delayed: 0,
            dequeued_total: None,
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
        // (30 + 2050/60) / 2 = 32.1 → 33 tasks, where the configured 1/s would want 65.
        assert_eq!(d.new_desired, 33, "{}", d.reason);

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
}
