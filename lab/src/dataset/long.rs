//! Long-video splits written by `motus synth --long`: videos with per-frame ground truth.

use std::path::{Path, PathBuf};

use super::lists::resolve;
use super::{text, DatasetError};
use motus_core::truth::GroundTruth;

/// A long video and what happens in it: the unit of long-video (streaming) evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct LongVideo {
    /// Video file or frame folder, resolved against the dataset folder.
    pub path: PathBuf,
    /// The labelled segments the detector is scored against.
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
        return Err(DatasetError::UnknownSplit {
            path: dir.into(),
            split: split.into(),
            expected: super::SPLITS.join(", "),
        });
    }
    load_long_list(&dir.join(format!("{split}.txt")), dir)
}

/// Reads any long-video list (one video path per line, relative to `root`) and each video's
/// ground truth; what `motus eval` reads when given a list file rather than a split name.
pub fn load_long_list(list: &Path, root: &Path) -> Result<Vec<LongVideo>, DatasetError> {
    let list = list.to_path_buf();
    let dir = root;
    let text = text::read(&list)?;
    let mut videos = Vec::new();
    for (line, l) in text::content_lines(&text) {
        if l.split_whitespace().count() != 1 {
            return Err(DatasetError::Malformed {
                path: list.clone(),
                line,
                expected:
                    "one video path per line (long-video lists have no label column; paths may not contain spaces)"
                        .into(),
                text: l.into(),
            });
        }
        let path = resolve(dir, l);
        let gt_path = ground_truth_path(&path);
        let ground_truth = GroundTruth::load(&gt_path).map_err(|source| DatasetError::GroundTruth {
            list: list.clone(),
            line,
            video: path.clone(),
            source,
        })?;
        videos.push(LongVideo { path, ground_truth });
    }
    if videos.is_empty() {
        return Err(DatasetError::Empty { path: list, what: "long-video path line".into() });
    }
    Ok(videos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use motus_core::truth::Segment;

    fn gt(frames: u64) -> GroundTruth {
        GroundTruth {
            width: 32,
            height: 24,
            fps: 25.0,
            frames,
            segments: vec![Segment { start_frame: 5, end_frame: 20, class_index: 0, class_name: "wave".into() }],
        }
    }

    #[test]
    fn ground_truth_sits_next_to_the_video() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("long/long_0000");
        std::fs::create_dir_all(&folder).unwrap();
        assert_eq!(ground_truth_path(&folder), dir.path().join("long/long_0000.json"));
        assert_eq!(ground_truth_path(Path::new("long/a.y4m")), Path::new("long/a.json"));
    }

    #[test]
    fn loads_a_long_split() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("long/long_0000")).unwrap();
        gt(100).save(&dir.path().join("long/long_0000.json")).unwrap();
        gt(50).save(&dir.path().join("long/long_0001.json")).unwrap();
        std::fs::write(dir.path().join("test.txt"), "long/long_0000\r\n\r\nlong/long_0001.y4m\r\n").unwrap();
        let v = load_long_split(dir.path(), "test").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].path, dir.path().join("long/long_0000"));
        assert_eq!(v[0].ground_truth.frames, 100);
        assert_eq!(v[1].ground_truth.frames, 50);
    }

    #[test]
    fn rejects_bad_long_splits() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_long_split(dir.path(), "dev").unwrap_err();
        assert!(
            matches!(err, DatasetError::UnknownSplit { .. }) && err.to_string().contains("train, val, test"),
            "{err}"
        );
        std::fs::write(dir.path().join("val.txt"), "\n").unwrap();
        assert!(matches!(load_long_split(dir.path(), "val").unwrap_err(), DatasetError::Empty { .. }));
        std::fs::write(dir.path().join("val.txt"), "a.y4m 3\n").unwrap();
        let err = load_long_split(dir.path(), "val").unwrap_err();
        assert!(
            matches!(err, DatasetError::Malformed { line: 1, .. }) && err.to_string().contains("val.txt:1:"),
            "{err}"
        );
        std::fs::write(dir.path().join("val.txt"), "a.y4m\nb.y4m\n").unwrap();
        gt(100).save(&dir.path().join("a.json")).unwrap();
        let err = load_long_split(dir.path(), "val").unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, DatasetError::GroundTruth { line: 2, .. })
                && msg.contains("val.txt:2:")
                && msg.contains("b.json"),
            "{msg}"
        );
        gt(10).save(&dir.path().join("b.json")).unwrap();
        let err = load_long_split(dir.path(), "val").unwrap_err();
        assert!(
            matches!(err, DatasetError::GroundTruth { line: 2, .. })
                && err.to_string().contains("the video has 10 frames"),
            "{err}"
        );
        assert!(matches!(load_long_split(dir.path(), "train").unwrap_err(), DatasetError::Io { .. }));
    }
}
