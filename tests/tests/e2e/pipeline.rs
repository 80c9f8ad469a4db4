//! The host's path from a generated dataset to a network-ready clip, across crates:
//! `motus synth` output → dataset lists → readers → samplers → preprocessing with a model's
//! input contract.

use motus_core::preprocess::{normalize_clip, ClipLayout, FramePipeline};
use motus_core::synth::{self, StorageFormat, SynthConfig};
use motus_core::Frame;
use motus_lab::dataset::{sampler, Dataset, SPLITS};
use motus_models::{ClipSpec, InputSpec, Normalization};

fn config(format: StorageFormat) -> SynthConfig {
    SynthConfig { videos_per_class: 2, seed: 7, format, ..SynthConfig::default() }
}

fn check_dataset(format: StorageFormat) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(format);
    let summary = motus_lab::benchmark::write_dataset(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    let names = synth::class_names();
    assert!(names.len() >= 10);
    assert_eq!(summary.videos, 2 * names.len());

    let mut per_class = vec![0usize; names.len()];
    for split in SPLITS {
        let ds = match Dataset::open_split(dir.path(), split) {
            Ok(ds) => ds.verified().unwrap(),
            Err(motus_lab::dataset::DatasetError::Empty { .. }) => continue,
            Err(e) => panic!("{split}: {e}"),
        };
        assert_eq!(ds.classes.names(), names, "classInd.txt order is the generator's");
        for entry in &ds.entries {
            per_class[entry.label] += 1;
            // Each video lives under its class's folder: the label in the list is right.
            let needle = format!("/{}/", names[entry.label]);
            assert!(
                entry.path.to_string_lossy().contains(&needle),
                "{} labelled {}",
                entry.path.display(),
                names[entry.label]
            );
        }
    }
    assert_eq!(per_class, vec![2; names.len()], "every class has its videos across the splits");
}

#[test]
fn synthetic_y4m_dataset_reads_back_with_labels_and_counts() {
    check_dataset(StorageFormat::Y4m);
}

#[test]
fn synthetic_frame_folders_read_back_with_labels_and_counts() {
    check_dataset(StorageFormat::Frames);
}

#[test]
fn clips_become_normalised_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig { splits: [0, 0, 100], ..config(StorageFormat::Y4m) };
    motus_lab::benchmark::write_dataset(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    let ds = Dataset::open_split(dir.path(), "test").unwrap();
    let spec = InputSpec {
        clip: ClipSpec { clip_len: 8, frame_stride: 2 },
        input_size: 112,
        resize_short: 128,
        normalization: Normalization::imagenet(),
        fps: None,
    };
    let mut pipeline = FramePipeline::new(spec.clone());
    let entry = &ds.entries[0];
    let frames = ds.load_frames(entry).unwrap();
    let views = sampler::multi_clip(frames.len() as u64, spec.clip, 2, sampler::CropMode::Three).unwrap();
    assert_eq!(views.len(), 6);
    let mut cropped: Vec<Frame> = vec![Frame::new(0, 0); spec.clip.clip_len as usize];
    let mut tensor = vec![0f32; 3 * 8 * 112 * 112];
    let mut sums = Vec::new();
    for view in &views {
        for (slot, &index) in cropped.iter_mut().zip(&view.clip.frames) {
            pipeline.apply(&frames[index as usize], view.crop, false, slot).unwrap();
        }
        normalize_clip(&cropped, &spec.normalization, ClipLayout::Cthw, &mut tensor).unwrap();
        assert!(
            tensor.iter().all(|v| v.is_finite() && v.abs() < 3.0),
            "ImageNet-normalised pixels stay within a few std"
        );
        sums.push(tensor.iter().map(|&v| v as f64).sum::<f64>());
    }
    // Different clips/crops of a moving scene are different tensors.
    assert!(sums.windows(2).any(|w| (w[0] - w[1]).abs() > 1e-3), "{sums:?}");
}
