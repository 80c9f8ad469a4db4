//! Kinetics-style annotation CSVs (`label,youtube_id,time_start,time_end,split`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::lists::VideoEntry;
use super::{text, ClassIndex, DatasetError};

/// The columns every Kinetics release starts with; later ones (`is_cc`) are ignored.
const HEADER: [&str; 5] = ["label", "youtube_id", "time_start", "time_end", "split"];

/// Reads the rows of `split` from a Kinetics-style CSV.
///
/// Kinetics is distributed as annotations over YouTube videos, and people store it either as
/// clips already trimmed by the usual download scripts (`<id>_<start:06>_<end:06>.mp4`) or as
/// the whole downloads (`<id>.mp4`). Both are accepted: a row points at
/// `<root>/<split>/<label>/<id>_<start:06>_<end:06>.mp4` when that file exists, otherwise at
/// `<root>/<split>/<label>/<id>.mp4` with `time_range` set so the decoder trims it.
///
/// Classes are the sorted unique labels of every row of the CSV (whatever their split, so the
/// train and val CSVs of one release agree), unless `classes` is given. Rows of other splits
/// are skipped; a split no row has is an error, since it is almost always a typo.
pub fn read_kinetics_csv(
    csv: &Path,
    root: &Path,
    split: &str,
    classes: Option<&ClassIndex>,
) -> Result<(ClassIndex, Vec<VideoEntry>), DatasetError> {
    let text = text::read(csv)?;
    let mut lines = text::content_lines(&text);
    let Some((_, header)) = lines.next() else {
        return Err(DatasetError::Empty { path: csv.into(), what: "header line and data row".into() });
    };
    let cols = split_csv(header);
    if cols.len() < HEADER.len() || cols.iter().zip(HEADER).any(|(c, h)| !c.eq_ignore_ascii_case(h)) {
        return Err(DatasetError::BadHeader { path: csv.into(), got: header.into() });
    }
    struct Row {
        line: usize,
        label: String,
        id: String,
        start: f64,
        end: f64,
        split: String,
    }
    let mut rows = Vec::new();
    for (line, l) in lines {
        let f = split_csv(l);
        let malformed = |expected: &str| DatasetError::Malformed {
            path: csv.into(),
            line,
            expected: expected.into(),
            text: l.into(),
        };
        if f.len() < HEADER.len() {
            return Err(malformed("at least 5 comma-separated columns `label,youtube_id,time_start,time_end,split`"));
        }
        if f[0].is_empty() || f[1].is_empty() {
            return Err(malformed("a non-empty label and youtube_id"));
        }
        let start: f64 = f[2].parse().map_err(|_| malformed("a number of seconds as time_start (third column)"))?;
        let end: f64 = f[3].parse().map_err(|_| malformed("a number of seconds as time_end (fourth column)"))?;
        if !(start.is_finite() && end.is_finite() && start >= 0.0 && end > start) {
            return Err(DatasetError::BadTimes { path: csv.into(), line, start, end });
        }
        rows.push(Row { line, label: f[0].clone(), id: f[1].clone(), start, end, split: f[4].clone() });
    }
    if rows.is_empty() {
        return Err(DatasetError::Empty { path: csv.into(), what: "data row after the header".into() });
    }
    let classes = match classes {
        Some(c) => c.clone(),
        None => ClassIndex::from_names_unchecked(
            rows.iter().map(|r| r.label.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        ),
    };
    let mut entries = Vec::new();
    for r in rows.iter().filter(|r| r.split == split) {
        let label = classes.index_of(&r.label).ok_or_else(|| DatasetError::UnknownClass {
            path: csv.into(),
            line: r.line,
            name: r.label.clone(),
            classes: classes.len(),
        })?;
        let folder = root.join(&r.split).join(&r.label);
        let trimmed = folder.join(trimmed_name(&r.id, r.start, r.end));
        let (path, time_range) = if trimmed.is_file() {
            (trimmed, None)
        } else {
            (folder.join(format!("{}.mp4", r.id)), Some((r.start, r.end)))
        };
        entries.push(VideoEntry { path, label, total_frames: None, time_range, line: r.line });
    }
    if entries.is_empty() {
        let present: BTreeSet<&str> = rows.iter().map(|r| r.split.as_str()).collect();
        return Err(DatasetError::UnknownSplit {
            path: csv.into(),
            split: split.into(),
            expected: format!("a split that rows name: {}", present.into_iter().collect::<Vec<_>>().join(", ")),
        });
    }
    Ok((classes, entries))
}

/// The name the common Kinetics download scripts give a trimmed clip.
pub(crate) fn trimmed_name(id: &str, start: f64, end: f64) -> PathBuf {
    PathBuf::from(format!("{id}_{:06}_{:06}.mp4", start as u64, end as u64))
}

/// Splits one CSV line on commas, honouring double-quoted fields (`"a, b"`, `""` for a quote)
/// and trimming unquoted whitespace: Kinetics labels such as `"passing American football (in
/// game)"` are quoted in some releases.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field).trim().to_string()),
            c => field.push(c),
        }
    }
    fields.push(field.trim().to_string());
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input, the error it must give, and a phrase its message must contain.
    type Case = (String, fn(&DatasetError) -> bool, &'static str);

    const HEAD: &str = "label,youtube_id,time_start,time_end,split,is_cc\r\n";

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("k.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(split_csv(r#"a, "b, c" ,"d""e",,"#), vec!["a", "b, c", "d\"e", "", ""]);
    }

    #[test]
    fn prefers_trimmed_clips_and_falls_back_to_time_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(dir.path(), &format!("{HEAD}\"air drumming\",abc,14,24,train,0\r\nabseiling,xyz,3.5,13.5,train,0\r\nabseiling,val1,0,10,val,0\r\n"));
        let folder = dir.path().join("train/air drumming");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("abc_000014_000024.mp4"), b"").unwrap();
        let (classes, e) = read_kinetics_csv(&csv, dir.path(), "train", None).unwrap();
        assert_eq!(classes.names(), ["abseiling", "air drumming"]);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].path, folder.join("abc_000014_000024.mp4"));
        assert_eq!((e[0].label, e[0].time_range, e[0].line), (1, None, 2));
        assert_eq!(e[1].path, dir.path().join("train/abseiling/xyz.mp4"));
        assert_eq!(e[1].time_range, Some((3.5, 13.5)));
        let (_, v) = read_kinetics_csv(&csv, dir.path(), "val", None).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, dir.path().join("val/abseiling/val1.mp4"));
    }

    #[test]
    fn uses_a_given_class_index() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(dir.path(), &format!("{HEAD}b,id,0,10,train,0\n"));
        let classes = ClassIndex::from_names(["a", "b", "c"]).unwrap();
        let (c, e) = read_kinetics_csv(&csv, dir.path(), "train", Some(&classes)).unwrap();
        assert_eq!((c.len(), e[0].label), (3, 1));
        let only_a = ClassIndex::from_names(["a"]).unwrap();
        let err = read_kinetics_csv(&csv, dir.path(), "train", Some(&only_a)).unwrap_err();
        assert!(
            matches!(err, DatasetError::UnknownClass { line: 2, .. }) && err.to_string().contains("k.csv:2:"),
            "{err}"
        );
    }

    #[test]
    fn rejects_bad_headers_rows_times_and_splits() {
        let dir = tempfile::tempdir().unwrap();
        let cases: Vec<Case> = vec![
            (
                "label,id,start,end,split\na,b,0,1,train\n".into(),
                |e| matches!(e, DatasetError::BadHeader { .. }),
                "expected the header",
            ),
            ("label,youtube_id,time_start\n".into(), |e| matches!(e, DatasetError::BadHeader { .. }), "k.csv:1:"),
            (
                format!("{HEAD}a,b,5,5,train\n"),
                |e| matches!(e, DatasetError::BadTimes { line: 2, .. }),
                "0 <= start < end",
            ),
            (format!("{HEAD}a,b,6,5,train\n"), |e| matches!(e, DatasetError::BadTimes { line: 2, .. }), "k.csv:2:"),
            (format!("{HEAD}a,b,-1,5,train\n"), |e| matches!(e, DatasetError::BadTimes { .. }), "start -1"),
            (format!("{HEAD}a,b,x,5,train\n"), |e| matches!(e, DatasetError::Malformed { line: 2, .. }), "time_start"),
            (format!("{HEAD}a,b,0,5\n"), |e| matches!(e, DatasetError::Malformed { line: 2, .. }), "5 comma-separated"),
            (format!("{HEAD}a,b,0,5,val\n"), |e| matches!(e, DatasetError::UnknownSplit { .. }), "rows name: val"),
            (HEAD.into(), |e| matches!(e, DatasetError::Empty { .. }), "data row"),
            ("".into(), |e| matches!(e, DatasetError::Empty { .. }), "header"),
        ];
        for (text, is, needle) in cases {
            let csv = write(dir.path(), &text);
            let err = read_kinetics_csv(&csv, dir.path(), "train", None).unwrap_err();
            let msg = err.to_string();
            assert!(is(&err) && msg.contains(needle) && msg.contains("k.csv"), "{text:?}: {msg}");
        }
    }
}
