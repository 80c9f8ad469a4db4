//! motus-device: the runtime that ships to the board.
//!
//! A camera (V4L2, nokhwa, a file, an RTSP stream or the synthetic scene) fills a lock-free
//! frame ring; the pipeline computes flow and classifies windows with `motus-core`; alert rules
//! turn scores into alerts, which durable sinks (file, webhook, MQTT) deliver; the overlay,
//! metrics and the watchdog show that it is alive. `motus run` and `motus demo` drive it.
//!
//! Architecture invariant: this crate depends on `motus-core` and never on the host tools
//! (`motus-lab`) or the trainer, so the board's binary carries none of their code
//! (checked in CI with `cargo tree`, see ARCHITECTURE.md).
//!
//! - [`runtime`]: configuration, sources, capture, the pipeline, sinks, display, liveness;
//! - [`alert`]: alert records, rules, smoothing and the durable outbox;
//! - [`memory`], [`tract_isa`]: process settings made before any thread starts (allocator
//!   tuning, tract's kernel choice).

pub mod alert;
pub mod memory;
pub mod runtime;
pub mod tract_isa;
