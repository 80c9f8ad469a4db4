//! `curves.png`: the run's learning curves, redrawn after every epoch so a glance at the run
//! folder tells whether training is going anywhere.
//!
//! Left panel: training loss (red), scaled to its own maximum. Right panel, on a fixed 0–1
//! axis with grid lines every 0.1: training clip accuracy (red), validation clip top-1 (blue)
//! and validation video top-1 (green). One point per epoch; the numbers are in `metrics.jsonl`.

use super::EpochRecord;
use image::{Rgb, RgbImage};
use std::path::Path;

const W: u32 = 320;
const H: u32 = 240;
const PAD: u32 = 16;

fn line(img: &mut RgbImage, (x0, y0): (f32, f32), (x1, y1): (f32, f32), colour: Rgb<u8>) {
    let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as u32).max(1);
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
        for (dx, dy) in [(0i32, 0i32), (1, 0), (0, 1)] {
            let (px, py) = (x.round() as i32 + dx, y.round() as i32 + dy);
            if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                img.put_pixel(px as u32, py as u32, colour);
            }
        }
    }
}

/// One panel at horizontal offset `ox`: a frame, grid lines, and each series as a polyline.
fn panel(img: &mut RgbImage, ox: u32, series: &[(Vec<Option<f64>>, Rgb<u8>)], y_max: f64) {
    let (x0, x1) = ((ox + PAD) as f32, (ox + W - PAD) as f32);
    let (y0, y1) = ((H - PAD) as f32, PAD as f32);
    let grey = Rgb([220, 220, 220]);
    for g in 0..=10 {
        let y = y0 + (y1 - y0) * g as f32 / 10.0;
        line(img, (x0, y), (x1, y), grey);
    }
    let black = Rgb([0, 0, 0]);
    line(img, (x0, y0), (x1, y0), black);
    line(img, (x0, y0), (x0, y1), black);
    for (values, colour) in series {
        let n = values.len().max(2) - 1;
        let pts: Vec<(f32, f32)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|v| (x0 + (x1 - x0) * i as f32 / n as f32, y0 + (y1 - y0) * (v / y_max).clamp(0.0, 1.0) as f32))
            })
            .collect();
        for w in pts.windows(2) {
            line(img, w[0], w[1], *colour);
        }
        for &(x, y) in &pts {
            line(img, (x - 2.0, y), (x + 2.0, y), *colour);
        }
    }
}

/// Draws the curves of `history` into `path` (PNG).
pub fn curves(history: &[EpochRecord], path: &Path) -> anyhow::Result<()> {
    let mut img = RgbImage::from_pixel(2 * W, H, Rgb([255, 255, 255]));
    let (red, blue, green) = (Rgb([200, 30, 30]), Rgb([30, 60, 200]), Rgb([20, 150, 40]));
    let loss: Vec<Option<f64>> = history.iter().map(|r| Some(r.train_loss)).collect();
    let max_loss = loss.iter().flatten().cloned().fold(1e-9, f64::max);
    panel(&mut img, 0, &[(loss, red)], max_loss);
    let train_acc = history.iter().map(|r| Some(r.train_clip_acc)).collect();
    let val_clip = history.iter().map(|r| r.val_clip_top1).collect();
    let val_video = history.iter().map(|r| r.val_video_top1).collect();
    panel(&mut img, W, &[(train_acc, red), (val_clip, blue), (val_video, green)], 1.0);
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)?;
    motus_core::atomic::write_atomic(path, png.get_ref())?;
    Ok(())
}
