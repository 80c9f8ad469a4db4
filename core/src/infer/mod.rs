//! Inference with tract: load an ONNX model with its motus card and classify clips.
//!
//! [`Classifier::load`] reads the file once, parses the card from the ONNX `metadata_props`
//! with motus-models' own prost messages ([`motus_models::onnx::read_model`]; this keeps one
//! reader of the card for the device, the quantizer and `motus info`, and lets a missing or
//! contradictory card be refused before tract sees the graph), then hands the same bytes to
//! tract. Input names and shapes come from the card. A model without a card (exported by
//! another tool) loads with a TOML sidecar card next to it (`<model>.card.toml`, see
//! [`motus_models::card`]) or an explicit card ([`Classifier::load_with_card`]).
//!
//! tract plans are optimised for a concrete batch size: one plan per batch size is built lazily
//! on the first [`Classifier::run`] with that batch and cached (the device runs batch 1; offline
//! evaluation may batch).

pub mod clip;
#[cfg(any(test, feature = "test-models"))]
pub mod test_models;
mod towers;

pub use clip::{ClipBuilder, ClipError, ClipTimings};
pub use towers::SplitError;

use motus_models::{onnx, CardError, ModelCard};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::*;

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("cannot read model {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("model {path}: {source}")]
    Model { path: String, source: onnx::ReadError },
    #[error("tract refused model {path}: {msg}")]
    Tract { path: String, msg: String },
    #[error("input {name:?}: {msg}")]
    Input { name: String, msg: String },
    #[error("inference failed at batch {batch}: {msg}")]
    Run { batch: usize, msg: String },
    #[error("model {path}: runtime {runtime}: {reason}")]
    Runtime {
        path: String,
        runtime: &'static str,
        #[source]
        reason: Unavailable,
    },
}

/// One input tensor: a name from the card, a row-major shape with the batch first, and data.
#[derive(Debug, Clone, Copy)]
pub struct InputTensor<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    pub data: &'a [f32],
}

/// The inference engine and its version, as benchmark reports name it (the workspace pins
/// tract exactly, so a report's numbers can be tied to the engine that produced them).
pub const ENGINE: &str = "tract-onnx 0.23.9";

/// Sets how many threads tract uses for matrix products in this process (1 = the calling
/// thread only). Boards and benchmarks choose; the default is single-threaded, which keeps
/// latency predictable when flow and inference share the cores.
pub fn set_threads(threads: usize) {
    use tract_linalg::multithread::{set_default_executor, Executor};
    set_default_executor(if threads <= 1 { Executor::SingleThread } else { Executor::multithread(threads) });
}

/// Scores for a batch: row-major `(batch, num_classes)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub batch: usize,
    pub num_classes: usize,
    pub logits: Vec<f32>,
    pub probs: Vec<f32>,
}

impl Scores {
    pub fn probs_row(&self, i: usize) -> &[f32] {
        &self.probs[i * self.num_classes..(i + 1) * self.num_classes]
    }
    pub fn logits_row(&self, i: usize) -> &[f32] {
        &self.logits[i * self.num_classes..(i + 1) * self.num_classes]
    }
}

/// A plan built for one batch size, on whichever runtime the classifier runs on.
type Plan = Arc<dyn Runnable>;

/// Where tract runs the network. The device picks it from its config: the CPU everywhere,
/// CUDA on a Jetson or workstation when `motus` is built with a `cuda-XXXXX` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InferRuntime {
    #[default]
    Cpu,
    Cuda,
}

impl std::str::FromStr for InferRuntime {
    type Err = crate::names::UnknownName;
    fn from_str(s: &str) -> Result<Self, crate::names::UnknownName> {
        match s {
            "cpu" => Ok(InferRuntime::Cpu),
            "cuda" => Ok(InferRuntime::Cuda),
            other => Err(crate::names::UnknownName::new("inference runtime", other, "cpu or cuda")),
        }
    }
}

impl InferRuntime {
    /// Whether this build can run on it at all (CUDA needs the `cuda` feature; whether a
    /// driver is present is only known when [`Classifier::set_runtime`] asks).
    pub fn compiled_in(self) -> bool {
        match self {
            InferRuntime::Cpu => true,
            InferRuntime::Cuda => cfg!(feature = "cuda"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            InferRuntime::Cpu => "cpu",
            InferRuntime::Cuda => "cuda",
        }
    }
}

/// Why an inference runtime cannot be used by this process.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("this build of motus has no tract-cuda (build with a cuda-XXXXX feature)")]
    NotBuilt,
    #[error("tract-cuda is linked but did not register its runtime")]
    NotRegistered,
    #[error("no usable CUDA driver: {0}")]
    NoDriver(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// tract-cuda's runtime from tract's registry, or why it cannot be had (not linked, no driver).
fn cuda_runtime() -> Result<&'static dyn tract_onnx::tract_core::runtime::Runtime, Unavailable> {
    match tract_onnx::tract_core::runtime::runtime_for_name("cuda") {
        Ok(Some(rt)) => Ok(rt),
        Ok(None) => Err(Unavailable::NotRegistered),
        Err(e) => Err(Unavailable::NoDriver(format!("{e:#}").into())),
    }
}

// tract-cuda registers its runtime by a link-time inventory: name the crate so it is linked.
#[cfg(feature = "cuda")]
use tract_cuda as _;

/// Temperature-scaled probabilities of `(rows, k)` probabilities: `softmax(logits / t)`,
/// computed from `ln p`, which differs from the logits by one constant per row that the
/// softmax ignores; so graphs that output only probabilities (motus's fused two-stream graphs
/// output the log of averaged probabilities) scale exactly like graphs with logits.
/// A NaN score stays NaN, so a broken graph looks as broken calibrated as not.
pub fn temperature_scaled(probs: &[f32], k: usize, t: f32) -> Vec<f32> {
    debug_assert!(t > 0.0, "temperatures are checked positive when a card is read");
    let scaled: Vec<f32> = probs.iter().map(|&p| if p.is_nan() { p } else { p.max(1e-30).ln() / t }).collect();
    softmax_rows(&scaled, k)
}

/// Row-wise softmax of `(rows, k)` logits, computed stably (max subtracted first).
fn softmax_rows(logits: &[f32], k: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks(k.max(1)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = row.iter().map(|&x| (x - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        out.extend(exp.iter().map(|&e| e / sum));
    }
    out
}

pub struct Classifier {
    source: String,
    card: ModelCard,
    model: InferenceModel,
    /// Card input index for each tract model input, in tract's input order.
    input_order: Vec<usize>,
    plans: HashMap<usize, Plan>,
    runtime: InferRuntime,
    /// The model cut into towers run side by side ([`Classifier::split_streams`]).
    towers: Option<towers::Towers>,
    /// SHA-256 of the model bytes this classifier was built from.
    sha256: String,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier").field("source", &self.source).field("arch", &self.card.arch.name()).finish()
    }
}

/// Inputs in the graph's order: the tensors, their shapes and the common batch size.
type OrderedInputs = (TVec<TValue>, Vec<Vec<usize>>, usize);

impl Classifier {
    /// Loads an ONNX model file. Its card comes from the file's `metadata_props`; a model
    /// without one is accepted when a sidecar card `<model>.card.toml` lies next to it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, InferError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| InferError::Io { path: path.to_path_buf(), source })?;
        let source = path.display().to_string();
        let sidecar = motus_models::card::sidecar_path(path);
        match Self::build(&bytes, &source, None) {
            Err(InferError::Model { source: onnx::ReadError::Card(CardError::NoCard), .. }) if sidecar.exists() => {
                let text = std::fs::read_to_string(&sidecar)
                    .map_err(|source| InferError::Io { path: sidecar.clone(), source })?;
                let card = ModelCard::from_toml(&text).map_err(|e| InferError::Model {
                    path: sidecar.display().to_string(),
                    source: onnx::ReadError::Card(e),
                })?;
                Self::build(&bytes, &source, Some(card))
            }
            other => other,
        }
    }

    /// Loads a model file with an explicit card (overriding any embedded one); the card is
    /// still checked against the graph.
    pub fn load_with_card(path: impl AsRef<Path>, card: ModelCard) -> Result<Self, InferError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| InferError::Io { path: path.to_path_buf(), source })?;
        Self::build(&bytes, &path.display().to_string(), Some(card))
    }

    /// Loads a model from bytes carrying a card; `source` names it in errors.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, InferError> {
        Self::build(bytes, source, None)
    }

    fn build(bytes: &[u8], source: &str, card: Option<ModelCard>) -> Result<Self, InferError> {
        let merr = |e| InferError::Model { path: source.to_string(), source: e };
        let proto = onnx::read_model(bytes).map_err(merr)?;
        let card = match card {
            Some(card) => {
                card.validate().map_err(|e| merr(onnx::ReadError::Card(e)))?;
                onnx::check_card(&proto, &card).map_err(merr)?;
                card
            }
            None => onnx::model_card(&proto).map_err(merr)?,
        };
        drop(proto);
        let terr = |e: TractError| InferError::Tract { path: source.to_string(), msg: format!("{e:#}") };
        let model = tract_onnx::onnx().model_for_read(&mut &bytes[..]).map_err(terr)?;
        let mut input_order = vec![];
        for outlet in model.input_outlets().map_err(terr)? {
            let name = &model.node(outlet.node).name;
            let idx = card.inputs.iter().position(|d| &d.name == name).ok_or_else(|| InferError::Tract {
                path: source.to_string(),
                msg: format!("graph input {name:?} is not in the card"),
            })?;
            input_order.push(idx);
        }
        Ok(Classifier {
            source: source.to_string(),
            card,
            model,
            input_order,
            plans: HashMap::new(),
            runtime: InferRuntime::Cpu,
            towers: None,
            sha256: crate::digest::sha256_hex(bytes),
        })
    }

    /// SHA-256 (hex) of the model bytes that were parsed into this classifier: the file is
    /// read once, so what alerts and reports name is exactly what runs, even if the file is
    /// replaced while the device runs.
    pub fn model_sha256(&self) -> &str {
        &self.sha256
    }

    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// Moves inference to `runtime`. CUDA is checked here, once, so that a board without a
    /// driver (or a build without the feature) fails at start-up with the reason, not on the
    /// first clip. Plans already built for another runtime are dropped.
    pub fn set_runtime(&mut self, runtime: InferRuntime) -> Result<(), InferError> {
        let unavailable =
            |reason: Unavailable| InferError::Runtime { path: self.source.clone(), runtime: runtime.name(), reason };
        if !runtime.compiled_in() {
            return Err(unavailable(Unavailable::NotBuilt));
        }
        if runtime == InferRuntime::Cuda {
            cuda_runtime().map_err(unavailable)?;
        }
        if runtime != self.runtime {
            self.plans.clear();
            if let Some(t) = self.towers.as_mut() {
                t.clear_plans();
            }
            self.runtime = runtime;
        }
        Ok(())
    }

    pub fn runtime(&self) -> InferRuntime {
        self.runtime
    }

    pub fn num_classes(&self) -> usize {
        self.card.labels.len()
    }

    /// Batch sizes with an optimised plan so far.
    pub fn planned_batches(&self) -> Vec<usize> {
        let mut v: Vec<usize> = match &self.towers {
            Some(t) => t.planned_batches(),
            None => self.plans.keys().copied().collect(),
        };
        v.sort();
        v
    }

    fn plan(&mut self, batch: usize) -> Result<Plan, InferError> {
        if let Some(p) = self.plans.get(&batch) {
            return Ok(p.clone());
        }
        let shapes: Vec<Vec<usize>> = self
            .input_order
            .iter()
            .map(|&ci| self.card.inputs[ci].shape.iter().map(|&d| d.max(0) as usize).collect())
            .collect();
        let plan = build_plan(&self.model, &shapes, self.runtime, &self.source, batch)?;
        self.plans.insert(batch, plan.clone());
        Ok(plan)
    }

    /// Runs a two-stream model's towers side by side, each on its own thread, instead of the
    /// whole graph on one: a window then costs the slower tower rather than both. The cut is
    /// checked against the whole graph on one random clip before it is kept. A model with
    /// no such cut (one stream, a learned fusion, another exporter's graph) stays whole and
    /// the reason comes back, for the caller to log.
    pub fn split_streams(&mut self) -> Result<(), SplitError> {
        let mut towers = towers::Towers::split(&self.model)?;
        let data: Vec<(Vec<usize>, Vec<f32>)> = self
            .card
            .inputs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let shape: Vec<usize> =
                    std::iter::once(1).chain(d.shape[1..].iter().map(|&x| x.max(1) as usize)).collect();
                let n = shape.iter().product();
                (shape, motus_models::ir::random_input(n, 17 + i as u64))
            })
            .collect();
        let names: Vec<String> = self.card.inputs.iter().map(|d| d.name.clone()).collect();
        let inputs: Vec<InputTensor> =
            names.iter().zip(&data).map(|(name, (shape, v))| InputTensor { name, shape, data: v }).collect();
        // The graph's own scores: the towers know nothing of the card's calibration.
        let whole = self.run_graph(&inputs).map_err(SplitError::Whole)?;
        let (tensors, shapes, batch) = self.tensors(&inputs).map_err(SplitError::Whole)?;
        let split = towers.run(&tensors, &shapes, batch, self.runtime, &self.source).map_err(SplitError::Towers)?;
        let diff = whole.probs.iter().zip(&split).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        if split.len() != whole.probs.len() || diff > 1e-4 {
            return Err(SplitError::Mismatch { diff, values: split.len() });
        }
        // The whole graph's plan only served the check.
        self.plans.clear();
        self.towers = Some(towers);
        Ok(())
    }

    /// Whether [`Classifier::split_streams`] cut the model into towers.
    pub fn streams_split(&self) -> bool {
        self.towers.is_some()
    }

    /// Checks `inputs` against the card and orders them as the graph wants: the tensors,
    /// their shapes and the common batch size.
    fn tensors(&self, inputs: &[InputTensor<'_>]) -> Result<OrderedInputs, InferError> {
        let ierr = |name: &str, msg: String| InferError::Input { name: name.to_string(), msg };
        for t in inputs {
            if !self.card.inputs.iter().any(|d| d.name == t.name) {
                let names: Vec<&str> = self.card.inputs.iter().map(|d| d.name.as_str()).collect();
                return Err(ierr(t.name, format!("not an input of this model (inputs: {names:?})")));
            }
        }
        let mut batch = None;
        let mut tensors = TVec::new();
        let mut shapes = Vec::new();
        for &ci in &self.input_order {
            let d = &self.card.inputs[ci];
            let t = inputs
                .iter()
                .find(|t| t.name == d.name)
                .ok_or_else(|| ierr(&d.name, format!("missing (layout {}, shape {:?})", d.layout, d.shape)))?;
            let fits = t.shape.len() == d.shape.len()
                && t.shape[0] >= 1
                && t.shape[1..].iter().zip(&d.shape[1..]).all(|(&a, &b)| a as i64 == b);
            if !fits {
                return Err(ierr(
                    t.name,
                    format!("shape {:?} does not fit {:?} ({}; -1 = any batch)", t.shape, d.shape, d.layout),
                ));
            }
            let n: usize = t.shape.iter().product();
            if t.data.len() != n {
                return Err(ierr(t.name, format!("{} values for shape {:?} ({n} expected)", t.data.len(), t.shape)));
            }
            match batch {
                None => batch = Some(t.shape[0]),
                Some(b) if b != t.shape[0] => {
                    return Err(ierr(t.name, format!("batch {} differs from the other inputs' batch {b}", t.shape[0])))
                }
                _ => {}
            }
            let tensor = Tensor::from_shape(t.shape, t.data).map_err(|e| ierr(t.name, format!("{e:#}")))?;
            tensors.push(tensor.into());
            shapes.push(t.shape.to_vec());
        }
        Ok((tensors, shapes, batch.unwrap_or(1)))
    }

    /// Runs one batch. Every card input must be given once, with shape `[B, ...]` matching the
    /// card apart from the batch `B ≥ 1`, and `B` equal across inputs. When the card carries a
    /// [`motus_models::Calibration`], `probs` are the calibrated probabilities (`logits` stay
    /// the graph's): every consumer, offline or live, sees the same calibrated scores.
    pub fn run(&mut self, inputs: &[InputTensor<'_>]) -> Result<Scores, InferError> {
        let mut scores = self.run_graph(inputs)?;
        if let Some(c) = &self.card.calibration {
            scores.probs = temperature_scaled(&scores.probs, scores.num_classes, c.temperature);
        }
        Ok(scores)
    }

    /// The graph's own scores for one batch (see [`Classifier::run`]).
    fn run_graph(&mut self, inputs: &[InputTensor<'_>]) -> Result<Scores, InferError> {
        let (tensors, shapes, batch) = self.tensors(inputs)?;
        let k = self.num_classes();
        if let Some(towers) = self.towers.as_mut() {
            let probs = towers.run(&tensors, &shapes, batch, self.runtime, &self.source)?;
            if probs.len() != batch * k {
                return Err(InferError::Run {
                    batch,
                    msg: format!("towers returned {} values, expected {batch}×{k}", probs.len()),
                });
            }
            // The graph's own output: the log of the averaged probabilities.
            let logits = probs.iter().map(|p| p.ln()).collect();
            return Ok(Scores { batch, num_classes: k, logits, probs });
        }
        let plan = self.plan(batch)?;
        let rerr = |e: TractError| InferError::Run { batch, msg: format!("{e:#}") };
        let out = plan.run(tensors).map_err(rerr)?;
        let take = |i: usize| -> Result<Vec<f32>, InferError> {
            let v = out
                .get(i)
                .ok_or_else(|| InferError::Run { batch, msg: format!("model returned {} outputs", out.len()) })?;
            let view = v.try_as_plain_ram().map_err(rerr)?;
            let s = view.as_slice::<f32>().map_err(rerr)?;
            if s.len() != batch * k {
                return Err(InferError::Run {
                    batch,
                    msg: format!("output {i} has {} values, expected {batch}×{k}", s.len()),
                });
            }
            Ok(s.to_vec())
        };
        let logits = take(0)?;
        // A model exported by another tool usually returns logits only; motus models return
        // `probs` as their second output. Either way the caller gets both.
        let probs = if out.len() == 1 { softmax_rows(&logits, k) } else { take(1)? };
        Ok(Scores { batch, num_classes: k, logits, probs })
    }
}

/// An optimised plan of `model` for `batch`, its inputs shaped `shapes` (tract's input order;
/// the batch dimension is replaced), on `runtime`.
fn build_plan(
    model: &InferenceModel,
    shapes: &[Vec<usize>],
    runtime: InferRuntime,
    source: &str,
    batch: usize,
) -> Result<Plan, InferError> {
    let terr = |e: TractError| InferError::Tract { path: source.to_string(), msg: format!("batch {batch}: {e:#}") };
    let mut m = model.clone();
    for (i, shape) in shapes.iter().enumerate() {
        let mut shape = shape.clone();
        shape[0] = batch;
        m.set_input_fact(i, f32::fact(&shape).into()).map_err(terr)?;
    }
    Ok(match runtime {
        InferRuntime::Cpu => Arc::new(m.into_optimized().map_err(terr)?.into_runnable().map_err(terr)?),
        InferRuntime::Cuda => {
            let rt = cuda_runtime().map_err(|reason| InferError::Runtime {
                path: source.to_string(),
                runtime: runtime.name(),
                reason,
            })?;
            let typed = m.into_typed().map_err(terr)?.into_decluttered().map_err(terr)?;
            Arc::from(rt.prepare(typed).map_err(terr)?)
        }
    })
}

#[cfg(test)]
mod tests;
