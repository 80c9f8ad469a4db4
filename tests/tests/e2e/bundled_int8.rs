//! The bundled model's int8 version (`models/zoo/motus-synth-twostream.int8.onnx`, made by
//! `motus quant`, see docs/quant.md) on a synthetic split neither model has seen: held to the
//! accuracy recorded in its card, and to the float model it came from on the very same clips
//! (built once by the device's clip assembly with live TV-L1 flow, then scored by both).

use motus_lab::eval::{self, RunOptions};
use motus_lab::quantize::{clips, guard};

#[test]
fn the_int8_model_keeps_its_recorded_accuracy_and_tracks_float_on_a_fresh_split() {
    let read = |name: &str| {
        let p = motus_e2e::zoo_model(name);
        std::fs::read(&p)
            .unwrap_or_else(|e| panic!("{}: {e} (the bundled models are part of the repository)", p.display()))
    };
    let (float_bytes, int8_bytes) = (read("motus-synth-twostream.onnx"), read("motus-synth-twostream.int8.onnx"));
    let card = motus_models::onnx::model_card(&motus_models::onnx::read_model(&int8_bytes).unwrap()).unwrap();
    let q = card.quantization.as_ref().expect("the int8 model's card records how it was quantized");
    assert_eq!(q.format, "qoperator");
    assert!(int8_bytes.len() * 10 <= float_bytes.len() * 3, "the qoperator file is at most 30% of the float file");
    let recorded = card.evaluations.last().expect("the int8 model's card records its measured accuracy");
    assert!(recorded.method.contains("protocol clips=5"), "{}", recorded.method);

    let (_dir, ds, seed) = motus_e2e::fresh_test_split(31338, 5);
    let protocol = eval::parse_protocol("clips=5").unwrap();
    let opts = RunOptions { workers: 2, ..RunOptions::default() };
    let all: Vec<usize> = (0..ds.entries.len()).collect();
    let set = clips::collect(&card, &ds, &all, &protocol, &opts, &mut |_, _| {}).unwrap();
    assert!(set.skipped.is_empty(), "{:?}", set.skipped);
    let k = card.labels.len();
    let score = |bytes: &[u8]| guard::accuracy(&guard::predict(bytes, &set.clips, 2).unwrap(), &set.clips, k).unwrap();
    let (f, i) = (score(&float_bytes), score(&int8_bytes));
    eprintln!(
        "fresh split seed {seed}, {} videos: float video Hit@1 {:.3}, int8 {:.3} (card: int8 {:.3} on {})",
        i.n_videos, f.video_top1, i.video_top1, recorded.video_top1, recorded.n_videos
    );
    // Both figures are samples: three standard deviations of their difference (binomial).
    let tol = motus_e2e::three_sigma(recorded.video_top1, i.n_videos, recorded.n_videos);
    assert!(
        i.video_top1 >= recorded.video_top1 - tol,
        "int8 video Hit@1 {:.3} is far below its card's {:.3}",
        i.video_top1,
        recorded.video_top1
    );
    // Same clips for both: the difference is quantization alone. 2 of 60 videos.
    assert!(
        f.video_top1 - i.video_top1 <= 2.0 / 60.0 + 1e-9,
        "int8 loses {:.3} video Hit@1 against float on the same clips",
        f.video_top1 - i.video_top1
    );
}
