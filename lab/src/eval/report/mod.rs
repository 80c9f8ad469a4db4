//! `motus eval`'s report: one typed value that `--json` prints and `report.json` holds, and
//! that the terminal table, the Markdown page and the PNG plots render, so none of them can
//! disagree with another or read a field that is not there.
//!
//! A report is built by [`EvalReport::for_clips`] (trimmed videos: accuracy) or
//! [`EvalReport::for_long`] (long videos: event detection). The headline fields are in both
//! kinds (`null` where a kind has no value, e.g. video Hit@1 of long videos); the per-video
//! outcomes and the window settings appear only in the kind that has them.

mod build;
mod markdown;
mod table;

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::latency::LatencySummary;
use super::long::LongSummary;
use super::metrics::ClassStats;
use super::plot;
use super::runner::Skipped;
use super::Comparison;

pub use build::ReportError;
pub use markdown::markdown;
pub use table::table;

/// Which data the report scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// Trimmed videos, one label each: classification accuracy.
    Clips,
    /// Long videos with ground-truth segments: sliding windows scored as events.
    Long,
}

/// What was run: the model, its card, the data and how it was evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunHeader {
    pub model: PathBuf,
    /// Where the card came from (`embedded`, `sidecar`, or `file` for `--card`).
    pub card: String,
    pub arch: String,
    pub labels: Vec<String>,
    /// The list file evaluated.
    pub data: PathBuf,
    /// The test protocol (`center`, `clips=N[,crops=3]`; `sliding windows` for long videos).
    pub protocol: String,
    /// Videos evaluated at once.
    pub workers: usize,
    /// tract threads for matrix products.
    pub threads: usize,
}

/// One trimmed video's outcome: its label, the predicted class and the mean probability the
/// model gave that class over the video's clips.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoOutcome {
    pub path: PathBuf,
    pub label: usize,
    pub predicted: usize,
    pub confidence: f32,
    pub clips: usize,
}

/// `motus eval`'s report (the `--json` contract; its field names are held by a golden test).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    #[serde(flatten)]
    pub header: RunHeader,
    pub kind: ReportKind,
    /// Videos scored (unreadable ones are not counted).
    pub n_videos: usize,
    /// Clips scored; for long videos, windows.
    pub n_clips: usize,
    /// Clip Hit@1; for long videos, window Hit@1.
    pub clip_top1: f64,
    /// Video Hit@1 (`null` for long videos).
    pub video_top1: Option<f64>,
    /// Video Hit@5 (`null` for long videos).
    pub video_top5: Option<f64>,
    /// Mean class accuracy (`null` for long videos).
    pub mean_class_acc: Option<f64>,
    /// Recall and precision per class (empty for long videos).
    pub per_class: Vec<ClassStats>,
    /// `confusion[true][predicted]` video counts (`null` for long videos).
    pub confusion: Option<Vec<Vec<usize>>>,
    /// Per-video outcomes (trimmed videos only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub videos: Option<Vec<VideoOutcome>>,
    /// Clips that ran past their video's end (trimmed videos only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub padded_clips: Option<usize>,
    /// Source frames one window covers (long videos only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_span: Option<u64>,
    /// Source frames between window starts (long videos only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_stride: Option<u64>,
    pub latency_ms: LatencySummary,
    /// The flow engine used, when the model reads flow.
    pub flow_engine: Option<String>,
    /// Wall time of the run.
    pub seconds: f64,
    pub videos_per_s: f64,
    pub clips_per_s: f64,
    pub n_unreadable: usize,
    /// The videos skipped because they could not be read, and why.
    pub unreadable: Vec<Skipped>,
    /// Event detection scores (long videos only).
    pub detection: Option<LongSummary>,
    /// The second model's scores on the same videos (`--compare`).
    pub compare: Option<Compared>,
}

/// A second model evaluated on the same videos.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Compared {
    Clips(Box<ClipsComparison>),
    Long(LongComparison),
}

/// Two models on the same trimmed videos.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipsComparison {
    pub model: PathBuf,
    #[serde(flatten)]
    pub comparison: Comparison,
    pub latency_ms: LatencySummary,
    pub n_unreadable: usize,
}

/// Two models on the same long videos (`b − a` differences).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongComparison {
    pub model: PathBuf,
    pub detection: LongSummary,
    pub precision_diff: f64,
    pub recall_diff: f64,
    pub clip_top1_diff: f64,
}

/// Writes `report.json`, `report.md` and, for trimmed videos, `confusion.png` and
/// `per_class.png` into `dir` (created if needed); returns the paths written.
pub fn write_report(dir: &Path, r: &EvalReport) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let json = dir.join("report.json");
    std::fs::write(&json, serde_json::to_string_pretty(r).map_err(std::io::Error::other)?)?;
    written.push(json);
    let md = dir.join("report.md");
    std::fs::write(&md, markdown(r))?;
    written.push(md);
    let image_err = |e: image::ImageError| std::io::Error::other(e.to_string());
    if let Some(confusion) = &r.confusion {
        let path = dir.join("confusion.png");
        plot::confusion_png(confusion).save(&path).map_err(image_err)?;
        written.push(path);
    }
    if !r.per_class.is_empty() {
        let recall: Vec<Option<f64>> = r.per_class.iter().map(|c| c.recall).collect();
        let precision: Vec<Option<f64>> = r.per_class.iter().map(|c| c.precision).collect();
        let path = dir.join("per_class.png");
        plot::per_class_png(&recall, &precision).save(&path).map_err(image_err)?;
        written.push(path);
    }
    Ok(written)
}
