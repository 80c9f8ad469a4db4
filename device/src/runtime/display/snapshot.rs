//! PNG snapshots of the overlaid frame, one per alert, written to a temporary name and
//! renamed so a half-written file never carries an alert's name. A full disk or a missing
//! folder is an error the pipeline logs; the alert is still sent, without a snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

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
}
