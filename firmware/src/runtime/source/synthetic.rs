//! The synthetic live scene as a frame source: the demo's camera, whose ground truth (the
//! actions started so far) is published for scoring alerts end to end.

use crate::frame::Frame;
use crate::media::{VideoInfo, VideoReader};
use crate::synth::SynthVideo;

use super::{FrameSource, SharedTruth, SourceError};

/// The endless synthetic camera.
pub struct SyntheticSource {
    video: SynthVideo,
    truth: SharedTruth,
    name: String,
    frames: u64,
}

impl SyntheticSource {
    /// A scene of `width × height` at `fps` from `seed`; `truth` receives its ground truth.
    pub fn new(width: u32, height: u32, fps: f64, seed: u64, truth: SharedTruth) -> Self {
        SyntheticSource { video: SynthVideo::endless(width, height, fps, seed), truth, name: format!("synthetic:{seed}"), frames: 0 }
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
        let ok = self.video.read_into(frame).map_err(|err| SourceError::Media { source_name: self.name.clone(), err })?;
        self.frames += 1;
        // Publishing the truth costs a copy of the segment list: do it twice a second.
        if self.frames % 15 == 1 {
            let gt = self.video.ground_truth();
            *self.truth.lock().unwrap_or_else(|p| p.into_inner()) = gt;
        }
        Ok(ok)
    }

    fn is_live(&self) -> bool {
        true
    }
}
