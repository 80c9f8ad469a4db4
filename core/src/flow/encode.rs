//! The flow encoding the temporal-stream models consume: clipped to ±bound, scaled to `u8`
//! (storage / quantised input) or `f32` in [-1, 1], stacked L fields deep as 2L CHW planes.
//! One implementation shared by training, evaluation and the device so the encoding cannot skew.

use super::{FlowError, FlowField};

/// Default clipping bound in pixels (the two-stream literature clips TV-L1 flow at ±20 px).
pub const DEFAULT_BOUND: f32 = 20.0;

/// Clips one displacement to ±`bound`; NaN becomes 0 so a bad pixel cannot poison a tensor.
#[inline]
pub fn clip(x: f32, bound: f32) -> f32 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-bound, bound)
    }
}

/// Encodes one displacement as `u8`: `round(128 + clip(x) * 127 / bound)`, so 0 maps to 128
/// and ±bound to 255 / 1 (saturating; 0 is never produced).
#[inline]
pub fn to_u8(x: f32, bound: f32) -> u8 {
    (128.0 + clip(x, bound) * 127.0 / bound).round().clamp(0.0, 255.0) as u8
}

/// Decodes a `u8` back to pixels: `(q - 128) * bound / 127`; the inverse of [`to_u8`] to
/// within `bound / 254`, for flow stored as images and read back for training.
#[inline]
pub fn from_u8(q: u8, bound: f32) -> f32 {
    (q as f32 - 128.0) * bound / 127.0
}

/// Encodes one displacement as `f32` in [-1, 1]: `clip(x) / bound`.
#[inline]
pub fn to_unit(x: f32, bound: f32) -> f32 {
    clip(x, bound) / bound
}

/// Subtracts each component's mean (NaN-free values only) from every pixel: the camera's
/// global motion leaves, the actors' relative motion stays. Applied per field, over the region
/// the model sees, before clipping.
pub fn subtract_mean(u: &mut [f32], v: &mut [f32]) {
    for plane in [u, v] {
        let mean = finite_mean(plane);
        plane.iter_mut().for_each(|x| *x -= mean);
    }
}

/// Mean of the finite values of one flow component (0 when there are none).
pub fn finite_mean(values: &[f32]) -> f32 {
    let (sum, n) = values.iter().filter(|x| x.is_finite()).fold((0f64, 0usize), |(s, n), &x| (s + x as f64, n + 1));
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}

/// Returns a copy of `field` with both components clipped to ±`bound`.
pub fn clip_field(field: &FlowField, bound: f32) -> FlowField {
    FlowField {
        width: field.width,
        height: field.height,
        u: field.u.iter().map(|&x| clip(x, bound)).collect(),
        v: field.v.iter().map(|&x| clip(x, bound)).collect(),
    }
}

/// Checks a bound and that all fields share one consistent size; the stackers need both.
fn check_stack(fields: &[&FlowField], bound: f32) -> Result<usize, FlowError> {
    if !(bound > 0.0 && bound.is_finite()) {
        return Err(FlowError::BadField(format!("bound must be positive and finite, got {bound}")));
    }
    let first = fields.first().ok_or_else(|| FlowError::BadField("no fields to stack".into()))?;
    for (i, f) in fields.iter().enumerate() {
        if f.width != first.width || f.height != first.height {
            return Err(FlowError::BadField(format!(
                "field {i} is {}x{}, field 0 is {}x{}",
                f.width, f.height, first.width, first.height
            )));
        }
        if f.u.len() != f.len() || f.v.len() != f.len() {
            return Err(FlowError::BadField(format!("field {i} planes do not match its size")));
        }
    }
    Ok(first.len())
}

/// Stacks L fields into 2L `u8` planes, CHW: `x0, y0, x1, y1, …` (see [`to_u8`]).
pub fn stack_u8(fields: &[&FlowField], bound: f32) -> Result<Vec<u8>, FlowError> {
    let n = check_stack(fields, bound)?;
    let mut out = Vec::with_capacity(2 * n * fields.len());
    for f in fields {
        out.extend(f.u.iter().map(|&x| to_u8(x, bound)));
        out.extend(f.v.iter().map(|&x| to_u8(x, bound)));
    }
    Ok(out)
}

/// Stacks L fields into 2L `f32` planes in [-1, 1], CHW: `x0, y0, x1, y1, …` (see [`to_unit`]).
pub fn stack_f32(fields: &[&FlowField], bound: f32) -> Result<Vec<f32>, FlowError> {
    let n = check_stack(fields, bound)?;
    let mut out = Vec::with_capacity(2 * n * fields.len());
    for f in fields {
        out.extend(f.u.iter().map(|&x| to_unit(x, bound)));
        out.extend(f.v.iter().map(|&x| to_unit(x, bound)));
    }
    Ok(out)
}

/// Decodes 2 `u8` planes (x then y) back to a field, for flow stored as 8-bit images.
pub fn decode_u8(width: u32, height: u32, planes: &[u8], bound: f32) -> Result<FlowField, FlowError> {
    let n = width as usize * height as usize;
    if planes.len() != 2 * n {
        return Err(FlowError::BadField(format!("{} bytes for two {width}x{height} planes", planes.len())));
    }
    Ok(FlowField {
        width,
        height,
        u: planes[..n].iter().map(|&q| from_u8(q, bound)).collect(),
        v: planes[n..].iter().map(|&q| from_u8(q, bound)).collect(),
    })
}

/// Mirrors a field left-right, as horizontal-flip augmentation must: columns are reversed and
/// `u` is negated (motion to the right becomes motion to the left); `v` is unchanged.
pub fn flip_horizontal(field: &FlowField) -> FlowField {
    let w = field.width as usize;
    let mut out = field.clone();
    if w == 0 {
        return out;
    }
    for (dst, src) in out.u.chunks_exact_mut(w).zip(field.u.chunks_exact(w)) {
        for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
            *d = -*s;
        }
    }
    for (dst, src) in out.v.chunks_exact_mut(w).zip(field.v.chunks_exact(w)) {
        for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
            *d = *s;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_subtraction_removes_a_global_shift_and_keeps_relative_motion() {
        let mut u = vec![3.0f32, 3.0, 3.0, 7.0];
        let mut v = vec![-1.0f32, -1.0, f32::NAN, -1.0];
        subtract_mean(&mut u, &mut v);
        assert_eq!(u, vec![-1.0, -1.0, -1.0, 3.0]);
        assert_eq!(v[0], 0.0);
        assert!(v[2].is_nan(), "NaN stays for clip() to zero");
    }

    #[test]
    fn clip_and_scale() {
        assert_eq!(clip(25.0, 20.0), 20.0);
        assert_eq!(clip(-25.0, 20.0), -20.0);
        assert_eq!(clip(f32::NAN, 20.0), 0.0);
        assert_eq!(to_u8(0.0, 20.0), 128);
        assert_eq!(to_u8(20.0, 20.0), 255);
        assert_eq!(to_u8(1e10, 20.0), 255);
        assert_eq!(to_u8(-20.0, 20.0), 1);
        assert_eq!(to_u8(-1e10, 20.0), 1);
        assert_eq!(to_unit(40.0, 20.0), 1.0);
        assert_eq!(to_unit(-10.0, 20.0), -0.5);
    }

    #[test]
    fn u8_round_trip_error_bounded() {
        let bound = 20.0;
        let n = 4001;
        let xs: Vec<f32> = (0..n).map(|i| -bound + 2.0 * bound * i as f32 / (n - 1) as f32).collect();
        let f = FlowField { width: n as u32, height: 1, u: xs.clone(), v: xs.iter().map(|x| -x).collect() };
        let planes = stack_u8(&[&f], bound).unwrap();
        let back = decode_u8(f.width, 1, &planes, bound).unwrap();
        for i in 0..n {
            assert!((back.u[i] - f.u[i]).abs() <= bound / 127.0, "{} -> {}", f.u[i], back.u[i]);
            assert!((back.v[i] - f.v[i]).abs() <= bound / 127.0);
        }
    }

    #[test]
    fn stacking_layout_and_errors() {
        let a = FlowField { width: 2, height: 1, u: vec![20.0, 0.0], v: vec![-20.0, 0.0] };
        let b = FlowField { width: 2, height: 1, u: vec![10.0, 0.0], v: vec![0.0, 5.0] };
        let s = stack_f32(&[&a, &b], 20.0).unwrap();
        assert_eq!(s, vec![1.0, 0.0, -1.0, 0.0, 0.5, 0.0, 0.0, 0.25]);
        assert_eq!(stack_u8(&[&a, &b], 20.0).unwrap().len(), 8);
        let c = FlowField::zeros(3, 1);
        assert!(stack_u8(&[&a, &c], 20.0).is_err());
        assert!(stack_u8(&[], 20.0).is_err());
        assert!(stack_f32(&[&a], 0.0).is_err());
        assert!(decode_u8(2, 1, &[0; 3], 20.0).is_err());
    }

    #[test]
    fn flip_negates_u_and_mirrors() {
        let f = FlowField {
            width: 3,
            height: 2,
            u: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            v: vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        };
        let g = flip_horizontal(&f);
        assert_eq!(g.u, vec![-3.0, -2.0, -1.0, -6.0, -5.0, -4.0]);
        assert_eq!(g.v, vec![0.3, 0.2, 0.1, 0.6, 0.5, 0.4]);
        assert_eq!(flip_horizontal(&g), f);
        let c = clip_field(&FlowField { width: 1, height: 1, u: vec![30.0], v: vec![-30.0] }, 20.0);
        assert_eq!((c.u[0], c.v[0]), (20.0, -20.0));
    }
}
