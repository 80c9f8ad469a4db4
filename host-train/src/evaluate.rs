//! Accuracy of a network on a dataset split with libtorch, through the trainer's own clip
//! assembly (centre crop, TSN views, cached flow): used for validation during training and by
//! the experiment. The device-side number — tract, live flow — is `motus eval`'s job.

use crate::checkpoint::Checkpoint;
use crate::net::IrNet;
use crate::train::data::{make_clip, Augment, ClipGeometry, VideoData};
use crate::train::videos::{load_split, LoadSettings};
use motus_lab::dataset::sampler::{self, SampleMode};
use motus_lab::dataset::Dataset;
use motus_lab::eval::metrics::Accumulator;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// Accuracy of one network on one split.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitAccuracy {
    pub clip_top1: f64,
    pub video_top1: f64,
    pub video_top5: f64,
    /// Video top-1 over the videos whose label is in the subset asked for (NaN if none).
    pub subset_top1: f64,
}

/// Evaluates `net` on `videos`: `views` TSN clips per video, centre crop, probabilities averaged.
pub fn evaluate(
    net: &IrNet,
    videos: &[VideoData],
    g: &ClipGeometry,
    views: u32,
    batch: usize,
    subset: &[usize],
) -> anyhow::Result<SplitAccuracy> {
    let classes = net.graph().num_classes();
    let mut items = Vec::new();
    for (vi, v) in videos.iter().enumerate() {
        for w in sampler::tsn(v.frames.len() as u64, views, g.window(), SampleMode::Test)? {
            items.push((vi, w));
        }
    }
    let lens = g.input_lens();
    let mut probs: Vec<Vec<Vec<f32>>> = vec![Vec::new(); videos.len()];
    let aug = Augment::default();
    for chunk in items.chunks(batch.max(1)) {
        let mut data: Vec<Vec<f32>> = lens.iter().map(|&l| Vec::with_capacity(l * chunk.len())).collect();
        let mut clip: Vec<Vec<f32>> = lens.iter().map(|&l| vec![0.0; l]).collect();
        for (vi, w) in chunk {
            make_clip::<ChaCha8Rng>(&videos[*vi], g, &aug, None, Some(w), &mut clip)?;
            for (d, c) in data.iter_mut().zip(&clip) {
                d.extend_from_slice(c);
            }
        }
        let tensors: Vec<(String, Tensor)> = g
            .inputs
            .iter()
            .zip(&data)
            .map(|((name, _, _, shape), d)| {
                let mut dims: Vec<i64> = shape.iter().map(|&v| v as i64).collect();
                dims[0] = chunk.len() as i64;
                (name.clone(), Tensor::from_slice(d).reshape(&dims[..]).to_device(net.device()))
            })
            .collect();
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let p = tch::no_grad(|| net.forward(&refs, false))?.softmax(1, Kind::Float).to_device(Device::Cpu);
        let flat = Vec::<f32>::try_from(&p.contiguous().view(-1))?;
        for (row, (vi, _)) in flat.chunks_exact(classes).zip(chunk) {
            probs[*vi].push(row.to_vec());
        }
    }
    let mut acc = Accumulator::new(classes);
    for (v, p) in videos.iter().zip(probs) {
        acc.add_video(v.label, p)?;
    }
    let preds = acc.video_predictions();
    let in_subset: Vec<(usize, usize)> =
        videos.iter().zip(&preds).filter(|(v, _)| subset.contains(&v.label)).map(|(v, &p)| (v.label, p)).collect();
    let subset_top1 = in_subset.iter().filter(|(l, p)| l == p).count() as f64 / in_subset.len() as f64;
    let s = acc.summary(&(0..classes).map(|i| i.to_string()).collect::<Vec<_>>());
    Ok(SplitAccuracy { clip_top1: s.clip_top1, video_top1: s.video_top1, video_top5: s.video_top5, subset_top1 })
}

/// Loads `ds` (flow from the cache beside it) and evaluates a checkpoint on it.
pub fn evaluate_checkpoint(
    ckpt: &Checkpoint,
    ds: &Dataset,
    views: u32,
    device: &str,
    workers: usize,
    subset: &[usize],
) -> anyhow::Result<SplitAccuracy> {
    let device = crate::train::parse_device(device)?;
    let graph = ckpt.lower()?;
    let net = IrNet::with_weights(graph, &ckpt.weights, device)?;
    let g = ClipGeometry::from_card(&ckpt.card)?;
    let flow = ckpt.card.flow.as_ref().map(motus_core::flow::FlowConfig::from_card).transpose()?;
    let cache = ds.root.join("flow-cache");
    let settings = LoadSettings {
        resize_short: ckpt.card.input.resize_short,
        flow: flow.as_ref().map(|f| (f, cache.as_path())),
        window_len: g.window_len,
        spans: None,
        threads: workers,
    };
    let (videos, _) = load_split(ds, "eval", settings, "loading")?;
    evaluate(&net, &videos, &g, views, 16, subset)
}
