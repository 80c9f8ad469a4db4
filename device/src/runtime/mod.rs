//! The device runtime: configuration, frame sources and the capture thread, the
//! capture-to-processing frame ring, alert sinks, overlay and metrics, and the pipeline that
//! joins them (`motus run`, `motus demo`, `motus bench pipeline`). Scoring a run against ground truth
//! is a host tool: `motus_lab::live`.

pub mod alerting;
pub mod capture;
pub mod classify;
pub mod config;
pub mod display;
pub mod flow_cache;
pub mod follow_crop;
pub mod http;
pub mod identity;
pub mod liveness;
pub mod metrics;
pub mod model_clock;
pub mod model_path;
pub mod pipeline;
pub mod ring;
pub mod secrets;
pub mod sink;
pub mod source;
pub mod tract_stage;

#[cfg(test)]
mod pipeline_tests;

pub use config::{ConfigError, Overrides, RunConfig};
pub use ring::{frame_ring, CaptureEnd, Captured, ProcessEnd, RingStats};
