//! Alert sinks behind the durable outbox: every alert is on disk before any sink sees it, and
//! one dispatcher thread per sink delivers its queue in order, acknowledging (deleting) each
//! entry only after the sink confirmed it. A sink that is down keeps its alerts queued — also
//! across a restart — and gets them, oldest first, when it comes back.

pub mod dispatch;
pub mod file;
pub mod mqtt;
pub mod stdout;
pub mod webhook;

#[cfg(test)]
pub(crate) mod tests;

use super::config::SinkConfig;
use crate::alert::AlertRecord;

pub use dispatch::{Dispatcher, Doorbell};

/// Why a delivery failed; the dispatcher retries with backoff.
#[derive(Debug, thiserror::Error)]
#[error("sink {sink}: {msg}")]
pub struct SinkError {
    pub sink: String,
    pub msg: String,
}

impl SinkError {
    /// Builds an error naming the sink.
    pub fn new(sink: &str, msg: impl Into<String>) -> Self {
        SinkError { sink: sink.to_string(), msg: msg.into() }
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
