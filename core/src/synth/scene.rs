//! Everything around the actor: textured, slowly panning backgrounds, distractor objects,
//! lighting drift, sensor noise and camera shake, all drawn once per video.
//!
//! These nuisances are there so that "something moved" is not enough to classify: a model
//! must find the actor's motion among background motion, moving objects, flicker and noise.
//! Every per-frame quantity is a closed-form function of the frame index (no state), so a frame
//! can be rendered on its own and two renders of one frame are identical.

use rand::Rng;

use super::raster::{hash32, Canvas};

/// A background texture kind; the tile is computed once per video.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Texture {
    ValueNoise { cell: f32 },
    Stripes { angle: f32, period: f32 },
    Checker { cell: f32 },
    Gradient { angle: f32 },
}

/// A ball or box moving linearly and bouncing off the frame edges.
#[derive(Debug, Clone, Copy)]
struct Distractor {
    is_ball: bool,
    half: (f32, f32),
    p0: (f32, f32),
    v: (f32, f32),
    color: [u8; 3],
}

/// Reflects `p` into `[lo, hi]` (a triangle wave), so linear motion bounces forever.
fn bounce(p: f32, lo: f32, hi: f32) -> f32 {
    let span = hi - lo;
    if span <= 0.0 {
        return lo;
    }
    let m = (p - lo).rem_euclid(2.0 * span);
    lo + if m > span { 2.0 * span - m } else { m }
}

/// One video's surroundings.
#[derive(Clone)]
pub(crate) struct Scene {
    w: usize,
    h: usize,
    /// Background tile, `(w + 2 pad) x (h + 2 pad)` RGB8, panned by whole pixels.
    tile: Vec<u8>,
    pad: usize,
    pan0: (f32, f32),
    pan_v: (f32, f32),
    shake: i32,
    key: u32,
    distractors: Vec<Distractor>,
    gain: (f32, f32, f32, f32),
    offset: (f32, f32, f32),
    noise: i32,
    /// Mean brightness of the background, for picking a visible actor palette.
    pub bright: bool,
}

impl std::fmt::Debug for Scene {
    /// Everything but the tile's pixels, which would flood a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scene")
            .field("size", &(self.w, self.h))
            .field("pad", &self.pad)
            .field("pan_v", &self.pan_v)
            .field("shake", &self.shake)
            .field("distractors", &self.distractors.len())
            .field("noise", &self.noise)
            .finish_non_exhaustive()
    }
}

pub(crate) fn rand_colour(rng: &mut impl Rng) -> [u8; 3] {
    [rng.random_range(0..=255), rng.random_range(0..=255), rng.random_range(0..=255)]
}

fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

impl Scene {
    /// Draws a random scene for a `w x h` video.
    pub fn random(rng: &mut impl Rng, w: u32, h: u32) -> Self {
        let (w, h) = (w as usize, h as usize);
        let short = w.min(h) as f32;
        let pad = ((short / 8.0) as usize).max(6);
        let (tw, th) = (w + 2 * pad, h + 2 * pad);
        let texture = match rng.random_range(0..4) {
            0 => Texture::ValueNoise { cell: rng.random_range(0.06..0.3) * short },
            1 => Texture::Stripes {
                angle: rng.random_range(0.0..std::f32::consts::PI),
                period: rng.random_range(0.05..0.3) * short,
            },
            2 => Texture::Checker { cell: rng.random_range(0.04..0.2) * short },
            _ => Texture::Gradient { angle: rng.random_range(0.0..std::f32::consts::TAU) },
        };
        let c1 = rand_colour(rng);
        let c2 = rand_colour(rng);
        let grain = rng.random_range(0.0..0.35f32);
        let grain_cell = (rng.random_range(0.02..0.08) * short).max(2.0);
        let lattice_seed: u32 = rng.random();
        let tile = make_tile((tw, th), texture, [c1, c2], (grain, grain_cell), lattice_seed);
        let mean = tile.iter().map(|&v| v as u64).sum::<u64>() as f32 / tile.len().max(1) as f32;
        let speed = if rng.random_bool(0.6) { rng.random_range(0.0..0.25) * short / 128.0 } else { 0.0 };
        let dir = rng.random_range(0.0..std::f32::consts::TAU);
        let n_distractors = rng.random_range(0..=3);
        let mut distractors = Vec::with_capacity(n_distractors);
        for _ in 0..n_distractors {
            let is_ball = rng.random_bool(0.5);
            let r = rng.random_range(0.03..0.08) * short;
            let half = if is_ball { (r, r) } else { (r, r * rng.random_range(0.5..1.5)) };
            let sp = rng.random_range(0.2..1.2) * short / 128.0;
            let a = rng.random_range(0.0..std::f32::consts::TAU);
            distractors.push(Distractor {
                is_ball,
                half,
                p0: (rng.random_range(0.0..w as f32), rng.random_range(0.0..h as f32)),
                v: (sp * a.cos(), sp * a.sin()),
                color: rand_colour(rng),
            });
        }
        Scene {
            w,
            h,
            tile,
            pad,
            pan0: (rng.random_range(2.0..(2 * pad - 2) as f32), rng.random_range(2.0..(2 * pad - 2) as f32)),
            pan_v: (speed * dir.cos(), speed * dir.sin()),
            shake: rng.random_range(0..=2),
            key: rng.random(),
            distractors,
            gain: (
                rng.random_range(0.85..1.15),
                rng.random_range(0.0..0.12),
                rng.random_range(0.02..0.2),
                rng.random_range(0.0..6.3),
            ),
            offset: (rng.random_range(-15.0..15.0), rng.random_range(0.0..12.0), rng.random_range(0.0..6.3)),
            noise: rng.random_range(0..=8),
            bright: mean > 128.0,
        }
    }

    /// Camera shake of frame `f`: whole pixels in `[-shake, shake]` on each axis.
    pub fn shake(&self, f: u64) -> (i32, i32) {
        if self.shake == 0 {
            return (0, 0);
        }
        let hsh = hash32(self.key ^ hash32(f as u32 ^ ((f >> 32) as u32).wrapping_mul(0x9E37_79B9)));
        let n = 2 * self.shake + 1;
        ((hsh % n as u32) as i32 - self.shake, ((hsh >> 16) % n as u32) as i32 - self.shake)
    }

    /// Fills `data` (the frame's RGB8 bytes) with the panned background and the distractors.
    pub fn draw_background(&self, data: &mut [u8], f: u64, shake: (i32, i32)) {
        let lim = (2 * self.pad - 2) as f32;
        let ox = bounce(self.pan0.0 + self.pan_v.0 * f as f32, 2.0, lim) as i32 - shake.0;
        let oy = bounce(self.pan0.1 + self.pan_v.1 * f as f32, 2.0, lim) as i32 - shake.1;
        let tw = self.w + 2 * self.pad;
        let max = (2 * self.pad) as i32;
        let (ox, oy) = (ox.clamp(0, max) as usize, oy.clamp(0, max) as usize);
        let row = self.w * 3;
        for y in 0..self.h {
            let src = ((y + oy) * tw + ox) * 3;
            data[y * row..(y + 1) * row].copy_from_slice(&self.tile[src..src + row]);
        }
        let mut canvas = Canvas::new(data, self.w, self.h);
        let t = f as f32;
        for d in &self.distractors {
            let x = bounce(d.p0.0 + d.v.0 * t, d.half.0, self.w as f32 - d.half.0) + shake.0 as f32;
            let y = bounce(d.p0.1 + d.v.1 * t, d.half.1, self.h as f32 - d.half.1) + shake.1 as f32;
            if d.is_ball {
                canvas.disc((x, y), d.half.0, d.color);
            } else {
                canvas.rect(x - d.half.0, y - d.half.1, x + d.half.0, y + d.half.1, d.color);
            }
        }
    }

    /// Applies the lighting drift of frame `f` (a gain/offset look-up table) and sensor noise
    /// (an integer hash per pixel: cheap, and different every frame).
    pub fn finish(&self, data: &mut [u8], f: u64, fps: f32) {
        let secs = f as f32 / fps;
        let (g0, ga, gf, gp) = self.gain;
        let (o0, oa, op) = self.offset;
        let gain = g0 + ga * (std::f32::consts::TAU * gf * secs + gp).sin();
        let off = o0 + oa * (std::f32::consts::TAU * gf * 0.7 * secs + op).sin();
        let mut lut = [0u8; 256];
        for (i, v) in lut.iter_mut().enumerate() {
            *v = (i as f32 * gain + off).round().clamp(0.0, 255.0) as u8;
        }
        if self.noise == 0 {
            for v in data.iter_mut() {
                *v = lut[*v as usize];
            }
            return;
        }
        let n = self.noise;
        let span = (2 * n + 1) as u32;
        let fk = self.key ^ hash32((f as u32).wrapping_mul(0x9E37_79B9) ^ (f >> 32) as u32);
        for (i, px) in data.chunks_exact_mut(3).enumerate() {
            let hsh = hash32(i as u32 ^ fk);
            for (c, v) in px.iter_mut().enumerate() {
                let byte = (hsh >> (8 * c)) & 0xff;
                let noise = ((byte * span) >> 8) as i32 - n;
                *v = (lut[*v as usize] as i32 + noise).clamp(0, 255) as u8;
            }
        }
    }
}

/// Value noise: random values on a lattice of `cell`-pixel squares, interpolated bilinearly
/// with smoothstep. The lattice is precomputed so a pixel costs four loads, not four hashes.
struct Lattice {
    cell: f32,
    cols: usize,
    values: Vec<f32>,
}

impl Lattice {
    fn new(w: usize, h: usize, cell: f32, seed: u32) -> Self {
        let cell = cell.max(1.0);
        let cols = (w as f32 / cell) as usize + 2;
        let rows = (h as f32 / cell) as usize + 2;
        let values = (0..rows * cols).map(|i| (hash32(i as u32 ^ hash32(seed)) & 0xffff) as f32 / 65535.0).collect();
        Lattice { cell, cols, values }
    }

    #[inline]
    fn at(&self, x: f32, y: f32) -> f32 {
        let (fx, fy) = (x / self.cell, y / self.cell);
        let (ix, iy) = (fx as usize, fy as usize);
        let (tx, ty) = (smooth(fx - ix as f32), smooth(fy - iy as f32));
        let i = iy * self.cols + ix;
        let v = &self.values;
        let top = v[i] + (v[i + 1] - v[i]) * tx;
        let bot = v[i + self.cols] + (v[i + self.cols + 1] - v[i + self.cols]) * tx;
        top + (bot - top) * ty
    }
}

/// The background tile: `texture` blended between the two colours, plus value-noise grain of
/// `(strength, cell size)`.
fn make_tile(
    (tw, th): (usize, usize),
    texture: Texture,
    [c1, c2]: [[u8; 3]; 2],
    (grain, grain_cell): (f32, f32),
    seed: u32,
) -> Vec<u8> {
    let mut tile = vec![0u8; tw * th * 3];
    let (cw, ch) = (tw as f32, th as f32);
    let (coarse, fine) = match texture {
        Texture::ValueNoise { cell } => {
            (Some(Lattice::new(tw, th, cell, seed)), Some(Lattice::new(tw, th, cell * 0.4, seed ^ 0x5bd1)))
        }
        _ => (None, None),
    };
    let grain_lattice = (grain > 0.0).then(|| Lattice::new(tw, th, grain_cell, seed ^ 0x9e37));
    for y in 0..th {
        for x in 0..tw {
            let (xf, yf) = (x as f32, y as f32);
            let mut v = match texture {
                Texture::ValueNoise { .. } => match (&coarse, &fine) {
                    (Some(c), Some(f)) => c.at(xf, yf) * 0.7 + f.at(xf, yf) * 0.3,
                    _ => 0.5,
                },
                Texture::Stripes { angle, period } => {
                    let u = xf * angle.cos() + yf * angle.sin();
                    (0.5 + 0.5 * (std::f32::consts::TAU * u / period).sin() * 1.6).clamp(0.0, 1.0)
                }
                Texture::Checker { cell } => (((xf / cell) as i32 + (yf / cell) as i32) & 1) as f32,
                Texture::Gradient { angle } => {
                    let u = ((xf / cw - 0.5) * angle.cos() + (yf / ch - 0.5) * angle.sin()) + 0.5;
                    u.clamp(0.0, 1.0)
                }
            };
            if let Some(g) = &grain_lattice {
                v = (v + grain * (g.at(xf, yf) - 0.5)).clamp(0.0, 1.0);
            }
            let i = (y * tw + x) * 3;
            for c in 0..3 {
                tile[i + c] = (c1[c] as f32 + (c2[c] as f32 - c1[c] as f32) * v).round() as u8;
            }
        }
    }
    tile
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_stays_in_range() {
        for p in [-100.0, -3.0, 0.0, 5.0, 17.0, 1e6] {
            let b = bounce(p, 2.0, 10.0);
            assert!((2.0..=10.0).contains(&b), "{p} -> {b}");
        }
        assert_eq!(bounce(12.0, 2.0, 10.0), 8.0);
    }
}
