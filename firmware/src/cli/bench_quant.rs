//! `motus bench quant`: float vs int8 latency of the same model in tract on this machine, at
//! batch 1, with the matrix-product kernels tract chose for each (so the JSON says whether int8
//! code ran, and which).

use std::path::PathBuf;
use std::time::Instant;

use motus_core::infer::{Classifier, InputTensor};
use motus_models::ir::random_input;
use serde::Serialize;

use super::bench::median;

#[derive(Debug, clap::Args)]
pub struct QuantBenchArgs {
    /// The float model.
    #[arg(long)]
    model: PathBuf,
    /// Quantized versions of it (repeat the flag for several forms).
    #[arg(long, required = true)]
    int8: Vec<PathBuf>,
    /// Timed runs per model (after two warm-ups); medians are reported.
    #[arg(long, default_value_t = 30)]
    reps: usize,
    /// tract matrix-product threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn cpu_features() -> Vec<&'static str> {
    let mut f = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            f.push("avx2");
        }
        if std::arch::is_x86_feature_detected!("fma") {
            f.push("fma");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            f.push("avx512f");
        }
        if std::arch::is_x86_feature_detected!("avx512vnni") {
            f.push("avx512vnni");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("dotprod") {
            f.push("dotprod");
        }
    }
    f
}

/// One model's latency and the kernels tract planned for it.
#[derive(Debug, Serialize)]
struct ModelTiming {
    model: PathBuf,
    bytes: usize,
    /// `float`, or the card's quantization format.
    format: String,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    kernels: Vec<String>,
    int8_kernels: bool,
    /// Float median / this median (int8 models only).
    #[serde(skip_serializing_if = "Option::is_none")]
    speedup_vs_float: Option<f64>,
    /// This file's bytes / the float file's (int8 models only).
    #[serde(skip_serializing_if = "Option::is_none")]
    size_vs_float: Option<f64>,
}

/// `motus bench quant`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct QuantBenchReport {
    float: ModelTiming,
    int8: Vec<ModelTiming>,
    threads: usize,
    reps: usize,
    batch: usize,
    runtime: &'static str,
    arch: &'static str,
    cpu_features: Vec<&'static str>,
}

fn time_model(path: &PathBuf, reps: usize) -> anyhow::Result<ModelTiming> {
    let bytes = std::fs::read(path)?;
    let mut c = Classifier::from_bytes(&bytes, &path.display().to_string())?;
    let card = c.card().clone();
    let inputs: Vec<(String, Vec<usize>, Vec<f32>)> = card
        .inputs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let shape: Vec<usize> = std::iter::once(1).chain(d.shape[1..].iter().map(|&x| x as usize)).collect();
            (d.name.clone(), shape.clone(), random_input(shape.iter().product(), 100 + i as u64))
        })
        .collect();
    let tensors: Vec<InputTensor> = inputs.iter().map(|(n, s, d)| InputTensor { name: n, shape: s, data: d }).collect();
    c.run(&tensors)?;
    c.run(&tensors)?;
    let mut ms = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        c.run(&tensors)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut sorted = ms.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let kernels = motus_lab::quantize::kernels::plan_kernels(&bytes, &card)?;
    let int8_kernels = kernels.iter().any(|k| k.contains("i32") || k.contains("i8"));
    Ok(ModelTiming {
        model: path.clone(),
        bytes: bytes.len(),
        format: card.quantization.as_ref().map(|q| q.format.clone()).unwrap_or_else(|| "float".into()),
        median_ms: median(ms),
        min_ms: sorted[0],
        max_ms: sorted[sorted.len() - 1],
        kernels,
        int8_kernels,
        speedup_vs_float: None,
        size_vs_float: None,
    })
}

pub fn run(args: QuantBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.reps >= 1 && args.threads >= 1, "--reps and --threads must be at least 1");
    motus_core::infer::set_threads(args.threads);
    let float = time_model(&args.model, args.reps)?;
    let mut int8 = Vec::new();
    for p in &args.int8 {
        let mut r = time_model(p, args.reps)?;
        r.speedup_vs_float = Some(float.median_ms / r.median_ms);
        r.size_vs_float = Some(r.bytes as f64 / float.bytes as f64);
        eprintln!("bench quant: {} {:.2} ms vs float {:.2} ms", p.display(), r.median_ms, float.median_ms);
        int8.push(r);
    }
    super::print_json(&QuantBenchReport {
        float,
        int8,
        threads: args.threads,
        reps: args.reps,
        batch: 1,
        runtime: motus_core::infer::ENGINE,
        arch: std::env::consts::ARCH,
        cpu_features: cpu_features(),
    });
    Ok(())
}
