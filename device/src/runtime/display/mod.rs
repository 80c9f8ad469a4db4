//! What the runtime shows: the overlay drawn onto frames, PNG snapshots saved with alerts, the
//! MJPEG-over-HTTP preview, and the Linux framebuffer.

pub mod fb;
pub mod overlay;
pub mod preview;
pub mod snapshot;

pub use overlay::{draw_overlay, OverlayInfo};
