//! Scoring detections on long videos: per-event precision and recall at a temporal IoU
//! threshold, and the delay from an action's start to its detection.
//!
//! A classifier that is right on trimmed clips can still be useless live: it may fire late, fire
//! twice, or merge two actions. Event-level scoring against the ground-truth segments of
//! `motus synth --long` measures what an alert user experiences.

use serde::Serialize;

use crate::dataset::Segment;

/// One detected action over the half-open frame range `[start_frame, end_frame)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub start_frame: u64,
    pub end_frame: u64,
    pub class_index: usize,
    /// Peak score over the event.
    pub score: f32,
}

/// The scores of one sliding window: the frames it covered and its class probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowScore {
    pub start_frame: u64,
    pub end_frame: u64,
    pub probs: Vec<f32>,
}

/// Temporal intersection over union of two half-open frame ranges.
pub fn temporal_iou(a: (u64, u64), b: (u64, u64)) -> f64 {
    let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let union = (a.1 - a.0) + (b.1 - b.0) - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Turns window scores (in time order) into events: runs of consecutive windows whose top
/// class is the same non-background class with probability ≥ `threshold` merge into one
/// event spanning the windows' frames. `background` (e.g. `idle`) never forms events.
pub fn windows_to_events(windows: &[WindowScore], threshold: f32, background: Option<usize>) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    let mut open: Option<Event> = None;
    for w in windows {
        let (class, &p) =
            w.probs.iter().enumerate().fold((0, &f32::MIN), |best, (i, v)| if *v > *best.1 { (i, v) } else { best });
        let active = p >= threshold && Some(class) != background;
        match (&mut open, active) {
            (Some(e), true) if e.class_index == class && w.start_frame <= e.end_frame => {
                e.end_frame = e.end_frame.max(w.end_frame);
                e.score = e.score.max(p);
            }
            (_, true) => {
                if let Some(e) = open.take() {
                    events.push(e);
                }
                open = Some(Event { start_frame: w.start_frame, end_frame: w.end_frame, class_index: class, score: p });
            }
            (_, false) => {
                if let Some(e) = open.take() {
                    events.push(e);
                }
            }
        }
    }
    events.extend(open);
    events
}

/// Event-level scores.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DetectionScore {
    pub ground_truth: usize,
    pub detections: usize,
    pub matched: usize,
    pub precision: f64,
    pub recall: f64,
    /// Mean of (detection start − action start) over matched events, in frames; negative
    /// when windows reach back before the action started. `None` without matches.
    pub mean_delay_frames: Option<f64>,
}

/// Matches detections to ground truth one-to-one (same class, IoU ≥ `min_iou`, greedily by
/// highest IoU) and scores them.
pub fn score_events(truth: &[Segment], detections: &[Event], min_iou: f64) -> DetectionScore {
    score_matched(truth, detections, &match_events(truth, detections, min_iou))
}

/// Scores a pairing [`match_events`] already made, for callers that also need the pairs.
pub fn score_matched(truth: &[Segment], detections: &[Event], pairs: &[(usize, usize)]) -> DetectionScore {
    let delays: Vec<f64> =
        pairs.iter().map(|&(ti, di)| detections[di].start_frame as f64 - truth[ti].start_frame as f64).collect();
    let matched = delays.len();
    let ratio = |a: usize, b: usize| {
        if b == 0 {
            if a == 0 {
                1.0
            } else {
                0.0
            }
        } else {
            a as f64 / b as f64
        }
    };
    DetectionScore {
        ground_truth: truth.len(),
        detections: detections.len(),
        matched,
        precision: ratio(matched, detections.len()),
        recall: ratio(matched, truth.len()),
        mean_delay_frames: (!delays.is_empty()).then(|| delays.iter().sum::<f64>() / delays.len() as f64),
    }
}

/// The one-to-one pairing behind [`score_events`], as `(truth index, detection index)` in
/// matching order, for callers that need to know which detections went unmatched and why.
pub fn match_events(truth: &[Segment], detections: &[Event], min_iou: f64) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (ti, t) in truth.iter().enumerate() {
        for (di, d) in detections.iter().enumerate() {
            if t.class_index != d.class_index {
                continue;
            }
            let iou = temporal_iou((t.start_frame, t.end_frame), (d.start_frame, d.end_frame));
            if iou >= min_iou {
                pairs.push((iou, ti, di));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut t_used, mut d_used) = (vec![false; truth.len()], vec![false; detections.len()]);
    let mut matched = Vec::new();
    for (_, ti, di) in pairs {
        if t_used[ti] || d_used[di] {
            continue;
        }
        t_used[ti] = true;
        d_used[di] = true;
        matched.push((ti, di));
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(a: u64, b: u64, c: usize) -> Segment {
        Segment { start_frame: a, end_frame: b, class_index: c, class_name: format!("c{c}") }
    }

    fn ev(a: u64, b: u64, c: usize) -> Event {
        Event { start_frame: a, end_frame: b, class_index: c, score: 0.9 }
    }

    #[test]
    fn iou_cases() {
        assert_eq!(temporal_iou((0, 10), (0, 10)), 1.0);
        assert_eq!(temporal_iou((0, 10), (10, 20)), 0.0);
        assert!((temporal_iou((0, 10), (5, 15)) - 5.0 / 15.0).abs() < 1e-12);
    }

    #[test]
    fn matching_is_one_to_one_and_per_class() {
        let truth = vec![seg(10, 40, 1), seg(60, 90, 2)];
        // A good detection, a duplicate of it, a wrong-class one over the second action.
        let det = vec![ev(20, 40, 1), ev(14, 42, 1), ev(60, 90, 3)];
        let s = score_events(&truth, &det, 0.5);
        assert_eq!(s.matched, 1);
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-12);
        assert!((s.recall - 0.5).abs() < 1e-12);
        assert_eq!(s.mean_delay_frames, Some(4.0), "the best-IoU detection is the one matched");
    }

    #[test]
    fn no_events_anywhere_is_perfect_and_no_detections_is_zero_recall() {
        assert_eq!(score_events(&[], &[], 0.5).precision, 1.0);
        let s = score_events(&[seg(0, 10, 1)], &[], 0.5);
        assert_eq!((s.recall, s.precision), (0.0, 1.0));
    }

    #[test]
    fn windows_merge_into_events() {
        let w = |a: u64, c: usize, p: f32| {
            let mut probs = vec![0.0; 3];
            probs[c] = p;
            probs[(c + 1) % 3] = 1.0 - p;
            WindowScore { start_frame: a, end_frame: a + 16, probs }
        };
        let windows = vec![w(0, 0, 0.9), w(8, 1, 0.8), w(16, 1, 0.9), w(24, 1, 0.6), w(32, 2, 0.95), w(40, 0, 0.9)];
        let events = windows_to_events(&windows, 0.7, Some(0));
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!((events[0].start_frame, events[0].end_frame, events[0].class_index), (8, 32, 1));
        assert_eq!(events[0].score, 0.9);
        assert_eq!((events[1].start_frame, events[1].class_index), (32, 2));
    }
}
