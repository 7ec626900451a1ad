//! Fixtures shared by Keel's criterion benchmarks (`benches/`). Performance targets live here and
//! in `loadtest/`, never in timed unit tests; measured results go to `BENCHMARKS.md`.
