//! Statistics shared by the device's metrics and the host's reports, so a p95 means the same
//! thing in `motus run`'s metrics as in `motus eval`'s report.

/// Nearest-rank quantile (`q` in 0..=1) of values sorted ascending; `None` for none. The one
/// definition behind motus's latency percentiles (eval, the runtime's stages, alert latency).
pub fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()).checked_sub(1)?).copied()
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn nearest_rank_picks_the_ceiling_rank() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(nearest_rank(&v, 0.5), Some(2.0));
        assert_eq!(nearest_rank(&v, 0.95), Some(4.0));
        assert_eq!(nearest_rank(&v, 0.0), Some(1.0));
        assert_eq!(nearest_rank(&[], 0.5), None);
    }
}
