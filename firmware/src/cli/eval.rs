//! `motus eval`: a model's accuracy and latency on a labelled list, measured through the
//! device's own decode, preprocessing, flow and inference code; optionally side by side with
//! a second model, and on long videos as event detection.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use motus_core::flow::Backend;
use motus_lab::dataset::{self, ClassIndex, Dataset};
use motus_lab::eval::report::{EvalReport, RunHeader};
use motus_lab::eval::{self, RunOptions};
use motus_models::ModelCard;

use motus_core::progress::Progress;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The ONNX model (card embedded, in `<model>.card.toml`, or given with --card).
    #[arg(long)]
    model: PathBuf,
    /// A labelled MMAction2 list (`path label` / `dir frames label`; `classInd.txt` next to it
    /// names the classes), a long-video list from `motus synth --long`, or a dataset folder
    /// (its `test.txt`).
    #[arg(long)]
    data: PathBuf,
    /// `center` (one centred clip, centre crop) or `clips=N[,crops=3]`.
    #[arg(long, default_value = "center")]
    protocol: String,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Write report.json, report.md, confusion.png and per_class.png into this folder.
    #[arg(long)]
    report: Option<PathBuf>,
    /// A second model to evaluate on the same videos and compare with.
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Card (TOML) for the --compare model when it has none embedded or beside it.
    #[arg(long)]
    compare_card: Option<PathBuf>,
    /// Card (TOML) for a model exported by another tool; default `<model>.card.toml` if present.
    #[arg(long)]
    card: Option<PathBuf>,
    /// tract threads for matrix products (1 = none besides each worker).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Videos evaluated at once (default: cores, at most 4).
    #[arg(long)]
    workers: Option<usize>,
    /// Flow backend for models that read flow.
    #[arg(long, default_value = "cpu")]
    flow_backend: Backend,
    /// Long videos: frames between window starts (default half a window).
    #[arg(long)]
    window_stride: Option<u64>,
    /// Long videos: top-class probability a window needs to count as a detection.
    #[arg(long, default_value_t = 0.5)]
    threshold: f32,
    /// Append this measurement to the model's embedded card (a description of the data, e.g.
    /// "synthetic test split, seed 202"). The file is rewritten atomically; graph and weights
    /// stay byte for byte. Not for long lists, sidecar cards or --compare runs.
    #[arg(long, value_name = "DATA_DESCRIPTION")]
    record: Option<String>,
    /// Direction consistency instead of accuracy: each video's top class against its mirror
    /// image's and its time reversal's (`mirror`, `reverse`, or both comma-separated). `--data`
    /// may then be any list of videos (a clip TSV with a `path` column, or one path per line);
    /// no labels are needed.
    #[arg(long, value_name = "TRANSFORMS", conflicts_with_all = ["compare", "record", "report"])]
    consistency: Option<String>,
    /// Long videos: the class that never forms an event (ignored if the model lacks it);
    /// default: the model's `background` or `idle` class.
    #[arg(long)]
    background: Option<String>,
}

/// Videos evaluated at once: as asked, else the cores (at most 4).
pub(super) fn workers(asked: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    asked.unwrap_or(cores.min(4)).max(1)
}

/// A resolved model: path, card and where the card came from.
pub(super) struct Model {
    pub(super) path: PathBuf,
    pub(super) card: ModelCard,
    pub(super) origin: &'static str,
}

fn load_model(path: &Path, card: Option<&Path>) -> anyhow::Result<Model> {
    let (card, origin, _, _) = super::info::load_card(path, card)?;
    warn_without_rate(path, &card);
    Ok(Model { path: path.to_path_buf(), card, origin })
}

/// The one warning for a model whose card has no frame rate: its clips take consecutive
/// frames at each video's own rate, as before rates were recorded.
pub(super) fn warn_without_rate(path: &Path, card: &ModelCard) {
    if card.input.fps.is_none() {
        log::warn!(
            "{}: the card has no frame rate (fps): clips take consecutive frames at each video's own rate; `motus card set {} --fps F` records the rate it was trained at",
            path.display(),
            path.display()
        );
    }
}

/// The list file and the folder its paths are relative to.
pub(super) fn resolve_list(data: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let list = if data.is_dir() { data.join("test.txt") } else { data.to_path_buf() };
    if !list.is_file() {
        bail!(
            "{}: no such list file (give a list such as DIR/test.txt, or a dataset folder holding test.txt)",
            list.display()
        );
    }
    let root = list.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((list, root))
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    eval::parse_protocol(&args.protocol)?;
    if args.threads == 0 {
        bail!("--threads must be at least 1");
    }
    let a = load_model(&args.model, args.card.as_deref())?;
    if let Some(transforms) = &args.consistency {
        motus_core::infer::set_threads(args.threads);
        let opts = RunOptions { workers: workers(args.workers), flow_backend: args.flow_backend, flow_threads: 1 };
        return super::consistency::run(&a, &args.data, &args.protocol, transforms, &opts, args.json);
    }
    let (list, root) = resolve_list(&args.data)?;
    let b = match &args.compare {
        Some(p) => {
            let b = load_model(p, args.compare_card.as_deref())?;
            eval::check_labels(&a.card.labels, &b.card.labels)
                .map_err(|e| anyhow::anyhow!("--compare {}: {e}", p.display()))?;
            Some(b)
        }
        None => None,
    };
    motus_core::infer::set_threads(args.threads);
    let opts = RunOptions { workers: workers(args.workers), flow_backend: args.flow_backend, flow_threads: 1 };
    let long = super::dataset::is_long_list(&list)?;
    if args.record.is_some() {
        if long || b.is_some() {
            bail!("--record stores trimmed-video accuracy of one model; not with a long-video list or --compare");
        }
        if a.origin != "embedded" {
            bail!("--record writes into the model's embedded card; {} has a {} card", a.path.display(), a.origin);
        }
    }
    let report = if long {
        run_long(&args, &list, &root, &a, b.as_ref(), &opts)?
    } else {
        run_clips(&args, &list, &root, &a, b.as_ref(), &opts)?
    };
    if let Some(dir) = &args.report {
        let written = eval::report::write_report(dir, &report)
            .with_context(|| format!("writing the report to {}", dir.display()))?;
        for p in written {
            eprintln!("wrote {}", p.display());
        }
    }
    if args.json {
        super::print_json(&report);
    } else {
        print!("{}", eval::report::table(&report));
    }
    if let Some(what) = &args.record {
        record(&a, what, &args.protocol, &report)?;
    }
    let skipped = report.n_unreadable;
    if skipped > 0 {
        eprintln!(
            "warning: {skipped} unreadable video(s) were skipped (listed above and under `unreadable` in the report)"
        );
    }
    Ok(())
}

/// Appends the run's accuracy to the model's embedded card and rewrites the file atomically.
fn record(m: &Model, what: &str, protocol: &str, report: &EvalReport) -> anyhow::Result<()> {
    let (Some(video_top1), Some(video_top5)) = (report.video_top1, report.video_top5) else {
        bail!("a long-video report has no video accuracy to record");
    };
    let evaluation = motus_models::CardEvaluation {
        data: what.to_string(),
        method: format!(
            "motus eval {}: tract, the device's clip assembly, flow {}, protocol {protocol}",
            env!("CARGO_PKG_VERSION"),
            report.flow_engine.as_deref().unwrap_or("none")
        ),
        n_videos: report.n_videos,
        clip_top1: report.clip_top1,
        video_top1,
        video_top5,
    };
    super::card::edit_embedded(&m.path, &m.path, |card| card.evaluations.push(evaluation))?;
    eprintln!("recorded video Hit@1 {video_top1:.4} in the card of {}", m.path.display());
    Ok(())
}

/// The classes of a list: `classInd.txt` beside it when present (then they must be the
/// model's), else the model's labels (the list's labels must index them).
pub(super) fn open_dataset(list: &Path, root: &Path, model: &Model) -> anyhow::Result<Dataset> {
    let class_ind = root.join("classInd.txt");
    let (classes, from_file) = if class_ind.is_file() {
        (ClassIndex::load(&class_ind)?, true)
    } else {
        let c = ClassIndex::from_names(model.card.labels.iter().cloned())
            .with_context(|| format!("{}: the card's labels are not distinct names", model.path.display()))?;
        (c, false)
    };
    let ds = match Dataset::from_list(list, root, Some(classes)) {
        Err(dataset::DatasetError::Empty { .. }) => {
            bail!("{}: the list holds no videos; nothing to evaluate", list.display())
        }
        Err(e @ dataset::DatasetError::LabelOutOfRange { .. }) if !from_file => {
            bail!("{e}; the model has {} classes and there is no classInd.txt beside the list", model.card.labels.len())
        }
        other => other?,
    };
    if ds.entries.is_empty() {
        bail!("{}: the list holds no videos; nothing to evaluate", list.display());
    }
    if from_file {
        let names: Vec<String> = (0..ds.classes.len()).map(|i| ds.classes.name(i).to_string()).collect();
        eval::check_labels(&model.card.labels, &names)
            .map_err(|e| anyhow::anyhow!("{} vs {}: {e}", model.path.display(), class_ind.display()))?;
    } else {
        eprintln!("note: no classInd.txt beside {}; class names come from the model card", list.display());
    }
    Ok(ds)
}

fn header(args: &EvalArgs, list: &Path, m: &Model, opts: &RunOptions) -> RunHeader {
    RunHeader {
        model: m.path.clone(),
        card: m.origin.to_string(),
        arch: m.card.arch.name().to_string(),
        labels: m.card.labels.clone(),
        data: list.to_path_buf(),
        protocol: args.protocol.clone(),
        workers: opts.workers,
        threads: args.threads,
    }
}

fn run_clips(
    args: &EvalArgs,
    list: &Path,
    root: &Path,
    a: &Model,
    b: Option<&Model>,
    opts: &RunOptions,
) -> anyhow::Result<EvalReport> {
    let ds = open_dataset(list, root, a)?;
    let protocol = eval::parse_protocol(&args.protocol)?;
    let run_one = |m: &Model, label: &str| -> anyhow::Result<eval::VideoRun> {
        let mut progress = Progress::new(label);
        let run = eval::evaluate_videos(&m.path, &m.card, &ds, &protocol, opts, &mut |d, t| progress.update(d, t))?;
        for s in &run.skipped {
            eprintln!("unreadable (skipped): {} (line {}): {}", s.path.display(), s.line, s.error);
        }
        if run.scored.is_empty() {
            bail!("none of the {} videos of {} could be read; nothing to score", ds.entries.len(), list.display());
        }
        Ok(run)
    };
    let run = run_one(a, "eval")?;
    let run_b = b.map(|b| run_one(b, "eval (compare)")).transpose()?;
    let other = b.zip(run_b.as_ref()).map(|(b, r)| (b.path.as_path(), r));
    Ok(EvalReport::for_clips(header(args, list, a, opts), &ds.entries, &run, other)?)
}

fn run_long(
    args: &EvalArgs,
    list: &Path,
    root: &Path,
    a: &Model,
    b: Option<&Model>,
    opts: &RunOptions,
) -> anyhow::Result<EvalReport> {
    let videos = match dataset::load_long_list(list, root) {
        Err(dataset::DatasetError::Empty { .. }) => {
            bail!("{}: the list holds no videos; nothing to evaluate", list.display())
        }
        other => other?,
    };
    let class_ind = root.join("classInd.txt");
    if class_ind.is_file() {
        let classes = ClassIndex::load(&class_ind)?;
        let names: Vec<String> = (0..classes.len()).map(|i| classes.name(i).to_string()).collect();
        eval::check_labels(&a.card.labels, &names)
            .map_err(|e| anyhow::anyhow!("{} vs {}: {e}", a.path.display(), class_ind.display()))?;
    }
    for v in &videos {
        for s in &v.ground_truth.segments {
            if a.card.labels.get(s.class_index) != Some(&s.class_name) {
                bail!(
                    "{}: ground-truth class {} is {:?}, the model's class {} is {:?}: the label sets differ",
                    v.path.display(),
                    s.class_index,
                    s.class_name,
                    s.class_index,
                    a.card.labels.get(s.class_index).map_or("(none)", String::as_str)
                );
            }
        }
    }
    let background = match &args.background {
        Some(name) => a.card.labels.iter().position(|l| l == name),
        None => a.card.labels.iter().position(|l| motus_device::alert::BACKGROUND_CLASSES.contains(&l.as_str())),
    };
    let run_one = |m: &Model, label: &str| -> anyhow::Result<eval::LongRun> {
        let mut progress = Progress::new(label);
        let run = eval::evaluate_long(&m.path, &m.card, &videos, args.window_stride, opts, &mut |d, t| {
            progress.update(d, t)
        })?;
        for s in &run.skipped {
            eprintln!("unreadable (skipped): {}: {}", s.path.display(), s.error);
        }
        if run.scored.is_empty() {
            bail!("none of the {} long videos of {} could be read; nothing to score", videos.len(), list.display());
        }
        Ok(run)
    };
    let summarize = |run: &eval::LongRun| {
        let per: Vec<(&dataset::GroundTruth, &[eval::WindowScore])> =
            run.scored.iter().map(|(i, s)| (&videos[*i].ground_truth, &s.windows[..])).collect();
        eval::summarize_long(&per, &a.card.labels, args.threshold, background, 0.5)
    };
    let run = run_one(a, "eval")?;
    let detection = summarize(&run);
    let other = match b {
        Some(b) => Some((b.path.as_path(), summarize(&run_one(b, "eval (compare)")?))),
        None => None,
    };
    Ok(EvalReport::for_long(header(args, list, a, opts), &run, detection, other))
}
