//! The `motus` command as users run it: real processes, real files. One test binary for the
//! crate, so tract and wgpu are linked once; `tract_isa` is the other binary, because it edits
//! its process's environment. The commands under test include the host tools, so these tests
//! need the default `lab` feature (the device-only build is tested under qemu by
//! `deploy/tests/run.sh`).
#![cfg(feature = "lab")]

mod eval;
mod ffmpeg_io;
mod flow;
mod golden;
mod info;
mod quant;
mod run;
mod tools;
