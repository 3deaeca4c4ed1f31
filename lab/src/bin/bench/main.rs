//! `make bench`: every performance figure, printed with its goal and ratio in one
//! run (release build).
//!
//! 1. [`quality`]: scaling quality from the simulator on every built-in trace, and
//!    the simulator's own speed, and [`actions`]: the churn of one service
//!    against the original's and the fewest any setting reaches, and
//!    [`tolerance_tradeoff`]: fewer actions bought with cost and wait;
//! 2. [`anticipation`]: recurring surges met ahead, against the original, the
//!    reactive rule, AWS predictive scaling and the oracle, the same on 40 more
//!    random periodic workloads without the oracle ([`anticipation_wider`]),
//!    the gap to the oracle split between the background and the surges
//!    ([`anticipation_split`]), what a forecast that knew every surge would
//!    reach ([`anticipation_foreknown`]), and no harm where there is no pattern;
//! 3. [`scale`]: the worker's own cost per tick at 10 to 5,000 services against a
//!    zero-latency stand-in, and [`fleet`]: fleets of up to 5,000 services and
//!    fleet-wide surges within the ECS quotas, at AWS-like latency;
//! 4. [`moto`]: tick latency and AWS calls per tick against the moto emulator;
//! 5. [`lambdas`]: the Lambda zips' sizes and cold starts under cargo-lambda's
//!    runtime emulator.

mod actions;
mod anticipation;
mod anticipation_foreknown;
mod anticipation_goals;
mod anticipation_reach;
mod anticipation_split;
mod anticipation_wider;
mod fleet;
mod lambdas;
mod moto;
mod quality;
mod scale;
mod tolerance_tradeoff;

/// The `p`th percentile of sorted values (nearest rank).
pub(crate) fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_ms.len() as f64).ceil() as usize;
    sorted_ms[rank.clamp(1, sorted_ms.len()) - 1]
}

/// `bench` runs every part; `bench scale moto` only those named.
#[tokio::main]
async fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let run = |part: &str| wanted.is_empty() || wanted.iter().any(|w| w == part);
    if let Some(unknown) = wanted
        .iter()
        .find(|w| !["quality", "anticipation", "scale", "moto", "lambdas"].contains(&w.as_str()))
    {
        eprintln!(
            "bench: unknown part {unknown:?}; the parts are quality, anticipation, scale, moto and lambdas"
        );
        std::process::exit(2);
    }
    if run("quality") {
        quality::scaling_quality();
    }
    if run("anticipation") {
        anticipation::recurring_surges();
        anticipation_wider::wider_check(anticipation::workload());
        anticipation::no_pattern();
        anticipation::simulate_speed();
    }
    if run("scale") {
        // The measurements run on threads of their own; keep this runtime idle.
        tokio::task::spawn_blocking(|| {
            scale::own_cost();
            fleet::within_quotas();
        })
        .await
        .expect("throughput benchmark");
    }
    if run("moto") {
        moto::latency_against_moto().await;
    }
    if run("lambdas") {
        lambdas::zips_and_cold_starts().await;
    }
}
