//! Nothing lost on upgrade: state objects exactly as the release before
//! targets wrote them, put in the emulator's bucket, are read by this one with
//! their pause, their claim and its lease, and their cooldown, and written
//! back in the same form, so a rollback reads them too.

use super::*;

/// A state object in the form every release before targets wrote.
fn old_state(extra: Value) -> Vec<u8> {
    let mut state = json!({
        "version": 1, "cluster": CLUSTER, "service": SERVICE,
        "last_scale_out_ms": null, "last_scale_in_ms": null,
        "scale_out_count": 0, "scale_in_count": 0,
        "last_tick_due_ms": null, "repaired_ms": null, "last_action": null,
        "memory": {"samples": []},
    });
    for (key, value) in extra.as_object().expect("an object") {
        state[key] = value.clone();
    }
    state.to_string().into_bytes()
}

#[tokio::test]
async fn a_state_from_the_release_before_targets_keeps_its_pause_claim_and_cooldown() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    emulator.send_messages(&queue, 500).await;
    let key = StateStore::key(&TargetId::ecs_service(CLUSTER, SERVICE));
    assert_eq!(key, format!("autoscaling-state/{CLUSTER}/{SERVICE}"));
    let mut document = document(&queue, 0);
    document["services"][0]["scale_out_cooldown"] = json!(600);
    let evaluate = || async {
        let autoscaler =
            Autoscaler::new(config_from(&document), &emulator.aws).expect("the providers build");
        evaluate_once(&autoscaler).await
    };
    let now = fast_autoscaler_worker::now_ms();

    // An operator's pause: the count holds, and the reason says so.
    let paused =
        json!({"pause": {"since_ms": now - 1_000, "until_ms": now + 3_600_000, "note": "by ops"}});
    emulator.put_object(BUCKET, &key, &old_state(paused)).await;
    let record = evaluate().await;
    assert!(record.paused, "{}", record.reason);
    assert_eq!((record.action, record.new_desired), (Action::None, Some(2)));

    // Another worker's claim 2 → 6, its lease running: this one stands down.
    let claim = json!({"last_scale_out_ms": now - 1_000, "scale_out_count": 1,
        "last_tick_due_ms": now - 1_000,
        "last_action": {"action": "scale_out", "from": 2, "to": 6, "at_ms": now - 1_000,
            "tick_due_ms": now - 1_000, "reason": "surge", "lease_until_ms": now + 60_000}});
    emulator.put_object(BUCKET, &key, &old_state(claim)).await;
    let record = evaluate().await;
    assert_eq!(record.action, Action::None, "{}", record.reason);
    assert!(
        record
            .reason
            .contains("stood down: another worker claimed scale_out 2 → 6"),
        "{}",
        record.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 2);

    // A scale-out a minute ago that ECS shows (the service at its `to`): the
    // 10-minute scale-out cooldown still runs.
    emulator.set_desired_count(CLUSTER, SERVICE, 3).await;
    let cooled = json!({"last_scale_out_ms": now - 60_000, "scale_out_count": 1,
        "last_tick_due_ms": now - 60_000,
        "last_action": {"action": "scale_out", "from": 2, "to": 3, "at_ms": now - 60_000,
            "tick_due_ms": now - 60_000, "reason": "surge"}});
    emulator.put_object(BUCKET, &key, &old_state(cooled)).await;
    let record = evaluate().await;
    assert_eq!(
        (record.action, record.new_desired),
        (Action::None, Some(3)),
        "{}",
        record.reason
    );
    assert!(
        record.reason.contains("scale-out waits for cooldown"),
        "{}",
        record.reason
    );

    // Once the cooldown is over, the change is claimed in the same object,
    // written back as the old release wrote it.
    let over = json!({"last_scale_out_ms": now - 700_000, "scale_out_count": 1,
        "last_tick_due_ms": now - 700_000});
    emulator.put_object(BUCKET, &key, &old_state(over)).await;
    let record = evaluate().await;
    assert_eq!(record.action, Action::ScaleOut, "{}", record.reason);
    let written: Value = serde_json::from_slice(
        &emulator
            .state_object(BUCKET, &key)
            .await
            .expect("the state"),
    )
    .expect("JSON");
    assert_eq!(
        (written["cluster"].clone(), written["service"].clone()),
        (json!(CLUSTER), json!(SERVICE))
    );
    assert!(written.get("target_type").is_none(), "{written}");
    assert_eq!(written["scale_out_count"], 2);
}
