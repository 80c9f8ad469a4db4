//! The flow settings a model was trained with, as its model card records them, and the check
//! that refuses to feed a model flow computed any other way.
//!
//! A temporal stream trained on TV-L1 flow clipped at ±20 px sees garbage when given flow with
//! another bound, algorithm or parameter set, and nothing downstream would notice: the tensors
//! have the right shape. So the runtime compares its engine's settings to the card's first.

use serde::{Deserialize, Serialize};

use super::TvL1Params;

/// The only algorithm motus computes; named so cards from other tools can say otherwise.
pub const TVL1: &str = "tvl1";

/// How a model's flow input is made: algorithm, its parameters, the clip bound of the
/// encoding and the number of stacked fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowConfig {
    /// Algorithm name (`"tvl1"`).
    pub algorithm: String,
    /// The algorithm's parameters.
    pub params: TvL1Params,
    /// Flow is clipped to ±`bound` pixels before scaling (20 in the two-stream papers).
    pub bound: f32,
    /// Number of consecutive flow fields stacked into `2 * stack_len` channels.
    pub stack_len: u32,
    /// Subtract each field's mean displacement (over the crop) before clipping: the
    /// two-stream paper's camera-motion compensation. A panning or shaking camera adds one
    /// displacement to every pixel; removing it leaves the actor's motion.
    #[serde(default)]
    pub mean_subtraction: bool,
}

/// Why flow settings do not match a model's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlowMismatch {
    /// Different algorithms (e.g. TV-L1 vs Farneback): nothing else can be compared.
    #[error("the model was trained on {card:?} flow, this engine computes {engine:?}")]
    Algorithm {
        /// What the card says.
        card: String,
        /// What the engine computes.
        engine: String,
    },
    /// Same algorithm, other parameters; `fields` lists each difference.
    #[error("flow parameters differ from the model card's: {fields}; the model would see flow it was not trained on")]
    Params {
        /// `name: card X vs engine Y` for each differing parameter.
        fields: String,
    },
    /// Another clip bound scales every value differently.
    #[error("flow bound {engine} differs from the model card's {card}")]
    Bound {
        /// The card's bound.
        card: f32,
        /// The engine's bound.
        engine: f32,
    },
    /// With and without mean subtraction the same scene gives other inputs.
    #[error("flow mean subtraction {engine} differs from the model card's {card}")]
    MeanSubtraction {
        /// The card's setting.
        card: bool,
        /// The engine's setting.
        engine: bool,
    },
    /// Another stack length changes the channel count the network expects.
    #[error("flow stack of {engine} fields differs from the model card's {card}")]
    StackLen {
        /// The card's stack length.
        card: u32,
        /// The engine's stack length.
        engine: u32,
    },
}

impl FlowConfig {
    /// Reads the flow section of a model card. A card naming another algorithm, or TV-L1 with
    /// parameters this engine cannot read, is refused: the model would see other flow.
    pub fn from_card(spec: &motus_models::card::FlowSpec) -> Result<Self, FlowMismatch> {
        if spec.algorithm != TVL1 {
            return Err(FlowMismatch::Algorithm { card: spec.algorithm.clone(), engine: TVL1.into() });
        }
        let params: TvL1Params = serde_json::from_value(spec.params.clone()).map_err(|e| FlowMismatch::Params {
            fields: format!("the card's TV-L1 parameters are unreadable ({e})"),
        })?;
        Ok(FlowConfig {
            algorithm: spec.algorithm.clone(),
            params,
            bound: spec.bound,
            stack_len: spec.stack_len,
            mean_subtraction: spec.mean_subtraction,
        })
    }

    /// The card form of these settings.
    pub fn to_card(&self) -> motus_models::card::FlowSpec {
        motus_models::card::FlowSpec {
            algorithm: self.algorithm.clone(),
            params: serde_json::to_value(&self.params).expect("params serialise"),
            bound: self.bound,
            stack_len: self.stack_len,
            mean_subtraction: self.mean_subtraction,
        }
    }

    /// TV-L1 with the given parameters, bound and stack length (raw flow, no mean subtraction).
    pub fn tvl1(params: TvL1Params, bound: f32, stack_len: u32) -> Self {
        FlowConfig { algorithm: TVL1.to_string(), params, bound, stack_len, mean_subtraction: false }
    }

    /// Checks that flow made with `self` is what a model whose card says `card` expects;
    /// names every differing parameter.
    pub fn ensure_matches(&self, card: &FlowConfig) -> Result<(), FlowMismatch> {
        if self.algorithm != card.algorithm {
            return Err(FlowMismatch::Algorithm { card: card.algorithm.clone(), engine: self.algorithm.clone() });
        }
        if self.params != card.params {
            let ours = serde_json::to_value(&self.params).expect("params serialise");
            let theirs = serde_json::to_value(&card.params).expect("params serialise");
            let mut fields = Vec::new();
            if let (Some(a), Some(b)) = (ours.as_object(), theirs.as_object()) {
                for (k, v) in a {
                    if b.get(k) != Some(v) {
                        fields.push(format!(
                            "{k}: card {} vs engine {v}",
                            b.get(k).map_or("absent".to_string(), |x| x.to_string())
                        ));
                    }
                }
            }
            return Err(FlowMismatch::Params { fields: fields.join(", ") });
        }
        if self.bound != card.bound {
            return Err(FlowMismatch::Bound { card: card.bound, engine: self.bound });
        }
        if self.stack_len != card.stack_len {
            return Err(FlowMismatch::StackLen { card: card.stack_len, engine: self.stack_len });
        }
        if self.mean_subtraction != card.mean_subtraction {
            return Err(FlowMismatch::MeanSubtraction { card: card.mean_subtraction, engine: self.mean_subtraction });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_and_mismatching_settings() {
        let card = FlowConfig::tvl1(TvL1Params::edge(), 20.0, 5);
        assert_eq!(card.ensure_matches(&card.clone()), Ok(()));
        let other = FlowConfig::tvl1(TvL1Params::accurate(), 20.0, 5);
        let err = other.ensure_matches(&card).unwrap_err();
        assert!(matches!(err, FlowMismatch::Params { .. }));
        assert!(err.to_string().contains("lambda"), "{err}");
        let mut bound = card.clone();
        bound.bound = 15.0;
        assert_eq!(bound.ensure_matches(&card), Err(FlowMismatch::Bound { card: 20.0, engine: 15.0 }));
        let mut alg = card.clone();
        alg.algorithm = "farneback".into();
        assert!(matches!(card.ensure_matches(&alg), Err(FlowMismatch::Algorithm { .. })));
        let mut stack = card.clone();
        stack.stack_len = 10;
        assert!(matches!(stack.ensure_matches(&card), Err(FlowMismatch::StackLen { card: 5, engine: 10 })));
        let mut mean = card.clone();
        mean.mean_subtraction = true;
        assert_eq!(mean.ensure_matches(&card), Err(FlowMismatch::MeanSubtraction { card: false, engine: true }));
    }

    #[test]
    fn card_round_trip_and_refusals() {
        let mut c = FlowConfig::tvl1(TvL1Params::edge(), 20.0, 5);
        assert_eq!(FlowConfig::from_card(&c.to_card()).unwrap(), c);
        c.mean_subtraction = true;
        assert_eq!(FlowConfig::from_card(&c.to_card()).unwrap(), c);
        let mut other = c.to_card();
        other.algorithm = "dis-fast".into();
        assert!(matches!(FlowConfig::from_card(&other), Err(FlowMismatch::Algorithm { .. })));
        let mut empty = c.to_card();
        empty.params = serde_json::json!({});
        let err = FlowConfig::from_card(&empty).unwrap_err().to_string();
        assert!(err.contains("unreadable"), "{err}");
    }

    #[test]
    fn json_form_is_stable() {
        let c = FlowConfig::tvl1(TvL1Params::edge(), 20.0, 5);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["algorithm"], "tvl1");
        assert!(v["params"]["lambda"].is_number());
        let back: FlowConfig = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }
}
