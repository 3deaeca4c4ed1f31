//! A list used as a queue: its length, and what a key that is not there means.
//!
//! Redis deletes a list when its last element is popped, so an empty queue and
//! a mistyped `key` look the same: there is no key. Reading a missing key as an
//! empty queue would let a typo scale the service in to its minimum, so it is an
//! error (the service holds) until the key has been seen as a list once since
//! the worker started, after which its absence is an emptied queue. Setting
//! `missing_key_is_empty: true` reads it as empty from the start, for a key
//! that has been checked (with `fast-autoscaler metrics` while it holds
//! messages). A key that holds something other than a list is always an error
//! naming what it holds.
//!
//! `TYPE` and `LLEN` go in one pipeline, one round trip.

use redis::Value;

/// What a list's key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListAnswer {
    /// A list of this many elements.
    Length(i64),
    /// No key at all.
    Missing,
    /// A key of another type (`string`, `hash`, `stream`, …).
    OtherType(String),
}

/// The answers of the `TYPE key` and `LLEN key` pipeline, read; or why they
/// cannot be.
pub fn answer(answers: &[Value]) -> Result<ListAnswer, String> {
    let kind = match answers.first() {
        Some(Value::SimpleString(kind)) => kind.clone(),
        Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        other => return Err(format!("TYPE answered {other:?}, not a type name")),
    };
    match kind.as_str() {
        "none" => Ok(ListAnswer::Missing),
        "list" => match answers.get(1) {
            Some(Value::Int(n)) => Ok(ListAnswer::Length(*n)),
            other => Err(format!("LLEN answered {other:?}, not a length")),
        },
        other => Ok(ListAnswer::OtherType(other.to_string())),
    }
}

/// Why a missing key is not read as an empty queue, for the error.
pub fn missing(key: &str) -> String {
    format!(
        "key {key} does not exist: Redis deletes an emptied list, so this is an empty queue or a wrong key, and no reading is taken until the key has held a list once since the worker started (or set missing_key_is_empty: true once the key is checked)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(text: &str) -> Value {
        Value::SimpleString(text.into())
    }

    #[test]
    fn a_list_a_missing_key_and_another_type_are_told_apart() {
        assert_eq!(
            answer(&[status("list"), Value::Int(12)]),
            Ok(ListAnswer::Length(12))
        );
        assert_eq!(
            answer(&[status("none"), Value::Int(0)]),
            Ok(ListAnswer::Missing)
        );
        assert_eq!(
            answer(&[status("string"), Value::Nil]),
            Ok(ListAnswer::OtherType("string".into()))
        );
        assert!(answer(&[Value::Nil]).is_err());
        assert!(answer(&[status("list"), Value::Nil]).is_err());
    }
}
