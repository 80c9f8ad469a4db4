//! Writes an untrained (random-weight) model with a complete card, labelled with the synthetic
//! benchmark's 12 classes, so `motus run`, `motus demo` (through `MOTUS_MODEL`) and
//! `motus bench pipeline --model` can be exercised before the trained model exists. Its scores
//! are meaningless; its speed and memory are those of the real architecture.
//!
//! `cargo run --example random_model -- OUT.onnx [ARCH] [SEED]` (ARCH defaults to two-stream).

use motus_core::flow::TvL1Params;
use motus_core::synth::CLASS_NAMES;
use motus_models::{default_for, export, ExportOptions, ModelCard};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or_else(|| anyhow::anyhow!("usage: random_model OUT.onnx [ARCH] [SEED]"))?;
    let arch = args.next().unwrap_or_else(|| "two-stream".into());
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let spec = default_for(&arch, CLASS_NAMES.len())?;
    let graph = spec.lower()?;
    let mut card = ModelCard::for_spec(&spec, &graph, CLASS_NAMES.iter().map(|s| s.to_string()).collect());
    if let Some(f) = card.flow.as_mut() {
        f.params = serde_json::to_value(TvL1Params::edge())?;
    }
    let bytes = export(&graph, &graph.random_weights(seed), &card, &ExportOptions::default())?;
    std::fs::write(&out, bytes)?;
    eprintln!("wrote {out}: {arch}, random weights (seed {seed}), {} classes", CLASS_NAMES.len());
    Ok(())
}
