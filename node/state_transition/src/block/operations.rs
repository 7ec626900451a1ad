//! `process_operations` (Electra, and Fulu without Eth1 bridge deposits) and the operations
//! carried over from earlier forks: proposer and attester slashings, `process_deposit`
//! (Electra's `apply_deposit`), voluntary exits (Electra) and BLS-to-execution changes.

use super::attestation::{is_valid_indexed_attestation, process_attestation};
use super::requests::{
    process_consolidation_request, process_deposit_request, process_withdrawal_request,
};
use super::{BlockContext, BlockError, BlockState, OperationError, check_signature};
use crate::accessors::{get_current_epoch, get_pending_balance_to_withdraw, get_validator};
use crate::error::Error;
use crate::math::SafeArith;
use crate::mutators::{
    add_validator_to_registry, initiate_validator_exit_with_total, is_valid_deposit_signature,
    slash_validator_with_total, validator_mut,
};
use crate::predicates::{
    is_active_validator, is_slashable_attestation_data, is_slashable_validator,
};
use crate::signature_sets::{
    SignatureOrigin, bls_to_execution_change_set, proposer_slashing_header_set, voluntary_exit_set,
};
use crate::state::PostElectraState;
use ethereum_hashing::hash_fixed;
use keel_config::constants::{
    BLS_WITHDRAWAL_PREFIX, DEPOSIT_CONTRACT_TREE_DEPTH, ETH1_ADDRESS_WITHDRAWAL_PREFIX,
    FAR_FUTURE_EPOCH, GENESIS_SLOT,
};
use keel_types::electra::{
    AttesterSlashing, BeaconBlockBody, Deposit, PendingDeposit, ProposerSlashing,
    SignedBLSToExecutionChange, SignedVoluntaryExit,
};
use keel_types::tree_hash::TreeHash;
use keel_types::{BlsPubkey, BlsSignature, Bytes32, Gwei, Preset};

/// `process_operations`: the deposit-count check, then every operation list in spec order.
/// Errors name the operation's list and position.
pub fn process_operations<P: Preset, S: BlockState<P>>(
    state: &mut S,
    body: &BeaconBlockBody<P>,
    ctx: &mut BlockContext<'_>,
) -> Result<(), BlockError> {
    // Disable former deposit mechanism once all prior deposits are processed (Electra); no
    // deposits at all (Fulu)
    let expected = state
        .expected_deposit_count()
        .map_err(|e| BlockError::Deposit {
            index: 0,
            reason: e.into(),
        })?;
    let got = body.deposits.len() as u64;
    if got != expected {
        return Err(BlockError::DepositCount { expected, got });
    }

    for (index, op) in body.proposer_slashings.iter().enumerate() {
        process_proposer_slashing(state, op, index, ctx)
            .map_err(|reason| BlockError::ProposerSlashing { index, reason })?;
    }
    for (index, op) in body.attester_slashings.iter().enumerate() {
        process_attester_slashing(state, op, index, ctx)
            .map_err(|reason| BlockError::AttesterSlashing { index, reason })?;
    }
    for (index, op) in body.attestations.iter().enumerate() {
        process_attestation(state, op, index, ctx)
            .map_err(|reason| BlockError::Attestation { index, reason })?;
    }
    for (index, op) in body.deposits.iter().enumerate() {
        process_deposit(state, op, ctx).map_err(|reason| BlockError::Deposit { index, reason })?;
    }
    for (index, op) in body.voluntary_exits.iter().enumerate() {
        process_voluntary_exit(state, op, index, ctx)
            .map_err(|reason| BlockError::VoluntaryExit { index, reason })?;
    }
    for (index, op) in body.bls_to_execution_changes.iter().enumerate() {
        process_bls_to_execution_change(state, op, index, ctx)
            .map_err(|reason| BlockError::BlsToExecutionChange { index, reason })?;
    }
    let requests = &body.execution_requests;
    for (index, op) in requests.deposits.iter().enumerate() {
        process_deposit_request(state, op)
            .map_err(|reason| BlockError::DepositRequest { index, reason })?;
    }
    for (index, op) in requests.withdrawals.iter().enumerate() {
        process_withdrawal_request(state, op, ctx)
            .map_err(|reason| BlockError::WithdrawalRequest { index, reason })?;
    }
    for (index, op) in requests.consolidations.iter().enumerate() {
        process_consolidation_request(state, op, ctx)
            .map_err(|reason| BlockError::ConsolidationRequest { index, reason })?;
    }
    Ok(())
}

/// `process_proposer_slashing`. `index` is the slashing's position in the block.
pub fn process_proposer_slashing<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    proposer_slashing: &ProposerSlashing,
    index: usize,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let header_1 = &proposer_slashing.signed_header_1.message;
    let header_2 = &proposer_slashing.signed_header_2.message;

    // Verify header slots match
    if header_1.slot != header_2.slot {
        return Err(OperationError::HeaderSlotMismatch(
            header_1.slot,
            header_2.slot,
        ));
    }
    // Verify header proposer indices match
    if header_1.proposer_index != header_2.proposer_index {
        return Err(OperationError::HeaderProposerMismatch(
            header_1.proposer_index,
            header_2.proposer_index,
        ));
    }
    // Verify the headers are different
    if header_1 == header_2 {
        return Err(OperationError::HeadersEqual);
    }
    // Verify the proposer is slashable
    let proposer = get_validator(state, header_1.proposer_index)?;
    if !is_slashable_validator(proposer, get_current_epoch(state)) {
        return Err(OperationError::NotSlashable(header_1.proposer_index));
    }
    // Verify signatures
    for (signed_header, header) in [
        (&proposer_slashing.signed_header_1, 1),
        (&proposer_slashing.signed_header_2, 2),
    ] {
        let state: &S = state;
        check_signature(
            ctx,
            SignatureOrigin::ProposerSlashing { index, header },
            |pubkeys| proposer_slashing_header_set(state, pubkeys, signed_header),
        )?;
    }

    let total_active_balance = ctx.total_active_balance(&*state)?;
    slash_validator_with_total(
        state,
        ctx.config,
        ctx.caches,
        header_1.proposer_index,
        None,
        total_active_balance,
    )?;
    Ok(())
}

/// `process_attester_slashing`. `index` is the slashing's position in the block.
pub fn process_attester_slashing<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    attester_slashing: &AttesterSlashing<P>,
    index: usize,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let attestation_1 = &attester_slashing.attestation_1;
    let attestation_2 = &attester_slashing.attestation_2;
    if !is_slashable_attestation_data(&attestation_1.data, &attestation_2.data) {
        return Err(OperationError::NotSlashableAttestationData);
    }
    for (attestation, which) in [(attestation_1, 1), (attestation_2, 2)] {
        is_valid_indexed_attestation(
            &*state,
            ctx,
            SignatureOrigin::AttesterSlashing {
                index,
                attestation: which,
            },
            attestation,
        )
        .map_err(|reason| OperationError::InvalidIndexedAttestation { which, reason })?;
    }

    // Both index lists are sorted and unique (checked above): intersect by merging.
    let (mut a, mut b) = (
        attestation_1.attesting_indices.iter().peekable(),
        attestation_2.attesting_indices.iter().peekable(),
    );
    let mut indices = Vec::new();
    while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => {
                a.next();
            }
            std::cmp::Ordering::Greater => {
                b.next();
            }
            std::cmp::Ordering::Equal => {
                indices.push(x);
                a.next();
                b.next();
            }
        }
    }

    let mut slashed_any = false;
    let current_epoch = get_current_epoch(state);
    for validator_index in indices {
        if is_slashable_validator(get_validator(state, validator_index)?, current_epoch) {
            let total_active_balance = ctx.total_active_balance(&*state)?;
            slash_validator_with_total(
                state,
                ctx.config,
                ctx.caches,
                validator_index,
                None,
                total_active_balance,
            )?;
            slashed_any = true;
        }
    }
    if !slashed_any {
        return Err(OperationError::NoValidatorSlashed);
    }
    Ok(())
}

/// `process_deposit` (Electra): verify the deposit's Merkle proof against `eth1_data`, advance
/// `eth1_deposit_index`, and apply the deposit.
pub fn process_deposit<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    deposit: &Deposit,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    // Verify the Merkle branch
    let deposit_index = state.eth1_deposit_index();
    let valid = crate::merkle::is_valid_merkle_branch(
        deposit.data.tree_hash_root(),
        &deposit.proof,
        // Add 1 for the List length mix-in
        usize::try_from(DEPOSIT_CONTRACT_TREE_DEPTH.safe_add(1)?)
            .map_err(|_| Error::UsizeOverflow(DEPOSIT_CONTRACT_TREE_DEPTH))?,
        deposit_index,
        state.eth1_data().deposit_root,
    );
    if !valid {
        return Err(OperationError::InvalidDepositProof(deposit_index));
    }

    // Deposits must be processed in order
    *state.eth1_deposit_index_mut() = deposit_index.safe_add(1)?;

    apply_deposit(
        state,
        ctx,
        deposit.data.pubkey,
        deposit.data.withdrawal_credentials,
        deposit.data.amount,
        deposit.data.signature,
    )
}

/// `apply_deposit` (Electra): a new pubkey with a valid proof of possession becomes a validator
/// with zero balance; the amount is queued as a pending deposit (slot `GENESIS_SLOT`).
pub fn apply_deposit<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    ctx: &mut BlockContext<'_>,
    pubkey: BlsPubkey,
    withdrawal_credentials: Bytes32,
    amount: Gwei,
    signature: BlsSignature,
) -> Result<(), OperationError> {
    if ctx.pubkeys.index_of(&*state, &pubkey).is_none() {
        // Verify the deposit signature (proof of possession) which is not checked by the deposit
        // contract. Always verified: it decides the outcome, it is not a validity check.
        if is_valid_deposit_signature(
            ctx.config,
            &pubkey,
            withdrawal_credentials,
            amount,
            &signature,
        ) {
            add_validator_to_registry(state, pubkey, withdrawal_credentials, 0)?;
        } else {
            return Ok(());
        }
    }

    // Increase balance by deposit amount
    state
        .pending_deposits_mut()
        .push(PendingDeposit {
            pubkey,
            withdrawal_credentials,
            amount,
            signature,
            // Use GENESIS_SLOT to distinguish from a pending deposit request
            slot: GENESIS_SLOT,
        })
        .map_err(Error::tree("pending_deposits", "push"))?;
    Ok(())
}

/// `process_voluntary_exit` (Electra). `index` is the exit's position in the block.
pub fn process_voluntary_exit<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    signed_voluntary_exit: &SignedVoluntaryExit,
    index: usize,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let voluntary_exit = &signed_voluntary_exit.message;
    let validator_index = voluntary_exit.validator_index;
    let validator = get_validator(state, validator_index)?;
    let current_epoch = get_current_epoch(state);
    // Verify the validator is active
    if !is_active_validator(validator, current_epoch) {
        return Err(OperationError::ValidatorNotActive(validator_index));
    }
    // Verify exit has not been initiated
    if validator.exit_epoch != FAR_FUTURE_EPOCH {
        return Err(OperationError::ExitAlreadyInitiated(validator_index));
    }
    // Exits must specify an epoch when they become valid; they are not valid before then
    if current_epoch < voluntary_exit.epoch {
        return Err(OperationError::ExitNotYetValid {
            exit: voluntary_exit.epoch,
            current: current_epoch,
        });
    }
    // Verify the validator has been active long enough
    if current_epoch
        < validator
            .activation_epoch
            .safe_add(ctx.config.shard_committee_period)?
    {
        return Err(OperationError::NotActiveLongEnough(validator_index));
    }
    // Only exit validator if it has no pending withdrawals in the queue
    let pending = get_pending_balance_to_withdraw(state, validator_index)?;
    if pending != 0 {
        return Err(OperationError::PendingWithdrawals {
            index: validator_index,
            amount: pending,
        });
    }
    // Verify signature
    {
        let state: &S = state;
        let config = ctx.config;
        check_signature(ctx, SignatureOrigin::VoluntaryExit { index }, |pubkeys| {
            voluntary_exit_set(state, config, pubkeys, signed_voluntary_exit)
        })?;
    }
    // Initiate exit
    let total_active_balance = ctx.total_active_balance(&*state)?;
    initiate_validator_exit_with_total(state, ctx.config, validator_index, total_active_balance)?;
    Ok(())
}

/// `process_bls_to_execution_change`. `index` is the change's position in the block.
pub fn process_bls_to_execution_change<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    signed_address_change: &SignedBLSToExecutionChange,
    index: usize,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let address_change = &signed_address_change.message;
    let validator_index = address_change.validator_index;
    let validator = get_validator(state, validator_index)?;

    let credentials = validator.withdrawal_credentials.0;
    if credentials.first() != Some(&BLS_WITHDRAWAL_PREFIX) {
        return Err(OperationError::NotBlsWithdrawalCredentials(validator_index));
    }
    let pubkey_hash = hash_fixed(address_change.from_bls_pubkey.as_ref());
    if credentials.get(1..) != pubkey_hash.get(1..) {
        return Err(OperationError::WithdrawalCredentialsMismatch(
            validator_index,
        ));
    }

    // Fork-agnostic domain since address changes are valid across forks
    {
        let state: &S = state;
        let config = ctx.config;
        check_signature(ctx, SignatureOrigin::BlsToExecutionChange { index }, |_| {
            bls_to_execution_change_set(state, config, signed_address_change)
        })?;
    }

    let mut new_credentials = [0u8; 32];
    new_credentials[0] = ETH1_ADDRESS_WITHDRAWAL_PREFIX;
    new_credentials[12..].copy_from_slice(address_change.to_execution_address.as_slice());
    validator_mut(state, validator_index)?.withdrawal_credentials = Bytes32::from(new_credentials);
    Ok(())
}
