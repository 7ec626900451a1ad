//! Data availability (Fulu's `is_data_available`): a block that commits to blobs is imported
//! only once the node holds every data column it custodies for that block. Columns come from
//! gossip, already checked by the verify stage (KZG cell proofs, the commitments' inclusion
//! proof, the header's proposer signature), before or after their block. A block whose columns
//! are still missing is parked here (bounded in number and age) and imported by the column
//! that completes it.

use crate::chain::{Chain, ImportOutcome, Write};
use crate::error::CoreError;
use keel_pipeline_api::PayloadStatus;
use keel_types::electra::SignedBeaconBlock;
use keel_types::fulu::DataColumnSidecar;
use keel_types::{Hash256, Preset, Slot};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Blocks waiting for columns, at most.
const MAX_PARKED: usize = 64;
/// Blocks and columns older than this many slots are let go (a block that waited this long
/// is no candidate for the head; range sync brings it again with its columns).
const RETAIN_SLOTS: u64 = 32;

/// The columns seen for one block, by index, with the block's slot (for expiry).
type SeenColumns<P> = (Slot, BTreeMap<u64, Arc<DataColumnSidecar<P>>>);

/// A block waiting for its columns, with what its import needs.
#[derive(Debug)]
pub(crate) struct Parked<P: Preset> {
    pub block: Arc<SignedBeaconBlock<P>>,
    pub payload: PayloadStatus,
    pub seen_at_ms: Option<u64>,
}

/// The node's custody set, the recent columns it has seen, and the blocks waiting on them.
#[derive(Debug)]
pub(crate) struct DataAvailability<P: Preset> {
    /// Column indices the node custodies (sorted); empty: no network, nothing to sample.
    custody: Vec<u64>,
    columns: HashMap<Hash256, SeenColumns<P>>,
    parked: HashMap<Hash256, (Slot, Parked<P>)>,
}

impl<P: Preset> Default for DataAvailability<P> {
    fn default() -> Self {
        Self {
            custody: Vec::new(),
            columns: HashMap::new(),
            parked: HashMap::new(),
        }
    }
}

impl<P: Preset> DataAvailability<P> {
    /// Whether every custody column of `root` is at hand (in memory or, after a restart, in
    /// the store).
    fn is_available(&self, root: &Hash256, stored: impl Fn(u64) -> bool) -> bool {
        let seen = self.columns.get(root).map(|(_, columns)| columns);
        self.custody
            .iter()
            .all(|index| seen.is_some_and(|c| c.contains_key(index)) || stored(*index))
    }

    /// Forgets blocks and columns older than [`RETAIN_SLOTS`] before `current_slot`.
    pub fn expire(&mut self, current_slot: Slot) {
        let floor = current_slot.saturating_sub(RETAIN_SLOTS);
        self.columns.retain(|_, (slot, _)| *slot >= floor);
        self.parked.retain(|_, (slot, _)| *slot >= floor);
    }
}

impl<P: Preset> Chain<P> {
    /// The columns this node custodies (from its node id and custody group count).
    pub fn set_custody_columns(&mut self, mut columns: Vec<u64>) {
        columns.sort_unstable();
        columns.dedup();
        self.availability.custody = columns;
    }

    /// `is_data_available` for a block: no commitments, or every custody column at hand.
    pub(crate) fn is_data_available(&self, block: &SignedBeaconBlock<P>, root: &Hash256) -> bool {
        if block.message.body.blob_kzg_commitments.is_empty() {
            return true;
        }
        let read = self.store.read().ok();
        self.availability.is_available(root, |index| {
            read.as_ref()
                .and_then(|r| r.data_column(root, index).ok().flatten())
                .is_some()
        })
    }

    /// Parks a block whose columns are missing; the oldest parked block makes room.
    pub(crate) fn park(&mut self, root: Hash256, parked: Parked<P>) {
        let slot = parked.block.message.slot;
        if self.availability.parked.len() >= MAX_PARKED
            && let Some(oldest) = self
                .availability
                .parked
                .iter()
                .min_by_key(|(root, (slot, _))| (*slot, **root))
                .map(|(root, _)| *root)
        {
            self.availability.parked.remove(&oldest);
        }
        self.availability.parked.insert(root, (slot, parked));
    }

    /// A verified column: kept (and stored with the next commit); if it completes a parked
    /// block, that block is imported now.
    pub fn on_data_column(
        &mut self,
        sidecar: Arc<DataColumnSidecar<P>>,
        block_root: Hash256,
    ) -> Result<Option<ImportOutcome>, CoreError> {
        let slot = sidecar.signed_block_header.message.slot;
        let index = sidecar.index;
        let entry = self
            .availability
            .columns
            .entry(block_root)
            .or_insert_with(|| (slot, BTreeMap::new()));
        if entry.1.insert(index, Arc::clone(&sidecar)).is_some() {
            return Ok(None);
        }
        self.writes
            .push(Write::DataColumn(block_root, index, sidecar));
        let ready = self
            .availability
            .parked
            .get(&block_root)
            .is_some_and(|(_, parked)| self.is_data_available(&parked.block, &block_root));
        if !ready {
            return Ok(None);
        }
        let Some((_, parked)) = self.availability.parked.remove(&block_root) else {
            return Ok(None);
        };
        self.import_block(parked.block, block_root, parked.payload, parked.seen_at_ms)
            .map(Some)
    }
}
