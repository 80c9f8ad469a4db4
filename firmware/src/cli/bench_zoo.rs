//! `motus bench zoo`: size, cost and tract latency of every architecture's default
//! configuration, as JSON and as the Markdown table kept in docs/.

use std::path::PathBuf;
use std::time::Instant;

use motus_core::infer::{Classifier, InputTensor};
use motus_models::card::ModelCard;
use motus_models::ir::random_input;
use motus_models::onnx::{export, ExportOptions};
use motus_models::spec::{default_for, ARCH_NAMES};
use serde_json::{json, Value};

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
        let mut latency = serde_json::Map::new();
        for threads in [1usize, 2] {
            motus_core::infer::set_threads(threads);
            model.run(&tensors)?; // warm-up: builds the batch-1 plan
            let mut ms = Vec::new();
            for _ in 0..args.reps {
                let t = Instant::now();
                model.run(&tensors)?;
                ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            latency.insert(format!("{threads}_threads_ms"), json!(median(ms)));
        }
        motus_core::infer::set_threads(1);
        eprintln!("bench zoo: {arch} done");
        rows.push(json!({
            "arch": arch,
            "params": graph.num_params(),
            "gflops_per_clip": graph.flops() as f64 / 1e9,
            "input_size": spec.input_size(),
            "clip_len": spec.clip_len(),
            "inputs": graph.inputs.iter().map(|d| json!({"name": d.name, "layout": d.layout, "shape": d.shape})).collect::<Vec<_>>(),
            "onnx_bytes": bytes.len(),
            "latency": Value::Object(latency),
        }));
    }
    let report = json!({"classes": args.classes, "reps": args.reps, "batch": 1, "runtime": "tract 0.23.9", "architectures": rows});
    if let Some(path) = &args.markdown {
        std::fs::write(path, markdown(&report))?;
    }
    super::print_json(&report);
    Ok(())
}

fn markdown(r: &Value) -> String {
    let mut s = String::from(
        "# Model zoo: default configurations\n\nMade by `motus bench zoo --markdown docs/zoo.md` (random weights, batch 1, median of\n",
    );
    s += &format!(
        "{} runs after a warm-up; {} classes). FLOPs count the multiply-adds of convolutions, linear\nlayers, matrix products and LSTMs, 2 per multiply-add. Latency is tract on this machine's\ncores (2, AVX2), per clip.\n\n",
        r["reps"], r["classes"]
    );
    s += "| architecture | inputs | params | GFLOPs / clip | tract 1 thread (ms) | tract 2 threads (ms) |\n|---|---|---|---|---|---|\n";
    for a in r["architectures"].as_array().into_iter().flatten() {
        let inputs: Vec<String> = a["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                format!(
                    "`{}` {} {:?}",
                    i["name"].as_str().unwrap_or(""),
                    i["layout"].as_str().unwrap_or(""),
                    i["shape"]
                        .as_array()
                        .map(|v| v.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
                        .unwrap_or_default()
                )
            })
            .collect();
        s += &format!(
            "| {} | {} | {:.2} M | {:.2} | {:.1} | {:.1} |\n",
            a["arch"].as_str().unwrap_or(""),
            inputs.join(", "),
            a["params"].as_f64().unwrap_or(0.0) / 1e6,
            a["gflops_per_clip"].as_f64().unwrap_or(0.0),
            a["latency"]["1_threads_ms"].as_f64().unwrap_or(f64::NAN),
            a["latency"]["2_threads_ms"].as_f64().unwrap_or(f64::NAN),
        );
    }
    s
}
