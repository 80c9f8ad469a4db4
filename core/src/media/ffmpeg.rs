//! Containers and streams (mp4, mkv, avi, webm, RTSP, …) through an `ffmpeg` child process.
//!
//! ffmpeg decodes; motus reads its output as a Y4M stream on a pipe (4:4:4, so no chroma is
//! lost on the way), which carries the size and frame rate after rotation metadata has been
//! applied and needs no separate `ffprobe` call. Writing pipes raw RGB into ffmpeg's stdin.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::y4m::Y4mReader;
use super::{MediaError, VideoInfo, VideoReader, VideoWriter};
use crate::frame::Frame;

/// The ffmpeg program used; `MOTUS_FFMPEG` overrides it (a static build, a Jetson's own).
pub fn ffmpeg_program() -> String {
    std::env::var("MOTUS_FFMPEG").unwrap_or_else(|_| "ffmpeg".to_string())
}

/// Keeps the last lines of a child's stderr so a failure can say why, without ever letting
/// the pipe fill up and stall the child.
struct StderrTail {
    text: Arc<Mutex<String>>,
    thread: Option<JoinHandle<()>>,
}

impl StderrTail {
    const KEEP: usize = 2000;

    fn spawn(mut stderr: impl Read + Send + 'static) -> Self {
        let text = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&text);
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = sink.lock().unwrap_or_else(|p| p.into_inner());
                t.push_str(&String::from_utf8_lossy(&buf[..n]));
                if t.len() > 4 * Self::KEEP {
                    let cut = start_of_tail(&t, Self::KEEP);
                    t.drain(..cut);
                }
            }
        });
        StderrTail { text, thread: Some(thread) }
    }

    /// Waits for the child to close stderr, then returns its tail.
    fn finish(&mut self) -> String {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let text = self.text.lock().unwrap_or_else(|p| p.into_inner());
        let trimmed = text.trim();
        // ffmpeg quotes its input in errors: a camera URL's credentials must not reach a log.
        crate::redact::text(&trimmed[start_of_tail(trimmed, Self::KEEP)..]).into_owned()
    }
}

/// The RTSP demuxer's socket I/O timeout option of the installed ffmpeg, asked once: ffmpeg 5
/// and later call it `-timeout` (in 4.x that name is a listen timeout, which would turn the
/// camera's client into a server), ffmpeg 4.x `-stimeout`.
fn rtsp_socket_timeout_option() -> Option<&'static str> {
    static OPTION: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *OPTION.get_or_init(|| {
        let help = Command::new(ffmpeg_program()).args(["-hide_banner", "-h", "demuxer=rtsp"]).output().ok()?;
        rtsp_timeout_from_help(&String::from_utf8_lossy(&help.stdout))
    })
}

/// The socket timeout option named in `ffmpeg -h demuxer=rtsp`'s output.
fn rtsp_timeout_from_help(help: &str) -> Option<&'static str> {
    let option = |name: &str| help.lines().find(|l| l.split_whitespace().next() == Some(name));
    if option("-stimeout").is_some() {
        return Some("-stimeout");
    }
    option("-timeout").filter(|l| l.contains("socket I/O")).map(|_| "-timeout")
}

/// Where the last `keep` bytes of `text` start, moved on to the next whole line: a cut inside
/// a quoted URL would leave `user:password@host` without its scheme, which no masking finds.
fn start_of_tail(text: &str, keep: usize) -> usize {
    if text.len() <= keep {
        return 0;
    }
    let cut = text.len() - keep;
    text[cut..].find('\n').map_or(text.len(), |n| cut + n + 1)
}

fn spawn(mut cmd: Command, path: &Path) -> Result<Child, MediaError> {
    cmd.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            MediaError::FfmpegMissing { path: path.into(), source }
        } else {
            MediaError::io(path, source)
        }
    })
}

/// Decodes any input ffmpeg understands, frame by frame.
pub struct FfmpegReader {
    y4m: Y4mReader<ChildStdout>,
    child: Child,
    stderr: StderrTail,
    path: PathBuf,
    done: bool,
}

impl FfmpegReader {
    /// Starts decoding `path` (a file or a URL such as `rtsp://…`).
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        Self::open_range(path, None)
    }

    /// Starts decoding `path` from `start` seconds for `duration` seconds (frame-accurate:
    /// ffmpeg seeks to the key frame before and decodes forward). Kinetics-style datasets
    /// reference clips of longer videos this way.
    pub fn open_range(path: &Path, range: Option<(f64, f64)>) -> Result<Self, MediaError> {
        Self::start(path, range, &[])
    }

    /// Starts decoding a network stream that must not hang its reader: ffmpeg gives up (and
    /// the read fails) when the connection stays silent for `io_timeout`, instead of blocking
    /// forever on a camera that stopped sending without closing.
    pub fn open_live(url: &str, io_timeout: Duration) -> Result<Self, MediaError> {
        let micros = io_timeout.as_micros().max(1).to_string();
        let rtsp = url.starts_with("rtsp://") || url.starts_with("rtsps://");
        // Every protocol but RTSP (HTTP, TCP, UDP, RTMP) honours the generic I/O timeout; RTSP
        // takes only its own socket timeout (newer ffmpeg refuses -rw_timeout there), so only
        // an RTSP stream asks ffmpeg what that option is called.
        let options = if !rtsp {
            vec!["-rw_timeout".to_string(), micros]
        } else if let Some(option) = rtsp_socket_timeout_option() {
            vec![option.to_string(), micros]
        } else {
            log::warn!("ffmpeg names no RTSP socket timeout: a stalled RTSP camera may hang its reader");
            Vec::new()
        };
        Self::start(Path::new(url), None, &options)
    }

    fn start(path: &Path, range: Option<(f64, f64)>, input_options: &[String]) -> Result<Self, MediaError> {
        // `path` goes to ffmpeg as given; errors and `info` name it with credentials masked.
        let shown = crate::redact::path(path);
        let mut cmd = Command::new(ffmpeg_program());
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"]);
        cmd.args(input_options);
        if let Some((start, duration)) = range {
            if !(start.is_finite() && start >= 0.0 && duration.is_finite() && duration > 0.0) {
                return Err(MediaError::Unsupported {
                    path: shown.clone(),
                    reason: format!("bad time range: start {start} s, duration {duration} s"),
                });
            }
            cmd.args(["-ss", &format!("{start:.3}")]);
            cmd.arg("-i").arg(path);
            cmd.args(["-t", &format!("{duration:.3}")]);
        } else {
            cmd.arg("-i").arg(path);
        }
        cmd.args(["-an", "-sn", "-pix_fmt", "yuv444p", "-f", "yuv4mpegpipe", "-"]);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = spawn(cmd, &shown)?;
        let mut stderr = StderrTail::spawn(child.stderr.take().expect("stderr is piped"));
        let stdout = child.stdout.take().expect("stdout is piped");
        match Y4mReader::from_stream(stdout, &shown) {
            Ok(y4m) => Ok(FfmpegReader { y4m, child, stderr, path: shown, done: false }),
            Err(e) => {
                // ffmpeg wrote no stream: its own message says why (missing file, bad data).
                let _ = child.wait();
                let msg = stderr.finish();
                if msg.is_empty() {
                    Err(e)
                } else {
                    Err(MediaError::Ffmpeg { path: shown.clone(), stderr: msg })
                }
            }
        }
    }
}

impl VideoReader for FfmpegReader {
    fn info(&self) -> VideoInfo {
        self.y4m.info()
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, MediaError> {
        if self.done {
            return Ok(false);
        }
        match self.y4m.read_into(frame) {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.done = true;
                let status = self.child.wait().map_err(|e| MediaError::io(&self.path, e))?;
                let msg = self.stderr.finish();
                if status.success() {
                    Ok(false)
                } else {
                    Err(MediaError::Ffmpeg {
                        path: self.path.clone(),
                        stderr: if msg.is_empty() { status.to_string() } else { msg },
                    })
                }
            }
            Err(e) => {
                self.done = true;
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(e)
            }
        }
    }
}

impl Drop for FfmpegReader {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Encodes frames into any container ffmpeg can write; the codec follows the extension
/// (H.264 for `.mp4`/`.mkv`/`.mov`), with 4:2:0 chroma for players' sake.
pub struct FfmpegWriter {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: StderrTail,
    path: PathBuf,
    width: u32,
    height: u32,
    frames: u64,
}

impl FfmpegWriter {
    /// Starts ffmpeg writing `path` (overwritten if it exists).
    pub fn create(path: &Path, width: u32, height: u32, fps: f64) -> Result<Self, MediaError> {
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
            return Err(MediaError::Unsupported {
                path: path.into(),
                reason: format!("4:2:0 video needs even sides, got {width}x{height}"),
            });
        }
        if !(fps.is_finite() && fps > 0.0) {
            return Err(MediaError::Unsupported {
                path: path.into(),
                reason: format!("frame rate must be positive, got {fps}"),
            });
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let mut cmd = Command::new(ffmpeg_program());
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]);
        cmd.args(["-s", &format!("{width}x{height}"), "-r", &format!("{fps}"), "-i", "-"]);
        if matches!(ext.as_str(), "mp4" | "mkv" | "mov") {
            cmd.args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "16"]);
        }
        cmd.args(["-pix_fmt", "yuv420p"]).arg(path);
        cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = spawn(cmd, path)?;
        let stderr = StderrTail::spawn(child.stderr.take().expect("stderr is piped"));
        let stdin = child.stdin.take();
        Ok(FfmpegWriter { child, stdin, stderr, path: path.into(), width, height, frames: 0 })
    }

    fn failure(&mut self) -> MediaError {
        drop(self.stdin.take());
        let status = self.child.wait();
        let msg = self.stderr.finish();
        let msg = if msg.is_empty() { format!("{status:?}") } else { msg };
        MediaError::Ffmpeg { path: self.path.clone(), stderr: msg }
    }
}

impl VideoWriter for FfmpegWriter {
    fn write_frame(&mut self, frame: &Frame) -> Result<(), MediaError> {
        if (frame.width, frame.height) != (self.width, self.height) {
            return Err(MediaError::SizeMismatch {
                path: self.path.clone(),
                frame: self.frames,
                got_w: frame.width,
                got_h: frame.height,
                want_w: self.width,
                want_h: self.height,
            });
        }
        let Some(stdin) = self.stdin.as_mut() else { return Err(self.failure()) };
        if stdin.write_all(&frame.data).is_err() {
            // A broken pipe means ffmpeg has exited; its stderr says why.
            return Err(self.failure());
        }
        self.frames += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), MediaError> {
        drop(self.stdin.take());
        let status = self.child.wait().map_err(|e| MediaError::io(&self.path, e))?;
        let msg = self.stderr.finish();
        if status.success() {
            Ok(())
        } else {
            Err(MediaError::Ffmpeg {
                path: self.path.clone(),
                stderr: if msg.is_empty() { status.to_string() } else { msg },
            })
        }
    }
}

impl Drop for FfmpegWriter {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ffmpeg_is_a_clear_error() {
        // Point at a program that cannot exist instead of touching PATH (tests run in parallel).
        let mut cmd = Command::new("/nonexistent/motus-no-ffmpeg");
        cmd.arg("-version");
        let err = spawn(cmd, Path::new("clip.mp4")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("clip.mp4") && text.contains("needs ffmpeg") && text.contains("apt-get install ffmpeg"),
            "{text}"
        );
    }

    #[test]
    fn the_rtsp_socket_timeout_is_named_as_each_ffmpeg_names_it() {
        let ffmpeg5 =
            "  -timeout           <int64>      .D......... set timeout (in microseconds) of socket I/O operations";
        let ffmpeg4 = "  -timeout           <int>        .D......... set maximum timeout (in seconds) to wait for incoming connections\n  -stimeout          <int64>      .D......... set timeout (in microseconds) of socket TCP I/O operations";
        let listen_only = "  -timeout           <int>        .D......... set maximum timeout (in seconds) to wait for incoming connections";
        assert_eq!(rtsp_timeout_from_help(ffmpeg5), Some("-timeout"));
        assert_eq!(rtsp_timeout_from_help(ffmpeg4), Some("-stimeout"));
        assert_eq!(rtsp_timeout_from_help(listen_only), None);
        // The ffmpeg installed here names one.
        assert!(rtsp_socket_timeout_option().is_some());
    }

    #[test]
    fn a_cut_stderr_tail_starts_at_a_whole_line() {
        let text = "rtsp://admin:hunter2@10.0.0.5/live: Connection refused\nsecond line\n";
        let start = start_of_tail(text, text.len() - 10);
        assert_eq!(&text[start..], "second line\n");
        assert_eq!(start_of_tail("short", 10), 0);
    }
}
