//! The synthetic motion benchmark: labelled action videos in which the label is carried by
//! motion alone.
//!
//! Real action datasets cannot be downloaded where motus is built and tested, yet the benchmark
//! must show what the literature's tables show: that a model which sees motion beats one that
//! sees single frames. So every class here has a twin (mirrored or time-reversed) whose frames,
//! one at a time, are drawn from the same distribution; only the order of frames tells them
//! apart. The same generator doubles as the device's live demo camera ([`SynthVideo::endless`]).
//!
//! Modules, one job each:
//! - [`classes`]: the action classes and their motion programs (pose as a function of time);
//! - `negatives`: the background class's clips, "none of these" (objects handled, gestures,
//!   bending, vehicles, camera motion, lighting changes, crowds);
//! - `actor`: the articulated, direction-free stick figure and its pose;
//! - `raster`: anti-aliased drawing primitives, limited to each primitive's bounding box;
//! - `scene`: backgrounds, distractors, lighting, noise, camera shake, the per-video draw;
//! - `video`: [`SynthVideo`], a [`crate::media::VideoReader`] rendering frames on demand;
//! - [`scene_windows`]: labelled windows cut from continuous scenes, for training sets that
//!   look like what a live camera shows;
//!
//! The benchmark's writer (a whole dataset with MMAction2 lists) and its contact sheet are host
//! tools: `motus_lab::benchmark`.

mod actor;
pub mod classes;
mod negatives;
mod raster;
mod scene;
pub mod scene_windows;
mod video;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use classes::{class_names, paired_class_indices, CLASS_NAMES, MIRROR_PAIRS, MOTION_PAIRS};
pub use video::SynthVideo;

/// How the benchmark writer (`motus_lab::benchmark::write_dataset`) stores each video.
///
/// Y4M is lossless and read natively; `Frames` (a folder of `img_00001.jpg`, …) is MMAction2's
/// rawframes layout, for training tools that expect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFormat {
    /// One `.y4m` file per video.
    Y4m,
    /// One folder of JPEG frames per video (MMAction2 rawframes).
    Frames,
}

/// Everything that shapes a synthetic dataset; one value reproduces it exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Frame width in pixels (32..=4096).
    pub width: u32,
    /// Frame height in pixels (32..=4096).
    pub height: u32,
    /// Frames per video (at least 16; at least 200 in long mode).
    pub frames: u32,
    /// Frame rate; action durations are drawn in seconds and converted with it.
    pub fps: f64,
    /// Seed of every random draw; each video derives its own generator from it.
    pub seed: u64,
    /// Short mode: videos per class. Long mode: the total number of long videos.
    pub videos_per_class: usize,
    /// Train / val / test percentages (any non-negative weights with a positive sum).
    pub splits: [u32; 3],
    /// How videos are stored.
    pub format: StorageFormat,
    /// Long mode: several actions per video with ground-truth segments, for detection tests.
    pub long: bool,
    /// Short mode: continuous scenes (each [`scene_windows::SCENE_SECONDS`] long) to cut
    /// labelled windows from, besides the clips; 0 for none.
    pub scenes: usize,
    /// Frames per scene window: the clip length of the model to be trained.
    pub scene_window: u32,
    /// Short mode: clips of class 0 when it should get more than `videos_per_class` (with
    /// `negatives` its clips are spread over ten kinds of scene); `None` = `videos_per_class`.
    pub background_videos: Option<usize>,
    /// Short mode: background clips draw the ten kinds of negative scene of `negatives`
    /// (objects handled, gestures, bending, vehicles, camera motion, lighting, crowds)
    /// instead of only still people, so class 0 means "none of these".
    pub negatives: bool,
}

impl Default for SynthConfig {
    /// Small clips that build fast: 128x128, 48 frames at 25 fps, 10 per class, 70/15/15.
    fn default() -> Self {
        SynthConfig {
            width: 128,
            height: 128,
            frames: 48,
            fps: 25.0,
            seed: 0,
            videos_per_class: 10,
            splits: [70, 15, 15],
            format: StorageFormat::Y4m,
            long: false,
            scenes: 0,
            scene_window: 25,
            background_videos: None,
            negatives: false,
        }
    }
}

/// Smallest frame side: below it the actor is a few pixels and its limbs vanish.
pub const MIN_SIDE: u32 = 32;
/// Largest frame side, matching what the media writers accept.
pub const MAX_SIDE: u32 = 4096;
/// Fewest frames of a short clip: enough for an idle lead, an action and an idle tail.
pub const MIN_FRAMES: u32 = 16;
/// Fewest frames of a long video: enough for several actions with idle gaps.
pub const MIN_LONG_FRAMES: u32 = 200;
/// Most frames per video (over 11 hours at 25 fps): bounds the memory of a long video's plan.
pub const MAX_FRAMES: u32 = 1_000_000;
/// Most videos per class: bounds list sizes and keeps counts far from overflow.
pub const MAX_VIDEOS_PER_CLASS: usize = 1_000_000;

impl SynthConfig {
    /// Checks every field so that generation never fails half-way for a config reason.
    pub fn validate(&self) -> Result<(), SynthError> {
        self.validate_for(self.long)
    }

    /// Validation for short clips (`long == false`) or long videos, whatever `self.long` says;
    /// `SynthVideo::new` and `SynthVideo::long` need one or the other.
    pub(crate) fn validate_for(&self, long: bool) -> Result<(), SynthError> {
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if !(MIN_SIDE..=MAX_SIDE).contains(&v) {
                return Err(SynthError::Config(format!(
                    "{name} must be between {MIN_SIDE} and {MAX_SIDE} pixels, got {v}"
                )));
            }
        }
        let min_frames = if long { MIN_LONG_FRAMES } else { MIN_FRAMES };
        if self.frames < min_frames {
            let what = if long { "a long video" } else { "a clip" };
            return Err(SynthError::Config(format!("{what} needs at least {min_frames} frames, got {}", self.frames)));
        }
        if self.frames > MAX_FRAMES {
            return Err(SynthError::Config(format!("frames must be at most {MAX_FRAMES}, got {}", self.frames)));
        }
        if !(self.fps.is_finite() && self.fps > 0.0 && self.fps <= 1000.0) {
            return Err(SynthError::Config(format!("fps must be a finite number in (0, 1000], got {}", self.fps)));
        }
        if self.splits.iter().map(|&s| s as u64).sum::<u64>() == 0 {
            return Err(SynthError::Config("splits must not all be zero (e.g. 70,15,15)".into()));
        }
        if self.scenes > 0 {
            if long {
                return Err(SynthConfig::scenes_error("scene windows go with short clips, not long videos"));
            }
            if self.scenes > MAX_SCENES {
                return Err(SynthConfig::scenes_error(&format!("at most {MAX_SCENES} scenes, got {}", self.scenes)));
            }
            let scene_frames = self.scene_frames();
            if self.scene_window < 2 || self.scene_window as u64 > scene_frames {
                return Err(SynthError::Config(format!(
                    "scene_window must be between 2 and the {scene_frames} frames of a scene, got {}",
                    self.scene_window
                )));
            }
        }
        if self.background_videos.is_some_and(|b| b == 0 || b > MAX_VIDEOS_PER_CLASS) {
            return Err(SynthError::Config(format!(
                "background_videos must be between 1 and {MAX_VIDEOS_PER_CLASS}, got {}",
                self.background_videos.unwrap_or(0)
            )));
        }
        if self.videos_per_class == 0 || self.videos_per_class > MAX_VIDEOS_PER_CLASS {
            return Err(SynthError::Config(format!(
                "videos_per_class must be between 1 and {MAX_VIDEOS_PER_CLASS}, got {}",
                self.videos_per_class
            )));
        }
        Ok(())
    }

    /// Frames of each scene that windows are cut from, at this config's rate.
    pub fn scene_frames(&self) -> u64 {
        (scene_windows::SCENE_SECONDS * self.fps).round().max(1.0) as u64
    }

    fn scenes_error(reason: &str) -> SynthError {
        SynthError::Config(format!("scenes: {reason}"))
    }
}

/// Most scenes to cut windows from: bounds the dataset (each scene is a minute of video).
pub const MAX_SCENES: usize = 10_000;

/// Why synthesis failed: a bad config, or a file that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A config value out of range; the message names the field and the accepted range.
    #[error("invalid synth config: {0}")]
    Config(String),
    /// A class index outside `0..CLASS_NAMES.len()`.
    #[error("class index {0} out of range: there are {n} classes", n = CLASS_NAMES.len())]
    BadClass(usize),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    GroundTruth(#[from] crate::truth::GroundTruthError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: image: {source}")]
    Image { path: PathBuf, source: image::ImageError },
}

impl SynthError {
    /// An I/O failure on `path`, kept as the cause (the benchmark writer's files).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SynthError::Io { path: path.into(), source }
    }
}

/// SplitMix64 finaliser: turns (seed, tags) into well-spread generator seeds, so video `i` of
/// class `c` is reproducible alone and unrelated to its neighbours.
pub fn mix_seed(parts: &[u64]) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for &p in parts {
        h ^= p;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}
