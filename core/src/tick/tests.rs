//! The tick machine on its own: budgets, kept counts, rereads, deferral,
//! lost claims, failed changes and dry runs, each driven step by step.

use super::*;
use crate::budget::Quota;
use crate::metrics::QueueMetrics;
use crate::policy::Action;
use crate::settings::PolicyKind;
use crate::state::ActionRecord;
use crate::target::TargetLimits;

fn budget(updates_per_tick: f64, describes_per_tick: f64) -> ApiBudget {
    // One shard, 10 s ticks, share 1: the tick may spend `x` of each.
    ApiBudget {
        api: "ECS",
        share: 1.0,
        read: Quota {
            per_second: describes_per_tick / 10.0,
            burst: describes_per_tick,
        },
        modify: Quota {
            per_second: updates_per_tick / 10.0,
            burst: updates_per_tick,
        },
        shared_bucket: false,
        describe_batch: 10,
    }
}

/// Ten messages a task, 1 to 50 tasks, no cooldowns.
fn policy() -> PolicySettings {
    PolicySettings {
        min_tasks: 1,
        max_tasks: 50,
        scale_out_cooldown_s: 0,
        scale_in_cooldown_s: 0,
        kind: PolicyKind::Target {
            messages_per_task: 10.0,
        },
        ..PolicySettings::default()
    }
}

fn view(desired: u32) -> TargetView {
    TargetView {
        desired,
        running: desired,
        starting: 0,
        limits: TargetLimits::none("tasks"),
        not_ready: None,
    }
}

fn reading(visible: u64) -> Result<QueueMetrics, String> {
    Ok(QueueMetrics {
        visible,
        ..QueueMetrics::default()
    })
}

fn at(now_ms: u64) -> TickAt {
    TickAt {
        now_ms,
        tick_due_ms: now_ms,
        lease_ms: 10_000,
        interval_s: 10,
        shards: 1,
        dry_run: false,
    }
}

struct Fleet {
    ids: Vec<TargetId>,
    policy: PolicySettings,
    budget: ApiBudget,
}

impl Fleet {
    fn new(n: usize, budget: ApiBudget) -> Self {
        Fleet {
            ids: (0..n)
                .map(|i| TargetId::ecs_service("c", &format!("s{i}")))
                .collect(),
            policy: policy(),
            budget,
        }
    }

    fn tick(&self, kept: &[Option<Kept>], at: TickAt) -> Tick<'_> {
        let targets = self
            .ids
            .iter()
            .zip(kept)
            .map(|(id, kept)| TickTarget {
                id,
                policy: &self.policy,
                budget: &self.budget,
                kept: kept.clone(),
            })
            .collect();
        Tick::new(targets, at)
    }
}

#[test]
fn changes_beyond_the_budget_wait_in_order_and_say_their_place() {
    let fleet = Fleet::new(4, budget(2.0, 10.0));
    let tick = fleet.tick(&[None, None, None, None], at(100_000));
    // 4 services at 1 task: 100, 400, 200 and 0 messages.
    let views = vec![view(1); 4];
    let mut stored = vec![Stored::Missing; 4];
    let ran = tick.run_in_memory(InMemory {
        views: &views,
        readings: vec![reading(100), reading(400), reading(200), reading(0)],
        forecasts: &[None; 4],
        stored: &mut stored,
    });
    // The two longest waits go first; the third waits, saying its place.
    assert_eq!(ran.set, [None, Some(40), Some(20), None]);
    let waiting = &ran.outcomes[0].decision;
    assert_eq!((waiting.action, waiting.new_desired), (Action::None, 1));
    assert!(
        waiting.reason.ends_with(
            "waiting for the ECS budget: 3rd of 3 in line; the next tick decides it again"
        ),
        "{}",
        waiting.reason
    );
    assert!(ran.outcomes[1].decision.applied);
    // What waits leaves its state as it was; what was made is claimed.
    assert!(matches!(stored[0], Stored::Missing));
    assert!(
        matches!(&stored[1], Stored::Found { state, .. } if state.last_action.as_ref().map(|a| a.to) == Some(40))
    );
    assert_eq!(ran.describe_calls, 1);
}

#[test]
fn a_change_on_kept_counts_is_read_again_and_decided_again_first() {
    // Two describe calls a tick for 22 services: one reads the 10 oldest, one
    // is kept to read again the changes made on kept counts.
    let fleet = Fleet::new(22, budget(5.0, 2.0));
    let kept: Vec<Option<Kept>> = (0..22)
        .map(|i| {
            let age_ms = if i >= 12 { 30_000 } else { 1_000 };
            Some(Kept {
                view: view(1),
                read_at_ms: 100_000 - age_ms,
            })
        })
        .collect();
    let mut tick = fleet.tick(&kept, at(100_000));
    let calls = tick.describes().to_vec();
    assert_eq!(calls.len(), 1, "one call kept to read changes again");
    assert_eq!(
        calls[0].targets,
        (12..22).collect::<Vec<_>>(),
        "the oldest first"
    );
    tick.described(0, vec![Ok(view(1)); 10]);
    for i in 0..22 {
        let visible = if i == 11 { 300 } else { 10 };
        let next = tick.observe(i, reading(visible), Ok(Stored::Missing), None);
        assert!(matches!(next, Next::Done | Next::Queued), "{i}: {next:?}");
    }
    let actuation = tick.actuate();
    assert!(actuation.steps.is_empty());
    assert_eq!(actuation.rereads.len(), 1);
    assert_eq!(actuation.rereads[0].targets, [11]);
    // The service now shows 3 tasks (someone else scaled it): decided again on that.
    let steps = tick.reread(0, vec![Ok(view(3))], &|_| None);
    let [(11, Next::Write { state, purpose, .. })] = &steps[..] else {
        panic!("a claim is written: {steps:?}")
    };
    assert_eq!(*purpose, Purpose::Claim);
    assert_eq!(
        state.last_action.as_ref().map(|a| (a.from, a.to)),
        Some((3, 30))
    );
    assert!(matches!(
        tick.written(11, Ok(WriteOutcome::Written { etag: "e".into() })),
        Next::SetDesired(30)
    ));
    assert!(matches!(tick.set(11, Ok(())), Next::Done));
    let (outcomes, kept) = tick.finish();
    assert!(outcomes[11].decision.applied);
    // Service 0 was decided on its 1-s-old counts, and its reason says so.
    assert!(
        outcomes[0].decision.reason.ends_with(
            "[counts read 1 s ago: the ECS budget did not reach this service this tick]"
        ),
        "{}",
        outcomes[0].decision.reason
    );
    // The changed count is kept for the next tick, read now.
    let set = kept.iter().find(|(i, _)| *i == 11).map(|(_, k)| k.clone());
    assert_eq!(
        set.map(|k| (k.view.desired, k.read_at_ms)),
        Some((30, 100_000))
    );
}

#[test]
fn a_lost_claim_stands_down_and_a_failed_change_releases_its_claim() {
    let fleet = Fleet::new(2, budget(5.0, 10.0));
    let mut tick = fleet.tick(&[None, None], at(100_000));
    tick.described(0, vec![Ok(view(1)), Ok(view(1))]);
    for i in 0..2 {
        assert!(matches!(
            tick.observe(i, reading(50), Ok(Stored::Missing), None),
            Next::Queued
        ));
    }
    let actuation = tick.actuate();
    assert_eq!(actuation.steps.len(), 2);
    // Service 0: another worker wrote the state first.
    let lost = tick.written(0, Ok(WriteOutcome::Conflict));
    assert!(matches!(lost, Next::Done));
    // Service 1: claimed, but the change fails: the claim is released at once.
    assert!(matches!(
        tick.written(1, Ok(WriteOutcome::Written { etag: "e1".into() })),
        Next::SetDesired(5)
    ));
    let release = tick.set(
        1,
        Err("ECS UpdateService failed for c/s1: throttled".into()),
    );
    let Next::Write {
        state,
        over,
        purpose,
    } = release
    else {
        panic!("the claim is released: {release:?}")
    };
    assert_eq!(purpose, Purpose::Release);
    assert!(matches!(*over, Stored::Found { ref etag, .. } if etag == "e1"));
    assert_eq!(
        state.last_action.as_ref().and_then(|a| a.lease_until_ms),
        Some(100_000)
    );
    assert!(matches!(
        tick.written(1, Ok(WriteOutcome::Written { etag: "e2".into() })),
        Next::Done
    ));
    let (outcomes, _) = tick.finish();
    let stood_down = &outcomes[0].decision;
    assert_eq!(
        (
            stood_down.action,
            stood_down.new_desired,
            stood_down.applied
        ),
        (Action::None, 1, false)
    );
    assert!(
        stood_down
            .reason
            .contains("stood down: another worker changed"),
        "{}",
        stood_down.reason
    );
    let failed = &outcomes[1].decision;
    assert_eq!((failed.action, failed.new_desired), (Action::Hold, 1));
    assert!(
        failed.reason.contains("throttled")
            && failed
                .reason
                .ends_with("the claim was released, so the next tick redoes it; holding at 1"),
        "{}",
        failed.reason
    );
}

#[test]
fn a_dry_run_writes_nothing_and_a_state_read_failure_asks_again_only_for_a_change() {
    let fleet = Fleet::new(1, budget(5.0, 10.0));
    let dry = TickAt {
        dry_run: true,
        ..at(100_000)
    };
    let views = [view(1)];
    let mut stored = [Stored::Missing];
    let ran = fleet.tick(&[None], dry).run_in_memory(InMemory {
        views: &views,
        readings: vec![reading(50)],
        forecasts: &[None],
        stored: &mut stored,
    });
    assert_eq!(ran.set, [None]);
    assert!(ran.outcomes[0]
        .decision
        .reason
        .ends_with("(dry run: not applied)"));
    assert!(matches!(stored[0], Stored::Missing));

    // The state could not be read: a quiet tick decides without it; a change
    // asks for it again, and holds, naming why, if it still cannot be read.
    let mut tick = fleet.tick(&[None], at(100_000));
    tick.described(0, vec![Ok(view(5))]);
    assert!(matches!(
        tick.observe(0, reading(50), Err("timed out".into()), None),
        Next::Done
    ));
    let mut tick = fleet.tick(&[None], at(100_000));
    tick.described(0, vec![Ok(view(1))]);
    assert!(matches!(
        tick.observe(0, reading(50), Err("timed out".into()), None),
        Next::ReadState
    ));
    assert!(matches!(
        tick.stored(0, Err("AccessDenied".into())),
        Next::Done
    ));
    let (outcomes, _) = tick.finish();
    let held = &outcomes[0].decision;
    assert_eq!((held.action, held.new_desired), (Action::Hold, 1));
    assert!(
        held.reason
            .ends_with("cannot read the scaling state: AccessDenied; holding at 1"),
        "{}",
        held.reason
    );
}

#[test]
fn a_target_without_counts_or_cut_short_holds_and_says_why() {
    let fleet = Fleet::new(3, budget(5.0, 10.0));
    let mut tick = fleet.tick(&[None, None, None], at(100_000));
    // The call answered only the first target before the deadline.
    tick.described(0, vec![Ok(view(2))]);
    assert!(matches!(
        tick.observe(1, reading(5), Ok(Stored::Missing), None),
        Next::Done
    ));
    tick.unfinished(2, "tick deadline of 7000 ms reached while deciding".into());
    let (outcomes, _) = tick.finish();
    assert_eq!(outcomes[1].decision.action, Action::Hold);
    assert!(
        outcomes[1]
            .decision
            .reason
            .contains("not described before the tick deadline"),
        "{}",
        outcomes[1].decision.reason
    );
    assert!(outcomes[1].view.is_none() && outcomes[1].metrics.is_some());
    // No count was read, so none is said: never "holding at 0" for a target
    // that keeps its count.
    for outcome in &outcomes {
        let reason = &outcome.decision.reason;
        assert!(reason.ends_with("holding, its count unknown"), "{reason}");
    }
    // Target 0 was never observed: not decided, said so.
    assert!(
        outcomes[0].decision.reason.contains("not decided"),
        "{}",
        outcomes[0].decision.reason
    );
    let cut = &outcomes[2];
    assert_eq!(
        (cut.decision.action, cut.decision.new_desired),
        (Action::Hold, 0)
    );
    assert!(cut.metrics.is_none() && cut.view.is_none());
    assert_eq!(
        cut.decision.reason,
        "tick deadline of 7000 ms reached while deciding; holding, its count unknown"
    );
}

#[test]
fn another_workers_claim_in_progress_makes_this_one_stand_down() {
    let fleet = Fleet::new(1, budget(5.0, 10.0));
    let claimed = ServiceState::new(&fleet.ids[0]).with_action(ActionRecord {
        action: Action::ScaleOut,
        from: 1,
        to: 5,
        at_ms: 98_000,
        tick_due_ms: 98_000,
        reason: "surge".into(),
        lease_until_ms: Some(108_000),
    });
    let views = [view(1)];
    let mut stored = [Stored::Found {
        state: claimed,
        etag: "e".into(),
    }];
    let ran = fleet.tick(&[None], at(100_000)).run_in_memory(InMemory {
        views: &views,
        readings: vec![reading(50)],
        forecasts: &[None],
        stored: &mut stored,
    });
    assert_eq!(ran.set, [None]);
    assert!(ran.outcomes[0]
        .decision
        .reason
        .contains("stood down: another worker claimed"));
}
