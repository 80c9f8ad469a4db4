//! Reading and writing video: Y4M, image-frame folders and, through ffmpeg, any container.
//!
//! Every consumer (the trainer, the evaluator, the device) decodes through this module, so a
//! clip is made of the same pixels whichever tool made it.

mod error;
pub mod ffmpeg;
pub mod frames_dir;
pub mod y4m;
pub mod yuv;

use std::path::Path;

use crate::frame::Frame;
pub use error::MediaError;

/// What a reader knows about its stream before decoding it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    pub width: u32,
    pub height: u32,
    /// Frames per second; sources without a rate (image folders) report the 25 fps convention
    /// of the datasets that store them.
    pub fps: f64,
    /// Total frames when the container says so up front (folders, Y4M files); `None` for
    /// streams.
    pub frame_count: Option<u64>,
}

/// A source of decoded frames, read in order.
///
/// `read_into` is the primitive so a caller can recycle one buffer across frames (the device's
/// ring of pooled frames allocates nothing per frame); `next_frame` is the convenient form.
pub trait VideoReader: Send {
    /// Size, rate and (when known) length of the stream.
    fn info(&self) -> VideoInfo;

    /// Decodes the next frame into `frame`, resizing its buffer if needed. Returns `Ok(false)`
    /// at a clean end of stream; a stream that ends mid-frame is an error, never a short frame.
    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, MediaError>;

    /// Decodes the next frame into a fresh buffer.
    fn next_frame(&mut self) -> Result<Option<Frame>, MediaError> {
        let info = self.info();
        let mut frame = Frame::new(info.width, info.height);
        Ok(self.read_into(&mut frame)?.then_some(frame))
    }

    /// Decodes the rest of the stream into one reused buffer and returns how many frames it
    /// held: the length of a stream whose header does not say, or a full integrity check.
    fn count_frames(&mut self) -> Result<u64, MediaError> {
        let info = self.info();
        let mut frame = Frame::new(info.width, info.height);
        let mut n = 0;
        while self.read_into(&mut frame)? {
            n += 1;
        }
        Ok(n)
    }

    /// Decodes every remaining frame. Meant for short clips (datasets, tests); live sources
    /// should be read frame by frame.
    fn read_all(&mut self) -> Result<Vec<Frame>, MediaError> {
        let mut frames = Vec::new();
        while let Some(f) = self.next_frame()? {
            frames.push(f);
        }
        Ok(frames)
    }
}

/// A sink of frames, all of one size, written in order.
pub trait VideoWriter {
    /// Appends one frame; its size must match the first frame's.
    fn write_frame(&mut self, frame: &Frame) -> Result<(), MediaError>;
    /// Flushes and closes the output; a writer dropped without `finish` may leave a partial file.
    fn finish(self: Box<Self>) -> Result<(), MediaError>;
}

/// The storage forms motus reads, told apart by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoFormat {
    Y4m,
    /// A directory of `img_00001.jpg` (or `.png`) frames, MMAction2's rawframes layout.
    FramesDir,
    /// Anything else: handed to ffmpeg.
    Container,
}

impl VideoFormat {
    /// Chooses the reader for `path`: directories are frame folders, `.y4m` is read natively,
    /// everything else goes through ffmpeg.
    pub fn of(path: &Path) -> VideoFormat {
        if path.is_dir() {
            VideoFormat::FramesDir
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("y4m")) {
            VideoFormat::Y4m
        } else {
            VideoFormat::Container
        }
    }
}

/// Opens any supported video by its path (see [`VideoFormat::of`]).
pub fn open_video(path: &Path) -> Result<Box<dyn VideoReader>, MediaError> {
    Ok(match VideoFormat::of(path) {
        VideoFormat::Y4m => Box::new(y4m::Y4mReader::open(path)?),
        VideoFormat::FramesDir => Box::new(frames_dir::FramesDirReader::open(path)?),
        VideoFormat::Container => Box::new(ffmpeg::FfmpegReader::open(path)?),
    })
}

/// Creates a writer chosen by the output path: `.y4m` natively, a path without extension as a
/// folder of PNG frames, any other extension (`.mp4`, `.mkv`, …) through ffmpeg.
pub fn create_video(path: &Path, width: u32, height: u32, fps: f64) -> Result<Box<dyn VideoWriter>, MediaError> {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()) {
        Some(e) if e == "y4m" => Ok(Box::new(y4m::Y4mWriter::create(path, width, height, fps, y4m::Chroma::C420)?)),
        None => Ok(Box::new(frames_dir::FramesDirWriter::create(path, frames_dir::ImageKind::Png)?)),
        Some(_) => Ok(Box::new(ffmpeg::FfmpegWriter::create(path, width, height, fps)?)),
    }
}
