//! A minimal progress line on stderr: enough for long generation, checking, evaluation and
//! loading runs (the `motus` commands and the trainer's data loading), without pulling a
//! terminal UI crate into the device binary.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Redraws `label done/total (rate/s, ETA)` on stderr at most a few times a second, and only
/// when stderr is a terminal (logs stay clean in CI).
pub struct Progress {
    label: String,
    start: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
}

impl Progress {
    /// A counter labelled `label`, drawn only when stderr is a terminal.
    pub fn new(label: &str) -> Self {
        Progress {
            label: label.to_string(),
            start: Instant::now(),
            last_draw: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Records `done` of `total`; redraws at most every 200 ms and always at the end.
    pub fn update(&mut self, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if done < total && self.last_draw.is_some_and(|t| now.duration_since(t).as_millis() < 200) {
            return;
        }
        self.last_draw = Some(now);
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        let eta = if rate > 0.0 { (total.saturating_sub(done)) as f64 / rate } else { 0.0 };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{} {done}/{total} ({rate:.1}/s, ETA {eta:.0} s)   ", self.label);
        if done >= total {
            let _ = writeln!(err);
        }
    }
}
