//! Slot processing: `process_slots` and `process_slot`, generic over [`PostElectraState`].
//!
//! These advance a state within its fork. Crossing a fork boundary (Electra → Fulu at
//! `FULU_FORK_EPOCH`) changes the state's type; that is the job of the fork-generic driver
//! (upgrade functions), which calls [`process_slots`] up to the boundary.

use crate::cache::Caches;
use crate::epoch::process_epoch;
use crate::error::{Error, Result};
use crate::math::{SafeArith, to_usize};
use crate::state::PostElectraState;
use keel_config::ChainConfig;
use keel_types::tree_hash::TreeHash;
use keel_types::{Preset, Root, Slot};

/// `process_slots`: run `process_slot` (and `process_epoch` at each epoch's last slot) until
/// `state.slot == slot`. Requires `state.slot < slot`.
pub fn process_slots<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    caches: &mut Caches,
    slot: Slot,
) -> Result<()> {
    if state.slot() >= slot {
        return Err(Error::SlotNotAfterState {
            target: slot,
            state_slot: state.slot(),
        });
    }
    while state.slot() < slot {
        process_slot(state)?;
        // Process epoch on the start slot of the next epoch
        let next_slot = state.slot().safe_add(1)?;
        if next_slot.safe_rem(P::slots_per_epoch())? == 0 {
            process_epoch(state, config, caches)?;
        }
        *state.slot_mut() = next_slot;
    }
    Ok(())
}

/// `process_slot`: cache the previous state root (and fill it into the latest block header if
/// unset) and the previous block root.
pub fn process_slot<P: Preset, S: PostElectraState<P>>(state: &mut S) -> Result<()> {
    // Cache state root
    state.apply_pending_updates()?;
    let previous_state_root = state.tree_hash_root();
    let position = to_usize(state.slot().safe_rem(P::slots_per_historical_root())?)?;
    set_root(
        state.state_roots_mut(),
        "state_roots",
        position,
        previous_state_root,
    )?;
    // Cache latest block header state root
    if state.latest_block_header().state_root == Root::ZERO {
        state.latest_block_header_mut().state_root = previous_state_root;
    }
    // Cache block root
    let previous_block_root = state.latest_block_header().tree_hash_root();
    set_root(
        state.block_roots_mut(),
        "block_roots",
        position,
        previous_block_root,
    )
}

fn set_root<N: keel_types::typenum::Unsigned>(
    roots: &mut keel_types::milhouse::Vector<Root, N>,
    list: &'static str,
    position: usize,
    root: Root,
) -> Result<()> {
    let len = roots.len();
    *roots
        .get_mut(position)
        .ok_or_else(|| Error::index(list, position, len))? = root;
    Ok(())
}
