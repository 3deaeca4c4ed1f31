//! Worker Lambda: consumes ticks from the tick queue and scales the configured services.

use fast_autoscaler::handler::handle_tick_event;
use fast_autoscaler::providers::ProviderContext;
use fast_autoscaler::{load_aws_config, Autoscaler, AutoscalerConfig};
use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let aws = load_aws_config().await;
    // Validated once, at cold start: a bad configuration fails the init phase with
    // every problem listed, instead of failing (or worse, scaling) on every tick.
    let (config, source) = AutoscalerConfig::load(
        &|k| std::env::var(k).ok(),
        None,
        ProviderContext { aws: &aws },
    )
    .inspect_err(|e| tracing::error!(error = %e, "configuration rejected"))?;
    tracing::info!(
        ?source,
        services = config.services.len(),
        "configuration loaded"
    );
    let autoscaler = Autoscaler::new(config, &aws);
    run(service_fn(|event| handle_tick_event(&autoscaler, event))).await
}
