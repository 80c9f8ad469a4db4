//! `motus-train inspect`: a dataset as training will see it, before spending hours on it.
//!
//! Class imbalance, videos shorter than one clip (padded by repeating their last frame) and
//! the number of clips one epoch draws decide whether a training budget is sensible; this
//! reports them from the same dataset and sampler code the trainer uses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use motus_lab::dataset::{sampler, Dataset, VideoEntry};
use motus_models::ClipSpec;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Dataset folder with classInd.txt and the split lists (as `motus synth` writes).
    #[arg(long)]
    data: PathBuf,
    /// Split to inspect.
    #[arg(long, default_value = "train")]
    split: String,
    /// Frames per clip.
    #[arg(long, default_value_t = 16)]
    clip_len: u32,
    /// Source frames between clip frames.
    #[arg(long, default_value_t = 2)]
    frame_stride: u32,
    /// TSN segments per video.
    #[arg(long, default_value_t = 3)]
    segments: u32,
    /// Dense sampling: frames between window starts.
    #[arg(long, default_value_t = 8)]
    window_stride: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Frames in one video: from the list when it says (rawframes), else from the container's
/// header, else by decoding.
fn frame_count(ds: &Dataset, entry: &VideoEntry) -> anyhow::Result<u64> {
    if let Some(n) = entry.total_frames {
        return Ok(n);
    }
    let mut reader = ds.open_entry(entry)?;
    match reader.info().frame_count {
        Some(n) => Ok(n),
        None => Ok(reader.count_frames()?),
    }
}

/// `motus-train inspect`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct InspectReport<'a> {
    data: &'a std::path::Path,
    split: &'a str,
    videos: usize,
    classes: usize,
    per_class: BTreeMap<&'a str, usize>,
    empty_classes: &'a [&'a str],
    /// Largest over smallest non-empty class (`null` without videos).
    imbalance_ratio: Option<f64>,
    frames: u64,
    clip_span: u32,
    /// Videos shorter than one clip (their last frame is repeated).
    short_videos: &'a [ShortVideo],
    clips_per_epoch: ClipsPerEpoch,
}

#[derive(Debug, Serialize)]
struct ShortVideo {
    path: PathBuf,
    frames: u64,
}

/// Clips one epoch yields under each sampler.
#[derive(Debug, Serialize)]
struct ClipsPerEpoch {
    tsn: usize,
    dense: usize,
}

pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let clip = ClipSpec { clip_len: args.clip_len, frame_stride: args.frame_stride };
    clip.validate().context("clip settings")?;
    let ds = Dataset::open_split(&args.data, &args.split)?.verified()?;
    let counts = ds.class_counts();
    let present: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    let empty_classes: Vec<&str> =
        counts.iter().enumerate().filter(|(_, &c)| c == 0).map(|(i, _)| ds.classes.name(i)).collect();
    let imbalance = match (present.iter().max(), present.iter().min()) {
        (Some(&max), Some(&min)) => max as f64 / min as f64,
        _ => f64::NAN,
    };

    let mut short = Vec::new();
    let (mut tsn_clips, mut dense_clips, mut frames_total) = (0usize, 0usize, 0u64);
    for entry in &ds.entries {
        let n = frame_count(&ds, entry).with_context(|| format!("reading {}", entry.path.display()))?;
        frames_total += n;
        if n < clip.span() as u64 {
            short.push(ShortVideo { path: entry.path.clone(), frames: n });
        }
        tsn_clips += sampler::tsn(n, args.segments, clip, sampler::SampleMode::Test)?.len();
        dense_clips += sampler::dense(n, clip, args.window_stride)?.len();
    }

    let report = InspectReport {
        data: &args.data,
        split: &args.split,
        videos: ds.entries.len(),
        classes: ds.classes.len(),
        per_class: ds.classes.names().iter().map(String::as_str).zip(counts.iter().copied()).collect(),
        empty_classes: &empty_classes,
        imbalance_ratio: imbalance.is_finite().then_some(imbalance),
        frames: frames_total,
        clip_span: clip.span(),
        short_videos: &short,
        clips_per_epoch: ClipsPerEpoch { tsn: tsn_clips, dense: dense_clips },
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} split: {} videos, {} classes, {} frames",
        args.split,
        ds.entries.len(),
        ds.classes.len(),
        frames_total
    );
    for (name, c) in ds.classes.names().iter().zip(&counts) {
        println!("  {name:<24} {c}");
    }
    println!("imbalance (largest / smallest class): {imbalance:.2}");
    if !empty_classes.is_empty() {
        println!("classes with no videos: {}", empty_classes.join(", "));
    }
    println!("videos shorter than one clip ({} frames, padded): {}", clip.span(), report.short_videos.len());
    println!(
        "clips per epoch: TSN ({} segments) {tsn_clips}, dense (window stride {}) {dense_clips}",
        args.segments, args.window_stride
    );
    Ok(())
}
