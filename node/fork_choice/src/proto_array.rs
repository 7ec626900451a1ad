//! The proto-array: the block tree since finalization as a flat vector in insertion order, with
//! each node's subtree weight and its best child and best descendant, so that `get_head` is a
//! lookup after one backwards pass.
//!
//! Invariant: a node's parent has a smaller index than the node (blocks arrive after their
//! parents, and pruning keeps the order). Walking the vector backwards therefore visits every
//! node after all of its descendants, which is what lets [`ProtoArray::apply_score_changes`]
//! settle weights, viability and best children in a single pass.

use crate::error::{Error, InputError, InternalError};
use keel_config::constants::GENESIS_EPOCH;
use keel_types::phase0::Checkpoint;
use keel_types::{Epoch, Gwei, Hash256, Slot, ValidatorIndex};
use std::collections::HashMap;

/// The execution-payload verdict of a block, as the execution engine (or optimistic sync) knows
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    /// The block has no execution payload to verify (pre-merge).
    Irrelevant,
    /// `VALID`: the engine executed the payload.
    Valid,
    /// `SYNCING`/`ACCEPTED`: imported optimistically, verdict pending.
    Optimistic,
    /// `INVALID`: the node and every descendant are excluded from the head search and carry no
    /// weight.
    Invalid,
}

impl ExecutionStatus {
    pub fn is_invalid(self) -> bool {
        self == ExecutionStatus::Invalid
    }

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            ExecutionStatus::Irrelevant => 0,
            ExecutionStatus::Valid => 1,
            ExecutionStatus::Optimistic => 2,
            ExecutionStatus::Invalid => 3,
        }
    }

    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => ExecutionStatus::Irrelevant,
            1 => ExecutionStatus::Valid,
            2 => ExecutionStatus::Optimistic,
            3 => ExecutionStatus::Invalid,
            _ => return None,
        })
    }
}

/// The store's view that node viability (`filter_block_tree`) depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViabilityContext {
    /// `get_current_store_epoch(store)`.
    pub current_epoch: Epoch,
    /// `store.justified_checkpoint.epoch`.
    pub justified_epoch: Epoch,
    /// `store.finalized_checkpoint.epoch` (the root is held by the array, see
    /// [`ProtoArray::set_finalized`]).
    pub finalized_epoch: Epoch,
    /// `SLOTS_PER_EPOCH`.
    pub slots_per_epoch: u64,
}

/// Scratch space of the backwards pass: what a node's children told it. Always empty between
/// passes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Scratch {
    has_children: bool,
    any_viable_child: bool,
    /// The best viable child so far: (index, weight, root).
    best: Option<(usize, Gwei, Hash256)>,
}

/// One block of the tree.
///
/// The fields are public for reading; only the array mutates nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoNode {
    pub root: Hash256,
    pub parent_root: Hash256,
    /// Index of the parent, `None` for the tree's root (the anchor, later the finalized block).
    pub parent: Option<usize>,
    pub slot: Slot,
    pub proposer_index: ValidatorIndex,
    /// The post-state's `current_justified_checkpoint` (realized).
    pub justified_checkpoint: Checkpoint,
    /// The post-state's `finalized_checkpoint` (realized).
    pub finalized_checkpoint: Checkpoint,
    /// `store.unrealized_justifications[root]`: the post-state pulled up to the next epoch
    /// boundary.
    pub unrealized_justified_checkpoint: Checkpoint,
    /// The pulled-up finalized checkpoint (not read by the spec's rules; kept for queries).
    pub unrealized_finalized_checkpoint: Checkpoint,
    pub execution_status: ExecutionStatus,
    pub execution_block_hash: Option<Hash256>,
    /// `store.block_timeliness[root]`.
    pub timely: bool,
    /// Sum of the balances voting for this node or a descendant, plus the proposer boost if it is
    /// on this node or a descendant: the spec's `get_weight`, as of the last pass.
    pub weight: Gwei,
    /// Best child among those in the filtered block tree, as of the last pass.
    pub best_child: Option<usize>,
    /// End of the best-child chain, as of the last pass.
    pub best_descendant: Option<usize>,
    /// Whether the node is in `get_filtered_block_tree`: for a leaf, `filter_block_tree`'s
    /// justified/finalized conditions; for an inner node, whether any child is. As of the last
    /// pass.
    pub viable: bool,
    /// Whether the ancestor of this node at the finalized epoch's start slot is the finalized
    /// block (`get_checkpoint_block(store, root, finalized.epoch) == finalized.root`). Kept
    /// current with the finalized checkpoint the array was given.
    pub finalized_descendant: bool,
    scratch: Scratch,
}

/// What a new node is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNode {
    pub root: Hash256,
    pub parent_root: Hash256,
    pub slot: Slot,
    pub proposer_index: ValidatorIndex,
    pub justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    pub unrealized_justified_checkpoint: Checkpoint,
    pub unrealized_finalized_checkpoint: Checkpoint,
    pub execution_status: ExecutionStatus,
    pub execution_block_hash: Option<Hash256>,
    pub timely: bool,
}

/// The block tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoArray {
    nodes: Vec<ProtoNode>,
    indices: HashMap<Hash256, usize>,
    /// The finalized checkpoint `finalized_descendant` refers to, and its epoch's start slot.
    finalized: Checkpoint,
    finalized_slot: Slot,
    /// The proposer boost included in the weights: (node index, score).
    previous_boost: Option<(usize, Gwei)>,
}

impl ProtoArray {
    /// An array holding only the anchor (`finalized_slot` is the finalized epoch's start slot).
    pub fn new(
        anchor: NewNode,
        finalized: Checkpoint,
        finalized_slot: Slot,
    ) -> Result<Self, Error> {
        let mut array = Self {
            nodes: Vec::new(),
            indices: HashMap::new(),
            finalized,
            finalized_slot,
            previous_boost: None,
        };
        array.insert(anchor)?;
        Ok(array)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The nodes in index order (parents before children).
    pub fn nodes(&self) -> &[ProtoNode] {
        &self.nodes
    }

    pub fn index_of(&self, root: &Hash256) -> Option<usize> {
        self.indices.get(root).copied()
    }

    pub fn contains(&self, root: &Hash256) -> bool {
        self.indices.contains_key(root)
    }

    pub fn node(&self, index: usize) -> Result<&ProtoNode, Error> {
        self.nodes
            .get(index)
            .ok_or_else(|| InternalError::NodeIndex(index).into())
    }

    fn node_mut(&mut self, index: usize) -> Result<&mut ProtoNode, Error> {
        self.nodes
            .get_mut(index)
            .ok_or_else(|| InternalError::NodeIndex(index).into())
    }

    pub fn get(&self, root: &Hash256) -> Option<&ProtoNode> {
        self.index_of(root).and_then(|i| self.nodes.get(i))
    }

    /// The finalized checkpoint the array's `finalized_descendant` flags refer to.
    pub fn finalized(&self) -> Checkpoint {
        self.finalized
    }

    /// The applied proposer boost: (root, score).
    pub fn applied_proposer_boost(&self) -> Option<(Hash256, Gwei)> {
        self.previous_boost
            .and_then(|(i, score)| self.nodes.get(i).map(|n| (n.root, score)))
    }

    /// Appends a node. Its parent, if known, must already be in the array (the caller checks that
    /// blocks have known parents); an unknown parent makes the node a root, as the anchor is.
    /// A known root is a no-op. The new node is not reachable from `best_*` until the next
    /// [`Self::apply_score_changes`].
    pub fn insert(&mut self, new: NewNode) -> Result<usize, Error> {
        if let Some(i) = self.index_of(&new.root) {
            return Ok(i);
        }
        let index = self.nodes.len();
        if u32::try_from(index).is_err() || index == crate::votes::NO_NODE as usize {
            return Err(InternalError::TooManyNodes.into());
        }
        let parent = self.index_of(&new.parent_root);
        let finalized_descendant = self.finalized_descendant_flag(&new.root, new.slot, parent)?;
        let node = ProtoNode {
            root: new.root,
            parent_root: new.parent_root,
            parent,
            slot: new.slot,
            proposer_index: new.proposer_index,
            justified_checkpoint: new.justified_checkpoint,
            finalized_checkpoint: new.finalized_checkpoint,
            unrealized_justified_checkpoint: new.unrealized_justified_checkpoint,
            unrealized_finalized_checkpoint: new.unrealized_finalized_checkpoint,
            execution_status: new.execution_status,
            execution_block_hash: new.execution_block_hash,
            timely: new.timely,
            weight: 0,
            best_child: None,
            best_descendant: None,
            viable: false,
            finalized_descendant,
            scratch: Scratch::default(),
        };
        self.indices.insert(node.root, index);
        self.nodes.push(node);
        Ok(index)
    }

    /// `get_checkpoint_block(store, root, finalized.epoch) == finalized.root` for a node with
    /// this root, slot and parent, given its parent's flag: a node at or before the finalized
    /// epoch's start slot is its own checkpoint block; a later one inherits its parent's answer.
    /// A root node (no known parent) is trusted only if it is the finalized block itself.
    fn finalized_descendant_flag(
        &self,
        root: &Hash256,
        slot: Slot,
        parent: Option<usize>,
    ) -> Result<bool, Error> {
        if slot <= self.finalized_slot {
            return Ok(*root == self.finalized.root);
        }
        match parent {
            Some(p) => Ok(self.node(p)?.finalized_descendant),
            None => Ok(*root == self.finalized.root),
        }
    }

    /// Moves the finalized checkpoint the `finalized_descendant` flags refer to, recomputing them
    /// in one forward pass.
    pub fn set_finalized(
        &mut self,
        finalized: Checkpoint,
        finalized_slot: Slot,
    ) -> Result<(), Error> {
        self.finalized = finalized;
        self.finalized_slot = finalized_slot;
        for i in 0..self.nodes.len() {
            let (root, slot, parent) = {
                let n = self.node(i)?;
                (n.root, n.slot, n.parent)
            };
            let flag = self.finalized_descendant_flag(&root, slot, parent)?;
            self.node_mut(i)?.finalized_descendant = flag;
        }
        Ok(())
    }

    /// `get_ancestor(store, node, slot)` by index: the last block at or before `slot` on the
    /// chain of `index`. `None` if that block is older than the tree's root (pruned, or before
    /// the anchor).
    pub fn ancestor_at_slot(&self, index: usize, slot: Slot) -> Result<Option<usize>, Error> {
        let mut i = index;
        loop {
            let node = self.node(i)?;
            if node.slot <= slot {
                return Ok(Some(i));
            }
            match node.parent {
                Some(p) => i = p,
                None => return Ok(None),
            }
        }
    }

    /// `is_ancestor(store, node, ancestor)` by index (a node is its own ancestor).
    pub fn is_ancestor(&self, index: usize, ancestor: usize) -> Result<bool, Error> {
        let slot = self.node(ancestor)?.slot;
        Ok(self.ancestor_at_slot(index, slot)? == Some(ancestor))
    }

    /// The spec's leaf conditions of `filter_block_tree` (`get_voting_source` included), for a
    /// node without children:
    ///
    /// - voting source: the pulled-up (unrealized) justification if the block is from an epoch
    ///   before the current one, else the post-state's realized `current_justified_checkpoint`;
    /// - `correct_justified`: store justified at genesis, or the voting source's epoch equals the
    ///   store's justified epoch, or the voting source is at most two epochs old
    ///   (`voting_source.epoch + 2 >= current_epoch`);
    /// - `correct_finalized`: store finalized at genesis, or the node's checkpoint block at the
    ///   finalized epoch is the finalized root.
    pub fn is_viable_leaf(node: &ProtoNode, ctx: &ViabilityContext) -> bool {
        let block_epoch = node.slot.checked_div(ctx.slots_per_epoch).unwrap_or(0);
        let voting_source = if ctx.current_epoch > block_epoch {
            node.unrealized_justified_checkpoint
        } else {
            node.justified_checkpoint
        };
        let correct_justified = ctx.justified_epoch == GENESIS_EPOCH
            || voting_source.epoch == ctx.justified_epoch
            || voting_source.epoch.saturating_add(2) >= ctx.current_epoch;
        let correct_finalized = ctx.finalized_epoch == GENESIS_EPOCH || node.finalized_descendant;
        correct_justified && correct_finalized
    }

    /// Applies per-node vote deltas and the proposer boost, and recomputes every node's weight,
    /// viability, best child and best descendant, in one backwards pass.
    ///
    /// `deltas[i]` is the change of the votes directly on node `i` (see
    /// [`crate::votes::VoteTracker::compute_deltas`]); the pass adds each node's accumulated
    /// delta to its parent's, so subtree weights follow. The previously applied boost is
    /// removed and `proposer_boost` (root, score) added. Invalid nodes are forced to weight zero
    /// (their weight leaves their ancestors), are never viable, and do not count as children.
    ///
    /// When node `i` is reached, all of its children (larger indices) have been settled and have
    /// offered themselves to it, so its best child is the best (weight, root) among its viable
    /// children, ties to the larger root as in `get_head`; a node without children is viable as
    /// [`Self::is_viable_leaf`] says; a node with children is viable iff one of them is. `deltas`
    /// is consumed (left in an unspecified state).
    pub fn apply_score_changes(
        &mut self,
        deltas: &mut [i64],
        ctx: &ViabilityContext,
        proposer_boost: Option<(Hash256, Gwei)>,
    ) -> Result<(), Error> {
        if deltas.len() != self.nodes.len() {
            return Err(InternalError::DeltaLength {
                deltas: deltas.len(),
                nodes: self.nodes.len(),
            }
            .into());
        }
        if let Some((i, score)) = self.previous_boost {
            add_delta(deltas, i, score, false)?;
        }
        let new_boost = match proposer_boost {
            Some((root, score)) if score > 0 => self.index_of(&root).map(|i| (i, score)),
            _ => None,
        };
        if let Some((i, score)) = new_boost {
            add_delta(deltas, i, score, true)?;
        }

        for i in (0..self.nodes.len()).rev() {
            let incoming = *deltas.get(i).ok_or(InternalError::NodeIndex(i))?;
            let node = self.node_mut(i)?;
            let invalid = node.execution_status.is_invalid();
            let delta = if invalid {
                i64::try_from(node.weight)
                    .ok()
                    .and_then(i64::checked_neg)
                    .ok_or(InternalError::Overflow("weight"))?
            } else {
                incoming
            };
            node.weight = node
                .weight
                .checked_add_signed(delta)
                .ok_or(InternalError::WeightUnderflow(node.root))?;
            let scratch = std::mem::take(&mut node.scratch);
            let (viable, best_child) = if invalid {
                (false, None)
            } else if scratch.has_children {
                (scratch.any_viable_child, scratch.best.map(|(c, _, _)| c))
            } else {
                (Self::is_viable_leaf(node, ctx), None)
            };
            node.viable = viable;
            node.best_child = best_child;
            let (parent, weight, root) = (node.parent, node.weight, node.root);
            let best_descendant = match best_child {
                Some(c) => Some(self.node(c)?.best_descendant.unwrap_or(c)),
                None => None,
            };
            self.node_mut(i)?.best_descendant = best_descendant;

            if let Some(p) = parent {
                let parent_delta = deltas.get_mut(p).ok_or(InternalError::NodeIndex(p))?;
                *parent_delta = parent_delta
                    .checked_add(delta)
                    .ok_or(InternalError::Overflow("delta"))?;
                // An invalid block is as good as absent (the spec would never have stored it):
                // it does not make its parent an inner node.
                if invalid {
                    continue;
                }
                let scratch = &mut self.node_mut(p)?.scratch;
                scratch.has_children = true;
                if viable {
                    scratch.any_viable_child = true;
                    let better = match scratch.best {
                        None => true,
                        Some((_, best_weight, best_root)) => {
                            (weight, root) > (best_weight, best_root)
                        }
                    };
                    if better {
                        scratch.best = Some((i, weight, root));
                    }
                }
            }
        }
        self.previous_boost = new_boost;
        Ok(())
    }

    /// `get_head` from the justified block: its best descendant, or itself if nothing below it is
    /// in the filtered tree. Valid after [`Self::apply_score_changes`] with the current context.
    pub fn find_head(&self, justified_root: &Hash256) -> Result<Hash256, Error> {
        let j = self
            .index_of(justified_root)
            .ok_or(InputError::UnknownBlock(*justified_root))?;
        let node = self.node(j)?;
        if node.execution_status.is_invalid() {
            return Err(InputError::InvalidJustifiedBlock(*justified_root).into());
        }
        match node.best_descendant {
            Some(d) => Ok(self.node(d)?.root),
            None => Ok(node.root),
        }
    }

    /// Marks `indices` INVALID and then every descendant of an invalid node, in one forward
    /// pass from the smallest index. The caller has checked that none of `indices` is VALID.
    pub fn invalidate(&mut self, indices: &[usize]) -> Result<(), Error> {
        let Some(&first) = indices.iter().min() else {
            return Ok(());
        };
        for &i in indices {
            self.node_mut(i)?.execution_status = ExecutionStatus::Invalid;
        }
        for i in first..self.nodes.len() {
            let parent_invalid = match self.node(i)?.parent {
                Some(p) => self.node(p)?.execution_status.is_invalid(),
                None => false,
            };
            if parent_invalid {
                self.node_mut(i)?.execution_status = ExecutionStatus::Invalid;
            }
        }
        Ok(())
    }

    /// Marks `index` and its OPTIMISTIC ancestors VALID (a valid payload validates its chain).
    pub fn mark_valid(&mut self, index: usize) -> Result<(), Error> {
        let mut cursor = Some(index);
        while let Some(i) = cursor {
            let node = self.node_mut(i)?;
            match node.execution_status {
                ExecutionStatus::Invalid => {
                    return Err(InputError::ValidatingInvalidBlock(node.root).into());
                }
                ExecutionStatus::Optimistic => node.execution_status = ExecutionStatus::Valid,
                ExecutionStatus::Valid | ExecutionStatus::Irrelevant if i != index => break,
                ExecutionStatus::Valid | ExecutionStatus::Irrelevant => {}
            }
            cursor = node.parent;
        }
        Ok(())
    }

    /// How many nodes [`Self::prune`] would remove: those before the finalized block and those
    /// not descending from it.
    pub fn prunable(&self, finalized_root: &Hash256) -> Result<usize, Error> {
        Ok(self
            .keep_mask(finalized_root)?
            .iter()
            .filter(|k| !**k)
            .count())
    }

    fn keep_mask(&self, finalized_root: &Hash256) -> Result<Vec<bool>, Error> {
        let f = self
            .index_of(finalized_root)
            .ok_or(InputError::UnknownBlock(*finalized_root))?;
        let mut keep = vec![false; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate().skip(f) {
            let k = i == f
                || node
                    .parent
                    .is_some_and(|p| keep.get(p).copied().unwrap_or(false));
            if let Some(slot) = keep.get_mut(i) {
                *slot = k;
            }
        }
        Ok(keep)
    }

    /// Removes every node that is not the finalized block or a descendant of it. Returns the
    /// index map (old index → new index, `None` if removed) for the vote tracker, or `None` if
    /// fewer than `threshold` nodes (or none) would go.
    ///
    /// Sound because the removed nodes' weight never reached a kept node: a removed node is an
    /// ancestor of the finalized block or on a branch that left the chain before it.
    pub fn prune(
        &mut self,
        finalized_root: &Hash256,
        threshold: usize,
    ) -> Result<Option<Vec<Option<usize>>>, Error> {
        let keep = self.keep_mask(finalized_root)?;
        let removed = keep.iter().filter(|k| !**k).count();
        if removed == 0 || removed < threshold {
            return Ok(None);
        }
        let mut map = vec![None; self.nodes.len()];
        let mut next = 0usize;
        for (i, k) in keep.iter().enumerate() {
            if *k {
                if let Some(m) = map.get_mut(i) {
                    *m = Some(next);
                }
                next = next
                    .checked_add(1)
                    .ok_or(InternalError::Overflow("prune"))?;
            }
        }
        let remap = |i: Option<usize>| i.and_then(|i| map.get(i).copied().flatten());
        let old = std::mem::take(&mut self.nodes);
        self.nodes = old
            .into_iter()
            .zip(keep.iter())
            .filter(|(_, k)| **k)
            .map(|(mut n, _)| {
                n.parent = remap(n.parent);
                n.best_child = remap(n.best_child);
                n.best_descendant = remap(n.best_descendant);
                n
            })
            .collect();
        self.indices = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.root, i))
            .collect();
        self.previous_boost = self
            .previous_boost
            .and_then(|(i, score)| remap(Some(i)).map(|j| (j, score)));
        Ok(Some(map))
    }

    /// Restores the derived fields after loading persisted nodes: weights zero (votes are
    /// re-applied from scratch), no boost applied, flags recomputed.
    pub(crate) fn from_persisted(
        nodes: Vec<NewNode>,
        finalized: Checkpoint,
        finalized_slot: Slot,
    ) -> Result<Self, Error> {
        let mut array = Self {
            nodes: Vec::with_capacity(nodes.len()),
            indices: HashMap::with_capacity(nodes.len()),
            finalized,
            finalized_slot,
            previous_boost: None,
        };
        for node in nodes {
            if array.contains(&node.root) {
                return Err(InputError::Decode("duplicate node".into()).into());
            }
            array.insert(node)?;
        }
        // Invalid status is inherited along parents in the persisted data already; re-assert it.
        let invalid: Vec<usize> = array
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.execution_status.is_invalid())
            .map(|(i, _)| i)
            .collect();
        array.invalidate(&invalid)?;
        Ok(array)
    }
}

#[cfg(test)]
impl ProtoArray {
    pub(crate) fn set_node_checkpoints_for_test(
        &mut self,
        i: usize,
        justified: Checkpoint,
        unrealized: Checkpoint,
    ) {
        if let Some(n) = self.nodes.get_mut(i) {
            n.justified_checkpoint = justified;
            n.unrealized_justified_checkpoint = unrealized;
        }
    }
}

/// `deltas[i] += score` (or `-=`), checked.
fn add_delta(deltas: &mut [i64], i: usize, score: Gwei, add: bool) -> Result<(), Error> {
    let d = deltas.get_mut(i).ok_or(InternalError::NodeIndex(i))?;
    let s = i64::try_from(score).map_err(|_| InternalError::Overflow("boost"))?;
    *d = if add {
        d.checked_add(s)
    } else {
        d.checked_sub(s)
    }
    .ok_or(InternalError::Overflow("boost"))?;
    Ok(())
}
