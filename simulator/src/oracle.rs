//! The oracle: the physical limit of any scaling strategy on a trace.
//!
//! It knows the whole trace in advance, and has what every other strategy has: the
//! same tasks (each works `mu` messages a second and is paid from the moment it is
//! requested, so a task becomes useful `startup_s` seconds after it is paid for),
//! the same `max_tasks`, and the same tasks at t = 0 (`min_tasks`, already running).
//! It provisions the fewest task-seconds that keep every message's wait within W,
//! or, for a message no schedule can serve that soon (it arrives before the first
//! new task could be ready, or with more waiting than `max_tasks` can work off),
//! as short as physically possible: [`fastest_plan`] serves every message as early
//! as any schedule can, and the oracle is held to it there.
//!
//! # The problem
//!
//! With n(t) tasks running in second t, the cost is
//!
//! ```text
//! Σ_t n(t)  +  S · Σ_t max(0, n(t) − n(t−1))         (n(−1) = the tasks at t = 0)
//! ```
//!
//! the running task-seconds plus S paid start-up seconds for every task started.
//! Stopping is free. Subject to: 0 ≤ n(t) ≤ max_tasks; n(t) ≤ n(−1) for t < S (no
//! new task can be ready sooner); and the queue, first in first out, serves every
//! message within W seconds of its arrival. With X(t) the messages served by the
//! end of second t and A(t) those arrived by then,
//!
//! ```text
//! X(t) − X(t−1) ≤ mu · n(t),   X(t−1) ≤ X(t) ≤ A(t),   X(t) ≥ min(A(t − W), F(t))
//! ```
//!
//! where F(t) is what the fastest plan has served by then.
//!
//! This is the offline right-sizing problem with a switching cost (Lin, Wierman,
//! Andrew and Thereska, INFOCOM 2011), with a queue in place of per-slot load.
//!
//! # How it is solved
//!
//! As a linear program, to optimality, with the Clarabel interior-point solver: one
//! variable per second for n, for the starts and for X, every constraint linking
//! only neighbouring seconds. Task counts are relaxed to real numbers (capacity as
//! a fluid), which can only lower the optimum: the LP's value is a lower bound on
//! every strategy that runs whole tasks, and exact for the fluid problem.
//!
//! An integer plan is also built from the LP's service schedule: each second, the
//! whole tasks its work needs, and per task "layer" a gap shorter than S bridged
//! (keeping a task idle for g < S seconds is cheaper than restarting it). Its cost
//! bounds the integer optimum from above; [`OracleSolution::integer_task_seconds`]
//! shows how close the two are. The waits of the plan are what the table prints.
//!
//! For long traces the LP can run on blocks of `step_s` seconds: the constraints
//! are then only required at block ends, and a block's tasks are its average. Every
//! schedule of whole seconds is feasible for the blocked problem at a cost no
//! higher (the average's rises are never more than the seconds'), so its value is
//! still a lower bound, only a looser one.

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

use fast_autoscaler_core::settings::PolicySettings;

use crate::trace::Trace;
use crate::workload::Workload;
use crate::Error;

/// The LP block the oracle uses on a trace of `seconds`: exact (1 s) up to six
/// hours, 10 s up to two days, 60 s beyond, so a week solves in seconds and a
/// month within a minute or two; coarser blocks are a looser lower bound (see
/// the module docs), and have no integer plan.
pub fn block_for(seconds: usize) -> usize {
    match seconds {
        0..=21_600 => 1,
        21_601..=172_800 => 10,
        _ => 60,
    }
}

/// What the oracle is asked to plan for.
#[derive(Debug, Clone, Copy)]
pub struct OracleProblem<'a> {
    pub trace: &'a Trace,
    pub workload: Workload,
    pub max_tasks: u32,
    /// Tasks already running at t = 0, free of start-up (the strategies' `min_tasks`).
    pub initial_tasks: u32,
    /// Seconds per LP block: 1 is exact; more is a looser lower bound on long traces.
    pub step_s: usize,
}

impl<'a> OracleProblem<'a> {
    /// The problem every strategy on `trace` is placed against: `policy`'s
    /// bounds, its `min_tasks` running at t = 0, on the blocks
    /// [`block_for`] gives the trace's length.
    pub fn within_bounds(trace: &'a Trace, workload: Workload, policy: &PolicySettings) -> Self {
        OracleProblem {
            trace,
            workload,
            max_tasks: policy.max_tasks,
            initial_tasks: policy.min_tasks,
            step_s: block_for(trace.arrivals.len()),
        }
    }
}

/// The oracle's answer for one wait bound.
#[derive(Debug, Clone)]
pub struct OracleSolution {
    pub max_wait_s: usize,
    /// The exact optimum of the (fluid) LP: the lower bound.
    pub task_seconds: f64,
    /// Whole tasks running each second (only for `step_s == 1`).
    pub plan: Vec<u32>,
    /// The plan's cost: an upper bound on the integer optimum.
    pub integer_task_seconds: f64,
}

/// Cumulative arrivals by the end of each second, the initial backlog included.
fn cumulative(trace: &Trace) -> Vec<f64> {
    let mut total = trace.initial_backlog;
    trace
        .arrivals
        .iter()
        .map(|a| {
            total += a;
            total
        })
        .collect()
}

/// The LP in Clarabel's form: minimise q'x subject to A x ≤ b (one nonnegative cone).
struct Program {
    q: Vec<f64>,
    a: CscMatrix<f64>,
    b: Vec<f64>,
    blocks: usize,
}

/// Row offsets of the constraint families, `blocks` rows each.
struct Rows {
    blocks: usize,
}

impl Rows {
    const FAMILIES: usize = 8;
    fn capacity(&self) -> usize {
        0
    }
    fn monotone(&self) -> usize {
        self.blocks
    }
    fn arrived(&self) -> usize {
        2 * self.blocks
    }
    fn deadline(&self) -> usize {
        3 * self.blocks
    }
    fn starts(&self) -> usize {
        4 * self.blocks
    }
    fn bound(&self) -> usize {
        5 * self.blocks
    }
    fn tasks_positive(&self) -> usize {
        6 * self.blocks
    }
    fn starts_positive(&self) -> usize {
        7 * self.blocks
    }
    fn count(&self) -> usize {
        Self::FAMILIES * self.blocks
    }
}

impl OracleProblem<'_> {
    fn blocks(&self) -> usize {
        self.trace.arrivals.len().div_ceil(self.step_s.max(1))
    }

    /// The right-hand sides: arrivals, deadlines and bounds, for wait bound `w`.
    fn right_hand_sides(&self, w: usize, cumulative: &[f64]) -> Vec<f64> {
        let (step, blocks) = (self.step_s.max(1), self.blocks());
        let rows = Rows { blocks };
        let mut b = vec![0.0; rows.count()];
        let last = cumulative.len() - 1;
        let fastest = served_by(
            self.trace,
            self.workload,
            &fastest_plan(
                self.trace,
                self.workload,
                self.max_tasks,
                self.initial_tasks,
            ),
        );
        for k in 0..blocks {
            let end = ((k + 1) * step - 1).min(last);
            b[rows.arrived() + k] = cumulative[end];
            let due = if end >= w { cumulative[end - w] } else { 0.0 };
            // A small tolerance: the fastest plan's own service, summed in another
            // order, must not make the bound unreachable by rounding.
            b[rows.deadline() + k] = -(due.min(fastest[end]) - 1e-9).max(0.0);
            let before_startup = (k + 1) * step <= self.workload.startup_s;
            b[rows.bound() + k] = f64::from(if before_startup {
                self.initial_tasks.min(self.max_tasks)
            } else {
                self.max_tasks
            });
        }
        b[rows.starts()] = f64::from(self.initial_tasks);
        b
    }

    /// Variables: n (average tasks per block), starts, X (served by block end).
    fn program(&self, w: usize, cumulative: &[f64]) -> Program {
        let (step, blocks) = (self.step_s.max(1) as f64, self.blocks());
        let rows = Rows { blocks };
        let capacity = self.workload.mu * step;
        let mut columns: Vec<Vec<(usize, f64)>> = Vec::with_capacity(3 * blocks);
        for k in 0..blocks {
            let mut c = vec![(rows.capacity() + k, -capacity), (rows.starts() + k, 1.0)];
            if k + 1 < blocks {
                c.push((rows.starts() + k + 1, -1.0));
            }
            c.extend([(rows.bound() + k, 1.0), (rows.tasks_positive() + k, -1.0)]);
            columns.push(c);
        }
        for k in 0..blocks {
            columns.push(vec![
                (rows.starts() + k, -1.0),
                (rows.starts_positive() + k, -1.0),
            ]);
        }
        for k in 0..blocks {
            let mut c = vec![(rows.capacity() + k, 1.0), (rows.monotone() + k, -1.0)];
            if k + 1 < blocks {
                c.push((rows.capacity() + k + 1, -1.0));
                c.push((rows.monotone() + k + 1, 1.0));
            }
            c.extend([(rows.arrived() + k, 1.0), (rows.deadline() + k, -1.0)]);
            columns.push(c);
        }
        let (mut colptr, mut rowval, mut nzval) = (vec![0], Vec::new(), Vec::new());
        for mut column in columns {
            column.sort_by_key(|(row, _)| *row);
            for (row, value) in column {
                rowval.push(row);
                nzval.push(value);
            }
            colptr.push(rowval.len());
        }
        let mut q = vec![0.0; 3 * blocks];
        for k in 0..blocks {
            q[k] = step;
            q[blocks + k] = self.workload.startup_s as f64;
        }
        Program {
            q,
            a: CscMatrix::new(rows.count(), 3 * blocks, colptr, rowval, nzval),
            b: self.right_hand_sides(w, cumulative),
            blocks,
        }
    }

    /// The oracle for wait bound `w`: [`Error::OracleInfeasible`] when no schedule
    /// within the bounds can keep every wait within it (the tasks at t = 0 are too
    /// few for the first `startup_s` seconds, or `max_tasks` too few for a burst).
    pub fn solve(&self, w: usize) -> Result<OracleSolution, Error> {
        if self.trace.arrivals.is_empty() {
            return Err(Error::OracleInfeasible { max_wait_s: w });
        }
        let cumulative = cumulative(self.trace);
        let program = self.program(w, &cumulative);
        let p = CscMatrix::<f64>::zeros((program.q.len(), program.q.len()));
        let cones = [SupportedConeT::NonnegativeConeT(program.b.len())];
        let settings = DefaultSettingsBuilder::default()
            .verbose(false)
            .build()
            .map_err(|e| Error::Oracle(format!("solver settings: {e}")))?;
        let mut solver =
            DefaultSolver::new(&p, &program.q, &program.a, &program.b, &cones, settings)
                .map_err(|e| Error::Oracle(format!("solver set-up: {e:?}")))?;
        solver.solve();
        match solver.solution.status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => {}
            SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
                return Err(Error::OracleInfeasible { max_wait_s: w })
            }
            other => return Err(Error::Oracle(format!("the LP solver stopped: {other:?}"))),
        }
        let x = &solver.solution.x;
        let served = &x[2 * program.blocks..];
        let (plan, integer_task_seconds) = if self.step_s <= 1 {
            let plan = self.integer_plan(served);
            let cost = plan_cost(&plan, self.initial_tasks, self.workload.startup_s);
            (plan, cost)
        } else {
            (Vec::new(), f64::NAN)
        };
        Ok(OracleSolution {
            max_wait_s: w,
            task_seconds: solver.solution.obj_val,
            plan,
            integer_task_seconds,
        })
    }

    /// Whole tasks for the LP's service schedule, with gaps shorter than the
    /// start-up bridged per task layer (see the module docs).
    fn integer_plan(&self, served: &[f64]) -> Vec<u32> {
        let mu = self.workload.mu;
        let mut previous = 0.0;
        let needed: Vec<u32> = served
            .iter()
            .map(|&x| {
                let work = (x - previous).max(0.0);
                previous = previous.max(x);
                ((work / mu - 1e-6).ceil().max(0.0) as u32).min(self.max_tasks)
            })
            .collect();
        bridge_gaps(&needed, self.initial_tasks, self.workload.startup_s)
    }
}

/// Per layer k (the k-th task), keeps it running through every gap between two
/// seconds that need it when the gap is shorter than `startup_s`; the first
/// `initial` layers are running at t = 0, so their leading gap counts too.
pub fn bridge_gaps(needed: &[u32], initial: u32, startup_s: usize) -> Vec<u32> {
    let top = needed.iter().copied().max().unwrap_or(0);
    let mut plan = needed.to_vec();
    for layer in 1..=top {
        // The last second this layer was needed (or -1 for a running initial task).
        let mut last: Option<isize> = (layer <= initial).then_some(-1);
        for (t, &n) in needed.iter().enumerate() {
            if n < layer {
                continue;
            }
            if let Some(before) = last {
                let gap = t as isize - before - 1;
                if gap > 0 && (gap as usize) < startup_s {
                    for filled in &mut plan[(before + 1) as usize..t] {
                        *filled = (*filled).max(layer);
                    }
                }
            }
            last = Some(t as isize);
        }
    }
    plan
}

/// The cost of a plan: running task-seconds plus `startup_s` per task started.
pub fn plan_cost(plan: &[u32], initial: u32, startup_s: usize) -> f64 {
    let mut previous = initial;
    let mut cost = 0.0;
    for &n in plan {
        cost += f64::from(n) + startup_s as f64 * f64::from(n.saturating_sub(previous));
        previous = n;
    }
    cost
}

/// The fastest plan: the tasks at t = 0 until new ones can be ready, then
/// `max_tasks` throughout. No schedule serves any message sooner, so its waits are
/// the floor of every strategy's (and its p99 the lowest p99 possible).
pub fn fastest_plan(
    trace: &Trace,
    workload: Workload,
    max_tasks: u32,
    initial_tasks: u32,
) -> Vec<u32> {
    (0..trace.arrivals.len())
        .map(|t| {
            if t < workload.startup_s {
                initial_tasks.min(max_tasks)
            } else {
                max_tasks
            }
        })
        .collect()
}

/// Messages served by the end of each second under `plan`, first in first out.
fn served_by(trace: &Trace, workload: Workload, plan: &[u32]) -> Vec<f64> {
    let (mut waiting, mut served) = (trace.initial_backlog, 0.0);
    trace
        .arrivals
        .iter()
        .zip(plan)
        .map(|(a, n)| {
            waiting += a;
            let work = waiting.min(f64::from(*n) * workload.mu);
            waiting -= work;
            served += work;
            served
        })
        .collect()
}

/// The oracle's frontier: its optimum for each wait bound, `None` where infeasible.
pub fn frontier(problem: &OracleProblem<'_>, waits: &[usize]) -> Vec<(usize, Option<f64>)> {
    waits
        .iter()
        .map(|&w| (w, problem.solve(w).ok().map(|s| s.task_seconds)))
        .collect()
}

/// The smallest wait bound the oracle meets at no more than `task_seconds`,
/// interpolated linearly between the frontier's points; `None` if none does.
pub fn wait_at_cost(frontier: &[(usize, Option<f64>)], task_seconds: f64) -> Option<f64> {
    let points: Vec<(f64, f64)> = frontier
        .iter()
        .filter_map(|(w, cost)| cost.map(|c| (*w as f64, c)))
        .collect();
    let first = points.iter().position(|(_, c)| *c <= task_seconds)?;
    if first == 0 {
        return Some(points[0].0);
    }
    let ((w0, c0), (w1, c1)) = (points[first - 1], points[first]);
    let share = if c0 > c1 {
        (c0 - task_seconds) / (c0 - c1)
    } else {
        1.0
    };
    Some(w0 + share * (w1 - w0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload() -> Workload {
        Workload {
            mu: 1.0,
            startup_s: 10,
            consumption_counter: false,
        }
    }

    fn trace(arrivals: Vec<f64>) -> Trace {
        Trace {
            name: "test".into(),
            arrivals,
            initial_backlog: 0.0,
            surge_start_s: None,
            history_per_minute: Vec::new(),
        }
    }

    #[test]
    fn a_steady_load_needs_exactly_its_tasks() {
        // 3 messages a second for 100 s, three tasks already running: nothing to
        // add, and every message can be served the second it arrives.
        let t = trace(vec![3.0; 100]);
        let problem = OracleProblem {
            trace: &t,
            workload: workload(),
            max_tasks: 10,
            initial_tasks: 3,
            step_s: 1,
        };
        let solution = problem.solve(0).expect("feasible");
        assert!((solution.task_seconds - 300.0).abs() < 1e-3, "{solution:?}");
        assert_eq!(solution.plan, vec![3; 100]);
        assert!((solution.integer_task_seconds - 300.0).abs() < 1e-9);
    }

    #[test]
    fn a_burst_is_met_with_tasks_started_ahead_and_a_wait_bound_trades_tasks_for_time() {
        // Nothing, then 100 messages at t = 50: with W = 0 all must be served that
        // very second, by 100 tasks paid from t = 40 (10 s start-up) for 1 s of work.
        let mut arrivals = vec![0.0; 80];
        arrivals[50] = 100.0;
        let t = trace(arrivals);
        let problem = OracleProblem {
            trace: &t,
            workload: workload(),
            max_tasks: 100,
            initial_tasks: 0,
            step_s: 1,
        };
        let now = problem.solve(0).expect("feasible");
        assert!((now.task_seconds - 100.0 * 11.0).abs() < 1e-2, "{now:?}");
        // Allowing 9 s of wait, 10 tasks working 10 s do it: 10 × (10 + 10).
        let later = problem.solve(9).expect("feasible");
        assert!((later.task_seconds - 200.0).abs() < 1e-2, "{later:?}");
        assert!(
            (later.integer_task_seconds - 200.0).abs() < 1e-6,
            "{later:?}"
        );
        // With at most 50 tasks no schedule serves all 100 that second: the oracle
        // then serves them as fast as possible, 50 and 50, the last waiting 1 s,
        // with 50 tasks paid from t = 40 for 2 s of work each.
        let capped = OracleProblem {
            max_tasks: 50,
            ..problem
        };
        let fastest = capped.solve(0).expect("held to the fastest plan");
        assert!(
            (fastest.task_seconds - 50.0 * 12.0).abs() < 1e-2,
            "{fastest:?}"
        );
        let plan = crate::simulation::run_plan(&t, workload(), &fastest.plan, 0, "o".into());
        assert_eq!(plan.max_wait_s, 1.0);
    }

    #[test]
    fn gaps_shorter_than_the_start_up_are_bridged_per_layer() {
        let needed = [2, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        // Start-up 5: the 2-second gap is bridged on both layers; layer 1's gap of
        // 8 seconds is not.
        let plan = bridge_gaps(&needed, 0, 5);
        assert_eq!(plan, vec![2, 2, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        // Cost: 10 running task-seconds, 2 starts at t = 0 and 1 at t = 13.
        assert!((plan_cost(&plan, 0, 5) - (10.0 + 15.0)).abs() < 1e-9);
    }

    #[test]
    fn the_frontier_falls_as_the_wait_bound_grows_and_is_inverted_by_interpolation() {
        let mut arrivals = vec![1.0; 300];
        for a in &mut arrivals[100..130] {
            *a = 20.0;
        }
        let t = trace(arrivals);
        let problem = OracleProblem {
            trace: &t,
            workload: workload(),
            max_tasks: 50,
            initial_tasks: 1,
            step_s: 1,
        };
        let points = frontier(&problem, &[0, 10, 30, 60]);
        let costs: Vec<f64> = points.iter().filter_map(|(_, c)| *c).collect();
        assert_eq!(costs.len(), 4, "{points:?}");
        assert!(costs.windows(2).all(|w| w[1] <= w[0] + 1e-6), "{points:?}");
        let w = wait_at_cost(&points, costs[2]).expect("met");
        assert!((w - 30.0).abs() < 1e-6, "{w}");
        assert_eq!(wait_at_cost(&points, costs[3] - 1.0), None);
        // Blocks of 10 s are a lower bound on the exact problem.
        let blocked = OracleProblem {
            step_s: 10,
            ..problem
        };
        let exact = problem.solve(30).expect("feasible").task_seconds;
        let loose = blocked.solve(30).expect("feasible").task_seconds;
        assert!(loose <= exact + 1e-6, "{loose} vs {exact}");
    }

    /// The claim that makes the oracle the physical limit: on random workloads,
    /// for every strategy the simulator runs, the oracle keeping every wait within
    /// that strategy's longest costs no more than the strategy did.
    #[test]
    fn the_oracle_is_a_lower_bound_for_every_strategy_on_random_traces() {
        use crate::simulation::run;
        use crate::strategy::{example_policy, example_strategies, standard_strategies};
        let policy = example_policy();
        for seed in 1..=6u64 {
            let trace = Trace::random(seed, 1800);
            let workload = Workload {
                mu: [0.5, 1.0, 2.0][seed as usize % 3],
                startup_s: [20, 45, 60][seed as usize % 3],
                consumption_counter: seed % 2 == 0,
            };
            let problem = OracleProblem {
                trace: &trace,
                workload,
                max_tasks: policy.max_tasks,
                initial_tasks: policy.min_tasks,
                step_s: 1,
            };
            let strategies = example_strategies(workload, 10)
                .into_iter()
                .chain(standard_strategies(&policy, 20));
            for strategy in strategies {
                let outcome = run(&trace, workload, &policy, &strategy);
                let w = outcome.max_wait_s.ceil() as usize;
                let oracle = problem
                    .solve(w)
                    .unwrap_or_else(|e| panic!("seed {seed}, {}: {e}", outcome.strategy));
                assert!(
                    oracle.task_seconds <= outcome.task_seconds * (1.0 + 1e-6) + 1e-3,
                    "seed {seed}, {}: oracle {:.1} > strategy {:.1} at W = {w} s",
                    outcome.strategy,
                    oracle.task_seconds,
                    outcome.task_seconds
                );
                // The integer plan keeps its promise too.
                let plan = crate::simulation::run_plan(
                    &trace,
                    workload,
                    &oracle.plan,
                    policy.min_tasks,
                    "oracle".into(),
                );
                assert!(plan.max_wait_s <= w as f64, "seed {seed}: {plan:?}");
                assert!(oracle.integer_task_seconds + 1e-6 >= oracle.task_seconds);
            }
        }
    }
}
