//! Proposer-boost re-orgs of late blocks: `get_proposer_head` and its helpers (phase0
//! fork-choice "Proposer head and reorg helpers"), and `should_override_forkchoice_update`.
//!
//! `is_head_weak` counts, on top of the head's attestation score, the justified-state effective
//! balance of equivocating validators in the head slot's committees. Committees live in the head
//! block's state, which this crate does not hold: the caller passes that sum, computed with
//! [`ForkChoice::equivocating_committee_weight`].

use crate::error::{Error, InputError};
use crate::store::ForkChoice;
use keel_types::{Gwei, Hash256, Slot, ValidatorIndex};

/// Each condition of `get_proposer_head`, for logging and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReorgConditions {
    pub head_late: bool,
    pub not_epoch_boundary: bool,
    pub ffg_competitive: bool,
    pub finalization_ok: bool,
    pub proposing_on_time: bool,
    pub single_slot_reorg: bool,
    pub head_weak: bool,
    pub parent_strong: bool,
    pub proposer_equivocation: bool,
    pub current_time_ok: bool,
}

impl ReorgConditions {
    /// The `get_proposer_head` decision: re-org to the parent?
    pub fn reorg(&self) -> bool {
        (self.head_late
            && self.not_epoch_boundary
            && self.ffg_competitive
            && self.finalization_ok
            && self.proposing_on_time
            && self.single_slot_reorg
            && self.head_weak
            && self.parent_strong)
            || (self.head_weak && self.current_time_ok && self.proposer_equivocation)
    }
}

impl ForkChoice {
    /// Sum of `justified_state.validators[i].effective_balance` over the equivocating validators
    /// among `committee_members` (the head slot's committees, from the head state):
    /// `is_head_weak`'s equivocation term. `effective_balance(i)` reads the justified state
    /// (unfiltered: slashed validators count).
    pub fn equivocating_committee_weight(
        &self,
        committee_members: impl IntoIterator<Item = ValidatorIndex>,
        effective_balance: impl Fn(ValidatorIndex) -> Gwei,
    ) -> Gwei {
        committee_members
            .into_iter()
            .filter(|i| self.is_equivocating(*i))
            .fold(0u64, |acc, i| acc.saturating_add(effective_balance(i)))
    }

    /// `is_head_late(store, head_root)`.
    pub fn is_head_late(&self, head_root: &Hash256) -> Result<bool, Error> {
        Ok(!self
            .block(head_root)
            .ok_or(InputError::UnknownBlock(*head_root))?
            .timely)
    }

    /// `is_not_epoch_boundary(slot)` (formerly `is_shuffling_stable`).
    pub fn is_not_epoch_boundary(&self, slot: Slot) -> bool {
        slot.checked_rem(self.config.slots_per_epoch).unwrap_or(0) != 0
    }

    /// `is_ffg_competitive(store, head_root, parent_root)`: equal pulled-up justification.
    pub fn is_ffg_competitive(
        &self,
        head_root: &Hash256,
        parent_root: &Hash256,
    ) -> Result<bool, Error> {
        let head = self
            .block(head_root)
            .ok_or(InputError::UnknownBlock(*head_root))?;
        let parent = self
            .block(parent_root)
            .ok_or(InputError::UnknownBlock(*parent_root))?;
        Ok(head.unrealized_justified_checkpoint == parent.unrealized_justified_checkpoint)
    }

    /// `is_finalization_ok(store, slot)`.
    pub fn is_finalization_ok(&self, slot: Slot) -> Result<bool, Error> {
        let finalized_epoch = self.finalized_checkpoint.epoch;
        let since = self
            .config
            .epoch_at_slot(slot)
            .checked_sub(finalized_epoch)
            .ok_or(InputError::SlotBeforeFinalization {
                slot,
                finalized_epoch,
            })?;
        Ok(since <= self.config.reorg_max_epochs_since_finalization)
    }

    /// `is_proposing_on_time(store)`.
    pub fn is_proposing_on_time(&self) -> Result<bool, Error> {
        Ok(self.time_into_slot_ms() <= self.config.proposer_reorg_cutoff_ms()?)
    }

    /// `is_head_weak(store, head_root)`, with the equivocation term supplied by the caller.
    pub fn is_head_weak(
        &mut self,
        head_root: &Hash256,
        equivocating_committee_weight: Gwei,
    ) -> Result<bool, Error> {
        let threshold = self.config.committee_fraction(
            self.justified_balances().total_active_balance,
            self.config.reorg_head_weight_threshold,
        )?;
        let weight = self
            .get_attestation_score(head_root)?
            .saturating_add(equivocating_committee_weight);
        Ok(weight < threshold)
    }

    /// `is_parent_strong(store, root)`: the parent of `root` has attestation score above the
    /// threshold.
    pub fn is_parent_strong(&mut self, root: &Hash256) -> Result<bool, Error> {
        let threshold = self.config.committee_fraction(
            self.justified_balances().total_active_balance,
            self.config.reorg_parent_weight_threshold,
        )?;
        let parent_root = self
            .block(root)
            .ok_or(InputError::UnknownBlock(*root))?
            .parent_root;
        Ok(self.get_attestation_score(&parent_root)? > threshold)
    }

    /// `is_proposer_equivocation(store, root)`: another known block has the same slot and
    /// proposer.
    pub fn is_proposer_equivocation(&self, root: &Hash256) -> Result<bool, Error> {
        let block = self.block(root).ok_or(InputError::UnknownBlock(*root))?;
        let count = self
            .proto_array
            .nodes()
            .iter()
            .filter(|n| n.slot == block.slot && n.proposer_index == block.proposer_index)
            .count();
        Ok(count > 1)
    }

    /// Every condition of `get_proposer_head(store, head_root, slot)`. Fails, as the spec's
    /// assertion does, if the proposer boost is still on the head.
    pub fn proposer_head_conditions(
        &mut self,
        head_root: &Hash256,
        slot: Slot,
        equivocating_committee_weight: Gwei,
    ) -> Result<ReorgConditions, Error> {
        let head = self
            .block(head_root)
            .ok_or(InputError::UnknownBlock(*head_root))?;
        let (head_slot, parent_root) = (head.slot, head.parent_root);
        let parent_slot = self
            .block(&parent_root)
            .ok_or(InputError::UnknownBlock(parent_root))?
            .slot;
        if self.proposer_boost_root == *head_root {
            return Err(InputError::ProposerBoostOnHead(*head_root).into());
        }
        let parent_slot_ok = parent_slot.checked_add(1) == Some(head_slot);
        let current_time_ok = head_slot.checked_add(1) == Some(slot);
        Ok(ReorgConditions {
            head_late: self.is_head_late(head_root)?,
            not_epoch_boundary: self.is_not_epoch_boundary(slot),
            ffg_competitive: self.is_ffg_competitive(head_root, &parent_root)?,
            finalization_ok: self.is_finalization_ok(slot)?,
            proposing_on_time: self.is_proposing_on_time()?,
            single_slot_reorg: parent_slot_ok && current_time_ok,
            head_weak: self.is_head_weak(head_root, equivocating_committee_weight)?,
            parent_strong: self.is_parent_strong(head_root)?,
            proposer_equivocation: self.is_proposer_equivocation(head_root)?,
            current_time_ok,
        })
    }

    /// `get_proposer_head(store, head_root, slot)`: the block to build on at `slot`, the head or
    /// (to re-org a late, weak head) its parent.
    pub fn get_proposer_head(
        &mut self,
        head_root: &Hash256,
        slot: Slot,
        equivocating_committee_weight: Gwei,
    ) -> Result<Hash256, Error> {
        let conditions =
            self.proposer_head_conditions(head_root, slot, equivocating_committee_weight)?;
        if conditions.reorg() {
            Ok(self
                .block(head_root)
                .ok_or(InputError::UnknownBlock(*head_root))?
                .parent_root)
        } else {
            Ok(*head_root)
        }
    }

    /// `should_override_forkchoice_update(store, head_root)`, from the last spec text that had it
    /// (bellatrix/fork-choice.md before consensus-specs #5174; it is no longer in the spec at
    /// v1.7.0-alpha.13, since the Engine API must now process re-org forkchoice updates).
    /// `proposer_is_connected` is `validator_is_connected(get_beacon_proposer_index(parent
    /// state advanced to head slot + 1))`, which needs a state; the caller evaluates it.
    pub fn should_override_forkchoice_update(
        &mut self,
        head_root: &Hash256,
        proposer_is_connected: bool,
        equivocating_committee_weight: Gwei,
    ) -> Result<bool, Error> {
        let head = self
            .block(head_root)
            .ok_or(InputError::UnknownBlock(*head_root))?;
        let (head_slot, parent_root) = (head.slot, head.parent_root);
        let parent_slot = self
            .block(&parent_root)
            .ok_or(InputError::UnknownBlock(parent_root))?
            .slot;
        let current_slot = self.current_slot();
        let proposal_slot = head_slot.saturating_add(1);

        let head_late = self.is_head_late(head_root)?;
        let shuffling_stable = self.is_not_epoch_boundary(proposal_slot);
        let ffg_competitive = self.is_ffg_competitive(head_root, &parent_root)?;
        let finalization_ok = self.is_finalization_ok(proposal_slot)?;
        let parent_slot_ok = parent_slot.checked_add(1) == Some(head_slot);
        let proposing_on_time = self.is_proposing_on_time()?;
        let current_time_ok =
            head_slot == current_slot || (proposal_slot == current_slot && proposing_on_time);
        let single_slot_reorg = parent_slot_ok && current_time_ok;
        let (head_weak, parent_strong) = if current_slot > head_slot {
            (
                self.is_head_weak(head_root, equivocating_committee_weight)?,
                self.is_parent_strong(head_root)?,
            )
        } else {
            (true, true)
        };
        Ok(head_late
            && shuffling_stable
            && ffg_competitive
            && finalization_ok
            && proposer_is_connected
            && single_slot_reorg
            && head_weak
            && parent_strong)
    }
}
