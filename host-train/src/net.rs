//! The libtorch side of the model contract: runs a lowered [`Graph`] with `tch`.
//!
//! The trainer never describes an architecture itself. It takes the IR that
//! `ArchSpec::lower()` produced — the same list of ops the ONNX writer walks — and calls the
//! matching libtorch function for each op (see the table in `models/README.md`). So what is
//! trained is, op for op, what is exported and what tract runs on the device.
//!
//! Parameters live in a [`nn::VarStore`] under their IR names (`spatial.stem.conv.weight`), so
//! libtorch optimisers, device moves and checkpoints all see the weight-file keys directly.
//! BatchNorm running statistics are variables that do not train.

use motus_models::ir::{Graph, Op, OpKind, ParamSpec};
use std::collections::HashMap;
use tch::{nn, Device, Kind, Tensor};

/// Why a network could not be built, loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("weights do not match the architecture: missing parameter {0:?}")]
    MissingWeight(String),
    #[error(
        "weights do not match the architecture: parameter {name:?} has {got} values, the spec wants shape {want:?}"
    )]
    WeightShape { name: String, want: Vec<usize>, got: usize },
    #[error("weights do not match the architecture: {0:?} is not a parameter of this network")]
    UnknownWeight(String),
    #[error("input {name:?}: {msg}")]
    Input { name: String, msg: String },
    #[error("layer {op}: {msg}")]
    Op { op: String, msg: String },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// How a parameter is used, which decides its training initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParamRole {
    ConvOrLinearWeight,
    Bias,
    BnWeight,
    BnBias,
    RunningMean,
    RunningVar,
    LstmWeight { hidden: usize },
    LstmBias { hidden: usize },
    Free,
}

fn param_roles(g: &Graph) -> HashMap<String, ParamRole> {
    let mut roles = HashMap::new();
    for op in &g.ops {
        let mut set = |i: usize, r: ParamRole| {
            if let Some(n) = op.inputs.get(i) {
                roles.insert(n.clone(), r);
            }
        };
        match &op.kind {
            OpKind::Conv { .. } | OpKind::Linear => {
                set(1, ParamRole::ConvOrLinearWeight);
                set(2, ParamRole::Bias);
            }
            OpKind::BatchNorm { .. } => {
                set(1, ParamRole::BnWeight);
                set(2, ParamRole::BnBias);
                set(3, ParamRole::RunningMean);
                set(4, ParamRole::RunningVar);
            }
            OpKind::Lstm { hidden } => {
                set(1, ParamRole::LstmWeight { hidden: *hidden });
                set(2, ParamRole::LstmWeight { hidden: *hidden });
                set(3, ParamRole::LstmBias { hidden: *hidden });
                set(4, ParamRole::LstmBias { hidden: *hidden });
            }
            _ => {}
        }
    }
    roles
}

/// A lowered graph with its parameters on a libtorch device.
pub struct IrNet {
    graph: Graph,
    vs: nn::VarStore,
    params: HashMap<String, Tensor>,
}

impl std::fmt::Debug for IrNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IrNet").field("params", &self.graph.params.len()).field("device", &self.vs.device()).finish()
    }
}

/// The `nn::Path` for a dotted IR parameter name, and the last component.
fn var_path<'a>(root: &nn::Path<'a>, name: &str) -> (nn::Path<'a>, String) {
    let mut parts: Vec<&str> = name.split('.').collect();
    let last = parts.pop().unwrap_or(name).to_string();
    let mut p = root.clone();
    for part in parts {
        p = &p / part;
    }
    (p, last)
}

impl IrNet {
    /// A network with a fresh training initialisation: Kaiming-uniform conv/linear weights, zero
    /// biases, identity BatchNorm, PyTorch's LSTM uniform(±1/√H), small random free parameters
    /// (NetVLAD centres). The random values come from a generator seeded by `seed` and the
    /// parameter's position, not from libtorch's process-wide generator, so two networks built
    /// at once (threads, parallel tests) still get exactly the weights their seed says.
    pub fn new(graph: Graph, device: Device, seed: u64) -> IrNet {
        use rand::{Rng, SeedableRng};
        let vs = nn::VarStore::new(device);
        let roles = param_roles(&graph);
        let root = vs.root();
        let mut params = HashMap::new();
        for (index, p) in graph.params.iter().enumerate() {
            let mut rng =
                rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut uniform = |path: &nn::Path, name: &str, dims: &[i64], lo: f64, up: f64| {
                let values: Vec<f32> = (0..p.numel()).map(|_| rng.random_range(lo..up) as f32).collect();
                let t = path.var(name, dims, nn::Init::Const(0.0));
                tch::no_grad(|| {
                    let mut t = t.shallow_clone();
                    t.copy_(&Tensor::from_slice(&values).reshape(dims));
                });
                t
            };
            let dims: Vec<i64> = p.shape.iter().map(|&d| d as i64).collect();
            let (path, last) = var_path(&root, &p.name);
            let role = roles.get(&p.name).copied().unwrap_or(ParamRole::Free);
            let t = match role {
                ParamRole::ConvOrLinearWeight => {
                    let fan_in: usize = p.shape[1..].iter().product();
                    let bound = (6.0 / fan_in.max(1) as f64).sqrt();
                    uniform(&path, &last, &dims, -bound, bound)
                }
                ParamRole::Bias | ParamRole::BnBias => path.var(&last, &dims, nn::Init::Const(0.0)),
                ParamRole::BnWeight => path.var(&last, &dims, nn::Init::Const(1.0)),
                ParamRole::RunningMean => path.zeros_no_train(&last, &dims),
                ParamRole::RunningVar => path.ones_no_train(&last, &dims),
                ParamRole::LstmWeight { hidden } | ParamRole::LstmBias { hidden } => {
                    let b = 1.0 / (hidden.max(1) as f64).sqrt();
                    uniform(&path, &last, &dims, -b, b)
                }
                ParamRole::Free => uniform(&path, &last, &dims, -0.1, 0.1),
            };
            params.insert(p.name.clone(), t);
        }
        IrNet { graph, vs, params }
    }

    /// A network holding exactly these weights (IR names and layout), checked against the spec.
    pub fn with_weights(graph: Graph, weights: &HashMap<String, Vec<f32>>, device: Device) -> Result<IrNet, NetError> {
        let mut net = IrNet::new(graph, device, 0);
        net.load_weights(weights)?;
        Ok(net)
    }

    /// Replaces every parameter by the given values; refuses a missing, extra or misshapen one.
    pub fn load_weights(&mut self, weights: &HashMap<String, Vec<f32>>) -> Result<(), NetError> {
        check_weights(&self.graph.params, weights)?;
        tch::no_grad(|| {
            for p in &self.graph.params {
                let dims: Vec<i64> = p.shape.iter().map(|&d| d as i64).collect();
                let src = Tensor::from_slice(&weights[&p.name]).reshape(&dims[..]);
                if let Some(t) = self.params.get_mut(&p.name) {
                    t.copy_(&src);
                }
            }
        });
        Ok(())
    }

    /// Every parameter as f32 on the CPU, IR layout: what the ONNX writer and checkpoints take.
    pub fn weights(&self) -> HashMap<String, Vec<f32>> {
        self.params
            .iter()
            .map(|(name, t)| {
                let flat = t.detach().to_device(Device::Cpu).to_kind(Kind::Float).contiguous().view(-1);
                let v = Vec::<f32>::try_from(&flat).expect("a float tensor converts to Vec<f32>");
                (name.clone(), v)
            })
            .collect()
    }

    /// The graph this network runs.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The variable store: for optimisers, freezing and device moves.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Mutable variable store (e.g. to move the network to another device).
    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// A parameter tensor by IR name (shares storage with the variable store).
    pub fn param(&self, name: &str) -> Option<&Tensor> {
        self.params.get(name)
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Runs the graph and returns its output (`logits`, `(N, classes)`). `train` selects batch
    /// statistics in BatchNorm (and updates the running ones), as `nn::ModuleT` does.
    pub fn forward(&self, inputs: &[(&str, &Tensor)], train: bool) -> Result<Tensor, NetError> {
        let out = self.graph.output.clone();
        let mut vals = self.forward_values(inputs, train, &[out.as_str()])?;
        Ok(vals.remove(&out).expect("the output value is always kept"))
    }

    /// Runs the graph and returns the named intermediate values too (e.g. `spatial.fc` to train
    /// one stream of a two-stream net on its own).
    pub fn forward_values(
        &self,
        inputs: &[(&str, &Tensor)],
        train: bool,
        keep: &[&str],
    ) -> Result<HashMap<String, Tensor>, NetError> {
        let mut vals: HashMap<&str, Tensor> = HashMap::new();
        for decl in &self.graph.inputs {
            let (_, t) = inputs
                .iter()
                .find(|(n, _)| *n == decl.name)
                .ok_or_else(|| NetError::Input { name: decl.name.clone(), msg: "not given".into() })?;
            let got = t.size();
            let want = &decl.shape;
            if got.len() != want.len() || got.iter().skip(1).zip(want.iter().skip(1)).any(|(g, w)| *g != *w as i64) {
                return Err(NetError::Input {
                    name: decl.name.clone(),
                    msg: format!("shape {got:?} does not fit {} {:?} (any batch)", decl.layout, want),
                });
            }
            vals.insert(&decl.name, t.shallow_clone());
        }
        for (n, _) in inputs {
            if !self.graph.inputs.iter().any(|d| d.name == *n) {
                return Err(NetError::Input { name: n.to_string(), msg: "the network has no such input".into() });
            }
        }
        for op in &self.graph.ops {
            let y = self.run_op(op, &vals, train)?;
            vals.insert(&op.output, y);
        }
        let mut out = HashMap::new();
        for k in keep {
            let t = vals.get(k).ok_or_else(|| NetError::Op { op: k.to_string(), msg: "no such value".into() })?;
            out.insert(k.to_string(), t.shallow_clone());
        }
        Ok(out)
    }

    fn value<'v>(&'v self, vals: &'v HashMap<&str, Tensor>, op: &Op, i: usize) -> Result<&'v Tensor, NetError> {
        let name =
            op.inputs.get(i).ok_or_else(|| NetError::Op { op: op.name.clone(), msg: format!("input {i} missing") })?;
        vals.get(name.as_str())
            .or_else(|| self.params.get(name))
            .ok_or_else(|| NetError::Op { op: op.name.clone(), msg: format!("reads unknown value {name:?}") })
    }

    fn run_op(&self, op: &Op, vals: &HashMap<&str, Tensor>, train: bool) -> Result<Tensor, NetError> {
        let x = |i: usize| self.value(vals, op, i);
        let i64s = |v: &[usize]| v.iter().map(|&d| d as i64).collect::<Vec<i64>>();
        let y = match &op.kind {
            OpKind::Conv { kernel, stride, pad } => {
                let bias = if op.inputs.len() > 2 { Some(x(2)?) } else { None };
                let (s, p) = (i64s(stride), i64s(pad));
                match kernel.len() {
                    2 => x(0)?.f_conv2d(x(1)?, bias, &s[..], &p[..], [1, 1], 1)?,
                    3 => x(0)?.f_conv3d(x(1)?, bias, &s[..], &p[..], [1, 1, 1], 1)?,
                    k => return Err(NetError::Op { op: op.name.clone(), msg: format!("{k}-D convolution") }),
                }
            }
            OpKind::BatchNorm { eps } => Tensor::f_batch_norm(
                x(0)?,
                Some(x(1)?),
                Some(x(2)?),
                Some(x(3)?),
                Some(x(4)?),
                train,
                0.1,
                *eps as f64,
                true,
            )?,
            OpKind::Relu => x(0)?.f_relu()?,
            OpKind::Sigmoid => x(0)?.f_sigmoid()?,
            OpKind::Log => x(0)?.f_log()?,
            OpKind::MaxPool { kernel, stride, pad } => {
                let (k, s, p) = (i64s(kernel), i64s(stride), i64s(pad));
                match kernel.len() {
                    2 => x(0)?.f_max_pool2d(&k[..], &s[..], &p[..], [1, 1], false)?,
                    _ => x(0)?.f_max_pool3d(&k[..], &s[..], &p[..], [1, 1, 1], false)?,
                }
            }
            OpKind::AvgPool { kernel, stride } => {
                let (k, s) = (i64s(kernel), i64s(stride));
                let zeros = vec![0i64; k.len()];
                match kernel.len() {
                    2 => x(0)?.f_avg_pool2d(&k[..], &s[..], &zeros[..], false, true, None)?,
                    _ => x(0)?.f_avg_pool3d(&k[..], &s[..], &zeros[..], false, true, None)?,
                }
            }
            OpKind::GlobalAvgPool => {
                let t = x(0)?;
                let dims: Vec<i64> = (2..t.dim() as i64).collect();
                t.f_mean_dim(&dims[..], true, Kind::Float)?
            }
            OpKind::Flatten { axis } => {
                let t = x(0)?;
                let lead: i64 = t.size()[..*axis].iter().product();
                t.f_reshape([lead, -1])?
            }
            OpKind::Reshape { shape } => x(0)?.f_reshape(&shape[..])?,
            OpKind::Transpose { perm } => x(0)?.f_permute(&i64s(perm)[..])?,
            OpKind::Linear => x(0)?.f_linear(x(1)?, Some(x(2)?))?,
            OpKind::Lstm { hidden } => lstm_forward(x(0)?, x(1)?, x(2)?, x(3)?, x(4)?, *hidden as i64)?,
            OpKind::Concat { axis } => {
                let xs: Vec<&Tensor> = (0..op.inputs.len()).map(x).collect::<Result<_, _>>()?;
                Tensor::f_cat(&xs, *axis as i64)?
            }
            OpKind::Add => x(0)?.f_add(x(1)?)?,
            OpKind::Sub => x(0)?.f_sub(x(1)?)?,
            OpKind::Mul => x(0)?.f_mul(x(1)?)?,
            OpKind::MatMul => x(0)?.f_matmul(x(1)?)?,
            OpKind::Softmax { axis } => x(0)?.f_softmax(*axis as i64, Kind::Float)?,
            OpKind::ReduceMean { axis, keepdims } => x(0)?.f_mean_dim(&[*axis as i64][..], *keepdims, Kind::Float)?,
            OpKind::ReduceMax { axis, keepdims } => x(0)?.f_amax(&[*axis as i64][..], *keepdims)?,
            OpKind::ReduceSum { axis, keepdims } => {
                x(0)?.f_sum_dim_intlist(&[*axis as i64][..], *keepdims, Kind::Float)?
            }
            OpKind::L2Normalize { axis, eps } => {
                let t = x(0)?;
                let norm = t.f_norm_scalaropt_dim(2, &[*axis as i64][..], true)?.f_clamp_min(*eps as f64)?;
                t.f_div(&norm)?
            }
        };
        Ok(y)
    }
}

/// One forward LSTM layer, batch first, zero initial state, PyTorch gate order `i, f, g, o`;
/// returns all hidden states `(N, T, H)`. Written out step by step so that it is exactly the
/// recurrence the ONNX LSTM computes.
fn lstm_forward(
    x: &Tensor,
    w_ih: &Tensor,
    w_hh: &Tensor,
    b_ih: &Tensor,
    b_hh: &Tensor,
    hidden: i64,
) -> Result<Tensor, tch::TchError> {
    let size = x.size();
    let (n, t) = (size[0], size[1]);
    // The input projection of every step at once.
    let xw = x.f_matmul(&w_ih.tr())?.f_add(b_ih)?.f_add(b_hh)?;
    let mut h = Tensor::f_zeros([n, hidden], (x.kind(), x.device()))?;
    let mut c = Tensor::f_zeros([n, hidden], (x.kind(), x.device()))?;
    let mut outs = Vec::with_capacity(t as usize);
    for step in 0..t {
        let gates = xw.f_select(1, step)?.f_add(&h.f_matmul(&w_hh.tr())?)?;
        let chunks = gates.f_chunk(4, 1)?;
        let (i, f, g, o) = (chunks[0].sigmoid(), chunks[1].sigmoid(), chunks[2].tanh(), chunks[3].sigmoid());
        c = f.f_mul(&c)?.f_add(&i.f_mul(&g)?)?;
        h = o.f_mul(&c.tanh())?;
        outs.push(h.shallow_clone());
    }
    Tensor::f_stack(&outs, 1)
}

/// Checks a weight map against the parameter list: every name present with the right number of
/// values, nothing extra.
pub fn check_weights(params: &[ParamSpec], weights: &HashMap<String, Vec<f32>>) -> Result<(), NetError> {
    for p in params {
        let v = weights.get(&p.name).ok_or_else(|| NetError::MissingWeight(p.name.clone()))?;
        if v.len() != p.numel() {
            return Err(NetError::WeightShape { name: p.name.clone(), want: p.shape.clone(), got: v.len() });
        }
    }
    if let Some(extra) = weights.keys().find(|k| !params.iter().any(|p| &p.name == *k)) {
        return Err(NetError::UnknownWeight(extra.clone()));
    }
    Ok(())
}
