//! Classification metrics as the video literature reports them.
//!
//! Clip Hit@1 scores every clip on its own; video Hit@k scores a video by the mean of its
//! clips' probabilities (the protocol of Karpathy et al. and of the two-stream papers); mean
//! class accuracy averages per-class recall so a large class cannot hide a failing small one.

use serde::Serialize;

/// Why scores could not be accumulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    #[error("scores have {got} classes, expected {expected}")]
    ClassCount { got: usize, expected: usize },
    #[error("label {label} is out of range for {classes} classes")]
    Label { label: usize, classes: usize },
    #[error("video {video} has no clips")]
    NoClips { video: usize },
    #[error("scores contain a non-finite value")]
    NonFinite,
}

/// Collects per-clip probabilities grouped by video, then summarises them.
#[derive(Debug, Clone)]
pub struct Accumulator {
    classes: usize,
    /// (label, per-clip probability vectors) for each video.
    videos: Vec<(usize, Vec<Vec<f32>>)>,
}

/// Precision and recall of one class.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassStats {
    pub name: String,
    /// Videos of this class.
    pub support: usize,
    /// Of the videos predicted as this class, the fraction that are (NaN-free: `None` when
    /// nothing was predicted as it).
    pub precision: Option<f64>,
    /// Of this class's videos, the fraction predicted right (`None` without videos).
    pub recall: Option<f64>,
}

/// The summary the evaluator prints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub n_videos: usize,
    pub n_clips: usize,
    pub clip_top1: f64,
    pub video_top1: f64,
    pub video_top5: f64,
    /// Mean over classes with at least one video of their video top-1 recall.
    pub mean_class_acc: f64,
    pub per_class: Vec<ClassStats>,
    /// `confusion[true][predicted]` video counts.
    pub confusion: Vec<Vec<usize>>,
}

/// The index of the highest score (the first on ties): every top-1 in `eval` uses this one.
pub(crate) fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

/// Whether `label` is among the `k` highest scores (ties broken toward the lower index, so
/// the result does not depend on sort stability).
fn in_top_k(p: &[f32], label: usize, k: usize) -> bool {
    let target = p[label];
    let better = p.iter().enumerate().filter(|&(i, &v)| v > target || (v == target && i < label)).count();
    better < k
}

impl Accumulator {
    /// An empty accumulator for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Accumulator { classes, videos: Vec::new() }
    }

    /// Adds one video: its true label and the probabilities of each of its clips.
    pub fn add_video(&mut self, label: usize, clips: Vec<Vec<f32>>) -> Result<(), MetricsError> {
        if label >= self.classes {
            return Err(MetricsError::Label { label, classes: self.classes });
        }
        if clips.is_empty() {
            return Err(MetricsError::NoClips { video: self.videos.len() });
        }
        for c in &clips {
            if c.len() != self.classes {
                return Err(MetricsError::ClassCount { got: c.len(), expected: self.classes });
            }
            if c.iter().any(|v| !v.is_finite()) {
                return Err(MetricsError::NonFinite);
            }
        }
        self.videos.push((label, clips));
        Ok(())
    }

    /// Number of videos added.
    pub fn len(&self) -> usize {
        self.videos.len()
    }

    /// True before any video was added.
    pub fn is_empty(&self) -> bool {
        self.videos.is_empty()
    }

    /// The video-level prediction (argmax of the mean clip probability) of each video, in the
    /// order added: what `--compare` lines up between two models.
    pub fn video_predictions(&self) -> Vec<usize> {
        self.videos.iter().map(|(_, clips)| video_prediction(clips)).collect()
    }

    /// Computes every metric; `names` label the classes in the per-class table.
    pub fn summary(&self, names: &[String]) -> Summary {
        let k = self.classes;
        let mut confusion = vec![vec![0usize; k]; k];
        let (mut clip_hits, mut n_clips, mut top1, mut top5) = (0usize, 0usize, 0usize, 0usize);
        for (label, clips) in &self.videos {
            for c in clips {
                n_clips += 1;
                clip_hits += (argmax(c) == *label) as usize;
            }
            let m = mean(clips);
            let pred = argmax(&m);
            confusion[*label][pred] += 1;
            top1 += (pred == *label) as usize;
            top5 += in_top_k(&m, *label, 5) as usize;
        }
        let n = self.videos.len();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class: Vec<ClassStats> = (0..k)
            .map(|c| {
                let support: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                ClassStats {
                    name: names.get(c).cloned().unwrap_or_else(|| format!("class_{c}")),
                    support,
                    precision: (predicted > 0).then(|| confusion[c][c] as f64 / predicted as f64),
                    recall: (support > 0).then(|| confusion[c][c] as f64 / support as f64),
                }
            })
            .collect();
        let recalls: Vec<f64> = per_class.iter().filter_map(|s| s.recall).collect();
        Summary {
            n_videos: n,
            n_clips,
            clip_top1: ratio(clip_hits, n_clips),
            video_top1: ratio(top1, n),
            video_top5: ratio(top5, n),
            mean_class_acc: if recalls.is_empty() { 0.0 } else { recalls.iter().sum::<f64>() / recalls.len() as f64 },
            per_class,
            confusion,
        }
    }
}

/// A video's predicted class from its clips' probabilities: the argmax of their mean (the
/// literature's video Hit@1). `clips` must not be empty.
pub(crate) fn video_prediction(clips: &[Vec<f32>]) -> usize {
    argmax(&mean(clips))
}

fn mean(clips: &[Vec<f32>]) -> Vec<f32> {
    let mut m = vec![0f32; clips[0].len()];
    for c in clips {
        for (a, &v) in m.iter_mut().zip(c) {
            *a += v;
        }
    }
    let n = clips.len() as f32;
    m.iter_mut().for_each(|v| *v /= n);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn hand_computed_case() {
        let mut acc = Accumulator::new(3);
        // Video 0 (label 0): clips say 0 and 1; mean favours 0.
        acc.add_video(0, vec![vec![0.8, 0.1, 0.1], vec![0.3, 0.6, 0.1]]).unwrap();
        // Video 1 (label 1): one clip, wrong (predicts 2), label ranked second.
        acc.add_video(1, vec![vec![0.1, 0.3, 0.6]]).unwrap();
        // Video 2 (label 2): right.
        acc.add_video(2, vec![vec![0.2, 0.2, 0.6], vec![0.1, 0.1, 0.8]]).unwrap();
        let s = acc.summary(&names(3));
        assert_eq!((s.n_videos, s.n_clips), (3, 5));
        assert!((s.clip_top1 - 3.0 / 5.0).abs() < 1e-12);
        assert!((s.video_top1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.video_top5, 1.0, "3 classes: everything is in the top 5");
        assert!((s.mean_class_acc - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.confusion, vec![vec![1, 0, 0], vec![0, 0, 1], vec![0, 0, 1]]);
        assert_eq!(s.per_class[2].precision, Some(0.5));
        assert_eq!(s.per_class[1].precision, None, "nothing predicted as class 1");
        assert_eq!(s.per_class[1].recall, Some(0.0));
        assert_eq!(acc.video_predictions(), vec![0, 2, 2]);
    }

    #[test]
    fn top5_and_mean_class_accuracy_weigh_classes_equally() {
        let k = 7;
        let mut acc = Accumulator::new(k);
        // 9 right videos of class 0, 1 wrong video of class 1 ranked 6th.
        for _ in 0..9 {
            let mut p = vec![0.0; k];
            p[0] = 1.0;
            acc.add_video(0, vec![p]).unwrap();
        }
        acc.add_video(1, vec![vec![0.3, 0.01, 0.2, 0.2, 0.1, 0.1, 0.09]]).unwrap();
        let s = acc.summary(&names(k));
        assert!((s.video_top1 - 0.9).abs() < 1e-12);
        assert!((s.mean_class_acc - 0.5).abs() < 1e-12, "per-class mean, not per-video");
        assert!((s.video_top5 - 0.9).abs() < 1e-12, "label ranked 7th is outside the top 5");
    }

    #[test]
    fn ties_do_not_count_as_hits_by_luck() {
        assert!(in_top_k(&[0.5, 0.5], 0, 1));
        assert!(!in_top_k(&[0.5, 0.5], 1, 1));
    }

    #[test]
    fn bad_scores_are_refused() {
        let mut acc = Accumulator::new(2);
        assert_eq!(acc.add_video(2, vec![vec![0.5, 0.5]]), Err(MetricsError::Label { label: 2, classes: 2 }));
        assert_eq!(acc.add_video(0, vec![]), Err(MetricsError::NoClips { video: 0 }));
        assert_eq!(acc.add_video(0, vec![vec![1.0]]), Err(MetricsError::ClassCount { got: 1, expected: 2 }));
        assert_eq!(acc.add_video(0, vec![vec![f32::NAN, 1.0]]), Err(MetricsError::NonFinite));
        assert!(acc.is_empty());
        assert_eq!(acc.summary(&names(2)).video_top1, 0.0);
    }
}
