//! A small worker pool for evaluation: each worker builds its own state once (a classifier
//! and a clip builder, which are not shared between threads), then takes jobs by index until
//! none are left. Results come back in job order; progress is reported from the calling
//! thread, so a progress bar needs no locking.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `job(&mut state, i)` for every `i < jobs` on `workers` threads, each with a state
/// from `init`; calls `progress(done, jobs)` as jobs finish. The first `init` error is
/// returned (after all workers stop); job results are returned in index order.
pub fn par_map<S, T, E>(
    jobs: usize,
    workers: usize,
    init: impl Fn() -> Result<S, E> + Sync,
    job: impl Fn(&mut S, usize) -> T + Sync,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<T>, E>
where
    T: Send,
    E: Send,
{
    let workers = workers.clamp(1, jobs.max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<T>> = (0..jobs).map(|_| None).collect();
    let mut init_error = None;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Result<(usize, T), E>>();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, init, job) = (&next, &init, &job);
            scope.spawn(move || {
                let mut state = match init() {
                    Ok(s) => s,
                    Err(e) => {
                        // Stop the others from taking more jobs, then report.
                        next.store(usize::MAX / 2, Ordering::SeqCst);
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= jobs {
                        break;
                    }
                    if tx.send(Ok((i, job(&mut state, i)))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for msg in rx {
            match msg {
                Ok((i, t)) => {
                    results[i] = Some(t);
                    done += 1;
                    progress(done, jobs);
                }
                Err(e) => {
                    init_error.get_or_insert(e);
                }
            }
        }
    });
    if let Some(e) = init_error {
        return Err(e);
    }
    Ok(results.into_iter().map(|r| r.expect("every job ran: no worker failed to start")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_order_with_progress() {
        let mut seen = vec![];
        let out = par_map(
            50,
            3,
            || Ok::<_, String>(0usize),
            |n, i| {
                *n += 1;
                i * i
            },
            &mut |d, t| seen.push((d, t)),
        )
        .unwrap();
        assert_eq!(out, (0..50).map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(seen.len(), 50);
        assert_eq!(seen.last(), Some(&(50, 50)));
        let empty: Vec<usize> = par_map(0, 4, || Ok::<_, String>(()), |_, i| i, &mut |_, _| {}).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn a_worker_that_cannot_start_is_an_error() {
        let err = par_map(10, 2, || Err::<(), _>("no model".to_string()), |_, i| i, &mut |_, _| {}).unwrap_err();
        assert_eq!(err, "no model");
    }
}
