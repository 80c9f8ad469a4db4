//! Long videos scored as an alert user sees them: sliding-window scores → events → one-to-one
//! matching against the ground-truth segments at a temporal IoU, summed over videos.

use serde::Serialize;

use super::detection::{score_events, windows_to_events, WindowScore};
use super::metrics::argmax;
use crate::dataset::GroundTruth;

/// Event-level scores over a whole long-video split, plus window-level accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongSummary {
    pub videos: usize,
    pub ground_truth: usize,
    pub detections: usize,
    pub matched: usize,
    /// Matched detections / detections (1 when nothing was detected and nothing was there).
    pub precision: f64,
    /// Matched segments / ground-truth segments.
    pub recall: f64,
    /// Mean over matched events of (detection start − action start), frames and seconds.
    pub mean_delay_frames: Option<f64>,
    pub mean_delay_s: Option<f64>,
    /// Windows whose top-1 class is the class at their centre frame (background where no
    /// segment covers it, when the model has a background class); windows without a label
    /// are not counted.
    pub window_top1: f64,
    pub windows: usize,
    pub labelled_windows: usize,
    pub min_iou: f64,
    pub threshold: f32,
    pub background: Option<String>,
}

/// Scores each video's windows against its ground truth and sums the counts: windows with top
/// probability ≥ `threshold` and a class other than `background` form events.
pub fn summarize_long(
    videos: &[(&GroundTruth, &[WindowScore])],
    labels: &[String],
    threshold: f32,
    background: Option<usize>,
    min_iou: f64,
) -> LongSummary {
    let (mut gt, mut det, mut matched) = (0usize, 0usize, 0usize);
    let (mut delay_frames, mut delay_s) = (0.0f64, 0.0f64);
    let (mut windows, mut labelled, mut hits) = (0usize, 0usize, 0usize);
    for &(truth, ws) in videos {
        let events = windows_to_events(ws, threshold, background);
        let s = score_events(&truth.segments, &events, min_iou);
        gt += s.ground_truth;
        det += s.detections;
        matched += s.matched;
        if let Some(d) = s.mean_delay_frames {
            delay_frames += d * s.matched as f64;
            if truth.fps > 0.0 {
                delay_s += d * s.matched as f64 / truth.fps;
            }
        }
        for w in ws {
            windows += 1;
            let centre = (w.start_frame + w.end_frame) / 2;
            let label = truth.label_at(centre).map(|seg| seg.class_index).or(background);
            if let Some(label) = label {
                labelled += 1;
                hits += usize::from(argmax(&w.probs) == label);
            }
        }
    }
    let ratio = |a: usize, b: usize, empty: f64| if b == 0 { empty } else { a as f64 / b as f64 };
    LongSummary {
        videos: videos.len(),
        ground_truth: gt,
        detections: det,
        matched,
        precision: ratio(matched, det, if gt == 0 { 1.0 } else { 0.0 }),
        recall: ratio(matched, gt, 1.0),
        mean_delay_frames: (matched > 0).then(|| delay_frames / matched as f64),
        mean_delay_s: (matched > 0).then(|| delay_s / matched as f64),
        window_top1: ratio(hits, labelled, 0.0),
        windows,
        labelled_windows: labelled,
        min_iou,
        threshold,
        background: background.and_then(|b| labels.get(b).cloned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Segment;

    fn w(start: u64, end: u64, probs: [f32; 3]) -> WindowScore {
        WindowScore { start_frame: start, end_frame: end, probs: probs.to_vec() }
    }

    #[test]
    fn events_are_matched_and_summed_over_videos() {
        let seg = |a, b, c| Segment { start_frame: a, end_frame: b, class_index: c, class_name: format!("c{c}") };
        let truth = GroundTruth {
            width: 32,
            height: 32,
            fps: 25.0,
            frames: 100,
            segments: vec![seg(20, 40, 1), seg(60, 80, 2)],
        };
        // Class 0 is background. Windows of 10 frames: 20..40 detected as 1 (starting at 20 →
        // delay 0... then 25 → merged), 60..80 missed (predicted 1: a false detection).
        let ws = vec![
            w(0, 10, [0.9, 0.05, 0.05]),
            w(20, 30, [0.1, 0.8, 0.1]),
            w(30, 40, [0.1, 0.8, 0.1]),
            w(60, 70, [0.1, 0.6, 0.3]),
            w(70, 80, [0.2, 0.5, 0.3]),
        ];
        let labels: Vec<String> = (0..3).map(|i| format!("c{i}")).collect();
        let s = summarize_long(&[(&truth, &ws), (&truth, &ws)], &labels, 0.5, Some(0), 0.5);
        assert_eq!((s.videos, s.ground_truth, s.detections, s.matched), (2, 4, 4, 2));
        assert_eq!((s.precision, s.recall), (0.5, 0.5));
        assert_eq!(s.mean_delay_frames, Some(0.0));
        // Window labels at centres 5 (bg 0), 25 (1), 35 (1), 65 (2), 75 (2): 3 of 5 right.
        assert_eq!((s.windows, s.labelled_windows), (10, 10));
        assert!((s.window_top1 - 0.6).abs() < 1e-12);
        assert_eq!(s.background.as_deref(), Some("c0"));
        // Without a background class, the first window has no label.
        let s = summarize_long(&[(&truth, &ws)], &labels, 0.95, None, 0.5);
        assert_eq!((s.detections, s.matched, s.labelled_windows), (0, 0, 4));
        assert_eq!((s.precision, s.recall, s.mean_delay_s), (0.0, 0.0, None));
    }
}
