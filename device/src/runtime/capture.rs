//! The capture thread: reads a [`FrameSource`] into the frame ring as fast as the source
//! delivers, never waiting for the processor. A source that fails (camera unplugged, stream
//! dropped) is re-opened with exponential backoff, each attempt logged; a single bad frame
//! (corrupt MJPEG) is logged, counted and skipped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::ring::{CaptureEnd, Captured};
use super::source::{FrameSource, Opener, SourceError};

/// Reconnect delays: `initial`, doubling up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { initial: Duration::from_millis(250), max: Duration::from_secs(10) }
    }
}

/// What the capture thread reports beyond the ring's own counters.
#[derive(Debug, Default)]
pub struct CaptureStats {
    /// Successful (re)opens of the source.
    pub opens: AtomicU64,
    /// Times the source failed to open or died mid-stream.
    pub failures: AtomicU64,
    /// Frames the source could not decode (skipped).
    pub bad_frames: AtomicU64,
    /// Set when the capture thread has finished (end of a file, or stop).
    pub finished: AtomicBool,
}

/// Stores `true` when dropped.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Sleeps `d` in small steps so a stop request is honoured promptly.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(20);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}

/// Starts the capture thread. It stops when `stop` is set, when a non-live source ends, or
/// when the opener reports the source cannot come back ([`SourceError::Unsupported`]).
pub fn spawn(
    mut open: Opener,
    mut ring: CaptureEnd,
    stop: Arc<AtomicBool>,
    backoff: Backoff,
) -> (JoinHandle<()>, Arc<CaptureStats>) {
    let stats = Arc::new(CaptureStats::default());
    let st = stats.clone();
    let handle = std::thread::Builder::new()
        .name("motus-capture".into())
        .spawn(move || {
            // Set on every way out, a panic's unwinding included: the main loop must not wait
            // for frames from a thread that is gone.
            let _finished = SetOnDrop(&st.finished);
            let mut delay = backoff.initial;
            let mut source: Option<Box<dyn FrameSource>> = None;
            while !stop.load(Ordering::Relaxed) {
                let Some(src) = source.as_mut() else {
                    match open() {
                        Ok(s) => {
                            let i = s.info();
                            log::info!("capture: {} open ({}x{} at {:.2} fps)", s.name(), i.width, i.height, i.fps);
                            st.opens.fetch_add(1, Ordering::Relaxed);
                            source = Some(s);
                            delay = backoff.initial;
                        }
                        Err(SourceError::Unsupported(msg)) => {
                            log::error!("capture: {msg}; stopping capture");
                            break;
                        }
                        Err(e) => {
                            st.failures.fetch_add(1, Ordering::Relaxed);
                            log::warn!("capture: cannot open source: {e}; retrying in {:.2} s", delay.as_secs_f64());
                            sleep_unless_stopped(delay, &stop);
                            delay = (delay * 2).min(backoff.max);
                        }
                    }
                    continue;
                };
                if src.may_wait() {
                    while !ring.has_free_buffer() && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                match ring.capture(|f| src.read_into(f)) {
                    Ok(Captured::Queued | Captured::Dropped) => {}
                    Ok(Captured::EndOfStream) if !src.is_live() => {
                        log::info!("capture: {} ended", src.name());
                        break;
                    }
                    Ok(Captured::EndOfStream) => {
                        st.failures.fetch_add(1, Ordering::Relaxed);
                        log::warn!(
                            "capture: {} stopped delivering; reconnecting in {:.2} s",
                            src.name(),
                            delay.as_secs_f64()
                        );
                        source = None;
                        sleep_unless_stopped(delay, &stop);
                        delay = (delay * 2).min(backoff.max);
                    }
                    Err(e) if e.is_transient() => {
                        let n = st.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_power_of_two() {
                            log::warn!("capture: {e} (skipped; {n} bad frames so far)");
                        }
                    }
                    Err(e) => {
                        st.failures.fetch_add(1, Ordering::Relaxed);
                        log::warn!("capture: source lost: {e}; reconnecting in {:.2} s", delay.as_secs_f64());
                        source = None;
                        sleep_unless_stopped(delay, &stop);
                        delay = (delay * 2).min(backoff.max);
                    }
                }
            }
        })
        .expect("spawning the capture thread");
    (handle, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ring::frame_ring;
    use motus_core::frame::Frame;
    use motus_core::media::VideoInfo;
    use std::sync::Mutex;

    /// A camera that delivers `frames` frames, then disappears (errors), and whose opener
    /// fails `refusals` times before it comes back; one frame in each run is corrupt.
    struct FlakyCamera {
        left: u32,
        corrupt_at: u32,
        next: u64,
    }

    impl FrameSource for FlakyCamera {
        fn name(&self) -> &str {
            "flaky"
        }
        fn info(&self) -> VideoInfo {
            VideoInfo { width: 8, height: 8, fps: 1000.0, frame_count: None }
        }
        fn read_into(&mut self, f: &mut Frame) -> Result<bool, SourceError> {
            if self.left == 0 {
                return Err(SourceError::Device {
                    source_name: "flaky".into(),
                    msg: "No such device (unplugged)".into(),
                });
            }
            self.left -= 1;
            if self.left == self.corrupt_at {
                return Err(SourceError::BadFrame { source_name: "flaky".into(), msg: "corrupt MJPEG".into() });
            }
            f.reshape(8, 8);
            f.data[0] = self.next as u8;
            self.next += 1;
            Ok(true)
        }
        fn is_live(&self) -> bool {
            true
        }
    }

    #[test]
    fn an_unplugged_camera_is_reopened_with_backoff_and_bad_frames_skipped() {
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let a = attempts.clone();
        let t0 = std::time::Instant::now();
        let mut calls = 0;
        let opener: Opener = Box::new(move || {
            calls += 1;
            a.lock().unwrap().push(t0.elapsed());
            // Opens on calls 1, 4 and 7; the two calls in between fail (device absent).
            if calls % 3 == 1 {
                Ok(Box::new(FlakyCamera { left: 5, corrupt_at: 2, next: 0 }) as Box<dyn FrameSource>)
            } else if calls > 7 {
                Err(SourceError::Unsupported("test over".into()))
            } else {
                Err(SourceError::Device { source_name: "flaky".into(), msg: "open: No such file or directory".into() })
            }
        });
        let (cap, mut proc_, ring_stats) = frame_ring(64, 8, 8);
        let stop = Arc::new(AtomicBool::new(false));
        let backoff = Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(25) };
        let (h, stats) = spawn(opener, cap, stop, backoff);
        h.join().unwrap();
        assert!(stats.finished.load(Ordering::Acquire));
        assert_eq!(stats.opens.load(Ordering::Relaxed), 3);
        // Each open run ends in a device error; 4 failed opens between them.
        assert_eq!(stats.failures.load(Ordering::Relaxed), 3 + 4);
        assert_eq!(stats.bad_frames.load(Ordering::Relaxed), 3);
        assert_eq!(ring_stats.captured.load(Ordering::Relaxed), 12, "4 good frames per run");
        let mut n = 0;
        while let Some(f) = proc_.try_next(100) {
            proc_.recycle(f);
            n += 1;
        }
        assert_eq!(n, 12);
        // Backoff: the gap before the second re-open attempt is longer than before the first.
        let at = attempts.lock().unwrap().clone();
        let gap1 = at[2] - at[1];
        let gap0 = at[1] - at[0];
        assert!(gap0 >= Duration::from_millis(10) && gap1 >= Duration::from_millis(20), "{gap0:?} {gap1:?}");
    }

    #[test]
    fn a_file_ends_and_stop_is_prompt() {
        let opener: Opener = Box::new(|| {
            struct Short(u32);
            impl FrameSource for Short {
                fn name(&self) -> &str {
                    "short"
                }
                fn info(&self) -> VideoInfo {
                    VideoInfo { width: 8, height: 8, fps: 25.0, frame_count: Some(3) }
                }
                fn read_into(&mut self, f: &mut Frame) -> Result<bool, SourceError> {
                    f.reshape(8, 8);
                    self.0 += 1;
                    Ok(self.0 <= 3)
                }
                fn is_live(&self) -> bool {
                    false
                }
            }
            Ok(Box::new(Short(0)) as Box<dyn FrameSource>)
        });
        let (cap, _p, rs) = frame_ring(8, 8, 8);
        let (h, st) = spawn(opener, cap, Arc::new(AtomicBool::new(false)), Backoff::default());
        h.join().unwrap();
        assert_eq!(rs.captured.load(Ordering::Relaxed), 3);
        assert_eq!(st.failures.load(Ordering::Relaxed), 0);

        // A source that never opens: stop ends the backoff wait at once.
        let opener: Opener = Box::new(|| Err(SourceError::Device { source_name: "cam".into(), msg: "absent".into() }));
        let (cap, _p, _) = frame_ring(2, 8, 8);
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = spawn(
            opener,
            cap,
            stop.clone(),
            Backoff { initial: Duration::from_secs(30), max: Duration::from_secs(30) },
        );
        std::thread::sleep(Duration::from_millis(50));
        let t = std::time::Instant::now();
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(st.failures.load(Ordering::Relaxed) >= 1);
    }

    #[test]
    fn a_capture_thread_that_panics_still_says_it_finished() {
        let opener: Opener = Box::new(|| panic!("a driver bug"));
        let (cap, _p, _) = frame_ring(2, 8, 8);
        let (h, st) = spawn(opener, cap, Arc::new(AtomicBool::new(false)), Backoff::default());
        assert!(h.join().is_err(), "the panic reaches the joiner");
        assert!(st.finished.load(Ordering::Acquire), "the main loop stops waiting for frames");
    }
}
