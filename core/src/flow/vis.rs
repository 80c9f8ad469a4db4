//! The Middlebury colour coding of flow: hue gives the direction, saturation the magnitude.
//! The standard picture everyone compares flow with, used by debug dumps and the overlay.

use super::{field::is_known, FlowError, FlowField};
use std::path::Path;

/// Segment lengths of the Middlebury colour wheel: red→yellow, yellow→green, green→cyan,
/// cyan→blue, blue→magenta, magenta→red (55 colours in all).
const SEGMENTS: [usize; 6] = [15, 6, 4, 11, 13, 6];

/// Builds the 55-entry colour wheel (RGB, 0..=255 as `f32`), so the hues match the images in
/// papers and other tools.
fn colour_wheel() -> Vec<[f32; 3]> {
    let mut wheel = Vec::with_capacity(55);
    // Each segment ramps one channel up or down while another is held at full.
    // (channel held at 255, channel ramped, ramp up?)
    let plan: [(usize, usize, bool); 6] =
        [(0, 1, true), (1, 0, false), (1, 2, true), (2, 1, false), (2, 0, true), (0, 2, false)];
    for (&n, &(full, ramp, up)) in SEGMENTS.iter().zip(&plan) {
        for i in 0..n {
            let mut c = [0.0f32; 3];
            c[full] = 255.0;
            let r = (255.0 * i as f32 / n as f32).floor();
            c[ramp] = if up { r } else { 255.0 - r };
            wheel.push(c);
        }
    }
    wheel
}

/// Colours a field: direction picks the hue, magnitude / `bound` the saturation (vectors
/// longer than `bound` are darkened). `bound = None` normalises by the largest known
/// magnitude. Unknown pixels (ground-truth marker) are black.
pub fn flow_to_rgb(field: &FlowField, bound: Option<f32>) -> image::RgbImage {
    let wheel = colour_wheel();
    let ncols = wheel.len();
    let max = bound.unwrap_or_else(|| field.max_magnitude());
    let scale = if max > 0.0 && max.is_finite() { 1.0 / max } else { 0.0 };
    let mut img = image::RgbImage::new(field.width, field.height);
    for (i, px) in img.pixels_mut().enumerate() {
        let (u, v) = (field.u[i], field.v[i]);
        if !is_known(u, v) {
            px.0 = [0, 0, 0];
            continue;
        }
        let (fu, fv) = (u * scale, v * scale);
        let rad = (fu * fu + fv * fv).sqrt();
        let a = (-fv).atan2(-fu) / std::f32::consts::PI;
        let fk = (a + 1.0) / 2.0 * (ncols - 1) as f32;
        let k0 = (fk.floor() as usize).min(ncols - 1);
        let k1 = (k0 + 1) % ncols;
        let f = fk - k0 as f32;
        let mut out = [0u8; 3];
        for c in 0..3 {
            let mut col = ((1.0 - f) * wheel[k0][c] + f * wheel[k1][c]) / 255.0;
            if rad <= 1.0 {
                col = 1.0 - rad * (1.0 - col);
            } else {
                col *= 0.75;
            }
            out[c] = (255.0 * col).floor().clamp(0.0, 255.0) as u8;
        }
        px.0 = out;
    }
    img
}

/// Writes the colour coding as PNG, the quickest way to eyeball a flow field.
pub fn save_png(field: &FlowField, bound: Option<f32>, path: impl AsRef<Path>) -> Result<(), FlowError> {
    let path = path.as_ref();
    flow_to_rgb(field, bound)
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| FlowError::Image { path: path.to_path_buf(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_and_colours() {
        let w = colour_wheel();
        assert_eq!(w.len(), 55);
        assert_eq!(w[0], [255.0, 0.0, 0.0]);
        // Zero motion is white, unknown is black, motion to the left is saturated.
        let f = FlowField { width: 3, height: 1, u: vec![0.0, 1e10, -1.0], v: vec![0.0, 0.0, 0.0] };
        let img = flow_to_rgb(&f, None);
        assert_eq!(img.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(1, 0).0, [0, 0, 0]);
        assert_ne!(img.get_pixel(2, 0).0, [255, 255, 255]);
        let dir = tempfile::tempdir().unwrap();
        save_png(&f, Some(2.0), dir.path().join("f.png")).unwrap();
    }
}
