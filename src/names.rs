//! A name that is not one of the names a setting takes (a scheme, a target, a paper size).

/// `what` was given as `given`, which is none of `choices`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}': use {choices}")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub choices: &'static str,
}
