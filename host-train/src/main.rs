//! `motus-train`: the host-side trainer's command.

mod inspect;

use motus_train::{bench, experiment, export, train};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// motus-train: train and export motus models.
#[derive(Debug, Parser)]
#[command(name = "motus-train", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// The command line is parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Show a dataset as training will see it: class balance, short videos, clips per epoch.
    Inspect(inspect::InspectArgs),
    /// Train a model on a dataset (checkpoints, metrics and curves in the run folder).
    Train(train::TrainArgs),
    /// The seed's comparison: every architecture trained with one budget, tested, tabulated.
    Experiment(experiment::ExperimentArgs),
    /// Training throughput (clips/s) per architecture, one JSON object.
    Bench(bench::BenchArgs),
    /// Write a checkpoint's model as ONNX with its model card embedded.
    Export(export::ExportArgs),
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).format_timestamp(None).init();
    let result = match Cli::parse().command {
        Command::Inspect(args) => inspect::run(args),
        Command::Export(args) => export::run(args),
        Command::Train(args) => train::run(args),
        Command::Experiment(args) => experiment::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
