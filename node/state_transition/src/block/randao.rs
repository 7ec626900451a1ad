//! `process_randao`.

use super::{BlockContext, OperationError, check_signature};
use crate::accessors::{get_current_epoch, get_randao_mix, get_validator};
use crate::error::Error;
use crate::math::{SafeArith, to_usize};
use crate::signature_sets::{SignatureOrigin, randao_set};
use crate::state::PostElectraState;
use ethereum_hashing::hash_fixed;
use keel_types::electra::BeaconBlockBody;
use keel_types::{Bytes32, Preset};

/// `process_randao`: verify the reveal (by the context's mode) and mix it in.
pub fn process_randao<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    body: &BeaconBlockBody<P>,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let epoch = get_current_epoch(state);
    // Verify RANDAO reveal
    let proposer_index = ctx.proposer_index(state)?;
    get_validator(state, proposer_index)?;
    {
        let state: &S = state;
        check_signature(ctx, SignatureOrigin::Randao, |pubkeys| {
            randao_set(state, pubkeys, proposer_index, &body.randao_reveal)
        })?;
    }
    // Mix in RANDAO reveal
    let reveal_hash = hash_fixed(body.randao_reveal.as_ref());
    let mut mix = get_randao_mix(state, epoch)?;
    for (byte, other) in mix.0.iter_mut().zip(reveal_hash) {
        *byte ^= other;
    }
    let position = to_usize(epoch.safe_rem(P::epochs_per_historical_vector())?)?;
    let mixes = state.randao_mixes_mut();
    let len = mixes.len();
    let slot: &mut Bytes32 = mixes
        .get_mut(position)
        .ok_or_else(|| Error::index("randao_mixes", position, len))?;
    *slot = mix;
    Ok(())
}
