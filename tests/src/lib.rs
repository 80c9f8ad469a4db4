//! End-to-end tests live in `tests/`; this library holds what they share.

use std::path::PathBuf;

use motus_core::synth::SynthConfig;
use motus_lab::benchmark::write_dataset;
use motus_lab::dataset::Dataset;

/// A model shipped in `models/zoo/` (the bundled float and int8 models).
pub fn zoo_model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/zoo").join(name)
}

/// The rate the bundled models were trained and carded at (`scripts/train-bundled.sh`): the
/// camera's 30 fps, not synth's 25 fps default, so that motion per frame matches the device.
pub const BUNDLED_FPS: f64 = 30.0;
/// Frames per synthetic video at [`BUNDLED_FPS`]: the 1.9 s of synth's default 48 at 25 fps.
pub const BUNDLED_FRAMES: u32 = 58;

/// A synthetic test split no bundled model has seen, `videos_per_class` videos per class at
/// the bundled models' rate, from the seed in `MOTUS_BUNDLED_SEED` when set (to try another)
/// or else `default_seed`.
/// Returns the folder (deleted when dropped), the split, and the seed used.
pub fn fresh_test_split(default_seed: u64, videos_per_class: usize) -> (tempfile::TempDir, Dataset, u64) {
    let seed = std::env::var("MOTUS_BUNDLED_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default_seed);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let cfg = SynthConfig {
        videos_per_class,
        splits: [0, 0, 100],
        seed,
        fps: BUNDLED_FPS,
        frames: BUNDLED_FRAMES,
        ..Default::default()
    };
    write_dataset(&cfg, dir.path(), &mut |_, _| {}).expect("writing the synthetic split");
    let ds = Dataset::open_split(dir.path(), "test").expect("reading back the synthetic split");
    (dir, ds, seed)
}

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
