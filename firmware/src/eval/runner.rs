//! Running a model over a dataset the way the device would: decode (`media`), the card's
//! preprocessing and flow ([`ClipBuilder`]), tract ([`Classifier`]), one clip at a time at
//! batch 1, on a few worker threads. Trimmed videos are scored per clip and per video
//! ([`evaluate_videos`]); long videos are read as a stream and scored by sliding windows
//! ([`evaluate_long`]).
//!
//! A video that cannot be decoded is skipped and returned with its error (never dropped
//! silently); a model that cannot run is an error for the whole evaluation.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use motus_models::ModelCard;

use crate::dataset::{Dataset, LongVideo, SampleMode, SamplerConfig};
use crate::flow::Backend;
use crate::frame::Frame;
use crate::infer::{Classifier, ClipBuilder, ClipError};

use super::detection::WindowScore;
use super::latency::StageTimes;
use super::parallel::par_map;

/// How the evaluation runs (not what it measures).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Videos evaluated at once, each worker with its own classifier and flow engine.
    pub workers: usize,
    /// Flow backend for models that read flow.
    pub flow_backend: Backend,
    /// Threads of each CPU flow engine.
    pub flow_threads: usize,
}

impl Default for RunOptions {
    /// Two workers, CPU flow on one thread each.
    fn default() -> Self {
        RunOptions { workers: 2, flow_backend: Backend::Cpu, flow_threads: 1 }
    }
}

/// Why the evaluation as a whole could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Model(String),
    #[error("{path}: {msg}")]
    Video { path: PathBuf, msg: String },
}

/// One video that was skipped, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    /// 1-based line of the list naming it (0 when the list has none).
    pub line: usize,
    pub error: String,
}

/// The clips of one video: each clip's probabilities and stage times.
#[derive(Debug, Clone, Default)]
pub struct VideoScores {
    pub probs: Vec<Vec<f32>>,
    pub times: Vec<StageTimes>,
    /// Clips that ran past the video's end (last frame repeated).
    pub padded: usize,
}

/// A whole trimmed-video run: scores of the readable videos (by dataset entry index), the
/// skipped ones, and the wall time.
#[derive(Debug, Clone)]
pub struct VideoRun {
    pub scored: Vec<(usize, VideoScores)>,
    pub skipped: Vec<Skipped>,
    pub seconds: f64,
    /// The flow engine used, when the model reads flow.
    pub flow_engine: Option<String>,
}

/// What one worker holds.
struct Worker {
    classifier: Classifier,
    builder: ClipBuilder,
}

/// Per-video failure: unreadable data (skip it) or a model failure (stop).
enum Failure {
    Skip(String),
    Fatal(String),
}

impl From<ClipError> for Failure {
    fn from(e: ClipError) -> Self {
        match e {
            ClipError::Preprocess { .. } => Failure::Skip(e.to_string()),
            other => Failure::Fatal(other.to_string()),
        }
    }
}

fn start_worker(model: &Path, card: &ModelCard, opts: &RunOptions) -> Result<Worker, RunError> {
    let classifier = Classifier::load_with_card(model, card.clone()).map_err(|e| RunError::Model(e.to_string()))?;
    let builder = ClipBuilder::from_card(card, opts.flow_backend, opts.flow_threads)
        .map_err(|e| RunError::Model(format!("{}: {e}", model.display())))?;
    Ok(Worker { classifier, builder })
}

impl Worker {
    /// Builds and classifies one window; returns the probabilities and the stage times.
    fn classify<F: std::borrow::Borrow<Frame>>(&mut self, frames: &[F], crop: crate::preprocess::CropPosition, decode: Duration) -> Result<(Vec<f32>, StageTimes), Failure> {
        let t = self.builder.build(frames, crop)?;
        let start = Instant::now();
        let scores = self.classifier.run(&self.builder.inputs()).map_err(|e| Failure::Fatal(e.to_string()))?;
        let inference = start.elapsed();
        Ok((scores.probs_row(0).to_vec(), StageTimes { decode, preprocess: t.preprocess, flow: t.flow, inference }))
    }
}

fn score_video(w: &mut Worker, ds: &Dataset, index: usize, protocol: &SamplerConfig) -> Result<VideoScores, Failure> {
    let entry = &ds.entries[index];
    let start = Instant::now();
    let frames = ds.load_frames(entry).map_err(|e| Failure::Skip(e.to_string()))?;
    let decode = start.elapsed();
    if frames.is_empty() {
        return Err(Failure::Skip("the video has no frames".into()));
    }
    let views = protocol.views(frames.len() as u64, w.builder.window_spec(), SampleMode::Test).map_err(|e| Failure::Skip(e.to_string()))?;
    let share = decode / views.len().max(1) as u32;
    let mut out = VideoScores::default();
    let mut refs: Vec<&Frame> = Vec::new();
    for view in &views {
        refs.clear();
        refs.extend(view.clip.frames.iter().map(|&i| &frames[i as usize]));
        let (probs, times) = w.classify(&refs, view.crop, share)?;
        out.probs.push(probs);
        out.times.push(times);
        out.padded += usize::from(view.clip.padded);
    }
    Ok(out)
}

/// Scores every entry of `ds` under `protocol` with `model` (whose resolved card is `card`).
pub fn evaluate_videos(
    model: &Path,
    card: &ModelCard,
    ds: &Dataset,
    protocol: &SamplerConfig,
    opts: &RunOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<VideoRun, RunError> {
    let start = Instant::now();
    let flow_engine = std::sync::Mutex::new(None);
    let results = par_map(
        ds.entries.len(),
        opts.workers,
        || {
            let w = start_worker(model, card, opts)?;
            *flow_engine.lock().expect("no worker panics holding it") = w.builder.flow_engine().map(str::to_string);
            Ok(w)
        },
        |w, i| score_video(w, ds, i, protocol),
        progress,
    )?;
    let mut run = VideoRun { scored: Vec::new(), skipped: Vec::new(), seconds: 0.0, flow_engine: flow_engine.into_inner().expect("not poisoned") };
    for (i, r) in results.into_iter().enumerate() {
        let entry = &ds.entries[i];
        match r {
            Ok(s) => run.scored.push((i, s)),
            Err(Failure::Skip(error)) => run.skipped.push(Skipped { path: entry.path.clone(), line: entry.line, error }),
            Err(Failure::Fatal(msg)) => return Err(RunError::Video { path: entry.path.clone(), msg }),
        }
    }
    run.seconds = start.elapsed().as_secs_f64();
    Ok(run)
}

/// Sliding windows over one long video: every window start `0, s, 2s, …` that fits.
#[derive(Debug, Clone)]
pub struct LongScores {
    pub windows: Vec<WindowScore>,
    pub times: Vec<StageTimes>,
    /// Frames decoded.
    pub frames: u64,
}

/// A whole long-video run.
#[derive(Debug, Clone)]
pub struct LongRun {
    pub scored: Vec<(usize, LongScores)>,
    pub skipped: Vec<Skipped>,
    pub seconds: f64,
    pub flow_engine: Option<String>,
    /// Source frames a window covers and between window starts.
    pub window_span: u64,
    pub window_stride: u64,
}

/// Streams one long video through the window: frames are decoded one by one into a ring of
/// `span` recycled buffers (memory stays bounded for any length), and each complete window is
/// classified, as the device does live.
fn score_long(w: &mut Worker, video: &LongVideo, window_stride: u64) -> Result<LongScores, Failure> {
    let spec = w.builder.window_spec();
    let span = spec.span() as usize;
    let stride = spec.frame_stride as usize;
    let mut reader = crate::media::open_video(&video.path).map_err(|e| Failure::Skip(e.to_string()))?;
    let mut ring: VecDeque<Frame> = VecDeque::with_capacity(span + 1);
    let mut spare = Frame::new(0, 0);
    let mut out = LongScores { windows: Vec::new(), times: Vec::new(), frames: 0 };
    let mut decode = Duration::ZERO;
    loop {
        let start = Instant::now();
        let more = reader.read_into(&mut spare).map_err(|e| Failure::Skip(format!("frame {}: {e}", out.frames)))?;
        decode += start.elapsed();
        if !more {
            break;
        }
        ring.push_back(std::mem::replace(&mut spare, Frame::new(0, 0)));
        if ring.len() > span {
            spare = ring.pop_front().expect("ring is non-empty");
        }
        out.frames += 1;
        if out.frames < span as u64 || (out.frames - span as u64) % window_stride != 0 {
            continue;
        }
        let first = out.frames - span as u64;
        let refs: Vec<&Frame> = (0..w.builder.window_len()).map(|k| &ring[k * stride]).collect();
        let (probs, times) = w.classify(&refs, crate::preprocess::CropPosition::Center, std::mem::take(&mut decode))?;
        out.windows.push(WindowScore { start_frame: first, end_frame: first + span as u64, probs });
        out.times.push(times);
    }
    if out.windows.is_empty() {
        return Err(Failure::Skip(format!("{} frames decoded, one window needs {span}", out.frames)));
    }
    Ok(out)
}

/// Scores every long video by sliding windows `window_stride` frames apart (`None`: half a
/// window span).
pub fn evaluate_long(
    model: &Path,
    card: &ModelCard,
    videos: &[LongVideo],
    window_stride: Option<u64>,
    opts: &RunOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<LongRun, RunError> {
    let start = Instant::now();
    let probe = ClipBuilder::from_card(card, opts.flow_backend, opts.flow_threads).map_err(|e| RunError::Model(format!("{}: {e}", model.display())))?;
    let span = probe.window_spec().span() as u64;
    let flow_engine = probe.flow_engine().map(str::to_string);
    drop(probe);
    let window_stride = window_stride.unwrap_or((span / 2).max(1));
    if window_stride == 0 {
        return Err(RunError::Model("the window stride must be at least 1 frame".into()));
    }
    let results = par_map(videos.len(), opts.workers, || start_worker(model, card, opts), |w, i| score_long(w, &videos[i], window_stride), progress)?;
    let mut run = LongRun { scored: Vec::new(), skipped: Vec::new(), seconds: 0.0, flow_engine, window_span: span, window_stride };
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(s) => run.scored.push((i, s)),
            Err(Failure::Skip(error)) => run.skipped.push(Skipped { path: videos[i].path.clone(), line: 0, error }),
            Err(Failure::Fatal(msg)) => return Err(RunError::Video { path: videos[i].path.clone(), msg }),
        }
    }
    run.seconds = start.elapsed().as_secs_f64();
    Ok(run)
}
