//! Architecture specs: every network family of the video literature as plain data.
//!
//! A spec is serde data (`{"arch": "two-stream", ...}`) with width, depth and resolution knobs;
//! [`ArchSpec::lower`] turns it into the layer IR ([`crate::ir::Graph`]) that both the ONNX writer
//! and the trainer's libtorch interpreter consume.
//!
//! # Inputs per architecture
//! Axis 0 is always the batch `N` (dynamic in the ONNX file). `H = W = input_size`.
//!
//! | arch | input | layout | shape |
//! |---|---|---|---|
//! | `single-frame` | `rgb` | NTCHW | `[N, T, 3, H, W]`, `T = clip_len` |
//! | `conv-pool` | `rgb` | NTCHW | `[N, T, 3, H, W]` |
//! | `cnn-lstm` | `rgb` | NTCHW | `[N, T, 3, H, W]` |
//! | `c3d` | `rgb` | NCTHW | `[N, 3, T, H, W]` |
//! | `two-stream` | `rgb` | NCHW | `[N, 3, H, W]`: the clip's centre frame |
//! |  | `flow` | NCHW | `[N, 2L, H, W]`: `L` flow fields stacked as `x₁, y₁, x₂, y₂, …` |
//! | `fused-3d` | `rgb` | NTCHW | `[N, T, 3, H, W]` |
//! |  | `flow` | NTCHW | `[N, T, 2L, H, W]`: one `L`-field flow stack per time step |
//! | `i3d` | `rgb` | NCTHW | `[N, 3, T, H, W]` |
//! |  | `flow` | NCTHW | `[N, 2, T, H, W]` (when `flow: true`): one flow field per frame |
//!
//! # Output and fusion
//! The IR output is `(N, num_classes)` scores, exported as `logits` (plus `probs = softmax`).
//! Where the literature averages *predictions* (single-frame over frames; two-stream and I3D
//! `average` fusion over streams), the graph averages softmax probabilities and outputs their
//! natural log as `logits`, so `softmax(logits)` is exactly the averaged probabilities.
//! `cnn-lstm` classifies the mean of the LSTM's hidden states over all steps (LRCN averages
//! per-step predictions; a linear classifier of the mean equals the mean of per-step scores).

use crate::ir::{self, Builder, Graph, OpKind, ShapeError};
use serde::{Deserialize, Serialize};

/// A per-frame 2D CNN (VGG-like, BatchNorm + ReLU after every conv).
///
/// Stem: 3×3 conv, stride 2 → `stem` channels. Then one stage per entry of `widths`, each of
/// `depth` 3×3 convs, the first with stride 2. Output `(N, widths.last(), H/2^(1+stages), …)`.
/// Names: `P.stem.{conv,bn,relu}`, `P.stage{i}.unit{j}.{conv,bn,relu}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backbone2d {
    pub stem: usize,
    pub widths: Vec<usize>,
    pub depth: usize,
}

impl Backbone2d {
    /// The edge default: about 1.2 M parameters, ~0.1 GFLOPs per 112×112 frame.
    pub fn edge() -> Self {
        Backbone2d { stem: 32, widths: vec![32, 64, 128, 256], depth: 2 }
    }
    pub fn out_channels(&self) -> usize {
        *self.widths.last().unwrap_or(&self.stem)
    }
}

/// Temporal pooling of per-frame features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum TemporalPool {
    Avg,
    Max,
    /// NetVLAD: soft assignment `a_k(x_i) = softmax_k(w_k·x_i + b_k)`,
    /// `V(k, j) = Σ_i a_k(x_i) (x_i(j) − c_k(j))`, intra-normalised per cluster then L2-normalised;
    /// optional context gating `Y = σ(W X + b) ∘ X` on the descriptor.
    Netvlad {
        clusters: usize,
        context_gating: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleFrame {
    pub num_classes: usize,
    pub clip_len: usize,
    pub input_size: usize,
    pub backbone: Backbone2d,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvPool {
    pub num_classes: usize,
    pub clip_len: usize,
    pub input_size: usize,
    pub backbone: Backbone2d,
    pub pooling: TemporalPool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnLstm {
    pub num_classes: usize,
    pub clip_len: usize,
    pub input_size: usize,
    pub backbone: Backbone2d,
    pub hidden: usize,
}

/// C3D: `conv1` (3×3×3) + pool 1×2×2, then per later width `depth` 3×3×3 convs + pool 2×2×2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct C3d {
    pub num_classes: usize,
    pub clip_len: usize,
    pub input_size: usize,
    pub widths: Vec<usize>,
    pub depth: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fusion {
    /// Mean of the two streams' softmax.
    Average,
    /// `fusion.fc` on the concatenated pooled features of both towers.
    Learned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoStream {
    pub num_classes: usize,
    pub input_size: usize,
    /// `L`: flow fields stacked into the temporal stream's 2L input channels.
    pub flow_stack: usize,
    pub spatial: Backbone2d,
    pub temporal: Backbone2d,
    pub fusion: Fusion,
}

/// Two 2D towers (RGB frame / flow stack per time step), run per step through all their
/// stages (the fusion point is after the last entry of `widths`), their feature maps stacked
/// over time `(N, C, T, h, w)` and concatenated on channels, fused by a 3×3×3 conv
/// (`fusion.conv3d`, `fusion_width` channels) and 2×2×2 max pooling, then classified (`fc`).
/// Only the fused path is built; Feichtenhofer et al. also keep the temporal tower's own
/// classifier and average it in (not done here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fused3d {
    pub num_classes: usize,
    pub clip_len: usize,
    pub input_size: usize,
    pub flow_stack: usize,
    pub rgb: Backbone2d,
    pub flow: Backbone2d,
    pub fusion_width: usize,
}

/// An inflated Inception block: `b0` 1×1×1; `b1` 1×1×1 → 3×3×3; `b2` 1×1×1 → 3×3×3;
/// `b3` 3×3×3 max-pool (stride 1) → 1×1×1; concatenated on channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inception {
    pub b0: usize,
    pub b1_reduce: usize,
    pub b1: usize,
    pub b2_reduce: usize,
    pub b2: usize,
    pub b3: usize,
}

impl Inception {
    pub fn out_channels(&self) -> usize {
        self.b0 + self.b1 + self.b2 + self.b3
    }
}

/// I3D: stem 3×7×7 conv (stride 2×2×2) + 1×3×3 max-pool (stride 1×2×2), a 1×1×1 and a 3×3×3
/// conv, 1×3×3 max-pool, then stages of Inception blocks separated by 3×3×3 stride-2 max-pools,
/// global pooling and a linear classifier per stream; streams fused by averaging softmax.
/// Towers are `rgb.*` and `flow.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct I3d {
    pub num_classes: usize,
    pub clip_len: usize,
    pub input_size: usize,
    pub stem: usize,
    pub stages: Vec<Vec<Inception>>,
    /// Include the optical-flow tower (two-stream I3D).
    pub flow: bool,
}

/// Every architecture family, tagged by `"arch"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "kebab-case")]
pub enum ArchSpec {
    SingleFrame(SingleFrame),
    ConvPool(ConvPool),
    CnnLstm(CnnLstm),
    C3d(C3d),
    TwoStream(TwoStream),
    #[serde(rename = "fused-3d")]
    Fused3d(Fused3d),
    I3d(I3d),
}

/// Names accepted by [`default_for`], in the order of the literature.
pub const ARCH_NAMES: [&str; 7] = ["single-frame", "conv-pool", "cnn-lstm", "c3d", "two-stream", "fused-3d", "i3d"];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("unknown architecture {name:?}; known: {}", ARCH_NAMES.join(", "))]
    UnknownArch { name: String },
    #[error("{arch}: {field} must be at least {min}, got {value}")]
    TooSmall { arch: &'static str, field: &'static str, min: usize, value: usize },
    #[error("{arch}: {0}", arch = .1)]
    Shape(ShapeError, &'static str),
}

/// The edge default for an architecture name (see [`ARCH_NAMES`]).
pub fn default_for(arch: &str, num_classes: usize) -> Result<ArchSpec, SpecError> {
    let bb = Backbone2d::edge();
    Ok(match arch {
        "single-frame" => {
            ArchSpec::SingleFrame(SingleFrame { num_classes, clip_len: 8, input_size: 112, backbone: bb })
        }
        "conv-pool" => ArchSpec::ConvPool(ConvPool {
            num_classes,
            clip_len: 8,
            input_size: 112,
            backbone: bb,
            pooling: TemporalPool::Netvlad { clusters: 4, context_gating: true },
        }),
        "cnn-lstm" => {
            ArchSpec::CnnLstm(CnnLstm { num_classes, clip_len: 8, input_size: 112, backbone: bb, hidden: 256 })
        }
        "c3d" => ArchSpec::C3d(C3d {
            num_classes,
            clip_len: 16,
            input_size: 112,
            widths: vec![16, 32, 64, 128, 256],
            depth: 1,
        }),
        "two-stream" => ArchSpec::TwoStream(TwoStream {
            num_classes,
            input_size: 112,
            flow_stack: 10,
            spatial: bb.clone(),
            temporal: bb,
            fusion: Fusion::Average,
        }),
        "fused-3d" => ArchSpec::Fused3d(Fused3d {
            num_classes,
            clip_len: 4,
            input_size: 112,
            flow_stack: 5,
            rgb: Backbone2d { stem: 16, widths: vec![32, 64, 128], depth: 1 },
            flow: Backbone2d { stem: 16, widths: vec![32, 64, 128], depth: 1 },
            fusion_width: 256,
        }),
        "i3d" => {
            let inc = |b0, r1, b1, r2, b2, b3| Inception { b0, b1_reduce: r1, b1, b2_reduce: r2, b2, b3 };
            ArchSpec::I3d(I3d {
                num_classes,
                clip_len: 16,
                input_size: 112,
                stem: 16,
                stages: vec![
                    vec![inc(32, 32, 48, 8, 16, 16), inc(48, 48, 64, 16, 32, 32)],
                    vec![inc(96, 48, 104, 8, 24, 32), inc(128, 64, 128, 16, 48, 32)],
                ],
                flow: true,
            })
        }
        other => return Err(SpecError::UnknownArch { name: other.to_string() }),
    })
}

impl ArchSpec {
    /// The `"arch"` tag.
    pub fn name(&self) -> &'static str {
        match self {
            ArchSpec::SingleFrame(_) => "single-frame",
            ArchSpec::ConvPool(_) => "conv-pool",
            ArchSpec::CnnLstm(_) => "cnn-lstm",
            ArchSpec::C3d(_) => "c3d",
            ArchSpec::TwoStream(_) => "two-stream",
            ArchSpec::Fused3d(_) => "fused-3d",
            ArchSpec::I3d(_) => "i3d",
        }
    }

    pub fn num_classes(&self) -> usize {
        match self {
            ArchSpec::SingleFrame(s) => s.num_classes,
            ArchSpec::ConvPool(s) => s.num_classes,
            ArchSpec::CnnLstm(s) => s.num_classes,
            ArchSpec::C3d(s) => s.num_classes,
            ArchSpec::TwoStream(s) => s.num_classes,
            ArchSpec::Fused3d(s) => s.num_classes,
            ArchSpec::I3d(s) => s.num_classes,
        }
    }

    pub fn input_size(&self) -> usize {
        match self {
            ArchSpec::SingleFrame(s) => s.input_size,
            ArchSpec::ConvPool(s) => s.input_size,
            ArchSpec::CnnLstm(s) => s.input_size,
            ArchSpec::C3d(s) => s.input_size,
            ArchSpec::TwoStream(s) => s.input_size,
            ArchSpec::Fused3d(s) => s.input_size,
            ArchSpec::I3d(s) => s.input_size,
        }
    }

    /// Frames of the clip the network consumes (RGB frames; a two-stream net reads `L + 1`
    /// frames to make its `L` flow fields and takes the centre one as RGB).
    pub fn clip_len(&self) -> usize {
        match self {
            ArchSpec::SingleFrame(s) => s.clip_len,
            ArchSpec::ConvPool(s) => s.clip_len,
            ArchSpec::CnnLstm(s) => s.clip_len,
            ArchSpec::C3d(s) => s.clip_len,
            ArchSpec::TwoStream(s) => s.flow_stack + 1,
            ArchSpec::Fused3d(s) => s.clip_len,
            ArchSpec::I3d(s) => s.clip_len,
        }
    }

    /// `Some(L)` when the network reads flow: the number of flow fields stacked per input
    /// (1 for I3D, which reads one field per frame).
    pub fn flow_stack_len(&self) -> Option<usize> {
        match self {
            ArchSpec::TwoStream(s) => Some(s.flow_stack),
            ArchSpec::Fused3d(s) => Some(s.flow_stack),
            ArchSpec::I3d(s) if s.flow => Some(1),
            _ => None,
        }
    }

    /// Lowers the spec to the layer IR, checking every size on the way.
    pub fn lower(&self) -> Result<Graph, SpecError> {
        let arch = self.name();
        let min = |field: &'static str, value: usize, min: usize| {
            if value < min {
                Err(SpecError::TooSmall { arch, field, min, value })
            } else {
                Ok(())
            }
        };
        min("num_classes", self.num_classes(), 1)?;
        min("input_size", self.input_size(), 8)?;
        min("clip_len", self.clip_len(), 1)?;
        let check_bb = |field: &'static str, bb: &Backbone2d| -> Result<(), SpecError> {
            min(field, bb.stem, 1)?;
            min(field, bb.widths.iter().copied().min().unwrap_or(1), 1)?;
            min(field, bb.depth, 1)
        };
        match self {
            ArchSpec::SingleFrame(s) => check_bb("backbone", &s.backbone)?,
            ArchSpec::ConvPool(s) => {
                check_bb("backbone", &s.backbone)?;
                if let TemporalPool::Netvlad { clusters, .. } = s.pooling {
                    min("clusters", clusters, 1)?;
                }
            }
            ArchSpec::CnnLstm(s) => {
                check_bb("backbone", &s.backbone)?;
                min("hidden", s.hidden, 1)?;
            }
            ArchSpec::C3d(s) => {
                min("widths", s.widths.len(), 1)?;
                min("widths", s.widths.iter().copied().min().unwrap_or(0), 1)?;
                min("depth", s.depth, 1)?;
            }
            ArchSpec::TwoStream(s) => {
                check_bb("spatial", &s.spatial)?;
                check_bb("temporal", &s.temporal)?;
                min("flow_stack", s.flow_stack, 1)?;
            }
            ArchSpec::Fused3d(s) => {
                check_bb("rgb", &s.rgb)?;
                check_bb("flow", &s.flow)?;
                min("flow_stack", s.flow_stack, 1)?;
                min("clip_len", s.clip_len, 2)?;
                min("fusion_width", s.fusion_width, 1)?;
            }
            ArchSpec::I3d(s) => {
                min("stem", s.stem, 1)?;
                min("stages", s.stages.len(), 1)?;
                min("stages[0]", s.stages[0].len(), 1)?;
            }
        }
        self.build().map_err(|e| SpecError::Shape(e, arch))
    }

    fn build(&self) -> Result<Graph, ShapeError> {
        let mut b = Builder::new();
        let out = match self {
            ArchSpec::SingleFrame(s) => single_frame(&mut b, s)?,
            ArchSpec::ConvPool(s) => conv_pool(&mut b, s)?,
            ArchSpec::CnnLstm(s) => cnn_lstm(&mut b, s)?,
            ArchSpec::C3d(s) => c3d(&mut b, s)?,
            ArchSpec::TwoStream(s) => two_stream(&mut b, s)?,
            ArchSpec::Fused3d(s) => fused_3d(&mut b, s)?,
            ArchSpec::I3d(s) => i3d(&mut b, s)?,
        };
        Ok(b.finish(&out))
    }
}

/// A 2D backbone on each frame, per-frame class probabilities averaged (log of the mean). Returns the logits.
fn single_frame(b: &mut Builder, s: &SingleFrame) -> Result<String, ShapeError> {
    let feats = per_frame(b, "backbone", &s.backbone, s.clip_len, s.input_size)?;
    let logits = b.linear("fc", &feats, s.num_classes)?;
    let p = b.unary("frame_softmax", OpKind::Softmax { axis: 1 }, &logits)?;
    let p = b.reshape("frames", &p, &[s.clip_len, s.num_classes])?;
    let mean = b.reduce("frame_mean", ir::reduce_mean, &p, 1, false)?;
    b.unary("log", OpKind::Log, &mean)
}

/// A 2D backbone on each frame, features pooled over time (average, max or NetVLAD). Returns the logits.
fn conv_pool(b: &mut Builder, s: &ConvPool) -> Result<String, ShapeError> {
    let feats = per_frame(b, "backbone", &s.backbone, s.clip_len, s.input_size)?;
    let d = s.backbone.out_channels();
    let seq = b.reshape("frames", &feats, &[s.clip_len, d])?;
    let pooled = match &s.pooling {
        TemporalPool::Avg => b.reduce("pool", ir::reduce_mean, &seq, 1, false)?,
        TemporalPool::Max => b.reduce("pool", ir::reduce_max, &seq, 1, false)?,
        TemporalPool::Netvlad { clusters, context_gating } => {
            let v = netvlad(b, "pool", &feats, s.clip_len, d, *clusters)?;
            if *context_gating {
                let n = b.shape(&v)[1];
                let g = b.linear("gating.fc", &v, n)?;
                let g = b.unary("gating.sigmoid", OpKind::Sigmoid, &g)?;
                b.binary("gating.mul", OpKind::Mul, &v, &g)?
            } else {
                v
            }
        }
    };
    b.linear("fc", &pooled, s.num_classes)
}

/// A 2D backbone on each frame, an LSTM over the sequence, its outputs averaged. Returns the logits.
fn cnn_lstm(b: &mut Builder, s: &CnnLstm) -> Result<String, ShapeError> {
    let feats = per_frame(b, "backbone", &s.backbone, s.clip_len, s.input_size)?;
    let seq = b.reshape("frames", &feats, &[s.clip_len, s.backbone.out_channels()])?;
    let h = b.lstm("lstm", &seq, s.hidden)?;
    let m = b.reduce("step_mean", ir::reduce_mean, &h, 1, false)?;
    b.linear("fc", &m, s.num_classes)
}

/// 3D convolutions on the clip (NCTHW). Returns the logits.
fn c3d(b: &mut Builder, s: &C3d) -> Result<String, ShapeError> {
    let x = b.input("rgb", "NCTHW", vec![1, 3, s.clip_len, s.input_size, s.input_size]);
    let k = [3, 3, 3];
    let one = [1, 1, 1];
    let mut x = b.conv_bn_relu("conv1", &x, s.widths[0], &k, &one, &one)?;
    x = b.max_pool("pool1", &x, &[1, 2, 2], &[1, 2, 2], &[0, 0, 0])?;
    for (i, &w) in s.widths.iter().enumerate().skip(1) {
        for j in 0..s.depth {
            x = b.conv_bn_relu(&format!("conv{}.unit{j}", i + 1), &x, w, &k, &one, &one)?;
        }
        // Pool time only while there is time left to pool.
        let kt = if b.shape(&x)[2] >= 2 { 2 } else { 1 };
        x = b.max_pool(&format!("pool{}", i + 1), &x, &[kt, 2, 2], &[kt, 2, 2], &[0, 0, 0])?;
    }
    let f = b.global_pool_flat("head", &x)?;
    b.linear("fc", &f, s.num_classes)
}

/// An RGB tower on the middle frame and a flow tower on stacked fields, fused. Returns the logits.
fn two_stream(b: &mut Builder, s: &TwoStream) -> Result<String, ShapeError> {
    let n = s.input_size;
    let rgb = b.input("rgb", "NCHW", vec![1, 3, n, n]);
    let flow = b.input("flow", "NCHW", vec![1, 2 * s.flow_stack, n, n]);
    let fs = backbone2d(b, "spatial", &s.spatial, &rgb)?;
    let fs = b.global_pool_flat("spatial.head", &fs)?;
    let ft = backbone2d(b, "temporal", &s.temporal, &flow)?;
    let ft = b.global_pool_flat("temporal.head", &ft)?;
    match s.fusion {
        Fusion::Average => {
            let ls = b.linear("spatial.fc", &fs, s.num_classes)?;
            let lt = b.linear("temporal.fc", &ft, s.num_classes)?;
            average_fusion(b, &[ls, lt], s.num_classes)
        }
        Fusion::Learned => {
            let cat = b.concat("fusion.concat", &[fs, ft], 1)?;
            b.linear("fusion.fc", &cat, s.num_classes)
        }
    }
}

/// Per-frame RGB and flow towers joined by a 3D convolution. Returns the logits.
fn fused_3d(b: &mut Builder, s: &Fused3d) -> Result<String, ShapeError> {
    let (t, n) = (s.clip_len, s.input_size);
    let rgb = b.input("rgb", "NTCHW", vec![1, t, 3, n, n]);
    let flow = b.input("flow", "NTCHW", vec![1, t, 2 * s.flow_stack, n, n]);
    let r = b.reshape("rgb.frames", &rgb, &[3, n, n])?;
    let r = backbone2d(b, "rgb", &s.rgb, &r)?;
    let f = b.reshape("flow.frames", &flow, &[2 * s.flow_stack, n, n])?;
    let f = backbone2d(b, "flow", &s.flow, &f)?;
    let to_3d = |b: &mut Builder, p: &str, x: &str| -> Result<String, ShapeError> {
        let sh = b.shape(x).to_vec();
        let x = b.reshape(&format!("{p}.clip"), x, &[t, sh[1], sh[2], sh[3]])?;
        b.transpose(&format!("{p}.ncthw"), &x, &[0, 2, 1, 3, 4])
    };
    let r = to_3d(b, "rgb", &r)?;
    let f = to_3d(b, "flow", &f)?;
    let cat = b.concat("fusion.concat", &[r, f], 1)?;
    let x = b.conv_bn_relu("fusion.conv3d", &cat, s.fusion_width, &[3, 3, 3], &[1, 1, 1], &[1, 1, 1])?;
    let x = b.max_pool("fusion.pool3d", &x, &[2, 2, 2], &[2, 2, 2], &[0, 0, 0])?;
    let x = b.global_pool_flat("fusion.head", &x)?;
    b.linear("fc", &x, s.num_classes)
}

/// Inflated 3D towers for RGB (and flow), averaged. Returns the logits.
fn i3d(b: &mut Builder, s: &I3d) -> Result<String, ShapeError> {
    let (t, n) = (s.clip_len, s.input_size);
    let rgb = b.input("rgb", "NCTHW", vec![1, 3, t, n, n]);
    let mut logits = vec![i3d_tower(b, "rgb", s, &rgb, true)?];
    if s.flow {
        let flow = b.input("flow", "NCTHW", vec![1, 2, t, n, n]);
        logits.push(i3d_tower(b, "flow", s, &flow, true)?);
        average_fusion(b, &logits, s.num_classes)
    } else {
        Ok(logits.pop().expect("the RGB tower"))
    }
}

/// The 2D backbone on an `(N', C, H, W)` value; returns the last feature map.
fn backbone2d(b: &mut Builder, p: &str, bb: &Backbone2d, x: &str) -> Result<String, ShapeError> {
    let mut x = b.conv_bn_relu(&format!("{p}.stem"), x, bb.stem, &[3, 3], &[2, 2], &[1, 1])?;
    for (i, &w) in bb.widths.iter().enumerate() {
        for j in 0..bb.depth {
            let s = if j == 0 { 2 } else { 1 };
            x = b.conv_bn_relu(&format!("{p}.stage{i}.unit{j}"), &x, w, &[3, 3], &[s, s], &[1, 1])?;
        }
    }
    Ok(x)
}

/// `rgb` `[N, T, 3, H, W]` → per-frame backbone → pooled features `(N·T, C)`.
fn per_frame(b: &mut Builder, p: &str, bb: &Backbone2d, t: usize, n: usize) -> Result<String, ShapeError> {
    let x = b.input("rgb", "NTCHW", vec![1, t, 3, n, n]);
    let x = b.reshape("frames_in", &x, &[3, n, n])?;
    let x = backbone2d(b, p, bb, &x)?;
    b.global_pool_flat(&format!("{p}.head"), &x)
}

/// NetVLAD over `feats` `(N·T, D)` (frame features, clip-major): returns `(N, K·D)`, flattened
/// cluster-major (`index = k·D + j`). Params `P.assign.weight` `[K, D]`, `P.assign.bias` `[K]`
/// and `P.centers` `[K, D]`. The residual sum is computed as `aᵀx − (Σ_i a_i) ∘ c`.
pub fn netvlad(b: &mut Builder, p: &str, feats: &str, t: usize, d: usize, k: usize) -> Result<String, ShapeError> {
    let logits = b.linear(&format!("{p}.assign"), feats, k)?;
    let a = b.unary(&format!("{p}.softmax"), OpKind::Softmax { axis: 1 }, &logits)?;
    let a = b.reshape(&format!("{p}.assign_seq"), &a, &[t, k])?; // (N, T, K)
    let x = b.reshape(&format!("{p}.feat_seq"), feats, &[t, d])?; // (N, T, D)
    let at = b.transpose(&format!("{p}.assign_t"), &a, &[0, 2, 1])?; // (N, K, T)
    let ax = b.matmul(&format!("{p}.weighted_sum"), &at, &x)?; // (N, K, D)
    let asum = b.reduce(&format!("{p}.assign_sum"), ir::reduce_sum, &a, 1, true)?; // (N, 1, K)
    let asum = b.transpose(&format!("{p}.assign_sum_t"), &asum, &[0, 2, 1])?; // (N, K, 1)
    let c = b.free_param(&format!("{p}.centers"), vec![k, d]);
    let ac = b.binary(&format!("{p}.scaled_centers"), OpKind::Mul, &asum, &c)?; // (N, K, D)
    let v = b.binary(&format!("{p}.residual"), OpKind::Sub, &ax, &ac)?;
    let v = b.unary(&format!("{p}.intra_norm"), OpKind::L2Normalize { axis: 2, eps: 1e-12 }, &v)?;
    let v = b.flatten(&format!("{p}.flatten"), &v, 1)?;
    b.unary(&format!("{p}.l2_norm"), OpKind::L2Normalize { axis: 1, eps: 1e-12 }, &v)
}

/// Mean of the streams' softmax, returned as its log (`fusion.*`).
fn average_fusion(b: &mut Builder, logits: &[String], k: usize) -> Result<String, ShapeError> {
    let mut parts = vec![];
    for (i, l) in logits.iter().enumerate() {
        let p = b.unary(&format!("fusion.softmax{i}"), OpKind::Softmax { axis: 1 }, l)?;
        parts.push(b.reshape(&format!("fusion.stack{i}"), &p, &[1, k])?);
    }
    let cat = b.concat("fusion.concat", &parts, 1)?;
    let mean = b.reduce("fusion.mean", ir::reduce_mean, &cat, 1, false)?;
    b.unary("fusion.log", OpKind::Log, &mean)
}

/// Kernel, stride or padding for a tower that is 3D (`[t, h, w]`) or its 2D twin (`[h, w]`).
fn dims(three_d: bool, t: usize, h: usize, w: usize) -> Vec<usize> {
    if three_d {
        vec![t, h, w]
    } else {
        vec![h, w]
    }
}

fn inception(b: &mut Builder, p: &str, blk: &Inception, x: &str, three_d: bool) -> Result<String, ShapeError> {
    let (one, three, zero) = (dims(three_d, 1, 1, 1), dims(three_d, 3, 3, 3), dims(three_d, 0, 0, 0));
    let b0 = b.conv_bn_relu(&format!("{p}.b0"), x, blk.b0, &one, &one, &zero)?;
    let b1 = b.conv_bn_relu(&format!("{p}.b1a"), x, blk.b1_reduce, &one, &one, &zero)?;
    let b1 = b.conv_bn_relu(&format!("{p}.b1b"), &b1, blk.b1, &three, &one, &one)?;
    let b2 = b.conv_bn_relu(&format!("{p}.b2a"), x, blk.b2_reduce, &one, &one, &zero)?;
    let b2 = b.conv_bn_relu(&format!("{p}.b2b"), &b2, blk.b2, &three, &one, &one)?;
    let b3 = b.max_pool(&format!("{p}.b3pool"), x, &three, &one, &one)?;
    let b3 = b.conv_bn_relu(&format!("{p}.b3b"), &b3, blk.b3, &one, &one, &zero)?;
    b.concat(&format!("{p}.concat"), &[b0, b1, b2, b3], 1)
}

/// One I3D tower: `P.stem`, `P.pool1`, `P.conv2a` (1×1×1), `P.conv2b` (3×3×3), `P.pool2`,
/// `P.mixed{s}{letter}` blocks with `P.pool{s+3}` between stages, `P.head`, `P.fc`. With
/// `three_d == false` the same tower with every time axis dropped: the 2D net whose trained
/// weights inflate into the 3D one (same parameter names, kernels without `kt`).
fn i3d_tower(b: &mut Builder, p: &str, s: &I3d, x: &str, three_d: bool) -> Result<String, ShapeError> {
    let d = |t, h, w| dims(three_d, t, h, w);
    let mut x = b.conv_bn_relu(&format!("{p}.stem"), x, s.stem, &d(3, 7, 7), &d(2, 2, 2), &d(1, 3, 3))?;
    x = b.max_pool(&format!("{p}.pool1"), &x, &d(1, 3, 3), &d(1, 2, 2), &d(0, 1, 1))?;
    x = b.conv_bn_relu(&format!("{p}.conv2a"), &x, s.stem, &d(1, 1, 1), &d(1, 1, 1), &d(0, 0, 0))?;
    x = b.conv_bn_relu(&format!("{p}.conv2b"), &x, 2 * s.stem, &d(3, 3, 3), &d(1, 1, 1), &d(1, 1, 1))?;
    x = b.max_pool(&format!("{p}.pool2"), &x, &d(1, 3, 3), &d(1, 2, 2), &d(0, 1, 1))?;
    for (si, stage) in s.stages.iter().enumerate() {
        if si > 0 {
            let kt = if three_d && b.shape(&x)[2] >= 2 { 3 } else { 1 };
            let st = if kt == 3 { 2 } else { 1 };
            let pt = if kt == 3 { 1 } else { 0 };
            x = b.max_pool(&format!("{p}.pool{}", si + 2), &x, &d(kt, 3, 3), &d(st, 2, 2), &d(pt, 1, 1))?;
        }
        for (bi, blk) in stage.iter().enumerate() {
            let letter = (b'a' + bi as u8) as char;
            x = inception(b, &format!("{p}.mixed{}{letter}", si + 3), blk, &x, three_d)?;
        }
    }
    let f = b.global_pool_flat(&format!("{p}.head"), &x)?;
    b.linear(&format!("{p}.fc"), &f, s.num_classes)
}

impl I3d {
    /// The 2D twin of this I3D: each tower with its time axes dropped, run on single frames
    /// (`rgb` NTCHW `[N, T, 3, H, W]`) and single flow fields (`flow` NTCHW `[N, T, 2, H, W]`),
    /// per-frame softmax averaged over frames and streams, returned as its log. It has the
    /// I3D's parameter names with 2D kernels, so its trained weights inflate into the I3D
    /// (see [`crate::ir::inflation_source`]): the I3D paper's ImageNet initialisation, made
    /// from our own data.
    pub fn lower_2d_twin(&self) -> Result<Graph, SpecError> {
        let (t, n, k) = (self.clip_len, self.input_size, self.num_classes);
        let mut b = Builder::new();
        let wrap = |e: ShapeError| SpecError::Shape(e, "i3d-2d");
        let mut towers = vec![("rgb", 3usize)];
        if self.flow {
            towers.push(("flow", 2));
        }
        let mut parts = vec![];
        for (name, c) in towers {
            let x = b.input(name, "NTCHW", vec![1, t, c, n, n]);
            let frames = b.reshape(&format!("{name}.frames"), &x, &[c, n, n]).map_err(wrap)?;
            let logits = i3d_tower(&mut b, name, self, &frames, false).map_err(wrap)?;
            let probs = b.unary(&format!("{name}.softmax"), OpKind::Softmax { axis: 1 }, &logits).map_err(wrap)?;
            parts.push(b.reshape(&format!("{name}.per_clip"), &probs, &[t, k]).map_err(wrap)?);
        }
        let all =
            if parts.len() == 1 { parts.pop().unwrap() } else { b.concat("fusion.concat", &parts, 1).map_err(wrap)? };
        let mean = b.reduce("fusion.mean", ir::reduce_mean, &all, 1, false).map_err(wrap)?;
        let out = b.unary("fusion.log", OpKind::Log, &mean).map_err(wrap)?;
        Ok(b.finish(&out))
    }
}

fn tiny_backbone(stem: usize, widths: &[usize]) -> Backbone2d {
    Backbone2d { stem, widths: widths.to_vec(), depth: 1 }
}

fn tiny_inception(b0: usize, r1: usize, b1: usize, r2: usize, b2: usize, b3: usize) -> Inception {
    Inception { b0, b1_reduce: r1, b1, b2_reduce: r2, b2, b3 }
}

/// Small versions of every family and of every pooling and fusion variant (32×32, a few
/// channels), named for test output. Each backend's tests (tract, libtorch, onnxruntime) walk this
/// one list, so a new variant is tested everywhere at once.
pub fn tiny_variants() -> Vec<(&'static str, ArchSpec)> {
    let k = 5;
    let conv_pool = |pooling| {
        ArchSpec::ConvPool(ConvPool {
            num_classes: k,
            clip_len: 3,
            input_size: 32,
            backbone: tiny_backbone(8, &[8, 16]),
            pooling,
        })
    };
    let two = |fusion| {
        ArchSpec::TwoStream(TwoStream {
            num_classes: k,
            input_size: 32,
            flow_stack: 2,
            spatial: tiny_backbone(8, &[8, 16]),
            temporal: tiny_backbone(8, &[16]),
            fusion,
        })
    };
    let i3d = |flow| {
        ArchSpec::I3d(I3d {
            num_classes: k,
            clip_len: 4,
            input_size: 32,
            stem: 8,
            stages: vec![
                vec![tiny_inception(4, 4, 8, 2, 4, 4)],
                vec![tiny_inception(8, 4, 8, 2, 4, 4), tiny_inception(4, 4, 4, 2, 4, 4)],
            ],
            flow,
        })
    };
    vec![
        (
            "single-frame",
            ArchSpec::SingleFrame(SingleFrame {
                num_classes: k,
                clip_len: 3,
                input_size: 32,
                backbone: tiny_backbone(8, &[8, 16]),
            }),
        ),
        ("conv-pool avg", conv_pool(TemporalPool::Avg)),
        ("conv-pool max", conv_pool(TemporalPool::Max)),
        ("conv-pool netvlad+gating", conv_pool(TemporalPool::Netvlad { clusters: 3, context_gating: true })),
        ("conv-pool netvlad", conv_pool(TemporalPool::Netvlad { clusters: 4, context_gating: false })),
        (
            "cnn-lstm",
            ArchSpec::CnnLstm(CnnLstm {
                num_classes: k,
                clip_len: 3,
                input_size: 32,
                backbone: tiny_backbone(8, &[8, 16]),
                hidden: 6,
            }),
        ),
        ("c3d", ArchSpec::C3d(C3d { num_classes: k, clip_len: 4, input_size: 32, widths: vec![8, 8, 16], depth: 1 })),
        ("two-stream average", two(Fusion::Average)),
        ("two-stream learned", two(Fusion::Learned)),
        (
            "fused-3d",
            ArchSpec::Fused3d(Fused3d {
                num_classes: k,
                clip_len: 2,
                input_size: 32,
                flow_stack: 2,
                rgb: tiny_backbone(8, &[8]),
                flow: tiny_backbone(8, &[8]),
                fusion_width: 8,
            }),
        ),
        ("i3d two-stream", i3d(true)),
        ("i3d rgb", i3d(false)),
    ]
}
