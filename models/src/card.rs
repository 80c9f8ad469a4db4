//! The model card: the contract a model file carries in its ONNX `metadata_props`.
//!
//! # Keys
//! Every entry's key starts with `motus.`; complex values are JSON text, integers are decimal
//! text (also valid JSON).
//!
//! | key | value |
//! |---|---|
//! | `motus.card_version` | `"1"` |
//! | `motus.arch` | the [`ArchSpec`] as JSON (`{"arch": "two-stream", ...}`) |
//! | `motus.labels` | JSON array of class names, index = output column |
//! | `motus.inputs` | JSON array of [`TensorDecl`] (`name`, `layout`, `shape` with `-1` for the batch, `dtype`) |
//! | `motus.clip_len` | frames per clip |
//! | `motus.frame_stride` | source frames between clip frames |
//! | `motus.input_size` | square crop side, px |
//! | `motus.resize_short` | short side before the crop, px |
//! | `motus.normalization` | JSON `{"mean": [r, g, b], "std": [r, g, b]}` |
//! | `motus.fps` | optional: frames per second the clips were sampled at (see [`InputSpec::fps`]) |
//! | `motus.flow` | JSON `null` or [`FlowSpec`] |
//! | `motus.weights_sha256` | hex SHA-256 of the weights (see [`weights_sha256`]) |
//! | `motus.producer` | `"motus <version>"` |
//! | `motus.evaluations` | optional: JSON array of [`CardEvaluation`] |
//! | `motus.quantization` | optional: JSON [`QuantizationRecord`] (int8 models made by `motus quant`) |
//! | `motus.alert_benchmarks` | optional: JSON array of [`AlertBenchmark`] (false alerts on footage, `motus bench alerts --record`) |
//! | `motus.calibration` | optional: JSON [`Calibration`] (a temperature for the scores, `motus card calibrate`) |
//!
//! # Sidecar
//! A model exported by another tool carries no card; it can be given one as a TOML sidecar
//! file ([`ModelCard::to_toml`] / [`ModelCard::from_toml`]), conventionally `<model>.card.toml`
//! next to `<model>.onnx` ([`sidecar_path`]). The sidecar is the serde form of [`ModelCard`]
//! (`labels`, `producer`, `weights_sha256` at the top, then `[arch]`, `[[inputs]]`, `[input]`
//! with `[input.clip]` and `[input.normalization]`, and `[flow]` when the model reads flow).

use crate::ir::ParamSpec;
use crate::{ArchSpec, ClipSpec, ContractError, InputSpec, Normalization};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const KEY_PREFIX: &str = "motus.";
pub const CARD_VERSION: &str = "1";

/// One graph input as the card declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorDecl {
    pub name: String,
    /// Axis letters (`NCTHW`, `NTCHW`, `NCHW`).
    pub layout: String,
    /// `-1` on the batch axis.
    pub shape: Vec<i64>,
    /// `"f32"`.
    pub dtype: String,
}

/// How the flow input was computed (must be reproduced exactly at inference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowSpec {
    /// e.g. `"dis-fast"`, `"tvl1"`.
    pub algorithm: String,
    /// Algorithm parameters, free-form JSON object.
    pub params: serde_json::Value,
    /// Flow is clipped to `±bound` pixels before encoding.
    pub bound: f32,
    /// Flow fields per stacked input (`L`).
    pub stack_len: u32,
    /// Each field's mean displacement over the crop is subtracted before clipping (camera
    /// motion compensation, as in the two-stream paper). Absent in older cards: false.
    #[serde(default)]
    pub mean_subtraction: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub arch: ArchSpec,
    pub labels: Vec<String>,
    pub inputs: Vec<TensorDecl>,
    /// Clip sampling, crop size, resize and normalisation (stored as separate keys).
    pub input: InputSpec,
    pub flow: Option<FlowSpec>,
    pub weights_sha256: String,
    pub producer: String,
    /// Accuracy measured on this exact file (newest last), so a user can re-measure and compare
    /// (`motus eval`), and a test can hold a shipped model to its own figure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluations: Vec<CardEvaluation>,
    /// How an int8 model was made from its float source (absent for float models, and in
    /// cards written before the quantizer existed). `weights_sha256` of a quantized model is
    /// that of the float weights it was quantized from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<QuantizationRecord>,
    /// False alerts measured on this exact file over footage whose fair alerts are listed
    /// (newest last): what a user deploying it on real cameras should expect, beside the
    /// accuracy figures measured on labelled clips.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_benchmarks: Vec<AlertBenchmark>,
    /// A temperature every consumer applies to the scores, so a probability of 0.8 means right
    /// about 80% of the time on held-out clips, and alert thresholds mean the same across
    /// models. Absent: the graph's probabilities are used as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// Temperature scaling fitted on held-out labelled clips (`motus card calibrate`): calibrated
/// probabilities are `softmax(logits / temperature)`, which for a graph that outputs
/// probabilities `p` is `p^(1/T)` renormalised. The ranking of classes never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// `T` in `softmax(logits / T)`: above 1 softens overconfident scores, below 1 sharpens.
    pub temperature: f32,
    /// What it was fitted on: the list, the protocol, how many clips.
    pub data: String,
    /// Mean negative log-likelihood of the true class per clip, before and after.
    pub nll_before: f64,
    pub nll_after: f64,
    /// Expected calibration error (15 equal-width confidence bins), before and after.
    pub ece_before: f64,
    pub ece_after: f64,
}

/// The temperatures a card may carry: outside this range a fit has failed (it would make
/// every score nearly 0/1 or nearly uniform).
pub const TEMPERATURE_RANGE: (f32, f32) = (0.05, 20.0);

/// One false-alert measurement recorded in a card (`motus bench alerts --record`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertBenchmark {
    /// What was measured on: the footage, its licence or origin, how many clips.
    pub data: String,
    /// How: the pipeline settings (defaults or a named config), motus version.
    pub method: String,
    /// Minutes of footage.
    pub minutes: f64,
    pub alerts: usize,
    /// Alerts of a class the footage's list does not allow.
    pub false_alerts: usize,
    pub false_alerts_per_minute: f64,
}

/// What `motus quant` did to a model: the method, the calibration set, the layers it left in
/// float, and the accuracy of the float source and of the result on the same validation clips,
/// so the int8 file carries the evidence that it is fit to ship.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizationRecord {
    /// `qoperator`, `qdq` or `weights`.
    pub format: String,
    /// Activation observer (`minmax`, `percentile(99.99)`, `entropy`); `none` for weight-only.
    pub observer: String,
    /// Weights and activations: e.g. `s8 symmetric per-channel weights, u8 per-tensor activations, i32 bias`.
    pub scheme: String,
    /// The calibration data: list, protocol and number of clips.
    pub calibration: String,
    /// SHA-256 of the float ONNX file this model was made from.
    pub source_sha256: String,
    /// Nodes computed in int8.
    pub quantized_nodes: Vec<String>,
    /// Nodes with weights (or otherwise quantizable) left in float, each with its reason.
    #[serde(default)]
    pub float_nodes: Vec<FloatNode>,
    /// The accuracy guard's budget in video Hit@1 points, when one was set.
    #[serde(default)]
    pub max_drop: Option<f64>,
    /// Float source and int8 result on the same validation clips (absent without `--val`).
    #[serde(default)]
    pub float_accuracy: Option<CardEvaluation>,
    #[serde(default)]
    pub int8_accuracy: Option<CardEvaluation>,
}

/// A node the quantizer left in float, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatNode {
    pub node: String,
    pub op: String,
    pub reason: String,
}

/// One accuracy measurement recorded in a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardEvaluation {
    /// What was measured on: dataset, split, seed, number of videos.
    pub data: String,
    /// How: runtime, preprocessing and flow path, test protocol.
    pub method: String,
    pub n_videos: usize,
    pub clip_top1: f64,
    pub video_top1: f64,
    pub video_top5: f64,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CardError {
    #[error("the model has no motus card (no metadata_props key starting with \"motus.\"); supply a sidecar card")]
    NoCard,
    #[error("model card is missing key {0:?}")]
    MissingKey(&'static str),
    #[error("model card key {key:?} is not valid: {reason}")]
    BadValue { key: &'static str, reason: String },
    #[error("model card version {0:?} is not supported (expected {CARD_VERSION:?})")]
    Version(String),
    #[error("model card input contract is invalid: {0}")]
    Contract(#[from] ContractError),
    #[error("model card contradicts the model: {0}")]
    Contradiction(String),
    #[error("sidecar card is not valid TOML for a model card: {0}")]
    Sidecar(String),
}

/// Where the sidecar card of a model file is looked for: `dir/name.onnx` → `dir/name.card.toml`.
pub fn sidecar_path(model: &std::path::Path) -> std::path::PathBuf {
    model.with_extension("card.toml")
}

/// The producer string of this build.
pub fn producer() -> String {
    format!("motus {}", env!("CARGO_PKG_VERSION"))
}

/// SHA-256 of the weights in canonical order: parameters in the graph's declaration order
/// ([`crate::ir::Graph::params`]), each as its raw `f32` little-endian values (IR layout, before
/// BatchNorm folding or gate reordering), concatenated. Missing parameters hash as empty.
pub fn weights_sha256(params: &[ParamSpec], weights: &HashMap<String, Vec<f32>>) -> String {
    let mut h = Sha256::new();
    for p in params {
        if let Some(w) = weights.get(&p.name) {
            for v in w {
                h.update(v.to_le_bytes());
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl ModelCard {
    /// A card for a freshly built spec: inputs from the lowered graph, frame stride 1,
    /// short side resized to `input_size · 8/7` (128 for 112), ImageNet normalisation, and
    /// TV-L1 flow clipped to ±20 px where the architecture reads flow, with its parameters
    /// left empty for the exporter to fill from the flow engine it used (a card with empty
    /// TV-L1 parameters is refused by the runtime). `weights_sha256` is left empty (the
    /// exporter stamps it).
    pub fn for_spec(spec: &ArchSpec, graph: &crate::ir::Graph, labels: Vec<String>) -> ModelCard {
        let inputs = graph
            .inputs
            .iter()
            .map(|i| TensorDecl {
                name: i.name.clone(),
                layout: i.layout.clone(),
                shape: std::iter::once(-1).chain(i.shape[1..].iter().map(|&d| d as i64)).collect(),
                dtype: "f32".into(),
            })
            .collect();
        let n = spec.input_size() as u32;
        ModelCard {
            arch: spec.clone(),
            labels,
            inputs,
            input: InputSpec {
                clip: ClipSpec { clip_len: spec.clip_len() as u32, frame_stride: 1 },
                input_size: n,
                resize_short: (n * 8).div_ceil(7),
                normalization: Normalization::imagenet(),
                fps: None,
            },
            flow: spec.flow_stack_len().map(|l| FlowSpec {
                algorithm: "tvl1".into(),
                params: serde_json::json!({}),
                bound: 20.0,
                stack_len: l as u32,
                mean_subtraction: true,
            }),
            weights_sha256: String::new(),
            producer: producer(),
            evaluations: Vec::new(),
            quantization: None,
            alert_benchmarks: Vec::new(),
            calibration: None,
        }
    }

    /// One line on what this file was measured to do, from its own records: the newest
    /// accuracy (`evaluations`) and the newest false-alert rate on footage
    /// (`alert_benchmarks`), each with what it was measured on, or that none is recorded. The
    /// runtime logs it at start so a user sees what to expect before the first alert.
    pub fn measured_summary(&self) -> String {
        let accuracy = match self.evaluations.last() {
            Some(e) => format!("video Hit@1 {:.1}% on {} ({} videos)", e.video_top1 * 100.0, e.data, e.n_videos),
            None => "no accuracy recorded".to_string(),
        };
        let alerts = match self.alert_benchmarks.last() {
            Some(b) => {
                format!("{:.2} false alerts a minute on {} ({:.1} min)", b.false_alerts_per_minute, b.data, b.minutes)
            }
            None => "no false-alert rate on footage recorded".to_string(),
        };
        format!("{accuracy}; {alerts}")
    }

    /// The card as a TOML sidecar document.
    pub fn to_toml(&self) -> Result<String, CardError> {
        toml::to_string(self).map_err(|e| CardError::Sidecar(e.to_string()))
    }

    /// Parses and validates a TOML sidecar card.
    pub fn from_toml(text: &str) -> Result<ModelCard, CardError> {
        let card: ModelCard = toml::from_str(text).map_err(|e| CardError::Sidecar(e.to_string()))?;
        card.validate()?;
        Ok(card)
    }

    /// The `metadata_props` entries of this card.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let j = |v: &dyn erased::Json| v.json();
        let c = &self.input;
        let mut entries = vec![
            ("motus.card_version".into(), CARD_VERSION.into()),
            ("motus.arch".into(), j(&self.arch)),
            ("motus.labels".into(), j(&self.labels)),
            ("motus.inputs".into(), j(&self.inputs)),
            ("motus.clip_len".into(), c.clip.clip_len.to_string()),
            ("motus.frame_stride".into(), c.clip.frame_stride.to_string()),
            ("motus.input_size".into(), c.input_size.to_string()),
            ("motus.resize_short".into(), c.resize_short.to_string()),
            ("motus.normalization".into(), j(&c.normalization)),
            ("motus.flow".into(), j(&self.flow)),
            ("motus.weights_sha256".into(), self.weights_sha256.clone()),
            ("motus.producer".into(), self.producer.clone()),
        ];
        if let Some(fps) = c.fps {
            entries.push(("motus.fps".into(), j(&fps)));
        }
        if !self.evaluations.is_empty() {
            entries.push(("motus.evaluations".into(), j(&self.evaluations)));
        }
        if let Some(q) = &self.quantization {
            entries.push(("motus.quantization".into(), j(q)));
        }
        if !self.alert_benchmarks.is_empty() {
            entries.push(("motus.alert_benchmarks".into(), j(&self.alert_benchmarks)));
        }
        if let Some(c) = &self.calibration {
            entries.push(("motus.calibration".into(), j(c)));
        }
        entries
    }

    /// Parses a card from `metadata_props` entries and checks it is self-consistent.
    pub fn from_metadata(entries: &[(String, String)]) -> Result<ModelCard, CardError> {
        if !entries.iter().any(|(k, _)| k.starts_with(KEY_PREFIX)) {
            return Err(CardError::NoCard);
        }
        let get = |key: &'static str| -> Result<&str, CardError> {
            entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).ok_or(CardError::MissingKey(key))
        };
        fn parse<T: serde::de::DeserializeOwned>(key: &'static str, text: &str) -> Result<T, CardError> {
            serde_json::from_str(text).map_err(|e| CardError::BadValue { key, reason: e.to_string() })
        }
        /// A key later card versions added: absent reads as `None`, present must parse.
        fn optional<T: serde::de::DeserializeOwned>(
            entries: &[(String, String)],
            key: &'static str,
        ) -> Result<Option<T>, CardError> {
            entries.iter().find(|(k, _)| k == key).map(|(_, v)| parse(key, v)).transpose()
        }
        let version = get("motus.card_version")?;
        if version != CARD_VERSION {
            return Err(CardError::Version(version.to_string()));
        }
        let card = ModelCard {
            arch: parse("motus.arch", get("motus.arch")?)?,
            labels: parse("motus.labels", get("motus.labels")?)?,
            inputs: parse("motus.inputs", get("motus.inputs")?)?,
            input: InputSpec {
                clip: ClipSpec {
                    clip_len: parse("motus.clip_len", get("motus.clip_len")?)?,
                    frame_stride: parse("motus.frame_stride", get("motus.frame_stride")?)?,
                },
                input_size: parse("motus.input_size", get("motus.input_size")?)?,
                resize_short: parse("motus.resize_short", get("motus.resize_short")?)?,
                normalization: parse("motus.normalization", get("motus.normalization")?)?,
                fps: optional(entries, "motus.fps")?,
            },
            flow: parse("motus.flow", get("motus.flow")?)?,
            weights_sha256: get("motus.weights_sha256")?.to_string(),
            producer: get("motus.producer")?.to_string(),
            evaluations: optional(entries, "motus.evaluations")?.unwrap_or_default(),
            quantization: optional(entries, "motus.quantization")?,
            alert_benchmarks: optional(entries, "motus.alert_benchmarks")?.unwrap_or_default(),
            calibration: optional(entries, "motus.calibration")?,
        };
        card.validate()?;
        Ok(card)
    }

    /// Checks the card agrees with itself: valid input contract, labels vs the arch's class
    /// count, crop size and clip length vs the arch, flow present iff the arch reads flow.
    pub fn validate(&self) -> Result<(), CardError> {
        self.input.validate()?;
        let contra = |m: String| Err(CardError::Contradiction(m));
        if let Some(c) = &self.calibration {
            let (lo, hi) = TEMPERATURE_RANGE;
            if !(c.temperature.is_finite() && (lo..=hi).contains(&c.temperature)) {
                return Err(CardError::BadValue {
                    key: "motus.calibration",
                    reason: format!("temperature {} is outside {lo}..={hi}", c.temperature),
                });
            }
        }
        if let Some(reason) = label_problem(&self.labels) {
            return Err(CardError::BadValue { key: "motus.labels", reason });
        }
        if self.labels.len() != self.arch.num_classes() {
            return contra(format!(
                "{} labels but the architecture has {} classes",
                self.labels.len(),
                self.arch.num_classes()
            ));
        }
        if self.input.input_size as usize != self.arch.input_size() {
            return contra(format!(
                "input_size {} but the architecture takes {}",
                self.input.input_size,
                self.arch.input_size()
            ));
        }
        if self.input.clip.clip_len as usize != self.arch.clip_len() {
            return contra(format!(
                "clip_len {} but the architecture reads {} frames",
                self.input.clip.clip_len,
                self.arch.clip_len()
            ));
        }
        match (&self.flow, self.arch.flow_stack_len()) {
            (None, Some(_)) => {
                return contra(format!("{} reads optical flow but the card has no flow section", self.arch.name()))
            }
            (Some(_), None) => {
                return contra(format!("{} reads no optical flow but the card has a flow section", self.arch.name()))
            }
            (Some(f), Some(l)) if f.stack_len as usize != l => {
                return contra(format!("flow stack_len {} but the architecture stacks {l}", f.stack_len))
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks the card against the graph it was found in: the same input names and shapes
    /// (batch axis free), and one label per output column.
    pub fn check_graph(&self, inputs: &[(String, Vec<i64>)], num_outputs: usize) -> Result<(), CardError> {
        let contra = |m: String| Err(CardError::Contradiction(m));
        for d in &self.inputs {
            let Some((_, shape)) = inputs.iter().find(|(n, _)| *n == d.name) else {
                let names: Vec<&str> = inputs.iter().map(|(n, _)| n.as_str()).collect();
                return contra(format!("card input {:?} is not a graph input (graph has {names:?})", d.name));
            };
            let fits = shape.len() == d.shape.len()
                && shape.iter().zip(&d.shape).enumerate().all(|(i, (&g, &c))| (i == 0 && (g < 0 || c < 0)) || g == c);
            if !fits {
                return contra(format!("input {:?}: card shape {:?}, graph shape {shape:?}", d.name, d.shape));
            }
        }
        for (n, _) in inputs {
            if !self.inputs.iter().any(|d| &d.name == n) {
                return contra(format!("graph input {n:?} is not described by the card"));
            }
        }
        if self.labels.len() != num_outputs {
            return contra(format!("{} labels but the model outputs {num_outputs} classes", self.labels.len()));
        }
        Ok(())
    }
}

/// The longest class name a card may hold, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// What is wrong with a card's class names, if anything: each is shown in logs and alerts,
/// names config rules and metric series and is part of alert ids, so it must be non-empty,
/// at most [`MAX_LABEL_CHARS`] long, free of control characters, and unique.
fn label_problem(labels: &[String]) -> Option<String> {
    for (i, l) in labels.iter().enumerate() {
        let problem = if l.trim().is_empty() {
            "is empty"
        } else if l.chars().count() > MAX_LABEL_CHARS {
            "is longer than 200 characters"
        } else if l.chars().any(char::is_control) {
            "contains a control character"
        } else if labels[..i].contains(l) {
            "appears twice"
        } else {
            continue;
        };
        return Some(format!("label {i} {l:?} {problem}"));
    }
    None
}

/// Small helper so `to_metadata` can serialise heterogeneous values in one table.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("card values serialise")
        }
    }
}
