//! motus-core: what the device and the host share, so that a clip is built from the same
//! pixels by the same code wherever it is used.
//!
//! The device runtime ([`motus-device`]), the host tools (`motus-lab`) and the trainer
//! (`motus-train`) all build on this crate; it depends on no other motus crate except the model
//! contract (`motus-models`). What is here:
//!
//! - [`frame`], [`media`]: RGB frames; video readers and writers (Y4M, frame folders, ffmpeg);
//! - [`preprocess`]: resize, crop and normalisation exactly as the model card asks;
//! - [`flow`], [`gpu`]: optical flow (TV-L1, Farnebäck) on the CPU and in WGSL compute shaders;
//! - [`infer`]: clip assembly and inference through tract, with the card read from the model;
//! - [`retime`]: camera frame rate against the model's frame rate (frame picks, flow plans);
//! - [`synth`], [`truth`]: the synthetic live scene and its ground truth (the demo camera);
//! - [`atomic`], [`digest`], [`names`], [`progress`], [`redact`], [`stats`]: small shared utilities.
//!
//! # Example
//!
//! A synthetic scene, read as any video is read:
//!
//! ```
//! use motus_core::media::VideoReader;
//! use motus_core::synth::SynthVideo;
//!
//! let mut camera = SynthVideo::endless(64, 48, 25.0, 7);
//! let frame = camera.next_frame().unwrap().expect("an endless scene always has a frame");
//! assert_eq!((frame.width, frame.height), (64, 48));
//! ```
//!
//! [`motus-device`]: https://docs.rs/motus-device

pub mod atomic;
pub mod digest;
pub mod flow;
pub mod frame;
pub mod gpu;
pub mod infer;
pub mod media;
pub mod names;
pub mod preprocess;
pub mod progress;
pub mod redact;
pub mod retime;
pub mod stats;
pub mod synth;
pub mod truth;

pub use frame::Frame;
