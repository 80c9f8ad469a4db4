//! "None of these": the clips of the background class.
//!
//! A model that knows only its actions must pick one for whatever moves in front of a camera,
//! and real cameras mostly show something else: hands moving things on a table, people
//! talking with their hands, someone bending to a shelf or crouching, a car passing, a camera
//! that pans or zooms, lights switched on, a crowd milling about. Each background clip shows
//! one such [`Kind`], sometimes with camera motion or a lighting change on top, so the
//! background class stands for "no known action" rather than "a person standing still".
//!
//! Every kind is drawn symmetrically under a mirror image and a time reversal (vehicles come
//! from either side, bends go either way and come back), like the class it belongs to. As in
//! `scene`, every per-frame quantity is a closed-form function of the frame index.

use std::f32::consts::{PI, TAU};

use rand::Rng;

use super::actor::{self, Appearance};
use super::classes::{
    self, continuous_span, ease, place_actor, with_holds, Act, ActorState, Motion, Posture, Stage, BACKGROUND,
};
use super::raster::Canvas;
use super::scene::rand_colour;

/// What a background clip shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A person standing, sitting or lying still (the idle of earlier benchmarks).
    Still,
    /// A person talking or signing with both arms.
    Gesture,
    /// A person bending to one side and straightening up.
    Lean,
    /// A person crouching part way (to a shelf, to pick something up) and standing again.
    Crouch,
    /// A person stepping back and forth on the spot.
    Shuffle,
    /// Hands moving objects about on a table, with or without a person behind it.
    Objects,
    /// Vehicles or carts crossing the frame.
    Vehicle,
    /// The camera pans, zooms or shakes by hand over a quiet scene.
    Camera,
    /// Lights switch, fade or flicker over a quiet scene.
    Lighting,
    /// Several small people standing, gesturing and shuffling.
    Crowd,
}

/// Every kind, drawn uniformly.
pub(crate) const KINDS: [Kind; 10] = [
    Kind::Still,
    Kind::Gesture,
    Kind::Lean,
    Kind::Crouch,
    Kind::Shuffle,
    Kind::Objects,
    Kind::Vehicle,
    Kind::Camera,
    Kind::Lighting,
    Kind::Crowd,
];

/// Everything a background clip draws besides the scene and its actor.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    /// The clip has no main actor (an empty table, a street, a crowd).
    pub hide_actor: bool,
    crowd: Vec<(Act, Appearance)>,
    vehicles: Vec<Vehicle>,
    table: Option<Table>,
    camera: Option<Camera>,
    light: Option<Light>,
    /// Frames in the clip, for motions laid over its whole length.
    frames: u64,
}

/// A background clip: its actor's acts (lead, the act labelled `background`, tail) and what
/// else it draws.
pub(crate) fn background_clip(rng: &mut impl Rng, stage: &Stage, n: u64, dark: bool) -> (Vec<Act>, Extras, Kind) {
    let kind = KINDS[rng.random_range(0..KINDS.len())];
    let mut extras = Extras { frames: n, ..Extras::default() };
    let quiet = [Kind::Still, Kind::Gesture, Kind::Shuffle];
    let acts = match kind {
        Kind::Objects => {
            extras.table = Some(Table::random(rng, stage, n, dark));
            extras.hide_actor = rng.random_bool(0.5);
            person_acts(Kind::Gesture, rng, stage, n)
        }
        Kind::Vehicle => {
            extras.vehicles = (0..rng.random_range(1..=2)).map(|_| Vehicle::random(rng, stage, n)).collect();
            extras.hide_actor = rng.random_bool(0.3);
            person_acts(Kind::Still, rng, stage, n)
        }
        Kind::Crowd => {
            extras.crowd = crowd(rng, stage, n, dark);
            extras.hide_actor = rng.random_bool(0.5);
            person_acts(Kind::Still, rng, stage, n)
        }
        Kind::Camera | Kind::Lighting => person_acts(quiet[rng.random_range(0..quiet.len())], rng, stage, n),
        person => person_acts(person, rng, stage, n),
    };
    if kind == Kind::Camera || (kind != Kind::Lighting && rng.random_bool(0.15)) {
        extras.camera = Some(Camera::random(rng, stage));
    }
    if kind == Kind::Lighting || (kind != Kind::Camera && rng.random_bool(0.15)) {
        extras.light = Some(Light::random(rng, stage, n));
    }
    (acts, extras, kind)
}

/// The main actor's acts for a person kind (others get a still person).
fn person_acts(kind: Kind, rng: &mut impl Rng, stage: &Stage, n: u64) -> Vec<Act> {
    if kind == Kind::Still {
        return classes::short_clip(BACKGROUND, rng, stage, n);
    }
    let (scale, x) = place_actor(rng, stage);
    let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let mut posture = Posture::Standing;
    let (span, motion) = match kind {
        Kind::Gesture => {
            if rng.random_bool(0.4) {
                posture = Posture::Sitting;
            }
            let amp = [rng.random_range(0.2..1.1), rng.random_range(0.0..1.1)];
            let amp = if rng.random_bool(0.5) { amp } else { [amp[1], amp[0]] };
            let phase = [rng.random_range(0.0..TAU), rng.random_range(0.0..TAU)];
            (continuous_span(rng, n), Motion::Gesture { freq: rng.random_range(0.4..1.8), amp, phase })
        }
        Kind::Lean => (part(rng, stage, n, 0.8, 2.0), Motion::Lean { angle: sign * rng.random_range(0.2..0.6) }),
        Kind::Crouch => (part(rng, stage, n, 0.8, 2.0), Motion::Crouch { depth: rng.random_range(0.2..0.6) }),
        _ => (
            continuous_span(rng, n),
            Motion::Shuffle { amp: rng.random_range(0.04..0.14) * scale, freq: rng.random_range(0.3..0.8) },
        ),
    };
    let from = ActorState { x, scale, posture };
    with_holds(Act { start: span.0, end: span.1, from, motion, class: Some(BACKGROUND) }, n)
}

/// A `lo..hi` second stretch of an `n`-frame clip, placed uniformly.
fn part(rng: &mut impl Rng, stage: &Stage, n: u64, lo: f32, hi: f32) -> (u64, u64) {
    let d = stage.frames(rng.random_range(lo..hi), 4).min(n);
    let start = rng.random_range(0..=n - d);
    (start, start + d)
}

/// Three to seven small people further back, standing, gesturing or shuffling, drawn
/// furthest first.
fn crowd(rng: &mut impl Rng, stage: &Stage, n: u64, dark: bool) -> Vec<(Act, Appearance)> {
    let mut people: Vec<(Act, Appearance)> = (0..rng.random_range(3..=7))
        .map(|_| {
            let scale = rng.random_range(0.16..0.36) * stage.base;
            let x = rng.random_range(0.0..stage.w);
            let motion = match rng.random_range(0..3) {
                0 => Motion::Hold,
                1 => Motion::Gesture {
                    freq: rng.random_range(0.4..1.8),
                    amp: [rng.random_range(0.0..1.0), rng.random_range(0.0..1.0)],
                    phase: [rng.random_range(0.0..TAU), rng.random_range(0.0..TAU)],
                },
                _ => Motion::Shuffle { amp: rng.random_range(0.05..0.2) * scale, freq: rng.random_range(0.3..0.8) },
            };
            let from = ActorState { x, scale, posture: Posture::Standing };
            (Act { start: 0, end: n, from, motion, class: None }, Appearance::random(rng, dark))
        })
        .collect();
    people.sort_by(|a, b| a.0.from.scale.total_cmp(&b.0.from.scale));
    people
}

impl Extras {
    /// Draws what stands behind the actor: the crowd and far vehicles.
    pub fn draw_behind(&self, canvas: &mut Canvas, f: u64, stage: &Stage, shake: (i32, i32)) {
        let shift = (shake.0 as f32, shake.1 as f32);
        for (act, app) in &self.crowd {
            actor::draw(canvas, app, &act.pose(f, stage, app), shift);
        }
        for v in self.vehicles.iter().filter(|v| !v.front) {
            v.draw(canvas, f, shift);
        }
    }

    /// Draws what stands in front of the actor: near vehicles, the table and its hands.
    pub fn draw_front(&self, canvas: &mut Canvas, f: u64, shake: (i32, i32)) {
        let shift = (shake.0 as f32, shake.1 as f32);
        for v in self.vehicles.iter().filter(|v| v.front) {
            v.draw(canvas, f, shift);
        }
        if let Some(t) = &self.table {
            t.draw(canvas, f, shift);
        }
    }

    /// Moves the camera over the drawn frame (`data`, RGB8 `w x h`), before lighting and noise.
    pub fn move_camera(&self, data: &mut [u8], w: usize, h: usize, f: u64, fps: f32) {
        if let Some(c) = &self.camera {
            let t = f as f32 / self.frames.max(1) as f32;
            warp(data, w, h, c.at(t, f as f32 / fps));
        }
    }

    /// Applies the clip's lighting change to frame `f`.
    pub fn light(&self, data: &mut [u8], f: u64, fps: f32) {
        let Some(l) = &self.light else { return };
        let g = l.gain(f as f32, fps);
        if (g - 1.0).abs() < 1e-4 {
            return;
        }
        let mut lut = [0u8; 256];
        for (i, v) in lut.iter_mut().enumerate() {
            *v = (i as f32 * g).round().clamp(0.0, 255.0) as u8;
        }
        for v in data.iter_mut() {
            *v = lut[*v as usize];
        }
    }
}

/// A car, van or cart crossing at constant speed, from either side.
#[derive(Debug, Clone)]
struct Vehicle {
    ground: f32,
    len: f32,
    height: f32,
    x0: f32,
    /// Pixels per frame, signed.
    v: f32,
    body: [u8; 3],
    window: [u8; 3],
    wheel: [u8; 3],
    front: bool,
}

impl Vehicle {
    fn random(rng: &mut impl Rng, stage: &Stage, n: u64) -> Self {
        let height = rng.random_range(0.2..0.6) * stage.base;
        let len = height * rng.random_range(1.4..2.8);
        let crossing = stage.frames(rng.random_range(0.7..3.0), 4) as f32;
        let speed = (stage.w + len) / crossing;
        let v = if rng.random_bool(0.5) { speed } else { -speed };
        // The middle of the crossing falls somewhere in the clip.
        let mid = rng.random_range(0.2..0.8) * n as f32;
        let x0 = stage.w * 0.5 - v * mid;
        Vehicle {
            ground: stage.h * rng.random_range(0.55..0.98),
            len,
            height,
            x0,
            v,
            body: rand_colour(rng),
            window: rand_colour(rng),
            wheel: [rng.random_range(10..60); 3],
            front: rng.random_bool(0.5),
        }
    }

    fn draw(&self, canvas: &mut Canvas, f: u64, shift: (f32, f32)) {
        let x = self.x0 + self.v * f as f32 + shift.0;
        let y = self.ground + shift.1;
        let (l, h) = (self.len * 0.5, self.height);
        canvas.rect(x - l, y - 0.6 * h, x + l, y - 0.15 * h, self.body);
        canvas.rect(x - 0.55 * l, y - h, x + 0.55 * l, y - 0.6 * h, self.body);
        canvas.rect(x - 0.45 * l, y - 0.92 * h, x + 0.45 * l, y - 0.65 * h, self.window);
        for side in [-1.0, 1.0] {
            canvas.disc((x + side * 0.62 * l, y - 0.15 * h), 0.15 * h, self.wheel);
        }
    }
}

/// A table across the bottom of the frame with objects that hands pick up and put down.
#[derive(Debug, Clone)]
struct Table {
    top: f32,
    colour: [u8; 3],
    objects: Vec<Object>,
    hands: Vec<Hand>,
}

/// An object on the table: where it stands, and every carry that moves it.
#[derive(Debug, Clone)]
struct Object {
    half: (f32, f32),
    colour: [u8; 3],
    home: (f32, f32),
    carries: Vec<Carry>,
}

/// One carry of an object by a hand: from frame `f0` to `f1`, lifted by `lift` pixels midway.
#[derive(Debug, Clone, Copy)]
struct Carry {
    f0: f32,
    f1: f32,
    from: (f32, f32),
    to: (f32, f32),
    lift: f32,
}

/// A hand with its forearm, reaching in from `anchor` (below the frame's bottom edge).
#[derive(Debug, Clone)]
struct Hand {
    anchor: (f32, f32),
    radius: f32,
    colour: [u8; 3],
    /// `(frame, position, lift)` keys; the hand eases from the previous key to each, raised
    /// midway by the key's lift (a carry's, so the hand holds what it carries).
    keys: Vec<(f32, (f32, f32), f32)>,
}

impl Table {
    fn random(rng: &mut impl Rng, stage: &Stage, n: u64, dark: bool) -> Self {
        let top = stage.h * rng.random_range(0.5..0.75);
        let unit = stage.base * rng.random_range(0.04..0.08);
        let spot = |rng: &mut dyn rand::RngCore| {
            (rng.random_range(0.1..0.9) * stage.w, top + rng.random_range(0.25..0.85) * (stage.h - top))
        };
        let mut objects: Vec<Object> = (0..rng.random_range(2..=5))
            .map(|_| Object {
                half: (unit * rng.random_range(0.5..1.2), unit * rng.random_range(0.8..2.5)),
                colour: rand_colour(rng),
                home: spot(rng),
                carries: Vec::new(),
            })
            .collect();
        let skin = skin_tone(rng, dark);
        let hands = rng.random_range(1..=2usize);
        let mut out = Vec::with_capacity(hands);
        for k in 0..hands {
            let rest = (rng.random_range(0.15..0.85) * stage.w, stage.h - unit);
            let anchor = (rest.0 + rng.random_range(-0.5..0.5) * unit * 4.0, stage.h + 6.0 * unit);
            let mut hand = Hand { anchor, radius: unit * 0.8, colour: skin, keys: vec![(0.0, rest, 0.0)] };
            let mut t = rng.random_range(0.0..0.3) * stage.fps;
            let mine: Vec<usize> = (0..objects.len()).filter(|i| i % hands == k).collect();
            while t < n as f32 && !mine.is_empty() {
                let o = mine[rng.random_range(0..mine.len())];
                let at = objects[o].position((n + 1) as f32);
                let reach = t + rng.random_range(0.3..0.7) * stage.fps;
                let carry = reach + rng.random_range(0.4..1.1) * stage.fps;
                let to = spot(rng);
                let lift = rng.random_range(0.0..3.0) * unit;
                hand.keys.push((t, hand.keys.last().map_or(rest, |k| k.1), 0.0));
                hand.keys.push((reach, at, 0.0));
                hand.keys.push((carry, to, lift));
                objects[o].carries.push(Carry { f0: reach, f1: carry, from: at, to, lift });
                t = carry + rng.random_range(0.1..0.6) * stage.fps;
            }
            // Back to rest, so a clip ends as it starts and its time reversal is as likely.
            let back = t + rng.random_range(0.3..0.7) * stage.fps;
            hand.keys.push((t, hand.keys.last().map_or(rest, |k| k.1), 0.0));
            hand.keys.push((back, rest, 0.0));
            out.push(hand);
        }
        Table { top, colour: rand_colour(rng), objects, hands: out }
    }

    fn draw(&self, canvas: &mut Canvas, f: u64, shift: (f32, f32)) {
        let (w, h) = (canvas.width as f32, canvas.height as f32);
        canvas.rect(-2.0, self.top + shift.1, w + 2.0, h + 2.0, self.colour);
        let t = f as f32;
        for o in &self.objects {
            let (x, y) = o.position(t);
            let (x, y) = (x + shift.0, y + shift.1);
            canvas.rect(x - o.half.0, y - 2.0 * o.half.1, x + o.half.0, y, o.colour);
        }
        for hand in &self.hands {
            let (x, y) = hand.position(t);
            let (x, y) = (x + shift.0, y + shift.1);
            canvas.capsule((hand.anchor.0 + shift.0, hand.anchor.1 + shift.1), (x, y), hand.radius * 0.8, hand.colour);
            canvas.disc((x, y), hand.radius, hand.colour);
        }
    }
}

/// A skin tone that stands out from the scene: dark on bright backgrounds, light on dark.
fn skin_tone(rng: &mut impl Rng, dark: bool) -> [u8; 3] {
    if dark {
        [rng.random_range(60..120), rng.random_range(40..90), rng.random_range(30..70)]
    } else {
        [rng.random_range(170..240), rng.random_range(130..200), rng.random_range(100..170)]
    }
}

fn lerp(a: (f32, f32), b: (f32, f32), u: f32) -> (f32, f32) {
    (a.0 + (b.0 - a.0) * u, a.1 + (b.1 - a.1) * u)
}

impl Object {
    /// Where the object's bottom centre is at frame `t`: carried, or where the last carry left it.
    fn position(&self, t: f32) -> (f32, f32) {
        let mut at = self.home;
        for c in &self.carries {
            if t < c.f0 {
                break;
            }
            if t < c.f1 {
                let u = ease((t - c.f0) / (c.f1 - c.f0).max(1e-3));
                let p = lerp(c.from, c.to, u);
                return (p.0, p.1 - c.lift * (PI * u).sin());
            }
            at = c.to;
        }
        at
    }
}

impl Hand {
    fn position(&self, t: f32) -> (f32, f32) {
        let i = self.keys.partition_point(|k| k.0 <= t);
        match (i.checked_sub(1).map(|j| self.keys[j]), self.keys.get(i)) {
            (Some(a), Some(b)) => {
                let u = ease((t - a.0) / (b.0 - a.0).max(1e-3));
                let p = lerp(a.1, b.1, u);
                (p.0, p.1 - b.2 * (PI * u).sin())
            }
            (Some(a), None) => a.1,
            (None, Some(b)) => b.1,
            (None, None) => (0.0, 0.0),
        }
    }
}

/// How the camera moves over a clip.
#[derive(Debug, Clone, Copy)]
enum Camera {
    /// A pan of `(dx, dy)` pixels over the clip, eased, zoomed in enough to keep the edges.
    Pan { dx: f32, dy: f32, zoom: f32 },
    /// A zoom from `z0` to `z1` about the frame's centre.
    Zoom { z0: f32, z1: f32 },
    /// A hand-held camera: a smooth wobble of `amp` pixels.
    Handheld { amp: f32, freq: f32, phase: [f32; 2], zoom: f32 },
}

/// A camera pose: translation of the view (pixels) and zoom factor.
#[derive(Debug, Clone, Copy)]
struct View {
    tx: f32,
    ty: f32,
    zoom: f32,
}

impl Camera {
    fn random(rng: &mut impl Rng, stage: &Stage) -> Self {
        match rng.random_range(0..3) {
            0 => {
                let a = rng.random_range(0.0..TAU);
                let d = rng.random_range(0.05..0.2) * stage.w;
                Camera::Pan { dx: d * a.cos(), dy: 0.4 * d * a.sin(), zoom: 1.0 + 1.2 * d / stage.w }
            }
            1 => {
                let (a, b) = (1.0, rng.random_range(1.1..1.5));
                if rng.random_bool(0.5) {
                    Camera::Zoom { z0: a, z1: b }
                } else {
                    Camera::Zoom { z0: b, z1: a }
                }
            }
            _ => {
                let amp = rng.random_range(0.01..0.04) * stage.w;
                let (freq, phase) =
                    (rng.random_range(0.5..2.5), [rng.random_range(0.0..TAU), rng.random_range(0.0..TAU)]);
                Camera::Handheld { amp, freq, phase, zoom: 1.0 + 6.0 * amp / stage.w }
            }
        }
    }

    /// The view at clip fraction `t` (0..1) and time `secs`.
    fn at(&self, t: f32, secs: f32) -> View {
        match *self {
            Camera::Pan { dx, dy, zoom } => {
                let u = ease(t) - 0.5;
                View { tx: dx * u, ty: dy * u, zoom }
            }
            Camera::Zoom { z0, z1 } => View { tx: 0.0, ty: 0.0, zoom: z0 + (z1 - z0) * ease(t) },
            Camera::Handheld { amp, freq, phase, zoom } => {
                let w = TAU * freq * secs;
                let tx = amp * ((w + phase[0]).sin() + 0.4 * (2.3 * w + phase[1]).sin());
                let ty = amp * ((0.8 * w + phase[1]).sin() + 0.4 * (1.9 * w + phase[0]).sin());
                View { tx, ty, zoom }
            }
        }
    }
}

/// Resamples the frame as seen by a camera at `view` (bilinear, edges clamped).
fn warp(data: &mut [u8], w: usize, h: usize, view: View) {
    let src = data.to_vec();
    let (cx, cy) = (w as f32 * 0.5, h as f32 * 0.5);
    let inv = 1.0 / view.zoom.max(1e-3);
    let (wm, hm) = ((w - 1) as f32, (h - 1) as f32);
    for y in 0..h {
        let sy = (cy + (y as f32 + 0.5 - cy) * inv + view.ty - 0.5).clamp(0.0, hm);
        let (y0, fy) = (sy as usize, sy.fract());
        let y1 = (y0 + 1).min(h - 1);
        for x in 0..w {
            let sx = (cx + (x as f32 + 0.5 - cx) * inv + view.tx - 0.5).clamp(0.0, wm);
            let (x0, fx) = (sx as usize, sx.fract());
            let x1 = (x0 + 1).min(w - 1);
            for c in 0..3 {
                let p = |xx: usize, yy: usize| src[(yy * w + xx) * 3 + c] as f32;
                let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
                let bot = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
                data[(y * w + x) * 3 + c] = (top + (bot - top) * fy).round() as u8;
            }
        }
    }
}

/// A lighting change over a clip: a gain on every pixel.
#[derive(Debug, Clone, Copy)]
enum Light {
    /// Lights switched or a cloud passing: gain `from` until frame `at`, `to` after a ramp of
    /// `ramp` frames.
    Switch { at: f32, ramp: f32, from: f32, to: f32 },
    /// Mains flicker or a failing tube: a fast gain wobble of `depth`.
    Flicker { freq: f32, depth: f32 },
}

impl Light {
    fn random(rng: &mut impl Rng, stage: &Stage, n: u64) -> Self {
        if rng.random_bool(0.7) {
            let (a, b) = (rng.random_range(0.45..0.85), rng.random_range(1.0..1.5));
            let (from, to) = if rng.random_bool(0.5) { (a, b) } else { (b, a) };
            let ramp = if rng.random_bool(0.5) { 1.0 } else { rng.random_range(0.2..1.0) * stage.fps };
            Light::Switch { at: rng.random_range(0.2..0.8) * n as f32, ramp, from, to }
        } else {
            Light::Flicker { freq: rng.random_range(2.0..9.0), depth: rng.random_range(0.08..0.3) }
        }
    }

    fn gain(&self, f: f32, fps: f32) -> f32 {
        match *self {
            Light::Switch { at, ramp, from, to } => from + (to - from) * ((f - at) / ramp.max(1.0)).clamp(0.0, 1.0),
            Light::Flicker { freq, depth } => {
                let w = (TAU * freq * f / fps).sin();
                1.0 - depth * 0.5 * (1.0 + w.signum() * w.abs().sqrt())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn stage() -> Stage {
        Stage::new(128, 128, 30.0)
    }

    #[test]
    fn every_kind_is_drawn_and_labelled_background() {
        let mut seen = Vec::new();
        for seed in 0..200 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (acts, _, kind) = background_clip(&mut rng, &stage(), 58, false);
            assert!(acts.iter().filter_map(|a| a.class).all(|c| c == BACKGROUND), "{kind:?}");
            assert_eq!(acts.iter().filter(|a| a.class.is_some()).count(), 1, "{kind:?}: one labelled act");
            assert_eq!((acts[0].start, acts.last().unwrap().end), (0, 58), "{kind:?}: acts cover the clip");
            if !seen.contains(&kind) {
                seen.push(kind);
            }
        }
        assert_eq!(seen.len(), KINDS.len(), "{seen:?}");
    }

    #[test]
    fn carried_objects_follow_the_hand_and_stay_where_they_are_put() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let t = Table::random(&mut rng, &stage(), 90, false);
        let (o, c) = t.objects.iter().find_map(|o| o.carries.first().map(|c| (o, *c))).expect("some object is carried");
        assert_eq!(o.position(c.f0 - 0.5), o.home, "still before the first carry");
        let end = o.position(c.f1 + 0.01);
        let later = o.carries.get(1).map_or(f32::INFINITY, |n| n.f0);
        if later > c.f1 + 1.0 {
            assert_eq!(end, c.to, "put down where it was carried");
        }
        let hand =
            t.hands.iter().find(|h| h.keys.iter().any(|k| k.0 == c.f1 && k.1 == c.to)).expect("a hand carries it");
        for u in [0.25, 0.5, 0.75] {
            let at = c.f0 + u * (c.f1 - c.f0);
            let (h, p) = (hand.position(at), o.position(at));
            assert!((h.0 - p.0).abs() < 1e-3 && (h.1 - p.1).abs() < 1e-3, "the hand holds the object: {h:?} vs {p:?}");
        }
        let rest = hand.keys[0].1;
        assert_eq!(hand.position(1e6), rest, "every hand ends where it started");
    }

    #[test]
    fn light_switch_ramps_between_its_levels() {
        let l = Light::Switch { at: 10.0, ramp: 5.0, from: 0.5, to: 1.2 };
        assert_eq!(l.gain(0.0, 30.0), 0.5);
        assert!((l.gain(12.5, 30.0) - 0.85).abs() < 1e-5);
        assert_eq!(l.gain(40.0, 30.0), 1.2);
        let f = Light::Flicker { freq: 4.0, depth: 0.2 };
        assert!((0..100).map(|i| f.gain(i as f32, 30.0)).all(|g| (0.8 - 1e-5..=1.0 + 1e-5).contains(&g)));
    }

    #[test]
    fn warp_at_rest_is_the_identity_and_a_pan_shifts_content() {
        let (w, h) = (16, 8);
        let img: Vec<u8> = (0..w * h * 3).map(|i| ((i / 3) % w * 16) as u8).collect();
        let mut same = img.clone();
        warp(&mut same, w, h, View { tx: 0.0, ty: 0.0, zoom: 1.0 });
        assert_eq!(same, img);
        let mut moved = img.clone();
        warp(&mut moved, w, h, View { tx: 2.0, ty: 0.0, zoom: 1.0 });
        assert_eq!(moved[(3 * w + 5) * 3], img[(3 * w + 7) * 3], "the view moved right: content moves left");
    }
}
