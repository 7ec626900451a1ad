//! Electra containers (`specs/electra/beacon-chain.md`, `validator.md`, `light-client/*`).
//!
//! Every container of the Electra spec is reachable from this module: the ones Electra introduces
//! or changes are defined here, the unchanged ones are re-exported. The execution payload and the
//! light-client header are Deneb's; the light-client containers that carry a `BeaconState` branch
//! are redefined because Electra's state is deeper (`FINALIZED_ROOT_GINDEX_ELECTRA` = 169, ...).

use std::sync::Arc;

use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz_derive::{Decode, Encode};
use ssz_types::{BitList, BitVector, FixedVector, VariableList, typenum};
use tree_hash_derive::TreeHash;

pub use crate::deneb::{
    AttestationData, BLSToExecutionChange, BeaconBlockHeader, BlobIdentifier, BlobSidecar,
    BlobSidecarsByRangeRequest, Checkpoint, ContributionAndProof, Deposit, DepositData,
    DepositMessage, ENRForkID, ErrorMessage, Eth1Block, Eth1Data, ExecutionPayload,
    ExecutionPayloadHeader, Fork, ForkData, HistoricalSummary, LightClientHeader,
    LightClientOptimisticUpdate, LightClientUpdatesByRangeRequest, MetaData, PowBlock,
    ProposerSlashing, SignedBLSToExecutionChange, SignedBeaconBlockHeader,
    SignedContributionAndProof, SignedVoluntaryExit, SigningData, Status, SyncAggregate,
    SyncAggregatorSelectionData, SyncCommittee, SyncCommitteeContribution, SyncCommitteeMessage,
    Validator, VoluntaryExit, Withdrawal,
};
pub use crate::deneb::{
    AttestationSubnetCount, BeaconBlocksByRangeRequest, BeaconBlocksByRootRequest, Blob,
    BlobKzgCommitments, DepositProofLength, ExecutionBranch, ExecutionBranchLength, ExtraData,
    JustificationBitsLength, KzgCommitmentInclusionProof, LogsBloom, MaxErrorMessageLength,
    MaxRequestBlocks, MaxRequestBlocksDeneb, MaxRequestLightClientUpdates,
    SyncCommitteeSubnetCount, Transaction, Transactions, VersionedHash, Withdrawals,
};

/// `BitList[MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT]`.
pub type AggregationBits<P> = BitList<<P as Preset>::MaxValidatorsPerSlot>;
/// `List[ValidatorIndex, MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT]`.
pub type AttestingIndices<P> = VariableList<ValidatorIndex, <P as Preset>::MaxValidatorsPerSlot>;
/// `List[DepositRequest, MAX_DEPOSIT_REQUESTS_PER_PAYLOAD]`.
pub type DepositRequests<P> =
    VariableList<DepositRequest, <P as Preset>::MaxDepositRequestsPerPayload>;
/// `List[WithdrawalRequest, MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD]`.
pub type WithdrawalRequests<P> =
    VariableList<WithdrawalRequest, <P as Preset>::MaxWithdrawalRequestsPerPayload>;
/// `List[ConsolidationRequest, MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD]`.
pub type ConsolidationRequests<P> =
    VariableList<ConsolidationRequest, <P as Preset>::MaxConsolidationRequestsPerPayload>;

/// `floorlog2(FINALIZED_ROOT_GINDEX_ELECTRA)` = `floorlog2(169)`.
pub type FinalityBranchLength = typenum::U7;
/// `floorlog2(CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA)` = `floorlog2(86)`.
pub type CurrentSyncCommitteeBranchLength = typenum::U6;
/// `floorlog2(NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA)` = `floorlog2(87)`.
pub type NextSyncCommitteeBranchLength = typenum::U6;
/// Merkle branch of `finalized_checkpoint.root` within `BeaconState` (Electra depth).
pub type FinalityBranch = FixedVector<Bytes32, FinalityBranchLength>;
/// Merkle branch of `current_sync_committee` within `BeaconState` (Electra depth).
pub type CurrentSyncCommitteeBranch = FixedVector<Bytes32, CurrentSyncCommitteeBranchLength>;
/// Merkle branch of `next_sync_committee` within `BeaconState` (Electra depth).
pub type NextSyncCommitteeBranch = FixedVector<Bytes32, NextSyncCommitteeBranchLength>;

// ---- beacon-chain.md ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PendingDeposit {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub amount: Gwei,
    pub signature: BlsSignature,
    pub slot: Slot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PendingPartialWithdrawal {
    pub validator_index: ValidatorIndex,
    pub amount: Gwei,
    pub withdrawable_epoch: Epoch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PendingConsolidation {
    pub source_index: ValidatorIndex,
    pub target_index: ValidatorIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct DepositRequest {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub amount: Gwei,
    pub signature: BlsSignature,
    pub index: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct WithdrawalRequest {
    pub source_address: ExecutionAddress,
    pub validator_pubkey: BlsPubkey,
    pub amount: Gwei,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ConsolidationRequest {
    pub source_address: ExecutionAddress,
    pub source_pubkey: BlsPubkey,
    pub target_pubkey: BlsPubkey,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ExecutionRequests<P: Preset> {
    /// [New in Electra:EIP6110]
    pub deposits: DepositRequests<P>,
    /// [New in Electra:EIP7002:EIP7251]
    pub withdrawals: WithdrawalRequests<P>,
    /// [New in Electra:EIP7251]
    pub consolidations: ConsolidationRequests<P>,
}

/// The attestation a single validator gossips on its subnet (EIP-7549).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SingleAttestation {
    pub committee_index: CommitteeIndex,
    pub attester_index: ValidatorIndex,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct AttesterSlashing<P: Preset> {
    /// Modified in Electra: the Electra `IndexedAttestation`.
    pub attestation_1: IndexedAttestation<P>,
    pub attestation_2: IndexedAttestation<P>,
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
    /// Modified in Electra: `MAX_ATTESTER_SLASHINGS_ELECTRA`.
    pub attester_slashings: VariableList<AttesterSlashing<P>, P::MaxAttesterSlashingsElectra>,
    /// Modified in Electra: `MAX_ATTESTATIONS_ELECTRA`.
    pub attestations: VariableList<Attestation<P>, P::MaxAttestationsElectra>,
    pub deposits: VariableList<Deposit, P::MaxDeposits>,
    pub voluntary_exits: VariableList<SignedVoluntaryExit, P::MaxVoluntaryExits>,
    pub sync_aggregate: SyncAggregate<P>,
    pub execution_payload: ExecutionPayload<P>,
    pub bls_to_execution_changes:
        VariableList<SignedBLSToExecutionChange, P::MaxBlsToExecutionChanges>,
    pub blob_kzg_commitments: BlobKzgCommitments<P>,
    /// New in Electra.
    pub execution_requests: ExecutionRequests<P>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Attestation<P: Preset> {
    /// Modified in Electra (EIP-7549): covers every committee in `committee_bits`.
    pub aggregation_bits: AggregationBits<P>,
    pub data: AttestationData,
    pub signature: BlsSignature,
    /// New in Electra (EIP-7549).
    pub committee_bits: BitVector<P::MaxCommitteesPerSlot>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct IndexedAttestation<P: Preset> {
    /// Modified in Electra (EIP-7549).
    pub attesting_indices: AttestingIndices<P>,
    pub data: AttestationData,
    pub signature: BlsSignature,
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
    // Execution
    pub latest_execution_payload_header: ExecutionPayloadHeader<P>,
    // Withdrawals
    pub next_withdrawal_index: WithdrawalIndex,
    pub next_withdrawal_validator_index: ValidatorIndex,
    // Deep history valid from Capella onwards
    pub historical_summaries: List<HistoricalSummary, P::HistoricalRootsLimit>,
    // New in Electra
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
}

// ---- validator.md ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct AggregateAndProof<P: Preset> {
    pub aggregator_index: ValidatorIndex,
    /// Modified in Electra (EIP-7549).
    pub aggregate: Attestation<P>,
    pub selection_proof: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SignedAggregateAndProof<P: Preset> {
    /// Modified in Electra (EIP-7549).
    pub message: AggregateAndProof<P>,
    pub signature: BlsSignature,
}

// ---- light-client/sync-protocol.md (Electra branch depths) ----

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
