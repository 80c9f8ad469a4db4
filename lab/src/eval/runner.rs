//! Running a model over a dataset the way the device would: decode (`media`), the card's
//! preprocessing and flow ([`ClipBuilder`]), tract ([`Classifier`]), one clip at a time at
//! batch 1, on a few worker threads. Trimmed videos are scored per clip and per video
//! ([`evaluate_videos`]); long videos are read as a stream and scored by sliding windows
//! ([`evaluate_long`]); any videos can be checked for direction consistency under mirroring
//! and time reversal ([`evaluate_consistency`]).
//!
//! A video that cannot be decoded is skipped and returned with its error (never dropped
//! silently); a model that cannot run is an error for the whole evaluation.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use motus_models::ModelCard;

use crate::dataset::{Dataset, LongVideo, SampleMode, SamplerConfig};
use motus_core::flow::Backend;
use motus_core::frame::Frame;
use motus_core::infer::{Classifier, ClipBuilder, ClipError, InferError};

use super::consistency::{ClipConsistency, Transform, TransformReport};
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
    #[error(transparent)]
    Model(#[from] InferError),
    #[error("{path}: {source}")]
    Clips { path: PathBuf, source: ClipError },
    #[error("the window stride must be at least 1 frame")]
    ZeroStride,
    #[error("{path}: {source}")]
    Video { path: PathBuf, source: VideoFailure },
}

/// What stopped an evaluation in one video: the model or the clip assembly failed on data it
/// should take (unreadable videos are skipped instead, and listed).
#[derive(Debug, thiserror::Error)]
pub enum VideoFailure {
    #[error(transparent)]
    Clip(ClipError),
    #[error(transparent)]
    Model(InferError),
    #[error(transparent)]
    Rate(motus_core::retime::RetimeError),
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
    /// The card's frame rate: videos are picked at it ([`motus_core::retime`]).
    fps: Option<f64>,
}

/// Per-video failure: unreadable data (skip it) or a model failure (stop).
enum Failure {
    Skip(String),
    Fatal(VideoFailure),
}

impl From<ClipError> for Failure {
    fn from(e: ClipError) -> Self {
        match e {
            ClipError::Preprocess { .. } => Failure::Skip(e.to_string()),
            other => Failure::Fatal(VideoFailure::Clip(other)),
        }
    }
}

fn start_worker(model: &Path, card: &ModelCard, opts: &RunOptions) -> Result<Worker, RunError> {
    let classifier = Classifier::load_with_card(model, card.clone())?;
    let builder = ClipBuilder::from_card(card, opts.flow_backend, opts.flow_threads)
        .map_err(|source| RunError::Clips { path: model.to_path_buf(), source })?;
    Ok(Worker { classifier, builder, fps: card.input.fps })
}

impl Worker {
    /// Builds (continuing the previous window `advance` frames on, when not 0) and classifies
    /// one window; returns the probabilities and the stage times.
    fn classify<F: std::borrow::Borrow<Frame>>(
        &mut self,
        frames: &[F],
        crop: motus_core::preprocess::CropPosition,
        advance: usize,
        decode: Duration,
    ) -> Result<(Vec<f32>, StageTimes), Failure> {
        let t = self.builder.build_advanced(frames, crop, advance)?;
        let start = Instant::now();
        let scores = self.classifier.run(&self.builder.inputs()).map_err(|e| Failure::Fatal(VideoFailure::Model(e)))?;
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
    let frames = motus_core::retime::at_rate(&frames, w.fps).map_err(|e| Failure::Skip(e.to_string()))?;
    score_frames(w, &frames, protocol, decode)
}

/// Scores the clips `protocol` takes from `frames` (already at the model's rate), sharing
/// `decode` among them.
fn score_frames(
    w: &mut Worker,
    frames: &[&Frame],
    protocol: &SamplerConfig,
    decode: Duration,
) -> Result<VideoScores, Failure> {
    let views = protocol
        .views(frames.len() as u64, w.builder.window_spec(), SampleMode::Test)
        .map_err(|e| Failure::Skip(e.to_string()))?;
    let share = decode / views.len().max(1) as u32;
    let mut out = VideoScores::default();
    let mut refs: Vec<&Frame> = Vec::new();
    for view in &views {
        refs.clear();
        refs.extend(view.clip.frames.iter().map(|&i| frames[i as usize]));
        let (probs, times) = w.classify(&refs, view.crop, 0, share)?;
        out.probs.push(probs);
        out.times.push(times);
        out.padded += usize::from(view.clip.padded);
    }
    Ok(out)
}

/// The video's predicted class from its clips, by `motus eval`'s own rule.
fn top_class(scores: &VideoScores) -> Result<usize, Failure> {
    if scores.probs.is_empty() {
        return Err(Failure::Skip("the protocol took no clip from the video".into()));
    }
    Ok(super::metrics::video_prediction(&scores.probs))
}

/// Each video's top class, and its top class under each transform (in `transforms`' order).
fn consistency_of(
    w: &mut Worker,
    path: &Path,
    protocol: &SamplerConfig,
    transforms: &[Transform],
) -> Result<(usize, Vec<usize>), Failure> {
    let frames =
        motus_core::media::open_video(path).and_then(|mut r| r.read_all()).map_err(|e| Failure::Skip(e.to_string()))?;
    if frames.is_empty() {
        return Err(Failure::Skip("the video has no frames".into()));
    }
    let picked = motus_core::retime::at_rate(&frames, w.fps).map_err(|e| Failure::Skip(e.to_string()))?;
    let top = top_class(&score_frames(w, &picked, protocol, Duration::ZERO)?)?;
    let mut tops = Vec::with_capacity(transforms.len());
    for t in transforms {
        let changed = t.apply(&picked);
        let refs: Vec<&Frame> = changed.iter().collect();
        tops.push(top_class(&score_frames(w, &refs, protocol, Duration::ZERO)?)?);
    }
    Ok((top, tops))
}

/// Direction consistency of `model` on the videos at `paths` ([`super::consistency`]): per
/// transform, each readable video's top class against its transformed copy's. Unreadable
/// videos are skipped and returned.
pub fn evaluate_consistency(
    model: &Path,
    card: &ModelCard,
    paths: &[PathBuf],
    protocol: &SamplerConfig,
    transforms: &[Transform],
    opts: &RunOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Vec<TransformReport>, Vec<Skipped>), RunError> {
    let results = par_map(
        paths.len(),
        opts.workers,
        || start_worker(model, card, opts),
        |w, i| consistency_of(w, &paths[i], protocol, transforms),
        progress,
    )?;
    let mut per_transform: Vec<Vec<ClipConsistency>> = vec![Vec::new(); transforms.len()];
    let mut skipped = Vec::new();
    for (path, r) in paths.iter().zip(results) {
        match r {
            Ok((top, tops)) => {
                let name = |i: usize| card.labels[i].clone();
                for ((t, got), out) in transforms.iter().zip(tops).zip(per_transform.iter_mut()) {
                    let expected = t.twin(&card.labels[top]).map(str::to_string);
                    out.push(ClipConsistency {
                        path: path.display().to_string(),
                        top: name(top),
                        transformed: name(got),
                        expected,
                    });
                }
            }
            Err(Failure::Skip(error)) => skipped.push(Skipped { path: path.clone(), line: 0, error }),
            Err(Failure::Fatal(source)) => return Err(RunError::Video { path: path.clone(), source }),
        }
    }
    let reports = transforms.iter().zip(per_transform).map(|(t, clips)| TransformReport::tally(*t, clips)).collect();
    Ok((reports, skipped))
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
            Ok::<_, RunError>(w)
        },
        |w, i| score_video(w, ds, i, protocol),
        progress,
    )?;
    let mut run = VideoRun {
        scored: Vec::new(),
        skipped: Vec::new(),
        seconds: 0.0,
        flow_engine: flow_engine.into_inner().expect("not poisoned"),
    };
    for (i, r) in results.into_iter().enumerate() {
        let entry = &ds.entries[i];
        match r {
            Ok(s) => run.scored.push((i, s)),
            Err(Failure::Skip(error)) => {
                run.skipped.push(Skipped { path: entry.path.clone(), line: entry.line, error })
            }
            Err(Failure::Fatal(source)) => return Err(RunError::Video { path: entry.path.clone(), source }),
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

/// Streams one long video through the window: frames are decoded one by one, picked at the
/// card's rate ([`motus_core::retime`]; every frame without one) into a ring of `span` recycled
/// buffers (memory stays bounded for any length), and each complete window is classified, as
/// the device does live. Windows slide `window_stride` model frames and are reported in source
/// frames (the ground truth's), from the first frame they read to one past the last.
fn score_long(w: &mut Worker, video: &LongVideo, window_stride: u64) -> Result<LongScores, Failure> {
    let spec = w.builder.window_spec();
    let span = spec.span() as usize;
    let stride = spec.frame_stride as usize;
    let mut reader = motus_core::media::open_video(&video.path).map_err(|e| Failure::Skip(e.to_string()))?;
    let mut retimer =
        w.fps.map(motus_core::retime::Retimer::new).transpose().map_err(|e| Failure::Fatal(VideoFailure::Rate(e)))?;
    // Model frames with the source frame each is.
    let mut ring: VecDeque<(Frame, u64)> = VecDeque::with_capacity(span + 1);
    let (mut previous, mut current) = (Frame::new(0, 0), Frame::new(0, 0));
    let mut out = LongScores { windows: Vec::new(), times: Vec::new(), frames: 0 };
    let mut decode = Duration::ZERO;
    let mut model_frames = 0u64;
    // Consecutive windows share frames when the window stride is a whole number of clip
    // strides: the builder then reuses their preprocessing and flow.
    let advance = if window_stride.is_multiple_of(spec.frame_stride as u64) {
        (window_stride / spec.frame_stride as u64) as usize
    } else {
        0
    };
    // The builder outlives this video (and a time jump breaks the stream): the next window
    // must not continue the last one.
    let mut fresh = true;
    loop {
        let start = Instant::now();
        let more = reader.read_into(&mut current).map_err(|e| Failure::Skip(format!("frame {}: {e}", out.frames)))?;
        decode += start.elapsed();
        if !more {
            break;
        }
        let picks = match retimer.as_mut() {
            Some(r) => r.feed(current.timestamp),
            None => motus_core::retime::Picks { current: 1, ..Default::default() },
        };
        if retimer.as_ref().is_some_and(|r| r.stuck()) {
            return Err(Failure::Skip(format!(
                "{} frames in a row, up to frame {}, carry the timestamp {:?}: the video's timestamps do not advance, so frames cannot be picked by time",
                motus_core::retime::STUCK_AFTER,
                out.frames,
                current.timestamp
            )));
        }
        if picks.restart {
            ring.clear();
            fresh = true;
        }
        for k in 0..picks.total() {
            let (frame, index) = if k < picks.previous { (&previous, out.frames - 1) } else { (&current, out.frames) };
            let mut slot =
                if ring.len() >= span { ring.pop_front().expect("ring is full").0 } else { Frame::new(0, 0) };
            slot.clone_from(frame);
            ring.push_back((slot, index));
            model_frames += 1;
            if ring.len() < span || !(model_frames - span as u64).is_multiple_of(window_stride) {
                continue;
            }
            let refs: Vec<&Frame> = (0..w.builder.window_len()).map(|k| &ring[k * stride].0).collect();
            let advance = if fresh { 0 } else { advance };
            let (probs, times) =
                w.classify(&refs, motus_core::preprocess::CropPosition::Center, advance, std::mem::take(&mut decode))?;
            fresh = false;
            let (first, last) = (ring[0].1, ring[span - 1].1);
            out.windows.push(WindowScore { start_frame: first, end_frame: last + 1, probs });
            out.times.push(times);
        }
        out.frames += 1;
        std::mem::swap(&mut previous, &mut current);
    }
    if out.windows.is_empty() {
        return Err(Failure::Skip(format!(
            "{} frames decoded ({model_frames} at the model's rate), one window needs {span}",
            out.frames
        )));
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
    let probe = ClipBuilder::from_card(card, opts.flow_backend, opts.flow_threads)
        .map_err(|source| RunError::Clips { path: model.to_path_buf(), source })?;
    let span = probe.window_spec().span() as u64;
    let flow_engine = probe.flow_engine().map(str::to_string);
    drop(probe);
    let window_stride = window_stride.unwrap_or((span / 2).max(1));
    if window_stride == 0 {
        return Err(RunError::ZeroStride);
    }
    let results = par_map(
        videos.len(),
        opts.workers,
        || start_worker(model, card, opts),
        |w, i| score_long(w, &videos[i], window_stride),
        progress,
    )?;
    let mut run = LongRun {
        scored: Vec::new(),
        skipped: Vec::new(),
        seconds: 0.0,
        flow_engine,
        window_span: span,
        window_stride,
    };
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(s) => run.scored.push((i, s)),
            Err(Failure::Skip(error)) => run.skipped.push(Skipped { path: videos[i].path.clone(), line: 0, error }),
            Err(Failure::Fatal(source)) => return Err(RunError::Video { path: videos[i].path.clone(), source }),
        }
    }
    run.seconds = start.elapsed().as_secs_f64();
    Ok(run)
}
