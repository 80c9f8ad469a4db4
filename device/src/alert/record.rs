//! The alert record every sink receives.

use serde::{Deserialize, Serialize};

/// One alert: what fired, how strongly, when, from which camera and model, and the snapshot
/// saved with it. Serialised as one JSON object (a line on stdout, a file entry, a webhook
/// body, an MQTT payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Unique and sortable: `<unix ms of start>-<class>-<sequence>`, the class written with
    /// ASCII letters, digits, `_` and `-` only (any other character becomes `_`), so an id is
    /// always a safe file name and HTTP header value whatever the model calls its classes.
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
        let class: String =
            class.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        format!("{}-{class}-{seq}", (start_unix_s * 1000.0).round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::AlertRecord;

    #[test]
    fn an_id_is_a_safe_file_name_whatever_the_class_is_called() {
        assert_eq!(AlertRecord::make_id(1.5, "fall_down", 7), "1500-fall_down-7");
        assert_eq!(AlertRecord::make_id(1.5, "../../etc/cron.d/x", 8), "1500-______etc_cron_d_x-8");
        assert_eq!(AlertRecord::make_id(1.5, "playing \"drums\"\r\nX: 1", 9), "1500-playing__drums___X__1-9");
        let long = AlertRecord::make_id(0.0, &"é".repeat(300), 1);
        assert_eq!(long.len(), "0--1".len() + 64);
    }
}
