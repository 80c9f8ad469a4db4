//! `motus-train export`: a checkpoint to the ONNX file the device runs.
//!
//! The exported graph comes from the same IR the trainer ran (the card's architecture spec,
//! lowered), the weights from the checkpoint, and the model card is embedded in the ONNX
//! `metadata_props`. A card whose flow parameters the device's engine cannot reproduce is
//! refused here rather than on the board.

use crate::checkpoint::Checkpoint;
use anyhow::Context;
use motus_models::onnx::{export, ExportOptions};
use std::path::PathBuf;

/// Serialises a checkpoint's model to ONNX bytes (BatchNorm folded unless `fold_batchnorm` is
/// false), after checking that its flow settings are ones the runtime can compute.
pub fn export_checkpoint(ckpt: &Checkpoint, fold_batchnorm: bool) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        ckpt.graph == crate::checkpoint::GraphKind::Full,
        "this checkpoint holds an I3D's 2D twin, which is trained to be inflated (motus-train train --arch i3d --init-2d CKPT), not exported"
    );
    if let Some(flow) = &ckpt.card.flow {
        motus_core::flow::FlowConfig::from_card(flow)
            .context("the checkpoint's card names flow settings the runtime's engine cannot reproduce")?;
    }
    let graph = ckpt.card.arch.lower().context("lowering the card's architecture")?;
    export(&graph, &ckpt.weights, &ckpt.card, &ExportOptions { fold_batchnorm }).context("writing ONNX")
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Checkpoint written by `motus-train train` (safetensors with a model card).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Output ONNX file.
    #[arg(long)]
    out: PathBuf,
    /// Keep BatchNormalization nodes instead of folding them into the convolutions.
    #[arg(long)]
    no_fold_bn: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// `motus-train export`'s report (the `--json` contract).
#[derive(Debug, serde::Serialize)]
struct ExportReport<'a> {
    out: &'a std::path::Path,
    arch: &'a str,
    params: usize,
    gflops_per_clip: f64,
    bytes: usize,
    weights_sha256: &'a str,
    /// Batch norms folded into the convolutions before them (`--no-fold-bn` keeps them).
    batchnorm_folded: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let ckpt = Checkpoint::load(&args.checkpoint)?;
    let bytes = export_checkpoint(&ckpt, !args.no_fold_bn)?;
    motus_core::atomic::write_atomic(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    let card = motus_models::onnx::model_card(&motus_models::onnx::read_model(&bytes)?)?;
    let graph = card.arch.lower()?;
    let report = ExportReport {
        out: &args.out,
        arch: card.arch.name(),
        params: graph.num_params(),
        gflops_per_clip: graph.flops() as f64 / 1e9,
        bytes: bytes.len(),
        weights_sha256: &card.weights_sha256,
        batchnorm_folded: !args.no_fold_bn,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: {} ({} params, {:.3} GFLOPs/clip), {} bytes, weights sha256 {}",
            args.out.display(),
            card.arch.name(),
            graph.num_params(),
            graph.flops() as f64 / 1e9,
            bytes.len(),
            card.weights_sha256
        );
    }
    Ok(())
}
