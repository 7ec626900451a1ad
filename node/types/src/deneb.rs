//! Deneb containers (`specs/deneb/beacon-chain.md`, `p2p-interface.md`, `light-client/*`).
//!
//! Every container of the Deneb spec is reachable from this module: the ones Deneb introduces or
//! changes are defined here, the unchanged ones are re-exported. The light-client containers have
//! the Capella shape but carry Deneb's `ExecutionPayloadHeader`.

use std::sync::Arc;

use crate::bytes::ByteVector;
use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz_derive::{Decode, Encode};
use ssz_types::{BitVector, FixedVector, VariableList, typenum};
use tree_hash_derive::TreeHash;

pub use crate::capella::{
    AggregateAndProof, Attestation, AttestationData, AttesterSlashing, BLSToExecutionChange,
    BeaconBlockHeader, Checkpoint, ContributionAndProof, Deposit, DepositData, DepositMessage,
    ENRForkID, ErrorMessage, Eth1Block, Eth1Data, Fork, ForkData, HistoricalSummary,
    IndexedAttestation, LightClientUpdatesByRangeRequest, MetaData, PowBlock, ProposerSlashing,
    SignedAggregateAndProof, SignedBLSToExecutionChange, SignedBeaconBlockHeader,
    SignedContributionAndProof, SignedVoluntaryExit, SigningData, Status, SyncAggregate,
    SyncAggregatorSelectionData, SyncCommittee, SyncCommitteeContribution, SyncCommitteeMessage,
    Validator, VoluntaryExit, Withdrawal,
};
pub use crate::capella::{
    AttestationSubnetCount, BeaconBlocksByRangeRequest, CurrentSyncCommitteeBranch,
    CurrentSyncCommitteeBranchLength, DepositProofLength, ExecutionBranch, ExecutionBranchLength,
    ExtraData, FinalityBranch, FinalityBranchLength, JustificationBitsLength, LogsBloom,
    MaxErrorMessageLength, MaxRequestBlocks, MaxRequestLightClientUpdates, NextSyncCommitteeBranch,
    NextSyncCommitteeBranchLength, SyncCommitteeSubnetCount, Transaction, Transactions,
    Withdrawals,
};

/// `ByteVector[BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_BLOB]`.
pub type Blob<P> = ByteVector<<P as Preset>::BytesPerBlob>;
/// `Bytes32`: a versioned hash of a KZG commitment.
pub type VersionedHash = Hash256;
/// `List[KZGCommitment, MAX_BLOB_COMMITMENTS_PER_BLOCK]`.
pub type BlobKzgCommitments<P> =
    VariableList<KzgCommitment, <P as Preset>::MaxBlobCommitmentsPerBlock>;
/// `Vector[Bytes32, KZG_COMMITMENT_INCLUSION_PROOF_DEPTH]`.
pub type KzgCommitmentInclusionProof<P> =
    FixedVector<Bytes32, <P as Preset>::KzgCommitmentInclusionProofDepth>;
/// `MAX_REQUEST_BLOCKS_DENEB` (config value, 128 on every known network).
pub type MaxRequestBlocksDeneb = typenum::U128;
/// `BeaconBlocksByRoot v2` request from Deneb on: `List[Root, MAX_REQUEST_BLOCKS_DENEB]`.
pub type BeaconBlocksByRootRequest = VariableList<Root, MaxRequestBlocksDeneb>;

// ---- beacon-chain.md ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ExecutionPayload<P: Preset> {
    // Execution block header fields
    pub parent_hash: Hash32,
    pub fee_recipient: ExecutionAddress,
    pub state_root: Bytes32,
    pub receipts_root: Bytes32,
    pub logs_bloom: LogsBloom<P>,
    pub prev_randao: Bytes32,
    pub block_number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub timestamp: u64,
    pub extra_data: ExtraData<P>,
    #[cfg_attr(feature = "serde", serde(with = "crate::json::uint256_decimal"))]
    pub base_fee_per_gas: Uint256,
    // Extra payload fields
    pub block_hash: Hash32,
    pub transactions: Transactions<P>,
    pub withdrawals: Withdrawals<P>,
    /// New in Deneb.
    pub blob_gas_used: u64,
    /// New in Deneb.
    pub excess_blob_gas: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ExecutionPayloadHeader<P: Preset> {
    // Execution block header fields
    pub parent_hash: Hash32,
    pub fee_recipient: ExecutionAddress,
    pub state_root: Bytes32,
    pub receipts_root: Bytes32,
    pub logs_bloom: LogsBloom<P>,
    pub prev_randao: Bytes32,
    pub block_number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub timestamp: u64,
    pub extra_data: ExtraData<P>,
    #[cfg_attr(feature = "serde", serde(with = "crate::json::uint256_decimal"))]
    pub base_fee_per_gas: Uint256,
    // Extra payload fields
    pub block_hash: Hash32,
    pub transactions_root: Root,
    pub withdrawals_root: Root,
    /// New in Deneb.
    pub blob_gas_used: u64,
    /// New in Deneb.
    pub excess_blob_gas: u64,
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
    pub sync_aggregate: SyncAggregate<P>,
    pub execution_payload: ExecutionPayload<P>,
    pub bls_to_execution_changes:
        VariableList<SignedBLSToExecutionChange, P::MaxBlsToExecutionChanges>,
    /// New in Deneb.
    pub blob_kzg_commitments: BlobKzgCommitments<P>,
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
    // Participation
    pub previous_epoch_participation: List<ParticipationFlags, P::ValidatorRegistryLimit>,
    pub current_epoch_participation: List<ParticipationFlags, P::ValidatorRegistryLimit>,
    // Finality
    pub justification_bits: BitVector<JustificationBitsLength>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
    // Inactivity
    pub inactivity_scores: List<u64, P::ValidatorRegistryLimit>,
    // Sync
    pub current_sync_committee: Arc<SyncCommittee<P>>,
    pub next_sync_committee: Arc<SyncCommittee<P>>,
    // Execution (modified in Deneb: the header type)
    pub latest_execution_payload_header: ExecutionPayloadHeader<P>,
    // Withdrawals
    pub next_withdrawal_index: WithdrawalIndex,
    pub next_withdrawal_validator_index: ValidatorIndex,
    // Deep history valid from Capella onwards
    pub historical_summaries: List<HistoricalSummary, P::HistoricalRootsLimit>,
}

// ---- p2p-interface.md ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BlobSidecar<P: Preset> {
    /// Index of the blob in the block.
    pub index: BlobIndex,
    pub blob: Blob<P>,
    pub kzg_commitment: KzgCommitment,
    pub kzg_proof: KzgProof,
    pub signed_block_header: SignedBeaconBlockHeader,
    pub kzg_commitment_inclusion_proof: KzgCommitmentInclusionProof<P>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BlobIdentifier {
    pub block_root: Root,
    pub index: BlobIndex,
}

/// `BlobSidecarsByRange v1` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BlobSidecarsByRangeRequest {
    pub start_slot: Slot,
    pub count: u64,
}

// ---- light-client/sync-protocol.md (Capella shapes over Deneb's execution header) ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientHeader<P: Preset> {
    pub beacon: BeaconBlockHeader,
    pub execution: ExecutionPayloadHeader<P>,
    pub execution_branch: ExecutionBranch,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientBootstrap<P: Preset> {
    pub header: LightClientHeader<P>,
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
    pub attested_header: LightClientHeader<P>,
    pub next_sync_committee: SyncCommittee<P>,
    pub next_sync_committee_branch: NextSyncCommitteeBranch,
    pub finalized_header: LightClientHeader<P>,
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
pub struct LightClientFinalityUpdate<P: Preset> {
    pub attested_header: LightClientHeader<P>,
    pub finalized_header: LightClientHeader<P>,
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
    pub attested_header: LightClientHeader<P>,
    pub sync_aggregate: SyncAggregate<P>,
    pub signature_slot: Slot,
}
