//! The readers of the worker's own fields, beside the policy's readers in
//! `fast_autoscaler_core::settings::reader`: the state bucket's name and the
//! tick settings.

use fast_autoscaler_common::{parse_interval, DEFAULT_INTERVAL_S, VALID_INTERVALS};
use fast_autoscaler_core::settings::{Key, Reader};

use super::keys::{TICK_INTERVAL_SECONDS, TICK_MAX_AGE_SECONDS};

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
