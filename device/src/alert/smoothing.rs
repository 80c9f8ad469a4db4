//! Temporal smoothing of class scores: an exponential moving average with a time constant in
//! seconds, so the smoothing means the same at any window rate.

/// Smooths probability vectors over time.
#[derive(Debug, Clone)]
pub struct Smoother {
    tau_s: f64,
    state: Option<(f64, Vec<f32>)>,
}

impl Smoother {
    /// A smoother with time constant `tau_s` seconds (0 = no smoothing). Negative or
    /// non-finite values are treated as 0.
    pub fn new(tau_s: f64) -> Self {
        Smoother { tau_s: if tau_s.is_finite() && tau_s > 0.0 { tau_s } else { 0.0 }, state: None }
    }

    /// Feeds scores observed at `t_s` and returns the smoothed scores. A change in the number
    /// of classes restarts the average.
    pub fn update(&mut self, t_s: f64, scores: &[f32]) -> &[f32] {
        match &mut self.state {
            Some((last, avg)) if avg.len() == scores.len() && self.tau_s > 0.0 => {
                let dt = (t_s - *last).max(0.0);
                let alpha = (1.0 - (-dt / self.tau_s).exp()) as f32;
                for (a, &s) in avg.iter_mut().zip(scores) {
                    *a += alpha * (s - *a);
                }
                *last = t_s;
            }
            _ => self.state = Some((t_s, scores.to_vec())),
        }
        &self.state.as_ref().expect("set above").1
    }

    /// Forgets the history (e.g. after a camera reconnect).
    pub fn reset(&mut self) {
        self.state = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_with_the_time_constant_whatever_the_rate() {
        for dt in [0.05, 0.1, 0.25] {
            let mut s = Smoother::new(0.5);
            s.update(0.0, &[0.0, 1.0]);
            let mut t = 0.0;
            let mut last = vec![];
            while t < 0.5 - 1e-9 {
                t += dt;
                last = s.update(t, &[1.0, 0.0]).to_vec();
            }
            // After one time constant: 1 - e^-1 of the step.
            assert!((last[0] - 0.632).abs() < 0.01, "dt {dt}: {last:?}");
        }
    }

    #[test]
    fn zero_tau_passes_through_and_reset_restarts() {
        let mut s = Smoother::new(0.0);
        s.update(0.0, &[0.2]);
        assert_eq!(s.update(1.0, &[0.9]), &[0.9]);
        let mut s = Smoother::new(1.0);
        s.update(0.0, &[0.0]);
        s.reset();
        assert_eq!(s.update(0.1, &[0.7]), &[0.7]);
        assert_eq!(Smoother::new(f64::NAN).update(0.0, &[0.3]), &[0.3]);
    }
}
