//! The tick's describe calls: each kind's allowance, and which of its targets
//! it reads (all of them when the allowance covers them, else the unread and
//! the oldest, keeping calls to read again the changes the tick can make).

use std::collections::BTreeMap;

use super::{DescribeCall, TickAt, TickTarget};
use crate::budget::TickAllowance;
use crate::views::to_describe;

/// The allowance of each kind among `targets`, this tick.
pub(super) fn allowances(
    targets: &[TickTarget<'_>],
    at: &TickAt,
) -> BTreeMap<String, TickAllowance> {
    targets
        .iter()
        .map(|t| {
            let allowance = t.budget.allowance(at.interval_s, at.shards);
            (t.id.kind.clone(), allowance)
        })
        .collect()
}

/// `targets`' indices by kind, each in configuration order.
pub(super) fn by_kind(targets: &[TickTarget<'_>]) -> Vec<(String, Vec<usize>)> {
    let mut kinds: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        match kinds.iter_mut().find(|(k, _)| *k == target.id.kind) {
            Some((_, members)) => members.push(i),
            None => kinds.push((target.id.kind.clone(), vec![i])),
        }
    }
    kinds
}

/// The describe calls of the tick, and the calls they spend by kind.
pub(super) fn describes(
    targets: &[TickTarget<'_>],
    allowances: &BTreeMap<String, TickAllowance>,
    now_ms: u64,
) -> (Vec<DescribeCall>, BTreeMap<String, u32>) {
    let mut chosen = Vec::new();
    let mut spent = BTreeMap::new();
    for (kind, members) in by_kind(targets) {
        let budget = targets[members[0]].budget;
        let (batch, allowance) = (budget.describe_batch.max(1), allowances[&kind]);
        let ages: Vec<(&str, Option<u64>)> = members
            .iter()
            .map(|&i| {
                let age = (targets[i].kept.as_ref()).map(|k| now_ms.saturating_sub(k.read_at_ms));
                (targets[i].id.scope.as_str(), age)
            })
            .collect();
        let mut picked = to_describe(&ages, allowance.describe_calls, batch);
        if picked.len() < members.len() {
            // Kept counts will be decided on: keep calls to read again the
            // changes this tick can make, but no more than half of them.
            let again = allowance.updates.div_ceil(batch as u32).max(1);
            let reserved = again.min(allowance.describe_calls / 2);
            picked = to_describe(&ages, allowance.describe_calls - reserved, batch);
        }
        let calls = budget.describe_calls_for(picked.iter().map(|&p| ages[p].0));
        spent.insert(kind, calls);
        chosen.extend(picked.into_iter().map(|p| members[p]));
    }
    chosen.sort_unstable();
    (calls_of(targets, &chosen), spent)
}

/// `chosen` in describe calls: by kind and scope, in configuration order, at
/// most the kind's batch a call.
pub(super) fn calls_of(targets: &[TickTarget<'_>], chosen: &[usize]) -> Vec<DescribeCall> {
    let mut grouped: Vec<DescribeCall> = Vec::new();
    for &i in chosen {
        let id = targets[i].id;
        match grouped
            .iter_mut()
            .find(|c| c.kind == id.kind && c.scope == id.scope)
        {
            Some(call) => call.targets.push(i),
            None => grouped.push(DescribeCall {
                kind: id.kind.clone(),
                scope: id.scope.clone(),
                targets: vec![i],
            }),
        }
    }
    grouped
        .into_iter()
        .flat_map(|call| {
            let batch = targets[call.targets[0]].budget.describe_batch.max(1);
            (call.targets.chunks(batch))
                .map(|chunk| DescribeCall {
                    targets: chunk.to_vec(),
                    ..call.clone()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}
