//! Replacing a file so that readers see either the old one or the whole new one: checkpoints,
//! exported and re-carded models, run reports. A crash or a full disk mid-write leaves the
//! previous file intact and no half-written file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to a hidden temporary sibling (`.name.tmp-PID`), fsyncs it, renames it over
/// `path` and fsyncs the folder. On failure the temporary file is removed and `path` is
/// untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes the hidden temporary files (`.NAME` ending in `suffix`) a writer that stopped
/// mid-write left in `dir`, as each writer here names them before its rename; returns how many.
/// A folder that does not exist yet holds none. For start-up, before any writer runs.
pub fn remove_stale_temporaries(dir: &Path, suffix: &str) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(suffix) {
            std::fs::remove_file(e.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// What [`remove_oldest`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub files: u64,
    pub bytes: u64,
}

/// Removes files from the front of `files` (`(path, length)`, oldest first) until at most
/// `keep` remain holding at most `max_bytes`; `spare`, when given, counts but is never
/// removed. A file someone else removed meanwhile is skipped; an error names the file. The
/// one retention rule behind the snapshot folder and each outbox queue.
pub fn remove_oldest(
    files: Vec<(PathBuf, u64)>,
    keep: usize,
    max_bytes: u64,
    spare: Option<&Path>,
) -> std::io::Result<Removed> {
    let (mut count, mut total) = (files.len(), files.iter().map(|(_, len)| len).sum::<u64>());
    let mut removed = Removed::default();
    for (path, len) in files {
        if count <= keep && total <= max_bytes {
            break;
        }
        if spare == Some(path.as_path()) {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => (removed.files, removed.bytes) = (removed.files + 1, removed.bytes + len),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(std::io::Error::new(e.kind(), format!("removing {}: {e}", path.display()))),
        }
        (count, total) = (count - 1, total - len);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_of_one_kind_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".a.png.tmp", ".7.tmp", "c.png", ".hidden", "d.png.tmp"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(dir.path(), ".png.tmp").unwrap(), 1);
        assert_eq!(remove_stale_temporaries(dir.path(), ".tmp").unwrap(), 1);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        left.sort();
        assert_eq!(left, [".hidden", "c.png", "d.png.tmp"]);
        assert_eq!(remove_stale_temporaries(&dir.path().join("absent"), ".tmp").unwrap(), 0);
    }

    #[test]
    fn a_failed_write_leaves_the_previous_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("last.safetensors");
        std::fs::write(&target, b"previous checkpoint").unwrap();
        // The temporary file's name is taken by a folder: the write fails before the rename.
        let tmp = dir.path().join(format!(".last.safetensors.tmp-{}", std::process::id()));
        std::fs::create_dir(&tmp).unwrap();
        assert!(write_atomic(&target, b"new").is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"previous checkpoint");
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.onnx");
        std::fs::write(&target, b"old").unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
