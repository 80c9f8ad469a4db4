//! Files (Y4M, frame folders, any container) and network streams (RTSP/HTTP through ffmpeg)
//! as frame sources, both read through `media`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use motus_core::frame::Frame;
use motus_core::media::{self, ffmpeg::FfmpegReader, VideoInfo, VideoReader};

use super::{FrameSource, SourceError};

/// A video file (optionally looping) or a network stream.
pub struct FileSource {
    reader: Box<dyn VideoReader>,
    path: PathBuf,
    name: String,
    looping: bool,
    live: bool,
    /// Timestamp offset added after each loop, so time keeps increasing.
    offset: Duration,
    last: Duration,
}

impl FileSource {
    /// Opens a file in any format `media` reads.
    pub fn open(path: &Path, looping: bool) -> Result<Self, SourceError> {
        let name = path.display().to_string();
        let reader = media::open_video(path).map_err(|err| SourceError::Media { source_name: name.clone(), err })?;
        Ok(FileSource {
            reader,
            path: path.to_path_buf(),
            name,
            looping,
            live: false,
            offset: Duration::ZERO,
            last: Duration::ZERO,
        })
    }

    /// Opens a network stream through ffmpeg; it is live, so its end means a reconnect.
    /// Its name, in logs, records and errors, has the URL's credentials masked; a connection
    /// silent for `io_timeout` fails the read, so the capture thread reconnects.
    pub fn stream(url: &str, io_timeout: Duration) -> Result<Self, SourceError> {
        let path = PathBuf::from(url);
        let name = motus_core::redact::url(url).into_owned();
        let reader = FfmpegReader::open_live(url, io_timeout)
            .map_err(|err| SourceError::Media { source_name: name.clone(), err })?;
        Ok(FileSource {
            reader: Box::new(reader),
            path,
            name,
            looping: false,
            live: true,
            offset: Duration::ZERO,
            last: Duration::ZERO,
        })
    }
}

impl FrameSource for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn info(&self) -> VideoInfo {
        self.reader.info()
    }

    fn read_into(&mut self, frame: &mut Frame) -> Result<bool, SourceError> {
        let err = |err| SourceError::Media { source_name: self.name.clone(), err };
        let mut got = self.reader.read_into(frame).map_err(err)?;
        if !got && self.looping {
            let period = Duration::from_secs_f64(1.0 / self.reader.info().fps.max(1e-3));
            self.offset = self.last + period;
            self.reader = media::open_video(&self.path)
                .map_err(|err| SourceError::Media { source_name: self.name.clone(), err })?;
            got = self
                .reader
                .read_into(frame)
                .map_err(|err| SourceError::Media { source_name: self.name.clone(), err })?;
        }
        if got {
            frame.timestamp += self.offset;
            self.last = frame.timestamp;
        }
        Ok(got)
    }

    fn is_live(&self) -> bool {
        self.live
    }

    fn may_wait(&self) -> bool {
        !self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streams_credentials_never_reach_its_name_or_errors() {
        // Nothing listens on the discard port: ffmpeg fails to connect, and its message
        // quotes the URL it was given.
        let err = match FileSource::stream("rtsp://admin:hunter2@127.0.0.1:9/live?token=t0ken", Duration::from_secs(5))
        {
            Ok(_) => panic!("nothing listens there"),
            Err(e) => e,
        };
        let mut shown = err.to_string();
        let mut cause = std::error::Error::source(&err);
        while let Some(c) = cause {
            shown.push_str(&format!(": {c}"));
            cause = c.source();
        }
        assert!(!shown.contains("hunter2") && !shown.contains("t0ken"), "{shown}");
        assert!(shown.contains("rtsp://admin:***@127.0.0.1:9/live"), "{shown}");
    }

    /// An HTTP server that sends a Y4M header and `frames` small frames, then keeps the
    /// connection open and silent: a camera that stalls without hanging up.
    fn stalling_server(frames: usize) -> (String, std::thread::JoinHandle<()>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/camera.y4m", listener.local_addr().unwrap().port());
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request);
            let mut body = b"YUV4MPEG2 W16 H16 F10:1 Cmono\n".to_vec();
            for _ in 0..frames {
                body.extend_from_slice(b"FRAME\n");
                body.extend_from_slice(&[128u8; 256]);
            }
            let head = "HTTP/1.1 200 OK\r\nContent-Type: video/x-yuv4mpeg\r\nContent-Length: 1000000\r\n\r\n";
            conn.write_all(head.as_bytes()).unwrap();
            conn.write_all(&body).unwrap();
            // Silent, but open, for longer than the test's deadline.
            std::thread::sleep(Duration::from_secs(30));
        });
        (url, server)
    }

    #[test]
    fn a_stream_that_stalls_without_closing_ends_its_read_instead_of_hanging() {
        let (url, _server) = stalling_server(40);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut source = FileSource::stream(&url, Duration::from_secs(1)).unwrap();
            let mut frame = motus_core::frame::Frame::new(16, 16);
            let mut frames = 0;
            let end = loop {
                match source.read_into(&mut frame) {
                    Ok(true) => frames += 1,
                    Ok(false) => break "end of stream".to_string(),
                    Err(e) => break e.to_string(),
                }
            };
            let _ = tx.send((frames, end));
        });
        // 1 s of silence is the limit; 15 s allows for ffmpeg's start on a busy machine.
        let (frames, end) = rx.recv_timeout(Duration::from_secs(15)).expect("the read hung on a silent stream");
        assert_eq!(frames, 40, "every frame sent arrived before the stall ({end})");
    }
}
