//! `motus info`: what a model file is and what it expects, read from its card.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use motus_models::card::{
    sidecar_path, AlertBenchmark, Calibration, CardEvaluation, FlowSpec, ModelCard, QuantizationRecord, TensorDecl,
};
use motus_models::onnx;
use motus_models::{ArchSpec, Normalization};
use serde::Serialize;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The ONNX model.
    model: PathBuf,
    /// A card (TOML) for a model without one; default: `<model>.card.toml` when present.
    #[arg(long)]
    card: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Reads a card from the model, `--card`, or the sidecar next to the model, and checks it
/// against the graph.
pub fn load_card(
    model: &std::path::Path,
    card: Option<&std::path::Path>,
) -> anyhow::Result<(ModelCard, &'static str, onnx::proto::ModelProto, Vec<u8>)> {
    let bytes = std::fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let parsed = onnx::read_model(&bytes).with_context(|| format!("{}", model.display()))?;
    let sidecar = sidecar_path(model);
    let (card, origin) = match card {
        Some(path) => (read_toml(path)?, "file"),
        None => match onnx::model_card(&parsed) {
            Ok(card) => (card, "embedded"),
            Err(onnx::ReadError::Card(motus_models::card::CardError::NoCard)) if sidecar.exists() => {
                (read_toml(&sidecar)?, "sidecar")
            }
            Err(e) => return Err(e).with_context(|| format!("{}", model.display())),
        },
    };
    onnx::check_card(&parsed, &card)
        .with_context(|| format!("{}: the card does not match the graph", model.display()))?;
    Ok((card, origin, parsed, bytes))
}

fn read_toml(path: &std::path::Path) -> anyhow::Result<ModelCard> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    ModelCard::from_toml(&text).with_context(|| format!("{}", path.display()))
}

/// `motus info`'s report (the `--json` contract): the card, flattened for scripts, and the
/// file's own hash, size and opset.
#[derive(Debug, Serialize)]
struct InfoReport<'a> {
    model: &'a std::path::Path,
    /// Where the card came from (`embedded`, `sidecar`, or `file` for `--card`).
    card: &'static str,
    arch: &'a str,
    spec: &'a ArchSpec,
    labels: &'a [String],
    inputs: &'a [TensorDecl],
    clip_len: u32,
    frame_stride: u32,
    fps: Option<f64>,
    input_size: u32,
    resize_short: u32,
    normalization: &'a Normalization,
    flow: Option<&'a FlowSpec>,
    weights_sha256: &'a str,
    producer: &'a str,
    evaluations: &'a [CardEvaluation],
    quantization: Option<&'a QuantizationRecord>,
    alert_benchmarks: &'a [AlertBenchmark],
    calibration: Option<&'a Calibration>,
    file_sha256: String,
    file_bytes: usize,
    opset: i64,
}

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let (card, origin, parsed, bytes) = load_card(&args.model, args.card.as_deref())?;
    let file_sha256 = motus_core::digest::sha256_hex(&bytes);
    let opset = parsed.opset_import.iter().map(|o| o.version).max().unwrap_or(0);
    let report = InfoReport {
        model: &args.model,
        card: origin,
        arch: card.arch.name(),
        spec: &card.arch,
        labels: &card.labels,
        inputs: &card.inputs,
        clip_len: card.input.clip.clip_len,
        frame_stride: card.input.clip.frame_stride,
        fps: card.input.fps,
        input_size: card.input.input_size,
        resize_short: card.input.resize_short,
        normalization: &card.input.normalization,
        flow: card.flow.as_ref(),
        weights_sha256: &card.weights_sha256,
        producer: &card.producer,
        evaluations: &card.evaluations,
        quantization: card.quantization.as_ref(),
        alert_benchmarks: &card.alert_benchmarks,
        calibration: card.calibration.as_ref(),
        file_sha256,
        file_bytes: bytes.len(),
        opset,
    };
    if args.json {
        super::print_json(&report);
        return Ok(());
    }
    println!("{} ({} bytes, opset {opset}, card {origin})", args.model.display(), bytes.len());
    println!("  arch          {}", card.arch.name());
    println!("  labels        {} ({})", card.labels.len(), card.labels.join(", "));
    for i in &card.inputs {
        println!("  input         {} {} {:?} {}", i.name, i.layout, i.shape, i.dtype);
    }
    println!("  clip          {} frames, stride {}", card.input.clip.clip_len, card.input.clip.frame_stride);
    match card.input.fps {
        Some(fps) => println!("  frame rate    {fps} fps (frames are picked by timestamp at this rate)"),
        None => println!("  frame rate    not recorded (clips take consecutive frames at the source's rate)"),
    }
    println!("  size          resize short side to {}, crop {}", card.input.resize_short, card.input.input_size);
    println!("  normalization mean {:?} std {:?}", card.input.normalization.mean, card.input.normalization.std);
    match &card.flow {
        Some(f) => println!(
            "  flow          {} bound ±{} px, stack {} fields, mean subtraction {}, params {}",
            f.algorithm, f.bound, f.stack_len, f.mean_subtraction, f.params
        ),
        None => println!("  flow          none (RGB only)"),
    }
    println!("  weights       sha256 {}", card.weights_sha256);
    println!("  producer      {}", card.producer);
    for e in &card.evaluations {
        println!(
            "  measured      video Hit@1 {:.4}, Hit@5 {:.4}, clip Hit@1 {:.4} on {} videos: {} ({})",
            e.video_top1, e.video_top5, e.clip_top1, e.n_videos, e.data, e.method
        );
    }
    for b in &card.alert_benchmarks {
        println!(
            "  false alerts  {:.2} a minute ({} of {} alerts in {:.1} min): {} ({})",
            b.false_alerts_per_minute, b.false_alerts, b.alerts, b.minutes, b.data, b.method
        );
    }
    match &card.calibration {
        Some(c) => println!(
            "  calibration   temperature {:.3} (NLL {:.4} -> {:.4}, ECE {:.4} -> {:.4}) on {}",
            c.temperature, c.nll_before, c.nll_after, c.ece_before, c.ece_after, c.data
        ),
        None => println!("  calibration   none (scores used as the graph gives them)"),
    }
    if let Some(q) = &card.quantization {
        println!("  quantized     {} ({}), observer {}, calibration {}", q.format, q.scheme, q.observer, q.calibration);
        println!(
            "  int8 nodes    {}; float: {}",
            q.quantized_nodes.len(),
            if q.float_nodes.is_empty() {
                "none".to_string()
            } else {
                q.float_nodes.iter().map(|f| f.node.as_str()).collect::<Vec<_>>().join(", ")
            }
        );
        if let (Some(f), Some(i)) = (&q.float_accuracy, &q.int8_accuracy) {
            println!(
                "  guard         video Hit@1 float {:.4}, int8 {:.4} on {} videos: {}",
                f.video_top1, i.video_top1, i.n_videos, i.data
            );
        }
    }
    Ok(())
}
