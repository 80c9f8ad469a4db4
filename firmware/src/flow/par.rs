//! Row-band parallelism for the per-pixel kernels: each kernel writes whole rows of its output
//! images and only reads other images, so splitting rows across threads cannot change a
//! single bit of the result (threads = 1 and threads = N are bit-identical).

/// Images smaller than this many pixels run on the calling thread: spawning would cost more
/// than the work (and the result is identical either way).
pub(crate) const MIN_PARALLEL_PIXELS: usize = 16 * 1024;

/// Runs `f(y0, y1, outs_band)` over row bands `[y0, y1)` of a `w × h` image, on up to
/// `threads` threads (scoped, so inputs can be borrowed). `outs` are the kernel's output
/// images (at least `w * h` long); each call gets the rows `y0..y1` of each, indexed from 0.
pub(crate) fn for_bands<const N: usize, F>(threads: usize, w: usize, h: usize, outs: [&mut [f32]; N], f: F)
where
    F: Fn(usize, usize, [&mut [f32]; N]) + Sync,
{
    let n = w * h;
    let outs = outs.map(|o| o.split_at_mut(n).0);
    let t = threads.min(h).max(1);
    if t <= 1 || n < MIN_PARALLEL_PIXELS {
        f(0, h, outs);
        return;
    }
    let f = &f;
    std::thread::scope(|s| {
        let mut rest = outs;
        let mut y0 = 0;
        for b in 0..t {
            let y1 = h * (b + 1) / t;
            let mut band: [&mut [f32]; N] = std::array::from_fn(|_| Default::default());
            for i in 0..N {
                let (a, r) = std::mem::take(&mut rest[i]).split_at_mut((y1 - y0) * w);
                band[i] = a;
                rest[i] = r;
            }
            if b + 1 == t {
                f(y0, y1, band);
            } else {
                s.spawn(move || f(y0, y1, band));
            }
            y0 = y1;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_every_row_once() {
        let (w, h) = (200, 150);
        let mut a = vec![0.0f32; w * h];
        let mut b = vec![0.0f32; w * h + 7];
        for_bands(3, w, h, [&mut a, &mut b], |y0, y1, [a, b]| {
            for y in y0..y1 {
                for x in 0..w {
                    a[(y - y0) * w + x] += (y * w + x) as f32;
                    b[(y - y0) * w + x] += 1.0;
                }
            }
        });
        assert!(a.iter().enumerate().all(|(i, &v)| v == i as f32));
        assert!(b[..w * h].iter().all(|&v| v == 1.0));
        assert_eq!(b[w * h], 0.0);
    }
}
