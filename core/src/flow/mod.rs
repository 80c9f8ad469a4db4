//! Optical flow for the temporal stream: the flow field type, `.flo` I/O, the colour
//! visualisation, the model-input encoding, TV-L1 parameters, the CPU TV-L1 engine and its GPU port, and the
//! Middlebury evaluation that keeps its accuracy honest.
//!
//! Everything that computes flow sits behind [`FlowEngine`], so the trainer, the evaluator and
//! the device runtime pick a backend (CPU or wgpu) without changing their code.

#![warn(missing_docs)]

pub mod backend;
pub mod config;
pub mod encode;
mod error;
pub mod eval;
pub mod field;
pub mod flo;
pub mod gpu;
mod kernels;
mod par;
pub mod params;
pub mod store;
pub mod tvl1;
pub mod vis;

#[cfg(test)]
mod tests;

pub use backend::{make_engine, Backend};
pub use config::{FlowConfig, FlowMismatch};
pub use error::FlowError;
pub use eval::{evaluate_middlebury, MiddleburyReport};
pub use field::FlowField;
pub use gpu::TvL1Gpu;
pub use params::{DataTerm, Interpolation, StructureTexture, TvL1Params};
pub use tvl1::TvL1Cpu;

use crate::frame::Frame;

/// Smallest frame side accepted by the flow engines: below this a pyramid cannot be built
/// and the boundary handling dominates the estimate.
pub const MIN_FRAME_SIDE: u32 = 16;

/// A dense optical-flow backend (CPU TV-L1, GPU TV-L1): computes the flow from frame
/// `a` to frame `b`. Implementations keep their buffers between calls, hence `&mut self`.
pub trait FlowEngine {
    /// A short name for logs and reports (backend and settings that matter).
    fn name(&self) -> &str;

    /// Computes the flow into a reused field (resized as needed), so a steady stream of
    /// same-sized pairs allocates nothing.
    fn compute_into(&mut self, a: &Frame, b: &Frame, out: &mut FlowField) -> Result<(), FlowError>;

    /// Computes the flow from `a` to `b` into a new field.
    fn compute(&mut self, a: &Frame, b: &Frame) -> Result<FlowField, FlowError> {
        let mut out = FlowField::zeros(0, 0);
        self.compute_into(a, b, &mut out)?;
        Ok(out)
    }
}

/// Checks a frame pair before any work: non-empty, buffers matching their sizes, equal sizes,
/// each side at least [`MIN_FRAME_SIDE`].
pub fn check_frames(a: &Frame, b: &Frame) -> Result<(), FlowError> {
    for (which, f) in [("a", a), ("b", b)] {
        if f.width == 0 || f.height == 0 || f.data.is_empty() {
            return Err(FlowError::EmptyFrame { which, width: f.width, height: f.height, bytes: f.data.len() });
        }
        let expected = f.width as usize * f.height as usize * 3;
        if f.data.len() != expected {
            return Err(FlowError::BadFrameBuffer {
                which,
                width: f.width,
                height: f.height,
                bytes: f.data.len(),
                expected,
            });
        }
    }
    if a.width != b.width || a.height != b.height {
        return Err(FlowError::SizeMismatch(a.width, a.height, b.width, b.height));
    }
    if a.width < MIN_FRAME_SIDE || a.height < MIN_FRAME_SIDE {
        return Err(FlowError::TooSmall { width: a.width, height: a.height, min: MIN_FRAME_SIDE });
    }
    Ok(())
}
