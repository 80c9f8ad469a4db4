//! `motus bench alerts`: every clip of a real-footage list through the live pipeline with the
//! device's defaults (read as fast as the pipeline takes them), tallying the alerts that the
//! list does not allow: false alerts a minute, by class and by clip.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use motus_device::runtime::config::{Pace, RunConfig, SinkConfig, SourceConfig};
use motus_device::runtime::pipeline::{self, RunLimits};
use motus_lab::eval::false_alerts::{read_clip_list, AlertsReport, ClipRun, RealClip};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct AlertsBenchArgs {
    /// The clip list: a TSV naming at least `path` and `allowed` (the classes that may fairly
    /// fire on each clip; `-` for none), paths relative to the list.
    #[arg(long)]
    clips: PathBuf,
    /// The model (default: the bundled one).
    #[arg(long)]
    model: Option<PathBuf>,
    /// A run config (TOML, as `motus run --config`) to measure instead of the defaults; its
    /// source and sinks are replaced by each clip and a file sink.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Append the measurement to the model's embedded card (a description of the footage,
    /// e.g. "tests/data/real: 28 real clips, CC BY 4.0"): `motus info` and the runtime's
    /// start-up line then show it. The file is rewritten atomically; graph and weights stay.
    #[arg(long, value_name = "DATA_DESCRIPTION")]
    record: Option<String>,
    /// Fail (exit 1, after the report) when false alerts a minute exceed this budget: a gate
    /// for CI or for a model about to ship.
    #[arg(long, value_name = "PER_MINUTE")]
    max_false_per_minute: Option<f64>,
}

/// The report with what was measured.
#[derive(Debug, Serialize)]
struct BenchAlerts<'a> {
    list: &'a std::path::Path,
    model_sha256: String,
    model: String,
    threshold: Option<f32>,
    seconds: f64,
    #[serde(flatten)]
    report: AlertsReport,
}

pub fn run(args: AlertsBenchArgs) -> anyhow::Result<()> {
    if let Some(budget) = args.max_false_per_minute {
        anyhow::ensure!(
            budget.is_finite() && budget >= 0.0,
            "--max-false-per-minute must be a number ≥ 0, got {budget}"
        );
    }
    let clips = read_clip_list(&args.clips)?;
    let mut base = match &args.config {
        Some(p) => RunConfig::load(p).with_context(|| format!("config {}", p.display()))?,
        None => RunConfig::default(),
    };
    if args.model.is_some() {
        base.model.path = args.model.clone();
    }
    let scratch = std::env::temp_dir().join(format!("motus-bench-alerts-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    base.output.outbox_dir = scratch.join("outbox");
    base.output.status_line = false;
    base.output.preview = None;
    base.output.metrics = None;
    base.output.framebuffer = None;
    base.output.snapshot_dir = None;
    base.sinks =
        vec![SinkConfig::File { name: None, path: scratch.join("alerts.jsonl"), max_bytes: 10 << 20, keep: 2 }];
    let start = std::time::Instant::now();
    let stop = super::run::stop_on_signals()?;
    let mut runs = Vec::with_capacity(clips.len());
    let mut model_sha256 = String::new();
    let mut model = String::new();
    for (i, clip) in clips.iter().enumerate() {
        eprintln!("[{}/{}] {}", i + 1, clips.len(), clip.name);
        let run = run_clip(&base, clip, stop.clone());
        let (run, sha, describe) = run.inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&scratch);
        })?;
        (model_sha256, model) = (sha, describe);
        runs.push(run);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let out = BenchAlerts {
        list: &args.clips,
        model_sha256,
        model,
        threshold: base.alerts.default_threshold,
        seconds: start.elapsed().as_secs_f64(),
        report: AlertsReport::tally(runs),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", out.report.to_text());
    }
    if let Some(what) = &args.record {
        let path = match &base.model.path {
            Some(p) => p.clone(),
            None => motus_device::runtime::model_path::bundled_model()?,
        };
        let method = format!(
            "motus bench alerts {}: the live pipeline with {}, each clip read as fast as it runs",
            env!("CARGO_PKG_VERSION"),
            args.config.as_ref().map_or("the device's defaults".to_string(), |c| format!("config {}", c.display()))
        );
        record(&path, what, method, &out.report)?;
    }
    if let Some(budget) = args.max_false_per_minute {
        let rate = out.report.false_alerts_per_minute;
        anyhow::ensure!(
            rate <= budget,
            "{rate:.2} false alerts a minute exceed the budget of {budget} (--max-false-per-minute)"
        );
        eprintln!("{rate:.2} false alerts a minute: within the budget of {budget}");
    }
    Ok(())
}

/// Appends the measurement to the model's embedded card and rewrites the file atomically.
fn record(model: &std::path::Path, what: &str, method: String, r: &AlertsReport) -> anyhow::Result<()> {
    let benchmark = motus_models::AlertBenchmark {
        data: what.to_string(),
        method,
        minutes: r.minutes,
        alerts: r.alerts,
        false_alerts: r.false_alerts,
        false_alerts_per_minute: r.false_alerts_per_minute,
    };
    super::card::edit_embedded(model, model, |card| card.alert_benchmarks.push(benchmark)).context("--record")?;
    eprintln!("recorded {:.2} false alerts a minute in the card of {}", r.false_alerts_per_minute, model.display());
    Ok(())
}

/// One clip through the pipeline: its run, the model's SHA-256 and its description.
fn run_clip(base: &RunConfig, clip: &RealClip, stop: Arc<AtomicBool>) -> anyhow::Result<(ClipRun, String, String)> {
    let fps =
        motus_core::media::open_video(&clip.path).with_context(|| format!("clip {}", clip.path.display()))?.info().fps;
    let mut cfg = base.clone();
    cfg.source = SourceConfig::File { path: clip.path.clone(), pace: Pace::Fast, looping: false };
    cfg.validate()?;
    let (stage, sha) = super::run::load_stage(&cfg)?;
    let describe = motus_device::runtime::classify::WindowClassifier::describe(&stage);
    let report = pipeline::run(&cfg, Box::new(stage), &sha, stop, RunLimits::default())
        .with_context(|| format!("clip {}", clip.path.display()))?;
    let raised: Vec<(String, f64)> = report
        .fired
        .iter()
        .filter(|e| !e.fired.ended)
        .map(|e| (report.labels[e.fired.class_index].clone(), e.fired.since_s))
        .collect();
    Ok((ClipRun::new(clip, fps, report.frames_in, &raised), sha, describe))
}
