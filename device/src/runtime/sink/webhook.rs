//! Alerts POSTed as JSON to an HTTP endpoint with `ureq` (plain HTTP, global timeout). A
//! refused connection, a timeout or a 5xx is a transient failure, retried by the dispatcher
//! with backoff, and so is a 4xx that speaks of the endpoint rather than the record (wrong
//! credentials or path, or "later"). Any other 4xx means the endpoint refused this record,
//! which then goes to the dead letters instead of blocking the alerts behind it.

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
                let msg = format!(
                    "POST {}: {}",
                    motus_core::redact::url(&self.url),
                    motus_core::redact::text(&e.to_string())
                );
                match e {
                    ureq::Error::StatusCode(code) if refuses_for_good(code) => SinkError::rejected(&self.name, msg),
                    _ => SinkError::new(&self.name, msg),
                }
            })
    }
}

/// Whether an HTTP status says the server will never take this record: a 4xx, except those
/// about the endpoint, which a person or time fixes and after which every queued alert must
/// still arrive: 401, 403 and 407 (credentials), 404, 405, 410 and 421 (the URL), 408, 425
/// and 429 ("later").
fn refuses_for_good(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 404 | 405 | 407 | 408 | 410 | 421 | 425 | 429)
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_errors_are_final_except_the_ones_that_mean_later() {
        for code in [400, 409, 413, 415, 422] {
            assert!(super::refuses_for_good(code), "{code}");
        }
        for code in [200, 301, 401, 403, 404, 405, 407, 408, 410, 421, 425, 429, 500, 502, 503] {
            assert!(!super::refuses_for_good(code), "{code}");
        }
    }
}
