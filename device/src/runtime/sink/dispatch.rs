//! One delivery thread per sink: it drains that sink's outbox queue in order, acknowledges
//! each entry after a confirmed delivery, and on a transient failure logs and retries with
//! exponential backoff; a record the destination refused for good goes to the dead letters
//! and the queue moves on. It keeps the queue within its [`QueueCap`], evicting the oldest.
//! On stop it makes a last attempt to flush what is queued (bounded in time); what is still
//! undelivered stays on disk for the next start.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{AlertSink, FailureKind};
use crate::alert::{Outbox, Pending, QueueCap};

/// Wakes delivery threads when the outbox gains an entry.
#[derive(Default)]
pub struct Doorbell {
    rung: Mutex<u64>,
    cond: Condvar,
}

impl Doorbell {
    /// Signals new work.
    pub fn ring(&self) {
        *self.rung.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.cond.notify_all();
    }

    fn wait(&self, seen: &mut u64, timeout: Duration) {
        let g = self.rung.lock().unwrap_or_else(|p| p.into_inner());
        let (g, _) = self.cond.wait_timeout_while(g, timeout, |n| *n == *seen).unwrap_or_else(|p| p.into_inner());
        *seen = *g;
    }
}

/// Counters of one sink (exported per sink by the metrics endpoint).
#[derive(Debug, Default)]
pub struct SinkStats {
    pub delivered: AtomicU64,
    /// Transient failures (each retried).
    pub failures: AtomicU64,
    /// Records the destination refused for good, moved to the dead letters.
    pub dead_letters: AtomicU64,
    /// Records evicted undelivered to keep the queue within its cap.
    pub evicted: AtomicU64,
    /// Records waiting in the queue when it was last read.
    pub queued: AtomicU64,
}

/// A running delivery thread.
pub struct Dispatcher {
    pub name: String,
    pub stats: Arc<SinkStats>,
    stop: Arc<AtomicBool>,
    bell: Arc<Doorbell>,
    handle: Option<JoinHandle<()>>,
}

/// Retry delays and the flush budget at stop.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub initial: Duration,
    pub max: Duration,
    pub flush_budget: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            flush_budget: Duration::from_secs(5),
        }
    }
}

/// Where one sink's dispatcher stands: its queue, its sink and its counters.
struct Lane<'a> {
    outbox: &'a Outbox,
    sink: &'a mut dyn AlertSink,
    stats: &'a SinkStats,
    cap: QueueCap,
    /// Failing since the last success (later failures are logged sparsely).
    quiet: bool,
}

impl Lane<'_> {
    /// Evicts what is over the cap, counting and logging it.
    fn enforce_cap(&mut self) {
        match self.outbox.evict_oldest(self.sink.name(), self.cap) {
            Ok(e) if e.files > 0 => {
                self.stats.evicted.fetch_add(e.files, Ordering::Relaxed);
                log::warn!(
                    "sink {}: its queue is over the outbox cap ({} alerts, {} MB): the {} oldest were removed undelivered",
                    self.sink.name(),
                    self.cap.keep,
                    self.cap.max_bytes >> 20,
                    e.files
                );
            }
            Ok(_) => {}
            Err(e) => log::error!("sink {}: keeping the queue within its cap: {e}", self.sink.name()),
        }
    }

    /// Counts a failed attempt and logs it (the first of a run of failures, then sparsely);
    /// false, for the caller to back off.
    fn failed(&mut self, what: &str) -> bool {
        let n = self.stats.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.quiet || n.is_power_of_two() {
            log::warn!("{what}");
        }
        self.quiet = true;
        false
    }

    /// Delivers what is pending; returns false on the first transient failure.
    fn drain(&mut self) -> bool {
        let pending = match self.outbox.pending(self.sink.name()) {
            Ok(p) => p,
            Err(e) => return self.failed(&format!("sink {}: reading the outbox: {e}", self.sink.name())),
        };
        self.stats.queued.store(pending.len() as u64, Ordering::Relaxed);
        for p in pending {
            if !self.deliver(&p) {
                return false;
            }
            self.stats.queued.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    /// Delivers one record and takes it off the queue (acknowledged, or dead-lettered when
    /// refused for good); false when it stays queued.
    fn deliver(&mut self, p: &Pending) -> bool {
        let name = self.sink.name().to_string();
        match self.sink.deliver(&p.record) {
            Ok(()) => {
                if let Err(e) = self.outbox.ack(p) {
                    log::error!("sink {name}: delivered {} but could not remove it from the outbox: {e}", p.record.id);
                    return false;
                }
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                if self.quiet {
                    log::info!("sink {name}: delivering again");
                    self.quiet = false;
                }
                true
            }
            Err(e) if e.kind == FailureKind::Rejected => match self.outbox.dead_letter(p, self.cap) {
                Ok((to, older)) => {
                    self.stats.dead_letters.fetch_add(1, Ordering::Relaxed);
                    self.stats.evicted.fetch_add(older.files, Ordering::Relaxed);
                    log::error!("{e}; {} refused for good, set aside in {}", p.record.id, to.display());
                    if older.files > 0 {
                        log::warn!("sink {name}: {} older dead letters removed to stay within the cap", older.files);
                    }
                    true
                }
                Err(err) => self.failed(&format!("{e}; {} could not be set aside ({err}), will retry", p.record.id)),
            },
            Err(e) => self.failed(&format!("{e}; {} kept in the outbox, will retry", p.record.id)),
        }
    }
}

impl Dispatcher {
    /// Starts delivering `sink`'s queue from the outbox in `dir`, keeping the queue within `cap`.
    pub fn start(
        dir: &Path,
        mut sink: Box<dyn AlertSink>,
        bell: Arc<Doorbell>,
        retry: Retry,
        cap: QueueCap,
    ) -> Result<Self, crate::alert::OutboxError> {
        let name = sink.name().to_string();
        let outbox = Outbox::open(dir, &[&name])?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(SinkStats::default());
        let (st, b, stp) = (stats.clone(), bell.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name(format!("motus-sink-{name}"))
            .spawn(move || {
                let mut lane = Lane { outbox: &outbox, sink: sink.as_mut(), stats: &st, cap, quiet: false };
                run(&mut lane, &b, &stp, retry);
            })
            .expect("spawning a sink thread");
        Ok(Dispatcher { name, stats, stop, bell, handle: Some(handle) })
    }

    /// Stops the thread after its flush attempt.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.bell.ring();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The delivery loop: drain, back off after a transient failure, wait for the bell when the
/// queue is empty; at stop, flush within the budget and leave the rest on disk.
fn run(lane: &mut Lane<'_>, bell: &Doorbell, stop: &AtomicBool, retry: Retry) {
    let mut seen = 0;
    let mut delay = retry.initial;
    while !stop.load(Ordering::Relaxed) {
        lane.enforce_cap();
        if lane.drain() {
            delay = retry.initial;
            bell.wait(&mut seen, Duration::from_millis(500));
        } else {
            let until = Instant::now() + delay;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
            delay = (delay * 2).min(retry.max);
        }
    }
    let end = Instant::now() + retry.flush_budget;
    while Instant::now() < end {
        if lane.drain() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = lane.outbox.pending(lane.sink.name()).map(|p| p.len()).unwrap_or(0);
    if left > 0 {
        log::warn!("sink {}: {left} alerts stay in the outbox for the next start", lane.sink.name());
    }
}

/// Pending counts per sink (for tests and the status line).
pub fn pending_count(dir: &Path, sink: &str) -> usize {
    Outbox::open(dir, &[sink]).and_then(|o| o.pending(sink)).map(|p| p.len()).unwrap_or(0)
}
