//! Alerts as JSON lines on stdout (the demo's live view; pipe it into anything).

use std::io::Write;

use super::{AlertSink, SinkError};
use crate::alert::AlertRecord;

/// Writes one JSON object per line to stdout and flushes.
pub struct StdoutSink {
    name: String,
}

impl StdoutSink {
    /// A stdout sink with queue name `name`.
    pub fn new(name: &str) -> Self {
        StdoutSink { name: name.to_string() }
    }
}

impl AlertSink for StdoutSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn deliver(&mut self, record: &AlertRecord) -> Result<(), SinkError> {
        let line = serde_json::to_string(record).map_err(|e| SinkError::new(&self.name, e.to_string()))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| SinkError::new(&self.name, format!("stdout: {e}")))
    }
}
