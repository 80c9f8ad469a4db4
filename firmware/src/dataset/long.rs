//! Long-video splits written by `motus synth --long`: videos with per-frame ground truth.

use std::path::{Path, PathBuf};

use super::lists::resolve;
use super::segments::GroundTruth;
use super::{text, DatasetError};

/// A long video and what happens in it: the unit of long-video (streaming) evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct LongVideo {
    /// Video file or frame folder, resolved against the dataset folder.
    pub path: PathBuf,
    pub ground_truth: GroundTruth,
}

/// The ground-truth file of a long video: same stem, `.json`, in the same folder (for the
/// frame folder `long/long_0000` it is `long/long_0000.json`; for `long/a.y4m`, `long/a.json`).
pub fn ground_truth_path(video: &Path) -> PathBuf {
    match video.extension() {
        Some(_) if !video.is_dir() => video.with_extension("json"),
        _ => {
            let mut name = video.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            name.push(".json");
            video.with_file_name(name)
        }
    }
}

/// Reads `dir/{split}.txt`, one video path (relative to `dir`) per line, and each video's
/// ground truth, so evaluation can score a whole split without decoding to find the labels.
pub fn load_long_split(dir: &Path, split: &str) -> Result<Vec<LongVideo>, DatasetError> {
    if !super::SPLITS.contains(&split) {
        return Err(DatasetError::UnknownSplit { path: dir.into(), split: split.into(), expected: super::SPLITS.join(", ") });
    }
    let list = dir.join(format!("{split}.txt"));
    let text = text::read(&list)?;
    let mut videos = Vec::new();
    for (line, l) in text::content_lines(&text) {
        if l.split_whitespace().count() != 1 {
            return Err(DatasetError::Malformed {
                path: list.clone(),
                line,
                expected: "one video path per line (long-video lists have no label column; paths may not contain spaces)".into(),
                text: l.into(),
            });
        }
        let path = resolve(dir, l);
        let gt_path = ground_truth_path(&path);
        let ground_truth = GroundTruth::load(&gt_path).map_err(|source| DatasetError::GroundTruth { list: list.clone(), line, video: path.clone(), source })?;
        videos.push(LongVideo { path, ground_truth });
    }
    if videos.is_empty() {
        return Err(DatasetError::Empty { path: list, what: "long-video path line".into() });
    }
    Ok(videos)
}
