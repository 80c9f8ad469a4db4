//! `motus run` (the device runtime from a config file and flags) and `motus demo` (the same
//! runtime on its embedded default: the synthetic camera and the bundled model).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use motus_device::runtime::config::{Overrides, RunConfig, SinkConfig};
use motus_device::runtime::pipeline::{self, RunLimits};
use motus_device::runtime::{model_path, tract_stage::TractStage};

/// Flags shared by `run` and `demo`: the config's [`Overrides`], and how long to run.
#[derive(Debug, Args, Clone, Default)]
pub struct RunFlags {
    #[command(flatten)]
    overrides: Overrides,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<f64>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The TOML configuration (see GUIDE.md: `motus run` and `motus demo`). Without it, the defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Check the configuration and load the model (card, flow settings, alert rules against the
    /// model's classes), print what would run, and exit without opening the source or sinks.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    flags: RunFlags,
}

/// SIGINT and SIGTERM set the returned flag; the pipeline then stops and flushes.
pub fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing the signal handler")?;
    }
    Ok(stop)
}

/// Loads the model named by the config and builds the model stage; returns it with the
/// model file's SHA-256.
pub fn load_stage(cfg: &RunConfig) -> anyhow::Result<(TractStage, String)> {
    let model = match &cfg.model.path {
        Some(p) => p.clone(),
        None => model_path::bundled_model()?,
    };
    let stage = TractStage::for_run(&model, cfg)?;
    let sha = stage.model_sha256().to_string();
    Ok((stage, sha))
}

fn execute(cfg: RunConfig, seconds: Option<f64>) -> anyhow::Result<()> {
    // The device process: a panic in any of its threads ends it, for the service to restart.
    motus_device::runtime::liveness::exit_on_panic();
    let (stage, sha) = load_stage(&cfg)?;
    // What to expect before the first alert: the model's own records, synthetic and real.
    log::info!("model measured (its card): {}", stage.card().measured_summary());
    let stop = stop_on_signals()?;
    let limits = RunLimits { max_duration: seconds.map(Duration::from_secs_f64), ..Default::default() };
    let report = pipeline::run(&cfg, Box::new(stage), &sha, stop, limits)?;
    let starts = report.fired.iter().filter(|e| !e.fired.ended).count();
    eprintln!(
        "stopped after {:.1} s: {} frames in, {} processed, {} dropped, {} windows, {} alerts",
        report.seconds, report.frames_in, report.frames_processed, report.dropped, report.windows, starts
    );
    Ok(())
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut cfg = match &args.config {
        Some(p) => RunConfig::load(p)?,
        None => RunConfig::default(),
    };
    cfg.apply(&args.flags.overrides)?;
    if args.check {
        return check(&cfg, args.config.as_deref());
    }
    execute(cfg, args.flags.seconds)
}

/// `motus run --check`: everything that can be refused without opening the source, the sinks or
/// the listening sockets; prints one line and returns. The package's health check and the
/// packaged config's test use it.
fn check(cfg: &RunConfig, config: Option<&std::path::Path>) -> anyhow::Result<()> {
    use motus_device::runtime::classify::WindowClassifier;
    // The source is built but not opened: a camera kind missing from this build is refused.
    let (_opener, _truth) = motus_device::runtime::source::opener(&cfg.source)
        .map_err(|e| anyhow::anyhow!("source {}: {e}", cfg.source.describe()))?;
    let (stage, sha) = load_stage(cfg)?;
    cfg.alerts.rules_for(stage.labels())?;
    let sinks: Vec<String> = cfg.sinks.iter().map(|s| s.name()).collect();
    println!(
        "config {}: ok; source {}; {} (sha256 {}); sinks {}; outbox {}",
        config.map(|p| p.display().to_string()).unwrap_or_else(|| "(defaults)".into()),
        cfg.source.describe(),
        stage.describe(),
        sha,
        sinks.join(", "),
        cfg.output.outbox_dir.display()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    flags: RunFlags,
}

/// The demo's configuration: the synthetic camera, the bundled model, alerts as JSON lines on
/// stdout, a fresh outbox under the temporary folder.
pub fn demo_config() -> RunConfig {
    let mut cfg = RunConfig { sinks: vec![SinkConfig::Stdout { name: None }], ..RunConfig::default() };
    cfg.output.outbox_dir = std::env::temp_dir().join(format!("motus-demo-outbox-{}", std::process::id()));
    cfg
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut cfg = demo_config();
    cfg.apply(&args.flags.overrides)?;
    let outbox = cfg.output.outbox_dir.clone();
    eprintln!("motus demo: synthetic camera 640x480 at 30 fps; alerts print below as JSON lines (Ctrl-C stops)");
    let r = execute(cfg, args.flags.seconds);
    if args.flags.overrides.outbox_dir.is_none() {
        let _ = std::fs::remove_dir_all(outbox);
    }
    r
}
