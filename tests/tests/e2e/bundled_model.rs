//! The bundled model (`models/zoo/motus-synth-twostream.onnx`, what `motus demo` runs) on a
//! synthetic test split it has never seen: a fresh seed (set `MOTUS_BUNDLED_SEED` to try
//! another), measured through the device's own path (`motus eval`'s runner: decode, clip
//! assembly, live TV-L1 flow, tract) and held to the accuracy recorded in its card.

use motus_lab::eval::{self, Accumulator, RunOptions};

#[test]
fn the_bundled_model_keeps_its_recorded_accuracy_on_a_fresh_split() {
    let path = motus_e2e::zoo_model("motus-synth-twostream.onnx");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the bundled model is part of the repository)", path.display()));
    let card = motus_models::onnx::model_card(&motus_models::onnx::read_model(&bytes).unwrap()).unwrap();
    let recorded = card.evaluations.last().expect("the bundled model's card records its measured accuracy");
    assert!(
        recorded.method.contains("protocol clips=5"),
        "this test measures with 5 clips per video: {}",
        recorded.method
    );

    let (_dir, ds, seed) = motus_e2e::fresh_test_split(31337, 5);
    let names: Vec<String> = (0..ds.classes.len()).map(|i| ds.classes.name(i).to_string()).collect();
    assert_eq!(names, card.labels, "the bundled model's labels are the benchmark's classes");

    let protocol = eval::parse_protocol("clips=5").unwrap();
    let opts = RunOptions { workers: 2, ..RunOptions::default() };
    let run = eval::evaluate_videos(&path, &card, &ds, &protocol, &opts, &mut |_, _| {}).unwrap();
    assert!(run.skipped.is_empty(), "{:?}", run.skipped);
    let mut acc = Accumulator::new(card.labels.len());
    for (i, s) in &run.scored {
        acc.add_video(ds.entries[*i].label, s.probs.clone()).unwrap();
    }
    let s = acc.summary(&card.labels);
    eprintln!(
        "bundled model, fresh split seed {seed}: video Hit@1 {:.3} on {} videos (card: {:.3} on {})",
        s.video_top1, s.n_videos, recorded.video_top1, recorded.n_videos
    );
    // Both figures are samples: allow three standard deviations of their difference (binomial,
    // at the card's accuracy): about 0.13 for 60 videos here against the card's 240.
    let tol = motus_e2e::three_sigma(recorded.video_top1, s.n_videos, recorded.n_videos);
    assert!(
        s.video_top1 >= recorded.video_top1 - tol,
        "video Hit@1 {:.3} on a fresh split (seed {seed}) is far below the card's {:.3}",
        s.video_top1,
        recorded.video_top1
    );
}
