//! The model contract: everything a model needs to know about how its inputs were made.
//!
//! Train/serve skew is the classic silent accuracy killer in video models: a model trained on
//! clips of 16 frames at stride 2, resized to 112 px and normalised with ImageNet statistics,
//! gives plausible-looking garbage when the device feeds it anything else. These types are the
//! single description of that contract. The trainer writes them into the model card, and the
//! evaluator and the device read them back and configure their preprocessing from them, so the
//! same numbers flow through every stage.

pub mod card;
mod input;
pub mod ir;
pub mod onnx;
pub mod spec;
#[cfg(test)]
mod tests;

pub use card::{
    AlertBenchmark, Calibration, CardError, CardEvaluation, FloatNode, FlowSpec, ModelCard, QuantizationRecord,
    TensorDecl, TEMPERATURE_RANGE,
};
pub use input::{check_fps, ClipSpec, ContractError, InputSpec, Normalization, MAX_FPS, MIN_FPS};
pub use ir::{Graph, Op, OpKind, ParamSpec};
pub use onnx::{export, read_model, ExportError, ExportOptions, ReadError};
pub use spec::{default_for, ArchSpec, SpecError, ARCH_NAMES};
