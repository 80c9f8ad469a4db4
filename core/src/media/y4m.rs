//! YUV4MPEG2 (`.y4m`): uncompressed frames behind a one-line text header.
//!
//! Y4M is lossless apart from chroma subsampling, needs no codec and streams through pipes,
//! which makes it the default storage of the synthetic benchmark and the wire format between
//! ffmpeg and motus. Reading is generic over any `Read` so the same parser serves files and
//! ffmpeg's stdout.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::yuv::{rgb_to_yuv, yuv_to_rgb};
use super::{MediaError, VideoInfo, VideoReader, VideoWriter};
use crate::frame::Frame;

const MAGIC: &str = "YUV4MPEG2";
/// Longest header or frame line accepted; real ones are under 100 bytes.
const MAX_LINE: usize = 4096;
/// Largest frame side accepted, so a corrupt header cannot ask for a multi-gigabyte buffer.
const MAX_SIDE: u32 = 16384;

/// Chroma layouts this module reads and writes (8-bit only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chroma {
    /// 4:2:0, one chroma sample per 2x2 block (`C420jpeg`, `C420mpeg2`, `C420paldv`, `C420`).
    C420,
    /// 4:4:4, full-resolution chroma.
    C444,
    /// Luma only; read as grey.
    Mono,
}

impl Chroma {
    fn plane_len(self, width: u32, height: u32) -> usize {
        match self {
            Chroma::C420 => (width as usize).div_ceil(2) * (height as usize).div_ceil(2),
            Chroma::C444 => width as usize * height as usize,
            Chroma::Mono => 0,
        }
    }

    fn frame_len(self, width: u32, height: u32) -> usize {
        width as usize * height as usize + 2 * self.plane_len(width, height)
    }

    fn tag(self) -> &'static str {
        match self {
            Chroma::C420 => "C420jpeg XYSCSS=420JPEG",
            Chroma::C444 => "C444 XYSCSS=444",
            Chroma::Mono => "Cmono",
        }
    }
}

/// The parsed stream header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Y4mHeader {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub chroma: Chroma,
}

/// Reads a Y4M stream from a file or any byte source (ffmpeg's stdout, a socket).
pub struct Y4mReader<R: Read> {
    input: R,
    path: PathBuf,
    header: Y4mHeader,
    frame_count: Option<u64>,
    frames_read: u64,
    planes: Vec<u8>,
}

impl Y4mReader<BufReader<File>> {
    /// Opens a `.y4m` file; its frame count comes from the file size when every frame header
    /// is the plain `FRAME\n`.
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let file = File::open(path).map_err(|e| MediaError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| MediaError::io(path, e))?.len();
        let mut reader = Y4mReader::begin(BufReader::with_capacity(1 << 16, file), path)?;
        let header_len = reader.header_len as u64;
        let per_frame = 6 + reader.header.chroma.frame_len(reader.header.width, reader.header.height) as u64;
        let body = file_len.saturating_sub(header_len);
        reader.frame_count = (body % per_frame == 0).then_some(body / per_frame);
        Ok(reader.into_plain())
    }
}

/// Used only while opening, to remember the header's length in bytes.
struct Opening<R: Read> {
    header: Y4mHeader,
    header_len: usize,
    input: R,
    path: PathBuf,
    frame_count: Option<u64>,
}

impl<R: Read> Opening<R> {
    fn into_plain(self) -> Y4mReader<R> {
        Y4mReader {
            input: self.input,
            path: self.path,
            header: self.header,
            frame_count: self.frame_count,
            frames_read: 0,
            planes: Vec::new(),
        }
    }
}

impl<R: Read> Y4mReader<R> {
    /// Parses the header from `input`; `path` names the source in errors.
    fn begin(mut input: R, path: &Path) -> Result<Opening<R>, MediaError> {
        let line = read_line(&mut input, path)?.ok_or_else(|| corrupt(path, "empty file, no YUV4MPEG2 header"))?;
        let header = parse_header(&line, path)?;
        Ok(Opening { header, header_len: line.len() + 1, input, path: path.to_path_buf(), frame_count: None })
    }

    /// Wraps a stream whose length is unknown (a pipe).
    pub fn from_stream(input: R, path: &Path) -> Result<Self, MediaError> {
        Ok(Self::begin(input, path)?.into_plain())
    }

    /// The stream's header.
    pub fn header(&self) -> Y4mHeader {
        self.header
    }
}

impl<R: Read + Send> VideoReader for Y4mReader<R> {
    fn info(&self) -> VideoInfo {
        VideoInfo {
            width: self.header.width,
            height: self.header.height,
            fps: self.header.fps,
            frame_count: self.frame_count,
        }
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, MediaError> {
        let Some(line) = read_line(&mut self.input, &self.path)? else { return Ok(false) };
        if !(line == "FRAME" || line.starts_with("FRAME ")) {
            return Err(corrupt(
                &self.path,
                &format!("frame {}: expected a FRAME marker, found {:?}", self.frames_read, clip_text(&line)),
            ));
        }
        let Y4mHeader { width, height, chroma, fps } = self.header;
        let len = chroma.frame_len(width, height);
        // The buffer grows with the bytes that arrive (and keeps its size for the next frame):
        // a header that promises large frames costs nothing until the data is there.
        self.planes.clear();
        let got = (&mut self.input)
            .take(len as u64)
            .read_to_end(&mut self.planes)
            .map_err(|e| MediaError::io(&self.path, e))?;
        if got < len {
            return Err(MediaError::Truncated { path: self.path.clone(), frame: self.frames_read, got, expected: len });
        }
        frame.reshape(width, height);
        frame.timestamp = Duration::from_secs_f64(self.frames_read as f64 / fps);
        planes_to_rgb(&self.planes, chroma, width, height, &mut frame.data);
        self.frames_read += 1;
        Ok(true)
    }
}

/// Writes frames as Y4M; RGB is converted to BT.601 limited-range YUV.
pub struct Y4mWriter {
    out: BufWriter<File>,
    path: PathBuf,
    width: u32,
    height: u32,
    chroma: Chroma,
    frames: u64,
    planes: Vec<u8>,
}

impl Y4mWriter {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, width: u32, height: u32, fps: f64, chroma: Chroma) -> Result<Self, MediaError> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(MediaError::Unsupported {
                path: path.into(),
                reason: format!("cannot write a {width}x{height} Y4M"),
            });
        }
        if !(fps.is_finite() && fps > 0.0) {
            return Err(MediaError::Unsupported {
                path: path.into(),
                reason: format!("frame rate must be positive, got {fps}"),
            });
        }
        let file = File::create(path).map_err(|e| MediaError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let (num, den) = fps_to_ratio(fps);
        writeln!(out, "{MAGIC} W{width} H{height} F{num}:{den} Ip A1:1 {}", chroma.tag())
            .map_err(|e| MediaError::io(path, e))?;
        Ok(Y4mWriter { out, path: path.into(), width, height, chroma, frames: 0, planes: Vec::new() })
    }
}

impl VideoWriter for Y4mWriter {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), MediaError> {
        if frame.width != self.width || frame.height != self.height {
            return Err(MediaError::SizeMismatch {
                path: self.path.clone(),
                frame: self.frames,
                got_w: frame.width,
                got_h: frame.height,
                want_w: self.width,
                want_h: self.height,
            });
        }
        rgb_to_planes(&frame.data, self.chroma, self.width, self.height, &mut self.planes);
        self.out
            .write_all(b"FRAME\n")
            .and_then(|_| self.out.write_all(&self.planes))
            .map_err(|e| MediaError::io(&self.path, e))?;
        self.frames += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), MediaError> {
        self.out.flush().map_err(|e| MediaError::io(&self.path, e))?;
        self.out.get_ref().sync_data().map_err(|e| MediaError::io(&self.path, e))
    }
}

fn corrupt(path: &Path, reason: &str) -> MediaError {
    MediaError::Corrupt { path: path.to_path_buf(), format: "Y4M", reason: reason.to_string() }
}

fn clip_text(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Reads up to `\n`. `Ok(None)` at a clean end of input (no byte read).
fn read_line<R: Read>(input: &mut R, path: &Path) -> Result<Option<String>, MediaError> {
    let mut bytes = Vec::with_capacity(64);
    let mut byte = [0u8; 1];
    loop {
        match input.read(&mut byte) {
            Ok(0) if bytes.is_empty() => return Ok(None),
            Ok(0) => return Err(corrupt(path, "stream ends inside a header line")),
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => {
                bytes.push(byte[0]);
                if bytes.len() > MAX_LINE {
                    return Err(corrupt(
                        path,
                        "header line longer than 4096 bytes (binary data where text was expected)",
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(MediaError::io(path, e)),
        }
    }
    String::from_utf8(bytes).map(Some).map_err(|_| corrupt(path, "header line is not text"))
}

fn parse_header(line: &str, path: &Path) -> Result<Y4mHeader, MediaError> {
    let mut tokens = line.split(' ');
    if tokens.next() != Some(MAGIC) {
        return Err(corrupt(path, &format!("header starts with {:?}, expected {MAGIC}", clip_text(line))));
    }
    let (mut width, mut height, mut fps, mut chroma) = (None, None, 25.0, Chroma::C420);
    for token in tokens.filter(|t| !t.is_empty()) {
        // The tag is one character; a non-ASCII first byte must not split a character.
        let tag_len = token.chars().next().map_or(0, char::len_utf8);
        let (tag, value) = token.split_at(tag_len);
        match tag {
            "W" => width = Some(parse_side(value, "width", path)?),
            "H" => height = Some(parse_side(value, "height", path)?),
            "F" => {
                let (lo, hi) = RATE_RANGE;
                fps = parse_rate(value).ok_or_else(|| {
                    corrupt(
                        path,
                        &format!("bad frame rate {:?} (a ratio of {lo} to {hi} frames a second)", clip_text(value)),
                    )
                })?
            }
            "C" => {
                chroma = match value {
                    "420jpeg" | "420mpeg2" | "420paldv" | "420" => Chroma::C420,
                    "444" => Chroma::C444,
                    "mono" => Chroma::Mono,
                    other => {
                        return Err(MediaError::Unsupported {
                            path: path.into(),
                            reason: format!("Y4M colour space C{other} is not supported (8-bit 420, 444 and mono are)"),
                        })
                    }
                }
            }
            "I" => {
                if value != "p" && value != "?" {
                    return Err(MediaError::Unsupported {
                        path: path.into(),
                        reason: format!("interlaced Y4M (I{value}) is not supported"),
                    });
                }
            }
            "A" | "X" => {}
            _ => return Err(corrupt(path, &format!("unknown header field {:?}", clip_text(token)))),
        }
    }
    let width = width.ok_or_else(|| corrupt(path, "header has no W (width)"))?;
    let height = height.ok_or_else(|| corrupt(path, "header has no H (height)"))?;
    if !crate::frame::size_is_allowed(width, height) {
        return Err(MediaError::Unsupported {
            path: path.into(),
            reason: format!(
                "{width}x{height} frames are larger than the {} pixels motus reads",
                crate::frame::MAX_PIXELS
            ),
        });
    }
    Ok(Y4mHeader { width, height, fps, chroma })
}

fn parse_side(value: &str, what: &str, path: &Path) -> Result<u32, MediaError> {
    match value.parse::<u32>() {
        Ok(v) if (1..=MAX_SIDE).contains(&v) => Ok(v),
        _ => Err(corrupt(path, &format!("{what} {value:?} is not between 1 and {MAX_SIDE}"))),
    }
}

/// Frame rates a header may declare: beyond them timestamps overflow or stop advancing (a
/// rate of `1:u64::MAX` puts the second frame 5.8e11 years in).
const RATE_RANGE: (f64, f64) = (1e-3, 1e5);

fn parse_rate(value: &str) -> Option<f64> {
    let (num, den) = value.split_once(':')?;
    let (num, den) = (num.parse::<u64>().ok()?, den.parse::<u64>().ok()?);
    let fps = (den > 0).then(|| num as f64 / den as f64)?;
    (RATE_RANGE.0..=RATE_RANGE.1).contains(&fps).then_some(fps)
}

/// Expresses a frame rate as a ratio, exactly for integers and NTSC's x/1.001 rates.
fn fps_to_ratio(fps: f64) -> (u64, u64) {
    if (fps - fps.round()).abs() < 1e-9 {
        (fps.round() as u64, 1)
    } else if ((fps * 1.001) - (fps * 1.001).round()).abs() < 1e-6 {
        ((fps * 1.001).round() as u64 * 1000, 1001)
    } else {
        ((fps * 1000.0).round() as u64, 1000)
    }
}

fn planes_to_rgb(planes: &[u8], chroma: Chroma, width: u32, height: u32, rgb: &mut [u8]) {
    let (w, h) = (width as usize, height as usize);
    let (luma, rest) = planes.split_at(w * h);
    match chroma {
        Chroma::Mono => {
            for (px, &y) in rgb.chunks_exact_mut(3).zip(luma) {
                px.copy_from_slice(&yuv_to_rgb(y, 128, 128));
            }
        }
        Chroma::C444 => {
            let (cb, cr) = rest.split_at(w * h);
            for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
                px.copy_from_slice(&yuv_to_rgb(luma[i], cb[i], cr[i]));
            }
        }
        Chroma::C420 => {
            let cw = w.div_ceil(2);
            let (cb, cr) = rest.split_at(chroma.plane_len(width, height));
            for y in 0..h {
                let crow = (y / 2) * cw;
                let out = &mut rgb[y * w * 3..(y + 1) * w * 3];
                for (x, px) in out.chunks_exact_mut(3).enumerate() {
                    let c = crow + x / 2;
                    px.copy_from_slice(&yuv_to_rgb(luma[y * w + x], cb[c], cr[c]));
                }
            }
        }
    }
}

fn rgb_to_planes(rgb: &[u8], chroma: Chroma, width: u32, height: u32, planes: &mut Vec<u8>) {
    let (w, h) = (width as usize, height as usize);
    planes.resize(chroma.frame_len(width, height), 0);
    let (luma, rest) = planes.split_at_mut(w * h);
    match chroma {
        Chroma::Mono => {
            for (y, px) in luma.iter_mut().zip(rgb.chunks_exact(3)) {
                *y = rgb_to_yuv(px[0], px[1], px[2]).0;
            }
        }
        Chroma::C444 => {
            let (cb, cr) = rest.split_at_mut(w * h);
            for (i, px) in rgb.chunks_exact(3).enumerate() {
                (luma[i], cb[i], cr[i]) = rgb_to_yuv(px[0], px[1], px[2]);
            }
        }
        Chroma::C420 => {
            let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
            let (cb, cr) = rest.split_at_mut(cw * ch);
            let mut acc = vec![(0u32, 0u32, 0u32); cw * ch];
            for y in 0..h {
                for x in 0..w {
                    let i = (y * w + x) * 3;
                    let (ly, u, v) = rgb_to_yuv(rgb[i], rgb[i + 1], rgb[i + 2]);
                    luma[y * w + x] = ly;
                    let a = &mut acc[(y / 2) * cw + x / 2];
                    a.0 += u as u32;
                    a.1 += v as u32;
                    a.2 += 1;
                }
            }
            for (i, (u, v, n)) in acc.into_iter().enumerate() {
                cb[i] = ((u + n / 2) / n) as u8;
                cr[i] = ((v + n / 2) / n) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Frame {
        let mut f = Frame::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = ((y * w + x) * 3) as usize;
                f.data[i] = (x * 255 / w.max(2).saturating_sub(1).max(1)) as u8;
                f.data[i + 1] = (y * 255 / h.max(2).saturating_sub(1).max(1)) as u8;
                f.data[i + 2] = 90;
            }
        }
        f
    }

    fn write(path: &Path, frames: &[Frame], chroma: Chroma) {
        let mut w =
            Box::new(Y4mWriter::create(path, frames[0].width, frames[0].height, 30000.0 / 1001.0, chroma).unwrap());
        for f in frames {
            w.write_frame(f).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn round_trip_444_is_near_lossless() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.y4m");
        let frames = vec![gradient(17, 9), gradient(17, 9)];
        write(&path, &frames, Chroma::C444);
        let mut r = Y4mReader::open(&path).unwrap();
        let info = r.info();
        assert_eq!((info.width, info.height, info.frame_count), (17, 9, Some(2)));
        assert!((info.fps - 29.97).abs() < 0.01);
        let back = r.read_all().unwrap();
        assert_eq!(back.len(), 2);
        let worst = back[1].data.iter().zip(&frames[1].data).map(|(a, b)| (*a as i32 - *b as i32).abs()).max().unwrap();
        assert!(worst <= 2, "worst error {worst}");
        assert!(back[1].timestamp > back[0].timestamp);
    }

    #[test]
    fn round_trip_420_keeps_luma_and_flat_colour() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.y4m");
        // Odd size exercises the rounded-up chroma planes.
        let mut flat = Frame::new(7, 5);
        for px in flat.data.chunks_exact_mut(3) {
            px.copy_from_slice(&[200, 40, 120]);
        }
        write(&path, &[flat.clone()], Chroma::C420);
        let back = Y4mReader::open(&path).unwrap().read_all().unwrap();
        let worst = back[0].data.iter().zip(&flat.data).map(|(a, b)| (*a as i32 - *b as i32).abs()).max().unwrap();
        assert!(worst <= 2, "worst error {worst}");
    }

    #[test]
    fn truncated_file_is_an_error_naming_the_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.y4m");
        write(&path, &[gradient(8, 8), gradient(8, 8)], Chroma::C420);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 10).unwrap();
        let mut r = Y4mReader::open(&path).unwrap();
        assert_eq!(r.info().frame_count, None, "a cut file has no whole frame count");
        assert!(r.next_frame().unwrap().is_some());
        let err = r.next_frame().unwrap_err();
        assert!(matches!(err, MediaError::Truncated { frame: 1, .. }), "{err}");
        assert!(err.to_string().contains("a.y4m"));
    }

    #[test]
    fn corrupt_headers_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"RIFF\x00\x00WAVE\n", "header starts"),
            (b"YUV4MPEG2 H10 F25:1\n", "no W"),
            (b"YUV4MPEG2 W0 H10\n", "width"),
            (b"YUV4MPEG2 W99999999 H10\n", "width"),
            (b"YUV4MPEG2 W4 H4 F25:0\n", "frame rate"),
            (b"YUV4MPEG2 W4 H4 C422\n", "C422"),
            (b"YUV4MPEG2 W4 H4 It\n", "interlaced"),
            (b"YUV4MPEG2 W4 H4 Q9\n", "unknown header field"),
            (b"YUV4MPEG2 W4 H4", "inside a header line"),
            // Hostile tokens: each is refused with a reason, none panics.
            ("YUV4MPEG2 W4 H4 \u{e9}t\u{e9}\n".as_bytes(), "unknown header field"),
            ("YUV4MPEG2 W4 H4 \u{1F600}\n".as_bytes(), "unknown header field"),
            (b"YUV4MPEG2 W4 H4 F1:18446744073709551615\n", "frame rate"),
            (b"YUV4MPEG2 W4 H4 F18446744073709551615:1\n", "frame rate"),
            (b"YUV4MPEG2 W4 H4 F-1:1\n", "frame rate"),
            (b"YUV4MPEG2 W-4 H4\n", "width"),
            // Sides each allowed, but a frame of 805 MB: refused before any buffer exists.
            (b"YUV4MPEG2 W16384 H16384\n", "larger than the 33177600 pixels"),
        ];
        for (i, (bytes, needle)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("bad{i}.y4m"));
            std::fs::write(&path, bytes).unwrap();
            let err = Y4mReader::open(&path).err().unwrap_or_else(|| panic!("case {i} accepted"));
            assert!(err.to_string().contains(needle), "case {i}: {err}");
        }
        // A good header followed by garbage where a frame marker belongs.
        let path = dir.path().join("garbage.y4m");
        std::fs::write(&path, b"YUV4MPEG2 W2 H2 Cmono\nJUNK\n").unwrap();
        let err = Y4mReader::open(&path).unwrap().next_frame().unwrap_err();
        assert!(err.to_string().contains("FRAME marker"), "{err}");
    }

    #[test]
    fn a_header_promising_large_frames_costs_only_the_bytes_that_arrive() {
        // 8K frames (50 MB each in 4:2:0) promised, 10 bytes given: a truncation error, and
        // the buffer holds what arrived, not the promise.
        let mut bytes = b"YUV4MPEG2 W7680 H4320 F30:1\nFRAME\n".to_vec();
        bytes.extend_from_slice(&[16; 10]);
        let mut r = Y4mReader::from_stream(std::io::Cursor::new(bytes), Path::new("promise.y4m")).unwrap();
        let err = r.next_frame().unwrap_err();
        assert!(matches!(err, MediaError::Truncated { got: 10, .. }), "{err}");
        assert!(r.planes.capacity() < 1 << 20, "{} bytes reserved", r.planes.capacity());
    }

    #[test]
    fn writer_refuses_a_frame_of_another_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Y4mWriter::create(&dir.path().join("a.y4m"), 8, 8, 25.0, Chroma::C420).unwrap();
        let err = w.write_frame(&Frame::new(4, 8)).unwrap_err();
        assert!(matches!(err, MediaError::SizeMismatch { got_w: 4, want_w: 8, .. }));
    }

    #[test]
    fn frame_rate_ratios() {
        assert_eq!(fps_to_ratio(25.0), (25, 1));
        assert_eq!(fps_to_ratio(30000.0 / 1001.0), (30000, 1001));
        assert_eq!(fps_to_ratio(12.5), (12500, 1000));
    }
}
