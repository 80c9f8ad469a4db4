//! Post-training INT8 quantization of motus models.
//!
//! The device runs on boards whose int8 dot-product units (ARM `sdot`) are several times
//! faster than their f32 paths, and an int8 model is a quarter of the size to flash. This crate
//! turns calibrated value ranges into the affine mappings ONNX's QuantizeLinear /
//! QLinearConv expect: `real = scale * (q - zero_point)`.

mod affine;

pub use affine::{per_channel_symmetric, QType, QuantError, QuantParams};
