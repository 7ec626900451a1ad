//! Keel's state transition: the consensus spec's pure functions.
//!
//! Owns: spec functions, named as in the spec, with shared helpers beside per-fork modules.
//! Inputs are states, blocks and presets; outputs are new states or typed errors.
//! Must not: perform I/O, read clocks, spawn threads or depend on the store, p2p, api or pipeline
//! crates. Same input, same output, byte for byte.
//!
//! Arithmetic on input-derived values is checked; indexing goes through `get`. Where a hot loop
//! needs plain arithmetic, the function carries a local `allow` with the invariant that makes it
//! safe.

#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod merkle;
pub mod shuffling;

pub use shuffling::{ShufflingError, compute_shuffled_index, shuffle_list};
