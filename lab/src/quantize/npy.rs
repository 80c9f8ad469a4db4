//! Clip sets written as NumPy `.npy` files, so Python peers (onnxruntime's own static
//! quantizer, the cross-check scripts) calibrate and score on exactly the clips motus used.
//! Per set: `<input>.npy` (`[clips, ...]` f32, one per model input) and `clips.json`
//! (`video` and `label` of each clip).

use std::io::Write;
use std::path::Path;

use super::clips::ClipSet;

/// Writes one `.npy` (format 1.0, little-endian f32, C order).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> std::io::Result<()> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_txt = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let pad = 64 - (10 + header.len() + 1) % 64;
    header.push_str(&" ".repeat(pad % 64));
    header.push('\n');
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(b"\x93NUMPY\x01\x00")?;
    f.write_all(&(header.len() as u16).to_le_bytes())?;
    f.write_all(header.as_bytes())?;
    for v in data {
        f.write_all(&v.to_le_bytes())?;
    }
    f.flush()
}

/// Writes `set` into `dir` (created if needed).
pub fn write_clip_set(dir: &Path, set: &ClipSet) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let Some(first) = set.clips.first() else { return Ok(()) };
    for (k, input) in first.inputs.iter().enumerate() {
        let mut shape = vec![set.clips.len()];
        shape.extend(&input.shape[1..]);
        let data: Vec<f32> = set.clips.iter().flat_map(|c| c.inputs[k].data.iter().copied()).collect();
        write_npy(&dir.join(format!("{}.npy", input.name)), &shape, &data)?;
    }
    let meta: Vec<serde_json::Value> =
        set.clips.iter().map(|c| serde_json::json!({"video": c.video, "label": c.label})).collect();
    std::fs::write(dir.join("clips.json"), serde_json::to_string(&meta)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn npy_header_is_aligned_and_data_follows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        super::write_npy(&p, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let b = std::fs::read(&p).unwrap();
        let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hl) % 64, 0);
        let header = std::str::from_utf8(&b[10..10 + hl]).unwrap();
        assert!(header.contains("'shape': (2, 3)") && header.ends_with('\n'), "{header}");
        assert_eq!(b.len(), 10 + hl + 24);
        assert_eq!(f32::from_le_bytes(b[10 + hl..14 + hl].try_into().unwrap()), 1.0);
    }
}
