//! TV-L1 optical flow on the CPU: the duality-based algorithm of Zach, Pock and Bischof
//! (2007) with the improvements of Wedel et al. (2009) — structure–texture decomposition,
//! median filtering of the flow after each warp, bicubic warping, a fine pyramid.
//!
//! # Kernel sequence (the contract a GPU port follows)
//!
//! All images are row-major `f32`, intensities on the 0..255 scale. Every step below is one
//! per-pixel kernel over a whole image (one GPU dispatch); the only control flow is the fixed
//! loop counts from [`TvL1Params`] and the level sizes, which depend only on the frame size.
//! Boundaries: forward differences and divergence use Neumann conditions (gradient 0 in the
//! last column/row, divergence its adjoint — see `kernels::div_row`); every sampling and
//! filtering kernel clamps indices into the image (replicate). Formulas, with their exact
//! arithmetic order, are on the functions of `kernels.rs`.
//!
//! 1. `luma` for each frame (BT.601, 0..255).
//! 2. If `structure_texture` is set, for each frame: `p1 = p2 = 0`; `iterations` times
//!    { `rof_residual` (d = div p − f / θs), `rof_dual` (step 0.25) }; then `rof_texture`
//!    (`I ← I − α (I − θs div p)`). `1/θs` is computed once in `f32` on the host.
//! 3. Pyramid: level sizes `w_l = round(w_0 · η^l)` (computed in `f64`, same for `h`) for
//!    `l = 0..scales` while both sides are ≥ [`MIN_LEVEL_SIDE`] and the size differs from
//!    the previous level's. Level `l` from level `l−1`:
//!    `blur_h`, `blur_v` with taps `exp(−i²/(2σ²))`, `i = −r..=r`, `σ = 0.6·sqrt(1/η² − 1)`,
//!    `r = max(1, ceil(3σ))` (computed in `f64`, divided by their sum, then rounded to
//!    `f32`; the host uploads them), then
//!    `resample` (bilinear, centre-aligned, `rx = w_{l−1}/w_l` as `f32`, `mul = 1`).
//! 4. Flow `u1 = u2 = 0` at the coarsest level. For each level from coarsest to finest:
//!    1. `gradient` of `I1` (central differences) → `I1x`, `I1y`.
//!    2. duals `p11 = p12 = p21 = p22 = 0`.
//!    3. `warps` times:
//!       - `warp`: sample `I1, I1x, I1y` at `x + u` → `gx, gy, rho_c, inv_g2`.
//!       - `iterations` times { `primal` (in place on `u1, u2`; `lt = λθ` computed in `f32`),
//!         `dual` (step `τ/θ` computed in `f32`) }.
//!       - if `median > 0`: `median` of `u1` and of `u2` (out of place, window `median`²).
//!    4. If not the finest level: `resample` `u1` to the next finer size with
//!       `mul = w_fine / w_coarse` and `u2` with `mul = h_fine / h_coarse`
//!       (`rx = w_coarse / w_fine`, `ry = h_coarse / h_fine`, all `f32`).
//! 5. The result is `(u1, u2)` at level 0.
//!
//! Hazards: `primal` reads the duals and writes `u` (same pixel only); `dual` reads `u` at
//! the pixel and its right/lower neighbours and writes the duals (same pixel only); so each
//! kernel needs a barrier (separate dispatch) before the next, but no double buffering.
//! `median` and `resample` write a second buffer that is then swapped with `u`.
//! The median is an exact order statistic, so any correct algorithm gives the same bits.
//! The CPU never fuses multiply-adds; a GPU compiler may, which changes results by rounding
//! only (far inside the 0.01 px budget).
//!
//! Threads split every kernel into row bands; no kernel reads what it writes except at the
//! same pixel, so the result is bit-identical for any thread count.

use super::kernels::{self, MedianNet, PrimalInputs, WarpInputs};
use super::par::{for_bands, Team};
use super::{check_frames, FlowEngine, FlowError, FlowField, Interpolation, TvL1Params};
use crate::frame::Frame;

/// Smallest side of a pyramid level: coarser levels are dropped (below this the coarse
/// solution carries no information and the boundary handling dominates).
pub const MIN_LEVEL_SIDE: usize = 8;

/// Buffers for one frame size, allocated on the first pair of that size and reused after.
struct Workspace {
    w: usize,
    h: usize,
    sizes: Vec<(usize, usize)>,
    pyr0: Vec<Vec<f32>>,
    pyr1: Vec<Vec<f32>>,
    tmp: Vec<f32>,
    tmp2: Vec<f32>,
    i1x: Vec<f32>,
    i1y: Vec<f32>,
    gx: Vec<f32>,
    gy: Vec<f32>,
    rho_c: Vec<f32>,
    inv_g2: Vec<f32>,
    u1: Vec<f32>,
    u2: Vec<f32>,
    v1: Vec<f32>,
    v2: Vec<f32>,
    p11: Vec<f32>,
    p12: Vec<f32>,
    p21: Vec<f32>,
    p22: Vec<f32>,
    zeros: Vec<f32>,
}

impl Workspace {
    fn new(w: usize, h: usize, p: &TvL1Params) -> Self {
        let sizes = level_sizes(w, h, p);
        let n = w * h;
        let z = || vec![0.0f32; n];
        Workspace {
            w,
            h,
            pyr0: sizes.iter().map(|&(a, b)| vec![0.0; a * b]).collect(),
            pyr1: sizes.iter().map(|&(a, b)| vec![0.0; a * b]).collect(),
            sizes,
            tmp: z(),
            tmp2: z(),
            i1x: z(),
            i1y: z(),
            gx: z(),
            gy: z(),
            rho_c: z(),
            inv_g2: z(),
            u1: z(),
            u2: z(),
            v1: z(),
            v2: z(),
            p11: z(),
            p12: z(),
            p21: z(),
            p22: z(),
            zeros: vec![0.0; w],
        }
    }
}

/// Pyramid level sizes for a `w × h` frame (step 3 of the kernel sequence).
pub fn level_sizes(w: usize, h: usize, p: &TvL1Params) -> Vec<(usize, usize)> {
    let mut sizes = vec![(w, h)];
    let eta = p.scale_factor as f64;
    for l in 1..p.scales as i32 {
        let f = eta.powi(l);
        let (lw, lh) = ((w as f64 * f).round() as usize, (h as f64 * f).round() as usize);
        if lw < MIN_LEVEL_SIDE || lh < MIN_LEVEL_SIDE || (lw, lh) == *sizes.last().unwrap() {
            break;
        }
        sizes.push((lw, lh));
    }
    sizes
}

/// Normalised Gaussian taps for the pyramid blur (step 3).
pub(crate) fn blur_kernel(eta: f32) -> Vec<f32> {
    let eta = eta as f64;
    let sigma = 0.6 * (1.0 / (eta * eta) - 1.0).sqrt();
    let r = (3.0 * sigma).ceil().max(1.0) as i64;
    let raw: Vec<f64> = (-r..=r).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|x| (x / sum) as f32).collect()
}

/// The CPU TV-L1 engine: parameters, a thread count, and buffers reused across pairs of the
/// same size (no allocation per pair after the first, apart from the returned field).
pub struct TvL1Cpu {
    params: TvL1Params,
    team: Team,
    name: String,
    blur: Vec<f32>,
    net: Option<MedianNet>,
    ws: Option<Workspace>,
}

impl TvL1Cpu {
    /// Validates `params`; `threads` is the number of row bands (0 or 1 = single-threaded,
    /// at most 16; workers are spawned here, once). Any thread count gives bit-identical flow.
    pub fn new(params: TvL1Params, threads: usize) -> Result<Self, FlowError> {
        params.validate()?;
        let team = Team::new(threads);
        Ok(TvL1Cpu {
            name: format!("tvl1-cpu(threads={})", team.threads()),
            blur: blur_kernel(params.scale_factor),
            net: (params.median > 0).then(|| MedianNet::new(params.median as usize)),
            params,
            team,
            ws: None,
        })
    }

    /// The parameters in use (for model cards and logs).
    pub fn params(&self) -> &TvL1Params {
        &self.params
    }

    /// Step 2: structure–texture decomposition of `f` (read from `ws.tmp`) into `out`.
    fn structure_texture(ws: &mut Workspace, t: &Team, p: &TvL1Params, which: usize) {
        let (w, h) = (ws.w, ws.h);
        let st = p.structure_texture.expect("checked by caller");
        let n = w * h;
        ws.p11[..n].fill(0.0);
        ws.p12[..n].fill(0.0);
        let inv_theta = 1.0 / st.theta;
        for _ in 0..st.iterations {
            for_bands(t, w, h, [&mut ws.rho_c], |b, [d]| {
                kernels::rof_residual(&ws.tmp, [&ws.p11, &ws.p12], &ws.zeros, inv_theta, b, d)
            });
            for_bands(t, w, h, [&mut ws.p11, &mut ws.p12], |band, [a, b]| {
                kernels::rof_dual(&ws.rho_c, 0.25, band, a, b)
            });
        }
        let out = if which == 0 { &mut ws.pyr0[0] } else { &mut ws.pyr1[0] };
        for_bands(t, w, h, [out], |b, [o]| {
            kernels::rof_texture(&ws.tmp, [&ws.p11, &ws.p12], &ws.zeros, (st.theta, st.alpha), b, o)
        });
    }

    /// Steps 1–3 for one frame.
    fn prepare(ws: &mut Workspace, t: &Team, p: &TvL1Params, blur: &[f32], frame: &Frame, which: usize) {
        let (w, h) = (ws.w, ws.h);
        let rgb = &frame.data;
        if p.structure_texture.is_some() {
            for_bands(t, w, h, [&mut ws.tmp], |b, [o]| kernels::luma(rgb, b, o));
            Self::structure_texture(ws, t, p, which);
        } else {
            let out = if which == 0 { &mut ws.pyr0[0] } else { &mut ws.pyr1[0] };
            for_bands(t, w, h, [out], |b, [o]| kernels::luma(rgb, b, o));
        }
        for l in 1..ws.sizes.len() {
            let (sw, sh) = ws.sizes[l - 1];
            let (dw, dh) = ws.sizes[l];
            let pyr = if which == 0 { &mut ws.pyr0 } else { &mut ws.pyr1 };
            let (prev, next) = pyr.split_at_mut(l);
            let src = &prev[l - 1];
            for_bands(t, sw, sh, [&mut ws.tmp], |b, [o]| kernels::blur_h(src, blur, b, o));
            for_bands(t, sw, sh, [&mut ws.tmp2], |b, [o]| kernels::blur_v(&ws.tmp, blur, b, o));
            let (rx, ry) = (sw as f32 / dw as f32, sh as f32 / dh as f32);
            for_bands(t, dw, dh, [&mut next[0]], |b, [o]| kernels::resample(&ws.tmp2, (sw, sh), 1.0, (rx, ry), b, o));
        }
    }

    /// Step 4: coarse-to-fine TV-L1 on the prepared pyramids.
    fn solve(&mut self) {
        let ws = self.ws.as_mut().expect("workspace prepared");
        let p = &self.params;
        let t = &self.team;
        let lt = p.lambda * p.theta;
        let dual_step = p.tau / p.theta;
        let nl = ws.sizes.len();
        let (cw, ch) = ws.sizes[nl - 1];
        ws.u1[..cw * ch].fill(0.0);
        ws.u2[..cw * ch].fill(0.0);
        for l in (0..nl).rev() {
            let (w, h) = ws.sizes[l];
            let n = w * h;
            for_bands(t, w, h, [&mut ws.i1x, &mut ws.i1y], |band, [a, b]| kernels::gradient(&ws.pyr1[l], band, a, b));
            for d in [&mut ws.p11, &mut ws.p12, &mut ws.p21, &mut ws.p22] {
                d[..n].fill(0.0);
            }
            for _ in 0..p.warps {
                let wi = WarpInputs {
                    i0: &ws.pyr0[l],
                    i1: &ws.pyr1[l],
                    i1x: &ws.i1x,
                    i1y: &ws.i1y,
                    u1: &ws.u1,
                    u2: &ws.u2,
                    bicubic: p.interpolation == Interpolation::Bicubic,
                };
                for_bands(t, w, h, [&mut ws.gx, &mut ws.gy, &mut ws.rho_c, &mut ws.inv_g2], |b, o| {
                    kernels::warp(&wi, b, o)
                });
                for _ in 0..p.iterations {
                    let pi = PrimalInputs {
                        gx: &ws.gx,
                        gy: &ws.gy,
                        rho_c: &ws.rho_c,
                        inv_g2: &ws.inv_g2,
                        p11: &ws.p11,
                        p12: &ws.p12,
                        p21: &ws.p21,
                        p22: &ws.p22,
                        zeros: &ws.zeros,
                        lt,
                        theta: p.theta,
                    };
                    for_bands(t, w, h, [&mut ws.u1, &mut ws.u2], |band, [a, b]| kernels::primal(&pi, band, a, b));
                    for_bands(t, w, h, [&mut ws.p11, &mut ws.p12, &mut ws.p21, &mut ws.p22], |b, o| {
                        kernels::dual([&ws.u1, &ws.u2], dual_step, b, o)
                    });
                }
                if let Some(net) = &self.net {
                    for_bands(t, w, h, [&mut ws.v1, &mut ws.v2], |band, [a, b]| {
                        kernels::median(&ws.u1, net, band, a);
                        kernels::median(&ws.u2, net, band, b);
                    });
                    std::mem::swap(&mut ws.u1, &mut ws.v1);
                    std::mem::swap(&mut ws.u2, &mut ws.v2);
                }
            }
            if l > 0 {
                let (fw, fh) = ws.sizes[l - 1];
                let (rx, ry) = (w as f32 / fw as f32, h as f32 / fh as f32);
                let (mx, my) = (fw as f32 / w as f32, fh as f32 / h as f32);
                for_bands(t, fw, fh, [&mut ws.v1, &mut ws.v2], |band, [a, b]| {
                    kernels::resample(&ws.u1, (w, h), mx, (rx, ry), band, a);
                    kernels::resample(&ws.u2, (w, h), my, (rx, ry), band, b);
                });
                std::mem::swap(&mut ws.u1, &mut ws.v1);
                std::mem::swap(&mut ws.u2, &mut ws.v2);
            }
        }
    }
}

impl FlowEngine for TvL1Cpu {
    fn name(&self) -> &str {
        &self.name
    }

    fn compute_into(&mut self, a: &Frame, b: &Frame, out: &mut FlowField) -> Result<(), FlowError> {
        check_frames(a, b)?;
        let (w, h) = (a.width as usize, a.height as usize);
        if self.ws.as_ref().is_none_or(|ws| ws.w != w || ws.h != h) {
            self.ws = Some(Workspace::new(w, h, &self.params));
        }
        let ws = self.ws.as_mut().expect("just set");
        Self::prepare(ws, &self.team, &self.params, &self.blur, a, 0);
        Self::prepare(ws, &self.team, &self.params, &self.blur, b, 1);
        self.solve();
        let ws = self.ws.as_ref().expect("just set");
        out.reshape(a.width, a.height);
        out.u.copy_from_slice(&ws.u1[..w * h]);
        out.v.copy_from_slice(&ws.u2[..w * h]);
        Ok(())
    }
}
