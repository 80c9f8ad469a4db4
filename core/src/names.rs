//! Names read from a config file or the command line (a flow backend, an inference runtime, a
//! transform): one error for a name that is none of the accepted ones, so every such setting
//! says the same thing the same way.

/// A name that is not one of the accepted ones: which setting, what was given, what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {got:?} (expected {expected})")]
pub struct UnknownName {
    /// The setting, e.g. "flow backend".
    pub what: &'static str,
    /// The name given.
    pub got: String,
    /// The accepted names, for people: "cpu, gpu or auto".
    pub expected: &'static str,
}

impl UnknownName {
    /// `got` is not a `what`; `expected` lists the accepted names.
    pub fn new(what: &'static str, got: &str, expected: &'static str) -> Self {
        UnknownName { what, got: got.to_string(), expected }
    }
}
