//! The single writer: the one thread that changes consensus state.
//!
//! Owns: the [`Chain`] (fork choice, the post-states of the blocks it holds, the operation
//! pool), the order in which verified inputs are applied, the store commits (one LMDB write
//! transaction per batch) and the [`keel_pipeline_api::Snapshot`]s readers load.
//! Inputs: [`CoreInput`]s — only verify-stage outputs (`keel_verify::Verified*`), the
//! execution engine's verdicts and clock ticks — through the priority queues of `keel-queue`.
//! Outputs: the database, snapshots and chain events.
//! Must not: do network or engine I/O, read the clock (time arrives as [`CoreInput::Tick`]), or
//! wait on readers. Same inputs in the same order give the same database contents and the same
//! snapshots.

mod chain;
mod core;
mod error;
mod op_pool;

pub use crate::core::{CoreHandle, CoreInput, apply, metric, publish, spawn};
pub use chain::backfill::{Frontier, frontier as backfill_frontier};
pub use chain::{Chain, ChainAnchor, ImportOutcome, genesis_block, meta};
pub use error::CoreError;
pub use op_pool::OperationPool;
