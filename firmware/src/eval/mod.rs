//! Offline accuracy: the literature's classification metrics and event-level detection
//! scoring on long videos. `motus eval` (and the trainer's experiment table) build on these.

pub mod detection;
pub mod metrics;

pub use detection::{score_events, temporal_iou, windows_to_events, DetectionScore, Event, WindowScore};
pub use metrics::{Accumulator, ClassStats, MetricsError, Summary};
