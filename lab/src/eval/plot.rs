//! The report's pictures, drawn with the `image` crate alone: a confusion-matrix heat map and
//! per-class bars. Axes carry class indices in a tiny built-in digit font; the Markdown report
//! maps indices to names.

use image::{Rgb, RgbImage};

/// 3×5 bitmaps of the digits 0–9, one row of 3 bits per byte (most significant bit left).
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

const INK: Rgb<u8> = Rgb([40, 40, 40]);
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, c: Rgb<u8>) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, c);
        }
    }
}

/// Draws `n` at (x, y) with `scale`-pixel dots; returns the width drawn.
fn number(img: &mut RgbImage, x: u32, y: u32, n: usize, scale: u32, c: Rgb<u8>) -> u32 {
    let text = n.to_string();
    for (k, ch) in text.bytes().enumerate() {
        let glyph = DIGITS[(ch - b'0') as usize];
        let gx = x + k as u32 * 4 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) != 0 {
                    fill(img, gx + col * scale, y + row as u32 * scale, scale, scale, c);
                }
            }
        }
    }
    text.len() as u32 * 4 * scale
}

/// White → blue ramp for a fraction in 0..=1.
fn heat(f: f64) -> Rgb<u8> {
    let f = f.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    Rgb([mix(255.0, 20.0), mix(255.0, 70.0), mix(255.0, 160.0)])
}

/// The confusion matrix (`[true][predicted]` counts) as a heat map, each row normalised by
/// its class's videos; rows are true classes, columns predictions, both labelled by index.
pub fn confusion_png(confusion: &[Vec<usize>]) -> RgbImage {
    let k = confusion.len().max(1) as u32;
    let cell = (480 / k).clamp(6, 40);
    let margin = 24;
    let mut img = RgbImage::from_pixel(margin + k * cell + 4, margin + k * cell + 4, WHITE);
    for (t, row) in confusion.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (p, &n) in row.iter().enumerate() {
            let f = if total == 0 { 0.0 } else { n as f64 / total as f64 };
            fill(&mut img, margin + p as u32 * cell, margin + t as u32 * cell, cell - 1, cell - 1, heat(f));
        }
    }
    let scale = if cell >= 16 { 2 } else { 1 };
    for i in 0..k {
        if cell >= 8 || i % 5 == 0 {
            number(&mut img, margin + i * cell + 1, 4, i as usize, scale, INK);
            number(&mut img, 2, margin + i * cell + 1, i as usize, scale, INK);
        }
    }
    img
}

/// Per-class bars: recall (dark) and precision (light) side by side for each class index,
/// on a 0–1 scale with grid lines at 0.25 steps. Missing values draw no bar.
pub fn per_class_png(recall: &[Option<f64>], precision: &[Option<f64>]) -> RgbImage {
    let k = recall.len().max(1) as u32;
    let (bar, gap, plot_h, margin) = (10u32, 8u32, 200u32, 20u32);
    let width = margin + k * (2 * bar + gap) + gap;
    let mut img = RgbImage::from_pixel(width, plot_h + 2 * margin, WHITE);
    for q in 0..=4 {
        let y = margin + plot_h - q * plot_h / 4;
        fill(&mut img, margin, y, width - margin, 1, Rgb([215, 215, 215]));
    }
    for (i, (r, p)) in recall.iter().zip(precision).enumerate() {
        let x = margin + gap + i as u32 * (2 * bar + gap);
        for (j, (v, c)) in [(r, Rgb([30, 80, 170])), (p, Rgb([130, 180, 235]))].into_iter().enumerate() {
            if let Some(v) = v {
                let h = (v.clamp(0.0, 1.0) * plot_h as f64).round() as u32;
                fill(&mut img, x + j as u32 * bar, margin + plot_h - h, bar - 1, h.max(1), c);
            }
        }
        number(&mut img, x + 2, margin + plot_h + 5, i, 2, INK);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_cells_follow_row_fractions() {
        let img = confusion_png(&[vec![2, 0], vec![1, 1]]);
        let cell = 40;
        let at = |t: u32, p: u32| *img.get_pixel(24 + p * cell + cell / 2, 24 + t * cell + cell / 2);
        assert_eq!(at(0, 0), heat(1.0));
        assert_eq!(at(0, 1), heat(0.0));
        assert_eq!(at(1, 0), heat(0.5));
        // Index labels are drawn in the margin.
        assert!(img.pixels().any(|p| *p == INK));
    }

    #[test]
    fn bars_have_the_value_heights() {
        let img = per_class_png(&[Some(1.0), Some(0.5), None], &[Some(0.25), None, None]);
        let dark = Rgb([30, 80, 170]);
        let column = |x: u32| (0..img.height()).filter(|&y| *img.get_pixel(x, y) == dark).count();
        // Class 0's recall bar is the full 200 px, class 1's half.
        assert_eq!(column(20 + 8 + 2), 200);
        assert_eq!(column(20 + 8 + 28 + 2), 100);
        assert_eq!(column(20 + 8 + 56 + 2), 0);
    }
}
