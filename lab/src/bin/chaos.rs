//! `make chaos`: eight worker processes a round, killed with SIGKILL at random
//! moments, against moto through the real SDK clients.
//!
//! Four target-rule services (two clusters, no cooldowns, so each round's right
//! count is `ceil(depth / messages per task)` whatever the timing) follow one
//! seeded sequence of queue depths. Each round, eight `fast-autoscaler run
//! --once` processes start up to 250 ms apart, each with a tick of its own, while
//! moto holds every UpdateService 400 ms: the window between a claim and ECS
//! showing it. Some processes are killed at a random moment of their run, some
//! of them between their claim and their UpdateService; the next rounds' workers
//! stand down until the claim's lease expires, then take it over. The tick
//! interval is 1 s, so a lease is 3 s.
//!
//! Checked:
//!
//! - **no double action**: moto serves at most one UpdateService per service a
//!   round;
//! - **no lost decision**: once the rounds are over and the leases expired, every
//!   service's count is the one a single worker reaches on the same depths;
//! - **no corrupt state**: every state object parses, and no decision found one
//!   unreadable.
//!
//! Usage: `chaos [--rounds N] [--kill-rate R]` (defaults 200 and 0.3). Prints the
//! figures; exits 1 if any check failed.

use fast_autoscaler_worker::core::target::TargetId;
use std::path::PathBuf;

use fast_autoscaler_core::state::ServiceState;
use fast_autoscaler_lab::{arg, emulator_or_exit, share_arg};
use fast_autoscaler_tests::processes::{
    depths, four_services, run_once_each, set_depth, Ended, Plan, XorShift, FOUR_SERVICES,
};
use fast_autoscaler_tests::{workspace_binary, Emulator};
use fast_autoscaler_worker::store::StateStore;
use serde_json::{json, Value};

const BUCKET: &str = "chaos-state";
const PROCESSES: usize = 8;
const SERVICES: [(&str, &str, u64); 4] = FOUR_SERVICES;
/// One process, never killed.
const ALONE: [Plan; 1] = [Plan {
    start_after_ms: 0,
    kill_after_ms: None,
}];
/// How long moto holds each UpdateService before applying it.
const SLOW_UPDATE_SERVICE_MS: u64 = 400;
/// The latest moment a process is killed, from its start: past a whole run.
const KILL_WITHIN_MS: u64 = 1_500;

fn document(prefix: &str, queue: &str) -> Value {
    json!({"state_bucket": BUCKET, "tick_interval_seconds": 1, "services": four_services(prefix, queue)})
}

#[derive(Debug, Default)]
struct Figures {
    rounds: usize,
    processes: usize,
    killed: usize,
    /// Claims a killed process left unapplied, found at the end of its round.
    claims_left: usize,
    applied: usize,
    stood_down: usize,
    update_service_calls: u64,
    /// Rounds in which moto served more UpdateService calls than services.
    double_actions: usize,
    corrupt: usize,
    /// Each service's final count, and the single worker's.
    final_counts: Vec<(i32, i32)>,
}

struct Fleet<'a> {
    emulator: &'a Emulator,
    prefix: String,
    queue: String,
    config: PathBuf,
    env: Vec<(String, String)>,
    depth: u64,
}

impl<'a> Fleet<'a> {
    async fn new(emulator: &'a Emulator, prefix: &str) -> Fleet<'a> {
        let queue = emulator.create_queue(&format!("{prefix}-jobs")).await;
        for (cluster, service, _) in SERVICES {
            emulator
                .create_service(&format!("{prefix}-{cluster}"), service, 1)
                .await;
        }
        let config =
            std::env::temp_dir().join(format!("fa-chaos-{prefix}-{}.json", std::process::id()));
        std::fs::write(&config, document(prefix, &queue).to_string()).expect("config file");
        let mut env = emulator.env();
        env.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
        Fleet {
            emulator,
            prefix: prefix.to_string(),
            queue,
            config,
            env,
            depth: 0,
        }
    }

    async fn counts(&self) -> Vec<i32> {
        let mut counts = Vec::new();
        for (cluster, service, _) in SERVICES {
            let cluster = format!("{}-{cluster}", self.prefix);
            counts.push(self.emulator.desired_count(&cluster, service).await);
        }
        counts
    }

    async fn states(&self) -> Vec<Option<Result<ServiceState, String>>> {
        let mut states = Vec::new();
        for (cluster, service, _) in SERVICES {
            let key = StateStore::key(&TargetId::ecs_service(
                &format!("{}-{cluster}", self.prefix),
                service,
            ));
            let object = self.emulator.state_object(BUCKET, &key).await;
            states.push(object.map(|bytes| ServiceState::parse(&bytes)));
        }
        states
    }

    async fn round(&mut self, depth: u64, plans: &[Plan]) -> Vec<Ended> {
        set_depth(self.emulator, &self.queue, &mut self.depth, depth).await;
        run_once_each(
            &workspace_binary("fast-autoscaler"),
            &self.env,
            &self.config,
            plans,
        )
        .await
    }
}

/// Claims recorded in a state but not applied: ECS still at the claim's `from`.
async fn claims_left(fleet: &Fleet<'_>) -> usize {
    let counts = fleet.counts().await;
    let states = fleet.states().await;
    states
        .iter()
        .zip(counts)
        .filter(|(state, count)| {
            let Some(Ok(state)) = state else { return false };
            state
                .last_action
                .as_ref()
                .is_some_and(|a| a.from != a.to && i64::from(a.from) == i64::from(*count))
        })
        .count()
}

/// Runs single `run --once` rounds on the last depth until the counts hold
/// still twice, past every lease.
async fn settle(fleet: &mut Fleet<'_>, depth: u64) -> Vec<i32> {
    let mut last = Vec::new();
    let mut still = 0;
    for _ in 0..20 {
        fleet.round(depth, &ALONE).await;
        let counts = fleet.counts().await;
        still = if counts == last { still + 1 } else { 0 };
        last = counts;
        if still >= 2 && claims_left(fleet).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    }
    last
}

/// One round's plans: each process starts within 250 ms, and a `kill_rate`
/// share of them is killed at a random moment within [`KILL_WITHIN_MS`].
fn random_plans(rng: &mut XorShift, kill_rate: f64) -> Vec<Plan> {
    (0..PROCESSES)
        .map(|_| Plan {
            start_after_ms: rng.next(250),
            kill_after_ms: (rng.next(1000) < (kill_rate * 1000.0) as u64)
                .then(|| rng.next(KILL_WITHIN_MS)),
        })
        .collect()
}

/// Runs one round of `plans` at queue `depth` and adds what it saw to
/// `figures`: UpdateService calls (more than one a service is a double
/// action), kills, applied and stood-down decisions, unreadable states and
/// claims a killed worker left.
async fn chaos_round(
    emulator: &Emulator,
    fleet: &mut Fleet<'_>,
    depth: u64,
    plans: &[Plan],
    figures: &mut Figures,
) {
    emulator.reset_calls();
    let ended = fleet.round(depth, plans).await;
    if ended.iter().any(|e| e.killed_after_ms.is_some()) {
        // A killed worker's UpdateService may still be held by moto: let it
        // land in this round's count, not the next one's.
        tokio::time::sleep(std::time::Duration::from_millis(
            SLOW_UPDATE_SERVICE_MS + 200,
        ))
        .await;
    }
    let calls = emulator
        .calls()
        .get("ecs:UpdateService")
        .copied()
        .unwrap_or(0);
    figures.update_service_calls += calls;
    if calls > SERVICES.len() as u64 {
        figures.double_actions += 1;
        eprintln!(
            "round {}: {calls} UpdateService calls for {} services",
            figures.rounds,
            SERVICES.len()
        );
    }
    figures.rounds += 1;
    figures.processes += ended.len();
    figures.killed += ended.iter().filter(|e| e.killed_after_ms.is_some()).count();
    for line in ended.iter().flat_map(|e| &e.lines) {
        figures.applied += usize::from(line.applied);
        figures.stood_down += usize::from(line.reason.contains("stood down"));
        figures.corrupt += usize::from(line.reason.contains("unreadable"));
    }
    figures.claims_left += claims_left(fleet).await;
}

#[tokio::main]
async fn main() {
    let rounds: usize = arg("--rounds", 200);
    let kill_rate = share_arg("--kill-rate", 0.3);
    let emulator = emulator_or_exit("the chaos run", "chaos").await;
    emulator.create_bucket(BUCKET).await;
    let depths = depths(rounds);
    println!(
        "chaos: {rounds} rounds of {PROCESSES} worker processes over {} services; {:.0}% of them killed with SIGKILL at a random moment; UpdateService held {SLOW_UPDATE_SERVICE_MS} ms",
        SERVICES.len(),
        kill_rate * 100.0
    );

    // The reference: one process a round, never killed.
    let mut single = Fleet::new(&emulator, "single").await;
    for &depth in &depths {
        single.round(depth, &ALONE).await;
    }
    let reference = settle(&mut single, depths.last().copied().unwrap_or(0)).await;

    let mut fleet = Fleet::new(&emulator, "chaos").await;
    let mut rng = XorShift(0xdead_beef);
    let mut figures = Figures::default();
    emulator.delay_calls(&[("ecs:UpdateService", SLOW_UPDATE_SERVICE_MS)]);
    let started = std::time::Instant::now();
    for (round, &depth) in depths.iter().enumerate() {
        let plans = random_plans(&mut rng, kill_rate);
        chaos_round(&emulator, &mut fleet, depth, &plans, &mut figures).await;
        if round % 50 == 49 {
            eprintln!(
                "round {} at {:.0} s",
                round + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    emulator.delay_calls(&[]);
    let final_counts = settle(&mut fleet, depths.last().copied().unwrap_or(0)).await;
    figures.final_counts = final_counts
        .iter()
        .copied()
        .zip(reference.iter().copied())
        .collect();
    figures.corrupt += fleet
        .states()
        .await
        .iter()
        .filter(|s| matches!(s, Some(Err(_))))
        .count();
    let _ = std::fs::remove_file(&fleet.config);
    let _ = std::fs::remove_file(&single.config);
    report(&figures, started.elapsed().as_secs_f64());
}

fn report(figures: &Figures, seconds: f64) {
    let lost = figures
        .final_counts
        .iter()
        .filter(|(chaos, single)| chaos != single)
        .count();
    println!(
        "rounds                                        {}",
        figures.rounds
    );
    println!(
        "worker processes                              {}",
        figures.processes
    );
    println!(
        "killed with SIGKILL                           {}",
        figures.killed
    );
    println!(
        "claims left unapplied by a killed worker      {}",
        figures.claims_left
    );
    println!(
        "actions applied (reported)                    {}",
        figures.applied
    );
    println!(
        "UpdateService calls served                    {}",
        figures.update_service_calls
    );
    println!(
        "stood down, saying why                        {}",
        figures.stood_down
    );
    println!(
        "double actions (must be 0)                    {}",
        figures.double_actions
    );
    println!("lost decisions (must be 0)                    {lost}");
    println!(
        "corrupt states (must be 0)                    {}",
        figures.corrupt
    );
    println!(
        "final counts, killed workers vs one worker    {:?}",
        figures.final_counts
    );
    println!("seconds                                       {seconds:.0}");
    if figures.double_actions > 0 || lost > 0 || figures.corrupt > 0 {
        std::process::exit(1);
    }
}
