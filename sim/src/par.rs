//! Thread-pool helpers, and the one shared-mutable slice of the crate ([`SharedSlice`]).
//!
//! A time step runs several short parallel loops (integration, the skin check, contact forces,
//! fibril tensions) separated by short sequential stretches (ECS bookkeeping, ordered sums). A
//! rayon worker that finds no work spins for a few tens of microseconds and then sleeps; waking it
//! costs about 50 µs on this 2-core machine (measured: a 100 µs parallel loop after 50 µs of
//! sequential work took 146 µs instead of 100 µs). With steps of a few hundred microseconds that
//! lost most of the second core. [`with_hot_workers`] keeps the other workers of the current pool
//! awake while a stepping loop runs, polling for work instead of sleeping. Results do not depend
//! on it (every sum in the engine has a fixed order whatever thread computes it).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Number of live [`without_hot_workers`] calls; while non-zero, [`with_hot_workers`] is a plain
/// call.
static SUPPRESSED: AtomicUsize = AtomicUsize::new(0);

/// Decrements [`SUPPRESSED`] when dropped.
struct Unsuppress;

impl Drop for Unsuppress {
    fn drop(&mut self) {
        SUPPRESSED.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Run `f` with [`with_hot_workers`] turned off process-wide. For drivers that run several
/// simulations at once in one pool (sweeps, calibration): there every worker has a run of its
/// own, and a worker spinning for one run would hold up another.
pub fn without_hot_workers<R>(f: impl FnOnce() -> R) -> R {
    SUPPRESSED.fetch_add(1, Ordering::AcqRel);
    let _restore = Unsuppress;
    f()
}

/// Sets the flag when dropped, so spinning workers stop even if the caller panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Run `f` on the current thread while the other workers of the current rayon pool busy-wait for
/// work (executing any job the current thread's parallel loops offer) instead of going to sleep.
///
/// Outside a rayon pool, in a pool of one thread, or inside [`without_hot_workers`], this is just
/// `f()`. The other workers use a
/// full core each until `f` returns, so use it around loops of many short parallel steps, not
/// around long sequential work. Costs one wake-up (~50 µs) per call.
pub fn with_hot_workers<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let n = rayon::current_num_threads();
    let Some(me) = rayon::current_thread_index() else {
        return f();
    };
    if n <= 1 || SUPPRESSED.load(Ordering::Acquire) > 0 {
        return f();
    }
    let stop = AtomicBool::new(false);
    rayon::scope(|s| {
        for _ in 1..n {
            let stop = &stop;
            s.spawn(move |_| {
                // A spinner picked up by the calling thread itself (while it waits inside one of
                // its own parallel loops) must not spin: only `f` can stop it.
                if rayon::current_thread_index() == Some(me) {
                    return;
                }
                while !stop.load(Ordering::Acquire) {
                    match rayon::yield_now() {
                        Some(rayon::Yield::Executed) => {}
                        _ => std::hint::spin_loop(),
                    }
                }
            });
        }
        let _stop = StopOnDrop(&stop);
        f()
    })
}

/// The crate's one shared-mutable abstraction: a slice that parallel tasks read and write through
/// `unsafe` [`SharedSlice::get`] / [`SharedSlice::set`], under the contract that no element is
/// written by one task while another task reads or writes it. Two users:
/// - the DEM force loop (`dem::forces`): each task owns the pairs of its slab;
/// - the red–black Gauss–Seidel sweeps of the voxel solver (`solvers::voxel`): each task writes
///   the cells of one colour in its own plane and reads only cells of the other colour.
///
/// Every access is bounds-checked (a wrong index panics instead of corrupting memory); only the
/// exclusivity is the caller's promise. Send the slice's element type across threads only.
pub struct SharedSlice<'a, T> {
    ptr: *mut T,
    len: usize,
    _life: std::marker::PhantomData<&'a mut [T]>,
}
// SAFETY: tasks access the slice only through `get` and `set`, each index from one task at most
// (their contract), and the slice stays mutably borrowed for the wrapper's lifetime.
unsafe impl<T: Send> Sync for SharedSlice<'_, T> {}
impl<'a, T: Copy> SharedSlice<'a, T> {
    /// Wraps `s` for the lifetime of the borrow.
    pub fn new(s: &'a mut [T]) -> Self {
        SharedSlice {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _life: std::marker::PhantomData,
        }
    }

    /// The element at `k`.
    ///
    /// # Safety
    /// No other task accesses index `k` while the wrapper lives.
    #[inline(always)]
    pub unsafe fn get(&self, k: usize) -> T {
        assert!(k < self.len, "index {k} out of {}", self.len);
        // SAFETY: in bounds (checked); exclusive by the caller's contract.
        unsafe { *self.ptr.add(k) }
    }

    /// Set the element at `k`.
    ///
    /// # Safety
    /// As for [`SharedSlice::get`].
    #[inline(always)]
    pub unsafe fn set(&self, k: usize, v: T) {
        assert!(k < self.len, "index {k} out of {}", self.len);
        // SAFETY: in bounds (checked); exclusive by the caller's contract.
        unsafe { *self.ptr.add(k) = v }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn hot_workers_return_the_closure_result_with_parallel_loops_inside_on_any_pool_size() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let sum = pool.install(|| {
                with_hot_workers(|| {
                    let mut total = 0u64;
                    for k in 0..200u64 {
                        total += (0..1000u64).into_par_iter().map(|x| x * k).sum::<u64>();
                    }
                    total
                })
            });
            assert_eq!(sum, 499_500 * (0..200u64).sum::<u64>(), "{threads} threads");
        }
        // Outside any pool: plain call.
        assert_eq!(with_hot_workers(|| 7), 7);
    }

    #[test]
    fn hot_workers_stop_when_the_closure_panics() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let r = pool.install(|| std::panic::catch_unwind(|| with_hot_workers(|| panic!("boom"))));
        assert!(r.is_err());
    }
}
