//! Live runs scored against ground truth: a pipeline run on the synthetic scene
//! ([`score`]), and recorded window scores replayed through other alert settings
//! ([`replay`]). The benches (`motus bench pipeline`, `motus bench replay`) use them.

pub mod replay;
pub mod score;
