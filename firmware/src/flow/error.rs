//! The one error type of the flow module, so callers handle file, frame and parameter
//! problems uniformly.

use std::path::PathBuf;

/// Everything that can go wrong producing, reading or writing flow. Every variant names the
/// file or the frames involved and what was expected, so a log line is enough to act on.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a Middlebury .flo file (magic {found} instead of 202021.25)")]
    BadMagic { path: PathBuf, found: f32 },
    #[error("{path}: truncated .flo file ({found} bytes, {expected} expected for its header)")]
    Truncated { path: PathBuf, expected: u64, found: u64 },
    #[error("{path}: .flo file has extra data ({found} bytes, {expected} expected)")]
    TrailingData { path: PathBuf, expected: u64, found: u64 },
    #[error("{path}: absurd .flo size {width}x{height} (each side must be 1..={max})")]
    AbsurdSize { path: PathBuf, width: i64, height: i64, max: u32 },
    #[error("{path}: NaN flow at pixel ({x}, {y}); only the unknown marker (|value| > 1e9) is allowed")]
    NonFinite { path: PathBuf, x: u32, y: u32 },
    #[error("{path}: cannot read image: {message}")]
    Image { path: PathBuf, message: String },
    #[error("flow field is inconsistent: {0}")]
    BadField(String),
    #[error("frames differ in size: first {0}x{1}, second {2}x{3}")]
    SizeMismatch(u32, u32, u32, u32),
    #[error("frame {which} is empty ({width}x{height}, {bytes} bytes)")]
    EmptyFrame { which: &'static str, width: u32, height: u32, bytes: usize },
    #[error("frame {which}: {bytes} bytes for {width}x{height} RGB8 ({expected} expected)")]
    BadFrameBuffer { which: &'static str, width: u32, height: u32, bytes: usize, expected: usize },
    #[error("frames {width}x{height} are too small for the flow pyramid (each side must be >= {min})")]
    TooSmall { width: u32, height: u32, min: u32 },
    #[error("invalid flow parameters: {0}")]
    InvalidParams(String),
    #[error("no Middlebury sequence with ground truth found in {0}")]
    NoSequences(PathBuf),
}
