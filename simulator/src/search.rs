//! Tuning on the user's own workload: the predictive rule's settings searched on a
//! trace, the Pareto frontier of p99 wait against cost, and one point chosen.
//!
//! The search space is built around the tasks' start-up delay S, the quantity the
//! recommended settings derive from: the drain target and the scale-in
//! stabilization each from S/3 to 4 S (and no stabilization at all), with and
//! without a one-minute scale-out cooldown; a window releases idle tasks
//! gradually, as the recommended settings do. On a trace with days of history,
//! each also with `anticipation: on`. Each setting runs through the same
//! simulation as `simulate`, in parallel. A setting is on the frontier when no
//! other is both cheaper and faster.

use fast_autoscaler_core::settings::{
    Anticipation, AnticipationMode, PolicyKind, PolicySettings, ScaleInRelease, DEFAULT_TOLERANCE,
};
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::simulation::run;
use crate::strategy::fast;
use crate::trace::Trace;
use crate::workload::Workload;

/// One setting of the predictive rule's tunable knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub target_drain_s: u64,
    pub stabilization_s: u64,
    pub scale_out_cooldown_s: u64,
    /// `target_utilization` in percent (100: no spare tasks).
    pub utilization_pct: u32,
    /// `anticipation: on`, at the configuration's confidence.
    pub anticipation: bool,
}

/// A candidate's figures on the trace.
#[derive(Debug, Clone)]
pub struct TunePoint {
    pub candidate: Candidate,
    pub policy: PolicySettings,
    pub p99_wait_s: f64,
    pub task_seconds: f64,
    pub actions: u64,
}

/// The settings searched, from the start-up delay `startup_s`.
pub fn candidates(startup_s: u64) -> Vec<Candidate> {
    let s = startup_s.max(3);
    let multiples = [s / 3, s / 2, s, 2 * s, 4 * s];
    let stabilizations = [0, s / 2, s, 2 * s, 4 * s];
    let mut all = Vec::new();
    for target_drain_s in multiples {
        for stabilization_s in stabilizations {
            for scale_out_cooldown_s in [0, 60] {
                all.push(Candidate {
                    target_drain_s: target_drain_s.max(1),
                    stabilization_s,
                    scale_out_cooldown_s,
                    utilization_pct: 100,
                    anticipation: false,
                });
            }
        }
    }
    all
}

/// The target utilizations [`with_spare_capacity`] adds: up to twice the tasks
/// the work needs.
pub const SPARE_UTILIZATIONS_PCT: [u32; 4] = [90, 80, 67, 50];

/// `candidates` again at each of [`SPARE_UTILIZATIONS_PCT`] besides full use:
/// the same rule holding spare capacity ahead of surges, paid for throughout.
pub fn with_spare_capacity(candidates: &[Candidate]) -> Vec<Candidate> {
    let mut all = candidates.to_vec();
    for utilization_pct in SPARE_UTILIZATIONS_PCT {
        all.extend(candidates.iter().map(|c| Candidate {
            utilization_pct,
            ..*c
        }));
    }
    all
}

/// `candidates` again with `anticipation: on`, for traces with days of history
/// to learn recurring surges from (see [`crate::strategy::has_days`]).
pub fn with_anticipation(candidates: &[Candidate]) -> Vec<Candidate> {
    let mut all = candidates.to_vec();
    all.extend(candidates.iter().map(|c| Candidate {
        anticipation: true,
        ..*c
    }));
    all
}

/// The predictive policy of `candidate`, with `base`'s bounds (and its
/// anticipation's confidence and hints).
pub fn policy_of(
    base: &PolicySettings,
    workload: Workload,
    candidate: Candidate,
) -> PolicySettings {
    PolicySettings {
        kind: PolicyKind::Predictive {
            task_throughput: workload.mu,
            task_startup_s: workload.startup_s as u64,
            target_drain_s: candidate.target_drain_s,
            target_utilization: f64::from(candidate.utilization_pct) / 100.0,
            tolerance: DEFAULT_TOLERANCE,
        },
        scale_in_stabilization_s: candidate.stabilization_s,
        scale_in_release: if candidate.stabilization_s > 0 {
            ScaleInRelease::Gradual
        } else {
            ScaleInRelease::Window
        },
        scale_in_cooldown_s: 0,
        scale_out_cooldown_s: candidate.scale_out_cooldown_s,
        emergency_backlog: None,
        anticipation: Anticipation {
            mode: if candidate.anticipation {
                AnticipationMode::On
            } else {
                AnticipationMode::Off
            },
            ..base.anticipation.clone()
        },
        ..base.clone()
    }
}

/// Every candidate on `trace` at `tick_s`, in parallel; `done` is called after each.
pub fn evaluate(
    trace: &Trace,
    workload: Workload,
    base: &PolicySettings,
    tick_s: usize,
    candidates: &[Candidate],
    done: &(dyn Fn() + Sync),
) -> Vec<TunePoint> {
    candidates
        .par_iter()
        .map(|&candidate| {
            let policy = policy_of(base, workload, candidate);
            let outcome = run(trace, workload, base, &fast("tuned", tick_s, &policy));
            done();
            TunePoint {
                candidate,
                policy,
                p99_wait_s: outcome.p99_wait_s,
                task_seconds: outcome.task_seconds,
                actions: outcome.scaling_actions,
            }
        })
        .collect()
}

/// The indices of the points no other point beats on both cost and p99, cheapest
/// first.
pub fn pareto(points: &[TunePoint]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        points[a]
            .task_seconds
            .total_cmp(&points[b].task_seconds)
            .then(points[a].p99_wait_s.total_cmp(&points[b].p99_wait_s))
    });
    let mut frontier = Vec::new();
    let mut best_p99 = f64::INFINITY;
    for i in order {
        if points[i].p99_wait_s < best_p99 {
            best_p99 = points[i].p99_wait_s;
            frontier.push(i);
        }
    }
    frontier
}

/// How to pick a point of the frontier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    /// The cheapest with a p99 wait of at most this many seconds.
    MaxP99(f64),
    /// The fastest costing at most this many task-hours.
    Budget(f64),
}

/// The frontier point `choice` picks, if any meets it.
pub fn choose(points: &[TunePoint], frontier: &[usize], choice: Choice) -> Option<usize> {
    match choice {
        Choice::MaxP99(limit) => frontier
            .iter()
            .copied()
            .find(|&i| points[i].p99_wait_s <= limit),
        Choice::Budget(hours) => frontier
            .iter()
            .copied()
            .filter(|&i| points[i].task_seconds <= hours * 3600.0)
            .min_by(|&a, &b| points[a].p99_wait_s.total_cmp(&points[b].p99_wait_s)),
    }
}

/// The configuration keys of a tuned policy, as a service object or `defaults`
/// takes them.
pub fn policy_json(policy: &PolicySettings) -> Value {
    let (throughput, startup, drain, utilization, tolerance) = match policy.kind {
        PolicyKind::Predictive {
            task_throughput,
            task_startup_s,
            target_drain_s,
            target_utilization,
            tolerance,
        } => (
            task_throughput,
            task_startup_s,
            target_drain_s,
            target_utilization,
            tolerance,
        ),
        _ => (0.0, 0, 0, 1.0, DEFAULT_TOLERANCE),
    };
    let mut settings = json!({
        "scaling_policy": "predictive",
        "task_throughput": throughput,
        "task_startup_seconds": startup,
        "target_drain_seconds": drain,
        "scale_in_stabilization": policy.scale_in_stabilization_s,
        "scale_in_cooldown": policy.scale_in_cooldown_s,
        "scale_out_cooldown": policy.scale_out_cooldown_s,
        "min_tasks": policy.min_tasks,
        "max_tasks": policy.max_tasks,
    });
    if utilization < 1.0 {
        settings["target_utilization"] = json!(utilization);
    }
    if tolerance != DEFAULT_TOLERANCE {
        settings["tolerance"] = json!(tolerance);
    }
    if policy.scale_in_release != ScaleInRelease::default() {
        settings["scale_in_release"] = json!(policy.scale_in_release);
    }
    if policy.anticipation.mode != AnticipationMode::Off {
        settings["anticipation"] = json!(policy.anticipation.mode);
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::example_policy;

    fn point(task_hours: f64, p99: f64) -> TunePoint {
        TunePoint {
            candidate: Candidate {
                target_drain_s: 45,
                stabilization_s: 45,
                scale_out_cooldown_s: 0,
                utilization_pct: 100,
                anticipation: false,
            },
            policy: example_policy(),
            p99_wait_s: p99,
            task_seconds: task_hours * 3600.0,
            actions: 0,
        }
    }

    #[test]
    fn the_frontier_keeps_only_points_nothing_beats_and_choices_pick_from_it() {
        let points = vec![
            point(10.0, 100.0),
            point(12.0, 60.0),
            point(11.0, 120.0), // beaten by the first
            point(15.0, 30.0),
            point(16.0, 30.0), // as fast as the fourth, dearer
        ];
        assert_eq!(pareto(&points), vec![0, 1, 3]);
        let frontier = pareto(&points);
        assert_eq!(choose(&points, &frontier, Choice::MaxP99(60.0)), Some(1));
        assert_eq!(choose(&points, &frontier, Choice::MaxP99(10.0)), None);
        assert_eq!(choose(&points, &frontier, Choice::Budget(12.5)), Some(1));
        assert_eq!(choose(&points, &frontier, Choice::Budget(9.0)), None);
    }

    #[test]
    fn tuning_runs_every_candidate_and_its_choice_is_a_valid_configuration() {
        let workload = Workload {
            mu: 1.0,
            startup_s: 45,
            consumption_counter: false,
        };
        let trace = Trace::built_in("bursty", 3600).expect("trace");
        let all = candidates(45);
        assert_eq!(all.len(), 50);
        let all = with_spare_capacity(&all);
        assert_eq!(all.len(), 250);
        let counted = std::sync::atomic::AtomicUsize::new(0);
        let points = evaluate(&trace, workload, &example_policy(), 10, &all, &|| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(counted.into_inner(), 250);
        let frontier = pareto(&points);
        assert!(!frontier.is_empty());
        let chosen = choose(&points, &frontier, Choice::Budget(1e9)).expect("the fastest");
        let json = policy_json(&points[chosen].policy);
        assert_eq!(json["scaling_policy"], "predictive");
        assert_eq!(json["task_startup_seconds"], 45);
        // Every setting is a configuration the worker accepts (its policy keys
        // read by the same readers), and reads back as the policy simulated.
        for point in &points {
            let json = policy_json(&point.policy);
            let object = json.as_object().expect("an object of policy keys");
            let read = fast_autoscaler_core::settings::policy_from_json(object)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(read, point.policy, "{:?}", point.candidate);
        }
        // With days of history each is tried with anticipation too, and reads
        // back with it.
        let anticipating = with_anticipation(&candidates(45));
        assert_eq!(anticipating.len(), 100);
        for candidate in anticipating.iter().filter(|c| c.anticipation).take(5) {
            let policy = policy_of(&example_policy(), workload, *candidate);
            let json = policy_json(&policy);
            assert_eq!(json["anticipation"], "on");
            let object = json.as_object().expect("an object of policy keys");
            let read = fast_autoscaler_core::settings::policy_from_json(object)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(read, policy, "{candidate:?}");
        }
    }
}
