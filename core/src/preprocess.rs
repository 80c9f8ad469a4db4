//! Turning decoded frames into network input: resize, crop, flip, normalise, lay out.
//!
//! The trainer, the evaluator and the device all call these functions, so a model sees at
//! serving time exactly the pixels it was trained on. Resampling uses precomputed filter
//! taps ([`Resampler`]) so the device's per-frame path allocates nothing.

use motus_models::{InputSpec, Normalization};

use crate::frame::Frame;

/// A rectangle inside a frame, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Where along a frame's longer side a test-time crop is taken; three crops
/// (start, centre, end) are the usual test protocol of the literature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropPosition {
    /// Left or top edge.
    Start,
    /// Middle of the longer side.
    Center,
    /// Right or bottom edge.
    End,
    /// This many pixels from the left or top edge of the resized frame (clamped to the room
    /// there is): a crop that follows the action (`window.crop = "follow"`).
    At(u32),
}

impl CropPosition {
    /// Offset of a crop of `crop` pixels along a side of `side` pixels (0 when the crop does
    /// not fit): the one rounding rule for crop placement.
    pub fn offset(self, side: u32, crop: u32) -> u32 {
        let room = side.saturating_sub(crop);
        match self {
            CropPosition::Start => 0,
            CropPosition::Center => room / 2,
            CropPosition::End => room,
            CropPosition::At(x) => x.min(room),
        }
    }
}

/// Why a preprocessing request cannot be met.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PreprocessError {
    #[error("crop {crop_w}x{crop_h} does not fit a {frame_w}x{frame_h} frame")]
    CropTooLarge { crop_w: u32, crop_h: u32, frame_w: u32, frame_h: u32 },
    #[error("cannot resize to or from an empty image ({w}x{h})")]
    Empty { w: u32, h: u32 },
    #[error("clip has {got} frames, the model expects {want}")]
    ClipLength { got: usize, want: usize },
    #[error("frame {index} is {got_w}x{got_h}, expected {want_w}x{want_h}")]
    FrameSize { index: usize, got_w: u32, got_h: u32, want_w: u32, want_h: u32 },
    #[error("output buffer holds {got} values, the clip needs {want}")]
    OutputLength { got: usize, want: usize },
}

/// Size after scaling the shorter side to `short` and keeping the aspect ratio (rounded).
pub fn resize_short_side(width: u32, height: u32, short: u32) -> (u32, u32) {
    if width <= height {
        let h = (height as u64 * short as u64 + width as u64 / 2) / width.max(1) as u64;
        (short, h.max(1) as u32)
    } else {
        let w = (width as u64 * short as u64 + height as u64 / 2) / height.max(1) as u64;
        (w.max(1) as u32, short)
    }
}

/// A `size`x`size` crop at `position` along the longer side, centred on the shorter one.
pub fn square_crop(width: u32, height: u32, size: u32, position: CropPosition) -> Result<CropBox, PreprocessError> {
    if size > width || size > height {
        return Err(PreprocessError::CropTooLarge { crop_w: size, crop_h: size, frame_w: width, frame_h: height });
    }
    let (x, y) = if width >= height {
        (position.offset(width, size), CropPosition::Center.offset(height, size))
    } else {
        (CropPosition::Center.offset(width, size), position.offset(height, size))
    };
    Ok(CropBox { x, y, width: size, height: size })
}

/// Inception-style random resized crop: an area fraction in `scale` and an aspect ratio in
/// `ratio` (log-uniform), retried a few times, falling back to a centre crop. The standard
/// spatial augmentation of the two-stream papers.
pub fn random_resized_crop<R: rand::Rng>(
    rng: &mut R,
    width: u32,
    height: u32,
    scale: (f32, f32),
    ratio: (f32, f32),
) -> CropBox {
    let area = width as f32 * height as f32;
    for _ in 0..10 {
        let target = area * rng.random_range(scale.0..=scale.1);
        let log_r = rng.random_range(ratio.0.ln()..=ratio.1.ln());
        let aspect = log_r.exp();
        let w = (target * aspect).sqrt().round() as u32;
        let h = (target / aspect).sqrt().round() as u32;
        if w >= 1 && h >= 1 && w <= width && h <= height {
            let x = rng.random_range(0..=width - w);
            let y = rng.random_range(0..=height - h);
            return CropBox { x, y, width: w, height: h };
        }
    }
    let side = width.min(height);
    CropBox { x: (width - side) / 2, y: (height - side) / 2, width: side, height: side }
}

/// Precomputed separable filter taps for one (source size -> destination size) resize.
///
/// Downscaling widens the triangle filter by the scale factor (antialiasing, as PIL and
/// torchvision's `antialias=True` do), so small model inputs do not alias fine texture into
/// false motion. Taps are computed once per size pair and reused for every frame.
#[derive(Debug, Clone)]
pub struct Resampler {
    src: (u32, u32),
    dst: (u32, u32),
    horizontal: Taps,
    vertical: Taps,
    /// Horizontally filtered rows, `src.1 x dst.0 x 3`, reused between calls.
    scratch: Vec<f32>,
}

#[derive(Debug, Clone)]
struct Taps {
    /// For each output position: first input index and the range of weights in `weights`.
    spans: Vec<(usize, usize, usize)>,
    weights: Vec<f32>,
}

impl Taps {
    fn new(src: u32, dst: u32) -> Taps {
        let scale = src as f64 / dst as f64;
        let support = scale.max(1.0);
        let mut spans = Vec::with_capacity(dst as usize);
        let mut weights = Vec::new();
        for o in 0..dst {
            let centre = (o as f64 + 0.5) * scale;
            let lo = ((centre - support).floor() as i64).max(0) as usize;
            let hi = ((centre + support).ceil() as i64).min(src as i64) as usize;
            let start = weights.len();
            let mut sum = 0.0;
            for i in lo..hi {
                let w = (1.0 - ((i as f64 + 0.5 - centre) / support).abs()).max(0.0);
                weights.push(w as f32);
                sum += w;
            }
            if sum <= 0.0 {
                // Cannot happen for support >= 1, kept so a degenerate size never divides by 0.
                weights.truncate(start);
                weights.push(1.0);
                spans.push((lo.min(src as usize - 1), start, start + 1));
                continue;
            }
            for w in &mut weights[start..] {
                *w /= sum as f32;
            }
            spans.push((lo, start, weights.len()));
        }
        Taps { spans, weights }
    }
}

impl Resampler {
    /// Prepares a resize from `src` to `dst` (width, height).
    pub fn new(src: (u32, u32), dst: (u32, u32)) -> Result<Self, PreprocessError> {
        for (w, h) in [src, dst] {
            if w == 0 || h == 0 {
                return Err(PreprocessError::Empty { w, h });
            }
        }
        Ok(Resampler {
            src,
            dst,
            horizontal: Taps::new(src.0, dst.0),
            vertical: Taps::new(src.1, dst.1),
            scratch: vec![0.0; src.1 as usize * dst.0 as usize * 3],
        })
    }

    /// The (source, destination) sizes this resampler was built for.
    pub fn sizes(&self) -> ((u32, u32), (u32, u32)) {
        (self.src, self.dst)
    }

    /// Resizes the `region` of `src` (whose size must equal the resampler's source size) into
    /// `dst`, reshaping `dst` to the destination size.
    pub fn resize_region(&mut self, src: &Frame, region: CropBox, dst: &mut Frame) -> Result<(), PreprocessError> {
        if region.x + region.width > src.width || region.y + region.height > src.height {
            return Err(PreprocessError::CropTooLarge {
                crop_w: region.width,
                crop_h: region.height,
                frame_w: src.width,
                frame_h: src.height,
            });
        }
        if (region.width, region.height) != self.src {
            return Err(PreprocessError::FrameSize {
                index: 0,
                got_w: region.width,
                got_h: region.height,
                want_w: self.src.0,
                want_h: self.src.1,
            });
        }
        let dw = self.dst.0 as usize;
        let stride = src.stride();
        for row in 0..self.src.1 as usize {
            let line = &src.data[(region.y as usize + row) * stride + region.x as usize * 3..];
            let out = &mut self.scratch[row * dw * 3..(row + 1) * dw * 3];
            for (o, &(first, a, b)) in self.horizontal.spans.iter().enumerate() {
                let mut acc = [0.0f32; 3];
                for (k, &w) in self.horizontal.weights[a..b].iter().enumerate() {
                    let p = &line[(first + k) * 3..(first + k) * 3 + 3];
                    acc[0] += w * p[0] as f32;
                    acc[1] += w * p[1] as f32;
                    acc[2] += w * p[2] as f32;
                }
                out[o * 3..o * 3 + 3].copy_from_slice(&acc);
            }
        }
        dst.reshape(self.dst.0, self.dst.1);
        dst.timestamp = src.timestamp;
        for (o, &(first, a, b)) in self.vertical.spans.iter().enumerate() {
            let out = &mut dst.data[o * dw * 3..(o + 1) * dw * 3];
            for (x, px) in out.iter_mut().enumerate() {
                let mut acc = 0.0f32;
                for (k, &w) in self.vertical.weights[a..b].iter().enumerate() {
                    acc += w * self.scratch[(first + k) * dw * 3 + x];
                }
                *px = (acc + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
        Ok(())
    }

    /// Resizes a whole frame.
    pub fn resize(&mut self, src: &Frame, dst: &mut Frame) -> Result<(), PreprocessError> {
        self.resize_region(src, CropBox { x: 0, y: 0, width: src.width, height: src.height }, dst)
    }
}

/// Copies `region` of `src` into `dst` (reshaped to the region's size).
pub fn crop(src: &Frame, region: CropBox, dst: &mut Frame) -> Result<(), PreprocessError> {
    if region.x + region.width > src.width || region.y + region.height > src.height {
        return Err(PreprocessError::CropTooLarge {
            crop_w: region.width,
            crop_h: region.height,
            frame_w: src.width,
            frame_h: src.height,
        });
    }
    dst.reshape(region.width, region.height);
    dst.timestamp = src.timestamp;
    let row_bytes = region.width as usize * 3;
    for row in 0..region.height as usize {
        let s = (region.y as usize + row) * src.stride() + region.x as usize * 3;
        dst.data[row * row_bytes..(row + 1) * row_bytes].copy_from_slice(&src.data[s..s + row_bytes]);
    }
    Ok(())
}

/// Mirrors a frame left to right in place. (Flow fields need their x component negated as
/// well; the flow encoder does that.)
pub fn flip_horizontal(frame: &mut Frame) {
    let w = frame.width as usize;
    for row in frame.data.chunks_exact_mut(w * 3) {
        for x in 0..w / 2 {
            for c in 0..3 {
                row.swap(x * 3 + c, (w - 1 - x) * 3 + c);
            }
        }
    }
}

/// Memory order of a clip tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ClipLayout {
    /// Channels, time, height, width: 3D convolutions (C3D, I3D).
    #[serde(rename = "CTHW")]
    Cthw,
    /// Time, channels, height, width: per-frame 2D networks.
    #[serde(rename = "TCHW")]
    Tchw,
}

/// Normalises equally sized RGB frames into `out` as f32 in `layout`.
pub fn normalize_clip(
    frames: &[Frame],
    norm: &Normalization,
    layout: ClipLayout,
    out: &mut [f32],
) -> Result<(), PreprocessError> {
    let Some(first) = frames.first() else { return Ok(()) };
    let (w, h) = (first.width, first.height);
    let plane = w as usize * h as usize;
    let t_len = frames.len();
    if out.len() != plane * 3 * t_len {
        return Err(PreprocessError::OutputLength { got: out.len(), want: plane * 3 * t_len });
    }
    let affine = norm.affine_u8();
    for (t, f) in frames.iter().enumerate() {
        if (f.width, f.height) != (w, h) {
            return Err(PreprocessError::FrameSize { index: t, got_w: f.width, got_h: f.height, want_w: w, want_h: h });
        }
        for (c, &(scale, offset)) in affine.iter().enumerate() {
            let base = match layout {
                ClipLayout::Cthw => (c * t_len + t) * plane,
                ClipLayout::Tchw => (t * 3 + c) * plane,
            };
            for (dst, px) in out[base..base + plane].iter_mut().zip(f.data.chunks_exact(3)) {
                *dst = px[c] as f32 * scale + offset;
            }
        }
    }
    Ok(())
}

/// One model's spatial pipeline (resize the short side, crop a square, optionally flip),
/// built from its input contract and reused across frames of the same source size.
pub struct FramePipeline {
    spec: InputSpec,
    resampler: Option<Resampler>,
    resized: Frame,
}

impl FramePipeline {
    /// Prepares the pipeline; the resampler is built on the first frame.
    pub fn new(spec: InputSpec) -> Self {
        FramePipeline { spec, resampler: None, resized: Frame::new(0, 0) }
    }

    /// The contract this pipeline implements.
    pub fn spec(&self) -> &InputSpec {
        &self.spec
    }

    /// Resizes `src` so its short side is `resize_short`, then takes the `input_size` square
    /// crop at `position` into `dst`.
    pub fn apply(
        &mut self,
        src: &Frame,
        position: CropPosition,
        flip: bool,
        dst: &mut Frame,
    ) -> Result<(), PreprocessError> {
        let target = resize_short_side(src.width, src.height, self.spec.resize_short);
        let resampler = match &mut self.resampler {
            Some(r) if r.sizes() == ((src.width, src.height), target) => r,
            slot => slot.insert(Resampler::new((src.width, src.height), target)?),
        };
        resampler.resize(src, &mut self.resized)?;
        let region = square_crop(target.0, target.1, self.spec.input_size, position)?;
        crop(&self.resized, region, dst)?;
        if flip {
            flip_horizontal(dst);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motus_models::ClipSpec;
    use rand::SeedableRng;

    fn ramp(w: u32, h: u32) -> Frame {
        let mut f = Frame::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = ((y * w + x) * 3) as usize;
                f.data[i] = (x * 4) as u8;
                f.data[i + 1] = (y * 4) as u8;
                f.data[i + 2] = 77;
            }
        }
        f
    }

    #[test]
    fn short_side_sizes() {
        assert_eq!(resize_short_side(320, 240, 128), (171, 128));
        assert_eq!(resize_short_side(240, 320, 128), (128, 171));
        assert_eq!(resize_short_side(128, 128, 112), (112, 112));
    }

    #[test]
    fn crops_along_the_longer_side() {
        assert_eq!(
            square_crop(171, 128, 112, CropPosition::Center).unwrap(),
            CropBox { x: 29, y: 8, width: 112, height: 112 }
        );
        assert_eq!(square_crop(171, 128, 112, CropPosition::Start).unwrap().x, 0);
        assert_eq!(square_crop(171, 128, 112, CropPosition::End).unwrap().x, 59);
        assert_eq!(
            square_crop(171, 128, 112, CropPosition::At(20)).unwrap(),
            CropBox { x: 20, y: 8, width: 112, height: 112 }
        );
        assert_eq!(square_crop(171, 128, 112, CropPosition::At(500)).unwrap().x, 59, "clamped to the room");
        assert_eq!(square_crop(128, 171, 112, CropPosition::End).unwrap().y, 59);
        assert!(matches!(square_crop(100, 100, 112, CropPosition::Center), Err(PreprocessError::CropTooLarge { .. })));
    }

    #[test]
    fn identity_resize_is_exact_and_flat_stays_flat() {
        let src = ramp(20, 12);
        let mut dst = Frame::new(0, 0);
        Resampler::new((20, 12), (20, 12)).unwrap().resize(&src, &mut dst).unwrap();
        assert_eq!(dst.data, src.data);
        let mut flat = Frame::new(37, 23);
        flat.data.fill(91);
        Resampler::new((37, 23), (11, 7)).unwrap().resize(&flat, &mut dst).unwrap();
        assert!(dst.data.iter().all(|&v| v == 91));
        Resampler::new((37, 23), (80, 50)).unwrap().resize(&flat, &mut dst).unwrap();
        assert!(dst.data.iter().all(|&v| v == 91));
    }

    #[test]
    fn downscale_averages_fine_texture() {
        // A 1-px checkerboard must become mid grey, not a moiré pattern.
        let mut f = Frame::new(64, 64);
        for y in 0..64 {
            for x in 0..64 {
                let v = if (x + y) % 2 == 0 { 255 } else { 0 };
                let i = (y * 64 + x) * 3;
                f.data[i..i + 3].fill(v);
            }
        }
        let mut dst = Frame::new(0, 0);
        Resampler::new((64, 64), (16, 16)).unwrap().resize(&f, &mut dst).unwrap();
        assert!(dst.data.iter().all(|&v| (v as i32 - 128).abs() <= 8), "{:?}", &dst.data[..12]);
    }

    #[test]
    fn flip_twice_is_identity_and_mirrors() {
        let src = ramp(5, 3);
        let mut f = src.clone();
        flip_horizontal(&mut f);
        assert_eq!(f.pixel(0, 1), src.pixel(4, 1));
        flip_horizontal(&mut f);
        assert_eq!(f, src);
    }

    #[test]
    fn normalise_layouts() {
        let frames = vec![ramp(4, 2), ramp(4, 2)];
        let n = Normalization::symmetric();
        let mut cthw = vec![0.0; 2 * 3 * 8];
        let mut tchw = vec![0.0; 2 * 3 * 8];
        normalize_clip(&frames, &n, ClipLayout::Cthw, &mut cthw).unwrap();
        normalize_clip(&frames, &n, ClipLayout::Tchw, &mut tchw).unwrap();
        // Blue channel (77) of frame 1, pixel 0.
        let want = (77.0 / 255.0 - 0.5) / 0.5;
        assert!((cthw[(2 * 2 + 1) * 8] - want).abs() < 1e-6);
        assert!((tchw[(3 + 2) * 8] - want).abs() < 1e-6);
        let err = normalize_clip(&frames, &n, ClipLayout::Cthw, &mut cthw[1..]).unwrap_err();
        assert!(matches!(err, PreprocessError::OutputLength { .. }));
        let bad = vec![ramp(4, 2), ramp(3, 2)];
        let err = normalize_clip(&bad, &n, ClipLayout::Cthw, &mut [0.0; 48]).unwrap_err();
        assert!(matches!(err, PreprocessError::FrameSize { index: 1, .. }));
    }

    #[test]
    fn random_crops_fit_and_repeat_for_a_seed() {
        let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut b = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let c = random_resized_crop(&mut a, 171, 128, (0.25, 1.0), (0.75, 4.0 / 3.0));
            assert!(c.x + c.width <= 171 && c.y + c.height <= 128 && c.width > 0 && c.height > 0);
            assert_eq!(c, random_resized_crop(&mut b, 171, 128, (0.25, 1.0), (0.75, 4.0 / 3.0)));
        }
    }

    #[test]
    fn pipeline_resizes_then_crops() {
        let spec = InputSpec {
            clip: ClipSpec { clip_len: 1, frame_stride: 1 },
            input_size: 56,
            resize_short: 64,
            normalization: Normalization::symmetric(),
            fps: None,
        };
        let mut p = FramePipeline::new(spec);
        let mut out = Frame::new(0, 0);
        p.apply(&ramp(60, 40), CropPosition::Center, false, &mut out).unwrap();
        assert_eq!((out.width, out.height), (56, 56));
        let mut flipped = Frame::new(0, 0);
        p.apply(&ramp(60, 40), CropPosition::Center, true, &mut flipped).unwrap();
        assert_eq!(flipped.pixel(0, 0), out.pixel(55, 0));
    }
}
