//! Learning-rate schedules with linear warm-up, as a pure function of the step, so that a
//! resumed run lands on exactly the rate it would have had.

/// How the rate decays after warm-up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Decay {
    /// Half-cosine from the base rate to `min_factor × base` at the last step.
    Cosine { min_factor: f64 },
    /// Multiply by `gamma` at each listed epoch.
    Step { epochs: Vec<u32>, gamma: f64 },
}

/// A schedule over `total_steps` optimiser steps, `steps_per_epoch` of them per epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    pub base_lr: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
    pub steps_per_epoch: u64,
    pub decay: Decay,
}

impl Schedule {
    /// The learning rate for (0-based) optimiser step `step`.
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.base_lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        match &self.decay {
            Decay::Cosine { min_factor } => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let progress = ((step - self.warmup_steps) as f64 / span).min(1.0);
                let factor = min_factor + (1.0 - min_factor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                self.base_lr * factor
            }
            Decay::Step { epochs, gamma } => {
                let epoch = step / self.steps_per_epoch.max(1);
                let passed = epochs.iter().filter(|&&e| epoch >= e as u64).count();
                self.base_lr * gamma.powi(passed as i32)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine() -> Schedule {
        Schedule {
            base_lr: 0.1,
            warmup_steps: 10,
            total_steps: 110,
            steps_per_epoch: 10,
            decay: Decay::Cosine { min_factor: 0.0 },
        }
    }

    #[test]
    fn warmup_rises_linearly_to_the_base_rate() {
        let s = cosine();
        assert!((s.lr(0) - 0.01).abs() < 1e-12);
        assert!((s.lr(4) - 0.05).abs() < 1e-12);
        assert!((s.lr(10) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn cosine_reaches_half_at_the_middle_and_the_floor_at_the_end() {
        let s = cosine();
        assert!((s.lr(60) - 0.05).abs() < 1e-9);
        assert!(s.lr(110).abs() < 1e-12);
        assert!(s.lr(1000).abs() < 1e-12);
        let mut prev = f64::INFINITY;
        for step in 10..110 {
            assert!(s.lr(step) <= prev);
            prev = s.lr(step);
        }
    }

    #[test]
    fn step_decay_multiplies_at_each_milestone() {
        let s = Schedule { decay: Decay::Step { epochs: vec![3, 6], gamma: 0.1 }, warmup_steps: 0, ..cosine() };
        assert!((s.lr(29) - 0.1).abs() < 1e-12);
        assert!((s.lr(30) - 0.01).abs() < 1e-12);
        assert!((s.lr(65) - 0.001).abs() < 1e-12);
    }
}
