//! One delivery thread per sink: it drains that sink's outbox queue in order, acknowledges
//! each entry after a confirmed delivery, and on failure logs and retries with exponential
//! backoff. On stop it makes a last attempt to flush what is queued (bounded in time); what
//! is still undelivered stays on disk for the next start.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::AlertSink;
use crate::alert::Outbox;

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

/// Counters of one sink.
#[derive(Debug, Default)]
pub struct SinkStats {
    pub delivered: AtomicU64,
    pub failures: AtomicU64,
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

/// Delivers what is pending; returns false on the first failure.
fn drain(outbox: &Outbox, sink: &mut dyn AlertSink, stats: &SinkStats, quiet: &mut bool) -> bool {
    let pending = match outbox.pending(sink.name()) {
        Ok(p) => p,
        Err(e) => {
            log::error!("sink {}: reading the outbox: {e}", sink.name());
            return false;
        }
    };
    for p in pending {
        match sink.deliver(&p.record) {
            Ok(()) => {
                if let Err(e) = outbox.ack(&p) {
                    log::error!(
                        "sink {}: delivered {} but could not remove it from the outbox: {e}",
                        sink.name(),
                        p.record.id
                    );
                    return false;
                }
                stats.delivered.fetch_add(1, Ordering::Relaxed);
                if *quiet {
                    log::info!("sink {}: delivering again", sink.name());
                    *quiet = false;
                }
            }
            Err(e) => {
                let n = stats.failures.fetch_add(1, Ordering::Relaxed) + 1;
                if !*quiet || n.is_power_of_two() {
                    log::warn!("{e}; {} kept in the outbox, will retry", p.record.id);
                }
                *quiet = true;
                return false;
            }
        }
    }
    true
}

impl Dispatcher {
    /// Starts delivering `sink`'s queue from the outbox in `dir`.
    pub fn start(
        dir: &Path,
        mut sink: Box<dyn AlertSink>,
        bell: Arc<Doorbell>,
        retry: Retry,
    ) -> Result<Self, crate::alert::OutboxError> {
        let name = sink.name().to_string();
        let outbox = Outbox::open(dir, &[&name])?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(SinkStats::default());
        let (st, b, stp) = (stats.clone(), bell.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name(format!("motus-sink-{name}"))
            .spawn(move || {
                let mut seen = 0;
                let mut delay = retry.initial;
                let mut quiet = false;
                while !stp.load(Ordering::Relaxed) {
                    if drain(&outbox, sink.as_mut(), &st, &mut quiet) {
                        delay = retry.initial;
                        b.wait(&mut seen, Duration::from_millis(500));
                    } else {
                        let until = Instant::now() + delay;
                        while Instant::now() < until && !stp.load(Ordering::Relaxed) {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        delay = (delay * 2).min(retry.max);
                    }
                }
                // Flush: keep trying within the budget, then leave the rest on disk.
                let end = Instant::now() + retry.flush_budget;
                while Instant::now() < end {
                    if drain(&outbox, sink.as_mut(), &st, &mut quiet) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let left = outbox.pending(sink.name()).map(|p| p.len()).unwrap_or(0);
                if left > 0 {
                    log::warn!("sink {}: {left} alerts stay in the outbox for the next start", sink.name());
                }
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

/// Pending counts per sink (for tests and the status line).
pub fn pending_count(dir: &Path, sink: &str) -> usize {
    Outbox::open(dir, &[sink]).and_then(|o| o.pending(sink)).map(|p| p.len()).unwrap_or(0)
}
