//! `motus-train experiment`: the seed papers' comparison on the synthetic motion benchmark.
//!
//! Every architecture of the zoo is trained with one budget (same data, epochs, batch,
//! optimiser and input size), exported, and evaluated on the test split; the result is a
//! Markdown table (params, clip Hit@1, video Hit@1 and Hit@5, tract latency per clip) and a
//! JSON file with the same numbers. The benchmark's paired classes (walk left/right,
//! approach/recede, spin cw/ccw, sit/stand) cannot be told apart from one frame, so the
//! single-frame baseline should sit near chance on them while flow and 3D models should not.
//!
//! The I3D is initialised the I3D paper's way: its 2D twin is trained first (half the epochs)
//! and inflated, then the I3D trains for the other half.

use crate::checkpoint::Checkpoint;
use crate::train::{read_history, train, TrainArgs};
use anyhow::Context;
use motus_core::infer::{Classifier, InputTensor};
use motus_models::spec::ARCH_NAMES;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// Dataset folder with train, val and test splits (`motus synth` writes them).
    #[arg(long)]
    pub data: PathBuf,
    /// Output folder: one run folder per architecture, `results.md`, `results.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Architectures to compare (default: all).
    #[arg(long, value_delimiter = ',')]
    pub archs: Vec<String>,
    /// Epochs per architecture (the one budget).
    #[arg(long, default_value_t = 10)]
    pub epochs: u32,
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Input size of every model (the edge defaults use 112; smaller keeps the CPU budget).
    #[arg(long, default_value_t = 112)]
    pub input_size: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value = "auto")]
    pub device: String,
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Random training clips per video per epoch.
    #[arg(long, default_value_t = 1)]
    pub clips_per_video: u32,
    /// Test clips per video (TSN views, probabilities averaged).
    #[arg(long, default_value_t = 3)]
    pub views: u32,
}

/// One row of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub arch: String,
    pub params: usize,
    pub gflops_per_clip: f64,
    pub clip_top1: f64,
    pub video_top1: f64,
    pub video_top5: f64,
    /// Video top-1 over the classes of the motion pairs only (chance there: 1/2 within a pair).
    pub paired_top1: f64,
    pub tract_ms_per_clip: f64,
    pub train_seconds: f64,
}

/// Median tract latency of one clip (batch 1, one thread), random input, after a warm-up.
fn tract_latency_ms(bytes: &[u8]) -> anyhow::Result<f64> {
    motus_core::infer::set_threads(1);
    let mut model = Classifier::from_bytes(bytes, "experiment")?;
    let inputs: Vec<(String, Vec<usize>, Vec<f32>)> = model
        .card()
        .inputs
        .iter()
        .map(|d| {
            let shape: Vec<usize> = d.shape.iter().map(|&v| v.max(1) as usize).collect();
            let n = shape.iter().product();
            (d.name.clone(), shape, motus_models::ir::random_input(n, 1))
        })
        .collect();
    let tensors: Vec<InputTensor> = inputs.iter().map(|(n, s, d)| InputTensor { name: n, shape: s, data: d }).collect();
    model.run(&tensors)?;
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        model.run(&tensors)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn spec_with_size(arch: &str, classes: usize, size: usize) -> anyhow::Result<serde_json::Value> {
    let spec = motus_models::spec::default_for(arch, classes)?;
    let mut v = serde_json::to_value(&spec)?;
    v["input_size"] = size.into();
    let back: motus_models::ArchSpec = serde_json::from_value(v.clone())?;
    back.lower().with_context(|| format!("{arch} at {size}×{size}"))?;
    Ok(v)
}

fn train_args(a: &ExperimentArgs, spec: &Path, out: &Path, epochs: u32, extra: &[String]) -> anyhow::Result<TrainArgs> {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TrainArgs,
    }
    let mut argv: Vec<String> = vec!["train".into()];
    for (k, v) in [
        ("--spec", spec.display().to_string()),
        ("--data", a.data.display().to_string()),
        ("--out", out.display().to_string()),
        ("--epochs", epochs.to_string()),
        ("--batch", a.batch.to_string()),
        ("--seed", a.seed.to_string()),
        ("--device", a.device.clone()),
        ("--threads", a.threads.to_string()),
        ("--workers", a.workers.to_string()),
        ("--clips-per-video", a.clips_per_video.to_string()),
    ] {
        argv.push(k.into());
        argv.push(v);
    }
    argv.extend(extra.iter().cloned());
    Ok(Cli::try_parse_from(argv)?.args)
}

pub fn run(a: ExperimentArgs) -> anyhow::Result<()> {
    let ds_train = motus_lab::dataset::Dataset::open_split(&a.data, "train")?;
    let labels: Vec<String> = ds_train.classes.names().to_vec();
    let ds_test = motus_lab::dataset::Dataset::open_split(&a.data, "test")
        .context("the experiment evaluates on the test split")?;
    anyhow::ensure!(!ds_test.entries.is_empty(), "the test split is empty");
    let archs: Vec<String> =
        if a.archs.is_empty() { ARCH_NAMES.iter().map(|s| s.to_string()).collect() } else { a.archs.clone() };
    std::fs::create_dir_all(&a.out)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())?;
    }
    let paired = motus_core::synth::paired_class_indices(&labels);
    let mut rows = Vec::new();
    for arch in &archs {
        let spec_json = spec_with_size(arch, labels.len(), a.input_size)?;
        let spec_path = a.out.join(format!("{arch}.spec.json"));
        std::fs::write(&spec_path, serde_json::to_string_pretty(&spec_json)?)?;
        let run_dir = a.out.join(arch);
        let resume =
            |dir: &Path| if dir.join("last.safetensors").exists() { vec!["--resume".to_string()] } else { vec![] };
        if arch == "i3d" {
            let twin_dir = a.out.join("i3d-2d-twin");
            let mut extra = resume(&twin_dir);
            extra.push("--twin-2d".into());
            let twin_epochs = a.epochs.div_ceil(2);
            train(&train_args(&a, &spec_path, &twin_dir, twin_epochs, &extra)?, stop.clone())?;
            // An interrupted twin must not seed the I3D: its inflation happens once, from the
            // finished twin, and a resumed I3D never re-reads it.
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                anyhow::bail!("interrupted while training the I3D's 2D twin; rerun the same command to resume");
            }
            let mut extra = resume(&run_dir);
            if extra.is_empty() {
                extra.extend(["--init-2d".to_string(), twin_dir.join("best.safetensors").display().to_string()]);
            }
            train(&train_args(&a, &spec_path, &run_dir, (a.epochs - twin_epochs).max(1), &extra)?, stop.clone())?;
        } else {
            train(&train_args(&a, &spec_path, &run_dir, a.epochs, &resume(&run_dir))?, stop.clone())?;
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            anyhow::bail!("interrupted; rerun the same command to resume");
        }
        let best = Checkpoint::load(&run_dir.join("best.safetensors"))?;
        let bytes = crate::export::export_checkpoint(&best, true)?;
        let model_path = run_dir.join(format!("{arch}.onnx"));
        motus_core::atomic::write_atomic(&model_path, &bytes)?;
        let graph = best.card.arch.lower()?;
        let eval = crate::evaluate::evaluate_checkpoint(&best, &ds_test, a.views, &a.device, a.workers, &paired)?;
        let row = Row {
            arch: arch.clone(),
            params: graph.num_params(),
            gflops_per_clip: graph.flops() as f64 / 1e9,
            clip_top1: eval.clip_top1,
            video_top1: eval.video_top1,
            video_top5: eval.video_top5,
            paired_top1: eval.subset_top1,
            tract_ms_per_clip: tract_latency_ms(&bytes)?,
            // Epoch times from the run's metrics (a resumed or re-tabulated run's wall time
            // would only count what this invocation did); the I3D adds its 2D twin's.
            train_seconds: logged_training_seconds(&run_dir)?
                + if arch == "i3d" { logged_training_seconds(&a.out.join("i3d-2d-twin"))? } else { 0.0 },
        };
        eprintln!("{arch}: video top-1 {:.3}, paired classes {:.3}", row.video_top1, row.paired_top1);
        rows.push(row);
    }
    let md = table(&a, &rows, labels.len(), ds_test.entries.len());
    motus_core::atomic::write_atomic(&a.out.join("results.md"), md.as_bytes())?;
    motus_core::atomic::write_atomic(&a.out.join("results.json"), serde_json::to_string_pretty(&rows)?.as_bytes())?;
    println!("{md}");
    Ok(())
}

/// Sum of the epoch times in a run folder's `metrics.jsonl` (0 when absent).
fn logged_training_seconds(run_dir: &Path) -> anyhow::Result<f64> {
    let path = run_dir.join("metrics.jsonl");
    let history = read_history(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(history.iter().map(|r| r.seconds).sum())
}

fn table(a: &ExperimentArgs, rows: &[Row], classes: usize, test_videos: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Synthetic motion benchmark, {classes} classes, {test_videos} test videos; every model {}×{} input, {} epochs, batch {}, seed {}, {} test views per video.\n\n",
        a.input_size, a.input_size, a.epochs, a.batch, a.seed, a.views
    ));
    s.push_str("| arch | params | GFLOPs/clip | clip Hit@1 | video Hit@1 | video Hit@5 | paired classes Hit@1 | tract ms/clip (1 thread) | train s |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {:.2} M | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} | {:.0} |\n",
            r.arch,
            r.params as f64 / 1e6,
            r.gflops_per_clip,
            r.clip_top1,
            r.video_top1,
            r.video_top5,
            r.paired_top1,
            r.tract_ms_per_clip,
            r.train_seconds
        ));
    }
    s
}
