//! `process_block_header` and `verify_block_signature`.

use super::{BlockContext, OperationError, check_signature};
use crate::accessors::get_validator;
use crate::signature_sets::{SignatureOrigin, block_proposal_set};
use crate::state::PostElectraState;
use keel_types::electra::{BeaconBlock, BeaconBlockHeader};
use keel_types::tree_hash::TreeHash;
use keel_types::{Preset, Root, SignatureBytes};

/// `verify_block_signature`: the proposer's signature over the block (checked, batched or
/// skipped by the context's mode).
pub fn verify_block_signature<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    block: &BeaconBlock<P>,
    signature: &SignatureBytes,
    ctx: &mut BlockContext<'a>,
) -> Result<(), OperationError> {
    // `state.validators[proposer_index]` must exist whatever the mode.
    get_validator(state, block.proposer_index)?;
    check_signature(ctx, SignatureOrigin::BlockProposal, |pubkeys| {
        block_proposal_set(state, pubkeys, block, signature)
    })?;
    Ok(())
}

/// `process_block_header`.
pub fn process_block_header<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    block: &BeaconBlock<P>,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    // Verify that the slots match
    if block.slot != state.slot() {
        return Err(OperationError::SlotMismatch {
            block: block.slot,
            state: state.slot(),
        });
    }
    // Verify that the block is newer than latest block header
    let latest = state.latest_block_header();
    if block.slot <= latest.slot {
        return Err(OperationError::BlockNotNewer {
            block: block.slot,
            latest: latest.slot,
        });
    }
    // Verify that proposer index is the correct index
    let expected = ctx.proposer_index(state)?;
    if block.proposer_index != expected {
        return Err(OperationError::ProposerIndexMismatch {
            block: block.proposer_index,
            expected,
        });
    }
    // Verify that the parent matches
    let expected_parent = latest.tree_hash_root();
    if block.parent_root != expected_parent {
        return Err(OperationError::ParentRootMismatch {
            block: block.parent_root,
            expected: expected_parent,
        });
    }
    // Cache current block as the new latest block
    *state.latest_block_header_mut() = BeaconBlockHeader {
        slot: block.slot,
        proposer_index: block.proposer_index,
        parent_root: block.parent_root,
        // Overwritten in the next process_slot call
        state_root: Root::ZERO,
        body_root: block.body.tree_hash_root(),
    };

    // Verify proposer is not slashed
    if get_validator(state, block.proposer_index)?.slashed {
        return Err(OperationError::ProposerSlashed(block.proposer_index));
    }
    Ok(())
}
