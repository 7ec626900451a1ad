//! Keel's state transition: the consensus spec's pure functions.
//!
//! Owns: spec functions, named as in the spec, with shared helpers beside per-fork modules.
//! Inputs are states, blocks, presets (`P: Preset`) and the chain config (`&ChainConfig`);
//! outputs are new states or typed errors ([`Error`]).
//! Must not: perform I/O, read clocks, spawn threads or depend on the store, p2p, api or pipeline
//! crates. Same input, same output, byte for byte. Parallelism: summing a large aggregate
//! attestation's keys ([`pubkey_cache::PubkeyCache::aggregate`]) splits the work in two with
//! `rayon::join`, which runs on the caller's rayon pool or rayon's global pool (the one
//! milhouse's tree hashing already uses); no thread or pool of its own, and the sum does not
//! depend on the split.
//!
//! Layout (Electra and later; the functions are generic over the fork):
//!
//! - [`state`]: the fork abstraction. [`PostElectraState<P>`] is implemented by Electra's and
//!   Fulu's `BeaconState`; its accessors ([`PostElectraFields`]) are generated from one field
//!   list, and what differs by fork (proposer selection, the proposer lookahead, the Eth1
//!   bridge) is an associated item. [`PostFuluState`] adds Fulu's own fields.
//! - [`accessors`], [`predicates`], [`mutators`], [`math`]: the spec's helpers
//!   (`get_*`, `compute_*`, `is_*`, `has_*`, balance and exit mutators, deposits,
//!   `integer_squareroot`, checked arithmetic through [`math::SafeArith`]).
//! - [`cache`]: caller-owned derived data ([`Caches`]: per-epoch committee shufflings keyed by
//!   `(epoch, seed)`, and the total active balance with the effective balances keyed by
//!   `(epoch, hash_tree_root(validators))`, so that they cannot disagree with the state).
//! - [`epoch`]: `process_epoch` and each of its sub-steps; [`slot`]: `process_slots`,
//!   `process_slot`.
//! - [`transition_across_forks`]: `process_slots` and `state_transition` across a fork
//!   boundary (upgrading the state at the fork's first slot).
//! - [`shuffling`], [`merkle`]: swap-or-not shuffling and Merkle proofs.
//! - [`electra`], [`fulu`]: each fork's own functions (Electra's blob-sidecar checks; the
//!   `das-core.md` custody helpers and the data-column checks).
//! - [`held_state`]: Electra states held in Fulu's container (what the snapshot's readers hold),
//!   and [`held_state::StateFork`], the rules that still differ between the two.
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

pub mod accessors;
pub mod block;
pub mod cache;
pub mod electra;
pub mod epoch;
pub mod error;
pub mod fulu;
pub mod genesis;
pub mod held_state;
pub mod math;
pub mod merkle;
pub mod mutators;
pub mod predicates;
pub mod pubkey_cache;
pub mod shuffling;
pub mod signature_sets;
pub mod slot;
pub mod state;
pub mod subnets;
pub mod transition_across_forks;
pub mod upgrade;

pub use cache::{Caches, CommitteeCache, EpochBalances};
pub use error::{ArithError, Error, Result};
pub use shuffling::{ShufflingError, compute_shuffled_index, shuffle_list};
pub use state::{PostElectraFields, PostElectraState, PostFuluState, StateFields, StateFieldsMut};
