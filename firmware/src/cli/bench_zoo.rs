//! `motus bench zoo`: size, cost and tract latency of every architecture's default
//! configuration, as JSON and as the Markdown table kept in docs/.

use std::path::PathBuf;
use std::time::Instant;

use motus_core::infer::{Classifier, InputTensor};
use motus_models::card::ModelCard;
use motus_models::ir::random_input;
use motus_models::onnx::{export, ExportOptions};
use motus_models::spec::{default_for, ARCH_NAMES};
use serde::Serialize;

use super::bench::median;

#[derive(Debug, clap::Args)]
pub struct ZooBenchArgs {
    /// Classes of the default models.
    #[arg(long, default_value_t = 12)]
    classes: usize,
    /// Timed runs per architecture and thread count (after one warm-up).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Also write the Markdown table here.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

pub fn run(args: ZooBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.reps >= 1 && args.classes >= 2, "--reps must be >= 1 and --classes >= 2");
    let labels: Vec<String> = (0..args.classes).map(|i| format!("class_{i}")).collect();
    let mut rows = Vec::new();
    for arch in ARCH_NAMES {
        let spec = default_for(arch, args.classes)?;
        let graph = spec.lower()?;
        let weights = graph.random_weights(7);
        let card = ModelCard::for_spec(&spec, &graph, labels.clone());
        let bytes = export(&graph, &weights, &card, &ExportOptions::default())?;
        let mut model = Classifier::from_bytes(&bytes, arch)?;
        let inputs: Vec<(String, Vec<usize>, Vec<f32>)> = graph
            .inputs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), d.shape.clone(), random_input(d.shape.iter().product(), 100 + i as u64)))
            .collect();
        let tensors: Vec<InputTensor> =
            inputs.iter().map(|(n, s, d)| InputTensor { name: n, shape: s, data: d }).collect();
        let mut median_ms = [0.0; 2];
        for (threads, slot) in [1usize, 2].into_iter().zip(&mut median_ms) {
            motus_core::infer::set_threads(threads);
            model.run(&tensors)?; // warm-up: builds the batch-1 plan
            let mut ms = Vec::new();
            for _ in 0..args.reps {
                let t = Instant::now();
                model.run(&tensors)?;
                ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            *slot = median(ms);
        }
        motus_core::infer::set_threads(1);
        eprintln!("bench zoo: {arch} done");
        rows.push(ZooRow {
            arch,
            params: graph.num_params(),
            gflops_per_clip: graph.flops() as f64 / 1e9,
            input_size: spec.input_size(),
            clip_len: spec.clip_len(),
            inputs: graph
                .inputs
                .iter()
                .map(|d| ZooInput { name: d.name.clone(), layout: d.layout.clone(), shape: d.shape.clone() })
                .collect(),
            onnx_bytes: bytes.len(),
            latency: ZooLatency { one_thread_ms: median_ms[0], two_threads_ms: median_ms[1] },
        });
    }
    let report = ZooReport {
        classes: args.classes,
        reps: args.reps,
        batch: 1,
        runtime: motus_core::infer::ENGINE,
        architectures: rows,
    };
    if let Some(path) = &args.markdown {
        std::fs::write(path, markdown(&report))?;
    }
    super::print_json(&report);
    Ok(())
}

/// `motus bench zoo`'s report (the `--json` contract).
#[derive(Debug, Serialize)]
struct ZooReport {
    classes: usize,
    reps: usize,
    batch: usize,
    runtime: &'static str,
    architectures: Vec<ZooRow>,
}

/// One architecture's default configuration: size, cost and latency.
#[derive(Debug, Serialize)]
struct ZooRow {
    arch: &'static str,
    params: usize,
    gflops_per_clip: f64,
    input_size: usize,
    clip_len: usize,
    inputs: Vec<ZooInput>,
    onnx_bytes: usize,
    latency: ZooLatency,
}

#[derive(Debug, Serialize)]
struct ZooInput {
    name: String,
    layout: String,
    shape: Vec<usize>,
}

/// Median milliseconds per clip at 1 and 2 tract threads.
#[derive(Debug, Serialize)]
struct ZooLatency {
    #[serde(rename = "1_threads_ms")]
    one_thread_ms: f64,
    #[serde(rename = "2_threads_ms")]
    two_threads_ms: f64,
}

fn markdown(r: &ZooReport) -> String {
    let mut s = String::from(
        "# Model zoo: default configurations\n\nMade by `motus bench zoo --markdown docs/zoo.md` (random weights, batch 1, median of\n",
    );
    s += &format!(
        "{} runs after a warm-up; {} classes). FLOPs count the multiply-adds of convolutions, linear\nlayers, matrix products and LSTMs, 2 per multiply-add. Latency is {} on the {} cores of the\nmachine that ran it, per clip.\n\n",
        r.reps,
        r.classes,
        r.runtime,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    s += "| architecture | inputs | params | GFLOPs / clip | tract 1 thread (ms) | tract 2 threads (ms) |\n|---|---|---|---|---|---|\n";
    for a in &r.architectures {
        let inputs: Vec<String> = a.inputs.iter().map(|i| format!("`{}` {} {:?}", i.name, i.layout, i.shape)).collect();
        s += &format!(
            "| {} | {} | {:.2} M | {:.2} | {:.1} | {:.1} |\n",
            a.arch,
            inputs.join(", "),
            a.params as f64 / 1e6,
            a.gflops_per_clip,
            a.latency.one_thread_ms,
            a.latency.two_threads_ms,
        );
    }
    s
}
