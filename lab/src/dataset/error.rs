//! Why a dataset could not be loaded.

use std::path::PathBuf;

use motus_core::truth::GroundTruthError;

/// Why a class index, a video list or a dataset folder was refused.
///
/// A dataset has thousands of lines written by hand or by scripts; every variant names the file
/// and, where one is to blame, its 1-based line, and says what was expected there, so the line
/// can be found and fixed without a debugger.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A line that does not have the expected shape (column count, a number that is not one).
    #[error("{path}:{line}: expected {expected}, got {text:?}")]
    Malformed { path: PathBuf, line: usize, expected: String, text: String },
    /// A label that names no class of the class index.
    #[error(
        "{path}:{line}: label {label} is out of range: expected {expected} (the class index has {classes} classes)"
    )]
    LabelOutOfRange { path: PathBuf, line: usize, label: u64, classes: usize, expected: String },
    /// A class name (a folder or a CSV label) that the class index does not list.
    #[error("{path}:{line}: class {name:?} is not in the class index; expected one of its {classes} class names")]
    UnknownClass { path: PathBuf, line: usize, name: String, classes: usize },
    /// A UCF101 line whose numeric label and class folder disagree.
    #[error("{path}:{line}: label {label} is class {label_name:?} but the video is in folder {folder:?}; expected label {expected}")]
    LabelMismatch { path: PathBuf, line: usize, label: u64, label_name: String, folder: String, expected: usize },
    /// A class index or name that appears twice in a class index file.
    #[error(
        "{path}:{line}: duplicate class {what} {value:?}, already on line {first}; expected each index and name once"
    )]
    DuplicateClass { path: PathBuf, line: usize, first: usize, what: &'static str, value: String },
    /// Class indices that do not run 1, 2, …, N.
    #[error("{path}: class index {missing} is missing; expected indices 1..={count} without gaps")]
    NonContiguous { path: PathBuf, missing: usize, count: usize },
    /// A list (or the rows of a split) with no entries: training on nothing is always a mistake.
    #[error("{path}: no entries; expected at least one {what}")]
    Empty { path: PathBuf, what: String },
    /// A video file or frame folder named by a list that is not on disk.
    #[error("{path}:{line}: video {video} does not exist; expected a file or frame folder there")]
    MissingVideo { path: PathBuf, line: usize, video: PathBuf },
    /// A Kinetics-style CSV whose first line is not the expected header.
    #[error("{path}:1: expected the header `label,youtube_id,time_start,time_end,split` (extra trailing columns allowed), got {got:?}")]
    BadHeader { path: PathBuf, got: String },
    /// A Kinetics-style row whose clip times cannot describe a clip.
    #[error("{path}:{line}: bad clip times start {start} s, end {end} s; expected 0 <= start < end")]
    BadTimes { path: PathBuf, line: usize, start: f64, end: f64 },
    /// A split name (or UCF101 split number) this layout does not have.
    #[error("{path}: unknown split {split:?}; expected one of {expected}")]
    UnknownSplit { path: PathBuf, split: String, expected: String },
    /// A long video's ground-truth file is missing or invalid.
    #[error("{list}:{line}: ground truth of {video}: {source}")]
    GroundTruth { list: PathBuf, line: usize, video: PathBuf, source: GroundTruthError },
}

impl DatasetError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DatasetError::Io { path: path.into(), source }
    }
}
