//! Row-band parallelism for the per-pixel kernels: each kernel writes whole rows of its output
//! images and only reads other images, so splitting rows across threads cannot change a
//! single bit of the result (threads = 1 and threads = N are bit-identical).
//!
//! A pair of frames runs thousands of short kernels (two per TV-L1 iteration), so threads are
//! spawned once per engine ([`Team`]) and woken per kernel: a short spin, then a condvar.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Images smaller than this many pixels run on the calling thread: waking workers would cost
/// more than the work (and the result is identical either way).
pub(crate) const MIN_PARALLEL_PIXELS: usize = 16 * 1024;
/// Most threads a team may have (bands are handed out through a fixed-size table).
pub(crate) const MAX_THREADS: usize = 16;
/// Spin iterations a waiting thread polls before blocking.
const SPIN: u32 = 2000;

/// A job with its lifetime erased; only dereferenced while [`Team::run`] waits for it.
#[derive(Clone, Copy)]
struct JobPtr(*const (dyn Fn(usize) + Sync));
// SAFETY: the pointee is `Sync` and outlives every use (run() waits for all workers).
unsafe impl Send for JobPtr {}

struct Shared {
    generation: AtomicU64,
    pending: AtomicUsize,
    panicked: AtomicBool,
    job: Mutex<Option<JobPtr>>,
    lock: Mutex<bool>, // quit flag
    wake: Condvar,
}

/// Worker threads owned by an engine; `threads - 1` workers plus the calling thread.
pub(crate) struct Team {
    threads: usize,
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
}

impl Team {
    /// A team of `threads` (clamped to 1..=[`MAX_THREADS`]); 1 spawns nothing.
    pub(crate) fn new(threads: usize) -> Self {
        let threads = threads.clamp(1, MAX_THREADS);
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            job: Mutex::new(None),
            lock: Mutex::new(false),
            wake: Condvar::new(),
        });
        let handles = (1..threads)
            .map(|i| {
                let s = shared.clone();
                std::thread::Builder::new().name(format!("motus-flow-{i}")).spawn(move || worker(&s, i)).expect("spawn flow worker")
            })
            .collect();
        Team { threads, shared, handles }
    }

    /// Number of threads, the caller included.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `job(i)` for `i` in `0..threads` (0 on the calling thread) and returns when all
    /// are done. Panics if any of them panicked.
    fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        if self.threads == 1 {
            job(0);
            return;
        }
        // SAFETY: lifetime erasure only; `Wait` below blocks until every worker has finished
        // with the pointer, also when `job(0)` unwinds.
        let ptr: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(job as *const (dyn Fn(usize) + Sync)) };
        *self.shared.job.lock().unwrap() = Some(JobPtr(ptr));
        self.shared.pending.store(self.threads - 1, Ordering::SeqCst);
        {
            let _g = self.shared.lock.lock().unwrap();
            self.shared.generation.fetch_add(1, Ordering::SeqCst);
            self.shared.wake.notify_all();
        }
        struct Wait<'a>(&'a Shared);
        impl Drop for Wait<'_> {
            fn drop(&mut self) {
                let mut n = 0u32;
                while self.0.pending.load(Ordering::Acquire) != 0 {
                    if n < SPIN {
                        std::hint::spin_loop();
                        n += 1;
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
        }
        let wait = Wait(&self.shared);
        job(0);
        drop(wait);
        if self.shared.panicked.swap(false, Ordering::SeqCst) {
            panic!("a flow worker thread panicked");
        }
    }
}

fn worker(s: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        let mut n = 0u32;
        while s.generation.load(Ordering::Acquire) == seen && n < SPIN {
            std::hint::spin_loop();
            n += 1;
        }
        {
            let mut quit = s.lock.lock().unwrap();
            while s.generation.load(Ordering::Acquire) == seen && !*quit {
                quit = s.wake.wait(quit).unwrap();
            }
            if *quit {
                return;
            }
        }
        seen = s.generation.load(Ordering::Acquire);
        let job = s.job.lock().unwrap().expect("job published before generation");
        // SAFETY: see `Team::run`.
        let r = catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)(index) }));
        if r.is_err() {
            s.panicked.store(true, Ordering::SeqCst);
        }
        s.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        *self.shared.lock.lock().unwrap() = true;
        self.shared.wake.notify_all();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Runs `f(y0, y1, outs_band)` over row bands `[y0, y1)` of a `w × h` image on the team.
/// `outs` are the kernel's output images (at least `w * h` long); each call gets the rows
/// `y0..y1` of each, indexed from 0.
pub(crate) fn for_bands<const N: usize, F>(team: &Team, w: usize, h: usize, outs: [&mut [f32]; N], f: F)
where
    F: Fn(usize, usize, [&mut [f32]; N]) + Sync,
{
    let n = w * h;
    let outs = outs.map(|o| o.split_at_mut(n).0);
    let t = team.threads().min(h).max(1);
    if t <= 1 || n < MIN_PARALLEL_PIXELS {
        f(0, h, outs);
        return;
    }
    type Slot<'a, const N: usize> = Mutex<Option<(usize, usize, [&'a mut [f32]; N])>>;
    let slots: [Slot<N>; MAX_THREADS] = std::array::from_fn(|_| Mutex::new(None));
    let mut rest = outs;
    let mut y0 = 0;
    for (b, slot) in slots.iter().enumerate().take(t) {
        let y1 = h * (b + 1) / t;
        let mut band: [&mut [f32]; N] = std::array::from_fn(|_| Default::default());
        for i in 0..N {
            let (a, r) = std::mem::take(&mut rest[i]).split_at_mut((y1 - y0) * w);
            band[i] = a;
            rest[i] = r;
        }
        *slot.lock().unwrap() = Some((y0, y1, band));
        y0 = y1;
    }
    let job = |i: usize| {
        if let Some((y0, y1, band)) = slots.get(i).and_then(|s| s.lock().unwrap().take()) {
            f(y0, y1, band);
        }
    };
    team.run(&job);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_every_row_once() {
        let (w, h) = (200, 150);
        for threads in [1, 2, 3] {
            let team = Team::new(threads);
            let mut a = vec![0.0f32; w * h];
            let mut b = vec![0.0f32; w * h + 7];
            for _ in 0..3 {
                for_bands(&team, w, h, [&mut a, &mut b], |y0, y1, [a, b]| {
                    for y in y0..y1 {
                        for x in 0..w {
                            a[(y - y0) * w + x] += (y * w + x) as f32;
                            b[(y - y0) * w + x] += 1.0;
                        }
                    }
                });
            }
            assert!(a.iter().enumerate().all(|(i, &v)| v == 3.0 * i as f32));
            assert!(b[..w * h].iter().all(|&v| v == 3.0));
            assert_eq!(b[w * h], 0.0);
        }
    }

    #[test]
    fn worker_panic_is_reported() {
        let team = Team::new(2);
        let r = catch_unwind(AssertUnwindSafe(|| {
            team.run(&|i| {
                if i == 1 {
                    panic!("boom")
                }
            })
        }));
        assert!(r.is_err());
        // The team still works afterwards.
        let hits = AtomicUsize::new(0);
        team.run(&|_| {
            hits.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }
}
