//! Reading `XINFO GROUPS` answers, pure: a consumer group's lag (entries not yet
//! delivered to it) and pending entries (delivered, not acknowledged).

use redis::Value;

/// A group's backlog: `(lag, pending)`, or why it cannot be known.
pub fn group_backlog(answer: &Value, group: &str) -> Result<(u64, u64), String> {
    let Value::Array(groups) = answer else {
        return Err(format!(
            "XINFO GROUPS answered {answer:?}, not a list of groups"
        ));
    };
    let mut names = Vec::new();
    for entry in groups {
        let fields =
            pairs(entry).ok_or_else(|| format!("XINFO GROUPS answered an entry {entry:?}"))?;
        let name = fields
            .iter()
            .find(|(k, _)| k == "name")
            .and_then(|(_, v)| text(v));
        if name.as_deref() != Some(group) {
            names.extend(name);
            continue;
        }
        let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let pending = match field("pending") {
            Some(Value::Int(n)) if *n >= 0 => *n as u64,
            other => {
                return Err(format!(
                    "group {group} answered pending = {other:?}, not a count"
                ))
            }
        };
        let lag = match field("lag") {
            Some(Value::Int(n)) if *n >= 0 => *n as u64,
            // Redis answers nil when entries were deleted or trimmed in between.
            Some(Value::Nil) => return Err(format!("Redis cannot tell the lag of group {group} now (entries were deleted or trimmed since its last delivery); it is known again after the group reads past them")),
            None => return Err("XINFO GROUPS reports no lag: Redis 7 or later is needed".into()),
            Some(other) => return Err(format!("group {group} answered lag = {other:?}, not a count")),
        };
        return Ok((lag, pending));
    }
    Err(format!(
        "the stream has no consumer group {group:?}; its groups: [{}]",
        names.join(", ")
    ))
}

/// An entry's fields: a RESP3 map, or a RESP2 flat list of names and values.
fn pairs(entry: &Value) -> Option<Vec<(String, &Value)>> {
    match entry {
        Value::Map(map) => map.iter().map(|(k, v)| Some((text(k)?, v))).collect(),
        Value::Array(flat) if flat.len() % 2 == 0 => flat
            .chunks(2)
            .map(|kv| Some((text(&kv[0])?, &kv[1])))
            .collect(),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn group(name: &str, pending: i64, lag: Value) -> Value {
        Value::Array(vec![
            bulk("name"),
            bulk(name),
            bulk("consumers"),
            Value::Int(2),
            bulk("pending"),
            Value::Int(pending),
            bulk("lag"),
            lag,
        ])
    }

    #[test]
    fn the_named_group_s_lag_and_pending() {
        let answer = Value::Array(vec![
            group("audit", 0, Value::Int(0)),
            group("workers", 4, Value::Int(17)),
        ]);
        assert_eq!(group_backlog(&answer, "workers"), Ok((17, 4)));
        let resp3 = Value::Array(vec![Value::Map(vec![
            (bulk("name"), bulk("workers")),
            (bulk("pending"), Value::Int(1)),
            (bulk("lag"), Value::Int(2)),
        ])]);
        assert_eq!(group_backlog(&resp3, "workers"), Ok((2, 1)));
    }

    #[test]
    fn an_unknown_lag_or_group_is_an_error_never_zero() {
        let answer = Value::Array(vec![group("workers", 4, Value::Nil)]);
        assert!(group_backlog(&answer, "workers")
            .unwrap_err()
            .contains("cannot tell"));
        let e = group_backlog(&answer, "other").unwrap_err();
        assert!(e.contains("\"other\"") && e.contains("[workers]"), "{e}");
        assert!(group_backlog(&Value::Int(3), "workers").is_err());
    }
}
