//! The synthetic motion benchmark as files: whole datasets in the layout real datasets use
//! ([`write_dataset`]: videos, `classInd.txt`, MMAction2 split lists, long-video ground truth)
//! and a contact sheet to check the generator by eye ([`contact_sheet`]). The scenes
//! themselves are `motus_core::synth`, which the device's demo camera also renders.

mod sheet;
#[cfg(test)]
mod tests;
mod writer;

pub use sheet::contact_sheet;
pub use writer::{write_dataset, SynthSummary};
