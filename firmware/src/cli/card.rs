//! `motus card`: edits a model's embedded card without touching its graph or weights.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use motus_models::{onnx, ModelCard};

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
    let dest = args.out.as_ref().unwrap_or(&args.model);
    edit_embedded(&args.model, dest, |card| card.input.fps = Some(fps))?;
    eprintln!("{}: card fps = {fps}", dest.display());
    Ok(())
}

/// Writes `model` to `dest` with `edit` applied to its embedded card, atomically, graph and
/// weights byte for byte (the new card is checked against the graph): `motus card set`, and
/// the `--record` of `motus eval` and `motus bench alerts`.
pub(super) fn edit_embedded(model: &Path, dest: &Path, edit: impl FnOnce(&mut ModelCard)) -> anyhow::Result<()> {
    let bytes = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let parsed = onnx::read_model(&bytes).with_context(|| format!("{}", model.display()))?;
    let mut card = onnx::model_card(&parsed)
        .with_context(|| format!("{}: only an embedded card can be edited (a sidecar is edited as the TOML it is)", model.display()))?;
    edit(&mut card);
    let out = onnx::replace_card(&bytes, &card).with_context(|| format!("{}", model.display()))?;
    motus::atomic::write_atomic(dest, &out).with_context(|| format!("writing {}", dest.display()))
}
