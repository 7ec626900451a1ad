//! The spec's misc helpers and beacon-state accessors (`compute_*`, `get_*`), as modified up to
//! Fulu, generic over [`PostElectraState`].
//!
//! Functions that need the chain configuration take `config: &ChainConfig`; functions that need
//! committees take the caller's [`Caches`]. Functions whose spec version recomputes an O(n)
//! total (`get_total_active_balance`) have a variant taking the precomputed total, for hot paths.

use crate::cache::Caches;
use crate::error::{Error, Result};
use crate::math::{SafeArith, bytes_to_uint64, integer_squareroot, to_usize, uint_to_bytes};
use crate::predicates::{has_compounding_withdrawal_credential, has_flag, is_active_validator};
use crate::shuffling::compute_shuffled_index;
use crate::state::PostElectraState;
use ethereum_hashing::hash_fixed;
use keel_config::ChainConfig;
use keel_config::constants::{DOMAIN_BEACON_PROPOSER, GENESIS_EPOCH};
use keel_types::electra::Validator;
use keel_types::{
    Bytes32, Domain, DomainType, Epoch, Gwei, Hash256, Preset, Root, Slot, ValidatorIndex,
};

/// `MAX_RANDOM_VALUE` of Electra's 16-bit effective-balance sampling.
const MAX_RANDOM_VALUE: u64 = (1 << 16) - 1;

// ---- misc ----

/// `compute_epoch_at_slot`.
#[inline]
#[allow(clippy::arithmetic_side_effects)] // SLOTS_PER_EPOCH > 0 in every preset.
pub fn compute_epoch_at_slot<P: Preset>(slot: Slot) -> Epoch {
    slot / P::slots_per_epoch()
}

/// `compute_start_slot_at_epoch`.
#[inline]
pub fn compute_start_slot_at_epoch<P: Preset>(epoch: Epoch) -> Result<Slot> {
    Ok(epoch.safe_mul(P::slots_per_epoch())?)
}

/// `compute_activation_exit_epoch`: `epoch + 1 + MAX_SEED_LOOKAHEAD`.
#[inline]
pub fn compute_activation_exit_epoch<P: Preset>(epoch: Epoch) -> Result<Epoch> {
    Ok(epoch.safe_add(1)?.safe_add(P::MAX_SEED_LOOKAHEAD)?)
}

/// `get_max_effective_balance` (Electra): `MAX_EFFECTIVE_BALANCE_ELECTRA` for compounding
/// credentials, else `MIN_ACTIVATION_BALANCE`.
#[inline]
pub fn get_max_effective_balance<P: Preset>(validator: &Validator) -> Gwei {
    if has_compounding_withdrawal_credential(validator) {
        P::MAX_EFFECTIVE_BALANCE_ELECTRA
    } else {
        P::MIN_ACTIVATION_BALANCE
    }
}

/// `compute_committee`, as the spec writes it (one `compute_shuffled_index` per member).
/// [`CommitteeCache`](crate::cache::CommitteeCache) computes the same slices from one
/// whole-list shuffle; this version is the reference the cache is tested against.
pub fn compute_committee<P: Preset>(
    indices: &[ValidatorIndex],
    seed: &Hash256,
    index: u64,
    count: u64,
) -> Result<Vec<ValidatorIndex>> {
    let len = indices.len() as u64;
    let start = len.safe_mul(index)?.safe_div(count)?;
    let end = len.safe_mul(index.safe_add(1)?)?.safe_div(count)?;
    let rounds = shuffle_rounds::<P>()?;
    (start..end)
        .map(|i| {
            let shuffled = to_usize(compute_shuffled_index(i, len, seed, rounds)?)?;
            indices
                .get(shuffled)
                .copied()
                .ok_or_else(|| Error::index("compute_committee indices", shuffled, indices.len()))
        })
        .collect()
}

pub(crate) fn shuffle_rounds<P: Preset>() -> Result<u8> {
    u8::try_from(P::SHUFFLE_ROUND_COUNT).map_err(|_| Error::UsizeOverflow(P::SHUFFLE_ROUND_COUNT))
}

/// Electra's `compute_proposer_index`: sample `indices` by effective balance, with 16-bit
/// random values against `MAX_EFFECTIVE_BALANCE_ELECTRA`.
pub fn compute_proposer_index<P: Preset, S: PostElectraState<P>>(
    state: &S,
    indices: &[ValidatorIndex],
    seed: &Hash256,
) -> Result<ValidatorIndex> {
    sample_by_effective_balance::<P, S>(state, indices, seed, "compute_proposer_index", |_| false)
        .map(|mut found| found.pop().unwrap_or_default())
}

/// The effective-balance sampling loop shared by `compute_proposer_index` (one pick) and
/// `get_next_sync_committee_indices` (`SYNC_COMMITTEE_SIZE` picks): walks `i = 0, 1, ..`, takes
/// `candidate = indices[compute_shuffled_index(i % total, total, seed)]` and accepts it when
/// `effective_balance * MAX_RANDOM_VALUE >= MAX_EFFECTIVE_BALANCE_ELECTRA * random_value`, until
/// `more(accepted_so_far)` is false.
fn sample_by_effective_balance<P: Preset, S: PostElectraState<P>>(
    state: &S,
    indices: &[ValidatorIndex],
    seed: &Hash256,
    function: &'static str,
    more: impl Fn(usize) -> bool,
) -> Result<Vec<ValidatorIndex>> {
    let total = indices.len() as u64;
    if total == 0 {
        return Err(Error::NoActiveValidators {
            function,
            epoch: get_current_epoch(state),
        });
    }
    let rounds = shuffle_rounds::<P>()?;
    let shuffler = crate::shuffling::ShuffledIndex::new(total, seed, rounds)?;
    let validators = state.validators();
    let mut picked = Vec::new();
    let mut random_bytes = [0u8; 32];
    let mut i: u64 = 0;
    loop {
        let shuffled = to_usize(shuffler.get(i.safe_rem(total)?)?)?;
        let candidate = *indices
            .get(shuffled)
            .ok_or_else(|| Error::index("candidate indices", shuffled, indices.len()))?;
        if i.safe_rem(16)? == 0 {
            let mut input = [0u8; 40];
            input[..32].copy_from_slice(seed.as_slice());
            input[32..].copy_from_slice(&uint_to_bytes(i.safe_div(16)?));
            random_bytes = hash_fixed(&input);
        }
        let offset = to_usize(i.safe_rem(16)?.safe_mul(2)?)?;
        let random_value = bytes_to_uint64(
            random_bytes
                .get(offset..offset.safe_add(2)?)
                .ok_or_else(|| Error::index("random bytes", offset, 32))?,
        );
        let effective_balance = validator(validators, candidate)?.effective_balance;
        if effective_balance.safe_mul(MAX_RANDOM_VALUE)?
            >= P::MAX_EFFECTIVE_BALANCE_ELECTRA.safe_mul(random_value)?
        {
            picked.push(candidate);
            if !more(picked.len()) {
                return Ok(picked);
            }
        }
        i.safe_add_assign(1)?;
    }
}

/// Fulu's `compute_proposer_indices`: the proposers of the `SLOTS_PER_EPOCH` slots of `epoch`.
pub fn compute_proposer_indices<P: Preset, S: PostElectraState<P>>(
    state: &S,
    epoch: Epoch,
    seed: &Hash256,
    indices: &[ValidatorIndex],
) -> Result<Vec<ValidatorIndex>> {
    let start_slot = compute_start_slot_at_epoch::<P>(epoch)?;
    (0..P::slots_per_epoch())
        .map(|i| {
            let slot_seed = proposer_seed(seed, start_slot.safe_add(i)?);
            compute_proposer_index(state, indices, &slot_seed)
        })
        .collect()
}

/// `hash(seed + uint_to_bytes(slot))`.
fn proposer_seed(epoch_seed: &Hash256, slot: Slot) -> Hash256 {
    let mut input = [0u8; 40];
    input[..32].copy_from_slice(epoch_seed.as_slice());
    input[32..].copy_from_slice(&uint_to_bytes(slot));
    Hash256::from(hash_fixed(&input))
}

// ---- beacon state accessors ----

/// `get_current_epoch`.
#[inline]
pub fn get_current_epoch<P: Preset, S: PostElectraState<P>>(state: &S) -> Epoch {
    compute_epoch_at_slot::<P>(state.slot())
}

/// `get_previous_epoch`: the current epoch minus one, but not below `GENESIS_EPOCH`.
#[inline]
pub fn get_previous_epoch<P: Preset, S: PostElectraState<P>>(state: &S) -> Epoch {
    let current = get_current_epoch(state);
    if current == GENESIS_EPOCH {
        GENESIS_EPOCH
    } else {
        current.saturating_sub(1)
    }
}

/// Looks up `validators[index]` with a typed error.
#[inline]
pub fn validator<N: keel_types::typenum::Unsigned>(
    validators: &keel_types::milhouse::List<Validator, N>,
    index: ValidatorIndex,
) -> Result<&Validator> {
    to_usize(index)
        .ok()
        .and_then(|i| validators.get(i))
        .ok_or_else(|| Error::index("validators", index, validators.len()))
}

/// `state.validators[index]`, with a typed error.
#[inline]
pub fn get_validator<P: Preset, S: PostElectraState<P>>(
    state: &S,
    index: ValidatorIndex,
) -> Result<&Validator> {
    validator(state.validators(), index)
}

/// `state.balances[index]`, with a typed error.
#[inline]
pub fn get_balance<P: Preset, S: PostElectraState<P>>(
    state: &S,
    index: ValidatorIndex,
) -> Result<Gwei> {
    let balances = state.balances();
    to_usize(index)
        .ok()
        .and_then(|i| balances.get(i))
        .copied()
        .ok_or_else(|| Error::index("balances", index, balances.len()))
}

/// `get_block_root_at_slot`: requires `slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT`.
pub fn get_block_root_at_slot<P: Preset, S: PostElectraState<P>>(
    state: &S,
    slot: Slot,
) -> Result<Root> {
    let state_slot = state.slot();
    let in_range =
        slot < state_slot && state_slot <= slot.saturating_add(P::slots_per_historical_root());
    if !in_range {
        return Err(Error::BlockRootUnavailable { slot, state_slot });
    }
    let position = to_usize(slot.safe_rem(P::slots_per_historical_root())?)?;
    state
        .block_roots()
        .get(position)
        .copied()
        .ok_or_else(|| Error::index("block_roots", position, state.block_roots().len()))
}

/// `get_block_root`: the block root at the start slot of `epoch`.
pub fn get_block_root<P: Preset, S: PostElectraState<P>>(state: &S, epoch: Epoch) -> Result<Root> {
    get_block_root_at_slot(state, compute_start_slot_at_epoch::<P>(epoch)?)
}

/// `get_randao_mix`: `randao_mixes[epoch % EPOCHS_PER_HISTORICAL_VECTOR]`.
pub fn get_randao_mix<P: Preset, S: PostElectraState<P>>(
    state: &S,
    epoch: Epoch,
) -> Result<Bytes32> {
    let position = to_usize(epoch.safe_rem(P::epochs_per_historical_vector())?)?;
    state
        .randao_mixes()
        .get(position)
        .copied()
        .ok_or_else(|| Error::index("randao_mixes", position, state.randao_mixes().len()))
}

/// `get_active_validator_indices` (O(n); [`Caches::committee_cache`] keeps them per epoch).
pub fn get_active_validator_indices<P: Preset, S: PostElectraState<P>>(
    state: &S,
    epoch: Epoch,
) -> Vec<ValidatorIndex> {
    state
        .validators()
        .iter()
        .zip(0u64..)
        .filter(|(v, _)| is_active_validator(v, epoch))
        .map(|(_, i)| i)
        .collect()
}

/// `get_validator_churn_limit` (phase0..Deneb count-based churn; Electra uses balance churn,
/// kept for completeness).
pub fn get_validator_churn_limit<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
) -> Result<u64> {
    let active = get_active_validator_indices(state, get_current_epoch(state)).len() as u64;
    Ok(config
        .min_per_epoch_churn_limit
        .max(active.safe_div(config.churn_limit_quotient)?))
}

/// `get_balance_churn_limit` (Electra).
pub fn get_balance_churn_limit<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
) -> Result<Gwei> {
    balance_churn_limit::<P>(config, get_total_active_balance(state)?)
}

/// `get_balance_churn_limit` given `get_total_active_balance(state)`.
pub fn balance_churn_limit<P: Preset>(
    config: &ChainConfig,
    total_active_balance: Gwei,
) -> Result<Gwei> {
    let churn = config
        .min_per_epoch_churn_limit_electra
        .max(total_active_balance.safe_div(config.churn_limit_quotient)?);
    Ok(churn.safe_sub(churn.safe_rem(P::EFFECTIVE_BALANCE_INCREMENT)?)?)
}

/// `get_activation_exit_churn_limit` (Electra).
pub fn get_activation_exit_churn_limit<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
) -> Result<Gwei> {
    activation_exit_churn_limit::<P>(config, get_total_active_balance(state)?)
}

/// `get_activation_exit_churn_limit` given `get_total_active_balance(state)`.
pub fn activation_exit_churn_limit<P: Preset>(
    config: &ChainConfig,
    total_active_balance: Gwei,
) -> Result<Gwei> {
    Ok(config
        .max_per_epoch_activation_exit_churn_limit
        .min(balance_churn_limit::<P>(config, total_active_balance)?))
}

/// `get_consolidation_churn_limit` (Electra).
pub fn get_consolidation_churn_limit<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
) -> Result<Gwei> {
    consolidation_churn_limit::<P>(config, get_total_active_balance(state)?)
}

/// `get_consolidation_churn_limit` given `get_total_active_balance(state)`.
pub fn consolidation_churn_limit<P: Preset>(
    config: &ChainConfig,
    total_active_balance: Gwei,
) -> Result<Gwei> {
    Ok(
        balance_churn_limit::<P>(config, total_active_balance)?.safe_sub(
            activation_exit_churn_limit::<P>(config, total_active_balance)?,
        )?,
    )
}

/// `get_seed`: `hash(domain_type + uint_to_bytes(epoch) + mix)` with the RANDAO mix of
/// `epoch - MIN_SEED_LOOKAHEAD - 1`.
pub fn get_seed<P: Preset, S: PostElectraState<P>>(
    state: &S,
    epoch: Epoch,
    domain_type: DomainType,
) -> Result<Hash256> {
    let mix_epoch = epoch
        .safe_add(P::epochs_per_historical_vector())?
        .safe_sub(P::MIN_SEED_LOOKAHEAD)?
        .safe_sub(1)?;
    let mix = get_randao_mix(state, mix_epoch)?;
    let mut input = [0u8; 4 + 8 + 32];
    input[..4].copy_from_slice(&domain_type);
    input[4..12].copy_from_slice(&uint_to_bytes(epoch));
    input[12..].copy_from_slice(mix.as_slice());
    Ok(Hash256::from(hash_fixed(&input)))
}

/// `get_committee_count_per_slot` (O(n); the committee cache has it per epoch).
pub fn get_committee_count_per_slot<P: Preset, S: PostElectraState<P>>(
    state: &S,
    epoch: Epoch,
) -> Result<u64> {
    committee_count_for_active::<P>(get_active_validator_indices(state, epoch).len() as u64)
}

/// `get_committee_count_per_slot` for `active_count` active validators:
/// `max(1, min(MAX_COMMITTEES_PER_SLOT, active // SLOTS_PER_EPOCH // TARGET_COMMITTEE_SIZE))`.
pub fn committee_count_for_active<P: Preset>(active_count: u64) -> Result<u64> {
    Ok(P::max_committees_per_slot()
        .min(
            active_count
                .safe_div(P::slots_per_epoch())?
                .safe_div(P::TARGET_COMMITTEE_SIZE)?,
        )
        .max(1))
}

/// `get_beacon_committee`, copied out of the committee cache. To avoid the copy, borrow from
/// `caches.committee_cache(state, epoch)?.get_beacon_committee(slot, index)?`.
pub fn get_beacon_committee<P: Preset, S: PostElectraState<P>>(
    state: &S,
    caches: &mut Caches,
    slot: Slot,
    index: u64,
) -> Result<Vec<ValidatorIndex>> {
    let cache = caches.committee_cache(state, compute_epoch_at_slot::<P>(slot))?;
    Ok(cache.get_beacon_committee(slot, index)?.to_vec())
}

/// `get_beacon_proposer_index`: dispatches to the fork (Electra computes, Fulu reads
/// `proposer_lookahead`).
pub fn get_beacon_proposer_index<P: Preset, S: PostElectraState<P>>(
    state: &S,
    caches: &mut Caches,
) -> Result<ValidatorIndex> {
    state.get_beacon_proposer_index(caches)
}

/// Electra's `get_beacon_proposer_index`: `compute_proposer_index(state, active indices,
/// hash(get_seed(state, epoch, DOMAIN_BEACON_PROPOSER) + uint_to_bytes(state.slot)))`.
pub fn compute_beacon_proposer_index<P: Preset, S: PostElectraState<P>>(
    state: &S,
    caches: &mut Caches,
) -> Result<ValidatorIndex> {
    let epoch = get_current_epoch(state);
    let seed = proposer_seed(
        &get_seed(state, epoch, DOMAIN_BEACON_PROPOSER)?,
        state.slot(),
    );
    let cache = caches.committee_cache(state, epoch)?;
    compute_proposer_index(state, cache.active_indices(), &seed)
}

/// Fulu's `get_beacon_proposer_indices`: the proposers of every slot of `epoch`.
pub fn get_beacon_proposer_indices<P: Preset, S: PostElectraState<P>>(
    state: &S,
    caches: &mut Caches,
    epoch: Epoch,
) -> Result<Vec<ValidatorIndex>> {
    let seed = get_seed(state, epoch, DOMAIN_BEACON_PROPOSER)?;
    let cache = caches.committee_cache(state, epoch)?;
    compute_proposer_indices(state, epoch, &seed, cache.active_indices())
}

/// `get_total_balance`: `max(EFFECTIVE_BALANCE_INCREMENT, sum of effective balances)`.
pub fn get_total_balance<P: Preset, S: PostElectraState<P>>(
    state: &S,
    indices: impl IntoIterator<Item = ValidatorIndex>,
) -> Result<Gwei> {
    let validators = state.validators();
    let mut sum: Gwei = 0;
    for index in indices {
        sum.safe_add_assign(validator(validators, index)?.effective_balance)?;
    }
    Ok(sum.max(P::EFFECTIVE_BALANCE_INCREMENT))
}

/// `get_total_active_balance` (O(n), one pass; compute once per epoch on hot paths).
pub fn get_total_active_balance<P: Preset, S: PostElectraState<P>>(state: &S) -> Result<Gwei> {
    let epoch = get_current_epoch(state);
    let mut sum: Gwei = 0;
    for v in state.validators().iter() {
        if is_active_validator(v, epoch) {
            sum.safe_add_assign(v.effective_balance)?;
        }
    }
    Ok(sum.max(P::EFFECTIVE_BALANCE_INCREMENT))
}

/// `get_domain(state, domain_type, epoch)`; `epoch = None` means the current epoch.
pub fn get_domain<P: Preset, S: PostElectraState<P>>(
    state: &S,
    domain_type: DomainType,
    epoch: Option<Epoch>,
) -> Domain {
    let epoch = epoch.unwrap_or_else(|| get_current_epoch(state));
    keel_config::get_domain(
        &state.fork(),
        state.genesis_validators_root(),
        domain_type,
        epoch,
    )
}

/// `get_unslashed_participating_indices(state, flag_index, epoch)` for `epoch` the previous or
/// current epoch (other epochs have no participation record: an error, as the spec asserts).
pub fn get_unslashed_participating_indices<P: Preset, S: PostElectraState<P>>(
    state: &S,
    flag_index: u64,
    epoch: Epoch,
) -> Result<Vec<ValidatorIndex>> {
    let current = get_current_epoch(state);
    let participation = if epoch == current {
        state.current_epoch_participation()
    } else if epoch == get_previous_epoch(state) {
        state.previous_epoch_participation()
    } else {
        return Err(Error::IndexOutOfRange {
            list: "participation epoch (previous or current)",
            index: epoch,
            len: current,
        });
    };
    Ok(state
        .validators()
        .iter()
        .zip(participation.iter())
        .zip(0u64..)
        .filter(|((v, flags), _)| {
            is_active_validator(v, epoch) && !v.slashed && has_flag(**flags, flag_index)
        })
        .map(|(_, i)| i)
        .collect())
}

/// `get_pending_balance_to_withdraw`: the sum of `validator_index`'s pending partial
/// withdrawals.
pub fn get_pending_balance_to_withdraw<P: Preset, S: PostElectraState<P>>(
    state: &S,
    validator_index: ValidatorIndex,
) -> Result<Gwei> {
    let mut sum: Gwei = 0;
    for w in state.pending_partial_withdrawals().iter() {
        if w.validator_index == validator_index {
            sum.safe_add_assign(w.amount)?;
        }
    }
    Ok(sum)
}

/// `get_base_reward_per_increment` given `get_total_active_balance(state)`:
/// `EFFECTIVE_BALANCE_INCREMENT * BASE_REWARD_FACTOR // integer_squareroot(total)`.
pub fn get_base_reward_per_increment<P: Preset>(total_active_balance: Gwei) -> Result<Gwei> {
    Ok(P::EFFECTIVE_BALANCE_INCREMENT
        .safe_mul(P::BASE_REWARD_FACTOR)?
        .safe_div(integer_squareroot(total_active_balance))?)
}

/// `get_base_reward(state, index)` given `get_base_reward_per_increment(state)`:
/// `effective_balance // EFFECTIVE_BALANCE_INCREMENT * base_reward_per_increment`.
pub fn get_base_reward<P: Preset>(
    effective_balance: Gwei,
    base_reward_per_increment: Gwei,
) -> Result<Gwei> {
    Ok(effective_balance
        .safe_div(P::EFFECTIVE_BALANCE_INCREMENT)?
        .safe_mul(base_reward_per_increment)?)
}

/// `get_finality_delay`: `previous_epoch - finalized_checkpoint.epoch`.
pub fn get_finality_delay<P: Preset, S: PostElectraState<P>>(state: &S) -> Result<u64> {
    Ok(get_previous_epoch(state).safe_sub(state.finalized_checkpoint().epoch)?)
}

/// `is_in_inactivity_leak`: `get_finality_delay(state) > MIN_EPOCHS_TO_INACTIVITY_PENALTY`.
pub fn is_in_inactivity_leak<P: Preset, S: PostElectraState<P>>(state: &S) -> Result<bool> {
    Ok(get_finality_delay(state)? > P::MIN_EPOCHS_TO_INACTIVITY_PENALTY)
}

/// Electra's `get_next_sync_committee_indices`: `SYNC_COMMITTEE_SIZE` indices (with possible
/// duplicates) sampled by effective balance from the next epoch's active validators.
pub fn get_next_sync_committee_indices<P: Preset, S: PostElectraState<P>>(
    state: &S,
    caches: &mut Caches,
) -> Result<Vec<ValidatorIndex>> {
    let epoch = get_current_epoch(state).safe_add(1)?;
    let seed = get_seed(state, epoch, keel_config::constants::DOMAIN_SYNC_COMMITTEE)?;
    let cache = caches.committee_cache(state, epoch)?;
    let size = to_usize(P::sync_committee_size())?;
    sample_by_effective_balance::<P, S>(
        state,
        cache.active_indices(),
        &seed,
        "get_next_sync_committee_indices",
        |picked| picked < size,
    )
}

/// `get_next_sync_committee`: the indices' pubkeys and their aggregate.
pub fn get_next_sync_committee<P: Preset, S: PostElectraState<P>>(
    state: &S,
    caches: &mut Caches,
) -> Result<keel_types::electra::SyncCommittee<P>> {
    let indices = get_next_sync_committee_indices(state, caches)?;
    let pubkeys = indices
        .iter()
        .map(|&i| Ok(get_validator(state, i)?.pubkey))
        .collect::<Result<Vec<_>>>()?;
    let aggregate_pubkey =
        keel_crypto::bls::eth_aggregate_pubkeys(&pubkeys).map_err(|e| Error::Bls {
            function: "get_next_sync_committee",
            reason: e.to_string(),
        })?;
    let pubkeys = keel_types::ssz_types::FixedVector::new(pubkeys).map_err(|e| Error::Bls {
        function: "get_next_sync_committee",
        reason: format!("sync committee size: {e:?}"),
    })?;
    Ok(keel_types::electra::SyncCommittee {
        pubkeys,
        aggregate_pubkey,
    })
}

/// `get_indices_of_validator_pubkeys`-style lookup used by deposits: the first index whose
/// pubkey is `pubkey` (O(n); block processing should keep a pubkey index).
pub fn find_validator_index_by_pubkey<P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkey: &keel_types::BlsPubkey,
) -> Option<ValidatorIndex> {
    state
        .validators()
        .iter()
        .position(|v| &v.pubkey == pubkey)
        .map(|i| i as u64)
}
