//! Training samples: decoded videos and their cached flow → augmented input tensors.
//!
//! The clip contract is the device's ([`motus_core::infer::clip`]): a window of `T + L` frames for
//! flow models (`T` for RGB-only ones); step `t` stacks flow fields `t … t+L-1` (field `i` runs
//! from window frame `i` to `i+1`) and takes window frame `t + L/2` as RGB. RGB is normalised
//! with the card's mean and std; flow is clipped to ±bound and scaled to [-1, 1].
//!
//! Training differs from the device in two ways, both standard in the two-stream literature:
//! flow comes from the extraction cache (computed once per video on the resized full frame,
//! then cropped with the frames) instead of being computed on the crop, and clips are augmented:
//! a random window start (temporal jitter), one random resized crop for the whole clip (flow
//! vectors rescaled with it), a horizontal flip (flow x negated) and colour jitter. When the
//! card asks for it, each field's mean over the crop is subtracted before clipping, as the
//! device does.

use super::slow_camera::CameraView;
pub use super::slow_camera::SlowCamera;
use motus_core::flow::encode::{from_u8, subtract_mean, to_u8, to_unit};
use motus_core::frame::Frame;
use motus_core::preprocess::{
    normalize_clip, random_resized_crop, square_crop, ClipLayout, CropBox, CropPosition, Resampler,
};
use motus_core::retime::StepFlow;
use motus_lab::dataset::sampler::{centre_clip, random_clip, random_clip_on, ClipIndices};
use motus_models::{ClipSpec, ModelCard, Normalization};
use rand::Rng;

/// One video in memory: frames resized to the card's short side, and flow fields quantised
/// to u8 with the cache's bound (exactly as stored; 4× smaller than f32).
#[derive(Debug, Clone)]
pub struct VideoData {
    pub label: usize,
    pub frames: Vec<Frame>,
    /// Per field: x plane then y plane, `width × height` u8 each.
    pub flow: Vec<Vec<u8>>,
    pub flow_bound: f32,
    /// `[start, end)` frames of the video's action, when the dataset says where it is.
    pub action: Option<(u64, u64)>,
}

impl VideoData {
    /// Bytes held, for the cache budget.
    pub fn bytes(&self) -> usize {
        self.frames.iter().map(|f| f.data.len()).sum::<usize>() + self.flow.iter().map(Vec::len).sum::<usize>()
    }
}

/// How a model's clip is laid out, read from its card.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipGeometry {
    /// Time steps `T` of the network.
    pub steps: usize,
    /// Flow fields per stack `L` (0: RGB only).
    pub stack: usize,
    /// Frames read per clip: `T + L` with flow, `T` without.
    pub window_len: usize,
    pub frame_stride: u32,
    pub input_size: u32,
    pub normalization: Normalization,
    /// Flow clipping bound of the model (±px).
    pub bound: f32,
    /// Subtract each field's mean over the crop (camera-motion compensation).
    pub mean_subtraction: bool,
    /// The model's inputs in card order: (name, is_flow, layout, batch-1 shape).
    pub inputs: Vec<(String, bool, String, Vec<usize>)>,
}

/// Time steps of an input from its layout and batch-1 shape.
fn steps_of(layout: &str, shape: &[usize]) -> Option<usize> {
    match (layout, shape.len()) {
        ("NCTHW", 5) => Some(shape[2]),
        ("NTCHW", 5) => Some(shape[1]),
        ("NCHW", 4) => Some(1),
        _ => None,
    }
}

impl ClipGeometry {
    /// Reads the clip contract of a card; refuses layouts the trainer cannot fill.
    pub fn from_card(card: &ModelCard) -> anyhow::Result<ClipGeometry> {
        let stack = card.flow.as_ref().map_or(0, |f| f.stack_len as usize);
        let mut inputs = Vec::new();
        let mut steps = None;
        for decl in &card.inputs {
            let shape: Vec<usize> = decl.shape.iter().map(|&d| d.max(1) as usize).collect();
            let t = steps_of(&decl.layout, &shape).ok_or_else(|| {
                anyhow::anyhow!(
                    "input {:?}: layout {} with shape {:?} is not one the trainer fills",
                    decl.name,
                    decl.layout,
                    decl.shape
                )
            })?;
            if *steps.get_or_insert(t) != t {
                anyhow::bail!("inputs disagree on the number of time steps ({} vs {t})", steps.unwrap_or(0));
            }
            let is_flow = stack > 0 && decl.name.contains("flow");
            inputs.push((decl.name.clone(), is_flow, decl.layout.clone(), shape));
        }
        let steps = steps.ok_or_else(|| anyhow::anyhow!("the card declares no inputs"))?;
        Ok(ClipGeometry {
            steps,
            stack,
            window_len: steps + stack,
            frame_stride: card.input.clip.frame_stride,
            input_size: card.input.input_size,
            normalization: card.input.normalization.clone(),
            bound: card.flow.as_ref().map_or(0.0, |f| f.bound),
            mean_subtraction: card.flow.as_ref().is_some_and(|f| f.mean_subtraction),
            inputs,
        })
    }

    /// The window as a sampler clip spec.
    pub fn window(&self) -> ClipSpec {
        ClipSpec { clip_len: self.window_len as u32, frame_stride: self.frame_stride }
    }

    /// Number of f32 values of each input for one clip.
    pub fn input_lens(&self) -> Vec<usize> {
        self.inputs.iter().map(|(_, _, _, s)| s[1..].iter().product()).collect()
    }
}

/// Augmentation switches and ranges.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Augment {
    /// Area fraction range of the random resized crop.
    pub crop_scale: (f32, f32),
    /// Aspect ratio range of the crop.
    pub crop_ratio: (f32, f32),
    pub flip: bool,
    /// Label pairs a horizontal flip turns into each other (walk left ↔ walk right): a flipped
    /// clip of one is labelled as the other. Without this, flipping would teach the network
    /// that direction does not matter.
    pub flip_swap: Vec<(usize, usize)>,
    /// Brightness, contrast and saturation factors are drawn from `1 ± colour_jitter`.
    pub colour_jitter: f32,
    /// Keep training windows on each video's action where the dataset gives its frames
    /// (`actions.txt`, see `motus_lab::dataset::actions`), so a brief action's idle lead and tail
    /// are not learnt as the action. Off by default: on the synthetic benchmark it made the
    /// live scenes' alerts worse, not better (GUIDE.md, motus-train; figures in docs/results/2026-12-07-readme-history.md). Absent in older configs: off.
    #[serde(default)]
    pub action_windows: bool,
    /// Take some clips as a camera slower than the videos would give them on the device
    /// (held frames, motion spread over the held steps; see [`SlowCamera`]). Absent in older
    /// configs: off.
    #[serde(default)]
    pub slow_camera: Option<SlowCamera>,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            crop_scale: (0.5, 1.0),
            crop_ratio: (0.75, 1.333),
            flip: true,
            flip_swap: Vec::new(),
            colour_jitter: 0.3,
            action_windows: false,
            slow_camera: None,
        }
    }
}

/// Scales brightness, contrast and saturation of every frame of a clip by the same factors.
fn colour_jitter(frames: &mut [Frame], brightness: f32, contrast: f32, saturation: f32) {
    let mean: f32 = {
        let (mut s, mut n) = (0f64, 0usize);
        for f in frames.iter() {
            for px in f.data.chunks_exact(3) {
                s += (0.299 * px[0] as f64) + (0.587 * px[1] as f64) + (0.114 * px[2] as f64);
                n += 1;
            }
        }
        (s / n.max(1) as f64) as f32
    };
    for f in frames.iter_mut() {
        for px in f.data.chunks_exact_mut(3) {
            let rgb = [px[0] as f32 * brightness, px[1] as f32 * brightness, px[2] as f32 * brightness];
            let grey = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
            for c in 0..3 {
                let v = grey + (rgb[c] - grey) * saturation;
                let v = mean * brightness + (v - mean * brightness) * contrast;
                px[c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// The bilinear taps of one crop, computed once per clip and shared by its 2 × (T + L − 1)
/// flow planes (they all use the same crop), with the u8 decode as a 256-entry table: the
/// per-pixel index and weight arithmetic was half of a training step's data time.
/// Produces exactly the values a per-pixel computation gives (same expressions, same order).
struct FlowResampler {
    /// Per output column: left and right source column, weight of the right one.
    cols: Vec<(usize, usize, f32)>,
    /// Per output row: top and bottom source row, weight of the bottom one.
    rows: Vec<(usize, usize, f32)>,
    /// `from_u8(q, bound)` for every `q`.
    decode: [f32; 256],
    width: usize,
}

impl FlowResampler {
    /// Taps for resampling `region` of a `width × height` plane to `out × out`.
    fn new(width: u32, height: u32, region: CropBox, out: u32, bound: f32) -> Self {
        let (w, h) = (width as usize, height as usize);
        let taps = |start: u32, len: u32, size: usize| -> Vec<(usize, usize, f32)> {
            let s = len as f32 / out as f32;
            (0..out as usize)
                .map(|o| {
                    let f = (start as f32 + (o as f32 + 0.5) * s - 0.5).clamp(0.0, (size - 1) as f32);
                    let (i0, t) = (f.floor() as usize, f - f.floor());
                    (i0, (i0 + 1).min(size - 1), t)
                })
                .collect()
        };
        let mut decode = [0.0f32; 256];
        for (q, d) in decode.iter_mut().enumerate() {
            *d = from_u8(q as u8, bound);
        }
        FlowResampler {
            cols: taps(region.x, region.width, w),
            rows: taps(region.y, region.height, h),
            decode,
            width: w,
        }
    }

    /// Resamples one u8-quantised flow plane, decoded to pixels and multiplied by `scale` (the
    /// crop's resize factor along this component's axis), into `dst` (`out × out`).
    fn apply(&self, plane: &[u8], scale: f32, dst: &mut [f32]) {
        let out = self.cols.len();
        let at = |y: usize, x: usize| self.decode[plane[y * self.width + x] as usize];
        for (&(y0, y1, ty), row) in self.rows.iter().zip(dst.chunks_exact_mut(out)) {
            for (&(x0, x1, tx), d) in self.cols.iter().zip(row.iter_mut()) {
                let v = (at(y0, x0) * (1.0 - tx) + at(y0, x1) * tx) * (1.0 - ty)
                    + (at(y1, x0) * (1.0 - tx) + at(y1, x1) * tx) * ty;
                *d = v * scale;
            }
        }
    }
}

/// Fills one clip's inputs (one `Vec` per card input, sized by [`ClipGeometry::input_lens`])
/// and returns the clip's label (the video's, or its mirror class when the clip was flipped).
/// With `rng` the clip is augmented; without, it is `window` (the centre window when `None`)
/// with the centre crop, as evaluation sees it.
pub fn make_clip<R: Rng>(
    video: &VideoData,
    g: &ClipGeometry,
    aug: &Augment,
    rng: Option<&mut R>,
    window: Option<&ClipIndices>,
    out: &mut [Vec<f32>],
) -> anyhow::Result<usize> {
    let first = video.frames.first().ok_or_else(|| anyhow::anyhow!("video has no frames"))?;
    let (w, h) = (first.width, first.height);
    let mut draw = match rng {
        Some(rng) => ClipDraw::augmented(video, g, aug, rng, (w, h))?,
        None => ClipDraw::centred(video, g, window, (w, h))?,
    };
    let view = draw.camera.take().unwrap_or_else(|| frame_by_frame(&draw.window.frames));
    let rgb = rgb_frames(video, g, &view, &draw)?;
    let fields = if g.stack > 0 { flow_fields(video, g, &view, &draw, (w, h))? } else { Vec::new() };
    write_inputs(g, &rgb, &fields, out)?;
    Ok(clip_label(video, aug, draw.flip))
}

/// What one clip is drawn from: its window of video frames, the crop, and the augmentations.
struct ClipDraw {
    window: ClipIndices,
    crop: CropBox,
    flip: bool,
    /// Brightness, contrast and saturation factors.
    jitter: Option<(f32, f32, f32)>,
    /// The window as a slower camera shows it (`--slow-camera`).
    camera: Option<CameraView>,
}

impl ClipDraw {
    /// A random window (on the action when the video has one and `action_windows` is set),
    /// a random resized crop, and the augmentations `aug` asks for.
    fn augmented<R: Rng>(
        video: &VideoData,
        g: &ClipGeometry,
        aug: &Augment,
        rng: &mut R,
        (w, h): (u32, u32),
    ) -> anyhow::Result<Self> {
        let n = video.frames.len() as u64;
        let window = match video.action.filter(|_| aug.action_windows) {
            Some(action) => random_clip_on(n, g.window(), action, rng)?,
            None => random_clip(n, g.window(), rng)?,
        };
        let crop = random_resized_crop(rng, w, h, aug.crop_scale, aug.crop_ratio);
        let flip = aug.flip && rng.random_bool(0.5);
        let j = aug.colour_jitter;
        let jitter = (j > 0.0).then(|| {
            let mut f = || rng.random_range(1.0 - j..=1.0 + j);
            (f(), f(), f())
        });
        let camera = aug.slow_camera.and_then(|c| c.draw(rng, &window, n));
        Ok(ClipDraw { window, crop, flip, jitter, camera })
    }

    /// `window` (the centre window when `None`) with the centre crop, as evaluation sees it.
    fn centred(
        video: &VideoData,
        g: &ClipGeometry,
        window: Option<&ClipIndices>,
        (w, h): (u32, u32),
    ) -> anyhow::Result<Self> {
        let window = match window {
            Some(w) => w.clone(),
            None => centre_clip(video.frames.len() as u64, g.window())?,
        };
        let crop = square_crop(w, h, g.input_size, CropPosition::Center)?;
        Ok(ClipDraw { window, crop, flip: false, jitter: None, camera: None })
    }
}

/// The RGB stream: window frame `t + L/2` for each step, cropped, resized, flipped and
/// colour-jittered as drawn.
fn rgb_frames(video: &VideoData, g: &ClipGeometry, view: &CameraView, draw: &ClipDraw) -> anyhow::Result<Vec<Frame>> {
    let size = g.input_size;
    let mut resampler = Resampler::new((draw.crop.width, draw.crop.height), (size, size))?;
    let mut rgb = Vec::with_capacity(g.steps);
    for t in 0..g.steps {
        let src = &video.frames[view.picks[t + g.stack / 2] as usize];
        let mut f = Frame::new(size, size);
        resampler.resize_region(src, draw.crop, &mut f)?;
        if draw.flip {
            motus_core::preprocess::flip_horizontal(&mut f);
        }
        rgb.push(f);
    }
    if let Some((b, c, s)) = draw.jitter {
        colour_jitter(&mut rgb, b, c, s);
    }
    Ok(rgb)
}

/// The flow stream: one (x, y) field pair per flow step of the window, resampled from the
/// cache to the crop, flipped as drawn, mean-subtracted when the card asks, in model units.
/// Field `i` of the window is the stored field of `window.frames[i]` (frame stride 1 only).
fn flow_fields(
    video: &VideoData,
    g: &ClipGeometry,
    view: &CameraView,
    draw: &ClipDraw,
    (w, h): (u32, u32),
) -> anyhow::Result<Vec<[Vec<f32>; 2]>> {
    if g.frame_stride != 1 {
        anyhow::bail!(
            "flow models train with frame stride 1 (the cache holds consecutive-frame flow); the card says {}",
            g.frame_stride
        );
    }
    let size = g.input_size;
    let plane = (size * size) as usize;
    let crop = draw.crop;
    let (scale_x, scale_y) = (size as f32 / crop.width as f32, size as f32 / crop.height as f32);
    let resampler = FlowResampler::new(w, h, crop, size, video.flow_bound);
    let mut scratch = Vec::new();
    let mut fields = Vec::with_capacity(view.plan.len());
    for step in &view.plan {
        let mut xy = [vec![0.0f32; plane], vec![0.0f32; plane]];
        if let Some(StepFlow { field, scale }) = *step {
            let (a, b) = (view.picks[field], view.picks[field + 1]);
            // The motion from `a` to `b` as the sum of the cached fields between them, scaled
            // to one model period (their mean, for a slow camera's pair). The first field is
            // written in place; only a slow camera's later ones need the scratch plane.
            let scales = [scale_x * scale, scale_y * scale];
            for (k, f) in (a..b).enumerate() {
                let (px, py) = cached_field(video, f)?;
                for ((src, dst), s) in [px, py].into_iter().zip(xy.iter_mut()).zip(scales) {
                    if k == 0 {
                        resampler.apply(src, s, dst);
                    } else {
                        scratch.resize(plane, 0.0);
                        resampler.apply(src, s, &mut scratch);
                        dst.iter_mut().zip(&scratch).for_each(|(d, v)| *d += v);
                    }
                }
            }
        }
        if draw.flip {
            for p in xy.iter_mut() {
                for row in p.chunks_exact_mut(size as usize) {
                    row.reverse();
                }
            }
            xy[0].iter_mut().for_each(|v| *v = -*v);
        }
        if g.mean_subtraction {
            let [u, v] = &mut xy;
            subtract_mean(u, v);
        }
        for p in xy.iter_mut() {
            p.iter_mut().for_each(|v| *v = to_unit(*v, g.bound));
        }
        fields.push(xy);
    }
    Ok(fields)
}

/// Lays the streams out as the card's inputs: RGB normalised in its layout, flow stacked per
/// step (`[2L, H, W]` per step for NCHW / NTCHW, `[2, T, H, W]` otherwise).
fn write_inputs(g: &ClipGeometry, rgb: &[Frame], fields: &[[Vec<f32>; 2]], out: &mut [Vec<f32>]) -> anyhow::Result<()> {
    let plane = (g.input_size * g.input_size) as usize;
    for ((_, is_flow, layout, shape), dst) in g.inputs.iter().zip(out.iter_mut()) {
        let want: usize = shape[1..].iter().product();
        dst.resize(want, 0.0);
        if !is_flow {
            let l = if layout == "NCTHW" { ClipLayout::Cthw } else { ClipLayout::Tchw };
            normalize_clip(rgb, &g.normalization, l, dst)?;
            continue;
        }
        for t in 0..g.steps {
            for l in 0..g.stack {
                for (c, src) in fields[t + l].iter().enumerate() {
                    let base = match layout.as_str() {
                        "NCHW" | "NTCHW" => (t * 2 * g.stack + 2 * l + c) * plane,
                        _ => (c * g.steps + t) * plane,
                    };
                    dst[base..base + plane].copy_from_slice(src);
                }
            }
        }
    }
    Ok(())
}

/// The clip's label: the video's, or its pair's under `--flip-swap` when the clip was flipped.
fn clip_label(video: &VideoData, aug: &Augment, flip: bool) -> usize {
    match (flip, aug.flip_swap.iter().find(|(a, b)| *a == video.label || *b == video.label)) {
        (true, Some(&(a, b))) => {
            if video.label == a {
                b
            } else {
                a
            }
        }
        _ => video.label,
    }
}

/// A window seen frame by frame: each flow step takes its own field, except the steps of a
/// padded window's repeated last frame, which hold no motion (as the device computes them).
fn frame_by_frame(frames: &[u64]) -> CameraView {
    let plan = frames
        .windows(2)
        .enumerate()
        .map(|(i, p)| (p[1] == p[0] + 1).then_some(StepFlow { field: i, scale: 1.0 }))
        .collect();
    CameraView { picks: frames.to_vec(), plan }
}

/// Cached field `index` (from video frame `index` to `index + 1`) as its x and y planes,
/// checked against the frames' size.
fn cached_field(video: &VideoData, index: u64) -> anyhow::Result<(&[u8], &[u8])> {
    let field = video
        .flow
        .get(index as usize)
        .ok_or_else(|| anyhow::anyhow!("flow cache has {} fields, frame {index} needs one", video.flow.len()))?;
    let (w, h) = (video.frames[0].width, video.frames[0].height);
    if field.len() != 2 * (w * h) as usize {
        anyhow::bail!(
            "flow field {index} holds {} values, frames of {w}x{h} need {} (a cache from frames of another size)",
            field.len(),
            2 * w * h
        );
    }
    Ok(field.split_at(field.len() / 2))
}

/// Quantises f32 flow fields (x plane, y plane) to the u8 cache form.
pub fn quantise_field(x: &[f32], y: &[f32], bound: f32) -> Vec<u8> {
    x.iter().chain(y).map(|&v| to_u8(v, bound)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A 40×40 video of 8 frames whose flow is a uniform +2 px to the right, except a 10×10
    /// "actor" block moving +6 px.
    fn video(label: usize) -> VideoData {
        let frames = (0..8).map(|i| Frame::from_rgb(40, 40, vec![(i * 20) as u8; 40 * 40 * 3]).unwrap()).collect();
        let bound = 20.0;
        let field = |x: usize, y: usize| if (10..20).contains(&x) && (10..20).contains(&y) { 6.0 } else { 2.0 };
        let u: Vec<f32> = (0..1600).map(|i| field(i % 40, i / 40)).collect();
        let v = vec![0.0f32; 1600];
        VideoData {
            label,
            frames,
            flow: (0..7).map(|_| quantise_field(&u, &v, bound)).collect(),
            flow_bound: bound,
            action: None,
        }
    }

    fn geometry(mean_subtraction: bool) -> ClipGeometry {
        ClipGeometry {
            steps: 1,
            stack: 2,
            window_len: 3,
            frame_stride: 1,
            input_size: 32,
            normalization: Normalization::imagenet(),
            bound: 20.0,
            mean_subtraction,
            inputs: vec![
                ("rgb".into(), false, "NCHW".into(), vec![1, 3, 32, 32]),
                ("flow".into(), true, "NCHW".into(), vec![1, 4, 32, 32]),
            ],
        }
    }

    /// The per-pixel bilinear resample `FlowResampler` replaced, kept as its reference.
    fn resample_pixel_by_pixel(
        plane: &[u8],
        width: u32,
        region: CropBox,
        out: u32,
        bound: f32,
        scale: f32,
    ) -> Vec<f32> {
        let (sx, sy) = (region.width as f32 / out as f32, region.height as f32 / out as f32);
        let w = width as usize;
        let h = plane.len() / w;
        let mut dst = vec![0.0; (out * out) as usize];
        for oy in 0..out as usize {
            let fy = (region.y as f32 + (oy as f32 + 0.5) * sy - 0.5).clamp(0.0, (h - 1) as f32);
            let (y0, ty) = (fy.floor() as usize, fy - fy.floor());
            let y1 = (y0 + 1).min(h - 1);
            for ox in 0..out as usize {
                let fx = (region.x as f32 + (ox as f32 + 0.5) * sx - 0.5).clamp(0.0, (w - 1) as f32);
                let (x0, tx) = (fx.floor() as usize, fx - fx.floor());
                let x1 = (x0 + 1).min(w - 1);
                let at = |y: usize, x: usize| from_u8(plane[y * w + x], bound);
                let v = (at(y0, x0) * (1.0 - tx) + at(y0, x1) * tx) * (1.0 - ty)
                    + (at(y1, x0) * (1.0 - tx) + at(y1, x1) * tx) * ty;
                dst[oy * out as usize + ox] = v * scale;
            }
        }
        dst
    }

    #[test]
    fn a_flow_field_of_another_size_is_a_clear_error_not_a_panic() {
        let mut v = video(1);
        v.flow[0].truncate(10);
        let g = geometry(false);
        let mut out = vec![vec![0.0; 3 * 32 * 32], vec![0.0; 4 * 32 * 32]];
        let window = ClipIndices { frames: vec![0, 1, 2], padded: false };
        let err = make_clip::<rand_chacha::ChaCha8Rng>(&v, &g, &Augment::default(), None, Some(&window), &mut out)
            .unwrap_err();
        assert!(err.to_string().contains("flow field 0 holds 10 values"), "{err}");
    }

    #[test]
    fn the_shared_taps_resample_exactly_as_pixel_by_pixel() {
        let (w, h) = (41u32, 29u32);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let plane: Vec<u8> = (0..w * h).map(|_| rng.random()).collect();
        let crops = [
            CropBox { x: 0, y: 0, width: w, height: h },
            CropBox { x: 3, y: 2, width: 20, height: 17 },
            CropBox { x: 21, y: 12, width: 20, height: 17 },
            CropBox { x: 40, y: 28, width: 1, height: 1 },
        ];
        for crop in crops {
            for out in [1u32, 7, 32] {
                let r = FlowResampler::new(w, h, crop, out, 12.5);
                let mut got = vec![f32::NAN; (out * out) as usize];
                r.apply(&plane, 1.7, &mut got);
                let want = resample_pixel_by_pixel(&plane, w, crop, out, 12.5, 1.7);
                assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "crop {crop:?} out {out}");
            }
        }
    }

    #[test]
    fn a_flipped_clip_of_a_mirror_class_gets_its_twins_label_and_negated_flow() {
        let g = geometry(false);
        let aug = Augment {
            flip_swap: vec![(1, 2)],
            colour_jitter: 0.0,
            crop_scale: (1.0, 1.0),
            crop_ratio: (1.0, 1.0),
            ..Augment::default()
        };
        let (mut flipped, mut kept) = (0, 0);
        for seed in 0..16 {
            let mut out = vec![vec![0.0; 3 * 32 * 32], vec![0.0; 4 * 32 * 32]];
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let label = make_clip(&video(1), &g, &aug, Some(&mut rng), None, &mut out).unwrap();
            let mean_x: f32 = out[1][..32 * 32].iter().sum::<f32>() / 1024.0;
            if label == 2 {
                flipped += 1;
                assert!(mean_x < 0.0, "a flipped clip's flow points left: {mean_x}");
            } else {
                assert_eq!(label, 1);
                kept += 1;
                assert!(mean_x > 0.0, "an unflipped clip's flow points right: {mean_x}");
            }
            // Another class is never relabelled.
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            assert_eq!(make_clip(&video(5), &g, &aug, Some(&mut rng), None, &mut out).unwrap(), 5);
        }
        assert!(flipped > 0 && kept > 0, "flipped {flipped}, kept {kept}");
    }

    #[test]
    fn training_windows_stay_on_the_action_where_the_dataset_gives_it() {
        // Uniform frames of brightness 20·i: the RGB input's first value says which frame the
        // window's middle (its RGB frame) is.
        let g = geometry(false);
        let mut out = vec![vec![0.0; 3 * 32 * 32], vec![0.0; 4 * 32 * 32]];
        let middle_of: Vec<f32> = (0..6u64)
            .map(|start| {
                let window = ClipIndices { frames: vec![start, start + 1, start + 2], padded: false };
                make_clip::<rand_chacha::ChaCha8Rng>(&video(0), &g, &Augment::default(), None, Some(&window), &mut out)
                    .unwrap();
                out[0][0]
            })
            .collect();
        let mut starts = |action_windows: bool| {
            let aug = Augment { colour_jitter: 0.0, action_windows, ..Augment::default() };
            let v = VideoData { action: Some((5, 8)), ..video(0) };
            let mut seen = std::collections::BTreeSet::new();
            for seed in 0..64 {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                make_clip(&v, &g, &aug, Some(&mut rng), None, &mut out).unwrap();
                seen.insert(middle_of.iter().position(|&m| m == out[0][0]).expect("a whole window"));
            }
            seen.into_iter().collect::<Vec<_>>()
        };
        // Action frames 5..8, window 3: at least 2 of its frames on the action.
        assert_eq!(starts(true), vec![4, 5]);
        assert_eq!(starts(false), vec![0, 1, 2, 3, 4, 5]);
    }

    /// Flow values (px, before the crop's resize) of a clip's two steps, read back from the
    /// flow input; field `i` of `speeding_video` moves `i + 1` px.
    fn step_motion(out: &[Vec<f32>]) -> [f32; 2] {
        let plane = 32 * 32;
        // One step of stack 2: planes x0, y0, x1, y1; a 40 px frame resized to 32 (× 0.8).
        [0, 2].map(|p| out[1][p * plane + 100] * 20.0 / 0.8)
    }

    /// 8 frames of brightness 20·i whose field `i` is a uniform `i + 1` px to the right.
    fn speeding_video() -> VideoData {
        let flow = (0..7).map(|i| quantise_field(&vec![(i + 1) as f32; 1600], &vec![0.0; 1600], 20.0)).collect();
        VideoData { flow, ..video(0) }
    }

    #[test]
    fn slow_camera_clips_hold_frames_and_spread_the_motion_between_them() {
        let g = geometry(false);
        let fixed = Augment {
            flip: false,
            colour_jitter: 0.0,
            crop_scale: (1.0, 1.0),
            crop_ratio: (1.0, 1.0),
            ..Augment::default()
        };
        let slow = Augment { slow_camera: Some(SlowCamera { probability: 1.0, max_factor: 3.0 }), ..fixed.clone() };
        let mut out = vec![vec![0.0; 3 * 32 * 32], vec![0.0; 4 * 32 * 32]];
        // u8 quantisation with a 20 px bound: about ±0.08 px per field.
        let near = |v: f32, want: f32| (v - want).abs() < 0.2;
        let (mut held, mut spread) = (0, 0);
        for seed in 0..64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            make_clip(&speeding_video(), &g, &fixed, Some(&mut rng), None, &mut out).unwrap();
            let [a, b] = step_motion(&out);
            assert!(near(b, a + 1.0) && near(a, a.round()), "frame by frame: consecutive fields, {a} then {b}");

            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            make_clip(&speeding_video(), &g, &slow, Some(&mut rng), None, &mut out).unwrap();
            let steps = step_motion(&out);
            // Each step is the mean of the fields between two camera frames at most 3 apart
            // (the mean of `a+1 ..= b` px is `(a + b + 1) / 2`), or nothing when the whole
            // window shows one camera frame, as on the device.
            let means: Vec<f32> = (0..7)
                .flat_map(|a| (a + 1..=(a + 3).min(7)).map(move |b| (a + b + 1) as f32 / 2.0))
                .chain([0.0])
                .collect();
            for v in steps {
                assert!(means.iter().any(|&m| near(v, m)), "seed {seed}: {v} px is no mean of cached fields");
            }
            held += near(steps[0], steps[1]) as usize;
            spread += steps.iter().any(|v| !near(*v, v.round())) as usize;
        }
        assert!(held > 0 && spread > 0, "held {held}, spread {spread} of 64");
    }

    #[test]
    fn mean_subtraction_leaves_only_the_actors_relative_motion() {
        let g = geometry(true);
        let mut out = vec![vec![0.0; 3 * 32 * 32], vec![0.0; 4 * 32 * 32]];
        make_clip::<rand_chacha::ChaCha8Rng>(&video(0), &g, &Augment::default(), None, None, &mut out).unwrap();
        let x = &out[1][..32 * 32];
        // Centre crop 32 of 40: offset 4; the actor block covers crop pixels 6..16.
        let background = x[30 * 32 + 30];
        let actor = x[10 * 32 + 10];
        assert!(background.abs() < 0.02, "background {background}");
        assert!(actor > 0.15, "actor {actor} (4 px of relative motion / 20 px bound)");
        let mean: f32 = x.iter().sum::<f32>() / x.len() as f32;
        assert!(mean.abs() < 1e-3, "mean {mean}");
    }
}
