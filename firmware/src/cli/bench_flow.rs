//! `motus bench flow`: TV-L1 speed per preset, size, thread count and backend, side by side
//! with OpenCV (DIS medium and fast, DualTVL1) on the same Middlebury frames in the same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use motus_core::flow::{self, Backend, FlowEngine, FlowField, TvL1Params};
use motus_core::preprocess::Resampler;
use motus_core::Frame;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bench::median;

#[derive(Debug, Args)]
pub struct FlowBenchArgs {
    /// Middlebury folder (`<Seq>/frame10.png`, `frame11.png`, `flow10.flo`).
    #[arg(long)]
    middlebury: PathBuf,
    /// Repetitions per pair at the small sizes (native accurate runs once per pair).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Python interpreter with OpenCV for the peer (scripts/setup.sh makes .venv).
    #[arg(long, default_value = ".venv/bin/python")]
    peer_python: PathBuf,
    /// The peer script.
    #[arg(long, default_value = "scripts/peers/opencv_flow.py")]
    peer_script: PathBuf,
    /// Middlebury pairs DualTVL1 is timed on at native size (about 10-20 s each).
    #[arg(long, default_value_t = 8)]
    peer_tvl1_pairs: usize,
    /// Skip the OpenCV peer.
    #[arg(long)]
    no_peer: bool,
    /// Skip the GPU backend.
    #[arg(long)]
    no_gpu: bool,
    /// Also time the accurate preset at native size on a software GPU (lavapipe: slow).
    #[arg(long)]
    gpu_full: bool,
}

struct Pair {
    name: String,
    a: Frame,
    b: Frame,
    truth: FlowField,
}

fn load_pairs(dir: &Path) -> anyhow::Result<Vec<Pair>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("flow10.flo").is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    anyhow::ensure!(!names.is_empty(), "{}: no Middlebury sequences with ground truth", dir.display());
    names
        .into_iter()
        .map(|name| {
            let seq = dir.join(&name);
            Ok(Pair {
                a: flow::eval::load_frame(&seq.join("frame10.png"))?,
                b: flow::eval::load_frame(&seq.join("frame11.png"))?,
                truth: flow::flo::read_flo(seq.join("flow10.flo"))?,
                name,
            })
        })
        .collect()
}

/// `f` resized to `side × side` (aspect not kept, as the OpenCV peer does).
pub(super) fn resized(f: &Frame, side: u32) -> anyhow::Result<Frame> {
    let mut out = Frame::new(0, 0);
    Resampler::new((f.width, f.height), (side, side))?.resize(f, &mut out)?;
    Ok(out)
}

/// Results keyed by frame size (`128`, `224`, `native`).
pub(super) type BySize<T> = BTreeMap<String, T>;

/// One CPU configuration at one size: the median time per pair; at native size the endpoint
/// error against the ground truth too.
#[derive(Debug, Serialize)]
struct FlowTiming {
    ms_per_pair: f64,
    pairs: usize,
    /// The endpoint error (native size only).
    #[serde(flatten)]
    accuracy: Option<Accuracy>,
}

/// Endpoint error against the ground truth.
#[derive(Debug, Serialize)]
struct Accuracy {
    /// Mean over the sequences with valid pixels (`null` without any).
    mean_epe: Option<f64>,
    /// EPE per sequence (`null` for one whose ground truth has no valid pixel).
    per_sequence: BTreeMap<String, Option<f64>>,
}

/// `motus bench flow`'s report (the `--json` contract): CPU presets by thread count and size,
/// the GPU backend, and the OpenCV peer's own report with the ratios against it.
#[derive(Debug, Serialize)]
struct FlowBenchReport {
    cpu: BTreeMap<&'static str, BTreeMap<String, BySize<FlowTiming>>>,
    pairs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<super::bench_flow_gpu::GpuOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratios: Option<PeerRatios>,
    /// The peer's report as it printed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<Value>,
}

/// The part of the OpenCV peer's report the ratios read (`scripts/peers/opencv_flow.py`).
#[derive(Debug, Deserialize)]
struct PeerReport {
    methods: BTreeMap<String, BySize<PeerTiming>>,
}

#[derive(Debug, Deserialize)]
struct PeerTiming {
    ms_per_pair: f64,
    pairs: usize,
    #[serde(default)]
    per_sequence: Option<BTreeMap<String, f64>>,
}

/// Speed-ups and error ratios against the peer, one thread each (`null` where a side did not
/// run that measurement).
#[derive(Debug, Serialize)]
struct PeerRatios {
    accurate_speedup_vs_dual_tvl1_native: Option<f64>,
    accurate_epe_over_dual_tvl1_epe: Option<f64>,
    accurate_epe_over_dis_medium_epe: Option<f64>,
    edge_128_ms_over_dis_fast_128_ms: Option<f64>,
    dual_tvl1_native_pairs: Option<usize>,
}

/// Times `engine` on every pair at `size` (None = native); native runs also report EPE.
fn measure(engine: &mut dyn FlowEngine, pairs: &[Pair], size: Option<u32>, reps: usize) -> anyhow::Result<FlowTiming> {
    let mut times = Vec::new();
    let mut per_sequence = BTreeMap::new();
    let mut field = FlowField::zeros(0, 0);
    for p in pairs {
        let (a, b) = match size {
            Some(s) => (resized(&p.a, s)?, resized(&p.b, s)?),
            None => (p.a.clone(), p.b.clone()),
        };
        engine.compute_into(&a, &b, &mut field)?; // warm-up: buffers for this size
        for _ in 0..reps {
            let t = Instant::now();
            engine.compute_into(&a, &b, &mut field)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        if size.is_none() {
            per_sequence.insert(p.name.clone(), field.epe(&p.truth));
        }
    }
    Ok(FlowTiming {
        ms_per_pair: median(times),
        pairs: pairs.len(),
        accuracy: size
            .is_none()
            .then(|| Accuracy { mean_epe: mean(per_sequence.values().flatten().copied()), per_sequence }),
    })
}

/// The mean of the values (`None` without any).
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

pub(super) fn size_key(size: Option<u32>) -> String {
    size.map_or("native".to_string(), |s| s.to_string())
}

pub fn run(args: FlowBenchArgs) -> anyhow::Result<()> {
    let pairs = load_pairs(&args.middlebury)?;
    let sizes = [Some(128u32), Some(224), None];
    let mut cpu = BTreeMap::new();
    for (preset, params) in [("accurate", TvL1Params::accurate()), ("edge", TvL1Params::edge())] {
        let mut by_threads = BTreeMap::new();
        for threads in [1usize, 2] {
            let mut engine = flow::make_engine(Backend::Cpu, params.clone(), threads)?;
            let mut by_size = BTreeMap::new();
            for size in sizes {
                let reps = if size.is_none() && preset == "accurate" { 1 } else { args.reps };
                eprintln!("bench flow: cpu {preset} {threads} thread(s) {}", size_key(size));
                by_size.insert(size_key(size), measure(engine.as_mut(), &pairs, size, reps)?);
            }
            by_threads.insert(format!("{threads}_threads"), by_size);
        }
        cpu.insert(preset, by_threads);
    }
    let mut report = FlowBenchReport { cpu, pairs: pairs.len(), gpu: None, ratios: None, peer: None };
    if !args.no_gpu {
        let frames: Vec<(Frame, Frame)> = pairs.iter().map(|p| (p.a.clone(), p.b.clone())).collect();
        report.gpu = Some(super::bench_flow_gpu::measure_gpu(&frames, args.reps, args.gpu_full));
    }
    if !args.no_peer {
        let peer = run_peer(&args)
            .with_context(|| "the OpenCV peer failed (pass --no-peer to skip it, or run scripts/setup.sh)")?;
        let parsed: PeerReport = serde_json::from_value(peer.clone())
            .context("the OpenCV peer's report lacks `methods.<name>.<size>.{ms_per_pair, pairs}`")?;
        report.ratios = Some(ratios(&report, &parsed));
        report.peer = Some(peer);
    }
    super::print_json(&report);
    Ok(())
}

fn run_peer(args: &FlowBenchArgs) -> anyhow::Result<Value> {
    let out = Command::new(&args.peer_python)
        .arg(&args.peer_script)
        .args([
            "--middlebury",
            args.middlebury.to_str().context("non-UTF-8 path")?,
            "--threads",
            "1",
            "--reps",
            &args.reps.to_string(),
        ])
        .args(["--tvl1-native-pairs", &args.peer_tvl1_pairs.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {} {}", args.peer_python.display(), args.peer_script.display()))?;
    anyhow::ensure!(out.status.success(), "peer exited with {}", out.status);
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Speed-ups and error ratios against the peer, one thread each. Errors are compared on the
/// sequences both sides ran (DualTVL1 may have been timed on fewer).
fn ratios(report: &FlowBenchReport, peer: &PeerReport) -> PeerRatios {
    let ours = |preset: &str, size: &str| report.cpu.get(preset)?.get("1_threads")?.get(size);
    let theirs = |method: &str, size: &str| peer.methods.get(method)?.get(size);
    let div = |a: Option<f64>, b: Option<f64>| a.zip(b).filter(|(_, b)| *b > 0.0).map(|(a, b)| a / b);
    let epe_ratio = |preset: &str, method: &str| {
        let mine = &ours(preset, "native")?.accuracy.as_ref()?.per_sequence;
        let other = theirs(method, "native")?.per_sequence.as_ref()?;
        let common: Vec<(f64, f64)> = other.iter().filter_map(|(k, v)| Some(((*mine.get(k)?)?, *v))).collect();
        div(mean(common.iter().map(|c| c.0)), mean(common.iter().map(|c| c.1)))
    };
    PeerRatios {
        accurate_speedup_vs_dual_tvl1_native: div(
            theirs("dual_tvl1", "native").map(|t| t.ms_per_pair),
            ours("accurate", "native").map(|t| t.ms_per_pair),
        ),
        accurate_epe_over_dual_tvl1_epe: epe_ratio("accurate", "dual_tvl1"),
        accurate_epe_over_dis_medium_epe: epe_ratio("accurate", "dis_medium"),
        edge_128_ms_over_dis_fast_128_ms: div(
            ours("edge", "128").map(|t| t.ms_per_pair),
            theirs("dis_fast", "128").map(|t| t.ms_per_pair),
        ),
        dual_tvl1_native_pairs: theirs("dual_tvl1", "native").map(|t| t.pairs),
    }
}
