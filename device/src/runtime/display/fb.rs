//! Linux framebuffer output (`/dev/fb0`): the overlaid frame scaled (nearest neighbour) to the
//! screen, written as 32-bit BGRX or 16-bit RGB565 rows. The geometry comes from sysfs. A
//! board without a display gets a clear error at start-up instead of a silent black screen.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use motus_core::frame::Frame;

/// Screen geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FbGeometry {
    pub width: u32,
    pub height: u32,
    /// 16 or 32.
    pub bits_per_pixel: u32,
    /// Bytes per row.
    pub stride: u32,
}

/// An open framebuffer.
pub struct Framebuffer {
    path: PathBuf,
    file: File,
    geo: FbGeometry,
    row: Vec<u8>,
}

/// Why the framebuffer could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum FbError {
    #[error("framebuffer {path}: {source} (no display on this machine? remove output.framebuffer from the config)")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("framebuffer geometry {path}: {source}")]
    Sysfs { path: PathBuf, source: std::io::Error },
    #[error("framebuffer geometry {path}: {text:?} is not a number")]
    NotANumber { path: PathBuf, text: String },
    #[error("framebuffer {path}: incomplete geometry in {sysfs}")]
    Incomplete { path: PathBuf, sysfs: PathBuf },
    #[error("framebuffer {path}: {bits} bits per pixel is not supported (16 or 32)")]
    Depth { path: PathBuf, bits: u32 },
    #[error("framebuffer {path}: bad geometry {geo:?}")]
    Geometry { path: PathBuf, geo: FbGeometry },
    #[error("framebuffer {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

fn sysfs_number(path: &Path) -> Result<Vec<u32>, FbError> {
    let s = std::fs::read_to_string(path).map_err(|source| FbError::Sysfs { path: path.to_path_buf(), source })?;
    s.trim()
        .split(',')
        .map(|v| v.trim().parse::<u32>().map_err(|_| FbError::NotANumber { path: path.to_path_buf(), text: s.clone() }))
        .collect()
}

impl Framebuffer {
    /// Opens `/dev/fbN`, reading its geometry from `/sys/class/graphics/fbN`.
    pub fn open(path: &Path) -> Result<Self, FbError> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("fb0");
        let sys = Path::new("/sys/class/graphics").join(name);
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|source| FbError::Open { path: path.to_path_buf(), source })?;
        let size = sysfs_number(&sys.join("virtual_size"))?;
        let bpp = sysfs_number(&sys.join("bits_per_pixel"))?;
        let stride = sysfs_number(&sys.join("stride"))?;
        let (Some(&width), Some(&height), Some(&bits_per_pixel), Some(&stride)) =
            (size.first(), size.get(1), bpp.first(), stride.first())
        else {
            return Err(FbError::Incomplete { path: path.to_path_buf(), sysfs: sys });
        };
        Self::with_geometry(path, file, FbGeometry { width, height, bits_per_pixel, stride })
    }

    /// Uses an already open file with a known geometry (also how tests write to a plain file).
    pub fn with_geometry(path: &Path, file: File, geo: FbGeometry) -> Result<Self, FbError> {
        if !matches!(geo.bits_per_pixel, 16 | 32) {
            return Err(FbError::Depth { path: path.to_path_buf(), bits: geo.bits_per_pixel });
        }
        if geo.width == 0 || geo.height == 0 || geo.stride < geo.width * geo.bits_per_pixel / 8 {
            return Err(FbError::Geometry { path: path.to_path_buf(), geo });
        }
        Ok(Framebuffer { path: path.to_path_buf(), file, row: vec![0; geo.stride as usize], geo })
    }

    /// Shows `frame` scaled to the screen.
    pub fn show(&mut self, frame: &Frame) -> Result<(), FbError> {
        if frame.width == 0 || frame.height == 0 {
            return Ok(());
        }
        let g = self.geo;
        let write_err = |source| FbError::Write { path: self.path.clone(), source };
        self.file.seek(SeekFrom::Start(0)).map_err(write_err)?;
        for y in 0..g.height {
            let sy = (y as u64 * frame.height as u64 / g.height as u64) as usize;
            for x in 0..g.width as usize {
                let sx = x * frame.width as usize / g.width as usize;
                let i = (sy * frame.width as usize + sx) * 3;
                let (r, gr, b) = (frame.data[i], frame.data[i + 1], frame.data[i + 2]);
                if g.bits_per_pixel == 32 {
                    self.row[x * 4..x * 4 + 4].copy_from_slice(&[b, gr, r, 255]);
                } else {
                    let v = ((r as u16 >> 3) << 11) | ((gr as u16 >> 2) << 5) | (b as u16 >> 3);
                    self.row[x * 2..x * 2 + 2].copy_from_slice(&v.to_le_bytes());
                }
            }
            self.file.write_all(&self.row).map_err(write_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_framebuffer_is_a_clear_error() {
        let e = Framebuffer::open(Path::new("/dev/fb-motus-absent")).err().unwrap();
        assert!(matches!(&e, FbError::Open { source, .. } if source.kind() == std::io::ErrorKind::NotFound), "{e}");
        let e = e.to_string();
        assert!(e.contains("/dev/fb-motus-absent") && e.contains("output.framebuffer"), "{e}");
    }

    #[test]
    fn writes_scaled_bgrx_and_rgb565() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Frame::new(2, 2);
        f.data.copy_from_slice(&[255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
        let p = dir.path().join("fb32");
        let geo = FbGeometry { width: 4, height: 4, bits_per_pixel: 32, stride: 20 };
        let mut fb = Framebuffer::with_geometry(&p, File::create(&p).unwrap(), geo).unwrap();
        fb.show(&f).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len(), 80);
        assert_eq!(&bytes[0..4], &[0, 0, 255, 255], "red as BGRX");
        assert_eq!(&bytes[3 * 20 + 12..3 * 20 + 16], &[255, 255, 255, 255], "bottom right is white");
        let p = dir.path().join("fb16");
        let geo = FbGeometry { width: 2, height: 2, bits_per_pixel: 16, stride: 4 };
        let mut fb = Framebuffer::with_geometry(&p, File::create(&p).unwrap(), geo).unwrap();
        fb.show(&f).unwrap();
        assert_eq!(std::fs::read(&p).unwrap()[0..2], 0xF800u16.to_le_bytes());
        assert!(matches!(
            Framebuffer::with_geometry(&p, File::create(&p).unwrap(), FbGeometry { bits_per_pixel: 24, ..geo }),
            Err(FbError::Depth { bits: 24, .. })
        ));
    }
}
