/// Integer types an ONNX quantized tensor can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    /// Signed 8-bit, symmetric around 0: weights (so zero needs no correction term in the
    /// integer convolution).
    S8,
    /// Unsigned 8-bit with a zero point: activations after ReLU use the whole range.
    U8,
}

impl QType {
    fn range(self) -> (i32, i32) {
        match self {
            QType::S8 => (-127, 127),
            QType::U8 => (0, 255),
        }
    }
}

/// Why a range cannot be quantized.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QuantError {
    #[error("range [{min}, {max}] is not finite; calibration saw inf or NaN activations")]
    NonFinite { min: f32, max: f32 },
    #[error("range [{min}, {max}] is inverted")]
    Inverted { min: f32, max: f32 },
    #[error("{len} weights cannot be split into {channels} output channels")]
    ChannelSplit { len: usize, channels: usize },
}

/// One affine mapping between reals and integers: `real = scale * (q - zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantParams {
    pub scale: f32,
    pub zero_point: i32,
    pub qtype: QType,
}

/// Smallest scale used for an all-zero range, so dequantisation never divides by zero.
const MIN_SCALE: f32 = 1e-8;

impl QuantParams {
    /// Symmetric signed mapping covering `[-absmax, absmax]` with zero point 0 (weights).
    pub fn symmetric(absmax: f32) -> Result<Self, QuantError> {
        if !absmax.is_finite() {
            return Err(QuantError::NonFinite { min: -absmax, max: absmax });
        }
        let absmax = absmax.abs();
        Ok(QuantParams { scale: (absmax / 127.0).max(MIN_SCALE), zero_point: 0, qtype: QType::S8 })
    }

    /// Unsigned mapping covering `[min, max]`, widened to include 0 so that zero padding
    /// and ReLU's zeros are represented exactly (activations).
    pub fn asymmetric(min: f32, max: f32) -> Result<Self, QuantError> {
        if !(min.is_finite() && max.is_finite()) {
            return Err(QuantError::NonFinite { min, max });
        }
        if min > max {
            return Err(QuantError::Inverted { min, max });
        }
        let (lo, hi) = (min.min(0.0), max.max(0.0));
        let scale = ((hi - lo) / 255.0).max(MIN_SCALE);
        let zero_point = (-lo / scale).round().clamp(0.0, 255.0) as i32;
        Ok(QuantParams { scale, zero_point, qtype: QType::U8 })
    }

    /// Rounds to the nearest level and saturates at the type's limits.
    pub fn quantize(&self, x: f32) -> i32 {
        let (lo, hi) = self.qtype.range();
        ((x / self.scale).round() as i32 + self.zero_point).clamp(lo, hi)
    }

    /// The real value a level stands for.
    pub fn dequantize(&self, q: i32) -> f32 {
        self.scale * (q - self.zero_point) as f32
    }
}

/// Per-output-channel symmetric parameters for a weight tensor laid out with the output
/// channel first (ONNX Conv's `M x C x kH x kW`). Per-channel scales keep a channel with
/// small weights from being rounded to zero by a neighbour with large ones.
pub fn per_channel_symmetric(weights: &[f32], channels: usize) -> Result<Vec<QuantParams>, QuantError> {
    if channels == 0 || !weights.len().is_multiple_of(channels) {
        return Err(QuantError::ChannelSplit { len: weights.len(), channels });
    }
    weights
        .chunks_exact(weights.len() / channels)
        .map(|c| {
            QuantParams::symmetric(c.iter().fold(0.0f32, |m, &v| if v.is_nan() { f32::NAN } else { m.max(v.abs()) }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_exact_and_error_is_half_a_step() {
        let p = QuantParams::asymmetric(-0.7, 2.3).unwrap();
        assert_eq!(p.dequantize(p.quantize(0.0)), 0.0);
        for i in 0..=300 {
            let x = -0.7 + 3.0 * i as f32 / 300.0;
            let err = (p.dequantize(p.quantize(x)) - x).abs();
            assert!(err <= p.scale / 2.0 + 1e-6, "x={x} err={err} scale={}", p.scale);
        }
    }

    #[test]
    fn positive_only_range_still_holds_zero() {
        let p = QuantParams::asymmetric(0.5, 4.0).unwrap();
        assert_eq!(p.zero_point, 0);
        assert_eq!(p.quantize(4.0), 255);
        assert_eq!(p.quantize(100.0), 255, "saturates");
    }

    #[test]
    fn symmetric_uses_zero_point_zero() {
        let p = QuantParams::symmetric(2.54).unwrap();
        assert_eq!(p.zero_point, 0);
        assert_eq!(p.quantize(2.54), 127);
        assert_eq!(p.quantize(-2.54), -127);
        assert_eq!(p.quantize(-9.0), -127);
        assert!(QuantParams::symmetric(0.0).unwrap().scale > 0.0);
    }

    #[test]
    fn per_channel_scales_follow_each_channel() {
        let w = [0.01, -0.02, 0.015, 0.0, 5.0, -3.0, 1.0, 0.5];
        let ps = per_channel_symmetric(&w, 2).unwrap();
        assert!((ps[0].scale - 0.02 / 127.0).abs() < 1e-9);
        assert!((ps[1].scale - 5.0 / 127.0).abs() < 1e-7);
        assert_eq!(per_channel_symmetric(&w, 3), Err(QuantError::ChannelSplit { len: 8, channels: 3 }));
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(matches!(QuantParams::asymmetric(f32::NAN, 1.0), Err(QuantError::NonFinite { .. })));
        assert!(matches!(QuantParams::asymmetric(2.0, 1.0), Err(QuantError::Inverted { .. })));
        assert!(matches!(QuantParams::symmetric(f32::INFINITY), Err(QuantError::NonFinite { .. })));
        assert!(per_channel_symmetric(&[1.0, f32::NAN], 1).is_err());
    }
}
