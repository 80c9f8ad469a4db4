//! On-disk flow for training: one folder per video, each field stored as two 8-bit PNGs
//! (`x_00001.png`, `y_00001.png` — the denseflow layout, lossless instead of JPEG) and a
//! `flow.json` recording the settings and the bound used for quantisation.
//!
//! TV-L1 at training resolution costs far more than a training step, so datasets are
//! extracted once (`motus flow extract`) and read back every epoch. The u8 encoding with a
//! recorded bound is exactly the encoding models consume, so nothing is lost that a model
//! would see. A folder is written under a temporary name and renamed when complete: an
//! interrupted extraction never leaves a folder that looks finished.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::encode::{from_u8, to_u8};
use super::{FlowError, FlowField, TvL1Params};

/// Name of the metadata file inside a video's flow folder.
pub const META_FILE: &str = "flow.json";

/// How the fields of an extraction were made: everything that, if changed, makes a stored
/// folder stale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    /// Algorithm name (`"tvl1"`).
    pub algorithm: String,
    /// Its parameters.
    pub params: TvL1Params,
    /// Quantisation bound: values are clipped to ±bound pixels and stored as u8.
    pub bound: f32,
    /// Short side frames were resized to before flow (`None`: native size).
    pub resize_short: Option<u32>,
}

/// What a flow folder holds and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowMeta {
    /// Settings the fields were computed and quantised with.
    pub config: Extraction,
    /// Field width in pixels.
    pub width: u32,
    /// Field height in pixels.
    pub height: u32,
    /// Number of fields: one per consecutive frame pair.
    pub fields: u64,
    /// The video the flow was computed from (as given to the extractor).
    pub source: PathBuf,
    /// The video's size and modification time when it was extracted: a video regenerated or
    /// replaced under the same path makes its folder stale. Folders written before the stamp
    /// existed have none and are redone once.
    #[serde(default)]
    pub source_stamp: Option<SourceStamp>,
}

/// Identifies one version of a file on disk, as `make` does: its length and modification time.
/// Cheap enough to check for every video of a dataset at each training start, unlike a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStamp {
    /// File length in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: u64,
}

impl SourceStamp {
    /// The stamp of `path` now; `None` when it cannot be read (then no folder counts as
    /// complete for it).
    pub fn of(path: &Path) -> Option<SourceStamp> {
        let meta = std::fs::metadata(path).ok()?;
        let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(SourceStamp { len: meta.len(), modified_ns: u64::try_from(modified.as_nanos()).ok()? })
    }
}

fn io(path: &Path, source: std::io::Error) -> FlowError {
    FlowError::Io { path: path.to_path_buf(), source }
}

/// Reads a folder's metadata; `Ok(None)` when the folder has none (not extracted yet).
pub fn read_meta(dir: &Path) -> Result<Option<FlowMeta>, FlowError> {
    let path = dir.join(META_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text).map(Some).map_err(|e| FlowError::BadField(format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path, e)),
    }
}

/// True when `dir` holds a finished extraction made with exactly `config` from the current
/// version of `source` (resumable runs skip it; other settings, or a video rewritten since,
/// redo it).
pub fn is_complete(dir: &Path, config: &Extraction, source: &Path) -> bool {
    let Some(now) = SourceStamp::of(source) else { return false };
    matches!(read_meta(dir), Ok(Some(meta)) if meta.config == *config && meta.source_stamp == Some(now))
}

/// Writes the fields of one video into `dir` (replacing any previous content) atomically.
pub struct FlowFolderWriter {
    dir: PathBuf,
    tmp: PathBuf,
    config: Extraction,
    size: Option<(u32, u32)>,
    written: u64,
    plane: Vec<u8>,
}

impl FlowFolderWriter {
    /// Starts writing into a temporary sibling of `dir`.
    pub fn create(dir: &Path, config: Extraction) -> Result<Self, FlowError> {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("flow");
        let tmp = dir.with_file_name(format!(".{name}.partial"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        Ok(FlowFolderWriter { dir: dir.to_path_buf(), tmp, config, size: None, written: 0, plane: Vec::new() })
    }

    /// Appends one field (quantised to u8 with the config's bound).
    pub fn push(&mut self, field: &FlowField) -> Result<(), FlowError> {
        let size = *self.size.get_or_insert((field.width, field.height));
        if size != (field.width, field.height) {
            return Err(FlowError::SizeMismatch(size.0, size.1, field.width, field.height));
        }
        let index = self.written + 1;
        for (axis, values) in [("x", &field.u), ("y", &field.v)] {
            self.plane.clear();
            self.plane.extend(values.iter().map(|&x| to_u8(x, self.config.bound)));
            let path = self.tmp.join(format!("{axis}_{index:05}.png"));
            image::save_buffer(&path, &self.plane, field.width, field.height, image::ExtendedColorType::L8)
                .map_err(|e| FlowError::Image { path: path.clone(), message: e.to_string() })?;
        }
        self.written += 1;
        Ok(())
    }

    /// Writes the metadata (with `source`'s stamp, taken before its frames were read) and
    /// moves the folder into place.
    pub fn finish(self, source: &Path, source_stamp: Option<SourceStamp>) -> Result<FlowMeta, FlowError> {
        let (width, height) = self.size.unwrap_or((0, 0));
        let meta = FlowMeta {
            config: self.config,
            width,
            height,
            fields: self.written,
            source: source.to_path_buf(),
            source_stamp,
        };
        let meta_path = self.tmp.join(META_FILE);
        std::fs::write(&meta_path, serde_json::to_string_pretty(&meta).expect("meta serialises"))
            .map_err(|e| io(&meta_path, e))?;
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        }
        if let Some(parent) = self.dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::rename(&self.tmp, &self.dir).map_err(|e| io(&self.dir, e))?;
        Ok(meta)
    }
}

/// Where a video's flow folder goes under `out`: its path relative to the list's `root`,
/// without extension (`root/videos/a/x.y4m` → `out/videos/a/x`). Shared by `motus flow extract`
/// and the trainer's cache, so one extraction serves both.
pub fn folder_for(out: &Path, root: &Path, video: &Path) -> PathBuf {
    let rel = video.strip_prefix(root).unwrap_or(video);
    let rel: PathBuf = rel.components().filter(|c| matches!(c, std::path::Component::Normal(_))).collect();
    out.join(rel.with_extension(""))
}

/// Reads a finished flow folder back as fields (dequantised with its recorded bound).
pub fn read_folder(dir: &Path) -> Result<(FlowMeta, Vec<FlowField>), FlowError> {
    let meta = read_meta(dir)?.ok_or_else(|| {
        FlowError::BadField(format!("{}: no {META_FILE}; not a finished flow extraction", dir.display()))
    })?;
    let mut fields = Vec::with_capacity(meta.fields as usize);
    for index in 1..=meta.fields {
        let mut planes = Vec::with_capacity(2);
        for axis in ["x", "y"] {
            let path = dir.join(format!("{axis}_{index:05}.png"));
            let img = image::open(&path)
                .map_err(|e| FlowError::Image { path: path.clone(), message: e.to_string() })?
                .into_luma8();
            if img.dimensions() != (meta.width, meta.height) {
                return Err(FlowError::BadField(format!(
                    "{}: {}x{} but {META_FILE} says {}x{}",
                    path.display(),
                    img.width(),
                    img.height(),
                    meta.width,
                    meta.height
                )));
            }
            planes.push(img.into_raw());
        }
        let bound = meta.config.bound;
        fields.push(FlowField {
            width: meta.width,
            height: meta.height,
            u: planes[0].iter().map(|&q| from_u8(q, bound)).collect(),
            v: planes[1].iter().map(|&q| from_u8(q, bound)).collect(),
        });
    }
    Ok((meta, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(w: u32, h: u32, k: f32) -> FlowField {
        let n = (w * h) as usize;
        FlowField {
            width: w,
            height: h,
            u: (0..n).map(|i| (i as f32 * 0.37 + k) % 30.0 - 15.0).collect(),
            v: vec![k; n],
        }
    }

    #[test]
    fn round_trip_within_quantisation_and_resume_detection() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("videos/walk_0001");
        let source = dir.path().join("walk_0001.y4m");
        std::fs::write(&source, b"a video").unwrap();
        let config =
            Extraction { algorithm: "tvl1".into(), params: TvL1Params::edge(), bound: 20.0, resize_short: Some(128) };
        assert!(!is_complete(&target, &config, &source));
        let mut w = FlowFolderWriter::create(&target, config.clone()).unwrap();
        let fields = [field(9, 7, 1.5), field(9, 7, -3.0)];
        for f in &fields {
            w.push(f).unwrap();
        }
        assert!(!is_complete(&target, &config, &source), "not complete before finish");
        w.finish(&source, SourceStamp::of(&source)).unwrap();
        assert!(is_complete(&target, &config, &source));
        let mut other = config.clone();
        other.bound = 10.0;
        assert!(!is_complete(&target, &other, &source), "other settings redo the extraction");
        // The same path holding a regenerated video (other length) is stale.
        std::fs::write(&source, b"a longer regenerated video").unwrap();
        assert!(!is_complete(&target, &config, &source), "a rewritten video redoes the extraction");
        assert!(!is_complete(&target, &config, &dir.path().join("gone.y4m")), "a missing video is never complete");
        let (meta, back) = read_folder(&target).unwrap();
        assert_eq!((meta.fields, meta.width, meta.height), (2, 9, 7));
        let step = 20.0 / 127.0;
        for (a, b) in back.iter().zip(&fields) {
            for (x, y) in a.u.iter().chain(&a.v).zip(b.u.iter().chain(&b.v)) {
                assert!((x - y).abs() <= step / 2.0 + 1e-4, "{x} vs {y}");
            }
        }
    }

    #[test]
    fn damaged_folders_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("v");
        let config =
            Extraction { algorithm: "tvl1".into(), params: TvL1Params::edge(), bound: 20.0, resize_short: Some(128) };
        let mut w = FlowFolderWriter::create(&target, config).unwrap();
        w.push(&field(8, 8, 0.0)).unwrap();
        assert!(matches!(w.push(&field(9, 8, 0.0)), Err(FlowError::SizeMismatch(..))));
        w.finish(Path::new("v.y4m"), None).unwrap();
        std::fs::remove_file(target.join("y_00001.png")).unwrap();
        let err = read_folder(&target).unwrap_err().to_string();
        assert!(err.contains("y_00001.png"), "{err}");
        std::fs::write(target.join(META_FILE), "{").unwrap();
        assert!(read_folder(&target).unwrap_err().to_string().contains(META_FILE));
        assert!(read_folder(&dir.path().join("none")).unwrap_err().to_string().contains("not a finished"));
    }
}

/// Why one video's flow could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The video could not be decoded.
    #[error("decoding: {0}")]
    Media(#[from] crate::media::MediaError),
    /// A frame could not be resized to the extraction's short side.
    #[error("resizing: {0}")]
    Preprocess(#[from] crate::preprocess::PreprocessError),
    /// The engine or the folder writer failed.
    #[error("{0}")]
    Flow(#[from] FlowError),
}

/// Computes and stores the flow of one video: every consecutive frame pair, after resizing
/// frames to `config.resize_short`, with `engine` (whose settings must be `config`'s). The
/// folder appears only when complete. Shared by `motus flow extract` and the trainer's cache,
/// so both produce the same folders. Returns the number of fields written.
pub fn extract_video(
    reader: &mut dyn crate::media::VideoReader,
    engine: &mut dyn super::FlowEngine,
    config: &Extraction,
    dir: &Path,
    source: &Path,
) -> Result<u64, ExtractError> {
    use crate::frame::Frame;
    use crate::preprocess::{resize_short_side, Resampler};
    // Stamped before reading: a video rewritten during extraction then reads as stale.
    let stamp = SourceStamp::of(source);
    let mut writer = FlowFolderWriter::create(dir, config.clone())?;
    let (mut prev, mut cur, mut raw) = (Frame::new(0, 0), Frame::new(0, 0), Frame::new(0, 0));
    let mut field = FlowField::zeros(0, 0);
    let mut resampler: Option<Resampler> = None;
    let mut n = 0u64;
    let mut have_prev = false;
    while reader.read_into(&mut raw)? {
        match config.resize_short {
            Some(short) => {
                let target = resize_short_side(raw.width, raw.height, short);
                let r = match &mut resampler {
                    Some(r) if r.sizes() == ((raw.width, raw.height), target) => r,
                    slot => slot.insert(Resampler::new((raw.width, raw.height), target)?),
                };
                r.resize(&raw, &mut cur)?;
            }
            None => std::mem::swap(&mut cur, &mut raw),
        }
        if have_prev {
            engine.compute_into(&prev, &cur, &mut field)?;
            writer.push(&field)?;
            n += 1;
        }
        std::mem::swap(&mut prev, &mut cur);
        have_prev = true;
    }
    writer.finish(source, stamp)?;
    Ok(n)
}
