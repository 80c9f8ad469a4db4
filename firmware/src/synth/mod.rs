//! The synthetic motion benchmark.
