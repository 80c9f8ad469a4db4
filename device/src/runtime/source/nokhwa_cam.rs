//! Cameras through `nokhwa` (its native backend; never `output-wgpu`). nokhwa's camera is not
//! `Send`, so it lives on its own thread and hands raw buffers over a bounded channel; the
//! pixels are decoded here with the same YUYV/MJPEG code as the V4L2 source (nokhwa's own
//! decoders are left out to keep the build lean).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution};
use nokhwa::Camera;

use super::decode::{mjpeg_to_rgb, yuyv_to_rgb};
use super::{FrameSource, SourceError};
use motus_core::frame::Frame;
use motus_core::media::VideoInfo;

enum Msg {
    Frame(Vec<u8>, FrameFormat),
    Error(String),
}

/// A nokhwa camera read on its own thread.
pub struct NokhwaSource {
    rx: Receiver<Msg>,
    name: String,
    width: u32,
    height: u32,
    fps: f64,
    start: Instant,
}

impl NokhwaSource {
    /// Opens camera `index` at about `width × height` and `fps` (the closest format the camera
    /// offers), and starts streaming.
    pub fn open(index: u32, width: u32, height: u32, fps: f64) -> Result<Self, SourceError> {
        let name = format!("nokhwa:{index}");
        let (info_tx, info_rx) = mpsc::channel();
        let (tx, rx) = mpsc::sync_channel(2);
        let want = CameraFormat::new(Resolution::new(width, height), FrameFormat::MJPEG, fps.round().max(1.0) as u32);
        let n = name.clone();
        std::thread::Builder::new()
            .name("motus-nokhwa".into())
            .spawn(move || {
                let req = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(want));
                let mut cam =
                    match Camera::new(CameraIndex::Index(index), req).and_then(|mut c| c.open_stream().map(|_| c)) {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = info_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                let f = cam.camera_format();
                let _ = info_tx.send(Ok((f.width(), f.height(), f.frame_rate() as f64)));
                loop {
                    let msg = match cam.frame() {
                        Ok(b) => Msg::Frame(b.buffer().to_vec(), b.source_frame_format()),
                        Err(e) => Msg::Error(e.to_string()),
                    };
                    let fatal = matches!(msg, Msg::Error(_));
                    if tx.send(msg).is_err() || fatal {
                        break;
                    }
                }
                log::debug!("{n}: capture thread ends");
            })
            .map_err(|e| SourceError::Device { source_name: name.clone(), msg: format!("thread: {e}") })?;
        let (w, h, f) = info_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| SourceError::Device {
                source_name: name.clone(),
                msg: "camera did not open within 10 s".into(),
            })?
            .map_err(|msg| SourceError::Device { source_name: name.clone(), msg })?;
        if (w, h) != (width, height) {
            log::info!("{name}: asked {width}x{height}, camera gave {w}x{h} at {f} fps");
        }
        Ok(NokhwaSource { rx, name, width: w, height: h, fps: f, start: Instant::now() })
    }
}

impl FrameSource for NokhwaSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn info(&self) -> VideoInfo {
        VideoInfo { width: self.width, height: self.height, fps: self.fps, frame_count: None }
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, SourceError> {
        let dev = |msg: String| SourceError::Device { source_name: self.name.clone(), msg };
        let (data, fmt) = match self.rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Msg::Frame(d, f)) => (d, f),
            Ok(Msg::Error(e)) => return Err(dev(e)),
            Err(RecvTimeoutError::Timeout) => return Err(dev("no frame for 5 s".into())),
            Err(RecvTimeoutError::Disconnected) => return Err(dev("camera thread ended".into())),
        };
        let r = match fmt {
            FrameFormat::YUYV => yuyv_to_rgb(&data, self.width, self.height, self.width as usize * 2, frame),
            FrameFormat::MJPEG => mjpeg_to_rgb(&data, self.width, self.height, frame),
            other => return Err(dev(format!("pixel format {other} is not supported (YUYV or MJPEG)"))),
        };
        r.map_err(|e| SourceError::BadFrame { source_name: self.name.clone(), msg: e.to_string() })?;
        frame.timestamp = self.start.elapsed();
        Ok(true)
    }

    fn is_live(&self) -> bool {
        true
    }
}
