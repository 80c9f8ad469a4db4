//! The synthetic live scene as a frame source: the demo's camera, whose ground truth (the
//! actions started so far) is published for scoring alerts end to end.

use motus_core::frame::Frame;
use motus_core::media::{VideoInfo, VideoReader};
use motus_core::synth::SynthVideo;

use super::{FrameSource, SharedTruth, SourceError};

/// The endless synthetic camera.
pub struct SyntheticSource {
    video: SynthVideo,
    truth: SharedTruth,
    name: String,
    frames: u64,
    /// Frames to produce before the stream ends (offline runs); `None` = endless.
    limit: Option<u64>,
    /// Read as fast as the pipeline takes frames, never dropping (offline scoring runs).
    unpaced: bool,
}

impl SyntheticSource {
    /// A scene of `width × height` at `fps` from `seed`; `truth` receives its ground truth.
    pub fn new(width: u32, height: u32, fps: f64, seed: u64, truth: SharedTruth) -> Self {
        SyntheticSource {
            video: SynthVideo::endless(width, height, fps, seed),
            truth,
            name: format!("synthetic:{seed}"),
            frames: 0,
            limit: None,
            unpaced: false,
        }
    }

    /// Ends the stream after `limit` frames, so an offline run (an end-to-end test, a scoring
    /// run) covers a fixed stretch of the scene whatever the machine's speed.
    pub fn with_frame_limit(mut self, limit: Option<u64>) -> Self {
        self.limit = limit;
        self
    }

    /// Marks the source as read without pacing: the capture thread then waits for the
    /// processor instead of dropping frames, so every frame of the scene is classified.
    pub fn unpaced(mut self) -> Self {
        self.unpaced = true;
        self
    }
}

impl Drop for SyntheticSource {
    fn drop(&mut self) {
        *self.truth.lock().unwrap_or_else(|p| p.into_inner()) = self.video.ground_truth();
    }
}

impl FrameSource for SyntheticSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn info(&self) -> VideoInfo {
        self.video.info()
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, SourceError> {
        if self.limit.is_some_and(|n| self.frames >= n) {
            *self.truth.lock().unwrap_or_else(|p| p.into_inner()) = self.video.ground_truth();
            return Ok(false);
        }
        let ok =
            self.video.read_into(frame).map_err(|err| SourceError::Media { source_name: self.name.clone(), err })?;
        self.frames += 1;
        // Publishing the truth costs a copy of the segment list: do it twice a second.
        if self.frames % 15 == 1 {
            let gt = self.video.ground_truth();
            *self.truth.lock().unwrap_or_else(|p| p.into_inner()) = gt;
        }
        Ok(ok)
    }

    /// Live unless it was given a frame limit: a limited scene ends like a file.
    fn is_live(&self) -> bool {
        self.limit.is_none()
    }

    fn may_wait(&self) -> bool {
        self.unpaced
    }
}
