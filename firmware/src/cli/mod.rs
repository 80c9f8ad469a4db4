//! Command-line front end. Each subcommand lives in its own module; with `--json` a
//! subcommand prints exactly one JSON object on stdout and keeps progress on stderr, so its
//! output can be piped into other tools.

#[cfg(feature = "lab")]
mod bench;
#[cfg(feature = "lab")]
mod bench_alerts;
#[cfg(feature = "lab")]
mod bench_flow;
#[cfg(feature = "lab")]
mod bench_flow_gpu;
#[cfg(feature = "lab")]
mod bench_pipeline;
#[cfg(feature = "lab")]
mod bench_quant;
#[cfg(feature = "lab")]
mod bench_replay;
#[cfg(feature = "lab")]
mod bench_zoo;
mod card;
#[cfg(feature = "lab")]
mod consistency;
#[cfg(feature = "lab")]
mod dataset;
#[cfg(feature = "lab")]
mod eval;
#[cfg(feature = "lab")]
mod flow;
mod info;
#[cfg(feature = "lab")]
mod quant;
mod run;
#[cfg(feature = "lab")]
mod synth;

use clap::{Parser, Subcommand};

/// motus: edge video action classification.
#[derive(Debug, Parser)]
#[command(name = "motus", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[cfg(feature = "lab")]
    /// Generate the synthetic motion benchmark (labelled action videos) or a contact sheet.
    Synth(synth::SynthArgs),
    #[cfg(feature = "lab")]
    /// Inspect a dataset: class counts per split, and that every video decodes.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Show a model's card: architecture, labels, inputs, preprocessing, flow settings.
    Info(info::InfoArgs),
    /// Edit a model's embedded card (its frame rate).
    #[command(subcommand)]
    Card(card::CardCommand),
    #[cfg(feature = "lab")]
    /// A model's accuracy and latency on a labelled list (or event detection on long videos),
    /// through the device's own preprocessing, flow and inference.
    Eval(eval::EvalArgs),
    #[cfg(feature = "lab")]
    /// Optical flow: one pair, the Middlebury evaluation, or dataset extraction.
    Flow(flow::FlowArgs),
    /// The device runtime: camera (or file, stream, synthetic scene) to live action alerts.
    Run(run::RunArgs),
    /// The device runtime on its embedded default: the synthetic camera and the bundled model.
    Demo(run::DemoArgs),
    #[cfg(feature = "lab")]
    /// Calibrated post-training int8 quantization with an accuracy guard.
    Quant(quant::QuantArgs),
    #[cfg(feature = "lab")]
    /// Benchmarks that print JSON.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        #[cfg(feature = "lab")]
        Command::Synth(args) => synth::run(args),
        #[cfg(feature = "lab")]
        Command::Dataset(cmd) => dataset::run(cmd),
        #[cfg(feature = "lab")]
        Command::Eval(args) => eval::run(args),
        #[cfg(feature = "lab")]
        Command::Flow(args) => flow::run(args),
        Command::Info(args) => info::run(args),
        Command::Card(cmd) => card::run(cmd),
        Command::Run(args) => run::run(args),
        Command::Demo(args) => run::demo(args),
        #[cfg(feature = "lab")]
        Command::Quant(args) => quant::run(args),
        #[cfg(feature = "lab")]
        Command::Bench(cmd) => bench::run(cmd),
    }
}

/// Prints one JSON value on stdout (the `--json` contract).
pub(crate) fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("reports serialise (string keys, no failing Serialize impl)")
    );
}
