//! Training progress on stderr: an epoch bar and an overall bar with clips/s and ETA, redrawn
//! in place on a terminal; a plain line per epoch otherwise (CI logs stay readable).

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Two progress bars for a run of `epochs` epochs of `steps` steps each.
pub struct TrainProgress {
    epochs: u32,
    steps: u64,
    start: Instant,
    epoch_start: Instant,
    done_at_start: u64,
    last_draw: Option<Instant>,
    tty: bool,
}

fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0)) * width as f64).round() as usize;
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

fn hms(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl TrainProgress {
    /// `first_epoch` > 0 when resuming: the overall bar starts part-way.
    pub fn new(epochs: u32, steps: u64, first_epoch: u32) -> Self {
        let now = Instant::now();
        TrainProgress {
            epochs,
            steps,
            start: now,
            epoch_start: now,
            done_at_start: first_epoch as u64 * steps,
            last_draw: None,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Marks the start of an epoch.
    pub fn start_epoch(&mut self) {
        self.epoch_start = Instant::now();
    }

    /// Redraws after `step` steps of `epoch` (0-based), with the running loss.
    pub fn update(&mut self, epoch: u32, step: u64, clips_per_step: usize, loss: f64) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if step < self.steps && self.last_draw.is_some_and(|t| now.duration_since(t).as_millis() < 250) {
            return;
        }
        self.last_draw = Some(now);
        let done = epoch as u64 * self.steps + step;
        let total = self.epochs as u64 * self.steps;
        let run_secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let steps_per_s = (done - self.done_at_start.min(done)) as f64 / run_secs;
        let clips_per_s = steps_per_s * clips_per_step as f64;
        let eta = if steps_per_s > 0.0 { (total - done) as f64 / steps_per_s } else { 0.0 };
        let epoch_eta = if steps_per_s > 0.0 { (self.steps - step) as f64 / steps_per_s } else { 0.0 };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\repoch {}/{} {} {step}/{} (ETA {})  all {} {:.0}% (ETA {})  {clips_per_s:.1} clips/s  loss {loss:.4}   ",
            epoch + 1,
            self.epochs,
            bar(step as f64 / self.steps as f64, 20),
            self.steps,
            hms(epoch_eta),
            bar(done as f64 / total as f64, 20),
            100.0 * done as f64 / total as f64,
            hms(eta)
        );
    }

    /// Ends an epoch's line with its summary.
    pub fn finish_epoch(&mut self, summary: &str) {
        let secs = self.epoch_start.elapsed().as_secs_f64();
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{summary} ({secs:.1} s)");
    }
}
