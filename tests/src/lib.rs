//! End-to-end tests live in `tests/`; this library holds what they share.

/// How far an accuracy measured on `n_test` videos may fall below one recorded on `n_card`
/// videos before a test calls it a regression: three standard deviations of the difference of
/// two binomial proportions at accuracy `p`. Both figures are samples of the same model on
/// fresh synthetic splits, so a fixed margin would either flake on small splits or hide a
/// real loss on large ones.
pub fn three_sigma(p: f64, n_test: usize, n_card: usize) -> f64 {
    let p = p.clamp(0.0, 1.0);
    let var = |n: usize| p * (1.0 - p) / n.max(1) as f64;
    3.0 * (var(n_test) + var(n_card)).sqrt()
}

#[cfg(test)]
mod tests {
    #[test]
    fn three_sigma_shrinks_with_more_videos() {
        let small = super::three_sigma(0.9, 60, 240);
        assert!((small - 3.0 * (0.09f64 / 60.0 + 0.09 / 240.0).sqrt()).abs() < 1e-12);
        assert!(super::three_sigma(0.9, 600, 2400) < small / 3.0);
        assert_eq!(super::three_sigma(1.0, 60, 240), 0.0);
    }
}
