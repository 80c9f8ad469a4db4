//! Alert sinks behind the durable outbox: every alert is on disk before any sink sees it, and
//! one dispatcher thread per sink delivers its queue in order, acknowledging (deleting) each
//! entry only after the sink confirmed it. A sink that is down keeps its alerts queued — also
//! across a restart, up to the queue's cap — and gets them, oldest first, when it comes back;
//! a record its destination refused for good is set aside as a dead letter.

pub mod dispatch;
pub mod file;
pub mod mqtt;
pub mod stdout;
pub mod webhook;

#[cfg(test)]
pub(crate) mod tests;

use super::config::SinkConfig;
use crate::alert::AlertRecord;

pub use dispatch::{Dispatcher, Doorbell, SinkStats};

/// Whether a failed delivery is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The destination is unreachable, slow, busy or failing: the record stays queued and is
    /// retried with backoff, and the records behind it wait (delivery stays in order).
    Transient,
    /// The destination answered and refused this record (for a webhook, a 4xx about the
    /// record rather than the credentials, the URL or "later"): retrying cannot succeed, so
    /// the record goes to the dead letters and the queue moves on.
    Rejected,
}

/// Why a delivery failed, and whether to retry it.
#[derive(Debug, thiserror::Error)]
#[error("sink {sink}: {msg}")]
pub struct SinkError {
    pub sink: String,
    pub msg: String,
    pub kind: FailureKind,
}

impl SinkError {
    /// A transient failure of the named sink (retried).
    pub fn new(sink: &str, msg: impl Into<String>) -> Self {
        SinkError { sink: sink.to_string(), msg: msg.into(), kind: FailureKind::Transient }
    }

    /// The named sink's destination refused the record for good (dead-lettered).
    pub fn rejected(sink: &str, msg: impl Into<String>) -> Self {
        SinkError { kind: FailureKind::Rejected, ..SinkError::new(sink, msg) }
    }
}

/// A destination for alert records. `deliver` returns only when the record is as safe as the
/// destination can make it (written and synced, HTTP 2xx, MQTT PUBACK).
pub trait AlertSink: Send {
    /// The sink's outbox queue name.
    fn name(&self) -> &str;
    /// Delivers one record.
    fn deliver(&mut self, record: &AlertRecord) -> Result<(), SinkError>;
}

/// Builds the sink for a configuration entry.
pub fn build(cfg: &SinkConfig) -> Result<Box<dyn AlertSink>, SinkError> {
    let name = cfg.name();
    Ok(match cfg {
        SinkConfig::Stdout { .. } => Box::new(stdout::StdoutSink::new(&name)),
        SinkConfig::File { path, max_bytes, keep, .. } => {
            Box::new(file::FileSink::new(&name, path, *max_bytes, *keep)?)
        }
        SinkConfig::Webhook { url, timeout_ms, .. } => {
            Box::new(webhook::WebhookSink::new(&name, url, std::time::Duration::from_millis(*timeout_ms)))
        }
        SinkConfig::Mqtt { host, port, topic, client_id, .. } => {
            Box::new(mqtt::MqttSink::new(&name, host, *port, topic, client_id, std::time::Duration::from_secs(5)))
        }
    })
}
