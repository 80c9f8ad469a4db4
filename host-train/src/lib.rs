//! motus-train as a library: the libtorch interpreter of the model IR, checkpoints and export,
//! shared by the `motus-train` command and its tests.

pub mod bench;
pub mod checkpoint;
pub mod evaluate;
pub mod experiment;
pub mod export;
pub mod inflate;
pub mod net;
pub mod train;

pub use checkpoint::Checkpoint;
pub use net::IrNet;
