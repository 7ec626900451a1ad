//! `state_transition` within one post-Electra fork: `process_slots` up to the block's slot,
//! `verify_block_signature` and `process_block` (one signature batch in `Batch` mode), then the
//! block's state root. Crossing a fork boundary (Electra → Fulu) changes the state's type and
//! is the fork-generic driver's job (process slots to the boundary, upgrade, continue here).

use super::{BlockError, BlockState, ExecutionEngine, SignatureStrategy, process_signed_block};
use crate::cache::Caches;
use crate::pubkey_cache::PubkeyCache;
use crate::slot::process_slots;
use keel_config::ChainConfig;
use keel_types::Preset;
use keel_types::electra::SignedBeaconBlock;

/// The spec's `state_transition(state, signed_block, validate_result=True)`: the block's
/// signature is checked by `signatures`' mode, its state root always.
///
/// On error the state is partially updated and must be discarded.
#[allow(clippy::too_many_arguments)]
pub fn state_transition<P: Preset, S: BlockState<P>>(
    state: &mut S,
    signed_block: &SignedBeaconBlock<P>,
    config: &ChainConfig,
    caches: &mut Caches,
    pubkeys: &mut PubkeyCache,
    engine: &dyn ExecutionEngine<P>,
    signatures: SignatureStrategy<'_>,
) -> Result<(), BlockError> {
    process_slots(state, config, caches, signed_block.message.slot).map_err(BlockError::Slots)?;
    apply_block(
        state,
        signed_block,
        config,
        caches,
        pubkeys,
        engine,
        signatures,
    )
}

/// The block steps of `state_transition` on a state already at the block's slot: the block's
/// signature (per `signatures`' mode), `process_block`, then the block's state root.
#[allow(clippy::too_many_arguments)]
pub fn apply_block<P: Preset, S: BlockState<P>>(
    state: &mut S,
    signed_block: &SignedBeaconBlock<P>,
    config: &ChainConfig,
    caches: &mut Caches,
    pubkeys: &mut PubkeyCache,
    engine: &dyn ExecutionEngine<P>,
    signatures: SignatureStrategy<'_>,
) -> Result<(), BlockError> {
    process_signed_block(
        state,
        signed_block,
        config,
        caches,
        pubkeys,
        engine,
        signatures,
    )?;
    state
        .apply_pending_updates()
        .map_err(BlockError::StateRoot)?;
    let computed = state.tree_hash_root();
    if signed_block.message.state_root != computed {
        return Err(BlockError::StateRootMismatch {
            block: signed_block.message.state_root,
            computed,
        });
    }
    Ok(())
}
