//! Clip assembly: one window of decoded frames → the model's input tensors, laid out as its
//! card says.
//!
//! This is the single place where frames become network inputs, shared by `motus eval` and
//! the device's sliding window, so what is measured offline is what runs live.
//!
//! # The window
//!
//! A window is `window_len` frames taken `frame_stride` source frames apart (see
//! [`ClipBuilder::window_spec`], which a dataset sampler (`motus_lab::dataset::sampler`) takes as its clip spec).
//! Every frame goes through the card's spatial pipeline ([`FramePipeline`]: short-side resize,
//! square crop); flow fields are computed between consecutive window frames, *after* the crop,
//! at model resolution. With `T` time steps and `L` flow fields per stack:
//!
//! - RGB-only models: `window_len = T` (the card's `clip_len`); step `t` is window frame `t`.
//! - Flow models: `window_len = T + L`. Step `t` stacks fields `t, …, t+L-1` (field `i` is the
//!   flow from window frame `i` to `i+1`) and takes window frame `t + L/2`, the middle of its
//!   stack, as RGB. A two-stream net (`T = 1`) thus reads `L + 1` frames and the centre one as
//!   RGB; I3D (`L = 1`) reads `T + 1` frames, one field per frame; fused-3d reads `T + L`.
//!   The card's `clip_len` may state either `T` or `T + L`.
//!
//! # Inputs and layouts
//!
//! The RGB input is normalised with the card's mean and std into `NCTHW`, `NTCHW` or `NCHW`
//! (one frame). The flow input (the card input whose name contains `flow`) is clipped to the
//! card's ±bound and scaled to [-1, 1] ([`crate::flow::encode::to_unit`]) — after subtracting
//! each field's mean over the crop when the card asks for mean subtraction — as `NCHW`
//! `[1, 2L, H, W]` (x₁, y₁, x₂, y₂, …), `NTCHW` `[1, T, 2L, H, W]` or `NCTHW` `[1, 2, T, H, W]`
//! (`L = 1`). Every shape is checked against the card when the builder is made, so a model
//! whose declared inputs do not fit its own clip contract is refused before any video is read.
//!
//! # Reuse
//!
//! A [`ClipBuilder`] owns its flow engine, the processed frames, the flow fields and the
//! tensors, and reuses all of them window after window: the live runtime builds one per stream
//! and calls [`ClipBuilder::build`] for every window, then hands [`ClipBuilder::inputs`] to
//! [`super::Classifier::run`]. A sliding window calls [`ClipBuilder::build_advanced`] with how
//! many window frames it moved: the frames and flow fields the windows share are kept, so a
//! stride-1 window over a two-stream model computes one new flow field per window, not `L`.
//! The tensors are bit-identical to a fresh build's (tested).
//!
//! # Time
//!
//! A card with a frame rate (`fps`) expects windows of frames picked at that rate by
//! [`crate::retime`]: a slow source's frames then repeat in the window, keeping their source
//! timestamps. Each flow step is filled by [`crate::retime::flow_plan`] from those timestamps:
//! the motion between two distinct frames is spread over the repeated steps between them and
//! scaled to one model period, so a step holds the motion it held in training. Frames at the
//! model's own rate give exactly the tensors they gave before (the plan is then the identity).

use std::borrow::Borrow;
use std::time::{Duration, Instant};

use motus_models::{ClipSpec, ModelCard};

use crate::flow::encode::{finite_mean, to_unit};
use crate::flow::{self, Backend, FlowConfig, FlowEngine, FlowField};
use crate::frame::Frame;
use crate::preprocess::{
    normalize_clip, resize_short_side, square_crop, ClipLayout, CropPosition, FramePipeline, PreprocessError,
};
use crate::retime::{flow_plan, StepFlow};

use super::InputTensor;

/// Why a clip could not be assembled (or a builder could not be made for a model).
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    /// The card's inputs do not fit its clip contract, or use a layout motus cannot fill.
    #[error("model input {input:?}: {msg}")]
    Contract { input: String, msg: String },
    /// The card asks for flow and none can be made (no engine, other settings).
    #[error("flow: {0}")]
    Flow(String),
    /// The window holds the wrong number of frames.
    #[error("the window has {got} frames, this model needs {want} (window_len)")]
    WindowLength { got: usize, want: usize },
    /// A frame could not be resized or cropped.
    #[error("frame {index} of the window: {source}")]
    Preprocess { index: usize, source: PreprocessError },
    /// The flow engine failed on a frame pair.
    #[error("flow between window frames {index} and {next}: {source}", next = .index + 1)]
    FlowEngine { index: usize, source: flow::FlowError },
}

/// What an input carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Rgb,
    Flow,
}

/// How one input's values are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `[N, C, T, H, W]`
    Ncthw,
    /// `[N, T, C, H, W]`
    Ntchw,
    /// `[N, C, H, W]`: one time step.
    Nchw,
}

/// One model input: its name, role, layout, batch-1 shape and the reused buffer.
#[derive(Debug)]
struct Slot {
    name: String,
    role: Role,
    layout: Layout,
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// Time spent in each stage of the last [`ClipBuilder::build`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClipTimings {
    /// Resize, crop and normalisation of every window frame.
    pub preprocess: Duration,
    /// Optical flow and its encoding (zero for RGB-only models).
    pub flow: Duration,
}

/// The largest [`ClipBuilder::set_zoom`]: beyond it the crop sees too little of a frame to
/// hold a person.
pub const MAX_ZOOM: f32 = 4.0;

/// Builds a model's input tensors from windows of decoded frames; see the module docs for
/// what a window is and how each layout is filled.
pub struct ClipBuilder {
    pipeline: FramePipeline,
    /// The card's short-side size, which [`ClipBuilder::set_zoom`] scales.
    card_resize_short: u32,
    normalization: motus_models::Normalization,
    frame_stride: u32,
    steps: usize,
    stack: usize,
    bound: f32,
    /// Subtract each field's mean before encoding (the card's camera-motion compensation).
    mean_subtraction: bool,
    engine: Option<Box<dyn FlowEngine>>,
    slots: Vec<Slot>,
    processed: Vec<Frame>,
    fields: Vec<FlowField>,
    timings: ClipTimings,
    /// Crop of the last successful build; `None` when there is none to continue from.
    last_crop: Option<CropPosition>,
    /// Scratch plane for shifting kept flow fields ([`Self::build_sliding`]).
    shift_scratch: Vec<f32>,
    /// The time between two window frames (`frame_stride` model frames), when the card has a
    /// rate: flow steps are then filled by [`flow_plan`] from the window's timestamps.
    frame_period: Option<Duration>,
}

impl std::fmt::Debug for ClipBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipBuilder")
            .field("window_len", &self.window_len())
            .field("steps", &self.steps)
            .field("stack", &self.stack)
            .field("engine", &self.engine.as_ref().map(|e| e.name().to_string()))
            .finish()
    }
}

fn layout_of(input: &str, layout: &str) -> Result<Layout, ClipError> {
    match layout {
        "NCTHW" => Ok(Layout::Ncthw),
        "NTCHW" => Ok(Layout::Ntchw),
        "NCHW" => Ok(Layout::Nchw),
        other => Err(ClipError::Contract {
            input: input.into(),
            msg: format!("layout {other:?} is not NCTHW, NTCHW or NCHW"),
        }),
    }
}

/// `(T, C, H, W)` of a batch-1 shape in `layout`, or why the shape does not fit the layout.
fn dims(input: &str, layout: Layout, shape: &[i64]) -> Result<(usize, usize, usize, usize), ClipError> {
    let want = if layout == Layout::Nchw { 4 } else { 5 };
    let bad = |msg: String| ClipError::Contract { input: input.into(), msg };
    if shape.len() != want {
        return Err(bad(format!("shape {shape:?} has {} axes, its layout needs {want}", shape.len())));
    }
    if shape[1..].iter().any(|&d| d < 1) {
        return Err(bad(format!("shape {shape:?} has a dynamic or empty axis besides the batch")));
    }
    let s: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    Ok(match layout {
        Layout::Ncthw => (s[2], s[1], s[3], s[4]),
        Layout::Ntchw => (s[1], s[2], s[3], s[4]),
        Layout::Nchw => (1, s[1], s[2], s[3]),
    })
}

impl ClipBuilder {
    /// A builder for `card`. A card with flow needs `flow`: an engine and the settings it was
    /// made with, which must match the card's ([`FlowConfig::ensure_matches`]); an RGB-only
    /// card takes `None`. Fails when the card's inputs do not fit its clip length, input size
    /// or flow stack.
    pub fn new(card: &ModelCard, flow: Option<(Box<dyn FlowEngine>, FlowConfig)>) -> Result<Self, ClipError> {
        card.input.validate().map_err(|e| ClipError::Contract { input: "(card)".into(), msg: e.to_string() })?;
        let (engine, flow_cfg) = card_flow(card, flow)?.unzip();
        let n = card.input.input_size as usize;
        let stack = flow_cfg.as_ref().map_or(0, |f| f.stack_len as usize);
        if flow_cfg.is_some() && stack == 0 {
            return Err(ClipError::Flow("the card's flow stack length is 0".into()));
        }
        if flow_cfg.is_some() && (n as u32) < flow::MIN_FRAME_SIDE {
            return Err(ClipError::Contract {
                input: "(card)".into(),
                msg: format!("input size {n} is below the {} px flow needs", flow::MIN_FRAME_SIDE),
            });
        }
        let mut slots = Vec::new();
        let mut steps = None;
        for decl in &card.inputs {
            let (slot, t) = Slot::for_input(decl, flow_cfg.is_some(), stack, n)?;
            match steps {
                None => steps = Some(t),
                Some(s) if s != t => {
                    return Err(ClipError::Contract {
                        input: decl.name.clone(),
                        msg: format!("{t} time steps, another input has {s}"),
                    })
                }
                _ => {}
            }
            slots.push(slot);
        }
        let steps = steps
            .ok_or_else(|| ClipError::Contract { input: "(card)".into(), msg: "the card declares no inputs".into() })?;
        let roles = |r: Role| slots.iter().filter(|s| s.role == r).count();
        if roles(Role::Rgb) != 1 || roles(Role::Flow) != usize::from(flow_cfg.is_some()) {
            let names: Vec<&str> = slots.iter().map(|s| s.name.as_str()).collect();
            let want = if flow_cfg.is_some() { "one RGB input and one input named *flow*" } else { "one RGB input" };
            return Err(ClipError::Contract { input: names.join(", "), msg: format!("expected {want}") });
        }
        let clip_len = card.input.clip.clip_len as usize;
        if clip_len != steps && clip_len != steps + stack {
            let rgb = &slots.iter().find(|s| s.role == Role::Rgb).expect("one RGB slot").name;
            let msg = if stack == 0 {
                format!("{steps} time steps, the card's clip_len is {clip_len}")
            } else {
                format!("{steps} time steps with {stack} flow fields each: clip_len must be {steps} or {}, the card says {clip_len}", steps + stack)
            };
            return Err(ClipError::Contract { input: rgb.clone(), msg });
        }
        Ok(ClipBuilder {
            pipeline: FramePipeline::new(card.input.clone()),
            card_resize_short: card.input.resize_short,
            normalization: card.input.normalization.clone(),
            frame_stride: card.input.clip.frame_stride,
            steps,
            stack,
            bound: flow_cfg.as_ref().map_or(0.0, |f| f.bound),
            mean_subtraction: flow_cfg.as_ref().is_some_and(|f| f.mean_subtraction),
            engine,
            slots,
            processed: Vec::new(),
            fields: Vec::new(),
            timings: ClipTimings::default(),
            last_crop: None,
            shift_scratch: Vec::new(),
            // Window frames sit `frame_stride` model frames apart.
            frame_period: card.input.fps.map(|fps| Duration::from_secs_f64(card.input.clip.frame_stride as f64 / fps)),
        })
    }

    /// A builder whose flow engine (when the card has flow) is made from the card's own
    /// settings on `backend`, with `threads` for the CPU engine: what `motus eval` uses.
    pub fn from_card(card: &ModelCard, backend: Backend, threads: usize) -> Result<Self, ClipError> {
        let flow = match &card.flow {
            None => None,
            Some(spec) => {
                let cfg = FlowConfig::from_card(spec).map_err(|e| ClipError::Flow(e.to_string()))?;
                let engine = flow::make_engine(backend, cfg.params.clone(), threads)
                    .map_err(|e| ClipError::Flow(e.to_string()))?;
                Some((engine, cfg))
            }
        };
        Self::new(card, flow)
    }

    /// Magnifies the view by `zoom` (≥ 1): frames are resized to `zoom` times the card's
    /// short side before the square crop, so the crop covers `1 / zoom` of what it covered
    /// and what it shows is `zoom` times larger. For a camera whose subjects fill less of the
    /// frame than the training videos' did; the model's input size does not change. The next
    /// build starts afresh.
    pub fn set_zoom(&mut self, zoom: f32) -> Result<(), ClipError> {
        if !(zoom.is_finite() && (1.0..=MAX_ZOOM).contains(&zoom)) {
            return Err(ClipError::Contract {
                input: "(zoom)".into(),
                msg: format!("zoom {zoom} must be in 1..={MAX_ZOOM}"),
            });
        }
        let mut spec = self.pipeline.spec().clone();
        spec.resize_short = ((self.card_resize_short as f32 * zoom).round() as u32).max(spec.input_size);
        self.pipeline = FramePipeline::new(spec);
        self.last_crop = None;
        Ok(())
    }

    /// The short side frames are resized to before the crop: the card's, times the zoom.
    pub fn resize_short(&self) -> u32 {
        self.pipeline.spec().resize_short
    }

    /// Frames per window: `T` for RGB-only models, `T + L` with flow.
    pub fn window_len(&self) -> usize {
        self.steps + self.stack
    }

    /// The window as a clip spec for the samplers: `window_len` frames, the card's stride.
    pub fn window_spec(&self) -> ClipSpec {
        ClipSpec { clip_len: self.window_len() as u32, frame_stride: self.frame_stride }
    }

    /// The flow engine's name, when the model reads flow.
    pub fn flow_engine(&self) -> Option<&str> {
        self.engine.as_ref().map(|e| e.name())
    }

    /// Fills every input from one window of `window_len` frames (any size; all of one size),
    /// cropping at `crop`. Frames may be owned or borrowed (`&[Frame]`, `&[&Frame]`).
    pub fn build<F: Borrow<Frame>>(&mut self, frames: &[F], crop: CropPosition) -> Result<ClipTimings, ClipError> {
        self.build_from(frames, crop, 0)
    }

    /// [`Self::build`] for a window that starts `advance` window frames after the previous
    /// one, as a sliding window does: the caller vouches that `frames[..window_len - advance]`
    /// are the previous window's last frames. The frames and flow fields the two windows
    /// share are then reused rather than recomputed (a stride-1 window over a two-stream
    /// model computes one flow field per window instead of `L`). Falls back to a full build
    /// when there is nothing to reuse (first window, other crop, a failed build, or
    /// `advance` of 0 or at least `window_len`); the tensors are the same either way.
    pub fn build_advanced<F: Borrow<Frame>>(
        &mut self,
        frames: &[F],
        crop: CropPosition,
        advance: usize,
    ) -> Result<ClipTimings, ClipError> {
        let reuse = if self.last_crop == Some(crop) && (1..self.window_len()).contains(&advance) {
            self.window_len() - advance
        } else {
            0
        };
        self.build_from(frames, crop, reuse)
    }

    /// [`Self::build_advanced`] for a crop that may have moved since the previous window (a
    /// crop that follows the action). The flow fields the two windows share are reused
    /// *shifted* by the crop's movement, with the strip the old crop did not cover set to zero
    /// flow, instead of all being recomputed: a whole window of TV-L1 at once would stall a
    /// live pipeline for about half a second at every move. Unlike `build_advanced` this is an
    /// approximation when the crop moved: the kept fields were computed on the old crop, so
    /// near its border they differ slightly from what the new crop would give, and the
    /// exposed strip shows no motion until its pairs leave the window. Small, frequent moves
    /// keep both effects small. With a crop that did not move it is `build_advanced`.
    pub fn build_sliding<F: Borrow<Frame>>(
        &mut self,
        frames: &[F],
        crop: CropPosition,
        advance: usize,
    ) -> Result<ClipTimings, ClipError> {
        let prev = match self.last_crop {
            Some(prev) if prev != crop && (1..self.window_len()).contains(&advance) => prev,
            _ => return self.build_advanced(frames, crop, advance),
        };
        let Some(first) = frames.first() else { return self.build_from(frames, crop, 0) };
        let (first, spec) = (first.borrow(), self.pipeline.spec());
        let (w, h) = resize_short_side(first.width, first.height, spec.resize_short);
        let shift = match (square_crop(w, h, spec.input_size, prev), square_crop(w, h, spec.input_size, crop)) {
            (Ok(a), Ok(b)) => (b.x as i64 - a.x as i64, b.y as i64 - a.y as i64),
            _ => return self.build_from(frames, crop, 0),
        };
        let keep = self.window_len() - advance;
        // Every frame is cropped anew (cheap); only the flow is carried over.
        self.build_with(frames, crop, 0, keep, shift)
    }

    /// Builds, keeping the first `keep` processed frames (and the fields between them) from
    /// the previous window's last `keep`.
    fn build_from<F: Borrow<Frame>>(
        &mut self,
        frames: &[F],
        crop: CropPosition,
        keep: usize,
    ) -> Result<ClipTimings, ClipError> {
        self.build_with(frames, crop, keep, keep, (0, 0))
    }

    /// Builds, keeping the previous window's last `keep_frames` processed frames and the
    /// fields between its last `keep_fields` frames, those fields moved by `shift` pixels
    /// (new crop origin − old) with zero flow where the old crop did not reach.
    fn build_with<F: Borrow<Frame>>(
        &mut self,
        frames: &[F],
        crop: CropPosition,
        keep_frames: usize,
        keep_fields: usize,
        shift: (i64, i64),
    ) -> Result<ClipTimings, ClipError> {
        let keep = keep_frames;
        let want = self.window_len();
        if frames.len() != want {
            return Err(ClipError::WindowLength { got: frames.len(), want });
        }
        // `keep > 0` only after a successful build (`last_crop` is set): `processed` then holds
        // `want` frames and `fields` the `want - 1` fields between them.
        self.last_crop = None;
        let start = Instant::now();
        self.processed.resize_with(want, || Frame::new(0, 0));
        self.processed.rotate_left(want - keep);
        for (index, (src, dst)) in frames.iter().zip(self.processed.iter_mut()).enumerate().skip(keep) {
            self.pipeline
                .apply(src.borrow(), crop, false, dst)
                .map_err(|source| ClipError::Preprocess { index, source })?;
        }
        let centre = self.stack / 2;
        for slot in self.slots.iter_mut().filter(|s| s.role == Role::Rgb) {
            let layout = if slot.layout == Layout::Ntchw { ClipLayout::Tchw } else { ClipLayout::Cthw };
            normalize_clip(&self.processed[centre..centre + self.steps], &self.normalization, layout, &mut slot.data)
                .map_err(|source| ClipError::Preprocess { index: centre, source })?;
        }
        let preprocess = start.elapsed();
        let mut flow = Duration::ZERO;
        if let Some(engine) = self.engine.as_mut() {
            let start = Instant::now();
            let pairs = want - 1;
            let kept = keep_fields.saturating_sub(1);
            self.fields.resize_with(pairs, || FlowField::zeros(0, 0));
            self.fields.rotate_left(pairs - kept);
            if shift != (0, 0) {
                for field in &mut self.fields[..kept] {
                    shift_field(field, shift, &mut self.shift_scratch);
                }
            }
            for (index, field) in self.fields.iter_mut().enumerate().skip(kept) {
                engine
                    .compute_into(&self.processed[index], &self.processed[index + 1], field)
                    .map_err(|source| ClipError::FlowEngine { index, source })?;
            }
            let plan = self.plan_steps(frames);
            let (steps, stack, bound) = (self.steps, self.stack, self.bound);
            for slot in self.slots.iter_mut().filter(|s| s.role == Role::Flow) {
                encode_flow(&self.fields, &plan, slot, steps, stack, bound, self.mean_subtraction);
            }
            flow = start.elapsed();
        }
        self.timings = ClipTimings { preprocess, flow };
        self.last_crop = Some(crop);
        Ok(self.timings)
    }

    /// Decides where each flow step of the window `frames` takes its motion from: its own
    /// field without a card rate, else [`flow_plan`] over the frames' timestamps.
    fn plan_steps<F: Borrow<Frame>>(&self, frames: &[F]) -> Vec<Option<StepFlow>> {
        match self.frame_period {
            Some(period) => {
                let times: Vec<Duration> = frames.iter().map(|f| f.borrow().timestamp).collect();
                flow_plan(&times, period)
            }
            None => (0..frames.len().saturating_sub(1)).map(|field| Some(StepFlow { field, scale: 1.0 })).collect(),
        }
    }

    /// The tensors of the last [`Self::build`], batch 1, named as the card names them.
    pub fn inputs(&self) -> Vec<InputTensor<'_>> {
        self.slots.iter().map(|s| InputTensor { name: &s.name, shape: &s.shape, data: &s.data }).collect()
    }

    /// Stage times of the last [`Self::build`].
    pub fn timings(&self) -> ClipTimings {
        self.timings
    }
}

/// Moves a field's content by `-shift` (the view moved by `shift`): the value at `(x, y)`
/// becomes the old value at `(x + dx, y + dy)`, zero where that lies outside.
fn shift_field(field: &mut FlowField, (dx, dy): (i64, i64), scratch: &mut Vec<f32>) {
    let (w, h) = (field.width as i64, field.height as i64);
    for plane in [&mut field.u, &mut field.v] {
        scratch.clear();
        scratch.extend_from_slice(plane);
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = (x + dx, y + dy);
                plane[(y * w + x) as usize] =
                    if (0..w).contains(&sx) && (0..h).contains(&sy) { scratch[(sy * w + sx) as usize] } else { 0.0 };
            }
        }
    }
}

/// Writes the fields into one flow input: step `t`, stack slot `j` ← the field that `plan`
/// names for window step `t + j`, scaled as it says (no motion where it names none).
fn encode_flow(
    fields: &[FlowField],
    plan: &[Option<StepFlow>],
    slot: &mut Slot,
    steps: usize,
    stack: usize,
    bound: f32,
    mean_subtraction: bool,
) {
    let plane = fields[0].len();
    for t in 0..steps {
        for j in 0..stack {
            let base_of = |c: usize| match slot.layout {
                Layout::Ncthw => (c * steps + t) * plane,
                Layout::Ntchw | Layout::Nchw => (t * 2 * stack + 2 * j + c) * plane,
            };
            let Some(step) = plan[t + j] else {
                for c in 0..2 {
                    slot.data[base_of(c)..base_of(c) + plane].fill(to_unit(0.0, bound));
                }
                continue;
            };
            let field = &fields[step.field];
            for (c, comp) in [&field.u, &field.v].into_iter().enumerate() {
                let base = base_of(c);
                let mean = if mean_subtraction { finite_mean(comp) } else { 0.0 };
                // A scale of exactly 1 leaves every value bit for bit (IEEE x * 1 = x).
                for (dst, &x) in slot.data[base..base + plane].iter_mut().zip(comp.iter()) {
                    *dst = to_unit((x - mean) * step.scale, bound);
                }
            }
        }
    }
}

/// A flow engine and the settings it computes with.
type EngineWithConfig = (Box<dyn FlowEngine>, FlowConfig);

/// The card's flow settings and the engine to compute them, checked against each other: a
/// model that reads flow needs an engine with its settings, one that does not needs none.
/// Returns the engine with the card's settings (`None` for a model without flow).
fn card_flow(card: &ModelCard, flow: Option<EngineWithConfig>) -> Result<Option<EngineWithConfig>, ClipError> {
    let flow_cfg = match &card.flow {
        Some(spec) => Some(FlowConfig::from_card(spec).map_err(|e| ClipError::Flow(e.to_string()))?),
        None => None,
    };
    let engine = match (&flow_cfg, flow) {
        (None, None) => None,
        (None, Some(_)) => return Err(ClipError::Flow("the model reads no flow, yet a flow engine was given".into())),
        (Some(_), None) => return Err(ClipError::Flow("the model reads flow and no flow engine was given".into())),
        (Some(card_cfg), Some((engine, cfg))) => {
            cfg.ensure_matches(card_cfg).map_err(|e| ClipError::Flow(e.to_string()))?;
            Some(engine)
        }
    };
    Ok(engine.zip(flow_cfg))
}

impl Slot {
    /// The buffer for one declared input, with its time steps, after checking its shape
    /// against the card: `n`×`n` frames, 3 channels for RGB, 2 per stacked flow field
    /// (`stack` of them; one field per step in NCTHW). `reads_flow`: an input named *flow*
    /// is the flow stream.
    fn for_input(
        decl: &motus_models::card::TensorDecl,
        reads_flow: bool,
        stack: usize,
        n: usize,
    ) -> Result<(Slot, usize), ClipError> {
        let layout = layout_of(&decl.name, &decl.layout)?;
        let (t, c, h, w) = dims(&decl.name, layout, &decl.shape)?;
        let bad = |msg: String| ClipError::Contract { input: decl.name.clone(), msg };
        let role = if reads_flow && decl.name.contains("flow") { Role::Flow } else { Role::Rgb };
        if (h, w) != (n, n) {
            return Err(bad(format!("shape {:?} is {h}×{w}, the card's input size is {n}×{n}", decl.shape)));
        }
        let want_c = match (role, layout) {
            (Role::Rgb, _) => 3,
            (Role::Flow, Layout::Ncthw) => 2,
            (Role::Flow, _) => 2 * stack,
        };
        if c != want_c {
            let why = match role {
                Role::Rgb => "RGB".to_string(),
                Role::Flow if layout == Layout::Ncthw => "one x,y flow field per step".to_string(),
                Role::Flow => format!("2 × {stack} stacked flow fields"),
            };
            return Err(bad(format!("shape {:?} has {c} channels, {why} needs {want_c}", decl.shape)));
        }
        if role == Role::Flow && layout == Layout::Ncthw && stack != 1 {
            return Err(bad(format!("NCTHW flow holds one field per step, the card stacks {stack}")));
        }
        let mut shape = vec![1];
        shape.extend(decl.shape[1..].iter().map(|&d| d as usize));
        let len = shape.iter().product();
        Ok((Slot { name: decl.name.clone(), role, layout, shape, data: vec![0.0; len] }, t))
    }
}

#[cfg(test)]
mod tests;
