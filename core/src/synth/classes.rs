//! Action classes and their motion programs: the actor's pose as a function of time.
//!
//! Each class is drawn so that its twin has the same per-frame distribution of poses:
//! walk_left/walk_right and spin_cw/spin_ccw are mirror images (start positions and phases are
//! drawn symmetrically), approach/recede and sit_down/stand_up are time reversals (the idle lead
//! and tail are drawn from one distribution, and every easing curve is point-symmetric,
//! `e(1 - t) = 1 - e(t)`). Only the order of frames separates them.

use std::f32::consts::{PI, TAU};

use rand::Rng;

use super::actor::{Appearance, Pose};

/// The 12 classes, in label order (index = 0-based label, `classInd.txt` line = index + 1).
///
/// Class 0, `idle`, is the background: no known action. By default its clips show people
/// standing, sitting or lying still; with [`super::SynthConfig::negatives`] they also show the
/// broad set of negatives in `negatives` (hands moving objects, gestures, bending, vehicles,
/// camera motion, lighting changes, crowds), so a model learns to say "none of these" instead
/// of picking the nearest action.
pub const CLASS_NAMES: [&str; 12] = [
    "idle",
    "walk_left",
    "walk_right",
    "approach",
    "recede",
    "spin_cw",
    "spin_ccw",
    "sit_down",
    "stand_up",
    "wave",
    "jump",
    "fall_down",
];

/// The classes that come in pairs no single frame can tell apart (mirror images or time
/// reversals of each other): what separates motion-aware models from a frame classifier.
pub const MOTION_PAIRS: [(&str, &str); 4] =
    [("walk_left", "walk_right"), ("approach", "recede"), ("spin_cw", "spin_ccw"), ("sit_down", "stand_up")];

/// The pairs that are mirror images of each other: a horizontal flip turns one into the
/// other, so flip augmentation must swap their labels (the time-reversed pairs are unaffected).
pub const MIRROR_PAIRS: [(&str, &str); 2] = [("walk_left", "walk_right"), ("spin_cw", "spin_ccw")];

/// Indices in `labels` of every class that belongs to a [`MOTION_PAIRS`] pair (by name, so it
/// works for any class index that uses the benchmark's names).
pub fn paired_class_indices(labels: &[String]) -> Vec<usize> {
    labels
        .iter()
        .enumerate()
        .filter(|(_, l)| MOTION_PAIRS.iter().any(|(a, b)| l.as_str() == *a || l.as_str() == *b))
        .map(|(i, _)| i)
        .collect()
}

/// The class list as a slice, for code that does not care about its length.
pub fn class_names() -> &'static [&'static str] {
    &CLASS_NAMES
}

/// The background class, "none of these" (`idle`): clips with no action, and the label of a
/// scene window outside every action.
pub const BACKGROUND: usize = 0;
/// Index of `walk_left` in [`CLASS_NAMES`].
pub const WALK_LEFT: usize = 1;
/// Index of `walk_right` in [`CLASS_NAMES`].
pub const WALK_RIGHT: usize = 2;
/// Index of `approach` in [`CLASS_NAMES`].
pub const APPROACH: usize = 3;
/// Index of `recede` in [`CLASS_NAMES`].
pub const RECEDE: usize = 4;
/// Index of `spin_cw` in [`CLASS_NAMES`].
pub const SPIN_CW: usize = 5;
/// Index of `spin_ccw` in [`CLASS_NAMES`].
pub const SPIN_CCW: usize = 6;
/// Index of `sit_down` in [`CLASS_NAMES`].
pub const SIT_DOWN: usize = 7;
/// Index of `stand_up` in [`CLASS_NAMES`].
pub const STAND_UP: usize = 8;
/// Index of `wave` in [`CLASS_NAMES`].
pub const WAVE: usize = 9;
/// Index of `jump` in [`CLASS_NAMES`].
pub const JUMP: usize = 10;
/// Index of `fall_down` in [`CLASS_NAMES`].
pub const FALL_DOWN: usize = 11;

/// Smooth, point-symmetric easing: `e(0) = 0`, `e(1) = 1`, `e(1 - t) = 1 - e(t)`, zero slope
/// at both ends, so reversed programs have exactly the reversed pose sequence.
pub(crate) fn ease(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t - (TAU * t).sin() / TAU
}

/// Frame geometry shared by all programs: where the ground is, how big people may be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stage {
    pub w: f32,
    pub h: f32,
    pub fps: f32,
    /// Reference length for actor sizes, so odd aspect ratios still fit the actor.
    pub base: f32,
}

impl Stage {
    pub fn new(width: u32, height: u32, fps: f64) -> Self {
        let (w, h) = (width as f32, height as f32);
        Stage { w, h, fps: fps as f32, base: h.min(w * 1.5) }
    }

    /// Image y of the feet of a person of height `scale`: nearer (bigger) people stand lower,
    /// a cheap perspective that makes approach/recede look like depth.
    pub fn ground_y(&self, scale: f32) -> f32 {
        self.h * 0.34 + 0.6 * scale
    }

    /// Horizontal room a person of height `scale` needs on each side to stay in frame.
    pub fn margin(&self, scale: f32) -> f32 {
        0.3 * scale + 1.0
    }

    pub fn scale_range(&self) -> (f32, f32) {
        (0.28 * self.base, 0.72 * self.base)
    }

    /// Seconds to frames, at least `min`.
    pub fn frames(&self, seconds: f32, min: u64) -> u64 {
        ((seconds * self.fps).round() as u64).max(min)
    }
}

/// Posture carried from one action to the next (long videos never teleport the actor).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Posture {
    Standing,
    Sitting,
    /// Lying after a fall, toppled towards `dir` (-1 left, 1 right).
    Lying(f32),
}

/// Where the actor is between actions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ActorState {
    pub x: f32,
    pub scale: f32,
    pub posture: Posture,
}

/// One motion program over an act's frames; `t` runs over `(0, 1)` across the act.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Motion {
    /// Standing, sitting or lying still (with sway and breathing).
    Hold,
    Walk {
        x0: f32,
        x1: f32,
    },
    /// Approach (`s0 < s1`) or recede (`s0 > s1`), marching on the spot.
    Scale {
        s0: f32,
        s1: f32,
    },
    /// Signed total rotation; positive is clockwise on screen.
    Spin {
        total: f32,
    },
    Sit {
        down: bool,
    },
    Wave {
        arm: i8,
        freq: f32,
    },
    Jump {
        bounces: u32,
        height: f32,
    },
    Fall {
        dir: f32,
    },
    /// Background: both arms gesturing in front of the body (talking, signing, handling
    /// things), each arm with its own amplitude and phase, never raised like a wave.
    Gesture {
        freq: f32,
        amp: [f32; 2],
        phase: [f32; 2],
    },
    /// Background: bending towards `angle` (radians, signed) and straightening again.
    Lean {
        angle: f32,
    },
    /// Background: a partial crouch to `depth` (0..1 of sitting) and back up.
    Crouch {
        depth: f32,
    },
    /// Background: stepping back and forth on the spot, `amp` pixels each way.
    Shuffle {
        amp: f32,
        freq: f32,
    },
}

/// A motion program placed on the timeline: frames `[start, end)`, starting from `from`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Act {
    pub start: u64,
    pub end: u64,
    pub from: ActorState,
    pub motion: Motion,
    /// The class this act is an example of; `None` for idle gaps (background).
    pub class: Option<usize>,
}

impl Act {
    /// The actor's state once the act is over.
    pub fn end_state(&self) -> ActorState {
        let mut s = self.from;
        match self.motion {
            Motion::Walk { x1, .. } => s.x = x1,
            Motion::Scale { s1, .. } => s.scale = s1,
            Motion::Sit { down } => s.posture = if down { Posture::Sitting } else { Posture::Standing },
            Motion::Fall { dir } => s.posture = Posture::Lying(dir),
            _ => {}
        }
        s
    }

    /// The pose at frame `f` (inside or outside the act: outside, the nearest end is held).
    pub fn pose(&self, f: u64, stage: &Stage, app: &Appearance) -> Pose {
        let len = (self.end - self.start).max(1) as f32;
        // Frame centres: reversing time maps t to exactly 1 - t.
        let t = ((f as f32 + 0.5 - self.start as f32) / len).clamp(0.0, 1.0);
        let secs = f as f32 / stage.fps;
        let s = self.from;
        let mut p = Pose { x: s.x, scale: s.scale, ..Pose::default() };
        match s.posture {
            Posture::Standing => {}
            Posture::Sitting => p.sit = 1.0,
            Posture::Lying(dir) => p.fall = dir * PI * 0.5,
        }
        let lying = matches!(s.posture, Posture::Lying(_));
        let mut quiet = if lying { 0.2 } else { 1.0 };
        match self.motion {
            Motion::Hold => {}
            Motion::Walk { x0, x1 } => {
                p.x = x0 + (x1 - x0) * t;
                let stride = 0.32 * s.scale;
                let amp = 0.45 * (4.0 * t).min(4.0 * (1.0 - t)).min(1.0);
                p.swing = amp * (app.gait_phase + PI * (p.x - x0).abs() / stride).sin();
                quiet = 0.3;
            }
            Motion::Scale { s0, s1 } => {
                p.scale = s0 + (s1 - s0) * t;
                let amp = 0.12 * (4.0 * t).min(4.0 * (1.0 - t)).min(1.0);
                p.swing = amp * (app.gait_phase + TAU * 1.6 * secs).sin();
            }
            Motion::Spin { total } => {
                p.spin = total * ease(t);
                quiet = 0.3;
            }
            Motion::Sit { down } => {
                let e = ease(t);
                p.sit = if down { e } else { 1.0 - e };
            }
            Motion::Wave { arm, freq } => {
                p.wave_arm = arm;
                p.wave_raise = (5.0 * t).min(5.0 * (1.0 - t)).min(1.0);
                p.wave_angle = 0.5 * (TAU * freq * secs).sin();
            }
            Motion::Jump { bounces, height } => {
                let n = bounces.max(1) as f32;
                let tb = (t * n).fract();
                let tb = if t >= 1.0 { 0.0 } else { tb };
                p.lift = height * 4.0 * tb * (1.0 - tb);
                p.tuck = (PI * tb).sin() * 0.8;
                quiet = 0.2;
            }
            Motion::Fall { dir } => {
                p.fall = dir * PI * 0.5 * t * t;
                quiet = 0.1;
            }
            Motion::Gesture { freq, amp, phase } => {
                let env = (4.0 * t).min(4.0 * (1.0 - t)).min(1.0);
                for (i, g) in p.gesture.iter_mut().enumerate() {
                    let w = TAU * freq * secs + phase[i];
                    *g = (env * amp[i] * (0.6 + 0.4 * w.sin()), env * (1.2 + 0.9 * (1.3 * w).cos()));
                }
            }
            Motion::Lean { angle } => p.fall += angle * (PI * t).sin().powi(2),
            Motion::Crouch { depth } => p.sit = (p.sit + depth * (PI * t).sin().powi(2)).min(1.0),
            Motion::Shuffle { amp, freq } => {
                let w = TAU * freq * secs;
                p.x += amp * w.sin() * (PI * t).sin();
                p.swing = 0.25 * (2.0 * w + app.gait_phase).sin() * (PI * t).sin();
            }
        }
        p.feet_y = stage.ground_y(p.scale);
        p.sway = quiet * app.sway_amp * (app.sway_phase + TAU * app.sway_freq * secs).sin();
        p.breath = quiet * 0.02 * (app.breath_phase + TAU * app.breath_freq * secs).sin();
        p
    }
}

/// `[lead, tail)` idle frames around a continuous action covering most of an `n`-frame clip;
/// lead and tail are independent and identically distributed, so time reversal preserves them.
pub(crate) fn continuous_span(rng: &mut impl Rng, n: u64) -> (u64, u64) {
    let max = n / 10;
    let lead = rng.random_range(0..=max);
    let tail = rng.random_range(0..=max);
    (lead, n - tail)
}

/// `[start, end)` of a discrete action of `d` frames, with the idle lead and tail identically
/// distributed (a symmetric fraction of the slack).
fn discrete_span(rng: &mut impl Rng, n: u64, d: u64, lo: f32, hi: f32) -> (u64, u64) {
    let d = d.clamp(1, n);
    let slack = (n - d) as f32;
    let lead = (rng.random_range(lo..hi) * slack).round() as u64;
    let lead = lead.min(n - d);
    (lead, lead + d)
}

/// The size and position of a short clip's actor: `(scale, x)`, mid-sized and in frame.
pub(crate) fn place_actor(rng: &mut impl Rng, stage: &Stage) -> (f32, f32) {
    let (smin, smax) = stage.scale_range();
    let scale = rng.random_range(0.38 * stage.base..0.62 * stage.base).clamp(smin, smax);
    let m = stage.margin(scale);
    let x = if stage.w > 2.0 * m { rng.random_range(m..stage.w - m) } else { stage.w * 0.5 };
    (scale, x)
}

/// `act` framed by still holds: a lead from frame 0 and a tail to frame `n`, each left out
/// when empty.
pub(crate) fn with_holds(act: Act, n: u64) -> Vec<Act> {
    let mut acts = Vec::with_capacity(3);
    if act.start > 0 {
        acts.push(Act { start: 0, end: act.start, from: act.from, motion: Motion::Hold, class: None });
    }
    acts.push(act);
    if act.end < n {
        acts.push(Act { start: act.end, end: n, from: act.end_state(), motion: Motion::Hold, class: None });
    }
    acts
}

/// Draws the acts of a short clip of `class`: idle lead, the action, idle tail.
pub(crate) fn short_clip(class: usize, rng: &mut impl Rng, stage: &Stage, n: u64) -> Vec<Act> {
    let (mut scale, mut x) = place_actor(rng, stage);
    let m = stage.margin(scale);
    let max_d = (0.7 * n as f32) as u64;
    let (start, end, motion) = match class {
        WALK_LEFT | WALK_RIGHT => {
            let (a, b) = continuous_span(rng, n);
            let speed = rng.random_range(0.6..1.4) * scale / stage.fps;
            let room = (stage.w - 2.0 * m).max(0.0);
            let dist = (speed * (b - a) as f32).min(room * 0.9);
            let x0 = if room > dist { rng.random_range(m..stage.w - m - dist) } else { m };
            let (x0, x1) = if class == WALK_RIGHT { (x0, x0 + dist) } else { (stage.w - x0, stage.w - x0 - dist) };
            x = x0;
            (a, b, Motion::Walk { x0, x1 })
        }
        APPROACH | RECEDE => {
            let (a, b) = continuous_span(rng, n);
            let small = rng.random_range(0.28..0.4) * stage.base;
            let big = rng.random_range(0.6..0.72) * stage.base;
            let mb = stage.margin(big);
            x = if stage.w > 2.0 * mb { rng.random_range(mb..stage.w - mb) } else { stage.w * 0.5 };
            let (s0, s1) = if class == APPROACH { (small, big) } else { (big, small) };
            scale = s0;
            (a, b, Motion::Scale { s0, s1 })
        }
        SPIN_CW | SPIN_CCW => {
            let (a, b) = continuous_span(rng, n);
            // Two turns only when slow enough (< 30 degrees a frame) to stay unambiguous.
            let turns = if b - a >= 48 && rng.random_bool(0.5) { 2.0 } else { 1.0 };
            let sign = if class == SPIN_CW { 1.0 } else { -1.0 };
            (a, b, Motion::Spin { total: sign * TAU * turns })
        }
        SIT_DOWN | STAND_UP => {
            let d = stage.frames(rng.random_range(0.8..1.6), 4).min(max_d);
            let (a, b) = discrete_span(rng, n, d, 0.1, 0.9);
            (a, b, Motion::Sit { down: class == SIT_DOWN })
        }
        WAVE => {
            let (a, b) = continuous_span(rng, n);
            let arm = if rng.random_bool(0.5) { -1 } else { 1 };
            (a, b, Motion::Wave { arm, freq: rng.random_range(1.2..2.5) })
        }
        JUMP => {
            let bounces = if rng.random_bool(0.5) { 1 } else { 2 };
            let d = stage.frames(rng.random_range(0.45..0.7) * bounces as f32, 6).min(max_d);
            let (a, b) = discrete_span(rng, n, d, 0.1, 0.9);
            (a, b, Motion::Jump { bounces, height: jump_height(rng, stage, scale) })
        }
        FALL_DOWN => {
            let d = stage.frames(rng.random_range(0.4..0.8), 4).min(n / 2);
            let (a, b) = discrete_span(rng, n, d, 0.15, 0.5);
            (a, b, Motion::Fall { dir: fall_dir(x, stage) })
        }
        _ => (0, n, Motion::Hold),
    };
    let posture = match class {
        STAND_UP => Posture::Sitting,
        // Still background is every posture a live scene holds between actions: standing,
        // sitting after sit_down, lying after fall_down. A standing-only idle taught the model
        // that a still seated or lying person is mid-action.
        BACKGROUND => idle_posture(rng, x, stage),
        _ => Posture::Standing,
    };
    let from = ActorState { x, scale, posture };
    with_holds(Act { start, end, from, motion, class: Some(class) }, n)
}

/// The posture of an idle clip: mostly standing, as in a live scene, where people also sit
/// and (after a fall) lie still.
fn idle_posture(rng: &mut impl Rng, x: f32, stage: &Stage) -> Posture {
    let u: f32 = rng.random();
    if u < 0.5 {
        Posture::Standing
    } else if u < 0.8 {
        Posture::Sitting
    } else {
        Posture::Lying(fall_dir(x, stage))
    }
}

/// Jump height (fraction of height) that keeps the head in frame.
fn jump_height(rng: &mut impl Rng, stage: &Stage, scale: f32) -> f32 {
    let top = stage.ground_y(scale) - scale;
    rng.random_range(0.2..0.4f32).min((top - 1.0).max(0.0) / scale)
}

/// Falls go towards the side with more room, so the lying body stays mostly in frame.
fn fall_dir(x: f32, stage: &Stage) -> f32 {
    if x < stage.w * 0.5 {
        1.0
    } else {
        -1.0
    }
}

/// Plans actions one after another from a persistent actor state (long videos and the
/// endless camera): only feasible actions are picked, with idle gaps between them.
#[derive(Debug, Clone)]
pub(crate) struct Planner {
    pub stage: Stage,
    pub state: ActorState,
    /// Actions planned so far in this scene.
    pub count: usize,
}

impl Planner {
    /// A fresh actor somewhere in the frame, standing.
    pub fn new(stage: Stage, rng: &mut impl Rng) -> Self {
        let (smin, smax) = stage.scale_range();
        let scale = rng.random_range(smin..smax * 0.85);
        let m = stage.margin(scale);
        let x = if stage.w > 2.0 * m { rng.random_range(m..stage.w - m) } else { stage.w * 0.5 };
        Planner { stage, state: ActorState { x, scale, posture: Posture::Standing }, count: 0 }
    }

    /// An idle gap of random length starting at `start`.
    pub fn gap(&self, rng: &mut impl Rng, start: u64, seconds: (f32, f32)) -> Act {
        let d = self.stage.frames(rng.random_range(seconds.0..seconds.1), 1);
        Act { start, end: start + d, from: self.state, motion: Motion::Hold, class: None }
    }

    /// The next action from `start`, or `None` when nothing fits in `remaining` frames (`None`
    /// remaining = unbounded). `allow_fall` lets the caller decide when falling may end a run.
    pub fn action(&mut self, rng: &mut impl Rng, start: u64, remaining: Option<u64>, allow_fall: bool) -> Option<Act> {
        let st = self.stage;
        let s = self.state;
        if let Posture::Lying(_) = s.posture {
            return None;
        }
        let (smin, smax) = st.scale_range();
        let m = st.margin(s.scale);
        let min_walk = 0.5 * s.scale;
        // A fixed array, not a Vec: the live camera plans without allocating.
        let mut options = [0usize; 12];
        let mut len = 0;
        let mut push = |c: usize| {
            options[len] = c;
            len += 1;
        };
        if s.posture == Posture::Sitting {
            push(STAND_UP);
        } else {
            if s.x - m >= min_walk {
                push(WALK_LEFT);
            }
            if st.w - m - s.x >= min_walk {
                push(WALK_RIGHT);
            }
            let step = 0.15 * st.base;
            if s.scale + step <= smax && st.w >= 2.0 * st.margin(s.scale + step) {
                push(APPROACH);
            }
            if s.scale - step >= smin {
                push(RECEDE);
            }
            for c in [SPIN_CW, SPIN_CCW, SIT_DOWN, WAVE, JUMP] {
                push(c);
            }
            if allow_fall {
                push(FALL_DOWN);
            }
        }
        let class = options[rng.random_range(0..len)];
        let secs = |rng: &mut dyn rand::RngCore, lo: f32, hi: f32| st.frames(rng.random_range(lo..hi), 6);
        let (d, motion) = match class {
            WALK_LEFT | WALK_RIGHT => {
                let room = if class == WALK_LEFT { s.x - m } else { st.w - m - s.x };
                let dist = rng.random_range(min_walk..room.max(min_walk + 1.0)).min(room);
                let speed = rng.random_range(0.6..1.4) * s.scale;
                let d = st.frames(dist / speed, 8);
                let x1 = if class == WALK_LEFT { s.x - dist } else { s.x + dist };
                (d, Motion::Walk { x0: s.x, x1 })
            }
            APPROACH => {
                let hi = smax.min((st.w - 2.0) / 0.6);
                let s1 = rng.random_range((s.scale + 0.15 * st.base).min(hi)..=hi);
                (secs(rng, 1.2, 2.5), Motion::Scale { s0: s.scale, s1 })
            }
            RECEDE => {
                let s1 = rng.random_range(smin..=s.scale - 0.15 * st.base);
                (secs(rng, 1.2, 2.5), Motion::Scale { s0: s.scale, s1 })
            }
            SPIN_CW | SPIN_CCW => {
                let sign = if class == SPIN_CW { 1.0 } else { -1.0 };
                (secs(rng, 1.2, 2.4).max(12), Motion::Spin { total: sign * TAU })
            }
            SIT_DOWN | STAND_UP => (secs(rng, 0.8, 1.6), Motion::Sit { down: class == SIT_DOWN }),
            WAVE => {
                let arm = if rng.random_bool(0.5) { -1 } else { 1 };
                (secs(rng, 1.5, 3.0), Motion::Wave { arm, freq: rng.random_range(1.2..2.5) })
            }
            JUMP => {
                let bounces = if rng.random_bool(0.5) { 1 } else { 2 };
                let d = st.frames(rng.random_range(0.45..0.7) * bounces as f32, 6);
                (d, Motion::Jump { bounces, height: jump_height(rng, &st, s.scale) })
            }
            _ => (secs(rng, 0.4, 0.8).max(4), Motion::Fall { dir: fall_dir(s.x, &st) }),
        };
        if remaining.is_some_and(|r| d > r) {
            return None;
        }
        let act = Act { start, end: start + d, from: s, motion, class: Some(class) };
        self.state = act.end_state();
        self.count += 1;
        Some(act)
    }
}
