//! The errors of targets and of their registry.

/// What went wrong with a target. A target error is never scaled on: its
/// service holds.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("unknown target type {name:?}; registered target types: {known}")]
    UnknownTarget { name: String, known: String },

    #[error("target {kind}: setting {field} = {value}: {expected}")]
    InvalidSetting {
        kind: &'static str,
        field: String,
        value: String,
        expected: String,
    },

    /// Several settings refused at once, so every problem is reported together.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<TargetError>),

    /// The target does not exist, or the answer left it out: `message` says
    /// which, why, and which setting names it.
    #[error("{message}")]
    NotFound { target: String, message: String },

    /// A call about the target failed.
    #[error("{api} {operation} failed for {target}: {message}")]
    Call {
        api: &'static str,
        operation: &'static str,
        target: String,
        message: String,
    },

    /// The answer holds a count that is not one.
    #[error("{api} answered {field} = {value} for {target}, which is not a count (expected a whole number from 0); nothing is decided on it")]
    BadAnswer {
        api: &'static str,
        target: String,
        field: &'static str,
        value: i64,
    },
}

impl TargetError {
    /// `api`'s `operation` about `target` failed, `message` saying why.
    pub fn call(
        api: &'static str,
        operation: &'static str,
        target: &crate::TargetId,
        message: String,
    ) -> TargetError {
        TargetError::Call {
            api,
            operation,
            target: target.label(),
            message,
        }
    }

    /// Every value of `results`, or all their errors as one.
    pub fn all_of<T>(results: Vec<Result<T, TargetError>>) -> Result<Vec<T>, TargetError> {
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(value) => values.push(value),
                Err(TargetError::Invalid(several)) => errors.extend(several),
                Err(e) => errors.push(e),
            }
        }
        match errors.len() {
            0 => Ok(values),
            1 => Err(errors.remove(0)),
            _ => Err(TargetError::Invalid(errors)),
        }
    }

    /// A count from an answer, or the error naming it: a negative count is a
    /// broken answer, and reading it as 0 would invite a decision on garbage.
    pub fn count(
        api: &'static str,
        target: &str,
        field: &'static str,
        n: i32,
    ) -> Result<u32, TargetError> {
        u32::try_from(n).map_err(|_| TargetError::BadAnswer {
            api,
            target: target.to_string(),
            field,
            value: i64::from(n),
        })
    }
}
