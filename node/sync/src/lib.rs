//! Sync: brings the node from its anchor (genesis or a checkpoint) to the network's head and
//! its history back to the oldest block peers must serve.
//!
//! - **Range sync**: forward from the local head in batches of slots, downloaded from several
//!   peers at once (`BeaconBlocksByRange`) and imported strictly in order.
//! - **Lookups**: a peer's head (or a batch's parent) the chain does not know is fetched by root
//!   (`BeaconBlocksByRoot`), walking parents back until a known block, then imported oldest
//!   first. This is how a node on a losing fork, or one that missed a gossip block, catches up.
//! - **Backfill**: below the anchor, newest first, down to the spec's
//!   `compute_min_epochs_for_block_requests()` window (genesis on a young chain).
//! - Peers' Status is refreshed periodically; progress is logged with slots/s and an ETA.
//!
//! Inputs: peer events and req/resp answers through [`SyncNetwork`]. Outputs: blocks handed to
//! the node through [`SyncChain`], and penalties for peers whose answers are not what was asked
//! (wrong slots, undecodable, a block the chain refuses as invalid).
//! Must not: judge a block itself, write to the store, or run the state transition. Whether a
//! block is valid is the chain's answer; this crate only checks that an answer matches its
//! request, and decides whom to ask next.

mod blocks;
mod progress;
mod service;

pub use blocks::{ContextTable, ResponseFault};
pub use service::SyncService;

use keel_config::ChainConfig;
use keel_p2p::{Chunk, Family, NetworkHandle, Offence};
use keel_pipeline_api::PeerTag;
use keel_types::fulu::StatusV2;
use keel_types::{Hash256, Preset, SignedBeaconBlock, Slot};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Metric names.
pub mod metric {
    pub const STATE: &str = "keel_sync_state";
    pub const TARGET_SLOT: &str = "keel_sync_target_slot";
    pub const BLOCKS_IMPORTED: &str = "keel_sync_blocks_imported_total";
    pub const BATCHES_FAILED: &str = "keel_sync_batches_failed_total";
    pub const BACKFILL_SLOT: &str = "keel_sync_backfill_slot";
    pub const BACKFILL_BLOCKS: &str = "keel_sync_backfill_blocks_total";
    pub const LOOKUPS: &str = "keel_sync_lookups_total";
}

/// What sync needs to know of the local chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalChain {
    pub head_slot: Slot,
    pub head_root: Hash256,
    /// The slot of the finalized checkpoint's block: peers' heads below it are not looked up.
    pub finalized_slot: Slot,
    /// The wall-clock slot: peers claiming a head beyond it are not believed.
    pub current_slot: Slot,
    pub genesis_validators_root: Hash256,
}

/// The oldest block the node holds (see the core's backfill).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frontier {
    pub slot: Slot,
    pub parent_root: Hash256,
}

/// Why the chain did not take a block.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    /// The block breaks a consensus rule: whoever sent it is to blame.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The block's parent is not known: fetch it first.
    #[error("unknown parent {0}")]
    UnknownParent(Hash256),
    /// The block commits to blobs and the node does not hold its custody columns yet: nobody
    /// is to blame; the block waits in the chain for them.
    #[error("waiting for data columns of {0}")]
    AwaitingData(Hash256),
    /// The node's own failure (database, a stopped core): nobody is to blame, stop for now.
    #[error("internal: {0}")]
    Internal(String),
}

/// The node as sync sees it. Imports go through the execution engine and the core; sync waits
/// for each verdict so that it imports in order and knows whom to blame.
pub trait SyncChain<P: Preset>: Send + Sync + 'static {
    fn local(&self) -> LocalChain;
    /// The node's own Status, sent when asking peers for theirs.
    fn status(&self) -> StatusV2;
    fn has_block(&self, root: &Hash256) -> bool;
    /// The oldest stored block; `None` when the node has no anchor block.
    fn frontier(&self) -> Option<Frontier>;
    /// Imports one block whose parent the chain should know.
    fn import(
        &self,
        block: Arc<SignedBeaconBlock<P>>,
        root: Hash256,
    ) -> impl Future<Output = Result<(), ImportError>> + Send;
    /// Stores history below the frontier (oldest first); the chain checks that it chains to
    /// the frontier and that the proposers signed it.
    fn backfill(
        &self,
        blocks: Vec<Arc<SignedBeaconBlock<P>>>,
    ) -> impl Future<Output = Result<Frontier, ImportError>> + Send;
}

/// The network as sync sees it: requests and penalties.
pub trait SyncNetwork: Clone + Send + Sync + 'static {
    fn request(
        &self,
        peer: PeerTag,
        family: Family,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<Chunk>, String>> + Send;
    fn penalise(&self, peer: PeerTag, offence: Offence);
}

impl SyncNetwork for NetworkHandle {
    async fn request(
        &self,
        peer: PeerTag,
        family: Family,
        body: Vec<u8>,
    ) -> Result<Vec<Chunk>, String> {
        NetworkHandle::request(self, peer, family, body)
            .await
            .map_err(|e| e.to_string())
    }

    fn penalise(&self, peer: PeerTag, offence: Offence) {
        NetworkHandle::penalise(self, peer, offence);
    }
}

/// How sync paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Slots per range-sync and backfill request.
    pub batch_slots: u64,
    /// Range-sync batches downloading at once.
    pub max_in_flight: usize,
    /// How often every peer is asked for a fresh Status.
    pub status_interval: Duration,
    /// How often the plan is revisited while idle.
    pub tick: Duration,
    /// How far back a lookup walks parents before giving up (a longer fork is range-synced).
    pub max_lookup_depth: usize,
    /// Epochs of history to backfill: `compute_min_epochs_for_block_requests()`.
    pub backfill_epochs: u64,
    pub slots_per_epoch: u64,
    /// Whether to backfill at all.
    pub backfill: bool,
    /// Blocks per request, at most (`MAX_REQUEST_BLOCKS_DENEB`).
    pub max_request_blocks: u64,
}

impl SyncConfig {
    pub fn new<P: Preset>(config: &ChainConfig) -> Self {
        let slots_per_epoch = P::slots_per_epoch();
        Self {
            batch_slots: (2 * slots_per_epoch).min(config.max_request_blocks_deneb.max(1)),
            max_in_flight: 4,
            status_interval: Duration::from_millis(config.slot_duration_ms.max(1000) * 2),
            tick: Duration::from_millis(config.slot_duration_ms.clamp(250, 2000) / 2),
            max_lookup_depth: 2 * slots_per_epoch as usize,
            backfill_epochs: compute_min_epochs_for_block_requests(config),
            slots_per_epoch,
            backfill: true,
            max_request_blocks: config.max_request_blocks_deneb.max(1),
        }
    }
}

/// The spec's `compute_min_epochs_for_block_requests()`: how far back peers must serve blocks,
/// and so how far back backfill goes.
pub fn compute_min_epochs_for_block_requests(config: &ChainConfig) -> u64 {
    config
        .min_validator_withdrawability_delay
        .saturating_add(config.churn_limit_quotient / 2)
}

#[cfg(test)]
mod tests;
