//! One training run: the run folder ([`RunDir`]), starting or resuming it, loading its data,
//! and the [`Trainer`] that runs epochs of steps, validates, records and checkpoints.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use super::data::{ClipGeometry, VideoData};
use super::optim::Optimizer;
use super::schedule::Schedule;
use super::{
    append_record, build_batch, check_balance, make_card, make_config, parse_device, plot, progress, read_history,
    smoothed_cross_entropy, stream_heads, to_tensors, trainable_names, videos, EpochRecord, Progress, RunSummary,
    StreamMode, TrainArgs, TrainConfig,
};
use crate::checkpoint::{graph_for, Checkpoint, GraphKind};
use crate::net::IrNet;
use motus_lab::dataset::{ActionSpans, Dataset};
use motus_models::ModelCard;

/// The files of a run folder (`--out`).
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run folder at `root`, created if missing.
    pub fn create(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        Ok(RunDir { root: root.to_path_buf() })
    }
    /// The settings the run was started with (`--resume` must repeat them).
    pub fn config(&self) -> PathBuf {
        self.root.join("config.json")
    }
    /// The newest checkpoint: weights, optimiser state and progress.
    pub fn last(&self) -> PathBuf {
        self.root.join("last.safetensors")
    }
    /// The best epoch's weights (by validation video Hit@1, else training loss).
    pub fn best(&self) -> PathBuf {
        self.root.join("best.safetensors")
    }
    /// One [`EpochRecord`] per line.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
    /// What was loaded from each split, and the frame rate clips are sampled at.
    pub fn data_report(&self) -> PathBuf {
        self.root.join("data.json")
    }
    /// The loss and accuracy curves.
    pub fn curves(&self) -> PathBuf {
        self.root.join("curves.png")
    }
}

/// Trains as `args` says; returns when done, interrupted (checkpoint saved) or failed.
pub fn train(args: &TrainArgs, stop: Arc<AtomicBool>) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    let device = parse_device(&args.device)?;
    if device == Device::Cpu {
        tch::set_num_threads(args.threads.max(1));
    }
    anyhow::ensure!(!args.amp || device.is_cuda(), "--amp needs a CUDA device");
    let (ds_train, ds_val) = open_splits(&args.data)?;
    let cfg = make_config(args, ds_train.classes.names().to_vec())?;
    let dir = RunDir::create(&args.out)?;
    let kind = if args.twin_2d { GraphKind::I3dTwin2d } else { GraphKind::Full };
    let mut card = make_card(&cfg, kind)?;
    let graph = graph_for(&card, kind)?;
    let geometry = ClipGeometry::from_card(&card)?;
    let mut net = IrNet::new(graph.clone(), device, cfg.seed);
    let resumed = start_or_resume(args, &cfg, &dir, &mut net, &graph.params)?;
    let data = load_data(args, &cfg, &card, &geometry, &ds_train, ds_val.as_ref(), &dir)?;
    card.input.fps = Some(data.fps);
    let output = graph.output.clone();
    let mut trainer = Trainer::new(args, cfg, card, kind, net, geometry, data, resumed, dir, output)?;
    let interrupted = trainer.run(&stop)?;
    Ok(trainer.summary(interrupted, started, device))
}

/// The train split and the val split when there is one (without it, best.safetensors
/// follows the training loss).
fn open_splits(data: &Path) -> anyhow::Result<(Dataset, Option<Dataset>)> {
    let train = Dataset::open_split(data, "train")?;
    check_balance(&train)?;
    let val = match Dataset::open_split(data, "val") {
        Ok(d) if !d.entries.is_empty() => Some(d),
        Ok(_) | Err(_) => {
            log::warn!("no val split in {}: no validation, best.safetensors follows the training loss", data.display());
            None
        }
    };
    if let Some(v) = &val {
        anyhow::ensure!(
            v.classes.names() == train.classes.names(),
            "val and train splits have different class indexes"
        );
    }
    Ok((train, val))
}

/// Where a resumed run stands: its checkpoint, progress and epoch records so far.
struct Resumed {
    checkpoint: Checkpoint,
    progress: Progress,
    history: Vec<EpochRecord>,
}

/// Resumes the run in `dir` (`--resume`: same settings, weights and progress from its last
/// checkpoint) or starts a new one there (refusing a folder that holds a run; an I3D may
/// start from an inflated 2D twin), writing its `config.json`.
fn start_or_resume(
    args: &TrainArgs,
    cfg: &TrainConfig,
    dir: &RunDir,
    net: &mut IrNet,
    params: &[motus_models::ir::ParamSpec],
) -> anyhow::Result<Option<Resumed>> {
    if args.resume {
        let path = dir.config();
        let text = std::fs::read_to_string(&path).with_context(|| format!("--resume: reading {}", path.display()))?;
        let saved: TrainConfig =
            serde_json::from_str(&text).context("--resume: config.json is not a run configuration")?;
        anyhow::ensure!(
            saved == *cfg,
            "--resume: the arguments differ from the run's config.json; resume with the same settings"
        );
        let checkpoint = Checkpoint::load(&dir.last()).context("--resume")?;
        let progress: Progress = serde_json::from_value(checkpoint.train.clone())
            .context("--resume: checkpoint has no training progress")?;
        if progress.finished {
            log::info!("run in {} is already finished", args.out.display());
        }
        net.load_weights(&checkpoint.weights)?;
        let mut history = read_history(&dir.metrics())?;
        history.truncate(progress.epoch as usize);
        return Ok(Some(Resumed { checkpoint, progress, history }));
    }
    if dir.last().exists() {
        bail!("{} already holds a run; use --resume to continue it or another --out", args.out.display());
    }
    if let Some(init) = &cfg.init_2d {
        let twin = Checkpoint::load(init).with_context(|| format!("--init-2d {}", init.display()))?;
        anyhow::ensure!(
            twin.graph == GraphKind::I3dTwin2d,
            "--init-2d: {} is not an I3D 2D-twin checkpoint",
            init.display()
        );
        anyhow::ensure!(twin.card.arch == cfg.spec, "--init-2d: the twin was trained for another I3D spec");
        net.load_weights(&crate::inflate::inflate(params, &twin.weights)?)?;
        log::info!("initialised the I3D by inflating {}", init.display());
    }
    motus_core::atomic::write_atomic(&dir.config(), serde_json::to_string_pretty(cfg)?.as_bytes())?;
    Ok(None)
}

/// The decoded videos of both splits and the frame rate their clips are sampled at.
struct LoadedData {
    train: Vec<VideoData>,
    val: Vec<VideoData>,
    fps: f64,
}

/// Loads every video once (frames at the card's short side, flow from the cache, filling it
/// where missing), records what was loaded in `data.json`, and finds the training rate.
fn load_data(
    args: &TrainArgs,
    cfg: &TrainConfig,
    card: &ModelCard,
    geometry: &ClipGeometry,
    ds_train: &Dataset,
    ds_val: Option<&Dataset>,
    dir: &RunDir,
) -> anyhow::Result<LoadedData> {
    let cache = args.flow_cache.clone().unwrap_or_else(|| args.data.join("flow-cache"));
    let flow = cfg.flow.as_ref().map(|f| (f, cache.as_path()));
    let spans = ActionSpans::find(&args.data)?;
    let settings = videos::LoadSettings {
        resize_short: card.input.resize_short,
        flow,
        window_len: geometry.window_len,
        spans: spans.as_ref(),
        threads: args.workers,
    };
    let (train, train_report) = videos::load_split(ds_train, "train", settings, "loading train")?;
    let (val, val_report) = match ds_val {
        Some(d) => {
            let (v, r) = videos::load_split(d, "val", settings, "loading val")?;
            (v, Some(r))
        }
        None => (Vec::new(), None),
    };
    log::info!(
        "train: {} videos ({} unreadable, {} short, {} with action spans), val: {} videos; {:.0} MB in memory",
        train_report.loaded,
        train_report.unreadable.len(),
        train_report.short,
        train_report.action_spans,
        val.len(),
        (train_report.bytes + val_report.as_ref().map_or(0, |r| r.bytes)) as f64 / 1e6
    );
    let reports: Vec<&videos::LoadReport> = std::iter::once(&train_report).chain(val_report.as_ref()).collect();
    let fps = videos::training_rate(&reports)?;
    log::info!("clips are sampled at the videos' {fps} fps; the card records it");
    let report = DataReport { train: &train_report, val: val_report.as_ref(), fps };
    motus_core::atomic::write_atomic(&dir.data_report(), serde_json::to_string_pretty(&report)?.as_bytes())?;
    Ok(LoadedData { train, val, fps })
}

/// `data.json` in the run folder: what loading each split found, and the rate clips are
/// sampled at.
#[derive(Debug, serde::Serialize)]
struct DataReport<'a> {
    train: &'a videos::LoadReport,
    val: Option<&'a videos::LoadReport>,
    fps: f64,
}

/// The model, its optimiser and schedule, the data, and where the run stands: what one
/// training run updates step by step.
struct Trainer<'a> {
    args: &'a TrainArgs,
    cfg: TrainConfig,
    card: ModelCard,
    kind: GraphKind,
    net: IrNet,
    opt: Optimizer,
    schedule: Schedule,
    geometry: ClipGeometry,
    data: LoadedData,
    dir: RunDir,
    /// The graph's output and, for per-stream losses, each stream's head.
    output: String,
    heads: Vec<&'static str>,
    progress: Progress,
    history: Vec<EpochRecord>,
    clips_per_epoch: usize,
    steps_per_epoch: u64,
}

impl<'a> Trainer<'a> {
    /// Sets up the optimiser and schedule for `data` (restoring a resumed run's state).
    #[allow(clippy::too_many_arguments)] // each is one part of the run, built by `train`
    fn new(
        args: &'a TrainArgs,
        cfg: TrainConfig,
        card: ModelCard,
        kind: GraphKind,
        net: IrNet,
        geometry: ClipGeometry,
        data: LoadedData,
        resumed: Option<Resumed>,
        dir: RunDir,
        output: String,
    ) -> anyhow::Result<Self> {
        let clips_per_epoch = data.train.len() * cfg.clips_per_video as usize;
        anyhow::ensure!(
            clips_per_epoch >= cfg.batch,
            "an epoch has {clips_per_epoch} clips, fewer than one batch of {}; lower --batch",
            cfg.batch
        );
        let steps_per_epoch = (clips_per_epoch / cfg.batch) as u64;
        let schedule = Schedule {
            base_lr: cfg.lr,
            warmup_steps: (cfg.warmup_epochs * steps_per_epoch as f64) as u64,
            total_steps: cfg.epochs as u64 * steps_per_epoch,
            steps_per_epoch,
            decay: cfg.decay.clone(),
        };
        let trainable: Vec<(String, Tensor)> =
            net.var_store().trainable_variables().into_iter().zip(trainable_names(&net)).map(|(t, n)| (n, t)).collect();
        let mut opt = Optimizer::new(cfg.optimizer, trainable);
        let (progress, history) = match resumed {
            Some(r) => {
                opt.load_state(&r.checkpoint.state, net.device());
                opt.steps = r.progress.global_step;
                (r.progress, r.history)
            }
            None => (Progress::default(), Vec::new()),
        };
        let heads = match cfg.stream_mode {
            StreamMode::Streams => stream_heads(&cfg.spec, kind),
            StreamMode::Joint => vec![],
        };
        Ok(Trainer {
            args,
            cfg,
            card,
            kind,
            net,
            opt,
            schedule,
            geometry,
            data,
            dir,
            output,
            heads,
            progress,
            history,
            clips_per_epoch,
            steps_per_epoch,
        })
    }

    /// Runs the remaining epochs; returns whether `stop` or `--max-steps` interrupted the run
    /// (a checkpoint is saved then, for `--resume`).
    fn run(&mut self, stop: &AtomicBool) -> anyhow::Result<bool> {
        let mut bar = progress::TrainProgress::new(self.cfg.epochs, self.steps_per_epoch, self.progress.epoch);
        while self.progress.epoch < self.cfg.epochs && !self.progress.finished {
            let epoch_started = Instant::now();
            let first_step = self.progress.step_in_epoch;
            bar.start_epoch();
            if self.run_epoch(stop, &mut bar)? {
                self.checkpoint()?.save(&self.dir.last())?;
                eprintln!(
                    "\nstopped at epoch {} step {}; saved {} (continue with --resume)",
                    self.progress.epoch + 1,
                    self.progress.step_in_epoch,
                    self.dir.last().display()
                );
                return Ok(true);
            }
            let line = self.end_epoch(epoch_started, first_step)?;
            bar.finish_epoch(&line);
        }
        Ok(false)
    }

    /// The steps of the current epoch from where it stands; returns whether it was
    /// interrupted. The epoch's order is a permutation seeded by (seed, epoch), in batches
    /// of whole clips, so a resumed epoch draws exactly the clips it would have.
    fn run_epoch(&mut self, stop: &AtomicBool, bar: &mut progress::TrainProgress) -> anyhow::Result<bool> {
        let epoch = self.progress.epoch;
        let n_videos = self.data.train.len();
        let mut order: Vec<usize> = (0..self.clips_per_epoch).map(|i| i % n_videos).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(self.cfg.seed ^ (0x5EED_0000 + epoch as u64)));
        for step in self.progress.step_in_epoch..self.steps_per_epoch {
            if stop.load(Ordering::Relaxed) || self.args.max_steps.is_some_and(|m| self.progress.global_step >= m) {
                return Ok(true);
            }
            let lo = step as usize * self.cfg.batch;
            self.step(step, lo, &order[lo..lo + self.cfg.batch])?;
            let p = &self.progress;
            bar.update(epoch, step + 1, self.cfg.batch, p.loss_sum / p.seen as f64);
        }
        Ok(false)
    }

    /// One optimiser step on the clips `idx` (into the training videos), the batch starting
    /// at clip `lo` of the epoch; a loss or gradient that is not finite stops the run.
    fn step(&mut self, step: u64, lo: usize, idx: &[usize]) -> anyhow::Result<()> {
        let (cfg, epoch, device) = (&self.cfg, self.progress.epoch, self.net.device());
        let seeds: Vec<u64> = (0..cfg.batch)
            .map(|j| cfg.seed.wrapping_mul(1_000_003) ^ ((epoch as u64) << 40) ^ (lo + j) as u64)
            .collect();
        let (data, clip_labels) =
            build_batch(&self.data.train, idx, &seeds, &self.geometry, &cfg.augment, self.args.workers)?;
        let tensors = to_tensors(&self.geometry, &data, cfg.batch, device);
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let labels = Tensor::from_slice(&clip_labels).to_device(device);
        let mut keep: Vec<&str> = self.heads.clone();
        keep.push(&self.output);
        let forward = || self.net.forward_values(&refs, true, &keep);
        let values = if self.args.amp { tch::autocast(true, forward) } else { forward() }?;
        let loss_of =
            |name: &str| smoothed_cross_entropy(&values[name].to_kind(Kind::Float), &labels, cfg.label_smoothing);
        let loss = if self.heads.is_empty() {
            loss_of(&self.output)
        } else {
            self.heads.iter().map(|h| loss_of(h)).reduce(|a, b| a + b).expect("at least one head")
        };
        let loss_value = loss.double_value(&[]);
        let last = self.dir.last();
        if !loss_value.is_finite() {
            bail!(
                "the loss became {loss_value} at epoch {} step {step}; stopped. The last good checkpoint is {} (try a lower --lr or gradient clipping)",
                epoch + 1,
                last.display()
            );
        }
        self.opt.zero_grad();
        loss.backward();
        let norm = self.opt.clip_grad_norm(cfg.clip_grad);
        if !norm.is_finite() {
            bail!(
                "the gradient norm became {norm} at epoch {} step {step}; stopped. The last good checkpoint is {}",
                epoch + 1,
                last.display()
            );
        }
        self.opt.step(self.schedule.lr(self.progress.global_step));
        let pred = values[&self.output].argmax(1, false);
        let p = &mut self.progress;
        p.correct += pred.eq_tensor(&labels).sum(Kind::Int64).int64_value(&[]) as u64;
        p.loss_sum += loss_value * cfg.batch as f64;
        p.seen += cfg.batch as u64;
        p.global_step += 1;
        p.step_in_epoch = step + 1;
        Ok(())
    }

    /// Validates, records the epoch (metrics.jsonl, curves), checkpoints (last, and best when
    /// it is) and returns the epoch's line for the progress bar.
    fn end_epoch(&mut self, epoch_started: Instant, first_step: u64) -> anyhow::Result<String> {
        let cfg = &self.cfg;
        let (clip, video, top5) = if self.data.val.is_empty() {
            (None, None, None)
        } else {
            let r =
                crate::evaluate::evaluate(&self.net, &self.data.val, &self.geometry, cfg.val_views, cfg.batch, &[])?;
            (Some(r.clip_top1), Some(r.video_top1), Some(r.video_top5))
        };
        let p = &mut self.progress;
        let seen = p.seen.max(1) as f64;
        let seconds = epoch_started.elapsed().as_secs_f64();
        let record = EpochRecord {
            epoch: p.epoch + 1,
            train_loss: p.loss_sum / seen,
            train_clip_acc: p.correct as f64 / seen,
            val_clip_top1: clip,
            val_video_top1: video,
            val_video_top5: top5,
            lr: self.schedule.lr(p.global_step.saturating_sub(1)),
            seconds,
            clips_per_s: (self.steps_per_epoch - first_step) as f64 * cfg.batch as f64 / seconds.max(1e-9),
        };
        let score = video.unwrap_or(-record.train_loss);
        let is_best = p.best_video_top1.is_none_or(|b| score > b);
        if is_best {
            p.best_video_top1 = Some(score);
        }
        p.epoch += 1;
        p.step_in_epoch = 0;
        p.loss_sum = 0.0;
        p.correct = 0;
        p.seen = 0;
        p.finished = p.epoch >= cfg.epochs;
        let ckpt = self.checkpoint()?;
        ckpt.save(&self.dir.last())?;
        if is_best {
            Checkpoint { state: Default::default(), ..ckpt }.save(&self.dir.best())?;
        }
        append_record(&self.dir.metrics(), &record)?;
        self.history.push(record.clone());
        plot::curves(&self.history, &self.dir.curves())?;
        Ok(format!(
            "epoch {}/{}: loss {:.4}, train acc {:.3}{}{}",
            record.epoch,
            self.cfg.epochs,
            record.train_loss,
            record.train_clip_acc,
            clip.map(|c| format!(", val clip {c:.3}")).unwrap_or_default(),
            video.map(|v| format!(", val video {v:.3}{}", if is_best { " (best)" } else { "" })).unwrap_or_default()
        ))
    }

    /// The run as it stands: card, weights, optimiser state and progress.
    fn checkpoint(&self) -> anyhow::Result<Checkpoint> {
        Ok(Checkpoint {
            card: self.card.clone(),
            graph: self.kind,
            weights: self.net.weights(),
            state: self.opt.state(),
            train: serde_json::to_value(&self.progress)?,
        })
    }

    /// What `motus-train train` prints at the end.
    fn summary(&self, interrupted: bool, started: Instant, device: Device) -> RunSummary {
        RunSummary {
            out: self.args.out.clone(),
            epochs_done: self.progress.epoch,
            interrupted,
            best_video_top1: self.progress.best_video_top1,
            last: self.history.last().cloned(),
            seconds: started.elapsed().as_secs_f64(),
            device: format!("{device:?}"),
            train_videos: self.data.train.len(),
            val_videos: self.data.val.len(),
        }
    }
}
