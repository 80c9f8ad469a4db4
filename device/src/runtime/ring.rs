//! The frame ring between the capture thread and the processing thread: a lock-free SPSC
//! queue (`ringbuf`) of pooled frame buffers that never allocates after start-up and never
//! blocks the camera.
//!
//! Two rings circulate a fixed pool of buffers: `full` carries filled frames to the
//! processor, `free` returns them for reuse. Under load:
//! - the processor drops the *oldest* queued frames when more than `max_lag` wait (bounded
//!   latency: it always works on recent frames), counting them as `dropped_stale`;
//! - if the processor holds every buffer, the capture side still reads the camera (into a
//!   spare buffer, so the driver's queue does not stall) and discards that frame, counting it
//!   as `dropped_full`.
//!
//! Every frame captured is either delivered or counted, never silently lost.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

use motus_core::frame::Frame;

/// Counters shared by both ends; read them from any thread.
#[derive(Debug, Default)]
pub struct RingStats {
    /// Frames the capture side filled (delivered or dropped).
    pub captured: AtomicU64,
    /// Frames handed to the processor.
    pub delivered: AtomicU64,
    /// Frames discarded because the processor held every buffer.
    pub dropped_full: AtomicU64,
    /// Queued frames skipped by the processor to stay within `max_lag`.
    pub dropped_stale: AtomicU64,
}

impl RingStats {
    /// All frames dropped so far, for the `drop_rate` metric.
    pub fn dropped(&self) -> u64 {
        self.dropped_full.load(Ordering::Relaxed) + self.dropped_stale.load(Ordering::Relaxed)
    }
}

/// Wakes a waiting processor; the data path itself takes no lock.
#[derive(Default)]
struct Signal {
    ready: Mutex<bool>,
    cond: Condvar,
}

/// The capture thread's end.
pub struct CaptureEnd {
    full: HeapProd<Frame>,
    free: HeapCons<Frame>,
    spare: Frame,
    stats: Arc<RingStats>,
    signal: Arc<Signal>,
}

/// The processing thread's end.
pub struct ProcessEnd {
    full: HeapCons<Frame>,
    free: HeapProd<Frame>,
    stats: Arc<RingStats>,
    signal: Arc<Signal>,
}

/// What happened to a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Captured {
    /// Queued for the processor.
    Queued,
    /// Read but discarded: the processor holds every buffer.
    Dropped,
    /// The source has no more frames; nothing was queued.
    EndOfStream,
}

/// Creates a ring with `slots` pooled buffers (at least 2) of `width × height` RGB8.
pub fn frame_ring(slots: usize, width: u32, height: u32) -> (CaptureEnd, ProcessEnd, Arc<RingStats>) {
    let slots = slots.max(2);
    let (full_prod, full_cons) = HeapRb::<Frame>::new(slots).split();
    let (mut free_prod, free_cons) = HeapRb::<Frame>::new(slots).split();
    for _ in 0..slots {
        let _ = free_prod.try_push(Frame::new(width, height));
    }
    let stats = Arc::new(RingStats::default());
    let signal = Arc::new(Signal::default());
    (
        CaptureEnd {
            full: full_prod,
            free: free_cons,
            spare: Frame::new(width, height),
            stats: stats.clone(),
            signal: signal.clone(),
        },
        ProcessEnd { full: full_cons, free: free_prod, stats: stats.clone(), signal },
        stats,
    )
}

impl CaptureEnd {
    /// Whether a pooled buffer is free, so the next capture would be queued rather than
    /// dropped; lets an offline source (a file read as fast as possible) wait instead.
    pub fn has_free_buffer(&self) -> bool {
        !self.free.is_empty()
    }

    /// Lets `fill` write the next frame into a pooled buffer (it returns `Ok(false)` at the end
    /// of the stream) and queues it. Never blocks on the processor.
    pub fn capture<E>(&mut self, fill: impl FnOnce(&mut Frame) -> Result<bool, E>) -> Result<Captured, E> {
        match self.free.try_pop() {
            Some(mut frame) => {
                if !fill(&mut frame)? {
                    // Taken but not filled, and the capture side cannot push to the free
                    // ring: it becomes the spare (the old spare is freed). This happens once,
                    // at the end of the stream.
                    self.spare = frame;
                    return Ok(Captured::EndOfStream);
                }
                self.stats.captured.fetch_add(1, Ordering::Relaxed);
                // Cannot fail: the pool holds exactly as many buffers as the ring has slots.
                if self.full.try_push(frame).is_err() {
                    unreachable!("frame ring holds every pooled buffer");
                }
                let mut ready = self.signal.ready.lock().unwrap_or_else(|p| p.into_inner());
                *ready = true;
                self.signal.cond.notify_one();
                Ok(Captured::Queued)
            }
            None => {
                if !fill(&mut self.spare)? {
                    return Ok(Captured::EndOfStream);
                }
                self.stats.captured.fetch_add(1, Ordering::Relaxed);
                self.stats.dropped_full.fetch_add(1, Ordering::Relaxed);
                Ok(Captured::Dropped)
            }
        }
    }
}

impl ProcessEnd {
    /// The oldest frame within `max_lag` of the newest, skipping (and recycling) older ones;
    /// `None` when nothing is queued.
    pub fn try_next(&mut self, max_lag: usize) -> Option<Frame> {
        let mut frame = self.full.try_pop()?;
        while self.full.occupied_len() > max_lag {
            let newer = self.full.try_pop().expect("occupied");
            self.recycle(std::mem::replace(&mut frame, newer));
            self.stats.dropped_stale.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
        Some(frame)
    }

    /// Like [`try_next`](Self::try_next), waiting up to `timeout` for a frame.
    pub fn next_timeout(&mut self, max_lag: usize, timeout: Duration) -> Option<Frame> {
        if let Some(f) = self.try_next(max_lag) {
            return Some(f);
        }
        {
            let ready = self.signal.ready.lock().unwrap_or_else(|p| p.into_inner());
            let (mut ready, _) = self
                .signal
                .cond
                .wait_timeout_while(ready, timeout, |r| !*r && self.full.is_empty())
                .unwrap_or_else(|p| p.into_inner());
            *ready = false;
        }
        self.try_next(max_lag)
    }

    /// Returns a buffer to the pool once its pixels are no longer needed.
    pub fn recycle(&mut self, frame: Frame) {
        // Cannot fail: the free ring has a slot for every pooled buffer.
        let _ = self.free.try_push(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn stamp(f: &mut Frame, i: u64) {
        f.data[..8].copy_from_slice(&i.to_le_bytes());
    }

    fn read_stamp(f: &Frame) -> u64 {
        u64::from_le_bytes(f.data[..8].try_into().unwrap())
    }

    #[test]
    fn in_order_and_every_frame_accounted_for_under_a_slow_consumer() {
        let (mut cap, mut proc_, stats) = frame_ring(4, 16, 16);
        let total = 2000u64;
        let producer = std::thread::spawn(move || {
            for i in 0..total {
                cap.capture(|f| -> Result<bool, ()> {
                    stamp(f, i);
                    Ok(true)
                })
                .unwrap();
                if i % 50 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            cap.capture(|_| -> Result<bool, ()> { Ok(false) }).unwrap()
        });
        let mut seen = Vec::new();
        let mut buffers = HashSet::new();
        loop {
            match proc_.next_timeout(2, Duration::from_millis(200)) {
                Some(f) => {
                    seen.push(read_stamp(&f));
                    buffers.insert(f.data.as_ptr() as usize);
                    std::thread::sleep(Duration::from_micros(30)); // slower than the camera
                    proc_.recycle(f);
                }
                None if producer.is_finished() => break,
                None => {}
            }
        }
        assert_eq!(producer.join().unwrap(), Captured::EndOfStream);
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "frames stay in capture order");
        let delivered = stats.delivered.load(Ordering::Relaxed);
        assert_eq!(delivered, seen.len() as u64);
        assert_eq!(stats.captured.load(Ordering::Relaxed), total);
        assert_eq!(delivered + stats.dropped(), total, "every frame delivered or counted");
        assert!(buffers.len() <= 4, "only the pooled buffers circulate: {}", buffers.len());
    }

    #[test]
    fn lag_bound_drops_the_oldest() {
        let (mut cap, mut proc_, stats) = frame_ring(8, 8, 8);
        for i in 0..6 {
            cap.capture(|f| -> Result<bool, ()> {
                stamp(f, i);
                Ok(true)
            })
            .unwrap();
        }
        let f = proc_.try_next(1).unwrap();
        assert_eq!(read_stamp(&f), 4, "keeps the newest two: 4 now, 5 queued");
        assert_eq!(stats.dropped_stale.load(Ordering::Relaxed), 4);
        proc_.recycle(f);
        assert_eq!(read_stamp(&proc_.try_next(1).unwrap()), 5);
        assert!(proc_.try_next(1).is_none());
    }

    #[test]
    fn a_full_pool_drops_new_frames_without_blocking() {
        let (mut cap, mut proc_, stats) = frame_ring(2, 8, 8);
        let mut held = Vec::new();
        for i in 0..2 {
            cap.capture(|f| -> Result<bool, ()> {
                stamp(f, i);
                Ok(true)
            })
            .unwrap();
            held.push(proc_.try_next(10).unwrap());
        }
        let r = cap.capture(|f| -> Result<bool, ()> {
            stamp(f, 9);
            Ok(true)
        });
        assert_eq!(r, Ok(Captured::Dropped));
        assert_eq!(stats.dropped_full.load(Ordering::Relaxed), 1);
        let err = cap.capture(|_| -> Result<bool, &str> { Err("camera unplugged") });
        assert_eq!(err, Err("camera unplugged"), "source errors reach the capture loop");
    }
}
