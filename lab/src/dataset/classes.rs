//! The class index: which name each numeric label stands for.

use std::collections::HashMap;
use std::path::Path;

use super::{text, DatasetError};

/// Class names in label order (label `i` is `names[i]`, 0-based).
///
/// Labels in lists are bare numbers; the class index is the one place that says what they mean,
/// so training, evaluation and the device must all read the same one. It is stored as UCF101's
/// `classInd.txt` (`1 ApplyEyeMakeup`, 1-based), the format most action datasets ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassIndex {
    names: Vec<String>,
}

impl ClassIndex {
    /// Builds an index from names already in label order (e.g. the sorted labels of a CSV).
    /// `None` when a name is empty, contains whitespace (it could not be written back to
    /// `classInd.txt`) or repeats (a name must map to one label).
    pub fn from_names<I, S>(names: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let mut seen = std::collections::HashSet::new();
        for n in &names {
            if n.is_empty() || n.chars().any(char::is_whitespace) || !seen.insert(n.as_str()) {
                return None;
            }
        }
        Some(ClassIndex { names })
    }

    /// Builds an index from names that may contain spaces (Kinetics labels such as
    /// `air drumming`); such an index cannot be saved as `classInd.txt` unchanged.
    pub(crate) fn from_names_unchecked(names: Vec<String>) -> Self {
        ClassIndex { names }
    }

    /// Reads a UCF101-style `classInd.txt`: one `index name` pair per line, indices 1..=N
    /// each exactly once (in any order), names unique; blank lines and CRLF are tolerated.
    pub fn load(path: &Path) -> Result<Self, DatasetError> {
        Self::parse(&text::read(path)?, path)
    }

    /// Parses `classInd.txt` text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, DatasetError> {
        let mut by_index: HashMap<usize, (usize, String)> = HashMap::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (line, l) in text::content_lines(text) {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let malformed = |expected: &str| DatasetError::Malformed {
                path: path.into(),
                line,
                expected: expected.into(),
                text: l.into(),
            };
            if cols.len() != 2 {
                return Err(malformed("two columns `<1-based index> <class name>`"));
            }
            let index: usize = cols[0].parse().map_err(|_| malformed("a whole number >= 1 as the class index"))?;
            if index == 0 {
                return Err(malformed("a whole number >= 1 as the class index (classInd.txt is 1-based)"));
            }
            let name = cols[1].to_string();
            if let Some(&(first, _)) = by_index.get(&index) {
                return Err(DatasetError::DuplicateClass {
                    path: path.into(),
                    line,
                    first,
                    what: "index",
                    value: index.to_string(),
                });
            }
            if let Some(&first) = by_name.get(&name) {
                return Err(DatasetError::DuplicateClass { path: path.into(), line, first, what: "name", value: name });
            }
            by_name.insert(name.clone(), line);
            by_index.insert(index, (line, name));
        }
        let count = by_index.len();
        if count == 0 {
            return Err(DatasetError::Empty { path: path.into(), what: "`<index> <class name>` line".into() });
        }
        let mut names = Vec::with_capacity(count);
        for i in 1..=count {
            match by_index.remove(&i) {
                Some((_, name)) => names.push(name),
                None => return Err(DatasetError::NonContiguous { path: path.into(), missing: i, count }),
            }
        }
        Ok(ClassIndex { names })
    }

    /// The `classInd.txt` text for this index (1-based, LF line ends).
    pub fn to_class_ind(&self) -> String {
        self.names.iter().enumerate().map(|(i, n)| format!("{} {n}\n", i + 1)).collect()
    }

    /// Writes `classInd.txt`, so a generated or inferred dataset can be read back by any tool.
    pub fn save(&self, path: &Path) -> Result<(), DatasetError> {
        std::fs::write(path, self.to_class_ind()).map_err(|e| DatasetError::io(path, e))
    }

    /// Number of classes (labels run `0..len()`).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True for an index with no classes (only possible through `from_names`).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of label `i`, for reports. Panics when `i >= len()`, like slice indexing:
    /// labels of a loaded [`super::Dataset`] are already checked to be in range.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// The name of label `i`, or `None` when out of range, for labels not yet checked.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.names.get(i).map(String::as_str)
    }

    /// The 0-based label of `name`, for lists that name classes instead of numbering them.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// All names in label order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input, the error it must give, and a phrase its message must contain.
    type Case = (&'static str, fn(&DatasetError) -> bool, &'static str);

    fn parse(text: &str) -> Result<ClassIndex, DatasetError> {
        ClassIndex::parse(text, Path::new("classInd.txt"))
    }

    #[test]
    fn reads_crlf_blank_lines_any_order_and_round_trips() {
        let c = parse("\r\n2 ApplyLipstick\r\n\r\n1 ApplyEyeMakeup\r\n3 Archery").unwrap();
        assert_eq!(c.names(), ["ApplyEyeMakeup", "ApplyLipstick", "Archery"]);
        assert_eq!(
            (c.len(), c.name(2), c.get(3), c.index_of("ApplyLipstick"), c.index_of("x")),
            (3, "Archery", None, Some(1), None)
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("classInd.txt");
        c.save(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1 ApplyEyeMakeup\n2 ApplyLipstick\n3 Archery\n");
        assert_eq!(ClassIndex::load(&path).unwrap(), c);
    }

    #[test]
    fn from_names_refuses_unwritable_or_repeated_names() {
        assert_eq!(ClassIndex::from_names(["a", "b"]).unwrap().index_of("b"), Some(1));
        assert!(ClassIndex::from_names(["a", "a"]).is_none());
        assert!(ClassIndex::from_names(["a b"]).is_none());
        assert!(ClassIndex::from_names([""]).is_none());
    }

    #[test]
    fn rejects_bad_files_naming_file_and_line() {
        let cases: Vec<Case> = vec![
            ("1 a\n2\n", |e| matches!(e, DatasetError::Malformed { line: 2, .. }), "two columns"),
            ("1 a b\n", |e| matches!(e, DatasetError::Malformed { line: 1, .. }), "two columns"),
            ("x a\n", |e| matches!(e, DatasetError::Malformed { line: 1, .. }), "whole number"),
            ("0 a\n", |e| matches!(e, DatasetError::Malformed { line: 1, .. }), "1-based"),
            (
                "1 a\n\n1 b\n",
                |e| matches!(e, DatasetError::DuplicateClass { line: 3, first: 1, what: "index", .. }),
                "already on line 1",
            ),
            (
                "1 a\n2 a\n",
                |e| matches!(e, DatasetError::DuplicateClass { line: 2, what: "name", .. }),
                "duplicate class name",
            ),
            ("1 a\n3 b\n", |e| matches!(e, DatasetError::NonContiguous { missing: 2, count: 2, .. }), "1..=2"),
            ("2 a\n", |e| matches!(e, DatasetError::NonContiguous { missing: 1, .. }), "index 1 is missing"),
            ("\r\n\r\n", |e| matches!(e, DatasetError::Empty { .. }), "no entries"),
        ];
        for (text, is, needle) in cases {
            let err = parse(text).unwrap_err();
            let msg = err.to_string();
            assert!(is(&err) && msg.contains(needle) && msg.contains("classInd.txt"), "{text:?}: {msg}");
        }
        let err = ClassIndex::load(Path::new("/nonexistent/classInd.txt")).unwrap_err();
        assert!(matches!(err, DatasetError::Io { .. }) && err.to_string().contains("/nonexistent/classInd.txt"));
    }
}
