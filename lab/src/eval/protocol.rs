//! The test protocol of `motus eval --protocol`: which clips and crops of each video are
//! scored, as the literature's tables state it ("centre clip", "10 clips × 3 crops").

use crate::dataset::{CropMode, SamplerConfig};

/// A `--protocol` text that is not one of the forms `center`, `clips=N`, `clips=N,crops=3`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("protocol {text:?}: clips must be a whole number ≥ 1, got {got:?}")]
    Clips { text: String, got: String },
    #[error("protocol {text:?}: crops must be 1 or 3, got {got:?}")]
    Crops { text: String, got: String },
    #[error("protocol {text:?}: expected `center` or `clips=N[,crops=3]`, found {part:?}")]
    Part { text: String, part: String },
    #[error("protocol {text:?}: expected `center` or `clips=N[,crops=3]`")]
    NoClips { text: String },
}

/// Parses `center` (one centred clip, centre crop) or `clips=N` / `clips=N,crops=3` (`N`
/// uniformly spaced clips, each with 1 or 3 crops) into the sampler that draws those views.
pub fn parse_protocol(text: &str) -> Result<SamplerConfig, ProtocolError> {
    let t = text.trim();
    if t == "center" || t == "centre" {
        return Ok(SamplerConfig::Random);
    }
    let mut clips = None;
    let mut crops = CropMode::Center;
    for part in t.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("clips", n)) => match n.parse::<u32>() {
                Ok(n) if n >= 1 => clips = Some(n),
                _ => return Err(ProtocolError::Clips { text: text.into(), got: n.into() }),
            },
            Some(("crops", "1")) => crops = CropMode::Center,
            Some(("crops", "3")) => crops = CropMode::Three,
            Some(("crops", n)) => return Err(ProtocolError::Crops { text: text.into(), got: n.into() }),
            _ => return Err(ProtocolError::Part { text: text.into(), part: part.into() }),
        }
    }
    match clips {
        Some(num_clips) => Ok(SamplerConfig::MultiClip { num_clips, crops }),
        None => Err(ProtocolError::NoClips { text: text.into() }),
    }
}

/// The protocol's name as reports print it (`center`, `clips=10,crops=3`).
pub fn protocol_name(p: &SamplerConfig) -> String {
    match p {
        SamplerConfig::Random => "center".into(),
        SamplerConfig::MultiClip { num_clips, crops: CropMode::Center } => format!("clips={num_clips}"),
        SamplerConfig::MultiClip { num_clips, crops: CropMode::Three } => format!("clips={num_clips},crops=3"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_and_print_back() {
        for text in ["center", "clips=10", "clips=10,crops=3"] {
            assert_eq!(protocol_name(&parse_protocol(text).unwrap()), text);
        }
        assert_eq!(
            parse_protocol("clips=2,crops=1").unwrap(),
            SamplerConfig::MultiClip { num_clips: 2, crops: CropMode::Center }
        );
        for (bad, needle) in [
            ("clips=0", "≥ 1"),
            ("clips=x", "≥ 1"),
            ("clips=3,crops=2", "1 or 3"),
            ("dense", "expected"),
            ("crops=3", "expected"),
        ] {
            let err = parse_protocol(bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }
}
