//! Post-training INT8 quantization of motus models.
//!
//! The device runs on boards whose int8 dot-product units (ARM `sdot`) are several times
//! faster than their f32 paths, and an int8 model is a quarter of the size to flash. This crate
//! is the graph side of `motus quant`; running models (calibration, the accuracy guard) is the
//! `motus` crate's job, because it owns tract and the clip preprocessing.
//!
//! - [`affine`](QuantParams): `real = scale · (q − zero_point)`; symmetric per-channel s8
//!   weights, asymmetric u8 activations, i32 biases at scale `s_x · s_w`.
//! - [`observer`]: min-max, percentile and entropy (KL) ranges from calibration values.
//! - [`analyze()`]: which nodes become int8 (Conv, Gemm, MatMul with constant weights; a ReLU
//!   they feed alone is fused), which stay float and why; refuses already-quantized models.
//! - [`quantize()`]: the rewrite into `qoperator`, `qdq` or `weights` form ([`Format`]).
//! - [`tap_outputs`]: a copy of the float model that also outputs the values calibration
//!   observes.

mod affine;
pub mod analyze;
pub mod observer;
pub mod rewrite;
pub mod tensor;

pub use affine::{per_channel_symmetric, QType, QuantError, QuantParams};
pub use analyze::{analyze, ensure_float_model, Analysis, Candidate, CandidateKind};
pub use observer::{ObserveError, Observer, ObserverKind, ObserverParseError};
pub use rewrite::{quantize, Format, Options, Quantized, UnknownFormat};

use motus_models::onnx::proto::{ModelProto, ValueInfoProto};

/// Why a model cannot be quantized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantizeError {
    #[error("the model is already quantized ({0}); quantize its float source instead")]
    AlreadyQuantized(String),
    #[error("the model has no graph")]
    NoGraph,
    #[error("the model's opset is {0}; int8 forms with per-channel scales need opset 13 or later")]
    Opset(i64),
    #[error("no calibration range for value {0:?}")]
    MissingRange(String),
    #[error("calibration range of value {value:?} is unusable: {reason}")]
    BadRange { value: String, reason: String },
    #[error("weights: {0}")]
    Weights(String),
    #[error("node {name:?} is not a quantizable node of this model (candidates: {candidates})")]
    UnknownNode { name: String, candidates: String },
    #[error("internal quantizer error: {0}")]
    Internal(String),
}

/// A copy of `m` whose outputs are its own followed by `values` (intermediate values to
/// observe). Types are left to the runtime's inference.
pub fn tap_outputs(m: &ModelProto, values: &[String]) -> ModelProto {
    let mut t = m.clone();
    if let Some(g) = t.graph.as_mut() {
        for v in values {
            if !g.output.iter().any(|o| &o.name == v) {
                g.output.push(ValueInfoProto { name: v.clone(), ..Default::default() });
            }
        }
    }
    t
}

/// Calibration state: one observer per value, fed clip by clip.
#[derive(Debug, Clone)]
pub struct Calibration {
    values: Vec<String>,
    observers: Vec<Observer>,
    clips: usize,
}

impl Calibration {
    pub fn new(values: Vec<String>, kind: ObserverKind) -> Self {
        let observers = values.iter().map(|_| Observer::new(kind)).collect();
        Calibration { values, observers, clips: 0 }
    }

    /// The values observed, in the order [`Calibration::observe`] expects them.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Clips seen so far.
    pub fn clips(&self) -> usize {
        self.clips
    }

    /// Adds one clip: the values of every observed tensor, in [`Calibration::values`] order.
    pub fn observe<'a>(&mut self, tensors: impl IntoIterator<Item = &'a [f32]>) -> Result<(), CalibrationError> {
        let mut n = 0;
        for (o, t) in self.observers.iter_mut().zip(tensors) {
            o.observe(t);
            n += 1;
        }
        if n != self.values.len() {
            return Err(CalibrationError::TensorCount { given: n, observed: self.values.len() });
        }
        self.clips += 1;
        Ok(())
    }

    /// Each value's range; refuses an empty calibration and names a value without a range.
    pub fn ranges(&self) -> Result<std::collections::HashMap<String, (f32, f32)>, CalibrationError> {
        if self.clips == 0 {
            return Err(CalibrationError::Empty);
        }
        self.values
            .iter()
            .zip(&self.observers)
            .map(|(v, o)| {
                o.range().map(|r| (v.clone(), r)).map_err(|e| CalibrationError::Value { value: v.clone(), source: e })
            })
            .collect()
    }
}

/// Why calibration gave no ranges.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    #[error("the calibration set is empty: no clip was observed")]
    Empty,
    #[error("value {value:?}: {source}")]
    Value { value: String, source: ObserveError },
    #[error("{given} tensors given for {observed} observed values")]
    TensorCount { given: usize, observed: usize },
}

#[cfg(test)]
mod tests;
