//! Alerts as JSON lines in a file that rotates by size (`alerts.jsonl`, `alerts.jsonl.1`, …),
//! so a board's disk never fills with alert logs.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{AlertSink, SinkError};
use crate::alert::AlertRecord;

/// Appends and syncs each record; rotates before a write would pass `max_bytes`, keeping
/// `keep` old files.
pub struct FileSink {
    name: String,
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: Option<(File, u64)>,
}

impl FileSink {
    /// Creates the sink (and the file's folder).
    pub fn new(name: &str, path: &Path, max_bytes: u64, keep: usize) -> Result<Self, SinkError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| SinkError::new(name, format!("{}: {e}", dir.display())))?;
        }
        Ok(FileSink { name: name.to_string(), path: path.to_path_buf(), max_bytes, keep: keep.max(1), file: None })
    }

    fn rotated(&self, i: usize) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{i}"));
        PathBuf::from(s)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file = None;
        let _ = std::fs::remove_file(self.rotated(self.keep));
        for i in (1..self.keep).rev() {
            let from = self.rotated(i);
            if from.exists() {
                std::fs::rename(&from, self.rotated(i + 1))?;
            }
        }
        std::fs::rename(&self.path, self.rotated(1))
    }

    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            let f = OpenOptions::new().create(true).append(true).open(&self.path)?;
            let len = f.metadata()?.len();
            self.file = Some((f, len));
        }
        if let Some((_, len)) = &self.file {
            if *len > 0 && len + line.len() as u64 > self.max_bytes {
                self.rotate()?;
                return self.write(line);
            }
        }
        let (f, len) = self.file.as_mut().expect("opened above");
        f.write_all(line)?;
        f.sync_data()?;
        *len += line.len() as u64;
        Ok(())
    }
}

impl AlertSink for FileSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn deliver(&mut self, record: &AlertRecord) -> Result<(), SinkError> {
        let mut line = serde_json::to_vec(record).map_err(|e| SinkError::new(&self.name, e.to_string()))?;
        line.push(b'\n');
        self.write(&line).map_err(|e| {
            self.file = None;
            SinkError::new(&self.name, format!("{}: {e}", self.path.display()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::sink::tests::record;

    #[test]
    fn appends_lines_and_rotates_keeping_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/alerts.jsonl");
        let mut s = FileSink::new("file", &path, 1024, 2).unwrap();
        let one = serde_json::to_vec(&record(0)).unwrap().len() as u64 + 1;
        let n = 3 * (1024 / one) + 2;
        for i in 0..n {
            s.deliver(&record(i)).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let last: AlertRecord = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last, record(n - 1));
        assert!(std::fs::metadata(&path).unwrap().len() <= 1024);
        assert!(dir.path().join("logs/alerts.jsonl.1").exists() && dir.path().join("logs/alerts.jsonl.2").exists());
        assert!(!dir.path().join("logs/alerts.jsonl.3").exists(), "keeps 2 old files");
        // Every line of every kept file is a whole record.
        for p in ["alerts.jsonl", "alerts.jsonl.1", "alerts.jsonl.2"] {
            for l in std::fs::read_to_string(dir.path().join("logs").join(p)).unwrap().lines() {
                serde_json::from_str::<AlertRecord>(l).unwrap();
            }
        }
    }

    #[test]
    fn an_unwritable_path_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be.
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        let mut s = FileSink::new("file", &path, 4096, 1).unwrap();
        let e = s.deliver(&record(0)).unwrap_err().to_string();
        assert!(e.contains("taken"), "{e}");
    }
}
