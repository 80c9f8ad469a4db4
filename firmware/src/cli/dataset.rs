//! `motus dataset check`: what a dataset holds, and whether every video in it decodes, before
//! hours of training or evaluation find out the hard way.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, Subcommand};
use motus_core::media::VideoReader;
use motus_lab::dataset::{self, Dataset};
use serde_json::json;

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

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let mut report = serde_json::Map::new();
    let mut failures = 0usize;
    let mut classes_json = None;
    for split in args.splits.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let list = args.data.join(format!("{split}.txt"));
        if !list.exists() {
            bail!("{}: no such split list (expected {split}.txt next to classInd.txt)", list.display());
        }
        let entry = if is_long_list(&list)? {
            check_long(&args, split, &mut failures)?
        } else {
            check_short(&args, split, &mut failures, &mut classes_json)?
        };
        report.insert(split.to_string(), entry);
    }
    let mut root = serde_json::Map::new();
    root.insert("data".into(), json!(args.data));
    if let Some(c) = classes_json {
        root.insert("classes".into(), c);
    }
    root.insert("splits".into(), serde_json::Value::Object(report));
    root.insert("unreadable".into(), json!(failures));
    if args.json {
        super::print_json(&serde_json::Value::Object(root));
    }
    if failures > 0 {
        bail!("{failures} video(s) could not be read; see the list above");
    }
    Ok(())
}

/// Long-video lists (from `motus synth --long`) have one column: just the path.
pub(crate) fn is_long_list(list: &Path) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(list).map_err(|e| anyhow::anyhow!("{}: {e}", list.display()))?;
    Ok(text.lines().map(str::trim).find(|l| !l.is_empty()).is_some_and(|l| l.split_whitespace().count() == 1))
}

fn check_short(
    args: &CheckArgs,
    split: &str,
    failures: &mut usize,
    classes_json: &mut Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let ds = match Dataset::open_split(&args.data, split) {
        Ok(ds) => ds,
        Err(dataset::DatasetError::Empty { .. }) => {
            if !args.json {
                println!("{split}: empty");
            }
            return Ok(json!({"videos": 0}));
        }
        Err(e) => return Err(e.into()),
    };
    ds.check_files()?;
    let names: Vec<String> = (0..ds.classes.len()).map(|i| ds.classes.name(i).to_string()).collect();
    *classes_json = Some(json!(names));
    let counts = ds.class_counts();
    let mut frames = 0u64;
    let mut sizes = std::collections::BTreeSet::new();
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
                    unreadable.push(json!({"path": entry.path, "error": e.to_string()}));
                }
            }
            progress.update(i + 1, ds.entries.len());
        }
    }
    *failures += unreadable.len();
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
    let per_class: serde_json::Map<String, serde_json::Value> =
        names.iter().cloned().zip(counts.iter().map(|c| json!(c))).collect();
    Ok(json!({
        "videos": ds.entries.len(),
        "per_class": per_class,
        "frames": frames,
        "sizes": sizes,
        "unreadable": unreadable,
    }))
}

fn check_long(args: &CheckArgs, split: &str, failures: &mut usize) -> anyhow::Result<serde_json::Value> {
    let videos = dataset::load_long_split(&args.data, split)?;
    let mut segments = 0usize;
    let mut frames = 0u64;
    let mut unreadable = Vec::new();
    for v in &videos {
        segments += v.ground_truth.segments.len();
        if args.no_decode {
            continue;
        }
        match motus_core::media::open_video(&v.path).and_then(decode) {
            Ok((n, _, _)) if n == v.ground_truth.frames => frames += n,
            Ok((n, _, _)) => unreadable.push(json!({"path": v.path, "error": format!("decoded {n} frames, ground truth says {}", v.ground_truth.frames)})),
            Err(e) => unreadable.push(json!({"path": v.path, "error": e.to_string()})),
        }
    }
    for u in &unreadable {
        eprintln!("unreadable: {}: {}", u["path"], u["error"]);
    }
    *failures += unreadable.len();
    if !args.json {
        println!("{split}: {} long videos, {segments} labelled actions, {frames} frames decoded", videos.len());
    }
    Ok(json!({"long_videos": videos.len(), "segments": segments, "frames": frames, "unreadable": unreadable}))
}
