//! Withdrawals (Capella, as modified in Electra by EIP-7251): `get_expected_withdrawals` — the
//! pending partial withdrawals first, then the validator sweep — and `process_withdrawals`.

use super::OperationError;
use crate::accessors::{get_current_epoch, get_max_effective_balance, validator};
use crate::error::{Error, Result};
use crate::math::{SafeArith, to_usize};
use crate::mutators::decrease_balance;
use crate::predicates::{
    is_eligible_for_partial_withdrawals, is_fully_withdrawable_validator,
    is_partially_withdrawable_validator,
};
use crate::state::PostElectraState;
use keel_types::capella::Withdrawal;
use keel_types::electra::ExecutionPayload;
use keel_types::{Bytes32, ExecutionAddress, Gwei, Preset, ValidatorIndex, WithdrawalIndex};

/// The spec's `ExpectedWithdrawals` (Electra).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpectedWithdrawals {
    pub withdrawals: Vec<Withdrawal>,
    pub processed_partial_withdrawals_count: u64,
    pub processed_sweep_withdrawals_count: u64,
}

/// `ExecutionAddress(withdrawal_credentials[12:])`.
pub fn withdrawal_address(withdrawal_credentials: &Bytes32) -> ExecutionAddress {
    withdrawal_credentials
        .0
        .last_chunk::<20>()
        .map(|tail| ExecutionAddress::from(*tail))
        .unwrap_or_default()
}

/// `get_balance_after_withdrawals`: the balance minus what `withdrawals` already take from it.
pub fn get_balance_after_withdrawals<P: Preset, S: PostElectraState<P>>(
    state: &S,
    validator_index: ValidatorIndex,
    withdrawals: &[Withdrawal],
) -> Result<Gwei> {
    let mut withdrawn: Gwei = 0;
    for w in withdrawals
        .iter()
        .filter(|w| w.validator_index == validator_index)
    {
        withdrawn.safe_add_assign(w.amount)?;
    }
    Ok(crate::accessors::get_balance(state, validator_index)?.safe_sub(withdrawn)?)
}

/// `get_pending_partial_withdrawals` (Electra): the withdrawable pending partial withdrawals at
/// the head of the queue, up to `MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP` (and one slot short
/// of `MAX_WITHDRAWALS_PER_PAYLOAD`). Returns the withdrawals, the next withdrawal index and how
/// many queue entries were processed.
pub fn get_pending_partial_withdrawals<P: Preset, S: PostElectraState<P>>(
    state: &S,
    mut withdrawal_index: WithdrawalIndex,
    prior_withdrawals: &[Withdrawal],
) -> Result<(Vec<Withdrawal>, WithdrawalIndex, u64)> {
    let epoch = get_current_epoch(state);
    let withdrawals_limit = to_usize(
        (prior_withdrawals.len() as u64)
            .safe_add(P::MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP)?
            .min(P::max_withdrawals_per_payload().safe_sub(1)?),
    )?;
    if prior_withdrawals.len() > withdrawals_limit {
        return Err(Error::index(
            "prior withdrawals (get_pending_partial_withdrawals limit)",
            prior_withdrawals.len(),
            withdrawals_limit,
        ));
    }

    let mut processed_count: u64 = 0;
    let mut all_withdrawals = prior_withdrawals.to_vec();
    let first_new = all_withdrawals.len();
    let validators = state.validators();
    for withdrawal in state.pending_partial_withdrawals().iter() {
        let is_withdrawable = withdrawal.withdrawable_epoch <= epoch;
        let has_reached_limit = all_withdrawals.len() >= withdrawals_limit;
        if !is_withdrawable || has_reached_limit {
            break;
        }

        let validator_index = withdrawal.validator_index;
        let validator = validator(validators, validator_index)?;
        let balance = get_balance_after_withdrawals(state, validator_index, &all_withdrawals)?;
        if is_eligible_for_partial_withdrawals::<P>(validator, balance) {
            let withdrawal_amount = balance
                .safe_sub(P::MIN_ACTIVATION_BALANCE)?
                .min(withdrawal.amount);
            all_withdrawals.push(Withdrawal {
                index: withdrawal_index,
                validator_index,
                address: withdrawal_address(&validator.withdrawal_credentials),
                amount: withdrawal_amount,
            });
            withdrawal_index.safe_add_assign(1)?;
        }
        processed_count.safe_add_assign(1)?;
    }
    all_withdrawals.drain(..first_new);
    Ok((all_withdrawals, withdrawal_index, processed_count))
}

/// `get_validators_sweep_withdrawals` (Electra): full and partial withdrawals of the next
/// `MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP` validators, up to `MAX_WITHDRAWALS_PER_PAYLOAD` in all.
pub fn get_validators_sweep_withdrawals<P: Preset, S: PostElectraState<P>>(
    state: &S,
    mut withdrawal_index: WithdrawalIndex,
    prior_withdrawals: &[Withdrawal],
) -> Result<(Vec<Withdrawal>, WithdrawalIndex, u64)> {
    let epoch = get_current_epoch(state);
    let validators = state.validators();
    let validator_count = validators.len() as u64;
    let validators_limit = validator_count.min(P::MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP);
    let withdrawals_limit = to_usize(P::max_withdrawals_per_payload())?;
    // There must be at least one space reserved for validator sweep withdrawals
    if prior_withdrawals.len() >= withdrawals_limit {
        return Err(Error::index(
            "prior withdrawals (sweep limit)",
            prior_withdrawals.len(),
            withdrawals_limit,
        ));
    }

    let mut processed_count: u64 = 0;
    let mut all_withdrawals = prior_withdrawals.to_vec();
    let first_new = all_withdrawals.len();
    let mut validator_index = state.next_withdrawal_validator_index();
    for _ in 0..validators_limit {
        let has_reached_limit = all_withdrawals.len() >= withdrawals_limit;
        if has_reached_limit {
            break;
        }

        let validator = validator(validators, validator_index)?;
        let balance = get_balance_after_withdrawals(state, validator_index, &all_withdrawals)?;
        if is_fully_withdrawable_validator(validator, balance, epoch) {
            all_withdrawals.push(Withdrawal {
                index: withdrawal_index,
                validator_index,
                address: withdrawal_address(&validator.withdrawal_credentials),
                amount: balance,
            });
            withdrawal_index.safe_add_assign(1)?;
        } else if is_partially_withdrawable_validator::<P>(validator, balance) {
            all_withdrawals.push(Withdrawal {
                index: withdrawal_index,
                validator_index,
                address: withdrawal_address(&validator.withdrawal_credentials),
                amount: balance.safe_sub(get_max_effective_balance::<P>(validator))?,
            });
            withdrawal_index.safe_add_assign(1)?;
        }

        validator_index = validator_index.safe_add(1)?.safe_rem(validator_count)?;
        processed_count.safe_add_assign(1)?;
    }
    all_withdrawals.drain(..first_new);
    Ok((all_withdrawals, withdrawal_index, processed_count))
}

/// `get_expected_withdrawals` (Electra): pending partial withdrawals, then the sweep.
pub fn get_expected_withdrawals<P: Preset, S: PostElectraState<P>>(
    state: &S,
) -> Result<ExpectedWithdrawals> {
    let withdrawal_index = state.next_withdrawal_index();
    let mut withdrawals: Vec<Withdrawal> = Vec::new();

    // Get partial withdrawals
    let (partial_withdrawals, withdrawal_index, processed_partial_withdrawals_count) =
        get_pending_partial_withdrawals(state, withdrawal_index, &withdrawals)?;
    withdrawals.extend(partial_withdrawals);

    // Get validators sweep withdrawals
    let (sweep_withdrawals, _withdrawal_index, processed_sweep_withdrawals_count) =
        get_validators_sweep_withdrawals(state, withdrawal_index, &withdrawals)?;
    withdrawals.extend(sweep_withdrawals);

    Ok(ExpectedWithdrawals {
        withdrawals,
        processed_partial_withdrawals_count,
        processed_sweep_withdrawals_count,
    })
}

/// `apply_withdrawals`: debit each withdrawal from its validator's balance.
pub fn apply_withdrawals<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    withdrawals: &[Withdrawal],
) -> Result<()> {
    for withdrawal in withdrawals {
        decrease_balance(state, withdrawal.validator_index, withdrawal.amount)?;
    }
    Ok(())
}

/// `update_next_withdrawal_index`.
pub fn update_next_withdrawal_index<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    withdrawals: &[Withdrawal],
) -> Result<()> {
    // Update the next withdrawal index if this block contained withdrawals
    if let Some(latest_withdrawal) = withdrawals.last() {
        *state.next_withdrawal_index_mut() = latest_withdrawal.index.safe_add(1)?;
    }
    Ok(())
}

/// `update_pending_partial_withdrawals`: drop the processed head of the queue.
pub fn update_pending_partial_withdrawals<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    processed_partial_withdrawals_count: u64,
) -> Result<()> {
    let count = to_usize(processed_partial_withdrawals_count)?;
    if count == 0 {
        return Ok(());
    }
    state
        .pending_partial_withdrawals_mut()
        .pop_front(count)
        .map_err(Error::tree("pending_partial_withdrawals", "pop_front"))
}

/// `update_next_withdrawal_validator_index`.
pub fn update_next_withdrawal_validator_index<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    withdrawals: &[Withdrawal],
) -> Result<()> {
    let validator_count = state.validators().len() as u64;
    let next_validator_index = match withdrawals.last() {
        // Next sweep starts after the latest withdrawal's validator index
        Some(last) if withdrawals.len() as u64 == P::max_withdrawals_per_payload() => last
            .validator_index
            .safe_add(1)?
            .safe_rem(validator_count)?,
        // Advance sweep by the max length of the sweep if there was not a full set of
        // withdrawals
        _ => state
            .next_withdrawal_validator_index()
            .safe_add(P::MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP)?
            .safe_rem(validator_count)?,
    };
    *state.next_withdrawal_validator_index_mut() = next_validator_index;
    Ok(())
}

/// `process_withdrawals` (Electra): the payload's withdrawals must be exactly the expected ones.
pub fn process_withdrawals<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    payload: &ExecutionPayload<P>,
) -> Result<(), OperationError> {
    // Get expected withdrawals
    let expected = get_expected_withdrawals(state)?;
    let got: &[Withdrawal] = &payload.withdrawals;
    if got != expected.withdrawals.as_slice() {
        let position = got
            .iter()
            .zip(&expected.withdrawals)
            .position(|(g, e)| g != e)
            .unwrap_or_else(|| got.len().min(expected.withdrawals.len()));
        return Err(OperationError::WithdrawalsMismatch(Box::new(
            super::error::WithdrawalsMismatch {
                position,
                got: got.get(position).copied(),
                expected: expected.withdrawals.get(position).copied(),
            },
        )));
    }

    // Apply expected withdrawals
    apply_withdrawals(state, &expected.withdrawals)?;

    // Update withdrawals fields in the state
    update_next_withdrawal_index(state, &expected.withdrawals)?;
    update_pending_partial_withdrawals(state, expected.processed_partial_withdrawals_count)?;
    update_next_withdrawal_validator_index(state, &expected.withdrawals)?;
    Ok(())
}
