//! ONNX writing and reading (opset 17, IR version 8) with hand-written prost messages.
//!
//! [`export`] turns a [`Graph`] plus weights plus a [`ModelCard`] into ONNX bytes:
//! - graph inputs as in the IR with a dynamic batch axis `N`; outputs `logits` `(N, K)` and
//!   `probs = Softmax(logits, axis=1)`;
//! - node names are the IR op names (`spatial.stage1.unit0.conv`); value names are op names;
//!   initializers are the IR parameter names, except where noted below;
//! - every `BatchNorm` fed only by a `Conv` is folded into that conv (`w' = w·γ/√(σ²+ε)`,
//!   `b' = (b − μ)·γ/√(σ²+ε) + β`, stored as `P.weight` / `P.bias` of the conv) unless
//!   [`ExportOptions::fold_batchnorm`] is off, which keeps `BatchNormalization` nodes;
//! - `Lstm` becomes Transpose → LSTM (forward) → Squeeze → Transpose, with initializers
//!   `P.W`, `P.R`, `P.B` built from the PyTorch-layout parameters (gates reordered from
//!   `i, f, g, o` to ONNX's `i, o, f, c`);
//! - `L2Normalize` becomes ReduceL2 → Max(·, eps) → Div; `Reshape`/`ReduceSum`/`Squeeze` get
//!   int64 initializers `P.shape` / `P.axes`.
//!
//! The card is stored in `metadata_props` ([`crate::card`]); the exporter stamps its
//! `weights_sha256` and `producer`.

mod emit;
pub mod proto;

use crate::card::{self, CardError, ModelCard};
use crate::ir::Graph;
use prost::Message;
use proto::*;
use std::collections::{HashMap, HashSet};

pub const OPSET: i64 = 17;
pub const IR_VERSION: i64 = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// Fold BatchNorm into the preceding Conv (default). Off keeps BatchNormalization nodes,
    /// for checking the folding.
    pub fold_batchnorm: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { fold_batchnorm: true }
    }
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ExportError {
    #[error("weights have no tensor for parameter {name:?} (shape {shape:?})")]
    MissingWeight { name: String, shape: Vec<usize> },
    #[error("weight {name:?} has {got} values, the spec expects {expected} (shape {shape:?})")]
    WrongSize { name: String, expected: usize, got: usize, shape: Vec<usize> },
    #[error("weights contain {name:?}, which is not a parameter of this architecture")]
    UnexpectedWeight { name: String },
    #[error("weight {name:?} has a non-finite value at index {index}")]
    NonFinite { name: String, index: usize },
    #[error("card does not fit the graph: {0}")]
    Card(#[from] CardError),
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("ONNX file is empty")]
    Empty,
    #[error("ONNX file is truncated or corrupt: {0}")]
    Corrupt(String),
    #[error("ONNX model has no graph")]
    NoGraph,
    #[error("ONNX model has no output named \"logits\" with a known class count")]
    NoLogits,
    #[error(transparent)]
    Card(#[from] CardError),
}

/// Checks `weights` against the graph's parameters: every name present with the right
/// number of finite values, and no extra names.
pub fn check_weights(graph: &Graph, weights: &HashMap<String, Vec<f32>>) -> Result<(), ExportError> {
    for p in &graph.params {
        let w = weights
            .get(&p.name)
            .ok_or_else(|| ExportError::MissingWeight { name: p.name.clone(), shape: p.shape.clone() })?;
        if w.len() != p.numel() {
            return Err(ExportError::WrongSize {
                name: p.name.clone(),
                expected: p.numel(),
                got: w.len(),
                shape: p.shape.clone(),
            });
        }
        if let Some(index) = w.iter().position(|v| !v.is_finite()) {
            return Err(ExportError::NonFinite { name: p.name.clone(), index });
        }
    }
    let mut extra: Vec<&String> = weights.keys().filter(|k| graph.param(k).is_none()).collect();
    extra.sort();
    if let Some(name) = extra.first() {
        return Err(ExportError::UnexpectedWeight { name: (*name).clone() });
    }
    Ok(())
}

fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INTS, ints: v.to_vec(), ..Default::default() }
}
fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INT, i: v, ..Default::default() }
}
fn attr_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::FLOAT, f: v, ..Default::default() }
}
fn attr_str(name: &str, v: &str) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::STRING, s: v.as_bytes().to_vec(), ..Default::default() }
}
fn ints(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&x| x as i64).collect()
}

fn f32_tensor(name: &str, shape: &[usize], data: &[f32]) -> TensorProto {
    let mut raw = Vec::with_capacity(data.len() * 4);
    for v in data {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    TensorProto {
        name: name.into(),
        dims: ints(shape),
        data_type: data_type::FLOAT,
        raw_data: raw,
        ..Default::default()
    }
}

fn i64_tensor(name: &str, data: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: vec![data.len() as i64],
        data_type: data_type::INT64,
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

fn node(name: &str, op_type: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op_type.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute,
        ..Default::default()
    }
}

fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    let mut dim: Vec<Dimension> = vec![Dimension { dim_param: Some("N".into()), ..Default::default() }];
    dim.extend(shape[1..].iter().map(|&d| Dimension { dim_value: Some(d as i64), ..Default::default() }));
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor { elem_type: data_type::FLOAT, shape: Some(TensorShapeProto { dim }) }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// PyTorch LSTM gate chunks `i, f, g, o` → ONNX `i, o, f, c`.
fn reorder_gates(w: &[f32], hidden: usize) -> Vec<f32> {
    let chunk = w.len() / 4;
    debug_assert_eq!(chunk % hidden, 0);
    [0, 3, 1, 2].iter().flat_map(|&g| w[g * chunk..(g + 1) * chunk].iter().copied()).collect()
}

/// Writes the graph, weights and card as ONNX bytes (see the module docs).
pub fn export(
    graph: &Graph,
    weights: &HashMap<String, Vec<f32>>,
    card: &ModelCard,
    opts: &ExportOptions,
) -> Result<Vec<u8>, ExportError> {
    check_weights(graph, weights)?;
    let graph_inputs: Vec<(String, Vec<i64>)> = graph
        .inputs
        .iter()
        .map(|i| (i.name.clone(), std::iter::once(-1).chain(i.shape[1..].iter().map(|&d| d as i64)).collect()))
        .collect();
    card.validate()?;
    card.check_graph(&graph_inputs, graph.num_classes())?;
    let folding = if opts.fold_batchnorm { emit::Folding::plan(graph) } else { emit::Folding::default() };
    let mut emitter = emit::Emitter::new(graph, weights, &folding);
    for op in &graph.ops {
        emitter.emit(op);
    }
    let (mut nodes, inits) = emitter.finish();
    nodes.push(node("probs", "Softmax", &["logits"], "probs", vec![attr_int("axis", 1)]));
    let mut card = card.clone();
    card.weights_sha256 = card::weights_sha256(&graph.params, weights);
    card.producer = card::producer();
    Ok(model_proto(graph, &card, nodes, inits).encode_to_vec())
}

/// The model file: opset, producer, the graph with its inputs and the `logits` and `probs`
/// outputs, and the card in `metadata_props`.
fn model_proto(graph: &Graph, card: &ModelCard, nodes: Vec<NodeProto>, inits: Vec<TensorProto>) -> ModelProto {
    let k = graph.num_classes();
    ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        producer_name: "motus".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{} exported by {}", card.arch.name(), card.producer),
        graph: Some(GraphProto {
            name: card.arch.name().into(),
            node: nodes,
            initializer: inits,
            input: graph.inputs.iter().map(|i| value_info(&i.name, &i.shape)).collect(),
            output: vec![value_info("logits", &[1, k]), value_info("probs", &[1, k])],
            ..Default::default()
        }),
        metadata_props: card
            .to_metadata()
            .into_iter()
            .map(|(key, value)| StringStringEntryProto { key, value })
            .collect(),
        ..Default::default()
    }
}

/// Parses ONNX bytes. A truncated or corrupt file is refused with [`ReadError::Corrupt`].
/// (A file cut exactly between two top-level fields can still parse; the card check then
/// reports what is missing.)
pub fn read_model(bytes: &[u8]) -> Result<ModelProto, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    let m = ModelProto::decode(bytes).map_err(|e| ReadError::Corrupt(e.to_string()))?;
    if m.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(ReadError::NoGraph);
    }
    Ok(m)
}

/// The `metadata_props` of a model as key/value pairs.
pub fn metadata(m: &ModelProto) -> Vec<(String, String)> {
    m.metadata_props.iter().map(|e| (e.key.clone(), e.value.clone())).collect()
}

fn dims(v: &ValueInfoProto) -> Vec<i64> {
    v.r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .map(|s| s.dim.iter().map(|d| d.dim_value.unwrap_or(-1)).collect())
        .unwrap_or_default()
}

/// Graph inputs that are not initializers, with `-1` for symbolic dimensions.
pub fn graph_inputs(m: &ModelProto) -> Vec<(String, Vec<i64>)> {
    let Some(g) = &m.graph else { return vec![] };
    let inits: HashSet<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
    g.input.iter().filter(|i| !inits.contains(i.name.as_str())).map(|i| (i.name.clone(), dims(i))).collect()
}

/// Reads the card of a parsed model and checks it against the graph's inputs and the class
/// count of its `logits` output.
pub fn model_card(m: &ModelProto) -> Result<ModelCard, ReadError> {
    let card = ModelCard::from_metadata(&metadata(m))?;
    check_card(m, &card)?;
    Ok(card)
}

/// Checks a card (embedded or sidecar) against a parsed model's inputs and `logits` size.
pub fn check_card(m: &ModelProto, card: &ModelCard) -> Result<(), ReadError> {
    let g = m.graph.as_ref().ok_or(ReadError::NoGraph)?;
    let k = g
        .output
        .iter()
        .find(|o| o.name == "logits")
        .map(dims)
        .and_then(|d| d.get(1).copied())
        .filter(|&k| k > 0)
        .ok_or(ReadError::NoLogits)?;
    card.check_graph(&graph_inputs(m), k as usize)?;
    Ok(())
}

/// Replaces the card embedded in ONNX bytes (every `motus.*` entry) by `card`, keeping the
/// graph and weights byte for byte: how accuracy measured on an exported file, or the
/// quantizer's report, is recorded in that file. The new card is checked against the graph and
/// must keep the weights' SHA-256.
pub fn replace_card(bytes: &[u8], card: &ModelCard) -> Result<Vec<u8>, ReadError> {
    let mut m = read_model(bytes)?;
    card.validate()?;
    check_card(&m, card)?;
    if let Ok(old) = ModelCard::from_metadata(&metadata(&m)) {
        if old.weights_sha256 != card.weights_sha256 {
            return Err(ReadError::Card(crate::CardError::Contradiction(format!(
                "the new card's weights_sha256 {} is not the model's {}",
                card.weights_sha256, old.weights_sha256
            ))));
        }
    }
    m.metadata_props.retain(|e| !e.key.starts_with(crate::card::KEY_PREFIX));
    m.metadata_props.extend(card.to_metadata().into_iter().map(|(key, value)| StringStringEntryProto { key, value }));
    Ok(m.encode_to_vec())
}
