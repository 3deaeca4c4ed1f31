//! The demo's ECS tasks, which ECS in the emulator does not run: each task is
//! ready a start-up delay after desiredCount asked for it, and running tasks work
//! off the queue at a fixed throughput.

/// One service's tasks.
pub struct Fleet {
    startup_ms: u64,
    /// Messages one running task processes per second.
    mu: f64,
    /// When each task is (or was) ready, oldest first.
    ready_at: Vec<u64>,
    /// Work the running tasks could still do this second (fractions of a message).
    credit: f64,
    /// Task-milliseconds paid: every task from the moment it was asked for.
    pub paid_ms: u64,
}

impl Fleet {
    /// `initial` tasks, already running.
    pub fn new(initial: u32, startup_ms: u64, mu: f64) -> Self {
        Fleet {
            startup_ms,
            mu,
            ready_at: vec![0; initial as usize],
            credit: 0.0,
            paid_ms: 0,
        }
    }

    pub fn desired(&self) -> u32 {
        self.ready_at.len() as u32
    }

    pub fn running(&self, now_ms: u64) -> u32 {
        self.ready_at.iter().filter(|t| **t <= now_ms).count() as u32
    }

    /// ECS's response to a new desiredCount: start tasks, or stop the newest ones
    /// first (those still starting).
    pub fn set_desired(&mut self, desired: u32, now_ms: u64) {
        let desired = desired as usize;
        while self.ready_at.len() < desired {
            self.ready_at.push(now_ms + self.startup_ms);
        }
        self.ready_at.truncate(desired);
    }

    /// Advances `dt_ms`: pays for every task and answers how many whole messages
    /// the running ones can take off the queue.
    pub fn work(&mut self, now_ms: u64, dt_ms: u64) -> usize {
        self.paid_ms += self.ready_at.len() as u64 * dt_ms;
        self.credit += f64::from(self.running(now_ms)) * self.mu * dt_ms as f64 / 1000.0;
        let whole = self.credit.floor();
        self.credit -= whole;
        whole as usize
    }

    /// The queue ran dry: idle tasks bank no work.
    pub fn idle(&mut self) {
        self.credit = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_work_only_once_started_and_stop_newest_first() {
        let mut fleet = Fleet::new(1, 45_000, 1.0);
        fleet.set_desired(3, 10_000);
        assert_eq!((fleet.desired(), fleet.running(10_000)), (3, 1));
        assert_eq!(fleet.work(10_000, 1_000), 1);
        assert_eq!(fleet.running(55_000), 3);
        assert_eq!(fleet.work(55_000, 1_000), 3);
        fleet.set_desired(2, 20_000);
        assert_eq!(fleet.running(55_000), 2);
        assert_eq!(fleet.paid_ms, 3 * 1_000 + 3 * 1_000);
    }
}
