//! The trainer's integration tests, in one test binary (libtorch and tract linked once).

mod inspect;
mod parity;
mod train;
