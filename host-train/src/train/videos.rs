//! Loading a dataset split for training: decode every video once, resize its frames to the
//! card's short side, make sure its flow is in the extraction cache (computing what is
//! missing, in parallel), and keep both in memory for the epochs to come.
//!
//! Videos that cannot be read are skipped, logged and counted (never silently); videos shorter
//! than a clip are kept and padded by the sampler, and counted.

use super::data::{quantise_field, VideoData};
use anyhow::Context;
use motus_core::flow::store::{self, Extraction};
use motus_core::flow::{FlowConfig, TvL1Cpu};
use motus_core::frame::Frame;
use motus_core::preprocess::{resize_short_side, Resampler};
use motus_lab::dataset::{ActionSpans, Dataset, VideoEntry};
use motus_lab::eval::parallel::par_map;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What loading a split found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    pub split: String,
    pub videos: usize,
    pub loaded: usize,
    /// `(path, error)` of each video that could not be read; they are left out of training.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Videos shorter than one clip window (padded by repeating their last frame).
    pub short: usize,
    /// Flow folders computed now (the rest came from the cache).
    pub flow_extracted: usize,
    /// Videos whose action frames the dataset's `actions.txt` gives.
    pub action_spans: usize,
    pub bytes: usize,
    /// The distinct frame rates of the loaded videos (as their containers state them; frame
    /// folders state 25), ascending.
    pub rates: Vec<f64>,
}

/// Where a video's flow lives in the cache: `cache/<settings hash>/<path relative to root>`.
pub fn flow_dir(cache: &Path, config: &Extraction, root: &Path, video: &Path) -> PathBuf {
    let key = serde_json::to_string(config).expect("extraction settings serialise");
    let hash = &motus_core::digest::sha256_hex(key.as_bytes())[..12];
    store::folder_for(&cache.join(format!("tvl1-{hash}")), root, video)
}

/// One loaded video, whether it is shorter than a window, and whether its flow was computed
/// now (rather than read from the cache).
struct Loaded {
    video: VideoData,
    short: bool,
    extracted: bool,
    fps: f64,
}

fn load_one(
    ds: &Dataset,
    entry: &VideoEntry,
    resize_short: u32,
    flow: Option<(&FlowConfig, &Extraction, &Path)>,
    window_len: usize,
    action: Option<(u64, u64)>,
) -> anyhow::Result<Loaded> {
    let mut reader = ds.open_entry(entry)?;
    let fps = reader.info().fps;
    let raw = reader.read_all()?;
    drop(reader);
    anyhow::ensure!(!raw.is_empty(), "no frames");
    let (w, h) = (raw[0].width, raw[0].height);
    let target = resize_short_side(w, h, resize_short);
    let frames: Vec<Frame> = if target == (w, h) {
        raw
    } else {
        let mut r = Resampler::new((w, h), target)?;
        raw.iter()
            .map(|f| {
                let mut out = Frame::new(target.0, target.1);
                r.resize(f, &mut out).map(|_| out)
            })
            .collect::<Result<_, _>>()?
    };
    let short = frames.len() < window_len;
    let mut video = VideoData { label: entry.label, frames, flow: Vec::new(), flow_bound: 0.0, action };
    let mut extracted = false;
    if let Some((cfg, extraction, cache)) = flow {
        let dir = flow_dir(cache, extraction, &ds.root, &entry.path);
        if !store::is_complete(&dir, extraction, &entry.path) {
            let mut engine = TvL1Cpu::new(cfg.params.clone(), 1)?;
            let mut reader = ds.open_entry(entry)?;
            store::extract_video(reader.as_mut(), &mut engine, extraction, &dir, &entry.path)?;
            extracted = true;
        }
        let (meta, fields) = store::read_folder(&dir)?;
        anyhow::ensure!(
            (meta.width, meta.height) == target,
            "cached flow is {}x{}, frames are {}x{}",
            meta.width,
            meta.height,
            target.0,
            target.1
        );
        video.flow_bound = meta.config.bound;
        video.flow = fields.iter().map(|f| quantise_field(&f.u, &f.v, meta.config.bound)).collect();
    }
    Ok(Loaded { video, short, extracted, fps })
}

/// Two container rates that name the same camera rate (29.97 and 30 do; 25 and 30 do not).
fn same_rate(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.005 * a.max(b)
}

/// Adds `fps` to a list of distinct rates unless a rate it names the same is there.
fn add_rate(rates: &mut Vec<f64>, fps: f64) {
    if !rates.iter().any(|r| same_rate(*r, fps)) {
        rates.push(fps);
    }
}

/// The one frame rate of a run's training data, which its card records: the trainer samples
/// consecutive frames, so a model is trained at its videos' rate, and every video must have
/// the same one. Picking frames by time in the trainer (for mixed rates) is not done yet.
pub fn training_rate(reports: &[&LoadReport]) -> anyhow::Result<f64> {
    let mut rates: Vec<f64> = Vec::new();
    for &r in reports.iter().flat_map(|r| &r.rates) {
        add_rate(&mut rates, r);
    }
    match rates.as_slice() {
        [one] => motus_models::check_fps(*one).map_err(|e| anyhow::anyhow!("the training videos' frame rate: {e}")),
        [] => anyhow::bail!("no video was loaded, so the training frame rate is unknown"),
        many => {
            let list: Vec<String> = many.iter().map(|r| format!("{r:.3}")).collect();
            anyhow::bail!(
                "the videos come at several frame rates ({} fps): a model is trained at one rate, which its card records; re-encode them to one (ffmpeg -i IN -vf fps=30 OUT)",
                list.join(", ")
            )
        }
    }
}

/// How a run loads its splits: the settings all of them share.
#[derive(Debug, Clone, Copy)]
pub struct LoadSettings<'a> {
    /// Frames are resized to this short side (the card's).
    pub resize_short: u32,
    /// The flow settings of the model and the cache folder; the cache stores flow with the
    /// model's bound at its resize. `None` for RGB-only models.
    pub flow: Option<(&'a FlowConfig, &'a Path)>,
    /// Frames per clip window: shorter videos are counted as short.
    pub window_len: usize,
    /// The dataset's action frames (`actions.txt`), read once by the caller for all splits.
    pub spans: Option<&'a ActionSpans>,
    /// Loading threads.
    pub threads: usize,
}

/// Loads every video of `ds` with `settings`, showing progress as `progress_label`.
pub fn load_split(
    ds: &Dataset,
    split: &str,
    settings: LoadSettings<'_>,
    progress_label: &str,
) -> anyhow::Result<(Vec<VideoData>, LoadReport)> {
    let LoadSettings { resize_short, flow, window_len, spans, threads } = settings;
    anyhow::ensure!(!ds.entries.is_empty(), "the {split} split has no videos");
    let extraction = flow.map(|(cfg, _)| Extraction {
        algorithm: cfg.algorithm.clone(),
        params: cfg.params.clone(),
        bound: cfg.bound,
        resize_short: Some(resize_short),
    });
    let flow_args = match (flow, &extraction) {
        (Some((cfg, cache)), Some(ex)) => Some((cfg, ex, cache)),
        _ => None,
    };
    let mut progress = motus_core::progress::Progress::new(progress_label);
    let results = par_map(
        ds.entries.len(),
        threads,
        || Ok::<(), std::convert::Infallible>(()),
        |_, i| {
            let entry = &ds.entries[i];
            let action = spans.and_then(|s| s.get(&entry.path));
            load_one(ds, entry, resize_short, flow_args, window_len, action)
                .with_context(|| format!("{}", entry.path.display()))
        },
        &mut |done, total| progress.update(done, total),
    )
    .unwrap_or_else(|never| match never {});
    let mut report = LoadReport { split: split.into(), videos: ds.entries.len(), ..Default::default() };
    let mut videos = Vec::new();
    for (entry, r) in ds.entries.iter().zip(results) {
        match r {
            Ok(Loaded { video, short, extracted, fps }) => {
                add_rate(&mut report.rates, fps);
                report.short += short as usize;
                report.flow_extracted += extracted as usize;
                report.action_spans += video.action.is_some() as usize;
                report.bytes += video.bytes();
                videos.push(video);
            }
            Err(e) => {
                log::warn!("skipping unreadable video: {e:#}");
                report.unreadable.push((entry.path.clone(), format!("{e:#}")));
            }
        }
    }
    report.rates.sort_by(f64::total_cmp);
    report.loaded = videos.len();
    anyhow::ensure!(!videos.is_empty(), "none of the {} videos of the {split} split could be read", ds.entries.len());
    if report.short > 0 {
        log::warn!("{split}: {} of {} videos are shorter than one {window_len}-frame window; their clips repeat the last frame", report.short, report.loaded);
    }
    Ok((videos, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rates: &[f64]) -> LoadReport {
        LoadReport { rates: rates.to_vec(), ..Default::default() }
    }

    #[test]
    fn one_rate_is_recorded_and_mixed_rates_are_refused() {
        assert_eq!(training_rate(&[&report(&[30.0]), &report(&[29.97])]).unwrap(), 30.0, "29.97 is 30 for a camera");
        let e = training_rate(&[&report(&[12.5]), &report(&[30.0])]).unwrap_err().to_string();
        assert!(e.contains("12.500, 30.000 fps") && e.contains("re-encode"), "{e}");
        assert!(training_rate(&[&report(&[])]).unwrap_err().to_string().contains("unknown"));
        assert!(training_rate(&[&report(&[0.0])]).unwrap_err().to_string().contains("fps"));
    }
}
