//! tract runner (stub)
