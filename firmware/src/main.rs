//! The `motus` command: one binary for the device runtime and the offline tools.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Before any thread allocates: arenas are created on a thread's first allocation.
    let tuning = motus_device::memory::tune_allocator();
    // While the process has one thread (it writes the environment), before tract picks kernels.
    let kernels = motus_device::tract_isa::avoid_faulty_kernels();
    // Likewise: Mesa's Vulkan loader complains on stderr when a GPU is probed without it.
    let runtime_dir = motus_core::gpu::quiet_display_probe();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).format_timestamp(None).init();
    match tuning {
        motus_device::memory::AllocatorTuning::Refused(what) => {
            log::warn!("malloc refused {what}; memory may fragment over long runs")
        }
        other => log::debug!("allocator: {other:?}"),
    }
    log::debug!("tract kernels: {kernels:?}");
    log::debug!("XDG_RUNTIME_DIR: {runtime_dir:?}");
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
