//! `motus bench pipeline`: the whole device path on the synthetic live scene (30 fps,
//! 640×480, paced like a camera) with the bundled model, scored against the scene's ground
//! truth. Targets (GUIDE.md): real time with ≤ 1 % drops, alert latency within a clip plus
//! 200 ms, ≤ 200 MB resident, no growth over 10 minutes (`--soak`), precision and recall ≥ 0.9.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use motus_device::runtime::config::{CropMode, Pace, RunConfig, SinkConfig, SourceConfig};
use motus_device::runtime::pipeline::{self, RunLimits, RunReport};
use motus_lab::live::replay::Trace;
use motus_lab::live::score::{self, RunScore};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct PipelineBenchArgs {
    /// Seconds of live scene to run (the soak default is 600).
    #[arg(long)]
    seconds: Option<f64>,
    /// Soak mode: 10 minutes, resident memory sampled to report growth.
    #[arg(long)]
    soak: bool,
    /// The model (default: the bundled one).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Frames between classifications.
    #[arg(long, default_value_t = 4)]
    stride: usize,
    /// tract threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// CPU flow threads.
    #[arg(long, default_value_t = 1)]
    flow_threads: usize,
    /// Runs the whole graph on one thread instead of a two-stream model's towers on two
    /// (`model.parallel_streams = false`), to compare the two.
    #[arg(long)]
    serial_streams: bool,
    /// Where the model's square crop is taken along the frame's width (`window.crop`).
    #[arg(long, default_value = "follow")]
    crop: CropMode,
    /// Magnification of the model's view (`window.zoom`).
    #[arg(long, default_value_t = motus_device::runtime::config::WindowConfig::default().zoom)]
    zoom: f32,
    /// Scene seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The scene's width and height as `WxH` (the targets are at 640x480; a square scene shows
    /// what the model's square centre crop costs on a 4:3 camera).
    #[arg(long, default_value = "640x480", value_parser = parse_size)]
    size: (u32, u32),
    /// The scene's frame rate (the targets are at 30 fps, a common camera rate; other rates
    /// show how much a model depends on the rate it was trained at).
    #[arg(long, default_value_t = 30.0)]
    fps: f64,
    /// Offline scoring instead of a live run: read this many frames of the scene unpaced (no
    /// drops; fps then measures throughput, not real time). For tuning alert rules on a busy
    /// machine, where a paced run would drop frames.
    #[arg(long, conflicts_with_all = ["seconds", "soak"])]
    frames: Option<u64>,
    /// Alert threshold for every class (default: the runtime's `alerts.default_threshold`).
    #[arg(long)]
    threshold: Option<f32>,
    /// Score smoothing time constant in seconds (default: the runtime's `alerts.smoothing_s`).
    #[arg(long)]
    smoothing: Option<f64>,
    /// Write every window's probabilities and the scene's ground truth to this JSON file
    /// (`labels`, `fps`, `truth`, `windows`: `t_s` and `probs`), to see where the model and the
    /// alert rules go wrong.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Print the JSON object (always printed; the flag is accepted for uniformity).
    #[arg(long)]
    json: bool,
}

pub fn run(args: PipelineBenchArgs) -> anyhow::Result<()> {
    let seconds = args.seconds.unwrap_or(if args.soak { 600.0 } else { 60.0 });
    anyhow::ensure!(seconds.is_finite() && seconds > 0.0, "--seconds must be positive");
    let outbox = tempfile_dir()?;
    let cfg = bench_config(&args, &outbox)?;
    let (stage, sha) = super::run::load_stage(&cfg)?;
    let span = motus_device::runtime::classify::WindowClassifier::span(&stage);
    let towers_in_parallel = stage.towers_in_parallel();
    let stop = super::run::stop_on_signals()?;
    let sampler = RssSampler::start();
    let max_duration = if args.frames.is_some() { None } else { Some(Duration::from_secs_f64(seconds)) };
    let limits = RunLimits { max_duration, record_scores: args.trace.is_some(), ..Default::default() };
    let report = pipeline::run(&cfg, Box::new(stage), &sha, stop, limits)?;
    let samples = sampler.stop();
    let truth = report.truth.clone().ok_or_else(|| anyhow::anyhow!("the synthetic source reported no ground truth"))?;
    let s = score::score_live_run(&report, &truth, span as u64);
    if let Some(path) = &args.trace {
        let trace = Trace {
            labels: report.labels.clone(),
            fps: truth.fps,
            truth: truth.segments.clone(),
            windows: report.window_scores.clone(),
            frames_in: Some(report.frames_in),
            span: Some(span as u64),
        };
        motus_core::atomic::write_atomic(path, serde_json::to_string(&trace)?.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let run = BenchRun { report: &report, score: &s, span, seconds, samples: &samples, towers_in_parallel, sha: &sha };
    let out = bench_report(&args, &cfg, &run);
    let _ = std::fs::remove_dir_all(&outbox);
    super::print_json(&out);
    Ok(())
}

/// The run config the bench runs: the synthetic scene at the asked size and rate (unpaced
/// with `--frames`), the model and window settings, and a file sink in a scratch outbox.
fn bench_config(args: &PipelineBenchArgs, outbox: &std::path::Path) -> anyhow::Result<RunConfig> {
    let mut cfg = RunConfig::default();
    let pace = if args.frames.is_some() { Pace::Fast } else { Pace::Realtime };
    cfg.source = SourceConfig::Synthetic {
        width: args.size.0,
        height: args.size.1,
        fps: args.fps,
        seed: args.seed,
        pace,
        frames: args.frames,
    };
    cfg.model.path = args.model.clone();
    cfg.model.threads = args.threads;
    cfg.model.flow_threads = args.flow_threads;
    cfg.model.parallel_streams = !args.serial_streams;
    cfg.window.stride = args.stride;
    cfg.window.zoom = args.zoom;
    cfg.window.crop = args.crop;
    if let Some(t) = args.threshold {
        cfg.alerts.default_threshold = Some(t);
    }
    if let Some(s) = args.smoothing {
        cfg.alerts.smoothing_s = s;
    }
    cfg.output.outbox_dir = outbox.to_path_buf();
    cfg.output.status_line = false;
    // A file sink keeps the delivery path real without flooding stdout (which holds the JSON).
    cfg.sinks = vec![SinkConfig::File { name: None, path: outbox.join("alerts.jsonl"), max_bytes: 10 << 20, keep: 2 }];
    cfg.validate()?;
    Ok(cfg)
}

/// Samples the process's RSS every 5 s on its own thread, for the soak report.
struct RssSampler {
    samples: Arc<std::sync::Mutex<Vec<(f64, f64)>>>,
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    fn start() -> Self {
        let samples = Arc::new(std::sync::Mutex::new(Vec::<(f64, f64)>::new()));
        let done = Arc::new(AtomicBool::new(false));
        let (s, d) = (samples.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            let t = Instant::now();
            while !d.load(Ordering::Relaxed) {
                s.lock().unwrap().push((t.elapsed().as_secs_f64(), score::rss_mb().1));
                std::thread::sleep(Duration::from_secs(5));
            }
        });
        RssSampler { samples, done, thread }
    }

    /// Stops sampling; (seconds since start, RSS MB) pairs.
    fn stop(self) -> Vec<(f64, f64)> {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        let samples = self.samples.lock().unwrap().clone();
        samples
    }
}

/// What a bench run produced, for its report.
struct BenchRun<'a> {
    report: &'a RunReport,
    score: &'a RunScore,
    span: usize,
    seconds: f64,
    samples: &'a [(f64, f64)],
    towers_in_parallel: bool,
    sha: &'a str,
}

/// Resident memory growth (MB): the mean RSS of the last minute minus that of the minute
/// after a one-minute warm-up; `None` for runs under three minutes.
fn rss_growth(samples: &[(f64, f64)], seconds: f64) -> Option<f64> {
    let mean = |a: f64, b: f64| {
        let v: Vec<f64> = samples.iter().filter(|(t, _)| *t >= a && *t < b).map(|(_, r)| *r).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    if seconds < 180.0 {
        return None;
    }
    mean(60.0, 120.0).zip(mean(seconds - 60.0, seconds + 1.0)).map(|(a, b)| b - a)
}

/// One class's actions, alerts and matches in the scene.
#[derive(Debug, Serialize)]
struct ClassCount {
    actions: usize,
    alerts: usize,
    matched: usize,
}

/// One stage's latency percentiles.
#[derive(Debug, Serialize)]
struct StageMs {
    p50_ms: f64,
    p99_ms: f64,
}

/// `motus bench pipeline`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct PipelineBenchReport<'a> {
    seconds: f64,
    fps_in: f64,
    fps_processed: f64,
    windows_per_s: f64,
    drop_rate: f64,
    /// Camera clock to alert (`null` offline: an unpaced run has no camera clock).
    alert_latency_p95_ms: Option<f64>,
    alert_latency_p50_ms: Option<f64>,
    /// On the stream's clock (newest frame at emission − action start): what the window, the
    /// smoothing and the model cost, without processing time; measured in both modes.
    alert_latency_stream_p95_ms: Option<f64>,
    alert_latency_stream_p50_ms: Option<f64>,
    clip_ms: f64,
    rss_peak_mb: f64,
    rss_end_mb: f64,
    rss_growth_mb: Option<f64>,
    /// `null` without any alert (the detection scorer's convention of 1.0 would read as a
    /// success).
    alert_precision: Option<f64>,
    alert_recall: f64,
    true_actions: usize,
    alerts: usize,
    matched: usize,
    min_iou: f64,
    per_class: BTreeMap<String, ClassCount>,
    false_alerts: &'a score::FalseAlerts,
    stages: BTreeMap<&'static str, StageMs>,
    scene_fps: f64,
    scene_size: [u32; 2],
    stride: usize,
    crop: CropMode,
    /// As given (an f32 widened as is would print 1.2999999523).
    zoom: f64,
    threshold: Option<f32>,
    smoothing_s: f64,
    threads: usize,
    towers_in_parallel: bool,
    model_sha256: &'a str,
    soak: bool,
    offline_frames: Option<u64>,
}

/// The bench's report.
fn bench_report<'a>(args: &PipelineBenchArgs, cfg: &RunConfig, run: &BenchRun<'a>) -> PipelineBenchReport<'a> {
    let (report, s) = (run.report, run.score);
    let offline = args.frames.is_some();
    let (rss_peak_mb, rss_end_mb) = score::rss_mb();
    let per_class = s
        .per_class
        .iter()
        .map(|c| {
            let name = report.labels.get(c.class_index).cloned().unwrap_or_else(|| format!("class {}", c.class_index));
            (name, ClassCount { actions: c.actions, alerts: c.alerts, matched: c.matched })
        })
        .collect();
    let per_s = |n: u64| n as f64 / report.seconds;
    PipelineBenchReport {
        seconds: report.seconds,
        fps_in: per_s(report.frames_in),
        fps_processed: per_s(report.frames_processed),
        windows_per_s: per_s(report.windows),
        drop_rate: if report.frames_in > 0 { report.dropped as f64 / report.frames_in as f64 } else { 0.0 },
        alert_latency_p95_ms: if offline { None } else { s.latency_p95_ms },
        alert_latency_p50_ms: if offline { None } else { s.latency_p50_ms },
        alert_latency_stream_p95_ms: s.stream_latency_p95_ms,
        alert_latency_stream_p50_ms: s.stream_latency_p50_ms,
        clip_ms: run.span as f64 / args.fps * 1000.0,
        rss_peak_mb,
        rss_end_mb,
        rss_growth_mb: rss_growth(run.samples, run.seconds),
        alert_precision: if s.alerts == 0 { None } else { Some(s.precision) },
        alert_recall: s.recall,
        true_actions: s.true_actions,
        alerts: s.alerts,
        matched: s.matched,
        min_iou: score::LIVE_MIN_IOU,
        per_class,
        false_alerts: &s.false_alerts,
        stages: report.stages.iter().map(|&(k, p50_ms, p99_ms)| (k, StageMs { p50_ms, p99_ms })).collect(),
        scene_fps: args.fps,
        scene_size: [args.size.0, args.size.1],
        stride: args.stride,
        crop: cfg.window.crop,
        zoom: (cfg.window.zoom as f64 * 1e4).round() / 1e4,
        threshold: cfg.alerts.default_threshold,
        smoothing_s: cfg.alerts.smoothing_s,
        threads: args.threads,
        towers_in_parallel: run.towers_in_parallel,
        model_sha256: run.sha,
        soak: args.soak,
        offline_frames: args.frames,
    }
}

/// `WxH` with both sides positive.
fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?}: expected WIDTHxHEIGHT, e.g. 640x480");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?);
    if w == 0 || h == 0 {
        return Err(bad());
    }
    Ok((w, h))
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("motus-bench-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn scene_sizes_are_checked() {
        assert_eq!(parse_size("640x480"), Ok((640, 480)));
        assert_eq!(parse_size(" 171 x 128 "), Ok((171, 128)));
        for bad in ["640", "0x480", "640x0", "axb", "640x480x3", ""] {
            let e = parse_size(bad).unwrap_err();
            assert!(e.contains("expected WIDTHxHEIGHT"), "{bad:?}: {e}");
        }
    }
}
