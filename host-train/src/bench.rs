//! `motus-train bench`: training throughput (clips/s) per architecture on this machine's CPU
//! or a CUDA device: forward, loss, backward and an AdamW step on random clips of the model's
//! input shape, so the number is the network's cost alone (data loading is measured by real
//! runs, in `metrics.jsonl`). Prints one JSON object.

use crate::net::IrNet;
use crate::train::optim::{Optimizer, OptimizerKind};
use motus_models::spec::{default_for, ARCH_NAMES};
use serde::Serialize;
use std::time::Instant;
use tch::{Kind, Tensor};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Architectures (default: all), edge defaults.
    #[arg(long, value_delimiter = ',')]
    archs: Vec<String>,
    /// Spec files to measure instead of (or besides) named architectures.
    #[arg(long)]
    spec: Vec<std::path::PathBuf>,
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Timed steps per architecture (after 2 warm-up steps); the median is reported.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    #[arg(long, default_value = "auto")]
    device: String,
    /// libtorch intra-op threads on the CPU.
    #[arg(long, default_value_t = 2)]
    threads: i32,
}

/// `motus-train bench`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct TrainBenchReport {
    device: String,
    /// CPU threads (`null` on CUDA).
    threads: Option<i32>,
    torch: &'static str,
    rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct Row {
    arch: String,
    params: usize,
    gflops_per_clip: f64,
    batch: usize,
    step_ms_median: f64,
    clips_per_s: f64,
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let device = crate::train::parse_device(&a.device)?;
    if device == tch::Device::Cpu {
        tch::set_num_threads(a.threads.max(1));
    }
    anyhow::ensure!(a.batch > 0 && a.steps > 0, "--batch and --steps must be at least 1");
    let mut specs = Vec::new();
    let names: Vec<String> = if a.archs.is_empty() && a.spec.is_empty() {
        ARCH_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        a.archs.clone()
    };
    for n in &names {
        specs.push((n.clone(), default_for(n, 10)?));
    }
    for p in &a.spec {
        let text = std::fs::read_to_string(p)?;
        specs.push((p.display().to_string(), serde_json::from_str(&text)?));
    }
    let mut rows = Vec::new();
    for (name, spec) in specs {
        tch::manual_seed(0);
        let graph = spec.lower()?;
        let net = IrNet::new(graph.clone(), device, 0);
        let params: Vec<(String, Tensor)> =
            net.var_store().variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        let mut opt =
            Optimizer::new(OptimizerKind::Adamw { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-4 }, params);
        let inputs: Vec<(String, Tensor)> = graph
            .inputs
            .iter()
            .map(|d| {
                let mut dims: Vec<i64> = d.shape.iter().map(|&v| v as i64).collect();
                dims[0] = a.batch as i64;
                (d.name.clone(), Tensor::randn(&dims[..], (Kind::Float, device)))
            })
            .collect();
        let refs: Vec<(&str, &Tensor)> = inputs.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let labels = Tensor::zeros([a.batch as i64], (Kind::Int64, device));
        let mut times = Vec::new();
        for i in 0..a.steps + 2 {
            let t = Instant::now();
            let logits = net.forward(&refs, true)?;
            let loss = logits.cross_entropy_for_logits(&labels);
            opt.zero_grad();
            loss.backward();
            opt.step(1e-4);
            let _ = loss.double_value(&[]);
            if i >= 2 {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        eprintln!("{name}: {median:.0} ms per step of {} clips", a.batch);
        rows.push(Row {
            arch: name,
            params: graph.num_params(),
            gflops_per_clip: graph.flops() as f64 / 1e9,
            batch: a.batch,
            step_ms_median: median,
            clips_per_s: a.batch as f64 / (median / 1e3),
        });
    }
    let report = TrainBenchReport {
        device: format!("{device:?}"),
        threads: (device == tch::Device::Cpu).then_some(a.threads),
        torch: "libtorch from the venv's PyTorch wheel",
        rows,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
