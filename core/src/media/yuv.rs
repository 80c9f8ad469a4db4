//! BT.601 limited-range ("studio swing") YUV <-> RGB conversion, the convention of Y4M files
//! and of ffmpeg's defaults. Fixed-point, so the same bytes come out on every platform.

const SHIFT: i32 = 16;
const HALF: i32 = 1 << (SHIFT - 1);

/// Fixed-point coefficient: `round(x * 2^16)`.
const fn fx(x: f64) -> i32 {
    (x * (1 << SHIFT) as f64 + 0.5) as i32
}

#[inline]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Converts one pixel to `(Y, Cb, Cr)`.
#[inline]
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = (fx(65.481 / 255.0) * r + fx(128.553 / 255.0) * g + fx(24.966 / 255.0) * b + HALF) >> SHIFT;
    let cb = (-fx(37.797 / 255.0) * r - fx(74.203 / 255.0) * g + fx(112.0 / 255.0) * b + HALF) >> SHIFT;
    let cr = (fx(112.0 / 255.0) * r - fx(93.786 / 255.0) * g - fx(18.214 / 255.0) * b + HALF) >> SHIFT;
    (clamp_u8(y + 16), clamp_u8(cb + 128), clamp_u8(cr + 128))
}

/// Converts one `(Y, Cb, Cr)` sample to RGB, clamping out-of-gamut results.
#[inline]
pub fn yuv_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let c = (y as i32 - 16) * fx(255.0 / 219.0);
    let d = cb as i32 - 128;
    let e = cr as i32 - 128;
    let r = c + fx(255.0 / 224.0 * 1.402) * e;
    let g = c - fx(255.0 / 224.0 * 1.772 * 0.114 / 0.587) * d - fx(255.0 / 224.0 * 1.402 * 0.299 / 0.587) * e;
    let b = c + fx(255.0 / 224.0 * 1.772) * d;
    [clamp_u8((r + HALF) >> SHIFT), clamp_u8((g + HALF) >> SHIFT), clamp_u8((b + HALF) >> SHIFT)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        assert_eq!(rgb_to_yuv(0, 0, 0), (16, 128, 128));
        assert_eq!(rgb_to_yuv(255, 255, 255), (235, 128, 128));
        assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(235, 128, 128), [255, 255, 255]);
        // Pure red in BT.601 limited range is (81, 90, 240).
        let (y, u, v) = rgb_to_yuv(255, 0, 0);
        assert!((y as i32 - 81).abs() <= 1 && (u as i32 - 90).abs() <= 1 && (v as i32 - 240).abs() <= 1);
    }

    #[test]
    fn round_trip_within_two_levels() {
        let mut worst = 0;
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(15) {
                for b in (0..=255).step_by(15) {
                    let (y, u, v) = rgb_to_yuv(r as u8, g as u8, b as u8);
                    let back = yuv_to_rgb(y, u, v);
                    for (a, bb) in [r, g, b].iter().zip(back) {
                        worst = worst.max((*a - bb as i32).abs());
                    }
                }
            }
        }
        assert!(worst <= 2, "worst round-trip error {worst}");
    }
}
