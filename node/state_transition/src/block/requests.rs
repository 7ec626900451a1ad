//! Execution-layer requests (Electra): `process_deposit_request` (EIP-6110; Fulu no longer
//! records `deposit_requests_start_index`), `process_withdrawal_request` (EIP-7002) and
//! `process_consolidation_request` (EIP-7251).
//!
//! Invalid requests are ignored, not errors: the execution layer has already accepted them.
//! Errors here are only failures the spec would raise on (arithmetic, full lists).

use super::withdrawals::withdrawal_address;
use super::{BlockContext, BlockState, OperationError, deposit_requests_start_index_unset};
use crate::accessors::{
    consolidation_churn_limit, get_balance, get_current_epoch, get_pending_balance_to_withdraw,
    get_validator,
};
use crate::error::Error;
use crate::math::SafeArith;
use crate::mutators::{
    compute_consolidation_epoch_and_update_churn_with_total,
    compute_exit_epoch_and_update_churn_with_total, initiate_validator_exit_with_total,
    switch_to_compounding_validator, validator_mut,
};
use crate::predicates::{
    has_compounding_withdrawal_credential, has_eth1_withdrawal_credential,
    has_execution_withdrawal_credential, is_active_validator,
};
use crate::state::PostElectraState;
use keel_config::constants::{FAR_FUTURE_EPOCH, FULL_EXIT_REQUEST_AMOUNT};
use keel_types::electra::{
    ConsolidationRequest, DepositRequest, PendingConsolidation, PendingDeposit,
    PendingPartialWithdrawal, WithdrawalRequest,
};
use keel_types::typenum::Unsigned;
use keel_types::{Preset, ValidatorIndex};

/// `process_deposit_request`: queue the deposit (Electra also records the first request's
/// index in `deposit_requests_start_index`).
pub fn process_deposit_request<P: Preset, S: BlockState<P>>(
    state: &mut S,
    deposit_request: &DepositRequest,
) -> Result<(), OperationError> {
    // Set deposit request start index
    if S::RECORDS_DEPOSIT_REQUESTS_START_INDEX && deposit_requests_start_index_unset(state) {
        *state.deposit_requests_start_index_mut() = deposit_request.index;
    }

    let slot = state.slot();
    state
        .pending_deposits_mut()
        .push(PendingDeposit {
            pubkey: deposit_request.pubkey,
            withdrawal_credentials: deposit_request.withdrawal_credentials,
            amount: deposit_request.amount,
            signature: deposit_request.signature,
            slot,
        })
        .map_err(Error::tree("pending_deposits", "push"))?;
    Ok(())
}

/// `process_withdrawal_request`: a full exit, or (for compounding validators) a partial
/// withdrawal of the balance above `MIN_ACTIVATION_BALANCE` through the exit churn.
pub fn process_withdrawal_request<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    withdrawal_request: &WithdrawalRequest,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let amount = withdrawal_request.amount;
    let is_full_exit_request = amount == FULL_EXIT_REQUEST_AMOUNT;

    // If partial withdrawal queue is full, only full exits are processed
    if state.pending_partial_withdrawals().len() as u64
        == P::PendingPartialWithdrawalsLimit::to_u64()
        && !is_full_exit_request
    {
        return Ok(());
    }

    // Verify pubkey exists
    let Some(index) = ctx
        .pubkeys
        .index_of(&*state, &withdrawal_request.validator_pubkey)
    else {
        return Ok(());
    };
    let validator = get_validator(state, index)?;

    // Verify withdrawal credentials
    let has_correct_credential = has_execution_withdrawal_credential(validator);
    let is_correct_source_address =
        withdrawal_address(&validator.withdrawal_credentials) == withdrawal_request.source_address;
    if !(has_correct_credential && is_correct_source_address) {
        return Ok(());
    }
    // Verify the validator is active
    let current_epoch = get_current_epoch(state);
    if !is_active_validator(validator, current_epoch) {
        return Ok(());
    }
    // Verify exit has not been initiated
    if validator.exit_epoch != FAR_FUTURE_EPOCH {
        return Ok(());
    }
    // Verify the validator has been active long enough
    if current_epoch
        < validator
            .activation_epoch
            .safe_add(ctx.config.shard_committee_period)?
    {
        return Ok(());
    }

    let pending_balance_to_withdraw = get_pending_balance_to_withdraw(state, index)?;

    if is_full_exit_request {
        // Only exit validator if it has no pending withdrawals in the queue
        if pending_balance_to_withdraw == 0 {
            let total_active_balance = ctx.total_active_balance(&*state)?;
            initiate_validator_exit_with_total(state, ctx.config, index, total_active_balance)?;
        }
        return Ok(());
    }

    let balance = get_balance(state, index)?;
    let has_sufficient_effective_balance = validator.effective_balance >= P::MIN_ACTIVATION_BALANCE;
    let has_excess_balance =
        balance > P::MIN_ACTIVATION_BALANCE.safe_add(pending_balance_to_withdraw)?;

    // Only allow partial withdrawals with compounding withdrawal credentials
    if has_compounding_withdrawal_credential(validator)
        && has_sufficient_effective_balance
        && has_excess_balance
    {
        let to_withdraw = balance
            .safe_sub(P::MIN_ACTIVATION_BALANCE)?
            .safe_sub(pending_balance_to_withdraw)?
            .min(amount);
        let total_active_balance = ctx.total_active_balance(&*state)?;
        let exit_queue_epoch = compute_exit_epoch_and_update_churn_with_total(
            state,
            ctx.config,
            to_withdraw,
            total_active_balance,
        )?;
        let withdrawable_epoch =
            exit_queue_epoch.safe_add(ctx.config.min_validator_withdrawability_delay)?;
        state
            .pending_partial_withdrawals_mut()
            .push(PendingPartialWithdrawal {
                validator_index: index,
                amount: to_withdraw,
                withdrawable_epoch,
            })
            .map_err(Error::tree("pending_partial_withdrawals", "push"))?;
    }
    Ok(())
}

/// `is_valid_switch_to_compounding_request`; returns the source index when valid.
pub fn is_valid_switch_to_compounding_request<P: Preset, S: PostElectraState<P>>(
    state: &S,
    ctx: &BlockContext<'_>,
    consolidation_request: &ConsolidationRequest,
) -> Result<Option<ValidatorIndex>, OperationError> {
    // Switch to compounding requires source and target be equal
    if consolidation_request.source_pubkey != consolidation_request.target_pubkey {
        return Ok(None);
    }

    // Verify pubkey exists
    let Some(source_index) = ctx
        .pubkeys
        .index_of(state, &consolidation_request.source_pubkey)
    else {
        return Ok(None);
    };
    let source_validator = get_validator(state, source_index)?;

    // Verify request has been authorized
    if withdrawal_address(&source_validator.withdrawal_credentials)
        != consolidation_request.source_address
    {
        return Ok(None);
    }

    // Verify source withdrawal credentials
    if !has_eth1_withdrawal_credential(source_validator) {
        return Ok(None);
    }

    // Verify the source is active
    if !is_active_validator(source_validator, get_current_epoch(state)) {
        return Ok(None);
    }

    // Verify exit for source has not been initiated
    if source_validator.exit_epoch != FAR_FUTURE_EPOCH {
        return Ok(None);
    }

    Ok(Some(source_index))
}

/// `process_consolidation_request`: a switch to compounding credentials, or a consolidation of
/// the source into the target through the consolidation churn.
pub fn process_consolidation_request<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    consolidation_request: &ConsolidationRequest,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    if let Some(source_index) =
        is_valid_switch_to_compounding_request(&*state, ctx, consolidation_request)?
    {
        switch_to_compounding_validator(state, source_index)?;
        return Ok(());
    }

    // Verify that source != target, so a consolidation cannot be used as an exit
    if consolidation_request.source_pubkey == consolidation_request.target_pubkey {
        return Ok(());
    }
    // If the pending consolidations queue is full, consolidation requests are ignored
    if state.pending_consolidations().len() as u64 == P::PendingConsolidationsLimit::to_u64() {
        return Ok(());
    }
    // If there is too little available consolidation churn limit, consolidation requests are
    // ignored
    let total_active_balance = ctx.total_active_balance(&*state)?;
    if consolidation_churn_limit::<P>(ctx.config, total_active_balance)?
        <= P::MIN_ACTIVATION_BALANCE
    {
        return Ok(());
    }

    // Verify pubkeys exists
    let Some(source_index) = ctx
        .pubkeys
        .index_of(&*state, &consolidation_request.source_pubkey)
    else {
        return Ok(());
    };
    let Some(target_index) = ctx
        .pubkeys
        .index_of(&*state, &consolidation_request.target_pubkey)
    else {
        return Ok(());
    };
    let source_validator = get_validator(state, source_index)?;
    let target_validator = get_validator(state, target_index)?;

    // Verify source withdrawal credentials
    let has_correct_credential = has_execution_withdrawal_credential(source_validator);
    let is_correct_source_address = withdrawal_address(&source_validator.withdrawal_credentials)
        == consolidation_request.source_address;
    if !(has_correct_credential && is_correct_source_address) {
        return Ok(());
    }

    // Verify that target has compounding withdrawal credentials
    if !has_compounding_withdrawal_credential(target_validator) {
        return Ok(());
    }

    // Verify the source and the target are active
    let current_epoch = get_current_epoch(state);
    if !is_active_validator(source_validator, current_epoch) {
        return Ok(());
    }
    if !is_active_validator(target_validator, current_epoch) {
        return Ok(());
    }
    // Verify exits for source and target have not been initiated
    if source_validator.exit_epoch != FAR_FUTURE_EPOCH {
        return Ok(());
    }
    if target_validator.exit_epoch != FAR_FUTURE_EPOCH {
        return Ok(());
    }
    // Verify the source has been active long enough
    if current_epoch
        < source_validator
            .activation_epoch
            .safe_add(ctx.config.shard_committee_period)?
    {
        return Ok(());
    }
    // Verify the source has no pending withdrawals in the queue
    if get_pending_balance_to_withdraw(state, source_index)? > 0 {
        return Ok(());
    }

    // Initiate source validator exit and append pending consolidation
    let effective_balance = source_validator.effective_balance;
    let exit_epoch = compute_consolidation_epoch_and_update_churn_with_total(
        state,
        ctx.config,
        effective_balance,
        total_active_balance,
    )?;
    let withdrawable_epoch = exit_epoch.safe_add(ctx.config.min_validator_withdrawability_delay)?;
    let source_validator = validator_mut(state, source_index)?;
    source_validator.exit_epoch = exit_epoch;
    source_validator.withdrawable_epoch = withdrawable_epoch;
    state
        .pending_consolidations_mut()
        .push(PendingConsolidation {
            source_index,
            target_index,
        })
        .map_err(Error::tree("pending_consolidations", "push"))?;
    Ok(())
}
