//! Writing the store out and reading it back.
//!
//! Encoding: SSZ (`ethereum_ssz`, already how every other consensus object is stored), behind a
//! 4-byte magic and a version byte. SSZ is deterministic (same store, same bytes), needs no new
//! dependency, and decodes a million votes as one fixed-size list without per-item allocation.
//!
//! What is written is the store's *inputs*: time, checkpoints, proposer boost root, the nodes
//! (block facts, execution status, timeliness), latest messages and equivocating indices. What
//! is derived is not written: weights, best children, viability. On load every latest message is
//! marked pending and all weights start at zero, so the first `get_head` after the caller supplies
//! the justified balances re-applies every vote from scratch (O(validators), once). This keeps
//! the file free of anything that could disagree with the votes, and lets the balances come from
//! the justified state the caller already has, instead of 8 MB of copies in the file.
//!
//! With a million validators the full record is ~13 MB, too much to rewrite with every batch the
//! core commits. [`ForkChoice::persist`] therefore writes either the full record or a *delta*:
//! everything but the votes (a few hundred nodes and the checkpoints) plus only the votes whose
//! latest message changed since the previous write. A reader loads the full record and applies
//! the deltas in order ([`ForkChoice::from_bytes_and_deltas`]). Node indices in a delta are
//! valid because nodes are only appended between prunes, and pruning (which renumbers them)
//! forces the next write to be full; so does a long run of deltas or a delta that would carry
//! a large share of the votes.

use crate::config::ForkChoiceConfig;
use crate::error::{Error, InputError};
use crate::proto_array::{ExecutionStatus, NewNode, ProtoArray};
use crate::store::ForkChoice;
use crate::votes::{NO_NODE, VoteTracker};
use keel_types::phase0::Checkpoint;
use keel_types::{Epoch, Hash256, Slot, ValidatorIndex};
use ssz::{Decode, Encode};
use ssz_derive::{Decode, Encode};
use std::collections::BTreeSet;

/// `b"KFC"` + version.
const MAGIC: [u8; 4] = *b"KFC\0";
/// `b"KFD"`: a delta record.
const DELTA_MAGIC: [u8; 4] = *b"KFD\0";
const VERSION: u8 = 1;

/// After this many deltas the next write is full (bounds the work of a restart).
const MAX_DELTAS: u32 = 64;

/// What [`ForkChoice::persist`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persisted {
    /// The whole store: replaces the previous full record and every delta.
    Full(Vec<u8>),
    /// Changes since the previous write: appended after it.
    Delta(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
struct PersistedVoteChange {
    validator_index: ValidatorIndex,
    vote: PersistedVote,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
struct PersistedDelta {
    /// The store without votes (`votes` empty).
    store: PersistedStore,
    changes: Vec<PersistedVoteChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
struct PersistedNode {
    root: Hash256,
    parent_root: Hash256,
    slot: Slot,
    proposer_index: ValidatorIndex,
    justified_checkpoint: Checkpoint,
    finalized_checkpoint: Checkpoint,
    unrealized_justified_checkpoint: Checkpoint,
    unrealized_finalized_checkpoint: Checkpoint,
    execution_status: u8,
    has_execution_block_hash: bool,
    execution_block_hash: Hash256,
    timely: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
struct PersistedVote {
    epoch: Epoch,
    /// Index into `nodes`, `u32::MAX` if none (pruned).
    node: u32,
    has_message: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
struct PersistedStore {
    time_ms: u64,
    genesis_time: u64,
    justified_checkpoint: Checkpoint,
    finalized_checkpoint: Checkpoint,
    unrealized_justified_checkpoint: Checkpoint,
    unrealized_finalized_checkpoint: Checkpoint,
    proposer_boost_root: Hash256,
    equivocating_indices: Vec<u64>,
    nodes: Vec<PersistedNode>,
    votes: Vec<PersistedVote>,
}

fn decode(message: &str) -> Error {
    Error::from(InputError::Decode(message.to_owned()))
}

/// Strips and checks the magic and version, then decodes the SSZ body.
fn decode_record<T: Decode>(bytes: &[u8], magic: [u8; 4]) -> Result<T, Error> {
    let body = bytes
        .strip_prefix(&magic)
        .ok_or_else(|| decode("bad magic"))?;
    let (&version, body) = body.split_first().ok_or_else(|| decode("truncated"))?;
    if version != VERSION {
        return Err(decode("unknown version"));
    }
    T::from_ssz_bytes(body).map_err(|e| decode(&format!("{e:?}")))
}

impl ForkChoice {
    /// Serializes the store (see the module docs for what is and is not written).
    pub fn to_bytes(&self) -> Vec<u8> {
        let store = self.persisted_store(true);
        let mut out = Vec::with_capacity(store.ssz_bytes_len().saturating_add(5));
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        store.ssz_append(&mut out);
        out
    }

    /// The record to write now: a delta when one is consistent and small, else the full store.
    /// Either way the store counts itself as written.
    pub fn persist(&mut self) -> Persisted {
        let unsaved = self.votes.unsaved_len();
        if self.votes.needs_full_write()
            || self.votes.deltas_since_full >= MAX_DELTAS
            || unsaved.saturating_mul(8) > self.votes.len()
        {
            let full = self.to_bytes();
            self.votes.mark_fully_saved();
            return Persisted::Full(full);
        }
        self.votes.deltas_since_full = self.votes.deltas_since_full.saturating_add(1);
        let delta = PersistedDelta {
            store: self.persisted_store(false),
            changes: self
                .votes
                .take_unsaved()
                .into_iter()
                .map(
                    |(validator_index, epoch, node, has_message)| PersistedVoteChange {
                        validator_index,
                        vote: PersistedVote {
                            epoch,
                            node,
                            has_message,
                        },
                    },
                )
                .collect(),
        };
        let mut out = Vec::with_capacity(delta.ssz_bytes_len().saturating_add(5));
        out.extend_from_slice(&DELTA_MAGIC);
        out.push(VERSION);
        delta.ssz_append(&mut out);
        Persisted::Delta(out)
    }

    fn persisted_store(&self, with_votes: bool) -> PersistedStore {
        let nodes = self
            .proto_array
            .nodes()
            .iter()
            .map(|n| PersistedNode {
                root: n.root,
                parent_root: n.parent_root,
                slot: n.slot,
                proposer_index: n.proposer_index,
                justified_checkpoint: n.justified_checkpoint,
                finalized_checkpoint: n.finalized_checkpoint,
                unrealized_justified_checkpoint: n.unrealized_justified_checkpoint,
                unrealized_finalized_checkpoint: n.unrealized_finalized_checkpoint,
                execution_status: n.execution_status.to_u8(),
                has_execution_block_hash: n.execution_block_hash.is_some(),
                execution_block_hash: n.execution_block_hash.unwrap_or_default(),
                timely: n.timely,
            })
            .collect();
        PersistedStore {
            time_ms: self.time_ms,
            genesis_time: self.genesis_time,
            justified_checkpoint: self.justified_checkpoint,
            finalized_checkpoint: self.finalized_checkpoint,
            unrealized_justified_checkpoint: self.unrealized_justified_checkpoint,
            unrealized_finalized_checkpoint: self.unrealized_finalized_checkpoint,
            proposer_boost_root: self.proposer_boost_root,
            equivocating_indices: self.votes.equivocating_indices().collect(),
            nodes,
            votes: if with_votes {
                self.votes
                    .persisted_votes()
                    .map(|(epoch, node, has_message)| PersistedVote {
                        epoch,
                        node,
                        has_message,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Rebuilds a store written by [`Self::to_bytes`]. Before the first head computation the
    /// caller supplies the justified balances ([`Self::needs_justified_balances`] says which).
    pub fn from_bytes(config: ForkChoiceConfig, bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes_and_deltas(config, bytes, &[])
    }

    /// Rebuilds a store from its last full record and the deltas written after it, in order.
    pub fn from_bytes_and_deltas(
        config: ForkChoiceConfig,
        full: &[u8],
        deltas: &[Vec<u8>],
    ) -> Result<Self, Error> {
        let mut store: PersistedStore = decode_record(full, MAGIC)?;
        for bytes in deltas {
            let delta: PersistedDelta = decode_record(bytes, DELTA_MAGIC)?;
            let mut votes = std::mem::take(&mut store.votes);
            for change in delta.changes {
                let index = usize::try_from(change.validator_index)
                    .ok()
                    .filter(|i| *i <= crate::votes::MAX_VALIDATOR_INDEX as usize)
                    .ok_or_else(|| decode("delta vote index out of range"))?;
                if index >= votes.len() {
                    votes.resize(
                        index.saturating_add(1),
                        PersistedVote {
                            epoch: 0,
                            node: NO_NODE,
                            has_message: false,
                        },
                    );
                }
                if let Some(vote) = votes.get_mut(index) {
                    *vote = change.vote;
                }
            }
            store = PersistedStore {
                votes,
                ..delta.store
            };
        }
        let deltas_applied = u32::try_from(deltas.len()).unwrap_or(u32::MAX);
        let mut fork_choice = Self::from_persisted_store(config, store)?;
        fork_choice.votes.deltas_since_full = deltas_applied;
        Ok(fork_choice)
    }

    fn from_persisted_store(
        config: ForkChoiceConfig,
        store: PersistedStore,
    ) -> Result<Self, Error> {
        store
            .genesis_time
            .checked_mul(1000)
            .ok_or(InputError::TimeOverflow)?;
        if store.time_ms < store.genesis_time.saturating_mul(1000) {
            return Err(decode("time before genesis"));
        }

        let node_count = store.nodes.len();
        let mut nodes = Vec::with_capacity(node_count);
        let mut seen = std::collections::HashSet::with_capacity(node_count);
        for (i, n) in store.nodes.into_iter().enumerate() {
            let status = ExecutionStatus::from_u8(n.execution_status)
                .ok_or_else(|| decode("bad execution status"))?;
            // Parents precede children: a parent root present later in the list is corrupt.
            if i > 0 && !seen.contains(&n.parent_root) {
                return Err(decode("node without a preceding parent"));
            }
            seen.insert(n.root);
            nodes.push(NewNode {
                root: n.root,
                parent_root: n.parent_root,
                slot: n.slot,
                proposer_index: n.proposer_index,
                justified_checkpoint: n.justified_checkpoint,
                finalized_checkpoint: n.finalized_checkpoint,
                unrealized_justified_checkpoint: n.unrealized_justified_checkpoint,
                unrealized_finalized_checkpoint: n.unrealized_finalized_checkpoint,
                execution_status: status,
                execution_block_hash: n.has_execution_block_hash.then_some(n.execution_block_hash),
                timely: n.timely,
            });
        }
        let finalized = store.finalized_checkpoint;
        let proto_array = ProtoArray::from_persisted(
            nodes,
            finalized,
            config.start_slot_at_epoch(finalized.epoch),
        )?;

        let mut votes = Vec::with_capacity(store.votes.len());
        for v in store.votes {
            if v.node != NO_NODE && v.node as usize >= node_count {
                return Err(decode("vote for an unknown node"));
            }
            votes.push((v.epoch, v.node, v.has_message));
        }
        let equivocating: BTreeSet<u64> = store.equivocating_indices.into_iter().collect();
        let votes = VoteTracker::from_persisted(votes, equivocating);

        ForkChoice::from_parts(
            config,
            store.time_ms,
            store.genesis_time,
            [
                store.justified_checkpoint,
                store.finalized_checkpoint,
                store.unrealized_justified_checkpoint,
                store.unrealized_finalized_checkpoint,
            ],
            store.proposer_boost_root,
            proto_array,
            votes,
        )
    }
}
