//! The rate estimators: how fast messages arrive, and how fast one task really
//! works them off. Both are derived from the samples kept in [`Memory`].

use crate::metrics::QueueMetrics;

use super::memory::{Memory, Sample};

/// The window the arrival rate is estimated over.
pub const RATE_WINDOW_MS: u64 = 60_000;

/// The short window of the sustained arrival rate (see [`sustained_rate`]): about
/// the last tick or two.
pub const RECENT_WINDOW_MS: u64 = 15_000;

/// Busy task-seconds a measured throughput needs before it replaces the configured
/// one: a few tasks for several ticks, so one slow message does not skew it.
pub const MIN_MEASURED_TASK_SECONDS: f64 = 60.0;

/// Tasks busy now, as far as the queue shows: all running ones while messages wait,
/// otherwise one per in-flight message (a task holds the message it works on).
pub fn busy_tasks(metrics: &QueueMetrics, running: u32) -> u32 {
    if metrics.visible > 0 {
        running
    } else {
        running.min(u32::try_from(metrics.in_flight).unwrap_or(u32::MAX))
    }
}

/// The arrival rate (messages/s) over the rate window: the backlog's growth plus
/// what was consumed meanwhile. Consumption is counted when the provider reports
/// a consumption counter, and otherwise estimated as `task_throughput` per busy
/// task. `None` without a sample old enough.
pub fn arrival_rate(
    samples: &[Sample],
    total: u64,
    busy: u32,
    dequeued: Option<u64>,
    task_throughput: f64,
    now_ms: u64,
) -> Option<f64> {
    arrival_rate_over(
        RATE_WINDOW_MS,
        samples,
        total,
        busy,
        dequeued,
        task_throughput,
        now_ms,
    )
}

/// The sustained arrival rate: the lower of the last minute's rate and the last
/// few seconds' (about one tick). It is what a scale-out plans with. Tasks ordered
/// now help only after their start-up; a burst that has already ended is served
/// from the backlog it left, and planning for it to go on would pay start-ups for
/// tasks that find an empty queue. Erring low costs one tick: if the surge goes
/// on, the next tick sees both rates high and orders the rest. Erring high costs a
/// start-up per task, which no tick can undo.
pub fn sustained_rate(
    samples: &[Sample],
    total: u64,
    busy: u32,
    dequeued: Option<u64>,
    task_throughput: f64,
    now_ms: u64,
) -> Option<f64> {
    let minute = arrival_rate(samples, total, busy, dequeued, task_throughput, now_ms)?;
    let recent = arrival_rate_over(
        RECENT_WINDOW_MS,
        samples,
        total,
        busy,
        dequeued,
        task_throughput,
        now_ms,
    )
    .unwrap_or(minute);
    Some(minute.min(recent))
}

/// The arrival rate since the last sample, about one tick: what tells a
/// surge's landing (see [`super::landings`]). `None` without a sample at least a
/// second old.
pub fn arrival_rate_since_last(
    samples: &[Sample],
    total: u64,
    busy: u32,
    dequeued: Option<u64>,
    task_throughput: f64,
    now_ms: u64,
) -> Option<f64> {
    let last = samples.last()?;
    arrival_rate_over(
        now_ms.saturating_sub(last.at_ms),
        samples,
        total,
        busy,
        dequeued,
        task_throughput,
        now_ms,
    )
}

/// The arrival rate over a window of `window_ms` (see [`arrival_rate`]).
fn arrival_rate_over(
    window_ms: u64,
    samples: &[Sample],
    total: u64,
    busy: u32,
    dequeued: Option<u64>,
    task_throughput: f64,
    now_ms: u64,
) -> Option<f64> {
    // The oldest sample inside the window, and at least a second old.
    let start = samples
        .iter()
        .position(|s| s.at_ms + window_ms >= now_ms && s.at_ms + 1000 <= now_ms)?;
    let oldest = &samples[start];
    let dt = (now_ms - oldest.at_ms) as f64 / 1000.0;
    let growth = (total as f64 - oldest.backlog as f64) / dt;
    let worked = match (oldest.dequeued, dequeued) {
        // A counter that went back (a broker restart) says nothing; estimate instead.
        (Some(then), Some(now)) if now >= then => (now - then) as f64 / dt,
        _ => task_throughput * busy_task_seconds(&samples[start..], busy, now_ms) / dt,
    };
    Some((growth + worked).max(0.0))
}

/// Busy task-seconds from the first of `samples` to now: each interval between
/// two readings at the mean of its two ends. The busy count changes inside a
/// window (tasks start, the queue empties), and the work it did is what tells
/// arrivals from the backlog's change; one count for the whole window would
/// miss the tasks that drained a backlog and then went idle.
fn busy_task_seconds(samples: &[Sample], busy_now: u32, now_ms: u64) -> f64 {
    let points = samples
        .iter()
        .filter(|s| s.at_ms < now_ms)
        .map(|s| (s.at_ms, s.busy))
        .chain(std::iter::once((now_ms, busy_now)));
    let mut previous: Option<(u64, u32)> = None;
    let mut task_seconds = 0.0;
    for (at_ms, busy) in points {
        if let Some((then_ms, busy_then)) = previous {
            let seconds = at_ms.saturating_sub(then_ms) as f64 / 1000.0;
            task_seconds += (f64::from(busy_then) + f64::from(busy)) / 2.0 * seconds;
        }
        previous = Some((at_ms, busy));
    }
    task_seconds
}

/// The throughput one task really achieves (messages/s), measured over the rate
/// window from the provider's consumption counter: messages consumed while
/// messages were waiting (every running task busy, so consumption shows capacity
/// and not demand), per busy task-second. `None` without a counter, without
/// [`MIN_MEASURED_TASK_SECONDS`] of saturated work, or with a counter that went back.
pub fn measured_throughput(samples: &[Sample], now_ms: u64) -> Option<f64> {
    let start = samples
        .iter()
        .position(|s| s.at_ms + RATE_WINDOW_MS >= now_ms)?;
    let window = &samples[start..];
    let (mut consumed, mut task_seconds) = (0.0, 0.0);
    for pair in window.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (Some(from), Some(to)) = (a.dequeued, b.dequeued) else {
            continue;
        };
        if to < from || b.at_ms <= a.at_ms {
            return None;
        }
        // Saturated at both ends: messages waited, so every running task was busy.
        if a.backlog > 0 && b.backlog > 0 && a.busy == a.running && a.busy > 0 {
            let dt = (b.at_ms - a.at_ms) as f64 / 1000.0;
            consumed += (to - from) as f64;
            // The larger count: tasks that started meanwhile may have worked part of
            // it, and erring low on throughput errs toward capacity.
            task_seconds += (f64::from(a.busy) + f64::from(b.busy)) / 2.0 * dt;
        }
    }
    (task_seconds >= MIN_MEASURED_TASK_SECONDS && consumed > 0.0).then(|| consumed / task_seconds)
}

/// The task throughput measured now, or else the last one measured (kept in the
/// memory); `None` until the queue service has shown enough saturated work.
pub(crate) fn measured_throughput_or_last(memory: &Memory, now_ms: u64) -> Option<f64> {
    measured_throughput(&memory.samples, now_ms)
        .or(memory.throughput_micro.map(|m| m as f64 / 1e6))
        .filter(|m| *m > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_s: u64, backlog: u64, busy: u32) -> Sample {
        Sample {
            at_ms: at_s * 1000,
            backlog,
            running: 17,
            busy,
            recommended: 17,
            dequeued: None,
        }
    }

    #[test]
    fn tasks_that_drained_a_backlog_count_for_the_work_they_did() {
        // 8 messages/s arrive at 1/s per task: 17 busy tasks drain 200 waiting
        // messages in about 25 s, then 8 stay busy with the arrivals.
        let samples = [
            sample(0, 200, 17),
            sample(10, 110, 17),
            sample(20, 20, 17),
            sample(30, 0, 8),
            sample(40, 0, 8),
            sample(50, 0, 8),
        ];
        let rate = arrival_rate(&samples, 0, 8, None, 1.0, 60_000).expect("a window");
        // One count for the window (min(17, 8)) would say 8 − 200/60 ≈ 4.7/s.
        assert!((7.5..=9.0).contains(&rate), "{rate}");
        // Nothing changed: the arrivals are what the busy tasks work.
        let steady = [sample(0, 50, 12), sample(10, 50, 12)];
        let rate = arrival_rate(&steady, 50, 12, None, 0.5, 20_000).expect("a window");
        assert!((rate - 6.0).abs() < 1e-9, "{rate}");
    }
}
