//! The frame every stage passes around: packed RGB8 with its size and capture time.

use std::time::Duration;

/// The most pixels a frame may have: 8K UHD (7680 × 4320, about 100 MB as RGB8). Every reader
/// refuses a larger frame before allocating for it, so a corrupt or hostile header, image or
/// stream cannot make the device reserve gigabytes (once per ring slot in the live path).
pub const MAX_PIXELS: u64 = 7680 * 4320;

/// Whether a `width × height` frame is within [`MAX_PIXELS`].
pub fn size_is_allowed(width: u32, height: u32) -> bool {
    width as u64 * height as u64 <= MAX_PIXELS
}

/// One decoded picture: tightly packed RGB8 rows (`width * 3` bytes each), no padding.
///
/// Packed RGB8 is what every reader can produce, what image files store and what the
/// preprocessing consumes; one layout everywhere avoids per-stage conversions. The buffer is a
/// plain `Vec` so sources can reuse a frame (`VideoReader::read_into`) without allocating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Presentation time from the start of the stream.
    pub timestamp: Duration,
    pub data: Vec<u8>,
}

impl Frame {
    /// A black frame, for sources that fill a reused buffer.
    pub fn new(width: u32, height: u32) -> Self {
        Frame { width, height, timestamp: Duration::ZERO, data: vec![0; width as usize * height as usize * 3] }
    }

    /// Wraps existing RGB8 bytes; `None` when the length does not match the size, so a
    /// mis-sized buffer is caught where it is made rather than as an out-of-bounds read later.
    pub fn from_rgb(width: u32, height: u32, data: Vec<u8>) -> Option<Self> {
        (data.len() == width as usize * height as usize * 3).then_some(Frame {
            width,
            height,
            timestamp: Duration::ZERO,
            data,
        })
    }

    /// Resizes the buffer for a new size, keeping its allocation when it is large enough.
    pub fn reshape(&mut self, width: u32, height: u32) {
        self.width = width;
        self.height = height;
        self.data.resize(width as usize * height as usize * 3, 0);
    }

    /// Bytes in one row.
    pub fn stride(&self) -> usize {
        self.width as usize * 3
    }

    /// The RGB triple at `(x, y)`. Panics when out of bounds, like slice indexing.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Converts to an `image` buffer for encoding (PNG, JPEG); copies the bytes.
    pub fn to_image(&self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width, self.height, self.data.clone())
            .expect("frame buffer length matches its size")
    }

    /// Takes an `image` buffer without copying.
    pub fn from_image(img: image::RgbImage) -> Self {
        let (width, height) = img.dimensions();
        Frame { width, height, timestamp: Duration::ZERO, data: img.into_raw() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_rgb_checks_length() {
        assert!(Frame::from_rgb(2, 2, vec![0; 12]).is_some());
        assert!(Frame::from_rgb(2, 2, vec![0; 11]).is_none());
    }

    #[test]
    fn reshape_keeps_allocation() {
        let mut f = Frame::new(8, 8);
        let cap = f.data.capacity();
        f.reshape(4, 4);
        assert_eq!(f.data.len(), 48);
        assert_eq!(f.data.capacity(), cap);
    }

    #[test]
    fn image_round_trip() {
        let mut f = Frame::new(3, 2);
        f.data[3 * 3 + 1] = 200;
        let back = Frame::from_image(f.to_image());
        assert_eq!(back.pixel(0, 1), [0, 200, 0]);
        assert_eq!(back.data, f.data);
    }
}
