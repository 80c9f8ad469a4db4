//! A contact sheet: one PNG showing every class at a glance, to check the generator by eye.

use std::path::Path;

use motus_core::frame::Frame;
use motus_core::synth::{SynthConfig, SynthError, SynthVideo, CLASS_NAMES};

/// Gap between tiles, in pixels (left dark grey so tiles are easy to tell apart).
const GAP: u32 = 2;
/// Largest sheet side accepted, to refuse configs that would need gigabytes.
const MAX_SHEET_SIDE: u64 = 32768;

/// Writes a PNG grid with one row per class, in [`CLASS_NAMES`] order (row 0 = `idle`,
/// row 11 = `fall_down`), each row labelled with its class name in a tiny built-in font, and
/// `frames_per_class` frames per row sampled evenly from first to last frame of clip 0 of
/// that class.
pub fn contact_sheet(cfg: &SynthConfig, frames_per_class: usize, out_png: &Path) -> Result<(), SynthError> {
    let mut short = cfg.clone();
    short.long = false;
    short.validate()?;
    if frames_per_class == 0 || frames_per_class as u64 > cfg.frames as u64 {
        return Err(SynthError::Config(format!(
            "frames_per_class must be between 1 and the clip's {} frames, got {frames_per_class}",
            cfg.frames
        )));
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
    for (class, name) in CLASS_NAMES.iter().enumerate() {
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
        let y0 = GAP + class as u32 * (cfg.height + GAP);
        label(&mut sheet, GAP + 1, y0 + 1, name, (cfg.width / 64).max(1));
    }
    let name = out_png.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = out_png.with_file_name(format!(".{name}.tmp"));
    sheet
        .save_with_format(&tmp, image::ImageFormat::Png)
        .map_err(|source| SynthError::Image { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, out_png).map_err(|e| SynthError::io(out_png, e))
}

/// 3x5 glyphs for the characters of class names (rows top to bottom, `#` = ink). Written here
/// so the sheet needs no font file or font crate.
fn glyph(c: char) -> Option<[&'static str; 5]> {
    Some(match c {
        'a' => [".#.", "#.#", "###", "#.#", "#.#"],
        'b' => ["##.", "#.#", "##.", "#.#", "##."],
        'c' => [".##", "#..", "#..", "#..", ".##"],
        'd' => ["##.", "#.#", "#.#", "#.#", "##."],
        'e' => ["###", "#..", "##.", "#..", "###"],
        'f' => ["###", "#..", "##.", "#..", "#.."],
        'g' => [".##", "#..", "#.#", "#.#", ".##"],
        'h' => ["#.#", "#.#", "###", "#.#", "#.#"],
        'i' => ["###", ".#.", ".#.", ".#.", "###"],
        'j' => ["..#", "..#", "..#", "#.#", ".#."],
        'k' => ["#.#", "#.#", "##.", "#.#", "#.#"],
        'l' => ["#..", "#..", "#..", "#..", "###"],
        'm' => ["#.#", "###", "###", "#.#", "#.#"],
        'n' => ["##.", "#.#", "#.#", "#.#", "#.#"],
        'o' => [".#.", "#.#", "#.#", "#.#", ".#."],
        'p' => ["##.", "#.#", "##.", "#..", "#.."],
        'q' => [".#.", "#.#", "#.#", "##.", ".##"],
        'r' => ["##.", "#.#", "##.", "#.#", "#.#"],
        's' => [".##", "#..", ".#.", "..#", "##."],
        't' => ["###", ".#.", ".#.", ".#.", ".#."],
        'u' => ["#.#", "#.#", "#.#", "#.#", "###"],
        'v' => ["#.#", "#.#", "#.#", "#.#", ".#."],
        'w' => ["#.#", "#.#", "###", "###", "#.#"],
        'x' => ["#.#", "#.#", ".#.", "#.#", "#.#"],
        'y' => ["#.#", "#.#", ".#.", ".#.", ".#."],
        'z' => ["###", "..#", ".#.", "#..", "###"],
        '_' => ["...", "...", "...", "...", "###"],
        _ => return None,
    })
}

/// Draws `text` in white on a black box at `(x, y)`, each font pixel `scale` pixels wide;
/// anything past the sheet's edge is clipped.
fn label(img: &mut image::RgbImage, x: u32, y: u32, text: &str, scale: u32) {
    let (w, h) = img.dimensions();
    let mut put = |px: u32, py: u32, c: [u8; 3]| {
        if px < w && py < h {
            img.put_pixel(px, py, image::Rgb(c));
        }
    };
    let chars = text.chars().count() as u32;
    for py in 0..(7 * scale) {
        for px in 0..((chars * 4 + 1) * scale) {
            put(x + px, y + py, [0, 0, 0]);
        }
    }
    for (i, c) in text.chars().enumerate() {
        let Some(rows) = glyph(c) else { continue };
        for (r, row) in rows.iter().enumerate() {
            for (k, b) in row.bytes().enumerate() {
                if b != b'#' {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let gx = x + (1 + i as u32 * 4 + k as u32) * scale + dx;
                        let gy = y + (1 + r as u32) * scale + dy;
                        put(gx, gy, [255, 255, 255]);
                    }
                }
            }
        }
    }
}
