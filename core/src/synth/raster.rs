//! Anti-aliased drawing primitives on a packed RGB8 buffer.
//!
//! Every primitive touches only the pixels of its clipped bounding box, so drawing cost scales
//! with the primitive's area, not the frame's: that keeps a 640x480 frame within the live demo's
//! budget. Coverage is a one-pixel linear ramp across the edge, enough to avoid the jagged,
//! frame-to-frame flickering edges that would give a classifier a spurious motion cue.

/// A mutable view of an RGB8 frame buffer.
pub(crate) struct Canvas<'a> {
    pub data: &'a mut [u8],
    pub width: usize,
    pub height: usize,
}

#[inline]
fn blend(px: &mut [u8], color: [u8; 3], alpha: u32) {
    // alpha in 0..=256
    for c in 0..3 {
        let d = px[c] as i32;
        px[c] = (d + (((color[c] as i32 - d) * alpha as i32) >> 8)) as u8;
    }
}

impl<'a> Canvas<'a> {
    /// Wraps a buffer of `width * height * 3` bytes (callers guarantee the length).
    pub fn new(data: &'a mut [u8], width: usize, height: usize) -> Self {
        debug_assert_eq!(data.len(), width * height * 3);
        Canvas { data, width, height }
    }

    /// Clipped pixel range `[x0, x1) x [y0, y1)` of a float box, or `None` when off-canvas.
    fn clip(&self, minx: f32, miny: f32, maxx: f32, maxy: f32) -> Option<(usize, usize, usize, usize)> {
        if !(minx.is_finite() && miny.is_finite() && maxx.is_finite() && maxy.is_finite()) {
            return None;
        }
        let x0 = minx.floor().max(0.0);
        let y0 = miny.floor().max(0.0);
        let x1 = (maxx.ceil() + 1.0).min(self.width as f32);
        let y1 = (maxy.ceil() + 1.0).min(self.height as f32);
        if x0 >= x1 || y0 >= y1 {
            return None;
        }
        Some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
    }

    /// A capsule: all points within `r` of the segment `a`–`b` (a disc when `a == b`).
    pub fn capsule(&mut self, a: (f32, f32), b: (f32, f32), r: f32, color: [u8; 3]) {
        let r = r.max(0.5);
        let reach = r + 0.5;
        let Some((x0, y0, x1, y1)) =
            self.clip(a.0.min(b.0) - reach, a.1.min(b.1) - reach, a.0.max(b.0) + reach, a.1.max(b.1) + reach)
        else {
            return;
        };
        let (abx, aby) = (b.0 - a.0, b.1 - a.1);
        let len2 = abx * abx + aby * aby;
        let inv = if len2 > 1e-12 { 1.0 / len2 } else { 0.0 };
        let outer2 = reach * reach;
        let inner = (r - 0.5).max(0.0);
        let inner2 = inner * inner;
        let w = self.width;
        for y in y0..y1 {
            let py = y as f32 + 0.5 - a.1;
            let row = &mut self.data[(y * w + x0) * 3..(y * w + x1) * 3];
            for (i, px) in row.chunks_exact_mut(3).enumerate() {
                let pxf = (x0 + i) as f32 + 0.5 - a.0;
                let t = ((pxf * abx + py * aby) * inv).clamp(0.0, 1.0);
                let dx = pxf - t * abx;
                let dy = py - t * aby;
                let d2 = dx * dx + dy * dy;
                if d2 >= outer2 {
                    continue;
                }
                if d2 <= inner2 {
                    px.copy_from_slice(&color);
                } else {
                    let cov = (reach - d2.sqrt()).clamp(0.0, 1.0);
                    blend(px, color, (cov * 256.0) as u32);
                }
            }
        }
    }

    /// A filled disc.
    pub fn disc(&mut self, c: (f32, f32), r: f32, color: [u8; 3]) {
        self.capsule(c, c, r, color);
    }

    /// An axis-aligned filled box `[x0, x1] x [y0, y1]` with anti-aliased edges.
    pub fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, color: [u8; 3]) {
        let Some((px0, py0, px1, py1)) = self.clip(x0, y0, x1, y1) else {
            return;
        };
        let w = self.width;
        for y in py0..py1 {
            let cy = y as f32 + 0.5;
            let cov_y = ((cy - y0 + 0.5).min(y1 - cy + 0.5)).clamp(0.0, 1.0);
            if cov_y <= 0.0 {
                continue;
            }
            for x in px0..px1 {
                let cx = x as f32 + 0.5;
                let cov = ((cx - x0 + 0.5).min(x1 - cx + 0.5)).clamp(0.0, 1.0) * cov_y;
                if cov <= 0.0 {
                    continue;
                }
                let i = (y * w + x) * 3;
                let px = &mut self.data[i..i + 3];
                if cov >= 1.0 {
                    px.copy_from_slice(&color);
                } else {
                    blend(px, color, (cov * 256.0) as u32);
                }
            }
        }
    }
}

/// A fast integer hash (lowbias32): per-pixel noise and per-frame shake without a generator
/// call per pixel.
#[inline]
pub(crate) fn hash32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capsule_covers_its_core_and_stays_in_bounds() {
        let mut buf = vec![0u8; 20 * 10 * 3];
        let mut c = Canvas::new(&mut buf, 20, 10);
        c.capsule((5.0, 5.0), (15.0, 5.0), 2.0, [255, 0, 0]);
        c.capsule((-50.0, -50.0), (100.0, -40.0), 3.0, [0, 255, 0]); // off-canvas, must not panic
        c.disc((f32::NAN, 1.0), 3.0, [1, 1, 1]); // ignored
        c.rect(18.0, 8.0, 40.0, 40.0, [0, 0, 255]);
        let at = |x: usize, y: usize| buf[(y * 20 + x) * 3..(y * 20 + x) * 3 + 3].to_vec();
        assert_eq!(at(10, 5), vec![255, 0, 0]);
        assert_eq!(at(10, 0), vec![0, 0, 0]);
        assert_eq!(at(19, 9), vec![0, 0, 255]);
    }
}
