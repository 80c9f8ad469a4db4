//! motus: an edge video action classifier.
//!
//! This library holds everything the trainer, the evaluator and the device share, so that a
//! clip is built from the same pixels by the same code wherever it is used: media I/O,
//! preprocessing, datasets and clip sampling, and the synthetic motion benchmark.

pub mod alert;
pub mod atomic;
pub mod dataset;
pub mod eval;
pub mod flow;
pub mod frame;
pub mod gpu;
pub mod infer;
pub mod media;
pub mod memory;
pub mod preprocess;
pub mod progress;
pub mod quantize;
pub mod redact;
pub mod retime;
pub mod runtime;
pub mod synth;
pub mod tract_isa;

pub use frame::Frame;
