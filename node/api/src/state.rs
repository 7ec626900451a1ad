//! Resolving state and block ids against one snapshot and, for what the snapshot does not hold,
//! one store read transaction.

use std::sync::Arc;

use keel_pipeline_api::Snapshot;
use keel_state_transition::accessors::compute_start_slot_at_epoch;
use keel_store::Store;
use keel_types::{BeaconState, Hash256, Preset, SignedBeaconBlock, Slot, fulu};

use crate::error::RequestError;
use crate::ids::{BlockId, StateId};

/// A state found for a `state_id`, with what the envelope says about it.
pub struct ResolvedState<P: Preset> {
    pub state: Arc<fulu::BeaconState<P>>,
    pub state_root: Hash256,
    pub execution_optimistic: bool,
    pub finalized: bool,
}

/// A block found for a `block_id`.
pub struct ResolvedBlock<P: Preset> {
    pub root: Hash256,
    pub block: SignedBeaconBlock<P>,
    pub canonical: bool,
    pub execution_optimistic: bool,
    pub finalized: bool,
}

/// The first slot of the finalized epoch: states and blocks at or below it on the canonical
/// chain are final.
fn finalized_slot<P: Preset>(snapshot: &Snapshot<P>) -> Slot {
    compute_start_slot_at_epoch::<P>(snapshot.finalized.epoch).unwrap_or(Slot::MAX)
}

/// A checkpoint root as fork choice means it: the genesis checkpoint carries a zero root in the
/// state, which stands for the genesis block.
fn checkpoint_block_root<P: Preset>(snapshot: &Snapshot<P>, root: Hash256) -> Hash256 {
    if root.is_zero() {
        snapshot.genesis_block_root
    } else {
        root
    }
}

fn not_found_state() -> RequestError {
    RequestError::not_found("state not found")
}

fn not_found_block() -> RequestError {
    RequestError::not_found("block not found")
}

/// The canonical state root at `slot`, from the head state's `state_roots` history when the
/// slot is within it.
fn canonical_state_root<P: Preset>(snapshot: &Snapshot<P>, slot: Slot) -> Option<Hash256> {
    if slot == snapshot.head.slot {
        return Some(snapshot.head.state_root);
    }
    let head = snapshot.head_state()?;
    let history = P::slots_per_historical_root();
    if slot > head.state.slot || head.state.slot.saturating_sub(slot) > history {
        return None;
    }
    let index = usize::try_from(slot % history).ok()?;
    head.state.state_roots.get(index).copied()
}

/// The post-state of the block `block_root`: from the snapshot, else the store.
fn state_of_block<P: Preset>(
    snapshot: &Snapshot<P>,
    store: &Store<P>,
    block_root: Hash256,
) -> Result<(Arc<fulu::BeaconState<P>>, Hash256), RequestError> {
    if let Some(entry) = snapshot.state_by_block_root(&block_root) {
        return Ok((entry.state.clone(), entry.state_root));
    }
    let read = store.read()?;
    let block = read.block(&block_root)?.ok_or_else(not_found_state)?;
    let state_root = block.message().state_root();
    let state = read.state(&state_root)?.ok_or_else(not_found_state)?;
    Ok((fulu_state(state)?, state_root))
}

/// The state `state_root`: from the snapshot, else the store.
fn state_by_root<P: Preset>(
    snapshot: &Snapshot<P>,
    store: &Store<P>,
    state_root: Hash256,
) -> Result<Arc<fulu::BeaconState<P>>, RequestError> {
    if let Some(entry) = snapshot.state_by_state_root(&state_root) {
        return Ok(entry.state.clone());
    }
    let state = store
        .read()?
        .state(&state_root)?
        .ok_or_else(not_found_state)?;
    fulu_state(state)
}

/// The node serves Fulu states only (it runs Fulu from genesis); an older state in the store is
/// reported as not held rather than mis-shaped.
fn fulu_state<P: Preset>(state: BeaconState<P>) -> Result<Arc<fulu::BeaconState<P>>, RequestError> {
    match state {
        BeaconState::Fulu(state) => Ok(Arc::new(state)),
        other => Err(RequestError::not_found(format!(
            "state not found (a {} state; only Fulu states are served)",
            other.fork_name()
        ))),
    }
}

pub fn resolve_state<P: Preset>(
    snapshot: &Snapshot<P>,
    store: &Store<P>,
    id: StateId,
) -> Result<ResolvedState<P>, RequestError> {
    let (state, state_root) = match id {
        StateId::Head => {
            let entry = snapshot
                .head_state()
                .ok_or_else(|| RequestError::internal("the snapshot lacks the head state"))?;
            (entry.state.clone(), entry.state_root)
        }
        StateId::Genesis => state_of_block(snapshot, store, snapshot.genesis_block_root)?,
        StateId::Finalized => state_of_block(
            snapshot,
            store,
            checkpoint_block_root(snapshot, snapshot.finalized.root),
        )?,
        StateId::Justified => state_of_block(
            snapshot,
            store,
            checkpoint_block_root(snapshot, snapshot.justified.root),
        )?,
        StateId::Slot(slot) => {
            if slot > snapshot.head.slot {
                return Err(not_found_state());
            }
            let state_root = match canonical_state_root(snapshot, slot) {
                Some(root) => root,
                None => {
                    // Older than the head state's history: the canonical block at that slot
                    // (if the slot was not skipped) names its post-state.
                    let read = store.read()?;
                    let block_root = read.block_root_at_slot(slot)?.ok_or_else(not_found_state)?;
                    let block = read.block(&block_root)?.ok_or_else(not_found_state)?;
                    if block.slot() != slot {
                        return Err(not_found_state());
                    }
                    block.message().state_root()
                }
            };
            (state_by_root(snapshot, store, state_root)?, state_root)
        }
        StateId::Root(root) => (state_by_root(snapshot, store, root)?, root),
    };
    let finalized = state.slot <= finalized_slot(snapshot)
        && canonical_state_root(snapshot, state.slot).is_none_or(|r| r == state_root);
    Ok(ResolvedState {
        execution_optimistic: snapshot.is_optimistic() && !finalized,
        finalized,
        state,
        state_root,
    })
}

/// The block root a `block_id` names (not yet checked against the store).
fn block_root<P: Preset>(
    snapshot: &Snapshot<P>,
    store: &Store<P>,
    id: BlockId,
) -> Result<Hash256, RequestError> {
    Ok(match id {
        BlockId::Head => snapshot.head.block_root,
        BlockId::Genesis => snapshot.genesis_block_root,
        BlockId::Finalized => checkpoint_block_root(snapshot, snapshot.finalized.root),
        BlockId::Justified => checkpoint_block_root(snapshot, snapshot.justified.root),
        BlockId::Slot(slot) if slot == snapshot.head.slot => snapshot.head.block_root,
        BlockId::Slot(slot) if slot > snapshot.head.slot => return Err(not_found_block()),
        BlockId::Slot(slot) => store
            .read()?
            .block_root_at_slot(slot)?
            .ok_or_else(not_found_block)?,
        BlockId::Root(root) => root,
    })
}

/// Whether `root` (a block at `slot`) is on the canonical chain.
pub fn is_canonical<P: Preset>(
    snapshot: &Snapshot<P>,
    store: &Store<P>,
    root: Hash256,
    slot: Slot,
) -> Result<bool, RequestError> {
    if slot > snapshot.head.slot {
        return Ok(false);
    }
    if slot == snapshot.head.slot {
        return Ok(root == snapshot.head.block_root);
    }
    Ok(store.read()?.block_root_at_slot(slot)? == Some(root))
}

pub fn resolve_block<P: Preset>(
    snapshot: &Snapshot<P>,
    store: &Store<P>,
    id: BlockId,
) -> Result<ResolvedBlock<P>, RequestError> {
    let root = block_root(snapshot, store, id)?;
    block_by_root(snapshot, store, root)?.ok_or_else(not_found_block)
}

/// The block `root` with its flags, if the store holds it.
pub fn block_by_root<P: Preset>(
    snapshot: &Snapshot<P>,
    store: &Store<P>,
    root: Hash256,
) -> Result<Option<ResolvedBlock<P>>, RequestError> {
    let Some(block) = store.read()?.block(&root)? else {
        return Ok(None);
    };
    let slot = block.slot();
    let canonical = is_canonical(snapshot, store, root, slot)?;
    let finalized = canonical && slot <= finalized_slot(snapshot);
    Ok(Some(ResolvedBlock {
        root,
        block,
        canonical,
        execution_optimistic: snapshot.is_optimistic() && !finalized,
        finalized,
    }))
}
