//! tract's AMX int8 kernels stay out of `motus` (see `motus_device::tract_isa`): the binary removes
//! them unless the user sets `TRACT_CPU_ISA`, and a user's setting is left alone. One test in
//! its own process, because it edits the environment.

#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_imports))]
// It runs `motus bench quant`, a host tool.
#![cfg(feature = "lab")]

use std::path::PathBuf;
use std::process::Command;

#[cfg(target_arch = "x86_64")]
use motus_device::tract_isa::NO_AMX_INT8;
use motus_device::tract_isa::{avoid_faulty_kernels, KernelChoice, TRACT_ISA_VAR};

fn zoo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/zoo").join(name)
}

/// The kernels `motus bench quant` reports for the bundled int8 model, run with `env` for
/// `TRACT_CPU_ISA` (None: unset).
fn int8_kernels(env: Option<&str>) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motus"));
    cmd.args(["bench", "quant", "--reps", "1", "--model"])
        .arg(zoo("motus-synth-twostream.onnx"))
        .arg("--int8")
        .arg(zoo("motus-synth-twostream.int8.onnx"));
    match env {
        Some(v) => cmd.env(TRACT_ISA_VAR, v),
        None => cmd.env_remove(TRACT_ISA_VAR),
    };
    let o = cmd.output().expect("motus runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kernels: Vec<String> =
        j["int8"][0]["kernels"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect();
    assert!(!kernels.is_empty(), "{j}");
    kernels
}

#[cfg(target_arch = "x86_64")]
#[test]
fn amx_int8_kernels_are_off_unless_the_user_sets_tract_cpu_isa() {
    std::env::remove_var(TRACT_ISA_VAR);
    assert_eq!(avoid_faulty_kernels(), KernelChoice::AmxInt8Disabled);
    assert_eq!(std::env::var(TRACT_ISA_VAR).unwrap(), NO_AMX_INT8);
    std::env::set_var(TRACT_ISA_VAR, "-avx512vnni");
    assert_eq!(avoid_faulty_kernels(), KernelChoice::LeftToEnvironment("-avx512vnni".into()));
    assert_eq!(std::env::var(TRACT_ISA_VAR).unwrap(), "-avx512vnni");

    // The binary applies it: with nothing set, no int8 product runs on an AMX kernel (on a CPU
    // without AMX there were none to remove, and the assertion holds trivially).
    let kernels = int8_kernels(None);
    assert!(kernels.iter().all(|k| !k.contains("amx")), "AMX kernels chosen: {kernels:?}");
    assert!(kernels.iter().any(|k| k.contains("i32")), "the int8 model runs int8 kernels: {kernels:?}");
    // A user's own edit is used instead: without VNNI (and AMX) int8 falls to AVX2's kernels.
    let kernels = int8_kernels(Some("-avx512vnni,-amx-int8"));
    assert!(
        kernels.iter().all(|k| !k.contains("avx512vnni") && !k.contains("amx")),
        "the user's edit was not applied: {kernels:?}"
    );
}

#[cfg(not(target_arch = "x86_64"))]
#[test]
fn other_architectures_leave_tract_cpu_isa_alone() {
    std::env::remove_var(TRACT_ISA_VAR);
    assert_eq!(avoid_faulty_kernels(), KernelChoice::NotX86_64);
    assert!(std::env::var(TRACT_ISA_VAR).is_err());
}
