//! V4L2 cameras through the `v4l` crate: mmap streaming, YUYV or MJPEG negotiated with the
//! driver (the requested size and rate are what we ask for; the driver's answer is what we
//! use and log). A vanished device surfaces as [`SourceError::Device`], which the capture
//! thread answers by re-opening with backoff; a corrupt MJPEG frame is a
//! [`SourceError::BadFrame`] and is skipped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use v4l::buffer::Type;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::capture::Parameters;
use v4l::video::Capture;
use v4l::{Device, FourCC};

use super::decode::{mjpeg_to_rgb, yuyv_to_rgb};
use super::{FrameSource, SourceError};
use motus_core::frame::Frame;
use motus_core::media::VideoInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pixels {
    Yuyv,
    Mjpeg,
}

/// An open, streaming V4L2 capture device.
pub struct V4l2Source {
    // The stream must drop before the device; field order does that.
    stream: Stream<'static>,
    _dev: Device,
    name: String,
    pixels: Pixels,
    width: u32,
    height: u32,
    stride: usize,
    fps: f64,
    start: Instant,
}

fn dev_err(path: &Path, what: &str, e: std::io::Error) -> SourceError {
    SourceError::Device { source_name: path.display().to_string(), msg: format!("{what}: {e}") }
}

impl V4l2Source {
    /// Opens `path`, negotiates YUYV (preferred: no decode cost) or MJPEG at about
    /// `width × height` and `fps`, and starts mmap streaming with 4 buffers.
    pub fn open(path: &PathBuf, width: u32, height: u32, fps: f64) -> Result<Self, SourceError> {
        let dev = Device::with_path(path).map_err(|e| dev_err(path, "open", e))?;
        let offered = dev.enum_formats().map_err(|e| dev_err(path, "listing formats", e))?;
        let has = |c: &[u8; 4]| offered.iter().any(|d| d.fourcc == FourCC::new(c));
        let (pixels, fourcc) = if has(b"YUYV") {
            (Pixels::Yuyv, FourCC::new(b"YUYV"))
        } else if has(b"MJPG") {
            (Pixels::Mjpeg, FourCC::new(b"MJPG"))
        } else {
            let names: Vec<String> = offered.iter().map(|d| d.fourcc.to_string()).collect();
            return Err(SourceError::Device {
                source_name: path.display().to_string(),
                msg: format!("offers neither YUYV nor MJPEG (formats: {})", names.join(", ")),
            });
        };
        let mut fmt = dev.format().map_err(|e| dev_err(path, "reading format", e))?;
        fmt.width = width;
        fmt.height = height;
        fmt.fourcc = fourcc;
        let fmt = dev.set_format(&fmt).map_err(|e| dev_err(path, "setting format", e))?;
        if fmt.fourcc != fourcc {
            return Err(SourceError::Device {
                source_name: path.display().to_string(),
                msg: format!("driver refused {fourcc} (gave {})", fmt.fourcc),
            });
        }
        let params = dev
            .set_params(&Parameters::with_fps(fps.round().max(1.0) as u32))
            .map_err(|e| dev_err(path, "setting frame rate", e))?;
        let got_fps = if params.interval.numerator > 0 {
            params.interval.denominator as f64 / params.interval.numerator as f64
        } else {
            fps
        };
        if (fmt.width, fmt.height) != (width, height) || (got_fps - fps).abs() > 0.5 {
            log::info!(
                "v4l2 {}: asked {width}x{height} at {fps} fps, driver gave {}x{} at {got_fps:.2} fps",
                path.display(),
                fmt.width,
                fmt.height
            );
        }
        let mut stream =
            Stream::with_buffers(&dev, Type::VideoCapture, 4).map_err(|e| dev_err(path, "mapping buffers", e))?;
        stream.set_timeout(Duration::from_secs(2));
        Ok(V4l2Source {
            stream,
            _dev: dev,
            name: path.display().to_string(),
            pixels,
            width: fmt.width,
            height: fmt.height,
            stride: fmt.stride as usize,
            fps: got_fps,
            start: Instant::now(),
        })
    }
}

impl FrameSource for V4l2Source {
    fn name(&self) -> &str {
        &self.name
    }

    fn info(&self) -> VideoInfo {
        VideoInfo { width: self.width, height: self.height, fps: self.fps, frame_count: None }
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, SourceError> {
        let (buf, meta) = self
            .stream
            .next()
            .map_err(|e| SourceError::Device { source_name: self.name.clone(), msg: format!("capture: {e}") })?;
        let used = (meta.bytesused as usize).min(buf.len());
        let data = &buf[..used];
        let r = match self.pixels {
            Pixels::Yuyv => yuyv_to_rgb(data, self.width, self.height, self.stride, frame),
            Pixels::Mjpeg => mjpeg_to_rgb(data, self.width, self.height, frame),
        };
        r.map_err(|e| SourceError::BadFrame { source_name: self.name.clone(), msg: e.to_string() })?;
        frame.timestamp = self.start.elapsed();
        Ok(true)
    }

    fn is_live(&self) -> bool {
        true
    }
}
