//! `motus bench`: speed measurements printed as JSON. Benchmarks, not tests: this machine is
//! shared and noisy, so each figure is the median of several repetitions.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use clap::{Args, Subcommand};
use motus_core::media::{self, VideoReader};
use motus_core::synth::{SynthConfig, SynthVideo};
use motus_core::Frame;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Synthetic-scene generation speed and decode speed per reader (Y4M, PNG and JPEG
    /// frame folders, mp4 through ffmpeg).
    Media(MediaArgs),
    /// TV-L1 flow speed (CPU presets, sizes, threads; GPU) beside OpenCV's DIS and DualTVL1.
    Flow(super::bench_flow::FlowBenchArgs),
    /// Parameters, GFLOPs and tract latency (1 and 2 threads) of every architecture's default.
    Zoo(super::bench_zoo::ZooBenchArgs),
    /// The whole device pipeline on the synthetic long scene (30 fps, 640×480) with the bundled
    /// model: throughput, drops, alert latency, memory, alert precision and recall.
    Pipeline(super::bench_pipeline::PipelineBenchArgs),
    /// Float vs int8 latency of one model in tract (medians, ratio) and the kernels that ran.
    Quant(super::bench_quant::QuantBenchArgs),
    /// False alerts on real footage: every clip of a list through the live pipeline with the
    /// device's defaults, alerts the list does not allow counted per minute, class and clip.
    Alerts(super::bench_alerts::AlertsBenchArgs),
    /// Alert settings tried on recorded scenes: `bench pipeline --trace` files replayed
    /// through the alert rules at several thresholds and smoothing constants, scored against
    /// their ground truth.
    Replay(super::bench_replay::ReplayBenchArgs),
}

#[derive(Debug, Args)]
pub struct MediaArgs {
    /// Repetitions per measurement; the median is reported.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Frames per test video.
    #[arg(long, default_value_t = 48)]
    frames: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Media(args) => media_bench(args),
        BenchCommand::Flow(args) => super::bench_flow::run(args),
        BenchCommand::Zoo(args) => super::bench_zoo::run(args),
        BenchCommand::Pipeline(args) => super::bench_pipeline::run(args),
        BenchCommand::Quant(args) => super::bench_quant::run(args),
        BenchCommand::Alerts(args) => super::bench_alerts::run(args),
        BenchCommand::Replay(args) => super::bench_replay::run(args),
    }
}

/// Median of the samples (upper median for even counts).
pub(super) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// A median frame rate.
#[derive(Debug, Serialize)]
struct Rate {
    frames_per_s: f64,
    ms_per_frame: f64,
    reps: usize,
}

/// A measurement, or why it could not be made (a reader this machine lacks).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Measured {
    Rate(Rate),
    Failed { error: String },
}

/// `motus bench media`'s report (the `--json` contract), keyed by frame size and by reader.
#[derive(Debug, Serialize)]
struct MediaReport {
    generate: BTreeMap<String, Measured>,
    decode: BTreeMap<String, Measured>,
    decode_size: String,
    frames_per_video: u32,
    threads: usize,
}

/// Times `reps` runs of `f`, each producing `frames` frames: the median frames/s and ms/frame.
fn time_frames(reps: usize, frames: u64, mut f: impl FnMut() -> anyhow::Result<u64>) -> anyhow::Result<Measured> {
    let mut secs = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        let n = f()?;
        secs.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(n == frames, "expected {frames} frames, got {n}");
    }
    let m = median(secs);
    Ok(Measured::Rate(Rate { frames_per_s: frames as f64 / m, ms_per_frame: 1000.0 * m / frames as f64, reps }))
}

fn drain(mut r: Box<dyn VideoReader>) -> anyhow::Result<u64> {
    Ok(r.count_frames()?)
}

fn write_clip(frames: &[Frame], path: &Path) -> anyhow::Result<()> {
    let mut w = media::create_video(path, frames[0].width, frames[0].height, 25.0)?;
    for f in frames {
        w.write_frame(f)?;
    }
    w.finish()?;
    Ok(())
}

fn media_bench(args: MediaArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.reps >= 1 && args.frames >= 16, "--reps must be >= 1 and --frames >= 16");
    let reps = args.reps;
    let mut generate = BTreeMap::new();
    for (w, h) in [(128u32, 128u32), (640, 480)] {
        let cfg = SynthConfig { width: w, height: h, frames: args.frames, ..SynthConfig::default() };
        let r = time_frames(reps, args.frames as u64, || drain(Box::new(SynthVideo::new(&cfg, 1, 0)?)))?;
        generate.insert(format!("{w}x{h}"), r);
    }

    let cfg = SynthConfig { frames: args.frames, ..SynthConfig::default() };
    let clip = SynthVideo::new(&cfg, 1, 0)?.read_all()?;
    let dir = tempdir()?;
    let mut decode = BTreeMap::new();
    let y4m = dir.join("clip.y4m");
    write_clip(&clip, &y4m)?;
    decode.insert("y4m".into(), time_frames(reps, args.frames as u64, || drain(media::open_video(&y4m)?))?);
    for (name, kind) in
        [("png_frames", media::frames_dir::ImageKind::Png), ("jpeg_frames", media::frames_dir::ImageKind::Jpeg)]
    {
        let folder = dir.join(name);
        let mut w: Box<dyn media::VideoWriter> = Box::new(media::frames_dir::FramesDirWriter::create(&folder, kind)?);
        for f in &clip {
            w.write_frame(f)?;
        }
        w.finish()?;
        decode.insert(name.into(), time_frames(reps, args.frames as u64, || drain(media::open_video(&folder)?))?);
    }
    let mp4 = dir.join("clip.mp4");
    match write_clip(&clip, &mp4) {
        Ok(()) => {
            decode.insert(
                "mp4_ffmpeg".into(),
                time_frames(reps, args.frames as u64, || drain(media::open_video(&mp4)?))?,
            );
        }
        Err(e) => {
            log::warn!("mp4 decode not measured: {e:#}");
            decode.insert("mp4_ffmpeg".into(), Measured::Failed { error: format!("{e:#}") });
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let report = MediaReport {
        generate,
        decode,
        decode_size: format!("{}x{}", cfg.width, cfg.height),
        frames_per_video: args.frames,
        threads: 1,
    };
    if args.json {
        super::print_json(&report);
    } else {
        println!("{:<22} {:>12} {:>12}", "measurement", "frames/s", "ms/frame");
        for (group, map) in [("generate", &report.generate), ("decode", &report.decode)] {
            for (k, v) in map {
                match v {
                    Measured::Rate(r) => {
                        println!("{:<22} {:>12.1} {:>12.3}", format!("{group} {k}"), r.frames_per_s, r.ms_per_frame)
                    }
                    Measured::Failed { error } => println!("{:<22} not measured: {error}", format!("{group} {k}")),
                }
            }
        }
    }
    Ok(())
}

/// A scratch folder under the system temp dir, removed by the caller.
fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("motus-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
