//! Turning per-window class scores into alerts: temporal smoothing and per-class rules with
//! thresholds, minimum duration, hysteresis, cooldown and active hours.

pub mod rules;
pub mod smoothing;

pub use rules::{ActiveHours, Rule, RuleError, RuleState, Transition};
pub use smoothing::Smoother;
