//! The types that flow between the pipeline's stages.
//!
//! Owns: what a message is at each stage — [`RawMessage`] (bytes off the wire), then
//! [`GossipMessage`] (decoded, structurally sound), then verified (added with the verify stage)
//! — the gossip topic grammar ([`GossipTopic`], [`GossipKind`]) and the [`Verdict`] returned to
//! whoever delivered a message. Distinct types per stage mean the core cannot be handed
//! anything that skipped a stage.
//! Must not: do work. Stages live in their own crates.

mod snapshot;
mod topic;

pub use snapshot::{
    ChainEvent, ForkChoiceNode, ForkChoiceView, Head, Snapshot, SnapshotCell, StateEntry,
};
pub use topic::{GossipKind, GossipTopic, TopicError};

use keel_types::phase0::{ProposerSlashing, SignedVoluntaryExit};
use keel_types::{Preset, SignedBeaconBlock, altair, capella, deneb, electra, fulu};
use std::sync::Arc;
use std::time::Instant;

/// The peer a message came from, as the networking layer numbers its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerTag(pub u64);

/// Bytes as they arrived, before any work.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub topic: String,
    /// Snappy-compressed SSZ, as gossipsub carries it.
    pub data: Vec<u8>,
    pub peer: PeerTag,
    pub received_at: Instant,
}

/// A decoded gossip message: its bytes were a valid snappy block within the size limits, and
/// an SSZ value of the topic's type for the topic's fork.
#[derive(Debug, Clone)]
pub enum GossipMessage<P: Preset> {
    Block(Arc<SignedBeaconBlock<P>>),
    Aggregate(Arc<electra::SignedAggregateAndProof<P>>),
    Attestation {
        subnet: u64,
        attestation: Arc<electra::SingleAttestation>,
    },
    VoluntaryExit(Arc<SignedVoluntaryExit>),
    ProposerSlashing(Arc<ProposerSlashing>),
    AttesterSlashing(Arc<electra::AttesterSlashing<P>>),
    SyncContribution(Arc<altair::SignedContributionAndProof<P>>),
    SyncMessage {
        subnet: u64,
        message: Arc<altair::SyncCommitteeMessage>,
    },
    BlsToExecutionChange(Arc<capella::SignedBLSToExecutionChange>),
    BlobSidecar {
        subnet: u64,
        sidecar: Arc<deneb::BlobSidecar<P>>,
    },
    DataColumnSidecar {
        subnet: u64,
        sidecar: Arc<fulu::DataColumnSidecar<P>>,
    },
}

impl<P: Preset> GossipMessage<P> {
    pub fn kind(&self) -> GossipKind {
        match self {
            GossipMessage::Block(_) => GossipKind::BeaconBlock,
            GossipMessage::Aggregate(_) => GossipKind::BeaconAggregateAndProof,
            GossipMessage::Attestation { subnet, .. } => GossipKind::BeaconAttestation(*subnet),
            GossipMessage::VoluntaryExit(_) => GossipKind::VoluntaryExit,
            GossipMessage::ProposerSlashing(_) => GossipKind::ProposerSlashing,
            GossipMessage::AttesterSlashing(_) => GossipKind::AttesterSlashing,
            GossipMessage::SyncContribution(_) => GossipKind::SyncCommitteeContributionAndProof,
            GossipMessage::SyncMessage { subnet, .. } => GossipKind::SyncCommittee(*subnet),
            GossipMessage::BlsToExecutionChange(_) => GossipKind::BlsToExecutionChange,
            GossipMessage::BlobSidecar { subnet, .. } => GossipKind::BlobSidecar(*subnet),
            GossipMessage::DataColumnSidecar { subnet, .. } => {
                GossipKind::DataColumnSidecar(*subnet)
            }
        }
    }
}

/// A decoded message with where it came from and its gossip message-id.
#[derive(Debug, Clone)]
pub struct Decoded<P: Preset> {
    pub message: GossipMessage<P>,
    pub message_id: [u8; 20],
    pub peer: PeerTag,
    pub received_at: Instant,
}

/// What the pipeline tells gossipsub (and the peer scorer) about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: forward it.
    Accept,
    /// Not forwarded, no penalty (duplicate, too early, unknown parent, ...).
    Ignore(String),
    /// Invalid: not forwarded, and the sender is penalised.
    Reject(String),
}

/// The execution engine's verdict on a block's payload, as the core receives it with the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadStatus {
    /// `VALID`.
    Valid,
    /// `SYNCING` or `ACCEPTED`: imported optimistically, to be confirmed or invalidated later.
    Optimistic,
    /// `INVALID` / `INVALID_BLOCK_HASH`, with the engine's `latestValidHash` when it gave one.
    Invalid {
        latest_valid_hash: Option<keel_types::Hash256>,
    },
}
