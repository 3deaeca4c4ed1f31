//! The tick machine driven against targets and states kept in memory: every
//! write lands, every change is made. The simulator runs one service or a
//! whole fleet through it, and the CLI's `decide` one target in a dry run; the
//! worker drives the same machine against AWS.

use super::{Kept, Next, Outcome, Tick, WriteOutcome};
use crate::forecast::Pattern;
use crate::metrics::QueueMetrics;
use crate::state::Stored;
use crate::target::TargetView;

/// What every target of a tick in memory has now.
pub struct InMemory<'a, 'f> {
    /// Each target's counts, as a describe call would answer them now.
    pub views: &'a [TargetView],
    /// Each target's queue reading.
    pub readings: Vec<Result<QueueMetrics, String>>,
    /// Each target's learned surges, if it anticipates.
    pub forecasts: &'a [Option<&'f Pattern>],
    /// Each target's state, as the machine leaves it.
    pub stored: &'a mut [Stored],
}

/// What a tick in memory came to.
pub struct Ran {
    pub outcomes: Vec<Outcome>,
    /// The count each target was asked for, if it was.
    pub set: Vec<Option<u32>>,
    /// The describe calls made (the tick's own, and its rereads).
    pub describe_calls: usize,
    /// The counts read or set, to keep for the next tick (by target index).
    pub kept: Vec<(usize, Kept)>,
}

impl Tick<'_> {
    /// Runs the tick to its end against `world`.
    pub fn run_in_memory(mut self, mut world: InMemory<'_, '_>) -> Ran {
        let mut set = vec![None; world.views.len()];
        let calls = self.describes().to_vec();
        for (c, call) in calls.iter().enumerate() {
            let answers = call.targets.iter().map(|&i| Ok(world.views[i].clone()));
            self.described(c, answers.collect());
        }
        let readings = std::mem::take(&mut world.readings);
        for (i, reading) in readings.into_iter().enumerate() {
            let stored = Ok(world.stored[i].clone());
            let next = self.observe(i, reading, stored, world.forecasts[i]);
            self.carry_out(i, next, &mut world, &mut set);
        }
        let actuation = self.actuate();
        for (i, next) in actuation.steps {
            self.carry_out(i, next, &mut world, &mut set);
        }
        for (c, call) in actuation.rereads.iter().enumerate() {
            let answers = call.targets.iter().map(|&i| Ok(world.views[i].clone()));
            let forecasts = world.forecasts;
            let steps = self.reread(c, answers.collect(), &|i| forecasts[i]);
            for (i, next) in steps {
                self.carry_out(i, next, &mut world, &mut set);
            }
        }
        let describe_calls = calls.len() + actuation.rereads.len();
        let (outcomes, kept) = self.finish();
        Ran {
            outcomes,
            set,
            describe_calls,
            kept,
        }
    }

    /// Target `i`'s steps from `next` on, in memory.
    fn carry_out(
        &mut self,
        i: usize,
        mut next: Next,
        world: &mut InMemory<'_, '_>,
        set: &mut [Option<u32>],
    ) {
        loop {
            next = match next {
                Next::Done | Next::Queued => return,
                Next::ReadState => self.stored(i, Ok(world.stored[i].clone())),
                Next::Write { state, .. } => {
                    world.stored[i] = Stored::Found {
                        state: *state,
                        etag: String::new(),
                    };
                    self.written(
                        i,
                        Ok(WriteOutcome::Written {
                            etag: String::new(),
                        }),
                    )
                }
                Next::SetDesired(desired) => {
                    set[i] = Some(desired);
                    self.set(i, Ok(()))
                }
            };
        }
    }
}
