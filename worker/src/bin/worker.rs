//! Worker Lambda: consumes ticks from the tick queue and scales the configured services.

use fast_autoscaler_worker::handler::handle_tick_event;
use fast_autoscaler_worker::{load_aws_config, Autoscaler, AutoscalerConfig};
use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // Validated once, at cold start: a bad configuration fails the init phase with
    // every problem listed, instead of failing (or worse, scaling) on every tick.
    let (config, source) = AutoscalerConfig::load(&|k| std::env::var(k).ok(), None)
        .inspect_err(|e| tracing::error!(error = %e, "configuration rejected"))?;
    tracing::info!(
        ?source,
        services = config.services.len(),
        "configuration loaded"
    );
    let aws = load_aws_config().await;
    let autoscaler = Autoscaler::new(config, &aws)
        .inspect_err(|e| tracing::error!(error = %e, "providers could not be built"))?;
    run(service_fn(|event| handle_tick_event(&autoscaler, event))).await
}
