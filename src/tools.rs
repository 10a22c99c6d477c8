//! Tools apart from the product: the demo dataset (loaded through the real code paths) and
//! the load generators and timers of `perf/` (cargo feature `bench`).

#[cfg(feature = "bench")]
pub mod bench;
pub mod demo;
