//! The spec's predicates (`is_*`, `has_*`), as modified up to Fulu.

use crate::state::PostElectraState;
use keel_config::constants::{
    COMPOUNDING_WITHDRAWAL_PREFIX, ETH1_ADDRESS_WITHDRAWAL_PREFIX, FAR_FUTURE_EPOCH,
};
use keel_types::electra::{AttestationData, Validator};
use keel_types::{Bytes32, Epoch, Gwei, Preset};

/// `is_active_validator`: `activation_epoch <= epoch < exit_epoch`.
#[inline]
pub fn is_active_validator(validator: &Validator, epoch: Epoch) -> bool {
    validator.activation_epoch <= epoch && epoch < validator.exit_epoch
}

/// `is_eligible_for_activation_queue` (Electra: `effective_balance >= MIN_ACTIVATION_BALANCE`).
#[inline]
pub fn is_eligible_for_activation_queue<P: Preset>(validator: &Validator) -> bool {
    validator.activation_eligibility_epoch == FAR_FUTURE_EPOCH
        && validator.effective_balance >= P::MIN_ACTIVATION_BALANCE
}

/// `is_eligible_for_activation`: placed in the queue at a finalized epoch, not yet activated.
#[inline]
pub fn is_eligible_for_activation<P: Preset, S: PostElectraState<P>>(
    state: &S,
    validator: &Validator,
) -> bool {
    validator.activation_eligibility_epoch <= state.finalized_checkpoint().epoch
        && validator.activation_epoch == FAR_FUTURE_EPOCH
}

/// `is_slashable_validator`: not slashed, and `activation_epoch <= epoch < withdrawable_epoch`.
#[inline]
pub fn is_slashable_validator(validator: &Validator, epoch: Epoch) -> bool {
    !validator.slashed
        && validator.activation_epoch <= epoch
        && epoch < validator.withdrawable_epoch
}

/// `is_slashable_attestation_data`: a double vote or a surround vote.
pub fn is_slashable_attestation_data(data_1: &AttestationData, data_2: &AttestationData) -> bool {
    // Double vote
    (data_1 != data_2 && data_1.target.epoch == data_2.target.epoch)
        // Surround vote
        || (data_1.source.epoch < data_2.source.epoch && data_2.target.epoch < data_1.target.epoch)
}

/// `has_eth1_withdrawal_credential`: a `0x01` credential.
#[inline]
pub fn has_eth1_withdrawal_credential(validator: &Validator) -> bool {
    validator.withdrawal_credentials.first() == Some(&ETH1_ADDRESS_WITHDRAWAL_PREFIX)
}

/// `is_compounding_withdrawal_credential`: a `0x02` credential.
#[inline]
pub fn is_compounding_withdrawal_credential(withdrawal_credentials: &Bytes32) -> bool {
    withdrawal_credentials.first() == Some(&COMPOUNDING_WITHDRAWAL_PREFIX)
}

/// `has_compounding_withdrawal_credential`.
#[inline]
pub fn has_compounding_withdrawal_credential(validator: &Validator) -> bool {
    is_compounding_withdrawal_credential(&validator.withdrawal_credentials)
}

/// `has_execution_withdrawal_credential`: `0x01` or `0x02`.
#[inline]
pub fn has_execution_withdrawal_credential(validator: &Validator) -> bool {
    has_eth1_withdrawal_credential(validator) || has_compounding_withdrawal_credential(validator)
}

/// `is_fully_withdrawable_validator` (Electra).
#[inline]
pub fn is_fully_withdrawable_validator(validator: &Validator, balance: Gwei, epoch: Epoch) -> bool {
    has_execution_withdrawal_credential(validator)
        && validator.withdrawable_epoch <= epoch
        && balance > 0
}

/// `is_partially_withdrawable_validator` (Electra).
#[inline]
pub fn is_partially_withdrawable_validator<P: Preset>(
    validator: &Validator,
    balance: Gwei,
) -> bool {
    let max_effective_balance = crate::accessors::get_max_effective_balance::<P>(validator);
    has_execution_withdrawal_credential(validator)
        && validator.effective_balance == max_effective_balance
        && balance > max_effective_balance
}

/// `is_eligible_for_partial_withdrawals` (Electra).
#[inline]
pub fn is_eligible_for_partial_withdrawals<P: Preset>(
    validator: &Validator,
    balance: Gwei,
) -> bool {
    validator.exit_epoch == FAR_FUTURE_EPOCH
        && validator.effective_balance >= P::MIN_ACTIVATION_BALANCE
        && balance > P::MIN_ACTIVATION_BALANCE
}

/// `has_flag(flags, flag_index)`; flag indices past 7 are never set.
#[inline]
pub fn has_flag(flags: u8, flag_index: u64) -> bool {
    u32::try_from(flag_index)
        .ok()
        .and_then(|i| 1u8.checked_shl(i))
        .is_some_and(|flag| flags & flag == flag)
}
