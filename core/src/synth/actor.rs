//! The actor: an articulated stick figure of capsules with no facing cue.
//!
//! The figure is drawn frontally and left-right symmetric: a round head with no face, straight
//! limbs when walking, knees that bend outwards symmetrically when sitting or tucking. So a
//! single frame of someone walking left is, in distribution, the mirror image of one walking
//! right, and only motion reveals the direction.

use rand::Rng;

use super::raster::Canvas;

/// Leg length (hip to foot) as a fraction of standing height.
const LEG: f32 = 0.46;
/// Torso length (hip to neck).
const TORSO: f32 = 0.29;
const UPPER_ARM: f32 = 0.15;
const FOREARM: f32 = 0.14;
const HIP_HALF: f32 = 0.045;
const SHOULDER_HALF: f32 = 0.07;
/// Local height of the point the figure spins about (mid body).
const CENTRE: f32 = 0.5;

/// What the actor looks like; drawn once per video so one clip shows one person.
#[derive(Debug, Clone)]
pub(crate) struct Appearance {
    pub head: [u8; 3],
    pub torso: [u8; 3],
    pub upper_arm: [u8; 3],
    pub forearm: [u8; 3],
    pub thigh: [u8; 3],
    pub shin: [u8; 3],
    /// Limb radius as a fraction of height.
    pub limb_r: f32,
    pub torso_r: f32,
    pub head_r: f32,
    /// Idle sway and breathing: phases and frequencies (Hz), so idle people are never frozen.
    pub sway_phase: f32,
    pub sway_freq: f32,
    pub sway_amp: f32,
    pub breath_phase: f32,
    pub breath_freq: f32,
    /// Gait phase at the start of every walk, uniform so it carries no direction.
    pub gait_phase: f32,
}

fn colour(rng: &mut impl Rng, dark: bool) -> [u8; 3] {
    let (lo, hi) = if dark { (0u8, 110u8) } else { (145u8, 255u8) };
    [rng.random_range(lo..=hi), rng.random_range(lo..=hi), rng.random_range(lo..=hi)]
}

impl Appearance {
    /// A random person. `dark` picks dark colours (for bright backgrounds) so the actor stays
    /// visible; symmetric parts share a colour so left and right cannot be told apart.
    pub fn random(rng: &mut impl Rng, dark: bool) -> Self {
        let limb_r = rng.random_range(0.022..0.04);
        Appearance {
            head: colour(rng, dark),
            torso: colour(rng, dark),
            upper_arm: colour(rng, dark),
            forearm: colour(rng, dark),
            thigh: colour(rng, dark),
            shin: colour(rng, dark),
            limb_r,
            torso_r: limb_r * rng.random_range(1.4..2.2),
            head_r: rng.random_range(0.065..0.085),
            sway_phase: rng.random_range(0.0..std::f32::consts::TAU),
            sway_freq: rng.random_range(0.2..0.5),
            sway_amp: rng.random_range(0.01..0.035),
            breath_phase: rng.random_range(0.0..std::f32::consts::TAU),
            breath_freq: rng.random_range(0.2..0.4),
            gait_phase: rng.random_range(0.0..std::f32::consts::TAU),
        }
    }
}

/// The actor's configuration in one frame; motion programs produce it, `draw` renders it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Pose {
    /// Image x of the point between the feet (pixels).
    pub x: f32,
    /// Image y of the ground under the feet (pixels).
    pub feet_y: f32,
    /// Standing height in pixels.
    pub scale: f32,
    /// Height above the ground, fraction of `scale` (jumps).
    pub lift: f32,
    /// Image-plane rotation about mid body, radians; positive turns clockwise on screen.
    pub spin: f32,
    /// Topple angle about the feet, radians; `±π/2` is lying.
    pub fall: f32,
    /// 0 standing .. 1 sitting (hips lowered, knees out).
    pub sit: f32,
    /// 0 .. 1 jump leg tuck (feet drawn up, knees out).
    pub tuck: f32,
    /// Leg swing angle, radians: the left leg swings by `+`, the right by `-`.
    pub swing: f32,
    /// Which arm waves: -1 left, 1 right, 0 none.
    pub wave_arm: i8,
    /// 0 .. 1 how far the waving arm is raised.
    pub wave_raise: f32,
    /// Forearm oscillation while waving, radians.
    pub wave_angle: f32,
    /// Small lean about the feet (idle sway), radians.
    pub sway: f32,
    /// Torso stretch (breathing), fraction.
    pub breath: f32,
    /// Per arm (left, right): how far the upper arm lifts forward-out and how far the forearm
    /// bends back across the body, radians (background gestures; 0 = hanging).
    pub gesture: [(f32, f32); 2],
}

/// The knee of a two-bone leg from `hip` to `foot` with equal bones of `bone`, bent outward
/// (towards `side`) so that a bend never hints at a facing direction.
fn knee(hip: (f32, f32), foot: (f32, f32), bone: f32, side: f32) -> (f32, f32) {
    let (dx, dy) = (foot.0 - hip.0, foot.1 - hip.1);
    let d = (dx * dx + dy * dy).sqrt().max(1e-6);
    let mid = ((hip.0 + foot.0) * 0.5, (hip.1 + foot.1) * 0.5);
    let h = (bone * bone - d * d * 0.25).max(0.0).sqrt();
    // Perpendicular to the leg; pick the one pointing towards `side` in x.
    let (mut px, mut py) = (-dy / d, dx / d);
    if px * side < 0.0 {
        px = -px;
        py = -py;
    }
    (mid.0 + px * h, mid.1 + py * h)
}

/// Local (y-up, height-1) joint positions of a pose, before placement in the image.
struct Skeleton {
    hips: [(f32, f32); 2],
    knees: [(f32, f32); 2],
    feet: [(f32, f32); 2],
    neck: (f32, f32),
    head: (f32, f32),
    shoulders: [(f32, f32); 2],
    elbows: [(f32, f32); 2],
    hands: [(f32, f32); 2],
}

fn skeleton(p: &Pose) -> Skeleton {
    const SIDES: [f32; 2] = [-1.0, 1.0];
    let sit = p.sit.clamp(0.0, 1.0);
    let tuck = p.tuck.clamp(0.0, 1.0);
    let swing = p.swing.clamp(-0.8, 0.8);
    // Straight swinging legs keep both feet on the ground by lowering the hip.
    let hip_h = LEG * (1.0 - 0.5 * sit) * swing.cos();
    let feet_lift = LEG * 0.45 * tuck;
    let splay = 0.1 * sit.max(tuck);
    let mut hips = [(0.0, 0.0); 2];
    let mut knees = [(0.0, 0.0); 2];
    let mut feet = [(0.0, 0.0); 2];
    for (i, s) in SIDES.iter().copied().enumerate() {
        let hip = (s * HIP_HALF, hip_h);
        let a = -s * swing; // left leg (s = -1) swings by +swing
        let foot = if sit > 0.0 || tuck > 0.0 {
            (s * (HIP_HALF + splay) + LEG * a.sin(), feet_lift)
        } else {
            (hip.0 + LEG * a.sin(), hip_h - LEG * a.cos())
        };
        hips[i] = hip;
        feet[i] = foot;
        knees[i] = knee(hip, foot, LEG * 0.5, s);
    }
    let neck = (0.0, hip_h + TORSO * (1.0 + p.breath));
    let head = (0.0, neck.1 + 0.02 + 0.075);
    let mut shoulders = [(0.0, 0.0); 2];
    let mut elbows = [(0.0, 0.0); 2];
    let mut hands = [(0.0, 0.0); 2];
    for (i, s) in SIDES.iter().copied().enumerate() {
        let sh = (s * SHOULDER_HALF, neck.1 - 0.03);
        // Angle from straight down, positive towards +x; arms counter-swing the legs.
        let hang = s * 0.2 + s * swing * 0.8;
        let (lift, bend) = p.gesture[i];
        let mut up = hang + s * lift;
        let mut fore = up - s * bend;
        if p.wave_arm as f32 == s {
            let r = p.wave_raise.clamp(0.0, 1.0);
            up = hang + (s * 2.2 - hang) * r;
            fore = hang + (s * (std::f32::consts::PI - 0.2) + p.wave_angle - hang) * r;
        }
        let el = (sh.0 + UPPER_ARM * up.sin(), sh.1 - UPPER_ARM * up.cos());
        let ha = (el.0 + FOREARM * fore.sin(), el.1 - FOREARM * fore.cos());
        shoulders[i] = sh;
        elbows[i] = el;
        hands[i] = ha;
    }
    Skeleton { hips, knees, feet, neck, head, shoulders, elbows, hands }
}

/// Maps local figure coordinates to image pixels for one pose.
struct Placement {
    cos_f: f32,
    sin_f: f32,
    cos_s: f32,
    sin_s: f32,
    centre: (f32, f32),
    p: Pose,
    shift: (f32, f32),
}

impl Placement {
    fn new(p: &Pose, shift: (f32, f32)) -> Self {
        let tilt = p.fall + p.sway;
        let mut pl = Placement {
            cos_f: tilt.cos(),
            sin_f: tilt.sin(),
            cos_s: 1.0,
            sin_s: 0.0,
            centre: (0.0, 0.0),
            p: *p,
            shift: (0.0, 0.0),
        };
        pl.centre = pl.unspun((0.0, CENTRE));
        pl.cos_s = p.spin.cos();
        pl.sin_s = p.spin.sin();
        pl.shift = shift;
        pl
    }

    /// Topple/sway about the feet, lift, scale and place; no spin yet.
    fn unspun(&self, q: (f32, f32)) -> (f32, f32) {
        let x = q.0 * self.cos_f + q.1 * self.sin_f;
        let y = -q.0 * self.sin_f + q.1 * self.cos_f + self.p.lift;
        (self.p.x + self.p.scale * x, self.p.feet_y - self.p.scale * y)
    }

    fn map(&self, q: (f32, f32)) -> (f32, f32) {
        let (x, y) = self.unspun(q);
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        (
            self.centre.0 + dx * self.cos_s - dy * self.sin_s + self.shift.0,
            self.centre.1 + dx * self.sin_s + dy * self.cos_s + self.shift.1,
        )
    }
}

/// Image position of the actor's mid body, for tests and debugging.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn centre_of(p: &Pose) -> (f32, f32) {
    Placement::new(p, (0.0, 0.0)).map((0.0, CENTRE))
}

/// Draws the actor in `pose`, offset by `shift` pixels (camera shake).
pub(crate) fn draw(canvas: &mut Canvas, app: &Appearance, pose: &Pose, shift: (f32, f32)) {
    if !(pose.scale.is_finite() && pose.scale > 0.0) {
        return;
    }
    let sk = skeleton(pose);
    let pl = Placement::new(pose, shift);
    let limb = (app.limb_r * pose.scale).max(0.7);
    for i in 0..2 {
        canvas.capsule(pl.map(sk.hips[i]), pl.map(sk.knees[i]), limb, app.thigh);
        canvas.capsule(pl.map(sk.knees[i]), pl.map(sk.feet[i]), limb * 0.9, app.shin);
    }
    let hip = ((sk.hips[0].0 + sk.hips[1].0) * 0.5, sk.hips[0].1);
    canvas.capsule(pl.map(hip), pl.map(sk.neck), (app.torso_r * pose.scale).max(1.0), app.torso);
    for i in 0..2 {
        canvas.capsule(pl.map(sk.shoulders[i]), pl.map(sk.elbows[i]), limb * 0.9, app.upper_arm);
        canvas.capsule(pl.map(sk.elbows[i]), pl.map(sk.hands[i]), limb * 0.8, app.forearm);
    }
    canvas.disc(pl.map(sk.head), (app.head_r * pose.scale).max(1.5), app.head);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bent_knees_point_outwards_symmetrically() {
        let p = Pose { sit: 1.0, scale: 1.0, ..Pose::default() };
        let sk = skeleton(&p);
        assert!(sk.knees[0].0 < sk.hips[0].0 && sk.knees[1].0 > sk.hips[1].0);
        assert!((sk.knees[0].0 + sk.knees[1].0).abs() < 1e-5);
        assert!((sk.knees[0].1 - sk.knees[1].1).abs() < 1e-5);
    }

    #[test]
    fn walking_feet_stay_on_the_ground() {
        let p = Pose { swing: 0.4, scale: 1.0, ..Pose::default() };
        let sk = skeleton(&p);
        assert!(sk.feet[0].1.abs() < 1e-4 && sk.feet[1].1.abs() < 1e-4);
        assert!(sk.feet[0].0 > 0.0 && sk.feet[1].0 < 0.0, "legs swing apart");
    }
}
