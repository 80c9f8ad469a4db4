//! `motus quant`: calibrated post-training int8 quantization of a float model, with the
//! accuracy guard, writing the int8 model with its card (method, calibration set, float and
//! int8 accuracy).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use motus_lab::eval::{self, RunOptions};
use motus_lab::quantize::guard::GuardReport;
use motus_lab::quantize::{self, clips, ClipSet, Described, QuantConfig};
use motus_models::card::FloatNode;
use motus_quant::{Format, ObserverKind};
use serde::Serialize;

use super::eval::{open_dataset, resolve_list, Model};
use motus_core::progress::Progress;

#[derive(Debug, Args)]
pub struct QuantArgs {
    /// The float ONNX model (card embedded, in `<model>.card.toml`, or given with --card).
    #[arg(long)]
    model: PathBuf,
    /// Calibration list (MMAction2 list or dataset folder, as for `motus eval`); not needed for
    /// `--format weights`.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Where to write the int8 model.
    #[arg(long)]
    out: PathBuf,
    /// The int8 form.
    #[arg(long, default_value = "qoperator")]
    format: Format,
    /// Activation observer: `minmax`, `percentile[=P]` (default P 99.99) or `entropy`. The
    /// default, percentile, kept every layer of the bundled model in int8 within budget where
    /// min-max needed the flow stem in float (docs/quant.md).
    #[arg(long, default_value = "percentile")]
    observer: ObserverKind,
    /// Calibration clips: one centred clip from each of this many videos spread over the list.
    #[arg(long, default_value_t = 64)]
    calib_clips: usize,
    /// Validation list for the accuracy guard (float and int8 scored on the same clips).
    #[arg(long)]
    val: Option<PathBuf>,
    /// Test protocol for the validation clips (`center` or `clips=N[,crops=3]`).
    #[arg(long, default_value = "center")]
    val_protocol: String,
    /// Largest allowed video Hit@1 drop on --val, in points; the most sensitive layers are kept
    /// in float until the drop is within it.
    #[arg(long, default_value_t = 1.0)]
    max_drop: f64,
    /// Layers (node names) to keep in float from the start, comma-separated.
    #[arg(long, value_delimiter = ',')]
    keep_float: Vec<String>,
    /// Card (TOML) for a model exported by another tool.
    #[arg(long)]
    card: Option<PathBuf>,
    /// Threads building clips (flow) and scoring them (default: cores, at most 4).
    #[arg(long)]
    workers: Option<usize>,
    /// Also write the calibration and validation clips as NumPy files into DIR/calib and
    /// DIR/val (for onnxruntime's quantizer and the cross-check scripts).
    #[arg(long, value_name = "DIR")]
    dump_clips: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

fn load_clips(
    what: &str,
    list_arg: &Path,
    model: &Model,
    n: Option<usize>,
    protocol: &str,
    opts: &RunOptions,
) -> anyhow::Result<(ClipSet, String)> {
    let (list, root) = resolve_list(list_arg)?;
    let ds = open_dataset(&list, &root, model)?;
    let entries = match n {
        Some(n) => clips::spread(ds.entries.len(), n),
        None => (0..ds.entries.len()).collect(),
    };
    let sampler = eval::parse_protocol(protocol)?;
    let mut progress = Progress::new(&format!("{what} clips"));
    let set = quantize::clips::collect(&model.card, &ds, &entries, &sampler, opts, &mut |d, t| progress.update(d, t))?;
    for s in &set.skipped {
        eprintln!("unreadable (skipped): {} (line {}): {}", s.path.display(), s.line, s.error);
    }
    let desc = format!(
        "{} ({} clips from {} of its {} videos, protocol {protocol})",
        list.display(),
        set.clips.len(),
        set.videos(),
        ds.entries.len()
    );
    Ok((set, desc))
}

pub fn run(args: QuantArgs) -> anyhow::Result<()> {
    check_args(&args)?;
    let (card, origin, _, float_bytes) = super::info::load_card(&args.model, args.card.as_deref())?;
    super::eval::warn_without_rate(&args.model, &card);
    let model = Model { path: args.model.clone(), card: card.clone(), origin };
    let workers = super::eval::workers(args.workers);
    let opts = RunOptions { workers, flow_backend: motus_core::flow::Backend::Cpu, flow_threads: 1 };
    // Refuse an already-quantized or unreadable model before spending minutes on flow.
    let proto = motus_models::read_model(&float_bytes)?;
    let analysis = motus_quant::analyze(&proto).with_context(|| args.model.display().to_string())?;
    let calib = match (&args.calib, args.format) {
        (Some(c), _) => Some(load_clips("calibration", c, &model, Some(args.calib_clips), "center", &opts)?),
        (None, Format::Weights) => None,
        (None, _) => bail!(
            "--calib LIST is needed for --format {}: activation ranges come from calibration clips",
            args.format.name()
        ),
    };
    let val = match &args.val {
        Some(v) => Some(load_clips("validation", v, &model, None, &args.val_protocol, &opts)?),
        None => {
            eprintln!("warning: no --val list: accuracy is not checked and the card records none");
            None
        }
    };
    if let Some(dir) = &args.dump_clips {
        dump_clips(dir, calib.as_ref().map(|c| &c.0), val.as_ref().map(|v| &v.0))?;
    }
    let cfg = QuantConfig {
        format: args.format,
        observer: args.observer,
        max_drop: args.val.as_ref().map(|_| args.max_drop),
        keep_float: args.keep_float.iter().cloned().collect::<BTreeSet<_>>(),
        workers,
    };
    for f in &analysis.float_nodes {
        eprintln!("left in float: {} ({}): {}", f.node, f.op, f.reason);
    }
    let out = quantize::quantize_model(
        &float_bytes,
        if origin == "embedded" { None } else { Some(card.clone()) },
        calib.as_ref().map(|(c, d)| Described { clips: c, description: d.clone() }),
        val.as_ref().map(|(c, d)| Described { clips: c, description: d.clone() }),
        &cfg,
        &mut |line| eprintln!("{line}"),
    )?;
    motus_core::atomic::write_atomic(&args.out, &out.bytes)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let rec = out.card.quantization.as_ref().expect("quantize_model writes the record");
    let ratio = out.bytes.len() as f64 / float_bytes.len() as f64;
    let report = QuantReport {
        model: &args.model,
        out: &args.out,
        format: args.format.name(),
        observer: &rec.observer,
        scheme: &rec.scheme,
        calibration: &rec.calibration,
        float_bytes: float_bytes.len(),
        int8_bytes: out.bytes.len(),
        size_ratio: ratio,
        quantized_nodes: &rec.quantized_nodes,
        float_nodes: &rec.float_nodes,
        unhandled_ops: &out.analysis.unhandled_ops,
        guard: out.guard.as_ref(),
    };
    if args.json {
        super::print_json(&report);
    } else {
        print_summary(&args, &out, float_bytes.len());
    }
    if let Some(g) = &out.guard {
        if !g.within_budget {
            bail!("the int8 model loses {:.2} points of video Hit@1 (budget {:.2}) even with every sensitive layer in float; it was written to {} for inspection", g.drop_points, args.max_drop, args.out.display());
        }
    }
    Ok(())
}

/// `motus quant`'s report (the `--json` contract): what was quantized, what stayed float and
/// why, and the accuracy guard's measurements.
#[derive(Debug, Serialize)]
struct QuantReport<'a> {
    model: &'a Path,
    out: &'a Path,
    format: &'static str,
    observer: &'a str,
    scheme: &'a str,
    calibration: &'a str,
    float_bytes: usize,
    int8_bytes: usize,
    size_ratio: f64,
    quantized_nodes: &'a [String],
    float_nodes: &'a [FloatNode],
    unhandled_ops: &'a BTreeSet<String>,
    guard: Option<&'a GuardReport>,
}

/// Refuses settings that cannot work before any clip is built.
fn check_args(args: &QuantArgs) -> anyhow::Result<()> {
    if args.max_drop.is_nan() || args.max_drop < 0.0 {
        bail!("--max-drop must be a number of points ≥ 0, got {}", args.max_drop);
    }
    if args.calib_clips == 0 {
        bail!("--calib-clips must be at least 1: an empty calibration set gives no activation ranges");
    }
    Ok(())
}

/// `--dump-clips DIR`: the calibration and validation clips as `.npy` for the Python peers.
fn dump_clips(dir: &Path, calib: Option<&ClipSet>, val: Option<&ClipSet>) -> anyhow::Result<()> {
    for (name, set) in [("calib", calib), ("val", val)] {
        if let Some(set) = set {
            quantize::npy::write_clip_set(&dir.join(name), set)
                .with_context(|| format!("writing clips to {}", dir.display()))?;
        }
    }
    Ok(())
}

/// The text summary (without `--json`): sizes, calibration, what is int8 and what stayed
/// float, and the accuracy guard's figures.
fn print_summary(args: &QuantArgs, out: &quantize::Outcome, float_len: usize) {
    let rec = out.card.quantization.as_ref().expect("quantize_model writes the record");
    let ratio = out.bytes.len() as f64 / float_len as f64;
    println!("wrote {} ({} int8, observer {})", args.out.display(), args.format.name(), rec.observer);
    println!("  size         {} → {} bytes ({:.1}% of float)", float_len, out.bytes.len(), 100.0 * ratio);
    println!("  calibration  {}", rec.calibration);
    println!("  int8 nodes   {} of {} candidates", rec.quantized_nodes.len(), out.analysis.candidates.len());
    for f in &rec.float_nodes {
        println!("  float        {} ({}): {}", f.node, f.op, f.reason);
    }
    if let Some(g) = &out.guard {
        println!(
            "  accuracy     video Hit@1 float {:.2}%, int8 {:.2}% (drop {:.2} points, budget {:.2}) on {} videos / {} clips",
            100.0 * g.float.video_top1,
            100.0 * g.int8.video_top1,
            g.drop_points,
            args.max_drop,
            g.int8.n_videos,
            g.int8.n_clips
        );
    }
}
