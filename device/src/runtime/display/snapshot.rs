//! PNG snapshots of the overlaid frame, one per alert, written to a temporary name and
//! renamed so a half-written file never carries an alert's name. A full disk or a missing
//! folder is an error the pipeline logs; the alert is still sent, without a snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

use motus_core::atomic::{remove_oldest, Removed};
use motus_core::frame::Frame;

/// Why a snapshot was not saved.
#[derive(Debug, thiserror::Error)]
#[error("snapshot {path}: {source}")]
pub struct SnapshotError {
    pub path: PathBuf,
    pub source: SnapshotCause,
}

/// What went wrong writing a snapshot: the file system, or the encoder (which also reports
/// its writer's I/O errors, a full disk among them).
#[derive(Debug, thiserror::Error)]
pub enum SnapshotCause {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Png(#[from] image::ImageError),
}

/// Encodes `frame` as PNG into `w`.
pub fn write_png(frame: &Frame, w: impl Write) -> Result<(), image::ImageError> {
    PngEncoder::new(w).write_image(&frame.data, frame.width, frame.height, ExtendedColorType::Rgb8)
}

/// Saves `frame` as `dir/<id>.png` and returns the path.
pub fn save(dir: &Path, id: &str, frame: &Frame) -> Result<PathBuf, SnapshotError> {
    let path = dir.join(format!("{id}.png"));
    let tmp = dir.join(format!(".{id}.png.tmp"));
    let err = |source: SnapshotCause| SnapshotError { path: path.clone(), source };
    std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
    let result = (|| -> Result<(), SnapshotCause> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        write_png(frame, &mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(std::fs::rename(&tmp, &path)?)
    })();
    if let Err(cause) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(cause));
    }
    Ok(path)
}

/// How many snapshots a device keeps: the newest `keep` files and at most `max_bytes` in all;
/// older ones are removed as new ones arrive, so a board on a wall never fills its disk
/// with pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub keep: usize,
    pub max_bytes: u64,
}

impl Default for Retention {
    /// The config's defaults: 1000 snapshots, 512 MB.
    fn default() -> Self {
        Retention { keep: DEFAULT_KEEP, max_bytes: DEFAULT_MAX_MB << 20 }
    }
}

/// Snapshots kept by default (`output.snapshot_keep`).
pub const DEFAULT_KEEP: usize = 1000;
/// Megabytes of snapshots kept by default (`output.snapshot_max_mb`).
pub const DEFAULT_MAX_MB: u64 = 512;

/// Removes the oldest snapshots in `dir` (by modification time, then name) until at most
/// `retention.keep` remain and they hold at most `retention.max_bytes`; `newest`, the
/// snapshot just saved, counts but is never removed (a clock that stepped back, or one
/// picture over the byte cap, must not cost the alert its own snapshot). Only finished
/// snapshots (`*.png`, not dot files) are counted or removed; a file another process removed
/// meanwhile is skipped.
pub fn prune(dir: &Path, retention: Retention, newest: &Path) -> std::io::Result<Removed> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let text = name.to_string_lossy();
        if text.starts_with('.') || !text.ends_with(".png") {
            continue;
        }
        let meta = match e.metadata() {
            Ok(m) => m,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        if meta.is_file() {
            files.push((meta.modified()?, e.path(), meta.len()));
        }
    }
    files.sort();
    let oldest_first = files.into_iter().map(|(_, path, len)| (path, len)).collect();
    remove_oldest(oldest_first, retention.keep, retention.max_bytes, Some(newest))
}

/// Removes snapshots left half-written by a process that stopped while saving one
/// (`.ID.png.tmp`); returns how many. A folder that does not exist yet holds none.
pub fn remove_stale_temporaries(dir: &Path) -> std::io::Result<usize> {
    motus_core::atomic::remove_stale_temporaries(dir, ".png.tmp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_a_readable_png() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Frame::new(20, 10);
        f.data[0] = 255;
        let p = save(&dir.path().join("snaps"), "123-wave-0", &f).unwrap();
        let back = image::open(&p).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (20, 10));
        assert_eq!(back.get_pixel(0, 0).0, [255, 0, 0]);
    }

    #[test]
    fn a_full_disk_or_a_bad_folder_is_an_error_naming_the_file() {
        // /dev/full answers every write with ENOSPC, like a full disk.
        let f = Frame::new(64, 64);
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let msg = write_png(&f, full).unwrap_err().to_string();
        assert!(msg.contains("space"), "{msg}");
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let e = save(&blocker, "a", &f).unwrap_err().to_string();
        assert!(e.contains("a.png"), "{e}");
    }

    #[test]
    fn pruning_keeps_the_newest_within_both_caps() {
        let dir = tempfile::tempdir().unwrap();
        let f = Frame::new(16, 16);
        let ids = ["1000-wave-0", "1001-wave-1", "1002-jump-2", "1003-wave-3", "1004-wave-4"];
        for id in ids {
            save(dir.path(), id, &f).unwrap();
            // Distinct modification times, oldest first.
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        std::fs::write(dir.path().join("notes.txt"), b"not a snapshot").unwrap();
        let one = std::fs::metadata(dir.path().join("1000-wave-0.png")).unwrap().len();
        let newest = dir.path().join("1004-wave-4.png");
        let p = prune(dir.path(), Retention { keep: 3, max_bytes: u64::MAX }, &newest).unwrap();
        assert_eq!(p, Removed { files: 2, bytes: 2 * one });
        let left = |d: &Path| {
            let mut v: Vec<String> =
                std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            v.sort();
            v
        };
        assert_eq!(left(dir.path()), ["1002-jump-2.png", "1003-wave-3.png", "1004-wave-4.png", "notes.txt"]);
        // The byte cap binds before the count.
        let p = prune(dir.path(), Retention { keep: 3, max_bytes: one }, &newest).unwrap();
        assert_eq!(p.files, 2);
        assert_eq!(left(dir.path()), ["1004-wave-4.png", "notes.txt"]);
        // The snapshot just saved stays even when it alone is over the cap, or older by the
        // clock than the others (a clock that stepped back).
        let older = dir.path().join("0999-wave-9.png");
        save(dir.path(), "0999-wave-9", &f).unwrap();
        let old_time = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options().write(true).open(&older).unwrap().set_modified(old_time).unwrap();
        prune(dir.path(), Retention { keep: 1, max_bytes: 1 }, &older).unwrap();
        assert_eq!(left(dir.path()), ["0999-wave-9.png", "notes.txt"]);
    }

    #[test]
    fn stale_temporaries_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".a.png.tmp", ".b.png.tmp", "c.png", ".hidden"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(dir.path()).unwrap(), 2);
        assert!(dir.path().join("c.png").exists() && dir.path().join(".hidden").exists());
        assert_eq!(remove_stale_temporaries(&dir.path().join("absent")).unwrap(), 0);
    }
}
