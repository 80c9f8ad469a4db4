//! Which nodes of a float ONNX graph the quantizer turns into int8, and which it leaves alone.
//!
//! Candidates are the nodes that carry weights and most of the arithmetic:
//! - `Conv` with constant f32 weights (1-, 2- or 3-D, any group) → `QLinearConv`;
//! - `Gemm` (`transA = 0`, `alpha = beta = 1`) with constant weights → `MatMulInteger` and a
//!   float rescale + bias (the classifier heads: their output stays float, so logits are not
//!   requantized);
//! - `MatMul` with a constant 2-D right operand → `QLinearMatMul`.
//!
//! A `Relu` that is a candidate's only reader is fused into it: the output grid then starts at
//! 0 with zero point 0, and saturation does the ReLU. Everything else runs in float (cheap ops
//! such as pooling, softmax or reshapes silently, anything else named in the report).

use std::collections::{BTreeSet, HashMap, HashSet};

use motus_models::onnx::proto::{AttributeProto, ModelProto, NodeProto, TensorProto};
use motus_models::FloatNode;

use crate::tensor;
use crate::QuantizeError;

/// What a candidate becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateKind {
    Conv,
    Gemm,
    MatMul,
}

/// A node that can run in int8.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The node's name (or `op#index` when it has none): what `--keep-float` and reports use.
    pub name: String,
    pub op: String,
    pub index: usize,
    pub kind: CandidateKind,
    /// The activation input.
    pub input: String,
    /// The value whose range sets the output grid: the fused ReLU's output, else the node's.
    pub output: String,
    /// Index of the fused `Relu`, if any.
    pub fused_relu: Option<usize>,
    pub weight: String,
    pub bias: Option<String>,
    /// Weight parameters.
    pub params: usize,
}

/// The quantizer's reading of a graph.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub candidates: Vec<Candidate>,
    /// Nodes that cannot be quantized by motus and are not cheap float glue, with the reason
    /// (an LSTM, a MatMul of two activations, an op motus does not know).
    pub float_nodes: Vec<FloatNode>,
    /// Op types among `float_nodes` that motus has no int8 form for at all.
    pub unhandled_ops: BTreeSet<String>,
}

/// Ops whose float cost is small next to the convolutions, or that only move data: they stay
/// float without comment.
pub const CHEAP_FLOAT_OPS: &[&str] = &[
    "Relu",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Log",
    "Exp",
    "Sqrt",
    "Neg",
    "Abs",
    "Clip",
    "Identity",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "AveragePool",
    "MaxPool",
    "Flatten",
    "Reshape",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Concat",
    "Split",
    "Slice",
    "Gather",
    "Shape",
    "Cast",
    "Constant",
    "ReduceMean",
    "ReduceMax",
    "ReduceSum",
    "ReduceL2",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Max",
    "Min",
    "Pow",
    "BatchNormalization",
    "Dropout",
];

/// Op types that mark a graph as already quantized.
pub const QUANTIZED_OPS: &[&str] = &[
    "QuantizeLinear",
    "DequantizeLinear",
    "DynamicQuantizeLinear",
    "QLinearConv",
    "QLinearMatMul",
    "ConvInteger",
    "MatMulInteger",
    "QLinearAdd",
    "QLinearMul",
];

/// A node's name for reports: its own, or `op#index`.
pub fn node_name(n: &NodeProto, index: usize) -> String {
    if n.name.is_empty() {
        format!("{}#{index}", n.op_type)
    } else {
        n.name.clone()
    }
}

pub(crate) fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn attr_i(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map(|a| a.i).unwrap_or(default)
}

fn attr_f(n: &NodeProto, name: &str, default: f32) -> f32 {
    attr(n, name).map(|a| a.f).unwrap_or(default)
}

/// Refuses a model that already holds quantized ops or int8 initializers (quantizing twice
/// would calibrate on already-rounded values and lose the float source).
pub fn ensure_float_model(m: &ModelProto) -> Result<(), QuantizeError> {
    let g = m.graph.as_ref().ok_or(QuantizeError::NoGraph)?;
    if let Some((i, n)) = g.node.iter().enumerate().find(|(_, n)| QUANTIZED_OPS.contains(&n.op_type.as_str())) {
        return Err(QuantizeError::AlreadyQuantized(format!("node {} is a {}", node_name(n, i), n.op_type)));
    }
    use motus_models::onnx::proto::data_type::{INT8, UINT8};
    if let Some(t) = g.initializer.iter().find(|t| t.data_type == INT8 || t.data_type == UINT8) {
        return Err(QuantizeError::AlreadyQuantized(format!("initializer {:?} holds 8-bit integers", t.name)));
    }
    if m.metadata_props.iter().any(|e| e.key == "motus.quantization") {
        return Err(QuantizeError::AlreadyQuantized("its card has a quantization section".into()));
    }
    Ok(())
}

/// Finds the candidates and the nodes left in float.
pub fn analyze(m: &ModelProto) -> Result<Analysis, QuantizeError> {
    ensure_float_model(m)?;
    let g = m.graph.as_ref().ok_or(QuantizeError::NoGraph)?;
    let inits: HashMap<&str, &TensorProto> = g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in g.node.iter().enumerate() {
        for v in &n.input {
            readers.entry(v.as_str()).or_default().push(i);
        }
    }
    let outputs: HashSet<&str> = g.output.iter().map(|o| o.name.as_str()).collect();
    let mut analysis = Analysis { candidates: Vec::new(), float_nodes: Vec::new(), unhandled_ops: BTreeSet::new() };
    for (i, n) in g.node.iter().enumerate() {
        let name = node_name(n, i);
        match verdict(n, &inits) {
            Verdict::Candidate(kind, params) => {
                // Fuse a ReLU that is the only reader of the output.
                let out = &n.output[0];
                let fused_relu = match readers.get(out.as_str()).map(Vec::as_slice) {
                    Some([r])
                        if kind != CandidateKind::Gemm
                            && g.node[*r].op_type == "Relu"
                            && !outputs.contains(out.as_str()) =>
                    {
                        Some(*r)
                    }
                    _ => None,
                };
                analysis.candidates.push(Candidate {
                    name,
                    op: n.op_type.clone(),
                    index: i,
                    kind,
                    input: n.input[0].clone(),
                    output: fused_relu.map(|r| g.node[r].output[0].clone()).unwrap_or_else(|| out.clone()),
                    fused_relu,
                    weight: n.input[1].clone(),
                    bias: n.input.get(2).filter(|b| !b.is_empty()).cloned(),
                    params,
                });
            }
            Verdict::Float(reason) => {
                analysis.float_nodes.push(FloatNode { node: name, op: n.op_type.clone(), reason })
            }
            Verdict::NoInt8Form if CHEAP_FLOAT_OPS.contains(&n.op_type.as_str()) => {}
            Verdict::NoInt8Form => {
                analysis.unhandled_ops.insert(n.op_type.clone());
                let stored_int8 = crate::rewrite::weight_only_inputs(n, &inits).len();
                let reason = if stored_int8 > 0 {
                    format!(
                        "{} has no int8 form in motus; it runs in float from weights stored in int8 (weight-only)",
                        n.op_type
                    )
                } else {
                    format!("{} has no int8 form in motus; it runs in float", n.op_type)
                };
                analysis.float_nodes.push(FloatNode { node: name, op: n.op_type.clone(), reason });
            }
        }
    }
    Ok(analysis)
}

/// What the analysis decides for one node.
enum Verdict {
    /// Quantized: its kind and weight count.
    Candidate(CandidateKind, usize),
    /// An op with an int8 form that this node cannot take, and why.
    Float(String),
    /// An op with no int8 form in motus.
    NoInt8Form,
}

/// The number of values of `name` when it is a constant f32 tensor (of rank `rank` when given).
fn const_f32(inits: &HashMap<&str, &TensorProto>, name: &str, rank: Option<usize>) -> Option<usize> {
    let t = inits.get(name)?;
    let v = tensor::f32_values(t)?;
    (rank.is_none_or(|r| t.dims.len() == r) && v.len() == tensor::dims(t).iter().product::<usize>()).then_some(v.len())
}

/// Whether node `n` is quantized: Conv with constant weights (rank ≥ 3) and bias, Gemm without
/// transA/alpha/beta and with constant 2-D weights, MatMul with one constant 2-D operand.
fn verdict(n: &NodeProto, inits: &HashMap<&str, &TensorProto>) -> Verdict {
    let konst = |name: &str, rank| const_f32(inits, name, rank);
    let bias = n.input.get(2).filter(|b| !b.is_empty());
    let float = |why: &str| Verdict::Float(why.to_string());
    match n.op_type.as_str() {
        "Conv" => match (n.input.get(1).and_then(|w| konst(w, None)), bias) {
            (None, _) => float("its weights are not a constant f32 tensor"),
            (Some(_), Some(b)) if konst(b, Some(1)).is_none() => float("its bias is not a constant f32 vector"),
            (Some(p), _) if inits.get(n.input[1].as_str()).is_some_and(|t| t.dims.len() < 3) => {
                Verdict::Float(format!(
                    "weights of rank {} ({p} values) are not a convolution kernel",
                    inits[n.input[1].as_str()].dims.len()
                ))
            }
            (Some(p), _) => Verdict::Candidate(CandidateKind::Conv, p),
        },
        "Gemm" if attr_i(n, "transA", 0) != 0 || attr_f(n, "alpha", 1.0) != 1.0 || attr_f(n, "beta", 1.0) != 1.0 => {
            float("Gemm with transA or alpha/beta ≠ 1 is not quantized")
        }
        "Gemm" => match (n.input.get(1).and_then(|w| konst(w, Some(2))), bias) {
            (None, _) => float("its weights are not a constant 2-D f32 tensor"),
            (Some(_), Some(c)) if konst(c, Some(1)).is_none() => float("its bias is not a constant f32 vector"),
            (Some(p), _) => Verdict::Candidate(CandidateKind::Gemm, p),
        },
        "MatMul" => match n.input.get(1).and_then(|w| konst(w, Some(2))) {
            Some(p) if !inits.contains_key(n.input[0].as_str()) => Verdict::Candidate(CandidateKind::MatMul, p),
            _ => float("both operands are activations (no constant weights to quantize)"),
        },
        _ => Verdict::NoInt8Form,
    }
}

impl Analysis {
    /// The values whose ranges calibration must measure: every candidate's activation input
    /// and output (the fused ReLU's output where there is one), in graph order, once each.
    pub fn calibration_values(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for c in &self.candidates {
            for v in [&c.input, &c.output] {
                if seen.insert(v.clone()) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    /// A candidate by name.
    pub fn candidate(&self, name: &str) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.name == name)
    }
}
