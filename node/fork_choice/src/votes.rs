//! Latest messages and the balances that weigh them.
//!
//! Each validator's vote remembers where its weight currently sits (`current`, applied with the
//! balances of the last pass) and where it should sit (`next`, the latest message). A changed
//! vote is put on a dirty list, so [`VoteTracker::compute_deltas`] costs O(changed votes), plus
//! one scan comparing the old and new balances when the justified checkpoint (hence the
//! balances) changed: never validators × blocks.

use crate::error::{AttestationError, Error, InternalError};
use keel_types::phase0::Checkpoint;
use keel_types::{Epoch, Gwei, ValidatorIndex};
use std::collections::BTreeSet;

/// "No node": a vote whose block was pruned, or that has no message yet.
pub const NO_NODE: u32 = u32::MAX;

/// Largest validator index the tracker accepts (indices are kept as `u32` on the dirty list).
/// Callers have checked indices against the state (`is_valid_indexed_attestation`) anyway.
pub const MAX_VALIDATOR_INDEX: ValidatorIndex = (u32::MAX - 1) as ValidatorIndex;

/// The balances of the justified checkpoint state that `get_attestation_score` weighs votes with,
/// and its total active balance for the proposer score and the re-org thresholds.
///
/// The justified checkpoint state is `store.checkpoint_states[justified]`: the post-state of the
/// justified block, advanced with `process_slots` to the checkpoint epoch's start slot; "active"
/// means active in that state's current epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JustifiedBalances {
    /// The checkpoint whose state these come from (must be the store's justified checkpoint).
    pub checkpoint: Checkpoint,
    /// Per validator index: `effective_balance` if the validator is active in the state's
    /// current epoch and not slashed, else 0. Indices past the end weigh 0.
    pub balances: Vec<Gwei>,
    /// `get_total_active_balance(state)` (slashed active validators included, at least
    /// `EFFECTIVE_BALANCE_INCREMENT`).
    pub total_active_balance: Gwei,
}

impl JustifiedBalances {
    pub fn new(checkpoint: Checkpoint, balances: Vec<Gwei>, total_active_balance: Gwei) -> Self {
        Self {
            checkpoint,
            balances,
            total_active_balance,
        }
    }

    /// Builds the balances from each validator's `(effective_balance, is_active, slashed)` in the
    /// justified state, as `get_attestation_score` and `get_total_active_balance` read them.
    pub fn from_validators(
        checkpoint: Checkpoint,
        validators: impl IntoIterator<Item = (Gwei, bool, bool)>,
        effective_balance_increment: Gwei,
    ) -> Self {
        let mut total: Gwei = 0;
        let balances = validators
            .into_iter()
            .map(|(effective_balance, active, slashed)| {
                if active {
                    total = total.saturating_add(effective_balance);
                }
                if active && !slashed {
                    effective_balance
                } else {
                    0
                }
            })
            .collect();
        Self {
            checkpoint,
            balances,
            total_active_balance: total.max(effective_balance_increment),
        }
    }

    fn get(&self, i: usize) -> Gwei {
        self.balances.get(i).copied().unwrap_or(0)
    }
}

/// One validator's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vote {
    /// Node holding this validator's weight now (applied with the previous balances).
    pub current: u32,
    /// Node of the latest message.
    pub next: u32,
    /// Target epoch of the latest message.
    pub next_epoch: Epoch,
    /// Whether `latest_messages` has an entry (survives the node being pruned).
    pub has_message: bool,
    pub equivocating: bool,
    dirty: bool,
    /// Changed since the store was last written (full or delta).
    unsaved: bool,
}

impl Default for Vote {
    fn default() -> Self {
        Self {
            current: NO_NODE,
            next: NO_NODE,
            next_epoch: 0,
            has_message: false,
            equivocating: false,
            dirty: false,
            unsaved: false,
        }
    }
}

/// `store.latest_messages` and `store.equivocating_indices`, with the bookkeeping for deltas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoteTracker {
    votes: Vec<Vote>,
    dirty: Vec<u32>,
    equivocating: BTreeSet<ValidatorIndex>,
    /// Votes whose latest message changed since the last write (see `persistence`).
    unsaved: Vec<u32>,
    /// Whether the last full write still describes every vote's node index (pruning renumbers
    /// the nodes, after which only a full write is consistent).
    has_full: bool,
    /// Delta writes since the last full one.
    pub(crate) deltas_since_full: u32,
}

fn to_index(i: ValidatorIndex) -> Result<usize, Error> {
    if i > MAX_VALIDATOR_INDEX {
        return Err(AttestationError::ValidatorIndexOutOfRange(i).into());
    }
    usize::try_from(i).map_err(|_| AttestationError::ValidatorIndexOutOfRange(i).into())
}

impl VoteTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of validator slots tracked (largest index seen + 1).
    pub fn len(&self) -> usize {
        self.votes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.votes.is_empty()
    }

    /// `store.latest_messages[i]` as (target epoch, node index); the node is [`NO_NODE`] if the
    /// block was pruned.
    pub fn latest_message(&self, i: ValidatorIndex) -> Option<(Epoch, u32)> {
        let v = self.votes.get(usize::try_from(i).ok()?)?;
        v.has_message.then_some((v.next_epoch, v.next))
    }

    pub fn is_equivocating(&self, i: ValidatorIndex) -> bool {
        self.equivocating.contains(&i)
    }

    /// `store.equivocating_indices`, ascending.
    pub fn equivocating_indices(&self) -> impl Iterator<Item = ValidatorIndex> + '_ {
        self.equivocating.iter().copied()
    }

    /// Number of votes changed since the last [`Self::compute_deltas`].
    pub fn pending(&self) -> usize {
        self.dirty.len()
    }

    fn mark_dirty(dirty: &mut Vec<u32>, vote: &mut Vote, i: usize) {
        mark(dirty, &mut vote.dirty, i);
    }

    /// `update_latest_messages`: each non-equivocating validator without a message, or whose
    /// message has an older target epoch, now votes for `node` at `target_epoch`. Returns how
    /// many votes changed. Checks every index before changing anything.
    pub fn process_attestation(
        &mut self,
        attesting_indices: &[ValidatorIndex],
        node: u32,
        target_epoch: Epoch,
    ) -> Result<usize, Error> {
        let mut max = None;
        for &i in attesting_indices {
            let i = to_index(i)?;
            max = max.max(Some(i));
        }
        if let Some(max) = max {
            let needed = max.checked_add(1).ok_or(InternalError::Overflow("votes"))?;
            if needed > self.votes.len() {
                let start = self.votes.len();
                self.votes.resize(needed, Vote::default());
                // Validators first seen now may already be known equivocators.
                for i in self.equivocating.range(start as u64..) {
                    if let Some(v) = usize::try_from(*i).ok().and_then(|i| self.votes.get_mut(i)) {
                        v.equivocating = true;
                    }
                }
            }
        }
        let mut changed = 0usize;
        for &i in attesting_indices {
            let i = to_index(i)?;
            let Some(vote) = self.votes.get_mut(i) else {
                continue;
            };
            if vote.equivocating {
                continue;
            }
            if !vote.has_message || target_epoch > vote.next_epoch {
                vote.has_message = true;
                vote.next_epoch = target_epoch;
                vote.next = node;
                Self::mark_dirty(&mut self.dirty, vote, i);
                mark(&mut self.unsaved, &mut vote.unsaved, i);
                changed = changed.saturating_add(1);
            }
        }
        Ok(changed)
    }

    /// Adds `i` to `equivocating_indices`; its weight leaves the tree at the next
    /// [`Self::compute_deltas`] and it is never counted again. Returns whether it was new.
    pub fn process_equivocation(&mut self, i: ValidatorIndex) -> bool {
        if !self.equivocating.insert(i) {
            return false;
        }
        if let Some(idx) = usize::try_from(i)
            .ok()
            .filter(|idx| *idx < self.votes.len())
            && let Some(vote) = self.votes.get_mut(idx)
        {
            vote.equivocating = true;
            Self::mark_dirty(&mut self.dirty, vote, idx);
        }
        true
    }

    /// Per-node weight changes since the last call. `old_balances` are the balances the current
    /// weights were applied with; `new_balances` the justified balances now. If
    /// `balances_changed`, every validator whose balance differs is revisited (one scan,
    /// compared in chunks); otherwise only the dirty votes are.
    pub fn compute_deltas(
        &mut self,
        num_nodes: usize,
        old_balances: &JustifiedBalances,
        new_balances: &JustifiedBalances,
        balances_changed: bool,
    ) -> Result<Vec<i64>, Error> {
        let mut deltas = vec![0i64; num_nodes];
        if balances_changed {
            self.mark_changed_balances(&old_balances.balances, &new_balances.balances);
        }
        for &i in &self.dirty {
            let i = i as usize;
            let Some(vote) = self.votes.get_mut(i) else {
                continue;
            };
            vote.dirty = false;
            let old_balance = old_balances.get(i);
            let new_balance = if vote.equivocating {
                0
            } else {
                new_balances.get(i)
            };
            let new_node = if vote.equivocating {
                NO_NODE
            } else {
                vote.next
            };
            if vote.current == new_node && old_balance == new_balance {
                continue;
            }
            if vote.current != NO_NODE {
                sub(&mut deltas, vote.current, old_balance)?;
            }
            if new_node != NO_NODE {
                add(&mut deltas, new_node, new_balance)?;
            }
            vote.current = new_node;
        }
        self.dirty.clear();
        Ok(deltas)
    }

    /// Puts every vote whose validator's balance changed on the dirty list.
    fn mark_changed_balances(&mut self, old: &[Gwei], new: &[Gwei]) {
        const CHUNK: usize = 512;
        let n = self.votes.len();
        let mut start = 0usize;
        while start < n {
            let end = start.saturating_add(CHUNK).min(n);
            let o = old.get(start..end.min(old.len())).unwrap_or(&[]);
            let w = new.get(start..end.min(new.len())).unwrap_or(&[]);
            if o != w {
                for i in start..end {
                    let ob = old.get(i).copied().unwrap_or(0);
                    let nb = new.get(i).copied().unwrap_or(0);
                    if ob != nb
                        && let Some(vote) = self.votes.get_mut(i)
                        && (vote.current != NO_NODE || vote.next != NO_NODE)
                    {
                        Self::mark_dirty(&mut self.dirty, vote, i);
                    }
                }
            }
            start = end;
        }
    }

    /// Re-points votes after pruning (`map[old] = new`, `None` if pruned). A vote whose current
    /// node was pruned has no weight anywhere any more (the node's weight went with it).
    pub fn remap(&mut self, map: &[Option<usize>]) {
        let f = |n: u32| -> u32 {
            if n == NO_NODE {
                return NO_NODE;
            }
            map.get(n as usize)
                .copied()
                .flatten()
                .and_then(|m| u32::try_from(m).ok())
                .unwrap_or(NO_NODE)
        };
        for vote in &mut self.votes {
            vote.current = f(vote.current);
            vote.next = f(vote.next);
        }
        self.has_full = false;
    }

    /// Whether the next write must be a full one, and how many votes a delta would carry.
    pub(crate) fn needs_full_write(&self) -> bool {
        !self.has_full
    }

    pub(crate) fn unsaved_len(&self) -> usize {
        self.unsaved.len()
    }

    /// The votes changed since the last write, by validator index, and forgets them.
    pub(crate) fn take_unsaved(&mut self) -> Vec<(u64, Epoch, u32, bool)> {
        let mut unsaved = std::mem::take(&mut self.unsaved);
        unsaved.sort_unstable();
        unsaved
            .into_iter()
            .filter_map(|i| {
                let vote = self.votes.get_mut(i as usize)?;
                vote.unsaved = false;
                Some((u64::from(i), vote.next_epoch, vote.next, vote.has_message))
            })
            .collect()
    }

    /// After a full write: nothing is unsaved.
    pub(crate) fn mark_fully_saved(&mut self) {
        for i in std::mem::take(&mut self.unsaved) {
            if let Some(vote) = self.votes.get_mut(i as usize) {
                vote.unsaved = false;
            }
        }
        self.has_full = true;
        self.deltas_since_full = 0;
    }

    /// Restart state: no weight applied anywhere, every message pending.
    pub(crate) fn from_persisted(
        votes: Vec<(Epoch, u32, bool)>,
        equivocating: BTreeSet<ValidatorIndex>,
    ) -> Self {
        let mut tracker = Self {
            votes: Vec::with_capacity(votes.len()),
            dirty: Vec::new(),
            equivocating,
            unsaved: Vec::new(),
            has_full: true,
            deltas_since_full: 0,
        };
        for (i, (epoch, node, has_message)) in votes.into_iter().enumerate() {
            let mut vote = Vote {
                next_epoch: epoch,
                next: node,
                has_message,
                ..Vote::default()
            };
            vote.equivocating = tracker.equivocating.contains(&(i as u64));
            if has_message && node != NO_NODE && !vote.equivocating {
                Self::mark_dirty(&mut tracker.dirty, &mut vote, i);
            }
            tracker.votes.push(vote);
        }
        tracker
    }

    pub(crate) fn persisted_votes(&self) -> impl Iterator<Item = (Epoch, u32, bool)> + '_ {
        self.votes
            .iter()
            .map(|v| (v.next_epoch, v.next, v.has_message))
    }
}

/// Puts validator `i` on `list` once, `flag` remembering that it is there.
fn mark(list: &mut Vec<u32>, flag: &mut bool, i: usize) {
    if !*flag {
        *flag = true;
        // `i <= MAX_VALIDATOR_INDEX` was checked by `to_index`.
        list.push(u32::try_from(i).unwrap_or(u32::MAX));
    }
}

fn add(deltas: &mut [i64], node: u32, amount: Gwei) -> Result<(), Error> {
    let d = deltas
        .get_mut(node as usize)
        .ok_or(InternalError::NodeIndex(node as usize))?;
    let a = i64::try_from(amount).map_err(|_| InternalError::Overflow("balance"))?;
    *d = d.checked_add(a).ok_or(InternalError::Overflow("delta"))?;
    Ok(())
}

fn sub(deltas: &mut [i64], node: u32, amount: Gwei) -> Result<(), Error> {
    let d = deltas
        .get_mut(node as usize)
        .ok_or(InternalError::NodeIndex(node as usize))?;
    let a = i64::try_from(amount).map_err(|_| InternalError::Overflow("balance"))?;
    *d = d.checked_sub(a).ok_or(InternalError::Overflow("delta"))?;
    Ok(())
}
