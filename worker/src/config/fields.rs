//! The readers of the worker's own fields, beside the policy's readers in
//! `fast_autoscaler_core::settings::reader`: the state bucket's name, the tick
//! settings and the target kinds' API budgets.

use std::collections::BTreeMap;

use fast_autoscaler_common::{parse_interval, DEFAULT_INTERVAL_S, VALID_INTERVALS};
use fast_autoscaler_core::budget::{ApiBudget, Quota};
use fast_autoscaler_core::settings::{Key, Reader};
use fast_autoscaler_core::target::ECS_SERVICE;

use super::keys::*;

/// An S3 bucket name: 3–63 characters of lower-case letters, digits, '.' and '-'.
pub(super) fn bucket(read: &mut Reader<'_>, key: Key) -> Option<String> {
    let name = read.name(key, "the S3 bucket that holds the scaling state")?;
    let valid = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        return Some(name);
    }
    let field = read
        .source
        .get(key)
        .map_or_else(|| read.source.label(key), |(_, f)| f);
    read.bad(
        field,
        format!("{name:?}"),
        "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit",
    );
    None
}

/// The tick interval and the maximum tick age in milliseconds.
pub(super) fn tick_settings(read: &mut Reader<'_>) -> Option<(u32, u64)> {
    let interval = match read.source.get(TICK_INTERVAL_SECONDS) {
        None => Some(DEFAULT_INTERVAL_S),
        Some((raw, field)) => match parse_interval(raw.text().as_deref()) {
            Ok(n) => Some(n),
            Err(_) => {
                read.bad(field, raw.shown(), VALID_INTERVALS);
                None
            }
        },
    };
    let max_age = read.whole(
        TICK_MAX_AGE_SECONDS,
        u64::from(interval.unwrap_or(10)),
        1,
        3600,
    );
    Some((interval?, max_age? * 1000))
}

/// Every linked target kind's API budget: its registration's, and for ECS
/// services the share and quotas the ECS settings give (an account's own,
/// where Service Quotas raised them). `None` when one of those is refused.
pub(super) fn budgets(read: &mut Reader<'_>) -> Option<BTreeMap<&'static str, ApiBudget>> {
    let mut budgets: BTreeMap<&'static str, ApiBudget> = fast_autoscaler_targets::registered()
        .into_iter()
        .map(|r| (r.name, r.budget))
        .collect();
    // A worker built without ECS services has no ECS budget to set.
    if let Some(defaults) = budgets.get(ECS_SERVICE).copied() {
        budgets.insert(ECS_SERVICE, ecs_budget(read, defaults)?);
    }
    Some(budgets)
}

/// ECS's share and quotas, over the ECS target's own `defaults`.
fn ecs_budget(read: &mut Reader<'_>, defaults: ApiBudget) -> Option<ApiBudget> {
    let share = read.real(
        ECS_QUOTA_SHARE,
        Some(defaults.share),
        |x| x > 0.0 && x <= 1.0,
        "a share above 0 and at most 1 (0.5: half of each ECS quota, the rest left for deployments)",
    );
    let mut quota = |rate: Key, burst: Key, default: Quota| {
        let per_second = read.real(
            rate,
            Some(default.per_second),
            |x| x > 0.0 && x <= 10_000.0,
            "calls a second above 0 and at most 10000, as Service Quotas shows it for the account and Region",
        );
        let burst = read.real(
            burst,
            Some(default.burst),
            |x| (1.0..=100_000.0).contains(&x),
            "calls from 1 to 100000, the bucket's size as Service Quotas shows it",
        );
        Some(Quota {
            per_second: per_second?,
            burst: burst?,
        })
    };
    let service_read = quota(
        ECS_SERVICE_READS_PER_SECOND,
        ECS_SERVICE_READ_BURST,
        defaults.read,
    );
    let service_modify = quota(
        ECS_SERVICE_MODIFIES_PER_SECOND,
        ECS_SERVICE_MODIFY_BURST,
        defaults.modify,
    );
    Some(ApiBudget {
        share: share?,
        read: service_read?,
        modify: service_modify?,
        ..defaults
    })
}
