//! The device runtime's building blocks: the capture-to-processing frame ring.

pub mod ring;

pub use ring::{frame_ring, CaptureEnd, Captured, ProcessEnd, RingStats};
