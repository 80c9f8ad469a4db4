//! Labelled training windows cut from continuous scenes.
//!
//! Short clips show one action framed by idle frames; the device's camera shows a continuous
//! scene in which a sliding window straddles idle gaps, the end of one action and the start
//! of the next. A model trained only on short clips never saw those windows, and on the live
//! scene it invents actions in the gaps and names one action after its neighbour. These
//! windows, cut from the same endless scene the live demo uses (with seeds of their own), let
//! a training set contain them, labelled from the scene's ground truth.

use crate::truth::Segment;

/// Seconds of each scene windows are cut from: long enough for about twenty actions with their
/// gaps, short enough that a dataset spreads over many backgrounds and actors.
pub const SCENE_SECONDS: f64 = 60.0;

/// Domain tag of the scenes' seeds, so they never repeat the live camera's scene of a seed.
pub const TAG_SCENES: u64 = 0x5343_4e57;

/// One window cut from a scene and what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneWindow {
    /// First frame of the window in the scene.
    pub start: u64,
    /// Class index: the action the window shows, or 0 (`idle`) when it overlaps none.
    pub label: usize,
    /// The action's frames within the window (relative to `start`, end excluded); the whole
    /// window for `idle`.
    pub span: (u64, u64),
}

/// Labels the windows of `window` frames starting every `stride` frames over a scene of
/// `frames` frames with action `segments`.
///
/// A window shows an action when it overlaps it by at least half the window or half the action,
/// whichever is shorter (the rule training windows on short clips follow,
/// `sampler::random_clip_on`); of several such actions, the one it overlaps most. A window that
/// touches an action by less is left out: it is neither that action nor idle, and either label
/// would teach the model something false about an action's first or last frames.
pub fn label_windows(segments: &[Segment], frames: u64, window: u64, stride: u64) -> Vec<SceneWindow> {
    if window == 0 || stride == 0 || frames < window {
        return Vec::new();
    }
    (0..=frames - window).step_by(stride as usize).filter_map(|start| label_window(segments, start, window)).collect()
}

/// The label of the one window of `window` frames from `start` (see [`label_windows`]);
/// `None` when it is left out. Only segments that begin before the window ends matter, so a
/// scene still being rendered can be labelled up to its newest frame.
pub fn label_window(segments: &[Segment], start: u64, window: u64) -> Option<SceneWindow> {
    let end = start + window;
    let mut best: Option<(u64, &Segment)> = None;
    let mut touched = false;
    for s in segments {
        let overlap = end.min(s.end_frame).saturating_sub(start.max(s.start_frame));
        if overlap == 0 {
            continue;
        }
        touched = true;
        let need = window.min(s.end_frame - s.start_frame).div_ceil(2);
        if overlap >= need && best.is_none_or(|(o, _)| overlap > o) {
            best = Some((overlap, s));
        }
    }
    match best {
        Some((_, s)) => Some(SceneWindow {
            start,
            label: s.class_index,
            span: (s.start_frame.max(start) - start, s.end_frame.min(end) - start),
        }),
        None if !touched && window > 0 => Some(SceneWindow { start, label: 0, span: (0, window) }),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(a: u64, b: u64, k: usize) -> Segment {
        Segment { start_frame: a, end_frame: b, class_index: k, class_name: format!("c{k}") }
    }

    #[test]
    fn windows_are_named_by_the_action_they_show_enough_of() {
        // Actions at 20..60 (class 3) and 70..76 (class 5, shorter than half a window).
        let segs = [seg(20, 60, 3), seg(70, 76, 5)];
        let w = label_windows(&segs, 110, 20, 10);
        let got: Vec<(u64, usize, (u64, u64))> = w.iter().map(|w| (w.start, w.label, w.span)).collect();
        assert_eq!(
            got,
            vec![
                (0, 0, (0, 20)),   // before any action: idle
                (10, 3, (10, 20)), // 10 frames of the action: half the window
                (20, 3, (0, 20)),
                (30, 3, (0, 20)),
                (40, 3, (0, 20)),
                // 50..70: 10 frames of class 3, nothing of class 5 yet.
                (50, 3, (0, 10)),
                // 60..80: all 6 frames of the short action (it needs only 3).
                (60, 5, (10, 16)),
                (70, 5, (0, 6)),
                (80, 0, (0, 20)), // 80..100 no longer touches 70..76
                (90, 0, (0, 20)),
            ]
        );
    }

    #[test]
    fn too_little_of_an_action_is_neither_the_action_nor_idle() {
        // 0..20 touches 5 frames of the 40-frame action (needs 10): left out; 20..40 lies
        // inside it; 40..60 holds 15 of its frames: kept.
        let w = label_windows(&[seg(15, 55, 2)], 60, 20, 20);
        let got: Vec<(u64, usize, (u64, u64))> = w.iter().map(|w| (w.start, w.label, w.span)).collect();
        assert_eq!(got, vec![(20, 2, (0, 20)), (40, 2, (0, 15))]);
    }

    #[test]
    fn the_larger_overlap_wins_and_degenerate_inputs_give_nothing() {
        // 0..20 overlaps class 1 by 8 and class 2 by 12: both qualify for short actions.
        let w = label_windows(&[seg(0, 8, 1), seg(8, 40, 2)], 20, 20, 5);
        assert_eq!(w, vec![SceneWindow { start: 0, label: 2, span: (8, 20) }]);
        assert!(label_windows(&[], 10, 20, 5).is_empty(), "a scene shorter than a window");
        assert!(label_windows(&[], 100, 0, 5).is_empty());
        assert!(label_windows(&[], 100, 10, 0).is_empty());
        assert_eq!(label_windows(&[], 30, 10, 10).len(), 3, "an idle scene is idle windows");
    }
}
