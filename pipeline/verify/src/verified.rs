//! The verify stage's outputs. Their fields are private and they are only constructed in this
//! crate, after the gossip rules and the signatures passed: whatever the core receives has been
//! through the stage.

use keel_types::electra::{Attestation, AttestationData, SignedBeaconBlock};
use keel_types::fulu::{DataColumnSidecar, PartialDataColumnHeader, PartialDataColumnSidecar};
use keel_types::{Hash256, Preset, ValidatorIndex};
use std::sync::Arc;
use std::time::Instant;

/// A block whose gossip rules and proposer signature passed.
#[derive(Debug, Clone)]
pub struct VerifiedBlock<P: Preset> {
    pub(crate) block: Arc<SignedBeaconBlock<P>>,
    pub(crate) root: Hash256,
    pub(crate) received_at: Instant,
}

impl<P: Preset> VerifiedBlock<P> {
    pub fn block(&self) -> &Arc<SignedBeaconBlock<P>> {
        &self.block
    }

    /// `hash_tree_root(block.message)`.
    pub fn root(&self) -> Hash256 {
        self.root
    }

    pub fn received_at(&self) -> Instant {
        self.received_at
    }
}

/// Where a verified attestation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationOrigin {
    /// A `SingleAttestation` from a `beacon_attestation_{subnet}` topic.
    Single,
    /// The aggregate of a `SignedAggregateAndProof`.
    Aggregate,
}

/// An attestation whose gossip rules and signatures passed, in the on-chain (aggregate) form
/// the operation pool and block production use, with its attesting indices resolved.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation<P: Preset> {
    pub(crate) attestation: Arc<Attestation<P>>,
    pub(crate) attesting_indices: Vec<ValidatorIndex>,
    pub(crate) committee_index: u64,
    pub(crate) origin: AttestationOrigin,
    pub(crate) received_at: Instant,
    /// The signature as decoded (and subgroup-checked) for verification, so that the core
    /// does not decompress it a second time.
    pub(crate) signature: keel_crypto::bls::Signature,
}

impl<P: Preset> VerifiedAttestation<P> {
    pub fn signature(&self) -> &keel_crypto::bls::Signature {
        &self.signature
    }

    pub fn attestation(&self) -> &Arc<Attestation<P>> {
        &self.attestation
    }

    pub fn data(&self) -> &AttestationData {
        &self.attestation.data
    }

    /// Sorted.
    pub fn attesting_indices(&self) -> &[ValidatorIndex] {
        &self.attesting_indices
    }

    /// The one committee this attestation's bits cover (gossip attestations cover exactly one).
    pub fn committee_index(&self) -> u64 {
        self.committee_index
    }

    pub fn origin(&self) -> AttestationOrigin {
        self.origin
    }

    pub fn received_at(&self) -> Instant {
        self.received_at
    }
}

/// A sync committee message whose gossip rules and signature passed, with the positions in the
/// sync committee it speaks for on its subnet.
#[derive(Debug, Clone)]
pub struct VerifiedSyncMessage {
    pub(crate) message: keel_types::altair::SyncCommitteeMessage,
    pub(crate) positions: Vec<usize>,
    pub(crate) received_at: Instant,
}

impl VerifiedSyncMessage {
    pub fn message(&self) -> &keel_types::altair::SyncCommitteeMessage {
        &self.message
    }

    /// Indices into the sync committee (`SYNC_COMMITTEE_SIZE` positions).
    pub fn positions(&self) -> &[usize] {
        &self.positions
    }

    pub fn received_at(&self) -> Instant {
        self.received_at
    }
}

/// A voluntary exit whose gossip rules and signature passed (against the head state).
#[derive(Debug, Clone)]
pub struct VerifiedVoluntaryExit {
    pub(crate) exit: keel_types::electra::SignedVoluntaryExit,
}

impl VerifiedVoluntaryExit {
    pub fn exit(&self) -> &keel_types::electra::SignedVoluntaryExit {
        &self.exit
    }
}

/// A proposer slashing whose gossip rules and both header signatures passed.
#[derive(Debug, Clone)]
pub struct VerifiedProposerSlashing {
    pub(crate) slashing: keel_types::electra::ProposerSlashing,
}

impl VerifiedProposerSlashing {
    pub fn slashing(&self) -> &keel_types::electra::ProposerSlashing {
        &self.slashing
    }
}

/// A BLS-to-execution change whose gossip rules and signature passed.
#[derive(Debug, Clone)]
pub struct VerifiedBlsToExecutionChange {
    pub(crate) change: keel_types::electra::SignedBLSToExecutionChange,
}

impl VerifiedBlsToExecutionChange {
    pub fn change(&self) -> &keel_types::electra::SignedBLSToExecutionChange {
        &self.change
    }
}

/// An attester slashing whose gossip rules and both attestations' signatures passed.
#[derive(Debug, Clone)]
pub struct VerifiedAttesterSlashing<P: Preset> {
    pub(crate) slashing: Arc<keel_types::electra::AttesterSlashing<P>>,
}

impl<P: Preset> VerifiedAttesterSlashing<P> {
    pub fn slashing(&self) -> &Arc<keel_types::electra::AttesterSlashing<P>> {
        &self.slashing
    }
}

/// A sync committee contribution whose gossip rules and three signatures passed.
#[derive(Debug, Clone)]
pub struct VerifiedContribution<P: Preset> {
    pub(crate) contribution: Arc<keel_types::altair::SignedContributionAndProof<P>>,
}

impl<P: Preset> VerifiedContribution<P> {
    pub fn contribution(&self) -> &Arc<keel_types::altair::SignedContributionAndProof<P>> {
        &self.contribution
    }
}

/// A data column sidecar whose gossip rules (structure, inclusion proof, KZG cell proofs,
/// proposer) and header signature passed.
#[derive(Debug, Clone)]
pub struct VerifiedDataColumnSidecar<P: Preset> {
    pub(crate) sidecar: Arc<DataColumnSidecar<P>>,
    /// `hash_tree_root(sidecar.signed_block_header.message)`: the block it belongs to.
    pub(crate) block_root: Hash256,
    pub(crate) received_at: Instant,
}

impl<P: Preset> VerifiedDataColumnSidecar<P> {
    pub fn sidecar(&self) -> &Arc<DataColumnSidecar<P>> {
        &self.sidecar
    }

    pub fn block_root(&self) -> Hash256 {
        self.block_root
    }

    pub fn received_at(&self) -> Instant {
        self.received_at
    }
}

/// A blob sidecar (Electra) whose gossip rules, inclusion proof, KZG proof and header
/// signature passed.
#[derive(Debug, Clone)]
pub struct VerifiedBlobSidecar<P: Preset> {
    pub(crate) sidecar: Arc<keel_types::deneb::BlobSidecar<P>>,
    /// `hash_tree_root(sidecar.signed_block_header.message)`: the block it belongs to.
    pub(crate) block_root: Hash256,
    pub(crate) received_at: Instant,
}

impl<P: Preset> VerifiedBlobSidecar<P> {
    pub fn sidecar(&self) -> &Arc<keel_types::deneb::BlobSidecar<P>> {
        &self.sidecar
    }

    pub fn block_root(&self) -> Hash256 {
        self.block_root
    }

    pub fn received_at(&self) -> Instant {
        self.received_at
    }
}

/// A partial data column sidecar whose gossip rules passed: its header (if it carried one) is
/// valid and signed, and its cells (if any) match the commitments of `header`.
#[derive(Debug, Clone)]
pub struct VerifiedPartialDataColumnSidecar<P: Preset> {
    pub(crate) sidecar: Arc<PartialDataColumnSidecar<P>>,
    /// The group's block root (`PartialDataColumnGroupID.beacon_block_root`).
    pub(crate) block_root: Hash256,
    pub(crate) column_index: u64,
    /// The validated header the cells were checked against (the message's own, or the one
    /// validated earlier for this block).
    pub(crate) header: Option<Arc<PartialDataColumnHeader<P>>>,
    pub(crate) received_at: Instant,
}

impl<P: Preset> VerifiedPartialDataColumnSidecar<P> {
    pub fn sidecar(&self) -> &Arc<PartialDataColumnSidecar<P>> {
        &self.sidecar
    }

    pub fn block_root(&self) -> Hash256 {
        self.block_root
    }

    pub fn column_index(&self) -> u64 {
        self.column_index
    }

    pub fn header(&self) -> Option<&Arc<PartialDataColumnHeader<P>>> {
        self.header.as_ref()
    }

    pub fn received_at(&self) -> Instant {
        self.received_at
    }
}
