//! The overlay drawn with `embedded-graphics` onto the RGB frame: the top class and score, a
//! bar per leading class, an alert banner, fps and drops. The same picture goes to the
//! preview, the framebuffer and the alert snapshots, so what an operator sees is what was
//! stored.

use embedded_graphics::mono_font::ascii::{FONT_6X10, FONT_9X15};
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::Text;

use motus_core::frame::Frame;

/// A [`Frame`] as an `embedded-graphics` draw target; pixels outside the frame are ignored.
pub struct FrameCanvas<'a>(pub &'a mut Frame);

impl OriginDimensions for FrameCanvas<'_> {
    fn size(&self) -> Size {
        Size::new(self.0.width, self.0.height)
    }
}

impl DrawTarget for FrameCanvas<'_> {
    type Color = Rgb888;
    type Error = std::convert::Infallible;

    fn draw_iter<I: IntoIterator<Item = Pixel<Rgb888>>>(&mut self, pixels: I) -> Result<(), Self::Error> {
        let (w, h) = (self.0.width as i32, self.0.height as i32);
        for Pixel(p, c) in pixels {
            if p.x >= 0 && p.y >= 0 && p.x < w && p.y < h {
                let i = (p.y as usize * w as usize + p.x as usize) * 3;
                self.0.data[i..i + 3].copy_from_slice(&[c.r(), c.g(), c.b()]);
            }
        }
        Ok(())
    }

    fn fill_solid(&mut self, area: &Rectangle, color: Rgb888) -> Result<(), Self::Error> {
        let area = area.intersection(&self.bounding_box());
        let Some(br) = area.bottom_right() else { return Ok(()) };
        let w = self.0.width as usize;
        for y in area.top_left.y..=br.y {
            for x in area.top_left.x..=br.x {
                let i = (y as usize * w + x as usize) * 3;
                self.0.data[i..i + 3].copy_from_slice(&[color.r(), color.g(), color.b()]);
            }
        }
        Ok(())
    }
}

/// What the overlay shows for one frame.
#[derive(Debug, Clone, Default)]
pub struct OverlayInfo<'a> {
    pub labels: &'a [String],
    /// Smoothed class scores (empty before the first window).
    pub scores: &'a [f32],
    /// Running alerts: class and score.
    pub alerts: Vec<(&'a str, f32)>,
    pub fps_in: f64,
    pub fps_out: f64,
    pub dropped: u64,
}

/// Draws the overlay onto `frame` in place. Bars: the four leading classes.
pub fn draw_overlay(frame: &mut Frame, info: &OverlayInfo<'_>) {
    let mut c = FrameCanvas(frame);
    let small = MonoTextStyle::new(&FONT_6X10, Rgb888::WHITE);
    let big = MonoTextStyle::new(&FONT_9X15, Rgb888::WHITE);
    let dark = PrimitiveStyle::with_fill(Rgb888::new(0, 0, 0));
    // Status strip.
    let _ = Rectangle::new(Point::new(0, 0), Size::new(c.0.width, 14)).into_styled(dark).draw(&mut c);
    let status = format!("in {:.1} fps  out {:.1} fps  dropped {}", info.fps_in, info.fps_out, info.dropped);
    let _ = Text::new(&status, Point::new(4, 10), small).draw(&mut c);
    // Top class and bars.
    let mut order: Vec<usize> = (0..info.scores.len().min(info.labels.len())).collect();
    order.sort_by(|&a, &b| info.scores[b].total_cmp(&info.scores[a]));
    if let Some(&top) = order.first() {
        let _ =
            Text::new(&format!("{} {:.2}", info.labels[top], info.scores[top]), Point::new(4, 32), big).draw(&mut c);
    }
    for (row, &k) in order.iter().take(4).enumerate() {
        let y = 40 + row as i32 * 12;
        let w = (info.scores[k].clamp(0.0, 1.0) * 100.0).round() as u32;
        let _ = Rectangle::new(Point::new(4, y), Size::new(100, 9)).into_styled(dark).draw(&mut c);
        let colour = if row == 0 { Rgb888::new(40, 200, 80) } else { Rgb888::new(60, 120, 200) };
        let _ = Rectangle::new(Point::new(4, y), Size::new(w, 9))
            .into_styled(PrimitiveStyle::with_fill(colour))
            .draw(&mut c);
        let _ = Text::new(&info.labels[k], Point::new(110, y + 8), small).draw(&mut c);
    }
    // Alert banner.
    if !info.alerts.is_empty() {
        let h = c.0.height;
        let banner = Rectangle::new(Point::new(0, h as i32 - 22), Size::new(c.0.width, 22));
        let _ = banner.into_styled(PrimitiveStyle::with_fill(Rgb888::new(200, 20, 20))).draw(&mut c);
        let text: Vec<String> = info.alerts.iter().map(|(k, s)| format!("{k} {s:.2}")).collect();
        let _ = Text::new(&format!("ALERT: {}", text.join(", ")), Point::new(6, h as i32 - 7), big).draw(&mut c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_bars_banner_and_status_inside_the_frame() {
        let labels: Vec<String> = ["idle", "wave", "fall_down"].iter().map(|s| s.to_string()).collect();
        let mut f = Frame::new(320, 240);
        f.data.fill(128);
        let info = OverlayInfo {
            labels: &labels,
            scores: &[0.1, 0.2, 0.7],
            alerts: vec![("fall_down", 0.7)],
            fps_in: 30.0,
            fps_out: 29.5,
            dropped: 3,
        };
        draw_overlay(&mut f, &info);
        // Top bar is green and 70 px long; the banner is red; the status strip is dark.
        assert_eq!(f.pixel(4 + 60, 44), [40, 200, 80]);
        assert_eq!(f.pixel(4 + 80, 44), [0, 0, 0]);
        assert_eq!(f.pixel(300, 239), [200, 20, 20]);
        assert_eq!(f.pixel(319, 2), [0, 0, 0]);
        // Some text pixels are white.
        assert!(f.data.chunks(3).any(|p| p == [255, 255, 255]));
        // Tiny frames and empty scores draw without panicking.
        let mut tiny = Frame::new(8, 8);
        draw_overlay(&mut tiny, &info);
        draw_overlay(&mut f, &OverlayInfo::default());
    }
}
