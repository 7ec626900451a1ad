//! `process_sync_aggregate` (Altair; this spec version's form, which aggregates the fewer of
//! participants and non-participants — the same check as `eth_fast_aggregate_verify` over the
//! participants' keys).

use super::{BlockContext, OperationError, check_signature};
use crate::accessors::{
    compute_epoch_at_slot, get_base_reward_per_increment, get_block_root_at_slot, get_domain,
};
use crate::math::SafeArith;
use crate::mutators::{decrease_balance, increase_balance};
use crate::pubkey_cache::PubkeyCache;
use crate::signature_sets::{SetResult, SignatureError, SignatureOrigin, decode_signature};
use crate::state::PostElectraState;
use keel_config::compute_signing_root_from_root;
use keel_config::constants::{
    DOMAIN_SYNC_COMMITTEE, PROPOSER_WEIGHT, SYNC_REWARD_WEIGHT, WEIGHT_DENOMINATOR,
};
use keel_crypto::{PublicKey, SignatureSet};
use keel_types::electra::{SyncAggregate, SyncCommittee};
use keel_types::{Preset, Root, SignatureBytes, ValidatorIndex};
use std::borrow::Cow;

/// The sync aggregate's signature set: by the participants' keys over the previous slot's block
/// root. All members participating: the committee's `aggregate_pubkey`, as the spec uses it.
/// No participant: valid without a pairing iff the signature is the point at infinity.
pub fn sync_aggregate_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: &'a PubkeyCache,
    committee: &SyncCommittee<P>,
    committee_indices: &[ValidatorIndex],
    sync_aggregate: &SyncAggregate<P>,
    previous_slot: u64,
    previous_block_root: Root,
) -> SetResult<'a> {
    let bits = &sync_aggregate.sync_committee_bits;
    let participants = bits.num_set_bits() as u64;
    let signature = &sync_aggregate.sync_committee_signature;
    if participants == 0 {
        // eth_fast_aggregate_verify([], ..): true only for the point at infinity.
        return if *signature == SignatureBytes::infinity() {
            Ok(None)
        } else {
            Err(SignatureError::Invalid)
        };
    }
    let domain = get_domain(
        state,
        DOMAIN_SYNC_COMMITTEE,
        Some(compute_epoch_at_slot::<P>(previous_slot)),
    );
    let signing_root = compute_signing_root_from_root(previous_block_root, domain);
    let signature = decode_signature(signature)?;
    if participants == P::sync_committee_size() {
        // All members participated - use precomputed aggregate key
        let key = PublicKey::from_pubkey_bytes(&committee.aggregate_pubkey)
            .map_err(SignatureError::MalformedPubkey)?;
        return Ok(Some(SignatureSet::single_pubkey(
            signature,
            Cow::<PublicKey>::Owned(key),
            signing_root,
        )));
    }
    let participants: Vec<ValidatorIndex> = committee_indices
        .iter()
        .zip(bits.iter())
        .filter(|(_, bit)| *bit)
        .map(|(&index, _)| index)
        .collect();
    let keys = pubkeys.get_many(state, &participants)?;
    Ok(Some(SignatureSet::multiple_pubkeys(
        signature,
        keys,
        signing_root,
    )))
}

/// `process_sync_aggregate`: verify the aggregate (by the context's mode), then reward the
/// participants and the proposer and penalize the absent members.
pub fn process_sync_aggregate<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    sync_aggregate: &SyncAggregate<P>,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let committee = std::sync::Arc::clone(state.current_sync_committee());
    // `all_pubkeys.index(pubkey)` for each member (a member that is not a validator raises).
    let committee_indices = committee
        .pubkeys
        .iter()
        .map(|pubkey| {
            ctx.pubkeys
                .index_of(&*state, pubkey)
                .ok_or(OperationError::UnknownSyncCommitteeMember(*pubkey))
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Verify sync committee aggregate signature signing over the previous slot block root
    let previous_slot = state.slot().max(1).safe_sub(1)?;
    let previous_block_root = get_block_root_at_slot(&*state, previous_slot)?;
    {
        let state: &S = state;
        check_signature(ctx, SignatureOrigin::SyncAggregate, |pubkeys| {
            sync_aggregate_set(
                state,
                pubkeys,
                &committee,
                &committee_indices,
                sync_aggregate,
                previous_slot,
                previous_block_root,
            )
        })?;
    }

    // Compute participant and proposer rewards
    let total_active_balance = ctx.total_active_balance(&*state)?;
    let total_active_increments = total_active_balance.safe_div(P::EFFECTIVE_BALANCE_INCREMENT)?;
    let total_base_rewards = get_base_reward_per_increment::<P>(total_active_balance)?
        .safe_mul(total_active_increments)?;
    let max_participant_rewards = total_base_rewards
        .safe_mul(SYNC_REWARD_WEIGHT)?
        .safe_div(WEIGHT_DENOMINATOR)?
        .safe_div(P::slots_per_epoch())?;
    let participant_reward = max_participant_rewards.safe_div(P::sync_committee_size())?;
    let proposer_reward = participant_reward
        .safe_mul(PROPOSER_WEIGHT)?
        .safe_div(WEIGHT_DENOMINATOR.safe_sub(PROPOSER_WEIGHT)?)?;

    // Apply participant and proposer rewards
    let proposer_index = ctx.proposer_index(&*state)?;
    for (&participant_index, participation_bit) in committee_indices
        .iter()
        .zip(sync_aggregate.sync_committee_bits.iter())
    {
        if participation_bit {
            increase_balance(state, participant_index, participant_reward)?;
            increase_balance(state, proposer_index, proposer_reward)?;
        } else {
            decrease_balance(state, participant_index, participant_reward)?;
        }
    }
    Ok(())
}
