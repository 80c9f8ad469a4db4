//! Reading and writing the ONNX initializers the quantizer touches: f32 weights in, i8 / u8 /
//! i32 / f32 tensors out (always as little-endian `raw_data`, which every runtime reads).

use motus_models::onnx::proto::{data_type, TensorProto};

/// The f32 values of an initializer (`raw_data` or `float_data`), or `None` when it holds
/// another type: such a weight is left in float by the caller.
pub fn f32_values(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_type != data_type::FLOAT {
        return None;
    }
    if !t.raw_data.is_empty() {
        if !t.raw_data.len().is_multiple_of(4) {
            return None;
        }
        return Some(t.raw_data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect());
    }
    Some(t.float_data.clone())
}

/// The dims of an initializer as `usize`.
pub fn dims(t: &TensorProto) -> Vec<usize> {
    t.dims.iter().map(|&d| d.max(0) as usize).collect()
}

fn raw(name: &str, dims: &[usize], dt: i32, raw_data: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: dt,
        raw_data,
        ..Default::default()
    }
}

/// An f32 tensor (`dims` empty for a scalar).
pub fn f32_tensor(name: &str, dims: &[usize], v: &[f32]) -> TensorProto {
    raw(name, dims, data_type::FLOAT, v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

/// An i8 tensor.
pub fn i8_tensor(name: &str, dims: &[usize], v: &[i8]) -> TensorProto {
    raw(name, dims, data_type::INT8, v.iter().map(|&x| x as u8).collect())
}

/// A u8 tensor.
pub fn u8_tensor(name: &str, dims: &[usize], v: &[u8]) -> TensorProto {
    raw(name, dims, data_type::UINT8, v.to_vec())
}

/// An i32 tensor.
pub fn i32_tensor(name: &str, dims: &[usize], v: &[i32]) -> TensorProto {
    raw(name, dims, data_type::INT32, v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_round_trip_and_other_types_refused() {
        let t = f32_tensor("w", &[2, 2], &[1.0, -2.5, 0.0, 3.25]);
        assert_eq!(f32_values(&t).unwrap(), vec![1.0, -2.5, 0.0, 3.25]);
        assert_eq!(dims(&t), vec![2, 2]);
        let legacy = TensorProto { data_type: data_type::FLOAT, float_data: vec![7.0], ..Default::default() };
        assert_eq!(f32_values(&legacy).unwrap(), vec![7.0]);
        assert_eq!(f32_values(&i8_tensor("q", &[2], &[-1, 1])), None);
        assert_eq!(i8_tensor("q", &[2], &[-1, 1]).raw_data, vec![255, 1]);
        assert_eq!(i32_tensor("b", &[1], &[-2]).raw_data, (-2i32).to_le_bytes().to_vec());
    }
}
