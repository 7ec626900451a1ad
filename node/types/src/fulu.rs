//! Fulu containers (`specs/fulu/beacon-chain.md`, `das-core.md`, `p2p-interface.md`,
//! `partial-columns/p2p-interface.md`).
//!
//! Every container of the Fulu spec is reachable from this module: the ones Fulu introduces or
//! changes are defined here, the unchanged ones are re-exported (blocks, attestations, payloads and
//! the light-client containers are Electra's). `BlobSidecar` and `BlobIdentifier` are gone (the
//! spec deprecates them in Fulu; data columns replace blob sidecars).

use std::sync::Arc;

use crate::bytes::ByteVector;
use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz_derive::{Decode, Encode};
use ssz_types::{BitList, BitVector, FixedVector, VariableList, typenum};
use tree_hash_derive::TreeHash;

pub use crate::electra::{
    AggregateAndProof, Attestation, AttestationData, AttesterSlashing, BLSToExecutionChange,
    BeaconBlock, BeaconBlockBody, BeaconBlockHeader, Checkpoint, ConsolidationRequest,
    ContributionAndProof, Deposit, DepositData, DepositMessage, DepositRequest, ENRForkID,
    ErrorMessage, Eth1Block, Eth1Data, ExecutionPayload, ExecutionPayloadHeader, ExecutionRequests,
    Fork, ForkData, HistoricalSummary, IndexedAttestation, LightClientBootstrap,
    LightClientFinalityUpdate, LightClientHeader, LightClientOptimisticUpdate, LightClientUpdate,
    LightClientUpdatesByRangeRequest, PendingConsolidation, PendingDeposit,
    PendingPartialWithdrawal, PowBlock, ProposerSlashing, SignedAggregateAndProof,
    SignedBLSToExecutionChange, SignedBeaconBlock, SignedBeaconBlockHeader,
    SignedContributionAndProof, SignedVoluntaryExit, SigningData, SingleAttestation, Status,
    SyncAggregate, SyncAggregatorSelectionData, SyncCommittee, SyncCommitteeContribution,
    SyncCommitteeMessage, Validator, VoluntaryExit, Withdrawal, WithdrawalRequest,
};
pub use crate::electra::{
    AggregationBits, AttestationSubnetCount, AttestingIndices, BeaconBlocksByRangeRequest,
    BeaconBlocksByRootRequest, Blob, BlobKzgCommitments, ConsolidationRequests,
    CurrentSyncCommitteeBranch, CurrentSyncCommitteeBranchLength, DepositProofLength,
    DepositRequests, ExecutionBranch, ExecutionBranchLength, ExtraData, FinalityBranch,
    FinalityBranchLength, JustificationBitsLength, LogsBloom, MaxErrorMessageLength,
    MaxRequestBlocks, MaxRequestBlocksDeneb, MaxRequestLightClientUpdates, NextSyncCommitteeBranch,
    NextSyncCommitteeBranchLength, SyncCommitteeSubnetCount, Transaction, Transactions,
    VersionedHash, WithdrawalRequests, Withdrawals,
};

/// `ByteVector[BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_CELL]`.
pub type Cell<P> = ByteVector<<P as Preset>::BytesPerCell>;
/// `List[Cell, MAX_BLOB_COMMITMENTS_PER_BLOCK]`: one column of the extended blob matrix.
pub type DataColumn<P> = VariableList<Cell<P>, <P as Preset>::MaxBlobCommitmentsPerBlock>;
/// `List[KZGProof, MAX_BLOB_COMMITMENTS_PER_BLOCK]`.
pub type KzgProofs<P> = VariableList<KzgProof, <P as Preset>::MaxBlobCommitmentsPerBlock>;
/// `Vector[Bytes32, KZG_COMMITMENTS_INCLUSION_PROOF_DEPTH]`.
pub type KzgCommitmentsInclusionProof<P> =
    FixedVector<Bytes32, <P as Preset>::KzgCommitmentsInclusionProofDepth>;
/// `List[ColumnIndex, NUMBER_OF_COLUMNS]`.
pub type ColumnIndices<P> = VariableList<ColumnIndex, <P as Preset>::NumberOfColumns>;
/// `DataColumnSidecarsByRoot v1` request: `List[DataColumnsByRootIdentifier, MAX_REQUEST_BLOCKS_DENEB]`.
pub type DataColumnSidecarsByRootRequest<P> =
    VariableList<DataColumnsByRootIdentifier<P>, MaxRequestBlocksDeneb>;

// ---- beacon-chain.md ----

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
    // Execution
    pub latest_execution_payload_header: ExecutionPayloadHeader<P>,
    // Withdrawals
    pub next_withdrawal_index: WithdrawalIndex,
    pub next_withdrawal_validator_index: ValidatorIndex,
    // Deep history valid from Capella onwards
    pub historical_summaries: List<HistoricalSummary, P::HistoricalRootsLimit>,
    // Electra
    pub deposit_requests_start_index: u64,
    pub deposit_balance_to_consume: Gwei,
    pub exit_balance_to_consume: Gwei,
    pub earliest_exit_epoch: Epoch,
    pub consolidation_balance_to_consume: Gwei,
    pub earliest_consolidation_epoch: Epoch,
    pub pending_deposits: List<PendingDeposit, P::PendingDepositsLimit>,
    pub pending_partial_withdrawals:
        List<PendingPartialWithdrawal, P::PendingPartialWithdrawalsLimit>,
    pub pending_consolidations: List<PendingConsolidation, P::PendingConsolidationsLimit>,
    /// New in Fulu (EIP-7917): `Vector[ValidatorIndex, (MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH]`.
    pub proposer_lookahead: Vector<ValidatorIndex, P::ProposerLookaheadSlots>,
}

// ---- das-core.md ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct DataColumnSidecar<P: Preset> {
    pub index: ColumnIndex,
    pub column: DataColumn<P>,
    pub kzg_commitments: BlobKzgCommitments<P>,
    pub kzg_proofs: KzgProofs<P>,
    pub signed_block_header: SignedBeaconBlockHeader,
    pub kzg_commitments_inclusion_proof: KzgCommitmentsInclusionProof<P>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct MatrixEntry<P: Preset> {
    pub cell: Cell<P>,
    pub kzg_proof: KzgProof,
    pub column_index: ColumnIndex,
    pub row_index: RowIndex,
}

// ---- p2p-interface.md ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct DataColumnsByRootIdentifier<P: Preset> {
    pub block_root: Root,
    pub columns: ColumnIndices<P>,
}

/// `MetaData` v3: adds the custody group count.
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
    /// `cgc`.
    pub custody_group_count: u64,
}

/// `Status v2`: adds the earliest slot the node can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct StatusV2 {
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub fork_digest: ForkDigest,
    pub finalized_root: Root,
    pub finalized_epoch: Epoch,
    pub head_root: Root,
    pub head_slot: Slot,
    /// New in Fulu (EIP-7594).
    pub earliest_available_slot: Slot,
}

/// `DataColumnSidecarsByRange v1` request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct DataColumnSidecarsByRangeRequest<P: Preset> {
    pub start_slot: Slot,
    pub count: u64,
    pub columns: ColumnIndices<P>,
}

/// `BeaconBlocksByHead v1` request (new in Fulu): `count` blocks along the ancestry of
/// `beacon_root`, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BeaconBlocksByHeadRequest {
    pub beacon_root: Root,
    pub count: u64,
}

// ---- partial-columns/p2p-interface.md ----

/// A `DataColumnSidecar` carrying only the cells (and proofs) flagged in `cells_present_bitmap`.
/// The column index comes from the gossipsub topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PartialDataColumnSidecar<P: Preset> {
    pub cells_present_bitmap: BitList<P::MaxBlobCommitmentsPerBlock>,
    pub partial_column: DataColumn<P>,
    pub kzg_proofs: KzgProofs<P>,
    /// Optional header, only sent on eager pushes.
    pub header: VariableList<PartialDataColumnHeader<P>, typenum::U1>,
}

/// Cells a peer has (`available`) and wants (`requests`), one bit per blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PartialDataColumnPartsMetadata<P: Preset> {
    pub available: BitList<P::MaxBlobCommitmentsPerBlock>,
    pub requests: BitList<P::MaxBlobCommitmentsPerBlock>,
}

/// The part of a column sidecar common to all columns of a block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PartialDataColumnHeader<P: Preset> {
    pub kzg_commitments: BlobKzgCommitments<P>,
    pub signed_block_header: SignedBeaconBlockHeader,
    pub kzg_commitments_inclusion_proof: KzgCommitmentsInclusionProof<P>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PartialDataColumnGroupID {
    pub beacon_block_root: Root,
}
