//! TV-L1 on the GPU: the kernel sequence of [`super::tvl1`] as WGSL compute shaders, run
//! through wgpu ([`crate::gpu::GpuContext`]).
//!
//! Everything stays on the device between the upload of the two RGB frames and the readback
//! of the final `(u1, u2)`: luma, the pyramid, every level, warp and iteration. The design:
//!
//! - One storage buffer holds every image of a frame size (pyramids, gradients, flow, duals,
//!   scratch), addressed by float offsets; one read-only buffer holds the RGB bytes; one
//!   uniform buffer holds a 256-byte record per distinct dispatch (sizes, offsets, scalars),
//!   bound with a dynamic offset. So there is a single bind group, created with the buffers.
//! - The whole dispatch sequence of a pair (the *plan*) is built once per frame size from the
//!   parameters and the level sizes; swapping `u` with its out-of-place copy (median,
//!   upsampling) is a change of offsets in the plan, not a copy.
//! - A submission runs the plan once, as one compute pass in one command encoder, for 1..N
//!   pairs at a time: workgroup z is the pair, and each pair has its own block of images
//!   (offsets are block-relative), so a batch costs the dispatches of one pair. The results
//!   are copied to a mappable buffer in the same submission, then mapped: one submission and
//!   one map per pair ([`FlowEngine::compute_into`]) or per batch ([`TvL1Gpu::compute_batch`]).
//! - wgpu puts a barrier between successive dispatches of a pass that use a buffer read-write
//!   (usage scopes are per dispatch, and `STORAGE_READ_WRITE` is not an "ordered" use, so the
//!   barrier is never skipped); that is the per-kernel barrier the contract asks for.
//! - Buffers are allocated on the first pair of a frame size and when a batch is larger than
//!   any before; [`TvL1Gpu::buffer_allocations`] counts them so tests can check that a steady
//!   stream allocates nothing.
//!
//! Arithmetic follows `kernels.rs` operation by operation. On lavapipe the flow is
//! bit-identical to [`super::TvL1Cpu`]'s; a GPU compiler may contract `a * b + c` into a
//! fused multiply-add (WGSL cannot forbid it) and round `sqrt` and division differently, so on
//! other devices results match the CPU to rounding only.

use super::kernels::MedianNet;
use super::tvl1::level_sizes;
use super::{check_frames, FlowEngine, FlowError, FlowField, Interpolation, TvL1Params};
use crate::frame::Frame;
use crate::gpu::GpuContext;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

#[cfg(test)]
mod tests;

const SHADER: &str = include_str!("tvl1.wgsl");
/// Workgroup size of every kernel (must match `@workgroup_size` in the shader).
const WG: (u32, u32) = (16, 8);
/// Bytes of one uniform record as the shader reads it (`struct Rec`).
const REC_BYTES: u64 = 96;
/// Region alignment inside the storage buffer, in floats (256 bytes).
const ALIGN: usize = 64;

/// The compute kernels, one pipeline each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    Luma,
    Fill0,
    RofResidual,
    RofDual,
    RofTexture,
    BlurH,
    BlurV,
    Resample,
    Gradient,
    Warp,
    Primal,
    Dual,
    Median,
}

const KERNELS: [(K, &str); 13] = [
    (K::Luma, "luma"),
    (K::Fill0, "fill0"),
    (K::RofResidual, "rof_residual"),
    (K::RofDual, "rof_dual"),
    (K::RofTexture, "rof_texture"),
    (K::BlurH, "blur_h"),
    (K::BlurV, "blur_v"),
    (K::Resample, "resample"),
    (K::Gradient, "gradient"),
    (K::Warp, "warp"),
    (K::Primal, "primal"),
    (K::Dual, "dual"),
    (K::Median, "median"),
];

/// One dispatch of the plan: kernel, byte offset of its uniform record, workgroup counts.
#[derive(Debug, Clone, Copy)]
struct Step {
    k: K,
    rec: u32,
    groups: (u32, u32),
}

/// A uniform record: `dims`, `oa`, `ob`, `oc` (u32), `f` (f32 bits) and `zs` (u32), as in
/// the shader.
type Rec = [u32; 24];

/// Builds the plan: deduplicates records and lays them out at the device's uniform alignment.
struct PlanBuilder {
    stride: u32,
    /// Per-pair strides (floats in `mem`, words in `rgb`), the same in every record.
    zs: [u32; 2],
    recs: Vec<Rec>,
    index: HashMap<Rec, u32>,
    steps: Vec<Step>,
}

impl PlanBuilder {
    /// One step of the plan: kernel, dispatch size, source size, three groups of buffer
    /// offsets and four scalars — the record's fields in the order the shader reads them, so
    /// each call site reads as one row of the plan.
    #[allow(clippy::too_many_arguments)] // one argument per record field (see above)
    fn push(
        &mut self,
        k: K,
        w: usize,
        h: usize,
        src: (usize, usize),
        oa: [usize; 4],
        ob: [usize; 4],
        oc: [usize; 4],
        f: [f32; 4],
    ) {
        let mut r: Rec = [0; 24];
        r[20..22].copy_from_slice(&self.zs);
        r[..4].copy_from_slice(&[w as u32, h as u32, src.0 as u32, src.1 as u32]);
        for (j, v) in oa.iter().chain(&ob).chain(&oc).enumerate() {
            r[4 + j] = *v as u32;
        }
        for (j, v) in f.iter().enumerate() {
            r[16 + j] = v.to_bits();
        }
        let next = self.recs.len() as u32;
        let idx = *self.index.entry(r).or_insert(next);
        if idx == next {
            self.recs.push(r);
        }
        let groups = ((w as u32).div_ceil(WG.0), (h as u32).div_ceil(WG.1));
        self.steps.push(Step { k, rec: idx * self.stride, groups });
    }
}

/// Bump allocator of float regions in the storage buffer.
struct Regions(usize);

impl Regions {
    fn take(&mut self, len: usize) -> usize {
        let at = self.0;
        self.0 += len.div_ceil(ALIGN) * ALIGN;
        at
    }
}

/// Everything that depends on the frame size: the plan and its uniform records, and the
/// buffers for up to `capacity` pairs per submission.
struct Workspace {
    w: usize,
    h: usize,
    /// u32 words of one frame in `rgb` (RGB8 padded to 4 bytes).
    frame_words: usize,
    /// Floats of one pair's block in `mem`.
    pair_floats: usize,
    /// Most pairs one submission can hold (the device's storage-binding limit).
    max_pairs: usize,
    uniforms: wgpu::Buffer,
    plan: Vec<Step>,
    /// Float offset of the blur taps (stored in pair 0's block only).
    taps: usize,
    /// Float offsets of the final `u1`, `u2` (level 0) in a pair's block.
    out: (usize, usize),
    slots: Option<Slots>,
}

/// Buffers sized for `capacity` pairs: images (one block per pair), RGB frames, readback.
struct Slots {
    capacity: usize,
    mem: wgpu::Buffer,
    rgb: wgpu::Buffer,
    readback: wgpu::Buffer,
    bind: wgpu::BindGroup,
    /// Host copy of the readback (capacity × 2 planes).
    host: Vec<f32>,
}

/// TV-L1 optical flow on a GPU through wgpu: the same algorithm, parameters and kernel order
/// as [`super::TvL1Cpu`], with flow equal to the CPU's to rounding (well within 0.01 px).
///
/// Buffers are kept for the last frame size; a steady stream of same-sized pairs allocates no
/// GPU buffer and makes one queue submission per pair (or per batch, see
/// [`TvL1Gpu::compute_batch`]).
pub struct TvL1Gpu {
    ctx: Arc<GpuContext>,
    params: TvL1Params,
    name: String,
    blur: Vec<f32>,
    layout: wgpu::BindGroupLayout,
    pipelines: Vec<wgpu::ComputePipeline>,
    ws: Option<Workspace>,
    allocations: usize,
    submissions: u64,
    max_batch: usize,
}

impl std::fmt::Debug for TvL1Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TvL1Gpu").field("name", &self.name).field("params", &self.params).finish()
    }
}

/// Runs `f` inside a wgpu error scope, turning validation and out-of-memory errors into a
/// [`FlowError::GpuSetup`] naming `what` (instead of wgpu's default panic).
fn scoped<T>(ctx: &GpuContext, what: &str, f: impl FnOnce() -> T) -> Result<T, FlowError> {
    let oom = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let val = ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
    let out = f();
    let e1 = pollster::block_on(val.pop());
    let e2 = pollster::block_on(oom.pop());
    match e1.or(e2) {
        Some(e) => Err(FlowError::GpuSetup(format!("{what} on {}: {e}", ctx.adapter_name()))),
        None => Ok(out),
    }
}

/// The WGSL `median_of` function for a `size × size` window: loads the window (replicate
/// boundary), pads to a power of two with `f32::MAX`, and runs the CPU's pruned comparator
/// network with the CPU's comparison (`lo = a < b ? a : b`).
fn median_wgsl(size: usize) -> String {
    let net = MedianNet::new(size);
    let r = (size / 2) as i32;
    let mut s = String::from("fn median_of(src: u32, x: i32, y: i32, w: u32, h: u32) -> f32 {\n");
    s += "    let wm = i32(w) - 1;\n    let hm = i32(h) - 1;\n";
    for d in 0..size as i32 {
        let _ = writeln!(s, "    let ry{d} = src + u32(clamp(y + {}, 0, hm)) * w;", d - r);
        let _ = writeln!(s, "    let cx{d} = u32(clamp(x + {}, 0, wm));", d - r);
    }
    let k = size * size;
    for i in 0..net.n {
        if i < k {
            let _ = writeln!(s, "    var v{i} = m[ry{} + cx{}];", i / size, i % size);
        } else {
            let _ = writeln!(s, "    var v{i} = 3.4e38;");
        }
    }
    for &(a, b) in &net.pairs {
        let _ = writeln!(
            s,
            "    {{ let a = v{a}; let b = v{b}; let c = a < b; v{a} = select(b, a, c); v{b} = select(a, b, c); }}"
        );
    }
    let _ = writeln!(s, "    return v{};\n}}", k / 2);
    s
}

impl TvL1Gpu {
    /// Validates `params` and compiles the kernels on `ctx`'s device.
    pub fn new(ctx: Arc<GpuContext>, params: TvL1Params) -> Result<Self, FlowError> {
        params.validate()?;
        let source = format!("{SHADER}\n{}", median_wgsl(if params.median > 0 { params.median as usize } else { 3 }));
        let dev = &ctx.device;
        let (layout, pipelines) = scoped(&ctx, "compiling the TV-L1 kernels", || {
            let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("tvl1"),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            };
            let layout = dev.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("tvl1"),
                entries: &[
                    storage(0, false),
                    storage(1, true),
                    wgpu::BindGroupLayoutEntry {
                        binding: 2,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Uniform,
                            has_dynamic_offset: true,
                            min_binding_size: wgpu::BufferSize::new(REC_BYTES),
                        },
                        count: None,
                    },
                ],
            });
            let pl = dev.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("tvl1"),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipelines = KERNELS
                .iter()
                .map(|(_, entry)| {
                    dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry),
                        layout: Some(&pl),
                        module: &module,
                        entry_point: Some(entry),
                        compilation_options: Default::default(),
                        cache: None,
                    })
                })
                .collect::<Vec<_>>();
            (layout, pipelines)
        })?;
        Ok(TvL1Gpu {
            name: format!("tvl1-gpu(adapter={})", ctx.adapter_name()),
            blur: super::tvl1::blur_kernel(params.scale_factor),
            params,
            layout,
            pipelines,
            ctx,
            ws: None,
            allocations: 0,
            submissions: 0,
            max_batch: usize::MAX,
        })
    }

    /// [`TvL1Gpu::new`] on the process-wide device ([`GpuContext::shared`]); fails with
    /// [`FlowError::Gpu`] when there is no usable Vulkan adapter.
    pub fn with_shared_device(params: TvL1Params) -> Result<Self, FlowError> {
        Self::new(GpuContext::shared()?, params)
    }

    /// The parameters in use (for model cards and logs).
    pub fn params(&self) -> &TvL1Params {
        &self.params
    }

    /// The device this engine runs on.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// GPU buffers created so far (diagnostic: constant while the frame size and the largest
    /// batch stay the same).
    pub fn buffer_allocations(&self) -> usize {
        self.allocations
    }

    /// Caps the pairs recorded into one submission (at least 1), bounding the GPU memory a
    /// batch takes (each pair in flight has its own images). Without a cap, only the
    /// device's storage-binding limit splits a batch.
    pub fn set_max_pairs_per_submission(&mut self, pairs: usize) {
        self.max_batch = pairs.max(1);
    }

    /// Queue submissions so far (one per pair, or per batch).
    pub fn submissions(&self) -> u64 {
        self.submissions
    }

    /// Dispatches recorded per submission at the current frame size, whatever the number of
    /// pairs in it (0 before the first pair).
    pub fn dispatches_per_submission(&self) -> usize {
        self.ws.as_ref().map_or(0, |ws| ws.plan.len())
    }

    fn buffer(&mut self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.allocations += 1;
        self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(4),
            usage,
            mapped_at_creation: false,
        })
    }

    /// Builds the storage layout and the plan for `w × h` (steps 1–5 of the kernel sequence).
    fn build_plan(&self, w: usize, h: usize, stride: u32) -> (PlanBuilder, usize, usize, (usize, usize)) {
        let frame_words = (w * h * 3).div_ceil(4);
        let p = &self.params;
        let sizes = level_sizes(w, h, p);
        let n = w * h;
        let mut reg = Regions(0);
        let taps = reg.take(self.blur.len());
        let pyr: [Vec<usize>; 2] = [0, 1].map(|_| sizes.iter().map(|&(a, b)| reg.take(a * b)).collect());
        let [tmp, tmp2, i1x, i1y, gx, gy, rho, inv, mut u1, mut u2, mut v1, mut v2, p11, p12, p21, p22] =
            [0; 16].map(|_| reg.take(n));
        let zs = [reg.0 as u32, 2 * frame_words as u32];
        let mut b = PlanBuilder { stride, zs, recs: Vec::new(), index: HashMap::new(), steps: Vec::new() };
        let z = [0usize; 4];
        let z4 = [0.0f32; 4];
        let nt = self.blur.len();
        // Steps 1-3 for both frames. A pair's RGB words: frame a at 0, frame b at `frame_words`.
        for (fi, pyr) in pyr.iter().enumerate() {
            let rgb_word = fi * frame_words;
            if let Some(st) = p.structure_texture {
                b.push(K::Luma, w, h, (0, 0), [tmp, rgb_word, 0, 0], z, z, z4);
                b.push(K::Fill0, w, h, (0, 0), [p11, p12, p11, p12], z, z, z4);
                let inv_theta = 1.0 / st.theta;
                for _ in 0..st.iterations {
                    b.push(K::RofResidual, w, h, (0, 0), [tmp, p11, p12, rho], z, z, [inv_theta, 0.0, 0.0, 0.0]);
                    b.push(K::RofDual, w, h, (0, 0), [rho, p11, p12, 0], z, z, [0.25, 0.0, 0.0, 0.0]);
                }
                b.push(K::RofTexture, w, h, (0, 0), [tmp, p11, p12, pyr[0]], z, z, [st.theta, st.alpha, 0.0, 0.0]);
            } else {
                b.push(K::Luma, w, h, (0, 0), [pyr[0], rgb_word, 0, 0], z, z, z4);
            }
            for l in 1..sizes.len() {
                let (sw, sh) = sizes[l - 1];
                let (dw, dh) = sizes[l];
                b.push(K::BlurH, sw, sh, (0, 0), [pyr[l - 1], tmp, taps, nt], z, z, z4);
                b.push(K::BlurV, sw, sh, (0, 0), [tmp, tmp2, taps, nt], z, z, z4);
                let (rx, ry) = (sw as f32 / dw as f32, sh as f32 / dh as f32);
                b.push(K::Resample, dw, dh, (sw, sh), [tmp2, pyr[l], 0, 0], z, z, [1.0, rx, ry, 0.0]);
            }
        }
        // Step 4.
        let lt = p.lambda * p.theta;
        let dual_step = p.tau / p.theta;
        let bicubic = (p.interpolation == Interpolation::Bicubic) as usize;
        let nl = sizes.len();
        let (cw, ch) = sizes[nl - 1];
        b.push(K::Fill0, cw, ch, (0, 0), [u1, u2, u1, u2], z, z, z4);
        for l in (0..nl).rev() {
            let (w, h) = sizes[l];
            b.push(K::Gradient, w, h, (0, 0), [pyr[1][l], i1x, i1y, 0], z, z, z4);
            b.push(K::Fill0, w, h, (0, 0), [p11, p12, p21, p22], z, z, z4);
            for _ in 0..p.warps {
                b.push(
                    K::Warp,
                    w,
                    h,
                    (0, 0),
                    [pyr[0][l], pyr[1][l], i1x, i1y],
                    [u1, u2, 0, bicubic],
                    [gx, gy, rho, inv],
                    z4,
                );
                for _ in 0..p.iterations {
                    b.push(
                        K::Primal,
                        w,
                        h,
                        (0, 0),
                        [gx, gy, rho, inv],
                        [p11, p12, p21, p22],
                        [u1, u2, 0, 0],
                        [lt, p.theta, 0.0, 0.0],
                    );
                    b.push(K::Dual, w, h, (0, 0), [u1, u2, 0, 0], [p11, p12, p21, p22], z, [dual_step, 0.0, 0.0, 0.0]);
                }
                if p.median > 0 {
                    b.push(K::Median, w, h, (0, 0), [u1, u2, v1, v2], z, z, z4);
                    std::mem::swap(&mut u1, &mut v1);
                    std::mem::swap(&mut u2, &mut v2);
                }
            }
            if l > 0 {
                let (fw, fh) = sizes[l - 1];
                let (rx, ry) = (w as f32 / fw as f32, h as f32 / fh as f32);
                let (mx, my) = (fw as f32 / w as f32, fh as f32 / h as f32);
                b.push(K::Resample, fw, fh, (w, h), [u1, v1, 0, 0], z, z, [mx, rx, ry, 0.0]);
                b.push(K::Resample, fw, fh, (w, h), [u2, v2, 0, 0], z, z, [my, rx, ry, 0.0]);
                std::mem::swap(&mut u1, &mut v1);
                std::mem::swap(&mut u2, &mut v2);
            }
        }
        (b, reg.0, taps, (u1, u2))
    }

    /// Makes sure the plan for `w × h` exists and buffers for `min(pairs, max_pairs)` pairs;
    /// returns how many pairs one submission can take.
    fn prepare(&mut self, w: usize, h: usize, pairs: usize) -> Result<usize, FlowError> {
        let ctx = self.ctx.clone();
        let limits = ctx.device.limits();
        let limit = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        if self.ws.as_ref().is_none_or(|ws| ws.w != w || ws.h != h) {
            self.ws = None;
            let stride = limits.min_uniform_buffer_offset_alignment.max(REC_BYTES as u32);
            let (plan, pair_floats, taps, out) = self.build_plan(w, h, stride);
            let pair_bytes = pair_floats as u64 * 4;
            if pair_bytes > limit {
                return Err(FlowError::GpuTooLarge {
                    width: w as u32,
                    height: h as u32,
                    needed: pair_bytes,
                    limit,
                    adapter: ctx.adapter_name().to_string(),
                });
            }
            let uniforms = scoped(&ctx, &format!("allocating TV-L1 records for {w}x{h}"), || {
                self.buffer(
                    "tvl1 records",
                    plan.recs.len() as u64 * stride as u64,
                    wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                )
            })?;
            let mut bytes = vec![0u8; plan.recs.len() * stride as usize];
            for (i, r) in plan.recs.iter().enumerate() {
                let at = i * stride as usize;
                bytes[at..at + REC_BYTES as usize].copy_from_slice(bytemuck::cast_slice(r));
            }
            ctx.queue.write_buffer(&uniforms, 0, &bytes);
            self.ws = Some(Workspace {
                w,
                h,
                frame_words: (w * h * 3).div_ceil(4),
                pair_floats,
                max_pairs: (limit / pair_bytes) as usize,
                uniforms,
                plan: plan.steps,
                taps,
                out,
                slots: None,
            });
        }
        let ws = self.ws.as_ref().expect("workspace just built");
        let cap_limit = ws.max_pairs.min(self.max_batch).max(1);
        let want = pairs.clamp(1, cap_limit);
        let have = ws.slots.as_ref().map_or(0, |s| s.capacity);
        if have >= want {
            return Ok(have.min(cap_limit));
        }
        let (pf, fw, n, taps) = (ws.pair_floats as u64, ws.frame_words as u64, w * h, ws.taps);
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        self.ws.as_mut().expect("workspace").slots = None;
        let slots = scoped(&ctx, &format!("allocating TV-L1 buffers for {want} pairs of {w}x{h}"), || {
            let mem = self.buffer("tvl1 images", want as u64 * pf * 4, storage);
            let rgb = self.buffer("tvl1 rgb", want as u64 * 2 * fw * 4, storage);
            let readback = self.buffer(
                "tvl1 readback",
                (want * 2 * n * 4) as u64,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            );
            let ws = self.ws.as_ref().expect("workspace");
            let bind = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("tvl1"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: mem.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 1, resource: rgb.as_entire_binding() },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: &ws.uniforms,
                            offset: 0,
                            size: wgpu::BufferSize::new(REC_BYTES),
                        }),
                    },
                ],
            });
            Slots { capacity: want, mem, rgb, readback, bind, host: vec![0.0; want * 2 * n] }
        })?;
        ctx.queue.write_buffer(&slots.mem, taps as u64 * 4, bytemuck::cast_slice(&self.blur));
        self.ws.as_mut().expect("workspace").slots = Some(slots);
        Ok(want)
    }

    /// Computes the flow of several same-sized pairs: all pairs go through the same
    /// dispatches (workgroup z = pair), recorded into one command encoder and submitted once
    /// (more submissions only when the batch exceeds the device's storage limit or the cap
    /// set with [`TvL1Gpu::set_max_pairs_per_submission`]).
    /// `outs` must be as long as `pairs`; each field is resized as needed.
    pub fn compute_batch(&mut self, pairs: &[(&Frame, &Frame)], outs: &mut [FlowField]) -> Result<(), FlowError> {
        if pairs.len() != outs.len() {
            return Err(FlowError::BadField(format!(
                "compute_batch: {} pairs but {} output fields",
                pairs.len(),
                outs.len()
            )));
        }
        let Some(&(a0, _)) = pairs.first() else {
            return Ok(());
        };
        for &(a, b) in pairs {
            check_frames(a, b)?;
            if (a.width, a.height) != (a0.width, a0.height) {
                return Err(FlowError::SizeMismatch(a0.width, a0.height, a.width, a.height));
            }
        }
        let (w, h) = (a0.width as usize, a0.height as usize);
        let chunk = self.prepare(w, h, pairs.len())?;
        for (ps, os) in pairs.chunks(chunk).zip(outs.chunks_mut(chunk)) {
            self.run(ps, os)?;
        }
        Ok(())
    }

    /// One submission: uploads `pairs` (at most the capacity), runs the plan once with
    /// `pairs.len()` workgroups in z, reads back every pair's `(u1, u2)`.
    fn run(&mut self, pairs: &[(&Frame, &Frame)], outs: &mut [FlowField]) -> Result<(), FlowError> {
        let ctx = self.ctx.clone();
        let ws = self.ws.as_mut().expect("prepared");
        let slots = ws.slots.as_mut().expect("prepared");
        let (w, h) = (ws.w, ws.h);
        let n = w * h;
        let fb = ws.frame_words as u64 * 4;
        for (k, &(a, b)) in pairs.iter().enumerate() {
            for (j, f) in [a, b].into_iter().enumerate() {
                let at = (2 * k + j) as u64 * fb;
                let whole = f.data.len() / 4 * 4;
                ctx.queue.write_buffer(&slots.rgb, at, &f.data[..whole]);
                if whole < f.data.len() {
                    let mut tail = [0u8; 4];
                    tail[..f.data.len() - whole].copy_from_slice(&f.data[whole..]);
                    ctx.queue.write_buffer(&slots.rgb, at + whole as u64, &tail);
                }
            }
        }
        let pipelines = &self.pipelines;
        let z = pairs.len() as u32;
        scoped(&ctx, "running the TV-L1 kernels", || {
            let mut enc =
                ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("tvl1 pairs") });
            {
                let mut pass = enc
                    .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("tvl1"), timestamp_writes: None });
                let mut current: Option<K> = None;
                for s in &ws.plan {
                    if current != Some(s.k) {
                        pass.set_pipeline(&pipelines[s.k as usize]);
                        current = Some(s.k);
                    }
                    pass.set_bind_group(0, &slots.bind, &[s.rec]);
                    pass.dispatch_workgroups(s.groups.0, s.groups.1, z);
                }
            }
            for k in 0..pairs.len() {
                let block = (k * ws.pair_floats) as u64 * 4;
                let dst = (2 * k * n * 4) as u64;
                enc.copy_buffer_to_buffer(
                    &slots.mem,
                    block + ws.out.0 as u64 * 4,
                    &slots.readback,
                    dst,
                    (n * 4) as u64,
                );
                enc.copy_buffer_to_buffer(
                    &slots.mem,
                    block + ws.out.1 as u64 * 4,
                    &slots.readback,
                    dst + (n * 4) as u64,
                    (n * 4) as u64,
                );
            }
            ctx.queue.submit([enc.finish()]);
        })?;
        self.submissions += 1;
        let used = pairs.len() * 2 * n;
        ctx.read_f32(&slots.readback, &mut slots.host[..used])?;
        for (k, out) in outs.iter_mut().enumerate() {
            out.reshape(w as u32, h as u32);
            let base = 2 * k * n;
            out.u.copy_from_slice(&slots.host[base..base + n]);
            out.v.copy_from_slice(&slots.host[base + n..base + 2 * n]);
        }
        Ok(())
    }
}

impl FlowEngine for TvL1Gpu {
    fn name(&self) -> &str {
        &self.name
    }

    fn compute_into(&mut self, a: &Frame, b: &Frame, out: &mut FlowField) -> Result<(), FlowError> {
        self.compute_batch(&[(a, b)], std::slice::from_mut(out))
    }
}
