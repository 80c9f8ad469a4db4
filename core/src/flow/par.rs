//! Row-band parallelism for the per-pixel kernels: each kernel writes whole rows of its output
//! images and only reads other images, so splitting rows across threads cannot change a
//! single bit of the result (threads = 1 and threads = N are bit-identical).
//!
//! A pair of frames runs thousands of short kernels (two per TV-L1 iteration), so threads are
//! spawned once per engine ([`Team`]) and woken per kernel: a short spin, then a condvar.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::kernels::Band;

/// Images smaller than this many pixels run on the calling thread: waking workers would cost
/// more than the work (and the result is identical either way).
pub(crate) const MIN_PARALLEL_PIXELS: usize = 16 * 1024;
/// Most threads a team may have.
pub(crate) const MAX_THREADS: usize = 16;
/// Bands per thread: threads take bands from a shared counter, so a worker the OS schedules
/// late (a busy machine) only costs the bands it actually took.
const BANDS_PER_THREAD: usize = 4;
/// Most bands of one kernel (the fixed-size table they are handed out from).
const MAX_BANDS: usize = MAX_THREADS * BANDS_PER_THREAD;
/// Spin iterations a worker polls for the next job before blocking.
const SPIN: u32 = 2000;

/// A job with its lifetime erased; only dereferenced by a worker counted in `inflight` while
/// `open` is set, and [`Team::run`] waits for `inflight == 0` after clearing `open`.
#[derive(Clone, Copy)]
struct JobPtr(*const (dyn Fn() + Sync));
// SAFETY: the pointee is `Sync`; see the protocol above for its lifetime.
unsafe impl Send for JobPtr {}

struct Shared {
    generation: AtomicU64,
    open: AtomicBool,
    inflight: AtomicUsize,
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
            open: AtomicBool::new(false),
            inflight: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            job: Mutex::new(None),
            lock: Mutex::new(false),
            wake: Condvar::new(),
        });
        let handles = (1..threads)
            .map(|i| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name(format!("motus-flow-{i}"))
                    .spawn(move || worker(&s))
                    .expect("spawn flow worker")
            })
            .collect();
        Team { threads, shared, handles }
    }

    /// Number of threads, the caller included.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `job` on the calling thread and on every worker that wakes up before the caller's
    /// run of it returns; returns once no worker is still inside it. `job` must itself hand
    /// out the work (any thread may run any part). Panics if a worker's run panicked.
    fn run(&self, job: &(dyn Fn() + Sync)) {
        if self.threads == 1 {
            job();
            return;
        }
        let s = &*self.shared;
        // SAFETY: lifetime erasure only; see `JobPtr`. `Close` runs also when `job` unwinds.
        let ptr: *const (dyn Fn() + Sync + 'static) = unsafe { std::mem::transmute(job as *const (dyn Fn() + Sync)) };
        *s.job.lock().unwrap() = Some(JobPtr(ptr));
        s.panicked.store(false, SeqCst); // a previous job may have unwound before reading it
        s.open.store(true, SeqCst);
        {
            let _g = s.lock.lock().unwrap();
            s.generation.fetch_add(1, SeqCst);
            s.wake.notify_all();
        }
        struct Close<'a>(&'a Shared);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                self.0.open.store(false, SeqCst);
                let mut n = 0u32;
                while self.0.inflight.load(SeqCst) != 0 {
                    if n < SPIN {
                        std::hint::spin_loop();
                        n += 1;
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
        }
        let close = Close(s);
        job();
        drop(close);
        if s.panicked.swap(false, SeqCst) {
            panic!("a flow worker thread panicked");
        }
    }
}

fn worker(s: &Shared) {
    let mut seen = 0u64;
    loop {
        let mut n = 0u32;
        while s.generation.load(SeqCst) == seen && n < SPIN {
            std::hint::spin_loop();
            n += 1;
        }
        {
            let mut quit = s.lock.lock().unwrap();
            while s.generation.load(SeqCst) == seen && !*quit {
                quit = s.wake.wait(quit).unwrap();
            }
            if *quit {
                return;
            }
        }
        seen = s.generation.load(SeqCst);
        // Announce, then check the job is still open: with sequentially consistent order,
        // either the caller sees us in `inflight` before returning, or we see it closed.
        s.inflight.fetch_add(1, SeqCst);
        if s.open.load(SeqCst) {
            let job = s.job.lock().unwrap().expect("job published before opening");
            // SAFETY: see `JobPtr`.
            if catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)() })).is_err() {
                s.panicked.store(true, SeqCst);
            }
        }
        s.inflight.fetch_sub(1, SeqCst);
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

/// Runs `f(band, outs_band)` over row bands `[y0, y1)` of a `w × h` image on the team.
/// `outs` are the kernel's output images (at least `w * h` long); each call gets the rows
/// `y0..y1` of each, indexed from 0. Which thread runs which band does not matter: a band's
/// result depends only on its rows.
pub(crate) fn for_bands<const N: usize, F>(team: &Team, w: usize, h: usize, outs: [&mut [f32]; N], f: F)
where
    F: Fn(Band, [&mut [f32]; N]) + Sync,
{
    let n = w * h;
    let outs = outs.map(|o| o.split_at_mut(n).0);
    if team.threads() <= 1 || n < MIN_PARALLEL_PIXELS || h < 2 {
        f(Band::whole(w, h), outs);
        return;
    }
    let nb = (team.threads() * BANDS_PER_THREAD).min(h).min(MAX_BANDS);
    type Slot<'a, const N: usize> = Mutex<Option<(usize, usize, [&'a mut [f32]; N])>>;
    let slots: [Slot<N>; MAX_BANDS] = std::array::from_fn(|_| Mutex::new(None));
    let mut rest = outs;
    let mut y0 = 0;
    for (b, slot) in slots.iter().enumerate().take(nb) {
        let y1 = h * (b + 1) / nb;
        let mut band: [&mut [f32]; N] = std::array::from_fn(|_| Default::default());
        for i in 0..N {
            let (a, r) = std::mem::take(&mut rest[i]).split_at_mut((y1 - y0) * w);
            band[i] = a;
            rest[i] = r;
        }
        *slot.lock().unwrap() = Some((y0, y1, band));
        y0 = y1;
    }
    let next = AtomicUsize::new(0);
    let job = || loop {
        let b = next.fetch_add(1, SeqCst);
        if b >= nb {
            break;
        }
        if let Some((y0, y1, band)) = slots[b].lock().unwrap().take() {
            f(Band { w, h, y0, y1 }, band);
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
                for_bands(&team, w, h, [&mut a, &mut b], |Band { y0, y1, .. }, [a, b]| {
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
    fn run_returns_only_after_all_claimed_work() {
        let team = Team::new(3);
        for _ in 0..3000 {
            let next = AtomicUsize::new(0);
            let done = AtomicUsize::new(0);
            team.run(&|| loop {
                if next.fetch_add(1, SeqCst) >= 8 {
                    break;
                }
                std::hint::black_box(0..100).for_each(|_| std::hint::spin_loop());
                done.fetch_add(1, SeqCst);
            });
            assert_eq!(done.load(SeqCst), 8);
        }
    }

    #[test]
    fn job_panic_is_reported() {
        let team = Team::new(2);
        // Whichever thread runs it, a panicking job is reported to the caller.
        let r = catch_unwind(AssertUnwindSafe(|| team.run(&|| panic!("boom"))));
        assert!(r.is_err());
        // The team still works afterwards.
        let hits = AtomicUsize::new(0);
        team.run(&|| {
            hits.fetch_add(1, SeqCst);
        });
        assert!((1..=2).contains(&hits.load(SeqCst)));
    }
}
