//! The IR's operators as ONNX nodes, one emitter per operator kind: what [`super::export`]
//! writes between the graph's inputs and its `logits`.

use std::collections::{HashMap, HashSet};

use super::proto::{data_type, AttributeProto, NodeProto, TensorProto};
use super::{attr_float, attr_int, attr_ints, attr_str, f32_tensor, i64_tensor, ints, node, reorder_gates};
use crate::ir::{Graph, Op, OpKind};

/// Which BatchNorms are folded into the convolution before them: those that are a conv's
/// only reader (and not after the graph's output).
#[derive(Default)]
pub(super) struct Folding<'g> {
    /// Conv op name → the BatchNorm folded into it.
    into_conv: HashMap<&'g str, &'g Op>,
    /// The folded BatchNorms' names: they emit no node of their own.
    folded: HashSet<&'g str>,
}

impl<'g> Folding<'g> {
    /// Every BatchNorm of `graph` that can be folded.
    pub(super) fn plan(graph: &'g Graph) -> Self {
        let mut readers: HashMap<&str, usize> = HashMap::new();
        for op in &graph.ops {
            for i in &op.inputs {
                *readers.entry(i.as_str()).or_default() += 1;
            }
        }
        let producer: HashMap<&str, &Op> = graph.ops.iter().map(|o| (o.output.as_str(), o)).collect();
        let mut plan = Folding::default();
        for op in graph.ops.iter().filter(|op| matches!(op.kind, OpKind::BatchNorm { .. })) {
            let Some(conv) = producer.get(op.inputs[0].as_str()) else { continue };
            if matches!(conv.kind, OpKind::Conv { .. })
                && readers[conv.output.as_str()] == 1
                && conv.output != graph.output
            {
                plan.into_conv.insert(conv.name.as_str(), op);
                plan.folded.insert(op.name.as_str());
            }
        }
        plan
    }
}

/// Builds the nodes and initializers of a graph, operator by operator.
pub(super) struct Emitter<'g> {
    graph: &'g Graph,
    weights: &'g HashMap<String, Vec<f32>>,
    folding: &'g Folding<'g>,
    shapes: HashMap<&'g str, Vec<usize>>,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
}

impl<'g> Emitter<'g> {
    /// An emitter holding, as initializers, every parameter not written by a special path
    /// (a folded conv and its BatchNorm, an LSTM's reordered gates).
    pub(super) fn new(graph: &'g Graph, weights: &'g HashMap<String, Vec<f32>>, folding: &'g Folding<'g>) -> Self {
        let mut special: HashSet<&str> = HashSet::new();
        for op in &graph.ops {
            let n = op.name.as_str();
            if folding.folded.contains(n) || folding.into_conv.contains_key(n) || matches!(op.kind, OpKind::Lstm { .. })
            {
                special.extend(op.inputs[1..].iter().map(String::as_str));
            }
        }
        let inits = graph
            .params
            .iter()
            .filter(|p| !special.contains(p.name.as_str()))
            .map(|p| f32_tensor(&p.name, &p.shape, &weights[&p.name]))
            .collect();
        Emitter { graph, weights, folding, shapes: graph.shapes(), nodes: Vec::new(), inits }
    }

    /// The nodes and initializers emitted so far.
    pub(super) fn finish(self) -> (Vec<NodeProto>, Vec<TensorProto>) {
        (self.nodes, self.inits)
    }

    /// The graph's output is called `logits` in the file; other values keep their names.
    fn rename(&self, v: &str) -> String {
        if v == self.graph.output {
            "logits".to_string()
        } else {
            v.to_string()
        }
    }

    /// One node reading `op`'s inputs and writing its output.
    fn plain(&mut self, op: &Op, op_type: &str, attrs: Vec<AttributeProto>) {
        let ins: Vec<String> = op.inputs.iter().map(|s| self.rename(s)).collect();
        let ins: Vec<&str> = ins.iter().map(String::as_str).collect();
        let out = self.rename(&op.output);
        self.nodes.push(node(&op.name, op_type, &ins, &out, attrs));
    }

    /// Emits `op` (nothing for a BatchNorm folded into its conv).
    pub(super) fn emit(&mut self, op: &Op) {
        if self.folding.folded.contains(op.name.as_str()) {
            return;
        }
        match &op.kind {
            OpKind::Conv { kernel, stride, pad } => self.conv(op, kernel, stride, pad),
            OpKind::BatchNorm { eps } => self.plain(op, "BatchNormalization", vec![attr_float("epsilon", *eps)]),
            OpKind::Relu => self.plain(op, "Relu", vec![]),
            OpKind::Sigmoid => self.plain(op, "Sigmoid", vec![]),
            OpKind::Log => self.plain(op, "Log", vec![]),
            OpKind::MaxPool { kernel, stride, pad } => self.plain(op, "MaxPool", window_attrs(kernel, stride, pad)),
            OpKind::AvgPool { kernel, stride } => self.plain(
                op,
                "AveragePool",
                vec![attr_ints("kernel_shape", &ints(kernel)), attr_ints("strides", &ints(stride))],
            ),
            OpKind::GlobalAvgPool => self.plain(op, "GlobalAveragePool", vec![]),
            OpKind::Flatten { axis } => self.plain(op, "Flatten", vec![attr_int("axis", *axis as i64)]),
            OpKind::Reshape { shape } => self.reshape(op, shape),
            OpKind::Transpose { perm } => self.plain(op, "Transpose", vec![attr_ints("perm", &ints(perm))]),
            OpKind::Linear => self.plain(op, "Gemm", vec![attr_int("transB", 1)]),
            OpKind::Lstm { hidden } => self.lstm(op, *hidden),
            OpKind::Concat { axis } => self.plain(op, "Concat", vec![attr_int("axis", *axis as i64)]),
            OpKind::Add => self.plain(op, "Add", vec![]),
            OpKind::Sub => self.plain(op, "Sub", vec![]),
            OpKind::Mul => self.plain(op, "Mul", vec![]),
            OpKind::MatMul => self.plain(op, "MatMul", vec![]),
            OpKind::Softmax { axis } => self.plain(op, "Softmax", vec![attr_int("axis", *axis as i64)]),
            OpKind::ReduceMean { axis, keepdims } => self.plain(op, "ReduceMean", reduce_attrs(*axis, *keepdims)),
            OpKind::ReduceMax { axis, keepdims } => self.plain(op, "ReduceMax", reduce_attrs(*axis, *keepdims)),
            OpKind::ReduceSum { axis, keepdims } => self.reduce_sum(op, *axis, *keepdims),
            OpKind::L2Normalize { axis, eps } => self.l2_normalize(op, *axis, *eps),
        }
    }

    /// A convolution; with a BatchNorm folded in, its weights and bias are rescaled and it
    /// writes the BatchNorm's output.
    fn conv(&mut self, op: &Op, kernel: &[usize], stride: &[usize], pad: &[usize]) {
        let attrs = window_attrs(kernel, stride, pad);
        let Some(bn) = self.folding.into_conv.get(op.name.as_str()) else {
            return self.plain(op, "Conv", attrs);
        };
        let OpKind::BatchNorm { eps } = bn.kind else { unreachable!("only BatchNorms are folded") };
        let w = |name: &String| &self.weights[name];
        let wname = &op.inputs[1];
        let wshape = &self.shapes[wname.as_str()];
        let (oc, per) = (wshape[0], wshape[1..].iter().product::<usize>());
        let (g, beta, mean, var) = (w(&bn.inputs[1]), w(&bn.inputs[2]), w(&bn.inputs[3]), w(&bn.inputs[4]));
        let b0 = op.inputs.get(2).map(|b| w(b).clone()).unwrap_or_else(|| vec![0.0; oc]);
        let mut wf = w(wname).clone();
        let mut bf = vec![0.0f32; oc];
        for c in 0..oc {
            let s = g[c] / (var[c] + eps).sqrt();
            wf[c * per..(c + 1) * per].iter_mut().for_each(|v| *v *= s);
            bf[c] = (b0[c] - mean[c]) * s + beta[c];
        }
        let bname = format!("{}.bias", op.name);
        self.inits.push(f32_tensor(wname, wshape, &wf));
        self.inits.push(f32_tensor(&bname, &[oc], &bf));
        let (input, out) = (self.rename(&op.inputs[0]), self.rename(&bn.output));
        self.nodes.push(node(&op.name, "Conv", &[&input, wname, &bname], &out, attrs));
    }

    /// Reshape takes its target shape as a second input.
    fn reshape(&mut self, op: &Op, shape: &[i64]) {
        let sname = format!("{}.shape", op.name);
        self.inits.push(i64_tensor(&sname, shape));
        let (input, out) = (self.rename(&op.inputs[0]), self.rename(&op.output));
        self.nodes.push(node(&op.name, "Reshape", &[&input, &sname], &out, vec![]));
    }

    /// ReduceSum takes its axes as a second input (opset 13).
    fn reduce_sum(&mut self, op: &Op, axis: usize, keepdims: bool) {
        let an = format!("{}.axes", op.name);
        self.inits.push(i64_tensor(&an, &[axis as i64]));
        let (input, out) = (self.rename(&op.inputs[0]), self.rename(&op.output));
        self.nodes.push(node(&op.name, "ReduceSum", &[&input, &an], &out, vec![attr_int("keepdims", keepdims as i64)]));
    }

    /// x / max(‖x‖₂, eps) along `axis`.
    fn l2_normalize(&mut self, op: &Op, axis: usize, eps: f32) {
        let n = &op.name;
        let (norm, clamp, en) = (format!("{n}.norm"), format!("{n}.clamp"), format!("{n}.eps"));
        self.inits.push(TensorProto {
            name: en.clone(),
            data_type: data_type::FLOAT,
            raw_data: eps.to_le_bytes().to_vec(),
            ..Default::default()
        });
        let (input, out) = (self.rename(&op.inputs[0]), self.rename(&op.output));
        let norm_attrs = vec![attr_ints("axes", &[axis as i64]), attr_int("keepdims", 1)];
        self.nodes.push(node(&norm, "ReduceL2", &[&input], &norm, norm_attrs));
        self.nodes.push(node(&clamp, "Max", &[&norm, &en], &clamp, vec![]));
        self.nodes.push(node(n, "Div", &[&input, &clamp], &out, vec![]));
    }

    /// A batch-first LSTM: transposed to ONNX's time-first layout, run with the gates
    /// reordered (PyTorch's i, f, g, o to ONNX's i, o, f, c), squeezed and transposed back.
    fn lstm(&mut self, op: &Op, h: usize) {
        let n = &op.name;
        let f = self.shapes[op.inputs[0].as_str()][2];
        let w = |i: usize| reorder_gates(&self.weights[&op.inputs[i]], h);
        let (wi, ri) = (w(1), w(2));
        let mut b = w(3);
        b.extend(w(4));
        let (wn, rn, bn, an) = (format!("{n}.W"), format!("{n}.R"), format!("{n}.B"), format!("{n}.axes"));
        self.inits.push(f32_tensor(&wn, &[1, 4 * h, f], &wi));
        self.inits.push(f32_tensor(&rn, &[1, 4 * h, h], &ri));
        self.inits.push(f32_tensor(&bn, &[1, 8 * h], &b));
        self.inits.push(i64_tensor(&an, &[1]));
        let (tnf, y, tnh) = (format!("{n}.to_tnf"), format!("{n}.y"), format!("{n}.squeeze"));
        let (input, out) = (self.rename(&op.inputs[0]), self.rename(&op.output));
        let lstm_attrs = vec![attr_int("hidden_size", h as i64), attr_str("direction", "forward")];
        self.nodes.push(node(&tnf, "Transpose", &[&input], &tnf, vec![attr_ints("perm", &[1, 0, 2])]));
        self.nodes.push(node(n, "LSTM", &[&tnf, &wn, &rn, &bn], &y, lstm_attrs));
        self.nodes.push(node(&tnh, "Squeeze", &[&y, &an], &tnh, vec![]));
        self.nodes.push(node(&format!("{n}.to_nth"), "Transpose", &[&tnh], &out, vec![attr_ints("perm", &[1, 0, 2])]));
    }
}

/// Kernel, strides and symmetric pads of a convolution or pooling window.
fn window_attrs(kernel: &[usize], stride: &[usize], pad: &[usize]) -> Vec<AttributeProto> {
    let pads: Vec<i64> = ints(pad).into_iter().chain(ints(pad)).collect();
    vec![attr_ints("kernel_shape", &ints(kernel)), attr_ints("strides", &ints(stride)), attr_ints("pads", &pads)]
}

/// One axis and keepdims, as attributes (ReduceMean, ReduceMax at opset 13).
fn reduce_attrs(axis: usize, keepdims: bool) -> Vec<AttributeProto> {
    vec![attr_ints("axes", &[axis as i64]), attr_int("keepdims", keepdims as i64)]
}
