//! Resize, crop, flip and normalise.
