//! MMAction2-style video lists, and the entry type every list reader produces.

use std::path::{Path, PathBuf};

use super::{text, DatasetError};

/// One labelled video of a dataset, whatever list format named it.
///
/// Every reader (MMAction2 lists, UCF101 splits, Kinetics CSVs) produces this one shape, so the
/// trainer and evaluator never care where a dataset came from. `line` is kept so a video that
/// later fails to decode can be traced back to the list line that named it.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoEntry {
    /// Video file or frame folder, already resolved against the dataset root.
    pub path: PathBuf,
    /// 0-based class label.
    pub label: usize,
    /// Frame count when the list states it (rawframes lists), so samplers need not decode.
    pub total_frames: Option<u64>,
    /// `(start, end)` in seconds when the entry is a clip of a longer, untrimmed video.
    pub time_range: Option<(f64, f64)>,
    /// 1-based line of the list file that named this video.
    pub line: usize,
}

/// The two MMAction2 list layouts, told apart by their column count.
///
/// MMAction2 (and most tools that follow it) train from either decoded containers or
/// pre-extracted frame folders; accepting both means a dataset prepared for it works unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// `path label`: one video file per line.
    Video,
    /// `dir total_frames label`: one frame folder per line, with its frame count.
    RawFrames,
}

impl ListFormat {
    fn columns(self) -> usize {
        match self {
            ListFormat::Video => 2,
            ListFormat::RawFrames => 3,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ListFormat::Video => "`path label`",
            ListFormat::RawFrames => "`dir total_frames label`",
        }
    }
}

/// `path` when absolute, otherwise `root/path`: lists are written relative to the dataset
/// folder so the folder can be moved.
pub(crate) fn resolve(root: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// Reads an MMAction2 video or rawframes list with 0-based labels, resolving relative paths
/// against `root`.
///
/// The format is detected from the first line's column count and every other line must agree.
/// Columns are separated by whitespace, so **paths must not contain spaces** (MMAction2 has the
/// same rule). Labels are not checked against a class index here; [`super::Dataset`] does that.
pub fn read_mmaction_list(list: &Path, root: &Path) -> Result<(ListFormat, Vec<VideoEntry>), DatasetError> {
    let text = text::read(list)?;
    let mut format: Option<(ListFormat, usize)> = None;
    let mut entries = Vec::new();
    for (line, l) in text::content_lines(&text) {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let malformed =
            |expected: String| DatasetError::Malformed { path: list.into(), line, expected, text: l.into() };
        let this =
            match cols.len() {
                2 => ListFormat::Video,
                3 => ListFormat::RawFrames,
                _ => return Err(malformed(match format {
                    Some((f, _)) => format!("{} columns {} (paths may not contain spaces)", f.columns(), f.describe()),
                    None => {
                        "2 columns `path label` or 3 columns `dir total_frames label` (paths may not contain spaces)"
                            .into()
                    }
                })),
            };
        match format {
            None => format = Some((this, line)),
            Some((f, first)) if f != this => {
                return Err(malformed(format!("{} columns {} like line {first}", f.columns(), f.describe())));
            }
            Some(_) => {}
        }
        let label = parse_label(cols[cols.len() - 1])
            .ok_or_else(|| malformed("a whole number >= 0 as the label (last column)".into()))?;
        let total_frames = match this {
            ListFormat::Video => None,
            ListFormat::RawFrames => Some(
                cols[1]
                    .parse::<u64>()
                    .map_err(|_| malformed("a whole number >= 0 as total_frames (second column)".into()))?,
            ),
        };
        entries.push(VideoEntry { path: resolve(root, cols[0]), label, total_frames, time_range: None, line });
    }
    match format {
        Some((f, _)) if !entries.is_empty() => Ok((f, entries)),
        _ => {
            Err(DatasetError::Empty { path: list.into(), what: "`path label` or `dir total_frames label` line".into() })
        }
    }
}

/// A non-negative whole-number label.
pub(crate) fn parse_label(text: &str) -> Option<usize> {
    text.parse::<usize>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_video_lists_with_crlf_and_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let list = write(dir.path(), "l.txt", "a/x.mp4 0\r\n\r\n/abs/y.mp4 2\r\n");
        let (f, e) = read_mmaction_list(&list, Path::new("/data")).unwrap();
        assert_eq!(f, ListFormat::Video);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].path, Path::new("/data/a/x.mp4"));
        assert_eq!((e[0].label, e[0].line, e[0].total_frames), (0, 1, None));
        assert_eq!(e[1].path, Path::new("/abs/y.mp4"));
        assert_eq!((e[1].label, e[1].line), (2, 3));
    }

    #[test]
    fn reads_rawframes_lists() {
        let dir = tempfile::tempdir().unwrap();
        let list = write(dir.path(), "l.txt", "f/v1 120 3\nf/v2 7 0\n");
        let (f, e) = read_mmaction_list(&list, dir.path()).unwrap();
        assert_eq!(f, ListFormat::RawFrames);
        assert_eq!(e[0].total_frames, Some(120));
        assert_eq!(e[0].label, 3);
        assert_eq!(e[1].path, dir.path().join("f/v2"));
    }

    #[test]
    fn rejects_malformed_lines_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for (text, needle, line) in [
            ("a 0\nb 1 2\n", "like line 1", 2),
            ("a 1 2\nb 0\n", "like line 1", 2),
            ("a b c d\n", "2 columns", 1),
            ("a 0\nb x\n", "label", 2),
            ("a 0\nb -1\n", "label", 2),
            ("a x 1\n", "total_frames", 1),
            ("a 0\nwith space.mp4 1\n", "2 columns", 2),
        ] {
            let list = write(dir.path(), "bad.txt", text);
            let err = read_mmaction_list(&list, dir.path()).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, DatasetError::Malformed { line: l, .. } if l == line), "{msg}");
            assert!(msg.contains(needle) && msg.contains("bad.txt") && msg.contains(&format!(":{line}:")), "{msg}");
        }
    }

    #[test]
    fn rejects_empty_and_missing_lists() {
        let dir = tempfile::tempdir().unwrap();
        let list = write(dir.path(), "empty.txt", "\r\n  \n");
        let err = read_mmaction_list(&list, dir.path()).unwrap_err();
        assert!(matches!(err, DatasetError::Empty { .. }) && err.to_string().contains("empty.txt"), "{err}");
        let err = read_mmaction_list(&dir.path().join("nope.txt"), dir.path()).unwrap_err();
        assert!(matches!(err, DatasetError::Io { .. }) && err.to_string().contains("nope.txt"), "{err}");
    }
}
