//! Clips held in memory for calibration and the accuracy guard: each is built once by the
//! device's own clip assembly ([`ClipBuilder`]: resize, crop, normalisation, TV-L1 flow), then
//! fed to many candidate models. Flow is the expensive part; models are cheap.

use motus_models::ModelCard;

use crate::dataset::{Dataset, SampleMode, SamplerConfig};
use crate::eval::parallel::par_map;
use crate::eval::{RunOptions, Skipped};
use motus_core::infer::{ClipBuilder, InputTensor};

use super::QuantRunError;

/// Why one video gave no clips: it is skipped, and named with this reason in the report.
#[derive(Debug, thiserror::Error)]
enum VideoSkip {
    #[error(transparent)]
    Read(#[from] motus_core::media::MediaError),
    #[error("the video has no frames")]
    NoFrames,
    #[error(transparent)]
    Rate(#[from] motus_core::retime::RetimeError),
    #[error(transparent)]
    Sample(#[from] crate::dataset::SampleError),
    #[error(transparent)]
    Clip(#[from] motus_core::infer::ClipError),
}

/// One model input of one clip, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedInput {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// One clip: its inputs, the video it came from (index into the dataset's entries) and the
/// video's label.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    pub video: usize,
    pub label: usize,
    pub inputs: Vec<OwnedInput>,
}

impl Clip {
    /// The inputs as the classifier takes them.
    pub fn tensors(&self) -> Vec<InputTensor<'_>> {
        self.inputs.iter().map(|i| InputTensor { name: &i.name, shape: &i.shape, data: &i.data }).collect()
    }
}

/// Clips from a list, with the videos that could not be read.
#[derive(Debug, Clone, Default)]
pub struct ClipSet {
    pub clips: Vec<Clip>,
    pub skipped: Vec<Skipped>,
}

impl ClipSet {
    /// Distinct videos among the clips.
    pub fn videos(&self) -> usize {
        let mut v: Vec<usize> = self.clips.iter().map(|c| c.video).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    }
}

/// `want` entry indices spread evenly over `n` entries (all of them when `want ≥ n`): a
/// calibration subset that covers every class of a list sorted by class.
pub fn spread(n: usize, want: usize) -> Vec<usize> {
    if want >= n {
        return (0..n).collect();
    }
    (0..want).map(|i| i * n / want).collect()
}

/// Builds the clips of `entries` of `ds` under `protocol` with the card's preprocessing and
/// flow, on `opts.workers` threads. Unreadable videos are skipped and returned.
pub fn collect(
    card: &ModelCard,
    ds: &Dataset,
    entries: &[usize],
    protocol: &SamplerConfig,
    opts: &RunOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ClipSet, QuantRunError> {
    let results = par_map(
        entries.len(),
        opts.workers,
        || {
            ClipBuilder::from_card(card, opts.flow_backend, opts.flow_threads)
                .map_err(|e| QuantRunError::Clips(e.to_string()))
        },
        |b, j| -> Result<Vec<Clip>, VideoSkip> {
            let i = entries[j];
            let entry = &ds.entries[i];
            let frames = ds.load_frames(entry)?;
            if frames.is_empty() {
                return Err(VideoSkip::NoFrames);
            }
            let frames = motus_core::retime::at_rate(&frames, card.input.fps)?;
            let views = protocol.views(frames.len() as u64, b.window_spec(), SampleMode::Test)?;
            let mut out = Vec::with_capacity(views.len());
            for view in &views {
                let refs: Vec<_> = view.clip.frames.iter().map(|&f| frames[f as usize]).collect();
                b.build(&refs, view.crop)?;
                let inputs = b
                    .inputs()
                    .iter()
                    .map(|t| OwnedInput { name: t.name.to_string(), shape: t.shape.to_vec(), data: t.data.to_vec() })
                    .collect();
                out.push(Clip { video: i, label: entry.label, inputs });
            }
            Ok(out)
        },
        progress,
    )?;
    let mut set = ClipSet::default();
    for (j, r) in results.into_iter().enumerate() {
        let entry = &ds.entries[entries[j]];
        match r {
            Ok(clips) => set.clips.extend(clips),
            Err(error) => {
                set.skipped.push(Skipped { path: entry.path.clone(), line: entry.line, error: error.to_string() })
            }
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn spread_covers_the_list_evenly() {
        assert_eq!(spread(10, 3), vec![0, 3, 6]);
        assert_eq!(spread(3, 10), vec![0, 1, 2]);
        assert!(spread(0, 4).is_empty());
        let s = spread(120, 12);
        assert_eq!(s.len(), 12);
        assert!(s.windows(2).all(|w| w[1] - w[0] == 10));
    }
}
