//! Rewriting a float graph into one of the three int8 forms (see [`Format`]).
//!
//! The graph is walked in its (topological) order. Each value is available in float, as a
//! quantized u8 tensor with its [`QuantParams`], or both; a node asks for its inputs in the
//! form it needs and a `QuantizeLinear` or `DequantizeLinear` is inserted the first time a
//! value is needed in the other form. So int8 runs stay int8 from one `QLinearConv` to the
//! next, and float ops get float inputs at the boundaries.
//!
//! Data-movement ops (`MaxPool` where zero is the smallest representable value, `Flatten`,
//! `Reshape`, `Transpose`, `Squeeze`, `Unsqueeze`) run on the u8 tensor directly, with their
//! input's parameters, when their input exists only in quantized form.

use std::collections::{BTreeSet, HashMap, HashSet};

use motus_models::onnx::proto::{attribute_type, AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
use motus_models::FloatNode;

use crate::analyze::{attr, Analysis, Candidate, CandidateKind};
use crate::tensor::{self, f32_tensor, i32_tensor, i8_tensor, u8_tensor};
use crate::{QuantParams, QuantizeError};

/// The output forms of `motus quant --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// `QLinearConv` / `MatMulInteger` / `QLinearMatMul` with `QuantizeLinear` /
    /// `DequantizeLinear` at the boundaries: int8 kernels in tract and onnxruntime.
    #[cfg_attr(feature = "cli", value(name = "qoperator"))]
    QOperator,
    /// Float ops between `DequantizeLinear` and `QuantizeLinear` pairs (weights stored int8),
    /// for runtimes that fuse the pattern (onnxruntime, TensorRT). tract runs these in f32.
    Qdq,
    /// Weight-only: int8 weights dequantized at load, float compute (a ~4× smaller file).
    Weights,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::QOperator => "qoperator",
            Format::Qdq => "qdq",
            Format::Weights => "weights",
        }
    }
}

/// A `--format` that is none of the three forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("format {0:?}: expected qoperator, qdq or weights")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        match s {
            "qoperator" => Ok(Format::QOperator),
            "qdq" => Ok(Format::Qdq),
            "weights" => Ok(Format::Weights),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// What to quantize.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    /// Candidates (by name) to leave in float: the accuracy guard's choice.
    pub keep_float: BTreeSet<String>,
}

/// The rewritten model and what was done.
#[derive(Debug, Clone)]
pub struct Quantized {
    pub model: ModelProto,
    /// Candidates now computed in int8 (for `weights`: stored in int8).
    pub quantized: Vec<String>,
    /// Every node with weights or heavy arithmetic left in float, with the reason.
    pub float_nodes: Vec<FloatNode>,
}

/// A candidate's weights quantized per output channel, in the layout the graph stores them.
struct QuantWeights {
    dims: Vec<usize>,
    /// Quantized weights in the stored layout.
    q_stored: Vec<i8>,
    /// One scale per output channel.
    scales: Vec<f32>,
    /// The output-channel axis of the stored weights (1 when stored transposed).
    axis: i64,
    transposed: bool,
    bias: Option<Vec<f32>>,
}

impl QuantWeights {
    /// Quantizes `c`'s weights (rows = output channels: dim 0 of a Conv or a `transB` Gemm,
    /// dim 1 of a MatMul or plain Gemm).
    fn of(c: &Candidate, n: &NodeProto, inits: &HashMap<&str, &TensorProto>) -> Result<Self, QuantizeError> {
        let wt = inits[c.weight.as_str()];
        let dims = tensor::dims(wt);
        let w = tensor::f32_values(wt).expect("analysis checked the weights");
        let bias = c.bias.as_ref().map(|b| tensor::f32_values(inits[b.as_str()]).expect("analysis checked the bias"));
        let (rows, transposed) = match c.kind {
            CandidateKind::Conv => (dims[0], false),
            CandidateKind::Gemm if attr(n, "transB").is_some_and(|a| a.i != 0) => (dims[0], false),
            CandidateKind::Gemm | CandidateKind::MatMul => (dims[1], true),
        };
        let wrows = if transposed { transpose(&w, dims[0], dims[1]) } else { w };
        let (q_rows, scales) = quantize_rows(&wrows, rows)?;
        let q_stored = if transposed { transpose_i8(&q_rows, dims[1], dims[0]) } else { q_rows };
        Ok(QuantWeights { dims, q_stored, scales, axis: i64::from(transposed), transposed, bias })
    }
}

/// A value available in quantized form.
#[derive(Debug, Clone)]
struct QValue {
    name: String,
    params: QuantParams,
    scale: String,
    zero_point: String,
}

struct Emitter<'a> {
    format: Format,
    ranges: &'a HashMap<String, (f32, f32)>,
    nodes: Vec<NodeProto>,
    new_inits: Vec<TensorProto>,
    float: HashSet<String>,
    quant: HashMap<String, QValue>,
    /// QDQ: the dequantized copy of each quantized value, read by the float op it feeds.
    dq_copy: HashMap<String, String>,
}

fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INT, i: v, ..Default::default() }
}

/// Symmetric s8 per-row quantization of a row-major `rows × cols` matrix (ONNX weights put
/// the output channel first). An all-zero row gets scale 1 so its bias keeps a sane scale.
pub fn quantize_rows(w: &[f32], rows: usize) -> Result<(Vec<i8>, Vec<f32>), QuantizeError> {
    let params = crate::per_channel_symmetric(w, rows).map_err(|e| QuantizeError::Weights(e.to_string()))?;
    let per = w.len() / rows;
    let mut q = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(rows);
    for (r, p) in params.iter().enumerate() {
        let row = &w[r * per..(r + 1) * per];
        let p = if row.iter().all(|&v| v == 0.0) { QuantParams { scale: 1.0, ..*p } } else { *p };
        q.extend(row.iter().map(|&v| p.quantize(v) as i8));
        scales.push(p.scale);
    }
    Ok((q, scales))
}

fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

fn transpose_i8(w: &[i8], rows: usize, cols: usize) -> Vec<i8> {
    let mut t = vec![0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

impl Emitter<'_> {
    fn init(&mut self, t: TensorProto) -> String {
        let name = t.name.clone();
        self.new_inits.push(t);
        self.float.insert(name.clone());
        name
    }

    /// `v` in float, dequantizing it if it only exists quantized.
    fn float(&mut self, v: &str) -> Result<String, QuantizeError> {
        if v.is_empty() || self.float.contains(v) {
            return Ok(v.to_string());
        }
        let q = self
            .quant
            .get(v)
            .cloned()
            .ok_or_else(|| QuantizeError::Internal(format!("value {v:?} is used before it is produced")))?;
        self.nodes.push(node(
            "DequantizeLinear",
            &format!("{v}_dequantize"),
            &[&q.name, &q.scale, &q.zero_point],
            &[v],
            vec![],
        ));
        self.float.insert(v.to_string());
        Ok(v.to_string())
    }

    /// Parameters for the calibrated range of `v`.
    fn params_for(&self, v: &str) -> Result<QuantParams, QuantizeError> {
        let &(lo, hi) = self.ranges.get(v).ok_or_else(|| QuantizeError::MissingRange(v.to_string()))?;
        QuantParams::asymmetric(lo, hi)
            .map_err(|e| QuantizeError::BadRange { value: v.to_string(), reason: e.to_string() })
    }

    fn new_qvalue(&mut self, v: &str, params: QuantParams) -> QValue {
        let scale = self.init(f32_tensor(&format!("{v}_scale"), &[], &[params.scale]));
        let zero_point = self.init(u8_tensor(&format!("{v}_zero_point"), &[], &[params.zero_point as u8]));
        QValue { name: format!("{v}_quantized"), params, scale, zero_point }
    }

    /// `v` quantized, inserting a QuantizeLinear with its calibrated range if needed.
    fn quant(&mut self, v: &str) -> Result<QValue, QuantizeError> {
        if let Some(q) = self.quant.get(v) {
            return Ok(q.clone());
        }
        let params = self.params_for(v)?;
        let f = self.float(v)?;
        let q = self.new_qvalue(v, params);
        self.nodes.push(node(
            "QuantizeLinear",
            &format!("{v}_quantize"),
            &[&f, &q.scale, &q.zero_point],
            &[&q.name],
            vec![],
        ));
        self.quant.insert(v.to_string(), q.clone());
        Ok(q)
    }

    /// QDQ: the DequantizeLinear copy of quantized `v` that a fused-pattern op reads.
    fn dq_copy(&mut self, v: &str) -> Result<String, QuantizeError> {
        let q = self.quant(v)?;
        if let Some(n) = self.dq_copy.get(v) {
            return Ok(n.clone());
        }
        let name = format!("{v}_dq");
        self.nodes.push(node("DequantizeLinear", &name, &[&q.name, &q.scale, &q.zero_point], &[&name], vec![]));
        self.dq_copy.insert(v.to_string(), name.clone());
        Ok(name)
    }

    /// Stores weights as s8 + per-channel scales along `axis` and returns (q, scale, zp) names.
    fn weight_inits(&mut self, w: &str, dims: &[usize], q: &[i8], scales: &[f32]) -> (String, String, String) {
        let qn = self.init(i8_tensor(&format!("{w}_quantized"), dims, q));
        let sn = self.init(f32_tensor(&format!("{w}_scale"), &[scales.len()], scales));
        let zn = self.init(i8_tensor(&format!("{w}_zero_point"), &[scales.len()], &vec![0; scales.len()]));
        (qn, sn, zn)
    }

    /// A float copy of weights via DequantizeLinear along `axis` (QDQ and weight-only forms).
    fn dequantized_weight(&mut self, w: &str, dims: &[usize], q: &[i8], scales: &[f32], axis: i64) -> String {
        let (qn, sn, zn) = self.weight_inits(w, dims, q, scales);
        let out = format!("{w}_dequantized");
        self.nodes.push(node("DequantizeLinear", &out, &[&qn, &sn, &zn], &[&out], vec![attr_int("axis", axis)]));
        self.float.insert(out.clone());
        out
    }

    fn emit_candidate(
        &mut self,
        c: &Candidate,
        n: &NodeProto,
        inits: &HashMap<&str, &TensorProto>,
    ) -> Result<(), QuantizeError> {
        let qw = QuantWeights::of(c, n, inits)?;
        if self.format == Format::Weights {
            return self.emit_weights_only(c, n, &qw);
        }
        let x = self.quant(&c.input)?;
        match (self.format, c.kind) {
            (Format::QOperator, CandidateKind::Conv) => self.emit_qlinear_conv(c, n, &qw, &x),
            (Format::QOperator, CandidateKind::MatMul) => self.emit_qlinear_matmul(c, &qw, &x),
            (Format::QOperator, CandidateKind::Gemm) => self.emit_integer_gemm(c, n, &qw, &x),
            (Format::Qdq, _) => self.emit_qdq(c, n, &qw, &x),
            (Format::Weights, _) => unreachable!("handled above"),
        }
    }

    /// `weights`: int8 weights dequantized in front of the float op.
    fn emit_weights_only(&mut self, c: &Candidate, n: &NodeProto, qw: &QuantWeights) -> Result<(), QuantizeError> {
        let out = &n.output[0];
        let wf = self.dequantized_weight(&c.weight, &qw.dims, &qw.q_stored, &qw.scales, qw.axis);
        let mut n2 = n.clone();
        n2.input[1] = wf;
        for i in n2.input.iter_mut().skip(2) {
            *i = self.float(i)?;
        }
        n2.input[0] = self.float(&c.input)?;
        self.nodes.push(n2);
        self.float.insert(out.clone());
        Ok(())
    }

    /// `qoperator` Conv: QLinearConv with an int32 bias at scale sx·sw[m].
    fn emit_qlinear_conv(
        &mut self,
        c: &Candidate,
        n: &NodeProto,
        qw: &QuantWeights,
        x: &QValue,
    ) -> Result<(), QuantizeError> {
        let y = self.params_for(&c.output)?;
        let yq = self.new_qvalue(&c.output, y);
        let (qn, sn, zn) = self.weight_inits(&c.weight, &qw.dims, &qw.q_stored, &qw.scales);
        let mut inputs = vec![
            x.name.clone(),
            x.scale.clone(),
            x.zero_point.clone(),
            qn,
            sn,
            zn,
            yq.scale.clone(),
            yq.zero_point.clone(),
        ];
        if let Some(b) = &qw.bias {
            let bq: Vec<i32> = b
                .iter()
                .zip(&qw.scales)
                .map(|(&b, &s)| {
                    (b as f64 / (x.params.scale as f64 * s as f64)).round().clamp(i32::MIN as f64, i32::MAX as f64)
                        as i32
                })
                .collect();
            inputs.push(self.init(i32_tensor(&format!("{}_quantized", c.bias.as_ref().unwrap()), &[bq.len()], &bq)));
        }
        let mut qn = node("QLinearConv", &c.name, &[], &[&yq.name], n.attribute.clone());
        qn.input = inputs;
        self.nodes.push(qn);
        self.quant.insert(c.output.clone(), yq);
        Ok(())
    }

    /// `qoperator` MatMul: QLinearMatMul.
    fn emit_qlinear_matmul(&mut self, c: &Candidate, qw: &QuantWeights, x: &QValue) -> Result<(), QuantizeError> {
        let y = self.params_for(&c.output)?;
        let yq = self.new_qvalue(&c.output, y);
        let (qn, sn, zn) = self.weight_inits(&c.weight, &qw.dims, &qw.q_stored, &qw.scales);
        let inputs = [x.name.as_str(), &x.scale, &x.zero_point, &qn, &sn, &zn, &yq.scale, &yq.zero_point];
        self.nodes.push(node("QLinearMatMul", &c.name, &inputs, &[&yq.name], vec![]));
        self.quant.insert(c.output.clone(), yq);
        Ok(())
    }

    /// `qoperator` Gemm: the integer product, then a float rescale per output column, so the
    /// logits are not requantized.
    fn emit_integer_gemm(
        &mut self,
        c: &Candidate,
        n: &NodeProto,
        qw: &QuantWeights,
        x: &QValue,
    ) -> Result<(), QuantizeError> {
        let out = &n.output[0];
        // y = (x_q − zx)·W_qᵀ · (sx·sw[n]) + b: the integer product, then a float
        // rescale per output column, so the logits are not requantized.
        let (k, nn) = if qw.transposed { (qw.dims[0], qw.dims[1]) } else { (qw.dims[1], qw.dims[0]) };
        let kn = if qw.transposed { qw.q_stored.clone() } else { transpose_i8(&qw.q_stored, nn, k) };
        let qn = self.init(i8_tensor(&format!("{}_quantized", c.weight), &[k, nn], &kn));
        let acc = format!("{out}_int32");
        self.nodes.push(node("MatMulInteger", &c.name, &[&x.name, &qn, &x.zero_point], &[&acc], vec![]));
        let accf = format!("{out}_int32_float");
        self.nodes.push(node("Cast", &format!("{}_cast", c.name), &[&acc], &[&accf], vec![attr_int("to", 1)]));
        let s: Vec<f32> = qw.scales.iter().map(|&s| s * x.params.scale).collect();
        let sname = self.init(f32_tensor(&format!("{}_rescale_factors", c.name), &[nn], &s));
        let scaled = if qw.bias.is_some() { format!("{out}_rescaled") } else { out.clone() };
        self.nodes.push(node("Mul", &format!("{}_rescale", c.name), &[&accf, &sname], &[&scaled], vec![]));
        if let Some(b) = &c.bias {
            let bf = self.float(b)?;
            self.nodes.push(node("Add", &format!("{}_bias", c.name), &[&scaled, &bf], &[out], vec![]));
        }
        self.float.insert(out.clone());
        Ok(())
    }

    /// `qdq`: DequantizeLinear in front of the float op (and QuantizeLinear after it, except
    /// for Gemm, whose logits stay float).
    fn emit_qdq(&mut self, c: &Candidate, n: &NodeProto, qw: &QuantWeights, x: &QValue) -> Result<(), QuantizeError> {
        let (out, kind) = (&n.output[0], c.kind);
        let xd = self.dq_copy(&c.input)?;
        let wd = self.dequantized_weight(&c.weight, &qw.dims, &qw.q_stored, &qw.scales, qw.axis);
        let mut n2 = n.clone();
        n2.input[0] = xd;
        n2.input[1] = wd;
        if let (Some(b), Some(bname)) = (&qw.bias, &c.bias) {
            if kind == CandidateKind::Conv {
                // int32 bias with scale sx·sw[m], as onnxruntime's QDQ Conv expects.
                let bs: Vec<f32> = qw.scales.iter().map(|&s| s * x.params.scale).collect();
                let bq: Vec<i32> = b
                    .iter()
                    .zip(&bs)
                    .map(|(&b, &s)| (b as f64 / s as f64).round().clamp(i32::MIN as f64, i32::MAX as f64) as i32)
                    .collect();
                let qn = self.init(i32_tensor(&format!("{bname}_quantized"), &[bq.len()], &bq));
                let sn = self.init(f32_tensor(&format!("{bname}_scale"), &[bs.len()], &bs));
                // Zero point omitted: 0, the default.
                let bd = format!("{bname}_dequantized");
                self.nodes.push(node("DequantizeLinear", &bd, &[&qn, &sn], &[&bd], vec![attr_int("axis", 0)]));
                n2.input[2] = bd;
            } else {
                n2.input[2] = self.float(bname)?;
            }
        }
        if kind == CandidateKind::Gemm {
            self.nodes.push(n2);
            self.float.insert(out.clone());
        } else {
            let raw = format!("{out}_float");
            n2.output[0] = raw.clone();
            self.nodes.push(n2);
            let y = self.params_for(&c.output)?;
            let yq = self.new_qvalue(&c.output, y);
            self.nodes.push(node(
                "QuantizeLinear",
                &format!("{}_quantize", c.output),
                &[&raw, &yq.scale, &yq.zero_point],
                &[&yq.name],
                vec![],
            ));
            self.quant.insert(c.output.clone(), yq);
        }
        Ok(())
    }

    /// Runs a data-movement op on the u8 tensor when its input exists only quantized.
    fn try_passthrough(&mut self, n: &NodeProto) -> bool {
        const MOVES: &[&str] = &["MaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze"];
        if !MOVES.contains(&n.op_type.as_str()) || n.output.len() != 1 || n.input.is_empty() {
            return false;
        }
        let v = &n.input[0];
        if self.float.contains(v) {
            return false;
        }
        let Some(q) = self.quant.get(v).cloned() else { return false };
        if n.op_type == "MaxPool" {
            // Padding must not invent a value above the real minimum: only when 0 is the
            // smallest level (zero point 0, a non-negative tensor), or without padding.
            let padded = attr(n, "pads").is_some_and(|a| a.ints.iter().any(|&p| p != 0))
                || attr(n, "auto_pad").is_some_and(|a| !a.s.is_empty() && a.s != b"NOTSET" && a.s != b"VALID");
            if padded && q.params.zero_point != 0 {
                return false;
            }
        }
        let out = &n.output[0];
        let mut n2 = n.clone();
        n2.input[0] = q.name.clone();
        let oq = QValue { name: format!("{out}_quantized"), ..q };
        n2.output[0] = oq.name.clone();
        self.nodes.push(n2);
        self.quant.insert(out.clone(), oq);
        true
    }
}

/// Weight inputs of recurrent ops (ONNX `W` and `R`, shaped `[directions, gates·hidden, in]`)
/// that are stored as int8 with per-gate-row scales and dequantized on load, whatever the
/// format: motus has no int8 recurrent kernel, but an LSTM's weights were half the file of
/// the zoo's CNN+LSTM, which the size target is about. Only one direction: a per-axis
/// DequantizeLinear has one scale per index of one axis. Returns the input positions.
pub(crate) fn weight_only_inputs(n: &NodeProto, inits: &HashMap<&str, &TensorProto>) -> Vec<usize> {
    if !matches!(n.op_type.as_str(), "LSTM" | "GRU" | "RNN") {
        return Vec::new();
    }
    [1usize, 2]
        .into_iter()
        .filter(|&i| {
            n.input.get(i).and_then(|w| inits.get(w.as_str())).is_some_and(|t| {
                let dims = tensor::dims(t);
                dims.len() == 3
                    && dims[0] == 1
                    && tensor::f32_values(t).is_some_and(|v| v.len() == dims.iter().product::<usize>())
            })
        })
        .collect()
}

/// Rewrites `m` (already analysed) in `opts.format`, with activation ranges from calibration
/// (`ranges`; unused for the weight-only form).
pub fn quantize(
    m: &ModelProto,
    analysis: &Analysis,
    ranges: &HashMap<String, (f32, f32)>,
    opts: &Options,
) -> Result<Quantized, QuantizeError> {
    let g = m.graph.as_ref().ok_or(QuantizeError::NoGraph)?;
    let opset =
        m.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx").map(|o| o.version).unwrap_or(0);
    if opset < 13 {
        return Err(QuantizeError::Opset(opset));
    }
    for k in &opts.keep_float {
        if analysis.candidate(k).is_none() {
            let names: Vec<&str> = analysis.candidates.iter().map(|c| c.name.as_str()).collect();
            return Err(QuantizeError::UnknownNode { name: k.clone(), candidates: names.join(", ") });
        }
    }
    let inits: HashMap<&str, &TensorProto> = g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    let active: HashMap<usize, &Candidate> =
        analysis.candidates.iter().filter(|c| !opts.keep_float.contains(&c.name)).map(|c| (c.index, c)).collect();
    let fused: HashSet<usize> = active.values().filter_map(|c| c.fused_relu).collect();
    let mut e = Emitter {
        format: opts.format,
        ranges,
        nodes: Vec::new(),
        new_inits: Vec::new(),
        float: g.input.iter().map(|i| i.name.clone()).chain(g.initializer.iter().map(|t| t.name.clone())).collect(),
        quant: HashMap::new(),
        dq_copy: HashMap::new(),
    };
    // Weight and bias initializers replaced by quantized copies are not kept in float.
    for c in active.values() {
        e.float.remove(&c.weight);
        if opts.format == Format::QOperator && c.kind == CandidateKind::Conv {
            if let Some(b) = &c.bias {
                e.float.remove(b);
            }
        }
    }
    for (i, n) in g.node.iter().enumerate() {
        if fused.contains(&i) && e.format != Format::Weights {
            continue;
        }
        if let Some(c) = active.get(&i) {
            e.emit_candidate(c, n, &inits)?;
            continue;
        }
        if e.format != Format::Weights && e.try_passthrough(n) {
            continue;
        }
        let mut n2 = n.clone();
        let stored_int8 = weight_only_inputs(n, &inits);
        for (k, v) in n2.input.iter_mut().enumerate() {
            *v = if stored_int8.contains(&k) {
                let t = inits[v.as_str()];
                let dims = tensor::dims(t);
                let w = tensor::f32_values(t).expect("weight_only_inputs checked the weights");
                let (q, scales) = quantize_rows(&w, dims[1])?;
                e.dequantized_weight(v, &dims, &q, &scales, 1)
            } else {
                e.float(v)?
            };
        }
        e.nodes.push(n2);
        e.float.extend(n.output.iter().cloned());
    }
    for o in &g.output {
        e.float(&o.name)?;
    }
    // Keep the original initializers that some emitted node still reads.
    let read: HashSet<&str> = e.nodes.iter().flat_map(|n| n.input.iter().map(String::as_str)).collect();
    let mut initializer: Vec<TensorProto> =
        g.initializer.iter().filter(|t| read.contains(t.name.as_str())).cloned().collect();
    initializer.extend(e.new_inits.into_iter().filter(|t| read.contains(t.name.as_str())));
    // Node names unique and distinct from initializer names (tract names both in one namespace).
    let mut taken: HashSet<String> = initializer.iter().map(|t| t.name.clone()).collect();
    let mut nodes = e.nodes;
    for (i, n) in nodes.iter_mut().enumerate() {
        if n.name.is_empty() || taken.contains(&n.name) {
            n.name = format!("{}_{}#{i}", if n.name.is_empty() { &n.op_type } else { &n.name }, n.op_type);
        }
        taken.insert(n.name.clone());
    }
    let graph = GraphProto { node: nodes, initializer, value_info: Vec::new(), ..g.clone() };
    let mut float_nodes = analysis.float_nodes.clone();
    for c in &analysis.candidates {
        if opts.keep_float.contains(&c.name) {
            float_nodes.push(FloatNode {
                node: c.name.clone(),
                op: c.op.clone(),
                reason: "kept in float by the accuracy guard (most sensitive layer)".into(),
            });
        }
    }
    let quantized =
        analysis.candidates.iter().filter(|c| !opts.keep_float.contains(&c.name)).map(|c| c.name.clone()).collect();
    Ok(Quantized { model: ModelProto { graph: Some(graph), ..m.clone() }, quantized, float_nodes })
}
