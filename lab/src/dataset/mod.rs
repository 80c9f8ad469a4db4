//! Datasets: annotation lists, class indexes, long-video ground truth and clip samplers.

pub mod actions;
pub mod classes;
pub mod error;
pub mod kinetics;
pub mod lists;
pub mod long;
pub mod sampler;
#[cfg(test)]
mod sampler_tests;
#[cfg(test)]
mod tests;
mod text;
pub mod ucf101;

use std::path::{Path, PathBuf};

pub use actions::{ActionSpans, ACTIONS_FILE};
pub use classes::ClassIndex;
pub use error::DatasetError;
pub use kinetics::read_kinetics_csv;
pub use lists::{read_mmaction_list, ListFormat, VideoEntry};
pub use long::{load_long_list, load_long_split, LongVideo};
/// Long-video ground truth lives with the synthetic scene in `motus-core` (the device's demo
/// camera records it too); the dataset readers use it from there.
pub use motus_core::truth::{GroundTruth, GroundTruthError, Segment};
pub use sampler::{ClipIndices, CropMode, CropPosition, SampleError, SampleMode, SamplerConfig, TestView};
pub use ucf101::read_ucf101_list;

use motus_core::frame::Frame;
use motus_core::media::{self, MediaError, VideoReader};

/// The split names of the layout `motus synth` writes.
pub const SPLITS: [&str; 3] = ["train", "val", "test"];

/// A labelled set of videos with its class index: what training and evaluation iterate over.
///
/// Every supported annotation format loads into this one type, so the rest of motus has one
/// way to count classes, find files and decode samples, whichever dataset it was given.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Folder the list's relative paths were resolved against.
    pub root: PathBuf,
    /// What each label means; every entry's label indexes it.
    pub classes: ClassIndex,
    /// Videos in list order; every `label` is `< classes.len()`.
    pub entries: Vec<VideoEntry>,
    /// The list (or CSV) file the entries came from, so errors can name its lines.
    pub list: PathBuf,
}

impl Dataset {
    /// Opens one split of the layout `motus synth` writes: `dir/classInd.txt` and
    /// `dir/{split}.txt` (an MMAction2 list with 0-based labels, paths relative to `dir`).
    pub fn open_split(dir: &Path, split: &str) -> Result<Self, DatasetError> {
        if !SPLITS.contains(&split) {
            return Err(DatasetError::UnknownSplit {
                path: dir.into(),
                split: split.into(),
                expected: SPLITS.join(", "),
            });
        }
        let classes = ClassIndex::load(&dir.join("classInd.txt"))?;
        Self::from_list(&dir.join(format!("{split}.txt")), dir, Some(classes))
    }

    /// Loads any MMAction2 video or rawframes list. Without a class index, classes are
    /// inferred as `0..=max label` and named `class_<i>`, enough to train and report on a list
    /// that came without one.
    pub fn from_list(list_file: &Path, root: &Path, classes: Option<ClassIndex>) -> Result<Self, DatasetError> {
        let (_, entries) = read_mmaction_list(list_file, root)?;
        let classes = match classes {
            Some(c) => c,
            None => {
                let max = entries.iter().map(|e| e.label).max().unwrap_or(0);
                ClassIndex::from_names_unchecked((0..=max).map(|i| format!("class_{i}")).collect())
            }
        };
        if let Some(bad) = entries.iter().find(|e| e.label >= classes.len()) {
            return Err(DatasetError::LabelOutOfRange {
                path: list_file.into(),
                line: bad.line,
                label: bad.label as u64,
                classes: classes.len(),
                expected: format!("0..{} (list labels are 0-based)", classes.len()),
            });
        }
        Ok(Dataset { root: root.into(), classes, entries, list: list_file.into() })
    }

    /// Opens one of UCF101's three official splits from `split_dir` (the `ucfTrainTestlist`
    /// folder: `classInd.txt`, `trainlist0N.txt`, `testlist0N.txt`), videos under `videos_root`.
    pub fn ucf101(split_dir: &Path, videos_root: &Path, split_no: u32, train: bool) -> Result<Self, DatasetError> {
        let kind = if train { "trainlist" } else { "testlist" };
        if !(1..=3).contains(&split_no) {
            return Err(DatasetError::UnknownSplit {
                path: split_dir.into(),
                split: format!("{kind}{split_no:02}"),
                expected: "split 1, 2 or 3 (UCF101 has three official splits)".into(),
            });
        }
        let classes = ClassIndex::load(&split_dir.join("classInd.txt"))?;
        let list = split_dir.join(format!("{kind}{split_no:02}.txt"));
        let entries = read_ucf101_list(&list, videos_root, &classes)?;
        Ok(Dataset { root: videos_root.into(), classes, entries, list })
    }

    /// Opens the `split` rows of a Kinetics-style CSV, videos under `root/<split>/<label>/`
    /// (see [`read_kinetics_csv`]).
    pub fn kinetics_csv(csv: &Path, root: &Path, split: &str) -> Result<Self, DatasetError> {
        let (classes, entries) = read_kinetics_csv(csv, root, split, None)?;
        Ok(Dataset { root: root.into(), classes, entries, list: csv.into() })
    }

    /// Fails on the first entry whose video file or frame folder is missing, naming the list
    /// line: a typo found now costs seconds, found mid-training it costs the run.
    pub fn check_files(&self) -> Result<(), DatasetError> {
        match self.entries.iter().find(|e| !e.path.exists()) {
            Some(e) => Err(DatasetError::MissingVideo { path: self.list.clone(), line: e.line, video: e.path.clone() }),
            None => Ok(()),
        }
    }

    /// [`Self::check_files`] as a step of loading: `Dataset::open_split(d, "train")?.verified()?`.
    pub fn verified(self) -> Result<Self, DatasetError> {
        self.check_files()?;
        Ok(self)
    }

    /// Videos per class, indexed by label: class balance decides sampling and loss weights.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for e in &self.entries {
            if let Some(c) = counts.get_mut(e.label) {
                *c += 1;
            }
        }
        counts
    }

    /// Opens an entry for decoding; a `time_range` is trimmed by ffmpeg at decode time, so
    /// untrimmed Kinetics downloads need no preprocessing pass.
    pub fn open_entry(&self, entry: &VideoEntry) -> Result<Box<dyn VideoReader>, MediaError> {
        match entry.time_range {
            Some((start, end)) => {
                Ok(Box::new(media::ffmpeg::FfmpegReader::open_range(&entry.path, Some((start, end - start)))?))
            }
            None => media::open_video(&entry.path),
        }
    }

    /// Decodes a whole entry into memory; meant for short clips (training samples, tests).
    pub fn load_frames(&self, entry: &VideoEntry) -> Result<Vec<Frame>, MediaError> {
        self.open_entry(entry)?.read_all()
    }
}
