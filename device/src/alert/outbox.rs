//! A durable on-disk outbox: an alert accepted by the runtime is written to disk before any
//! sink sees it, and leaves a sink's queue only when that sink confirmed delivery, when the
//! destination refused it for good (then it is kept as a dead letter), or when the queue is
//! over its [`QueueCap`] (the oldest are evicted, and the caller counts them). A broker that is
//! down, a webhook that times out or a power cut loses nothing within the cap; delivery
//! resumes on restart (at least once, in order per sink).
//!
//! Layout: `DIR/<sink>/<sequence:020>.json`, one file per alert per sink, each written to a
//! temporary name, fsynced, renamed, and the directory fsynced. A record the sink refused for
//! good goes to `DIR/<sink>/dead/` (the dead letters); one that cannot be parsed to
//! `DIR/<sink>/corrupt/`. Each sink's queue and dead letters are bounded by a [`QueueCap`].

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use motus_core::atomic::{remove_oldest, Removed};

use super::record::AlertRecord;

/// Why the outbox could not store or read an alert.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("sink name {0:?} must be letters, digits, '-' or '_'")]
    BadSinkName(String),
}

fn io(path: &Path, source: std::io::Error) -> OutboxError {
    OutboxError::Io { path: path.to_path_buf(), source }
}

/// The outbox for a set of sinks.
pub struct Outbox {
    dir: PathBuf,
    sinks: Vec<String>,
    next_seq: u64,
}

/// One queued alert for one sink.
#[derive(Debug, Clone)]
pub struct Pending {
    pub seq: u64,
    pub path: PathBuf,
    pub record: AlertRecord,
}

/// How much one sink's queue may hold on disk: the newest `keep` records and at most
/// `max_bytes` of them. Beyond either, the oldest are evicted undelivered, so a sink that
/// stays down for weeks cannot fill the disk; its dead letters are bounded the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCap {
    pub keep: usize,
    pub max_bytes: u64,
}

/// Records kept per sink by default (`output.outbox_keep`).
pub const DEFAULT_QUEUE_KEEP: usize = 10_000;
/// Megabytes kept per sink by default (`output.outbox_max_mb`).
pub const DEFAULT_QUEUE_MAX_MB: u64 = 256;

impl Default for QueueCap {
    /// The config's defaults: 10000 records, 256 MB per sink.
    fn default() -> Self {
        QueueCap { keep: DEFAULT_QUEUE_KEEP, max_bytes: DEFAULT_QUEUE_MAX_MB << 20 }
    }
}

fn sync_dir(dir: &Path) -> Result<(), OutboxError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e))
}

fn entries(dir: &Path) -> Result<Vec<(u64, PathBuf)>, OutboxError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let e = e.map_err(|e| io(dir, e))?;
        let name = e.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json")) else { continue };
        if let Ok(seq) = stem.parse::<u64>() {
            out.push((seq, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Removes the oldest records in `dir` until at most `cap.keep` remain holding at most
/// `cap.max_bytes`; a record removed meanwhile by someone else is skipped.
fn evict_beyond(dir: &Path, cap: QueueCap) -> Result<Removed, OutboxError> {
    let mut sized = Vec::new();
    for (_, path) in entries(dir)? {
        match std::fs::metadata(&path) {
            Ok(m) => sized.push((path, m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path, e)),
        }
    }
    let evicted = remove_oldest(sized, cap.keep, cap.max_bytes, None).map_err(|e| io(dir, e))?;
    if evicted.files > 0 {
        sync_dir(dir)?;
    }
    Ok(evicted)
}

impl Outbox {
    /// Opens (creating) the outbox for `sinks`; the sequence continues after what is on disk.
    pub fn open(dir: &Path, sinks: &[&str]) -> Result<Self, OutboxError> {
        let mut next_seq = 0;
        for s in sinks {
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(OutboxError::BadSinkName(s.to_string()));
            }
            let d = dir.join(s);
            std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
            // Dead letters and set-aside records keep their numbers, so the sequence must pass
            // them too: a new record never takes the name of one moved back into the queue.
            for folder in [d.clone(), d.join("dead"), d.join("corrupt")] {
                if !folder.is_dir() {
                    continue;
                }
                if let Some((seq, _)) = entries(&folder)?.last() {
                    next_seq = next_seq.max(seq + 1);
                }
            }
        }
        Ok(Outbox { dir: dir.to_path_buf(), sinks: sinks.iter().map(|s| s.to_string()).collect(), next_seq })
    }

    /// Removes records left half-written (`.SEQ.tmp`) by a process that stopped while
    /// storing one: it never returned, so the alert is still in its engine's backlog or was
    /// never accepted. Call before any sink drains or any alert is stored; returns how many.
    pub fn remove_stale_temporaries(&self) -> Result<usize, OutboxError> {
        let mut removed = 0;
        for s in &self.sinks {
            let d = self.dir.join(s);
            removed += motus_core::atomic::remove_stale_temporaries(&d, ".tmp").map_err(|e| io(&d, e))?;
        }
        Ok(removed)
    }

    /// Stores `record` for every sink; returns once it is durable on disk. On an error some
    /// sinks may hold it already: a caller that retries uses [`Outbox::reserve`] and
    /// [`Outbox::store`] instead, which never write a record twice to one sink.
    pub fn enqueue(&mut self, record: &AlertRecord) -> Result<u64, OutboxError> {
        let (seq, mut missing) = self.reserve();
        self.store(seq, record, &mut missing)?;
        Ok(seq)
    }

    /// A new sequence number, and the sinks a record stored under it must reach.
    pub fn reserve(&mut self) -> (u64, Vec<String>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        (seq, self.sinks.clone())
    }

    /// Writes `record` as number `seq` for each sink in `missing`, in order, taking each one
    /// out of `missing` once the record is durable there; stops at the first failure, leaving
    /// in `missing` the sinks that still need it. Retrying with the same `seq` and `missing`
    /// never gives a sink the record twice, even if that sink delivered it meanwhile.
    pub fn store(&self, seq: u64, record: &AlertRecord, missing: &mut Vec<String>) -> Result<(), OutboxError> {
        let body = serde_json::to_vec(record).expect("alert records serialise");
        while let Some(sink) = missing.first() {
            let d = self.dir.join(sink);
            let tmp = d.join(format!(".{seq:020}.tmp"));
            let path = d.join(format!("{seq:020}.json"));
            let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
            f.write_all(&body).and_then(|_| f.sync_all()).map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
            sync_dir(&d)?;
            missing.remove(0);
        }
        Ok(())
    }

    /// Alerts still to deliver to `sink`, oldest first. A file that cannot be parsed (a disk
    /// fault) is moved aside to `<sink>/corrupt/` and logged rather than blocking the queue.
    pub fn pending(&self, sink: &str) -> Result<Vec<Pending>, OutboxError> {
        let d = self.dir.join(sink);
        let mut out = Vec::new();
        for (seq, path) in entries(&d)? {
            let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
            match serde_json::from_slice::<AlertRecord>(&bytes) {
                Ok(record) => out.push(Pending { seq, path, record }),
                Err(e) => {
                    let aside = d.join("corrupt");
                    std::fs::create_dir_all(&aside).map_err(|e| io(&aside, e))?;
                    let target = aside.join(path.file_name().expect("entry has a name"));
                    log::error!("outbox: {} is unreadable ({e}); moved to {}", path.display(), target.display());
                    std::fs::rename(&path, &target).map_err(|e| io(&path, e))?;
                }
            }
        }
        Ok(out)
    }

    /// Evicts `sink`'s oldest queued records beyond `cap`: alerts that sink will never get,
    /// for the caller to count and report.
    pub fn evict_oldest(&self, sink: &str, cap: QueueCap) -> Result<Removed, OutboxError> {
        evict_beyond(&self.dir.join(sink), cap)
    }

    /// Moves a record its sink refused for good into `<sink>/dead/`; returns where it went and
    /// the older dead letters removed to stay within `cap` (the oldest go first). The record
    /// leaves the queue, so the alerts behind it are not held up, and stays on disk for a
    /// person to read; moving it back into `<sink>/` redelivers it in its place (a new record
    /// never takes the number of one still on disk, queued, dead or set aside). An error means
    /// the record is still queued; once it has moved, a failure to sync or to bound the
    /// folder is only logged.
    pub fn dead_letter(&self, pending: &Pending, cap: QueueCap) -> Result<(PathBuf, Removed), OutboxError> {
        let sink_dir = pending.path.parent().expect("entry is inside a sink folder");
        let dead = sink_dir.join("dead");
        std::fs::create_dir_all(&dead).map_err(|e| io(&dead, e))?;
        let target = dead.join(pending.path.file_name().expect("entry has a name"));
        std::fs::rename(&pending.path, &target).map_err(|e| io(&pending.path, e))?;
        let settle = sync_dir(&dead).and_then(|_| sync_dir(sink_dir)).and_then(|_| evict_beyond(&dead, cap));
        let evicted = settle.unwrap_or_else(|e| {
            log::warn!("outbox: {} set aside, but {e}", target.display());
            Removed::default()
        });
        Ok((target, evicted))
    }

    /// Marks an alert delivered to its sink.
    pub fn ack(&self, pending: &Pending) -> Result<(), OutboxError> {
        std::fs::remove_file(&pending.path).map_err(|e| io(&pending.path, e))?;
        sync_dir(pending.path.parent().expect("entry is inside a sink folder"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u64) -> AlertRecord {
        AlertRecord {
            id: AlertRecord::make_id(1_700_000_000.0 + i as f64, "fall_down", i),
            class: "fall_down".into(),
            score: 0.9,
            start_unix_s: 1_700_000_000.0 + i as f64,
            end_unix_s: None,
            source: "synthetic".into(),
            model_sha256: "ab".repeat(32),
            snapshot: None,
        }
    }

    #[test]
    fn survives_restart_in_order_per_sink() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut ob = Outbox::open(dir.path(), &["mqtt", "webhook"]).unwrap();
            for i in 0..3 {
                ob.enqueue(&record(i)).unwrap();
            }
            let first = ob.pending("mqtt").unwrap().remove(0);
            ob.ack(&first).unwrap();
        }
        // "Restart": a new outbox over the same folder.
        let mut ob = Outbox::open(dir.path(), &["mqtt", "webhook"]).unwrap();
        let mqtt: Vec<u64> = ob.pending("mqtt").unwrap().iter().map(|p| p.seq).collect();
        let hook: Vec<u64> = ob.pending("webhook").unwrap().iter().map(|p| p.seq).collect();
        assert_eq!(mqtt, vec![1, 2]);
        assert_eq!(hook, vec![0, 1, 2]);
        assert_eq!(ob.enqueue(&record(9)).unwrap(), 3, "sequence continues after a restart");
        assert_eq!(ob.pending("webhook").unwrap()[0].record, record(0));
    }

    #[test]
    fn corrupt_entries_are_set_aside_and_names_checked() {
        let dir = tempfile::tempdir().unwrap();
        let mut ob = Outbox::open(dir.path(), &["file"]).unwrap();
        ob.enqueue(&record(0)).unwrap();
        std::fs::write(dir.path().join("file/00000000000000000007.json"), b"{half").unwrap();
        let p = ob.pending("file").unwrap();
        assert_eq!(p.len(), 1);
        assert!(dir.path().join("file/corrupt/00000000000000000007.json").exists());
        assert!(matches!(Outbox::open(dir.path(), &["../x"]), Err(OutboxError::BadSinkName(_))));
    }

    #[test]
    fn the_queue_keeps_its_newest_records_within_count_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut ob = Outbox::open(dir.path(), &["hook"]).unwrap();
        for i in 0..6 {
            ob.enqueue(&record(i)).unwrap();
        }
        let one = std::fs::metadata(&ob.pending("hook").unwrap()[0].path).unwrap().len();
        let e = ob.evict_oldest("hook", QueueCap { keep: 4, max_bytes: u64::MAX }).unwrap();
        assert_eq!(e, Removed { files: 2, bytes: 2 * one });
        let seqs = |ob: &Outbox| ob.pending("hook").unwrap().iter().map(|p| p.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&ob), [2, 3, 4, 5], "the oldest go first");
        let e = ob.evict_oldest("hook", QueueCap { keep: 100, max_bytes: 2 * one }).unwrap();
        assert_eq!(e.files, 2);
        assert_eq!(seqs(&ob), [4, 5]);
        assert_eq!(ob.evict_oldest("hook", QueueCap::default()).unwrap(), Removed::default());
    }

    #[test]
    fn a_dead_letter_leaves_the_queue_and_the_dead_letters_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let mut ob = Outbox::open(dir.path(), &["hook"]).unwrap();
        for i in 0..4 {
            ob.enqueue(&record(i)).unwrap();
        }
        let cap = QueueCap { keep: 2, max_bytes: u64::MAX };
        let mut evicted = 0;
        for p in ob.pending("hook").unwrap().into_iter().take(3) {
            let (to, e) = ob.dead_letter(&p, cap).unwrap();
            assert_eq!(to, dir.path().join("hook/dead").join(p.path.file_name().unwrap()));
            evicted += e.files;
        }
        assert_eq!(evicted, 1, "the third dead letter pushed out the first");
        assert_eq!(ob.pending("hook").unwrap().iter().map(|p| p.seq).collect::<Vec<_>>(), [3]);
        let mut dead: Vec<String> = std::fs::read_dir(dir.path().join("hook/dead"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        dead.sort();
        assert_eq!(dead, ["00000000000000000001.json", "00000000000000000002.json"]);
        // A dead letter moved back is queued again, in its place.
        std::fs::rename(dir.path().join("hook/dead").join(&dead[0]), dir.path().join("hook").join(&dead[0])).unwrap();
        assert_eq!(ob.pending("hook").unwrap().iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 3]);
        // After a restart with an empty queue, numbering goes on past the dead letters: a new
        // record never overwrites one of them.
        for p in ob.pending("hook").unwrap() {
            ob.ack(&p).unwrap();
        }
        let mut ob = Outbox::open(dir.path(), &["hook"]).unwrap();
        assert_eq!(ob.enqueue(&record(9)).unwrap(), 3);
        let p = ob.pending("hook").unwrap().remove(0);
        ob.dead_letter(&p, QueueCap::default()).unwrap();
        assert!(dir.path().join("hook/dead/00000000000000000002.json").exists(), "the older dead letter is kept");
    }

    #[test]
    fn a_record_stored_for_some_sinks_is_retried_only_for_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let mut ob = Outbox::open(dir.path(), &["a", "b"]).unwrap();
        let b = dir.path().join("b");
        std::fs::remove_dir(&b).unwrap();
        std::fs::write(&b, b"not a folder").unwrap();
        let (seq, mut missing) = ob.reserve();
        assert!(ob.store(seq, &record(1), &mut missing).is_err());
        assert_eq!(missing, ["b"], "a has it");
        // Sink a delivers it meanwhile.
        let delivered = ob.pending("a").unwrap().remove(0);
        ob.ack(&delivered).unwrap();
        std::fs::remove_file(&b).unwrap();
        std::fs::create_dir(&b).unwrap();
        ob.store(seq, &record(1), &mut missing).unwrap();
        assert!(missing.is_empty());
        assert_eq!((ob.pending("a").unwrap().len(), ob.pending("b").unwrap().len()), (0, 1), "a is not given it twice");
    }

    #[test]
    fn half_written_records_are_removed_at_start_and_whole_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut ob = Outbox::open(dir.path(), &["a", "b"]).unwrap();
        ob.enqueue(&record(1)).unwrap();
        std::fs::write(dir.path().join("a/.00000000000000000007.tmp"), b"{half").unwrap();
        std::fs::write(dir.path().join("b/.00000000000000000007.tmp"), b"{half").unwrap();
        let ob = Outbox::open(dir.path(), &["a", "b"]).unwrap();
        assert_eq!(ob.remove_stale_temporaries().unwrap(), 2);
        assert_eq!((ob.pending("a").unwrap().len(), ob.pending("b").unwrap().len()), (1, 1));
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
    }
}
