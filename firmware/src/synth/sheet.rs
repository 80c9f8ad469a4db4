//! A contact sheet: one PNG showing every class at a glance, to check the generator by eye.

use std::path::Path;

use super::classes::CLASS_NAMES;
use super::video::SynthVideo;
use super::{SynthConfig, SynthError};
use crate::frame::Frame;

/// Gap between tiles, in pixels (left dark grey so tiles are easy to tell apart).
const GAP: u32 = 2;
/// Largest sheet side accepted, to refuse configs that would need gigabytes.
const MAX_SHEET_SIDE: u64 = 32768;

/// Writes a PNG grid with one row per class, in [`CLASS_NAMES`] order (row 0 = `idle`,
/// row 11 = `fall_down`; no text is drawn), and `frames_per_class` frames per row sampled
/// evenly from first to last frame of clip 0 of that class.
pub fn contact_sheet(cfg: &SynthConfig, frames_per_class: usize, out_png: &Path) -> Result<(), SynthError> {
    let mut short = cfg.clone();
    short.long = false;
    short.validate()?;
    if frames_per_class == 0 || frames_per_class as u64 > cfg.frames as u64 {
        return Err(SynthError::Config(format!("frames_per_class must be between 1 and the clip's {} frames, got {frames_per_class}", cfg.frames)));
    }
    let cols = frames_per_class as u64;
    let rows = CLASS_NAMES.len() as u64;
    let sw = cols * (cfg.width as u64 + GAP as u64) + GAP as u64;
    let sh = rows * (cfg.height as u64 + GAP as u64) + GAP as u64;
    if sw > MAX_SHEET_SIDE || sh > MAX_SHEET_SIDE {
        return Err(SynthError::Config(format!("contact sheet would be {sw}x{sh} pixels, more than {MAX_SHEET_SIDE} a side; use fewer frames or a smaller size")));
    }
    let mut sheet = image::RgbImage::from_pixel(sw as u32, sh as u32, image::Rgb([40, 40, 40]));
    let mut frame = Frame::new(cfg.width, cfg.height);
    let n = cfg.frames as u64;
    for class in 0..CLASS_NAMES.len() {
        let mut video = SynthVideo::new(&short, class, 0)?;
        for col in 0..cols {
            let f = if cols == 1 { n / 2 } else { col * (n - 1) / (cols - 1) };
            video.render(f, &mut frame);
            let x0 = GAP as u64 + col * (cfg.width as u64 + GAP as u64);
            let y0 = GAP as u64 + class as u64 * (cfg.height as u64 + GAP as u64);
            for y in 0..cfg.height {
                for x in 0..cfg.width {
                    let p = frame.pixel(x, y);
                    sheet.put_pixel(x0 as u32 + x, y0 as u32 + y, image::Rgb(p));
                }
            }
        }
    }
    let name = out_png.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = out_png.with_file_name(format!(".{name}.tmp"));
    sheet.save_with_format(&tmp, image::ImageFormat::Png).map_err(|source| SynthError::Image { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, out_png).map_err(|e| SynthError::io(out_png, e))
}
