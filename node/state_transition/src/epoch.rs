//! Epoch processing for Electra and Fulu (`process_epoch` and every sub-step, named as in the
//! spec), generic over [`PostElectraState`].
//!
//! # Reading the state once
//!
//! The sub-steps up to `process_pending_deposits` all read the same per-validator facts
//! (effective balance, active/eligible status, previous- and current-epoch participation) and
//! the same `get_total_active_balance`. None of those steps changes them: rewards, slashings and
//! deposits move balances, not effective balances; registry updates and exits only schedule
//! activations and exits at `current_epoch + 1 + MAX_SEED_LOOKAHEAD` or later, so the current
//! and previous epochs' active sets are fixed; participation flags change only in
//! `process_participation_flag_updates`. [`EpochSummary`] therefore reads them in ONE pass at the
//! start of [`process_epoch`] and the steps take it by reference. Each `process_*` function also
//! exists standalone (building its own summary), which is what the spec tests call.
//!
//! Sparse updates of persistent lists go through `iter_cow` or `get_mut` of the elements that
//! change, so untouched elements keep their structural sharing and cached hashes. The balances,
//! which rewards and penalties change nearly all of, are collected and the list rebuilt at once
//! (cheaper than a million writes through the list's update map, re-hash included).
//! `process_effective_balance_updates` reads the effective balances from the summary rather than
//! walking the validator tree again, and the balances from the vector rewards and penalties
//! built (re-reading from the list only the validators whose balance a later step changed);
//! rewards read the inactivity scores from the vector `process_inactivity_updates` built.

use crate::accessors::{
    activation_exit_churn_limit, compute_activation_exit_epoch, compute_start_slot_at_epoch,
    get_base_reward, get_base_reward_per_increment, get_beacon_proposer_indices, get_block_root,
    get_current_epoch, get_max_effective_balance, get_next_sync_committee, get_previous_epoch,
    get_randao_mix, is_in_inactivity_leak, validator,
};
use crate::cache::Caches;
use crate::error::{Error, Result};
use crate::math::{SafeArith, to_usize};
use crate::mutators::{
    apply_pending_deposit, decrease_balance, increase_balance, initiate_validator_exit_with_total,
};
use crate::predicates::{
    has_compounding_withdrawal_credential, has_flag, is_active_validator,
    is_eligible_for_activation, is_eligible_for_activation_queue,
};
use crate::state::{PostElectraState, PostFuluState};
use keel_config::ChainConfig;
use keel_config::constants::{
    FAR_FUTURE_EPOCH, GENESIS_EPOCH, PARTICIPATION_FLAG_WEIGHTS, TIMELY_HEAD_FLAG_INDEX,
    TIMELY_TARGET_FLAG_INDEX, WEIGHT_DENOMINATOR,
};
use keel_types::electra::{Checkpoint, HistoricalSummary, PendingDeposit};
use keel_types::milhouse::List;
use keel_types::tree_hash::TreeHash;
use keel_types::{BlsPubkey, Epoch, Gwei, Preset, ValidatorIndex};
use std::collections::HashMap;
use std::sync::Arc;

/// Number of participation flags (`len(PARTICIPATION_FLAG_WEIGHTS)`).
const FLAG_COUNT: usize = 3;
/// [`EpochSummary::status`] bit: eligible for rewards and penalties
/// (`get_eligible_validator_indices`).
const ELIGIBLE: u8 = 1 << 3;
/// [`EpochSummary::status`] bit: unslashed, active in the current epoch, with the current
/// epoch's `TIMELY_TARGET` flag.
const CURRENT_TARGET: u8 = 1 << 4;
/// [`EpochSummary::status`] bit: compounding withdrawal credentials (`get_max_effective_balance`
/// is `MAX_EFFECTIVE_BALANCE_ELECTRA`).
const COMPOUNDING: u8 = 1 << 5;
/// `TIMELY_TARGET_FLAG_INDEX` as an array index.
const TARGET_FLAG: usize = TIMELY_TARGET_FLAG_INDEX as usize;

/// What [`EpochSummary::new`] reads a range of validators with.
struct SummaryRange<'a, N: keel_types::typenum::Unsigned> {
    validators: &'a List<keel_types::electra::Validator, N>,
    previous_participation: &'a List<u8, N>,
    current_participation: &'a List<u8, N>,
    current_epoch: Epoch,
    previous_epoch: Epoch,
    lookahead_epoch: Epoch,
    slashing_withdrawable_epoch: Epoch,
    ejection_balance: Gwei,
}

/// [`EpochSummary`]'s per-validator data and sums over a range of validators.
#[derive(Default)]
struct SummaryPart {
    status: Vec<u8>,
    effective_balances: Vec<Gwei>,
    total_active: Gwei,
    flag_sums: [Gwei; FLAG_COUNT],
    current_target_sum: Gwei,
    registry_candidates: Vec<ValidatorIndex>,
    slashing_candidates: Vec<ValidatorIndex>,
    lookahead_active_indices: Vec<ValidatorIndex>,
}

impl<N: keel_types::typenum::Unsigned> SummaryRange<'_, N> {
    /// One pass over validators `start..end` and their participation flags; the vectors are
    /// allocated for `capacity` validators (room for the parts appended to this one).
    fn summarize<P: Preset>(
        &self,
        start: usize,
        end: usize,
        capacity: usize,
    ) -> Result<SummaryPart> {
        let len = end.saturating_sub(start);
        let tree = |list: &'static str| Error::tree(list, "iter_from");
        let mut part = SummaryPart {
            status: Vec::with_capacity(capacity.max(len)),
            effective_balances: Vec::with_capacity(capacity.max(len)),
            lookahead_active_indices: Vec::with_capacity(capacity.max(len)),
            ..SummaryPart::default()
        };
        let (current_epoch, previous_epoch) = (self.current_epoch, self.previous_epoch);
        for (((v, prev), curr), index) in self
            .validators
            .iter_from(start)
            .map_err(tree("validators"))?
            .zip(
                self.previous_participation
                    .iter_from(start)
                    .map_err(tree("previous_epoch_participation"))?,
            )
            .zip(
                self.current_participation
                    .iter_from(start)
                    .map_err(tree("current_epoch_participation"))?,
            )
            .zip(start as u64..)
            .take(len)
        {
            let eb = v.effective_balance;
            let mut bits = 0u8;
            let active_previous = is_active_validator(v, previous_epoch);
            let active_current = is_active_validator(v, current_epoch);
            if active_current {
                part.total_active.safe_add_assign(eb)?;
            }
            if active_previous && !v.slashed {
                for (flag, sum) in (0u64..).zip(part.flag_sums.iter_mut()) {
                    if has_flag(*prev, flag) {
                        bits |= 1 << flag;
                        sum.safe_add_assign(eb)?;
                    }
                }
            }
            if active_current && !v.slashed && has_flag(*curr, TIMELY_TARGET_FLAG_INDEX) {
                bits |= CURRENT_TARGET;
                part.current_target_sum.safe_add_assign(eb)?;
            }
            if active_previous || (v.slashed && previous_epoch.safe_add(1)? < v.withdrawable_epoch)
            {
                bits |= ELIGIBLE;
            }
            if has_compounding_withdrawal_credential(v) {
                bits |= COMPOUNDING;
            }
            if is_eligible_for_activation_queue::<P>(v)
                || (active_current && eb <= self.ejection_balance)
                || v.activation_epoch == FAR_FUTURE_EPOCH
            {
                part.registry_candidates.push(index);
            }
            if v.slashed && v.withdrawable_epoch == self.slashing_withdrawable_epoch {
                part.slashing_candidates.push(index);
            }
            if is_active_validator(v, self.lookahead_epoch) {
                part.lookahead_active_indices.push(index);
            }
            part.status.push(bits);
            part.effective_balances.push(eb);
        }
        Ok(part)
    }
}

/// The per-validator facts and totals the epoch sub-steps share, read in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochSummary {
    pub current_epoch: Epoch,
    pub previous_epoch: Epoch,
    /// `get_total_active_balance(state)`.
    pub total_active_balance: Gwei,
    /// `get_total_balance(get_unslashed_participating_indices(flag, previous_epoch))` per flag.
    pub previous_epoch_flag_balances: [Gwei; FLAG_COUNT],
    /// `get_total_balance(get_unslashed_participating_indices(TIMELY_TARGET, current_epoch))`.
    pub current_epoch_target_balance: Gwei,
    /// Per validator: bits `0..3` = unslashed participating in the previous epoch with flag
    /// `i`; [`ELIGIBLE`]; [`CURRENT_TARGET`]; [`COMPOUNDING`].
    pub status: Vec<u8>,
    /// Per validator: `effective_balance`.
    pub effective_balances: Vec<Gwei>,
    /// A superset of the validators `process_registry_updates` acts on: eligible for the
    /// activation queue, ejectable, or not yet activated (whether the eligibility epoch is
    /// finalized is decided after `process_justification_and_finalization`).
    pub registry_candidates: Vec<ValidatorIndex>,
    /// The slashed validators whose `withdrawable_epoch` is
    /// `current_epoch + EPOCHS_PER_SLASHINGS_VECTOR // 2` (the ones `process_slashings`
    /// penalizes, unless registry updates change a withdrawable epoch in between).
    pub slashing_candidates: Vec<ValidatorIndex>,
    /// `get_active_validator_indices(state, current_epoch + MIN_SEED_LOOKAHEAD + 1)`: the
    /// epoch whose proposers Fulu's lookahead appends. Nothing in epoch processing changes it
    /// (activations and exits are scheduled at `current_epoch + 1 + MAX_SEED_LOOKAHEAD` or
    /// later; new validators are not active), so [`process_epoch`] hands it to the committee
    /// cache instead of scanning the registry again.
    pub lookahead_active_indices: Vec<ValidatorIndex>,
}

impl EpochSummary {
    /// One pass over validators and both participation lists.
    pub fn new<P: Preset, S: PostElectraState<P>>(state: &S, config: &ChainConfig) -> Result<Self> {
        let current_epoch = get_current_epoch(state);
        let slashing_withdrawable_epoch =
            current_epoch.safe_add(P::epochs_per_slashings_vector().safe_div(2)?)?;
        let lookahead_epoch = current_epoch.safe_add(P::MIN_SEED_LOOKAHEAD)?.safe_add(1)?;
        let previous_epoch = get_previous_epoch(state);
        let f = state.fields();
        let n = f.validators.len();
        for (list, len) in [
            (
                "previous_epoch_participation",
                f.previous_epoch_participation.len(),
            ),
            (
                "current_epoch_participation",
                f.current_epoch_participation.len(),
            ),
        ] {
            if len != n {
                return Err(Error::index(list, n, len));
            }
        }
        // `get_unslashed_participating_indices(.., previous_epoch)` reads the current epoch's
        // record when the previous epoch *is* the current one (genesis).
        let previous_participation = if previous_epoch == current_epoch {
            f.current_epoch_participation
        } else {
            f.previous_epoch_participation
        };
        let range = SummaryRange {
            validators: f.validators,
            previous_participation,
            current_participation: f.current_epoch_participation,
            current_epoch,
            previous_epoch,
            lookahead_epoch,
            slashing_withdrawable_epoch,
            ejection_balance: config.ejection_balance,
        };
        let part = range.summarize::<P>(0, n, n)?;
        let SummaryPart {
            status,
            effective_balances,
            total_active,
            flag_sums,
            current_target_sum,
            registry_candidates,
            slashing_candidates,
            lookahead_active_indices,
        } = part;
        let floor = P::EFFECTIVE_BALANCE_INCREMENT;
        Ok(Self {
            current_epoch,
            previous_epoch,
            total_active_balance: total_active.max(floor),
            previous_epoch_flag_balances: flag_sums.map(|s| s.max(floor)),
            current_epoch_target_balance: current_target_sum.max(floor),
            status,
            effective_balances,
            registry_candidates,
            slashing_candidates,
            lookahead_active_indices,
        })
    }

    /// Whether `index` is in `get_unslashed_participating_indices(state, flag, previous_epoch)`.
    #[inline]
    pub fn is_previous_participant(&self, index: usize, flag_index: u64) -> bool {
        self.status
            .get(index)
            .is_some_and(|s| has_flag(*s, flag_index))
    }

    /// Whether `index` is in `get_eligible_validator_indices(state)`.
    #[inline]
    pub fn is_eligible(&self, index: usize) -> bool {
        self.status.get(index).is_some_and(|s| s & ELIGIBLE != 0)
    }

    /// `get_eligible_validator_indices(state)`.
    pub fn get_eligible_validator_indices(&self) -> impl Iterator<Item = ValidatorIndex> + '_ {
        self.status
            .iter()
            .zip(0u64..)
            .filter(|(s, _)| *s & ELIGIBLE != 0)
            .map(|(_, i)| i)
    }
}

/// `process_epoch` (Electra, plus Fulu's `process_proposer_lookahead` through the trait).
pub fn process_epoch<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    caches: &mut Caches,
) -> Result<()> {
    let summary = EpochSummary::new(state, config)?;
    let total_active_balance = summary.total_active_balance;
    justification_and_finalization(state, &summary)?;
    let inactivity_scores = inactivity_updates(state, config, &summary)?;
    let rewarded_balances =
        rewards_and_penalties(state, config, &summary, inactivity_scores.as_deref())?;
    // The validators whose balance changes between rewards and effective-balance updates (the
    // rest keep `rewarded_balances`).
    let mut touched: Vec<ValidatorIndex> = Vec::new();
    let ejected = registry_updates(
        state,
        config,
        total_active_balance,
        Some(&summary.registry_candidates),
    )?;
    // An ejection sets a withdrawable epoch, which could (in a state where a slashed validator
    // had not exited) make it a slashing target: check those too.
    let mut slashing_candidates = summary.slashing_candidates.clone();
    slashing_candidates.extend(ejected);
    slashing_candidates.sort_unstable();
    slashing_candidates.dedup();
    slashings(state, total_active_balance, Some(&slashing_candidates))?;
    touched.extend(slashing_candidates);
    process_eth1_data_reset(state)?;
    pending_deposits(state, config, total_active_balance, &mut touched)?;
    pending_consolidations(state, &mut touched)?;
    touched.sort_unstable();
    touched.dedup();
    let balances = rewarded_balances
        .as_deref()
        .map(|balances| RewardedBalances {
            balances,
            touched: &touched,
        });
    effective_balance_updates(
        state,
        &summary.effective_balances,
        &summary.status,
        balances,
    )?;
    process_slashings_reset(state)?;
    process_randao_mixes_reset(state)?;
    process_historical_summaries_update(state)?;
    process_participation_flag_updates(state)?;
    process_sync_committee_updates(state, caches)?;
    let lookahead_epoch = summary
        .current_epoch
        .safe_add(P::MIN_SEED_LOOKAHEAD)?
        .safe_add(1)?;
    caches.insert_active_indices(state, lookahead_epoch, summary.lookahead_active_indices)?;
    state.process_proposer_lookahead(caches)
}

// ---- justification and finalization ----

/// `process_justification_and_finalization` (Altair).
pub fn process_justification_and_finalization<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
) -> Result<()> {
    let summary = EpochSummary::new(state, config)?;
    justification_and_finalization(state, &summary)
}

fn justification_and_finalization<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    summary: &EpochSummary,
) -> Result<()> {
    // Initial FFG checkpoint values have a `0x00` stub for `root`; skip FFG updates in the
    // first two epochs.
    if get_current_epoch(state) <= GENESIS_EPOCH.safe_add(1)? {
        return Ok(());
    }
    weigh_justification_and_finalization(
        state,
        summary.total_active_balance,
        summary.previous_epoch_flag_balances[TARGET_FLAG],
        summary.current_epoch_target_balance,
    )
}

/// `weigh_justification_and_finalization`.
pub fn weigh_justification_and_finalization<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    total_active_balance: Gwei,
    previous_epoch_target_balance: Gwei,
    current_epoch_target_balance: Gwei,
) -> Result<()> {
    let previous_epoch = get_previous_epoch(state);
    let current_epoch = get_current_epoch(state);
    let old_previous_justified_checkpoint = state.previous_justified_checkpoint();
    let old_current_justified_checkpoint = state.current_justified_checkpoint();

    // Process justifications
    *state.previous_justified_checkpoint_mut() = state.current_justified_checkpoint();
    let mut bits = [false; 4];
    for (i, bit) in bits.iter_mut().enumerate().skip(1) {
        *bit = state
            .justification_bits()
            .get(i.safe_sub(1)?)
            .map_err(|_| Error::index("justification_bits", i, 4))?;
    }
    let two_thirds = total_active_balance.safe_mul(2)?;
    if previous_epoch_target_balance.safe_mul(3)? >= two_thirds {
        *state.current_justified_checkpoint_mut() = Checkpoint {
            epoch: previous_epoch,
            root: get_block_root(state, previous_epoch)?,
        };
        bits[1] = true;
    }
    if current_epoch_target_balance.safe_mul(3)? >= two_thirds {
        *state.current_justified_checkpoint_mut() = Checkpoint {
            epoch: current_epoch,
            root: get_block_root(state, current_epoch)?,
        };
        bits[0] = true;
    }
    for (i, bit) in bits.iter().enumerate() {
        state
            .justification_bits_mut()
            .set(i, *bit)
            .map_err(|_| Error::index("justification_bits", i, 4))?;
    }

    // Process finalizations
    let [b0, b1, b2, b3] = bits;
    // The 2nd/3rd/4th most recent epochs are justified, the 2nd using the 4th as source
    if b1 && b2 && b3 && old_previous_justified_checkpoint.epoch.safe_add(3)? == current_epoch {
        *state.finalized_checkpoint_mut() = old_previous_justified_checkpoint;
    }
    // The 2nd/3rd most recent epochs are justified, the 2nd using the 3rd as source
    if b1 && b2 && old_previous_justified_checkpoint.epoch.safe_add(2)? == current_epoch {
        *state.finalized_checkpoint_mut() = old_previous_justified_checkpoint;
    }
    // The 1st/2nd/3rd most recent epochs are justified, the 1st using the 3rd as source
    if b0 && b1 && b2 && old_current_justified_checkpoint.epoch.safe_add(2)? == current_epoch {
        *state.finalized_checkpoint_mut() = old_current_justified_checkpoint;
    }
    // The 1st/2nd most recent epochs are justified, the 1st using the 2nd as source
    if b0 && b1 && old_current_justified_checkpoint.epoch.safe_add(1)? == current_epoch {
        *state.finalized_checkpoint_mut() = old_current_justified_checkpoint;
    }
    Ok(())
}

// ---- inactivity ----

/// `process_inactivity_updates` (Altair).
pub fn process_inactivity_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
) -> Result<()> {
    let summary = EpochSummary::new(state, config)?;
    inactivity_updates(state, config, &summary).map(|_| ())
}

/// `process_inactivity_updates` given the summary; returns the new scores (`None` in the genesis
/// epoch, which skips the step). The scores are read in one pass and only those that change are
/// written (scores are mostly zero and stay so); when many change (an inactivity leak), the list
/// is rebuilt at once instead.
fn inactivity_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    summary: &EpochSummary,
) -> Result<Option<Vec<u64>>> {
    // Skip the genesis epoch as score updates are based on the previous epoch participation
    if get_current_epoch(state) == GENESIS_EPOCH {
        return Ok(None);
    }
    let in_leak = is_in_inactivity_leak(state)?;
    let list = state.inactivity_scores();
    let pass = |start: usize, end: usize| -> Result<(Vec<u64>, Vec<usize>)> {
        let mut scores = Vec::with_capacity(end.saturating_sub(start));
        let mut changes: Vec<usize> = Vec::new();
        let olds = list
            .iter_from(start)
            .map_err(Error::tree("inactivity_scores", "iter_from"))?;
        for (index, &old) in (start..end).zip(olds) {
            if !summary.is_eligible(index) {
                scores.push(old);
                continue;
            }
            // Increase the inactivity score of inactive validators
            let mut new = if summary.is_previous_participant(index, TIMELY_TARGET_FLAG_INDEX) {
                old.saturating_sub(1)
            } else {
                old.safe_add(config.inactivity_score_bias)?
            };
            // Decrease the inactivity score of all eligible validators during a leak-free epoch
            if !in_leak {
                new = new.saturating_sub(config.inactivity_score_recovery_rate);
            }
            if new != old {
                changes.push(index);
            }
            scores.push(new);
        }
        Ok((scores, changes))
    };
    let (scores, changes) = pass(0, list.len())?;
    let list = state.inactivity_scores_mut();
    if changes.len().saturating_mul(REBUILD_RATIO) >= scores.len() {
        *list = List::new(scores.clone()).map_err(Error::tree("inactivity_scores", "rebuild"))?;
    } else {
        let len = list.len();
        for index in changes {
            *list
                .get_mut(index)
                .ok_or_else(|| Error::index("inactivity_scores", index, len))? =
                scores.get(index).copied().unwrap_or(0);
        }
    }
    Ok(Some(scores))
}

/// A list of which at least `1 / REBUILD_RATIO` of the elements change is rebuilt from a vector
/// rather than written element by element through its update map.
const REBUILD_RATIO: usize = 8;

// ---- rewards and penalties ----

/// `process_rewards_and_penalties` (Altair, with Bellatrix's inactivity quotient).
pub fn process_rewards_and_penalties<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
) -> Result<()> {
    let summary = EpochSummary::new(state, config)?;
    rewards_and_penalties(state, config, &summary, None).map(|_| ())
}

/// The inputs of `get_flag_index_deltas` / `get_inactivity_penalty_deltas` that do not depend
/// on the validator.
#[derive(Debug, Clone, Copy)]
struct RewardContext {
    base_reward_per_increment: Gwei,
    active_increments: u64,
    in_leak: bool,
    /// `unslashed_participating_increments` per flag.
    participating_increments: [u64; FLAG_COUNT],
    /// `INACTIVITY_SCORE_BIAS * INACTIVITY_PENALTY_QUOTIENT_BELLATRIX`.
    inactivity_penalty_denominator: u64,
}

impl RewardContext {
    fn new<P: Preset, S: PostElectraState<P>>(
        state: &S,
        config: &ChainConfig,
        summary: &EpochSummary,
    ) -> Result<Self> {
        let increment = P::EFFECTIVE_BALANCE_INCREMENT;
        let mut participating_increments = [0u64; FLAG_COUNT];
        for (out, balance) in participating_increments
            .iter_mut()
            .zip(summary.previous_epoch_flag_balances)
        {
            *out = balance.safe_div(increment)?;
        }
        Ok(Self {
            base_reward_per_increment: get_base_reward_per_increment::<P>(
                summary.total_active_balance,
            )?,
            active_increments: summary.total_active_balance.safe_div(increment)?,
            in_leak: is_in_inactivity_leak(state)?,
            participating_increments,
            inactivity_penalty_denominator: config
                .inactivity_score_bias
                .safe_mul(P::INACTIVITY_PENALTY_QUOTIENT_BELLATRIX)?,
        })
    }

    /// `get_flag_index_deltas(state, flag_index)[index]` as `(reward, penalty)`.
    fn flag_index_delta<P: Preset>(
        &self,
        summary: &EpochSummary,
        index: usize,
        flag_index: u64,
    ) -> Result<(Gwei, Gwei)> {
        if !summary.is_eligible(index) {
            return Ok((0, 0));
        }
        let effective_balance = summary.effective_balances.get(index).copied().unwrap_or(0);
        self.eligible_flag_delta::<P>(
            effective_balance,
            summary.is_previous_participant(index, flag_index),
            flag_index,
        )
    }

    /// `get_flag_index_deltas(state, flag_index)` for an eligible validator with
    /// `effective_balance`, participating with the flag or not, as `(reward, penalty)`.
    fn eligible_flag_delta<P: Preset>(
        &self,
        effective_balance: Gwei,
        participant: bool,
        flag_index: u64,
    ) -> Result<(Gwei, Gwei)> {
        let base_reward = get_base_reward::<P>(effective_balance, self.base_reward_per_increment)?;
        let flag = to_usize(flag_index)?;
        let weight = PARTICIPATION_FLAG_WEIGHTS
            .get(flag)
            .copied()
            .ok_or_else(|| Error::index("PARTICIPATION_FLAG_WEIGHTS", flag, FLAG_COUNT))?;
        if participant {
            if self.in_leak {
                return Ok((0, 0));
            }
            let increments = self
                .participating_increments
                .get(flag)
                .copied()
                .unwrap_or(0);
            let reward_numerator = base_reward.safe_mul(weight)?.safe_mul(increments)?;
            let reward =
                reward_numerator.safe_div(self.active_increments.safe_mul(WEIGHT_DENOMINATOR)?)?;
            Ok((reward, 0))
        } else if flag_index != TIMELY_HEAD_FLAG_INDEX {
            Ok((
                0,
                base_reward.safe_mul(weight)?.safe_div(WEIGHT_DENOMINATOR)?,
            ))
        } else {
            Ok((0, 0))
        }
    }

    /// The three flags' `(reward, penalty)` for an eligible validator with `effective_balance`
    /// and previous-epoch flag bits `flags` (bits `0..3`).
    fn eligible_flag_deltas<P: Preset>(
        &self,
        effective_balance: Gwei,
        flags: u8,
    ) -> Result<[(Gwei, Gwei); FLAG_COUNT]> {
        let mut out = [(0, 0); FLAG_COUNT];
        for (flag_index, delta) in (0u64..).zip(out.iter_mut()) {
            *delta = self.eligible_flag_delta::<P>(
                effective_balance,
                has_flag(flags, flag_index),
                flag_index,
            )?;
        }
        Ok(out)
    }

    /// `get_inactivity_penalty_deltas(state)[index]`'s penalty (rewards are zero).
    fn inactivity_penalty(
        &self,
        summary: &EpochSummary,
        index: usize,
        inactivity_score: u64,
    ) -> Result<Gwei> {
        if !summary.is_eligible(index)
            || summary.is_previous_participant(index, TIMELY_TARGET_FLAG_INDEX)
        {
            return Ok(0);
        }
        let effective_balance = summary.effective_balances.get(index).copied().unwrap_or(0);
        Ok(effective_balance
            .safe_mul(inactivity_score)?
            .safe_div(self.inactivity_penalty_denominator)?)
    }
}

/// `get_flag_index_deltas(state, flag_index)`: per-validator `(rewards, penalties)`.
pub fn get_flag_index_deltas<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
    summary: &EpochSummary,
    flag_index: u64,
) -> Result<(Vec<Gwei>, Vec<Gwei>)> {
    let ctx = RewardContext::new(state, config, summary)?;
    let n = summary.status.len();
    let mut rewards = vec![0; n];
    let mut penalties = vec![0; n];
    for (index, (r, p)) in rewards.iter_mut().zip(penalties.iter_mut()).enumerate() {
        (*r, *p) = ctx.flag_index_delta::<P>(summary, index, flag_index)?;
    }
    Ok((rewards, penalties))
}

/// `get_inactivity_penalty_deltas(state)` (Bellatrix quotient): per-validator
/// `(rewards, penalties)`.
pub fn get_inactivity_penalty_deltas<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
    summary: &EpochSummary,
) -> Result<(Vec<Gwei>, Vec<Gwei>)> {
    let ctx = RewardContext::new(state, config, summary)?;
    let n = summary.status.len();
    let mut penalties = vec![0; n];
    for ((index, p), score) in penalties
        .iter_mut()
        .enumerate()
        .zip(state.inactivity_scores().iter())
    {
        *p = ctx.inactivity_penalty(summary, index, *score)?;
    }
    Ok((vec![0; n], penalties))
}

/// Applies the four delta sets in the spec's order (flags 0, 1, 2, then inactivity), each as
/// `increase_balance` then `decrease_balance`, in one pass: a validator's balance depends only on
/// its own deltas, so per-validator sequencing is the spec's per-set sequencing.
///
/// The flag deltas depend only on the effective balance and the three flag bits, so they are
/// computed once per `(effective balance increments, flags)` pair. Nearly every balance changes,
/// so the new balances are collected and the list rebuilt in one go (rather than updated
/// element by element through the list's update map).
///
/// `inactivity_scores`: the scores as [`inactivity_updates`] left them, if it returned them (else
/// they are read from the state).
fn rewards_and_penalties<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    summary: &EpochSummary,
    inactivity_scores: Option<&[u64]>,
) -> Result<Option<Vec<Gwei>>> {
    if get_current_epoch(state) == GENESIS_EPOCH {
        return Ok(None);
    }
    let ctx = RewardContext::new(state, config, summary)?;
    let increment = P::EFFECTIVE_BALANCE_INCREMENT;
    let table_len = to_usize(P::MAX_EFFECTIVE_BALANCE_ELECTRA.safe_div(increment)?)?
        .safe_add(1)?
        .safe_mul(1 << FLAG_COUNT)?;
    let flag_mask: u8 = (1 << FLAG_COUNT) - 1;
    let balances = state.balances();
    let list_scores = state.inactivity_scores();
    let n = balances.len();
    let changed = std::cell::Cell::new(false);
    // New balances of validators `start..end`.
    let compute = |start: usize, end: usize| -> Result<Vec<Gwei>> {
        let mut any_change = false;
        let mut table: Vec<Option<[(Gwei, Gwei); FLAG_COUNT]>> = vec![None; table_len];
        let mut list_scores = match inactivity_scores {
            Some(_) => None,
            None => Some(
                list_scores
                    .iter_from(start)
                    .map_err(Error::tree("inactivity_scores", "iter_from"))?,
            ),
        };
        let mut new_balances: Vec<Gwei> = Vec::with_capacity(end.saturating_sub(start));
        let olds = balances
            .iter_from(start)
            .map_err(Error::tree("balances", "iter_from"))?;
        for (index, &old) in (start..end).zip(olds) {
            let score = match (inactivity_scores, list_scores.as_mut()) {
                (Some(scores), _) => scores.get(index).copied().unwrap_or(0),
                (None, Some(list)) => list.next().copied().unwrap_or(0),
                (None, None) => 0,
            };
            let status = summary.status.get(index).copied().unwrap_or(0);
            if status & ELIGIBLE == 0 {
                new_balances.push(old);
                continue;
            }
            let effective_balance = summary.effective_balances.get(index).copied().unwrap_or(0);
            let flags = status & flag_mask;
            let slot = if effective_balance.safe_rem(increment)? == 0 {
                to_usize(effective_balance.safe_div(increment)?)?
                    .safe_mul(1 << FLAG_COUNT)?
                    .safe_add(usize::from(flags))
                    .ok()
                    .filter(|&i| i < table_len)
            } else {
                None
            };
            let deltas = match slot.and_then(|i| table.get(i).copied().flatten()) {
                Some(deltas) => deltas,
                None => {
                    let deltas = ctx.eligible_flag_deltas::<P>(effective_balance, flags)?;
                    if let Some(entry) = slot.and_then(|i| table.get_mut(i)) {
                        *entry = Some(deltas);
                    }
                    deltas
                }
            };
            let mut new = old;
            for (reward, penalty) in deltas {
                new = new.safe_add(reward)?.saturating_sub(penalty);
            }
            if score != 0 {
                new = new.saturating_sub(ctx.inactivity_penalty(summary, index, score)?);
            }
            any_change |= new != old;
            new_balances.push(new);
        }
        if any_change {
            changed.set(true);
        }
        Ok(new_balances)
    };
    let new_balances = compute(0, n)?;
    if changed.get() {
        *state.balances_mut() = List::try_from_iter(new_balances.iter().copied())
            .map_err(Error::tree("balances", "rebuild"))?;
    }
    Ok(Some(new_balances))
}

// ---- registry updates ----

/// Electra's `process_registry_updates`: activation eligibility, ejections and activations in
/// one loop.
pub fn process_registry_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
) -> Result<()> {
    let total = crate::accessors::get_total_active_balance(state)?;
    registry_updates(state, config, total, None).map(|_| ())
}

/// What `process_registry_updates` does to one validator.
enum RegistryAction {
    MarkEligible,
    Eject,
    Activate,
}

/// The branch of `process_registry_updates`' loop body that applies to `v`, if any.
fn registry_action<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
    v: &keel_types::electra::Validator,
    current_epoch: Epoch,
) -> Option<RegistryAction> {
    if is_eligible_for_activation_queue::<P>(v) {
        Some(RegistryAction::MarkEligible)
    } else if is_active_validator(v, current_epoch)
        && v.effective_balance <= config.ejection_balance
    {
        Some(RegistryAction::Eject)
    } else if is_eligible_for_activation(state, v) {
        Some(RegistryAction::Activate)
    } else {
        None
    }
}

/// Runs the registry updates over `candidates` (a superset of the validators acted on, in
/// ascending order; `None`: every validator). Returns the ejected indices.
fn registry_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    total_active_balance: Gwei,
    candidates: Option<&[ValidatorIndex]>,
) -> Result<Vec<ValidatorIndex>> {
    let current_epoch = get_current_epoch(state);
    let activation_epoch = compute_activation_exit_epoch::<P>(current_epoch)?;
    // Each validator's branch depends only on its own fields, the current epoch and the
    // finalized checkpoint, none of which an earlier index's action changes; so decide first,
    // then act in index order (ejections consume churn in that order, as in the spec).
    let mut actions = Vec::new();
    match candidates {
        Some(candidates) => {
            for &index in candidates {
                let v = validator(state.validators(), index)?;
                if let Some(action) = registry_action(state, config, v, current_epoch) {
                    actions.push((index, action));
                }
            }
        }
        None => {
            for (v, index) in state.validators().iter().zip(0u64..) {
                if let Some(action) = registry_action(state, config, v, current_epoch) {
                    actions.push((index, action));
                }
            }
        }
    }
    let eligibility_epoch = current_epoch.safe_add(1)?;
    let mut ejected = Vec::new();
    for (index, action) in actions {
        match action {
            RegistryAction::MarkEligible => {
                crate::mutators::validator_mut(state, index)?.activation_eligibility_epoch =
                    eligibility_epoch;
            }
            RegistryAction::Eject => {
                initiate_validator_exit_with_total(state, config, index, total_active_balance)?;
                ejected.push(index);
            }
            RegistryAction::Activate => {
                crate::mutators::validator_mut(state, index)?.activation_epoch = activation_epoch;
            }
        }
    }
    Ok(ejected)
}

// ---- slashings ----

/// Electra's `process_slashings`: the correlation penalty per effective-balance increment.
pub fn process_slashings<P: Preset, S: PostElectraState<P>>(state: &mut S) -> Result<()> {
    let total = crate::accessors::get_total_active_balance(state)?;
    slashings(state, total, None)
}

/// `process_slashings` over `candidates` (a superset of the penalized validators; `None`: every
/// validator).
fn slashings<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    total_balance: Gwei,
    candidates: Option<&[ValidatorIndex]>,
) -> Result<()> {
    let epoch = get_current_epoch(state);
    let mut sum_slashings: Gwei = 0;
    for s in state.slashings().iter() {
        sum_slashings.safe_add_assign(*s)?;
    }
    let adjusted_total_slashing_balance = sum_slashings
        .safe_mul(P::PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX)?
        .min(total_balance);
    // Factored out from total balance to avoid uint64 overflow
    let increment = P::EFFECTIVE_BALANCE_INCREMENT;
    let penalty_per_effective_balance_increment =
        adjusted_total_slashing_balance.safe_div(total_balance.safe_div(increment)?)?;
    let target_withdrawable_epoch =
        epoch.safe_add(P::epochs_per_slashings_vector().safe_div(2)?)?;
    let mut penalties = Vec::new();
    let mut consider = |v: &keel_types::electra::Validator, index: ValidatorIndex| -> Result<()> {
        if v.slashed && target_withdrawable_epoch == v.withdrawable_epoch {
            let effective_balance_increments = v.effective_balance.safe_div(increment)?;
            penalties.push((
                index,
                penalty_per_effective_balance_increment.safe_mul(effective_balance_increments)?,
            ));
        }
        Ok(())
    };
    match candidates {
        Some(candidates) => {
            for &index in candidates {
                consider(validator(state.validators(), index)?, index)?;
            }
        }
        None => {
            for (v, index) in state.validators().iter().zip(0u64..) {
                consider(v, index)?;
            }
        }
    }
    for (index, penalty) in penalties {
        decrease_balance(state, index, penalty)?;
    }
    Ok(())
}

// ---- resets and history ----

/// `process_eth1_data_reset`: clear the votes at the end of a voting period.
pub fn process_eth1_data_reset<P: Preset, S: PostElectraState<P>>(state: &mut S) -> Result<()> {
    let next_epoch = get_current_epoch(state).safe_add(1)?;
    if next_epoch.safe_rem(P::EPOCHS_PER_ETH1_VOTING_PERIOD)? == 0 {
        *state.eth1_data_votes_mut() = List::empty();
    }
    Ok(())
}

/// `process_slashings_reset`: zero the next epoch's slot of the slashings vector.
pub fn process_slashings_reset<P: Preset, S: PostElectraState<P>>(state: &mut S) -> Result<()> {
    let next_epoch = get_current_epoch(state).safe_add(1)?;
    let position = to_usize(next_epoch.safe_rem(P::epochs_per_slashings_vector())?)?;
    let slashings = state.slashings_mut();
    let len = slashings.len();
    *slashings
        .get_mut(position)
        .ok_or_else(|| Error::index("slashings", position, len))? = 0;
    Ok(())
}

/// `process_randao_mixes_reset`: carry the current mix into the next epoch's slot.
pub fn process_randao_mixes_reset<P: Preset, S: PostElectraState<P>>(state: &mut S) -> Result<()> {
    let current_epoch = get_current_epoch(state);
    let next_epoch = current_epoch.safe_add(1)?;
    let mix = get_randao_mix(state, current_epoch)?;
    let position = to_usize(next_epoch.safe_rem(P::epochs_per_historical_vector())?)?;
    let mixes = state.randao_mixes_mut();
    let len = mixes.len();
    *mixes
        .get_mut(position)
        .ok_or_else(|| Error::index("randao_mixes", position, len))? = mix;
    Ok(())
}

/// `process_historical_summaries_update` (Capella): append the block and state root summaries
/// every `SLOTS_PER_HISTORICAL_ROOT // SLOTS_PER_EPOCH` epochs.
pub fn process_historical_summaries_update<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
) -> Result<()> {
    let next_epoch = get_current_epoch(state).safe_add(1)?;
    let period = P::slots_per_historical_root().safe_div(P::slots_per_epoch())?;
    if next_epoch.safe_rem(period)? == 0 {
        let f = state.fields_mut();
        f.block_roots
            .apply_updates()
            .map_err(Error::tree("block_roots", "apply_updates"))?;
        f.state_roots
            .apply_updates()
            .map_err(Error::tree("state_roots", "apply_updates"))?;
        let summary = HistoricalSummary {
            block_summary_root: f.block_roots.tree_hash_root(),
            state_summary_root: f.state_roots.tree_hash_root(),
        };
        f.historical_summaries
            .push(summary)
            .map_err(Error::tree("historical_summaries", "push"))?;
    }
    Ok(())
}

/// `process_participation_flag_updates`: rotate the participation records.
pub fn process_participation_flag_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
) -> Result<()> {
    let n = state.validators().len();
    let f = state.fields_mut();
    *f.previous_epoch_participation = f.current_epoch_participation.clone();
    *f.current_epoch_participation =
        List::repeat(0, n).map_err(Error::tree("current_epoch_participation", "repeat"))?;
    Ok(())
}

/// `process_sync_committee_updates`: rotate the sync committees at a period boundary.
pub fn process_sync_committee_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    caches: &mut Caches,
) -> Result<()> {
    let next_epoch = get_current_epoch(state).safe_add(1)?;
    if next_epoch.safe_rem(P::EPOCHS_PER_SYNC_COMMITTEE_PERIOD)? == 0 {
        let next = get_next_sync_committee(state, caches)?;
        *state.current_sync_committee_mut() = Arc::clone(state.next_sync_committee());
        *state.next_sync_committee_mut() = Arc::new(next);
    }
    Ok(())
}

// ---- pending deposits and consolidations ----

/// `process_pending_deposits` (Electra; Fulu without the Eth1 bridge check, through
/// [`PostElectraState::is_deposit_request_blocked_by_eth1_bridge`]).
pub fn process_pending_deposits<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
) -> Result<()> {
    let total = crate::accessors::get_total_active_balance(state)?;
    pending_deposits(state, config, total, &mut Vec::new())
}

/// `process_pending_deposits` given the total active balance; appends to `touched` the index
/// of every validator whose balance it changes (or that it adds).
fn pending_deposits<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    config: &ChainConfig,
    total_active_balance: Gwei,
    touched: &mut Vec<ValidatorIndex>,
) -> Result<()> {
    let next_epoch = get_current_epoch(state).safe_add(1)?;
    let available_for_processing =
        state
            .deposit_balance_to_consume()
            .safe_add(activation_exit_churn_limit::<P>(
                config,
                total_active_balance,
            )?)?;
    let mut processed_amount: Gwei = 0;
    let mut next_deposit_index: u64 = 0;
    let mut deposits_to_postpone = Vec::new();
    let mut is_churn_limit_reached = false;
    let finalized_slot = compute_start_slot_at_epoch::<P>(state.finalized_checkpoint().epoch)?;

    // The loop examines at most MAX_PENDING_DEPOSITS_PER_EPOCH deposits: look up all their
    // pubkeys in one pass over the registry instead of one pass per deposit.
    let candidates: Vec<PendingDeposit> = state
        .pending_deposits()
        .iter()
        .take(to_usize(P::MAX_PENDING_DEPOSITS_PER_EPOCH)?)
        .copied()
        .collect();
    let mut index_of = lookup_pubkeys(state, candidates.iter().map(|d| d.pubkey));

    for deposit in &candidates {
        // Do not process deposit requests if Eth1 bridge deposits are not yet applied.
        if state.is_deposit_request_blocked_by_eth1_bridge(deposit) {
            break;
        }
        // Check if deposit has been finalized, otherwise, stop processing.
        if deposit.slot > finalized_slot {
            break;
        }
        // Check if number of processed deposits has not reached the limit, otherwise, stop
        // processing.
        if next_deposit_index >= P::MAX_PENDING_DEPOSITS_PER_EPOCH {
            break;
        }
        // Read validator state
        let existing = index_of.get(&deposit.pubkey).copied().flatten();
        let (is_validator_exited, is_validator_withdrawn) = match existing {
            Some(index) => {
                let v = validator(state.validators(), index)?;
                (
                    v.exit_epoch < FAR_FUTURE_EPOCH,
                    v.withdrawable_epoch < next_epoch,
                )
            }
            None => (false, false),
        };

        if is_validator_withdrawn {
            // Deposited balance will never become active. Increase balance but do not consume
            // churn.
            touched.extend(apply_pending_deposit(state, config, deposit, existing)?);
        } else if is_validator_exited {
            // Validator is exiting, postpone the deposit until after withdrawable epoch
            deposits_to_postpone.push(*deposit);
        } else {
            // Check if deposit fits in the churn, otherwise, do no more deposit processing in
            // this epoch.
            is_churn_limit_reached =
                processed_amount.safe_add(deposit.amount)? > available_for_processing;
            if is_churn_limit_reached {
                break;
            }
            // Consume churn and apply deposit.
            processed_amount.safe_add_assign(deposit.amount)?;
            let applied = apply_pending_deposit(state, config, deposit, existing)?;
            touched.extend(applied);
            if existing.is_none() && applied.is_some() {
                // A later deposit for the same pubkey is a top-up of the new validator.
                index_of.insert(deposit.pubkey, applied);
            }
        }
        // Regardless of how the deposit was handled, we move on in the queue.
        next_deposit_index.safe_add_assign(1)?;
    }

    let queue = state.pending_deposits_mut();
    queue
        .pop_front(to_usize(next_deposit_index)?)
        .map_err(Error::tree("pending_deposits", "pop_front"))?;
    for deposit in deposits_to_postpone {
        queue
            .push(deposit)
            .map_err(Error::tree("pending_deposits", "push"))?;
    }

    // Accumulate churn only if the churn limit has been hit.
    *state.deposit_balance_to_consume_mut() = if is_churn_limit_reached {
        available_for_processing.safe_sub(processed_amount)?
    } else {
        0
    };
    Ok(())
}

/// `validator_pubkeys.index(pubkey)` for each of `pubkeys`, in one pass over the registry
/// (`None`: not registered).
fn lookup_pubkeys<P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: impl IntoIterator<Item = BlsPubkey>,
) -> HashMap<BlsPubkey, Option<ValidatorIndex>> {
    let mut found: HashMap<BlsPubkey, Option<ValidatorIndex>> =
        pubkeys.into_iter().map(|pk| (pk, None)).collect();
    let mut missing = found.len();
    if missing == 0 {
        return found;
    }
    for (v, index) in state.validators().iter().zip(0u64..) {
        if let Some(slot) = found.get_mut(&v.pubkey)
            && slot.is_none()
        {
            *slot = Some(index);
            missing = missing.saturating_sub(1);
            if missing == 0 {
                break;
            }
        }
    }
    found
}

/// `process_pending_consolidations` (Electra): move the source's active balance to the target
/// once the source is withdrawable.
pub fn process_pending_consolidations<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
) -> Result<()> {
    pending_consolidations(state, &mut Vec::new())
}

/// `process_pending_consolidations`, appending to `touched` the validators whose balance it
/// changes.
fn pending_consolidations<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    touched: &mut Vec<ValidatorIndex>,
) -> Result<()> {
    let next_epoch = get_current_epoch(state).safe_add(1)?;
    let mut next_pending_consolidation: usize = 0;
    while let Some(pending) = state
        .pending_consolidations()
        .get(next_pending_consolidation)
        .copied()
    {
        let source_validator = validator(state.validators(), pending.source_index)?;
        if source_validator.slashed {
            next_pending_consolidation.safe_add_assign(1)?;
            continue;
        }
        if source_validator.withdrawable_epoch > next_epoch {
            break;
        }
        // Calculate the consolidated balance
        let source_effective_balance = crate::accessors::get_balance(state, pending.source_index)?
            .min(source_validator.effective_balance);
        // Move active balance to target. Excess balance is withdrawable.
        decrease_balance(state, pending.source_index, source_effective_balance)?;
        increase_balance(state, pending.target_index, source_effective_balance)?;
        touched.extend([pending.source_index, pending.target_index]);
        next_pending_consolidation.safe_add_assign(1)?;
    }
    state
        .pending_consolidations_mut()
        .pop_front(next_pending_consolidation)
        .map_err(Error::tree("pending_consolidations", "pop_front"))
}

/// Electra's `process_effective_balance_updates`: hysteresis against
/// `get_max_effective_balance`.
pub fn process_effective_balance_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
) -> Result<()> {
    let (effective_balances, status): (Vec<Gwei>, Vec<u8>) = state
        .validators()
        .iter()
        .map(|v| {
            let compounding = if has_compounding_withdrawal_credential(v) {
                COMPOUNDING
            } else {
                0
            };
            (v.effective_balance, compounding)
        })
        .unzip();
    effective_balance_updates(state, &effective_balances, &status, None)
}

/// `process_effective_balance_updates` given the effective balances and [`COMPOUNDING`] bits of
/// the first `effective_balances.len()` validators (those of [`EpochSummary`]: no epoch step
/// before this one changes an existing validator's effective balance or withdrawal credentials;
/// validators added by pending deposits are read from the registry). Reads the balances in one
/// pass over their packed list and touches only the validators whose effective balance changes.
/// The balances as rewards and penalties left them (index-aligned with the registry then), and
/// the sorted indices whose balance changed since.
#[derive(Debug, Clone, Copy)]
struct RewardedBalances<'a> {
    balances: &'a [Gwei],
    touched: &'a [ValidatorIndex],
}

/// `process_effective_balance_updates` given the effective balances and status bits read at
/// the start of the epoch; with `rewarded`, the balances are read from it (and from the list
/// only for the touched and added validators) instead of walking the balances tree.
fn effective_balance_updates<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    effective_balances: &[Gwei],
    status: &[u8],
    rewarded: Option<RewardedBalances<'_>>,
) -> Result<()> {
    let hysteresis_increment = P::EFFECTIVE_BALANCE_INCREMENT.safe_div(P::HYSTERESIS_QUOTIENT)?;
    let downward_threshold = hysteresis_increment.safe_mul(P::HYSTERESIS_DOWNWARD_MULTIPLIER)?;
    let upward_threshold = hysteresis_increment.safe_mul(P::HYSTERESIS_UPWARD_MULTIPLIER)?;
    let f = state.fields_mut();
    if f.balances.len() != f.validators.len() {
        return Err(Error::index(
            "balances",
            f.validators.len(),
            f.balances.len(),
        ));
    }
    let mut changes: Vec<(usize, Gwei)> = Vec::new();
    let mut check = |index: usize, balance: Gwei| -> Result<()> {
        let (effective_balance, max_effective_balance) =
            match (effective_balances.get(index), status.get(index)) {
                (Some(&eb), Some(&bits)) => {
                    let max = if bits & COMPOUNDING != 0 {
                        P::MAX_EFFECTIVE_BALANCE_ELECTRA
                    } else {
                        P::MIN_ACTIVATION_BALANCE
                    };
                    (eb, max)
                }
                _ => {
                    let v = validator(f.validators, index as u64)?;
                    (v.effective_balance, get_max_effective_balance::<P>(v))
                }
            };
        if balance.safe_add(downward_threshold)? < effective_balance
            || effective_balance.safe_add(upward_threshold)? < balance
        {
            let new = balance
                .safe_sub(balance.safe_rem(P::EFFECTIVE_BALANCE_INCREMENT)?)?
                .min(max_effective_balance);
            if new != effective_balance {
                changes.push((index, new));
            }
        }
        Ok(())
    };
    match rewarded {
        Some(RewardedBalances { balances, touched }) => {
            let balances_len = f.balances.len();
            let mut touched = touched.iter().peekable();
            for index in 0..balances_len {
                while touched.next_if(|&&t| t < index as u64).is_some() {}
                let is_touched = touched.next_if(|&&t| t == index as u64).is_some();
                let balance = match balances.get(index) {
                    Some(&balance) if !is_touched => balance,
                    _ => *f
                        .balances
                        .get(index)
                        .ok_or_else(|| Error::index("balances", index, balances_len))?,
                };
                check(index, balance)?;
            }
        }
        None => {
            for (index, &balance) in f.balances.iter().enumerate() {
                check(index, balance)?;
            }
        }
    }
    let len = f.validators.len();
    for (index, new) in changes {
        f.validators
            .get_mut(index)
            .ok_or_else(|| Error::index("validators", index, len))?
            .effective_balance = new;
    }
    Ok(())
}

// ---- Fulu ----

/// Fulu's `process_proposer_lookahead` (EIP-7917): shift out the first epoch's proposers and
/// append those of `current_epoch + MIN_SEED_LOOKAHEAD + 1`.
pub fn process_proposer_lookahead<P: Preset, S: PostFuluState<P>>(
    state: &mut S,
    caches: &mut Caches,
) -> Result<()> {
    let epoch = get_current_epoch(state)
        .safe_add(P::MIN_SEED_LOOKAHEAD)?
        .safe_add(1)?;
    let last_epoch_proposers = get_beacon_proposer_indices(state, caches, epoch)?;
    let slots_per_epoch = to_usize(P::slots_per_epoch())?;
    let lookahead = state.proposer_lookahead_mut();
    let len = lookahead.len();
    let shifted: Vec<ValidatorIndex> = lookahead
        .iter()
        .skip(slots_per_epoch)
        .copied()
        .chain(last_epoch_proposers)
        .collect();
    if shifted.len() != len {
        return Err(Error::index("proposer_lookahead", shifted.len(), len));
    }
    for (i, value) in shifted.into_iter().enumerate() {
        *lookahead
            .get_mut(i)
            .ok_or_else(|| Error::index("proposer_lookahead", i, len))? = value;
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::state::PostElectraFields;
    use keel_types::electra::Validator;
    use keel_types::{Mainnet, fulu};

    /// A mainnet-preset Fulu state with `n` active validators, full participation, mid-period.
    fn big_state(n: usize) -> fulu::BeaconState<Mainnet> {
        let mut state = fulu::BeaconState::<Mainnet>::default();
        let epoch = 1000;
        state.slot = epoch * 32 + 31;
        let mut validators = Vec::with_capacity(n);
        let mut balances = Vec::with_capacity(n);
        for i in 0..n as u64 {
            let mut pubkey = [0u8; 48];
            pubkey[..8].copy_from_slice(&i.to_le_bytes());
            validators.push(Validator {
                pubkey: keel_types::PublicKeyBytes(pubkey),
                effective_balance: 32_000_000_000,
                activation_epoch: 0,
                exit_epoch: FAR_FUTURE_EPOCH,
                withdrawable_epoch: FAR_FUTURE_EPOCH,
                ..Validator::default()
            });
            balances.push(32_000_000_000 + (i * 7919) % 2_000_000_000);
        }
        state.validators = List::new(validators).unwrap();
        state.balances = List::new(balances).unwrap();
        state.previous_epoch_participation = List::repeat(0b111, n).unwrap();
        state.current_epoch_participation = List::repeat(0b111, n).unwrap();
        state.inactivity_scores = List::repeat(0, n).unwrap();
        state.finalized_checkpoint.epoch = epoch - 2;
        state.current_justified_checkpoint.epoch = epoch - 1;
        state.previous_justified_checkpoint.epoch = epoch - 2;
        state
    }

    /// The fused passes give the spec's results on a varied registry: the summary equals one
    /// `summarize` over the whole registry, rewards and penalties equal the spec's delta
    /// functions applied in order, and the inactivity pass the spec's loop.
    #[test]
    fn fused_passes_match_the_spec() {
        let config = ChainConfig::mainnet();
        let n = 70_001;
        let mut state = big_state(n);
        let mut scores = Vec::with_capacity(n);
        let mut previous = Vec::with_capacity(n);
        for i in 0..n as u64 {
            scores.push(if i % 13 == 0 { i % 50 } else { 0 });
            previous.push((i % 8) as u8);
            if i % 97 == 0 {
                let v = state.validators.get_mut(i as usize).unwrap();
                v.effective_balance = 31_000_000_000;
            }
        }
        state.inactivity_scores = List::new(scores).unwrap();
        state.previous_epoch_participation = List::new(previous).unwrap();
        state.apply_pending_updates().unwrap();

        let summary = EpochSummary::new(&state, &config).unwrap();
        let f = state.fields();
        let range = SummaryRange {
            validators: f.validators,
            previous_participation: f.previous_epoch_participation,
            current_participation: f.current_epoch_participation,
            current_epoch: summary.current_epoch,
            previous_epoch: summary.previous_epoch,
            lookahead_epoch: summary.current_epoch + 2,
            slashing_withdrawable_epoch: summary.current_epoch + 4096,
            ejection_balance: config.ejection_balance,
        };
        let one = range.summarize::<Mainnet>(0, n, n).unwrap();
        assert_eq!(one.status, summary.status);
        assert_eq!(one.effective_balances, summary.effective_balances);
        assert_eq!(
            one.total_active.max(1_000_000_000),
            summary.total_active_balance
        );
        assert_eq!(
            one.lookahead_active_indices,
            summary.lookahead_active_indices
        );

        let mut expected: Vec<u64> = state.balances.iter().copied().collect();
        for flag in 0..3 {
            let (rewards, penalties) =
                get_flag_index_deltas(&state, &config, &summary, flag).unwrap();
            for (i, b) in expected.iter_mut().enumerate() {
                *b = (*b + rewards[i]).saturating_sub(penalties[i]);
            }
        }
        let (_, penalties) = get_inactivity_penalty_deltas(&state, &config, &summary).unwrap();
        for (b, p) in expected.iter_mut().zip(penalties) {
            *b = b.saturating_sub(p);
        }
        let mut processed = state.clone();
        let returned = rewards_and_penalties(&mut processed, &config, &summary, None)
            .unwrap()
            .unwrap();
        let got: Vec<u64> = processed.balances.iter().copied().collect();
        assert_eq!(got, expected);
        assert_eq!(returned, expected);

        // Inactivity updates against the spec loop.
        let mut updated = state.clone();
        let scores = inactivity_updates(&mut updated, &config, &summary)
            .unwrap()
            .unwrap();
        let in_leak = is_in_inactivity_leak(&state).unwrap();
        for (i, (&old, &new)) in state.inactivity_scores.iter().zip(&scores).enumerate() {
            let mut want = old;
            if summary.is_eligible(i) {
                want = if summary.is_previous_participant(i, TIMELY_TARGET_FLAG_INDEX) {
                    old.saturating_sub(1)
                } else {
                    old + config.inactivity_score_bias
                };
                if !in_leak {
                    want = want.saturating_sub(config.inactivity_score_recovery_rate);
                }
            }
            assert_eq!(new, want, "score {i}");
            assert_eq!(*updated.inactivity_scores.get(i).unwrap(), want);
        }
    }

    /// `cargo test --release -p keel-state-transition -- --ignored --nocapture epoch_1m`
    #[test]
    #[ignore = "benchmark: 1M validators"]
    fn epoch_1m() {
        let config = ChainConfig::mainnet();
        let mut state = big_state(1 << 20);
        state.apply_pending_updates().unwrap();
        let _ = state.tree_hash_root();
        let mut caches = Caches::new();
        let mut timed_state = state.clone();
        let start = std::time::Instant::now();
        process_epoch(&mut state, &config, &mut caches).unwrap();
        let epoch_time = start.elapsed();
        let start = std::time::Instant::now();
        state.apply_pending_updates().unwrap();
        let _ = state.tree_hash_root();
        eprintln!(
            "process_epoch: {epoch_time:?}; rehash after: {:?}",
            start.elapsed()
        );

        time_steps(&mut timed_state, &config);
    }

    /// The same per-step timing on the benchmarks' cached 1M-validator fixture (generate it first
    /// with `cargo run --release -p keel-benches --bin epoch_steps`), advanced to the last slot
    /// of its epoch:
    /// `cargo test --release -p keel-state-transition -- --ignored --nocapture epoch_fixture`
    #[test]
    #[ignore = "benchmark: reads the 1M-validator fixture from target/keel-fixtures"]
    fn epoch_fixture_steps() {
        use keel_types::ssz::Decode;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/keel-fixtures/fulu-state-1000000-v2.ssz");
        let bytes = std::fs::read(&path).unwrap(); // run the epoch_steps bin first
        let mut state = fulu::BeaconState::<Mainnet>::from_ssz_bytes(&bytes).unwrap();
        let config = ChainConfig::mainnet();
        let mut caches = Caches::new();
        let boundary = (state.slot / 32 + 1) * 32;
        crate::slot::process_slots(&mut state, &config, &mut caches, boundary - 1).unwrap();
        state.apply_pending_updates().unwrap();
        let _ = state.tree_hash_root();
        for _ in 0..3 {
            let mut s = state.clone();
            time_steps(&mut s, &config);
        }
    }

    fn time_steps(s: &mut fulu::BeaconState<Mainnet>, config: &ChainConfig) {
        let config = config.clone();
        let mut caches = Caches::new();
        let start = std::time::Instant::now();
        let mut t = std::time::Instant::now();
        let mut lap = |name: &str| {
            eprintln!("  {name}: {:?}", t.elapsed());
            t = std::time::Instant::now();
        };
        let summary = EpochSummary::new(s, &config).unwrap();
        lap("summary");
        justification_and_finalization(s, &summary).unwrap();
        lap("justification");
        let scores = inactivity_updates(s, &config, &summary).unwrap();
        lap("inactivity");
        let rewarded = rewards_and_penalties(s, &config, &summary, scores.as_deref()).unwrap();
        lap("rewards");
        registry_updates(
            s,
            &config,
            summary.total_active_balance,
            Some(&summary.registry_candidates),
        )
        .unwrap();
        lap("registry");
        slashings(
            s,
            summary.total_active_balance,
            Some(&summary.slashing_candidates),
        )
        .unwrap();
        lap("slashings");
        let mut touched = summary.slashing_candidates.clone();
        pending_deposits(s, &config, summary.total_active_balance, &mut touched).unwrap();
        pending_consolidations(s, &mut touched).unwrap();
        touched.sort_unstable();
        touched.dedup();
        lap("pending");
        let rewarded = rewarded.as_deref().map(|balances| RewardedBalances {
            balances,
            touched: &touched,
        });
        effective_balance_updates(s, &summary.effective_balances, &summary.status, rewarded)
            .unwrap();
        lap("effective_balance");
        process_slashings_reset(s).unwrap();
        process_randao_mixes_reset(s).unwrap();
        process_historical_summaries_update(s).unwrap();
        lap("resets");
        process_participation_flag_updates(s).unwrap();
        lap("participation");
        process_sync_committee_updates(s, &mut caches).unwrap();
        lap("sync");
        let epoch = summary.current_epoch + 2;
        caches
            .insert_active_indices(s, epoch, summary.lookahead_active_indices)
            .unwrap();
        s.process_proposer_lookahead(&mut caches).unwrap();
        lap("lookahead");
        eprintln!("  total: {:?}", start.elapsed());
    }
}
