//! Temperature scaling: one scalar `T` fitted on held-out labelled clips so that a model's
//! probabilities mean what they say (`motus card calibrate`).
//!
//! A network trained with cross-entropy is usually overconfident on data it has not seen, and
//! motus's two-stream graphs average their towers' softmax, which makes them underconfident
//! instead; either way an alert threshold of 0.375 means something different for every model.
//! `softmax(logits / T)` with the `T` that minimises the clips' negative log-likelihood fixes
//! the scale without changing any ranking (Guo et al., "On Calibration of Modern Neural
//! Networks", 2017). The fit works from probabilities alone: `ln p` differs from the logits
//! by one constant per clip, which the softmax ignores.
//!
//! The fitted `T` goes into the card ([`motus_models::Calibration`]), and
//! [`motus_core::infer::Classifier::run`] applies it, so `motus eval` and the live pipeline use the
//! same rule.

use motus_models::TEMPERATURE_RANGE;

/// Equal-width confidence bins of the expected calibration error.
pub const ECE_BINS: usize = 15;

/// Why no temperature could be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    #[error("no clips to fit a temperature on")]
    NoClips,
    #[error("clip {clip}: label {label} but the scores have {classes} classes")]
    LabelOutOfRange { clip: usize, label: usize, classes: usize },
    #[error("clip {clip}: {len} scores, expected {classes}")]
    Ragged { clip: usize, len: usize, classes: usize },
    #[error("clip {clip}: a score is not a finite probability")]
    NotProbabilities { clip: usize },
    #[error("all {0} clips are of one class: a temperature fitted on them says nothing about the others")]
    OneClass(usize),
    /// The best temperature lies at the edge of the allowed range: the clips are (nearly) all
    /// right or all wrong, and no finite temperature calibrates them.
    #[error("the fit ran to the edge of the allowed temperatures (T = {0}): the clips are too easy (or too hard) to calibrate on; use harder held-out clips")]
    AtBound(f32),
}

/// A fitted temperature and what it changed on the clips it was fitted on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fit {
    pub temperature: f32,
    pub clips: usize,
    /// Mean negative log-likelihood of the true class, at `T = 1` and at the fitted `T`.
    pub nll_before: f64,
    pub nll_after: f64,
    /// Expected calibration error ([`ECE_BINS`] bins), at `T = 1` and at the fitted `T`.
    pub ece_before: f64,
    pub ece_after: f64,
}

/// One labelled clip's scores as `ln p`, checked.
struct Clip {
    log_p: Vec<f64>,
    label: usize,
}

fn check(clips: &[(Vec<f32>, usize)]) -> Result<Vec<Clip>, CalibrationError> {
    let classes = clips.first().ok_or(CalibrationError::NoClips)?.0.len();
    let mut out = Vec::with_capacity(clips.len());
    for (i, (p, label)) in clips.iter().enumerate() {
        if p.len() != classes {
            return Err(CalibrationError::Ragged { clip: i, len: p.len(), classes });
        }
        if *label >= classes {
            return Err(CalibrationError::LabelOutOfRange { clip: i, label: *label, classes });
        }
        if p.iter().any(|v| !(v.is_finite() && (0.0..=1.0 + 1e-4).contains(v))) {
            return Err(CalibrationError::NotProbabilities { clip: i });
        }
        out.push(Clip { log_p: p.iter().map(|&v| (v.max(1e-30) as f64).ln()).collect(), label: *label });
    }
    if out.iter().all(|c| c.label == out[0].label) {
        return Err(CalibrationError::OneClass(out.len()));
    }
    Ok(out)
}

/// Softmax of `ln p * beta` (`beta = 1 / T`).
fn scaled(log_p: &[f64], beta: f64) -> Vec<f64> {
    let max = log_p.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v * beta));
    let e: Vec<f64> = log_p.iter().map(|&v| (v * beta - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// Mean negative log-likelihood at `beta = 1 / T`; convex in `beta`.
fn nll(clips: &[Clip], beta: f64) -> f64 {
    let total: f64 = clips
        .iter()
        .map(|c| {
            let max = c.log_p.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v * beta));
            let lse = max + c.log_p.iter().map(|&v| (v * beta - max).exp()).sum::<f64>().ln();
            lse - c.log_p[c.label] * beta
        })
        .sum();
    total / clips.len() as f64
}

/// Expected calibration error at `beta`: the clip-weighted gap between confidence (top
/// probability) and accuracy in each confidence bin.
fn ece(clips: &[Clip], beta: f64) -> f64 {
    let mut bins = [(0usize, 0.0f64, 0.0f64); ECE_BINS];
    for c in clips {
        let p = scaled(&c.log_p, beta);
        let (top, conf) =
            p.iter().copied().enumerate().fold((0, f64::MIN), |b, (i, v)| if v > b.1 { (i, v) } else { b });
        let bin = ((conf * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        bins[bin].0 += 1;
        bins[bin].1 += conf;
        bins[bin].2 += f64::from(u8::from(top == c.label));
    }
    bins.iter().map(|&(n, conf, hits)| (conf - hits).abs() / clips.len() as f64 * f64::from(u8::from(n > 0))).sum()
}

/// Fits the temperature that minimises the clips' negative log-likelihood, within
/// [`TEMPERATURE_RANGE`]. `clips` are probabilities (each row sums to 1) with their labels.
pub fn fit_temperature(clips: &[(Vec<f32>, usize)]) -> Result<Fit, CalibrationError> {
    let clips = check(clips)?;
    // NLL is convex in beta = 1/T: a golden-section search over the allowed range finds it.
    let (t_lo, t_hi) = TEMPERATURE_RANGE;
    let (mut lo, mut hi) = (1.0 / t_hi as f64, 1.0 / t_lo as f64);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut fa, mut fb) = (nll(&clips, a), nll(&clips, b));
    for _ in 0..80 {
        if fa < fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - g * (hi - lo);
            fa = nll(&clips, a);
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + g * (hi - lo);
            fb = nll(&clips, b);
        }
    }
    let beta = (lo + hi) / 2.0;
    let (b_lo, b_hi) = (1.0 / t_hi as f64, 1.0 / t_lo as f64);
    if (beta - b_lo).abs() < 1e-3 * b_lo || (b_hi - beta).abs() < 1e-3 * b_hi {
        return Err(CalibrationError::AtBound((1.0 / beta) as f32));
    }
    Ok(Fit {
        temperature: (1.0 / beta) as f32,
        clips: clips.len(),
        nll_before: nll(&clips, 1.0),
        nll_after: nll(&clips, beta),
        ece_before: ece(&clips, 1.0),
        ece_after: ece(&clips, beta),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clips whose top class is right 70% of the time but scored 0.97: overconfident.
    fn overconfident() -> Vec<(Vec<f32>, usize)> {
        (0..100).map(|i| (vec![0.97, 0.02, 0.01], if i % 10 < 7 { 0 } else { 1 + i % 2 })).collect()
    }

    #[test]
    fn overconfident_scores_get_a_temperature_above_one() {
        let fit = fit_temperature(&overconfident()).unwrap();
        assert!(fit.temperature > 1.5, "{fit:?}");
        assert!(fit.nll_after < fit.nll_before && fit.ece_after < fit.ece_before, "{fit:?}");
        let top = motus_core::infer::temperature_scaled(&[0.97, 0.02, 0.01], 3, fit.temperature)[0];
        assert!((top - 0.7).abs() < 0.05, "calibrated confidence {top} matches the 70% accuracy");
    }

    /// Top class at 0.5 yet right 90% of the time: sharpen.
    #[test]
    fn underconfident_scores_get_a_temperature_below_one() {
        let clips: Vec<(Vec<f32>, usize)> = (0..60)
            .map(|i| {
                let top = i % 3;
                let mut p = vec![0.25f32; 3];
                p[top] = 0.5;
                let label = if i % 10 == 0 { (top + 1) % 3 } else { top };
                (p, label)
            })
            .collect();
        let fit = fit_temperature(&clips).unwrap();
        assert!(fit.temperature < 0.9, "{fit:?}");
        assert!(fit.nll_after < fit.nll_before, "{fit:?}");
    }

    /// Every clip right: the likelihood keeps rising as T falls, so the fit hits the range's
    /// edge, and that is an error, not a card entry.
    #[test]
    fn clips_that_are_all_right_cannot_be_calibrated_on() {
        let clips: Vec<(Vec<f32>, usize)> =
            (0..30).map(|i| (if i % 2 == 0 { vec![0.6, 0.4] } else { vec![0.4, 0.6] }, i % 2)).collect();
        match fit_temperature(&clips) {
            Err(CalibrationError::AtBound(t)) => {
                assert!((t - TEMPERATURE_RANGE.0).abs() < 1e-3, "{t}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_inputs_are_refused_by_name() {
        assert_eq!(fit_temperature(&[]), Err(CalibrationError::NoClips));
        let e = fit_temperature(&[(vec![0.5, 0.5], 0), (vec![1.0], 1)]).unwrap_err();
        assert_eq!(e, CalibrationError::Ragged { clip: 1, len: 1, classes: 2 });
        let e = fit_temperature(&[(vec![0.5, 0.5], 2)]).unwrap_err();
        assert_eq!(e, CalibrationError::LabelOutOfRange { clip: 0, label: 2, classes: 2 });
        let e = fit_temperature(&[(vec![f32::NAN, 0.5], 0)]).unwrap_err();
        assert_eq!(e, CalibrationError::NotProbabilities { clip: 0 });
        let e = fit_temperature(&[(vec![0.9, 0.1], 0), (vec![0.8, 0.2], 0)]).unwrap_err();
        assert_eq!(e, CalibrationError::OneClass(2));
    }
}
