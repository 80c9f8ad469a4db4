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
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause once: the library errors name their cause
/// in their own message and also keep it as `source()`, so a cause whose text is already
/// there is not repeated.
fn describe(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn each_cause_is_named_once() {
        let io = || std::io::Error::other("disk on fire");
        assert_eq!(describe(&anyhow::Error::new(Outer(io()))), "outer: disk on fire");
        let e = anyhow::Error::new(io()).context("reading x");
        assert_eq!(describe(&e), "reading x: disk on fire");
    }
}
