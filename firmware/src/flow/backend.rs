//! Choosing a flow implementation: the CPU engine, the wgpu engine, or the best available.

use serde::{Deserialize, Serialize};

use super::{FlowEngine, FlowError, TvL1Cpu, TvL1Params};

/// Which implementation computes flow. Both compute the same algorithm with the same
/// parameters (their agreement is tested), so the choice is about speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(Backend::Cpu),
            "gpu" => Ok(Backend::Gpu),
            "auto" => Ok(Backend::Auto),
            other => Err(format!("unknown flow backend {other:?} (cpu, gpu or auto)")),
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
    let _ = params;
    Err(FlowError::InvalidParams("the GPU flow backend is not built into this binary yet".into()))
}
