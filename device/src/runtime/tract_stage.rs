//! The model stage: the shared clip assembly (`infer::clip::ClipBuilder`, the same code
//! `motus eval` measures with) feeding tract (`infer::Classifier`). The flow engine is the
//! card's algorithm and parameters on the configured backend, wrapped in [`CachedFlow`] so a
//! frame pair shared by overlapping windows is computed once.
//!
//! Per-frame reuse of the resize: [`TractStage::prepare`] shrinks each frame once, as it
//! enters the window history, to the card's `resize_short` size with the shared
//! [`Resampler`]. The clip builder's own resize of such a frame is then the identity (a
//! triangle filter at scale 1 has taps 0, 1, 0), so the tensors are bit-identical to those
//! built from the camera frames (tested), at a fraction of the cost per window.

use std::path::Path;
use std::time::Instant;

use motus_core::flow::{self, Backend, FlowConfig};
use motus_core::frame::Frame;
use motus_core::infer::clip::ClipBuilder;
use motus_core::infer::Classifier;
use motus_core::preprocess::{resize_short_side, CropPosition, Resampler};

use super::classify::{StageError, StageTimes, WindowClassifier};
use super::config::CropMode;
use super::flow_cache::CachedFlow;
use super::follow_crop::FollowCrop;

/// A model and its clip builder.
pub struct TractStage {
    classifier: Classifier,
    builder: ClipBuilder,
    labels: Vec<String>,
    window_len: usize,
    frame_stride: usize,
    describe: String,
    picked: Vec<usize>,
    resize_short: u32,
    resampler: Option<Resampler>,
    crop: CropMode,
    follow: FollowCrop,
    /// Timestamps of the previous window's frames, to find how far the window slid (the
    /// frames it shares with this one keep their flow).
    last_window: Vec<std::time::Duration>,
    input_size: u32,
}

impl TractStage {
    /// Loads `model` (card embedded, or `card` / the sidecar), builds the flow engine the card
    /// asks for on `backend`, and checks that the clip contract fits the graph. A card whose
    /// flow settings the engine cannot honour is refused here, with the mismatch named.
    pub fn load(
        model: &Path,
        card: Option<&Path>,
        backend: Backend,
        flow_threads: usize,
        infer_threads: usize,
    ) -> Result<Self, StageError> {
        motus_core::infer::set_threads(infer_threads);
        let classifier = match card {
            Some(c) => {
                let text = std::fs::read_to_string(c)
                    .map_err(|source| StageError::CardRead { path: c.to_path_buf(), source })?;
                let card = motus_models::ModelCard::from_toml(&text)
                    .map_err(|source| StageError::Card { path: c.to_path_buf(), source })?;
                Classifier::load_with_card(model, card)
            }
            None => Classifier::load(model),
        }?;
        let card = classifier.card().clone();
        let flow = match &card.flow {
            None => None,
            Some(spec) => {
                let cfg = FlowConfig::from_card(spec)
                    .map_err(|source| StageError::FlowContract { path: model.to_path_buf(), source })?;
                let engine =
                    flow::make_engine(backend, cfg.params.clone(), flow_threads).map_err(StageError::FlowEngine)?;
                let cache = 2 * (card.input.clip.clip_len as usize + cfg.stack_len as usize) + 4;
                Some((Box::new(CachedFlow::new(engine, cache)) as Box<dyn flow::FlowEngine>, cfg))
            }
        };
        let builder =
            ClipBuilder::new(&card, flow).map_err(|source| StageError::Clip { path: model.to_path_buf(), source })?;
        let spec = builder.window_spec();
        let window_len = builder.window_len();
        let frame_stride = spec.frame_stride.max(1) as usize;
        let rate = card.input.fps.map_or("the source's rate".to_string(), |fps| format!("{fps} fps"));
        let describe = format!(
            "model {} ({}, {} classes, window {} frames every {} frames at {rate}, flow {})",
            model.display(),
            card.arch.name(),
            card.labels.len(),
            window_len,
            frame_stride,
            builder.flow_engine().unwrap_or("none")
        );
        Ok(TractStage {
            labels: card.labels.clone(),
            classifier,
            builder,
            window_len,
            frame_stride,
            describe,
            picked: Vec::new(),
            resize_short: card.input.resize_short,
            resampler: None,
            crop: CropMode::Center,
            follow: FollowCrop::default(),
            last_window: Vec::new(),
            input_size: card.input.input_size,
        })
    }

    /// Runs a two-stream model's towers on two threads (`model.parallel_streams`). A model
    /// without two towers runs whole; the reason is logged, as a config that asks for towers
    /// is still valid for any model.
    pub fn set_parallel_streams(&mut self, on: bool) {
        if !on {
            return;
        }
        match self.classifier.split_streams() {
            Ok(()) => self.describe.push_str(", towers in parallel"),
            Err(reason) => log::info!("model runs as one graph, not tower by tower: {reason}"),
        }
    }

    /// SHA-256 of the model bytes that run (what alerts are stamped with).
    pub fn model_sha256(&self) -> &str {
        self.classifier.model_sha256()
    }

    /// The model's card (what it was trained and measured on, its clip contract).
    pub fn card(&self) -> &motus_models::ModelCard {
        self.classifier.card()
    }

    /// Whether the model's towers run side by side ([`TractStage::set_parallel_streams`]).
    pub fn towers_in_parallel(&self) -> bool {
        self.classifier.streams_split()
    }

    /// Magnifies what the model sees (`window.zoom`, see [`ClipBuilder::set_zoom`]); frames
    /// entering the history are then resized to the zoomed size.
    pub fn set_zoom(&mut self, zoom: f32) -> Result<(), StageError> {
        self.builder.set_zoom(zoom).map_err(StageError::Window)?;
        self.resize_short = self.builder.resize_short();
        self.resampler = None;
        self.last_window.clear();
        if zoom != 1.0 {
            self.describe.push_str(&format!(", zoom {zoom}"));
        }
        Ok(())
    }

    /// Where the model's square crop is taken along the frame's longer side (`window.crop`).
    pub fn set_crop(&mut self, crop: CropMode) {
        self.crop = crop;
        if crop != CropMode::Center {
            self.describe.push_str(&format!(", crop {crop:?}").to_lowercase());
        }
    }

    /// How many window frames the window advanced since the previous one (0 when it shares
    /// none with it, or on the first window): the smallest shift under which the frames the
    /// two windows share carry the same timestamps. The pipeline's model clock gives two
    /// frames one timestamp exactly when they are copies of one camera frame
    /// ([`super::model_clock`]), so equal timestamps mean equal frames even where the shift is
    /// ambiguous (a slow camera's repeats), and what is reused is what a fresh build computes.
    fn advance(&self, window: &[&Frame]) -> usize {
        let last = &self.last_window;
        (1..last.len())
            .find(|&k| last.len() - k <= window.len() && last[k..].iter().zip(window).all(|(t, f)| *t == f.timestamp))
            .unwrap_or(0)
    }

    /// Runs the network on `runtime` (`model.runtime` in the config); CUDA is checked now so
    /// that a board without a driver fails at start-up with the reason.
    pub fn set_runtime(&mut self, runtime: motus_core::infer::InferRuntime) -> Result<(), StageError> {
        self.classifier.set_runtime(runtime)?;
        self.describe.push_str(&format!(", inference on {}", runtime.name()));
        Ok(())
    }

    /// Loads the model a run config names (`model_path`, already resolved) and applies the
    /// config's model and window settings: what `motus run`, `demo` and the benchmarks run,
    /// so that tests holding the same config run the same stage.
    pub fn for_run(model_path: &Path, cfg: &super::config::RunConfig) -> Result<Self, StageError> {
        let backend = cfg.model.flow_backend;
        let mut stage = TractStage::load(
            model_path,
            cfg.model.card.as_deref(),
            backend,
            cfg.model.flow_threads,
            cfg.model.threads,
        )?;
        stage.set_runtime(cfg.model.runtime)?;
        stage.set_parallel_streams(cfg.model.parallel_streams);
        stage.set_crop(cfg.window.crop);
        stage.set_zoom(cfg.window.zoom)?;
        if let Some(want) = &cfg.model.sha256 {
            if !stage.model_sha256().eq_ignore_ascii_case(want) {
                let got = stage.model_sha256().to_string();
                return Err(StageError::PinMismatch { path: model_path.to_path_buf(), got, want: want.clone() });
            }
        }
        Ok(stage)
    }
}

impl WindowClassifier for TractStage {
    fn labels(&self) -> &[String] {
        &self.labels
    }

    fn span(&self) -> usize {
        (self.window_len - 1) * self.frame_stride + 1
    }

    fn prepare(&mut self, src: &Frame, dst: &mut Frame) -> Result<(), StageError> {
        let target = resize_short_side(src.width, src.height, self.resize_short);
        let r = match &mut self.resampler {
            Some(r) if r.sizes() == ((src.width, src.height), target) => r,
            slot => slot.insert(Resampler::new((src.width, src.height), target).map_err(StageError::Resize)?),
        };
        r.resize(src, dst).map_err(StageError::Resize)?;
        dst.timestamp = src.timestamp;
        Ok(())
    }

    fn classify(&mut self, frames: &[&Frame]) -> Result<(Vec<f32>, StageTimes), StageError> {
        if frames.len() != self.span() {
            return Err(StageError::WindowLength { got: frames.len(), span: self.span() });
        }
        self.picked.clear();
        self.picked.extend((0..self.window_len).map(|i| i * self.frame_stride));
        let window: Vec<&Frame> = self.picked.iter().map(|&i| frames[i]).collect();
        let t = match self.crop.fixed() {
            Some(position) => self.builder.build(&window, position),
            None => {
                // Motion over the newest frames of the window: two model frames apart, or further
                // back to the first other camera frame when a slow camera's frame repeats.
                let newer = frames[frames.len() - 1];
                let two_back = frames[frames.len().saturating_sub(3)];
                let older =
                    frames.iter().rev().skip(2).find(|f| f.timestamp != newer.timestamp).copied().unwrap_or(two_back);
                let crop = CropPosition::At(self.follow.next(older, newer, self.input_size));
                let advance = self.advance(&window);
                self.last_window.clear();
                self.last_window.extend(window.iter().map(|f| f.timestamp));
                self.builder.build_sliding(&window, crop, advance)
            }
        }
        .map_err(StageError::Window)?;
        let t_infer = Instant::now();
        let scores = self.classifier.run(&self.builder.inputs())?;
        let infer = t_infer.elapsed();
        Ok((scores.probs_row(0).to_vec(), StageTimes { preprocess: t.preprocess, flow: t.flow, infer }))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn frame_rate(&self) -> Option<f64> {
        self.card().input.fps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use motus_core::infer::test_models::{tiny_spec, write_model};
    use motus_core::media::VideoReader;

    /// `n` frames of a `w x h` live synthetic scene, each as `stage` prepares it for its
    /// window history.
    fn prepared_stream(stage: &mut TractStage, (w, h): (u32, u32), seed: u64, n: usize) -> Vec<Frame> {
        let mut v = motus_core::synth::SynthVideo::endless(w, h, 25.0, seed);
        (0..n)
            .map(|_| {
                let raw = v.next_frame().unwrap().unwrap();
                let mut p = Frame::new(0, 0);
                stage.prepare(&raw, &mut p).unwrap();
                p
            })
            .collect()
    }

    #[test]
    fn a_pinned_hash_admits_only_that_model() {
        use sha2::Digest;
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<String> = (0..3).map(|i| format!("c{i}")).collect();
        let path = write_model(dir.path(), "c3d", &tiny_spec("c3d", 3, 32), labels, 1);
        let sha: String =
            sha2::Sha256::digest(std::fs::read(&path).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
        let mut cfg = super::super::config::RunConfig::default();
        cfg.model.flow_backend = Backend::Cpu;
        cfg.model.sha256 = Some(sha.to_uppercase());
        let stage = TractStage::for_run(&path, &cfg).unwrap();
        assert_eq!(stage.model_sha256(), sha);
        cfg.model.sha256 = Some("0".repeat(64));
        let err = TractStage::for_run(&path, &cfg).err().expect("another model is refused");
        assert!(matches!(&err, StageError::PinMismatch { got, .. } if *got == sha), "{err}");
        assert!(err.to_string().contains("model.sha256"), "{err}");
    }

    #[test]
    fn prepared_frames_give_bit_identical_tensors() {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<String> = (0..5).map(|i| format!("c{i}")).collect();
        let spec_model = |name: &str| write_model(dir.path(), name, &tiny_spec(name, 5, 32), labels.clone(), 2);
        for arch in ["two-stream", "c3d"] {
            let path = spec_model(arch);
            let mut stage = TractStage::load(&path, None, Backend::Cpu, 1, 1).unwrap();
            let mut v = motus_core::synth::SynthVideo::endless(97, 61, 25.0, 4);
            let raw: Vec<Frame> = (0..stage.span()).map(|_| v.next_frame().unwrap().unwrap()).collect();
            let mut prepared = Vec::new();
            for f in &raw {
                let mut p = Frame::new(0, 0);
                stage.prepare(f, &mut p).unwrap();
                assert!(p.width < f.width && p.height == 32, "{}x{}", p.width, p.height);
                prepared.push(p);
            }
            let refs: Vec<&Frame> = raw.iter().collect();
            stage.builder.build(&refs, CropPosition::Center).unwrap();
            let want: Vec<Vec<f32>> = stage.builder.inputs().iter().map(|t| t.data.to_vec()).collect();
            let refs: Vec<&Frame> = prepared.iter().collect();
            let (probs, _) = stage.classify(&refs).unwrap();
            let got: Vec<Vec<f32>> = stage.builder.inputs().iter().map(|t| t.data.to_vec()).collect();
            assert_eq!(got, want, "{arch}: tensors from prepared frames differ");
            assert_eq!(probs.len(), 5);
            assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            // A window of the wrong length is an error, not a panic.
            assert!(stage.classify(&refs[1..]).is_err());
        }
    }

    #[test]
    fn a_following_crop_classifies_sliding_windows_and_reuses_what_they_share() {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<String> = (0..4).map(|i| format!("c{i}")).collect();
        let path = write_model(dir.path(), "two-stream", &tiny_spec("two-stream", 4, 32), labels, 2);
        let mut stage = TractStage::load(&path, None, Backend::Cpu, 1, 1).unwrap();
        stage.set_crop(CropMode::Follow);
        assert!(stage.describe().contains("crop follow"), "{}", stage.describe());
        let n = stage.span() + 8;
        let stream = prepared_stream(&mut stage, (120, 48), 3, n);
        let span = stage.span();
        assert_eq!(stage.frame_stride, 1);
        let mut prev: Option<usize> = None;
        for start in [0, 2, 3, 7, 8] {
            let window: Vec<&Frame> = stream[start..start + span].iter().collect();
            // Slid by `start - prev` frames while they overlap; nothing shared otherwise.
            let expected = prev.map_or(0, |p| if start - p < span { start - p } else { 0 });
            assert_eq!(stage.advance(&window), expected, "window at {start}");
            prev = Some(start);
            let (probs, _) = stage.classify(&window).unwrap();
            assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn towers_in_parallel_score_windows_as_the_whole_graph() {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<String> = (0..4).map(|i| format!("c{i}")).collect();
        let path = write_model(dir.path(), "two-stream", &tiny_spec("two-stream", 4, 32), labels.clone(), 5);
        let mut serial = TractStage::load(&path, None, Backend::Cpu, 1, 1).unwrap();
        let mut parallel = TractStage::load(&path, None, Backend::Cpu, 1, 1).unwrap();
        parallel.set_parallel_streams(true);
        assert!(parallel.towers_in_parallel() && !serial.towers_in_parallel());
        assert!(parallel.describe().contains("towers in parallel"), "{}", parallel.describe());
        let n = serial.span() + 4;
        let frames = prepared_stream(&mut serial, (64, 48), 9, n);
        for start in [0, 4] {
            let window: Vec<&Frame> = frames[start..start + serial.span()].iter().collect();
            let (a, _) = serial.classify(&window).unwrap();
            let (b, _) = parallel.classify(&window).unwrap();
            let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
            assert!(diff < 1e-5, "window at {start}: {a:?} vs {b:?}");
        }
        // A single-stream model asked for towers runs whole.
        let c3d = write_model(dir.path(), "c3d", &tiny_spec("c3d", 4, 32), labels, 5);
        let mut stage = TractStage::load(&c3d, None, Backend::Cpu, 1, 1).unwrap();
        stage.set_parallel_streams(true);
        assert!(!stage.towers_in_parallel());
    }

    #[test]
    fn a_zoomed_stage_keeps_larger_frames_and_classifies_them() {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<String> = (0..3).map(|i| format!("c{i}")).collect();
        let path = write_model(dir.path(), "two-stream", &tiny_spec("two-stream", 3, 32), labels, 5);
        let mut stage = TractStage::load(&path, None, Backend::Cpu, 1, 1).unwrap();
        let base = stage.resize_short;
        stage.set_zoom(1.5).unwrap();
        assert_eq!(stage.resize_short, (base as f32 * 1.5).round() as u32);
        assert!(stage.describe().contains("zoom 1.5"), "{}", stage.describe());
        assert!(stage.set_zoom(0.9).is_err());
        let n = stage.span();
        let frames = prepared_stream(&mut stage, (96, 64), 2, n);
        assert!(frames.iter().all(|p| p.height == stage.resize_short));
        let refs: Vec<&Frame> = frames.iter().collect();
        let (probs, _) = stage.classify(&refs).unwrap();
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
}
