//! The classification stage as the pipeline sees it: a window of recent frames in, class
//! probabilities out. The pipeline owns the frame history and the sliding-window stride; the
//! stage owns clip assembly (the shared `infer::clip` code), flow and the model, so any
//! architecture — or another runtime — plugs in behind this one trait.

use std::path::PathBuf;
use std::time::Duration;

use motus_core::flow::{FlowError, FlowMismatch};
use motus_core::frame::Frame;
use motus_core::infer::{ClipError, InferError};
use motus_core::preprocess::PreprocessError;

/// Why a classification stage could not start, prepare a frame or score a window; the cause
/// is kept (`source()`), and the message names the file or setting.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("card {path}: {source}")]
    CardRead { path: PathBuf, source: std::io::Error },
    #[error("card {path}: {source}")]
    Card { path: PathBuf, source: motus_models::CardError },
    #[error(transparent)]
    Model(#[from] InferError),
    #[error("model {path}: flow: {source}")]
    FlowContract { path: PathBuf, source: FlowMismatch },
    #[error("flow engine: {0}")]
    FlowEngine(#[source] FlowError),
    #[error("model {path}: {source}")]
    Clip { path: PathBuf, source: ClipError },
    #[error("clip: {0}")]
    Window(#[source] ClipError),
    #[error("resize: {0}")]
    Resize(#[source] PreprocessError),
    #[error("window of {got} frames, the model spans {span}")]
    WindowLength { got: usize, span: usize },
    #[error("model {path} has SHA-256 {got}, the config pins {want} (model.sha256): refusing to run it")]
    PinMismatch { path: PathBuf, got: String, want: String },
}

/// Time spent in each part of one classification.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    pub preprocess: Duration,
    pub flow: Duration,
    pub infer: Duration,
}

/// Classifies sliding windows of frames (on the pipeline's own thread, so it need not be `Send`).
pub trait WindowClassifier {
    /// Class names, in score order.
    fn labels(&self) -> &[String];
    /// Source frames one window spans (the pipeline keeps this many, newest last).
    fn span(&self) -> usize;
    /// Per-frame work done once when a frame enters the window history (it then serves every
    /// window that contains it): writes what the history keeps for `src` into `dst`. The
    /// default keeps the frame as it is.
    fn prepare(&mut self, src: &Frame, dst: &mut Frame) -> Result<(), StageError> {
        dst.width = src.width;
        dst.height = src.height;
        dst.timestamp = src.timestamp;
        dst.data.clear();
        dst.data.extend_from_slice(&src.data);
        Ok(())
    }
    /// Scores the window `frames` (exactly `span` frames as [`Self::prepare`] left them,
    /// oldest first): probabilities per class, and where the time went.
    fn classify(&mut self, frames: &[&Frame]) -> Result<(Vec<f32>, StageTimes), StageError>;
    /// One line for the start-up log (model, flow engine, threads).
    fn describe(&self) -> String;
    /// Frames per second the model's windows are sampled at (its card's `fps`): the pipeline
    /// then picks camera frames by timestamp at that rate. `None` takes every frame.
    fn frame_rate(&self) -> Option<f64> {
        None
    }
}
