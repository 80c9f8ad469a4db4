//! A square crop that follows the action along a wide frame (`window.crop = "follow"`).
//!
//! Models take a square crop; a 4:3 camera loses a sixth of its width on each side to a
//! centred one, and an action at the edge of the view is then half outside what the model
//! sees. The crop is instead moved towards where things move: frame differences, counted per
//! column (per row on a portrait frame), minus the frame's median column (a pan, a shake or
//! a lighting change moves every column alike), decayed over time. The crop glides there a
//! few pixels per window, so the clip builder can reuse the flow it already computed
//! (`ClipBuilder::build_sliding`) instead of stalling the pipeline to recompute a window.

use motus_core::frame::Frame;

/// Luma change (0–255) a sampled pixel needs to count as motion: above sensor noise.
const CHANGE: i32 = 12;
/// Pixels sampled every `STEP` along both axes.
const STEP: u32 = 2;

/// Motion energy per line along the frame's longer side, decayed over time.
#[derive(Debug, Clone)]
pub struct MotionLocator {
    /// Per-window decay of old motion (0.85: about a second of memory at 7.5 windows/s).
    decay: f32,
    /// Energy per sampled line along the longer side.
    energy: Vec<f32>,
    /// Size of the frames the energy belongs to.
    dims: (u32, u32),
    counts: Vec<f32>,
    sorted: Vec<f32>,
}

impl Default for MotionLocator {
    fn default() -> Self {
        MotionLocator { decay: 0.85, energy: Vec::new(), dims: (0, 0), counts: Vec::new(), sorted: Vec::new() }
    }
}

fn luma(f: &Frame, x: u32, y: u32) -> i32 {
    let i = ((y * f.width + x) * 3) as usize;
    (77 * f.data[i] as i32 + 150 * f.data[i + 1] as i32 + 29 * f.data[i + 2] as i32) >> 8
}

impl MotionLocator {
    /// Adds the motion between `a` and `b` (two frames of the same stream, a little apart).
    /// Frames of another size than before restart the memory; mismatched frames are ignored.
    pub fn observe(&mut self, a: &Frame, b: &Frame) {
        if (a.width, a.height) != (b.width, b.height)
            || a.data.len() < (a.width * a.height * 3) as usize
            || b.data.len() < a.data.len()
        {
            return;
        }
        let landscape = a.width >= a.height;
        let lines = (if landscape { a.width } else { a.height }).div_ceil(STEP) as usize;
        if self.dims != (a.width, a.height) {
            self.dims = (a.width, a.height);
            self.energy = vec![0.0; lines];
        }
        self.counts.clear();
        self.counts.resize(lines, 0.0);
        for y in (0..a.height).step_by(STEP as usize) {
            for x in (0..a.width).step_by(STEP as usize) {
                if (luma(a, x, y) - luma(b, x, y)).abs() > CHANGE {
                    let line = if landscape { x } else { y } / STEP;
                    self.counts[line as usize] += 1.0;
                }
            }
        }
        self.sorted.clear();
        self.sorted.extend_from_slice(&self.counts);
        self.sorted.sort_by(f32::total_cmp);
        let median = self.sorted[self.sorted.len() / 2];
        for (e, c) in self.energy.iter_mut().zip(&self.counts) {
            *e = self.decay * *e + (c - median).max(0.0);
        }
    }

    /// The origin (pixels along the longer side) of the `crop`-pixel window that covers the
    /// most recent motion, preferring `current` unless another covers clearly more; `None`
    /// when too little moved to say (the crop should then stay where it is).
    pub fn best_origin(&self, crop: u32, current: u32) -> Option<u32> {
        let side = if self.dims.0 >= self.dims.1 { self.dims.0 } else { self.dims.1 };
        if self.energy.is_empty() || crop > side {
            return None;
        }
        let total: f32 = self.energy.iter().sum();
        // A few sampled pixels' worth of change is noise, not an action.
        if total < 8.0 {
            return None;
        }
        let room = side - crop;
        // Lines wholly inside the crop: a line half outside does not count as covered.
        let covered = |origin: u32| -> f32 {
            let (a, b) = (origin.div_ceil(STEP), ((origin + crop) / STEP).min(self.energy.len() as u32));
            self.energy[a as usize..b as usize].iter().sum()
        };
        let current = current.min(room);
        let (mut best, mut best_cover) = (current, covered(current));
        let here = best_cover;
        for origin in (0..=room).step_by(STEP as usize).chain(std::iter::once(room)) {
            let c = covered(origin);
            if c > best_cover {
                (best, best_cover) = (origin, c);
            }
        }
        // Hysteresis: a crop that already holds nearly all the motion stays put.
        if best_cover <= 1.1 * here {
            return Some(current);
        }
        Some(best)
    }
}

/// The crop's position and how fast it may move.
#[derive(Debug, Clone)]
pub struct FollowCrop {
    locator: MotionLocator,
    /// Current origin along the longer side, pixels of the resized frame; `None` before the
    /// first window (it then starts centred).
    origin: Option<u32>,
    /// Largest move per window, pixels: small moves keep the reused flow nearly exact.
    pub max_step: u32,
}

impl Default for FollowCrop {
    fn default() -> Self {
        FollowCrop { locator: MotionLocator::default(), origin: None, max_step: 6 }
    }
}

impl FollowCrop {
    /// Updates the motion memory with `older` → `newer` (resized frames) and returns the crop
    /// origin for this window, `crop` pixels square.
    pub fn next(&mut self, older: &Frame, newer: &Frame, crop: u32) -> u32 {
        self.locator.observe(older, newer);
        let side = newer.width.max(newer.height);
        let room = side.saturating_sub(crop);
        let current = self.origin.unwrap_or(room / 2).min(room);
        let target = self.locator.best_origin(crop, current).unwrap_or(current);
        let step = (target as i64 - current as i64).clamp(-(self.max_step as i64), self.max_step as i64);
        let next = (current as i64 + step) as u32;
        self.origin = Some(next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat grey 171x128 frame with a dark 12x40 block at `x` (a person), and a background
    /// texture moved by `pan` pixels.
    fn scene(x: u32, pan: u32) -> Frame {
        let (w, h) = (171u32, 128u32);
        let mut f = Frame::new(w, h);
        for yy in 0..h {
            for xx in 0..w {
                let t = ((xx + pan) / 3 + yy / 3) % 2;
                let mut v = 120 + 40 * t as u8;
                if (x..x + 12).contains(&xx) && (60..100).contains(&yy) {
                    v = 20;
                }
                let i = ((yy * w + xx) * 3) as usize;
                f.data[i..i + 3].copy_from_slice(&[v, v, v]);
            }
        }
        f
    }

    #[test]
    fn the_crop_glides_to_motion_at_the_edge_and_stays_there() {
        let mut follow = FollowCrop::default();
        // A person swaying at the left edge, columns 4..22 (outside a centred crop: 29..141).
        let mut origins = Vec::new();
        for i in 0..20 {
            let (a, b) = (scene(4 + (i % 2) * 6, 0), scene(4 + ((i + 1) % 2) * 6, 0));
            origins.push(follow.next(&a, &b, 112));
        }
        assert_eq!(origins[0], 29 - 6, "starts centred, moves at most 6 px per window");
        assert!(origins.windows(2).all(|w| w[1] <= w[0] && w[0] - w[1] <= 6), "{origins:?}");
        assert!(*origins.last().unwrap() <= 4, "ends with the person (columns 4..22) inside the crop: {origins:?}");
        // Motion on the right side brings it back.
        for i in 0..20 {
            let (a, b) = (scene(150 + (i % 2) * 6, 0), scene(150 + ((i + 1) % 2) * 6, 0));
            follow.next(&a, &b, 112);
        }
        let o = follow.origin.unwrap();
        assert!((56..=59).contains(&o), "the person (columns 150..168) inside the crop: {o}");
    }

    #[test]
    fn a_pan_or_a_still_scene_does_not_move_the_crop() {
        let mut follow = FollowCrop::default();
        for i in 0..10 {
            // The whole background slides: every column changes alike.
            assert_eq!(follow.next(&scene(200, i), &scene(200, i + 1), 112), 29);
        }
        let mut still = FollowCrop::default();
        for _ in 0..5 {
            assert_eq!(still.next(&scene(10, 0), &scene(10, 0), 112), 29);
        }
        // Frames of different sizes, or a crop larger than the frame, are no motion at all.
        let mut odd = FollowCrop::default();
        assert_eq!(odd.next(&scene(10, 0), &Frame::new(64, 48), 112), 0);
        let mut small = MotionLocator::default();
        small.observe(&scene(10, 0), &scene(16, 0));
        assert_eq!(small.best_origin(300, 0), None);
    }

    #[test]
    fn portrait_frames_follow_along_their_height() {
        let mut loc = MotionLocator::default();
        let mut a = Frame::new(64, 120);
        let mut b = Frame::new(64, 120);
        a.data.fill(100);
        b.data.fill(100);
        for y in 100..116 {
            for x in 20..40 {
                let i = ((y * 64 + x) * 3) as usize;
                b.data[i..i + 3].copy_from_slice(&[10, 10, 10]);
            }
        }
        loc.observe(&a, &b);
        let o = loc.best_origin(64, 28).unwrap();
        assert!(o <= 100 && o + 64 >= 116, "the crop covers the motion (rows 100..116): {o}");
    }
}
