//! Per-clip latency split by stage, summarised as the percentiles a deployment budget needs.

use std::time::Duration;

use serde::Serialize;

/// Time one clip spent in each stage. `decode` is the share of decoding attributed to the
/// clip (a trimmed video's decode time divided among its clips; for a long video, the frames
/// read since the previous window).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    pub decode: Duration,
    pub preprocess: Duration,
    pub flow: Duration,
    pub inference: Duration,
}

impl StageTimes {
    /// Sum of the stages: the clip's end-to-end cost on one worker.
    pub fn total(&self) -> Duration {
        self.decode + self.preprocess + self.flow + self.inference
    }
}

/// Median, 95th percentile and mean of one stage, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub mean: f64,
}

/// [`Percentiles`] per stage and for the total (`latency_ms` in the JSON report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub clips: usize,
    pub decode: Percentiles,
    pub preprocess: Percentiles,
    pub flow: Percentiles,
    pub inference: Percentiles,
    pub total: Percentiles,
}

impl LatencySummary {
    /// Each stage with its name, in pipeline order, then the total: the rows every report
    /// renders.
    pub fn stages(&self) -> [(&'static str, &Percentiles); 5] {
        [
            ("decode", &self.decode),
            ("preprocess", &self.preprocess),
            ("flow", &self.flow),
            ("inference", &self.inference),
            ("total", &self.total),
        ]
    }
}

pub use motus_core::stats::nearest_rank;

fn percentiles(mut ms: Vec<f64>) -> Percentiles {
    ms.sort_by(f64::total_cmp);
    let mean = if ms.is_empty() { 0.0 } else { ms.iter().sum::<f64>() / ms.len() as f64 };
    let at = |q: f64| nearest_rank(&ms, q).unwrap_or(0.0);
    Percentiles { p50: at(0.5), p95: at(0.95), mean }
}

/// Summarises per-clip stage times.
pub fn summarize(times: &[StageTimes]) -> LatencySummary {
    let stage = |f: fn(&StageTimes) -> Duration| percentiles(times.iter().map(|t| f(t).as_secs_f64() * 1e3).collect());
    LatencySummary {
        clips: times.len(),
        decode: stage(|t| t.decode),
        preprocess: stage(|t| t.preprocess),
        flow: stage(|t| t.flow),
        inference: stage(|t| t.inference),
        total: stage(|t| t.total()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let times: Vec<StageTimes> = (1..=20)
            .map(|i| StageTimes {
                inference: Duration::from_millis(i),
                decode: Duration::from_millis(1),
                ..Default::default()
            })
            .collect();
        let s = summarize(&times);
        assert_eq!(s.clips, 20);
        assert_eq!((s.inference.p50, s.inference.p95), (10.0, 19.0));
        assert!((s.inference.mean - 10.5).abs() < 1e-9);
        assert_eq!((s.total.p50, s.total.p95), (11.0, 20.0));
        assert_eq!(s.flow, Percentiles::default());
        assert_eq!(summarize(&[]).total, Percentiles::default());
    }
}
