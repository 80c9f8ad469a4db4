use std::path::PathBuf;

/// Why a video could not be read or written. Every variant names the file, so a bad sample in
/// a dataset of thousands can be found and fixed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The bytes do not follow the format (bad header, unknown tag, impossible size).
    #[error("{path}: not a valid {format} file: {reason}")]
    Corrupt { path: PathBuf, format: &'static str, reason: String },
    /// The stream ended inside a frame: the file was cut short.
    #[error("{path}: truncated: frame {frame} ends after {got} of {expected} bytes")]
    Truncated { path: PathBuf, frame: u64, got: usize, expected: usize },
    /// A frame whose size differs from the stream's: every consumer assumes one size.
    #[error("{path}: frame {frame} is {got_w}x{got_h}, expected {want_w}x{want_h} like the first frame")]
    SizeMismatch { path: PathBuf, frame: u64, got_w: u32, got_h: u32, want_w: u32, want_h: u32 },
    /// A numbered frame folder with a hole in its sequence.
    #[error("{path}: missing frame {missing} (expected {expected_name}); the folder has {found} frames numbered up to {last}")]
    MissingFrame { path: PathBuf, missing: u64, expected_name: String, found: u64, last: u64 },
    #[error("{path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    /// ffmpeg is needed for containers but is not installed.
    #[error("{path}: reading or writing this format needs ffmpeg, which was not found on PATH ({source}); install it (Debian: apt-get install ffmpeg) or use Y4M or frame folders")]
    FfmpegMissing { path: PathBuf, source: std::io::Error },
    /// ffmpeg ran and failed; its last stderr lines say why.
    #[error("{path}: ffmpeg failed: {stderr}")]
    Ffmpeg { path: PathBuf, stderr: String },
    #[error("{path}: image: {source}")]
    Image { path: PathBuf, source: image::ImageError },
}

impl MediaError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MediaError::Io { path: path.into(), source }
    }
}
