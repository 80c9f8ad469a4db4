//! Middlebury `.flo` files: the interchange format of optical-flow ground truth and of cached
//! flow for training, so our fields can be checked against public data and other tools.
//!
//! Layout (little-endian): `f32` magic 202021.25, `i32` width, `i32` height, then
//! `width * height` interleaved `(u, v)` `f32` pairs, row-major.

use super::{field::FlowField, FlowError};
use std::path::Path;

/// The `.flo` magic number ("PIEH" as bytes), checked to reject other files early.
pub const FLO_MAGIC: f32 = 202021.25;
/// Largest side accepted when reading, so a corrupt header cannot trigger a huge allocation.
pub const FLO_MAX_SIDE: u32 = 1 << 15;

/// Parses `.flo` bytes; `path` is only used to name the source in errors.
///
/// NaN is rejected. The unknown marker (any value with magnitude > 1e9, including infinities)
/// is kept as read; use [`FlowField::valid_mask`] or [`FlowField::epe`] to skip it.
pub fn parse_flo(bytes: &[u8], path: &Path) -> Result<FlowField, FlowError> {
    let p = || path.to_path_buf();
    if bytes.len() < 12 {
        return Err(FlowError::Truncated { path: p(), expected: 12, found: bytes.len() as u64 });
    }
    let magic = f32::from_le_bytes(bytes[0..4].try_into().unwrap());
    if magic != FLO_MAGIC {
        return Err(FlowError::BadMagic { path: p(), found: magic });
    }
    let w = i32::from_le_bytes(bytes[4..8].try_into().unwrap()) as i64;
    let h = i32::from_le_bytes(bytes[8..12].try_into().unwrap()) as i64;
    let max = FLO_MAX_SIDE as i64;
    if w < 1 || h < 1 || w > max || h > max {
        return Err(FlowError::AbsurdSize { path: p(), width: w, height: h, max: FLO_MAX_SIDE });
    }
    let n = (w * h) as usize;
    let expected = 12 + 8 * n as u64;
    if (bytes.len() as u64) < expected {
        return Err(FlowError::Truncated { path: p(), expected, found: bytes.len() as u64 });
    }
    if (bytes.len() as u64) > expected {
        return Err(FlowError::TrailingData { path: p(), expected, found: bytes.len() as u64 });
    }
    let mut f = FlowField::zeros(w as u32, h as u32);
    for (i, pair) in bytes[12..].chunks_exact(8).enumerate() {
        let u = f32::from_le_bytes(pair[0..4].try_into().unwrap());
        let v = f32::from_le_bytes(pair[4..8].try_into().unwrap());
        if u.is_nan() || v.is_nan() {
            return Err(FlowError::NonFinite { path: p(), x: (i % w as usize) as u32, y: (i / w as usize) as u32 });
        }
        f.u[i] = u;
        f.v[i] = v;
    }
    Ok(f)
}

/// Reads a `.flo` file (see [`parse_flo`] for what is accepted).
pub fn read_flo(path: impl AsRef<Path>) -> Result<FlowField, FlowError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| FlowError::Io { path: path.to_path_buf(), source })?;
    parse_flo(&bytes, path)
}

/// Serialises a field to `.flo` bytes; fails on an inconsistent or oversized field.
pub fn encode_flo(field: &FlowField) -> Result<Vec<u8>, FlowError> {
    let n = field.len();
    if field.width == 0 || field.height == 0 || field.width > FLO_MAX_SIDE || field.height > FLO_MAX_SIDE {
        return Err(FlowError::BadField(format!("size {}x{} not writable as .flo", field.width, field.height)));
    }
    if field.u.len() != n || field.v.len() != n {
        return Err(FlowError::BadField(format!(
            "planes hold {} and {} values for {}x{}",
            field.u.len(),
            field.v.len(),
            field.width,
            field.height
        )));
    }
    let mut out = Vec::with_capacity(12 + 8 * n);
    out.extend_from_slice(&FLO_MAGIC.to_le_bytes());
    out.extend_from_slice(&(field.width as i32).to_le_bytes());
    out.extend_from_slice(&(field.height as i32).to_le_bytes());
    for (u, v) in field.u.iter().zip(&field.v) {
        out.extend_from_slice(&u.to_le_bytes());
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Writes a `.flo` file, e.g. to cache flow for training or to compare with other tools.
pub fn write_flo(path: impl AsRef<Path>, field: &FlowField) -> Result<(), FlowError> {
    let path = path.as_ref();
    let bytes = encode_flo(field)?;
    std::fs::write(path, bytes).map_err(|source| FlowError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FlowField {
        FlowField {
            width: 3,
            height: 2,
            u: vec![0.0, 1.5, -2.0, 1e10, 3.25, -0.5],
            v: vec![0.5, -1.0, 2.0, 1e10, 0.0, f32::INFINITY],
        }
    }

    #[test]
    fn round_trip_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.flo");
        write_flo(&path, &sample()).unwrap();
        let back = read_flo(&path).unwrap();
        assert_eq!(back, sample());
        assert_eq!(back.valid_mask(), vec![true, true, true, false, true, false]);
    }

    #[test]
    fn corrupt_files_are_rejected() {
        let good = encode_flo(&sample()).unwrap();
        let p = Path::new("x.flo");
        // Every truncation, including inside the header.
        for len in 0..good.len() {
            let e = parse_flo(&good[..len], p).unwrap_err();
            assert!(matches!(e, FlowError::Truncated { .. }), "len {len}: {e}");
            assert!(e.to_string().contains("x.flo"));
        }
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(parse_flo(&long, p), Err(FlowError::TrailingData { .. })));
        let mut bad = good.clone();
        bad[0] ^= 1;
        assert!(matches!(parse_flo(&bad, p), Err(FlowError::BadMagic { .. })));
        for (w, h) in [(0i32, 2i32), (3, -1), (1 << 16, 1), (1, i32::MAX)] {
            let mut b = good.clone();
            b[4..8].copy_from_slice(&w.to_le_bytes());
            b[8..12].copy_from_slice(&h.to_le_bytes());
            assert!(matches!(parse_flo(&b, p), Err(FlowError::AbsurdSize { .. })), "{w}x{h}");
        }
        let mut nan = good.clone();
        nan[12 + 8 * 4 + 4..12 + 8 * 4 + 8].copy_from_slice(&f32::NAN.to_le_bytes());
        let e = parse_flo(&nan, p).unwrap_err();
        assert!(matches!(e, FlowError::NonFinite { x: 1, y: 1, .. }), "{e}");
        assert!(matches!(read_flo("/nonexistent/y.flo"), Err(FlowError::Io { .. })));
    }

    #[test]
    fn inconsistent_field_not_written() {
        let mut f = sample();
        f.u.pop();
        assert!(matches!(encode_flo(&f), Err(FlowError::BadField(_))));
        assert!(encode_flo(&FlowField::zeros(0, 0)).is_err());
    }
}
