//! Frame sources behind one trait, so the capture thread treats a camera, a stream, a file
//! and the synthetic scene alike: the synthetic live scene (with its ground truth), files in
//! any format `media` reads (paced like a camera or as fast as possible), RTSP/HTTP through
//! ffmpeg, V4L2 cameras (`--features v4l`) and nokhwa cameras (`--features nokhwa`).

pub mod decode;
pub mod file;
#[cfg(feature = "nokhwa")]
pub mod nokhwa_cam;
pub mod pace;
pub mod synthetic;
#[cfg(feature = "v4l")]
pub mod v4l2;

use std::sync::{Arc, Mutex};

use super::config::SourceConfig;
use motus_core::frame::Frame;
use motus_core::media::{MediaError, VideoInfo};
use motus_core::truth::GroundTruth;

/// Why a source could not open or deliver a frame.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{source_name}: {err}")]
    Media { source_name: String, err: MediaError },
    /// The device is gone or refused to stream (unplugged camera, dropped connection).
    #[error("{source_name}: {msg}")]
    Device { source_name: String, msg: String },
    /// One frame could not be decoded (e.g. a corrupt MJPEG frame); the stream goes on.
    #[error("{source_name}: bad frame: {msg}")]
    BadFrame { source_name: String, msg: String },
    #[error("{0}")]
    Unsupported(String),
}

impl SourceError {
    /// Whether the stream itself is still usable after this error (only one frame was bad).
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::BadFrame { .. })
    }
}

/// A stream of frames. `read_into` fills a pooled buffer (resizing it if needed), returns
/// `Ok(false)` at the end of the stream; a live source's end means it disconnected.
pub trait FrameSource: Send {
    /// The source as named in logs and alert records.
    fn name(&self) -> &str;
    /// Size and rate.
    fn info(&self) -> VideoInfo;
    /// Reads the next frame into `frame`; its `timestamp` is the time since the stream began.
    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, SourceError>;
    /// Whether the source is live (a camera or stream: reconnect when it ends) rather than a
    /// file that simply finishes.
    fn is_live(&self) -> bool;
    /// Whether the capture thread may wait for the processor instead of dropping frames: true
    /// for a file read as fast as possible (an offline run wants every frame), false for
    /// cameras, streams and paced files, which must not stall.
    fn may_wait(&self) -> bool {
        false
    }
}

/// Opens (and, after a failure, re-opens) a source: the capture thread's reconnect handle.
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn FrameSource>, SourceError> + Send>;

/// Ground truth of the synthetic source, shared with whoever scores the alerts.
pub type SharedTruth = Arc<Mutex<GroundTruth>>;

/// Builds the opener for a configured source, plus the ground truth handle for the
/// synthetic scene.
pub fn opener(cfg: &SourceConfig) -> Result<(Opener, Option<SharedTruth>), SourceError> {
    match cfg.clone() {
        SourceConfig::Synthetic { width, height, fps, seed, pace, frames } => {
            let truth: SharedTruth =
                Arc::new(Mutex::new(GroundTruth { width, height, fps, frames: 0, segments: vec![] }));
            let t = truth.clone();
            let mut opened = false;
            Ok((
                Box::new(move || {
                    if opened {
                        // The scene is deterministic: re-opening would replay it from the start
                        // and contradict the ground truth recorded so far.
                        return Err(SourceError::Unsupported("synthetic: the scene cannot restart".into()));
                    }
                    opened = true;
                    let src =
                        synthetic::SyntheticSource::new(width, height, fps, seed, t.clone()).with_frame_limit(frames);
                    Ok(match pace {
                        super::config::Pace::Realtime => Box::new(pace::Paced::new(src)) as Box<dyn FrameSource>,
                        super::config::Pace::Fast => Box::new(src.unpaced()),
                    })
                }),
                Some(truth),
            ))
        }
        SourceConfig::File { path, pace, looping } => Ok((
            Box::new(move || {
                let src = file::FileSource::open(&path, looping)?;
                Ok(match pace {
                    super::config::Pace::Realtime => Box::new(pace::Paced::new(src)) as Box<dyn FrameSource>,
                    super::config::Pace::Fast => Box::new(src),
                })
            }),
            None,
        )),
        SourceConfig::Stream { url, io_timeout_s } => {
            let timeout = std::time::Duration::from_secs_f64(io_timeout_s);
            Ok((Box::new(move || Ok(Box::new(file::FileSource::stream(&url, timeout)?) as Box<dyn FrameSource>)), None))
        }
        #[cfg(feature = "v4l")]
        SourceConfig::V4l2 { device, width, height, fps } => Ok((
            Box::new(
                move || Ok(Box::new(v4l2::V4l2Source::open(&device, width, height, fps)?) as Box<dyn FrameSource>),
            ),
            None,
        )),
        #[cfg(not(feature = "v4l"))]
        SourceConfig::V4l2 { device, .. } => Err(SourceError::Unsupported(format!(
            "{}: V4L2 cameras need a build with `--features v4l`",
            device.display()
        ))),
        #[cfg(feature = "nokhwa")]
        SourceConfig::Nokhwa { index, width, height, fps } => Ok((
            Box::new(move || {
                Ok(Box::new(nokhwa_cam::NokhwaSource::open(index, width, height, fps)?) as Box<dyn FrameSource>)
            }),
            None,
        )),
        #[cfg(not(feature = "nokhwa"))]
        SourceConfig::Nokhwa { index, .. } => Err(SourceError::Unsupported(format!(
            "nokhwa:{index}: nokhwa cameras need a build with `--features nokhwa`"
        ))),
    }
}
