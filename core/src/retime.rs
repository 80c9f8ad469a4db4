//! Frame-rate-true clips: frames picked by timestamp at the rate the model was trained at.
//!
//! A model's clips were sampled at one rate (the card's `fps`). Cameras run at 5–60 fps, GIFs
//! and streams at variable rates, and a busy device drops frames. Fed a camera's frames one by
//! one, a model trained at 30 fps would see a 10 fps camera's window span three times the time
//! and three times the motion per flow step. So every path that builds clips at inference (the
//! live window, `motus eval`, `motus quant`'s calibration) passes frame timestamps through a
//! [`Retimer`] (the trainer takes its videos' own rate, which must be one, and records it): it
//! lays a grid of instants `1 / fps` apart from the stream's first frame and gives each instant
//! the frame nearest to it. A faster source has frames skipped; a slower one has frames
//! repeated. [`flow_plan`] then tells the clip builder how to spread the
//! motion between two distinct frames over the repeated steps, so each flow step holds the
//! motion of one model period, as in training.
//!
//! A repeated frame keeps its source timestamp: equal timestamps in a window mean "the same
//! source frame", which is how [`flow_plan`] finds repeats without any other bookkeeping.

use std::time::Duration;

/// A gap between two frames longer than this restarts the grid: the stream stalled or lost
/// frames, and a window across the gap would join two unrelated moments.
pub const MAX_GAP: Duration = Duration::from_secs(2);

/// Slack on every comparison of instants, in seconds: timestamps are rounded to nanoseconds
/// and grid instants computed in floating point, so an instant that falls on a frame must not
/// miss it by a rounding error.
const EPS: f64 = 1e-6;

/// Frames in a row whose timestamp does not advance before a stream is judged to carry no
/// timestamps ([`Retimer::stuck`]).
pub const STUCK_AFTER: u32 = 8;

/// Why frames could not be picked by time.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum RetimeError {
    /// The rate to pick at is not one a clip can be sampled at.
    #[error(transparent)]
    Rate(#[from] motus_models::ContractError),
    /// Every frame has the same timestamp: nothing says when each was taken.
    #[error(
        "the source's {frames} frames all carry the same timestamp ({at:?}): it has no timestamps to pick frames by"
    )]
    NoTimestamps { frames: usize, at: Duration },
}

/// What one frame's arrival decided: how many grid instants take the previous frame and how
/// many take this one (each instant is one frame of the model-rate stream, in that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Picks {
    /// The grid restarted at this frame (a gap over [`MAX_GAP`] or time running backwards):
    /// model-rate frames before it must not share a window with those after.
    pub restart: bool,
    /// Instants nearest the previous frame, decided only now that this one arrived.
    pub previous: usize,
    /// Instants nearest this frame so far (later instants may still go to it or the next).
    pub current: usize,
    /// The grid instant of the first of these picks (the others follow one period apart):
    /// the time a model-rate frame stands for, which a repeated frame's own timestamp is not.
    pub first: Duration,
}

impl Picks {
    /// Model-rate frames this arrival produced.
    pub fn total(&self) -> usize {
        self.previous + self.current
    }
}

/// Turns a stream of frame timestamps into picks at a fixed rate, one frame at a time (the
/// live path) or over a whole video ([`pick_indices`]). Nearest frame to each grid instant;
/// ties go to the earlier frame.
#[derive(Debug, Clone)]
pub struct Retimer {
    period: f64,
    max_gap: f64,
    /// Time of grid instant 0, in seconds.
    origin: f64,
    /// Index of the next grid instant not yet given a frame.
    next: u64,
    last: Option<f64>,
    /// Frames in a row whose timestamp did not advance.
    still: u32,
}

impl Retimer {
    /// A retimer at `fps` frames per second (checked: [`motus_models::MIN_FPS`]..=[`motus_models::MAX_FPS`]).
    pub fn new(fps: f64) -> Result<Self, RetimeError> {
        let fps = motus_models::check_fps(fps)?;
        Ok(Retimer { period: 1.0 / fps, max_gap: MAX_GAP.as_secs_f64(), origin: 0.0, next: 0, last: None, still: 0 })
    }

    /// The grid's spacing: one model frame.
    pub fn period(&self) -> Duration {
        Duration::from_secs_f64(self.period)
    }

    fn instant(&self, k: u64) -> f64 {
        self.origin + k as f64 * self.period
    }

    /// Starts the grid at `t`: its first instant takes this frame.
    fn start_at(&mut self, t: f64, restart: bool) -> Picks {
        self.origin = t;
        self.next = 1;
        self.last = Some(t);
        Picks { restart, previous: 0, current: 1, first: Duration::from_secs_f64(t) }
    }

    /// Takes the next frame's timestamp and says which grid instants it settled.
    pub fn feed(&mut self, timestamp: Duration) -> Picks {
        let t = timestamp.as_secs_f64();
        let Some(last) = self.last else {
            self.still = 0;
            return self.start_at(t, false);
        };
        if t == last {
            self.still = self.still.saturating_add(1);
            return Picks::default();
        }
        self.still = 0;
        if t < last || t - last > self.max_gap {
            return self.start_at(t, true);
        }
        let mut picks = Picks { first: Duration::from_secs_f64(self.instant(self.next).max(0.0)), ..Picks::default() };
        while self.instant(self.next) <= t + EPS {
            let g = self.instant(self.next);
            if g - last <= t - g + EPS {
                picks.previous += 1;
            } else {
                picks.current += 1;
            }
            self.next += 1;
        }
        self.last = Some(t);
        picks
    }

    /// Whether the last [`STUCK_AFTER`] frames or more all carried the same timestamp: the
    /// source gives no usable time, and picking by time would starve the window.
    pub fn stuck(&self) -> bool {
        self.still >= STUCK_AFTER
    }
}

/// The source frame (by index) of every model-rate frame of a whole video whose frames carry
/// `timestamps`, picked at `fps`: indices repeat where the source is slower and skip where it
/// is faster. A gap over [`MAX_GAP`] restarts the grid at the frame after it. One frame gives
/// `[0]`; no frames, an empty list.
pub fn pick_indices(timestamps: &[Duration], fps: f64) -> Result<Vec<usize>, RetimeError> {
    let mut retimer = Retimer::new(fps)?;
    if timestamps.len() > 1 && timestamps.iter().all(|t| *t == timestamps[0]) {
        return Err(RetimeError::NoTimestamps { frames: timestamps.len(), at: timestamps[0] });
    }
    let mut out = Vec::with_capacity(timestamps.len());
    for (i, &t) in timestamps.iter().enumerate() {
        let p = retimer.feed(t);
        out.extend(std::iter::repeat_n(i.saturating_sub(1), p.previous));
        out.extend(std::iter::repeat_n(i, p.current));
    }
    Ok(out)
}

/// A decoded video's frames at a model's rate, by reference: [`pick_indices`] over their
/// timestamps when the card has a rate (`fps`), every frame once when it has none.
pub fn at_rate(frames: &[crate::frame::Frame], fps: Option<f64>) -> Result<Vec<&crate::frame::Frame>, RetimeError> {
    let Some(fps) = fps else { return Ok(frames.iter().collect()) };
    let times: Vec<Duration> = frames.iter().map(|f| f.timestamp).collect();
    Ok(pick_indices(&times, fps)?.into_iter().map(|i| &frames[i]).collect())
}

/// Where one flow step of a window takes its motion from: field `field` of the window (the
/// flow from window frame `field` to `field + 1`) times `scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepFlow {
    pub field: usize,
    pub scale: f32,
}

/// Scales within this of 1 are taken as exactly 1, so a source at the model's own rate gives
/// the very tensors it gave before rates were honoured (timestamps rounded to nanoseconds
/// would otherwise scale every field by 0.99999997).
const UNIT_SCALE_TOLERANCE: f64 = 1e-3;

/// How each of a window's `timestamps.len() - 1` flow steps is filled, for frames picked at
/// one model `period` (their source timestamps, repeats equal):
/// - between two distinct frames, their own field, scaled to one period (a dropped frame
///   leaves twice the motion in a pair: it is halved);
/// - between two repeats of one frame, the field of the next distinct pair in the window (the
///   previous one at the window's end), scaled the same way: the motion between two frames of
///   a slow source is spread evenly over the steps between them;
/// - `None` (no motion) when the window is one frame repeated.
///
/// A window whose timestamps run backwards was not picked by time: every step keeps its own
/// field unscaled, as before rates were honoured.
pub fn flow_plan(timestamps: &[Duration], period: Duration) -> Vec<Option<StepFlow>> {
    let steps = timestamps.len().saturating_sub(1);
    let identity = || (0..steps).map(|field| Some(StepFlow { field, scale: 1.0 })).collect();
    if timestamps.windows(2).any(|p| p[1] < p[0]) {
        return identity();
    }
    let moves = |j: usize| timestamps[j + 1] > timestamps[j];
    let scaled = |j: usize| {
        let gap = (timestamps[j + 1] - timestamps[j]).as_secs_f64();
        let scale = period.as_secs_f64() / gap;
        let scale = if (scale - 1.0).abs() < UNIT_SCALE_TOLERANCE { 1.0 } else { scale as f32 };
        StepFlow { field: j, scale }
    };
    (0..steps)
        .map(|i| {
            if moves(i) {
                return Some(scaled(i));
            }
            let source = (i + 1..steps).find(|&j| moves(j)).or_else(|| (0..i).rev().find(|&j| moves(j)));
            source.map(scaled)
        })
        .collect()
}

#[cfg(test)]
mod tests;
