//! `motus eval`: a model's accuracy and latency on a labelled list, measured through the
//! device's own decode, preprocessing, flow and inference code; optionally side by side with
//! a second model, and on long videos as event detection.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use motus_core::flow::Backend;
use motus_lab::dataset::{self, ClassIndex, Dataset};
use motus_lab::eval::{self, Accumulator, RunOptions};
use motus_models::ModelCard;
use serde_json::{json, Value};

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
        print_table(&report);
    }
    if let Some(what) = &args.record {
        record(&a, what, &args.protocol, &report)?;
    }
    let skipped = report["n_unreadable"].as_u64().unwrap_or(0);
    if skipped > 0 {
        eprintln!(
            "warning: {skipped} unreadable video(s) were skipped (listed above and under `unreadable` in the report)"
        );
    }
    Ok(())
}

/// Appends the run's accuracy to the model's embedded card and rewrites the file atomically.
fn record(m: &Model, what: &str, protocol: &str, report: &Value) -> anyhow::Result<()> {
    let num = |k: &str| report[k].as_f64().ok_or_else(|| anyhow::anyhow!("the report has no {k}"));
    let evaluation = motus_models::CardEvaluation {
        data: what.to_string(),
        method: format!(
            "motus eval {}: tract, the device's clip assembly, flow {}, protocol {protocol}",
            env!("CARGO_PKG_VERSION"),
            report["flow_engine"].as_str().unwrap_or("none")
        ),
        n_videos: report["n_videos"].as_u64().unwrap_or(0) as usize,
        clip_top1: num("clip_top1")?,
        video_top1: num("video_top1")?,
        video_top5: num("video_top5")?,
    };
    super::card::edit_embedded(&m.path, &m.path, |card| card.evaluations.push(evaluation))?;
    eprintln!("recorded video Hit@1 {:.4} in the card of {}", num("video_top1")?, m.path.display());
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

fn header(args: &EvalArgs, list: &Path, m: &Model, opts: &RunOptions) -> serde_json::Map<String, Value> {
    let mut r = serde_json::Map::new();
    r.insert("model".into(), json!(m.path));
    r.insert("card".into(), json!(m.origin));
    r.insert("arch".into(), json!(m.card.arch.name()));
    r.insert("labels".into(), json!(m.card.labels));
    r.insert("data".into(), json!(list));
    r.insert("protocol".into(), json!(args.protocol));
    r.insert("workers".into(), json!(opts.workers));
    r.insert("threads".into(), json!(args.threads));
    r
}

fn run_clips(
    args: &EvalArgs,
    list: &Path,
    root: &Path,
    a: &Model,
    b: Option<&Model>,
    opts: &RunOptions,
) -> anyhow::Result<Value> {
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
    let names = &a.card.labels;
    let mut acc = Accumulator::new(names.len());
    for (i, s) in &run.scored {
        acc.add_video(ds.entries[*i].label, s.probs.clone())
            .with_context(|| format!("{}", ds.entries[*i].path.display()))?;
    }
    let summary = acc.summary(names);
    let times: Vec<eval::StageTimes> = run.scored.iter().flat_map(|(_, s)| s.times.iter().copied()).collect();
    let mut r = header(args, list, a, opts);
    r.insert("kind".into(), json!("clips"));
    let summary_json = serde_json::to_value(&summary)?;
    for (k, v) in summary_json.as_object().expect("a struct serialises to an object") {
        r.insert(k.clone(), v.clone());
    }
    let per_video: Vec<Value> = run
        .scored
        .iter()
        .zip(acc.video_predictions())
        .map(|((i, s), pred)| {
            let n = s.probs.len() as f32;
            let confidence = s.probs.iter().map(|p| p[pred]).sum::<f32>() / n;
            json!({"path": ds.entries[*i].path, "label": ds.entries[*i].label, "predicted": pred, "confidence": confidence, "clips": s.probs.len()})
        })
        .collect();
    r.insert("videos".into(), json!(per_video));
    r.insert("padded_clips".into(), json!(run.scored.iter().map(|(_, s)| s.padded).sum::<usize>()));
    r.insert("latency_ms".into(), serde_json::to_value(eval::summarize_latency(&times))?);
    r.insert("flow_engine".into(), json!(run.flow_engine));
    r.insert("seconds".into(), json!(run.seconds));
    r.insert("videos_per_s".into(), json!(run.scored.len() as f64 / run.seconds.max(1e-9)));
    r.insert("clips_per_s".into(), json!(summary.n_clips as f64 / run.seconds.max(1e-9)));
    r.insert("n_unreadable".into(), json!(run.skipped.len()));
    r.insert("unreadable".into(), serde_json::to_value(&run.skipped)?);
    r.insert("detection".into(), Value::Null);
    let compare = match b {
        None => Value::Null,
        Some(b) => {
            let run_b = run_one(b, "eval (compare)")?;
            let by_index: std::collections::HashMap<usize, &eval::VideoScores> =
                run_b.scored.iter().map(|(i, s)| (*i, s)).collect();
            let both: Vec<eval::VideoPair<'_>> = run
                .scored
                .iter()
                .filter_map(|(i, s)| by_index.get(i).map(|t| (ds.entries[*i].label, &s.probs[..], &t.probs[..])))
                .collect();
            let c = eval::compare(names.len(), &both, names)?;
            let times_b: Vec<eval::StageTimes> =
                run_b.scored.iter().flat_map(|(_, s)| s.times.iter().copied()).collect();
            let mut v = serde_json::to_value(&c)?;
            let o = v.as_object_mut().expect("object");
            o.insert("model".into(), json!(b.path));
            o.insert("latency_ms".into(), serde_json::to_value(eval::summarize_latency(&times_b))?);
            o.insert("n_unreadable".into(), json!(run_b.skipped.len()));
            v
        }
    };
    r.insert("compare".into(), compare);
    Ok(Value::Object(r))
}

fn run_long(
    args: &EvalArgs,
    list: &Path,
    root: &Path,
    a: &Model,
    b: Option<&Model>,
    opts: &RunOptions,
) -> anyhow::Result<Value> {
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
    let det = summarize(&run);
    let times: Vec<eval::StageTimes> = run.scored.iter().flat_map(|(_, s)| s.times.iter().copied()).collect();
    let mut r = header(args, list, a, opts);
    r.insert("kind".into(), json!("long"));
    r.insert("protocol".into(), json!("sliding windows"));
    r.insert("n_videos".into(), json!(run.scored.len()));
    r.insert("n_clips".into(), json!(det.windows));
    r.insert("clip_top1".into(), json!(det.window_top1));
    for k in ["video_top1", "video_top5", "mean_class_acc", "confusion"] {
        r.insert(k.into(), Value::Null);
    }
    r.insert("per_class".into(), json!([]));
    r.insert("window_span".into(), json!(run.window_span));
    r.insert("window_stride".into(), json!(run.window_stride));
    r.insert("latency_ms".into(), serde_json::to_value(eval::summarize_latency(&times))?);
    r.insert("flow_engine".into(), json!(run.flow_engine));
    r.insert("seconds".into(), json!(run.seconds));
    r.insert("videos_per_s".into(), json!(run.scored.len() as f64 / run.seconds.max(1e-9)));
    r.insert("clips_per_s".into(), json!(det.windows as f64 / run.seconds.max(1e-9)));
    r.insert("n_unreadable".into(), json!(run.skipped.len()));
    r.insert("unreadable".into(), serde_json::to_value(&run.skipped)?);
    r.insert("detection".into(), serde_json::to_value(&det)?);
    let compare = match b {
        None => Value::Null,
        Some(b) => {
            let run_b = run_one(b, "eval (compare)")?;
            let det_b = summarize(&run_b);
            json!({
                "model": b.path,
                "detection": det_b,
                "precision_diff": det_b.precision - det.precision,
                "recall_diff": det_b.recall - det.recall,
                "clip_top1_diff": det_b.window_top1 - det.window_top1,
            })
        }
    };
    r.insert("compare".into(), compare);
    Ok(Value::Object(r))
}

fn pct(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{:6.1} %", 100.0 * x))
}

/// The terminal table: headline metrics, latency per stage, per-class rows, comparison.
fn print_table(r: &Value) {
    println!(
        "{} on {} ({}, {} videos, {} clips, {} unreadable)",
        r["model"].as_str().unwrap_or("?"),
        r["data"].as_str().unwrap_or("?"),
        r["protocol"].as_str().unwrap_or("?"),
        r["n_videos"],
        r["n_clips"],
        r["n_unreadable"]
    );
    if r["kind"] == "long" {
        let d = &r["detection"];
        println!(
            "  detection (tIoU ≥ 0.5)  precision {}  recall {}  ({} of {} actions, {} detections)",
            pct(&d["precision"]),
            pct(&d["recall"]),
            d["matched"],
            d["ground_truth"],
            d["detections"]
        );
        println!(
            "  mean delay              {}",
            d["mean_delay_s"].as_f64().map_or("–".into(), |s| format!("{s:.2} s"))
        );
        println!("  window Hit@1            {}", pct(&r["clip_top1"]));
    } else {
        println!(
            "  clip Hit@1   {}    video Hit@1 {}    video Hit@5 {}    mean class acc {}",
            pct(&r["clip_top1"]),
            pct(&r["video_top1"]),
            pct(&r["video_top5"]),
            pct(&r["mean_class_acc"])
        );
    }
    println!("  latency per clip (ms)   p50      p95");
    for stage in ["decode", "preprocess", "flow", "inference", "total"] {
        let s = &r["latency_ms"][stage];
        println!(
            "    {stage:<12} {:>10.2} {:>8.2}",
            s["p50"].as_f64().unwrap_or(0.0),
            s["p95"].as_f64().unwrap_or(0.0)
        );
    }
    if let Some(rows) = r["per_class"].as_array().filter(|a| !a.is_empty()) {
        println!("  {:<16} {:>6} {:>9} {:>10}", "class", "videos", "recall", "precision");
        for c in rows {
            println!(
                "  {:<16} {:>6} {:>9} {:>10}",
                c["name"].as_str().unwrap_or("?"),
                c["support"].as_u64().unwrap_or(0),
                pct(&c["recall"]),
                pct(&c["precision"])
            );
        }
    }
    let c = &r["compare"];
    if c.is_object() {
        println!("  compared with {}:", c["model"].as_str().unwrap_or("?"));
        if r["kind"] == "long" {
            println!(
                "    precision {:+.1} pt, recall {:+.1} pt",
                100.0 * c["precision_diff"].as_f64().unwrap_or(0.0),
                100.0 * c["recall_diff"].as_f64().unwrap_or(0.0)
            );
        } else {
            println!("    top-1 agreement {} of videos, {} of clips", pct(&c["agreement"]), pct(&c["clip_agreement"]));
            println!(
                "    video Hit@1 {:+.1} pt, clip Hit@1 {:+.1} pt",
                100.0 * c["video_top1_diff"].as_f64().unwrap_or(0.0),
                100.0 * c["clip_top1_diff"].as_f64().unwrap_or(0.0)
            );
        }
    }
}
