//! [`ForkChoice`]: the spec's `Store` and its handlers (`on_tick`, `on_block`, `on_attestation`,
//! `on_attester_slashing`, `get_head`), over the proto-array and the vote tracker.
//!
//! The store holds no beacon states. What the spec reads from `store.block_states` and
//! `store.checkpoint_states` arrives as facts computed by the caller: a block's post-state
//! checkpoints and pulled-up (unrealized) checkpoints with [`BlockFacts`], the justified
//! checkpoint state's balances with [`ForkChoice::set_justified_balances`].

use crate::config::ForkChoiceConfig;
use crate::error::{AttestationError, BlockError, Error, InputError, InternalError};
use crate::proto_array::{ExecutionStatus, NewNode, ProtoArray, ProtoNode, ViabilityContext};
use crate::votes::{JustifiedBalances, NO_NODE, VoteTracker};
use keel_types::phase0::AttestationData;
use keel_types::phase0::Checkpoint;
use keel_types::{Epoch, Gwei, Hash256, Slot, ValidatorIndex};

/// What fork choice needs of a block before its state transition (from the block itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSummary {
    /// `hash_tree_root(block)`.
    pub root: Hash256,
    pub slot: Slot,
    pub parent_root: Hash256,
    pub proposer_index: ValidatorIndex,
    /// `body.execution_payload.block_hash`, if the block has a payload.
    pub execution_block_hash: Option<Hash256>,
}

/// What fork choice needs of a block after its state transition and data-availability check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockFacts {
    /// Post-state `current_justified_checkpoint`.
    pub justified_checkpoint: Checkpoint,
    /// Post-state `finalized_checkpoint`.
    pub finalized_checkpoint: Checkpoint,
    /// `current_justified_checkpoint` after `process_justification_and_finalization` on a copy
    /// of the post-state (`compute_pulled_up_tip`).
    pub unrealized_justified_checkpoint: Checkpoint,
    /// `finalized_checkpoint` of that same pulled-up copy.
    pub unrealized_finalized_checkpoint: Checkpoint,
    /// The engine's verdict on the payload (`Invalid` is refused).
    pub execution_status: ExecutionStatus,
    /// `is_data_available(...)` (Deneb blobs, Fulu sampled columns); `true` before Deneb.
    pub data_available: bool,
    /// When the block was first seen, in Unix milliseconds, for `record_block_timeliness`.
    /// `None` uses the store's time, as the spec does.
    pub seen_at_ms: Option<u64>,
}

/// The anchor of `get_forkchoice_store(anchor_state, anchor_block)`. The caller has checked
/// `anchor_block.state_root == hash_tree_root(anchor_state)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub block: BlockSummary,
    /// `anchor_state.slot`.
    pub state_slot: Slot,
    /// `anchor_state.genesis_time` (Unix seconds).
    pub genesis_time: u64,
    /// `anchor_state.current_justified_checkpoint`.
    pub state_justified_checkpoint: Checkpoint,
    /// `anchor_state.finalized_checkpoint`.
    pub state_finalized_checkpoint: Checkpoint,
    pub execution_status: ExecutionStatus,
    /// Balances of the anchor state, for checkpoint
    /// `(get_current_epoch(anchor_state), anchor_root)`.
    pub justified_balances: JustifiedBalances,
}

/// Result of [`ForkChoice::validate_on_block`] and [`ForkChoice::on_block`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockOutcome {
    /// The block was already in the store (the spec returns early).
    AlreadyKnown,
    /// Validation passed (from `validate_on_block`) or the block was imported (from `on_block`).
    New {
        /// Whether the block took the proposer boost.
        proposer_boost: bool,
        /// Whether the store's justified checkpoint moved (new balances will be required).
        justified_changed: bool,
        /// Whether the store's finalized checkpoint moved.
        finalized_changed: bool,
    },
}

/// `store.latest_messages[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestMessage {
    pub epoch: Epoch,
    /// `None` if the block has been pruned.
    pub root: Option<Hash256>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CachedHead {
    epoch: Epoch,
    root: Hash256,
}

/// The fork-choice store.
#[derive(Debug, Clone)]
pub struct ForkChoice {
    pub(crate) config: ForkChoiceConfig,
    /// `store.time`, in milliseconds (the spec's seconds × 1000 when ticked in seconds).
    pub(crate) time_ms: u64,
    pub(crate) genesis_time: u64,
    pub(crate) justified_checkpoint: Checkpoint,
    pub(crate) finalized_checkpoint: Checkpoint,
    pub(crate) unrealized_justified_checkpoint: Checkpoint,
    pub(crate) unrealized_finalized_checkpoint: Checkpoint,
    pub(crate) proposer_boost_root: Hash256,
    pub(crate) proto_array: ProtoArray,
    pub(crate) votes: VoteTracker,
    /// The balances the weights in the proto-array were computed with.
    pub(crate) applied_balances: JustifiedBalances,
    /// Newer balances supplied by the caller, applied at the next refresh.
    pub(crate) pending_balances: Option<JustifiedBalances>,
    /// Head as of the last refresh; `None` when anything it depends on changed.
    head: Option<CachedHead>,
}

impl ForkChoice {
    /// `get_forkchoice_store(anchor_state, anchor_block)`.
    pub fn new(config: ForkChoiceConfig, anchor: Anchor) -> Result<Self, Error> {
        config.check()?;
        let anchor_epoch = config.epoch_at_slot(anchor.state_slot);
        let checkpoint = Checkpoint {
            epoch: anchor_epoch,
            root: anchor.block.root,
        };
        if anchor.justified_balances.checkpoint != checkpoint {
            return Err(InputError::WrongJustifiedBalances {
                given: anchor.justified_balances.checkpoint,
                expected: checkpoint,
            }
            .into());
        }
        if anchor.block.slot > anchor.state_slot {
            return Err(InputError::BadAnchor("block slot after state slot").into());
        }
        // time = genesis_time + SLOT_DURATION_MS * anchor_state.slot // 1000 (seconds).
        let time = config
            .slot_duration_ms
            .checked_mul(anchor.state_slot)
            .map(|ms| ms / 1000)
            .and_then(|s| s.checked_add(anchor.genesis_time))
            .and_then(|s| s.checked_mul(1000))
            .ok_or(InputError::TimeOverflow)?;
        anchor
            .genesis_time
            .checked_mul(1000)
            .ok_or(InputError::TimeOverflow)?;
        let node = NewNode {
            root: anchor.block.root,
            parent_root: anchor.block.parent_root,
            slot: anchor.block.slot,
            proposer_index: anchor.block.proposer_index,
            justified_checkpoint: anchor.state_justified_checkpoint,
            finalized_checkpoint: anchor.state_finalized_checkpoint,
            unrealized_justified_checkpoint: checkpoint,
            unrealized_finalized_checkpoint: checkpoint,
            execution_status: anchor.execution_status,
            execution_block_hash: anchor.block.execution_block_hash,
            timely: false,
        };
        let proto_array =
            ProtoArray::new(node, checkpoint, config.start_slot_at_epoch(anchor_epoch))?;
        let empty = JustifiedBalances::new(checkpoint, Vec::new(), 0);
        Ok(Self {
            config,
            time_ms: time,
            genesis_time: anchor.genesis_time,
            justified_checkpoint: checkpoint,
            finalized_checkpoint: checkpoint,
            unrealized_justified_checkpoint: checkpoint,
            unrealized_finalized_checkpoint: checkpoint,
            proposer_boost_root: Hash256::ZERO,
            proto_array,
            votes: VoteTracker::new(),
            applied_balances: empty,
            pending_balances: Some(anchor.justified_balances),
            head: None,
        })
    }

    /// Assembles a store from restored parts (persistence).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        config: ForkChoiceConfig,
        time_ms: u64,
        genesis_time: u64,
        checkpoints: [Checkpoint; 4],
        proposer_boost_root: Hash256,
        proto_array: ProtoArray,
        votes: VoteTracker,
    ) -> Result<Self, Error> {
        config.check()?;
        let [
            justified,
            finalized,
            unrealized_justified,
            unrealized_finalized,
        ] = checkpoints;
        Ok(Self {
            config,
            time_ms,
            genesis_time,
            justified_checkpoint: justified,
            finalized_checkpoint: finalized,
            unrealized_justified_checkpoint: unrealized_justified,
            unrealized_finalized_checkpoint: unrealized_finalized,
            proposer_boost_root,
            proto_array,
            votes,
            // No weight is applied after a restart, so the old balances are never read: any
            // checkpoint other than the justified one makes the caller supply fresh balances.
            applied_balances: JustifiedBalances::new(Checkpoint::default(), Vec::new(), 0),
            pending_balances: None,
            head: None,
        })
    }

    // ---------------------------------------------------------------- accessors

    pub fn config(&self) -> &ForkChoiceConfig {
        &self.config
    }

    /// `store.time` in seconds.
    pub fn time(&self) -> u64 {
        self.time_ms / 1000
    }

    /// `store.time` in milliseconds.
    pub fn time_ms(&self) -> u64 {
        self.time_ms
    }

    /// `store.genesis_time` in seconds.
    pub fn genesis_time(&self) -> u64 {
        self.genesis_time
    }

    fn genesis_time_ms(&self) -> u64 {
        // Checked to fit at construction.
        self.genesis_time.saturating_mul(1000)
    }

    /// Milliseconds since genesis at `time_ms` (`None` before genesis).
    fn since_genesis_ms(&self, time_ms: u64) -> Option<u64> {
        time_ms.checked_sub(self.genesis_time_ms())
    }

    fn slot_at_ms(&self, time_ms: u64) -> Option<Slot> {
        self.since_genesis_ms(time_ms)?
            .checked_div(self.config.slot_duration_ms)
    }

    /// `get_current_slot(store)`.
    pub fn current_slot(&self) -> Slot {
        self.slot_at_ms(self.time_ms).unwrap_or(0)
    }

    /// `get_current_store_epoch(store)`.
    pub fn current_epoch(&self) -> Epoch {
        self.config.epoch_at_slot(self.current_slot())
    }

    /// Milliseconds into the current slot (`seconds_to_milliseconds(store.time -
    /// store.genesis_time) % SLOT_DURATION_MS`).
    pub fn time_into_slot_ms(&self) -> u64 {
        self.since_genesis_ms(self.time_ms)
            .and_then(|t| t.checked_rem(self.config.slot_duration_ms))
            .unwrap_or(0)
    }

    pub fn justified_checkpoint(&self) -> Checkpoint {
        self.justified_checkpoint
    }

    pub fn finalized_checkpoint(&self) -> Checkpoint {
        self.finalized_checkpoint
    }

    pub fn unrealized_justified_checkpoint(&self) -> Checkpoint {
        self.unrealized_justified_checkpoint
    }

    pub fn unrealized_finalized_checkpoint(&self) -> Checkpoint {
        self.unrealized_finalized_checkpoint
    }

    /// `store.proposer_boost_root` (`Hash256::ZERO` when unset).
    pub fn proposer_boost_root(&self) -> Hash256 {
        self.proposer_boost_root
    }

    pub fn contains_block(&self, root: &Hash256) -> bool {
        self.proto_array.contains(root)
    }

    /// The node of a known block.
    pub fn block(&self, root: &Hash256) -> Option<&ProtoNode> {
        self.proto_array.get(root)
    }

    pub fn proto_array(&self) -> &ProtoArray {
        &self.proto_array
    }

    pub fn latest_message(&self, validator: ValidatorIndex) -> Option<LatestMessage> {
        let (epoch, node) = self.votes.latest_message(validator)?;
        let root = if node == NO_NODE {
            None
        } else {
            self.proto_array.nodes().get(node as usize).map(|n| n.root)
        };
        Some(LatestMessage { epoch, root })
    }

    pub fn is_equivocating(&self, validator: ValidatorIndex) -> bool {
        self.votes.is_equivocating(validator)
    }

    /// `store.equivocating_indices`, ascending.
    pub fn equivocating_indices(&self) -> impl Iterator<Item = ValidatorIndex> + '_ {
        self.votes.equivocating_indices()
    }

    /// The checkpoint whose balances the caller must supply before the next head computation,
    /// if the store's justified checkpoint moved past the last balances supplied.
    pub fn needs_justified_balances(&self) -> Option<Checkpoint> {
        let latest = self
            .pending_balances
            .as_ref()
            .map_or(self.applied_balances.checkpoint, |b| b.checkpoint);
        (latest != self.justified_checkpoint).then_some(self.justified_checkpoint)
    }

    /// Supplies the balances of the justified checkpoint state (`store.checkpoint_states[
    /// store.justified_checkpoint]`). They must be for the store's current justified checkpoint.
    pub fn set_justified_balances(&mut self, balances: JustifiedBalances) -> Result<(), Error> {
        if balances.checkpoint != self.justified_checkpoint {
            return Err(InputError::WrongJustifiedBalances {
                given: balances.checkpoint,
                expected: self.justified_checkpoint,
            }
            .into());
        }
        self.pending_balances = Some(balances);
        self.head = None;
        Ok(())
    }

    /// The latest justified balances supplied.
    pub fn justified_balances(&self) -> &JustifiedBalances {
        self.pending_balances
            .as_ref()
            .unwrap_or(&self.applied_balances)
    }

    fn viability_context(&self) -> ViabilityContext {
        ViabilityContext {
            current_epoch: self.current_epoch(),
            justified_epoch: self.justified_checkpoint.epoch,
            finalized_epoch: self.finalized_checkpoint.epoch,
            slots_per_epoch: self.config.slots_per_epoch,
        }
    }

    fn index(&self, root: &Hash256) -> Result<usize, Error> {
        self.proto_array
            .index_of(root)
            .ok_or_else(|| InputError::UnknownBlock(*root).into())
    }

    // ---------------------------------------------------------------- head

    /// `compute_proposer_score(justified_state)`:
    /// `get_total_active_balance // SLOTS_PER_EPOCH * PROPOSER_SCORE_BOOST // 100`.
    pub fn proposer_score(&self) -> Result<Gwei, Error> {
        self.config.committee_fraction(
            self.justified_balances().total_active_balance,
            self.config.proposer_score_boost,
        )
    }

    /// Brings weights, viability and best descendants up to date and returns the head. Cheap
    /// when nothing changed since the last call.
    fn refresh(&mut self) -> Result<Hash256, Error> {
        if let Some(cp) = self.needs_justified_balances() {
            return Err(Error::JustifiedBalancesRequired(cp));
        }
        let epoch = self.current_epoch();
        if let Some(head) = self.head
            && head.epoch == epoch
        {
            return Ok(head.root);
        }
        let boost = if self.proposer_boost_root == Hash256::ZERO {
            None
        } else {
            Some((self.proposer_boost_root, self.proposer_score()?))
        };
        let ctx = self.viability_context();
        let n = self.proto_array.len();
        let mut deltas = match &self.pending_balances {
            Some(new) => self
                .votes
                .compute_deltas(n, &self.applied_balances, new, true)?,
            None => self.votes.compute_deltas(
                n,
                &self.applied_balances,
                &self.applied_balances,
                false,
            )?,
        };
        self.proto_array
            .apply_score_changes(&mut deltas, &ctx, boost)?;
        if let Some(new) = self.pending_balances.take() {
            self.applied_balances = new;
        }
        let root = self
            .proto_array
            .find_head(&self.justified_checkpoint.root)?;
        self.head = Some(CachedHead { epoch, root });
        Ok(root)
    }

    /// `get_head(store)`. Requires the justified balances
    /// ([`Error::JustifiedBalancesRequired`] otherwise). O(changed votes + nodes) after changes,
    /// O(1) when nothing changed.
    pub fn get_head(&mut self) -> Result<Hash256, Error> {
        self.refresh()
    }

    /// `get_weight(store, node)`: attesting balance of the subtree plus the proposer score if the
    /// boosted block is in it.
    pub fn get_weight(&mut self, root: &Hash256) -> Result<Gwei, Error> {
        self.refresh()?;
        Ok(self.proto_array.node(self.index(root)?)?.weight)
    }

    /// `get_attestation_score(store, node, justified_state)`: the weight without the proposer
    /// boost.
    pub fn get_attestation_score(&mut self, root: &Hash256) -> Result<Gwei, Error> {
        self.refresh()?;
        let index = self.index(root)?;
        let weight = self.proto_array.node(index)?.weight;
        let boost = match self.proto_array.applied_proposer_boost() {
            Some((boost_root, score)) => {
                let b = self.index(&boost_root)?;
                if self.proto_array.is_ancestor(b, index)? {
                    score
                } else {
                    0
                }
            }
            None => 0,
        };
        weight
            .checked_sub(boost)
            .ok_or_else(|| InternalError::WeightUnderflow(*root).into())
    }

    /// The `viable_for_head_roots_and_weights` check of the spec tests: the leaves of the
    /// filtered block tree below the justified block (the justified block itself if the filtered
    /// tree is empty), with `get_weight`, sorted by root.
    pub fn viable_for_head_roots_and_weights(&mut self) -> Result<Vec<(Hash256, Gwei)>, Error> {
        self.refresh()?;
        let j = self.index(&self.justified_checkpoint.root)?;
        let nodes = self.proto_array.nodes();
        let justified = self.proto_array.node(j)?;
        if !justified.viable {
            return Ok(vec![(justified.root, justified.weight)]);
        }
        let mut has_child = vec![false; nodes.len()];
        for n in nodes.iter().filter(|n| !n.execution_status.is_invalid()) {
            if let Some(p) = n.parent
                && let Some(h) = has_child.get_mut(p)
            {
                *h = true;
            }
        }
        let mut out = Vec::new();
        for (i, n) in nodes.iter().enumerate().skip(j) {
            if n.viable
                && !has_child.get(i).copied().unwrap_or(true)
                && self.proto_array.is_ancestor(i, j)?
            {
                out.push((n.root, n.weight));
            }
        }
        out.sort();
        Ok(out)
    }

    // ---------------------------------------------------------------- checkpoints

    /// `update_checkpoints(store, justified_checkpoint, finalized_checkpoint)`: each moves only
    /// to a higher epoch. Returns (justified changed, finalized changed).
    pub fn update_checkpoints(
        &mut self,
        justified: Checkpoint,
        finalized: Checkpoint,
    ) -> Result<(bool, bool), Error> {
        let mut changed = (false, false);
        if justified.epoch > self.justified_checkpoint.epoch {
            self.justified_checkpoint = justified;
            self.head = None;
            changed.0 = true;
        }
        if finalized.epoch > self.finalized_checkpoint.epoch {
            self.finalized_checkpoint = finalized;
            let slot = self.config.start_slot_at_epoch(finalized.epoch);
            self.proto_array.set_finalized(finalized, slot)?;
            self.head = None;
            changed.1 = true;
        }
        Ok(changed)
    }

    /// `update_unrealized_checkpoints(store, unrealized_justified, unrealized_finalized)`.
    pub fn update_unrealized_checkpoints(&mut self, justified: Checkpoint, finalized: Checkpoint) {
        if justified.epoch > self.unrealized_justified_checkpoint.epoch {
            self.unrealized_justified_checkpoint = justified;
        }
        if finalized.epoch > self.unrealized_finalized_checkpoint.epoch {
            self.unrealized_finalized_checkpoint = finalized;
        }
    }

    // ---------------------------------------------------------------- on_tick

    /// `on_tick(store, time)` with `time` in Unix seconds.
    pub fn on_tick(&mut self, time: u64) -> Result<(), Error> {
        let ms = time.checked_mul(1000).ok_or(InputError::TimeOverflow)?;
        self.on_tick_ms(ms)
    }

    /// `on_tick` at millisecond resolution.
    ///
    /// The spec's catch-up loop runs `on_tick_per_slot` once per skipped slot; its effects are
    /// idempotent (reset the boost; at an epoch boundary, realize the unrealized checkpoints,
    /// which ticks do not change), so they are applied once: the boost is reset if the slot
    /// advanced, and the checkpoints pulled up if the epoch did. Like the spec, a time before
    /// the store's time is accepted and only sets the time.
    pub fn on_tick_ms(&mut self, time_ms: u64) -> Result<(), Error> {
        let Some(new_slot) = self.slot_at_ms(time_ms) else {
            return Err(InputError::TimeBeforeGenesis {
                time_ms,
                genesis_time_ms: self.genesis_time_ms(),
            }
            .into());
        };
        let previous_slot = self.current_slot();
        let previous_epoch = self.current_epoch();
        self.time_ms = time_ms;
        if new_slot > previous_slot {
            if self.proposer_boost_root != Hash256::ZERO {
                self.proposer_boost_root = Hash256::ZERO;
                self.head = None;
            }
            if self.config.epoch_at_slot(new_slot) > previous_epoch {
                let (j, f) = (
                    self.unrealized_justified_checkpoint,
                    self.unrealized_finalized_checkpoint,
                );
                self.update_checkpoints(j, f)?;
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- on_block

    /// The checks of `on_block` that precede the state transition, against this store
    /// (callable from a verification stage on a snapshot): known block (early return), known
    /// parent, not from the future, after the finalized slot, descendant of the finalized
    /// checkpoint. Returns `New` with all flags false, or `AlreadyKnown`.
    pub fn validate_on_block(&self, block: &BlockSummary) -> Result<BlockOutcome, Error> {
        if self.proto_array.contains(&block.root) {
            return Ok(BlockOutcome::AlreadyKnown);
        }
        let parent =
            self.proto_array
                .index_of(&block.parent_root)
                .ok_or(BlockError::UnknownParent {
                    parent_root: block.parent_root,
                })?;
        let current_slot = self.current_slot();
        if block.slot > current_slot {
            return Err(BlockError::FutureSlot {
                block_slot: block.slot,
                current_slot,
            }
            .into());
        }
        let finalized_slot = self
            .config
            .start_slot_at_epoch(self.finalized_checkpoint.epoch);
        if block.slot <= finalized_slot {
            return Err(BlockError::NotAfterFinalizedSlot {
                block_slot: block.slot,
                finalized_slot,
            }
            .into());
        }
        let parent_node = self.proto_array.node(parent)?;
        // `finalized_descendant` is `get_checkpoint_block(store, parent_root, finalized.epoch)
        // == finalized.root`, kept current with the store's finalized checkpoint.
        if !parent_node.finalized_descendant {
            return Err(BlockError::NotDescendantOfFinalized {
                finalized: self.finalized_checkpoint,
            }
            .into());
        }
        if parent_node.execution_status.is_invalid() {
            return Err(BlockError::InvalidParent {
                parent_root: block.parent_root,
            }
            .into());
        }
        Ok(BlockOutcome::New {
            proposer_boost: false,
            justified_changed: false,
            finalized_changed: false,
        })
    }

    /// `record_block_timeliness`: seen in the block's slot, before the attestation deadline.
    fn is_timely(&self, block_slot: Slot, seen_at_ms: u64) -> Result<bool, Error> {
        let Some(since) = self.since_genesis_ms(seen_at_ms) else {
            return Ok(false);
        };
        let slot = since.checked_div(self.config.slot_duration_ms).unwrap_or(0);
        let into_slot = since.checked_rem(self.config.slot_duration_ms).unwrap_or(0);
        Ok(slot == block_slot && into_slot < self.config.attestation_due_ms()?)
    }

    /// `on_block(store, signed_block)`, minus the state transition, which the caller has run:
    /// `facts` carries its results. Order of checks as in Fulu's `on_block`: the
    /// [`Self::validate_on_block`] checks, data availability, then the payload verdict.
    ///
    /// If the block is timely and no block holds the boost yet, the head before the block is
    /// needed (`update_proposer_boost_root`), so the justified balances must be current.
    pub fn on_block(
        &mut self,
        block: &BlockSummary,
        facts: &BlockFacts,
    ) -> Result<BlockOutcome, Error> {
        if self.validate_on_block(block)? == BlockOutcome::AlreadyKnown {
            return Ok(BlockOutcome::AlreadyKnown);
        }
        if !facts.data_available {
            return Err(BlockError::DataUnavailable.into());
        }
        if facts.execution_status.is_invalid() {
            return Err(BlockError::InvalidExecutionPayload.into());
        }

        let timely = self.is_timely(block.slot, facts.seen_at_ms.unwrap_or(self.time_ms))?;
        // `update_proposer_boost_root` can only set the boost if the block is timely and first;
        // only then is the pre-block head (`head = get_head(store)`) needed.
        let head_before = if timely && self.proposer_boost_root == Hash256::ZERO {
            Some(self.refresh()?)
        } else {
            None
        };

        let index = self.proto_array.insert(NewNode {
            root: block.root,
            parent_root: block.parent_root,
            slot: block.slot,
            proposer_index: block.proposer_index,
            justified_checkpoint: facts.justified_checkpoint,
            finalized_checkpoint: facts.finalized_checkpoint,
            unrealized_justified_checkpoint: facts.unrealized_justified_checkpoint,
            unrealized_finalized_checkpoint: facts.unrealized_finalized_checkpoint,
            execution_status: facts.execution_status,
            execution_block_hash: block.execution_block_hash,
            timely,
        })?;
        self.head = None;

        // update_proposer_boost_root
        let mut proposer_boost = false;
        if let Some(head) = head_before {
            let epoch = self.current_epoch();
            let head_dependent = self.shuffling_dependent_root(self.index(&head)?, epoch)?;
            let block_dependent = self.shuffling_dependent_root(index, epoch)?;
            if head_dependent == block_dependent {
                self.proposer_boost_root = block.root;
                proposer_boost = true;
            }
        }

        let (j1, f1) =
            self.update_checkpoints(facts.justified_checkpoint, facts.finalized_checkpoint)?;
        // compute_pulled_up_tip
        self.update_unrealized_checkpoints(
            facts.unrealized_justified_checkpoint,
            facts.unrealized_finalized_checkpoint,
        );
        let (mut j2, mut f2) = (false, false);
        if self.config.epoch_at_slot(block.slot) < self.current_epoch() {
            (j2, f2) = self.update_checkpoints(
                facts.unrealized_justified_checkpoint,
                facts.unrealized_finalized_checkpoint,
            )?;
        }
        Ok(BlockOutcome::New {
            proposer_boost,
            justified_changed: j1 || j2,
            finalized_changed: f1 || f2,
        })
    }

    /// `get_shuffling_dependent_root(store, root, epoch)`: `Genesis` for `Root()`, else the
    /// ancestor at the last slot before `epoch - MIN_SEED_LOOKAHEAD`; `BeforeTree` if that is
    /// older than the tree (equal for all blocks, which share the tree's root).
    pub(crate) fn shuffling_dependent_root(
        &self,
        index: usize,
        epoch: Epoch,
    ) -> Result<DependentRoot, Error> {
        if epoch <= self.config.min_seed_lookahead {
            return Ok(DependentRoot::Genesis);
        }
        let slot = self
            .config
            .start_slot_at_epoch(epoch.saturating_sub(self.config.min_seed_lookahead))
            .saturating_sub(1);
        Ok(match self.proto_array.ancestor_at_slot(index, slot)? {
            Some(i) => DependentRoot::Block(self.proto_array.node(i)?.root),
            None => DependentRoot::BeforeTree,
        })
    }

    // ---------------------------------------------------------------- attestations

    /// `validate_on_attestation(store, attestation, is_from_block)`, in the spec's order.
    pub fn validate_on_attestation(
        &self,
        data: &AttestationData,
        is_from_block: bool,
    ) -> Result<(), Error> {
        let target = data.target;
        if !is_from_block {
            // validate_target_epoch_against_current_time
            let current_epoch = self.current_epoch();
            let previous_epoch = current_epoch.saturating_sub(1);
            if target.epoch != current_epoch && target.epoch != previous_epoch {
                return Err(AttestationError::TargetEpochOutOfRange {
                    target_epoch: target.epoch,
                    current_epoch,
                }
                .into());
            }
        }
        if target.epoch != self.config.epoch_at_slot(data.slot) {
            return Err(AttestationError::TargetEpochSlotMismatch {
                target_epoch: target.epoch,
                slot: data.slot,
            }
            .into());
        }
        let target_index = self
            .proto_array
            .index_of(&target.root)
            .ok_or(AttestationError::UnknownTargetRoot(target.root))?;
        let block_index = self
            .proto_array
            .index_of(&data.beacon_block_root)
            .ok_or(AttestationError::UnknownHeadBlock(data.beacon_block_root))?;
        let block_slot = self.proto_array.node(block_index)?.slot;
        if block_slot > data.slot {
            return Err(AttestationError::HeadBlockAfterSlot {
                block_slot,
                slot: data.slot,
            }
            .into());
        }
        let checkpoint_block = self
            .proto_array
            .ancestor_at_slot(block_index, self.config.start_slot_at_epoch(target.epoch))?;
        if checkpoint_block != Some(target_index) {
            return Err(AttestationError::TargetNotCheckpointOfHead.into());
        }
        let current_slot = self.current_slot();
        if current_slot < data.slot.saturating_add(1) {
            return Err(AttestationError::TooEarly {
                slot: data.slot,
                current_slot,
            }
            .into());
        }
        Ok(())
    }

    /// `update_latest_messages(store, attesting_indices, attestation)` without validation, for an
    /// attestation validated against a snapshot (the block must still be known). Returns how
    /// many latest messages changed.
    pub fn apply_attestation(
        &mut self,
        data: &AttestationData,
        attesting_indices: &[ValidatorIndex],
    ) -> Result<usize, Error> {
        let index = self
            .proto_array
            .index_of(&data.beacon_block_root)
            .ok_or(AttestationError::UnknownHeadBlock(data.beacon_block_root))?;
        let node = u32::try_from(index).map_err(|_| InternalError::TooManyNodes)?;
        let changed = self
            .votes
            .process_attestation(attesting_indices, node, data.target.epoch)?;
        if changed > 0 {
            self.head = None;
        }
        Ok(changed)
    }

    /// `on_attestation(store, attestation, is_from_block)` given the attestation's indexed form.
    /// The caller has checked `is_valid_indexed_attestation` against the target checkpoint state
    /// (`store_target_checkpoint_state`), which this store does not hold.
    pub fn on_attestation(
        &mut self,
        data: &AttestationData,
        attesting_indices: &[ValidatorIndex],
        is_from_block: bool,
    ) -> Result<usize, Error> {
        self.validate_on_attestation(data, is_from_block)?;
        self.apply_attestation(data, attesting_indices)
    }

    /// `on_attester_slashing(store, attester_slashing)` given both attestations' attesting
    /// indices. The caller has checked `is_slashable_attestation_data` and both attestations'
    /// validity against the justified block's state. Returns how many indices were new.
    pub fn on_attester_slashing(
        &mut self,
        attesting_indices_1: &[ValidatorIndex],
        attesting_indices_2: &[ValidatorIndex],
    ) -> usize {
        let first: std::collections::HashSet<ValidatorIndex> =
            attesting_indices_1.iter().copied().collect();
        let mut added = 0usize;
        for i in attesting_indices_2 {
            if first.contains(i) && self.votes.process_equivocation(*i) {
                added = added.saturating_add(1);
            }
        }
        if added > 0 {
            self.head = None;
        }
        added
    }

    // ---------------------------------------------------------------- execution status

    /// The engine reported the payload of `root` INVALID. `latest_valid_hash` (Engine API
    /// `latestValidHash`), if it is the payload hash of an ancestor, also invalidates the
    /// optimistic blocks between that ancestor and `root` and validates the ancestor; the zero
    /// hash invalidates every optimistic ancestor. The block and all descendants stop counting
    /// and can no longer be head.
    pub fn on_invalid_execution_payload(
        &mut self,
        root: &Hash256,
        latest_valid_hash: Option<Hash256>,
    ) -> Result<(), Error> {
        let index = self.index(root)?;
        let mut invalid = vec![index];
        let mut valid_ancestor = None;
        if let Some(lvh) = latest_valid_hash {
            let mut chain = Vec::new();
            let mut cursor = self.proto_array.node(index)?.parent;
            while let Some(i) = cursor {
                let node = self.proto_array.node(i)?;
                if lvh != Hash256::ZERO && node.execution_block_hash == Some(lvh) {
                    valid_ancestor = Some(i);
                    break;
                }
                if node.execution_status != ExecutionStatus::Optimistic {
                    break;
                }
                chain.push(i);
                cursor = node.parent;
            }
            if valid_ancestor.is_some() || lvh == Hash256::ZERO {
                invalid.extend(chain);
            }
        }
        for &i in &invalid {
            let node = self.proto_array.node(i)?;
            if node.execution_status == ExecutionStatus::Valid {
                return Err(InputError::InvalidatingValidBlock(node.root).into());
            }
        }
        if let Some(v) = valid_ancestor
            && self.proto_array.node(v)?.execution_status.is_invalid()
        {
            return Err(InputError::ValidatingInvalidBlock(self.proto_array.node(v)?.root).into());
        }
        if let Some(v) = valid_ancestor {
            self.proto_array.mark_valid(v)?;
        }
        self.proto_array.invalidate(&invalid)?;
        self.head = None;
        Ok(())
    }

    /// The engine reported the payload of `root` VALID: it and its optimistic ancestors become
    /// VALID.
    pub fn on_valid_execution_payload(&mut self, root: &Hash256) -> Result<(), Error> {
        let index = self.index(root)?;
        self.proto_array.mark_valid(index)
    }

    // ---------------------------------------------------------------- pruning

    /// Drops the blocks before the finalized block and those conflicting with it, if at least
    /// `config.prune_threshold` would go. Returns how many were removed. Call after
    /// finalization moves; between prunes the extra nodes cost a little in each head pass.
    pub fn maybe_prune(&mut self) -> Result<usize, Error> {
        let finalized_root = self.finalized_checkpoint.root;
        let Some(map) = self
            .proto_array
            .prune(&finalized_root, self.config.prune_threshold)?
        else {
            return Ok(0);
        };
        let removed = map.iter().filter(|m| m.is_none()).count();
        self.votes.remap(&map);
        self.head = None;
        Ok(removed)
    }
}

/// `get_shuffling_dependent_root` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DependentRoot {
    Genesis,
    Block(Hash256),
    BeforeTree,
}
