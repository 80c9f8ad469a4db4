//! Alerts POSTed as JSON to an HTTP endpoint with `ureq` (plain HTTP, global timeout). A
//! non-2xx answer, a refused connection or a timeout is a failed delivery, retried by the
//! dispatcher with backoff.

use std::time::Duration;

use super::{AlertSink, SinkError};
use crate::alert::AlertRecord;

/// POSTs each record to `url`.
pub struct WebhookSink {
    name: String,
    url: String,
    agent: ureq::Agent,
}

impl WebhookSink {
    /// A webhook with a per-request timeout (connect + send + answer).
    pub fn new(name: &str, url: &str, timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(true)
            .max_redirects(0)
            .build()
            .into();
        WebhookSink { name: name.to_string(), url: url.to_string(), agent }
    }
}

impl AlertSink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn deliver(&mut self, record: &AlertRecord) -> Result<(), SinkError> {
        let body = serde_json::to_vec(record).map_err(|e| SinkError::new(&self.name, e.to_string()))?;
        self.agent
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-motus-alert-id", &record.id)
            .send(&body[..])
            .map(|_| ())
            .map_err(|e| {
                SinkError::new(
                    &self.name,
                    format!(
                        "POST {}: {}",
                        motus_core::redact::url(&self.url),
                        motus_core::redact::text(&e.to_string())
                    ),
                )
            })
    }
}
