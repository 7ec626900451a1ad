//! Capella containers (`specs/capella/beacon-chain.md`, `light-client/sync-protocol.md`).
//!
//! Every container of the Capella spec is reachable from this module: the ones Capella introduces
//! or changes are defined here, the unchanged ones are re-exported. `HistoricalBatch` is gone (the
//! spec deprecates it in Capella in favour of `HistoricalSummary`).

use std::sync::Arc;

use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz_derive::{Decode, Encode};
use ssz_types::{BitVector, FixedVector, VariableList, typenum};
use tree_hash_derive::TreeHash;

pub use crate::bellatrix::{
    AggregateAndProof, Attestation, AttestationData, AttesterSlashing, BeaconBlockHeader,
    BeaconBlocksByRangeRequest, BeaconBlocksByRootRequest, Checkpoint, ContributionAndProof,
    Deposit, DepositData, DepositMessage, ENRForkID, ErrorMessage, Eth1Block, Eth1Data, Fork,
    ForkData, IndexedAttestation, LightClientUpdatesByRangeRequest, MetaData, PowBlock,
    ProposerSlashing, SignedAggregateAndProof, SignedBeaconBlockHeader, SignedContributionAndProof,
    SignedVoluntaryExit, SigningData, Status, SyncAggregate, SyncAggregatorSelectionData,
    SyncCommittee, SyncCommitteeContribution, SyncCommitteeMessage, Validator, VoluntaryExit,
};
pub use crate::bellatrix::{
    AttestationSubnetCount, CurrentSyncCommitteeBranch, CurrentSyncCommitteeBranchLength,
    DepositProofLength, ExtraData, FinalityBranch, FinalityBranchLength, JustificationBitsLength,
    LogsBloom, MaxErrorMessageLength, MaxRequestBlocks, MaxRequestLightClientUpdates,
    NextSyncCommitteeBranch, NextSyncCommitteeBranchLength, SyncCommitteeSubnetCount, Transaction,
    Transactions,
};

/// `floorlog2(EXECUTION_PAYLOAD_GINDEX)` = `floorlog2(25)`.
pub type ExecutionBranchLength = typenum::U4;
/// Merkle branch of `execution_payload` within `BeaconBlockBody`.
pub type ExecutionBranch = FixedVector<Bytes32, ExecutionBranchLength>;
/// `List[Withdrawal, MAX_WITHDRAWALS_PER_PAYLOAD]`.
pub type Withdrawals<P> = VariableList<Withdrawal, <P as Preset>::MaxWithdrawalsPerPayload>;

// ---- beacon-chain.md ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Withdrawal {
    pub index: WithdrawalIndex,
    pub validator_index: ValidatorIndex,
    pub address: ExecutionAddress,
    pub amount: Gwei,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BLSToExecutionChange {
    pub validator_index: ValidatorIndex,
    pub from_bls_pubkey: BlsPubkey,
    pub to_execution_address: ExecutionAddress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SignedBLSToExecutionChange {
    pub message: BLSToExecutionChange,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct HistoricalSummary {
    pub block_summary_root: Root,
    pub state_summary_root: Root,
}

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
    /// New in Capella.
    pub withdrawals: Withdrawals<P>,
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
    /// New in Capella.
    pub withdrawals_root: Root,
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
    /// New in Capella.
    pub bls_to_execution_changes:
        VariableList<SignedBLSToExecutionChange, P::MaxBlsToExecutionChanges>,
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
    /// Frozen in Capella, replaced by `historical_summaries`.
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
    // Withdrawals (new in Capella)
    pub next_withdrawal_index: WithdrawalIndex,
    pub next_withdrawal_validator_index: ValidatorIndex,
    // Deep history valid from Capella onwards (new in Capella)
    pub historical_summaries: List<HistoricalSummary, P::HistoricalRootsLimit>,
}

// ---- light-client/sync-protocol.md ----

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct LightClientHeader<P: Preset> {
    /// Beacon block header.
    pub beacon: BeaconBlockHeader,
    /// Execution payload header corresponding to `beacon.body_root` (from Capella onward).
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
