//! How many AWS calls a tick has in flight at once, shared by the engine (every
//! provider, every state) and the target clients (every describe batch).

use futures::stream::{self, StreamExt};

/// The most AWS calls of one kind a tick has in flight at once. Each is a
/// connection: unbounded, a tick of 1,000 services would open 1,000 of them
/// (Lambda allows 1,024 file descriptors) and pay a TCP and TLS set-up for each
/// one, where a bounded pool keeps reusing the same connections. At 20 ms a call,
/// 64 at a time read 1,000 queues in about a third of a second.
pub const MAX_CALLS_IN_FLIGHT: usize = 64;

/// Runs `futures` with at most [`MAX_CALLS_IN_FLIGHT`] at once; answers in order.
pub async fn bounded<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    stream::iter(futures)
        .buffered(MAX_CALLS_IN_FLIGHT)
        .collect()
        .await
}
