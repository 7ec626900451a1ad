//! Post-Electra states as readers hold them: in Fulu's `BeaconState` container.
//!
//! Readers of published states (the verify stage's gossip rules, through `Snapshot`) hold one
//! state type, `fulu::BeaconState`. An Electra state fits that container unchanged except for
//! `proposer_lookahead`, which Electra does not have: it is filled with the spec's
//! `initialize_proposer_lookahead` (what `upgrade_to_fulu` would put there) while `state.fork`
//! stays Electra's, so every signing domain computed from the held state is still Electra's. That
//! is a faithful container, not an upgrade: `upgrade_to_fulu` would change `state.fork`.
//!
//! The two forks still differ where a rule reads the held state, and [`StateFork`] names which
//! rules apply:
//! - the proposer of a slot in the state's *next* epoch: Fulu fixes it in the lookahead one epoch
//!   ahead (EIP-7917); Electra only knows it after the epoch transition (`process_slots` then
//!   `get_beacon_proposer_index`), as effective balances may change there. For the state's
//!   current epoch the two agree (the lookahead of a held Electra state is computed from it).
//! - advancing through empty slots: Electra's epoch processing (no proposer lookahead, the Eth1
//!   bridge still blocking deposits) up to `FULU_FORK_EPOCH`, `upgrade_to_fulu` there.
//! - the block blob limit: `MAX_BLOBS_PER_BLOCK_ELECTRA`, or Fulu's `get_blob_parameters`.
//!
//! Which fork a held state is in is read from the state itself (`state.fork.current_version`),
//! so a chain config whose fork schedule does not name the state's epochs (the spec's minimal
//! config leaves every fork at `FAR_FUTURE_EPOCH`) still classifies it; the config decides only
//! where a later fork begins when a state is advanced.

use crate::accessors::compute_epoch_at_slot;
use crate::block::BlockState;
use crate::cache::Caches;
use crate::error::Result;
use crate::transition_across_forks::{ElectraToFulu, ForkState, process_slots_across_forks};
use crate::upgrade::initialize_proposer_lookahead;
use keel_config::ChainConfig;
use keel_types::{Epoch, Preset, Slot, ValidatorIndex, electra, fulu};

/// The fork whose rules a held state follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFork {
    Electra,
    Fulu,
}

impl StateFork {
    /// The fork of a held state, by `state.fork.current_version`; `None` for a version that is
    /// neither Electra's nor Fulu's in `config` (a state Keel cannot hold).
    pub fn of<P: Preset>(state: &fulu::BeaconState<P>, config: &ChainConfig) -> Option<Self> {
        let version = state.fork.current_version;
        if version == config.fulu_fork_version {
            Some(StateFork::Fulu)
        } else if version == config.electra_fork_version {
            Some(StateFork::Electra)
        } else {
            None
        }
    }

    /// The fork the held state would be in at `slot` once advanced there (`process_slots`
    /// upgrades an Electra state at `FULU_FORK_EPOCH`): the fork of a message for that slot
    /// whose parent (or target) state this is.
    pub fn at_slot<P: Preset>(
        state: &fulu::BeaconState<P>,
        config: &ChainConfig,
        slot: Slot,
    ) -> Option<Self> {
        match Self::of(state, config)? {
            StateFork::Electra if compute_epoch_at_slot::<P>(slot) >= config.fulu_fork_epoch => {
                Some(StateFork::Fulu)
            }
            fork => Some(fork),
        }
    }

    /// The block blob limit at `epoch` by this fork's rules (`process_execution_payload`'s and
    /// the `beacon_block` gossip rule's).
    pub fn max_blobs_per_block<P: Preset>(self, config: &ChainConfig, epoch: Epoch) -> u64 {
        match self {
            StateFork::Electra => {
                <electra::BeaconState<P> as BlockState<P>>::max_blobs_per_block(config, epoch)
            }
            StateFork::Fulu => {
                <fulu::BeaconState<P> as BlockState<P>>::max_blobs_per_block(config, epoch)
            }
        }
    }

    /// The proposer of `slot` as the held state knows it *without* being advanced: Fulu's
    /// lookahead covers the state's current and next epochs; an Electra state only knows its
    /// current epoch's proposers (see the module docs). `None`: the state must be advanced to
    /// the slot's epoch first ([`process_slots_held`]).
    pub fn proposer_without_advancing<P: Preset>(
        self,
        state: &fulu::BeaconState<P>,
        slot: Slot,
    ) -> Option<ValidatorIndex> {
        let epoch_start =
            compute_epoch_at_slot::<P>(state.slot).checked_mul(P::slots_per_epoch())?;
        let offset = slot.checked_sub(epoch_start)?;
        let known = match self {
            StateFork::Fulu => state.proposer_lookahead.len() as u64,
            StateFork::Electra => P::slots_per_epoch(),
        };
        if offset >= known {
            return None;
        }
        state
            .proposer_lookahead
            .get(usize::try_from(offset).ok()?)
            .copied()
    }
}

/// A held Electra state: `state` in Fulu's container with `state.fork` unchanged and the
/// proposer lookahead Electra's proposer selection yields (`initialize_proposer_lookahead`).
pub fn hold_electra_state<P: Preset>(
    state: electra::BeaconState<P>,
    caches: &mut Caches,
) -> Result<fulu::BeaconState<P>> {
    let proposer_lookahead = initialize_proposer_lookahead(&state, caches)?;
    Ok(fulu::BeaconState {
        genesis_time: state.genesis_time,
        genesis_validators_root: state.genesis_validators_root,
        slot: state.slot,
        fork: state.fork,
        latest_block_header: state.latest_block_header,
        block_roots: state.block_roots,
        state_roots: state.state_roots,
        historical_roots: state.historical_roots,
        eth1_data: state.eth1_data,
        eth1_data_votes: state.eth1_data_votes,
        eth1_deposit_index: state.eth1_deposit_index,
        validators: state.validators,
        balances: state.balances,
        randao_mixes: state.randao_mixes,
        slashings: state.slashings,
        previous_epoch_participation: state.previous_epoch_participation,
        current_epoch_participation: state.current_epoch_participation,
        justification_bits: state.justification_bits,
        previous_justified_checkpoint: state.previous_justified_checkpoint,
        current_justified_checkpoint: state.current_justified_checkpoint,
        finalized_checkpoint: state.finalized_checkpoint,
        inactivity_scores: state.inactivity_scores,
        current_sync_committee: state.current_sync_committee,
        next_sync_committee: state.next_sync_committee,
        latest_execution_payload_header: state.latest_execution_payload_header,
        next_withdrawal_index: state.next_withdrawal_index,
        next_withdrawal_validator_index: state.next_withdrawal_validator_index,
        historical_summaries: state.historical_summaries,
        deposit_requests_start_index: state.deposit_requests_start_index,
        deposit_balance_to_consume: state.deposit_balance_to_consume,
        exit_balance_to_consume: state.exit_balance_to_consume,
        earliest_exit_epoch: state.earliest_exit_epoch,
        consolidation_balance_to_consume: state.consolidation_balance_to_consume,
        earliest_consolidation_epoch: state.earliest_consolidation_epoch,
        pending_deposits: state.pending_deposits,
        pending_partial_withdrawals: state.pending_partial_withdrawals,
        pending_consolidations: state.pending_consolidations,
        proposer_lookahead,
    })
}

/// The Electra state a held Electra state carries (its lookahead dropped).
pub fn electra_state_of<P: Preset>(held: fulu::BeaconState<P>) -> electra::BeaconState<P> {
    electra::BeaconState {
        genesis_time: held.genesis_time,
        genesis_validators_root: held.genesis_validators_root,
        slot: held.slot,
        fork: held.fork,
        latest_block_header: held.latest_block_header,
        block_roots: held.block_roots,
        state_roots: held.state_roots,
        historical_roots: held.historical_roots,
        eth1_data: held.eth1_data,
        eth1_data_votes: held.eth1_data_votes,
        eth1_deposit_index: held.eth1_deposit_index,
        validators: held.validators,
        balances: held.balances,
        randao_mixes: held.randao_mixes,
        slashings: held.slashings,
        previous_epoch_participation: held.previous_epoch_participation,
        current_epoch_participation: held.current_epoch_participation,
        justification_bits: held.justification_bits,
        previous_justified_checkpoint: held.previous_justified_checkpoint,
        current_justified_checkpoint: held.current_justified_checkpoint,
        finalized_checkpoint: held.finalized_checkpoint,
        inactivity_scores: held.inactivity_scores,
        current_sync_committee: held.current_sync_committee,
        next_sync_committee: held.next_sync_committee,
        latest_execution_payload_header: held.latest_execution_payload_header,
        next_withdrawal_index: held.next_withdrawal_index,
        next_withdrawal_validator_index: held.next_withdrawal_validator_index,
        historical_summaries: held.historical_summaries,
        deposit_requests_start_index: held.deposit_requests_start_index,
        deposit_balance_to_consume: held.deposit_balance_to_consume,
        exit_balance_to_consume: held.exit_balance_to_consume,
        earliest_exit_epoch: held.earliest_exit_epoch,
        consolidation_balance_to_consume: held.consolidation_balance_to_consume,
        earliest_consolidation_epoch: held.earliest_consolidation_epoch,
        pending_deposits: held.pending_deposits,
        pending_partial_withdrawals: held.pending_partial_withdrawals,
        pending_consolidations: held.pending_consolidations,
    }
}

/// A state type that can be held in Fulu's container: Fulu's own, or Electra's through
/// [`hold_electra_state`].
pub trait HoldableState<P: Preset>: BlockState<P> {
    fn into_held(self, caches: &mut Caches) -> Result<fulu::BeaconState<P>>;
}

impl<P: Preset> HoldableState<P> for fulu::BeaconState<P> {
    fn into_held(self, _caches: &mut Caches) -> Result<fulu::BeaconState<P>> {
        Ok(self)
    }
}

impl<P: Preset> HoldableState<P> for electra::BeaconState<P> {
    fn into_held(self, caches: &mut Caches) -> Result<fulu::BeaconState<P>> {
        hold_electra_state(self, caches)
    }
}

/// The spec's `process_slots(state, slot)` on a held state of `fork`, by that fork's rules: a
/// Fulu state as it is; an Electra state as the Electra state it carries (upgraded at
/// `FULU_FORK_EPOCH` if the slots reach it) and held again, so that its lookahead is again the
/// one Electra's proposer selection yields for its new epoch.
pub fn process_slots_held<P: Preset>(
    state: fulu::BeaconState<P>,
    fork: StateFork,
    config: &ChainConfig,
    caches: &mut Caches,
    slot: Slot,
) -> Result<fulu::BeaconState<P>> {
    let state = match fork {
        StateFork::Fulu => ForkState::<P, ElectraToFulu>::Post(state),
        StateFork::Electra => ForkState::Pre(electra_state_of(state)),
    };
    match process_slots_across_forks(state, config, caches, slot)? {
        ForkState::Pre(electra) => hold_electra_state(electra, caches),
        ForkState::Post(fulu) => Ok(fulu),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::state::PostElectraFields;
    use keel_types::Minimal;
    use keel_types::tree_hash::TreeHash;

    type P = Minimal;

    fn held(version: keel_types::Version, slot: Slot) -> fulu::BeaconState<P> {
        let mut state = fulu::BeaconState::<P>::default();
        state.fork.current_version = version;
        state.slot = slot;
        let len = state.proposer_lookahead.len() as u64;
        state.proposer_lookahead = keel_types::milhouse::Vector::new((0..len).collect()).unwrap();
        state
    }

    #[test]
    fn the_fork_is_the_states_own_and_the_config_places_the_upgrade() {
        let mut config = ChainConfig::minimal();
        let electra = held(config.electra_fork_version, 3);
        let fulu_state = held(config.fulu_fork_version, 3);
        assert_eq!(StateFork::of(&electra, &config), Some(StateFork::Electra));
        assert_eq!(StateFork::of(&fulu_state, &config), Some(StateFork::Fulu));
        assert_eq!(
            StateFork::of(&held(config.deneb_fork_version, 3), &config),
            None
        );
        // The minimal config never schedules Fulu: an Electra state stays Electra.
        assert_eq!(
            StateFork::at_slot(&electra, &config, 100),
            Some(StateFork::Electra)
        );
        config.fulu_fork_epoch = 2;
        assert_eq!(
            StateFork::at_slot(&electra, &config, 15),
            Some(StateFork::Electra)
        );
        assert_eq!(
            StateFork::at_slot(&electra, &config, 16),
            Some(StateFork::Fulu)
        );
    }

    #[test]
    fn an_electra_state_knows_only_its_current_epochs_proposers() {
        let config = ChainConfig::minimal();
        let state = held(config.electra_fork_version, 9);
        // Slots 8..16 are the current epoch (lookahead positions 0..8).
        assert_eq!(
            StateFork::Electra.proposer_without_advancing(&state, 9),
            Some(1)
        );
        assert_eq!(
            StateFork::Electra.proposer_without_advancing(&state, 15),
            Some(7)
        );
        assert_eq!(
            StateFork::Electra.proposer_without_advancing(&state, 16),
            None
        );
        assert_eq!(
            StateFork::Fulu.proposer_without_advancing(&state, 16),
            Some(8)
        );
        assert_eq!(StateFork::Fulu.proposer_without_advancing(&state, 24), None);
        assert_eq!(StateFork::Fulu.proposer_without_advancing(&state, 7), None);
    }

    fn electra_genesis(config: &ChainConfig, caches: &mut Caches) -> electra::BeaconState<P> {
        let validators: Vec<_> = (0..64)
            .map(|i| {
                let key = keel_crypto::bls::interop_secret_key(i).unwrap();
                (key.public_key().to_bytes(), 32_000_000_000)
            })
            .collect();
        crate::genesis::interop_genesis_state::<P>(
            config,
            &validators,
            1_700_000_000,
            keel_types::Hash256::repeat_byte(7),
            Default::default(),
            caches,
        )
        .unwrap()
    }

    #[test]
    fn holding_keeps_the_electra_state_and_advancing_follows_electra() {
        let config = ChainConfig::minimal();
        let mut caches = Caches::new();
        let electra = electra_genesis(&config, &mut caches);
        let root = electra.tree_hash_root();
        let held = hold_electra_state(electra.clone(), &mut caches).unwrap();
        assert_eq!(held.fork, electra.fork);
        assert_eq!(StateFork::of(&held, &config), Some(StateFork::Electra));
        // The lookahead is `upgrade_to_fulu`'s, and its current epoch is Electra's proposers.
        let upgraded =
            crate::upgrade::upgrade_to_fulu(electra.clone(), &config, &mut caches).unwrap();
        assert_eq!(held.proposer_lookahead, upgraded.proposer_lookahead);
        let mut carried = electra_state_of(held.clone());
        carried.apply_pending_updates().unwrap();
        assert_eq!(carried.tree_hash_root(), root);

        // Advanced into its next epoch, the held state is the advanced Electra state, held.
        let slot = P::slots_per_epoch() + 1;
        let advanced =
            process_slots_held(held, StateFork::Electra, &config, &mut caches, slot).unwrap();
        let mut expected = electra;
        crate::slot::process_slots(&mut expected, &config, &mut caches, slot).unwrap();
        expected.apply_pending_updates().unwrap();
        let mut carried = electra_state_of(advanced.clone());
        carried.apply_pending_updates().unwrap();
        assert_eq!(carried.tree_hash_root(), expected.tree_hash_root());
        assert_eq!(
            StateFork::Electra.proposer_without_advancing(&advanced, slot),
            Some(crate::accessors::compute_beacon_proposer_index(&expected, &mut caches).unwrap())
        );

        // With Fulu scheduled at epoch 1 the same slots upgrade it.
        let config = ChainConfig {
            fulu_fork_epoch: 1,
            ..ChainConfig::minimal()
        };
        let held = hold_electra_state(electra_genesis(&config, &mut caches), &mut caches).unwrap();
        let advanced =
            process_slots_held(held, StateFork::Electra, &config, &mut caches, slot).unwrap();
        assert_eq!(StateFork::of(&advanced, &config), Some(StateFork::Fulu));
    }
}
