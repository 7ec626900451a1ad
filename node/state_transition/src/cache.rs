//! Derived per-epoch data that is expensive to recompute: the committee shuffling, and the total
//! active balance with the registry's effective balances ([`EpochBalances`], keyed by the epoch
//! and the registry's root; see its docs).
//!
//! A [`CommitteeCache`] holds, for one epoch, the active validator indices and their
//! swap-or-not shuffling, so that `get_beacon_committee` is a slice lookup (O(committee)) after
//! one O(n) shuffle per epoch, instead of `compute_shuffled_index` per member.
//!
//! # Why the cache cannot disagree with the state
//!
//! A cache entry is keyed by `(epoch, seed)`, where `seed = get_seed(state, epoch,
//! DOMAIN_BEACON_ATTESTER)` is recomputed from the state on every lookup (one hash). The
//! shuffling is a function of the seed and of the active set at `epoch`, and:
//!
//! - the seed commits to `randao_mixes[epoch - MIN_SEED_LOOKAHEAD - 1]`, so states of different
//!   branches (different RANDAO history) never share a key;
//! - the active set at `epoch` is fixed once the state is at epoch `epoch - MAX_SEED_LOOKAHEAD`
//!   or later: activations and exits are only ever scheduled at
//!   `compute_activation_exit_epoch(current) = current + 1 + MAX_SEED_LOOKAHEAD` or later.
//!
//! Entries are therefore only stored for `epoch <= current_epoch + MAX_SEED_LOOKAHEAD`; a lookup
//! beyond that builds a fresh, unstored [`CommitteeCache`]. The cache is never a second source of
//! truth: it can always be dropped (`Caches::default()`) and rebuilt from the state.
//!
//! [`Caches`] belongs to the caller (the chain keeps one beside each state it transitions); it is
//! plain data, `Send + Sync`, and cheap to clone (entries are `Arc`s).

use crate::accessors::{committee_count_for_active, get_current_epoch, get_seed};
use crate::error::{Error, Result};
use crate::math::{SafeArith, to_usize};
use crate::predicates::is_active_validator;
use crate::shuffling::shuffle_list;
use crate::state::PostElectraState;
use keel_config::constants::DOMAIN_BEACON_ATTESTER;
use keel_types::{Epoch, Gwei, Hash256, Preset, Slot, ValidatorIndex};
use std::sync::{Arc, OnceLock};

/// How many epochs' shufflings [`Caches`] keeps (previous, current, next, and one spare).
const MAX_CACHED_EPOCHS: usize = 4;

/// The committees of one epoch: active indices and their shuffling under the epoch's seed.
#[derive(Debug, Clone)]
pub struct CommitteeCache {
    epoch: Epoch,
    seed: Hash256,
    /// `get_active_validator_indices(state, epoch)`, ascending.
    active_indices: Vec<ValidatorIndex>,
    /// `shuffling[i] = active_indices[compute_shuffled_index(i, len, seed)]`, computed on first
    /// use: proposer selection (e.g. Fulu's lookahead, filled during epoch processing) needs only
    /// the active indices, so the O(n · rounds) shuffle happens when committees are first asked
    /// for.
    shuffling: OnceLock<Vec<ValidatorIndex>>,
    /// `SHUFFLE_ROUND_COUNT`.
    rounds: u8,
    /// `get_committee_count_per_slot(state, epoch)`.
    committees_per_slot: u64,
    slots_per_epoch: u64,
}

impl CommitteeCache {
    /// Builds the committees of `epoch` from `state`: one pass over the validators and one
    /// whole-list shuffle.
    pub fn new<P: Preset, S: PostElectraState<P>>(state: &S, epoch: Epoch) -> Result<Self> {
        let seed = get_seed(state, epoch, DOMAIN_BEACON_ATTESTER)?;
        Self::with_seed(state, epoch, seed)
    }

    fn with_seed<P: Preset, S: PostElectraState<P>>(
        state: &S,
        epoch: Epoch,
        seed: Hash256,
    ) -> Result<Self> {
        let active_indices: Vec<ValidatorIndex> = state
            .validators()
            .iter()
            .zip(0u64..)
            .filter(|(v, _)| is_active_validator(v, epoch))
            .map(|(_, i)| i)
            .collect();
        Self::from_active_indices::<P>(epoch, seed, active_indices)
    }

    /// From the epoch's active indices (ascending) and attester seed; the shuffle is deferred.
    fn from_active_indices<P: Preset>(
        epoch: Epoch,
        seed: Hash256,
        active_indices: Vec<ValidatorIndex>,
    ) -> Result<Self> {
        let rounds = u8::try_from(P::SHUFFLE_ROUND_COUNT)
            .map_err(|_| Error::UsizeOverflow(P::SHUFFLE_ROUND_COUNT))?;
        let committees_per_slot = committee_count_for_active::<P>(active_indices.len() as u64)?;
        Ok(Self {
            epoch,
            seed,
            active_indices,
            shuffling: OnceLock::new(),
            rounds,
            committees_per_slot,
            slots_per_epoch: P::slots_per_epoch(),
        })
    }

    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The attester seed the shuffling was computed with.
    pub fn seed(&self) -> Hash256 {
        self.seed
    }

    /// `get_active_validator_indices(state, epoch)`, ascending.
    pub fn active_indices(&self) -> &[ValidatorIndex] {
        &self.active_indices
    }

    /// The active indices in shuffled order: committees are consecutive runs of it. Computed
    /// (one whole-list shuffle) on first call.
    pub fn shuffling(&self) -> Result<&[ValidatorIndex]> {
        if let Some(shuffling) = self.shuffling.get() {
            return Ok(shuffling);
        }
        let mut shuffling = self.active_indices.clone();
        shuffle_list(&mut shuffling, &self.seed, self.rounds)?;
        // A concurrent caller may have won the race; both computed the same permutation.
        Ok(self.shuffling.get_or_init(|| shuffling))
    }

    /// `get_committee_count_per_slot(state, epoch)`.
    pub fn committees_per_slot(&self) -> u64 {
        self.committees_per_slot
    }

    /// `get_beacon_committee(state, slot, index)` for a slot of this epoch, borrowed.
    ///
    /// `compute_committee(indices, seed, (slot % SLOTS_PER_EPOCH) * count + index, count *
    /// SLOTS_PER_EPOCH)` is the run `shuffling[len * i // total .. len * (i + 1) // total]`.
    pub fn get_beacon_committee(&self, slot: Slot, index: u64) -> Result<&[ValidatorIndex]> {
        if index >= self.committees_per_slot {
            return Err(Error::CommitteeIndexOutOfRange {
                slot,
                index,
                count: self.committees_per_slot,
            });
        }
        let slot_epoch = slot.safe_div(self.slots_per_epoch)?;
        if slot_epoch != self.epoch {
            return Err(Error::IndexOutOfRange {
                list: "committee cache epoch (slot's epoch)",
                index: slot_epoch,
                len: self.epoch,
            });
        }
        let committee_index = slot
            .safe_rem(self.slots_per_epoch)?
            .safe_mul(self.committees_per_slot)?
            .safe_add(index)?;
        let count = self.committees_per_slot.safe_mul(self.slots_per_epoch)?;
        self.committee_by_global_index(committee_index, count)
    }

    /// The `index`-th of `count` committees of the epoch (`compute_committee`'s slice).
    fn committee_by_global_index(&self, index: u64, count: u64) -> Result<&[ValidatorIndex]> {
        let shuffling = self.shuffling()?;
        let len = shuffling.len() as u64;
        let start = to_usize(len.safe_mul(index)?.safe_div(count)?)?;
        let end = to_usize(len.safe_mul(index.safe_add(1)?)?.safe_div(count)?)?;
        shuffling
            .get(start..end)
            .ok_or_else(|| Error::index("committee shuffling", end, shuffling.len()))
    }
}

/// `get_total_active_balance(state)` and every validator's effective balance, for one epoch and
/// one validator registry.
///
/// # Why it cannot disagree with the state
///
/// Both are pure functions of `(get_current_epoch(state), state.validators)`, and the entry is
/// keyed by exactly that: the epoch and `hash_tree_root(state.validators)`. A state whose
/// registry differs in any field of any validator has another root, so it never finds this
/// entry. No assumption about chain rules is needed (unlike the committee key).
///
/// Within a block the values stay right for the block's pre-state root (block processing keys
/// its lookups by the registry at the start of the block): no block operation changes an
/// effective balance or the current epoch's active set (exits and activations are scheduled
/// for later epochs; new validators are not active), and validators added during the block lie
/// beyond [`EpochBalances::effective_balance`]'s range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochBalances {
    epoch: Epoch,
    validators_root: Hash256,
    total_active_balance: Gwei,
    /// `state.validators[i].effective_balance` for every `i`.
    effective_balances: Vec<Gwei>,
}

impl EpochBalances {
    /// One pass over `state`'s validators; `validators_root` must be
    /// `hash_tree_root(state.validators)`.
    pub(crate) fn new<P: Preset, S: PostElectraState<P>>(
        state: &S,
        validators_root: Hash256,
    ) -> Result<Self> {
        let epoch = get_current_epoch(state);
        let validators = state.validators();
        let mut effective_balances = Vec::with_capacity(validators.len());
        let mut total: Gwei = 0;
        for v in validators.iter() {
            if is_active_validator(v, epoch) {
                total.safe_add_assign(v.effective_balance)?;
            }
            effective_balances.push(v.effective_balance);
        }
        Ok(Self {
            epoch,
            validators_root,
            total_active_balance: total.max(P::EFFECTIVE_BALANCE_INCREMENT),
            effective_balances,
        })
    }

    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    pub fn validators_root(&self) -> Hash256 {
        self.validators_root
    }

    /// `get_total_active_balance(state)`.
    pub fn total_active_balance(&self) -> Gwei {
        self.total_active_balance
    }

    /// `state.validators[index].effective_balance`, if `index` is in the keyed registry.
    #[inline]
    pub fn effective_balance(&self, index: ValidatorIndex) -> Option<Gwei> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.effective_balances.get(i))
            .copied()
    }
}

/// How many registries' [`EpochBalances`] [`Caches`] keeps (e.g. a few competing heads).
const MAX_CACHED_BALANCES: usize = 4;

/// The caller-owned caches of derived data (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Caches {
    /// Most recently used last.
    committees: Vec<Arc<CommitteeCache>>,
    /// Most recently used last.
    balances: Vec<Arc<EpochBalances>>,
}

impl Caches {
    pub fn new() -> Self {
        Self::default()
    }

    /// The committees of `epoch` for `state`: a cached entry if one has the epoch's current
    /// seed, else built (and stored when `epoch <= current + MAX_SEED_LOOKAHEAD`).
    pub fn committee_cache<P: Preset, S: PostElectraState<P>>(
        &mut self,
        state: &S,
        epoch: Epoch,
    ) -> Result<Arc<CommitteeCache>> {
        let seed = get_seed(state, epoch, DOMAIN_BEACON_ATTESTER)?;
        if let Some(position) = self
            .committees
            .iter()
            .position(|c| c.epoch == epoch && c.seed == seed)
        {
            let entry = self.committees.remove(position);
            self.committees.push(Arc::clone(&entry));
            return Ok(entry);
        }
        let built = Arc::new(CommitteeCache::with_seed(state, epoch, seed)?);
        let storable_until = get_current_epoch(state).safe_add(P::MAX_SEED_LOOKAHEAD)?;
        if epoch <= storable_until {
            if self.committees.len() >= MAX_CACHED_EPOCHS {
                self.committees.remove(0);
            }
            self.committees.push(Arc::clone(&built));
        }
        Ok(built)
    }

    /// Stores the active indices of `epoch` that the caller computed from `state` itself (e.g.
    /// in a pass it makes anyway), under the key `(epoch, get_seed(state, epoch, ..))` as
    /// [`Caches::committee_cache`] would. Same storage rule: only for
    /// `epoch <= current + MAX_SEED_LOOKAHEAD`, and an existing entry for the key is kept.
    pub fn insert_active_indices<P: Preset, S: PostElectraState<P>>(
        &mut self,
        state: &S,
        epoch: Epoch,
        active_indices: Vec<ValidatorIndex>,
    ) -> Result<()> {
        let seed = get_seed(state, epoch, DOMAIN_BEACON_ATTESTER)?;
        let storable_until = get_current_epoch(state).safe_add(P::MAX_SEED_LOOKAHEAD)?;
        if epoch > storable_until
            || self
                .committees
                .iter()
                .any(|c| c.epoch == epoch && c.seed == seed)
        {
            return Ok(());
        }
        let entry = CommitteeCache::from_active_indices::<P>(epoch, seed, active_indices)?;
        if self.committees.len() >= MAX_CACHED_EPOCHS {
            self.committees.remove(0);
        }
        self.committees.push(Arc::new(entry));
        Ok(())
    }

    /// The [`EpochBalances`] of `state`, whose `hash_tree_root(state.validators)` the caller
    /// passes as `validators_root`: the stored entry for `(current epoch, validators_root)`, or
    /// one built now (one pass over the registry) and stored.
    pub(crate) fn epoch_balances<P: Preset, S: PostElectraState<P>>(
        &mut self,
        state: &S,
        validators_root: Hash256,
    ) -> Result<Arc<EpochBalances>> {
        let epoch = get_current_epoch(state);
        if let Some(position) = self
            .balances
            .iter()
            .position(|b| b.epoch == epoch && b.validators_root == validators_root)
        {
            let entry = self.balances.remove(position);
            self.balances.push(Arc::clone(&entry));
            return Ok(entry);
        }
        let built = Arc::new(EpochBalances::new(state, validators_root)?);
        self.insert_epoch_balances(Arc::clone(&built));
        Ok(built)
    }

    /// Stores `entry` (built by the caller from the state its key names), replacing an entry
    /// with the same key.
    pub(crate) fn insert_epoch_balances(&mut self, entry: Arc<EpochBalances>) {
        self.balances
            .retain(|b| b.epoch != entry.epoch || b.validators_root != entry.validators_root);
        if self.balances.len() >= MAX_CACHED_BALANCES {
            self.balances.remove(0);
        }
        self.balances.push(entry);
    }

    /// Drops every entry (never needed for correctness; frees memory).
    pub fn clear(&mut self) {
        self.committees.clear();
        self.balances.clear();
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::accessors::{compute_committee, get_active_validator_indices};
    use crate::state::PostElectraFields;
    use keel_config::constants::FAR_FUTURE_EPOCH;
    use keel_types::electra::Validator;
    use keel_types::{Minimal, fulu};

    fn state(n: u64, epoch: Epoch) -> fulu::BeaconState<Minimal> {
        let mut state = fulu::BeaconState::<Minimal>::default();
        for i in 0..n {
            let v = Validator {
                effective_balance: 32_000_000_000,
                activation_epoch: i % 7, // some validators not yet active at low epochs
                exit_epoch: if i % 11 == 0 { 3 } else { FAR_FUTURE_EPOCH },
                withdrawable_epoch: FAR_FUTURE_EPOCH,
                ..Validator::default()
            };
            state.validators.push(v).unwrap();
            state.balances.push(32_000_000_000).unwrap();
        }
        for (i, mix) in (0..Minimal::epochs_per_historical_vector()).zip(0u8..) {
            *state.randao_mixes.get_mut(i as usize).unwrap() = Hash256::repeat_byte(mix);
        }
        state.slot = epoch * Minimal::slots_per_epoch();
        state
    }

    #[test]
    fn cached_committees_equal_compute_committee() {
        let state = state(300, 5);
        let mut caches = Caches::new();
        for epoch in [0, 2, 4, 5, 6] {
            let cache = caches.committee_cache(&state, epoch).unwrap();
            let active = get_active_validator_indices(&state, epoch);
            assert_eq!(cache.active_indices(), active.as_slice());
            let seed = get_seed(&state, epoch, DOMAIN_BEACON_ATTESTER).unwrap();
            let cps = cache.committees_per_slot();
            let mut seen = 0;
            for slot in epoch * 8..(epoch + 1) * 8 {
                for index in 0..cps {
                    let expected = compute_committee::<Minimal>(
                        &active,
                        &seed,
                        (slot % 8) * cps + index,
                        cps * 8,
                    )
                    .unwrap();
                    let got = cache.get_beacon_committee(slot, index).unwrap();
                    assert_eq!(
                        got,
                        expected.as_slice(),
                        "epoch {epoch} slot {slot} index {index}"
                    );
                    seen += got.len();
                }
                assert!(cache.get_beacon_committee(slot, cps).is_err());
            }
            assert_eq!(seen, active.len());
        }
    }

    #[test]
    fn epoch_balances_are_keyed_by_the_registry_root() {
        use crate::accessors::get_total_active_balance;
        use keel_types::tree_hash::TreeHash;
        let mut state = state(64, 5);
        state.validators.apply_updates().unwrap();
        let root = state.validators.tree_hash_root();
        let mut caches = Caches::new();
        let first = caches.epoch_balances(&state, root).unwrap();
        assert_eq!(
            first.total_active_balance(),
            get_total_active_balance(&state).unwrap()
        );
        assert_eq!(first.effective_balance(3), Some(32_000_000_000));
        assert_eq!(first.effective_balance(64), None);
        assert!(Arc::ptr_eq(
            &first,
            &caches.epoch_balances(&state, root).unwrap()
        ));

        // Another registry (one effective balance lowered): another root, another entry.
        state.validators.get_mut(3).unwrap().effective_balance = 31_000_000_000;
        state.validators.apply_updates().unwrap();
        let other_root = state.validators.tree_hash_root();
        assert_ne!(root, other_root);
        let second = caches.epoch_balances(&state, other_root).unwrap();
        assert_eq!(
            second.total_active_balance(),
            get_total_active_balance(&state).unwrap()
        );
        assert_eq!(second.effective_balance(3), Some(31_000_000_000));
        // The next epoch is another key too.
        state.slot += Minimal::slots_per_epoch();
        let third = caches.epoch_balances(&state, other_root).unwrap();
        assert_eq!(third.epoch(), 6);
        assert_eq!(
            third.total_active_balance(),
            get_total_active_balance(&state).unwrap()
        );
    }

    #[test]
    fn a_changed_seed_is_a_different_entry() {
        let mut state = state(64, 5);
        let mut caches = Caches::new();
        let first = caches.committee_cache(&state, 5).unwrap();
        // The mix the epoch-5 seed reads (epoch 5 - MIN_SEED_LOOKAHEAD - 1 = 3).
        *state.randao_mixes_mut().get_mut(3).unwrap() = Hash256::repeat_byte(0xee);
        let second = caches.committee_cache(&state, 5).unwrap();
        assert_ne!(first.seed(), second.seed());
        assert_eq!(
            second.seed(),
            get_seed(&state, 5, DOMAIN_BEACON_ATTESTER).unwrap()
        );
    }
}
