//! `motus dataset check`: what a dataset holds, and whether every video in it decodes, before
//! hours of training or evaluation find out the hard way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, Subcommand};
use motus_core::media::VideoReader;
use motus_lab::dataset::{self, Dataset};
use serde::Serialize;

use motus_core::progress::Progress;

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Count videos per class and split, and decode every video (sizes, frame counts).
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Dataset folder with classInd.txt and train.txt / val.txt / test.txt (as `motus synth` writes).
    #[arg(long)]
    data: PathBuf,
    /// Splits to check, comma-separated.
    #[arg(long, default_value = "train,val,test")]
    splits: String,
    /// Only read the lists and check the files exist; do not decode.
    #[arg(long)]
    no_decode: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: DatasetCommand) -> anyhow::Result<()> {
    match cmd {
        DatasetCommand::Check(args) => check(args),
    }
}

/// Decodes a whole video, returning (frames, width, height).
fn decode(mut reader: Box<dyn VideoReader>) -> Result<(u64, u32, u32), motus_core::media::MediaError> {
    let info = reader.info();
    Ok((reader.count_frames()?, info.width, info.height))
}

/// `motus dataset check`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct CheckReport {
    data: PathBuf,
    /// The class names, when a trimmed-video split was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<Vec<String>>,
    splits: BTreeMap<String, SplitCheck>,
    /// Videos that could not be read, over all splits.
    unreadable: usize,
}

/// What one split holds.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum SplitCheck {
    Trimmed(TrimmedSplit),
    Long(LongSplit),
    Empty { videos: usize },
}

impl SplitCheck {
    fn unreadable(&self) -> usize {
        match self {
            SplitCheck::Trimmed(t) => t.unreadable.len(),
            SplitCheck::Long(l) => l.unreadable.len(),
            SplitCheck::Empty { .. } => 0,
        }
    }
}

/// A split of trimmed, labelled videos.
#[derive(Debug, Serialize)]
struct TrimmedSplit {
    videos: usize,
    per_class: BTreeMap<String, usize>,
    /// Frames decoded (0 with `--no-decode`).
    frames: u64,
    /// Frame sizes seen, `WxH`.
    sizes: BTreeSet<String>,
    unreadable: Vec<Unreadable>,
}

/// A split of long videos with ground-truth segments.
#[derive(Debug, Serialize)]
struct LongSplit {
    long_videos: usize,
    segments: usize,
    frames: u64,
    unreadable: Vec<Unreadable>,
}

/// A video that could not be read, and why.
#[derive(Debug, Serialize)]
struct Unreadable {
    path: PathBuf,
    error: String,
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let mut report = CheckReport { data: args.data.clone(), classes: None, splits: BTreeMap::new(), unreadable: 0 };
    for split in args.splits.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let list = args.data.join(format!("{split}.txt"));
        if !list.exists() {
            bail!("{}: no such split list (expected {split}.txt next to classInd.txt)", list.display());
        }
        let checked = if is_long_list(&list)? {
            check_long(&args, split)?
        } else {
            check_short(&args, split, &mut report.classes)?
        };
        report.unreadable += checked.unreadable();
        report.splits.insert(split.to_string(), checked);
    }
    if args.json {
        super::print_json(&report);
    }
    if report.unreadable > 0 {
        bail!("{} video(s) could not be read; see the list above", report.unreadable);
    }
    Ok(())
}

/// Long-video lists (from `motus synth --long`) have one column: just the path.
pub(crate) fn is_long_list(list: &Path) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(list).map_err(|e| anyhow::anyhow!("{}: {e}", list.display()))?;
    Ok(text.lines().map(str::trim).find(|l| !l.is_empty()).is_some_and(|l| l.split_whitespace().count() == 1))
}

fn check_short(args: &CheckArgs, split: &str, classes: &mut Option<Vec<String>>) -> anyhow::Result<SplitCheck> {
    let ds = match Dataset::open_split(&args.data, split) {
        Ok(ds) => ds,
        Err(dataset::DatasetError::Empty { .. }) => {
            if !args.json {
                println!("{split}: empty");
            }
            return Ok(SplitCheck::Empty { videos: 0 });
        }
        Err(e) => return Err(e.into()),
    };
    ds.check_files()?;
    let names: Vec<String> = (0..ds.classes.len()).map(|i| ds.classes.name(i).to_string()).collect();
    let counts = ds.class_counts();
    let mut frames = 0u64;
    let mut sizes = BTreeSet::new();
    let mut unreadable = Vec::new();
    if !args.no_decode {
        let mut progress = Progress::new(split);
        for (i, entry) in ds.entries.iter().enumerate() {
            match ds.open_entry(entry).and_then(decode) {
                Ok((n, w, h)) => {
                    frames += n;
                    sizes.insert(format!("{w}x{h}"));
                }
                Err(e) => {
                    eprintln!("unreadable: {e}");
                    unreadable.push(Unreadable { path: entry.path.clone(), error: e.to_string() });
                }
            }
            progress.update(i + 1, ds.entries.len());
        }
    }
    if !args.json {
        let per_class: Vec<String> = names.iter().zip(&counts).map(|(n, c)| format!("{n} {c}")).collect();
        println!("{split}: {} videos in {} classes ({})", ds.entries.len(), names.len(), per_class.join(", "));
        if !args.no_decode {
            println!(
                "  decoded {frames} frames, sizes {}, unreadable {}",
                sizes.iter().cloned().collect::<Vec<_>>().join(" "),
                unreadable.len()
            );
        }
    }
    let per_class = names.iter().cloned().zip(counts.iter().copied()).collect();
    *classes = Some(names);
    Ok(SplitCheck::Trimmed(TrimmedSplit { videos: ds.entries.len(), per_class, frames, sizes, unreadable }))
}

fn check_long(args: &CheckArgs, split: &str) -> anyhow::Result<SplitCheck> {
    let videos = dataset::load_long_split(&args.data, split)?;
    let mut segments = 0usize;
    let mut frames = 0u64;
    let mut unreadable = Vec::new();
    for v in &videos {
        segments += v.ground_truth.segments.len();
        if args.no_decode {
            continue;
        }
        let error = match motus_core::media::open_video(&v.path).and_then(decode) {
            Ok((n, _, _)) if n == v.ground_truth.frames => {
                frames += n;
                continue;
            }
            Ok((n, _, _)) => format!("decoded {n} frames, ground truth says {}", v.ground_truth.frames),
            Err(e) => e.to_string(),
        };
        eprintln!("unreadable: {}: {error}", v.path.display());
        unreadable.push(Unreadable { path: v.path.clone(), error });
    }
    if !args.json {
        println!("{split}: {} long videos, {segments} labelled actions, {frames} frames decoded", videos.len());
    }
    Ok(SplitCheck::Long(LongSplit { long_videos: videos.len(), segments, frames, unreadable }))
}
