//! Altair containers (`specs/altair/beacon-chain.md`, `validator.md`, `p2p-interface.md`,
//! `light-client/sync-protocol.md`, `light-client/p2p-interface.md`).
//!
//! Every container of the Altair spec is reachable from this module: the ones Altair introduces or
//! changes are defined here, the unchanged phase0 ones are re-exported. `PendingAttestation` is
//! gone (the spec deprecates it in Altair).

use std::sync::Arc;

use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz_derive::{Decode, Encode};
use ssz_types::{BitVector, FixedVector, VariableList, typenum};
use tree_hash_derive::TreeHash;

pub use crate::phase0::{
    AggregateAndProof, Attestation, AttestationData, AttesterSlashing, BeaconBlockHeader,
    BeaconBlocksByRangeRequest, BeaconBlocksByRootRequest, Checkpoint, Deposit, DepositData,
    DepositMessage, ENRForkID, ErrorMessage, Eth1Block, Eth1Data, Fork, ForkData, HistoricalBatch,
    IndexedAttestation, ProposerSlashing, SignedAggregateAndProof, SignedBeaconBlockHeader,
    SignedVoluntaryExit, SigningData, Status, Validator, VoluntaryExit,
};
pub use crate::phase0::{
    AttestationSubnetCount, DepositProofLength, JustificationBitsLength, MaxErrorMessageLength,
    MaxRequestBlocks,
};

/// `SYNC_COMMITTEE_SUBNET_COUNT` (a spec constant).
pub type SyncCommitteeSubnetCount = typenum::U4;
/// `MAX_REQUEST_LIGHT_CLIENT_UPDATES` (a spec constant).
pub type MaxRequestLightClientUpdates = typenum::U128;
/// `floorlog2(FINALIZED_ROOT_GINDEX)` = `floorlog2(105)`.
pub type FinalityBranchLength = typenum::U6;
/// `floorlog2(CURRENT_SYNC_COMMITTEE_GINDEX)` = `floorlog2(54)`.
pub type CurrentSyncCommitteeBranchLength = typenum::U5;
/// `floorlog2(NEXT_SYNC_COMMITTEE_GINDEX)` = `floorlog2(55)`.
pub type NextSyncCommitteeBranchLength = typenum::U5;

/// Merkle branch of `finalized_checkpoint.root` within `BeaconState`.
pub type FinalityBranch = FixedVector<Bytes32, FinalityBranchLength>;
/// Merkle branch of `current_sync_committee` within `BeaconState`.
pub type CurrentSyncCommitteeBranch = FixedVector<Bytes32, CurrentSyncCommitteeBranchLength>;
/// Merkle branch of `next_sync_committee` within `BeaconState`.
pub type NextSyncCommitteeBranch = FixedVector<Bytes32, NextSyncCommitteeBranchLength>;

// ---- beacon-chain.md ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SyncAggregate<P: Preset> {
    pub sync_committee_bits: BitVector<P::SyncCommitteeSize>,
    pub sync_committee_signature: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SyncCommittee<P: Preset> {
    pub pubkeys: FixedVector<BlsPubkey, P::SyncCommitteeSize>,
    pub aggregate_pubkey: BlsPubkey,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BeaconBlockBody<P: Preset> {
    pub randao_reveal: BlsSignature,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: VariableList<ProposerSlashing, P::MaxProposerSlashings>,
    pub attester_slashings: VariableList<AttesterSlashing<P>, P::MaxAttesterSlashings>,
    pub attestations: VariableList<Attestation<P>, P::MaxAttestations>,
    pub deposits: VariableList<Deposit, P::MaxDeposits>,
    pub voluntary_exits: VariableList<SignedVoluntaryExit, P::MaxVoluntaryExits>,
    /// New in Altair.
    pub sync_aggregate: SyncAggregate<P>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BeaconBlock<P: Preset> {
    pub slot: Slot,
    pub proposer_index: ValidatorIndex,
    pub parent_root: Root,
    pub state_root: Root,
    pub body: BeaconBlockBody<P>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SignedBeaconBlock<P: Preset> {
    pub message: BeaconBlock<P>,
    pub signature: BlsSignature,
}

/// The sync committees sit behind `Arc`s: they change once per period, and a state copy should not
/// copy `SYNC_COMMITTEE_SIZE` public keys twice.
#[derive(Debug, Clone, PartialEq, Default, Encode, Decode, TreeHash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(bound = ""))]
pub struct BeaconState<P: Preset> {
    // Versioning
    pub genesis_time: u64,
    pub genesis_validators_root: Root,
    pub slot: Slot,
    pub fork: Fork,
    // History
    pub latest_block_header: BeaconBlockHeader,
    pub block_roots: Vector<Root, P::SlotsPerHistoricalRoot>,
    pub state_roots: Vector<Root, P::SlotsPerHistoricalRoot>,
    pub historical_roots: List<Root, P::HistoricalRootsLimit>,
    // Eth1
    pub eth1_data: Eth1Data,
    pub eth1_data_votes: List<Eth1Data, P::SlotsPerEth1VotingPeriod>,
    pub eth1_deposit_index: u64,
    // Registry
    pub validators: List<Validator, P::ValidatorRegistryLimit>,
    pub balances: List<Gwei, P::ValidatorRegistryLimit>,
    // Randomness
    pub randao_mixes: Vector<Bytes32, P::EpochsPerHistoricalVector>,
    // Slashings
    pub slashings: Vector<Gwei, P::EpochsPerSlashingsVector>,
    // Participation (modified in Altair)
    pub previous_epoch_participation: List<ParticipationFlags, P::ValidatorRegistryLimit>,
    pub current_epoch_participation: List<ParticipationFlags, P::ValidatorRegistryLimit>,
    // Finality
    pub justification_bits: BitVector<JustificationBitsLength>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    // Inactivity (new in Altair)
    pub inactivity_scores: List<u64, P::ValidatorRegistryLimit>,
    // Sync (new in Altair)
    pub current_sync_committee: Arc<SyncCommittee<P>>,
    pub next_sync_committee: Arc<SyncCommittee<P>>,
}

// ---- validator.md ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SyncCommitteeMessage {
    pub slot: Slot,
    pub beacon_block_root: Root,
    pub validator_index: ValidatorIndex,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SyncCommitteeContribution<P: Preset> {
    pub slot: Slot,
    pub beacon_block_root: Root,
    pub subcommittee_index: u64,
    /// `BitVector[SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT]`.
    pub aggregation_bits: BitVector<P::SyncSubcommitteeSize>,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ContributionAndProof<P: Preset> {
    pub aggregator_index: ValidatorIndex,
    pub contribution: SyncCommitteeContribution<P>,
    pub selection_proof: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SignedContributionAndProof<P: Preset> {
    pub message: ContributionAndProof<P>,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SyncAggregatorSelectionData {
    pub slot: Slot,
    pub subcommittee_index: u64,
}

// ---- p2p-interface.md ----

/// `MetaData` v2: adds `syncnets`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct MetaData {
    pub seq_number: u64,
    pub attnets: BitVector<AttestationSubnetCount>,
    pub syncnets: BitVector<SyncCommitteeSubnetCount>,
}

// ---- light-client/sync-protocol.md ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientHeader {
    pub beacon: BeaconBlockHeader,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientBootstrap<P: Preset> {
    /// Header matching the requested beacon block root.
    pub header: LightClientHeader,
    /// Current sync committee corresponding to `header.beacon.state_root`.
    pub current_sync_committee: SyncCommittee<P>,
    pub current_sync_committee_branch: CurrentSyncCommitteeBranch,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientUpdate<P: Preset> {
    /// Header attested to by the sync committee.
    pub attested_header: LightClientHeader,
    /// Next sync committee corresponding to `attested_header.beacon.state_root`.
    pub next_sync_committee: SyncCommittee<P>,
    pub next_sync_committee_branch: NextSyncCommitteeBranch,
    /// Finalized header corresponding to `attested_header.beacon.state_root`.
    pub finalized_header: LightClientHeader,
    pub finality_branch: FinalityBranch,
    /// Sync committee aggregate signature.
    pub sync_aggregate: SyncAggregate<P>,
    /// Slot at which the aggregate signature was created (untrusted).
    pub signature_slot: Slot,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientFinalityUpdate<P: Preset> {
    pub attested_header: LightClientHeader,
    pub finalized_header: LightClientHeader,
    pub finality_branch: FinalityBranch,
    pub sync_aggregate: SyncAggregate<P>,
    pub signature_slot: Slot,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientOptimisticUpdate<P: Preset> {
    pub attested_header: LightClientHeader,
    pub sync_aggregate: SyncAggregate<P>,
    pub signature_slot: Slot,
}

// ---- light-client/p2p-interface.md ----

/// `LightClientUpdatesByRange v1` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientUpdatesByRangeRequest {
    pub start_period: u64,
    pub count: u64,
}
