//! Backlog per task: `desired = ceil(backlog / messages_per_task)`.

use super::Wanted;
use crate::config::PolicySettings;
use crate::policy::reading::{tasks_ceil, Reading};

pub(crate) fn wanted(
    policy: &PolicySettings,
    reading: &Reading<'_>,
    messages_per_task: f64,
) -> Wanted {
    let (label, total) = (reading.label, reading.total);
    let needed = (total as f64 / messages_per_task).ceil();
    let wanted = if needed.is_finite() {
        needed as u64
    } else {
        u64::from(policy.max_tasks)
    };
    Wanted::new(
        wanted,
        format!("{label} {total} / {messages_per_task} messages per task = {wanted} task(s)"),
    )
}

/// The tasks a backlog needs at `messages_per_task`.
pub(crate) fn tasks_for_backlog(messages_per_task: f64, total: u64) -> u64 {
    tasks_ceil(total as f64 / messages_per_task)
}

#[cfg(test)]
mod tests {
    use crate::config::PolicyKind;
    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn target_policy() {
        let mut policy = step(1, 50, 0.0, 0.0, 1.0, 1.0);
        policy.kind = PolicyKind::Target {
            messages_per_task: 100.0,
        };
        assert_eq!(recommend(&policy, Ok(&visible(1001)), 3).new_desired, 11);
        assert_eq!(recommend(&policy, Ok(&visible(0)), 3).new_desired, 1);
        assert_eq!(
            recommend(&policy, Ok(&visible(1_000_000)), 3).new_desired,
            50
        );
        assert_eq!(
            recommend(&policy, Ok(&visible(300)), 3).action,
            Action::None
        );
    }
}
