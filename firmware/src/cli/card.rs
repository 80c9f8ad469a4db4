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
    /// Fits a temperature for the model's scores on labelled held-out clips (a validation
    /// list, never the test set or the footage alerts are judged on) and stores it in the
    /// card: `motus eval`, `motus run` and every bench then use calibrated probabilities.
    #[cfg(feature = "lab")]
    Calibrate(CalibrateArgs),
}

#[cfg(feature = "lab")]
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The ONNX model whose embedded card to calibrate.
    model: PathBuf,
    /// Labelled validation list (MMAction2 format, `classInd.txt` beside it), or a dataset
    /// folder holding `val.txt`.
    #[arg(long)]
    data: PathBuf,
    /// Clips per video, as `motus eval --protocol` (each clip is one sample of the fit).
    #[arg(long, default_value = "clips=5")]
    protocol: String,
    /// Videos evaluated at once (default: the cores, at most 4).
    #[arg(long)]
    workers: Option<usize>,
    /// Write the result here instead of replacing the model.
    #[arg(long)]
    out: Option<PathBuf>,
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
        #[cfg(feature = "lab")]
        CardCommand::Calibrate(args) => calibrate(args),
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

/// Scores the validation clips with the card's calibration removed, fits a temperature on
/// them and stores it with its before/after figures.
#[cfg(feature = "lab")]
fn calibrate(args: CalibrateArgs) -> anyhow::Result<()> {
    let (mut card, origin, _, _) = super::info::load_card(&args.model, None)?;
    if origin != "embedded" {
        bail!("{}: calibrate writes into the embedded card; this model has a {origin} card", args.model.display());
    }
    card.calibration = None;
    let list = if args.data.is_dir() { args.data.join("val.txt") } else { args.data.clone() };
    if !list.is_file() {
        bail!("{}: no such list (give a labelled validation list, or a dataset folder holding val.txt; never the test set)", list.display());
    }
    let (list, root) = super::eval::resolve_list(&list)?;
    let model = super::eval::Model { path: args.model.clone(), card, origin };
    let ds = super::eval::open_dataset(&list, &root, &model)?;
    let sampler = motus_lab::eval::parse_protocol(&args.protocol)?;
    let opts = motus_lab::eval::RunOptions { workers: super::eval::workers(args.workers), ..Default::default() };
    let mut progress = motus_core::progress::Progress::new("calibrate");
    let run = motus_lab::eval::evaluate_videos(&model.path, &model.card, &ds, &sampler, &opts, &mut |d, t| {
        progress.update(d, t)
    })?;
    for s in &run.skipped {
        eprintln!("unreadable (skipped): {} (line {}): {}", s.path.display(), s.line, s.error);
    }
    let mut clips: Vec<(Vec<f32>, usize)> = Vec::new();
    for (i, scores) in &run.scored {
        clips.extend(scores.probs.iter().map(|p| (p.clone(), ds.entries[*i].label)));
    }
    let fit = motus_lab::eval::calibration::fit_temperature(&clips)
        .with_context(|| format!("fitting on {}", list.display()))?;
    let calibration = motus_models::Calibration {
        temperature: fit.temperature,
        data: format!(
            "{} ({} videos, protocol {}, {} clips)",
            list.display(),
            run.scored.len(),
            args.protocol,
            fit.clips
        ),
        nll_before: fit.nll_before,
        nll_after: fit.nll_after,
        ece_before: fit.ece_before,
        ece_after: fit.ece_after,
    };
    let dest = args.out.as_ref().unwrap_or(&args.model);
    edit_embedded(&args.model, dest, |card| card.calibration = Some(calibration))?;
    println!(
        "{}: temperature {:.3} from {} clips; NLL {:.4} -> {:.4}, ECE {:.4} -> {:.4}",
        dest.display(),
        fit.temperature,
        fit.clips,
        fit.nll_before,
        fit.nll_after,
        fit.ece_before,
        fit.ece_after
    );
    Ok(())
}

/// Writes `model` to `dest` with `edit` applied to its embedded card, atomically, graph and
/// weights byte for byte (the new card is checked against the graph): `motus card set`, and
/// the `--record` of `motus eval` and `motus bench alerts`.
pub(super) fn edit_embedded(model: &Path, dest: &Path, edit: impl FnOnce(&mut ModelCard)) -> anyhow::Result<()> {
    let bytes = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let parsed = onnx::read_model(&bytes).with_context(|| format!("{}", model.display()))?;
    let mut card = onnx::model_card(&parsed).with_context(|| {
        format!("{}: only an embedded card can be edited (a sidecar is edited as the TOML it is)", model.display())
    })?;
    edit(&mut card);
    let out = onnx::replace_card(&bytes, &card).with_context(|| format!("{}", model.display()))?;
    motus_core::atomic::write_atomic(dest, &out).with_context(|| format!("writing {}", dest.display()))
}
