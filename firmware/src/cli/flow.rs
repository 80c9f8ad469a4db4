//! `motus flow`: one pair, the Middlebury evaluation, and dataset extraction for training.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use motus_core::flow::{self, store, Backend, FlowEngine, TvL1Params};
use motus_lab::dataset::Dataset;
use serde::Serialize;

use motus_core::progress::Progress;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct FlowArgs {
    #[command(subcommand)]
    command: Option<FlowCommand>,
    /// First frame (PNG or JPEG).
    #[arg(required = true)]
    a: Option<PathBuf>,
    /// Second frame.
    #[arg(required = true)]
    b: Option<PathBuf>,
    /// Output `.flo` file (Middlebury format).
    #[arg(short = 'o', long = "out", required = true)]
    out: Option<PathBuf>,
    /// Also write the Middlebury colour-wheel picture.
    #[arg(long)]
    png: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum FlowCommand {
    /// Accuracy and speed on Middlebury sequences with ground truth.
    Eval(EvalArgs),
    /// Compute flow for every video of a dataset list (for training), resumable.
    Extract(ExtractArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Preset {
    /// Offline quality: fine pyramid, bicubic warps, 5x5 median.
    Accurate,
    /// Live at model resolution: the device's preset.
    Edge,
}

impl Preset {
    fn params(self) -> TvL1Params {
        match self {
            Preset::Accurate => TvL1Params::accurate(),
            Preset::Edge => TvL1Params::edge(),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Preset::Accurate => "accurate",
            Preset::Edge => "edge",
        }
    }
}

#[derive(Debug, Args)]
struct EngineArgs {
    /// cpu, gpu (wgpu/Vulkan) or auto (a hardware GPU if present, else the CPU).
    #[arg(long, default_value = "auto")]
    backend: Backend,
    /// Parameter preset (default: accurate; extract defaults to edge, what the device computes).
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// CPU threads.
    #[arg(long, default_value_t = default_threads())]
    threads: usize,
    /// TV-L1 parameters from a JSON file (the fields of a preset), instead of --preset.
    #[arg(long, conflicts_with = "preset")]
    params: Option<PathBuf>,
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl EngineArgs {
    fn preset(&self, default: Preset) -> Preset {
        self.preset.unwrap_or(default)
    }
    /// The parameters: from `--params`, else the preset's.
    fn params(&self, default: Preset) -> anyhow::Result<TvL1Params> {
        match &self.params {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let p: TvL1Params =
                    serde_json::from_str(&text).with_context(|| format!("{}: not TV-L1 parameters", path.display()))?;
                p.validate().with_context(|| format!("{}", path.display()))?;
                Ok(p)
            }
            None => Ok(self.preset(default).params()),
        }
    }
    /// A label for reports: the preset name, or the parameter file.
    fn label(&self, default: Preset) -> String {
        match &self.params {
            Some(p) => p.display().to_string(),
            None => self.preset(default).name().to_string(),
        }
    }
    fn build(&self, default: Preset) -> anyhow::Result<Box<dyn FlowEngine>> {
        anyhow::ensure!(self.threads >= 1, "--threads must be at least 1");
        Ok(flow::make_engine(self.backend, self.params(default)?, self.threads)?)
    }
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// Folder of Middlebury sequences (`<name>/frame10.png`, `frame11.png`, `flow10.flo`).
    #[arg(long)]
    middlebury: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ExtractArgs {
    /// Dataset list (MMAction2 video or rawframes list).
    #[arg(long)]
    data: PathBuf,
    /// Output folder; each video's flow goes to OUT/<its path relative to the list's root>.
    #[arg(long)]
    out: PathBuf,
    /// Root the list's relative paths are resolved against (default: the list's folder).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Resize frames so the short side is this many pixels before computing flow (model
    /// resolution); default: native size.
    #[arg(long)]
    resize_short: Option<u32>,
    /// Flow is clipped to +-BOUND pixels and stored as u8.
    #[arg(long, default_value_t = flow::encode::DEFAULT_BOUND)]
    bound: f32,
    #[command(flatten)]
    engine: EngineArgs,
    #[arg(long)]
    json: bool,
}

pub fn run(args: FlowArgs) -> anyhow::Result<()> {
    match args.command {
        Some(FlowCommand::Eval(a)) => eval(a),
        Some(FlowCommand::Extract(a)) => extract(a),
        None => pair(args),
    }
}

/// `motus flow pair`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct PairReport<'a> {
    out: &'a Path,
    png: Option<&'a Path>,
    width: u32,
    height: u32,
    max_magnitude: f32,
    ms: f64,
    engine: &'a str,
    preset: String,
}

/// `motus flow eval`'s report (the `--json` contract): endpoint error per Middlebury sequence.
#[derive(Debug, Serialize)]
struct EvalReport<'a> {
    mean_epe: f64,
    per_sequence: BTreeMap<&'a str, f64>,
    ms_per_pair: f64,
    engine: &'a str,
    preset: String,
    sequences: usize,
}

/// `motus flow extract`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct ExtractReport<'a> {
    videos: usize,
    extracted: usize,
    /// Videos whose flow was already complete (kept, not recomputed).
    skipped_complete: usize,
    failed: Vec<Failed>,
    pairs: u64,
    seconds: f64,
    pairs_per_s: f64,
    engine: &'a str,
    preset: String,
    bound: f32,
    out: &'a Path,
}

/// A video whose flow could not be extracted, and why.
#[derive(Debug, Serialize)]
struct Failed {
    path: PathBuf,
    error: String,
}

fn pair(args: FlowArgs) -> anyhow::Result<()> {
    let (a, b, out) = (args.a.expect("required"), args.b.expect("required"), args.out.expect("required"));
    let fa = flow::eval::load_frame(&a)?;
    let fb = flow::eval::load_frame(&b)?;
    let mut engine = args.engine.build(Preset::Accurate)?;
    let t = Instant::now();
    let field = engine.compute(&fa, &fb)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    flow::flo::write_flo(&out, &field)?;
    if let Some(png) = &args.png {
        flow::vis::save_png(&field, None, png)?;
    }
    let max = field.max_magnitude();
    if args.json {
        super::print_json(&PairReport {
            out: &out,
            png: args.png.as_deref(),
            width: field.width,
            height: field.height,
            max_magnitude: max,
            ms,
            engine: engine.name(),
            preset: args.engine.label(Preset::Accurate),
        });
    } else {
        println!(
            "{} -> {}: {}x{}, max |flow| {max:.2} px, {ms:.1} ms ({}), wrote {}",
            a.display(),
            b.display(),
            field.width,
            field.height,
            engine.name(),
            out.display()
        );
    }
    Ok(())
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let mut engine = args.engine.build(Preset::Accurate)?;
    let report = flow::evaluate_middlebury(&args.middlebury, engine.as_mut())?;
    let preset = args.engine.label(Preset::Accurate);
    if args.json {
        super::print_json(&EvalReport {
            mean_epe: report.mean_epe,
            per_sequence: report.per_sequence.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
            ms_per_pair: report.ms_per_pair_median,
            engine: engine.name(),
            preset,
            sequences: report.per_sequence.len(),
        });
    } else {
        println!("{:<14} {:>8}", "sequence", "EPE");
        for (name, e) in &report.per_sequence {
            println!("{name:<14} {e:>8.3}");
        }
        println!(
            "{:<14} {:>8.3}   ({}, preset {preset}, median {:.1} ms/pair)",
            "mean",
            report.mean_epe,
            engine.name(),
            report.ms_per_pair_median
        );
    }
    Ok(())
}

fn extract(args: ExtractArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.bound.is_finite() && args.bound > 0.0,
        "--bound must be a positive number of pixels, got {}",
        args.bound
    );
    if let Some(0) = args.resize_short {
        bail!("--resize-short must be at least 1");
    }
    let root = match &args.root {
        Some(r) => r.clone(),
        None => args.data.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let ds = Dataset::from_list(&args.data, &root, None)?.verified()?;
    let preset = args.engine.label(Preset::Edge);
    let mut engine = args.engine.build(Preset::Edge)?;
    let config = store::Extraction {
        algorithm: flow::config::TVL1.into(),
        params: args.engine.params(Preset::Edge)?,
        bound: args.bound,
        resize_short: args.resize_short,
    };
    let started = Instant::now();
    let (mut done, mut skipped, mut pairs) = (0usize, 0usize, 0u64);
    let mut failed = Vec::new();
    let mut progress = Progress::new("flow extract");
    for (i, entry) in ds.entries.iter().enumerate() {
        let dir = store::folder_for(&args.out, &root, &entry.path);
        if store::is_complete(&dir, &config, &entry.path) {
            skipped += 1;
            progress.update(i + 1, ds.entries.len());
            continue;
        }
        let result = ds.open_entry(entry).map_err(anyhow::Error::from).and_then(|mut reader| {
            Ok(store::extract_video(reader.as_mut(), engine.as_mut(), &config, &dir, &entry.path)?)
        });
        match result {
            Ok(n) => {
                pairs += n;
                done += 1;
            }
            Err(e) => {
                eprintln!("flow extract: {}: {e:#}", entry.path.display());
                failed.push(Failed { path: entry.path.clone(), error: format!("{e:#}") });
            }
        }
        progress.update(i + 1, ds.entries.len());
    }
    let secs = started.elapsed().as_secs_f64();
    let failures = failed.len();
    if args.json {
        super::print_json(&ExtractReport {
            videos: ds.entries.len(),
            extracted: done,
            skipped_complete: skipped,
            failed,
            pairs,
            seconds: secs,
            pairs_per_s: pairs as f64 / secs.max(1e-9),
            engine: engine.name(),
            preset,
            bound: args.bound,
            out: &args.out,
        });
    } else {
        println!(
            "flow extract: {done} videos extracted ({pairs} pairs, {:.1} pairs/s), {skipped} already complete, {} failed; {} preset {}",
            pairs as f64 / secs.max(1e-9),
            failures,
            engine.name(),
            preset
        );
    }
    if failures > 0 {
        bail!("{failures} video(s) failed; rerun to retry them (finished ones are kept)");
    }
    Ok(())
}
