//! `motus bench replay`: traces of `motus bench pipeline --trace` replayed through the alert
//! rules at a grid of thresholds and smoothing constants ([`motus_lab::live::replay`]), the
//! alerts scored against each scene's ground truth and summed over the scenes: how alert
//! settings are chosen on synthetic scenes without re-running the model for each.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use motus_device::runtime::config::AlertsConfig;
use motus_lab::live::replay::{replay, Trace};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct ReplayBenchArgs {
    /// Trace files (`motus bench pipeline --trace FILE`), one per scene.
    #[arg(long = "trace", required = true)]
    traces: Vec<PathBuf>,
    /// Alert thresholds to try, comma-separated (default: the runtime's).
    #[arg(long, value_delimiter = ',')]
    threshold: Vec<f32>,
    /// Smoothing time constants to try, seconds, comma-separated (default: the runtime's).
    #[arg(long, value_delimiter = ',')]
    smoothing: Vec<f64>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// One setting's figures over every trace.
#[derive(Debug, Serialize)]
struct Setting {
    threshold: f32,
    smoothing_s: f64,
    actions: usize,
    alerts: usize,
    matched: usize,
    /// `None` when the setting raised no alert (nothing to be precise about).
    precision: Option<f64>,
    recall: f64,
    /// The worst scene's 95th-percentile alert latency on the stream's clock (ms; a window
    /// counts as emitted once its newest frame is in).
    worst_stream_latency_p95_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
struct ReplayReport {
    traces: Vec<PathBuf>,
    settings: Vec<Setting>,
}

pub fn run(args: ReplayBenchArgs) -> anyhow::Result<()> {
    let traces: Vec<Trace> = args
        .traces
        .iter()
        .map(|p| -> anyhow::Result<Trace> {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a `motus bench pipeline --trace` file", p.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    // Every replayed alert would log its start and end: thousands of lines over a grid.
    log::set_max_level(log::LevelFilter::Warn);
    let base = AlertsConfig::default();
    let thresholds =
        if args.threshold.is_empty() { vec![base.default_threshold.unwrap_or(0.5)] } else { args.threshold.clone() };
    let smoothings = if args.smoothing.is_empty() { vec![base.smoothing_s] } else { args.smoothing.clone() };
    let mut settings = Vec::new();
    for &smoothing_s in &smoothings {
        for &threshold in &thresholds {
            anyhow::ensure!(threshold > 0.0 && threshold <= 1.0, "--threshold {threshold}: must be in (0, 1]");
            anyhow::ensure!(
                smoothing_s.is_finite() && (0.0..=60.0).contains(&smoothing_s),
                "--smoothing {smoothing_s}: must be 0 to 60 seconds"
            );
            let alerts = AlertsConfig { default_threshold: Some(threshold), smoothing_s, ..base.clone() };
            let (mut actions, mut fired, mut matched, mut worst) = (0, 0, 0, None::<f64>);
            for (t, path) in traces.iter().zip(&args.traces) {
                let s = replay(t, &alerts).with_context(|| format!("{}", path.display()))?;
                (actions, fired, matched) = (actions + s.true_actions, fired + s.alerts, matched + s.matched);
                worst = match (worst, s.stream_latency_p95_ms) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            settings.push(Setting {
                threshold,
                smoothing_s,
                actions,
                alerts: fired,
                matched,
                precision: (fired > 0).then(|| ratio(matched, fired)),
                recall: ratio(matched, actions),
                worst_stream_latency_p95_ms: worst,
            });
        }
    }
    let report = ReplayReport { traces: args.traces, settings };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{:>9} {:>9} {:>7} {:>6} {:>7} {:>9} {:>6} {:>16}",
            "threshold", "smoothing", "actions", "alerts", "matched", "precision", "recall", "worst p95 (ms)"
        );
        for s in &report.settings {
            let p95 = s.worst_stream_latency_p95_ms.map_or("-".to_string(), |v| format!("{v:.0}"));
            let precision = s.precision.map_or("-".to_string(), |v| format!("{v:.3}"));
            println!(
                "{:>9.3} {:>9.3} {:>7} {:>6} {:>7} {precision:>9} {:>6.3} {p95:>16}",
                s.threshold, s.smoothing_s, s.actions, s.alerts, s.matched, s.recall
            );
        }
    }
    Ok(())
}
