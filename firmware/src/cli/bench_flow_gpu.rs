//! The GPU part of `motus bench flow`: the wgpu TV-L1 engine on the same frames.

use std::time::Instant;

use motus_core::flow::{FlowEngine, FlowField, TvL1Gpu, TvL1Params};
use motus_core::Frame;
use serde_json::{json, Map, Value};

use super::bench::median;
use super::bench_flow::resized;

/// Single-pair latency (upload + compute + readback) and batched throughput. On a software
/// adapter (lavapipe) the native-size accurate run is skipped unless `full` is set: it takes
/// several seconds per pair and says nothing about a real GPU.
pub fn measure_gpu(pairs: &[(Frame, Frame)], reps: usize, full: bool) -> anyhow::Result<Value> {
    let ctx = motus_core::gpu::GpuContext::shared()?;
    let software = ctx.is_software();
    let mut report = Map::new();
    report.insert("adapter".into(), json!(ctx.adapter_name()));
    report.insert("software".into(), json!(software));
    let (a0, b0) = &pairs[0];
    let mut field = FlowField::zeros(0, 0);
    for (preset, params) in [("accurate", TvL1Params::accurate()), ("edge", TvL1Params::edge())] {
        let mut engine = TvL1Gpu::new(ctx.clone(), params)?;
        let mut by_size = Map::new();
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
                size.map_or("native".into(), |s| s.to_string()),
                json!({"ms_per_pair": median(times), "includes": "upload, compute, readback"}),
            );
        }
        report.insert(preset.into(), Value::Object(by_size));
    }
    // Throughput: edge at 128x128, every Middlebury pair resized, in one submission.
    let small: Vec<(Frame, Frame)> =
        pairs.iter().map(|(a, b)| Ok((resized(a, 128)?, resized(b, 128)?))).collect::<anyhow::Result<_>>()?;
    let refs: Vec<(&Frame, &Frame)> = small.iter().map(|(a, b)| (a, b)).collect();
    let mut outs = vec![FlowField::zeros(0, 0); refs.len()];
    let mut engine = TvL1Gpu::new(ctx, TvL1Params::edge())?;
    engine.compute_batch(&refs, &mut outs)?;
    let mut rates = Vec::new();
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        engine.compute_batch(&refs, &mut outs)?;
        rates.push(refs.len() as f64 / t.elapsed().as_secs_f64());
    }
    report.insert("edge_128_batched".into(), json!({"pairs_per_submission": refs.len(), "pairs_per_s": median(rates)}));
    Ok(Value::Object(report))
}
