//! The alert record every sink receives.

use serde::{Deserialize, Serialize};

/// One alert: what fired, how strongly, when, from which camera and model, and the snapshot
/// saved with it. Serialised as one JSON object (a line on stdout, a file entry, a webhook
/// body, an MQTT payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Unique and sortable: `<unix ms of start>-<class>-<sequence>`.
    pub id: String,
    pub class: String,
    /// Peak smoothed score while the alert ran (so far, for a start record).
    pub score: f32,
    /// Seconds since the Unix epoch when the class first crossed its threshold.
    pub start_unix_s: f64,
    /// When it ended; `None` in the record sent at the start.
    pub end_unix_s: Option<f64>,
    /// The frame source (camera path, URL, `synthetic`).
    pub source: String,
    /// SHA-256 of the model file that produced the scores.
    pub model_sha256: String,
    /// PNG with the overlay, when one was saved.
    pub snapshot: Option<String>,
}

impl AlertRecord {
    /// Builds the id from the start time, class and a per-process sequence number.
    pub fn make_id(start_unix_s: f64, class: &str, seq: u64) -> String {
        format!("{}-{class}-{seq}", (start_unix_s * 1000.0).round() as i64)
    }
}
