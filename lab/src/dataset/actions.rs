//! Where in each trimmed clip its action happens: `actions.txt`, an optional file next to a
//! dataset's lists.
//!
//! A trimmed clip of a brief action (sitting down, a jump) is mostly idle before and after it.
//! A training window drawn anywhere in such a clip often shows only the idle part, yet carries
//! the action's label, and the model may learn that a person standing still is "jumping". With
//! the action's frames known, the sampler can keep each training window on the action (see
//! [`super::sampler::random_clip_on`]; the trainer does so on request, `--action-windows`).
//!
//! Format: one `path start_frame end_frame` line per video (`end_frame` exclusive, 0-based),
//! `path` as in the split lists (relative to the dataset folder). Videos without a line are
//! sampled anywhere, as without the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::lists::resolve;
use super::{text, DatasetError};

/// The file name `motus synth` writes and the trainer looks for in the dataset folder.
pub const ACTIONS_FILE: &str = "actions.txt";

/// The action span of each listed video, keyed by its resolved path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionSpans {
    spans: HashMap<PathBuf, (u64, u64)>,
}

impl ActionSpans {
    /// Reads an actions file, resolving relative paths against `root`.
    pub fn load(path: &Path, root: &Path) -> Result<Self, DatasetError> {
        let text = text::read(path)?;
        let mut spans = HashMap::new();
        let mut lines = HashMap::new();
        for (line, l) in text::content_lines(&text) {
            let malformed =
                |expected: String| DatasetError::Malformed { path: path.into(), line, expected, text: l.into() };
            let cols: Vec<&str> = l.split_whitespace().collect();
            let [video, start, end] = cols[..] else {
                return Err(malformed("3 columns `path start_frame end_frame` (paths may not contain spaces)".into()));
            };
            let frame =
                |s: &str, what: &str| s.parse::<u64>().map_err(|_| malformed(format!("a whole number >= 0 as {what}")));
            let (start, end) = (frame(start, "start_frame (second column)")?, frame(end, "end_frame (third column)")?);
            if start >= end {
                return Err(malformed(format!("start_frame < end_frame (end is exclusive), got {start} and {end}")));
            }
            let video = resolve(root, video);
            if let Some(first) = lines.insert(video.clone(), line) {
                return Err(malformed(format!("each video once; {} is already on line {first}", video.display())));
            }
            spans.insert(video, (start, end));
        }
        Ok(ActionSpans { spans })
    }

    /// `dir/actions.txt` when the dataset folder has one, `None` when it has not.
    pub fn find(dir: &Path) -> Result<Option<Self>, DatasetError> {
        let path = dir.join(ACTIONS_FILE);
        if path.is_file() {
            Self::load(&path, dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// `[start, end)` frames of the action in `video` (a path as resolved by the lists).
    pub fn get(&self, video: &Path) -> Option<(u64, u64)> {
        self.spans.get(video).copied()
    }

    /// How many videos have a span.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the file listed no video.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join(ACTIONS_FILE);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_spans_resolved_against_the_root() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "\u{feff}videos/jump/jump_0000.y4m 12 30\r\n\r\n/abs/idle.y4m 0 58\n");
        let spans = ActionSpans::find(dir.path()).unwrap().unwrap();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans.get(&dir.path().join("videos/jump/jump_0000.y4m")), Some((12, 30)));
        assert_eq!(spans.get(Path::new("/abs/idle.y4m")), Some((0, 58)));
        assert_eq!(spans.get(Path::new("/abs/other.y4m")), None);
    }

    #[test]
    fn a_folder_without_the_file_has_no_spans() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ActionSpans::find(dir.path()).unwrap().is_none());
    }

    #[test]
    fn rejects_bad_lines_naming_file_line_and_expectation() {
        let dir = tempfile::tempdir().unwrap();
        for (text, want) in [
            ("a.y4m 1 5\nb.y4m 3\n", ":2: expected 3 columns"),
            ("a.y4m x 5\n", "start_frame (second column)"),
            ("a.y4m 1 -5\n", "end_frame (third column)"),
            ("a.y4m 5 5\n", "start_frame < end_frame"),
            ("a.y4m 1 5\na.y4m 2 6\n", "already on line 1"),
        ] {
            let path = write(dir.path(), text);
            let err = ActionSpans::load(&path, dir.path()).unwrap_err().to_string();
            assert!(err.contains(ACTIONS_FILE) && err.contains(want), "{text:?}: {err}");
        }
    }
}
