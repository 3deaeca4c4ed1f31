//! Workers as real operating-system processes: `fast-autoscaler run --once`,
//! several at a time, started a few milliseconds apart, some killed with SIGKILL
//! at a moment of their run. Races between workers, and crashes between a claim
//! and its UpdateService, happen between processes, not between tasks of one.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::aws::take_messages;
use crate::Emulator;

/// A small seeded generator, so every run sees the same sequence.
pub struct XorShift(pub u64);

impl XorShift {
    /// A number below `below`.
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below.max(1)
    }
}

/// The queue depth of every round: phases of 25 rounds that alternately climb
/// and drain, with noise, between 0 and 90 messages. Small numbers on purpose:
/// moto takes tens of milliseconds per SendMessageBatch and more per
/// ReceiveMessage.
pub fn depths(rounds: usize) -> Vec<u64> {
    let mut rng = XorShift(0x00c0_ffee);
    let mut depth: i64 = 0;
    (0..rounds)
        .map(|round| {
            let climbing = (round / 25) % 2 == 0;
            let step = rng.next(10) as i64;
            depth += if climbing { step - 3 } else { -step + 2 };
            depth = depth.clamp(0, 90);
            depth as u64
        })
        .collect()
}

/// Four services on one queue, in two clusters: (cluster suffix, service,
/// messages per task).
pub const FOUR_SERVICES: [(&str, &str, u64); 4] = [
    ("alpha", "per-2", 2),
    ("alpha", "per-3", 3),
    ("beta", "per-5", 5),
    ("beta", "per-7", 7),
];

/// [`FOUR_SERVICES`] on the target rule with no cooldowns, reading `queue`, in
/// clusters `{prefix}-alpha` and `{prefix}-beta`: each round's right count is
/// `ceil(depth / messages per task)` whatever the timing, so runs can be
/// compared round by round.
pub fn four_services(prefix: &str, queue: &str) -> Vec<Value> {
    FOUR_SERVICES
        .iter()
        .map(|(cluster, service, per_task)| {
            json!({
                "cluster": format!("{prefix}-{cluster}"), "service": service,
                "provider": {"type": "sqs", "queue_url": queue},
                "scaling_policy": "target", "target_messages_per_task": per_task,
                "min_tasks": 1, "max_tasks": 60,
                "scale_in_cooldown": 0, "scale_out_cooldown": 0,
            })
        })
        .collect()
}

/// Brings `queue` to exactly `depth` visible messages; `current` is its depth now.
pub async fn set_depth(emulator: &Emulator, queue: &str, current: &mut u64, depth: u64) {
    if depth > *current {
        emulator
            .send_messages(queue, (depth - *current) as usize)
            .await;
    }
    let sqs = emulator.sqs();
    while *current > depth {
        let take = (*current - depth).min(10) as i32;
        let taken = take_messages(&sqs, queue, take).await;
        assert!(taken > 0, "the queue holds fewer than {current} messages");
        *current -= taken as u64;
    }
    *current = depth;
}

/// One process's decision line, as `run` prints it.
#[derive(Debug, Clone)]
pub struct Line {
    pub service: String,
    pub applied: bool,
    pub reason: String,
    pub current_desired: Option<u64>,
}

/// How one process of a round ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// Killed with SIGKILL this many milliseconds after it started.
    pub killed_after_ms: Option<u64>,
    /// Its decision lines (none when killed before printing).
    pub lines: Vec<Line>,
}

/// One worker process of a round: when it starts, and when (if) it is killed.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub start_after_ms: u64,
    pub kill_after_ms: Option<u64>,
}

/// Runs `binary --config <config> run --once` once per plan, each started and
/// killed as planned, and waits for all; a process not killed must succeed.
pub async fn run_once_each(
    binary: &Path,
    env: &[(String, String)],
    config: &Path,
    plans: &[Plan],
) -> Vec<Ended> {
    let mut plans = plans.to_vec();
    plans.sort_by_key(|p| p.start_after_ms);
    let started = Instant::now();
    let mut running = Vec::new();
    for plan in plans {
        let wait = Duration::from_millis(plan.start_after_ms).saturating_sub(started.elapsed());
        tokio::time::sleep(wait).await;
        let child = tokio::process::Command::new(binary)
            .env_clear()
            .envs(env.iter().cloned())
            .arg("--config")
            .arg(config)
            .args(["run", "--once"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting fast-autoscaler");
        running.push((child, plan, Instant::now()));
    }
    let ended = running.into_iter().map(|(mut child, plan, at)| async move {
        if let Some(after) = plan.kill_after_ms {
            let deadline = at + Duration::from_millis(after);
            tokio::select! {
                _ = tokio::time::sleep_until(deadline.into()) => {
                    // SIGKILL: no cleanup, as a Lambda that runs out of time or memory.
                    let _ = child.start_kill();
                }
                _ = child.wait() => {}
            }
        }
        let output = child.wait_with_output().await.expect("fast-autoscaler ran");
        let killed = !output.status.success() && plan.kill_after_ms.is_some();
        assert!(
            output.status.success() || killed,
            "fast-autoscaler run --once failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ended {
            killed_after_ms: killed.then_some(plan.kill_after_ms.unwrap_or(0)),
            lines: lines(&String::from_utf8_lossy(&output.stdout), !killed),
        }
    });
    futures::future::join_all(ended).await
}

/// The decision lines printed; of a killed process, those it finished printing.
fn lines(stdout: &str, whole: bool) -> Vec<Line> {
    stdout
        .lines()
        .filter_map(|text| match serde_json::from_str::<Value>(text) {
            Ok(value) => Some(value),
            Err(e) if whole => panic!("a decision line {text:?}: {e}"),
            Err(_) => None,
        })
        .map(|v| Line {
            service: v["service"].as_str().unwrap_or_default().to_string(),
            applied: v["applied"].as_bool().unwrap_or(false),
            reason: v["reason"].as_str().unwrap_or_default().to_string(),
            current_desired: v["current_desired"].as_u64(),
        })
        .collect()
}
