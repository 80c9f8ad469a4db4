//! Activation observers: what range of an activation tensor the int8 grid should cover.
//!
//! Every observer sees each calibration clip's values of one tensor ([`Observer::observe`]) and
//! then proposes a range ([`Observer::range`]):
//! - `minmax`: the extremes seen. Nothing clips, but one outlier stretches the grid.
//! - `percentile(p)`: the `1 − p` and `p` quantiles of the values (both tails clipped).
//! - `entropy`: the threshold whose quantized distribution is closest (Kullback–Leibler) to
//!   the observed one, TensorRT's calibration (Migacz, 2017), searched on the histogram of |x|.
//!
//! The histogram observers keep a fixed number of bins over a range that widens as new
//! extremes arrive (old counts are re-binned by their bin centres), so memory stays constant
//! however many clips are seen.

use std::fmt;

/// Bins of the value histogram.
const BINS: usize = 2048;

/// Which observer to use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObserverKind {
    MinMax,
    /// Percentile in (50, 100], e.g. 99.99.
    Percentile(f64),
    Entropy,
}

impl fmt::Display for ObserverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObserverKind::MinMax => write!(f, "minmax"),
            ObserverKind::Percentile(p) => write!(f, "percentile({p})"),
            ObserverKind::Entropy => write!(f, "entropy"),
        }
    }
}

/// An `--observer` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObserverParseError {
    #[error("observer {given:?}: the percentile must be a number in (50, 100], got {percentile:?}")]
    Percentile { given: String, percentile: String },
    #[error("observer {0:?}: expected minmax, percentile[=P] or entropy")]
    Unknown(String),
}

impl std::str::FromStr for ObserverKind {
    type Err = ObserverParseError;
    /// `minmax`, `entropy`, `percentile` (99.99) or `percentile=P` / `percentile(P)`.
    fn from_str(s: &str) -> Result<Self, ObserverParseError> {
        let t = s.trim();
        let p = t.strip_prefix("percentile").map(|r| r.trim_start_matches(['=', '(']).trim_end_matches(')'));
        match (t, p) {
            ("minmax", _) => Ok(ObserverKind::MinMax),
            ("entropy", _) => Ok(ObserverKind::Entropy),
            (_, Some("")) => Ok(ObserverKind::Percentile(99.99)),
            (_, Some(p)) => match p.parse::<f64>() {
                Ok(p) if p > 50.0 && p <= 100.0 => Ok(ObserverKind::Percentile(p)),
                _ => Err(ObserverParseError::Percentile { given: s.to_string(), percentile: p.to_string() }),
            },
            _ => Err(ObserverParseError::Unknown(s.to_string())),
        }
    }
}

/// Why an observer has no range to give.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObserveError {
    #[error("no values were observed")]
    Empty,
    #[error("{0} non-finite values (inf or NaN) were observed")]
    NonFinite(u64),
}

/// One tensor's observer.
#[derive(Debug, Clone)]
pub struct Observer {
    kind: ObserverKind,
    min: f32,
    max: f32,
    count: u64,
    non_finite: u64,
    /// Histogram over `[lo, hi]` (only for the histogram observers).
    hist: Vec<f64>,
    lo: f32,
    hi: f32,
}

impl Observer {
    pub fn new(kind: ObserverKind) -> Self {
        Observer {
            kind,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            count: 0,
            non_finite: 0,
            hist: Vec::new(),
            lo: 0.0,
            hi: 0.0,
        }
    }

    pub fn kind(&self) -> ObserverKind {
        self.kind
    }

    /// Values seen so far (finite ones).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The extremes seen so far.
    pub fn min_max(&self) -> (f32, f32) {
        (self.min, self.max)
    }

    /// Adds one batch of values.
    pub fn observe(&mut self, values: &[f32]) {
        let (mut bmin, mut bmax) = (f32::INFINITY, f32::NEG_INFINITY);
        let mut finite = 0u64;
        for &v in values {
            if v.is_finite() {
                bmin = bmin.min(v);
                bmax = bmax.max(v);
                finite += 1;
            }
        }
        self.non_finite += values.len() as u64 - finite;
        if finite == 0 {
            return;
        }
        self.min = self.min.min(bmin);
        self.max = self.max.max(bmax);
        self.count += finite;
        if self.kind == ObserverKind::MinMax {
            return;
        }
        // The histogram always spans 0 (activations are quantized with 0 exact).
        let (need_lo, need_hi) = (self.min.min(0.0), self.max.max(0.0));
        if self.hist.is_empty() {
            self.hist = vec![0.0; BINS];
            self.lo = need_lo;
            self.hi = if need_hi > need_lo { need_hi } else { need_lo + 1e-6 };
        } else if need_lo < self.lo || need_hi > self.hi {
            // Widen with some margin so a slowly growing range is not re-binned every batch.
            let w = (need_hi - need_lo) * 0.125;
            let nlo = if need_lo < self.lo { need_lo - w.min(-need_lo) } else { self.lo };
            let nhi = if need_hi > self.hi { need_hi + w } else { self.hi };
            self.rebin(nlo, nhi);
        }
        let scale = BINS as f32 / (self.hi - self.lo);
        for &v in values {
            if v.is_finite() {
                let b = (((v - self.lo) * scale) as usize).min(BINS - 1);
                self.hist[b] += 1.0;
            }
        }
    }

    fn rebin(&mut self, lo: f32, hi: f32) {
        let old = std::mem::replace(&mut self.hist, vec![0.0; BINS]);
        let ow = (self.hi - self.lo) / BINS as f32;
        let scale = BINS as f32 / (hi - lo);
        for (i, c) in old.into_iter().enumerate() {
            if c > 0.0 {
                let centre = self.lo + (i as f32 + 0.5) * ow;
                let b = (((centre - lo) * scale).max(0.0) as usize).min(BINS - 1);
                self.hist[b] += c;
            }
        }
        self.lo = lo;
        self.hi = hi;
    }

    /// The range to quantize, `(min, max)`, within the extremes seen.
    pub fn range(&self) -> Result<(f32, f32), ObserveError> {
        if self.non_finite > 0 {
            return Err(ObserveError::NonFinite(self.non_finite));
        }
        if self.count == 0 {
            return Err(ObserveError::Empty);
        }
        let (lo, hi) = match self.kind {
            ObserverKind::MinMax => (self.min, self.max),
            ObserverKind::Percentile(p) => {
                let tail = (1.0 - p / 100.0).max(0.0);
                (self.quantile(tail, false), self.quantile(1.0 - tail, true))
            }
            ObserverKind::Entropy => {
                let t = self.entropy_threshold();
                (if self.min < 0.0 { -t } else { self.min }, t)
            }
        };
        Ok((lo.clamp(self.min, self.max), hi.clamp(self.min, self.max)))
    }

    /// The value below which a fraction `q` of the observed values lies (a bin edge: the
    /// upper edge when `upper`, else the lower one).
    fn quantile(&self, q: f64, upper: bool) -> f32 {
        let total: f64 = self.hist.iter().sum();
        let w = (self.hi - self.lo) / BINS as f32;
        let target = q * total;
        let mut acc = 0.0;
        for (i, c) in self.hist.iter().enumerate() {
            acc += c;
            if acc >= target && (acc > 0.0 || !upper) {
                return self.lo + (i + usize::from(upper)) as f32 * w;
            }
        }
        self.hi
    }

    /// TensorRT's KL-divergence threshold on the histogram of |x|: `levels` = 128 per side for
    /// signed data, 256 for non-negative data (the u8 grid spans `[0, t]` then).
    fn entropy_threshold(&self) -> f32 {
        let amax = self.lo.abs().max(self.hi.abs());
        if amax <= 0.0 {
            return 0.0;
        }
        // Fold the value histogram around 0 into BINS bins over [0, amax].
        let mut abs = vec![0.0f64; BINS];
        let w = (self.hi - self.lo) / BINS as f32;
        for (i, &c) in self.hist.iter().enumerate() {
            if c > 0.0 {
                let centre = (self.lo + (i as f32 + 0.5) * w).abs();
                abs[((centre / amax * BINS as f32) as usize).min(BINS - 1)] += c;
            }
        }
        let levels = if self.min < 0.0 { 128 } else { 256 };
        let mut best = (f64::INFINITY, BINS);
        let step = 8;
        let mut i = levels;
        while i <= BINS {
            let kl = kl_for_threshold(&abs, i, levels);
            if kl < best.0 {
                best = (kl, i);
            }
            i += step;
        }
        best.1 as f32 / BINS as f32 * amax
    }
}

/// KL(P‖Q) where P is the histogram cut at bin `i` (outliers added to the last bin) and Q is P
/// merged into `levels` groups and spread back evenly over each group's non-empty bins.
fn kl_for_threshold(hist: &[f64], i: usize, levels: usize) -> f64 {
    let mut p: Vec<f64> = hist[..i].to_vec();
    p[i - 1] += hist[i..].iter().sum::<f64>();
    let total: f64 = p.iter().sum();
    if total <= 0.0 {
        return f64::INFINITY;
    }
    let mut q = vec![0.0f64; i];
    for g in 0..levels {
        let (a, b) = (g * i / levels, ((g + 1) * i / levels).max(g * i / levels + 1).min(i));
        // The group's mass comes from the unclipped histogram (as TensorRT does), so clipped
        // outliers count against a small threshold.
        let mass: f64 = hist[a..b].iter().sum();
        let nonzero = hist[a..b].iter().filter(|&&c| c > 0.0).count();
        if nonzero > 0 {
            for j in a..b {
                if hist[j] > 0.0 {
                    q[j] = mass / nonzero as f64;
                }
            }
        }
    }
    let qtotal: f64 = q.iter().sum();
    if qtotal <= 0.0 {
        return f64::INFINITY;
    }
    let mut kl = 0.0;
    for j in 0..i {
        if p[j] > 0.0 {
            let pj = p[j] / total;
            // A bin P has and Q lacks (only the outlier bin can be one): smoothed.
            let qj = (q[j] / qtotal).max(1e-12);
            kl += pj * (pj / qj).ln();
        }
    }
    kl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn minmax_is_the_extremes() {
        let mut o = Observer::new(ObserverKind::MinMax);
        o.observe(&[0.5, -1.0, 2.0]);
        o.observe(&[3.0]);
        assert_eq!(o.range().unwrap(), (-1.0, 3.0));
    }

    #[test]
    fn percentile_and_entropy_clip_a_lone_outlier() {
        // Uniform on [0, 1) with a few values at 6, as after a ReLU with rare spikes. (The
        // entropy search cannot go below `levels` of its 2048 bins: a spike more than ~8×
        // the bulk is beyond its resolution, as in TensorRT.)
        let mut v: Vec<f32> = lcg(200_000, 1).into_iter().map(|x| (x + 1.0) / 2.0).collect();
        v.extend([6.0; 5]);
        for kind in [ObserverKind::Percentile(99.99), ObserverKind::Entropy] {
            let mut o = Observer::new(kind);
            for chunk in v.chunks(10_000) {
                o.observe(chunk);
            }
            let (lo, hi) = o.range().unwrap();
            assert!((0.0..0.01).contains(&lo), "{kind}: lo {lo}");
            assert!(hi > 0.9 && hi < 2.0, "{kind}: hi {hi} should ignore the outliers at 6");
        }
        let mut mm = Observer::new(ObserverKind::MinMax);
        mm.observe(&v);
        assert_eq!(mm.range().unwrap().1, 6.0);
    }

    #[test]
    fn histogram_widens_without_losing_counts() {
        let mut o = Observer::new(ObserverKind::Percentile(50.1));
        o.observe(&[0.1; 1000]);
        o.observe(&[-5.0; 10]);
        o.observe(&[40.0; 10]);
        assert_eq!(o.count(), 1020);
        assert!((o.hist.iter().sum::<f64>() - 1020.0).abs() < 1e-9);
        // The median stays near 0.1 after two re-binnings.
        let (_, hi) = o.range().unwrap();
        assert!(hi > 0.0 && hi < 0.2, "{hi}");
    }

    #[test]
    fn entropy_keeps_a_gaussian_mostly_whole() {
        // Sum of uniforms ≈ Gaussian, σ ≈ 0.58 for 4 terms: the threshold lands in the tail.
        let u = lcg(400_000, 7);
        let v: Vec<f32> = u.chunks(4).map(|c| c.iter().sum::<f32>() / 2.0).collect();
        let mut o = Observer::new(ObserverKind::Entropy);
        o.observe(&v);
        let (lo, hi) = o.range().unwrap();
        let (mn, mx) = o.min_max();
        assert!(hi > 0.4 * mx && hi <= mx, "hi {hi} of max {mx}");
        assert!(lo < 0.0 && lo >= mn);
    }

    #[test]
    fn empty_and_non_finite_are_refused() {
        assert_eq!(Observer::new(ObserverKind::MinMax).range(), Err(ObserveError::Empty));
        let mut o = Observer::new(ObserverKind::Entropy);
        o.observe(&[1.0, f32::NAN, f32::INFINITY]);
        assert_eq!(o.range(), Err(ObserveError::NonFinite(2)));
    }

    #[test]
    fn observer_names_parse() {
        assert_eq!("minmax".parse::<ObserverKind>().unwrap(), ObserverKind::MinMax);
        assert_eq!("percentile".parse::<ObserverKind>().unwrap(), ObserverKind::Percentile(99.99));
        assert_eq!("percentile=99.9".parse::<ObserverKind>().unwrap(), ObserverKind::Percentile(99.9));
        assert_eq!(
            ObserverKind::Percentile(99.9).to_string().parse::<ObserverKind>().unwrap(),
            ObserverKind::Percentile(99.9)
        );
        assert!("percentile=20".parse::<ObserverKind>().is_err());
        assert!("kl".parse::<ObserverKind>().unwrap_err().to_string().contains("expected"));
    }
}
