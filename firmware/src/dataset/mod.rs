//! Datasets: annotation lists, class indexes, long-video ground truth and clip samplers.

pub mod segments;

pub use segments::{GroundTruth, GroundTruthError, Segment};
