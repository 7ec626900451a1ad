//! `process_attestation` (Electra, EIP-7549: one attestation covers the committees in
//! `committee_bits`, `data.index` is 0) and the accessors it needs: `get_committee_indices`,
//! `get_attesting_indices`, `get_indexed_attestation`, `is_valid_indexed_attestation`,
//! `get_attestation_participation_flag_indices` (Deneb).

use super::{BlockContext, IndexedAttestationError, OperationError, check_signature};
use crate::accessors::{
    compute_epoch_at_slot, get_base_reward, get_base_reward_per_increment, get_block_root,
    get_block_root_at_slot, get_current_epoch, get_previous_epoch,
};
use crate::cache::CommitteeCache;
use crate::error::Error;
use crate::math::{SafeArith, integer_squareroot, to_usize};
use crate::mutators::{add_flag, increase_balance};
use crate::predicates::has_flag;
use crate::pubkey_cache::PubkeyCache;
use crate::signature_sets::{SetResult, SignatureOrigin, validators_signature_set};
use crate::state::PostElectraState;
use keel_config::compute_signing_root;
use keel_config::constants::{
    DOMAIN_BEACON_ATTESTER, PARTICIPATION_FLAG_WEIGHTS, PROPOSER_WEIGHT, TIMELY_HEAD_FLAG_INDEX,
    TIMELY_SOURCE_FLAG_INDEX, TIMELY_TARGET_FLAG_INDEX, WEIGHT_DENOMINATOR,
};
use keel_types::electra::{Attestation, AttestationData, IndexedAttestation};
use keel_types::ssz_types::{BitList, BitVector, VariableList};
use keel_types::typenum::Unsigned;
use keel_types::{CommitteeIndex, Preset, SignatureBytes, ValidatorIndex};

/// An attestation whose attesters number at least `1 / PARTICIPATION_COPY_RATIO` of the
/// participation list reads flags from a copy of the list ([`BlockContext`]): copying costs
/// about as much as this many tree walks per attester.
const PARTICIPATION_COPY_RATIO: usize = 32;

/// `get_committee_indices`: the indices of the set bits of `committee_bits`.
pub fn get_committee_indices<N: Unsigned + Clone>(
    committee_bits: &BitVector<N>,
) -> Vec<CommitteeIndex> {
    committee_bits
        .iter()
        .zip(0u64..)
        .filter(|(bit, _)| *bit)
        .map(|(_, index)| index)
        .collect()
}

/// Walks the committees of `committee_bits` at `slot` with their offsets in
/// `aggregation_bits`, as `process_attestation` and `get_attesting_indices` do: calls `f` with
/// each committee index and that committee's attesters. Returns the total committee length
/// (`committee_offset` after the loop). A bit past the end of `aggregation_bits` is an error
/// (the spec's list index raises).
fn for_each_committee<N: Unsigned + Clone, M: Unsigned + Clone>(
    committees: &CommitteeCache,
    slot: u64,
    committee_bits: &BitVector<M>,
    aggregation_bits: &BitList<N>,
    mut f: impl FnMut(
        CommitteeIndex,
        &mut dyn Iterator<Item = ValidatorIndex>,
    ) -> Result<(), OperationError>,
) -> Result<usize, OperationError> {
    let mut committee_offset: usize = 0;
    for committee_index in get_committee_indices(committee_bits) {
        let committee = committees.get_beacon_committee(slot, committee_index)?;
        let end = committee_offset.safe_add(committee.len())?;
        if end > aggregation_bits.len() {
            return Err(OperationError::AggregationBitsLength {
                got: aggregation_bits.len(),
                expected: end,
            });
        }
        let mut attesters = committee
            .iter()
            .zip(committee_offset..)
            .filter(|(_, position)| aggregation_bits.get(*position).unwrap_or(false))
            .map(|(index, _)| *index);
        f(committee_index, &mut attesters)?;
        committee_offset = end;
    }
    Ok(committee_offset)
}

/// `get_attesting_indices` (Electra), sorted (the spec's set, in `get_indexed_attestation`'s
/// order).
pub fn get_attesting_indices<P: Preset, S: PostElectraState<P>>(
    state: &S,
    ctx: &mut BlockContext<'_>,
    attestation: &Attestation<P>,
) -> Result<Vec<ValidatorIndex>, OperationError> {
    let data = &attestation.data;
    let committees = ctx
        .caches
        .committee_cache(state, compute_epoch_at_slot::<P>(data.slot))?;
    let mut output = Vec::new();
    for_each_committee(
        &committees,
        data.slot,
        &attestation.committee_bits,
        &attestation.aggregation_bits,
        |_, attesters| {
            output.extend(attesters);
            Ok(())
        },
    )?;
    output.sort_unstable();
    output.dedup();
    Ok(output)
}

/// `get_indexed_attestation`.
pub fn get_indexed_attestation<P: Preset, S: PostElectraState<P>>(
    state: &S,
    ctx: &mut BlockContext<'_>,
    attestation: &Attestation<P>,
) -> Result<IndexedAttestation<P>, OperationError> {
    let attesting_indices = get_attesting_indices(state, ctx, attestation)?;
    Ok(IndexedAttestation {
        attesting_indices: VariableList::new(attesting_indices).map_err(|_| {
            OperationError::AggregationBitsLength {
                got: attestation.aggregation_bits.len(),
                expected: P::MaxValidatorsPerSlot::to_usize(),
            }
        })?,
        data: attestation.data,
        signature: attestation.signature,
    })
}

/// The signature set of an attestation by `indices` (sorted, unique, non-empty) over `data`.
pub fn attestation_signature_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: &'a PubkeyCache,
    indices: &[ValidatorIndex],
    data: &AttestationData,
    signature: &SignatureBytes,
) -> SetResult<'a> {
    let domain =
        crate::accessors::get_domain(state, DOMAIN_BEACON_ATTESTER, Some(data.target.epoch));
    let signing_root = compute_signing_root(data, domain);
    validators_signature_set(state, pubkeys, indices, signature, signing_root)
}

/// `is_valid_indexed_attestation` for `indices`, `data` and `signature`: indices non-empty,
/// sorted and unique, every index a validator, and (by the context's mode) the aggregate
/// signature valid.
pub fn is_valid_attestation_parts<P: Preset, S: PostElectraState<P>>(
    state: &S,
    ctx: &mut BlockContext<'_>,
    origin: SignatureOrigin,
    indices: &[ValidatorIndex],
    data: &AttestationData,
    signature: &SignatureBytes,
) -> Result<(), IndexedAttestationError> {
    // Verify indices are sorted and unique
    if indices.is_empty() {
        return Err(IndexedAttestationError::Empty);
    }
    if !indices.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
        return Err(IndexedAttestationError::NotSortedUnique);
    }
    // `state.validators[i]` for every index, whatever the signature mode.
    let validator_count = state.validators().len() as u64;
    if let Some(&unknown) = indices.iter().find(|&&i| i >= validator_count) {
        return Err(IndexedAttestationError::UnknownValidator(unknown));
    }
    // Verify aggregate signature
    check_signature(ctx, origin, |pubkeys| {
        attestation_signature_set(state, pubkeys, indices, data, signature)
    })?;
    Ok(())
}

/// `is_valid_indexed_attestation`, as an error saying why not.
pub fn is_valid_indexed_attestation<P: Preset, S: PostElectraState<P>>(
    state: &S,
    ctx: &mut BlockContext<'_>,
    origin: SignatureOrigin,
    indexed_attestation: &IndexedAttestation<P>,
) -> Result<(), IndexedAttestationError> {
    is_valid_attestation_parts(
        state,
        ctx,
        origin,
        &indexed_attestation.attesting_indices,
        &indexed_attestation.data,
        &indexed_attestation.signature,
    )
}

/// `get_attestation_participation_flag_indices` (Deneb, EIP-7045): which of the timely
/// source / target / head flags the attestation earns; an error if the source does not match.
pub fn get_attestation_participation_flag_indices<P: Preset, S: PostElectraState<P>>(
    state: &S,
    data: &AttestationData,
    inclusion_delay: u64,
) -> Result<Vec<u64>, OperationError> {
    // Matching source
    let justified_checkpoint = if data.target.epoch == get_current_epoch(state) {
        state.current_justified_checkpoint()
    } else {
        state.previous_justified_checkpoint()
    };
    let is_matching_source = data.source == justified_checkpoint;

    // Matching target
    let target_root = get_block_root(state, data.target.epoch)?;
    let target_root_matches = data.target.root == target_root;
    let is_matching_target = is_matching_source && target_root_matches;

    // Matching head
    let head_root = get_block_root_at_slot(state, data.slot)?;
    let head_root_matches = data.beacon_block_root == head_root;
    let is_matching_head = is_matching_target && head_root_matches;

    if !is_matching_source {
        return Err(OperationError::SourceMismatch);
    }

    let mut participation_flag_indices = Vec::with_capacity(3);
    if is_matching_source && inclusion_delay <= integer_squareroot(P::slots_per_epoch()) {
        participation_flag_indices.push(TIMELY_SOURCE_FLAG_INDEX);
    }
    if is_matching_target {
        participation_flag_indices.push(TIMELY_TARGET_FLAG_INDEX);
    }
    if is_matching_head && inclusion_delay == P::MIN_ATTESTATION_INCLUSION_DELAY {
        participation_flag_indices.push(TIMELY_HEAD_FLAG_INDEX);
    }
    Ok(participation_flag_indices)
}

/// `process_attestation` (Electra). `index` is the attestation's position in the block (for
/// the signature's origin).
pub fn process_attestation<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    attestation: &Attestation<P>,
    index: usize,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let data = &attestation.data;
    let current_epoch = get_current_epoch(state);
    if data.target.epoch != get_previous_epoch(state) && data.target.epoch != current_epoch {
        return Err(OperationError::TargetEpochOutOfRange {
            target: data.target.epoch,
            current: current_epoch,
        });
    }
    if data.target.epoch != compute_epoch_at_slot::<P>(data.slot) {
        return Err(OperationError::TargetEpochSlotMismatch {
            target: data.target.epoch,
            slot: data.slot,
        });
    }
    if data.slot.safe_add(P::MIN_ATTESTATION_INCLUSION_DELAY)? > state.slot() {
        return Err(OperationError::IncludedTooEarly {
            slot: data.slot,
            state_slot: state.slot(),
        });
    }

    if data.index != 0 {
        return Err(OperationError::NonZeroDataIndex(data.index));
    }
    let committees = ctx.caches.committee_cache(&*state, data.target.epoch)?;
    let mut attesting_indices = Vec::new();
    let committee_offset = for_each_committee(
        &committees,
        data.slot,
        &attestation.committee_bits,
        &attestation.aggregation_bits,
        |committee_index, attesters| {
            let before = attesting_indices.len();
            attesting_indices.extend(attesters);
            if attesting_indices.len() == before {
                return Err(OperationError::EmptyCommitteeAttestation(committee_index));
            }
            Ok(())
        },
    )?;

    // Bitfield length matches total number of participants
    if attestation.aggregation_bits.len() != committee_offset {
        return Err(OperationError::AggregationBitsLength {
            got: attestation.aggregation_bits.len(),
            expected: committee_offset,
        });
    }

    // Participation flag indices
    let inclusion_delay = state.slot().safe_sub(data.slot)?;
    let participation_flag_indices =
        get_attestation_participation_flag_indices(&*state, data, inclusion_delay)?;

    // Verify signature
    attesting_indices.sort_unstable();
    attesting_indices.dedup();
    is_valid_attestation_parts(
        &*state,
        ctx,
        SignatureOrigin::Attestation { index },
        &attesting_indices,
        data,
        &attestation.signature,
    )
    .map_err(OperationError::IndexedAttestation)?;

    // Update epoch participation flags
    let total_active_balance = ctx.total_active_balance(&*state)?;
    let base_reward_per_increment = get_base_reward_per_increment::<P>(total_active_balance)?;
    let which = usize::from(data.target.epoch == current_epoch);
    let participation_len = if which == 1 {
        state.current_epoch_participation().len()
    } else {
        state.previous_epoch_participation().len()
    };
    let flags_to_add = participation_flag_indices
        .iter()
        .fold(0u8, |flags, &flag_index| add_flag(flags, flag_index));
    // An aggregate covering a large share of the registry reads the flags from a copy of the
    // list (one pass) rather than walking the tree per attester.
    if attesting_indices
        .len()
        .saturating_mul(PARTICIPATION_COPY_RATIO)
        >= participation_len
    {
        let _ = ctx.participation_copy(&*state, which);
    }
    // The flags each attester gains (the spec's loop, with the effective balance read only for
    // attesters that gain a flag), then the writes: indices are unique, so reading all before
    // writing any is the spec's order.
    let mut proposer_reward_numerator: u64 = 0;
    let mut changes: Vec<(usize, u8)> = Vec::new();
    for &validator_index in &attesting_indices {
        let position = to_usize(validator_index)?;
        let copied = ctx
            .participation_copy_if_taken(which)
            .and_then(|copy| copy.get(position).copied());
        let flags = match copied {
            Some(flags) => flags,
            None => {
                let list = if which == 1 {
                    state.current_epoch_participation()
                } else {
                    state.previous_epoch_participation()
                };
                *list.get(position).ok_or_else(|| {
                    Error::index("epoch_participation", position, participation_len)
                })?
            }
        };
        if flags | flags_to_add == flags {
            continue;
        }
        let effective_balance = ctx.effective_balance(&*state, validator_index)?;
        let base_reward = get_base_reward::<P>(effective_balance, base_reward_per_increment)?;
        for (flag_index, weight) in (0u64..).zip(PARTICIPATION_FLAG_WEIGHTS) {
            if participation_flag_indices.contains(&flag_index) && !has_flag(flags, flag_index) {
                proposer_reward_numerator.safe_add_assign(base_reward.safe_mul(weight)?)?;
            }
        }
        changes.push((position, flags | flags_to_add));
    }
    if let Some(copy) = ctx.participation_copy_if_taken(which) {
        for &(position, flags) in &changes {
            if let Some(entry) = copy.get_mut(position) {
                *entry = flags;
            }
        }
    }
    let fields = state.fields_mut();
    let epoch_participation = if which == 1 {
        fields.current_epoch_participation
    } else {
        fields.previous_epoch_participation
    };
    for (position, flags) in changes {
        *epoch_participation
            .get_mut(position)
            .ok_or_else(|| Error::index("epoch_participation", position, participation_len))? =
            flags;
    }

    // Reward proposer
    let proposer_reward_denominator = WEIGHT_DENOMINATOR
        .safe_sub(PROPOSER_WEIGHT)?
        .safe_mul(WEIGHT_DENOMINATOR)?
        .safe_div(PROPOSER_WEIGHT)?;
    let proposer_reward = proposer_reward_numerator.safe_div(proposer_reward_denominator)?;
    let proposer_index = ctx.proposer_index(&*state)?;
    increase_balance(state, proposer_index, proposer_reward)?;
    Ok(())
}
