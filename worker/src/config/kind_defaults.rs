//! A target kind's own policy defaults, behind what the user wrote: an
//! instance starts slower than a task, so an Auto Scaling group's service
//! defaults to a longer start-up than an ECS service's.

use fast_autoscaler_core::settings::{ConfigIssue, Key, PolicySettings, Raw, Reader, Source};
use fast_autoscaler_targets::TargetRegistration;

/// The policy read from `source`, with `kind`'s own defaults behind it when
/// the target's kind is known.
pub(super) fn policy_of(
    source: &dyn Source,
    kind: Option<&TargetRegistration>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<PolicySettings> {
    let with_defaults = kind.map(|kind| KindDefaults {
        inner: source,
        kind: kind.name,
        defaults: kind.policy_defaults,
    });
    let source = with_defaults.as_ref().map_or(source, |s| s as &dyn Source);
    Reader { source, issues }.policy()
}

/// `inner`, then the kind's defaults for the fields it leaves out.
pub(super) struct KindDefaults<'a> {
    pub inner: &'a dyn Source,
    pub kind: &'static str,
    pub defaults: &'static [(&'static str, &'static str)],
}

impl Source for KindDefaults<'_> {
    fn get(&self, key: Key) -> Option<(Raw, String)> {
        self.inner.get(key).or_else(|| {
            let (_, value) = self.defaults.iter().find(|(k, _)| *k == key.json)?;
            let label = format!("{} (the {} default)", self.inner.label(key), self.kind);
            Some((Raw::Text((*value).to_string()), label))
        })
    }

    fn label(&self, key: Key) -> String {
        self.inner.label(key)
    }
}
