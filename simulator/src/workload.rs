//! How the simulated tasks behave.

/// How tasks behave.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Messages one task processes per second.
    pub mu: f64,
    /// Seconds from a task being requested to it processing messages.
    pub startup_s: usize,
    /// Whether the queue reports how many messages were consumed, as ActiveMQ and
    /// RabbitMQ do and SQS does not. With it the predictive policy measures the
    /// tasks' real throughput instead of trusting `task_throughput`.
    pub consumption_counter: bool,
}
