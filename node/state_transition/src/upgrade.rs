//! Fork upgrades: `upgrade_to_electra` (`specs/electra/fork.md`) and `upgrade_to_fulu`
//! (`specs/fulu/fork.md`). Each consumes the previous fork's state and returns the next one's;
//! persistent lists move over without copying.

use crate::accessors::{
    compute_activation_exit_epoch, compute_epoch_at_slot, get_activation_exit_churn_limit,
    get_beacon_proposer_indices, get_consolidation_churn_limit, get_current_epoch,
};
use crate::cache::Caches;
use crate::error::{Error, Result};
use crate::math::{SafeArith, to_usize};
use crate::mutators::queue_excess_active_balance;
use crate::predicates::has_compounding_withdrawal_credential;
use crate::state::PostElectraFields;
use keel_config::ChainConfig;
use keel_config::constants::{FAR_FUTURE_EPOCH, GENESIS_SLOT, UNSET_DEPOSIT_REQUESTS_START_INDEX};
use keel_types::milhouse::{List, Vector};
use keel_types::phase0::Fork;
use keel_types::{Epoch, Preset, SignatureBytes, ValidatorIndex, deneb, electra, fulu};

/// `upgrade_to_electra`.
pub fn upgrade_to_electra<P: Preset>(
    pre: deneb::BeaconState<P>,
    config: &ChainConfig,
) -> Result<electra::BeaconState<P>> {
    let epoch = compute_epoch_at_slot::<P>(pre.slot);

    let mut earliest_exit_epoch = compute_activation_exit_epoch::<P>(epoch)?;
    for validator in pre.validators.iter() {
        if validator.exit_epoch != FAR_FUTURE_EPOCH {
            earliest_exit_epoch = earliest_exit_epoch.max(validator.exit_epoch);
        }
    }
    earliest_exit_epoch.safe_add_assign(1)?;

    let mut post = electra::BeaconState {
        genesis_time: pre.genesis_time,
        genesis_validators_root: pre.genesis_validators_root,
        slot: pre.slot,
        fork: Fork {
            previous_version: pre.fork.current_version,
            current_version: config.electra_fork_version,
            epoch,
        },
        latest_block_header: pre.latest_block_header,
        block_roots: pre.block_roots,
        state_roots: pre.state_roots,
        historical_roots: pre.historical_roots,
        eth1_data: pre.eth1_data,
        eth1_data_votes: pre.eth1_data_votes,
        eth1_deposit_index: pre.eth1_deposit_index,
        validators: pre.validators,
        balances: pre.balances,
        randao_mixes: pre.randao_mixes,
        slashings: pre.slashings,
        previous_epoch_participation: pre.previous_epoch_participation,
        current_epoch_participation: pre.current_epoch_participation,
        justification_bits: pre.justification_bits,
        previous_justified_checkpoint: pre.previous_justified_checkpoint,
        current_justified_checkpoint: pre.current_justified_checkpoint,
        finalized_checkpoint: pre.finalized_checkpoint,
        inactivity_scores: pre.inactivity_scores,
        current_sync_committee: pre.current_sync_committee,
        next_sync_committee: pre.next_sync_committee,
        latest_execution_payload_header: pre.latest_execution_payload_header,
        next_withdrawal_index: pre.next_withdrawal_index,
        next_withdrawal_validator_index: pre.next_withdrawal_validator_index,
        historical_summaries: pre.historical_summaries,
        deposit_requests_start_index: UNSET_DEPOSIT_REQUESTS_START_INDEX,
        deposit_balance_to_consume: 0,
        exit_balance_to_consume: 0,
        earliest_exit_epoch,
        consolidation_balance_to_consume: 0,
        earliest_consolidation_epoch: compute_activation_exit_epoch::<P>(epoch)?,
        pending_deposits: List::default(),
        pending_partial_withdrawals: List::default(),
        pending_consolidations: List::default(),
    };

    post.exit_balance_to_consume = get_activation_exit_churn_limit(&post, config)?;
    post.consolidation_balance_to_consume = get_consolidation_churn_limit(&post, config)?;

    // Validators not yet active re-enter through the pending-deposit queue, in order of
    // eligibility.
    let mut pre_activation: Vec<(Epoch, ValidatorIndex)> = post
        .validators
        .iter()
        .zip(0u64..)
        .filter(|(v, _)| v.activation_epoch == FAR_FUTURE_EPOCH)
        .map(|(v, index)| (v.activation_eligibility_epoch, index))
        .collect();
    pre_activation.sort_unstable();
    for (_, index) in pre_activation {
        let i = to_usize(index)?;
        let balance = post
            .balances
            .get_mut(i)
            .ok_or_else(|| Error::index("balances", index, 0))?;
        let amount = std::mem::take(balance);
        let validator = post
            .validators
            .get_mut(i)
            .ok_or_else(|| Error::index("validators", index, 0))?;
        validator.effective_balance = 0;
        validator.activation_eligibility_epoch = FAR_FUTURE_EPOCH;
        let deposit = electra::PendingDeposit {
            pubkey: validator.pubkey,
            withdrawal_credentials: validator.withdrawal_credentials,
            amount,
            signature: SignatureBytes::infinity(),
            slot: GENESIS_SLOT,
        };
        post.pending_deposits
            .push(deposit)
            .map_err(Error::tree("pending_deposits", "push"))?;
    }

    // Early adopters of compounding credentials go through the activation churn.
    let compounding: Vec<ValidatorIndex> = post
        .validators
        .iter()
        .zip(0u64..)
        .filter(|(v, _)| has_compounding_withdrawal_credential(v))
        .map(|(_, index)| index)
        .collect();
    for index in compounding {
        queue_excess_active_balance(&mut post, index)?;
    }
    post.apply_pending_updates()?;
    Ok(post)
}

/// `initialize_proposer_lookahead`: the proposers of the current epoch and the next
/// `MIN_SEED_LOOKAHEAD` epochs.
pub fn initialize_proposer_lookahead<P: Preset>(
    state: &electra::BeaconState<P>,
    caches: &mut Caches,
) -> Result<Vector<ValidatorIndex, P::ProposerLookaheadSlots>> {
    let current_epoch = get_current_epoch(state);
    let mut lookahead = Vec::new();
    for i in 0..=P::MIN_SEED_LOOKAHEAD {
        lookahead.extend(get_beacon_proposer_indices(
            state,
            caches,
            current_epoch.safe_add(i)?,
        )?);
    }
    Vector::new(lookahead).map_err(Error::tree("proposer_lookahead", "new"))
}

/// `upgrade_to_fulu`.
pub fn upgrade_to_fulu<P: Preset>(
    pre: electra::BeaconState<P>,
    config: &ChainConfig,
    caches: &mut Caches,
) -> Result<fulu::BeaconState<P>> {
    let epoch = get_current_epoch(&pre);
    let proposer_lookahead = initialize_proposer_lookahead(&pre, caches)?;
    Ok(fulu::BeaconState {
        genesis_time: pre.genesis_time,
        genesis_validators_root: pre.genesis_validators_root,
        slot: pre.slot,
        fork: Fork {
            previous_version: pre.fork.current_version,
            current_version: config.fulu_fork_version,
            epoch,
        },
        latest_block_header: pre.latest_block_header,
        block_roots: pre.block_roots,
        state_roots: pre.state_roots,
        historical_roots: pre.historical_roots,
        eth1_data: pre.eth1_data,
        eth1_data_votes: pre.eth1_data_votes,
        eth1_deposit_index: pre.eth1_deposit_index,
        validators: pre.validators,
        balances: pre.balances,
        randao_mixes: pre.randao_mixes,
        slashings: pre.slashings,
        previous_epoch_participation: pre.previous_epoch_participation,
        current_epoch_participation: pre.current_epoch_participation,
        justification_bits: pre.justification_bits,
        previous_justified_checkpoint: pre.previous_justified_checkpoint,
        current_justified_checkpoint: pre.current_justified_checkpoint,
        finalized_checkpoint: pre.finalized_checkpoint,
        inactivity_scores: pre.inactivity_scores,
        current_sync_committee: pre.current_sync_committee,
        next_sync_committee: pre.next_sync_committee,
        latest_execution_payload_header: pre.latest_execution_payload_header,
        next_withdrawal_index: pre.next_withdrawal_index,
        next_withdrawal_validator_index: pre.next_withdrawal_validator_index,
        historical_summaries: pre.historical_summaries,
        deposit_requests_start_index: pre.deposit_requests_start_index,
        deposit_balance_to_consume: pre.deposit_balance_to_consume,
        exit_balance_to_consume: pre.exit_balance_to_consume,
        earliest_exit_epoch: pre.earliest_exit_epoch,
        consolidation_balance_to_consume: pre.consolidation_balance_to_consume,
        earliest_consolidation_epoch: pre.earliest_consolidation_epoch,
        pending_deposits: pre.pending_deposits,
        pending_partial_withdrawals: pre.pending_partial_withdrawals,
        pending_consolidations: pre.pending_consolidations,
        proposer_lookahead,
    })
}
