//! End-to-end tests across the crates, in one test binary (one link of tract, wgpu and ffmpeg's
//! callers instead of five). Run one group with `cargo test -p motus-e2e --test e2e GROUP::`.

mod bundled_alerts;
mod bundled_int8;
mod bundled_model;
mod frame_rates;
mod pipeline;
