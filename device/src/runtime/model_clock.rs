//! The live window's clock: camera frames in, frames at the model's rate out.
//!
//! The pipeline prepares each camera frame into [`ModelClock::current`], asks
//! [`ModelClock::feed`] how many model-rate frames it settles (the previous frame for the
//! instants it was nearest, then this one), pushes that many copies into its window history,
//! and calls [`ModelClock::advance`]. With a card rate the picks come from
//! [`motus_core::retime::Retimer`]; a model whose card has no rate takes every frame once, as
//! before rates were honoured (the pipeline warns once at start).
//!
//! # Timestamps
//!
//! The clock keeps one invariant the rest of the window relies on: **two model frames carry
//! the same timestamp exactly when they are copies of one camera frame** (the live stage reuses
//! work between windows by matching timestamps, and the clip builder finds repeats by them). So
//! a camera frame whose timestamp does not advance past the last one taken is a duplicate: it
//! settles nothing and is not kept. A source whose timestamps stop advancing altogether
//! ([`motus_core::retime::STUCK_AFTER`] frames in a row) has its frames stamped with their arrival
//! time from then on, with an error in the log, rather than starving the window.
//!
//! The clock also remembers the grid instant of each of the last `span` model frames, so a
//! window is stamped with the time its middle frame stands for: a repeated frame's own
//! timestamp would give two windows the same time, and the smoother would ignore the second.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use motus_core::frame::Frame;
use motus_core::retime::{Picks, RetimeError, Retimer, STUCK_AFTER};

/// Picks camera frames at the model's rate for the live window; see the module docs.
pub struct ModelClock {
    fps: Option<f64>,
    retimer: Option<Retimer>,
    period: Duration,
    /// The frame being prepared (after [`Self::feed`]: the newest camera frame).
    pub current: Frame,
    /// The last camera frame taken in before it, prepared.
    pub previous: Frame,
    /// Grid instants of the newest model frames, oldest first (at most `keep`).
    instants: VecDeque<Duration>,
    keep: usize,
    /// Timestamp of the last frame taken in (`None` at the start of a stream).
    last: Option<Duration>,
    /// Frames in a row whose timestamp did not advance.
    still: u32,
    /// Once the source's timestamps stopped advancing: frames are stamped with their arrival
    /// time (since this instant) instead.
    arrival: Option<Instant>,
    /// Whether the last fed frame was taken in (it then becomes `previous`).
    taken: bool,
}

impl ModelClock {
    /// A clock for a model trained at `fps` frames per second (`None`: the card has no rate)
    /// whose windows span `span` model frames.
    pub fn new(fps: Option<f64>, span: usize) -> Result<Self, RetimeError> {
        let retimer = fps.map(Retimer::new).transpose()?;
        match fps {
            Some(fps) => log::info!("pipeline: frames are picked by timestamp at the model's {fps} fps, whatever the camera's rate"),
            None => log::warn!(
                "pipeline: the model's card has no frame rate (fps): windows take every camera frame, so a camera at another rate than the model was trained at shifts its time scale; `motus card set MODEL --fps F` records it"
            ),
        }
        let period = retimer.as_ref().map_or(Duration::ZERO, Retimer::period);
        Ok(ModelClock {
            fps,
            retimer,
            period,
            current: Frame::new(0, 0),
            previous: Frame::new(0, 0),
            instants: VecDeque::new(),
            keep: span.max(1),
            last: None,
            still: 0,
            arrival: None,
            taken: false,
        })
    }

    /// How many model frames the prepared [`Self::current`] settles (see [`Picks`]), noting
    /// the instant each stands for. A frame whose timestamp does not advance settles none.
    pub fn feed(&mut self) -> Picks {
        if let Some(since) = self.arrival {
            self.current.timestamp = since.elapsed();
        }
        let timestamp = self.current.timestamp;
        if self.last == Some(timestamp) {
            self.taken = false;
            self.still += 1;
            if self.still >= STUCK_AFTER && self.arrival.is_none() {
                log::error!(
                    "pipeline: the source's frames carry no advancing timestamps ({STUCK_AFTER} in a row at {timestamp:?}); stamping them with their arrival time from now on"
                );
                self.arrival = Some(Instant::now());
                self.restart_grid();
            }
            return Picks::default();
        }
        self.still = 0;
        self.taken = true;
        let picks = match self.retimer.as_mut() {
            Some(r) => r.feed(timestamp),
            None => {
                Picks { restart: self.last.is_some_and(|l| timestamp < l), previous: 0, current: 1, first: timestamp }
            }
        };
        self.last = Some(timestamp);
        if picks.restart {
            self.instants.clear();
        }
        for k in 0..picks.total() {
            if self.instants.len() == self.keep {
                self.instants.pop_front();
            }
            self.instants.push_back(picks.first + self.period * k as u32);
        }
        picks
    }

    /// Makes the current frame the previous one (when it was taken in), ready for the next
    /// camera frame.
    pub fn advance(&mut self) {
        if self.taken {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.taken = false;
        }
    }

    /// Starts over, as for a new stream (a re-opened source): the next frame begins the grid,
    /// with the source's own timestamps again.
    pub fn restart(&mut self) {
        self.arrival = None;
        self.restart_grid();
    }

    fn restart_grid(&mut self) {
        self.retimer = self.fps.map(|fps| Retimer::new(fps).expect("the rate was valid when the clock was made"));
        self.instants.clear();
        self.last = None;
        self.still = 0;
    }

    /// The instant the model frame `index` of the window (oldest first, the window being the
    /// newest `len` model frames) stands for.
    pub fn instant(&self, len: usize, index: usize) -> Option<Duration> {
        let start = self.instants.len().checked_sub(len)?;
        self.instants.get(start + index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fed(clock: &mut ModelClock, ms: u64) -> Picks {
        clock.current.timestamp = Duration::from_millis(ms);
        let p = clock.feed();
        clock.advance();
        p
    }

    #[test]
    fn a_slow_camera_repeats_frames_and_each_stands_for_its_own_instant() {
        let mut c = ModelClock::new(Some(30.0), 6).unwrap();
        let totals: Vec<usize> = [0, 100, 200].iter().map(|&ms| fed(&mut c, ms).total()).collect();
        assert_eq!(totals, vec![1, 3, 3]);
        // The window of the last 6 model frames: instants 1/30 … 6/30 s, one period apart.
        for i in 0..6 {
            let t = c.instant(6, i).unwrap().as_secs_f64();
            assert!((t - (i + 1) as f64 / 30.0).abs() < 1e-6, "frame {i}: {t}");
        }
        assert_eq!(c.instant(7, 0), None, "only the newest 6 are kept");
    }

    #[test]
    fn without_a_rate_every_frame_is_taken_once_at_its_own_time() {
        let mut c = ModelClock::new(None, 4).unwrap();
        for ms in [0, 7, 9, 500] {
            assert_eq!(fed(&mut c, ms).total(), 1);
        }
        assert_eq!(c.instant(1, 0), Some(Duration::from_millis(500)));
    }

    #[test]
    fn a_frame_whose_time_does_not_advance_is_a_duplicate_and_not_kept() {
        let mut c = ModelClock::new(None, 4).unwrap();
        c.current.data = vec![1];
        c.current.timestamp = Duration::from_millis(40);
        assert_eq!(c.feed().total(), 1);
        c.advance();
        c.current.data = vec![2];
        c.current.timestamp = Duration::from_millis(40);
        assert_eq!(c.feed().total(), 0, "same time: a duplicate");
        c.advance();
        assert_eq!(c.previous.data, vec![1], "the frame taken in stays the previous one");
        // Time running backwards without a rate restarts the window.
        let p = fed(&mut c, 10);
        assert!(p.restart && p.total() == 1);
    }

    #[test]
    fn a_source_without_timestamps_is_stamped_with_arrival_times() {
        for fps in [Some(30.0), None] {
            let mut c = ModelClock::new(fps, 4).unwrap();
            let totals: Vec<usize> = (0..=STUCK_AFTER as usize).map(|_| fed(&mut c, 0).total()).collect();
            // The first frame starts the grid; repeats of its time settle nothing.
            assert_eq!(totals[0], 1);
            assert!(totals[1..].iter().all(|&n| n == 0), "{totals:?}");
            // Then frames are stamped as they arrive: 40 ms apart, each settles a model frame.
            let mut later = Vec::new();
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(40));
                later.push(fed(&mut c, 0).total());
            }
            assert!(later.iter().all(|&n| n >= 1), "{fps:?}: {later:?}");
            // A re-opened source is trusted with its own timestamps again.
            c.restart();
            assert_eq!(fed(&mut c, 5000).first, Duration::from_secs(5));
        }
    }

    #[test]
    fn a_restart_starts_a_new_grid() {
        let mut c = ModelClock::new(Some(10.0), 4).unwrap();
        fed(&mut c, 0);
        fed(&mut c, 100);
        c.restart();
        let p = fed(&mut c, 50);
        assert_eq!((p.restart, p.total()), (false, 1), "a fresh grid, not a jump back");
        assert_eq!(c.instant(1, 0), Some(Duration::from_millis(50)));
        assert_eq!(c.instant(2, 0), None, "the old instants are gone");
        assert!(ModelClock::new(Some(0.0), 4).is_err());
    }
}
