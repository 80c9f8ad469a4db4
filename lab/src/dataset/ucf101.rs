//! UCF101's official split files (`ucfTrainTestlist/trainlist0N.txt`, `testlist0N.txt`).

use std::path::Path;

use super::lists::{resolve, VideoEntry};
use super::{text, ClassIndex, DatasetError};

/// Reads a UCF101 train or test list against its `classInd.txt`.
///
/// UCF101 results are only comparable on its three official splits, so the split files are
/// read as published rather than converted. Train lines are `Class/v_Class_g08_c01.avi 1`
/// (1-based label, checked against the class folder: a mismatch means the list and the class
/// index do not belong together); test lines are `Class/v_Class_g01_c01.avi`, labelled by
/// their folder. Paths must not contain spaces (UCF101's never do).
pub fn read_ucf101_list(
    list: &Path,
    videos_root: &Path,
    classes: &ClassIndex,
) -> Result<Vec<VideoEntry>, DatasetError> {
    let text = text::read(list)?;
    let mut entries = Vec::new();
    for (line, l) in text::content_lines(&text) {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let malformed = |expected: &str| DatasetError::Malformed {
            path: list.into(),
            line,
            expected: expected.into(),
            text: l.into(),
        };
        if cols.is_empty() || cols.len() > 2 {
            return Err(malformed(
                "`Class/video.avi 1` (train list) or `Class/video.avi` (test list); paths may not contain spaces",
            ));
        }
        let video = cols[0].replace('\\', "/");
        let folder = match video.split_once('/') {
            Some((folder, file)) if !folder.is_empty() && !file.is_empty() => folder,
            _ => return Err(malformed("a path `Class/video.avi` whose folder is the class name")),
        };
        let label = classes.index_of(folder).ok_or_else(|| DatasetError::UnknownClass {
            path: list.into(),
            line,
            name: folder.into(),
            classes: classes.len(),
        })?;
        if let Some(col) = cols.get(1) {
            let stated: u64 =
                col.parse().map_err(|_| malformed("a whole number as the 1-based label (second column)"))?;
            let stated_index = usize::try_from(stated).ok().filter(|&s| (1..=classes.len()).contains(&s));
            let Some(stated_index) = stated_index else {
                return Err(DatasetError::LabelOutOfRange {
                    path: list.into(),
                    line,
                    label: stated,
                    classes: classes.len(),
                    expected: format!("1..={} (UCF101 labels are 1-based)", classes.len()),
                });
            };
            if stated_index - 1 != label {
                return Err(DatasetError::LabelMismatch {
                    path: list.into(),
                    line,
                    label: stated,
                    label_name: classes.name(stated_index - 1).into(),
                    folder: folder.into(),
                    expected: label + 1,
                });
            }
        }
        entries.push(VideoEntry {
            path: resolve(videos_root, &video),
            label,
            total_frames: None,
            time_range: None,
            line,
        });
    }
    if entries.is_empty() {
        return Err(DatasetError::Empty { path: list.into(), what: "`Class/video.avi [label]` line".into() });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input, the error it must give, and a phrase its message must contain.
    type Case = (&'static str, fn(&DatasetError) -> bool, &'static str);

    fn classes() -> ClassIndex {
        ClassIndex::from_names(["ApplyEyeMakeup", "ApplyLipstick", "Archery"]).unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_train_and_test_lists() {
        let dir = tempfile::tempdir().unwrap();
        let train = write(
            dir.path(),
            "trainlist01.txt",
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\nArchery/v_Archery_g08_c01.avi 3\r\n\r\n",
        );
        let e = read_ucf101_list(&train, Path::new("/ucf"), &classes()).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].label, 2);
        assert_eq!(e[1].path, Path::new("/ucf/Archery/v_Archery_g08_c01.avi"));
        let test = write(dir.path(), "testlist01.txt", "ApplyLipstick/v_ApplyLipstick_g01_c01.avi\n");
        let e = read_ucf101_list(&test, Path::new("/ucf"), &classes()).unwrap();
        assert_eq!((e[0].label, e[0].line), (1, 1));
    }

    #[test]
    fn rejects_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let cases: Vec<Case> = vec![
            (
                "Archery/v.avi 1\n",
                |e| matches!(e, DatasetError::LabelMismatch { line: 1, expected: 3, .. }),
                "expected label 3",
            ),
            ("Archery/v.avi 0\n", |e| matches!(e, DatasetError::LabelOutOfRange { line: 1, label: 0, .. }), "1..=3"),
            ("Archery/v.avi 4\n", |e| matches!(e, DatasetError::LabelOutOfRange { label: 4, .. }), "out of range"),
            (
                "Archery/v.avi 3\nBowling/v.avi 1\n",
                |e| matches!(e, DatasetError::UnknownClass { line: 2, .. }),
                "\"Bowling\"",
            ),
            ("Archery/v.avi x\n", |e| matches!(e, DatasetError::Malformed { line: 1, .. }), "1-based label"),
            ("v.avi\n", |e| matches!(e, DatasetError::Malformed { line: 1, .. }), "Class/video.avi"),
            ("Archery/v.avi 3 9\n", |e| matches!(e, DatasetError::Malformed { line: 1, .. }), "train list"),
            ("\n\n", |e| matches!(e, DatasetError::Empty { .. }), "no entries"),
        ];
        for (text, is, needle) in cases {
            let list = write(dir.path(), "trainlist01.txt", text);
            let err = read_ucf101_list(&list, dir.path(), &classes()).unwrap_err();
            let msg = err.to_string();
            assert!(is(&err) && msg.contains(needle) && msg.contains("trainlist01.txt"), "{text:?}: {msg}");
        }
    }
}
