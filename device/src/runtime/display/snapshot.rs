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
#[error("snapshot {path}: {msg}")]
pub struct SnapshotError {
    pub path: PathBuf,
    pub msg: String,
}

/// Encodes `frame` as PNG into `w`.
pub fn write_png(frame: &Frame, w: impl Write) -> Result<(), String> {
    PngEncoder::new(w)
        .write_image(&frame.data, frame.width, frame.height, ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())
}

/// Saves `frame` as `dir/<id>.png` and returns the path.
pub fn save(dir: &Path, id: &str, frame: &Frame) -> Result<PathBuf, SnapshotError> {
    let path = dir.join(format!("{id}.png"));
    let tmp = dir.join(format!(".{id}.png.tmp"));
    let err = |msg: String| SnapshotError { path: path.clone(), msg };
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let result = (|| {
        let f = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
        let mut w = std::io::BufWriter::new(f);
        write_png(frame, &mut w)?;
        let f = w.into_inner().map_err(|e| e.error().to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &path).map_err(|e| e.to_string())
    })();
    if let Err(msg) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(msg));
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
        let msg = write_png(&f, full).unwrap_err();
        assert!(msg.contains("space"), "{msg}");
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let e = save(&blocker, "a", &f).unwrap_err().to_string();
        assert!(e.contains("a.png"), "{e}");
    }
}
