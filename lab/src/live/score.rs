//! Scoring a pipeline run against the synthetic scene's ground truth: alerts become events
//! (start record to end record), matched one-to-one to the true actions with
//! [`crate::eval::detection`] (same class, temporal IoU ≥ `min_iou`), and the alert latency
//! is the time from an action's true start to the emission of its alert, on the wall clock
//! (live runs) and on the stream's clock (any run: what windowing, smoothing and the model
//! cost, without the processing time).

use serde::Serialize;

use crate::dataset::GroundTruth;
use crate::eval::detection::{match_events, score_events, score_matched, temporal_iou, Event};
use crate::eval::latency::nearest_rank;

use motus_device::runtime::pipeline::{Emitted, RunReport};

/// How a run scored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunScore {
    pub precision: f64,
    pub recall: f64,
    pub true_actions: usize,
    pub alerts: usize,
    pub matched: usize,
    /// 95th percentile of (alert emitted − action start), ms, over matched actions.
    pub latency_p95_ms: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    /// The same on the stream's clock: newest frame at emission − action start.
    pub stream_latency_p95_ms: Option<f64>,
    pub stream_latency_p50_ms: Option<f64>,
    /// The same matching class by class (matching never pairs different classes, so these
    /// add up to the totals): which actions the model misses and which it invents.
    pub per_class: Vec<ClassScore>,
    /// Why the unmatched alerts failed, which points at different fixes.
    pub false_alerts: FalseAlerts,
}

/// The unmatched alerts of a run by where they fell. Each kind asks for a different remedy:
/// alerts in the idle gaps for a stricter rule or more idle training, alerts on another
/// class's action for a better model, same-class alerts for a rule that holds an alert for
/// as long as its action (or merges the pieces of one).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct FalseAlerts {
    /// Overlapping an action of their own class, yet unmatched: a second alert for one
    /// action, or one too short or too far off to reach the IoU.
    pub same_class: usize,
    /// Overlapping only actions of other classes: the model confused the action.
    pub wrong_class: usize,
    /// Overlapping no action at all: fired while the scene was idle.
    pub in_gap: usize,
}

impl FalseAlerts {
    /// Sorts every event of `events` that `pairs` (from `match_events`) leaves unmatched.
    fn of(truth: &[crate::dataset::Segment], events: &[Event], pairs: &[(usize, usize)]) -> Self {
        let mut matched = vec![false; events.len()];
        pairs.iter().for_each(|&(_, d)| matched[d] = true);
        let mut out = FalseAlerts::default();
        for (e, _) in events.iter().zip(&matched).filter(|(_, &m)| !m) {
            let overlapping = || truth.iter().filter(|t| t.start_frame < e.end_frame && e.start_frame < t.end_frame);
            if overlapping().any(|t| t.class_index == e.class_index) {
                out.same_class += 1;
            } else if overlapping().next().is_some() {
                out.wrong_class += 1;
            } else {
                out.in_gap += 1;
            }
        }
        out
    }
}

/// One class's share of a run's score.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassScore {
    pub class_index: usize,
    pub actions: usize,
    pub alerts: usize,
    pub matched: usize,
}

/// Alerts of a run as events on the source's frame axis, each with the emission of its
/// start; alerts still running at the end close at the last frame.
pub fn events(report: &RunReport, fps: f64, last_frame: u64) -> Vec<(Event, Emitted)> {
    let mut out: Vec<(Event, Emitted)> = Vec::new();
    let mut open: Vec<(String, usize)> = Vec::new();
    for e in &report.fired {
        let f = &e.fired;
        let frame = (f.since_s * fps).round().max(0.0) as u64;
        if !f.ended {
            open.push((f.record.id.clone(), out.len()));
            out.push((
                Event {
                    start_frame: frame,
                    end_frame: last_frame.max(frame + 1),
                    class_index: f.class_index,
                    score: f.record.score,
                },
                e.clone(),
            ));
        } else if let Some(i) = open.iter().position(|(id, _)| *id == f.record.id) {
            let (_, k) = open.remove(i);
            out[k].0.end_frame = ((f.at_s * fps).round() as u64).max(out[k].0.start_frame + 1);
            out[k].0.score = f.record.score;
        }
    }
    out
}

/// Temporal IoU an alert needs with an action to count as its detection, in live runs.
pub const LIVE_MIN_IOU: f64 = 0.3;

/// Scores a live run of a model whose window spans `span` frames, as `motus bench pipeline`,
/// `motus bench replay` and the bundled-model test do: IoU ≥ [`LIVE_MIN_IOU`], actions that
/// start within a window and 15 frames of the end not counted (no window could finish them).
pub fn score_live_run(report: &RunReport, truth: &GroundTruth, span: u64) -> RunScore {
    score(report, truth, LIVE_MIN_IOU, span + 15)
}

/// Scores `report` against `truth`; only actions that started within the processed stream
/// (and at least `min_frames` before its end, so each had a chance to be seen) count.
pub fn score(report: &RunReport, truth: &GroundTruth, min_iou: f64, min_frames: u64) -> RunScore {
    let fps = truth.fps;
    let last = (report.frames_in).max(1);
    let segs: Vec<_> = truth.segments.iter().filter(|s| s.start_frame + min_frames <= last).cloned().collect();
    let evs = events(report, fps, last);
    // Alerts after the counted horizon cannot be judged either.
    let horizon = segs.last().map_or(0, |s| s.end_frame).max(last.saturating_sub(min_frames));
    let evs: Vec<(Event, Emitted)> = evs.into_iter().filter(|(e, _)| e.start_frame < horizon).collect();
    let plain: Vec<Event> = evs.iter().map(|(e, _)| e.clone()).collect();
    let pairs = match_events(&segs, &plain, min_iou);
    let s = score_matched(&segs, &plain, &pairs);
    let false_alerts = FalseAlerts::of(&segs, &plain, &pairs);
    let (mut wall, mut stream) = (Vec::new(), Vec::new());
    for t in &segs {
        // The alerts of the action's class overlapping it enough; the first of them on each clock.
        let overlapping: Vec<&Emitted> = evs
            .iter()
            .filter(|(e, _)| {
                e.class_index == t.class_index
                    && temporal_iou((t.start_frame, t.end_frame), (e.start_frame, e.end_frame)) >= min_iou
            })
            .map(|(_, em)| em)
            .collect();
        let first = |clock: fn(&Emitted) -> f64| overlapping.iter().map(|em| clock(em)).reduce(f64::min);
        let start_s = t.start_frame as f64 / fps;
        if let Some(w) = first(|em| em.wall_s) {
            wall.push((w - start_s) * 1000.0);
        }
        if let Some(w) = first(|em| em.stream_s) {
            stream.push((w - start_s) * 1000.0);
        }
    }
    let mut classes: Vec<usize> =
        segs.iter().map(|t| t.class_index).chain(plain.iter().map(|e| e.class_index)).collect();
    classes.sort_unstable();
    classes.dedup();
    let per_class = classes
        .into_iter()
        .map(|k| {
            let t: Vec<_> = segs.iter().filter(|t| t.class_index == k).cloned().collect();
            let d: Vec<Event> = plain.iter().filter(|e| e.class_index == k).cloned().collect();
            ClassScore {
                class_index: k,
                actions: t.len(),
                alerts: d.len(),
                matched: score_events(&t, &d, min_iou).matched,
            }
        })
        .collect();
    wall.sort_by(f64::total_cmp);
    stream.sort_by(f64::total_cmp);
    RunScore {
        per_class,
        false_alerts,
        precision: s.precision,
        recall: s.recall,
        true_actions: segs.len(),
        alerts: plain.len(),
        matched: s.matched,
        latency_p95_ms: nearest_rank(&wall, 0.95),
        latency_p50_ms: nearest_rank(&wall, 0.5),
        stream_latency_p95_ms: nearest_rank(&stream, 0.95),
        stream_latency_p50_ms: nearest_rank(&stream, 0.5),
    }
}

/// Peak and current resident memory of this process in MB (`/proc/self/status`).
pub fn rss_mb() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        text.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Segment;
    use motus_device::alert::AlertRecord;
    use motus_device::runtime::alerting::Fired;

    fn fired(k: usize, since: f64, at: f64, ended: bool, id: &str, wall: f64) -> Emitted {
        let record = AlertRecord {
            id: id.into(),
            class: format!("c{k}"),
            score: 0.9,
            start_unix_s: 0.0,
            end_unix_s: None,
            source: "s".into(),
            model_sha256: "x".into(),
            snapshot: None,
        };
        // The stream clock runs 0.1 s behind the wall clock: processing time.
        Emitted {
            fired: Fired { class_index: k, since_s: since, at_s: at, ended, record },
            wall_s: wall,
            stream_s: wall - 0.1,
        }
    }

    #[test]
    fn alerts_pair_into_events_and_are_matched_to_truth() {
        let truth = GroundTruth {
            width: 8,
            height: 8,
            fps: 10.0,
            frames: 200,
            segments: vec![
                Segment { start_frame: 10, end_frame: 30, class_index: 1, class_name: "c1".into() },
                Segment { start_frame: 50, end_frame: 70, class_index: 2, class_name: "c2".into() },
                Segment { start_frame: 195, end_frame: 199, class_index: 2, class_name: "c2".into() },
            ],
        };
        let report = RunReport {
            frames_in: 200,
            fired: vec![
                fired(1, 1.2, 1.2, false, "a", 1.3),
                fired(1, 3.0, 3.0, true, "a", 3.0),
                fired(3, 5.0, 5.0, false, "b", 5.1), // wrong class over the second action
                fired(3, 6.5, 6.5, true, "b", 6.5),
            ],
            ..Default::default()
        };
        let s = score(&report, &truth, 0.3, 20);
        assert_eq!(s.true_actions, 2, "the action at 195 is too close to the end to count");
        assert_eq!((s.alerts, s.matched), (2, 1));
        assert_eq!((s.precision, s.recall), (0.5, 0.5));
        // Emitted at 1.3 s, action started at 1.0 s.
        assert!((s.latency_p95_ms.unwrap() - 300.0).abs() < 1e-6);
        assert!((s.stream_latency_p95_ms.unwrap() - 200.0).abs() < 1e-6);
        let c = |k: usize, actions: usize, alerts: usize, matched: usize| ClassScore {
            class_index: k,
            actions,
            alerts,
            matched,
        };
        assert_eq!(s.per_class, vec![c(1, 1, 1, 1), c(2, 1, 0, 0), c(3, 0, 1, 0)]);
        assert_eq!(s.false_alerts, FalseAlerts { same_class: 0, wrong_class: 1, in_gap: 0 });
    }

    #[test]
    fn the_peak_resident_memory_sees_a_large_allocation() {
        let (peak_before, current) = rss_mb();
        assert!(peak_before >= current && current > 0.0, "peak {peak_before} MB, current {current} MB");
        // 96 MB written byte by byte, so every page is resident.
        let block = vec![1u8; 96 << 20];
        let (peak_after, _) = rss_mb();
        // The peak never falls, and it includes the block (other tests' threads may free
        // memory meanwhile, so no exact figure); and it is in MB, not kB: below the machine's
        // memory.
        let total_mb = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().next()?.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .expect("MemTotal");
        assert!(
            peak_after >= peak_before && peak_after >= 96.0,
            "peak {peak_before} → {peak_after} MB with 96 MB resident"
        );
        assert!(peak_after < total_mb, "peak {peak_after} MB on a machine of {total_mb} MB");
        drop(std::hint::black_box(block));
    }

    #[test]
    fn unmatched_alerts_are_sorted_by_where_they_fell() {
        let seg = |a: u64, b: u64, k: usize| Segment {
            start_frame: a,
            end_frame: b,
            class_index: k,
            class_name: format!("c{k}"),
        };
        let truth = GroundTruth {
            width: 8,
            height: 8,
            fps: 10.0,
            frames: 400,
            segments: vec![seg(10, 30, 1), seg(50, 90, 2), seg(120, 140, 3)],
        };
        let pair = |k: usize, a: f64, b: f64, id: &str| [fired(k, a, a, false, id, a), fired(k, b, b, true, id, b)];
        let fired: Vec<Emitted> = [
            pair(1, 1.0, 3.0, "match"),
            pair(1, 2.5, 2.8, "second alert for the same action"),
            pair(2, 5.0, 5.3, "too short for the action's IoU"),
            pair(1, 12.0, 13.0, "another class's action"),
            pair(3, 20.0, 21.0, "idle"),
            pair(2, 30.0, 31.0, "idle too"),
        ]
        .concat();
        let report = RunReport { frames_in: 400, fired, ..Default::default() };
        let s = score(&report, &truth, 0.3, 20);
        assert_eq!((s.alerts, s.matched), (6, 1));
        assert_eq!(s.false_alerts, FalseAlerts { same_class: 2, wrong_class: 1, in_gap: 2 });
        let f = s.false_alerts;
        assert_eq!(f.same_class + f.wrong_class + f.in_gap, s.alerts - s.matched, "every unmatched alert has one kind");
    }
}
