//! Typed errors of block processing: [`BlockError`] says which step (and which operation, by its
//! position in the block body) failed; [`OperationError`] says why.

use crate::error::Error;
use crate::pubkey_cache::PubkeyError;
use crate::signature_sets::{SignatureError, SignatureOrigin};
use keel_types::capella::Withdrawal;
use keel_types::{Epoch, Gwei, Hash256, Slot, ValidatorIndex};
use thiserror::Error;

/// Why a block is invalid.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum BlockError {
    #[error("block signature: {0}")]
    BlockSignature(OperationError),
    #[error("block header: {0}")]
    BlockHeader(OperationError),
    #[error("withdrawals: {0}")]
    Withdrawals(OperationError),
    #[error("execution payload: {0}")]
    ExecutionPayload(OperationError),
    #[error("randao: {0}")]
    Randao(OperationError),
    #[error("eth1 data: {0}")]
    Eth1Data(OperationError),
    /// `process_operations`' check of the number of Eth1 bridge deposits.
    #[error("block has {got} deposits, {expected} expected")]
    DepositCount { expected: u64, got: u64 },
    #[error("proposer slashing {index}: {reason}")]
    ProposerSlashing {
        index: usize,
        reason: OperationError,
    },
    #[error("attester slashing {index}: {reason}")]
    AttesterSlashing {
        index: usize,
        reason: OperationError,
    },
    #[error("attestation {index}: {reason}")]
    Attestation {
        index: usize,
        reason: OperationError,
    },
    #[error("deposit {index}: {reason}")]
    Deposit {
        index: usize,
        reason: OperationError,
    },
    #[error("voluntary exit {index}: {reason}")]
    VoluntaryExit {
        index: usize,
        reason: OperationError,
    },
    #[error("BLS to execution change {index}: {reason}")]
    BlsToExecutionChange {
        index: usize,
        reason: OperationError,
    },
    #[error("deposit request {index}: {reason}")]
    DepositRequest {
        index: usize,
        reason: OperationError,
    },
    #[error("withdrawal request {index}: {reason}")]
    WithdrawalRequest {
        index: usize,
        reason: OperationError,
    },
    #[error("consolidation request {index}: {reason}")]
    ConsolidationRequest {
        index: usize,
        reason: OperationError,
    },
    #[error("sync aggregate: {0}")]
    SyncAggregate(OperationError),
    /// `Batch` mode: the block's batch of signatures failed; this is the first invalid one.
    #[error("invalid signature: {0}")]
    InvalidSignature(SignatureOrigin),
    /// Flushing or hashing the pre-state's registry (to key the cached balances) failed.
    #[error("pre-state: {0}")]
    PreState(Error),
    /// `state_transition`: `process_slots` up to the block's slot failed (e.g. the block is not
    /// after the state's slot).
    #[error("slot processing: {0}")]
    Slots(Error),
    /// `state_transition`: hashing the post-state failed.
    #[error("post-state root: {0}")]
    StateRoot(Error),
    /// `state_transition`: the block's `state_root` is not the post-state's root.
    #[error("block state root {block} is not the post-state root {computed}")]
    StateRootMismatch { block: Hash256, computed: Hash256 },
}

/// Why one step or operation failed: the spec assertion that does not hold, or a lower-level
/// failure (arithmetic, an index out of range, a list operation).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum OperationError {
    #[error(transparent)]
    State(#[from] Error),
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Pubkey(#[from] PubkeyError),

    // ---- block header ----
    #[error("block slot {block} differs from the state's slot {state}")]
    SlotMismatch { block: Slot, state: Slot },
    #[error("block slot {block} is not after the latest block header's slot {latest}")]
    BlockNotNewer { block: Slot, latest: Slot },
    #[error("proposer index {block} is not the expected proposer {expected}")]
    ProposerIndexMismatch {
        block: ValidatorIndex,
        expected: ValidatorIndex,
    },
    #[error("parent root {block} is not the latest block header's root {expected}")]
    ParentRootMismatch { block: Hash256, expected: Hash256 },
    #[error("proposer {0} is slashed")]
    ProposerSlashed(ValidatorIndex),

    // ---- withdrawals ----
    #[error("{0}")]
    WithdrawalsMismatch(Box<WithdrawalsMismatch>),

    // ---- execution payload ----
    #[error("payload parent hash {got} is not the latest block hash {expected}")]
    ParentHashMismatch { got: Hash256, expected: Hash256 },
    #[error("payload prev_randao {got} is not the current RANDAO mix {expected}")]
    PrevRandaoMismatch { got: Hash256, expected: Hash256 },
    #[error("payload timestamp {got} is not the slot's time {expected}")]
    TimestampMismatch { got: u64, expected: u64 },
    #[error("{count} blob commitments exceed the limit of {max}")]
    TooManyBlobs { count: u64, max: u64 },
    #[error("the execution engine rejected the payload")]
    PayloadInvalid,

    // ---- slashings ----
    #[error("headers are for different slots ({0} and {1})")]
    HeaderSlotMismatch(Slot, Slot),
    #[error("headers are by different proposers ({0} and {1})")]
    HeaderProposerMismatch(ValidatorIndex, ValidatorIndex),
    #[error("the two headers are equal")]
    HeadersEqual,
    #[error("validator {0} is not slashable")]
    NotSlashable(ValidatorIndex),
    #[error("attestation data are neither a double nor a surround vote")]
    NotSlashableAttestationData,
    #[error("indexed attestation {which}: {reason}")]
    InvalidIndexedAttestation {
        which: u8,
        reason: IndexedAttestationError,
    },
    #[error("no validator was slashed")]
    NoValidatorSlashed,

    // ---- attestations ----
    #[error("target epoch {target} is neither the previous nor the current epoch ({current})")]
    TargetEpochOutOfRange { target: Epoch, current: Epoch },
    #[error("target epoch {target} is not the epoch of slot {slot}")]
    TargetEpochSlotMismatch { target: Epoch, slot: Slot },
    #[error("attestation of slot {slot} included too early at slot {state_slot}")]
    IncludedTooEarly { slot: Slot, state_slot: Slot },
    #[error("attestation data index is {0}, must be 0")]
    NonZeroDataIndex(u64),
    #[error("committee {0} has no attester in the aggregation bits")]
    EmptyCommitteeAttestation(u64),
    #[error("aggregation bits have length {got}, the committees have {expected} members")]
    AggregationBitsLength { got: usize, expected: usize },
    #[error("attestation source does not match the justified checkpoint")]
    SourceMismatch,
    #[error("indexed attestation: {0}")]
    IndexedAttestation(IndexedAttestationError),

    // ---- deposits ----
    #[error("invalid deposit Merkle proof for deposit index {0}")]
    InvalidDepositProof(u64),
    #[error("block carries deposits, but this fork processes none")]
    DepositsNotSupported,

    // ---- voluntary exits ----
    #[error("validator {0} is not active")]
    ValidatorNotActive(ValidatorIndex),
    #[error("validator {0} has already initiated its exit")]
    ExitAlreadyInitiated(ValidatorIndex),
    #[error("exit epoch {exit} is after the current epoch {current}")]
    ExitNotYetValid { exit: Epoch, current: Epoch },
    #[error("validator {0} has not been active long enough to exit")]
    NotActiveLongEnough(ValidatorIndex),
    #[error("validator {index} has {amount} Gwei of pending partial withdrawals")]
    PendingWithdrawals { index: ValidatorIndex, amount: Gwei },

    // ---- BLS to execution changes ----
    #[error("validator {0} does not have BLS withdrawal credentials")]
    NotBlsWithdrawalCredentials(ValidatorIndex),
    #[error("from_bls_pubkey does not match validator {0}'s withdrawal credentials")]
    WithdrawalCredentialsMismatch(ValidatorIndex),

    // ---- sync aggregate ----
    #[error("sync committee member {0} is not a validator")]
    UnknownSyncCommitteeMember(keel_types::PublicKeyBytes),
    #[error("BLS: {0}")]
    Bls(keel_crypto::BlsError),
}

/// The first difference between the payload's withdrawals and the expected ones.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error(
    "payload withdrawals differ from the expected ones at position {position}: \
     got {got:?}, expected {expected:?}"
)]
pub struct WithdrawalsMismatch {
    pub position: usize,
    pub got: Option<Withdrawal>,
    pub expected: Option<Withdrawal>,
}

/// Why `is_valid_indexed_attestation` is false.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum IndexedAttestationError {
    #[error("no attesting indices")]
    Empty,
    #[error("attesting indices are not sorted and unique")]
    NotSortedUnique,
    #[error("attesting index {0} is not a validator")]
    UnknownValidator(keel_types::ValidatorIndex),
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
}

impl From<crate::error::ArithError> for OperationError {
    fn from(e: crate::error::ArithError) -> Self {
        OperationError::State(Error::Arith(e))
    }
}
