//! The SPEC Research Group's elasticity metrics (Herbst et al., "Quantifying Cloud
//! Performance and Dependability: Taxonomy, Metric Design, and Emerging
//! Challenges", ACM TOMPECS 2018), as the BUNGEE benchmark computes them.
//!
//! They compare two step functions over the run's T seconds:
//!
//! - demand d(t): the tasks the arrivals need, `arrivals per second / mu` over the
//!   minute around t (a minute's average, so a Poisson second does not count as a
//!   change of demand), rounded up to whole tasks;
//! - supply s(t): the tasks running (ready, not pending).
//!
//! With ε a small number so that an idle minute does not divide by zero:
//!
//! - accuracy θU = 100/T · Σ max(d − s, 0) / max(d, ε)  and  θO likewise with
//!   max(s − d, 0): the average relative shortage and excess, in percent;
//! - timeshare τU = 100/T · #{t : s < d}  and  τO = 100/T · #{t : s > d}: the
//!   share of time under- and over-provisioned, in percent;
//! - instability υ = 100/(T − 1) · #{t : sign Δs ≠ sign Δd}: the share of time
//!   supply and demand do not move together (one changes while the other does not,
//!   or they move in opposite directions), in percent;
//! - jitter j = (E_s − E_d) / T: supply adaptations minus demand changes per hour
//!   (here: per hour, not per second); negative means supply follows demand too
//!   seldom, positive that it oscillates more than demand does.

use serde::Serialize;

/// The SPEC elasticity metrics of one run (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Elasticity {
    pub theta_u: f64,
    pub theta_o: f64,
    pub tau_u: f64,
    pub tau_o: f64,
    pub instability: f64,
    /// Per hour.
    pub jitter: f64,
}

/// Seconds the demand is averaged over.
pub const DEMAND_WINDOW_S: usize = 60;

/// Demand in whole tasks each second: the arrivals of the minute around it, per
/// second, over `mu`.
pub fn demand(arrivals: &[f64], mu: f64) -> Vec<u32> {
    let n = arrivals.len();
    let mut prefix = vec![0.0; n + 1];
    for (i, a) in arrivals.iter().enumerate() {
        prefix[i + 1] = prefix[i] + a;
    }
    (0..n)
        .map(|t| {
            let from = t.saturating_sub(DEMAND_WINDOW_S / 2);
            let to = (from + DEMAND_WINDOW_S).min(n);
            let rate = (prefix[to] - prefix[from]) / (to - from).max(1) as f64;
            (rate / mu - 1e-9).ceil().max(0.0) as u32
        })
        .collect()
}

/// The metrics of a supply curve against a demand curve, one value per second.
pub fn elasticity(demand: &[u32], supply: &[u32]) -> Elasticity {
    const EPSILON: f64 = 1.0;
    let t = demand.len().min(supply.len());
    if t < 2 {
        return Elasticity::default();
    }
    let mut e = Elasticity::default();
    for (&d, &s) in demand.iter().zip(supply).take(t) {
        let (d, s) = (f64::from(d), f64::from(s));
        e.theta_u += (d - s).max(0.0) / d.max(EPSILON);
        e.theta_o += (s - d).max(0.0) / d.max(EPSILON);
        e.tau_u += f64::from(u8::from(s < d));
        e.tau_o += f64::from(u8::from(s > d));
    }
    let (mut unstable, mut supply_changes, mut demand_changes) = (0.0, 0.0, 0.0);
    for i in 1..t {
        let ds = i64::from(supply[i]) - i64::from(supply[i - 1]);
        let dd = i64::from(demand[i]) - i64::from(demand[i - 1]);
        unstable += f64::from(u8::from(ds.signum() != dd.signum()));
        supply_changes += f64::from(u8::from(ds != 0));
        demand_changes += f64::from(u8::from(dd != 0));
    }
    let seconds = t as f64;
    Elasticity {
        theta_u: 100.0 * e.theta_u / seconds,
        theta_o: 100.0 * e.theta_o / seconds,
        tau_u: 100.0 * e.tau_u / seconds,
        tau_o: 100.0 * e.tau_o / seconds,
        instability: 100.0 * unstable / (seconds - 1.0),
        jitter: (supply_changes - demand_changes) / seconds * 3600.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supply_that_matches_demand_scores_zero() {
        let demand = vec![2, 2, 4, 4, 3];
        let e = elasticity(&demand, &demand);
        assert_eq!(e, Elasticity::default());
    }

    #[test]
    fn shortage_excess_time_shares_instability_and_jitter() {
        // Demand 4 throughout; supply 2 for half the time, then 6.
        let demand = vec![4; 4];
        let supply = vec![2, 2, 6, 6];
        let e = elasticity(&demand, &supply);
        assert!((e.theta_u - 25.0).abs() < 1e-9, "{e:?}"); // (0.5 + 0.5) / 4
        assert!((e.theta_o - 25.0).abs() < 1e-9, "{e:?}");
        assert!((e.tau_u - 50.0).abs() < 1e-9 && (e.tau_o - 50.0).abs() < 1e-9);
        // One of three steps has supply moving while demand stays.
        assert!((e.instability - 100.0 / 3.0).abs() < 1e-9, "{e:?}");
        // One supply change, no demand change, in 4 s: 900 per hour.
        assert!((e.jitter - 900.0).abs() < 1e-9, "{e:?}");
    }

    #[test]
    fn demand_is_a_minutes_average_in_whole_tasks() {
        // 90 messages a second for 10 s in a quiet minute: 15/s on average, 8 tasks
        // at 2 msg/s each.
        let mut arrivals = vec![0.0; 120];
        for a in &mut arrivals[30..40] {
            *a = 90.0;
        }
        let d = demand(&arrivals, 2.0);
        assert_eq!(d[35], 8);
        assert_eq!(d[119], 0);
    }
}
