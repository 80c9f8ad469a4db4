//! `motus-train inspect` on a generated dataset and on broken ones.

use std::process::Command;

use motus_core::synth::{self, SynthConfig};

fn inspect(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_motus-train")).arg("inspect").args(args).output().unwrap()
}

#[test]
fn reports_balance_short_videos_and_clip_counts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig { videos_per_class: 2, frames: 24, seed: 1, splits: [100, 0, 0], ..SynthConfig::default() };
    motus_lab::benchmark::write_dataset(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    let out = inspect(&["--data", dir.path().to_str().unwrap(), "--clip-len", "16", "--frame-stride", "2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let classes = synth::class_names().len() as u64;
    assert_eq!(r["videos"].as_u64().unwrap(), 2 * classes);
    assert_eq!(r["imbalance_ratio"].as_f64().unwrap(), 1.0);
    assert_eq!(r["frames"].as_u64().unwrap(), 24 * 2 * classes);
    // 24 frames < span 31: every video is short and padded; one dense window each.
    assert_eq!(r["short_videos"].as_array().unwrap().len() as u64, 2 * classes);
    assert_eq!(r["clips_per_epoch"]["dense"].as_u64().unwrap(), 2 * classes);
    assert_eq!(r["clips_per_epoch"]["tsn"].as_u64().unwrap(), 3 * 2 * classes);
}

#[test]
fn bad_settings_and_data_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = inspect(&["--data", data, "--clip-len", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("clip_len"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = inspect(&["--data", data]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("classInd.txt"), "{}", String::from_utf8_lossy(&out.stderr));
}
