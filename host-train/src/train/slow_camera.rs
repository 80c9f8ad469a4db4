//! Training clips as a camera slower than the model's rate would give them on the device.
//!
//! The device picks frames by time at the card's rate ([`motus_core::retime`]): a 10 fps camera
//! feeding a 30 fps model has each of its frames repeated about three times, and
//! [`motus_core::retime::flow_plan`] spreads the motion between two distinct camera frames evenly
//! over the repeated steps. A model that only ever saw clips from a camera at its own rate
//! meets held RGB frames and evened-out flow for the first time on the board.
//!
//! [`SlowCamera`] draws a camera `factor` times slower than the videos (a random phase
//! against them), picks the camera frame nearest to each window frame, as the device's
//! retimer does, and asks the device's own `flow_plan` how each flow step is filled. The
//! trainer's cache holds consecutive-frame flow only, so the flow between two camera frames
//! `a < b` is taken as the sum of cached fields `a … b−1`; scaled to one period it is their
//! mean. (The device computes that flow in one go; for the small per-frame motion of these
//! videos the two agree closely, and the sum is what the cache allows.)

use motus_core::retime::{flow_plan, StepFlow};
use motus_lab::dataset::sampler::ClipIndices;
use rand::Rng;
use std::time::Duration;

/// How often, and how much slower than the videos, an emulated camera runs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SlowCamera {
    /// Share of training clips taken from an emulated slower camera.
    pub probability: f32,
    /// The slowest camera, as a factor of the videos' rate (3: a 10 fps camera for 30 fps
    /// videos); each clip draws its factor uniformly from `[1, max_factor]`.
    pub max_factor: f32,
}

impl SlowCamera {
    /// Checks the ranges a command line can get wrong.
    pub fn validate(&self) -> Result<(), SlowCameraError> {
        if !(self.probability > 0.0 && self.probability <= 1.0) {
            return Err(SlowCameraError::Share(self.probability));
        }
        if !(self.max_factor > 1.0 && self.max_factor <= MAX_FACTOR) {
            return Err(SlowCameraError::Factor(self.max_factor));
        }
        Ok(())
    }

    /// Draws whether this clip comes from a slower camera and, if so, how it sees `window`
    /// (consecutive frames of a video of `video_len` frames). A padded window, or one that
    /// does not run frame by frame, is left as it is.
    pub fn draw<R: Rng>(&self, rng: &mut R, window: &ClipIndices, video_len: u64) -> Option<CameraView> {
        if !rng.random_bool(self.probability as f64) {
            return None;
        }
        let factor = rng.random_range(1.0..=self.max_factor as f64);
        let phase = rng.random_range(0.0..factor);
        let consecutive = window.frames.windows(2).all(|p| p[1] == p[0] + 1);
        (consecutive && !window.padded).then(|| view(&window.frames, video_len, factor, phase))
    }
}

/// Why slow-camera settings were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SlowCameraError {
    #[error("the slow-camera share must be in (0, 1], not {0}")]
    Share(f32),
    #[error("the slowest camera must be 1–{MAX_FACTOR}× slower than the videos, not {0}")]
    Factor(f32),
}

/// Beyond this a camera's frame pairs are too far apart for one period's motion to be the
/// mean of the cached fields between them (and no camera the product serves is that slow).
pub const MAX_FACTOR: f32 = 6.0;

/// What a window looks like from an emulated camera.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraView {
    /// The video frame shown at each window position (camera frames repeat).
    pub picks: Vec<u64>,
    /// How each of the window's flow steps is filled (the device's [`flow_plan`]): field `j`
    /// is the flow from `picks[j]` to `picks[j + 1]`.
    pub plan: Vec<Option<StepFlow>>,
}

/// The view of `window` (video frames, one apart) from a camera whose frame `j` shows video
/// time `phase + j·factor` (video frame `round` of it), for a video of `video_len` frames.
pub fn view(window: &[u64], video_len: u64, factor: f64, phase: f64) -> CameraView {
    let last_camera_frame = ((video_len.saturating_sub(1) as f64 + 0.5 - phase) / factor).floor().max(0.0) as u64;
    let time_of = |j: u64| phase + j as f64 * factor;
    let picks: Vec<u64> = window
        .iter()
        .map(|&w| {
            let w = w as f64;
            let below = ((w - phase) / factor).floor().clamp(0.0, last_camera_frame as f64) as u64;
            let above = (below + 1).min(last_camera_frame);
            // Nearest camera frame to the window frame's instant; ties go to the earlier one.
            let j = if (time_of(above) - w).abs() < (time_of(below) - w).abs() { above } else { below };
            (time_of(j).round() as u64).min(video_len.saturating_sub(1))
        })
        .collect();
    let times: Vec<Duration> = picks.iter().map(|&p| Duration::from_millis(p)).collect();
    let plan = flow_plan(&times, Duration::from_millis(1));
    CameraView { picks, plan }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_camera_at_the_videos_rate_sees_the_window_itself() {
        let window: Vec<u64> = (10..16).collect();
        let v = view(&window, 40, 1.0, 0.0);
        assert_eq!(v.picks, window);
        let fields: Vec<_> = v.plan.iter().map(|s| s.map(|s| (s.field, s.scale))).collect();
        assert_eq!(fields, (0..5).map(|j| Some((j, 1.0))).collect::<Vec<_>>());
    }

    #[test]
    fn a_three_times_slower_camera_holds_each_frame_three_steps_and_spreads_its_motion() {
        // Camera frames at video frames 1, 4, 7, 10, ...
        let window: Vec<u64> = (3..9).collect();
        let v = view(&window, 40, 3.0, 1.0);
        assert_eq!(v.picks, vec![4, 4, 4, 7, 7, 7]);
        // Every step takes the one distinct pair (4 → 7) at a third of its motion.
        for step in &v.plan {
            let step = step.expect("motion");
            assert_eq!(step.field, 2);
            assert!((step.scale - 1.0 / 3.0).abs() < 1e-6, "{step:?}");
        }
    }

    #[test]
    fn frames_past_the_videos_end_are_never_picked() {
        let window: Vec<u64> = (34..40).collect();
        let v = view(&window, 40, 2.5, 2.0);
        assert!(v.picks.iter().all(|&p| p < 40), "{:?}", v.picks);
        assert!(v.picks.windows(2).all(|p| p[1] >= p[0]));
    }

    #[test]
    fn a_window_on_one_camera_frame_has_no_motion() {
        let window: Vec<u64> = vec![5, 6];
        let v = view(&window, 40, 6.0, 0.0);
        assert_eq!(v.picks, vec![6, 6]);
        assert_eq!(v.plan, vec![None]);
    }

    #[test]
    fn the_share_of_slow_clips_follows_the_probability_and_padded_windows_are_kept() {
        let camera = SlowCamera { probability: 0.25, max_factor: 3.0 };
        let window = ClipIndices { frames: (0..8).collect(), padded: false };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let slow = (0..4000).filter(|_| camera.draw(&mut rng, &window, 58).is_some()).count();
        assert!((800..1200).contains(&slow), "{slow} of 4000");
        let padded = ClipIndices { frames: vec![0, 1, 2, 2], padded: true };
        let always = SlowCamera { probability: 1.0, max_factor: 3.0 };
        assert!(always.draw(&mut rng, &padded, 3).is_none());
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        for (p, f) in [(0.0, 3.0), (1.5, 3.0), (f32::NAN, 3.0), (0.5, 1.0), (0.5, 7.0), (0.5, f32::INFINITY)] {
            assert!(SlowCamera { probability: p, max_factor: f }.validate().is_err(), "{p} {f}");
        }
        assert!(SlowCamera { probability: 0.5, max_factor: 3.0 }.validate().is_ok());
    }
}
