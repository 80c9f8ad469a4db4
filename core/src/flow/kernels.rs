//! The per-pixel kernels of TV-L1 (see the kernel sequence in `tvl1.rs`). Each one writes the
//! rows `y0..y1` of its outputs (band-local slices, row 0 = image row `y0`) and reads whole
//! input images, so it maps 1:1 onto a GPU compute dispatch with one invocation per pixel.
//! Arithmetic is written in the exact order documented on each function; the GPU port must
//! keep it (no reassociation) to stay within 0.01 px of the CPU.

use std::ops::Range;

/// The rows `y0..y1` of a `w × h` image that one kernel call writes; its outputs are
/// band-local (row 0 is image row `y0`), its inputs whole images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Band {
    pub w: usize,
    pub h: usize,
    pub y0: usize,
    pub y1: usize,
}

impl Band {
    /// The whole `w × h` image as one band.
    pub(crate) fn whole(w: usize, h: usize) -> Band {
        Band { w, h, y0: 0, y1: h }
    }

    /// Where image row `y` (in `y0..y1`) lies in a band-local output.
    #[inline(always)]
    fn out_row(self, y: usize) -> Range<usize> {
        (y - self.y0) * self.w..(y - self.y0 + 1) * self.w
    }
}

/// BT.601 luma on the 0..255 scale: `(0.299 * R + 0.587 * G) + 0.114 * B`.
pub(crate) fn luma(rgb: &[u8], b: Band, out: &mut [f32]) {
    let Band { w, y0, y1, .. } = b;
    let src = &rgb[y0 * w * 3..y1 * w * 3];
    for (o, p) in out[..(y1 - y0) * w].iter_mut().zip(src.chunks_exact(3)) {
        *o = (0.299 * p[0] as f32 + 0.587 * p[1] as f32) + 0.114 * p[2] as f32;
    }
}

/// Divergence of the dual field `(p1, p2)` at row `y` into `out` (length `w`):
/// `div = (p1[x] - p1[x-1]) + (p2[y][x] - p2[y-1][x])`, with `p1[-1] = 0` and `p2[-1] = 0`
/// (`zeros` is a row of zeros). This is the adjoint of the forward-difference gradient with
/// Neumann boundaries because the duals are always 0 in the last column (`p1`) / row (`p2`).
#[inline(always)]
fn div_row(p1: &[f32], p2: &[f32], zeros: &[f32], w: usize, y: usize, out: &mut [f32]) {
    let p1r = &p1[y * w..y * w + w];
    let p2r = &p2[y * w..y * w + w];
    let p2u = if y == 0 { &zeros[..w] } else { &p2[(y - 1) * w..y * w] };
    let out = &mut out[..w];
    out[0] = p1r[0] + (p2r[0] - p2u[0]);
    for x in 1..w {
        out[x] = (p1r[x] - p1r[x - 1]) + (p2r[x] - p2u[x]);
    }
}

/// ROF (Chambolle projection) step A: `d = div(p) - f * inv_theta`, with `p = [p1, p2]`.
pub(crate) fn rof_residual(f: &[f32], p: [&[f32]; 2], zeros: &[f32], inv_theta: f32, b: Band, d: &mut [f32]) {
    let ([p1, p2], w) = (p, b.w);
    for y in b.y0..b.y1 {
        let row = &mut d[b.out_row(y)];
        div_row(p1, p2, zeros, w, y, row);
        let fr = &f[y * w..y * w + w];
        for (o, &fv) in row.iter_mut().zip(fr) {
            *o -= fv * inv_theta;
        }
    }
}

/// Dual projection shared by ROF and TV-L1: with forward differences `gx = a[x+1] - a[x]`
/// (0 in the last column), `gy = a[y+1][x] - a[y][x]` (0 in the last row),
/// `r = 1 / (1 + step * sqrt(gx*gx + gy*gy))`, `p1 = (p1 + step * gx) * r`,
/// `p2 = (p2 + step * gy) * r` (in the last column `gx = 0`, so `p1` stays 0 there).
#[inline(always)]
fn dual_row(a: &[f32], w: usize, h: usize, y: usize, step: f32, p1: &mut [f32], p2: &mut [f32]) {
    let ar = &a[y * w..y * w + w];
    let ad = if y + 1 < h { &a[(y + 1) * w..(y + 2) * w] } else { ar };
    let p1 = &mut p1[..w];
    let p2 = &mut p2[..w];
    for x in 0..w - 1 {
        let gx = ar[x + 1] - ar[x];
        let gy = ad[x] - ar[x];
        let r = 1.0 / (1.0 + step * (gx * gx + gy * gy).sqrt());
        p1[x] = (p1[x] + step * gx) * r;
        p2[x] = (p2[x] + step * gy) * r;
    }
    let x = w - 1;
    let gy = ad[x] - ar[x];
    let r = 1.0 / (1.0 + step * (gy * gy).sqrt());
    p1[x] *= r;
    p2[x] = (p2[x] + step * gy) * r;
}

/// ROF step B: dual projection of `p` with the gradient of `d` (see `dual_row`), step `tau`.
pub(crate) fn rof_dual(d: &[f32], tau: f32, b: Band, p1: &mut [f32], p2: &mut [f32]) {
    for y in b.y0..b.y1 {
        let r = b.out_row(y);
        dual_row(d, b.w, b.h, y, tau, &mut p1[r.clone()], &mut p2[r]);
    }
}

/// ROF final step and texture: `s = f - theta * div(p)`, `out = f - alpha * s`, with
/// `p = [p1, p2]`.
pub(crate) fn rof_texture(
    f: &[f32],
    p: [&[f32]; 2],
    zeros: &[f32],
    (theta, alpha): (f32, f32),
    b: Band,
    out: &mut [f32],
) {
    let ([p1, p2], w) = (p, b.w);
    for y in b.y0..b.y1 {
        let row = &mut out[b.out_row(y)];
        div_row(p1, p2, zeros, w, y, row);
        let fr = &f[y * w..y * w + w];
        for (o, &fv) in row.iter_mut().zip(fr) {
            let s = fv - theta * *o;
            *o = fv - alpha * s;
        }
    }
}

/// Horizontal convolution with a symmetric kernel of `2r+1` taps, replicate boundary:
/// `out[x] = sum_{j=0..2r} k[j] * src[clamp(x + j - r)]`, summed in increasing `j`.
pub(crate) fn blur_h(src: &[f32], k: &[f32], b: Band, out: &mut [f32]) {
    let (r, w) = (k.len() / 2, b.w);
    for y in b.y0..b.y1 {
        let s = &src[y * w..y * w + w];
        let o = &mut out[b.out_row(y)];
        for (x, ov) in o.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for (j, &kj) in k.iter().enumerate() {
                let xx = (x + j).saturating_sub(r).min(w - 1);
                acc += kj * s[xx];
            }
            *ov = acc;
        }
    }
}

/// Vertical convolution, same rule as [`blur_h`] along columns.
pub(crate) fn blur_v(src: &[f32], k: &[f32], b: Band, out: &mut [f32]) {
    let (r, Band { w, h, .. }) = (k.len() / 2, b);
    for y in b.y0..b.y1 {
        let o = &mut out[b.out_row(y)];
        o.fill(0.0);
        for (j, &kj) in k.iter().enumerate() {
            let yy = (y + j).saturating_sub(r).min(h - 1);
            let s = &src[yy * w..yy * w + w];
            for (ov, &sv) in o.iter_mut().zip(s) {
                *ov += kj * sv;
            }
        }
    }
}

/// Centre-aligned bilinear resampling from `sw × sh` to `dw × dh`, times `mul`:
/// `sx = clamp((x + 0.5) * (sw / dw) - 0.5, 0, sw - 1)` (likewise `sy`), `x0 = floor(sx)`,
/// `x1 = min(x0 + 1, sw - 1)`, `fx = sx - x0`; `top = a + fx * (b - a)`,
/// `bot = c + fx * (d - c)`, `out = mul * (top + fy * (bot - top))`. Used to build the pyramid
/// (after the blur, `mul = 1`) and to upsample flow (`mul` = size ratio of the component).
/// `src` is `sw × sh`; `b` is a band of the `dw × dh` output; `(rx, ry) = (sw / dw, sh / dh)`.
pub(crate) fn resample(
    src: &[f32],
    (sw, sh): (usize, usize),
    mul: f32,
    (rx, ry): (f32, f32),
    b: Band,
    out: &mut [f32],
) {
    for y in b.y0..b.y1 {
        let sy = ((y as f32 + 0.5) * ry - 0.5).max(0.0).min((sh - 1) as f32);
        let yi = sy as usize;
        let yj = (yi + 1).min(sh - 1);
        let fy = sy - yi as f32;
        let r0 = &src[yi * sw..yi * sw + sw];
        let r1 = &src[yj * sw..yj * sw + sw];
        let o = &mut out[b.out_row(y)];
        for (x, ov) in o.iter_mut().enumerate() {
            let sx = ((x as f32 + 0.5) * rx - 0.5).max(0.0).min((sw - 1) as f32);
            let xi = sx as usize;
            let xj = (xi + 1).min(sw - 1);
            let fx = sx - xi as f32;
            let top = r0[xi] + fx * (r0[xj] - r0[xi]);
            let bot = r1[xi] + fx * (r1[xj] - r1[xi]);
            *ov = mul * (top + fy * (bot - top));
        }
    }
}

/// Central-difference gradient with replicate boundary:
/// `gx = 0.5 * (I[x+1] - I[x-1])`, indices clamped to the image (likewise `gy`).
pub(crate) fn gradient(src: &[f32], b: Band, gx: &mut [f32], gy: &mut [f32]) {
    let Band { w, h, y0, y1 } = b;
    for y in y0..y1 {
        let r = &src[y * w..y * w + w];
        let up = &src[y.saturating_sub(1) * w..][..w];
        let dn = &src[(y + 1).min(h - 1) * w..][..w];
        let ox = &mut gx[(y - y0) * w..(y - y0 + 1) * w];
        let oy = &mut gy[(y - y0) * w..(y - y0 + 1) * w];
        for x in 0..w {
            ox[x] = 0.5 * (r[(x + 1).min(w - 1)] - r[x.saturating_sub(1)]);
        }
        for ((o, &d), &u) in oy.iter_mut().zip(dn).zip(up) {
            *o = 0.5 * (d - u);
        }
    }
}

/// Keys cubic-convolution weights (a = -0.5) for taps at offsets -1, 0, 1, 2 from `floor`,
/// given the fractional part `t`: `w(-1) = ((-0.5 t + 1) t - 0.5) t`,
/// `w(0) = (1.5 t - 2.5) t t + 1`, `w(1) = ((-1.5 t + 2) t + 0.5) t`, `w(2) = (0.5 t - 0.5) t t`.
#[inline(always)]
fn cubic_weights(t: f32) -> [f32; 4] {
    [
        ((-0.5 * t + 1.0) * t - 0.5) * t,
        (1.5 * t - 2.5) * t * t + 1.0,
        ((-1.5 * t + 2.0) * t + 0.5) * t,
        (0.5 * t - 0.5) * t * t,
    ]
}

/// Inputs of the warp kernel: the level's images and the flow to warp with.
pub(crate) struct WarpInputs<'a> {
    pub i0: &'a [f32],
    pub i1: &'a [f32],
    pub i1x: &'a [f32],
    pub i1y: &'a [f32],
    pub u1: &'a [f32],
    pub u2: &'a [f32],
    pub bicubic: bool,
}

/// Warp kernel: samples `i1`, `i1x`, `i1y` at `(x + u1, y + u2)` (coordinates clamped to
/// `[-2, w + 1]` first; taps clamped into the image = replicate boundary), then
/// if the (clamped) sample point is outside `[0, w-1] × [0, h-1]` then `gx = gy = 0` (no data
/// term where the second image has no data; the TV term fills in),
/// `g2 = gx*gx + gy*gy`, `rho_c = ((i1w - gx*u1) - gy*u2) - i0`,
/// `inv_g2 = g2 > 1e-10 ? 1 / g2 : 0`. Bicubic: weights from [`cubic_weights`], each of the
/// 4 rows interpolated horizontally (taps summed left to right), then the 4 row values
/// vertically (top to bottom). Bilinear: same formulas as [`resample`].
pub(crate) fn warp(inp: &WarpInputs, b: Band, outs: [&mut [f32]; 4]) {
    let Band { w, h, y0, y1 } = b;
    let [gxo, gyo, rho, inv] = outs;
    let (wf, hf) = (w as f32, h as f32);
    for y in y0..y1 {
        for x in 0..w {
            let i = y * w + x;
            let o = i - y0 * w;
            let (u1, u2) = (inp.u1[i], inp.u2[i]);
            let sx = (x as f32 + u1).max(-2.0).min(wf + 1.0);
            let sy = (y as f32 + u2).max(-2.0).min(hf + 1.0);
            let fx = sx.floor();
            let fy = sy.floor();
            let (tx, ty) = (sx - fx, sy - fy);
            let (xi, yi) = (fx as isize, fy as isize);
            let cx = |k: isize| (xi + k).clamp(0, w as isize - 1) as usize;
            let cy = |k: isize| (yi + k).clamp(0, h as isize - 1) as usize;
            let mut s = [0.0f32; 3];
            if inp.bicubic {
                let wx = cubic_weights(tx);
                let wy = cubic_weights(ty);
                let xs = [cx(-1), cx(0), cx(1), cx(2)];
                let ys = [cy(-1), cy(0), cy(1), cy(2)];
                for (c, img) in [inp.i1, inp.i1x, inp.i1y].into_iter().enumerate() {
                    let mut acc = 0.0f32;
                    for (j, &yy) in ys.iter().enumerate() {
                        let r = &img[yy * w..yy * w + w];
                        let row = wx[0] * r[xs[0]] + wx[1] * r[xs[1]] + wx[2] * r[xs[2]] + wx[3] * r[xs[3]];
                        acc += wy[j] * row;
                    }
                    s[c] = acc;
                }
            } else {
                let (x0, x1, yy0, yy1) = (cx(0), cx(1), cy(0), cy(1));
                for (c, img) in [inp.i1, inp.i1x, inp.i1y].into_iter().enumerate() {
                    let (a, b) = (img[yy0 * w + x0], img[yy0 * w + x1]);
                    let (cc, d) = (img[yy1 * w + x0], img[yy1 * w + x1]);
                    let top = a + tx * (b - a);
                    let bot = cc + tx * (d - cc);
                    s[c] = top + ty * (bot - top);
                }
            }
            let [iw, mut gx, mut gy] = s;
            // Outside the image the data term is unknown: switch it off (pure TV fill-in).
            let inside = sx >= 0.0 && sx <= wf - 1.0 && sy >= 0.0 && sy <= hf - 1.0;
            if !inside {
                gx = 0.0;
                gy = 0.0;
            }
            let g2 = gx * gx + gy * gy;
            gxo[o] = gx;
            gyo[o] = gy;
            rho[o] = ((iw - gx * u1) - gy * u2) - inp.i0[i];
            inv[o] = if g2 > 1e-10 { 1.0 / g2 } else { 0.0 };
        }
    }
}

/// Inputs of the primal kernel.
pub(crate) struct PrimalInputs<'a> {
    pub gx: &'a [f32],
    pub gy: &'a [f32],
    pub rho_c: &'a [f32],
    pub inv_g2: &'a [f32],
    pub p11: &'a [f32],
    pub p12: &'a [f32],
    pub p21: &'a [f32],
    pub p22: &'a [f32],
    pub zeros: &'a [f32],
    pub lt: f32,
    pub theta: f32,
}

/// Primal kernel (data-term thresholding + divergence step), in place on `u1`, `u2`:
/// `rho = (rho_c + gx*u1) + gy*u2`; `f = -rho * inv_g2`; `f = f < -lt ? -lt : f`;
/// `f = f > lt ? lt : f` (the three-case threshold of Zach et al. as a clamp);
/// `v1 = u1 + f*gx`, `v2 = u2 + f*gy`; `u1 = v1 + theta * div(p11, p12)`,
/// `u2 = v2 + theta * div(p21, p22)` (divergence as in `div_row`).
pub(crate) fn primal(inp: &PrimalInputs, b: Band, u1: &mut [f32], u2: &mut [f32]) {
    let Band { w, y0, y1, .. } = b;
    let (lt, theta) = (inp.lt, inp.theta);
    for y in y0..y1 {
        let g = y * w..y * w + w;
        let (gx, gy, rc, inv) = (&inp.gx[g.clone()], &inp.gy[g.clone()], &inp.rho_c[g.clone()], &inp.inv_g2[g.clone()]);
        let (p11, p12, p21, p22) = (&inp.p11[g.clone()], &inp.p12[g.clone()], &inp.p21[g.clone()], &inp.p22[g]);
        let up = if y == 0 { 0..w } else { (y - 1) * w..y * w };
        let (p12u, p22u) =
            if y == 0 { (&inp.zeros[..w], &inp.zeros[..w]) } else { (&inp.p12[up.clone()], &inp.p22[up]) };
        let r = (y - y0) * w..(y - y0 + 1) * w;
        let u1 = &mut u1[r.clone()];
        let u2 = &mut u2[r];
        // Equal lengths let the compiler drop the bounds checks and vectorise the loop.
        let (gx, gy, rc, inv) = (&gx[..w], &gy[..w], &rc[..w], &inv[..w]);
        let (p11, p12, p21, p22, p12u, p22u) = (&p11[..w], &p12[..w], &p21[..w], &p22[..w], &p12u[..w], &p22u[..w]);
        let (u1, u2) = (&mut u1[..w], &mut u2[..w]);
        // Column 0 has no left neighbour (p[-1] = 0); the rest runs branch-free.
        let d1 = p11[0] + (p12[0] - p12u[0]);
        let d2 = p21[0] + (p22[0] - p22u[0]);
        (u1[0], u2[0]) = primal_px([u1[0], u2[0]], [gx[0], gy[0]], rc[0], inv[0], [d1, d2], lt, theta);
        for x in 1..w {
            let d1 = (p11[x] - p11[x - 1]) + (p12[x] - p12u[x]);
            let d2 = (p21[x] - p21[x - 1]) + (p22[x] - p22u[x]);
            (u1[x], u2[x]) = primal_px([u1[x], u2[x]], [gx[x], gy[x]], rc[x], inv[x], [d1, d2], lt, theta);
        }
    }
}

/// One pixel of [`primal`]; the thresholding written as a clamp (equivalent to the three-case
/// rule of Zach et al.: `|rho| > lt*g2` saturates the step at `±lt`). `[a, b]` is the flow
/// `(u1, u2)`, `[gx, gy]` the warped gradient, `[d1, d2]` the divergences of the duals.
#[inline(always)]
fn primal_px(
    [a, b]: [f32; 2],
    [gx, gy]: [f32; 2],
    rc: f32,
    inv: f32,
    [d1, d2]: [f32; 2],
    lt: f32,
    theta: f32,
) -> (f32, f32) {
    let rho = (rc + gx * a) + gy * b;
    let f = -rho * inv;
    let f = if f < -lt { -lt } else { f };
    let f = if f > lt { lt } else { f };
    ((a + f * gx) + theta * d1, (b + f * gy) + theta * d2)
}

/// Dual kernel: projections of `(p11, p12)` with the gradient of `u1` and of `(p21, p22)`
/// with the gradient of `u2`, step `tau / theta` (see `dual_row`); `u = [u1, u2]`.
pub(crate) fn dual([u1, u2]: [&[f32]; 2], step: f32, b: Band, outs: [&mut [f32]; 4]) {
    let [p11, p12, p21, p22] = outs;
    for y in b.y0..b.y1 {
        let r = b.out_row(y);
        dual_row(u1, b.w, b.h, y, step, &mut p11[r.clone()], &mut p12[r.clone()]);
        dual_row(u2, b.w, b.h, y, step, &mut p21[r.clone()], &mut p22[r]);
    }
}

/// A comparator network that puts the median of `k*k` values (padded with +inf to a power of
/// two) at index `k*k/2`: Batcher's odd–even merge sort, pruned to the comparators that can
/// influence that output. Any correct median gives the same bits; this one vectorises.
pub(crate) struct MedianNet {
    pub size: usize,
    pub n: usize,
    pub pairs: Vec<(u8, u8)>,
}

impl MedianNet {
    pub(crate) fn new(size: usize) -> Self {
        let k = size * size;
        let n = k.next_power_of_two();
        let mut pairs = Vec::new();
        let mut p = 1;
        while p < n {
            let mut kk = p;
            while kk >= 1 {
                let mut j = kk % p;
                while j + kk < n {
                    for i in 0..kk.min(n - j - kk) {
                        if (i + j) / (2 * p) == (i + j + kk) / (2 * p) {
                            pairs.push(((i + j) as u8, (i + j + kk) as u8));
                        }
                    }
                    j += 2 * kk;
                }
                kk /= 2;
            }
            p *= 2;
        }
        // Forward pruning: a comparator whose upper wire still holds the +inf padding is a
        // no-op (min goes low, inf stays high).
        let mut is_inf: Vec<bool> = (0..n).map(|i| i >= k).collect();
        pairs.retain(|&(a, b)| {
            let (a, b) = (a as usize, b as usize);
            if is_inf[b] {
                return false;
            }
            if is_inf[a] {
                is_inf[a] = false;
                is_inf[b] = true;
            }
            true
        });
        // Backward pruning: keep comparators touching a wire that still matters for the median.
        let mut needed = vec![false; n];
        needed[k / 2] = true;
        let mut kept = Vec::new();
        for &(a, b) in pairs.iter().rev() {
            if needed[a as usize] || needed[b as usize] {
                needed[a as usize] = true;
                needed[b as usize] = true;
                kept.push((a, b));
            }
        }
        kept.reverse();
        MedianNet { size, n, pairs: kept }
    }
}

const LANES: usize = 8;

/// Median filter, `size × size` window, replicate boundary, processed 8 pixels at a time.
pub(crate) fn median(src: &[f32], net: &MedianNet, b: Band, out: &mut [f32]) {
    let Band { w, h, y0, y1 } = b;
    let r = net.size / 2;
    let k = net.size * net.size;
    let mut vals = [[f32::INFINITY; LANES]; 64];
    for y in y0..y1 {
        let o = &mut out[(y - y0) * w..(y - y0 + 1) * w];
        let mut x0 = 0;
        while x0 < w {
            let lanes = LANES.min(w - x0);
            let mut idx = 0;
            for dy in 0..net.size {
                let yy = (y + dy).saturating_sub(r).min(h - 1);
                let row = &src[yy * w..yy * w + w];
                for dx in 0..net.size {
                    let v = &mut vals[idx];
                    if x0 + dx >= r && x0 + dx + LANES <= w + r {
                        let s = x0 + dx - r;
                        v.copy_from_slice(&row[s..s + LANES]);
                    } else {
                        for (l, slot) in v.iter_mut().enumerate() {
                            let xx = (x0 + l.min(lanes - 1) + dx).saturating_sub(r).min(w - 1);
                            *slot = row[xx];
                        }
                    }
                    idx += 1;
                }
            }
            for v in vals[k..net.n].iter_mut() {
                *v = [f32::INFINITY; LANES];
            }
            for &(a, b) in &net.pairs {
                let (a, b) = (a as usize, b as usize);
                let (va, vb) = (vals[a], vals[b]);
                let mut lo = [0.0f32; LANES];
                let mut hi = [0.0f32; LANES];
                for l in 0..LANES {
                    lo[l] = if va[l] < vb[l] { va[l] } else { vb[l] };
                    hi[l] = if va[l] < vb[l] { vb[l] } else { va[l] };
                }
                vals[a] = lo;
                vals[b] = hi;
            }
            o[x0..x0 + lanes].copy_from_slice(&vals[k / 2][..lanes]);
            x0 += LANES;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_fewer_comparators_than_the_full_sort() {
        for size in [3, 5, 7] {
            let net = MedianNet::new(size);
            let m = net.n.trailing_zeros() as usize;
            // Batcher's odd–even merge sort of 2^m wires: (m² − m + 4)·2^(m−2) − 1 comparators.
            let full = (m * m - m + 4) * (1 << (m - 2)) - 1;
            // Every one of the k inputs must meet some comparator for the median to depend on it.
            let k = size * size;
            assert!((k - 1..full).contains(&net.pairs.len()), "{size}×{size}: {} of {full}", net.pairs.len());
            assert!(
                net.pairs.iter().all(|&(a, b)| a < b && (b as usize) < net.n),
                "{size}×{size}: a comparator out of order"
            );
        }
    }

    #[test]
    fn median_net_matches_sort() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for size in [3, 5, 7] {
            let net = MedianNet::new(size);
            let (w, h) = (13, 9);
            let src: Vec<f32> = (0..w * h).map(|_| rng.random_range(-5.0..5.0)).collect();
            let mut out = vec![0.0; w * h];
            median(&src, &net, Band::whole(w, h), &mut out);
            let r = size as isize / 2;
            for y in 0..h as isize {
                for x in 0..w as isize {
                    let mut win = Vec::new();
                    for dy in -r..=r {
                        for dx in -r..=r {
                            let yy = (y + dy).clamp(0, h as isize - 1) as usize;
                            let xx = (x + dx).clamp(0, w as isize - 1) as usize;
                            win.push(src[yy * w + xx]);
                        }
                    }
                    win.sort_by(f32::total_cmp);
                    assert_eq!(out[y as usize * w + x as usize], win[win.len() / 2], "size {size} at ({x},{y})");
                }
            }
        }
    }
}
