//! A fleet in the simulator: many services, each with its own queue and
//! tasks, scaled by the core's tick machine (`fast_autoscaler_core::tick`)
//! under one account's API budget, as the worker scales a shard.
//!
//! Every tick runs one machine over the whole fleet, in memory: it describes
//! what the budget allows (the others are decided on counts kept from earlier
//! ticks, at most a minute old), makes the changes its allowance reaches, the
//! most urgent first, and defers the rest to the next tick with their place in
//! line. What a fleet-wide surge costs in waiting, against a budget that never
//! binds, is then a figure of the simulator, not a guess.

use fast_autoscaler_core::budget::{ApiBudget, TickAllowance};
use fast_autoscaler_core::settings::PolicySettings;
use fast_autoscaler_core::state::Stored;
use fast_autoscaler_core::target::{TargetId, TargetView};
use fast_autoscaler_core::tick::{InMemory, Kept, Tick, TickTarget};
use fast_autoscaler_core::QueueMetrics;

use crate::autoscaler::{counts, simulated_tick};
use crate::simulation::{Outcome, Queue, Tally, Tasks};
use crate::trace::Trace;
use crate::workload::Workload;

/// What a fleet's run came to.
#[derive(Debug, Clone)]
pub struct FleetOutcome {
    /// Each service's figures, in order.
    pub services: Vec<Outcome>,
    /// What one tick may spend.
    pub allowance: TickAllowance,
    /// The most changes, and the most describe calls, one tick made.
    pub most_changes_in_a_tick: usize,
    pub most_describes_in_a_tick: usize,
    /// Changes that waited for the budget, counted at each tick they waited.
    pub waits: u64,
    /// Decisions made on counts kept from an earlier tick.
    pub on_kept_counts: u64,
}

/// One service of the fleet.
struct Lane<'t> {
    trace: &'t Trace,
    queue: Queue,
    tasks: Tasks,
    tally: Tally,
    /// Tasks that worked in the last second.
    busy: f64,
    stored: Stored,
    kept: Option<Kept>,
}

/// What every tick of a fleet's run shares.
struct Fleet<'a> {
    ids: Vec<TargetId>,
    policy: &'a PolicySettings,
    budget: ApiBudget,
    tick_s: usize,
    workload: Workload,
}

/// Runs `policy` over one service per trace (all as long as the shortest),
/// every `tick_s` seconds, within `budget`.
pub fn run_fleet(
    traces: &[Trace],
    workload: Workload,
    policy: &PolicySettings,
    tick_s: usize,
    budget: ApiBudget,
) -> FleetOutcome {
    let seconds = traces.iter().map(|t| t.arrivals.len()).min().unwrap_or(0);
    let fleet = Fleet {
        ids: (0..traces.len())
            .map(|i| TargetId::ecs_service("fleet", &format!("svc-{i:04}")))
            .collect(),
        policy,
        budget,
        tick_s: tick_s.max(1),
        workload,
    };
    let mut lanes: Vec<Lane<'_>> = traces
        .iter()
        .map(|trace| lane(trace, policy, seconds))
        .collect();
    let tick_s = fleet.tick_s;
    let mut outcome = FleetOutcome {
        services: Vec::new(),
        allowance: budget.allowance(tick_s as u32, 1),
        most_changes_in_a_tick: 0,
        most_describes_in_a_tick: 0,
        waits: 0,
        on_kept_counts: 0,
    };
    for now in 0..seconds {
        for lane in &mut lanes {
            lane.queue.arrive(now, lane.trace.arrivals[now]);
            let running = lane.tasks.running(now);
            lane.busy = lane.queue.work(now, running as f64 * workload.mu) / workload.mu;
        }
        if now % tick_s == 0 {
            fleet.tick(&mut lanes, now, &mut outcome);
        }
        for lane in &mut lanes {
            let running = lane.tasks.running(now) as u32;
            let requested = lane.tasks.count();
            lane.tally
                .second(now, lane.queue.backlog, running, requested);
        }
    }
    outcome.services = lanes
        .into_iter()
        .map(|lane| {
            let paid = lane.tally.paid;
            lane.tally
                .outcome("fleet".into(), lane.queue, lane.trace, workload, paid)
        })
        .collect();
    outcome
}

fn lane<'t>(trace: &'t Trace, policy: &PolicySettings, seconds: usize) -> Lane<'t> {
    let mut tasks = Tasks::default();
    tasks.set(policy.min_tasks, 0, 0);
    Lane {
        trace,
        queue: Queue::new(trace.initial_backlog),
        tasks,
        tally: Tally::new(trace.initial_backlog, seconds),
        busy: 0.0,
        stored: Stored::Missing,
        kept: None,
    }
}

impl Fleet<'_> {
    /// One tick of the machine over the whole fleet at second `now`.
    fn tick(&self, lanes: &mut [Lane<'_>], now: usize, outcome: &mut FleetOutcome) {
        let now_ms = now as u64 * 1000;
        let targets = (self.ids.iter().zip(lanes.iter()))
            .map(|(id, lane)| TickTarget {
                id,
                policy: self.policy,
                budget: &self.budget,
                kept: lane.kept.clone(),
            })
            .collect();
        let at = simulated_tick(now_ms, self.tick_s);
        let views: Vec<TargetView> = (lanes.iter())
            .map(|lane| counts(lane.tasks.count(), lane.tasks.running(now) as u32))
            .collect();
        let readings = (lanes.iter())
            .map(|lane| Ok(reading(lane, self.workload)))
            .collect();
        let mut stored: Vec<Stored> = (lanes.iter_mut())
            .map(|lane| std::mem::replace(&mut lane.stored, Stored::Missing))
            .collect();
        let ran = Tick::new(targets, at).run_in_memory(InMemory {
            views: &views,
            readings,
            forecasts: &vec![None; lanes.len()],
            stored: &mut stored,
        });
        outcome.most_describes_in_a_tick = outcome.most_describes_in_a_tick.max(ran.describe_calls);
        let changes = ran.set.iter().flatten().count();
        outcome.most_changes_in_a_tick = outcome.most_changes_in_a_tick.max(changes);
        for (i, kept) in ran.kept {
            lanes[i].kept = Some(kept);
        }
        let results = ran.set.iter().zip(&ran.outcomes);
        for ((lane, state), (set, result)) in lanes.iter_mut().zip(stored).zip(results) {
            lane.stored = state;
            let reason = &result.decision.reason;
            outcome.waits += u64::from(reason.contains("waiting for the"));
            outcome.on_kept_counts += u64::from(reason.contains("[counts read"));
            if let Some(desired) = set {
                lane.tasks.set(*desired, now, self.workload.startup_s);
                lane.tally.actions += 1;
            }
        }
    }
}

/// What the service's provider would read now: the backlog, and a message in
/// flight for every busy task.
fn reading(lane: &Lane<'_>, workload: Workload) -> QueueMetrics {
    QueueMetrics {
        visible: lane.queue.backlog as u64,
        in_flight: lane.busy.round() as u64,
        delayed: 0,
        dequeued_total: workload
            .consumption_counter
            .then_some(lane.queue.consumed as u64),
        oldest_message: None,
        max_consumers: None,
        busiest: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::recommended_policy;
    use fast_autoscaler_core::budget::ECS_BUDGET;

    /// 1 message a second each, then 400 more in one second at 5 minutes,
    /// for every service of the fleet at once.
    fn surging(services: usize) -> Vec<Trace> {
        let mut arrivals = vec![1.0; 1200];
        arrivals[300] += 400.0;
        (0..services)
            .map(|i| Trace {
                name: format!("surge-{i}"),
                arrivals: arrivals.clone(),
                initial_backlog: 0.0,
                surge_start_s: Some(300),
                history_per_minute: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn a_fleet_wide_surge_is_served_within_the_budget_and_nothing_is_lost() {
        let workload = Workload {
            mu: 1.0,
            startup_s: 45,
            consumption_counter: false,
        };
        let policy = recommended_policy(workload);
        let traces = surging(300);
        let within = run_fleet(&traces, workload, &policy, 10, ECS_BUDGET);
        // Half of ECS's quotas at 10-s ticks: 25 changes, 50 describe calls.
        assert_eq!(
            within.allowance,
            TickAllowance {
                describe_calls: 50,
                updates: 25
            }
        );
        assert!(
            within.most_changes_in_a_tick <= 25,
            "{}",
            within.most_changes_in_a_tick
        );
        assert!(
            within.most_describes_in_a_tick <= 50,
            "{}",
            within.most_describes_in_a_tick
        );
        // 300 services could not all change in one tick: some waited their turn.
        assert!(within.waits > 0);
        // Every service was served: all scaled out for the surge, and its
        // backlog was worked off before the end.
        for service in &within.services {
            assert!(service.scaling_actions >= 2, "{service:?}");
            assert!(service.max_wait_s < 600.0, "{}", service.max_wait_s);
        }
        // Against a budget that never binds, the same fleet waits longer for
        // the budget, and no service is served worse than the slowest line.
        let unbounded = ApiBudget {
            share: 1.0,
            read: fast_autoscaler_core::budget::Quota {
                per_second: 1e6,
                burst: 1e6,
            },
            modify: fast_autoscaler_core::budget::Quota {
                per_second: 1e6,
                burst: 1e6,
            },
            ..ECS_BUDGET
        };
        let free = run_fleet(&traces, workload, &policy, 10, unbounded);
        assert_eq!((free.waits, free.on_kept_counts), (0, 0));
        let worst = |o: &FleetOutcome| o.services.iter().map(|s| s.p99_wait_s).fold(0.0, f64::max);
        assert!(
            worst(&within) >= worst(&free),
            "{} vs {}",
            worst(&within),
            worst(&free)
        );
    }
}
