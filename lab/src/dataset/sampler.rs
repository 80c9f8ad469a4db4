//! Clip samplers: which frames of a video of `n` frames make up each clip.
//!
//! Samplers return frame indices rather than frames so that the same choice can be applied to
//! any source (decoded container, frame folder, the device's ring buffer) and tested without
//! decoding anything.

use motus_models::{ClipSpec, ContractError};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

/// The source frames (0-based, within `[0, n)`) of one clip, in playback order.
///
/// `padded` records that the video was shorter than the clip span and the last frame was
/// repeated, so evaluation can report how many predictions saw padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipIndices {
    /// Source frame of each clip position.
    pub frames: Vec<u64>,
    /// True when the clip ran past the end and repeats the last frame.
    pub padded: bool,
}

/// Why no clip could be sampled. Bad inputs are errors rather than panics because video
/// lengths come from files.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// A video with no frames has no clip; the caller should skip or report it.
    #[error("the video has no frames; expected at least one to sample a clip from")]
    EmptyVideo,
    /// The clip spec has a zero length or stride.
    #[error("bad clip spec: {0}")]
    BadClip(#[from] ContractError),
    /// A count (segments, clips, window stride) of zero.
    #[error("{what} must be at least 1, got 0")]
    Zero { what: &'static str },
}

/// Whether a sampler may randomise (training augmentation) or must be reproducible (testing).
///
/// The generator is borrowed so a training loop owns one seeded generator and runs are
/// repeatable.
pub enum SampleMode<'a> {
    /// Random offsets drawn from this generator (augmentation).
    Train(&'a mut dyn RngCore),
    /// Fixed, centred positions: the same views on every run.
    Test,
}

/// How many spatial crops each test clip is evaluated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropMode {
    /// One centre crop: the cheap protocol.
    Center,
    /// Start, centre and end crops along the longer side: the usual "3 crops" protocol of
    /// published accuracy numbers.
    Three,
}

/// Where a square crop sits along the longer side; shared with the preprocessing that
/// places the crop.
pub use motus_core::preprocess::CropPosition;

/// One clip and one crop of a multi-view test: predictions are averaged over all views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestView {
    /// Which frames this view sees.
    pub clip: ClipIndices,
    /// Where along the longer side its square crop sits.
    pub crop: CropPosition,
}

/// A sampler by name and parameters, so a model card or training config can state how its
/// clips were drawn and evaluation can reproduce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SamplerConfig {
    /// TSN: one clip in each of `num_segments` equal segments (see [`tsn`]).
    Tsn { num_segments: u32 },
    /// Every window that fits, `window_stride` frames apart (see [`dense`]).
    Dense { window_stride: u64 },
    /// One clip at a random start when training, the centred clip when testing
    /// (see [`random_clip`]).
    Random,
    /// `num_clips` uniformly spaced clips times 1 or 3 crops (see [`multi_clip`]).
    MultiClip { num_clips: u32, crops: CropMode },
}

impl SamplerConfig {
    /// Samples views with this config; samplers without crops give centre-crop views, so
    /// callers handle every config the same way.
    pub fn views(&self, n: u64, clip: ClipSpec, mode: SampleMode<'_>) -> Result<Vec<TestView>, SampleError> {
        let centre = |clips: Vec<ClipIndices>| {
            clips.into_iter().map(|clip| TestView { clip, crop: CropPosition::Center }).collect()
        };
        Ok(match *self {
            SamplerConfig::Tsn { num_segments } => centre(tsn(n, num_segments, clip, mode)?),
            SamplerConfig::Dense { window_stride } => centre(dense(n, clip, window_stride)?),
            SamplerConfig::Random => match mode {
                SampleMode::Train(rng) => centre(vec![random_clip(n, clip, rng)?]),
                SampleMode::Test => centre(vec![centre_clip(n, clip)?]),
            },
            SamplerConfig::MultiClip { num_clips, crops } => multi_clip(n, clip, num_clips, crops)?,
        })
    }
}

/// Clip span in frames, computed in u64 so large strides cannot overflow.
fn span(clip: ClipSpec) -> Result<u64, SampleError> {
    clip.validate()?;
    Ok((clip.clip_len as u64 - 1) * clip.frame_stride as u64 + 1)
}

/// The clip starting at `start`, clamped to the last frame where it runs past the end.
fn clip_at(n: u64, clip: ClipSpec, start: u64) -> ClipIndices {
    let last = n - 1;
    let mut padded = false;
    let frames = (0..clip.clip_len as u64)
        .map(|i| {
            let f = start + i * clip.frame_stride as u64;
            if f > last {
                padded = true;
                last
            } else {
                f
            }
        })
        .collect();
    ClipIndices { frames, padded }
}

fn check(n: u64, clip: ClipSpec) -> Result<u64, SampleError> {
    let s = span(clip)?;
    if n == 0 {
        return Err(SampleError::EmptyVideo);
    }
    Ok(s)
}

/// The clip centred in the video (starting at 0, padded, when the video is too short).
pub fn centre_clip(n: u64, clip: ClipSpec) -> Result<ClipIndices, SampleError> {
    let s = check(n, clip)?;
    Ok(clip_at(n, clip, n.saturating_sub(s) / 2))
}

/// One clip at a uniformly random start: the temporal jitter that keeps a model from learning
/// where in a video the action sits.
pub fn random_clip<R: Rng + ?Sized>(n: u64, clip: ClipSpec, rng: &mut R) -> Result<ClipIndices, SampleError> {
    let s = check(n, clip)?;
    let start = if s <= n { rng.random_range(0..=n - s) } else { 0 };
    Ok(clip_at(n, clip, start))
}

/// One clip at a random start among those whose window overlaps the action `[start, end)` by
/// at least half of the window or half of the action, whichever is shorter: training on a
/// trimmed clip of a brief action without labelling its idle lead or tail as the action (see
/// [`super::actions`]). Falls back to [`random_clip`] when no start qualifies (a span outside
/// the video) and to the padded clip at 0 when the video is shorter than the window.
pub fn random_clip_on<R: Rng + ?Sized>(
    n: u64,
    clip: ClipSpec,
    action: (u64, u64),
    rng: &mut R,
) -> Result<ClipIndices, SampleError> {
    let s = check(n, clip)?;
    if s > n {
        return Ok(clip_at(n, clip, 0));
    }
    let (a, b) = (action.0.min(n), action.1.min(n));
    let need = s.min(b.saturating_sub(a)).div_ceil(2);
    if need == 0 {
        return random_clip(n, clip, rng);
    }
    // Overlap of [t, t+s) with [a, b) rises, holds, then falls as t grows, so the starts that
    // reach `need` form one interval.
    let lo = (a + need).saturating_sub(s);
    let hi = (b - need).min(n - s);
    if lo > hi {
        return random_clip(n, clip, rng);
    }
    Ok(clip_at(n, clip, rng.random_range(lo..=hi)))
}

/// TSN sampling: the video is cut into `num_segments` equal segments and one clip is taken in
/// each, at a random offset (train) or centred (test), so a few clips cover the whole video.
///
/// Segment `k` is `[k*n/S, (k+1)*n/S)`. When a segment is shorter than the clip span, its clip
/// is centred on the segment but kept inside the video (padded only when the whole video is
/// shorter than the span), so it spills into neighbouring segments rather than repeating frames.
pub fn tsn(n: u64, num_segments: u32, clip: ClipSpec, mode: SampleMode<'_>) -> Result<Vec<ClipIndices>, SampleError> {
    let s = check(n, clip)?;
    if num_segments == 0 {
        return Err(SampleError::Zero { what: "num_segments" });
    }
    let segs = num_segments as u64;
    let mut rng = match mode {
        SampleMode::Train(rng) => Some(rng),
        SampleMode::Test => None,
    };
    let max_start = n.saturating_sub(s);
    let mut clips = Vec::with_capacity(num_segments as usize);
    for k in 0..segs {
        let (a, b) = (bound(k, n, segs), bound(k + 1, n, segs));
        let len = b - a;
        let start = if len >= s {
            let room = len - s;
            match rng.as_mut() {
                Some(r) => a + r.random_range(0..=room),
                None => a + room / 2,
            }
        } else {
            ((a + b) / 2).saturating_sub(s / 2).min(max_start)
        };
        clips.push(clip_at(n, clip, start));
    }
    Ok(clips)
}

/// `k * n / parts` without overflow for any video length.
fn bound(k: u64, n: u64, parts: u64) -> u64 {
    (k as u128 * n as u128 / parts as u128) as u64
}

/// Dense sliding windows: every clip start `0, s, 2s, …` that fits in the video, so long-video
/// evaluation sees every moment. A video shorter than one span gives one padded clip.
pub fn dense(n: u64, clip: ClipSpec, window_stride: u64) -> Result<Vec<ClipIndices>, SampleError> {
    let s = check(n, clip)?;
    if window_stride == 0 {
        return Err(SampleError::Zero { what: "window_stride" });
    }
    if s > n {
        return Ok(vec![clip_at(n, clip, 0)]);
    }
    Ok((0..=(n - s) / window_stride).map(|i| clip_at(n, clip, i * window_stride)).collect())
}

/// Multi-view testing: `num_clips` clips whose starts are centred in equal chunks of the
/// possible starts (so they spread over the whole video), each with 1 or 3 crops — the protocol
/// published video accuracies are measured with. Views are clip-major: all crops of clip 0,
/// then clip 1, …
pub fn multi_clip(n: u64, clip: ClipSpec, num_clips: u32, crops: CropMode) -> Result<Vec<TestView>, SampleError> {
    let s = check(n, clip)?;
    if num_clips == 0 {
        return Err(SampleError::Zero { what: "num_clips" });
    }
    let positions: &[CropPosition] = match crops {
        CropMode::Center => &[CropPosition::Center],
        CropMode::Three => &[CropPosition::Start, CropPosition::Center, CropPosition::End],
    };
    let starts = n.saturating_sub(s) + 1;
    let clips = num_clips as u64;
    let mut views = Vec::with_capacity(num_clips as usize * positions.len());
    for k in 0..clips {
        let start = bound(2 * k + 1, starts, 2 * clips).min(starts - 1);
        let indices = clip_at(n, clip, start);
        views.extend(positions.iter().map(|&crop| TestView { clip: indices.clone(), crop }));
    }
    Ok(views)
}
