//! From window scores to durable alert records: smoothing, the per-class rules, the record
//! (with its snapshot) and the outbox. An alert that cannot be written to the outbox (disk
//! full) is held in memory and retried with every window; at stop, one that still cannot be
//! stored is written whole to the log, so none is dropped silently.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::alert::{AlertRecord, Outbox, Rule, RuleState, Smoother, Transition};
use motus_core::frame::Frame;

use super::display::snapshot;
use super::metrics::Metrics;
use super::sink::Doorbell;

/// One alert transition, for the caller's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub class_index: usize,
    /// Stream time (s) the score first crossed the threshold.
    pub since_s: f64,
    /// Stream time (s) the alert started or ended.
    pub at_s: f64,
    pub ended: bool,
    pub record: AlertRecord,
}

/// A record the outbox has not taken for every sink yet: its number, and the sinks still
/// missing it (so a retry never gives a sink the same alert twice).
struct Held {
    record: AlertRecord,
    seq: u64,
    missing: Vec<String>,
}

/// Records held in memory at most; beyond, the oldest is written whole to the log and dropped
/// (a disk refusing writes for days must not exhaust the memory too).
const MAX_HELD: usize = 10_000;

struct Running {
    id: String,
    start_unix: f64,
    snapshot: Option<String>,
}

/// Smoothing, rules, records, snapshots and the outbox.
pub struct AlertEngine {
    labels: Vec<String>,
    rules: Vec<Option<RuleState>>,
    running: Vec<Option<Running>>,
    smoother: Smoother,
    smoothed: Vec<f32>,
    outbox: Outbox,
    bell: Arc<Doorbell>,
    /// Records the outbox refused, oldest first, retried with every window.
    backlog: Vec<Held>,
    /// Failed attempts to store the backlog since it last emptied (for sparse logging).
    held_failures: u64,
    source: String,
    model_sha256: String,
    snapshot_dir: Option<PathBuf>,
    snapshot_retention: snapshot::Retention,
    metrics: Arc<Metrics>,
    seq: u64,
    /// (stream time, unix time) of the first window, to date records.
    origin: Option<(f64, f64)>,
}

/// What the engine needs besides the rules.
pub struct AlertSetup {
    pub labels: Vec<String>,
    pub rules: Vec<Option<Rule>>,
    pub smoothing_s: f64,
    pub outbox: Outbox,
    pub bell: Arc<Doorbell>,
    pub source: String,
    pub model_sha256: String,
    pub snapshot_dir: Option<PathBuf>,
    /// How many snapshots stay on disk.
    pub snapshot_retention: snapshot::Retention,
    pub metrics: Arc<Metrics>,
}

/// Writes a record the outbox could not take to the log in full, so the journal keeps it.
fn log_whole(record: &AlertRecord, why: &str) {
    let json = serde_json::to_string(record).unwrap_or_else(|e| format!("(unserialisable: {e})"));
    log::error!("alerts: {} {why}; the record: {json}", record.id);
}

fn now_unix() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl AlertEngine {
    /// An engine with no alert running.
    pub fn new(s: AlertSetup) -> Self {
        let n = s.labels.len();
        AlertEngine {
            rules: s.rules.into_iter().map(|r| r.map(RuleState::new)).collect(),
            running: (0..n).map(|_| None).collect(),
            labels: s.labels,
            smoother: Smoother::new(s.smoothing_s),
            smoothed: vec![0.0; n],
            outbox: s.outbox,
            bell: s.bell,
            backlog: Vec::new(),
            held_failures: 0,
            source: s.source,
            model_sha256: s.model_sha256,
            snapshot_dir: s.snapshot_dir,
            snapshot_retention: s.snapshot_retention,
            metrics: s.metrics,
            seq: 0,
            origin: None,
        }
    }

    /// Removes the oldest snapshots beyond the retention, counting them; a failure is logged
    /// and the alert goes on (its own snapshot is saved).
    fn prune_snapshots(&self, dir: &std::path::Path, newest: &std::path::Path) {
        match snapshot::prune(dir, self.snapshot_retention, newest) {
            Ok(p) => {
                self.metrics.snapshots_evicted.fetch_add(p.files, std::sync::atomic::Ordering::Relaxed);
            }
            Err(e) => log::warn!("alerts: removing old snapshots in {}: {e}", dir.display()),
        }
    }

    /// The latest smoothed scores.
    pub fn smoothed(&self) -> &[f32] {
        &self.smoothed
    }

    /// Classes with a running alert, with their current score.
    pub fn running(&self) -> Vec<(&str, f32)> {
        self.running
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_some())
            .map(|(i, _)| (self.labels[i].as_str(), self.smoothed[i]))
            .collect()
    }

    /// Forgets smoothing history and ends nothing (after a source reconnect).
    pub fn reset_smoothing(&mut self) {
        self.smoother.reset();
    }

    fn unix_at(&mut self, t_s: f64) -> f64 {
        let (t0, u0) = *self.origin.get_or_insert((t_s, now_unix()));
        u0 + (t_s - t0)
    }

    fn enqueue(&mut self, record: AlertRecord) {
        let (seq, missing) = self.outbox.reserve();
        self.backlog.push(Held { record, seq, missing });
        if self.backlog.len() > MAX_HELD {
            let dropped = self.backlog.remove(0);
            log_whole(&dropped.record, "dropped: more alerts held than the memory allows");
        }
        self.store_held();
    }

    /// Stores the held records, oldest first, until the outbox refuses one; wakes the sinks
    /// (a record stored for only some of them is theirs to deliver already).
    fn store_held(&mut self) {
        let mut refused = None;
        while let Some(h) = self.backlog.first_mut() {
            match self.outbox.store(h.seq, &h.record, &mut h.missing) {
                Ok(()) => {
                    self.backlog.remove(0);
                }
                Err(e) => {
                    refused = Some((h.record.id.clone(), e));
                    break;
                }
            }
        }
        match refused {
            Some((id, e)) => {
                self.held_failures += 1;
                if self.held_failures.is_power_of_two() {
                    log::error!(
                        "alerts: cannot store alert {id} in the outbox: {e}; {} held in memory, retrying with every window",
                        self.backlog.len()
                    );
                }
            }
            None => {
                if self.held_failures > 0 {
                    log::info!("alerts: the outbox takes alerts again; every held alert is stored");
                }
                self.held_failures = 0;
            }
        }
        self.metrics.alerts_held.store(self.backlog.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.bell.ring();
    }

    /// At stop: a last attempt to store the held alerts. Each that still cannot be stored is
    /// written whole to the log (the journal keeps it); returns how many.
    pub fn flush_held(&mut self) -> usize {
        self.store_held();
        for h in &self.backlog {
            log_whole(&h.record, &format!("not stored for sink(s) {} before stopping", h.missing.join(", ")));
        }
        self.backlog.len()
    }

    /// Feeds one window's probabilities at stream time `t_s`. `snapshot` draws the frame to
    /// save when an alert starts (called at most once per new alert).
    pub fn update(
        &mut self,
        t_s: f64,
        probs: &[f32],
        mut snapshot: impl FnMut(&[f32], &[(&str, f32)]) -> Option<Frame>,
    ) -> Vec<Fired> {
        let mut fired = Vec::new();
        if probs.len() != self.labels.len() {
            log::error!("alerts: {} scores for {} classes; window ignored", probs.len(), self.labels.len());
            return fired;
        }
        if !self.backlog.is_empty() {
            self.store_held();
        }
        self.smoothed.copy_from_slice(self.smoother.update(t_s, probs));
        let unix = self.unix_at(t_s);
        let hour = ((unix / 3600.0).floor() as i64).rem_euclid(24) as u8;
        for k in 0..self.labels.len() {
            let score = self.smoothed[k];
            let Some(rule) = self.rules[k].as_mut() else { continue };
            match rule.update(t_s, score, hour) {
                Transition::None => {}
                Transition::Start { since_s, score } => {
                    let start_unix = self.unix_at(since_s);
                    let id = AlertRecord::make_id(start_unix, &self.labels[k], self.seq);
                    self.seq += 1;
                    let label = self.labels[k].clone();
                    let snap = match (&self.snapshot_dir, snapshot(&self.smoothed, &[(label.as_str(), score)])) {
                        (Some(dir), Some(frame)) => match snapshot::save(dir, &id, &frame) {
                            Ok(p) => {
                                self.prune_snapshots(dir, &p);
                                Some(p.display().to_string())
                            }
                            Err(e) => {
                                self.metrics.snapshot_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                log::error!("alerts: {e}; alert {id} is sent without a snapshot");
                                None
                            }
                        },
                        _ => None,
                    };
                    let record = AlertRecord {
                        id: id.clone(),
                        class: label.clone(),
                        score,
                        start_unix_s: start_unix,
                        end_unix_s: None,
                        source: self.source.clone(),
                        model_sha256: self.model_sha256.clone(),
                        snapshot: snap.clone(),
                    };
                    self.running[k] = Some(Running { id, start_unix, snapshot: snap });
                    self.metrics.alert(&label);
                    log::info!("alert: {label} started (score {score:.2})");
                    self.enqueue(record.clone());
                    fired.push(Fired { class_index: k, since_s, at_s: t_s, ended: false, record });
                }
                Transition::End { at_s, peak } => {
                    let Some(run) = self.running[k].take() else { continue };
                    let end_unix = self.unix_at(at_s);
                    let record = AlertRecord {
                        id: run.id,
                        class: self.labels[k].clone(),
                        score: peak,
                        start_unix_s: run.start_unix,
                        end_unix_s: Some(end_unix),
                        source: self.source.clone(),
                        model_sha256: self.model_sha256.clone(),
                        snapshot: run.snapshot,
                    };
                    log::info!("alert: {} ended (peak {peak:.2})", self.labels[k]);
                    self.enqueue(record.clone());
                    fired.push(Fired { class_index: k, since_s: at_s, at_s, ended: true, record });
                }
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(dir: &std::path::Path, snapshot_dir: Option<PathBuf>) -> AlertEngine {
        let labels: Vec<String> = ["idle", "wave"].iter().map(|s| s.to_string()).collect();
        let rule = Rule {
            class: "wave".into(),
            threshold: 0.6,
            release: Some(0.4),
            min_duration_s: 0.0,
            cooldown_s: 0.0,
            active_hours: None,
        };
        AlertEngine::new(AlertSetup {
            labels,
            rules: vec![None, Some(rule)],
            smoothing_s: 0.0,
            outbox: Outbox::open(dir, &["file"]).unwrap(),
            bell: Arc::new(Doorbell::default()),
            source: "test".into(),
            model_sha256: "ab".into(),
            snapshot_dir,
            snapshot_retention: snapshot::Retention { keep: 2, max_bytes: u64::MAX },
            metrics: Arc::new(Metrics::default()),
        })
    }

    #[test]
    fn start_and_end_records_reach_the_outbox_with_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let snaps = dir.path().join("snaps");
        let mut e = engine(&dir.path().join("ob"), Some(snaps.clone()));
        let frame = || Some(Frame::new(16, 16));
        assert!(e.update(0.0, &[0.9, 0.1], |_, _| frame()).is_empty());
        let f = e.update(0.5, &[0.2, 0.8], |_, a| {
            assert_eq!(a[0].0, "wave");
            frame()
        });
        assert_eq!(f.len(), 1);
        assert!(!f[0].ended && f[0].record.class == "wave");
        let snap = f[0].record.snapshot.clone().unwrap();
        assert!(std::path::Path::new(&snap).exists());
        assert_eq!(e.running(), vec![("wave", 0.8)]);
        let f = e.update(1.0, &[0.7, 0.3], |_, _| frame());
        assert!(f[0].ended);
        assert_eq!(f[0].record.end_unix_s.unwrap() - f[0].record.start_unix_s, 0.5);
        let ob = Outbox::open(&dir.path().join("ob"), &["file"]).unwrap();
        let p = ob.pending("file").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].record.id, p[1].record.id, "the end record carries the start's id");
        // Wrong number of scores: ignored, logged, no panic.
        assert!(e.update(2.0, &[0.5], |_, _| frame()).is_empty());
    }

    #[test]
    fn old_snapshots_are_removed_beyond_the_retention_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let snaps = dir.path().join("snaps");
        // The test engine keeps two snapshots.
        let mut e = engine(&dir.path().join("ob"), Some(snaps.clone()));
        let frame = || Some(Frame::new(16, 16));
        let mut ids = Vec::new();
        for k in 0..4 {
            let t = 2.0 * k as f64;
            let f = e.update(t, &[0.2, 0.8], |_, _| frame());
            ids.push(f[0].record.snapshot.clone().unwrap());
            std::thread::sleep(std::time::Duration::from_millis(15));
            e.update(t + 1.0, &[0.9, 0.1], |_, _| frame());
        }
        let left: Vec<bool> = ids.iter().map(|p| std::path::Path::new(p).exists()).collect();
        assert_eq!(left, [false, false, true, true], "the newest two stay");
        assert_eq!(e.metrics.snapshots_evicted.load(std::sync::atomic::Ordering::Relaxed), 2);
        // Every alert reached the outbox whatever happened to its picture.
        let ob = Outbox::open(&dir.path().join("ob"), &["file"]).unwrap();
        assert_eq!(ob.pending("file").unwrap().len(), 8);
    }

    #[test]
    fn alerts_the_disk_refuses_are_held_retried_with_each_window_and_logged_at_stop() {
        let dir = tempfile::tempdir().unwrap();
        let ob = dir.path().join("ob");
        let mut e = engine(&ob, None);
        let queue = ob.join("file");
        let break_disk = || {
            std::fs::remove_dir_all(&queue).unwrap();
            std::fs::write(&queue, b"not a folder").unwrap();
        };
        let mend_disk = || {
            std::fs::remove_file(&queue).unwrap();
            std::fs::create_dir(&queue).unwrap();
        };
        let held = |e: &AlertEngine| e.metrics.alerts_held.load(std::sync::atomic::Ordering::Relaxed);
        break_disk();
        assert_eq!(e.update(0.0, &[0.1, 0.9], |_, _| None).len(), 1, "the alert starts");
        assert_eq!(held(&e), 1);
        e.update(0.5, &[0.1, 0.9], |_, _| None);
        assert_eq!(held(&e), 1, "still refused");
        mend_disk();
        e.update(1.0, &[0.1, 0.9], |_, _| None);
        assert_eq!(held(&e), 0, "stored with the next window, no new alert needed");
        let stored = Outbox::open(&ob, &["file"]).unwrap().pending("file").unwrap();
        assert_eq!(stored.len(), 1);
        break_disk();
        assert_eq!(e.update(2.0, &[0.9, 0.1], |_, _| None).len(), 1, "the alert ends");
        assert_eq!(e.flush_held(), 1, "the end record could not be stored: logged whole");
        mend_disk();
        assert_eq!(e.flush_held(), 0);
    }

    #[test]
    fn a_snapshot_that_cannot_be_saved_still_sends_the_alert() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        let mut e = engine(&dir.path().join("ob"), Some(blocker));
        let f = e.update(0.0, &[0.1, 0.9], |_, _| Some(Frame::new(8, 8)));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].record.snapshot, None);
        assert_eq!(e.metrics.snapshot_errors.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(Outbox::open(&dir.path().join("ob"), &["file"]).unwrap().pending("file").unwrap().len(), 1);
    }
}
