//! Property tests of the clip samplers over many video lengths and clip specs.

use motus_models::ClipSpec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::sampler::*;

fn spec(clip_len: u32, frame_stride: u32) -> ClipSpec {
    ClipSpec { clip_len, frame_stride }
}

const SPECS: [(u32, u32); 5] = [(1, 1), (8, 1), (8, 2), (16, 4), (3, 7)];
const LENGTHS: [u64; 9] = [1, 2, 5, 8, 15, 16, 61, 100, 301];

fn span(c: ClipSpec) -> u64 {
    c.span() as u64
}

/// Indices in [0, n); stepping by the stride unless padded; padded exactly when the span
/// does not fit after the start.
fn assert_valid(n: u64, c: ClipSpec, clip: &ClipIndices) {
    assert_eq!(clip.frames.len(), c.clip_len as usize);
    assert!(clip.frames.iter().all(|&f| f < n), "{clip:?} n={n}");
    let start = clip.frames[0];
    assert_eq!(clip.padded, start + span(c) > n, "{clip:?} n={n}");
    if !clip.padded {
        assert!(clip.frames.windows(2).all(|w| w[1] == w[0] + c.frame_stride as u64), "{clip:?}");
    } else {
        assert!(clip.frames.windows(2).all(|w| w[1] >= w[0]), "{clip:?}");
        assert_eq!(*clip.frames.last().unwrap(), n - 1);
    }
}

#[test]
fn empty_videos_and_zero_counts_are_errors_not_panics() {
    let c = spec(8, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    assert!(matches!(tsn(0, 3, c, SampleMode::Test), Err(SampleError::EmptyVideo)));
    assert!(matches!(dense(0, c, 1), Err(SampleError::EmptyVideo)));
    assert!(matches!(random_clip(0, c, &mut rng), Err(SampleError::EmptyVideo)));
    assert!(matches!(centre_clip(0, c), Err(SampleError::EmptyVideo)));
    assert!(matches!(multi_clip(0, c, 2, CropMode::Three), Err(SampleError::EmptyVideo)));
    assert!(matches!(tsn(10, 0, c, SampleMode::Test), Err(SampleError::Zero { what: "num_segments" })));
    assert!(matches!(dense(10, c, 0), Err(SampleError::Zero { what: "window_stride" })));
    assert!(matches!(multi_clip(10, c, 0, CropMode::Center), Err(SampleError::Zero { what: "num_clips" })));
    assert!(matches!(dense(10, spec(0, 1), 1), Err(SampleError::BadClip(_))));
    assert!(matches!(random_clip(10, spec(4, 0), &mut rng), Err(SampleError::BadClip(_))));
    assert!(SampleError::EmptyVideo.to_string().contains("no frames"));
}

#[test]
fn short_videos_are_padded_with_the_last_frame() {
    let clip = centre_clip(3, spec(4, 2)).unwrap();
    assert_eq!(clip, ClipIndices { frames: vec![0, 2, 2, 2], padded: true });
    let d = dense(3, spec(4, 2), 1).unwrap();
    assert_eq!(d, vec![clip.clone()]);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    assert_eq!(random_clip(3, spec(4, 2), &mut rng).unwrap(), clip);
    assert_eq!(centre_clip(1, spec(3, 1)).unwrap().frames, vec![0, 0, 0]);
}

#[test]
fn random_clips_are_valid_cover_all_starts_and_are_deterministic() {
    for (l, s) in SPECS {
        let c = spec(l, s);
        for n in LENGTHS {
            let mut rng = ChaCha8Rng::seed_from_u64(n);
            let mut starts = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let clip = random_clip(n, c, &mut rng).unwrap();
                assert_valid(n, c, &clip);
                starts.insert(clip.frames[0]);
            }
            if span(c) <= n && n - span(c) < 20 {
                assert_eq!(starts.len() as u64, n - span(c) + 1, "n={n} {c:?}");
            }
        }
    }
    let draw = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..10).map(|_| random_clip(300, spec(8, 2), &mut rng).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
}

/// Frames of `[t, t+span)` inside `[a, b)`.
fn overlap(t: u64, span: u64, (a, b): (u64, u64)) -> u64 {
    (t + span).min(b).saturating_sub(t.max(a))
}

#[test]
fn clips_on_an_action_overlap_it_and_reach_every_qualifying_start() {
    for (l, st) in SPECS {
        let c = spec(l, st);
        let s = span(c);
        for n in LENGTHS.into_iter().filter(|&n| n >= s) {
            for action in [(0, n), (0, 1), (n - 1, n), (n / 3, n / 3 + 1 + n / 5), (n / 2, n)] {
                let need = s.min(action.1 - action.0).div_ceil(2);
                let qualifying: std::collections::BTreeSet<u64> =
                    (0..=n - s).filter(|&t| overlap(t, s, action) >= need).collect();
                assert!(!qualifying.is_empty(), "n={n} {c:?} {action:?}");
                let mut rng = ChaCha8Rng::seed_from_u64(n ^ action.0);
                let mut starts = std::collections::BTreeSet::new();
                for _ in 0..300 {
                    let clip = random_clip_on(n, c, action, &mut rng).unwrap();
                    assert_valid(n, c, &clip);
                    starts.insert(clip.frames[0]);
                }
                assert!(starts.is_subset(&qualifying), "n={n} {c:?} {action:?}: {starts:?} not within {qualifying:?}");
                if qualifying.len() < 20 {
                    assert_eq!(starts, qualifying, "n={n} {c:?} {action:?}");
                }
            }
        }
    }
}

#[test]
fn a_brief_action_keeps_windows_off_the_idle_lead_and_tail() {
    // 58 frames, a 25-frame window, a 14-frame jump at 30..44: at least 7 jump frames in view.
    let c = spec(25, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..500 {
        let t = random_clip_on(58, c, (30, 44), &mut rng).unwrap().frames[0];
        assert!((12..=33).contains(&t), "start {t}");
        assert!(overlap(t, 25, (30, 44)) >= 7);
    }
}

#[test]
fn clips_on_a_span_outside_the_video_fall_back_and_short_videos_pad() {
    let c = spec(8, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut starts = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let clip = random_clip_on(30, c, (40, 50), &mut rng).unwrap();
        assert_valid(30, c, &clip);
        starts.insert(clip.frames[0]);
    }
    assert_eq!(starts.len() as u64, 30 - span(c) + 1, "a span past the end samples anywhere");
    assert_eq!(random_clip_on(10, c, (2, 6), &mut rng).unwrap(), random_clip(10, c, &mut rng).unwrap());
    assert!(matches!(random_clip_on(0, c, (0, 1), &mut rng), Err(SampleError::EmptyVideo)));
    assert!(matches!(random_clip_on(10, spec(4, 0), (0, 1), &mut rng), Err(SampleError::BadClip(_))));
}

#[test]
fn tsn_takes_one_clip_inside_each_segment() {
    for (l, s) in SPECS {
        let c = spec(l, s);
        for n in LENGTHS {
            for segs in [1u32, 3, 8] {
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                for mode in [0, 1] {
                    let clips = if mode == 0 {
                        tsn(n, segs, c, SampleMode::Test)
                    } else {
                        tsn(n, segs, c, SampleMode::Train(&mut rng))
                    }
                    .unwrap();
                    assert_eq!(clips.len(), segs as usize);
                    for (k, clip) in clips.iter().enumerate() {
                        assert_valid(n, c, clip);
                        let (a, b) = (k as u64 * n / segs as u64, (k as u64 + 1) * n / segs as u64);
                        if b - a >= span(c) {
                            assert!(
                                clip.frames[0] >= a && *clip.frames.last().unwrap() < b,
                                "segment {k} [{a},{b}) {clip:?}"
                            );
                        }
                    }
                    let starts: Vec<u64> = clips.iter().map(|c| c.frames[0]).collect();
                    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
                }
            }
        }
    }
}

#[test]
fn tsn_test_mode_centres_and_train_mode_is_seeded() {
    let clips = tsn(100, 4, spec(1, 1), SampleMode::Test).unwrap();
    let starts: Vec<u64> = clips.iter().map(|c| c.frames[0]).collect();
    assert_eq!(starts, vec![12, 37, 62, 87]);
    let run = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        tsn(300, 5, spec(4, 2), SampleMode::Train(&mut rng)).unwrap()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn dense_windows_count_and_step() {
    for (l, s) in SPECS {
        let c = spec(l, s);
        for n in LENGTHS {
            for stride in [1u64, 3, 16] {
                let clips = dense(n, c, stride).unwrap();
                let expected = if span(c) <= n { (n - span(c)) / stride + 1 } else { 1 };
                assert_eq!(clips.len() as u64, expected, "n={n} {c:?} stride={stride}");
                for (i, clip) in clips.iter().enumerate() {
                    assert_valid(n, c, clip);
                    assert_eq!(clip.frames[0], i as u64 * stride);
                    assert_eq!(clip.padded, span(c) > n);
                }
            }
        }
    }
}

#[test]
fn multi_clip_spreads_clips_and_crops() {
    for (l, s) in SPECS {
        let c = spec(l, s);
        for n in LENGTHS {
            for k in [1u32, 3, 10] {
                let views = multi_clip(n, c, k, CropMode::Three).unwrap();
                assert_eq!(views.len(), 3 * k as usize);
                let crops: Vec<CropPosition> = views.iter().take(3).map(|v| v.crop).collect();
                assert_eq!(crops, [CropPosition::Start, CropPosition::Center, CropPosition::End]);
                let starts: Vec<u64> = views.iter().step_by(3).map(|v| v.clip.frames[0]).collect();
                views.iter().for_each(|v| assert_valid(n, c, &v.clip));
                assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
                if span(c) <= n {
                    // Start j sits in the j-th of k equal chunks of the possible starts.
                    let m = n - span(c) + 1;
                    for (j, &st) in starts.iter().enumerate() {
                        let (a, b) = (j as u64 * m / k as u64, ((j as u64 + 1) * m).div_ceil(k as u64));
                        assert!(st >= a && st <= b.max(a), "n={n} {c:?} k={k} j={j} start={st} chunk [{a},{b})");
                    }
                    if m >= k as u64 {
                        assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
                    }
                }
            }
        }
    }
    let v = multi_clip(100, spec(1, 1), 2, CropMode::Center).unwrap();
    assert_eq!(
        v.iter().map(|v| (v.clip.frames[0], v.crop)).collect::<Vec<_>>(),
        vec![(25, CropPosition::Center), (75, CropPosition::Center)]
    );
}

#[test]
fn crop_offsets_along_the_longer_side() {
    assert_eq!([CropPosition::Start, CropPosition::Center, CropPosition::End].map(|p| p.offset(171, 112)), [0, 29, 59]);
    assert_eq!(CropPosition::End.offset(100, 120), 0);
}

#[test]
fn sampler_config_names_the_sampler_in_json() {
    let configs = [
        (SamplerConfig::Tsn { num_segments: 8 }, r#"{"kind":"tsn","num_segments":8}"#),
        (SamplerConfig::Dense { window_stride: 4 }, r#"{"kind":"dense","window_stride":4}"#),
        (SamplerConfig::Random, r#"{"kind":"random"}"#),
        (
            SamplerConfig::MultiClip { num_clips: 10, crops: CropMode::Three },
            r#"{"kind":"multi_clip","num_clips":10,"crops":"three"}"#,
        ),
    ];
    for (config, json) in configs {
        assert_eq!(serde_json::to_string(&config).unwrap(), json);
        assert_eq!(serde_json::from_str::<SamplerConfig>(json).unwrap(), config);
    }
    assert!(serde_json::from_str::<SamplerConfig>(r#"{"kind":"uniform"}"#).is_err());
}

#[test]
fn sampler_config_dispatches() {
    let c = spec(4, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    assert_eq!(SamplerConfig::Tsn { num_segments: 3 }.views(90, c, SampleMode::Test).unwrap().len(), 3);
    assert_eq!(SamplerConfig::Dense { window_stride: 10 }.views(90, c, SampleMode::Test).unwrap().len(), 9);
    let r = SamplerConfig::Random.views(90, c, SampleMode::Test).unwrap();
    assert_eq!((r.len(), r[0].clip.frames[0], r[0].crop), (1, 41, CropPosition::Center));
    assert_eq!(SamplerConfig::Random.views(90, c, SampleMode::Train(&mut rng)).unwrap().len(), 1);
    assert_eq!(
        SamplerConfig::MultiClip { num_clips: 4, crops: CropMode::Three }.views(90, c, SampleMode::Test).unwrap().len(),
        12
    );
    assert!(matches!(SamplerConfig::Random.views(0, c, SampleMode::Test), Err(SampleError::EmptyVideo)));
}
