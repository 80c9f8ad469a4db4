//! Direction consistency: does the model's answer on a clip turn into its twin when the clip
//! is mirrored or played backwards?
//!
//! A model that understands motion must call a mirrored walk to the left a walk to the right,
//! and a sit-down played backwards a stand-up. Checking that needs no labels, so it measures on
//! real footage (which has none here) whether motion understanding learnt on synthetic scenes
//! transfers. Each clip's top class (mean probabilities over the protocol's clips) is compared
//! with the top class of its transformed copy; a clip counts when its class has a defined twin
//! under the transform ([`Transform::twin`]).

use std::str::FromStr;

use serde::Serialize;

use motus_core::frame::Frame;
use motus_core::names::UnknownName;
use motus_core::preprocess::flip_horizontal;
use motus_core::synth::{MIRROR_PAIRS, MOTION_PAIRS};

/// A label-preserving change of a clip with a known effect on the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transform {
    /// Every frame flipped left to right.
    Mirror,
    /// The frames in reverse order (time runs backwards at the same rate).
    Reverse,
}

impl FromStr for Transform {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s.trim() {
            "mirror" => Ok(Transform::Mirror),
            "reverse" => Ok(Transform::Reverse),
            other => Err(UnknownName::new("transform", other, "mirror or reverse")),
        }
    }
}

/// A transform list (`--consistency`) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformListError {
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error("{list:?} names {transform:?} twice")]
    Twice { list: String, transform: Transform },
    #[error("name at least one transform (mirror, reverse)")]
    Empty,
}

/// Parses `mirror,reverse` (either or both, no repeats).
pub fn parse_transforms(list: &str) -> Result<Vec<Transform>, TransformListError> {
    let mut out = Vec::new();
    for t in list.split(',').map(Transform::from_str) {
        let t = t?;
        if out.contains(&t) {
            return Err(TransformListError::Twice { list: list.into(), transform: t });
        }
        out.push(t);
    }
    if out.is_empty() {
        return Err(TransformListError::Empty);
    }
    Ok(out)
}

/// The other class of `class`'s pair among `pairs`, or `class` itself when it is in none.
fn swap<'a>(class: &'a str, pairs: &[(&'static str, &'static str)]) -> &'a str {
    pairs
        .iter()
        .find_map(|&(a, b)| {
            if class == a {
                Some(b)
            } else if class == b {
                Some(a)
            } else {
                None
            }
        })
        .unwrap_or(class)
}

impl Transform {
    /// The class a transformed clip of `class` should get, or `None` when the transform leaves
    /// the class undefined. Mirroring swaps left/right and clockwise/counter-clockwise and keeps
    /// the rest. Reversal swaps every motion pair (approach/recede, sit down/stand up, and, as
    /// motion runs the other way, walk left/right and spin cw/ccw); a fall played backwards is
    /// a getting-up no class names, so falls are not compared.
    pub fn twin<'a>(&self, class: &'a str) -> Option<&'a str> {
        match self {
            Transform::Mirror => Some(swap(class, &MIRROR_PAIRS)),
            Transform::Reverse if class == "fall_down" => None,
            Transform::Reverse => Some(swap(class, &MOTION_PAIRS)),
        }
    }

    /// The transformed copy of a clip's frames. Reversed frames are re-stamped so time still
    /// runs forward (`last − t`): picking by time and the flow plan then see a normal clip.
    pub fn apply(&self, frames: &[&Frame]) -> Vec<Frame> {
        match self {
            Transform::Mirror => frames
                .iter()
                .map(|f| {
                    let mut m = (*f).clone();
                    flip_horizontal(&mut m);
                    m
                })
                .collect(),
            Transform::Reverse => {
                let last = frames.last().map_or(std::time::Duration::ZERO, |f| f.timestamp);
                frames
                    .iter()
                    .rev()
                    .map(|f| {
                        let mut r = (*f).clone();
                        r.timestamp = last.saturating_sub(f.timestamp);
                        r
                    })
                    .collect()
            }
        }
    }
}

/// One clip under one transform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipConsistency {
    pub path: String,
    /// The clip's top class.
    pub top: String,
    /// The transformed clip's top class.
    pub transformed: String,
    /// What the transformed clip should be called (`None`: not comparable).
    pub expected: Option<String>,
}

impl ClipConsistency {
    /// Whether the transformed clip got its twin (`None` when not comparable).
    pub fn agrees(&self) -> Option<bool> {
        self.expected.as_ref().map(|e| *e == self.transformed)
    }
}

/// One transform over a list: how often the answer turned into its twin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransformReport {
    pub transform: Transform,
    pub clips: usize,
    /// Clips whose class has a twin under the transform.
    pub comparable: usize,
    pub agree: usize,
    /// `agree / comparable` (`None` with nothing comparable).
    pub agreement: Option<f64>,
    /// Clips whose class has a twin other than itself (a walk, not an idle): the ones that
    /// say something about direction, since any constant answer agrees on the rest.
    pub directional: usize,
    pub directional_agree: usize,
    /// `directional_agree / directional` (`None` with no directional clip).
    pub directional_agreement: Option<f64>,
    pub per_clip: Vec<ClipConsistency>,
}

impl TransformReport {
    /// Tallies the clips' results.
    pub fn tally(transform: Transform, per_clip: Vec<ClipConsistency>) -> TransformReport {
        let comparable = per_clip.iter().filter(|c| c.expected.is_some()).count();
        let agree = per_clip.iter().filter(|c| c.agrees() == Some(true)).count();
        let agreement = (comparable > 0).then(|| agree as f64 / comparable as f64);
        let directional: Vec<&ClipConsistency> =
            per_clip.iter().filter(|c| c.expected.as_ref().is_some_and(|e| *e != c.top)).collect();
        let directional_agree = directional.iter().filter(|c| c.agrees() == Some(true)).count();
        let directional_agreement =
            (!directional.is_empty()).then(|| directional_agree as f64 / directional.len() as f64);
        TransformReport {
            transform,
            clips: per_clip.len(),
            comparable,
            agree,
            agreement,
            directional: directional.len(),
            directional_agree,
            directional_agreement,
            per_clip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn twins_follow_the_transform() {
        let m = Transform::Mirror;
        assert_eq!(m.twin("walk_left"), Some("walk_right"));
        assert_eq!(m.twin("spin_ccw"), Some("spin_cw"));
        assert_eq!(m.twin("approach"), Some("approach"));
        assert_eq!(m.twin("idle"), Some("idle"));
        let r = Transform::Reverse;
        assert_eq!(r.twin("approach"), Some("recede"));
        assert_eq!(r.twin("stand_up"), Some("sit_down"));
        assert_eq!(r.twin("walk_right"), Some("walk_left"));
        assert_eq!(r.twin("wave"), Some("wave"));
        assert_eq!(r.twin("fall_down"), None);
    }

    #[test]
    fn transforms_parse_and_bad_ones_are_named() {
        assert_eq!(parse_transforms("mirror,reverse").unwrap(), vec![Transform::Mirror, Transform::Reverse]);
        assert_eq!(parse_transforms(" reverse ").unwrap(), vec![Transform::Reverse]);
        assert!(parse_transforms("mirror,flip").unwrap_err().to_string().contains("\"flip\""));
        assert!(matches!(parse_transforms("mirror,mirror"), Err(TransformListError::Twice { .. })));
        assert!(parse_transforms("").is_err());
    }

    #[test]
    fn reversal_keeps_time_running_forward_and_mirror_flips() {
        let frames: Vec<Frame> = (0..3)
            .map(|i| {
                let mut f = Frame::new(2, 1);
                f.data = vec![i, 0, 0, 100 + i, 0, 0];
                f.timestamp = Duration::from_millis(100 * i as u64);
                f
            })
            .collect();
        let refs: Vec<&Frame> = frames.iter().collect();
        let r = Transform::Reverse.apply(&refs);
        assert_eq!(r.iter().map(|f| f.data[0]).collect::<Vec<_>>(), vec![2, 1, 0]);
        assert_eq!(r.iter().map(|f| f.timestamp.as_millis()).collect::<Vec<_>>(), vec![0, 100, 200]);
        let m = Transform::Mirror.apply(&refs);
        assert_eq!((m[1].data[0], m[1].data[3], m[1].timestamp), (101, 1, frames[1].timestamp));
    }

    #[test]
    fn the_tally_counts_only_comparable_clips() {
        let c = |top: &str, transformed: &str| ClipConsistency {
            path: "x".into(),
            top: top.into(),
            transformed: transformed.into(),
            expected: Transform::Reverse.twin(top).map(str::to_string),
        };
        let r = TransformReport::tally(
            Transform::Reverse,
            vec![c("approach", "recede"), c("sit_down", "sit_down"), c("fall_down", "jump")],
        );
        assert_eq!((r.clips, r.comparable, r.agree), (3, 2, 1));
        assert_eq!(r.agreement, Some(0.5));
        // Both comparable clips have a twin other than themselves.
        assert_eq!((r.directional, r.directional_agree, r.directional_agreement), (2, 1, Some(0.5)));
        let idle = TransformReport::tally(Transform::Mirror, vec![c("idle", "idle")]);
        assert_eq!((idle.agreement, idle.directional, idle.directional_agreement), (Some(1.0), 0, None));
        assert_eq!(TransformReport::tally(Transform::Mirror, Vec::new()).agreement, None);
    }
}
