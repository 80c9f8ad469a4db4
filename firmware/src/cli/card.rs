//! `motus card`: edits a model's embedded card without touching its graph or weights.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use motus_models::onnx;

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Sets fields of the card embedded in a model file (the file is rewritten atomically; the
    /// graph and weights stay byte for byte).
    Set(SetArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The ONNX model whose embedded card to edit.
    model: PathBuf,
    /// Frames per second the model's clips were sampled at in training: every clip is then
    /// built from frames picked by timestamp at this rate, whatever the camera's rate.
    #[arg(long)]
    fps: Option<f64>,
    /// Write the result here instead of replacing the model.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(cmd: CardCommand) -> anyhow::Result<()> {
    match cmd {
        CardCommand::Set(args) => set(args),
    }
}

fn set(args: SetArgs) -> anyhow::Result<()> {
    let Some(fps) = args.fps else { bail!("nothing to set: give --fps") };
    let fps = motus_models::check_fps(fps).context("--fps")?;
    let bytes = std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let parsed = onnx::read_model(&bytes).with_context(|| format!("{}", args.model.display()))?;
    let mut card = onnx::model_card(&parsed)
        .with_context(|| format!("{}: only an embedded card can be edited (a sidecar is edited as the TOML it is)", args.model.display()))?;
    card.input.fps = Some(fps);
    let out = onnx::replace_card(&bytes, &card).with_context(|| format!("{}", args.model.display()))?;
    let dest = args.out.as_ref().unwrap_or(&args.model);
    motus::atomic::write_atomic(dest, &out).with_context(|| format!("writing {}", dest.display()))?;
    eprintln!("{}: card fps = {fps}", dest.display());
    Ok(())
}
