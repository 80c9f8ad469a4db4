// TV-L1 kernels for the GPU engine (see `flow/tvl1.rs` for the kernel sequence and
// `flow/kernels.rs` for each kernel's arithmetic order, which every entry point below keeps).
//
// Every image lives in one storage buffer `m` (f32), addressed by float offsets; each dispatch
// reads its sizes, offsets and scalars from a 256-byte-aligned record of the uniform buffer
// (dynamic offset). One invocation per output pixel; 16x8 workgroups. A batch of pairs runs in
// the same dispatches: workgroup z = pair index, and pair k's images are `k * zs.x` floats
// further (its RGB words `k * zs.y` further), so every offset below is relative to that base.
//
// The median entry point is appended by the host: its comparator network is generated from
// the same `MedianNet` the CPU uses (any correct network gives the same order statistic).

struct Rec {
    // w, h (size of the image the dispatch writes), sw, sh (source size for resample)
    dims: vec4<u32>,
    oa: vec4<u32>,
    ob: vec4<u32>,
    oc: vec4<u32>,
    f: vec4<f32>,
    // floats per pair in `m`, u32 words per pair (two frames) in `rgb`
    zs: vec4<u32>,
}

@group(0) @binding(0) var<storage, read_write> m: array<f32>;
@group(0) @binding(1) var<storage, read> rgb: array<u32>;
@group(0) @binding(2) var<uniform> p: Rec;

fn byte_at(base: u32, i: u32) -> f32 {
    let word = rgb[base + i / 4u];
    return f32((word >> (8u * (i % 4u))) & 255u);
}

// luma: oa = (dst, rgb word offset). (0.299 R + 0.587 G) + 0.114 B.
@compute @workgroup_size(16, 8)
fn luma(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    if (id.x >= w || id.y >= p.dims.y) { return; }
    let i = id.y * w + id.x;
    let base = id.z * p.zs.y + p.oa.y;
    let r = byte_at(base, 3u * i);
    let g = byte_at(base, 3u * i + 1u);
    let b = byte_at(base, 3u * i + 2u);
    m[id.z * p.zs.x + p.oa.x + i] = (0.299 * r + 0.587 * g) + 0.114 * b;
}

// fill0: zero the w*h regions at oa.x, oa.y, oa.z, oa.w (repeat an offset to zero fewer).
@compute @workgroup_size(16, 8)
fn fill0(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    if (id.x >= w || id.y >= p.dims.y) { return; }
    let z = id.z * p.zs.x;
    let i = id.y * w + id.x;
    m[(z + p.oa.x) + i] = 0.0;
    m[(z + p.oa.y) + i] = 0.0;
    m[(z + p.oa.z) + i] = 0.0;
    m[(z + p.oa.w) + i] = 0.0;
}

// Divergence of (p1, p2) at (x, y): (p1[x] - p1[x-1]) + (p2[y] - p2[y-1]), outside = 0.
fn div_at(p1: u32, p2: u32, x: u32, y: u32, w: u32) -> f32 {
    let i = y * w + x;
    var l = 0.0;
    if (x > 0u) { l = m[p1 + i - 1u]; }
    var u = 0.0;
    if (y > 0u) { u = m[p2 + i - w]; }
    return (m[p1 + i] - l) + (m[p2 + i] - u);
}

// Dual projection of (p1, p2) with the forward-difference gradient of image `a`.
fn dual_px(a: u32, p1: u32, p2: u32, x: u32, y: u32, w: u32, h: u32, step: f32) {
    let i = y * w + x;
    let av = m[a + i];
    var ad = av;
    if (y + 1u < h) { ad = m[a + i + w]; }
    let gy = ad - av;
    if (x + 1u < w) {
        let gx = m[a + i + 1u] - av;
        let r = 1.0 / (1.0 + step * sqrt(gx * gx + gy * gy));
        m[p1 + i] = (m[p1 + i] + step * gx) * r;
        m[p2 + i] = (m[p2 + i] + step * gy) * r;
    } else {
        let r = 1.0 / (1.0 + step * sqrt(gy * gy));
        m[p1 + i] = m[p1 + i] * r;
        m[p2 + i] = (m[p2 + i] + step * gy) * r;
    }
}

// rof_residual: oa = (f, p1, p2, d), f.x = 1/theta_s. d = div p - f * inv_theta.
@compute @workgroup_size(16, 8)
fn rof_residual(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    if (id.x >= w || id.y >= p.dims.y) { return; }
    let z = id.z * p.zs.x;
    let i = id.y * w + id.x;
    let d = div_at((z + p.oa.y), (z + p.oa.z), id.x, id.y, w);
    m[(z + p.oa.w) + i] = d - m[(z + p.oa.x) + i] * p.f.x;
}

// rof_dual: oa = (d, p1, p2), f.x = step.
@compute @workgroup_size(16, 8)
fn rof_dual(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= p.dims.x || id.y >= p.dims.y) { return; }
    let z = id.z * p.zs.x;
    dual_px((z + p.oa.x), (z + p.oa.y), (z + p.oa.z), id.x, id.y, p.dims.x, p.dims.y, p.f.x);
}

// rof_texture: oa = (f, p1, p2, out), f = (theta_s, alpha). s = f - theta div p; out = f - alpha s.
@compute @workgroup_size(16, 8)
fn rof_texture(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    if (id.x >= w || id.y >= p.dims.y) { return; }
    let z = id.z * p.zs.x;
    let i = id.y * w + id.x;
    let d = div_at((z + p.oa.y), (z + p.oa.z), id.x, id.y, w);
    let fv = m[(z + p.oa.x) + i];
    let s = fv - p.f.x * d;
    m[(z + p.oa.w) + i] = fv - p.f.y * s;
}

// blur_h: oa = (src, dst, taps, ntaps). Replicate boundary, taps summed in increasing order.
// The taps are stored once, in pair 0's block, so their offset is absolute.
@compute @workgroup_size(16, 8)
fn blur_h(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    if (id.x >= w || id.y >= p.dims.y) { return; }
    let z = id.z * p.zs.x;
    let n = p.oa.w;
    let r = i32(n / 2u);
    let row = (z + p.oa.x) + id.y * w;
    var acc = 0.0;
    for (var j = 0u; j < n; j++) {
        let xx = u32(clamp(i32(id.x) + i32(j) - r, 0, i32(w) - 1));
        acc += m[p.oa.z + j] * m[row + xx];
    }
    m[(z + p.oa.y) + id.y * w + id.x] = acc;
}

// blur_v: as blur_h along columns.
@compute @workgroup_size(16, 8)
fn blur_v(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    let h = p.dims.y;
    if (id.x >= w || id.y >= h) { return; }
    let z = id.z * p.zs.x;
    let n = p.oa.w;
    let r = i32(n / 2u);
    var acc = 0.0;
    for (var j = 0u; j < n; j++) {
        let yy = u32(clamp(i32(id.y) + i32(j) - r, 0, i32(h) - 1));
        acc += m[p.oa.z + j] * m[(z + p.oa.x) + yy * w + id.x];
    }
    m[(z + p.oa.y) + id.y * w + id.x] = acc;
}

// resample: dims = (dw, dh, sw, sh), oa = (src, dst), f = (mul, rx, ry). Centre-aligned bilinear.
@compute @workgroup_size(16, 8)
fn resample(@builtin(global_invocation_id) id: vec3<u32>) {
    let dw = p.dims.x;
    if (id.x >= dw || id.y >= p.dims.y) { return; }
    let z = id.z * p.zs.x;
    let sw = p.dims.z;
    let sh = p.dims.w;
    let sy = min(max((f32(id.y) + 0.5) * p.f.z - 0.5, 0.0), f32(sh - 1u));
    let yi = u32(sy);
    let yj = min(yi + 1u, sh - 1u);
    let fy = sy - f32(yi);
    let sx = min(max((f32(id.x) + 0.5) * p.f.y - 0.5, 0.0), f32(sw - 1u));
    let xi = u32(sx);
    let xj = min(xi + 1u, sw - 1u);
    let fx = sx - f32(xi);
    let r0 = (z + p.oa.x) + yi * sw;
    let r1 = (z + p.oa.x) + yj * sw;
    let top = m[r0 + xi] + fx * (m[r0 + xj] - m[r0 + xi]);
    let bot = m[r1 + xi] + fx * (m[r1 + xj] - m[r1 + xi]);
    m[(z + p.oa.y) + id.y * dw + id.x] = p.f.x * (top + fy * (bot - top));
}

// gradient: oa = (src, gx, gy). Central differences, replicate boundary.
@compute @workgroup_size(16, 8)
fn gradient(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    let h = p.dims.y;
    if (id.x >= w || id.y >= h) { return; }
    let z = id.z * p.zs.x;
    let x = id.x;
    let y = id.y;
    let s = (z + p.oa.x);
    let row = s + y * w;
    let xr = min(x + 1u, w - 1u);
    let xl = select(x - 1u, 0u, x == 0u);
    let yd = min(y + 1u, h - 1u);
    let yu = select(y - 1u, 0u, y == 0u);
    let i = y * w + x;
    m[(z + p.oa.y) + i] = 0.5 * (m[row + xr] - m[row + xl]);
    m[(z + p.oa.z) + i] = 0.5 * (m[s + yd * w + x] - m[s + yu * w + x]);
}

fn cubic_weights(t: f32) -> vec4<f32> {
    return vec4<f32>(
        ((-0.5 * t + 1.0) * t - 0.5) * t,
        (1.5 * t - 2.5) * t * t + 1.0,
        ((-1.5 * t + 2.0) * t + 0.5) * t,
        (0.5 * t - 0.5) * t * t,
    );
}

fn row4(b: u32, xs: vec4<u32>, wx: vec4<f32>) -> f32 {
    return wx.x * m[b + xs.x] + wx.y * m[b + xs.y] + wx.z * m[b + xs.z] + wx.w * m[b + xs.w];
}

fn bicubic(img: u32, w: u32, xs: vec4<u32>, ys: vec4<u32>, wx: vec4<f32>, wy: vec4<f32>) -> f32 {
    var acc = 0.0;
    acc += wy.x * row4(img + ys.x * w, xs, wx);
    acc += wy.y * row4(img + ys.y * w, xs, wx);
    acc += wy.z * row4(img + ys.z * w, xs, wx);
    acc += wy.w * row4(img + ys.w * w, xs, wx);
    return acc;
}

fn bilinear(img: u32, w: u32, x0: u32, x1: u32, y0: u32, y1: u32, tx: f32, ty: f32) -> f32 {
    let a = m[img + y0 * w + x0];
    let b = m[img + y0 * w + x1];
    let c = m[img + y1 * w + x0];
    let d = m[img + y1 * w + x1];
    let top = a + tx * (b - a);
    let bot = c + tx * (d - c);
    return top + ty * (bot - top);
}

// warp: oa = (i0, i1, i1x, i1y), ob = (u1, u2, _, bicubic), oc = (gx, gy, rho_c, inv_g2).
@compute @workgroup_size(16, 8)
fn warp(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    let h = p.dims.y;
    if (id.x >= w || id.y >= h) { return; }
    let z = id.z * p.zs.x;
    let i = id.y * w + id.x;
    let u1 = m[(z + p.ob.x) + i];
    let u2 = m[(z + p.ob.y) + i];
    let wf = f32(w);
    let hf = f32(h);
    let sx = min(max(f32(id.x) + u1, -2.0), wf + 1.0);
    let sy = min(max(f32(id.y) + u2, -2.0), hf + 1.0);
    let fx = floor(sx);
    let fy = floor(sy);
    let tx = sx - fx;
    let ty = sy - fy;
    let xi = vec4<i32>(i32(fx)) + vec4<i32>(-1, 0, 1, 2);
    let yi = vec4<i32>(i32(fy)) + vec4<i32>(-1, 0, 1, 2);
    let xs = vec4<u32>(clamp(xi, vec4<i32>(0), vec4<i32>(i32(w) - 1)));
    let ys = vec4<u32>(clamp(yi, vec4<i32>(0), vec4<i32>(i32(h) - 1)));
    var iw: f32;
    var gx: f32;
    var gy: f32;
    if (p.ob.w != 0u) {
        let wx = cubic_weights(tx);
        let wy = cubic_weights(ty);
        iw = bicubic((z + p.oa.y), w, xs, ys, wx, wy);
        gx = bicubic((z + p.oa.z), w, xs, ys, wx, wy);
        gy = bicubic((z + p.oa.w), w, xs, ys, wx, wy);
    } else {
        iw = bilinear((z + p.oa.y), w, xs.y, xs.z, ys.y, ys.z, tx, ty);
        gx = bilinear((z + p.oa.z), w, xs.y, xs.z, ys.y, ys.z, tx, ty);
        gy = bilinear((z + p.oa.w), w, xs.y, xs.z, ys.y, ys.z, tx, ty);
    }
    let inside = sx >= 0.0 && sx <= wf - 1.0 && sy >= 0.0 && sy <= hf - 1.0;
    if (!inside) {
        gx = 0.0;
        gy = 0.0;
    }
    let g2 = gx * gx + gy * gy;
    m[(z + p.oc.x) + i] = gx;
    m[(z + p.oc.y) + i] = gy;
    m[(z + p.oc.z) + i] = ((iw - gx * u1) - gy * u2) - m[(z + p.oa.x) + i];
    m[(z + p.oc.w) + i] = select(0.0, 1.0 / g2, g2 > 1e-10);
}

// primal: oa = (gx, gy, rho_c, inv_g2), ob = (p11, p12, p21, p22), oc = (u1, u2), f = (lt, theta).
@compute @workgroup_size(16, 8)
fn primal(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    if (id.x >= w || id.y >= p.dims.y) { return; }
    let z = id.z * p.zs.x;
    let i = id.y * w + id.x;
    let d1 = div_at((z + p.ob.x), (z + p.ob.y), id.x, id.y, w);
    let d2 = div_at((z + p.ob.z), (z + p.ob.w), id.x, id.y, w);
    let gx = m[(z + p.oa.x) + i];
    let gy = m[(z + p.oa.y) + i];
    let a = m[(z + p.oc.x) + i];
    let b = m[(z + p.oc.y) + i];
    let lt = p.f.x;
    let rho = (m[(z + p.oa.z) + i] + gx * a) + gy * b;
    var f = -rho * m[(z + p.oa.w) + i];
    if (f < -lt) { f = -lt; }
    if (f > lt) { f = lt; }
    m[(z + p.oc.x) + i] = (a + f * gx) + p.f.y * d1;
    m[(z + p.oc.y) + i] = (b + f * gy) + p.f.y * d2;
}

// dual: oa = (u1, u2), ob = (p11, p12, p21, p22), f.x = tau / theta.
@compute @workgroup_size(16, 8)
fn dual(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    let h = p.dims.y;
    if (id.x >= w || id.y >= h) { return; }
    let z = id.z * p.zs.x;
    dual_px((z + p.oa.x), (z + p.ob.x), (z + p.ob.y), id.x, id.y, w, h, p.f.x);
    dual_px((z + p.oa.y), (z + p.ob.z), (z + p.ob.w), id.x, id.y, w, h, p.f.x);
}

// median: oa = (src1, src2, dst1, dst2); `median_of` is generated by the host.
@compute @workgroup_size(16, 8)
fn median(@builtin(global_invocation_id) id: vec3<u32>) {
    let w = p.dims.x;
    let h = p.dims.y;
    if (id.x >= w || id.y >= h) { return; }
    let z = id.z * p.zs.x;
    let i = id.y * w + id.x;
    m[(z + p.oa.z) + i] = median_of((z + p.oa.x), i32(id.x), i32(id.y), w, h);
    m[(z + p.oa.w) + i] = median_of((z + p.oa.y), i32(id.x), i32(id.y), w, h);
}
