//! Building an [`EvalReport`] from the runner's output.

use std::path::{Path, PathBuf};

use super::{ClipsComparison, Compared, EvalReport, LongComparison, ReportKind, RunHeader, VideoOutcome};
use crate::dataset::VideoEntry;
use crate::eval::latency::{summarize, LatencySummary, StageTimes};
use crate::eval::long::LongSummary;
use crate::eval::metrics::{Accumulator, MetricsError};
use crate::eval::runner::{LongRun, VideoRun, VideoScores};
use crate::eval::{compare, VideoPair};

/// Why a trimmed-video run could not be summarised (scores the metrics refuse).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: its scores cannot be counted", path.display())]
    Video {
        path: PathBuf,
        #[source]
        source: MetricsError,
    },
    #[error("the two models' scores cannot be compared")]
    Compare(#[source] MetricsError),
}

fn per_second(count: usize, seconds: f64) -> f64 {
    count as f64 / seconds.max(1e-9)
}

fn latency<'a>(per_video: impl Iterator<Item = &'a [StageTimes]>) -> LatencySummary {
    let times: Vec<StageTimes> = per_video.flat_map(|t| t.iter().copied()).collect();
    summarize(&times)
}

fn clip_latency(run: &VideoRun) -> LatencySummary {
    latency(run.scored.iter().map(|(_, s)| &s.times[..]))
}

/// Each scored video's outcome; `predicted` is aligned with `run.scored`.
fn outcomes(entries: &[VideoEntry], run: &VideoRun, predicted: &[usize]) -> Vec<VideoOutcome> {
    run.scored
        .iter()
        .zip(predicted)
        .map(|((i, s), &pred)| VideoOutcome {
            path: entries[*i].path.clone(),
            label: entries[*i].label,
            predicted: pred,
            confidence: s.probs.iter().map(|p| p[pred]).sum::<f32>() / s.probs.len().max(1) as f32,
            clips: s.probs.len(),
        })
        .collect()
}

/// The second model's run on the videos both models scored.
fn compare_clips(
    entries: &[VideoEntry],
    names: &[String],
    run: &VideoRun,
    model: &Path,
    other: &VideoRun,
) -> Result<ClipsComparison, ReportError> {
    let by_index: std::collections::HashMap<usize, &VideoScores> = other.scored.iter().map(|(i, s)| (*i, s)).collect();
    let both: Vec<VideoPair<'_>> = run
        .scored
        .iter()
        .filter_map(|(i, s)| by_index.get(i).map(|t| (entries[*i].label, &s.probs[..], &t.probs[..])))
        .collect();
    Ok(ClipsComparison {
        model: model.to_path_buf(),
        comparison: compare(names.len(), &both, names).map_err(ReportError::Compare)?,
        latency_ms: clip_latency(other),
        n_unreadable: other.skipped.len(),
    })
}

impl EvalReport {
    /// The report of a trimmed-video run. `entries` is the dataset the run indexes; `other`
    /// is the `--compare` model and its run on the same dataset.
    pub fn for_clips(
        header: RunHeader,
        entries: &[VideoEntry],
        run: &VideoRun,
        other: Option<(&Path, &VideoRun)>,
    ) -> Result<EvalReport, ReportError> {
        let mut acc = Accumulator::new(header.labels.len());
        for (i, s) in &run.scored {
            acc.add_video(entries[*i].label, s.probs.clone())
                .map_err(|source| ReportError::Video { path: entries[*i].path.clone(), source })?;
        }
        let summary = acc.summary(&header.labels);
        let compare = match other {
            Some((model, b)) => Some(Compared::Clips(Box::new(compare_clips(entries, &header.labels, run, model, b)?))),
            None => None,
        };
        Ok(EvalReport {
            kind: ReportKind::Clips,
            n_videos: summary.n_videos,
            n_clips: summary.n_clips,
            clip_top1: summary.clip_top1,
            video_top1: Some(summary.video_top1),
            video_top5: Some(summary.video_top5),
            mean_class_acc: Some(summary.mean_class_acc),
            per_class: summary.per_class,
            confusion: Some(summary.confusion),
            videos: Some(outcomes(entries, run, &acc.video_predictions())),
            padded_clips: Some(run.scored.iter().map(|(_, s)| s.padded).sum()),
            window_span: None,
            window_stride: None,
            latency_ms: clip_latency(run),
            flow_engine: run.flow_engine.clone(),
            seconds: run.seconds,
            videos_per_s: per_second(run.scored.len(), run.seconds),
            clips_per_s: per_second(summary.n_clips, run.seconds),
            n_unreadable: run.skipped.len(),
            unreadable: run.skipped.clone(),
            detection: None,
            compare,
            header,
        })
    }

    /// The report of a long-video run scored as `detection`; `other` is the `--compare`
    /// model and its scores on the same videos. The protocol becomes `sliding windows`.
    pub fn for_long(
        mut header: RunHeader,
        run: &LongRun,
        detection: LongSummary,
        other: Option<(&Path, LongSummary)>,
    ) -> EvalReport {
        header.protocol = "sliding windows".into();
        let compare = other.map(|(model, b)| {
            Compared::Long(LongComparison {
                model: model.to_path_buf(),
                precision_diff: b.precision - detection.precision,
                recall_diff: b.recall - detection.recall,
                clip_top1_diff: b.window_top1 - detection.window_top1,
                detection: b,
            })
        });
        EvalReport {
            header,
            kind: ReportKind::Long,
            n_videos: run.scored.len(),
            n_clips: detection.windows,
            clip_top1: detection.window_top1,
            video_top1: None,
            video_top5: None,
            mean_class_acc: None,
            per_class: Vec::new(),
            confusion: None,
            videos: None,
            padded_clips: None,
            window_span: Some(run.window_span),
            window_stride: Some(run.window_stride),
            latency_ms: latency(run.scored.iter().map(|(_, s)| &s.times[..])),
            flow_engine: run.flow_engine.clone(),
            seconds: run.seconds,
            videos_per_s: per_second(run.scored.len(), run.seconds),
            clips_per_s: per_second(detection.windows, run.seconds),
            n_unreadable: run.skipped.len(),
            unreadable: run.skipped.clone(),
            detection: Some(detection),
            compare,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::runner::Skipped;

    fn entry(path: &str, label: usize) -> VideoEntry {
        VideoEntry { path: path.into(), label, total_frames: None, time_range: None, line: 1 }
    }

    fn header() -> RunHeader {
        RunHeader {
            model: "m.onnx".into(),
            card: "embedded".into(),
            arch: "single_frame".into(),
            labels: vec!["wave".into(), "walk".into()],
            data: "test.txt".into(),
            protocol: "center".into(),
            workers: 1,
            threads: 1,
        }
    }

    fn scores(probs: Vec<Vec<f32>>, padded: usize) -> VideoScores {
        let times = vec![StageTimes::default(); probs.len()];
        VideoScores { probs, times, padded }
    }

    fn run() -> VideoRun {
        VideoRun {
            scored: vec![(0, scores(vec![vec![0.9, 0.1], vec![0.7, 0.3]], 0)), (2, scores(vec![vec![0.4, 0.6]], 1))],
            skipped: vec![Skipped { path: "b.mp4".into(), line: 2, error: "truncated".into() }],
            seconds: 2.0,
            flow_engine: None,
        }
    }

    #[test]
    fn a_clip_report_counts_scored_videos_and_names_the_skipped_one() {
        let entries = [entry("a.mp4", 0), entry("b.mp4", 1), entry("c.mp4", 0)];
        let r = EvalReport::for_clips(header(), &entries, &run(), None).unwrap();
        assert_eq!((r.n_videos, r.n_clips, r.n_unreadable), (2, 3, 1));
        assert_eq!(r.video_top1, Some(0.5), "a.mp4 right, c.mp4 predicted walk");
        assert_eq!(r.padded_clips, Some(1));
        let videos = r.videos.as_ref().unwrap();
        assert_eq!((videos[1].predicted, videos[1].clips), (1, 1));
        assert!((videos[0].confidence - 0.8).abs() < 1e-6, "mean of the predicted class over clips");
        assert_eq!(r.videos_per_s, 1.0);
        let md = super::super::markdown(&r);
        assert!(md.contains("| video Hit@1 | 50.0 % |") && md.contains("`b.mp4` (list line 2): truncated"), "{md}");
        assert!(super::super::table(&r).contains("video Hit@1   50.0 %"));
    }

    #[test]
    fn scores_with_the_wrong_class_count_name_the_video() {
        let entries = [entry("a.mp4", 0), entry("b.mp4", 1), entry("c.mp4", 0)];
        let mut bad = run();
        bad.scored[1].1.probs[0].push(0.0);
        let err = EvalReport::for_clips(header(), &entries, &bad, None).unwrap_err();
        assert!(matches!(&err, ReportError::Video { path, .. } if path.ends_with("c.mp4")), "{err}");
    }

    #[test]
    fn a_model_compared_with_itself_agrees_everywhere() {
        let entries = [entry("a.mp4", 0), entry("b.mp4", 1), entry("c.mp4", 0)];
        let run = run();
        let r = EvalReport::for_clips(header(), &entries, &run, Some((Path::new("m2.onnx"), &run))).unwrap();
        let Some(Compared::Clips(c)) = &r.compare else { panic!("a clip comparison") };
        assert_eq!((c.comparison.agreement, c.comparison.video_top1_diff), (1.0, 0.0));
        assert!(super::super::markdown(&r).contains("## Compared with m2.onnx"));
    }
}
