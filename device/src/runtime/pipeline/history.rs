//! The frames a window is made of: camera frames, prepared by the classifier, picked at the
//! model's rate by the [`ModelClock`], the newest `span` kept. Slots are recycled, so a long
//! run allocates no frame after its first windows.

use std::collections::VecDeque;

use motus_core::frame::Frame;

use super::copy_frame;
use crate::runtime::model_clock::ModelClock;

/// The window history and the clock that fills it.
pub(super) struct History {
    /// Model-rate frames, oldest first; at most `span`.
    pub(super) frames: VecDeque<Frame>,
    spare: Vec<Frame>,
    pub(super) clock: ModelClock,
    pub(super) span: usize,
    stride: usize,
    since_window: usize,
}

impl History {
    /// A history for windows of `span` model frames, one every `stride` of them.
    pub(super) fn new(clock: ModelClock, span: usize, stride: usize) -> Self {
        History { frames: VecDeque::with_capacity(span + 1), spare: Vec::new(), clock, span, stride, since_window: 0 }
    }

    /// Forgets every frame (a new stream, or time that jumped); the slots are kept.
    pub(super) fn clear(&mut self) {
        self.spare.extend(self.frames.drain(..));
    }

    /// Takes in the frame the classifier just prepared into `clock.current`: each model-rate
    /// frame it settles is the previous camera frame for the instants that one was nearest,
    /// then this one (none for a frame a faster source gives between instants). Returns
    /// whether the stream's time restarted (the history was cleared first).
    pub(super) fn take_prepared(&mut self) -> bool {
        let picks = self.clock.feed();
        let restarted = picks.restart && !self.frames.is_empty();
        if restarted {
            self.clear();
        }
        for pick in 0..picks.total() {
            let mut slot = if self.frames.len() >= self.span {
                self.frames.pop_front().expect("full")
            } else {
                self.spare.pop().unwrap_or_else(|| Frame::new(0, 0))
            };
            let source = if pick < picks.previous { &self.clock.previous } else { &self.clock.current };
            copy_frame(&mut slot, source);
            self.frames.push_back(slot);
            self.since_window += 1;
        }
        self.clock.advance();
        restarted
    }

    /// Whether a window is due now (full history, `stride` new frames since the last one);
    /// at most one per camera frame, so a lagging device does not fall further behind
    /// classifying windows nobody will see.
    pub(super) fn window_due(&mut self) -> bool {
        let due = self.frames.len() == self.span && self.since_window >= self.stride;
        if due {
            self.since_window = 0;
        }
        due
    }

    /// Stream time (s) a window's scores are stamped with: the instant its middle frame
    /// stands for, so alert start and end times sit on the action rather than half a window
    /// after it.
    pub(super) fn window_time(&self) -> f64 {
        let mid = self.span / 2;
        self.clock.instant(self.span, mid).unwrap_or(self.frames[mid].timestamp).as_secs_f64()
    }
}
