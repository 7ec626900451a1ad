//! The spec's beacon-state mutators (as modified up to Fulu) and the deposit helpers shared by
//! block processing (`process_deposit_request`, ...) and epoch processing
//! (`process_pending_deposits`).
//!
//! Mutators that consume churn need `get_total_active_balance(state)`, an O(n) sum. The
//! spec-named function computes it; the `*_with_total` variant takes it precomputed (it is
//! constant within an epoch until `process_effective_balance_updates`), for hot paths.

use crate::accessors::{
    activation_exit_churn_limit, compute_activation_exit_epoch, consolidation_churn_limit,
    get_balance, get_current_epoch, get_max_effective_balance, get_total_active_balance,
};
use crate::cache::Caches;
use crate::error::{Error, Result};
use crate::math::{SafeArith, to_usize};
use crate::state::PostElectraState;
use keel_config::ChainConfig;
use keel_config::constants::{
    COMPOUNDING_WITHDRAWAL_PREFIX, DOMAIN_DEPOSIT, FAR_FUTURE_EPOCH, GENESIS_SLOT, PROPOSER_WEIGHT,
    WEIGHT_DENOMINATOR,
};
use keel_types::electra::{DepositMessage, PendingDeposit, Validator};
use keel_types::{
    BlsPubkey, BlsSignature, Bytes32, Epoch, Gwei, Preset, SignatureBytes, ValidatorIndex,
};

/// `increase_balance`: `balances[index] += delta` (overflow is an error).
pub fn increase_balance<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    index: ValidatorIndex,
    delta: Gwei,
) -> Result<()> {
    let balance = balance_mut(state, index)?;
    balance.safe_add_assign(delta)?;
    Ok(())
}

/// `decrease_balance`: `balances[index] -= delta`, saturating at zero.
pub fn decrease_balance<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    index: ValidatorIndex,
    delta: Gwei,
) -> Result<()> {
    let balance = balance_mut(state, index)?;
    *balance = balance.saturating_sub(delta);
    Ok(())
}

/// `&mut state.balances[index]`, with a typed error.
pub fn balance_mut<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    index: ValidatorIndex,
) -> Result<&mut Gwei> {
    let balances = state.balances_mut();
    let len = balances.len();
    to_usize(index)
        .ok()
        .and_then(|i| balances.get_mut(i))
        .ok_or_else(|| Error::index("balances", index, len))
}

/// `&mut state.validators[index]`, with a typed error.
pub fn validator_mut<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    index: ValidatorIndex,
) -> Result<&mut Validator> {
    let validators = state.validators_mut();
    let len = validators.len();
    to_usize(index)
        .ok()
        .and_then(|i| validators.get_mut(i))
        .ok_or_else(|| Error::index("validators", index, len))
}

/// Electra's `initiate_validator_exit`: schedule the exit through the balance-based exit churn.
pub fn initiate_validator_exit<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    index: ValidatorIndex,
) -> Result<()> {
    let total = get_total_active_balance(state)?;
    initiate_validator_exit_with_total(state, config, index, total)
}

/// [`initiate_validator_exit`] given `get_total_active_balance(state)`.
pub fn initiate_validator_exit_with_total<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    index: ValidatorIndex,
    total_active_balance: Gwei,
) -> Result<()> {
    let validator = crate::accessors::get_validator(state, index)?;
    if validator.exit_epoch != FAR_FUTURE_EPOCH {
        return Ok(());
    }
    let effective_balance = validator.effective_balance;
    let exit_queue_epoch = compute_exit_epoch_and_update_churn_with_total(
        state,
        config,
        effective_balance,
        total_active_balance,
    )?;
    let withdrawable_epoch =
        exit_queue_epoch.safe_add(config.min_validator_withdrawability_delay)?;
    let validator = validator_mut(state, index)?;
    validator.exit_epoch = exit_queue_epoch;
    validator.withdrawable_epoch = withdrawable_epoch;
    Ok(())
}

/// `compute_exit_epoch_and_update_churn` (Electra).
pub fn compute_exit_epoch_and_update_churn<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    exit_balance: Gwei,
) -> Result<Epoch> {
    let total = get_total_active_balance(state)?;
    compute_exit_epoch_and_update_churn_with_total(state, config, exit_balance, total)
}

/// [`compute_exit_epoch_and_update_churn`] given `get_total_active_balance(state)`.
pub fn compute_exit_epoch_and_update_churn_with_total<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    exit_balance: Gwei,
    total_active_balance: Gwei,
) -> Result<Epoch> {
    let per_epoch_churn = activation_exit_churn_limit::<P>(config, total_active_balance)?;
    let (epoch, to_consume) = consume_churn::<P, S>(
        state,
        state.earliest_exit_epoch(),
        state.exit_balance_to_consume(),
        per_epoch_churn,
        exit_balance,
    )?;
    *state.exit_balance_to_consume_mut() = to_consume;
    *state.earliest_exit_epoch_mut() = epoch;
    Ok(epoch)
}

/// `compute_consolidation_epoch_and_update_churn` (Electra).
pub fn compute_consolidation_epoch_and_update_churn<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    consolidation_balance: Gwei,
) -> Result<Epoch> {
    let total = get_total_active_balance(state)?;
    compute_consolidation_epoch_and_update_churn_with_total(
        state,
        config,
        consolidation_balance,
        total,
    )
}

/// [`compute_consolidation_epoch_and_update_churn`] given `get_total_active_balance(state)`.
pub fn compute_consolidation_epoch_and_update_churn_with_total<
    P: Preset,
    S: PostElectraState<P>,
>(
    state: &mut S,
    config: &ChainConfig,
    consolidation_balance: Gwei,
    total_active_balance: Gwei,
) -> Result<Epoch> {
    let per_epoch_churn = consolidation_churn_limit::<P>(config, total_active_balance)?;
    let (epoch, to_consume) = consume_churn::<P, S>(
        state,
        state.earliest_consolidation_epoch(),
        state.consolidation_balance_to_consume(),
        per_epoch_churn,
        consolidation_balance,
    )?;
    *state.consolidation_balance_to_consume_mut() = to_consume;
    *state.earliest_consolidation_epoch_mut() = epoch;
    Ok(epoch)
}

/// The churn accounting shared by exits and consolidations: returns the new
/// `(earliest_epoch, balance_to_consume)`.
fn consume_churn<P: Preset, S: PostElectraState<P>>(
    state: &S,
    state_earliest_epoch: Epoch,
    state_balance_to_consume: Gwei,
    per_epoch_churn: Gwei,
    balance: Gwei,
) -> Result<(Epoch, Gwei)> {
    let mut earliest_epoch = state_earliest_epoch.max(compute_activation_exit_epoch::<P>(
        get_current_epoch(state),
    )?);
    // New epoch for exits / consolidations.
    let mut balance_to_consume = if state_earliest_epoch < earliest_epoch {
        per_epoch_churn
    } else {
        state_balance_to_consume
    };
    // The balance doesn't fit in the current earliest epoch.
    if balance > balance_to_consume {
        let balance_to_process = balance.safe_sub(balance_to_consume)?;
        let additional_epochs = balance_to_process
            .safe_sub(1)?
            .safe_div(per_epoch_churn)?
            .safe_add(1)?;
        earliest_epoch.safe_add_assign(additional_epochs)?;
        balance_to_consume.safe_add_assign(additional_epochs.safe_mul(per_epoch_churn)?)?;
    }
    Ok((earliest_epoch, balance_to_consume.safe_sub(balance)?))
}

/// Electra's `slash_validator`. `whistleblower_index = None` rewards the proposer as
/// whistleblower.
pub fn slash_validator<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    caches: &mut Caches,
    slashed_index: ValidatorIndex,
    whistleblower_index: Option<ValidatorIndex>,
) -> Result<()> {
    let total = get_total_active_balance(state)?;
    slash_validator_with_total(
        state,
        config,
        caches,
        slashed_index,
        whistleblower_index,
        total,
    )
}

/// [`slash_validator`] given `get_total_active_balance(state)`.
pub fn slash_validator_with_total<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    caches: &mut Caches,
    slashed_index: ValidatorIndex,
    whistleblower_index: Option<ValidatorIndex>,
    total_active_balance: Gwei,
) -> Result<()> {
    let epoch = get_current_epoch(state);
    initiate_validator_exit_with_total(state, config, slashed_index, total_active_balance)?;
    let min_withdrawable = epoch.safe_add(P::epochs_per_slashings_vector())?;
    let validator = validator_mut(state, slashed_index)?;
    validator.slashed = true;
    validator.withdrawable_epoch = validator.withdrawable_epoch.max(min_withdrawable);
    let effective_balance = validator.effective_balance;

    let slashings_position = to_usize(epoch.safe_rem(P::epochs_per_slashings_vector())?)?;
    let slashings = state.slashings_mut();
    let len = slashings.len();
    slashings
        .get_mut(slashings_position)
        .ok_or_else(|| Error::index("slashings", slashings_position, len))?
        .safe_add_assign(effective_balance)?;

    let slashing_penalty = effective_balance.safe_div(P::MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA)?;
    decrease_balance(state, slashed_index, slashing_penalty)?;

    // Apply proposer and whistleblower rewards
    let proposer_index = state.get_beacon_proposer_index(caches)?;
    let whistleblower_index = whistleblower_index.unwrap_or(proposer_index);
    let whistleblower_reward =
        effective_balance.safe_div(P::WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA)?;
    let proposer_reward = whistleblower_reward
        .safe_mul(PROPOSER_WEIGHT)?
        .safe_div(WEIGHT_DENOMINATOR)?;
    increase_balance(state, proposer_index, proposer_reward)?;
    increase_balance(
        state,
        whistleblower_index,
        whistleblower_reward.safe_sub(proposer_reward)?,
    )?;
    Ok(())
}

/// `switch_to_compounding_validator`: rewrite the credential prefix to `0x02` and queue the
/// balance above `MIN_ACTIVATION_BALANCE` as a pending deposit.
pub fn switch_to_compounding_validator<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    index: ValidatorIndex,
) -> Result<()> {
    let validator = validator_mut(state, index)?;
    if let Some(prefix) = validator.withdrawal_credentials.0.first_mut() {
        *prefix = COMPOUNDING_WITHDRAWAL_PREFIX;
    }
    queue_excess_active_balance(state, index)
}

/// `queue_excess_active_balance`: move the balance above `MIN_ACTIVATION_BALANCE` into a
/// pending deposit (signature `G2_POINT_AT_INFINITY`, slot `GENESIS_SLOT`).
pub fn queue_excess_active_balance<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    index: ValidatorIndex,
) -> Result<()> {
    let balance = get_balance(state, index)?;
    if balance > P::MIN_ACTIVATION_BALANCE {
        let excess_balance = balance.safe_sub(P::MIN_ACTIVATION_BALANCE)?;
        *balance_mut(state, index)? = P::MIN_ACTIVATION_BALANCE;
        let validator = crate::accessors::get_validator(state, index)?;
        let deposit = PendingDeposit {
            pubkey: validator.pubkey,
            withdrawal_credentials: validator.withdrawal_credentials,
            amount: excess_balance,
            signature: SignatureBytes::infinity(),
            slot: GENESIS_SLOT,
        };
        state
            .pending_deposits_mut()
            .push(deposit)
            .map_err(Error::tree("pending_deposits", "push"))?;
    }
    Ok(())
}

/// Electra's `get_validator_from_deposit`.
pub fn get_validator_from_deposit<P: Preset>(
    pubkey: BlsPubkey,
    withdrawal_credentials: Bytes32,
    amount: Gwei,
) -> Result<Validator> {
    let mut validator = Validator {
        pubkey,
        withdrawal_credentials,
        effective_balance: 0,
        slashed: false,
        activation_eligibility_epoch: FAR_FUTURE_EPOCH,
        activation_epoch: FAR_FUTURE_EPOCH,
        exit_epoch: FAR_FUTURE_EPOCH,
        withdrawable_epoch: FAR_FUTURE_EPOCH,
    };
    let max_effective_balance = get_max_effective_balance::<P>(&validator);
    validator.effective_balance = amount
        .safe_sub(amount.safe_rem(P::EFFECTIVE_BALANCE_INCREMENT)?)?
        .min(max_effective_balance);
    Ok(validator)
}

/// Electra's `add_validator_to_registry`: append the validator, its balance, empty
/// participation and a zero inactivity score. Returns the new index.
pub fn add_validator_to_registry<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    pubkey: BlsPubkey,
    withdrawal_credentials: Bytes32,
    amount: Gwei,
) -> Result<ValidatorIndex> {
    let index = state.validators().len() as u64;
    let validator = get_validator_from_deposit::<P>(pubkey, withdrawal_credentials, amount)?;
    let f = state.fields_mut();
    f.validators
        .push(validator)
        .map_err(Error::tree("validators", "push"))?;
    f.balances
        .push(amount)
        .map_err(Error::tree("balances", "push"))?;
    f.previous_epoch_participation
        .push(0)
        .map_err(Error::tree("previous_epoch_participation", "push"))?;
    f.current_epoch_participation
        .push(0)
        .map_err(Error::tree("current_epoch_participation", "push"))?;
    f.inactivity_scores
        .push(0)
        .map_err(Error::tree("inactivity_scores", "push"))?;
    Ok(index)
}

/// `is_valid_deposit_signature`: the proof of possession over `DepositMessage`, in the
/// fork-agnostic deposit domain (`compute_domain(DOMAIN_DEPOSIT)` with the genesis fork version).
/// A malformed key or signature is `false`, as `bls.Verify` returns.
pub fn is_valid_deposit_signature(
    config: &ChainConfig,
    pubkey: &BlsPubkey,
    withdrawal_credentials: Bytes32,
    amount: Gwei,
    signature: &BlsSignature,
) -> bool {
    let message = DepositMessage {
        pubkey: *pubkey,
        withdrawal_credentials,
        amount,
    };
    let domain = config.genesis_domain(DOMAIN_DEPOSIT);
    let signing_root = keel_config::compute_signing_root(&message, domain);
    let (Ok(pk), Ok(sig)) = (
        keel_crypto::PublicKey::from_pubkey_bytes(pubkey),
        keel_crypto::Signature::from_signature_bytes(signature),
    ) else {
        return false;
    };
    sig.verify(&pk, signing_root.as_slice())
}

/// `apply_pending_deposit`: a new validator (if the signature is valid) or a top-up.
///
/// `existing_index` is `validator_pubkeys.index(deposit.pubkey)` if the pubkey is registered;
/// the caller looks it up (see `process_pending_deposits`, which batches the lookups).
pub fn apply_pending_deposit<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    deposit: &PendingDeposit,
    existing_index: Option<ValidatorIndex>,
) -> Result<Option<ValidatorIndex>> {
    match existing_index {
        Some(index) => {
            increase_balance(state, index, deposit.amount)?;
            Ok(Some(index))
        }
        None => {
            if is_valid_deposit_signature(
                config,
                &deposit.pubkey,
                deposit.withdrawal_credentials,
                deposit.amount,
                &deposit.signature,
            ) {
                add_validator_to_registry(
                    state,
                    deposit.pubkey,
                    deposit.withdrawal_credentials,
                    deposit.amount,
                )
                .map(Some)
            } else {
                Ok(None)
            }
        }
    }
}

/// `add_flag(flags, flag_index)`.
#[inline]
pub fn add_flag(flags: u8, flag_index: u64) -> u8 {
    u32::try_from(flag_index)
        .ok()
        .and_then(|i| 1u8.checked_shl(i))
        .map_or(flags, |flag| flags | flag)
}
