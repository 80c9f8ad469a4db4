//! motus-lab: the host tools, without libtorch.
//!
//! Everything a workstation does with videos and exported models short of training: dataset
//! lists and clip sampling ([`dataset`]), the synthetic benchmark writer ([`benchmark`]), the
//! offline evaluator ([`eval`]), the int8 quantizer runner ([`quantize`]) and the scoring of
//! live runs and replays against ground truth ([`live`]). The `motus` binary exposes them
//! behind its `lab` feature; the trainer reads datasets and metrics from here.
//!
//! Architecture invariant: this crate may drive the device runtime (`motus-device`, for the
//! live benches) but never links libtorch; nothing on the device side depends on it.

pub mod benchmark;
pub mod dataset;
pub mod eval;
pub mod live;
pub mod quantize;
