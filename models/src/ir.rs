//! The layer IR: the one description of a network that every backend consumes.
//!
//! An [`crate::ArchSpec`] lowers to a [`Graph`]: named inputs, a topologically ordered list of
//! [`Op`]s, the name of the output value, and the list of parameters. The ONNX writer
//! ([`crate::onnx::export`]) turns it into an ONNX graph; the trainer's libtorch interpreter walks
//! the same list and calls the matching `tch` functions. Because both read this list, the two
//! implementations cannot drift: a change of architecture is a change of the spec's lowering,
//! seen by both.
//!
//! # Values and parameters
//! Every op reads named values and writes exactly one named value. A value is either a graph
//! input, the output of an earlier op, or a parameter (a trained tensor listed in
//! [`Graph::params`]). Parameter names are the keys of the weight file (safetensors) and follow
//! PyTorch's conventions, so the libtorch side can load them into `tch::nn` modules directly:
//!
//! | layer | parameters (shapes) |
//! |---|---|
//! | `Conv` 2D / 3D | `P.weight` `[O, I, kh, kw]` / `[O, I, kt, kh, kw]`, optional `P.bias` `[O]` |
//! | `BatchNorm` | `P.weight` (γ), `P.bias` (β), `P.running_mean`, `P.running_var`, all `[C]` |
//! | `Linear` | `P.weight` `[out, in]`, `P.bias` `[out]` (`y = x Wᵀ + b`) |
//! | `Lstm` (one layer, forward) | `P.weight_ih_l0` `[4H, F]`, `P.weight_hh_l0` `[4H, H]`, `P.bias_ih_l0` `[4H]`, `P.bias_hh_l0` `[4H]`, PyTorch gate order `i, f, g, o` |
//! | NetVLAD centres | `P.centers` `[K, D]` |
//!
//! The ONNX writer reorders LSTM gates to ONNX's `i, o, f, c` and folds each `BatchNorm` into the
//! `Conv` that feeds it; the weight file always holds the IR (PyTorch) layout.
//!
//! # Shapes
//! Axis 0 of every activation is the batch axis (possibly batch × time after a per-frame
//! reshape); the IR records each op's output shape for a batch of **one clip**. `Reshape`
//! targets use `-1` on axis 0 only, so they are valid for any batch size.
//!
//! # 2D → 3D inflation (I3D)
//! An inflated 3D tower uses exactly the parameter names of the 2D tower built from the same
//! block list; only conv kernels gain a time axis. For a 3D weight `P.weight`
//! `[O, I, kt, kh, kw]` the 2D source is `P.weight` `[O, I, kh, kw]` and the inflated tensor is
//! `w2d.unsqueeze(2).repeat(1, 1, kt, 1, 1) / kt`; every other parameter (biases, BatchNorm,
//! Linear) is copied unchanged. [`inflation_source`] gives the 2D shape and `kt` for a parameter.
//!
//! # FLOPs
//! [`Graph::flops`] counts a multiply-add as 2 FLOPs and counts only the multiply-adds of `Conv`,
//! `Linear`, `MatMul` and `Lstm` (input and recurrent matrix products). Element-wise ops,
//! pooling, normalisation and softmax are not counted (they are a few percent at most, and
//! BatchNorm disappears at export).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A graph input: a name, a layout tag (e.g. `NCTHW`) and a shape whose axis 0 is the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputDecl {
    pub name: String,
    /// Axis letters, one per dimension: N batch, T time, C channels, H, W.
    pub layout: String,
    /// Shape for one clip; axis 0 (the batch) is always 1 here and dynamic in the ONNX file.
    pub shape: Vec<usize>,
}

/// A trained tensor: its weight-file key and shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

impl ParamSpec {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// What an op computes. Inputs are given by [`Op::inputs`], in the order stated per variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum OpKind {
    /// inputs `[x, weight]` or `[x, weight, bias]`; 2D when `kernel.len() == 2`, 3D when 3.
    /// Symmetric zero padding `pad[i]` on both sides of spatial axis i; groups = 1, dilation 1.
    Conv {
        kernel: Vec<usize>,
        stride: Vec<usize>,
        pad: Vec<usize>,
    },
    /// inputs `[x, weight, bias, running_mean, running_var]`, over axis 1 (inference form).
    BatchNorm {
        eps: f32,
    },
    Relu,
    Sigmoid,
    /// Natural logarithm (used for `log` of averaged probabilities).
    Log,
    /// Max pooling, no padding beyond `pad` (padded cells never win).
    MaxPool {
        kernel: Vec<usize>,
        stride: Vec<usize>,
        pad: Vec<usize>,
    },
    /// Average pooling without padding.
    AvgPool {
        kernel: Vec<usize>,
        stride: Vec<usize>,
    },
    /// Mean over all axes after axis 1, kept as size-1 axes (ONNX GlobalAveragePool).
    GlobalAvgPool,
    /// Reshape to `[prod(shape[..axis]), prod(shape[axis..])]`.
    Flatten {
        axis: usize,
    },
    /// Target shape; `-1` allowed on axis 0 only (the batch-carrying axis).
    Reshape {
        shape: Vec<i64>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    /// inputs `[x, weight, bias]`, `x` is 2D: `y = x Wᵀ + b`.
    Linear,
    /// One forward LSTM layer, batch first: inputs `[x (N,T,F), weight_ih, weight_hh, bias_ih,
    /// bias_hh]`, output all hidden states `(N, T, H)`; zero initial state.
    Lstm {
        hidden: usize,
    },
    Concat {
        axis: usize,
    },
    /// Element-wise with NumPy broadcasting.
    Add,
    Sub,
    Mul,
    /// Batched matrix product (NumPy `matmul`).
    MatMul,
    Softmax {
        axis: usize,
    },
    ReduceMean {
        axis: usize,
        keepdims: bool,
    },
    ReduceMax {
        axis: usize,
        keepdims: bool,
    },
    ReduceSum {
        axis: usize,
        keepdims: bool,
    },
    /// `x / max(‖x‖₂ over axis, eps)` (PyTorch `F.normalize`).
    L2Normalize {
        axis: usize,
        eps: f32,
    },
}

impl OpKind {
    /// The kebab-case tag, as in the serialized IR.
    pub fn tag(&self) -> &'static str {
        match self {
            OpKind::Conv { .. } => "conv",
            OpKind::BatchNorm { .. } => "batch-norm",
            OpKind::Relu => "relu",
            OpKind::Sigmoid => "sigmoid",
            OpKind::Log => "log",
            OpKind::MaxPool { .. } => "max-pool",
            OpKind::AvgPool { .. } => "avg-pool",
            OpKind::GlobalAvgPool => "global-avg-pool",
            OpKind::Flatten { .. } => "flatten",
            OpKind::Reshape { .. } => "reshape",
            OpKind::Transpose { .. } => "transpose",
            OpKind::Linear => "linear",
            OpKind::Lstm { .. } => "lstm",
            OpKind::Concat { .. } => "concat",
            OpKind::Add => "add",
            OpKind::Sub => "sub",
            OpKind::Mul => "mul",
            OpKind::MatMul => "mat-mul",
            OpKind::Softmax { .. } => "softmax",
            OpKind::ReduceMean { .. } => "reduce-mean",
            OpKind::ReduceMax { .. } => "reduce-max",
            OpKind::ReduceSum { .. } => "reduce-sum",
            OpKind::L2Normalize { .. } => "l2-normalize",
        }
    }
}

/// One step of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// Readable, unique name (`spatial.stage2.conv1`); also the ONNX node name.
    pub name: String,
    pub kind: OpKind,
    /// Value names read (graph inputs, earlier outputs or parameters), in the variant's order.
    pub inputs: Vec<String>,
    /// Value name written.
    pub output: String,
    /// Output shape for a batch of one clip.
    pub shape: Vec<usize>,
}

/// A lowered network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    pub inputs: Vec<InputDecl>,
    pub ops: Vec<Op>,
    /// The value holding the class scores `(N, num_classes)`; exported as `logits`.
    pub output: String,
    pub params: Vec<ParamSpec>,
}

/// A graph that is not well formed (an op reading an unknown value, a shape that cannot work).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("layer {op}: {msg}")]
pub struct ShapeError {
    pub op: String,
    pub msg: String,
}

impl Graph {
    /// Total number of trained scalars (BatchNorm running statistics included).
    pub fn num_params(&self) -> usize {
        self.params.iter().map(ParamSpec::numel).sum()
    }

    /// FLOPs for one clip (batch 1): 2 per multiply-add of Conv, Linear, MatMul and LSTM.
    pub fn flops(&self) -> u64 {
        let shapes = self.shapes();
        let mut total = 0u64;
        for op in &self.ops {
            let out: u64 = op.shape.iter().product::<usize>() as u64;
            let shape_of = |i: usize| shapes.get(op.inputs[i].as_str()).cloned().unwrap_or_default();
            total += match &op.kind {
                OpKind::Conv { .. } => {
                    let w = shape_of(1);
                    let per_out: usize = w[1..].iter().product();
                    2 * out * per_out as u64
                }
                OpKind::Linear => {
                    let w = shape_of(1);
                    2 * out * w[1] as u64
                }
                OpKind::MatMul => {
                    let a = shape_of(0);
                    2 * out * *a.last().unwrap_or(&0) as u64
                }
                OpKind::Lstm { hidden } => {
                    let x = shape_of(0);
                    let (n, t, f) = (x[0] as u64, x[1] as u64, x[2] as u64);
                    let h = *hidden as u64;
                    2 * n * t * 4 * h * (f + h)
                }
                _ => 0,
            };
        }
        total
    }

    /// Shape of every value (inputs, params, op outputs) for a batch of one clip.
    pub fn shapes(&self) -> HashMap<&str, Vec<usize>> {
        let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
        for i in &self.inputs {
            m.insert(&i.name, i.shape.clone());
        }
        for p in &self.params {
            m.insert(&p.name, p.shape.clone());
        }
        for op in &self.ops {
            m.insert(&op.output, op.shape.clone());
        }
        m
    }

    /// Number of classes: the size of axis 1 of the output value.
    pub fn num_classes(&self) -> usize {
        self.ops.iter().rev().find(|o| o.output == self.output).map(|o| o.shape[1]).unwrap_or(0)
    }

    /// The parameter with this name.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Deterministic pseudo-random weights for tests and demos (not a training initialiser):
    /// He-scaled conv/linear/LSTM weights, small biases, and BatchNorm statistics far enough from
    /// identity that folding them is actually exercised.
    pub fn random_weights(&self, seed: u64) -> HashMap<String, Vec<f32>> {
        let mut rng = SplitMix(seed ^ 0x9E37_79B9_7F4A_7C15);
        let mut out = HashMap::new();
        for p in &self.params {
            let n = p.numel();
            let fan_in: usize = if p.shape.len() >= 2 { p.shape[1..].iter().product() } else { 1 };
            let bound = (6.0 / fan_in.max(1) as f32).sqrt();
            let v: Vec<f32> = if p.name.ends_with(".running_var") {
                (0..n).map(|_| 0.5 + rng.unit()).collect()
            } else if p.name.ends_with(".running_mean") || p.shape.len() == 1 && p.name.ends_with(".bias") {
                (0..n).map(|_| 0.2 * (rng.unit() - 0.5)).collect()
            } else if p.shape.len() == 1 {
                // BatchNorm gamma (and any other vector): around 1.
                (0..n).map(|_| 0.5 + rng.unit()).collect()
            } else {
                (0..n).map(|_| bound * (2.0 * rng.unit() - 1.0)).collect()
            };
            out.insert(p.name.clone(), v);
        }
        out
    }
}

/// For an inflated 3D conv weight `[O, I, kt, kh, kw]`: the 2D source shape `[O, I, kh, kw]`
/// and `kt` (inflate with `w2d.unsqueeze(2).repeat(1,1,kt,1,1) / kt`). `None` for any other
/// parameter, which is copied from the 2D net unchanged.
pub fn inflation_source(p: &ParamSpec) -> Option<(Vec<usize>, usize)> {
    if p.shape.len() == 5 && p.name.ends_with(".weight") {
        Some((vec![p.shape[0], p.shape[1], p.shape[3], p.shape[4]], p.shape[2]))
    } else {
        None
    }
}

/// splitmix64: tiny, seedable, good enough for test weights.
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Deterministic uniform `[-1, 1)` values, for test inputs.
pub fn random_input(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix(seed);
    (0..n).map(|_| 2.0 * rng.unit() - 1.0).collect()
}

/// Builds a [`Graph`] while inferring shapes, so specs can ask "how many channels here?".
pub struct Builder {
    g: Graph,
    shapes: HashMap<String, Vec<usize>>,
}

type R<T> = Result<T, ShapeError>;

fn err<T>(op: &str, msg: impl Into<String>) -> R<T> {
    Err(ShapeError { op: op.to_string(), msg: msg.into() })
}

fn pool_out(op: &str, inp: usize, k: usize, s: usize, p: usize) -> R<usize> {
    if inp + 2 * p < k {
        return err(op, format!("input extent {inp} (+2×pad {p}) is smaller than the kernel {k}"));
    }
    Ok((inp + 2 * p - k) / s + 1)
}

impl Builder {
    pub fn new() -> Self {
        Builder {
            g: Graph { inputs: vec![], ops: vec![], output: String::new(), params: vec![] },
            shapes: HashMap::new(),
        }
    }

    pub fn input(&mut self, name: &str, layout: &str, shape: Vec<usize>) -> String {
        self.shapes.insert(name.to_string(), shape.clone());
        self.g.inputs.push(InputDecl { name: name.into(), layout: layout.into(), shape });
        name.to_string()
    }

    pub fn shape(&self, v: &str) -> &[usize] {
        &self.shapes[v]
    }

    fn param(&mut self, name: String, shape: Vec<usize>) -> String {
        self.shapes.insert(name.clone(), shape.clone());
        self.g.params.push(ParamSpec { name: name.clone(), shape });
        name
    }

    fn push(&mut self, name: &str, kind: OpKind, inputs: Vec<String>, shape: Vec<usize>) -> R<String> {
        if self.g.ops.iter().any(|o| o.name == name) {
            return err(name, "duplicate layer name");
        }
        if shape.contains(&0) {
            return err(name, format!("output shape {shape:?} has an empty axis (input too small?)"));
        }
        let output = name.to_string();
        self.shapes.insert(output.clone(), shape.clone());
        self.g.ops.push(Op { name: name.into(), kind, inputs, output: output.clone(), shape });
        Ok(output)
    }

    #[allow(clippy::too_many_arguments)] // ONNX Conv's own attributes, one argument each
    pub fn conv(
        &mut self,
        name: &str,
        x: &str,
        out_c: usize,
        kernel: &[usize],
        stride: &[usize],
        pad: &[usize],
        bias: bool,
    ) -> R<String> {
        let xs = self.shapes[x].clone();
        let sd = kernel.len();
        if xs.len() != sd + 2 || stride.len() != sd || pad.len() != sd {
            return err(name, format!("{sd}D conv on input of shape {xs:?}"));
        }
        let mut out = vec![xs[0], out_c];
        for i in 0..sd {
            out.push(pool_out(name, xs[2 + i], kernel[i], stride[i], pad[i])?);
        }
        let mut wshape = vec![out_c, xs[1]];
        wshape.extend_from_slice(kernel);
        let mut inputs = vec![x.to_string(), self.param(format!("{name}.weight"), wshape)];
        if bias {
            inputs.push(self.param(format!("{name}.bias"), vec![out_c]));
        }
        let kind = OpKind::Conv { kernel: kernel.to_vec(), stride: stride.to_vec(), pad: pad.to_vec() };
        self.push(name, kind, inputs, out)
    }

    pub fn batch_norm(&mut self, name: &str, x: &str) -> R<String> {
        let xs = self.shapes[x].clone();
        let c = xs[1];
        let mut inputs = vec![x.to_string()];
        for suffix in ["weight", "bias", "running_mean", "running_var"] {
            inputs.push(self.param(format!("{name}.{suffix}"), vec![c]));
        }
        self.push(name, OpKind::BatchNorm { eps: 1e-5 }, inputs, xs)
    }

    pub fn unary(&mut self, name: &str, kind: OpKind, x: &str) -> R<String> {
        let xs = self.shapes[x].clone();
        self.push(name, kind, vec![x.into()], xs)
    }

    /// Conv (no bias) → BatchNorm → ReLU, named `{prefix}.conv`, `{prefix}.bn`, `{prefix}.relu`.
    pub fn conv_bn_relu(
        &mut self,
        prefix: &str,
        x: &str,
        out_c: usize,
        kernel: &[usize],
        stride: &[usize],
        pad: &[usize],
    ) -> R<String> {
        let c = self.conv(&format!("{prefix}.conv"), x, out_c, kernel, stride, pad, false)?;
        let b = self.batch_norm(&format!("{prefix}.bn"), &c)?;
        self.unary(&format!("{prefix}.relu"), OpKind::Relu, &b)
    }

    pub fn max_pool(&mut self, name: &str, x: &str, kernel: &[usize], stride: &[usize], pad: &[usize]) -> R<String> {
        let xs = self.shapes[x].clone();
        if xs.len() != kernel.len() + 2 {
            return err(name, format!("{}D pool on input of shape {xs:?}", kernel.len()));
        }
        let mut out = xs[..2].to_vec();
        for i in 0..kernel.len() {
            if pad[i] * 2 > kernel[i] {
                return err(name, "pad must be less than half the kernel");
            }
            out.push(pool_out(name, xs[2 + i], kernel[i], stride[i], pad[i])?);
        }
        let kind = OpKind::MaxPool { kernel: kernel.to_vec(), stride: stride.to_vec(), pad: pad.to_vec() };
        self.push(name, kind, vec![x.into()], out)
    }

    pub fn avg_pool(&mut self, name: &str, x: &str, kernel: &[usize], stride: &[usize]) -> R<String> {
        let xs = self.shapes[x].clone();
        if xs.len() != kernel.len() + 2 {
            return err(name, format!("{}D pool on input of shape {xs:?}", kernel.len()));
        }
        let mut out = xs[..2].to_vec();
        for i in 0..kernel.len() {
            out.push(pool_out(name, xs[2 + i], kernel[i], stride[i], 0)?);
        }
        self.push(name, OpKind::AvgPool { kernel: kernel.to_vec(), stride: stride.to_vec() }, vec![x.into()], out)
    }

    /// GlobalAvgPool then Flatten: `(N, C, ...) → (N, C)`.
    pub fn global_pool_flat(&mut self, prefix: &str, x: &str) -> R<String> {
        let xs = self.shapes[x].clone();
        let mut out = xs[..2].to_vec();
        out.extend(std::iter::repeat_n(1, xs.len() - 2));
        let g = self.push(&format!("{prefix}.gap"), OpKind::GlobalAvgPool, vec![x.into()], out)?;
        self.flatten(&format!("{prefix}.flatten"), &g, 1)
    }

    pub fn flatten(&mut self, name: &str, x: &str, axis: usize) -> R<String> {
        let xs = self.shapes[x].clone();
        let out = vec![xs[..axis].iter().product(), xs[axis..].iter().product()];
        self.push(name, OpKind::Flatten { axis }, vec![x.into()], out)
    }

    /// Reshape with `-1` on axis 0.
    pub fn reshape(&mut self, name: &str, x: &str, rest: &[usize]) -> R<String> {
        let total: usize = self.shapes[x].iter().product();
        let inner: usize = rest.iter().product();
        if inner == 0 || !total.is_multiple_of(inner) {
            return err(name, format!("cannot reshape {:?} to [-1, {rest:?}]", self.shapes[x]));
        }
        let mut out = vec![total / inner];
        out.extend_from_slice(rest);
        let mut target = vec![-1i64];
        target.extend(rest.iter().map(|&d| d as i64));
        self.push(name, OpKind::Reshape { shape: target }, vec![x.into()], out)
    }

    pub fn transpose(&mut self, name: &str, x: &str, perm: &[usize]) -> R<String> {
        let xs = self.shapes[x].clone();
        let out = perm.iter().map(|&p| xs[p]).collect();
        self.push(name, OpKind::Transpose { perm: perm.to_vec() }, vec![x.into()], out)
    }

    pub fn linear(&mut self, name: &str, x: &str, out_f: usize) -> R<String> {
        let xs = self.shapes[x].clone();
        if xs.len() != 2 {
            return err(name, format!("linear needs a 2D input, got {xs:?}"));
        }
        let w = self.param(format!("{name}.weight"), vec![out_f, xs[1]]);
        let b = self.param(format!("{name}.bias"), vec![out_f]);
        self.push(name, OpKind::Linear, vec![x.into(), w, b], vec![xs[0], out_f])
    }

    pub fn lstm(&mut self, name: &str, x: &str, hidden: usize) -> R<String> {
        let xs = self.shapes[x].clone();
        if xs.len() != 3 {
            return err(name, format!("LSTM needs (N, T, F), got {xs:?}"));
        }
        let inputs = vec![
            x.to_string(),
            self.param(format!("{name}.weight_ih_l0"), vec![4 * hidden, xs[2]]),
            self.param(format!("{name}.weight_hh_l0"), vec![4 * hidden, hidden]),
            self.param(format!("{name}.bias_ih_l0"), vec![4 * hidden]),
            self.param(format!("{name}.bias_hh_l0"), vec![4 * hidden]),
        ];
        self.push(name, OpKind::Lstm { hidden }, inputs, vec![xs[0], xs[1], hidden])
    }

    pub fn concat(&mut self, name: &str, xs: &[String], axis: usize) -> R<String> {
        let mut out = self.shapes[&xs[0]].clone();
        for x in &xs[1..] {
            let s = &self.shapes[x];
            if s.len() != out.len() || s.iter().zip(&out).enumerate().any(|(i, (a, b))| i != axis && a != b) {
                return err(name, format!("cannot concat {out:?} with {s:?} on axis {axis}"));
            }
            out[axis] += s[axis];
        }
        self.push(name, OpKind::Concat { axis }, xs.to_vec(), out)
    }

    /// Element-wise binary op with broadcasting.
    pub fn binary(&mut self, name: &str, kind: OpKind, a: &str, b: &str) -> R<String> {
        let (sa, sb) = (self.shapes[a].clone(), self.shapes[b].clone());
        let n = sa.len().max(sb.len());
        let mut out = vec![0; n];
        for i in 0..n {
            let da = if i + sa.len() >= n { sa[i + sa.len() - n] } else { 1 };
            let db = if i + sb.len() >= n { sb[i + sb.len() - n] } else { 1 };
            out[i] = if da == db || db == 1 {
                da
            } else if da == 1 {
                db
            } else {
                return err(name, format!("cannot broadcast {sa:?} with {sb:?}"));
            };
        }
        self.push(name, kind, vec![a.into(), b.into()], out)
    }

    pub fn matmul(&mut self, name: &str, a: &str, b: &str) -> R<String> {
        let (sa, sb) = (self.shapes[a].clone(), self.shapes[b].clone());
        if sa.len() != 3 || sb.len() != 3 || sa[0] != sb[0] || sa[2] != sb[1] {
            return err(name, format!("batched matmul of {sa:?} by {sb:?}"));
        }
        self.push(name, OpKind::MatMul, vec![a.into(), b.into()], vec![sa[0], sa[1], sb[2]])
    }

    pub fn reduce(
        &mut self,
        name: &str,
        kind: fn(usize, bool) -> OpKind,
        x: &str,
        axis: usize,
        keepdims: bool,
    ) -> R<String> {
        let mut out = self.shapes[x].clone();
        if keepdims {
            out[axis] = 1;
        } else {
            out.remove(axis);
        }
        self.push(name, kind(axis, keepdims), vec![x.into()], out)
    }

    /// A trained free tensor (e.g. NetVLAD centres).
    pub fn free_param(&mut self, name: &str, shape: Vec<usize>) -> String {
        self.param(name.to_string(), shape)
    }

    pub fn finish(mut self, output: &str) -> Graph {
        self.g.output = output.to_string();
        self.g
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

pub fn reduce_mean(axis: usize, keepdims: bool) -> OpKind {
    OpKind::ReduceMean { axis, keepdims }
}
pub fn reduce_max(axis: usize, keepdims: bool) -> OpKind {
    OpKind::ReduceMax { axis, keepdims }
}
pub fn reduce_sum(axis: usize, keepdims: bool) -> OpKind {
    OpKind::ReduceSum { axis, keepdims }
}
