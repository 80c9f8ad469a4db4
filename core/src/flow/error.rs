//! The one error type of the flow module, so callers handle file, frame and parameter
//! problems uniformly.

use std::path::PathBuf;

/// Everything that can go wrong producing, reading or writing flow. Every variant names the
/// file or the frames involved and what was expected, so a log line is enough to act on.
/// (Fields are described by each variant's message.)
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A `.flo` file does not start with the magic 202021.25.
    #[error("{path}: not a Middlebury .flo file (magic {found} instead of 202021.25)")]
    BadMagic { path: PathBuf, found: f32 },
    /// A `.flo` file ends before its header or its declared data.
    #[error("{path}: truncated .flo file ({found} bytes, {expected} expected)")]
    Truncated { path: PathBuf, expected: u64, found: u64 },
    /// A `.flo` file is longer than its header declares (probably not what it claims to be).
    #[error("{path}: .flo file has extra data ({found} bytes, {expected} expected)")]
    TrailingData { path: PathBuf, expected: u64, found: u64 },
    /// A `.flo` header declares a non-positive or huge size.
    #[error("{path}: absurd .flo size {width}x{height} (each side must be 1..={max})")]
    AbsurdSize { path: PathBuf, width: i64, height: i64, max: u32 },
    /// A `.flo` file holds NaN (the only non-finite values allowed are the ±inf / >1e9 marker).
    #[error("{path}: NaN flow at pixel ({x}, {y}); only the unknown marker (|value| > 1e9) is allowed")]
    NonFinite { path: PathBuf, x: u32, y: u32 },
    /// An image could not be decoded or encoded.
    #[error("{path}: image error: {message}")]
    Image { path: PathBuf, message: String },
    /// A flow field (or a stack of them) is inconsistent with its declared size.
    #[error("flow field is inconsistent: {0}")]
    BadField(String),
    /// The two frames of a pair differ in size (first w×h, second w×h).
    #[error("frames differ in size: first {0}x{1}, second {2}x{3}")]
    SizeMismatch(u32, u32, u32, u32),
    /// A frame has no pixels.
    #[error("frame {which} is empty ({width}x{height}, {bytes} bytes)")]
    EmptyFrame { which: &'static str, width: u32, height: u32, bytes: usize },
    /// A frame's buffer length does not match its size.
    #[error("frame {which}: {bytes} bytes for {width}x{height} RGB8 ({expected} expected)")]
    BadFrameBuffer { which: &'static str, width: u32, height: u32, bytes: usize, expected: usize },
    /// Frames are smaller than the engine accepts ([`super::MIN_FRAME_SIDE`]).
    #[error("frames {width}x{height} are too small for the flow pyramid (each side must be >= {min})")]
    TooSmall { width: u32, height: u32, min: u32 },
    /// Parameters out of range; the message names the field and the valid range.
    #[error("invalid flow parameters: {0}")]
    InvalidParams(String),
    /// An evaluation folder holds no sequence with frames and ground truth.
    #[error("no Middlebury sequence with ground truth found in {0}")]
    NoSequences(PathBuf),
    /// No usable GPU (no Vulkan adapter, device lost, readback failed).
    #[error("GPU flow: {0}")]
    Gpu(#[from] crate::gpu::GpuError),
    /// The GPU rejected a kernel, buffer or command of the GPU flow engine; the message names
    /// the step and the adapter.
    #[error("GPU flow setup failed: {0}")]
    GpuSetup(String),
    /// The frames need more memory in one storage buffer than the GPU allows.
    #[error("frames {width}x{height} need {needed} bytes of GPU storage in one buffer; {adapter} allows {limit} (use smaller frames or the CPU engine)")]
    GpuTooLarge { width: u32, height: u32, needed: u64, limit: u64, adapter: String },
}
