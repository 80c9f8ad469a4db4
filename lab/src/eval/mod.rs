//! Offline accuracy: the literature's classification metrics, event-level detection scoring
//! on long videos, and the machinery of `motus eval` that runs a model over a dataset through
//! the device's own decode, preprocessing, flow and inference code.

pub mod calibration;
pub mod compare;
pub mod consistency;
pub mod detection;
pub mod false_alerts;
pub mod labels;
pub mod latency;
pub mod long;
pub mod metrics;
pub mod parallel;
pub mod plot;
pub mod protocol;
pub mod report;
pub mod runner;

pub use compare::{compare, ClassDiff, Comparison, VideoPair};
pub use detection::{
    match_events, score_events, score_matched, temporal_iou, windows_to_events, DetectionScore, Event, WindowScore,
};
pub use labels::{check_labels, LabelMismatch};
pub use latency::{summarize as summarize_latency, LatencySummary, Percentiles, StageTimes};
pub use long::{summarize_long, LongSummary};
pub use metrics::{Accumulator, ClassStats, MetricsError, Summary};
pub use protocol::{parse_protocol, protocol_name, ProtocolError};
pub use runner::{
    evaluate_consistency, evaluate_long, evaluate_videos, LongRun, RunError, RunOptions, Skipped, VideoFailure,
    VideoRun, VideoScores,
};
#[cfg(test)]
mod runner_tests;
