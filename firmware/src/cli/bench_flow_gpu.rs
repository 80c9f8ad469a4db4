//! The GPU part of `motus bench flow`.

use motus::Frame;
use serde_json::Value;

/// Times the wgpu engine: single pairs (upload + compute + readback) and batched pairs/s.
pub fn measure_gpu(_pairs: &[(Frame, Frame)], _reps: usize) -> anyhow::Result<Value> {
    anyhow::bail!("the GPU flow backend is not built into this binary yet")
}
