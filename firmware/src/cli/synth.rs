//! `motus synth`: write the synthetic motion benchmark and its contact sheet.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use motus_core::synth::{self, StorageFormat, SynthConfig};
use serde::Serialize;

use motus_core::progress::Progress;

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output folder for videos, classInd.txt and the train/val/test lists.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Videos per class (with --long: the number of long videos).
    #[arg(long, default_value_t = 10)]
    videos_per_class: usize,
    /// Seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Train, validation and test percentages, e.g. 70,15,15 or 0,0,100.
    #[arg(long, default_value = "70,15,15")]
    splits: String,
    /// Frame size as WIDTHxHEIGHT.
    #[arg(long, default_value = "128x128")]
    size: String,
    /// Frames per video.
    #[arg(long, default_value_t = 48)]
    frames: u32,
    /// Frame rate written into the videos.
    #[arg(long, default_value_t = 25.0)]
    fps: f64,
    /// Storage: y4m files, or folders of JPEG frames (MMAction2 rawframes).
    #[arg(long, value_enum, default_value_t = Format::Y4m)]
    format: Format,
    /// Long videos: several actions in sequence with idle gaps, ground truth in a JSON per video.
    #[arg(long)]
    long: bool,
    /// Also cut labelled windows from this many continuous scenes (a minute each, like the live
    /// camera's), so a model learns the idle gaps and transitions a live window straddles.
    #[arg(long, default_value_t = 0)]
    scenes: usize,
    /// Frames per scene window: the clip length of the model to be trained.
    #[arg(long, default_value_t = 25)]
    scene_window: u32,
    /// Clips of the background class ("none of these"), when it should get more than
    /// --videos-per-class: its clips are split among ten kinds of negative scene.
    #[arg(long)]
    background_videos: Option<usize>,
    /// Background ("idle") clips show ten kinds of scene with no known action (objects
    /// handled, gestures, bending, crouching, stepping, vehicles, camera motion, lighting
    /// changes, crowds) instead of only still people: class 0 then means "none of these".
    #[arg(long)]
    negatives: bool,
    /// Also (or only) draw a PNG with a strip of frames per class.
    #[arg(long)]
    contact_sheet: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Y4m,
    Frames,
}

/// Parses `WIDTHxHEIGHT`.
pub(crate) fn parse_size(text: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) =
        text.split_once(['x', 'X']).with_context(|| format!("size {text:?} is not WIDTHxHEIGHT (e.g. 128x128)"))?;
    let w: u32 = w.trim().parse().with_context(|| format!("width {w:?} in size {text:?} is not a number"))?;
    let h: u32 = h.trim().parse().with_context(|| format!("height {h:?} in size {text:?} is not a number"))?;
    Ok((w, h))
}

/// Parses `train,val,test` percentages.
fn parse_splits(text: &str) -> anyhow::Result<[u32; 3]> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() != 3 {
        bail!("--splits {text:?} needs three numbers, train,val,test (e.g. 70,15,15)");
    }
    let mut out = [0u32; 3];
    for (slot, part) in out.iter_mut().zip(&parts) {
        *slot = part.trim().parse().with_context(|| format!("--splits: {part:?} is not a whole number"))?;
    }
    Ok(out)
}

pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    let (width, height) = parse_size(&args.size)?;
    let cfg = SynthConfig {
        width,
        height,
        frames: args.frames,
        fps: args.fps,
        seed: args.seed,
        videos_per_class: args.videos_per_class,
        splits: parse_splits(&args.splits)?,
        format: match args.format {
            Format::Y4m => StorageFormat::Y4m,
            Format::Frames => StorageFormat::Frames,
        },
        long: args.long,
        scenes: args.scenes,
        scene_window: args.scene_window,
        background_videos: args.background_videos,
        negatives: args.negatives,
    };
    cfg.validate()?;
    if args.out.is_none() && args.contact_sheet.is_none() {
        bail!("nothing to do: give --out DIR (a dataset) and/or --contact-sheet OUT.png");
    }
    let mut report = SynthReport::default();
    if let Some(out) = &args.out {
        let mut progress = Progress::new("synth");
        let started = std::time::Instant::now();
        let summary = motus_lab::benchmark::write_dataset(&cfg, out, &mut |done, total| progress.update(done, total))?;
        let secs = started.elapsed().as_secs_f64();
        if !args.json {
            println!(
                "wrote {} videos{} ({} frames, {} classes) to {} in {:.1} s: train {}, val {}, test {}",
                summary.videos,
                if summary.scene_windows > 0 {
                    format!(" and {} scene windows", summary.scene_windows)
                } else {
                    String::new()
                },
                summary.frames,
                summary.classes,
                out.display(),
                secs,
                summary.per_split[0],
                summary.per_split[1],
                summary.per_split[2]
            );
        }
        report.dataset = Some(WrittenDataset {
            out: out.clone(),
            classes: summary.classes,
            videos: summary.videos,
            scene_windows: summary.scene_windows,
            frames: summary.frames,
            train: summary.per_split[0],
            val: summary.per_split[1],
            test: summary.per_split[2],
            seconds: secs,
            frames_per_second: summary.frames as f64 / secs.max(1e-9),
        });
    }
    if let Some(sheet) = &args.contact_sheet {
        motus_lab::benchmark::contact_sheet(&cfg, 8, sheet)?;
        report.contact_sheet = Some(sheet.clone());
        if !args.json {
            println!("contact sheet: {} (one row per class: {})", sheet.display(), synth::class_names().join(", "));
        }
    }
    if args.json {
        super::print_json(&report);
    }
    Ok(())
}

/// `motus synth`'s report (the `--json` contract): the dataset written and/or the contact
/// sheet, whichever was asked for.
#[derive(Debug, Default, Serialize)]
struct SynthReport {
    #[serde(flatten)]
    dataset: Option<WrittenDataset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact_sheet: Option<PathBuf>,
}

/// What `--out` received: videos per split, frames, and the writing speed.
#[derive(Debug, Serialize)]
struct WrittenDataset {
    out: PathBuf,
    classes: usize,
    videos: usize,
    scene_windows: usize,
    frames: u64,
    train: usize,
    val: usize,
    test: usize,
    seconds: f64,
    frames_per_second: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_splits() {
        assert_eq!(parse_size("128x96").unwrap(), (128, 96));
        assert!(parse_size("128").unwrap_err().to_string().contains("WIDTHxHEIGHT"));
        assert!(parse_size("ax96").is_err());
        assert_eq!(parse_splits("0,0,100").unwrap(), [0, 0, 100]);
        assert!(parse_splits("70,30").unwrap_err().to_string().contains("three numbers"));
        assert!(parse_splits("70,x,30").is_err());
    }
}
