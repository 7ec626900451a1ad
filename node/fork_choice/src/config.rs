//! [`ForkChoiceConfig`]: the preset and chain-config values fork choice reads, gathered once.

use crate::error::{Error, InternalError};
use keel_config::ChainConfig;
use keel_config::constants::BASIS_POINTS;
use keel_types::{Epoch, Gwei, Preset, Slot};

/// Default for [`ForkChoiceConfig::prune_threshold`]: prune once at least this many nodes precede
/// (or conflict with) the finalized block. 256 nodes is eight mainnet epochs of blocks, so a
/// finalizing chain prunes about once every eight epochs, each time in O(nodes + validators).
pub const DEFAULT_PRUNE_THRESHOLD: usize = 256;

/// Everything fork choice needs from the preset and the chain config.
///
/// Field names are the spec's names in snake case. Slot timing follows this spec version:
/// `SLOT_DURATION_MS` and basis-point offsets into the slot (`ATTESTATION_DUE_BPS`,
/// `PROPOSER_REORG_CUTOFF_BPS`); Gloas' `*_GLOAS` timings are not used (no Gloas support here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkChoiceConfig {
    /// `SLOTS_PER_EPOCH` (preset).
    pub slots_per_epoch: u64,
    /// `MIN_SEED_LOOKAHEAD` (preset), for `get_shuffling_dependent_root`.
    pub min_seed_lookahead: Epoch,
    /// `SLOT_DURATION_MS`.
    pub slot_duration_ms: u64,
    /// `ATTESTATION_DUE_BPS`: a block is timely if it arrives before this point of its slot.
    pub attestation_due_bps: u64,
    /// `PROPOSER_REORG_CUTOFF_BPS`: a re-orging proposer must be proposing before this point.
    pub proposer_reorg_cutoff_bps: u64,
    /// `PROPOSER_SCORE_BOOST`, percent of one slot's committee weight.
    pub proposer_score_boost: u64,
    /// `REORG_HEAD_WEIGHT_THRESHOLD`, percent of one slot's committee weight.
    pub reorg_head_weight_threshold: u64,
    /// `REORG_PARENT_WEIGHT_THRESHOLD`, percent of one slot's committee weight.
    pub reorg_parent_weight_threshold: u64,
    /// `REORG_MAX_EPOCHS_SINCE_FINALIZATION`.
    pub reorg_max_epochs_since_finalization: Epoch,
    /// Not a spec value: [`crate::ForkChoice::maybe_prune`] prunes only when at least this many
    /// nodes would go. `0` prunes on every call that has something to prune.
    pub prune_threshold: usize,
}

impl ForkChoiceConfig {
    /// Gathers the values from a preset and a chain config.
    pub fn new<P: Preset>(chain: &ChainConfig) -> Self {
        Self {
            slots_per_epoch: P::slots_per_epoch(),
            min_seed_lookahead: P::MIN_SEED_LOOKAHEAD,
            slot_duration_ms: chain.slot_duration_ms,
            attestation_due_bps: chain.attestation_due_bps,
            proposer_reorg_cutoff_bps: chain.proposer_reorg_cutoff_bps,
            proposer_score_boost: chain.proposer_score_boost,
            reorg_head_weight_threshold: chain.reorg_head_weight_threshold,
            reorg_parent_weight_threshold: chain.reorg_parent_weight_threshold,
            reorg_max_epochs_since_finalization: chain.reorg_max_epochs_since_finalization,
            prune_threshold: DEFAULT_PRUNE_THRESHOLD,
        }
    }

    /// Checks the values fork choice divides by.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.slots_per_epoch == 0 || self.slot_duration_ms == 0 {
            return Err(InternalError::BadConfig(
                "SLOTS_PER_EPOCH and SLOT_DURATION_MS must be non-zero",
            )
            .into());
        }
        Ok(())
    }

    /// `compute_epoch_at_slot`.
    pub fn epoch_at_slot(&self, slot: Slot) -> Epoch {
        slot.checked_div(self.slots_per_epoch).unwrap_or(0)
    }

    /// `compute_start_slot_at_epoch`, saturating (an epoch that large has no slots anyway).
    pub fn start_slot_at_epoch(&self, epoch: Epoch) -> Slot {
        epoch.saturating_mul(self.slots_per_epoch)
    }

    /// `get_slot_component_duration_ms`.
    pub fn slot_component_duration_ms(&self, basis_points: u64) -> Result<u64, Error> {
        basis_points
            .checked_mul(self.slot_duration_ms)
            .and_then(|x| x.checked_div(BASIS_POINTS))
            .ok_or_else(|| InternalError::Overflow("slot component duration").into())
    }

    /// `get_attestation_due_ms`.
    pub fn attestation_due_ms(&self) -> Result<u64, Error> {
        self.slot_component_duration_ms(self.attestation_due_bps)
    }

    /// `get_proposer_reorg_cutoff_ms`.
    pub fn proposer_reorg_cutoff_ms(&self) -> Result<u64, Error> {
        self.slot_component_duration_ms(self.proposer_reorg_cutoff_bps)
    }

    /// `calculate_committee_fraction` given `get_total_active_balance` of the justified state:
    /// `total_active_balance // SLOTS_PER_EPOCH * percent // 100`.
    pub fn committee_fraction(
        &self,
        total_active_balance: Gwei,
        percent: u64,
    ) -> Result<Gwei, Error> {
        total_active_balance
            .checked_div(self.slots_per_epoch)
            .and_then(|w| w.checked_mul(percent))
            .map(|w| w / 100)
            .ok_or_else(|| InternalError::Overflow("committee fraction").into())
    }
}
