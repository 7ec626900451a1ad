//! Bellatrix containers (`specs/bellatrix/beacon-chain.md`, `fork-choice.md`).
//!
//! Every container of the Bellatrix spec is reachable from this module: the ones Bellatrix
//! introduces or changes are defined here, the unchanged ones are re-exported.

use std::sync::Arc;

use crate::bytes::{ByteList, ByteVector};
use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz_derive::{Decode, Encode};
use ssz_types::{BitVector, VariableList};
use tree_hash_derive::TreeHash;

pub use crate::altair::{
    AggregateAndProof, Attestation, AttestationData, AttesterSlashing, BeaconBlockHeader,
    BeaconBlocksByRangeRequest, BeaconBlocksByRootRequest, Checkpoint, ContributionAndProof,
    Deposit, DepositData, DepositMessage, ENRForkID, ErrorMessage, Eth1Block, Eth1Data, Fork,
    ForkData, HistoricalBatch, IndexedAttestation, LightClientBootstrap, LightClientFinalityUpdate,
    LightClientHeader, LightClientOptimisticUpdate, LightClientUpdate,
    LightClientUpdatesByRangeRequest, MetaData, ProposerSlashing, SignedAggregateAndProof,
    SignedBeaconBlockHeader, SignedContributionAndProof, SignedVoluntaryExit, SigningData, Status,
    SyncAggregate, SyncAggregatorSelectionData, SyncCommittee, SyncCommitteeContribution,
    SyncCommitteeMessage, Validator, VoluntaryExit,
};
pub use crate::altair::{
    AttestationSubnetCount, CurrentSyncCommitteeBranch, CurrentSyncCommitteeBranchLength,
    DepositProofLength, FinalityBranch, FinalityBranchLength, JustificationBitsLength,
    MaxErrorMessageLength, MaxRequestBlocks, MaxRequestLightClientUpdates, NextSyncCommitteeBranch,
    NextSyncCommitteeBranchLength, SyncCommitteeSubnetCount,
};

/// `ByteList[MAX_BYTES_PER_TRANSACTION]`: an opaque EIP-2718 transaction.
pub type Transaction<P> = ByteList<<P as Preset>::MaxBytesPerTransaction>;
/// `List[Transaction, MAX_TRANSACTIONS_PER_PAYLOAD]`.
pub type Transactions<P> = VariableList<Transaction<P>, <P as Preset>::MaxTransactionsPerPayload>;
/// `ByteVector[BYTES_PER_LOGS_BLOOM]`.
pub type LogsBloom<P> = ByteVector<<P as Preset>::BytesPerLogsBloom>;
/// `ByteList[MAX_EXTRA_DATA_BYTES]`.
pub type ExtraData<P> = ByteList<<P as Preset>::MaxExtraDataBytes>;

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
    /// New in Bellatrix.
    pub execution_payload: ExecutionPayload<P>,
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
    // Execution (new in Bellatrix)
    pub latest_execution_payload_header: ExecutionPayloadHeader<P>,
}

// ---- fork-choice.md ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PowBlock {
    pub block_hash: Hash32,
    pub parent_hash: Hash32,
    pub total_difficulty: Uint256,
}
