//! Keel's fork choice: the consensus spec's fork-choice `Store` (phase0 → Fulu, at
//! v1.7.0-alpha.13) as a proto-array.
//!
//! Owns: the block tree since finalization ([`ProtoArray`]: per block its realized and
//! unrealized checkpoints, execution status, timeliness, subtree weight, best child and best
//! descendant), the latest messages and equivocating indices ([`VoteTracker`]), the store's time,
//! checkpoints and proposer boost ([`ForkChoice`]), and the re-org helpers
//! (`get_proposer_head`, `should_override_forkchoice_update`).
//!
//! Inputs: time through [`ForkChoice::on_tick`]; blocks as a [`BlockSummary`] plus the facts of
//! their already-computed post-state ([`BlockFacts`]: realized and pulled-up checkpoints, payload
//! verdict, data availability, arrival time); attestations as `AttestationData` plus attesting
//! indices, already checked for signature validity against the target state; attester slashings
//! as their two index lists; the justified checkpoint state's balances
//! ([`JustifiedBalances`]) whenever the justified checkpoint moves. Outputs: the head
//! ([`ForkChoice::get_head`]), checkpoints, weights, the proposer head, and typed refusals
//! ([`Error`], with a [`Disposition`] for messages).
//!
//! Must not: perform I/O, read clocks, spawn threads, or run the state transition (the caller
//! runs it and hands over the facts). Same inputs, same outputs.
//!
//! Invariants:
//! - A node's parent precedes it in the proto-array, so one backwards pass settles weights,
//!   viability and best descendants ([`ProtoArray::apply_score_changes`]).
//! - Node weights equal the spec's `get_weight` after every head computation: each validator's
//!   weight sits on exactly one node (its latest message's block), weighed with the justified
//!   balances; equivocators and INVALID branches weigh nothing; the proposer score sits on the
//!   boosted block.
//! - Viability is the spec's `filter_block_tree`: a leaf is viable iff its voting source
//!   (`get_voting_source`: pulled-up justification for blocks from a past epoch, realized
//!   otherwise) has the store's justified epoch or is at most two epochs old, and it descends
//!   from the finalized checkpoint; an inner node iff one of its children is.
//! - A handler that returns an error has not changed the store.
//! - Arithmetic is checked and indexing goes through `get`.
//!
//! Where it sits: owned and mutated only by the node's single-writer core (`on_*`, `apply_*`,
//! `get_head`, pruning). The `validate_*` methods take `&self` and may run in the verification
//! stage against a snapshot; the core re-validates when applying (`on_*`), or applies a
//! validated message with `apply_attestation`.

#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod config;
pub mod error;
pub mod persistence;
pub mod proposer_head;
pub mod proto_array;
pub mod store;
pub mod votes;

pub use config::{DEFAULT_PRUNE_THRESHOLD, ForkChoiceConfig};
pub use error::{AttestationError, BlockError, Disposition, Error, InputError, InternalError};
pub use persistence::Persisted;
pub use proposer_head::ReorgConditions;
pub use proto_array::{ExecutionStatus, ProtoArray, ProtoNode, ViabilityContext};
pub use store::{Anchor, BlockFacts, BlockOutcome, BlockSummary, ForkChoice, LatestMessage};
pub use votes::{JustifiedBalances, VoteTracker};

#[cfg(test)]
mod tests;
