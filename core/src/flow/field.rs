//! The dense flow field every flow producer returns and every consumer (encoding,
//! visualisation, evaluation, `.flo` files) reads.

/// Magnitude above which a component is the Middlebury "unknown" marker rather than a motion.
///
/// Middlebury ground truth stores `1e10` for pixels without a known flow; anything this large
/// cannot be a real displacement, so every consumer treats it as "no data".
pub const UNKNOWN_THRESHOLD: f32 = 1e9;

/// Dense optical flow from frame 1 to frame 2: pixel `(x, y)` of frame 1 moves to
/// `(x + u, y + v)` in frame 2, in pixels.
///
/// Two planar `f32` arrays (row-major, `width * height` each) rather than interleaved pairs,
/// because every consumer (model input planes, per-pixel GPU kernels, SIMD loops) wants one
/// component at a time. Ground truth read from `.flo` may hold the unknown marker (any
/// component with magnitude > [`UNKNOWN_THRESHOLD`] or infinite); values are kept as read so a
/// round trip is lossless, and [`FlowField::valid_mask`] / [`FlowField::epe`] skip them.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowField {
    /// Columns, as in the frames the flow was computed from.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Horizontal displacement (pixels, positive to the right).
    pub u: Vec<f32>,
    /// Vertical displacement (pixels, positive downwards).
    pub v: Vec<f32>,
}

/// Whether a flow vector is a real measurement (not the unknown marker, not NaN).
///
/// Kept as a free function so the same rule is used by the mask, the EPE and the encoders.
#[inline]
pub fn is_known(u: f32, v: f32) -> bool {
    u.abs() <= UNKNOWN_THRESHOLD && v.abs() <= UNKNOWN_THRESHOLD
}

impl FlowField {
    /// An all-zero field, for engines that fill a reused output.
    pub fn zeros(width: u32, height: u32) -> Self {
        let n = width as usize * height as usize;
        FlowField { width, height, u: vec![0.0; n], v: vec![0.0; n] }
    }

    /// Resizes the planes for a new size, keeping allocations when large enough, so an engine
    /// writing into a reused field allocates nothing at a steady size.
    pub fn reshape(&mut self, width: u32, height: u32) {
        let n = width as usize * height as usize;
        self.width = width;
        self.height = height;
        self.u.resize(n, 0.0);
        self.v.resize(n, 0.0);
    }

    /// Number of pixels, the length of each plane.
    pub fn len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// True when the field has no pixels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` where the flow is known (see [`is_known`]); the pixels ground-truth metrics use.
    pub fn valid_mask(&self) -> Vec<bool> {
        self.u.iter().zip(&self.v).map(|(&u, &v)| is_known(u, v)).collect()
    }

    /// Largest known displacement magnitude (0 for an empty or all-unknown field); the
    /// default normalisation of the colour visualisation.
    pub fn max_magnitude(&self) -> f32 {
        self.u
            .iter()
            .zip(&self.v)
            .filter(|(&u, &v)| is_known(u, v))
            .map(|(&u, &v)| (u * u + v * v).sqrt())
            .fold(0.0, f32::max)
    }

    /// Mean end-point error of `self` (an estimate) against `truth`, over the pixels where
    /// `truth` is known; `None` when the sizes differ or no pixel is known.
    ///
    /// Accumulated in `f64` so the mean over ~200k pixels does not drift.
    pub fn epe(&self, truth: &FlowField) -> Option<f64> {
        if self.width != truth.width || self.height != truth.height {
            return None;
        }
        let mut sum = 0.0f64;
        let mut n = 0usize;
        for i in 0..truth.len() {
            let (tu, tv) = (truth.u[i], truth.v[i]);
            if !is_known(tu, tv) {
                continue;
            }
            let du = (self.u[i] - tu) as f64;
            let dv = (self.v[i] - tv) as f64;
            sum += (du * du + dv * dv).sqrt();
            n += 1;
        }
        (n > 0).then(|| sum / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epe_skips_unknown() {
        let est = FlowField { width: 2, height: 1, u: vec![1.0, 0.0], v: vec![0.0, 0.0] };
        let truth = FlowField { width: 2, height: 1, u: vec![0.0, 1e10], v: vec![0.0, 1e10] };
        assert_eq!(truth.valid_mask(), vec![true, false]);
        assert_eq!(est.epe(&truth), Some(1.0));
        assert_eq!(truth.max_magnitude(), 0.0);
    }

    #[test]
    fn epe_rejects_size_mismatch() {
        assert_eq!(FlowField::zeros(2, 2).epe(&FlowField::zeros(2, 3)), None);
    }
}
