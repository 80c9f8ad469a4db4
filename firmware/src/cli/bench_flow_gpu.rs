//! The GPU part of `motus bench flow`: the wgpu TV-L1 engine on the same frames.

use std::time::Instant;

use motus_core::flow::{FlowEngine, FlowField, TvL1Gpu, TvL1Params};
use motus_core::Frame;
use serde::Serialize;

use super::bench::median;
use super::bench_flow::{resized, size_key, BySize};

/// The GPU part of the report: measured, or why not (no adapter, a failed submission).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum GpuOutcome {
    Measured(Box<GpuReport>),
    Failed { error: String },
}

/// The wgpu engine's single-pair latency per preset and size, and its batched throughput.
#[derive(Debug, Serialize)]
pub(super) struct GpuReport {
    adapter: String,
    /// A software adapter (lavapipe): figures say nothing about a real GPU.
    software: bool,
    #[serde(flatten)]
    presets: std::collections::BTreeMap<&'static str, BySize<GpuTiming>>,
    edge_128_batched: Batched,
}

#[derive(Debug, Serialize)]
struct GpuTiming {
    ms_per_pair: f64,
    includes: &'static str,
}

#[derive(Debug, Serialize)]
struct Batched {
    pairs_per_submission: usize,
    pairs_per_s: f64,
}

/// Single-pair latency (upload + compute + readback) and batched throughput. On a software
/// adapter (lavapipe) the native-size accurate run is skipped unless `full` is set: it takes
/// several seconds per pair and says nothing about a real GPU.
pub(super) fn measure_gpu(pairs: &[(Frame, Frame)], reps: usize, full: bool) -> GpuOutcome {
    match measure(pairs, reps, full) {
        Ok(r) => GpuOutcome::Measured(Box::new(r)),
        Err(e) => GpuOutcome::Failed { error: format!("{e:#}") },
    }
}

fn measure(pairs: &[(Frame, Frame)], reps: usize, full: bool) -> anyhow::Result<GpuReport> {
    let ctx = motus_core::gpu::GpuContext::shared()?;
    let software = ctx.is_software();
    let (a0, b0) = &pairs[0];
    let mut field = FlowField::zeros(0, 0);
    let mut presets = std::collections::BTreeMap::new();
    for (preset, params) in [("accurate", TvL1Params::accurate()), ("edge", TvL1Params::edge())] {
        let mut engine = TvL1Gpu::new(ctx.clone(), params)?;
        let mut by_size = BySize::new();
        for size in [Some(128u32), None] {
            if size.is_none() && preset == "accurate" && software && !full {
                continue;
            }
            let (a, b) = match size {
                Some(s) => (resized(a0, s)?, resized(b0, s)?),
                None => (a0.clone(), b0.clone()),
            };
            engine.compute_into(&a, &b, &mut field)?; // builds this size's buffers and plan
            let mut times = Vec::new();
            for _ in 0..reps.max(1) {
                let t = Instant::now();
                engine.compute_into(&a, &b, &mut field)?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            by_size.insert(
                size_key(size),
                GpuTiming { ms_per_pair: median(times), includes: "upload, compute, readback" },
            );
        }
        presets.insert(preset, by_size);
    }
    // Throughput: edge at 128x128, every Middlebury pair resized, in one submission.
    let small: Vec<(Frame, Frame)> =
        pairs.iter().map(|(a, b)| Ok((resized(a, 128)?, resized(b, 128)?))).collect::<anyhow::Result<_>>()?;
    let refs: Vec<(&Frame, &Frame)> = small.iter().map(|(a, b)| (a, b)).collect();
    let mut outs = vec![FlowField::zeros(0, 0); refs.len()];
    let mut engine = TvL1Gpu::new(ctx.clone(), TvL1Params::edge())?;
    engine.compute_batch(&refs, &mut outs)?;
    let mut rates = Vec::new();
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        engine.compute_batch(&refs, &mut outs)?;
        rates.push(refs.len() as f64 / t.elapsed().as_secs_f64());
    }
    Ok(GpuReport {
        adapter: ctx.adapter_name().to_string(),
        software,
        presets,
        edge_128_batched: Batched { pairs_per_submission: refs.len(), pairs_per_s: median(rates) },
    })
}
