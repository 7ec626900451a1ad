//! Phase 0 containers (`specs/phase0/beacon-chain.md`, `validator.md`, `p2p-interface.md`).
//!
//! Later forks re-use these where the spec does and define their own where it changes them.

use crate::bytes::ByteList;
use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz_derive::{Decode, Encode};
use ssz_types::{BitList, BitVector, FixedVector, VariableList, typenum};
use tree_hash_derive::TreeHash;

/// `DEPOSIT_CONTRACT_TREE_DEPTH + 1`: the deposit proof carries the length mix-in.
pub type DepositProofLength = typenum::U33;
/// `JUSTIFICATION_BITS_LENGTH`.
pub type JustificationBitsLength = typenum::U4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Fork {
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub previous_version: Version,
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub current_version: Version,
    pub epoch: Epoch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ForkData {
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub current_version: Version,
    pub genesis_validators_root: Root,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Checkpoint {
    pub epoch: Epoch,
    pub root: Root,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Validator {
    pub pubkey: BlsPubkey,
    /// Commitment to pubkey for withdrawals.
    pub withdrawal_credentials: Bytes32,
    /// Balance at stake.
    pub effective_balance: Gwei,
    pub slashed: bool,
    pub activation_eligibility_epoch: Epoch,
    pub activation_epoch: Epoch,
    pub exit_epoch: Epoch,
    pub withdrawable_epoch: Epoch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct AttestationData {
    pub slot: Slot,
    pub index: CommitteeIndex,
    /// LMD GHOST vote.
    pub beacon_block_root: Root,
    /// FFG vote.
    pub source: Checkpoint,
    pub target: Checkpoint,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct IndexedAttestation<P: Preset> {
    pub attesting_indices: VariableList<ValidatorIndex, P::MaxValidatorsPerCommittee>,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct PendingAttestation<P: Preset> {
    pub aggregation_bits: BitList<P::MaxValidatorsPerCommittee>,
    pub data: AttestationData,
    pub inclusion_delay: Slot,
    pub proposer_index: ValidatorIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Eth1Data {
    pub deposit_root: Root,
    pub deposit_count: u64,
    pub block_hash: Hash32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct HistoricalBatch<P: Preset> {
    pub block_roots: FixedVector<Root, P::SlotsPerHistoricalRoot>,
    pub state_roots: FixedVector<Root, P::SlotsPerHistoricalRoot>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct DepositMessage {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub amount: Gwei,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct DepositData {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub amount: Gwei,
    /// Signing over `DepositMessage`.
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BeaconBlockHeader {
    pub slot: Slot,
    pub proposer_index: ValidatorIndex,
    pub parent_root: Root,
    pub state_root: Root,
    pub body_root: Root,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SigningData {
    pub object_root: Root,
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub domain: Domain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SignedBeaconBlockHeader {
    pub message: BeaconBlockHeader,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ProposerSlashing {
    pub signed_header_1: SignedBeaconBlockHeader,
    pub signed_header_2: SignedBeaconBlockHeader,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct AttesterSlashing<P: Preset> {
    pub attestation_1: IndexedAttestation<P>,
    pub attestation_2: IndexedAttestation<P>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Attestation<P: Preset> {
    pub aggregation_bits: BitList<P::MaxValidatorsPerCommittee>,
    pub data: AttestationData,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Deposit {
    /// Merkle path to the deposit root.
    pub proof: FixedVector<Bytes32, DepositProofLength>,
    pub data: DepositData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct VoluntaryExit {
    /// Earliest epoch when the voluntary exit can be processed.
    pub epoch: Epoch,
    pub validator_index: ValidatorIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct SignedVoluntaryExit {
    pub message: VoluntaryExit,
    pub signature: BlsSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BeaconBlockBody<P: Preset> {
    pub randao_reveal: BlsSignature,
    /// Eth1 data vote.
    pub eth1_data: Eth1Data,
    /// Arbitrary data.
    pub graffiti: Bytes32,
    pub proposer_slashings: VariableList<ProposerSlashing, P::MaxProposerSlashings>,
    pub attester_slashings: VariableList<AttesterSlashing<P>, P::MaxAttesterSlashings>,
    pub attestations: VariableList<Attestation<P>, P::MaxAttestations>,
    pub deposits: VariableList<Deposit, P::MaxDeposits>,
    pub voluntary_exits: VariableList<SignedVoluntaryExit, P::MaxVoluntaryExits>,
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
    // Attestations
    pub previous_epoch_attestations: List<PendingAttestation<P>, P::MaxPendingAttestations>,
    pub current_epoch_attestations: List<PendingAttestation<P>, P::MaxPendingAttestations>,
    // Finality
    pub justification_bits: BitVector<JustificationBitsLength>,
    pub previous_justified_checkpoint: Checkpoint,
    pub current_justified_checkpoint: Checkpoint,
    pub finalized_checkpoint: Checkpoint,
}

// ---- validator.md ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Eth1Block {
    pub timestamp: u64,
    pub deposit_root: Root,
    pub deposit_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct AggregateAndProof<P: Preset> {
    pub aggregator_index: ValidatorIndex,
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
    pub message: AggregateAndProof<P>,
    pub signature: BlsSignature,
}

// ---- p2p-interface.md ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct Status {
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub fork_digest: ForkDigest,
    pub finalized_root: Root,
    pub finalized_epoch: Epoch,
    pub head_root: Root,
    pub head_slot: Slot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct BeaconBlocksByRangeRequest {
    pub start_slot: Slot,
    pub count: u64,
    /// Deprecated, must be 1.
    pub step: u64,
}

/// `ATTESTATION_SUBNET_COUNT`. A config value, but it sizes `MetaData.attnets`, so it is fixed at
/// compile time; every known network (and both spec configs) uses 64.
pub type AttestationSubnetCount = typenum::U64;
/// `MAX_REQUEST_BLOCKS` (config value, 1024 on every known network).
pub type MaxRequestBlocks = typenum::U1024;
/// Length limit of `ErrorMessage.error_message`.
pub type MaxErrorMessageLength = typenum::U256;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct MetaData {
    pub seq_number: u64,
    pub attnets: BitVector<AttestationSubnetCount>,
}

/// The payload of a req/resp error response.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ErrorMessage {
    pub error_message: ByteList<MaxErrorMessageLength>,
}

/// The value of the ENR's `eth2` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode, TreeHash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound = "")
)]
pub struct ENRForkID {
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub fork_digest: ForkDigest,
    #[cfg_attr(feature = "serde", serde(with = "crate::json::hex_array"))]
    pub next_fork_version: Version,
    pub next_fork_epoch: Epoch,
}

/// `BeaconBlocksByRoot v1` request: `List[Root, MAX_REQUEST_BLOCKS]`.
pub type BeaconBlocksByRootRequest = VariableList<Root, MaxRequestBlocks>;
