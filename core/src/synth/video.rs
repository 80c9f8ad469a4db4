//! [`SynthVideo`]: one generated video, read like any other through
//! [`crate::media::VideoReader`].
//!
//! Frames are rendered on demand into the caller's buffer, so a dataset writer, the trainer and
//! the device's live demo all consume synthetic video exactly like decoded video, and nothing
//! is allocated per frame.

use std::collections::VecDeque;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::actor::{self, Appearance, Pose};
use super::classes::{self, Act, Planner, Stage, BACKGROUND, CLASS_NAMES};
use super::negatives::{self, Extras};
use super::raster::Canvas;
use super::scene::Scene;
use super::{mix_seed, SynthConfig, SynthError};
use crate::frame::Frame;
use crate::media::{MediaError, VideoInfo, VideoReader};
use crate::truth::{GroundTruth, Segment};

/// Domain tags for seed derivation, so short clips, long videos and the live camera never
/// share a generator stream.
const TAG_SHORT: u64 = 0x5348_4f52;
const TAG_LONG: u64 = 0x4c4f_4e47;
const TAG_ENDLESS: u64 = 0x454e_444c;

/// A scene and its actor, valid from frame `start` on (the endless camera changes scene after
/// a fall).
#[derive(Debug, Clone)]
struct Epoch {
    start: u64,
    scene: Scene,
    app: Appearance,
    /// A background clip's negatives (vehicles, hands, camera motion, ...); `None` otherwise.
    extras: Option<Box<Extras>>,
}

/// The endless camera's planner, which keeps drawing actions as frames are read.
#[derive(Debug, Clone)]
struct Endless {
    rng: ChaCha8Rng,
    planner: Planner,
    /// Frame at which planning continues.
    planned_to: u64,
}

/// One generated video: a short labelled clip, a long video with several actions, or the
/// endless live-demo camera.
///
/// Every random draw comes from a ChaCha8 generator seeded from `(seed, class, video index)`,
/// so each video is reproducible on its own and a dataset is identical for a given seed.
#[derive(Debug, Clone)]
pub struct SynthVideo {
    width: u32,
    height: u32,
    fps: f64,
    stage: Stage,
    frames: Option<u64>,
    next: u64,
    label: Option<usize>,
    epochs: VecDeque<Epoch>,
    /// Timeline, in order, covering every planned frame (idle gaps included).
    acts: VecDeque<Act>,
    /// Labelled segments so far (for the endless camera, only those already started count).
    segments: Vec<Segment>,
    endless: Option<Box<Endless>>,
}

fn new_epoch(rng: &mut ChaCha8Rng, start: u64, width: u32, height: u32) -> Epoch {
    let scene = Scene::random(rng, width, height);
    let app = Appearance::random(rng, scene.bright);
    Epoch { start, scene, app, extras: None }
}

fn segment(act: &Act) -> Option<Segment> {
    act.class.map(|c| Segment {
        start_frame: act.start,
        end_frame: act.end,
        class_index: c,
        class_name: CLASS_NAMES[c].to_string(),
    })
}

impl SynthVideo {
    fn assemble(cfg: &SynthConfig, label: Option<usize>, acts: Vec<Act>, epoch: Epoch) -> Self {
        let segments = acts.iter().filter_map(segment).collect();
        SynthVideo {
            width: cfg.width,
            height: cfg.height,
            fps: cfg.fps,
            stage: Stage::new(cfg.width, cfg.height, cfg.fps),
            frames: Some(cfg.frames as u64),
            next: 0,
            label,
            epochs: VecDeque::from([epoch]),
            acts: acts.into(),
            segments,
            endless: None,
        }
    }

    /// One short clip of class `class_index` (see [`CLASS_NAMES`]): idle, the action, idle; for
    /// class 0 with `cfg.negatives`, one of the negative scenes of `negatives`.
    /// `video_index` selects which of the class's clips, independently of the others.
    pub fn new(cfg: &SynthConfig, class_index: usize, video_index: u64) -> Result<Self, SynthError> {
        cfg.validate_for(false)?;
        if class_index >= CLASS_NAMES.len() {
            return Err(SynthError::BadClass(class_index));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(&[cfg.seed, TAG_SHORT, class_index as u64, video_index]));
        let mut epoch = new_epoch(&mut rng, 0, cfg.width, cfg.height);
        let stage = Stage::new(cfg.width, cfg.height, cfg.fps);
        let acts = if class_index == BACKGROUND && cfg.negatives {
            let (acts, extras, _) = negatives::background_clip(&mut rng, &stage, cfg.frames as u64, epoch.scene.bright);
            epoch.extras = Some(Box::new(extras));
            acts
        } else {
            classes::short_clip(class_index, &mut rng, &stage, cfg.frames as u64)
        };
        Ok(Self::assemble(cfg, Some(class_index), acts, epoch))
    }

    /// A long video of `cfg.frames` frames (at least 200): several actions in sequence with idle
    /// gaps, the actor's position, size and posture carried from one action to the next.
    pub fn long(cfg: &SynthConfig, video_index: u64) -> Result<Self, SynthError> {
        cfg.validate_for(true)?;
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(&[cfg.seed, TAG_LONG, video_index]));
        let epoch = new_epoch(&mut rng, 0, cfg.width, cfg.height);
        let stage = Stage::new(cfg.width, cfg.height, cfg.fps);
        let n = cfg.frames as u64;
        let mut planner = Planner::new(stage, &mut rng);
        let mut acts = Vec::new();
        let mut t = 0u64;
        loop {
            let gap = planner.gap(&mut rng, t, (0.4, 1.5));
            let gap_end = gap.end.min(n);
            acts.push(Act { end: gap_end, ..gap });
            t = gap_end;
            if t >= n {
                break;
            }
            // A fall ends the story, so it is only allowed near the end of the video.
            let remaining = n - t;
            let allow_fall = planner.count >= 2 && remaining <= stage.frames(4.0, 40) && rng.random_bool(0.5);
            // A drawn action may not fit the frames left; try a few others before giving up.
            let next = (0..4).find_map(|_| planner.action(&mut rng, t, Some(remaining), allow_fall));
            match next {
                Some(act) => {
                    t = act.end;
                    acts.push(act);
                }
                None => {
                    // Nothing fits (or the actor lies): hold to the end.
                    acts.push(Act {
                        start: t,
                        end: n,
                        from: planner.state,
                        motion: classes::Motion::Hold,
                        class: None,
                    });
                    break;
                }
            }
            if t >= n {
                break;
            }
        }
        Ok(Self::assemble(cfg, None, acts, epoch))
    }

    /// The device's live demo camera: actions forever with idle gaps; after a fall, a fresh scene
    /// and actor. Invalid arguments are clamped (sides to 32..=4096, a bad rate to 30 fps) since
    /// a camera must always produce frames; `frame_count` is `None`.
    pub fn endless(width: u32, height: u32, fps: f64, seed: u64) -> Self {
        let width = width.clamp(super::MIN_SIDE, super::MAX_SIDE);
        let height = height.clamp(super::MIN_SIDE, super::MAX_SIDE);
        let fps = if fps.is_finite() && fps > 0.0 && fps <= 1000.0 { fps } else { 30.0 };
        let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(&[seed, TAG_ENDLESS]));
        let epoch = new_epoch(&mut rng, 0, width, height);
        let stage = Stage::new(width, height, fps);
        let planner = Planner::new(stage, &mut rng);
        SynthVideo {
            width,
            height,
            fps,
            stage,
            frames: None,
            next: 0,
            label: None,
            epochs: VecDeque::from([epoch]),
            acts: VecDeque::new(),
            segments: Vec::new(),
            endless: Some(Box::new(Endless { rng, planner, planned_to: 0 })),
        }
    }

    /// Plans the endless camera's timeline until it covers frame `f`.
    fn plan_until(&mut self, f: u64) {
        let Some(e) = self.endless.as_mut() else { return };
        while e.planned_to <= f {
            let gap = e.planner.gap(&mut e.rng, e.planned_to, (0.6, 2.5));
            e.planned_to = gap.end;
            self.acts.push_back(gap);
            let allow_fall = e.planner.count >= 2 && e.rng.random_bool(0.15);
            match e.planner.action(&mut e.rng, e.planned_to, None, allow_fall) {
                Some(act) => {
                    e.planned_to = act.end;
                    self.acts.push_back(act);
                }
                None => {
                    // Lying after a fall: rest a while, then a fresh scene.
                    let rest = e.planner.gap(&mut e.rng, e.planned_to, (1.0, 2.0));
                    e.planned_to = rest.end;
                    self.acts.push_back(rest);
                    let epoch = new_epoch(&mut e.rng, e.planned_to, self.width, self.height);
                    self.epochs.push_back(epoch);
                    e.planner = Planner::new(self.stage, &mut e.rng);
                }
            }
        }
        // Forget what lies behind the read position.
        while self.acts.len() > 1 && self.acts[0].end <= self.next.min(f) {
            self.acts.pop_front();
        }
        while self.epochs.len() > 1 && self.epochs[1].start <= self.next.min(f) {
            self.epochs.pop_front();
        }
    }

    /// The act covering frame `f` (the nearest one when `f` is outside the timeline).
    fn act_at(&self, f: u64) -> &Act {
        let i = self.acts.partition_point(|a| a.end <= f).min(self.acts.len() - 1);
        &self.acts[i]
    }

    fn epoch_at(&self, f: u64) -> &Epoch {
        let i = self.epochs.partition_point(|e| e.start <= f).max(1) - 1;
        &self.epochs[i]
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// The actor's pose at frame `f`: the debug hook tests use instead of segmenting pixels.
    pub(crate) fn pose_at(&mut self, f: u64) -> Pose {
        self.plan_until(f);
        let app = &self.epoch_at(f).app;
        self.act_at(f).pose(f, &self.stage, app)
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// Image position of the actor's mid body at frame `f` (debug hook).
    pub(crate) fn actor_centre(&mut self, f: u64) -> (f32, f32) {
        actor::centre_of(&self.pose_at(f))
    }

    /// Renders frame `f` into `frame` (resized if needed). Frames of short and long videos may
    /// be rendered in any order; the endless camera only forward.
    pub fn render(&mut self, f: u64, frame: &mut Frame) {
        self.plan_until(f);
        frame.reshape(self.width, self.height);
        frame.timestamp = Duration::from_secs_f64(f as f64 / self.fps);
        let epoch = self.epoch_at(f);
        let pose = self.act_at(f).pose(f, &self.stage, &epoch.app);
        let shake = epoch.scene.shake(f);
        epoch.scene.draw_background(&mut frame.data, f, shake);
        let (w, h) = (self.width as usize, self.height as usize);
        let extras = epoch.extras.as_deref();
        {
            let mut canvas = Canvas::new(&mut frame.data, w, h);
            if let Some(x) = extras {
                x.draw_behind(&mut canvas, f, &self.stage, shake);
            }
            if !extras.is_some_and(|x| x.hide_actor) {
                actor::draw(&mut canvas, &epoch.app, &pose, (shake.0 as f32, shake.1 as f32));
            }
            if let Some(x) = extras {
                x.draw_front(&mut canvas, f, shake);
            }
        }
        if let Some(x) = extras {
            x.move_camera(&mut frame.data, w, h, f, self.stage.fps);
        }
        epoch.scene.finish(&mut frame.data, f, self.stage.fps);
        if let Some(x) = extras {
            x.light(&mut frame.data, f, self.stage.fps);
        }
        if self.endless.is_some() {
            self.record_segments(f);
        }
    }

    /// Endless camera: remembers the segments that have started by frame `f`.
    fn record_segments(&mut self, f: u64) {
        let last = self.segments.last().map(|s| s.start_frame);
        for act in self.acts.iter() {
            if act.start > f {
                break;
            }
            if last.is_some_and(|l| act.start <= l) {
                continue;
            }
            if let Some(s) = segment(act) {
                self.segments.push(s);
            }
        }
    }

    /// Ground truth: for long videos every action segment; for the endless camera those started
    /// so far; for a short clip the one segment of its action (the whole clip for `idle`).
    pub fn ground_truth(&self) -> GroundTruth {
        let frames = match self.frames {
            Some(n) => n,
            None => self.segments.last().map_or(0, |s| s.end_frame).max(self.next),
        };
        GroundTruth { width: self.width, height: self.height, fps: self.fps, frames, segments: self.segments.clone() }
    }

    /// The class of a short clip; `None` for long videos and the endless camera.
    pub fn label(&self) -> Option<usize> {
        self.label
    }
}

impl VideoReader for SynthVideo {
    fn info(&self) -> VideoInfo {
        VideoInfo { width: self.width, height: self.height, fps: self.fps, frame_count: self.frames }
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, MediaError> {
        if self.frames.is_some_and(|n| self.next >= n) {
            return Ok(false);
        }
        let f = self.next;
        self.render(f, frame);
        self.next = f + 1;
        Ok(true)
    }
}
