//! `motus-train train`: a dataset to a trained model, on libtorch (CUDA when asked and present,
//! else CPU).
//!
//! One run folder holds everything: `config.json` (the run's settings, checked on `--resume`),
//! `last.safetensors` (written after every epoch and on SIGINT, with the optimiser state and
//! the position in the epoch), `best.safetensors` (best validation video accuracy),
//! `metrics.jsonl` (one line per epoch) and `curves.png`.
//!
//! Determinism: every clip's augmentation is drawn from a generator seeded by
//! `(seed, epoch, position)`, the epoch's order from `(seed, epoch)`, and the optimiser state
//! is saved; so on the CPU a run is repeatable for a seed, and an interrupted run resumed with
//! `--resume` ends with exactly the weights of an uninterrupted one.

pub mod data;
pub mod optim;
pub mod plot;
pub mod progress;
mod run;
pub mod schedule;
pub mod slow_camera;
pub mod videos;

pub use run::{train, RunDir};

use crate::checkpoint::{graph_for, GraphKind};
use crate::net::IrNet;
use anyhow::{bail, Context};
use data::{make_clip, Augment, ClipGeometry, VideoData};
use motus_core::flow::{FlowConfig, TvL1Params};
use motus_lab::dataset::Dataset;
use motus_models::{ArchSpec, ModelCard};
use optim::OptimizerKind;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use schedule::Decay;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// How the streams of a two-stream (or two-stream I3D) network are trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StreamMode {
    /// Each stream's classifier gets its own loss (the papers' stream-by-stream training; the
    /// streams share no weights, so this is the same as training them apart), then the fusion
    /// averages their softmax.
    Streams,
    /// One loss on the fused output.
    Joint,
}

/// Everything that defines a run. Saved as `config.json`; `--resume` refuses a different one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub spec: ArchSpec,
    pub graph: String,
    pub labels: Vec<String>,
    pub data: PathBuf,
    pub epochs: u32,
    pub batch: usize,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub warmup_epochs: f64,
    pub decay: Decay,
    pub label_smoothing: f64,
    pub clip_grad: Option<f64>,
    pub seed: u64,
    pub stream_mode: StreamMode,
    pub augment: Augment,
    pub flow: Option<FlowConfig>,
    pub val_views: u32,
    pub init_2d: Option<PathBuf>,
    /// Random clips drawn from each training video per epoch.
    pub clips_per_video: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OptimizerArg {
    Sgd,
    Adamw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScheduleArg {
    Cosine,
    Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowPreset {
    /// The device's live preset (what `motus run` computes on the board).
    Edge,
    /// The offline preset (lower error, ~50× slower).
    Accurate,
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Architecture name (single-frame, conv-pool, cnn-lstm, c3d, two-stream, fused-3d, i3d)
    /// with its edge defaults, or a spec file (JSON or TOML with an `arch` key) with `--spec`.
    #[arg(long, required_unless_present = "spec")]
    pub arch: Option<String>,
    /// Architecture spec file (JSON or TOML), for widths, depths and sizes other than the defaults.
    #[arg(long, conflicts_with = "arch")]
    pub spec: Option<PathBuf>,
    /// Dataset folder (classInd.txt, train.txt, val.txt as `motus synth` writes).
    #[arg(long)]
    pub data: PathBuf,
    /// Run folder (checkpoints, metrics, plots).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 12)]
    pub epochs: u32,
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Base learning rate (default 0.01 for SGD, 0.001 for AdamW).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adamw)]
    pub optimizer: OptimizerArg,
    #[arg(long, default_value_t = 1e-4)]
    pub weight_decay: f64,
    #[arg(long, value_enum, default_value_t = ScheduleArg::Cosine)]
    pub schedule: ScheduleArg,
    /// Epochs at which the step schedule multiplies the rate by 0.1.
    #[arg(long, value_delimiter = ',', default_value = "8,11")]
    pub step_epochs: Vec<u32>,
    #[arg(long, default_value_t = 1.0)]
    pub warmup_epochs: f64,
    #[arg(long, default_value_t = 0.1)]
    pub label_smoothing: f64,
    /// Clip the global gradient norm to this (0: no clipping).
    #[arg(long, default_value_t = 5.0)]
    pub clip_grad: f64,
    /// auto (CUDA when available), cpu, or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Data-loading threads (decode, flow extraction, clip assembly).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// libtorch intra-op threads on the CPU.
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
    #[arg(long, value_enum, default_value_t = StreamMode::Streams)]
    pub stream_mode: StreamMode,
    /// TV-L1 settings for flow models' input (the device must compute the same).
    #[arg(long, value_enum, default_value_t = FlowPreset::Edge)]
    pub flow_preset: FlowPreset,
    /// Flow extraction cache (default: <data>/flow-cache).
    #[arg(long)]
    pub flow_cache: Option<PathBuf>,
    /// No horizontal flips in augmentation.
    #[arg(long)]
    pub no_flip: bool,
    /// Classes a horizontal flip turns into each other, as `a:b,c:d` (a flipped clip of `a` is
    /// labelled `b`). Default: the synthetic benchmark's mirror pairs present in the labels.
    #[arg(long, value_delimiter = ',')]
    pub flip_swap: Vec<String>,
    /// Smallest area fraction a random resized crop keeps. Small crops are strong
    /// augmentation, but on scenes where the actor is small they can cut the action out of
    /// the clip and leave its label on background.
    #[arg(long, default_value_t = 0.5)]
    pub min_crop_scale: f32,
    /// Where the dataset's `actions.txt` says where each video's action is, draw training
    /// windows that overlap it by at least half (by default windows are drawn anywhere).
    #[arg(long)]
    pub action_windows: bool,
    /// Take this share of training clips (0–1] as a slower camera gives them on the device:
    /// the device picks frames by time at the card's rate, so a slow camera's frames are held
    /// for several steps and their motion is spread over them. Without it the model sees
    /// such clips for the first time on the board.
    #[arg(long)]
    pub slow_camera: Option<f32>,
    /// The slowest emulated camera, as a factor of the videos' rate (3: 10 fps for 30 fps
    /// videos); each slow clip draws its factor from [1, this].
    #[arg(long, default_value_t = 3.0, requires = "slow_camera")]
    pub slow_camera_max_factor: f32,
    /// Random clips drawn from every training video per epoch (more optimiser steps per pass
    /// over a small dataset; each clip has its own window, crop, flip and colours).
    #[arg(long, default_value_t = 1)]
    pub clips_per_video: u32,
    /// Clips per validation video (TSN views, scores averaged).
    #[arg(long, default_value_t = 3)]
    pub val_views: u32,
    /// Train an I3D's 2D twin (to be inflated into the I3D afterwards).
    #[arg(long)]
    pub twin_2d: bool,
    /// Initialise an I3D by inflating this trained 2D-twin checkpoint.
    #[arg(long)]
    pub init_2d: Option<PathBuf>,
    /// Mixed precision (CUDA only).
    #[arg(long)]
    pub amp: bool,
    /// Stop after this many optimiser steps in total (for tests and smoke runs).
    #[arg(long, hide = true)]
    pub max_steps: Option<u64>,
}

/// Picks the libtorch device.
pub fn parse_device(s: &str) -> anyhow::Result<Device> {
    match s {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        other => match other.strip_prefix("cuda") {
            Some("") => cuda(0),
            Some(n) => cuda(n.trim_start_matches(':').parse().with_context(|| format!("bad device {other:?}"))?),
            None => bail!("unknown device {other:?} (auto, cpu, cuda or cuda:N)"),
        },
    }
}

fn cuda(i: usize) -> anyhow::Result<Device> {
    anyhow::ensure!(tch::Cuda::is_available(), "CUDA requested but libtorch sees no CUDA device");
    anyhow::ensure!(
        i < tch::Cuda::device_count() as usize,
        "cuda:{i} does not exist ({} devices)",
        tch::Cuda::device_count()
    );
    Ok(Device::Cuda(i))
}

fn read_spec(path: &Path, classes: usize) -> anyhow::Result<ArchSpec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let spec: ArchSpec = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).with_context(|| format!("{} is not a valid spec", path.display()))?
    } else {
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid spec", path.display()))?
    };
    anyhow::ensure!(
        spec.num_classes() == classes,
        "{}: num_classes {} but the dataset has {classes} classes",
        path.display(),
        spec.num_classes()
    );
    Ok(spec)
}

/// The stream classifiers of a network (trained one loss each in `Streams` mode).
fn stream_heads(spec: &ArchSpec, graph: GraphKind) -> Vec<&'static str> {
    match (spec, graph) {
        (ArchSpec::TwoStream(_), _) => vec!["spatial.fc", "temporal.fc"],
        (ArchSpec::I3d(s), GraphKind::Full) if s.flow => vec!["rgb.fc", "flow.fc"],
        _ => vec![],
    }
}

/// Cross-entropy with label smoothing on `(N, K)` scores (logits or log-probabilities: the
/// log-softmax of a log-probability vector is itself).
fn smoothed_cross_entropy(scores: &Tensor, labels: &Tensor, smoothing: f64) -> Tensor {
    let logp = scores.log_softmax(1, Kind::Float);
    let nll = -logp.gather(1, &labels.unsqueeze(1), false).squeeze_dim(1);
    let uniform = -logp.mean_dim(&[1i64][..], false, Kind::Float);
    ((1.0 - smoothing) * nll + smoothing * uniform).mean(Kind::Float)
}

/// Per-epoch record in `metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: u32,
    pub train_loss: f64,
    pub train_clip_acc: f64,
    pub val_clip_top1: Option<f64>,
    pub val_video_top1: Option<f64>,
    pub val_video_top5: Option<f64>,
    pub lr: f64,
    pub seconds: f64,
    pub clips_per_s: f64,
}

/// Where the run stands; saved in the checkpoint's `motus.train` metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    /// Next epoch to run (0-based).
    epoch: u32,
    /// Steps of that epoch already done.
    step_in_epoch: u64,
    global_step: u64,
    best_video_top1: Option<f64>,
    /// Running sums of the interrupted epoch (so its record is exact after a resume).
    loss_sum: f64,
    correct: u64,
    seen: u64,
    finished: bool,
}

/// Builds one augmented training batch of `indices` (into `videos`) on `workers` threads: each
/// clip's randomness comes from its own seed, so the batch does not depend on thread timing.
fn build_batch(
    videos: &[VideoData],
    indices: &[usize],
    seeds: &[u64],
    g: &ClipGeometry,
    aug: &Augment,
    workers: usize,
) -> anyhow::Result<(Vec<Vec<f32>>, Vec<i64>)> {
    let lens = g.input_lens();
    let mut labels = vec![0i64; indices.len()];
    let mut per_clip: Vec<Vec<Vec<f32>>> =
        (0..indices.len()).map(|_| lens.iter().map(|&l| vec![0.0; l]).collect()).collect();
    let chunk = indices.len().div_ceil(workers.max(1)).max(1);
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = per_clip
            .chunks_mut(chunk)
            .zip(labels.chunks_mut(chunk))
            .enumerate()
            .map(|(c, (outs, labels))| {
                s.spawn(move || -> anyhow::Result<()> {
                    for (j, (out, label)) in outs.iter_mut().zip(labels.iter_mut()).enumerate() {
                        let i = c * chunk + j;
                        let mut rng = ChaCha8Rng::seed_from_u64(seeds[i]);
                        *label = make_clip(&videos[indices[i]], g, aug, Some(&mut rng), None, out)? as i64;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a data worker panicked"))))
            .collect()
    });
    for r in results {
        r?;
    }
    let mut batch: Vec<Vec<f32>> = lens.iter().map(|&l| Vec::with_capacity(l * indices.len())).collect();
    for clip in per_clip {
        for (b, x) in batch.iter_mut().zip(clip) {
            b.extend_from_slice(&x);
        }
    }
    Ok((batch, labels))
}

fn to_tensors(g: &ClipGeometry, batch: &[Vec<f32>], n: usize, device: Device) -> Vec<(String, Tensor)> {
    g.inputs
        .iter()
        .zip(batch)
        .map(|((name, _, _, shape), data)| {
            let mut dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            dims[0] = n as i64;
            (name.clone(), Tensor::from_slice(data).reshape(&dims[..]).to_device(device))
        })
        .collect()
}

fn flow_config(spec: &ArchSpec, preset: FlowPreset) -> Option<FlowConfig> {
    spec.flow_stack_len().map(|l| FlowConfig {
        algorithm: motus_core::flow::config::TVL1.into(),
        params: match preset {
            FlowPreset::Edge => TvL1Params::edge(),
            FlowPreset::Accurate => TvL1Params::accurate(),
        },
        bound: motus_core::flow::encode::DEFAULT_BOUND,
        stack_len: l as u32,
        mean_subtraction: true,
    })
}

/// Builds the run configuration from the arguments and the dataset.
fn make_config(args: &TrainArgs, labels: Vec<String>) -> anyhow::Result<TrainConfig> {
    let spec = match (&args.arch, &args.spec) {
        (_, Some(path)) => read_spec(path, labels.len())?,
        (Some(name), None) => motus_models::spec::default_for(name, labels.len())?,
        (None, None) => bail!("give --arch or --spec"),
    };
    anyhow::ensure!(args.epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    anyhow::ensure!(args.clips_per_video > 0, "--clips-per-video must be at least 1");
    anyhow::ensure!((0.0..1.0).contains(&args.label_smoothing), "--label-smoothing must be in [0, 1)");
    if args.twin_2d || args.init_2d.is_some() {
        anyhow::ensure!(matches!(spec, ArchSpec::I3d(_)), "--twin-2d and --init-2d apply to i3d only");
        anyhow::ensure!(
            !(args.twin_2d && args.init_2d.is_some()),
            "--twin-2d trains the 2D net; --init-2d starts the 3D one from it: not both"
        );
    }
    let optimizer = match args.optimizer {
        OptimizerArg::Sgd => OptimizerKind::Sgd { momentum: 0.9, weight_decay: args.weight_decay, nesterov: true },
        OptimizerArg::Adamw => {
            OptimizerKind::Adamw { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: args.weight_decay }
        }
    };
    let lr = args.lr.unwrap_or(match args.optimizer {
        OptimizerArg::Sgd => 0.01,
        OptimizerArg::Adamw => 1e-3,
    });
    anyhow::ensure!(lr > 0.0 && lr.is_finite(), "--lr must be positive");
    anyhow::ensure!(
        args.min_crop_scale > 0.0 && args.min_crop_scale <= 1.0,
        "--min-crop-scale must be in (0, 1], not {}",
        args.min_crop_scale
    );
    let augment = Augment {
        flip: !args.no_flip,
        flip_swap: flip_swap(&args.flip_swap, &labels)?,
        crop_scale: (args.min_crop_scale, 1.0),
        action_windows: args.action_windows,
        slow_camera: slow_camera(args)?,
        ..Augment::default()
    };
    Ok(TrainConfig {
        flow: flow_config(&spec, args.flow_preset),
        graph: if args.twin_2d { "i3d-2d-twin".into() } else { "full".into() },
        spec,
        labels,
        data: args.data.clone(),
        epochs: args.epochs,
        batch: args.batch,
        optimizer,
        lr,
        warmup_epochs: args.warmup_epochs,
        decay: match args.schedule {
            ScheduleArg::Cosine => Decay::Cosine { min_factor: 0.01 },
            ScheduleArg::Step => Decay::Step { epochs: args.step_epochs.clone(), gamma: 0.1 },
        },
        label_smoothing: args.label_smoothing,
        clip_grad: (args.clip_grad > 0.0).then_some(args.clip_grad),
        seed: args.seed,
        stream_mode: args.stream_mode,
        augment,
        val_views: args.val_views,
        init_2d: args.init_2d.clone(),
        clips_per_video: args.clips_per_video,
    })
}

/// `--slow-camera` and its factor as an augmentation setting, checked.
fn slow_camera(args: &TrainArgs) -> anyhow::Result<Option<data::SlowCamera>> {
    let Some(probability) = args.slow_camera else { return Ok(None) };
    let camera = data::SlowCamera { probability, max_factor: args.slow_camera_max_factor };
    camera.validate().context("--slow-camera")?;
    Ok(Some(camera))
}

/// The label pairs swapped by a horizontal flip: from `a:b` arguments, or the synthetic
/// benchmark's mirror pairs found among the labels.
fn flip_swap(args: &[String], labels: &[String]) -> anyhow::Result<Vec<(usize, usize)>> {
    let index = |name: &str| {
        labels.iter().position(|l| l == name).ok_or_else(|| anyhow::anyhow!("--flip-swap: no class named {name:?}"))
    };
    if args.is_empty() {
        return Ok(motus_core::synth::MIRROR_PAIRS
            .iter()
            .filter_map(|(a, b)| Some((labels.iter().position(|l| l == a)?, labels.iter().position(|l| l == b)?)))
            .collect());
    }
    args.iter()
        .map(|pair| {
            let (a, b) = pair.split_once(':').ok_or_else(|| anyhow::anyhow!("--flip-swap: {pair:?} is not a:b"))?;
            Ok((index(a)?, index(b)?))
        })
        .collect()
}

/// The card a run's checkpoints carry.
fn make_card(cfg: &TrainConfig, kind: GraphKind) -> anyhow::Result<ModelCard> {
    let graph = cfg.spec.lower()?;
    let mut card = ModelCard::for_spec(&cfg.spec, &graph, cfg.labels.clone());
    if let (Some(flow), Some(cfg_flow)) = (&mut card.flow, &cfg.flow) {
        *flow = cfg_flow.to_card();
    }
    if kind == GraphKind::I3dTwin2d {
        // The twin reads single frames and single fields: its own input declarations.
        let twin = graph_for(&card, kind)?;
        card.inputs = ModelCard::for_spec(&cfg.spec, &twin, cfg.labels.clone()).inputs;
    }
    Ok(card)
}

/// What a finished (or interrupted) run reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub out: PathBuf,
    pub epochs_done: u32,
    pub interrupted: bool,
    pub best_video_top1: Option<f64>,
    pub last: Option<EpochRecord>,
    pub seconds: f64,
    pub device: String,
    pub train_videos: usize,
    pub val_videos: usize,
}

/// Names of the trainable variables, in the order `trainable_variables()` returns them.
fn trainable_names(net: &IrNet) -> Vec<String> {
    // VarStore::variables() is a map; match trainable tensors back to names by identity.
    let all = net.var_store().variables();
    net.var_store()
        .trainable_variables()
        .iter()
        .map(|t| all.iter().find(|(_, v)| v.data_ptr() == t.data_ptr()).map(|(n, _)| n.clone()).unwrap_or_default())
        .collect()
}

/// Refuses an empty training split or a class without training videos; warns on imbalance.
fn check_balance(ds: &Dataset) -> anyhow::Result<()> {
    anyhow::ensure!(!ds.entries.is_empty(), "the train split of {} is empty", ds.list.display());
    let counts = ds.class_counts();
    let empty: Vec<&str> =
        counts.iter().enumerate().filter(|(_, &c)| c == 0).map(|(i, _)| ds.classes.name(i)).collect();
    anyhow::ensure!(
        empty.is_empty(),
        "classes with no training video: {} (the model could never predict them; fix the split or the class index)",
        empty.join(", ")
    );
    let (max, min) = (*counts.iter().max().unwrap_or(&0), *counts.iter().min().unwrap_or(&0));
    if min > 0 && max as f64 / min as f64 > 4.0 {
        log::warn!("the train split is badly unbalanced: {max} videos in the largest class, {min} in the smallest; expect a bias toward large classes");
    }
    Ok(())
}

fn append_record(path: &Path, r: &EpochRecord) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{}", serde_json::to_string(r)?)?;
    f.sync_all()?;
    Ok(())
}

/// A run folder's `metrics.jsonl`, epoch by epoch (empty when the run has none yet).
pub(crate) fn read_history(path: &Path) -> anyhow::Result<Vec<EpochRecord>> {
    match std::fs::read_to_string(path) {
        Ok(t) => t
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).context("metrics.jsonl"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// `motus-train train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing the SIGINT handler")?;
    }
    let summary = train(&args, stop)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
