use super::*;

fn at_rate(fps: f64, n: usize) -> Vec<Duration> {
    (0..n).map(|i| Duration::from_secs_f64(i as f64 / fps)).collect()
}

#[test]
fn the_models_own_rate_takes_every_frame_once() {
    for fps in [10.0, 25.0, 29.97, 30.0, 60.0] {
        let picks = pick_indices(&at_rate(fps, 50), fps).unwrap();
        assert_eq!(picks, (0..50).collect::<Vec<_>>(), "{fps} fps");
    }
}

#[test]
fn a_faster_source_is_thinned_and_a_slower_one_repeated() {
    // 60 fps into a 30 fps model: every other frame.
    assert_eq!(pick_indices(&at_rate(60.0, 9), 30.0).unwrap(), vec![0, 2, 4, 6, 8]);
    // 10 fps into 30: each frame three times, the first and last twice (the grid starts on the
    // first frame and ends on the last).
    assert_eq!(pick_indices(&at_rate(10.0, 3), 30.0).unwrap(), vec![0, 0, 1, 1, 1, 2, 2]);
    // 25 into 30: one repeat every five model frames; the span of time is kept.
    let picks = pick_indices(&at_rate(25.0, 26), 30.0).unwrap();
    assert_eq!(picks.len(), 31, "{picks:?}");
    assert_eq!(&picks[..7], &[0, 1, 2, 2, 3, 4, 5]);
    // Every pick is the frame nearest its instant.
    let ts = at_rate(25.0, 26);
    for (k, &i) in picks.iter().enumerate() {
        let g = k as f64 / 30.0;
        let best = ts.iter().map(|t| (t.as_secs_f64() - g).abs()).fold(f64::INFINITY, f64::min);
        assert!(((ts[i].as_secs_f64() - g).abs() - best).abs() < 1e-9, "instant {k}: frame {i}");
    }
}

#[test]
fn variable_timing_and_dropped_frames_keep_the_grid() {
    // A 30 fps camera that lost frames 3 and 4, with jitter: the grid still advances 1/30 s.
    let ms = [0u64, 34, 66, 166, 200, 232];
    let ts: Vec<Duration> = ms.iter().map(|&m| Duration::from_millis(m)).collect();
    let picks = pick_indices(&ts, 30.0).unwrap();
    assert_eq!(picks, vec![0, 1, 2, 2, 3, 3, 4], "{picks:?}");
}

#[test]
fn a_long_gap_or_time_running_backwards_restarts_the_grid() {
    let counts = |p: Picks| (p.restart, p.previous, p.current);
    let mut r = Retimer::new(30.0).unwrap();
    assert_eq!(counts(r.feed(Duration::ZERO)), (false, 0, 1));
    assert_eq!(r.feed(Duration::from_millis(33)).total(), 0, "33 ms is just short of the next instant");
    let p = r.feed(Duration::from_millis(67));
    assert_eq!(counts(p), (false, 1, 1));
    assert!((p.first.as_secs_f64() - 1.0 / 30.0).abs() < 1e-9, "the first pick stands for instant 1: {:?}", p.first);
    let late = Duration::from_millis(67) + MAX_GAP + Duration::from_millis(1);
    let p = r.feed(late);
    assert_eq!((counts(p), p.first), ((true, 0, 1), late));
    assert_eq!(counts(r.feed(Duration::from_millis(10))), (true, 0, 1));
    // An offline pick carries on from the restarted grid.
    let ts = [0.0, 1.0 / 30.0, 5.0, 5.0 + 1.0 / 30.0].map(Duration::from_secs_f64);
    assert_eq!(pick_indices(&ts, 30.0).unwrap(), vec![0, 1, 2, 3]);
}

#[test]
fn a_source_without_timestamps_is_named_not_starved() {
    let zeros = vec![Duration::ZERO; 12];
    let err = pick_indices(&zeros, 30.0).unwrap_err();
    assert!(matches!(err, RetimeError::NoTimestamps { frames: 12, .. }), "{err}");
    assert!(err.to_string().contains("no timestamps"), "{err}");
    let mut r = Retimer::new(30.0).unwrap();
    for (i, t) in zeros.iter().enumerate() {
        r.feed(*t);
        assert_eq!(r.stuck(), i >= STUCK_AFTER as usize, "after {} frames", i + 1);
    }
    // Time moving again clears it.
    r.feed(Duration::from_millis(40));
    assert!(!r.stuck());
    assert_eq!(pick_indices(&[Duration::ZERO], 30.0).unwrap(), vec![0]);
    assert!(pick_indices(&[], 30.0).unwrap().is_empty());
}

#[test]
fn absurd_rates_are_refused() {
    for fps in [0.0, -5.0, 0.2, 10_000.0, f64::NAN, f64::INFINITY] {
        let err = Retimer::new(fps).unwrap_err();
        assert!(err.to_string().contains("fps"), "{fps}: {err}");
    }
}

#[test]
fn the_flow_plan_spreads_a_slow_sources_motion_over_its_repeats() {
    let period = Duration::from_secs_f64(1.0 / 30.0);
    // A 10 fps source picked at 30: its frames repeat; fields move at 1 (0→.1), 4 (.1→.2)
    // and 7 (.2→.3).
    let window = [0.0, 0.0, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.3].map(Duration::from_secs_f64);
    let plan = flow_plan(&window, period);
    let fields: Vec<usize> = plan.iter().map(|s| s.unwrap().field).collect();
    assert_eq!(fields, vec![1, 1, 4, 4, 4, 7, 7, 7]);
    for s in &plan {
        assert!((s.unwrap().scale - 1.0 / 3.0).abs() < 1e-6, "{plan:?}");
    }
    // At the window's end a repeat takes the pair that led into it.
    let end = [0.0, 0.1, 0.1].map(Duration::from_secs_f64);
    assert_eq!(flow_plan(&end, period).iter().map(|s| s.unwrap().field).collect::<Vec<_>>(), vec![0, 0]);
    // One frame repeated: no motion at all.
    assert_eq!(flow_plan(&[Duration::ZERO; 4], period), vec![None; 3]);
}

#[test]
fn the_flow_plan_is_the_identity_at_the_models_rate() {
    let period = Duration::from_secs_f64(1.0 / 30.0);
    let plan = flow_plan(&at_rate(30.0, 12), period);
    assert_eq!(plan, (0..11).map(|field| Some(StepFlow { field, scale: 1.0 })).collect::<Vec<_>>());
    // A dropped frame: the pair across it holds two periods of motion and is halved.
    let ts = [0.0, 1.0 / 30.0, 3.0 / 30.0].map(Duration::from_secs_f64);
    let plan = flow_plan(&ts, period);
    assert_eq!(plan[0].unwrap().scale, 1.0);
    assert!((plan[1].unwrap().scale - 0.5).abs() < 1e-6);
    // Timestamps that run backwards were not picked by time: left alone.
    let odd = [0.2, 0.1, 0.3].map(Duration::from_secs_f64);
    assert_eq!(
        flow_plan(&odd, period),
        vec![Some(StepFlow { field: 0, scale: 1.0 }), Some(StepFlow { field: 1, scale: 1.0 })]
    );
}
