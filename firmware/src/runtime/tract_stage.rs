//! The model stage: the shared clip assembly (`infer::clip::ClipBuilder`, the same code
//! `motus eval` measures with) feeding tract (`infer::Classifier`). The flow engine is the
//! card's algorithm and parameters on the configured backend, wrapped in [`CachedFlow`] so a
//! frame pair shared by overlapping windows is computed once.

use std::path::Path;
use std::time::Instant;

use crate::flow::{self, Backend, FlowConfig};
use crate::frame::Frame;
use crate::infer::clip::ClipBuilder;
use crate::infer::Classifier;
use crate::preprocess::CropPosition;

use super::classify::{StageTimes, WindowClassifier};
use super::flow_cache::CachedFlow;

/// A model and its clip builder.
pub struct TractStage {
    classifier: Classifier,
    builder: ClipBuilder,
    labels: Vec<String>,
    window_len: usize,
    frame_stride: usize,
    describe: String,
    picked: Vec<usize>,
}

impl TractStage {
    /// Loads `model` (card embedded, or `card` / the sidecar), builds the flow engine the card
    /// asks for on `backend`, and checks that the clip contract fits the graph. A card whose
    /// flow settings the engine cannot honour is refused here, with the mismatch named.
    pub fn load(model: &Path, card: Option<&Path>, backend: Backend, flow_threads: usize, infer_threads: usize) -> Result<Self, String> {
        crate::infer::set_threads(infer_threads);
        let classifier = match card {
            Some(c) => {
                let text = std::fs::read_to_string(c).map_err(|e| format!("card {}: {e}", c.display()))?;
                let card = motus_models::ModelCard::from_toml(&text).map_err(|e| format!("card {}: {e}", c.display()))?;
                Classifier::load_with_card(model, card)
            }
            None => Classifier::load(model),
        }
        .map_err(|e| e.to_string())?;
        let card = classifier.card().clone();
        let flow = match &card.flow {
            None => None,
            Some(spec) => {
                let cfg = FlowConfig::from_card(spec).map_err(|e| format!("model {}: flow: {e}", model.display()))?;
                let engine = flow::make_engine(backend, cfg.params.clone(), flow_threads).map_err(|e| format!("flow engine: {e}"))?;
                let cache = 2 * (card.input.clip.clip_len as usize + cfg.stack_len as usize) + 4;
                Some((Box::new(CachedFlow::new(engine, cache)) as Box<dyn flow::FlowEngine>, cfg))
            }
        };
        let builder = ClipBuilder::new(&card, flow).map_err(|e| format!("model {}: {e}", model.display()))?;
        let spec = builder.window_spec();
        let window_len = builder.window_len();
        let frame_stride = spec.frame_stride.max(1) as usize;
        let describe = format!(
            "model {} ({}, {} classes, window {} frames every {} source frames, flow {})",
            model.display(),
            card.arch.name(),
            card.labels.len(),
            window_len,
            frame_stride,
            builder.flow_engine().unwrap_or("none")
        );
        Ok(TractStage { labels: card.labels.clone(), classifier, builder, window_len, frame_stride, describe, picked: Vec::new() })
    }
}

impl WindowClassifier for TractStage {
    fn labels(&self) -> &[String] {
        &self.labels
    }

    fn span(&self) -> usize {
        (self.window_len - 1) * self.frame_stride + 1
    }

    fn classify(&mut self, frames: &[&Frame]) -> Result<(Vec<f32>, StageTimes), String> {
        if frames.len() != self.span() {
            return Err(format!("window of {} frames, the model spans {}", frames.len(), self.span()));
        }
        self.picked.clear();
        self.picked.extend((0..self.window_len).map(|i| i * self.frame_stride));
        let window: Vec<&Frame> = self.picked.iter().map(|&i| frames[i]).collect();
        let t = self.builder.build(&window, CropPosition::Center).map_err(|e| e.to_string())?;
        let t_infer = Instant::now();
        let scores = self.classifier.run(&self.builder.inputs()).map_err(|e| e.to_string())?;
        let infer = t_infer.elapsed();
        Ok((scores.probs_row(0).to_vec(), StageTimes { preprocess: t.preprocess, flow: t.flow, infer }))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
