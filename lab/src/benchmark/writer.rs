//! Writing a whole synthetic dataset: videos, `classInd.txt` and MMAction2 split lists.
//!
//! The layout is what the trainer and evaluator already read for real datasets, so the
//! synthetic benchmark exercises the same loading code. Every file is written under a
//! temporary name and renamed when complete, so an interrupted run never leaves a half video
//! that looks whole.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::dataset::ACTIONS_FILE;
use motus_core::frame::Frame;
use motus_core::media::frames_dir::{FramesDirWriter, ImageKind};
use motus_core::media::y4m::{Chroma, Y4mWriter};
use motus_core::media::{VideoReader, VideoWriter};
use motus_core::synth::classes::{BACKGROUND, CLASS_NAMES};
use motus_core::synth::scene_windows::{label_window, TAG_SCENES};
use motus_core::synth::{mix_seed, StorageFormat, SynthConfig, SynthError, SynthVideo};

/// What `write_dataset` produced, for the CLI's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSummary {
    /// Videos written (short clips, or long videos in long mode), scene windows excepted.
    pub videos: usize,
    /// Windows cut from continuous scenes (`SynthConfig::scenes`), listed with the clips.
    pub scene_windows: usize,
    /// Frames written over all videos.
    pub frames: u64,
    /// Videos in train, val and test, scene windows included.
    pub per_split: [usize; 3],
    /// Classes in `classInd.txt`.
    pub classes: usize,
}

const SPLIT_FILES: [&str; 3] = ["train.txt", "val.txt", "test.txt"];

/// Splits `n` items by `weights` with the largest-remainder rule, so the counts always add up
/// to `n` and follow the percentages as closely as whole numbers allow.
pub(crate) fn split_counts(n: usize, weights: [u32; 3]) -> [usize; 3] {
    let total: u64 = weights.iter().map(|&w| w as u64).sum();
    if total == 0 {
        return [0, 0, n];
    }
    let mut counts = [0usize; 3];
    let mut rems = [(0u128, 0usize); 3];
    for k in 0..3 {
        let q = n as u128 * weights[k] as u128;
        counts[k] = (q / total as u128) as usize;
        rems[k] = (q % total as u128, k);
    }
    let mut left = n - counts.iter().sum::<usize>();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, k) in rems.iter() {
        if left == 0 {
            break;
        }
        counts[k] += 1;
        left -= 1;
    }
    counts
}

/// Split of item `i` of `n`: the first `counts[0]` go to train, the next to val, the rest to
/// test. Items are independent draws, so a fixed order is as good as a shuffle and is
/// deterministic.
fn split_of(i: usize, counts: [usize; 3]) -> usize {
    if i < counts[0] {
        0
    } else if i < counts[0] + counts[1] {
        1
    } else {
        2
    }
}

fn create_dir(path: &Path) -> Result<(), SynthError> {
    std::fs::create_dir_all(path).map_err(|e| SynthError::io(path, e))
}

/// Writes `text` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, text: &str) -> Result<(), SynthError> {
    let tmp = tmp_path(path);
    std::fs::write(&tmp, text).map_err(|e| SynthError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SynthError::io(path, e))
}

/// `dir/.name.tmp`: hidden, and never matched by readers looking for `*.y4m` or `img_*`.
fn tmp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Opens a writer on the temporary name of `path` (a `.y4m` file or a frame folder); the
/// video appears under `path` only through [`commit`].
fn open_writer(
    path: &Path,
    format: StorageFormat,
    width: u32,
    height: u32,
    fps: f64,
) -> Result<Box<dyn VideoWriter>, SynthError> {
    let tmp = tmp_path(path);
    if tmp.is_dir() {
        std::fs::remove_dir_all(&tmp).map_err(|e| SynthError::io(&tmp, e))?;
    }
    Ok(match format {
        StorageFormat::Y4m => Box::new(Y4mWriter::create(&tmp, width, height, fps, Chroma::C420)?),
        StorageFormat::Frames => Box::new(FramesDirWriter::create(&tmp, ImageKind::Jpeg)?),
    })
}

/// Finishes `writer` and renames its temporary output to `path`, replacing what was there.
fn commit(writer: Box<dyn VideoWriter>, path: &Path) -> Result<(), SynthError> {
    writer.finish()?;
    if path.is_dir() {
        std::fs::remove_dir_all(path).map_err(|e| SynthError::io(path, e))?;
    }
    let tmp = tmp_path(path);
    std::fs::rename(&tmp, path).map_err(|e| SynthError::io(path, e))
}

/// Renders `video` to `path` (a `.y4m` file or a frame folder) and returns its frame count.
fn write_video(
    video: &mut SynthVideo,
    path: &Path,
    format: StorageFormat,
    frame: &mut Frame,
) -> Result<u64, SynthError> {
    let info = video.info();
    let mut writer = open_writer(path, format, info.width, info.height, info.fps)?;
    let mut n = 0u64;
    while video.read_into(frame)? {
        writer.write_frame(frame)?;
        n += 1;
    }
    commit(writer, path)?;
    Ok(n)
}

/// Where a dataset's lists and `actions.txt` are gathered while its videos are written.
struct Lists {
    splits: [String; 3],
    per_split: [usize; 3],
    actions: String,
}

impl Lists {
    /// Lists a labelled clip of `frames` frames in `split` (`path label` for a video file,
    /// `dir total_frames label` for a frame folder) and its action's frames in `actions.txt`.
    fn add_clip(
        &mut self,
        split: usize,
        rel: &str,
        format: StorageFormat,
        frames: u64,
        label: usize,
        action: Option<(u64, u64)>,
    ) {
        let _ = match format {
            StorageFormat::Y4m => writeln!(self.splits[split], "{rel} {label}"),
            StorageFormat::Frames => writeln!(self.splits[split], "{rel} {frames} {label}"),
        };
        if let Some((start, end)) = action {
            let _ = writeln!(self.actions, "{rel} {start} {end}");
        }
        self.per_split[split] += 1;
    }
}

/// A class's folder under the dataset (`videos/<class>` or `rawframes/<class>`) and the path,
/// relative to the dataset, of its clip `stem`.
fn clip_paths(out: &Path, format: StorageFormat, class: &str, stem: &str) -> (PathBuf, String) {
    match format {
        StorageFormat::Y4m => (out.join("videos").join(class), format!("videos/{class}/{stem}.y4m")),
        StorageFormat::Frames => (out.join("rawframes").join(class), format!("rawframes/{class}/{stem}")),
    }
}

/// Renders `cfg.scenes` endless scenes and writes their labelled windows (see
/// [`super::scene_windows::label_windows`]) as `videos/<class>/scene<nnnn>_<first frame>.y4m` (or rawframes
/// folders), listed like clips. A scene's windows all go to one split, so no split shares
/// frames with another. Returns the windows and frames written.
fn write_scene_windows(
    cfg: &SynthConfig,
    out: &Path,
    lists: &mut Lists,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(usize, u64), SynthError> {
    let counts = split_counts(cfg.scenes, cfg.splits);
    let window = cfg.scene_window as u64;
    let scene_frames = cfg.scene_frames();
    let (mut windows, mut frames_total) = (0usize, 0u64);
    // Memory stays at one window of frames whatever the scene's length and size.
    let stride = (window / 2).max(1);
    for class in CLASS_NAMES {
        create_dir(&clip_paths(out, cfg.format, class, "").0)?;
    }
    for i in 0..cfg.scenes {
        let mut scene =
            SynthVideo::endless(cfg.width, cfg.height, cfg.fps, mix_seed(&[cfg.seed, TAG_SCENES, i as u64]));
        let split = split_of(i, counts);
        // The last `window` frames, oldest first; their buffers are reused as the scene moves on.
        let mut recent: VecDeque<Frame> = VecDeque::with_capacity(window as usize);
        for f in 0..scene_frames {
            let mut frame = if recent.len() == window as usize {
                recent.pop_front().expect("full")
            } else {
                Frame::new(cfg.width, cfg.height)
            };
            scene.read_into(&mut frame)?;
            recent.push_back(frame);
            // Frame `f` closes the window that starts `window - 1` frames earlier; every
            // segment begun by then is in the ground truth already.
            let Some(start) = (f + 1).checked_sub(window) else { continue };
            if start % stride != 0 {
                continue;
            }
            let Some(w) = label_window(&scene.ground_truth().segments, start, window) else { continue };
            let (_, rel) = clip_paths(out, cfg.format, CLASS_NAMES[w.label], &format!("scene{i:04}_{start:06}"));
            let path = out.join(&rel);
            let mut writer = open_writer(&path, cfg.format, cfg.width, cfg.height, cfg.fps)?;
            for frame in &recent {
                writer.write_frame(frame)?;
            }
            commit(writer, &path)?;
            lists.add_clip(split, &rel, cfg.format, window, w.label, Some(w.span));
            windows += 1;
            frames_total += window;
        }
        progress(i + 1, cfg.scenes);
    }
    Ok((windows, frames_total))
}

fn class_index_text() -> String {
    CLASS_NAMES.iter().enumerate().fold(String::new(), |mut s, (i, n)| {
        let _ = writeln!(s, "{} {n}", i + 1);
        s
    })
}

/// Writes a dataset under `out` and reports `progress(done, total)` after each video.
///
/// Short mode: `cfg.videos_per_class` clips per class as `videos/<class>/<class>_<nnnn>.y4m`
/// (or `rawframes/<class>/<class>_<nnnn>/img_00001.jpg …`), `classInd.txt` (`1 idle`, …) and
/// `train.txt`/`val.txt`/`test.txt` with paths relative to `out`: `path label` for videos,
/// `dir total_frames label` for rawframes (labels 0-based). Splits are per class. `actions.txt`
/// gives each clip's action frames (`path start end`, the whole clip for `idle`), so training
/// windows can stay on the action rather than its idle lead and tail (see
/// [`crate::dataset::actions`]).
///
/// With `cfg.scenes`, windows of `cfg.scene_window` frames cut from that many continuous
/// scenes follow the clips in the same lists and `actions.txt` (see `write_scene_windows`).
///
/// Long mode (`cfg.long`): `cfg.videos_per_class` is the number of long videos, written as
/// `long/long_<nnnn>.y4m` (or frame folders) with `long/long_<nnnn>.json` ground truth, and the
/// split lists hold one relative video path per line.
pub fn write_dataset(
    cfg: &SynthConfig,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SynthSummary, SynthError> {
    cfg.validate()?;
    create_dir(out)?;
    write_atomic(&out.join("classInd.txt"), &class_index_text())?;
    let mut lists = Lists { splits: Default::default(), per_split: [0; 3], actions: String::new() };
    let mut scene_windows = 0;
    let mut frames_total = 0u64;
    let mut frame = Frame::new(cfg.width, cfg.height);
    let n = cfg.videos_per_class;
    let counts = split_counts(n, cfg.splits);
    let videos = if cfg.long {
        let dir = out.join("long");
        create_dir(&dir)?;
        for i in 0..n {
            let stem = format!("long_{i:04}");
            let mut video = SynthVideo::long(cfg, i as u64)?;
            let (rel, path) = match cfg.format {
                StorageFormat::Y4m => (format!("long/{stem}.y4m"), dir.join(format!("{stem}.y4m"))),
                StorageFormat::Frames => (format!("long/{stem}"), dir.join(&stem)),
            };
            frames_total += write_video(&mut video, &path, cfg.format, &mut frame)?;
            let gt_path = dir.join(format!("{stem}.json"));
            let tmp = tmp_path(&gt_path);
            video.ground_truth().save(&tmp)?;
            std::fs::rename(&tmp, &gt_path).map_err(|e| SynthError::io(&gt_path, e))?;
            let split = split_of(i, counts);
            let _ = writeln!(lists.splits[split], "{rel}");
            lists.per_split[split] += 1;
            progress(i + 1, n);
        }
        n
    } else {
        let per_class = |c: usize| if c == BACKGROUND { cfg.background_videos.unwrap_or(n) } else { n };
        let total = (0..CLASS_NAMES.len()).map(per_class).sum();
        let mut done = 0;
        for (c, name) in CLASS_NAMES.iter().enumerate() {
            create_dir(&clip_paths(out, cfg.format, name, "").0)?;
            let n = per_class(c);
            let counts = split_counts(n, cfg.splits);
            for i in 0..n {
                let (_, rel) = clip_paths(out, cfg.format, name, &format!("{name}_{i:04}"));
                let mut video = SynthVideo::new(cfg, c, i as u64)?;
                let written = write_video(&mut video, &out.join(&rel), cfg.format, &mut frame)?;
                frames_total += written;
                let action = video.ground_truth().segments.first().map(|a| (a.start_frame, a.end_frame));
                lists.add_clip(split_of(i, counts), &rel, cfg.format, written, c, action);
                done += 1;
                progress(done, total);
            }
        }
        if cfg.scenes > 0 {
            let (windows, frames) = write_scene_windows(cfg, out, &mut lists, progress)?;
            scene_windows = windows;
            frames_total += frames;
        }
        write_atomic(&out.join(ACTIONS_FILE), &lists.actions)?;
        total
    };
    for (file, text) in SPLIT_FILES.iter().zip(lists.splits.iter()) {
        write_atomic(&out.join(file), text)?;
    }
    Ok(SynthSummary {
        videos,
        scene_windows,
        frames: frames_total,
        per_split: lists.per_split,
        classes: CLASS_NAMES.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_counts_add_up() {
        assert_eq!(split_counts(10, [70, 15, 15]), [7, 2, 1]);
        assert_eq!(split_counts(2, [70, 15, 15]), [2, 0, 0]);
        assert_eq!(split_counts(5, [0, 0, 100]), [0, 0, 5]);
        assert_eq!(split_counts(3, [1, 1, 1]), [1, 1, 1]);
        for n in 0..40 {
            for w in [[70, 15, 15], [1, 2, 3], [u32::MAX, u32::MAX, 1], [0, 1, 0]] {
                assert_eq!(split_counts(n, w).iter().sum::<usize>(), n);
            }
        }
    }
}
