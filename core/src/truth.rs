//! Ground truth of long videos: which action happens in which frames.
//!
//! `motus synth --long` writes one of these next to each long video (`<video stem>.json`);
//! long-video evaluation and the alert tests read it back to score detections per event.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One labelled action inside a long video, over the half-open frame range
/// `[start_frame, end_frame)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start_frame: u64,
    /// One past the last frame of the action.
    pub end_frame: u64,
    /// 0-based index into the dataset's class list (`classInd.txt` line number - 1).
    pub class_index: usize,
    pub class_name: String,
}

/// Everything needed to score a detector on one long video without decoding it first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub frames: u64,
    /// Actions in time order, never overlapping; frames outside every segment are background.
    pub segments: Vec<Segment>,
}

/// Why a ground-truth file was refused.
#[derive(Debug, thiserror::Error)]
pub enum GroundTruthError {
    #[error("{path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("{path}: not a ground-truth JSON file: {source}")]
    Json { path: std::path::PathBuf, source: serde_json::Error },
    #[error("{path}: segment {index}: {reason}")]
    BadSegment { path: std::path::PathBuf, index: usize, reason: String },
}

impl GroundTruth {
    /// Reads and checks a ground-truth file: segments must be non-empty, inside the video,
    /// in order and non-overlapping, so scoring code can rely on that.
    pub fn load(path: &Path) -> Result<Self, GroundTruthError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| GroundTruthError::Io { path: path.into(), source })?;
        let gt: GroundTruth =
            serde_json::from_str(&text).map_err(|source| GroundTruthError::Json { path: path.into(), source })?;
        gt.check().map_err(|(index, reason)| GroundTruthError::BadSegment { path: path.into(), index, reason })?;
        Ok(gt)
    }

    /// Writes the file (pretty JSON, so a person can read it).
    pub fn save(&self, path: &Path) -> Result<(), GroundTruthError> {
        let text = serde_json::to_string_pretty(self).expect("ground truth serialises");
        std::fs::write(path, text).map_err(|source| GroundTruthError::Io { path: path.into(), source })
    }

    fn check(&self) -> Result<(), (usize, String)> {
        let mut previous_end = 0;
        for (i, s) in self.segments.iter().enumerate() {
            if s.end_frame <= s.start_frame {
                return Err((i, format!("empty range [{}, {})", s.start_frame, s.end_frame)));
            }
            if s.end_frame > self.frames {
                return Err((i, format!("ends at frame {} but the video has {} frames", s.end_frame, self.frames)));
            }
            if s.start_frame < previous_end {
                return Err((
                    i,
                    format!("starts at frame {} before the previous segment ends ({previous_end})", s.start_frame),
                ));
            }
            previous_end = s.end_frame;
        }
        Ok(())
    }

    /// The segment covering `frame`, if any.
    pub fn label_at(&self, frame: u64) -> Option<&Segment> {
        self.segments.iter().find(|s| (s.start_frame..s.end_frame).contains(&frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt(segments: Vec<(u64, u64)>) -> GroundTruth {
        GroundTruth {
            width: 64,
            height: 48,
            fps: 25.0,
            frames: 100,
            segments: segments
                .into_iter()
                .map(|(a, b)| Segment { start_frame: a, end_frame: b, class_index: 1, class_name: "walk_left".into() })
                .collect(),
        }
    }

    #[test]
    fn round_trip_and_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.json");
        let g = gt(vec![(10, 30), (40, 60)]);
        g.save(&path).unwrap();
        let back = GroundTruth::load(&path).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.label_at(10).unwrap().start_frame, 10);
        assert!(back.label_at(30).is_none());
        assert!(back.label_at(35).is_none());
    }

    #[test]
    fn rejects_bad_segments() {
        let dir = tempfile::tempdir().unwrap();
        for (i, (segs, needle)) in [
            (vec![(10, 10)], "empty range"),
            (vec![(10, 120)], "the video has 100 frames"),
            (vec![(10, 30), (20, 40)], "before the previous segment ends"),
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.path().join(format!("{i}.json"));
            gt(segs).save(&path).unwrap();
            let err = GroundTruth::load(&path).unwrap_err().to_string();
            assert!(err.contains(needle) && err.contains(&format!("{i}.json")), "{err}");
        }
        let path = dir.path().join("junk.json");
        std::fs::write(&path, "{not json").unwrap();
        assert!(GroundTruth::load(&path).unwrap_err().to_string().contains("not a ground-truth JSON"));
    }
}
