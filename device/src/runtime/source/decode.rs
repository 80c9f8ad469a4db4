//! Camera pixel formats to the RGB8 frame: packed YUYV 4:2:2 and MJPEG. Kept apart from the
//! V4L2 code so it is built and tested on every machine, camera or not.

use image::codecs::jpeg::JpegDecoder;
use image::{ColorType, ImageDecoder};

use motus_core::frame::Frame;
use motus_core::media::yuv::yuv_to_rgb;

/// Why a camera buffer could not become a frame.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("YUYV buffer of {got} bytes for {width}x{height} (expected at least {expected})")]
    ShortYuyv { width: u32, height: u32, got: usize, expected: usize },
    #[error("YUYV width {0} is odd")]
    OddWidth(u32),
    #[error("corrupt MJPEG frame: {0}")]
    Jpeg(String),
    #[error("MJPEG frame is {got_w}x{got_h}, the stream was negotiated at {width}x{height}")]
    JpegSize { width: u32, height: u32, got_w: u32, got_h: u32 },
}

/// Converts a YUYV (Y0 U Y1 V) buffer with `stride` bytes per row into `frame`.
pub fn yuyv_to_rgb(src: &[u8], width: u32, height: u32, stride: usize, frame: &mut Frame) -> Result<(), DecodeError> {
    if !width.is_multiple_of(2) {
        return Err(DecodeError::OddWidth(width));
    }
    let row = width as usize * 2;
    let stride = stride.max(row);
    let expected = stride * (height as usize).saturating_sub(1) + row;
    if height == 0 || src.len() < expected {
        return Err(DecodeError::ShortYuyv { width, height, got: src.len(), expected });
    }
    frame.reshape(width, height);
    for y in 0..height as usize {
        let s = &src[y * stride..y * stride + row];
        let d = &mut frame.data[y * width as usize * 3..(y + 1) * width as usize * 3];
        for (q, out) in s.chunks_exact(4).zip(d.chunks_exact_mut(6)) {
            out[..3].copy_from_slice(&yuv_to_rgb(q[0], q[1], q[3]));
            out[3..].copy_from_slice(&yuv_to_rgb(q[2], q[1], q[3]));
        }
    }
    Ok(())
}

/// Decodes one MJPEG frame into `frame`; the frame must have the negotiated size.
pub fn mjpeg_to_rgb(src: &[u8], width: u32, height: u32, frame: &mut Frame) -> Result<(), DecodeError> {
    let dec = JpegDecoder::new(std::io::Cursor::new(src)).map_err(|e| DecodeError::Jpeg(e.to_string()))?;
    let (w, h) = dec.dimensions();
    if (w, h) != (width, height) {
        return Err(DecodeError::JpegSize { width, height, got_w: w, got_h: h });
    }
    let color = dec.color_type();
    frame.reshape(w, h);
    match color {
        ColorType::Rgb8 => dec.read_image(&mut frame.data).map_err(|e| DecodeError::Jpeg(e.to_string()))?,
        ColorType::L8 => {
            let n = w as usize * h as usize;
            // Decode the grey plane into the frame's tail, then spread it forwards.
            dec.read_image(&mut frame.data[2 * n..]).map_err(|e| DecodeError::Jpeg(e.to_string()))?;
            for i in 0..n {
                let g = frame.data[2 * n + i];
                frame.data[3 * i..3 * i + 3].fill(g);
            }
        }
        other => return Err(DecodeError::Jpeg(format!("unsupported JPEG colour type {other:?}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_grey_and_padding() {
        // 4x2, stride 10 (2 bytes of padding per row); mid grey Y=126, U=V=128.
        let mut buf = vec![0u8; 10 * 2];
        for y in 0..2 {
            for q in 0..2 {
                buf[y * 10 + q * 4..y * 10 + q * 4 + 4].copy_from_slice(&[126, 128, 126, 128]);
            }
        }
        let mut f = Frame::new(1, 1);
        yuyv_to_rgb(&buf, 4, 2, 10, &mut f).unwrap();
        assert_eq!((f.width, f.height), (4, 2));
        let p = f.pixel(3, 1);
        assert!(p.iter().all(|&c| (c as i32 - p[0] as i32).abs() <= 1) && (120..=135).contains(&p[0]), "{p:?}");
        assert!(matches!(yuyv_to_rgb(&buf[..15], 4, 2, 10, &mut f), Err(DecodeError::ShortYuyv { .. })));
        assert_eq!(yuyv_to_rgb(&buf, 3, 2, 10, &mut f), Err(DecodeError::OddWidth(3)));
    }

    #[test]
    fn mjpeg_decodes_and_corrupt_frames_are_errors() {
        let mut img = image::RgbImage::new(16, 8);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([if x < 8 { 250 } else { 10 }, 100, 50]);
        }
        let mut jpg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 95).encode_image(&img).unwrap();
        let mut f = Frame::new(16, 8);
        mjpeg_to_rgb(&jpg, 16, 8, &mut f).unwrap();
        assert!(f.pixel(2, 2)[0] > 200 && f.pixel(13, 2)[0] < 60, "{:?} {:?}", f.pixel(2, 2), f.pixel(13, 2));
        assert!(matches!(mjpeg_to_rgb(&jpg, 32, 8, &mut f), Err(DecodeError::JpegSize { .. })));
        // A truncated frame and garbage are errors, never panics.
        assert!(mjpeg_to_rgb(&jpg[..jpg.len() / 3], 16, 8, &mut f).is_err());
        assert!(mjpeg_to_rgb(b"\xff\xd8garbage", 16, 8, &mut f).is_err());
        assert!(mjpeg_to_rgb(&[], 16, 8, &mut f).is_err());
    }
}
