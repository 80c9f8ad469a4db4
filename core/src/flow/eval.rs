//! Middlebury evaluation: end-point error of a flow engine on the public sequences with ground
//! truth, plus timing — the number that says whether a parameter change helped.

use super::{flo::read_flo, FlowEngine, FlowError};
use crate::frame::Frame;
use std::path::Path;
use std::time::Instant;

/// Result of [`evaluate_middlebury`]: per-sequence mean EPE (valid pixels only), their mean,
/// and the median wall time per pair (flow only, excluding file loading).
#[derive(Debug, Clone, PartialEq)]
pub struct MiddleburyReport {
    /// `(sequence name, mean EPE over its valid pixels)`, sorted by name.
    pub per_sequence: Vec<(String, f64)>,
    /// Mean of the per-sequence EPEs (each sequence weighs the same, as in the literature).
    pub mean_epe: f64,
    /// Median of the per-pair flow times in milliseconds.
    pub ms_per_pair_median: f64,
}

/// Loads an image file as a frame (RGB8), naming the file on failure.
pub fn load_frame(path: &Path) -> Result<Frame, FlowError> {
    let img = image::open(path).map_err(|e| FlowError::Image { path: path.to_path_buf(), message: e.to_string() })?;
    Ok(Frame::from_image(img.to_rgb8()))
}

/// Evaluates `engine` on every sub-folder of `dir` holding `frame10.png`, `frame11.png` and
/// `flow10.flo` (sorted by name). The engine converts to grayscale itself (TV-L1: BT.601
/// luma). Fails when no such sequence exists, so a missing data set cannot pass as "no error".
pub fn evaluate_middlebury(dir: &Path, engine: &mut dyn FlowEngine) -> Result<MiddleburyReport, FlowError> {
    evaluate_sequences(dir, None, engine)
}

/// Like [`evaluate_middlebury`] restricted to the named sequences (all when `None`); a named
/// sequence that is missing is an error, so a quick check cannot silently shrink.
pub fn evaluate_sequences(
    dir: &Path,
    only: Option<&[&str]>,
    engine: &mut dyn FlowEngine,
) -> Result<MiddleburyReport, FlowError> {
    if let Some(names) = only {
        for n in names {
            let p = dir.join(n).join("flow10.flo");
            if !p.is_file() {
                return Err(FlowError::Io {
                    path: p,
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "sequence missing"),
                });
            }
        }
    }
    let rd = std::fs::read_dir(dir).map_err(|source| FlowError::Io { path: dir.to_path_buf(), source })?;
    let mut seqs: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| only.is_none_or(|names| names.iter().any(|n| p.file_name().is_some_and(|f| f == *n))))
        .filter(|p| {
            p.join("frame10.png").is_file() && p.join("frame11.png").is_file() && p.join("flow10.flo").is_file()
        })
        .collect();
    seqs.sort();
    if seqs.is_empty() {
        return Err(FlowError::NoSequences(dir.to_path_buf()));
    }
    let mut per_sequence = Vec::new();
    let mut times = Vec::new();
    for s in &seqs {
        let a = load_frame(&s.join("frame10.png"))?;
        let b = load_frame(&s.join("frame11.png"))?;
        let truth = read_flo(s.join("flow10.flo"))?;
        let t0 = Instant::now();
        let est = engine.compute(&a, &b)?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        let epe = est.epe(&truth).ok_or_else(|| {
            FlowError::BadField(format!(
                "{}: ground truth {}x{} does not match frames {}x{} or has no valid pixel",
                s.display(),
                truth.width,
                truth.height,
                a.width,
                a.height
            ))
        })?;
        per_sequence.push((s.file_name().unwrap_or_default().to_string_lossy().into_owned(), epe));
    }
    times.sort_by(f64::total_cmp);
    let mean_epe = per_sequence.iter().map(|(_, e)| e).sum::<f64>() / per_sequence.len() as f64;
    Ok(MiddleburyReport { per_sequence, mean_epe, ms_per_pair_median: times[times.len() / 2] })
}
