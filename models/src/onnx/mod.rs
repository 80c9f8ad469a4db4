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

pub mod proto;

use crate::card::{self, CardError, ModelCard};
use crate::ir::{Graph, Op, OpKind};
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
    let shapes = graph.shapes();
    let graph_inputs: Vec<(String, Vec<i64>)> = graph
        .inputs
        .iter()
        .map(|i| (i.name.clone(), std::iter::once(-1).chain(i.shape[1..].iter().map(|&d| d as i64)).collect()))
        .collect();
    card.validate()?;
    card.check_graph(&graph_inputs, graph.num_classes())?;

    // How often each value is read, to fold only BatchNorms that are a conv's sole reader.
    let mut readers: HashMap<&str, usize> = HashMap::new();
    for op in &graph.ops {
        for i in &op.inputs {
            *readers.entry(i.as_str()).or_default() += 1;
        }
    }
    let producer: HashMap<&str, &Op> = graph.ops.iter().map(|o| (o.output.as_str(), o)).collect();
    // conv op name → the BatchNorm op folded into it.
    let mut folded: HashMap<&str, &Op> = HashMap::new();
    let mut skipped: HashSet<&str> = HashSet::new();
    if opts.fold_batchnorm {
        for op in &graph.ops {
            if let OpKind::BatchNorm { .. } = op.kind {
                if let Some(conv) = producer.get(op.inputs[0].as_str()) {
                    if matches!(conv.kind, OpKind::Conv { .. })
                        && readers[conv.output.as_str()] == 1
                        && conv.output != graph.output
                    {
                        folded.insert(conv.name.as_str(), op);
                        skipped.insert(op.name.as_str());
                    }
                }
            }
        }
    }

    let rename = |v: &str| -> String {
        if v == graph.output {
            "logits".to_string()
        } else {
            v.to_string()
        }
    };
    let mut nodes = Vec::new();
    let mut inits: Vec<TensorProto> = Vec::new();
    let mut emitted: HashSet<String> = HashSet::new();
    // Parameters that are written by a special path (folded conv/BN, LSTM) are not copied.
    let mut special: HashSet<&str> = HashSet::new();
    for op in &graph.ops {
        if skipped.contains(op.name.as_str()) {
            special.extend(op.inputs[1..].iter().map(String::as_str));
        }
        if folded.contains_key(op.name.as_str()) || matches!(op.kind, OpKind::Lstm { .. }) {
            special.extend(op.inputs[1..].iter().map(String::as_str));
        }
    }
    for p in &graph.params {
        if !special.contains(p.name.as_str()) {
            inits.push(f32_tensor(&p.name, &p.shape, &weights[&p.name]));
            emitted.insert(p.name.clone());
        }
    }

    for op in &graph.ops {
        if skipped.contains(op.name.as_str()) {
            continue;
        }
        let out = rename(&op.output);
        let ins: Vec<String> = op.inputs.iter().map(|s| rename(s)).collect();
        let ins_ref: Vec<&str> = ins.iter().map(String::as_str).collect();
        let n = op.name.as_str();
        match &op.kind {
            OpKind::Conv { kernel, stride, pad } => {
                let pads: Vec<i64> = ints(pad).into_iter().chain(ints(pad)).collect();
                let attrs = vec![
                    attr_ints("kernel_shape", &ints(kernel)),
                    attr_ints("strides", &ints(stride)),
                    attr_ints("pads", &pads),
                ];
                if let Some(bn) = folded.get(n) {
                    let wname = &op.inputs[1];
                    let wshape = &shapes[wname.as_str()];
                    let oc = wshape[0];
                    let per = wshape[1..].iter().product::<usize>();
                    let OpKind::BatchNorm { eps } = bn.kind else { unreachable!() };
                    let (g, beta, mean, var) = (
                        &weights[&bn.inputs[1]],
                        &weights[&bn.inputs[2]],
                        &weights[&bn.inputs[3]],
                        &weights[&bn.inputs[4]],
                    );
                    let w = &weights[wname];
                    let b0 = op.inputs.get(2).map(|b| weights[b].clone()).unwrap_or_else(|| vec![0.0; oc]);
                    let mut wf = w.clone();
                    let mut bf = vec![0.0f32; oc];
                    for c in 0..oc {
                        let s = g[c] / (var[c] + eps).sqrt();
                        wf[c * per..(c + 1) * per].iter_mut().for_each(|v| *v *= s);
                        bf[c] = (b0[c] - mean[c]) * s + beta[c];
                    }
                    let bname = format!("{n}.bias");
                    inits.push(f32_tensor(wname, wshape, &wf));
                    inits.push(f32_tensor(&bname, &[oc], &bf));
                    nodes.push(node(n, "Conv", &[&ins[0], wname, &bname], &rename(&bn.output), attrs));
                } else {
                    nodes.push(node(n, "Conv", &ins_ref, &out, attrs));
                }
            }
            OpKind::BatchNorm { eps } => {
                nodes.push(node(n, "BatchNormalization", &ins_ref, &out, vec![attr_float("epsilon", *eps)]))
            }
            OpKind::Relu => nodes.push(node(n, "Relu", &ins_ref, &out, vec![])),
            OpKind::Sigmoid => nodes.push(node(n, "Sigmoid", &ins_ref, &out, vec![])),
            OpKind::Log => nodes.push(node(n, "Log", &ins_ref, &out, vec![])),
            OpKind::MaxPool { kernel, stride, pad } => {
                let pads: Vec<i64> = ints(pad).into_iter().chain(ints(pad)).collect();
                let attrs = vec![
                    attr_ints("kernel_shape", &ints(kernel)),
                    attr_ints("strides", &ints(stride)),
                    attr_ints("pads", &pads),
                ];
                nodes.push(node(n, "MaxPool", &ins_ref, &out, attrs));
            }
            OpKind::AvgPool { kernel, stride } => {
                let attrs = vec![attr_ints("kernel_shape", &ints(kernel)), attr_ints("strides", &ints(stride))];
                nodes.push(node(n, "AveragePool", &ins_ref, &out, attrs));
            }
            OpKind::GlobalAvgPool => nodes.push(node(n, "GlobalAveragePool", &ins_ref, &out, vec![])),
            OpKind::Flatten { axis } => {
                nodes.push(node(n, "Flatten", &ins_ref, &out, vec![attr_int("axis", *axis as i64)]))
            }
            OpKind::Reshape { shape } => {
                let sname = format!("{n}.shape");
                inits.push(i64_tensor(&sname, shape));
                nodes.push(node(n, "Reshape", &[&ins[0], &sname], &out, vec![]));
            }
            OpKind::Transpose { perm } => {
                nodes.push(node(n, "Transpose", &ins_ref, &out, vec![attr_ints("perm", &ints(perm))]))
            }
            OpKind::Linear => nodes.push(node(n, "Gemm", &ins_ref, &out, vec![attr_int("transB", 1)])),
            OpKind::Lstm { hidden } => {
                let h = *hidden;
                let f = shapes[op.inputs[0].as_str()][2];
                let (w, r) = (reorder_gates(&weights[&op.inputs[1]], h), reorder_gates(&weights[&op.inputs[2]], h));
                let mut b = reorder_gates(&weights[&op.inputs[3]], h);
                b.extend(reorder_gates(&weights[&op.inputs[4]], h));
                let (wn, rn, bn, an) = (format!("{n}.W"), format!("{n}.R"), format!("{n}.B"), format!("{n}.axes"));
                inits.push(f32_tensor(&wn, &[1, 4 * h, f], &w));
                inits.push(f32_tensor(&rn, &[1, 4 * h, h], &r));
                inits.push(f32_tensor(&bn, &[1, 8 * h], &b));
                inits.push(i64_tensor(&an, &[1]));
                let (tnf, y, tnh) = (format!("{n}.to_tnf"), format!("{n}.y"), format!("{n}.squeeze"));
                nodes.push(node(&tnf, "Transpose", &[&ins[0]], &tnf, vec![attr_ints("perm", &[1, 0, 2])]));
                nodes.push(node(
                    n,
                    "LSTM",
                    &[&tnf, &wn, &rn, &bn],
                    &y,
                    vec![attr_int("hidden_size", h as i64), attr_str("direction", "forward")],
                ));
                nodes.push(node(&tnh, "Squeeze", &[&y, &an], &tnh, vec![]));
                nodes.push(node(
                    &format!("{n}.to_nth"),
                    "Transpose",
                    &[&tnh],
                    &out,
                    vec![attr_ints("perm", &[1, 0, 2])],
                ));
            }
            OpKind::Concat { axis } => {
                nodes.push(node(n, "Concat", &ins_ref, &out, vec![attr_int("axis", *axis as i64)]))
            }
            OpKind::Add => nodes.push(node(n, "Add", &ins_ref, &out, vec![])),
            OpKind::Sub => nodes.push(node(n, "Sub", &ins_ref, &out, vec![])),
            OpKind::Mul => nodes.push(node(n, "Mul", &ins_ref, &out, vec![])),
            OpKind::MatMul => nodes.push(node(n, "MatMul", &ins_ref, &out, vec![])),
            OpKind::Softmax { axis } => {
                nodes.push(node(n, "Softmax", &ins_ref, &out, vec![attr_int("axis", *axis as i64)]))
            }
            OpKind::ReduceMean { axis, keepdims } => nodes.push(node(
                n,
                "ReduceMean",
                &ins_ref,
                &out,
                vec![attr_ints("axes", &[*axis as i64]), attr_int("keepdims", *keepdims as i64)],
            )),
            OpKind::ReduceMax { axis, keepdims } => nodes.push(node(
                n,
                "ReduceMax",
                &ins_ref,
                &out,
                vec![attr_ints("axes", &[*axis as i64]), attr_int("keepdims", *keepdims as i64)],
            )),
            OpKind::ReduceSum { axis, keepdims } => {
                let an = format!("{n}.axes");
                inits.push(i64_tensor(&an, &[*axis as i64]));
                nodes.push(node(n, "ReduceSum", &[&ins[0], &an], &out, vec![attr_int("keepdims", *keepdims as i64)]));
            }
            OpKind::L2Normalize { axis, eps } => {
                let (norm, clamp, en) = (format!("{n}.norm"), format!("{n}.clamp"), format!("{n}.eps"));
                inits.push(TensorProto {
                    name: en.clone(),
                    data_type: data_type::FLOAT,
                    raw_data: eps.to_le_bytes().to_vec(),
                    ..Default::default()
                });
                nodes.push(node(
                    &norm,
                    "ReduceL2",
                    &[&ins[0]],
                    &norm,
                    vec![attr_ints("axes", &[*axis as i64]), attr_int("keepdims", 1)],
                ));
                nodes.push(node(&clamp, "Max", &[&norm, &en], &clamp, vec![]));
                nodes.push(node(n, "Div", &[&ins[0], &clamp], &out, vec![]));
            }
        }
    }
    let k = graph.num_classes();
    nodes.push(node("probs", "Softmax", &["logits"], "probs", vec![attr_int("axis", 1)]));

    let mut card = card.clone();
    card.weights_sha256 = card::weights_sha256(&graph.params, weights);
    card.producer = card::producer();
    let model = ModelProto {
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
    };
    Ok(model.encode_to_vec())
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
