//! The delivery side of a run: the outbox every alert is written to first, and one dispatcher
//! thread per configured sink draining it.

use std::sync::Arc;

use crate::alert::{Outbox, QueueCap};
use crate::runtime::config::RunConfig;
use crate::runtime::metrics::Metrics;
use crate::runtime::sink::{self, Dispatcher, Doorbell};

use super::{PipelineError, RunLimits};

/// The running sinks.
pub(super) struct Sinks {
    names: Vec<String>,
    dispatchers: Vec<Dispatcher>,
}

impl Sinks {
    /// Opens the outbox (it must exist before any alert) and starts one thread per sink;
    /// returns the outbox the alert engine writes to.
    pub(super) fn start(
        cfg: &RunConfig,
        limits: &RunLimits,
        bell: &Arc<Doorbell>,
    ) -> Result<(Self, Outbox), PipelineError> {
        let names: Vec<String> = cfg.sinks.iter().map(|s| s.name()).collect();
        let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let outbox = Outbox::open(&cfg.output.outbox_dir, &name_refs).map_err(PipelineError::Outbox)?;
        match outbox.remove_stale_temporaries() {
            Ok(0) => {}
            Ok(n) => log::info!("outbox: removed {n} half-written records left in {}", cfg.output.outbox_dir.display()),
            Err(e) => log::warn!("outbox: cleaning half-written records: {e}"),
        }
        let cap = QueueCap { keep: cfg.output.outbox_keep, max_bytes: cfg.output.outbox_max_mb << 20 };
        let mut dispatchers = Vec::new();
        for s in &cfg.sinks {
            let sink = sink::build(s).map_err(PipelineError::Sink)?;
            let retry = limits.retry.unwrap_or_default();
            let d = Dispatcher::start(&cfg.output.outbox_dir, sink, bell.clone(), retry, cap)
                .map_err(PipelineError::Outbox)?;
            dispatchers.push(d);
        }
        Ok((Sinks { names, dispatchers }, outbox))
    }

    /// Shows each sink's counters on the metrics endpoint.
    pub(super) fn register(&self, metrics: &Metrics) {
        for d in &self.dispatchers {
            metrics.add_sink(&d.name, d.stats.clone());
        }
    }

    /// Flushes the sinks (bounded), then counts what stays queued for the next start, per sink.
    pub(super) fn stop(self, cfg: &RunConfig) -> Vec<(String, usize)> {
        for d in self.dispatchers {
            d.stop();
        }
        let undelivered: Vec<(String, usize)> = self
            .names
            .iter()
            .map(|n| (n.clone(), sink::dispatch::pending_count(&cfg.output.outbox_dir, n)))
            .filter(|(_, c)| *c > 0)
            .collect();
        for (n, c) in &undelivered {
            log::warn!(
                "shutdown: {c} alerts for sink {n} stay in {} until the next start",
                cfg.output.outbox_dir.display()
            );
        }
        undelivered
    }
}
