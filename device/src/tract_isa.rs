//! Which of tract's CPU kernels this process may use.
//!
//! tract 0.23.9 runs int8 matrix products on Intel AMX tiles where the CPU has them (Sapphire
//! Rapids and later). Its `avx512amx_mmm_i32_16x16` kernel faults now and then: on this
//! project's development machine `motus eval` of the bundled int8 model crashed with SIGSEGV
//! in 2 of 5 runs (and `motus quant` once), the core dump stopped at that kernel's
//! `tileloaddt1` of its B tile on the last K step; with the AMX int8 kernels taken out of
//! tract's instruction-set table, 0 of 6 crashed, and the same products ran on the AVX-512
//! VNNI kernels (10.1–10.3 ms against 9.2–9.7 ms per clip for the int8 model, three paired
//! runs of `motus bench quant --reps 30`). A rare crash in the device's inference is worse than
//! a 9% slower int8 model, so the AMX int8 kernels are off unless the user says otherwise.
//! Float models never used them.
//!
//! tract reads its instruction-set edits from `TRACT_CPU_ISA` once, the first time it picks a
//! kernel, so [`avoid_faulty_kernels`] must run before any model is loaded, and, because it
//! writes the process environment, before any other thread exists: the first lines of `main`.

/// tract's environment knob for editing the instruction sets it may use.
pub const TRACT_ISA_VAR: &str = "TRACT_CPU_ISA";

/// The edit applied when the user has none: no AMX int8 kernels (see the module doc).
pub const NO_AMX_INT8: &str = "-amx-int8";

/// What [`avoid_faulty_kernels`] did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelChoice {
    /// `TRACT_CPU_ISA` was unset; it is now [`NO_AMX_INT8`].
    AmxInt8Disabled,
    /// The user set `TRACT_CPU_ISA` (to this); their choice stands, AMX included if they ask.
    LeftToEnvironment(String),
    /// Not x86_64 (the Jetson's aarch64): no AMX, and tract rejects an x86_64 token there.
    NotX86_64,
}

/// Takes tract's AMX int8 kernels out of this process unless `TRACT_CPU_ISA` is already set.
/// Call it first thing in `main`, while the process has one thread: it writes the environment.
pub fn avoid_faulty_kernels() -> KernelChoice {
    if !cfg!(target_arch = "x86_64") {
        return KernelChoice::NotX86_64;
    }
    match std::env::var(TRACT_ISA_VAR) {
        Ok(user) => KernelChoice::LeftToEnvironment(user),
        Err(_) => {
            std::env::set_var(TRACT_ISA_VAR, NO_AMX_INT8);
            KernelChoice::AmxInt8Disabled
        }
    }
}
