//! Folders of numbered image frames, MMAction2's "rawframes" layout: `img_00001.jpg`,
//! `img_00002.jpg`, … (1-based, any zero padding, `.jpg`, `.jpeg` or `.png`).
//!
//! Datasets are often shipped pre-decoded this way because random access to a frame is a file
//! open instead of a seek through a codec. Flow folders of the same convention (`x_00001.jpg`,
//! `y_00001.jpg`) sit beside the RGB frames; this reader takes the `img_` prefix when present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{MediaError, VideoInfo, VideoReader, VideoWriter};
use crate::frame::Frame;

/// Frame rate reported for folders, which store none: the 25 fps of most datasets' extraction.
pub const FOLDER_FPS: f64 = 25.0;

/// Image encodings for written frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// Lossless; larger files.
    Png,
    /// Quality 95, as the usual extraction scripts write.
    Jpeg,
}

impl ImageKind {
    fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
        }
    }
}

/// Reads a numbered frame folder in order. The listing is checked up front, so a hole in the
/// numbering is reported before any decoding.
pub struct FramesDirReader {
    files: Vec<PathBuf>,
    next: usize,
    width: u32,
    height: u32,
}

impl FramesDirReader {
    /// Lists `dir`, checks the numbering is contiguous and decodes the first frame for the size.
    pub fn open(dir: &Path) -> Result<Self, MediaError> {
        let files = list_frames(dir)?;
        let first = decode(&files[0])?;
        Ok(FramesDirReader { files, next: 0, width: first.width(), height: first.height() })
    }

    /// The frame files in reading order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Moves to frame `index` (0-based) so the next read returns it; folders allow random
    /// access, which samplers use to skip frames no clip needs.
    pub fn seek(&mut self, index: usize) {
        self.next = index.min(self.files.len());
    }
}

impl VideoReader for FramesDirReader {
    fn info(&self) -> VideoInfo {
        VideoInfo {
            width: self.width,
            height: self.height,
            fps: FOLDER_FPS,
            frame_count: Some(self.files.len() as u64),
        }
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, MediaError> {
        let Some(path) = self.files.get(self.next) else { return Ok(false) };
        let img = decode(path)?;
        if img.dimensions() != (self.width, self.height) {
            return Err(MediaError::SizeMismatch {
                path: path.clone(),
                frame: self.next as u64,
                got_w: img.width(),
                got_h: img.height(),
                want_w: self.width,
                want_h: self.height,
            });
        }
        frame.reshape(self.width, self.height);
        frame.data.copy_from_slice(img.as_raw());
        frame.timestamp = Duration::from_secs_f64(self.next as f64 / FOLDER_FPS);
        self.next += 1;
        Ok(true)
    }
}

fn decode(path: &Path) -> Result<image::RgbImage, MediaError> {
    use image::ImageDecoder;
    let image_error = |source| MediaError::Image { path: path.into(), source };
    let decoder = image::ImageReader::open(path)
        .map_err(|e| MediaError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| MediaError::io(path, e))?
        .into_decoder()
        .map_err(image_error)?;
    // The header's size first: a huge image is refused before its pixels are decoded.
    let (width, height) = decoder.dimensions();
    if !crate::frame::size_is_allowed(width, height) {
        return Err(MediaError::Unsupported {
            path: path.into(),
            reason: format!(
                "a {width}x{height} image is larger than the {} pixels motus reads",
                crate::frame::MAX_PIXELS
            ),
        });
    }
    let img = image::DynamicImage::from_decoder(decoder).map_err(image_error)?;
    Ok(img.into_rgb8())
}

/// Splits `img_00012.jpg` into `("img_", 12)`; `None` for names that are not numbered images.
fn numbered_image(name: &str) -> Option<(&str, u64)> {
    let (stem, ext) = name.rsplit_once('.')?;
    if !["jpg", "jpeg", "png"].iter().any(|e| ext.eq_ignore_ascii_case(e)) {
        return None;
    }
    let digits_start = stem.len() - stem.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (prefix, digits) = stem.split_at(digits_start);
    Some((prefix, digits.parse().ok()?))
}

fn list_frames(dir: &Path) -> Result<Vec<PathBuf>, MediaError> {
    let entries = std::fs::read_dir(dir).map_err(|e| MediaError::io(dir, e))?;
    let mut by_prefix: BTreeMap<String, BTreeMap<u64, PathBuf>> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| MediaError::io(dir, e))?;
        let name = entry.file_name();
        let Some((prefix, number)) = name.to_str().and_then(numbered_image) else { continue };
        by_prefix.entry(prefix.to_string()).or_default().insert(number, entry.path());
    }
    // RGB frames are `img_`; otherwise take the prefix with the most frames.
    let chosen = match by_prefix.remove("img_") {
        Some(frames) => frames,
        None => by_prefix.into_values().max_by_key(|f| f.len()).ok_or_else(|| MediaError::Corrupt {
            path: dir.into(),
            format: "frame folder",
            reason: "no numbered .jpg/.png frames (expected img_00001.jpg, img_00002.jpg, …)".into(),
        })?,
    };
    let first = *chosen.keys().next().expect("non-empty");
    let last = *chosen.keys().next_back().expect("non-empty");
    let found = chosen.len() as u64;
    if last - first + 1 != found {
        let missing = (first..=last).find(|n| !chosen.contains_key(n)).expect("a gap exists");
        let sample =
            chosen.values().next().expect("non-empty").file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let (prefix, _) = numbered_image(&sample).unwrap_or(("img_", 0));
        let width = sample.len() - prefix.len() - sample.rsplit_once('.').map_or(0, |(_, e)| e.len() + 1);
        let ext = sample.rsplit_once('.').map_or("jpg", |(_, e)| e);
        return Err(MediaError::MissingFrame {
            path: dir.into(),
            missing,
            expected_name: format!("{prefix}{missing:0width$}.{ext}"),
            found,
            last,
        });
    }
    Ok(chosen.into_values().collect())
}

/// Writes `img_00001.png` (or `.jpg`), … into a folder, creating it.
pub struct FramesDirWriter {
    dir: PathBuf,
    kind: ImageKind,
    written: u64,
    size: Option<(u32, u32)>,
}

impl FramesDirWriter {
    /// Creates `dir` (and its parents) if needed.
    pub fn create(dir: &Path, kind: ImageKind) -> Result<Self, MediaError> {
        std::fs::create_dir_all(dir).map_err(|e| MediaError::io(dir, e))?;
        Ok(FramesDirWriter { dir: dir.into(), kind, written: 0, size: None })
    }

    /// Frames written so far (the `total_frames` of an MMAction2 rawframes list).
    pub fn frames_written(&self) -> u64 {
        self.written
    }
}

impl VideoWriter for FramesDirWriter {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), MediaError> {
        let size = *self.size.get_or_insert((frame.width, frame.height));
        let path = self.dir.join(format!("img_{:05}.{}", self.written + 1, self.kind.extension()));
        if size != (frame.width, frame.height) {
            return Err(MediaError::SizeMismatch {
                path,
                frame: self.written,
                got_w: frame.width,
                got_h: frame.height,
                want_w: size.0,
                want_h: size.1,
            });
        }
        let result = match self.kind {
            ImageKind::Png => {
                image::save_buffer(&path, &frame.data, frame.width, frame.height, image::ExtendedColorType::Rgb8)
            }
            ImageKind::Jpeg => std::fs::File::create(&path).map_err(image::ImageError::IoError).and_then(|file| {
                let mut out = std::io::BufWriter::new(file);
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95).encode(
                    &frame.data,
                    frame.width,
                    frame.height,
                    image::ExtendedColorType::Rgb8,
                )
            }),
        };
        result.map_err(|source| MediaError::Image { path, source })?;
        self.written += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), MediaError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: u32, h: u32, seed: u8) -> Frame {
        let mut f = Frame::new(w, h);
        for (i, v) in f.data.iter_mut().enumerate() {
            *v = (i as u8).wrapping_mul(7).wrapping_add(seed);
        }
        f
    }

    #[test]
    fn png_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("v");
        let frames: Vec<Frame> = (0..3).map(|i| pattern(10, 6, i)).collect();
        let mut w = Box::new(FramesDirWriter::create(&out, ImageKind::Png).unwrap());
        for f in &frames {
            w.write_frame(f).unwrap();
        }
        assert_eq!(w.frames_written(), 3);
        w.finish().unwrap();
        assert!(out.join("img_00001.png").exists());
        let mut r = FramesDirReader::open(&out).unwrap();
        assert_eq!(r.info().frame_count, Some(3));
        let back = r.read_all().unwrap();
        for (a, b) in back.iter().zip(&frames) {
            assert_eq!(a.data, b.data);
        }
    }

    #[test]
    fn jpeg_round_trip_is_close() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("v");
        let mut flat = Frame::new(16, 16);
        flat.data.fill(120);
        let mut w = Box::new(FramesDirWriter::create(&out, ImageKind::Jpeg).unwrap());
        w.write_frame(&flat).unwrap();
        w.finish().unwrap();
        let back = FramesDirReader::open(&out).unwrap().read_all().unwrap();
        assert!(back[0].data.iter().all(|&v| (v as i32 - 120).abs() <= 3));
    }

    #[test]
    fn prefers_img_prefix_over_flow_frames() {
        let dir = tempfile::tempdir().unwrap();
        let f = pattern(4, 4, 1);
        for name in ["img_00001.png", "img_00002.png", "x_00001.png", "x_00002.png", "x_00003.png", "notes.txt"] {
            let p = dir.path().join(name);
            if name.ends_with(".png") {
                image::save_buffer(&p, &f.data, 4, 4, image::ExtendedColorType::Rgb8).unwrap();
            } else {
                std::fs::write(p, "x").unwrap();
            }
        }
        assert_eq!(FramesDirReader::open(dir.path()).unwrap().info().frame_count, Some(2));
    }

    #[test]
    fn missing_frame_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = pattern(4, 4, 1);
        for n in [1, 2, 4] {
            image::save_buffer(
                dir.path().join(format!("img_{n:05}.png")),
                &f.data,
                4,
                4,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        }
        let err = FramesDirReader::open(dir.path()).err().unwrap();
        assert!(matches!(err, MediaError::MissingFrame { missing: 3, .. }), "{err}");
        assert!(err.to_string().contains("img_00003.png"), "{err}");
    }

    #[test]
    fn empty_folder_and_mismatched_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let err = FramesDirReader::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("no numbered"), "{err}");
        let a = pattern(4, 4, 1);
        let b = pattern(6, 4, 1);
        image::save_buffer(dir.path().join("img_00001.png"), &a.data, 4, 4, image::ExtendedColorType::Rgb8).unwrap();
        image::save_buffer(dir.path().join("img_00002.png"), &b.data, 6, 4, image::ExtendedColorType::Rgb8).unwrap();
        let mut r = FramesDirReader::open(dir.path()).unwrap();
        r.next_frame().unwrap();
        let err = r.next_frame().unwrap_err();
        assert!(matches!(err, MediaError::SizeMismatch { frame: 1, got_w: 6, want_w: 4, .. }), "{err}");
    }

    #[test]
    fn corrupt_image_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("img_00001.jpg"), b"\xff\xd8\xff garbage").unwrap();
        let err = FramesDirReader::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("img_00001.jpg"), "{err}");
    }

    #[test]
    fn an_image_larger_than_a_frame_may_be_is_refused_before_decoding() {
        // A PNG for 10000 × 10000 RGB (300 MB decoded): signature, header, an empty data
        // chunk and the end chunk; no pixels at all.
        let header: [u8; 57] = [
            137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 39, 16, 0, 0, 39, 16, 8, 2, 0, 0, 0,
            53, 44, 245, 112, 0, 0, 0, 0, 73, 68, 65, 84, 53, 175, 6, 30, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
        ];
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("img_00001.png"), header).unwrap();
        let err = FramesDirReader::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("10000x10000 image is larger than"), "{err}");
    }
}
