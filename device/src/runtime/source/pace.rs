//! Real-time pacing: a wrapper that hands out frames no faster than their timestamps, so a
//! file or the synthetic scene behaves like a camera (and a slow pipeline drops frames the
//! way it would on the board).

use std::time::{Duration, Instant};

use motus_core::frame::Frame;
use motus_core::media::VideoInfo;

use super::{FrameSource, SourceError};

/// Paces `S` at its timestamps (from the first frame read).
pub struct Paced<S> {
    inner: S,
    start: Option<Instant>,
    first: Duration,
}

impl<S: FrameSource> Paced<S> {
    /// Wraps a source.
    pub fn new(inner: S) -> Self {
        Paced { inner, start: None, first: Duration::ZERO }
    }
}

impl<S: FrameSource> FrameSource for Paced<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn info(&self) -> VideoInfo {
        self.inner.info()
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, SourceError> {
        if !self.inner.read_into(frame)? {
            return Ok(false);
        }
        match self.start {
            None => {
                self.start = Some(Instant::now());
                self.first = frame.timestamp;
            }
            Some(start) => {
                let due = start + frame.timestamp.saturating_sub(self.first);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
        }
        Ok(true)
    }

    fn is_live(&self) -> bool {
        self.inner.is_live()
    }
}
