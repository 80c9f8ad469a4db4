//! Choosing a flow implementation: the CPU engine, the wgpu engine, or the best available.

use crate::names::UnknownName;
use serde::{Deserialize, Serialize};

use super::{FlowEngine, FlowError, TvL1Cpu, TvL1Params};

/// Which implementation computes flow. Both compute the same algorithm with the same
/// parameters (their agreement is tested), so the choice is about speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Multi-threaded CPU code.
    Cpu,
    /// WGSL compute shaders through wgpu (Vulkan); fails if no adapter exists.
    Gpu,
    /// The GPU when a hardware adapter exists, else the CPU. A software Vulkan device
    /// (lavapipe) is not chosen: it runs on the same cores as the CPU engine, only slower.
    Auto,
}

impl std::str::FromStr for Backend {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s {
            "cpu" => Ok(Backend::Cpu),
            "gpu" => Ok(Backend::Gpu),
            "auto" => Ok(Backend::Auto),
            other => Err(UnknownName::new("flow backend", other, "cpu, gpu or auto")),
        }
    }
}

/// Builds the engine for `backend`; `threads` applies to the CPU engine.
pub fn make_engine(backend: Backend, params: TvL1Params, threads: usize) -> Result<Box<dyn FlowEngine>, FlowError> {
    match backend {
        Backend::Cpu => Ok(Box::new(TvL1Cpu::new(params, threads)?)),
        Backend::Gpu => gpu_engine(params),
        Backend::Auto => match crate::gpu::GpuContext::shared() {
            Ok(ctx) if !ctx.is_software() => gpu_engine(params),
            Ok(ctx) => {
                log::info!("flow: {} is a software Vulkan device; using the CPU engine", ctx.adapter_name());
                Ok(Box::new(TvL1Cpu::new(params, threads)?))
            }
            Err(e) => {
                log::info!("flow: no GPU ({e}); using the CPU engine");
                Ok(Box::new(TvL1Cpu::new(params, threads)?))
            }
        },
    }
}

fn gpu_engine(params: TvL1Params) -> Result<Box<dyn FlowEngine>, FlowError> {
    Ok(Box::new(super::TvL1Gpu::with_shared_device(params)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_cpu_is_always_available() {
        assert_eq!("gpu".parse::<Backend>(), Ok(Backend::Gpu));
        assert!("cuda".parse::<Backend>().unwrap_err().to_string().contains("cpu, gpu or auto"));
        let e = make_engine(Backend::Cpu, TvL1Params::edge(), 1).unwrap();
        assert!(e.name().starts_with("tvl1-cpu"));
        let bad = TvL1Params { tau: 0.0, ..TvL1Params::edge() };
        assert!(make_engine(Backend::Cpu, bad, 1).is_err());
    }

    #[test]
    fn auto_never_picks_a_software_device() {
        // Here the only Vulkan device is lavapipe (or none): auto must fall back to the CPU.
        let e = make_engine(Backend::Auto, TvL1Params::edge(), 1).unwrap();
        match crate::gpu::GpuContext::shared() {
            Ok(ctx) if !ctx.is_software() => assert!(e.name().starts_with("tvl1-gpu")),
            _ => assert!(e.name().starts_with("tvl1-cpu"), "{}", e.name()),
        }
    }

    #[test]
    fn explicit_gpu_uses_the_wgpu_engine() {
        if crate::gpu::gpu_tests_skipped() {
            eprintln!("MOTUS_SKIP_GPU_TESTS=1: skipping");
            return;
        }
        let e = make_engine(Backend::Gpu, TvL1Params::edge(), 1)
            .expect("a Vulkan adapter (lavapipe in CI); MOTUS_SKIP_GPU_TESTS=1 skips explicitly");
        assert!(e.name().starts_with("tvl1-gpu"), "{}", e.name());
    }
}
