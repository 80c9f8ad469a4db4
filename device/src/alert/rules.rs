//! Alert rules: when a smoothed class score becomes an alert, and when it ends.
//!
//! Raw per-window scores flicker: one noisy window must not page anyone, and a score hovering
//! at the threshold must not raise an alert per frame. Each class has its own rule with a
//! threshold to start, a lower one to end (hysteresis), a minimum duration above the start
//! threshold before firing, a cooldown after an alert ends, and optional active hours.

use serde::{Deserialize, Serialize};

/// Why a rule set was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("rule for {class:?}: {reason}")]
    Invalid { class: String, reason: String },
    #[error("rule for unknown class {class:?}; the model's classes are: {known}")]
    UnknownClass { class: String, known: String },
}

/// Local-time hours during which a rule may fire, `[start, end)`; wraps past midnight when
/// `start > end` (e.g. 22..6 for night shifts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveHours {
    pub start: u8,
    pub end: u8,
}

impl ActiveHours {
    /// Whether `hour` (0..24) is inside the window.
    pub fn contains(&self, hour: u8) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&hour)
        } else {
            hour >= self.start || hour < self.end
        }
    }
}

/// The rule for one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Class name, as in the model card's labels.
    pub class: String,
    /// Smoothed score at or above which the class counts as present.
    pub threshold: f32,
    /// Score below which a running alert ends (≤ threshold). Defaults to `threshold - 0.1`.
    #[serde(default)]
    pub release: Option<f32>,
    /// Seconds the score must stay at or above `threshold` before the alert fires.
    #[serde(default)]
    pub min_duration_s: f64,
    /// Seconds after an alert ends during which the same class cannot fire again.
    #[serde(default)]
    pub cooldown_s: f64,
    /// Hours during which the rule is armed; always when absent.
    #[serde(default)]
    pub active_hours: Option<ActiveHours>,
}

impl Rule {
    /// The score below which a running alert ends.
    pub fn release(&self) -> f32 {
        self.release.unwrap_or(self.threshold - 0.1)
    }

    /// Checks the numbers make sense and the class exists.
    pub fn validate(&self, labels: &[String]) -> Result<(), RuleError> {
        let bad = |reason: String| Err(RuleError::Invalid { class: self.class.clone(), reason });
        if !labels.contains(&self.class) {
            return Err(RuleError::UnknownClass { class: self.class.clone(), known: labels.join(", ") });
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0 && self.threshold <= 1.0) {
            return bad(format!("threshold must be in (0, 1], got {}", self.threshold));
        }
        let release = self.release();
        if !(release.is_finite() && release <= self.threshold) {
            return bad(format!("release {release} must be at most the threshold {}", self.threshold));
        }
        if !(self.min_duration_s.is_finite() && self.min_duration_s >= 0.0) {
            return bad(format!("min_duration_s must be >= 0, got {}", self.min_duration_s));
        }
        if !(self.cooldown_s.is_finite() && self.cooldown_s >= 0.0) {
            return bad(format!("cooldown_s must be >= 0, got {}", self.cooldown_s));
        }
        if let Some(h) = self.active_hours {
            if h.start > 23 || h.end > 24 || h.start == h.end {
                return bad(format!("active_hours {}..{} must be two different hours in 0..24", h.start, h.end));
            }
        }
        Ok(())
    }
}

/// What a rule reports for one new score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    /// Nothing changed.
    None,
    /// An alert starts: the score first crossed the threshold at `since_s`.
    Start { since_s: f64, score: f32 },
    /// The running alert ended at `at_s` with this peak score.
    End { at_s: f64, peak: f32 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    /// Above threshold since `since`, not yet long enough.
    Pending {
        since: f64,
        peak: f32,
    },
    Active {
        peak: f32,
    },
    Cooldown {
        until: f64,
    },
}

/// A rule with its state, fed one smoothed score at a time.
#[derive(Debug, Clone)]
pub struct RuleState {
    rule: Rule,
    state: State,
}

impl RuleState {
    /// Arms `rule` (validated by the caller).
    pub fn new(rule: Rule) -> Self {
        RuleState { rule, state: State::Idle }
    }

    /// The rule this state follows.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// Whether an alert is running.
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Active { .. })
    }

    /// Feeds the score at time `t_s` (seconds, increasing) in local hour `hour`.
    pub fn update(&mut self, t_s: f64, score: f32, hour: u8) -> Transition {
        let armed = self.rule.active_hours.is_none_or(|h| h.contains(hour));
        match self.state {
            State::Cooldown { until } if t_s < until => Transition::None,
            State::Cooldown { .. } | State::Idle => {
                if armed && score >= self.rule.threshold {
                    self.state = State::Pending { since: t_s, peak: score };
                    self.check_pending(t_s)
                } else {
                    self.state = State::Idle;
                    Transition::None
                }
            }
            State::Pending { since, peak } => {
                if !armed || score < self.rule.threshold {
                    self.state = State::Idle;
                    Transition::None
                } else {
                    self.state = State::Pending { since, peak: peak.max(score) };
                    self.check_pending(t_s)
                }
            }
            State::Active { peak } => {
                if score < self.rule.release() {
                    self.state = if self.rule.cooldown_s > 0.0 {
                        State::Cooldown { until: t_s + self.rule.cooldown_s }
                    } else {
                        State::Idle
                    };
                    Transition::End { at_s: t_s, peak }
                } else {
                    self.state = State::Active { peak: peak.max(score) };
                    Transition::None
                }
            }
        }
    }

    fn check_pending(&mut self, t_s: f64) -> Transition {
        if let State::Pending { since, peak } = self.state {
            if t_s - since >= self.rule.min_duration_s {
                self.state = State::Active { peak };
                return Transition::Start { since_s: since, score: peak };
            }
        }
        Transition::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            class: "fall_down".into(),
            threshold: 0.8,
            release: Some(0.5),
            min_duration_s: 0.3,
            cooldown_s: 2.0,
            active_hours: None,
        }
    }

    fn feed(state: &mut RuleState, samples: &[(f64, f32)]) -> Vec<Transition> {
        samples.iter().map(|&(t, s)| state.update(t, s, 12)).filter(|t| *t != Transition::None).collect()
    }

    #[test]
    fn fires_after_min_duration_with_hysteresis_and_cooldown() {
        let mut s = RuleState::new(rule());
        let out = feed(&mut s, &[(0.0, 0.9), (0.1, 0.2), (1.0, 0.85), (1.2, 0.9), (1.3, 0.95), (1.5, 0.6), (1.7, 0.4)]);
        // The 0.0 spike was too short; 1.0..1.3 is long enough; 0.6 is above release.
        assert_eq!(
            out,
            vec![Transition::Start { since_s: 1.0, score: 0.95 }, Transition::End { at_s: 1.7, peak: 0.95 }]
        );
        // Cooldown until 3.7: a new high score at 2.0 is ignored, at 4.0 it counts again.
        let out = feed(&mut s, &[(2.0, 0.99), (2.5, 0.99), (4.0, 0.9), (4.4, 0.9)]);
        assert_eq!(out, vec![Transition::Start { since_s: 4.0, score: 0.9 }]);
        assert!(s.is_active());
    }

    #[test]
    fn zero_duration_fires_at_once_and_hours_gate() {
        let mut r = rule();
        r.min_duration_s = 0.0;
        r.active_hours = Some(ActiveHours { start: 22, end: 6 });
        let mut s = RuleState::new(r);
        assert_eq!(s.update(0.0, 0.9, 12), Transition::None, "noon is outside 22..6");
        assert_eq!(s.update(1.0, 0.9, 23), Transition::Start { since_s: 1.0, score: 0.9 });
        assert!(ActiveHours { start: 22, end: 6 }.contains(3));
        assert!(!ActiveHours { start: 8, end: 18 }.contains(18));
    }

    #[test]
    fn invalid_rules_are_named() {
        let labels = vec!["idle".to_string(), "fall_down".to_string()];
        assert_eq!(rule().validate(&labels), Ok(()));
        let mut r = rule();
        r.class = "dance".into();
        assert!(matches!(r.validate(&labels), Err(RuleError::UnknownClass { .. })));
        for (mutate, needle) in [
            (Box::new(|r: &mut Rule| r.threshold = 1.5) as Box<dyn Fn(&mut Rule)>, "threshold"),
            (Box::new(|r: &mut Rule| r.release = Some(0.9)), "release"),
            (Box::new(|r: &mut Rule| r.min_duration_s = -1.0), "min_duration_s"),
            (Box::new(|r: &mut Rule| r.cooldown_s = f64::NAN), "cooldown_s"),
            (Box::new(|r: &mut Rule| r.active_hours = Some(ActiveHours { start: 5, end: 5 })), "active_hours"),
        ] {
            let mut r = rule();
            mutate(&mut r);
            let err = r.validate(&labels).unwrap_err().to_string();
            assert!(err.contains(needle) && err.contains("fall_down"), "{err}");
        }
    }

    #[test]
    fn rules_parse_from_toml_like_json_and_reject_typos() {
        let r: Rule = serde_json::from_str(r#"{"class":"wave","threshold":0.7}"#).unwrap();
        assert_eq!(r.release(), 0.7 - 0.1);
        assert!(serde_json::from_str::<Rule>(r#"{"class":"wave","treshold":0.7}"#).is_err());
    }
}
