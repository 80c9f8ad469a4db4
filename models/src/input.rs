use serde::{Deserialize, Serialize};

/// Why a contract was refused: an input description that no preprocessing could honour.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ContractError {
    /// A size, length or stride of zero would make every later stage divide by zero or emit
    /// empty tensors, so it is refused where it is declared.
    #[error("{field} must be at least 1, got {value}")]
    Zero { field: &'static str, value: u32 },
    /// Per-channel statistics must cover exactly the three RGB channels.
    #[error("normalization {field} needs 3 values (R, G, B), got {got}")]
    ChannelCount { field: &'static str, got: usize },
    /// A non-positive or non-finite std would turn pixels into inf or NaN.
    #[error("normalization std[{channel}] must be finite and > 0, got {value}")]
    BadStd { channel: usize, value: f32 },
    /// A non-finite mean poisons every pixel of the channel.
    #[error("normalization mean[{channel}] must be finite, got {value}")]
    BadMean { channel: usize, value: f32 },
    /// A frame rate outside what any camera delivers would make every clip span no time or
    /// hours; it is refused where it is declared.
    #[error("fps must be a number of frames per second in {MIN_FPS}..={MAX_FPS}, got {0}")]
    BadFps(f64),
}

/// The lowest frame rate a card may declare: below one frame a second there is no motion left
/// to classify.
pub const MIN_FPS: f64 = 1.0;
/// The highest frame rate a card may declare (high-speed cameras aside, nothing runs faster).
pub const MAX_FPS: f64 = 240.0;

/// Per-channel normalisation applied to RGB values scaled to `[0, 1]`:
/// `x = (v / 255 - mean[c]) / std[c]`.
///
/// Kept as data (not a named preset) so a model exported by another tool can state its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalization {
    /// The ImageNet statistics most 2D backbones were pretrained with.
    pub fn imagenet() -> Self {
        Normalization { mean: vec![0.485, 0.456, 0.406], std: vec![0.229, 0.224, 0.225] }
    }

    /// Maps `[0, 255]` to `[-1, 1]`, the usual choice for networks trained from scratch.
    pub fn symmetric() -> Self {
        Normalization { mean: vec![0.5; 3], std: vec![0.5; 3] }
    }

    /// Checks that applying these statistics can never produce a non-finite value.
    pub fn validate(&self) -> Result<(), ContractError> {
        if self.mean.len() != 3 {
            return Err(ContractError::ChannelCount { field: "mean", got: self.mean.len() });
        }
        if self.std.len() != 3 {
            return Err(ContractError::ChannelCount { field: "std", got: self.std.len() });
        }
        for (channel, &value) in self.mean.iter().enumerate() {
            if !value.is_finite() {
                return Err(ContractError::BadMean { channel, value });
            }
        }
        for (channel, &value) in self.std.iter().enumerate() {
            if !(value.is_finite() && value > 0.0) {
                return Err(ContractError::BadStd { channel, value });
            }
        }
        Ok(())
    }

    /// Per-channel `(scale, offset)` such that `x = v * scale + offset` for a u8 value `v`:
    /// one multiply-add per pixel in the hot path instead of a divide.
    pub fn affine_u8(&self) -> [(f32, f32); 3] {
        let mut out = [(0.0, 0.0); 3];
        for (c, slot) in out.iter_mut().enumerate() {
            let scale = 1.0 / (255.0 * self.std[c]);
            *slot = (scale, -self.mean[c] / self.std[c]);
        }
        out
    }
}

/// How frames are picked from a video to make one clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipSpec {
    /// Frames per clip, as the network sees them (e.g. 16 for C3D, 1 for a single-frame model).
    pub clip_len: u32,
    /// Distance in source frames between consecutive clip frames (1 = consecutive).
    pub frame_stride: u32,
}

impl ClipSpec {
    /// Checks both fields are usable.
    pub fn validate(&self) -> Result<(), ContractError> {
        if self.clip_len == 0 {
            return Err(ContractError::Zero { field: "clip_len", value: 0 });
        }
        if self.frame_stride == 0 {
            return Err(ContractError::Zero { field: "frame_stride", value: 0 });
        }
        Ok(())
    }

    /// Source frames one clip spans from its first to its last frame, inclusive.
    pub fn span(&self) -> u32 {
        (self.clip_len - 1) * self.frame_stride + 1
    }
}

/// Checks a frame rate is one a clip can be sampled at ([`MIN_FPS`]..=[`MAX_FPS`], finite).
pub fn check_fps(fps: f64) -> Result<f64, ContractError> {
    if fps.is_finite() && (MIN_FPS..=MAX_FPS).contains(&fps) {
        Ok(fps)
    } else {
        Err(ContractError::BadFps(fps))
    }
}

/// The full input contract of a model: clip sampling, spatial size and normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub clip: ClipSpec,
    /// Square side, in pixels, of the crop the network sees.
    pub input_size: u32,
    /// Side the shorter edge is resized to before cropping (e.g. 128 before a 112 crop).
    pub resize_short: u32,
    pub normalization: Normalization,
    /// Frames per second the model's clips were sampled at: every path that builds clips picks
    /// frames by timestamp at this rate, whatever the source's own rate, so a clip spans the
    /// same time and the same motion per step as in training. `None` in cards written before
    /// rates were recorded (and in sidecars that do not say): clips then take consecutive
    /// source frames, as they always did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
}

impl InputSpec {
    /// Checks every field, so a bad card fails at load time with a named field rather than as
    /// a shape error deep inside inference.
    pub fn validate(&self) -> Result<(), ContractError> {
        self.clip.validate()?;
        if self.input_size == 0 {
            return Err(ContractError::Zero { field: "input_size", value: 0 });
        }
        if self.resize_short == 0 {
            return Err(ContractError::Zero { field: "resize_short", value: 0 });
        }
        if let Some(fps) = self.fps {
            check_fps(fps)?;
        }
        self.normalization.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> InputSpec {
        InputSpec {
            clip: ClipSpec { clip_len: 16, frame_stride: 2 },
            input_size: 112,
            resize_short: 128,
            normalization: Normalization::imagenet(),
            fps: Some(30.0),
        }
    }

    #[test]
    fn span_counts_source_frames() {
        assert_eq!(ClipSpec { clip_len: 16, frame_stride: 2 }.span(), 31);
        assert_eq!(ClipSpec { clip_len: 1, frame_stride: 5 }.span(), 1);
    }

    #[test]
    fn affine_matches_formula() {
        let n = Normalization::imagenet();
        let aff = n.affine_u8();
        for (c, (scale, offset)) in aff.iter().enumerate() {
            for v in [0u8, 17, 128, 255] {
                let want = (v as f32 / 255.0 - n.mean[c]) / n.std[c];
                let got = v as f32 * scale + offset;
                assert!((want - got).abs() < 1e-5, "c={c} v={v}: {want} vs {got}");
            }
        }
    }

    #[test]
    fn rejects_bad_fields() {
        let mut s = spec();
        s.clip.clip_len = 0;
        assert_eq!(s.validate(), Err(ContractError::Zero { field: "clip_len", value: 0 }));
        let mut s = spec();
        s.normalization.std[1] = 0.0;
        assert_eq!(s.validate(), Err(ContractError::BadStd { channel: 1, value: 0.0 }));
        let mut s = spec();
        s.normalization.mean.pop();
        assert_eq!(s.validate(), Err(ContractError::ChannelCount { field: "mean", got: 2 }));
        let mut s = spec();
        s.normalization.mean[2] = f32::NAN;
        assert!(matches!(s.validate(), Err(ContractError::BadMean { channel: 2, .. })));
        for bad in [0.0, -30.0, 0.5, 1e9, f64::NAN, f64::INFINITY] {
            let mut s = spec();
            s.fps = Some(bad);
            assert!(matches!(s.validate(), Err(ContractError::BadFps(_))), "fps {bad} accepted");
        }
        let mut s = spec();
        s.fps = None;
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(spec().validate(), Ok(()));
    }

    #[test]
    fn serde_round_trip() {
        let s = spec();
        let text = serde_json::to_string(&s).unwrap();
        let back: InputSpec = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        // A spec written before rates were recorded reads back without one.
        let old = text.replace(",\"fps\":30.0", "");
        assert!(!old.contains("fps"), "{old}");
        let back: InputSpec = serde_json::from_str(&old).unwrap();
        assert_eq!(back.fps, None);
    }
}
