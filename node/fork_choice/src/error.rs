//! Errors: invalid input (a message the spec's `assert`s reject, with what to do about it) apart
//! from internal failure (a broken invariant, a bug, arithmetic overflow).
//!
//! Every handler that returns an error has left the store unchanged, as the spec requires of an
//! invalid call ("Invalid calls to handlers must not modify `store`").

use keel_types::phase0::Checkpoint;
use keel_types::{Epoch, Hash256, Slot, ValidatorIndex};

/// What a caller should do with a message fork choice refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// Invalid for good: drop it and penalize the sender (gossip `REJECT`).
    Reject,
    /// Useless but not malicious (old, already superseded): drop it (gossip `IGNORE`).
    Ignore,
    /// Not yet processable (unknown parent or block, future slot, data not yet available): queue
    /// it and try again when the missing piece or the time arrives.
    Delay,
}

/// Any fork-choice failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("block refused: {0}")]
    Block(#[from] BlockError),
    #[error("attestation refused: {0}")]
    Attestation(#[from] AttestationError),
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// The store's justified checkpoint changed and the caller has not yet supplied that
    /// checkpoint state's balances ([`crate::ForkChoice::set_justified_balances`]). Nothing was
    /// modified; supply them and call again.
    #[error("justified balances for checkpoint {0:?} are required")]
    JustifiedBalancesRequired(Checkpoint),
    #[error("internal fork-choice failure: {0}")]
    Internal(#[from] InternalError),
}

impl Error {
    /// Whether this is a bug or broken invariant rather than a refused input.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Internal(_))
    }

    /// What to do with the refused message; `None` for failures that are not about a message
    /// (internal errors, missing balances, bad queries).
    pub fn disposition(&self) -> Option<Disposition> {
        match self {
            Error::Block(e) => Some(e.disposition()),
            Error::Attestation(e) => Some(e.disposition()),
            Error::Input(_) | Error::JustifiedBalancesRequired(_) | Error::Internal(_) => None,
        }
    }
}

/// `on_block` assertions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("parent {parent_root} is unknown")]
    UnknownParent { parent_root: Hash256 },
    #[error("block slot {block_slot} is after the current slot {current_slot}")]
    FutureSlot {
        block_slot: Slot,
        current_slot: Slot,
    },
    #[error("block slot {block_slot} is not after the finalized slot {finalized_slot}")]
    NotAfterFinalizedSlot {
        block_slot: Slot,
        finalized_slot: Slot,
    },
    #[error("block does not descend from the finalized checkpoint {finalized:?}")]
    NotDescendantOfFinalized { finalized: Checkpoint },
    #[error("block data (blobs or sampled columns) is not available")]
    DataUnavailable,
    #[error("execution payload is invalid")]
    InvalidExecutionPayload,
    #[error("parent {parent_root} has an invalid execution payload")]
    InvalidParent { parent_root: Hash256 },
}

impl BlockError {
    pub fn disposition(&self) -> Disposition {
        match self {
            BlockError::UnknownParent { .. }
            | BlockError::FutureSlot { .. }
            | BlockError::DataUnavailable => Disposition::Delay,
            BlockError::NotAfterFinalizedSlot { .. } => Disposition::Ignore,
            BlockError::NotDescendantOfFinalized { .. }
            | BlockError::InvalidExecutionPayload
            | BlockError::InvalidParent { .. } => Disposition::Reject,
        }
    }
}

/// `validate_on_attestation` assertions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    #[error(
        "target epoch {target_epoch} is neither the current epoch {current_epoch} nor the previous"
    )]
    TargetEpochOutOfRange {
        target_epoch: Epoch,
        current_epoch: Epoch,
    },
    #[error("target epoch {target_epoch} does not contain the attestation slot {slot}")]
    TargetEpochSlotMismatch { target_epoch: Epoch, slot: Slot },
    #[error("target root {0} is unknown")]
    UnknownTargetRoot(Hash256),
    #[error("beacon block root {0} is unknown")]
    UnknownHeadBlock(Hash256),
    #[error("attested block at slot {block_slot} is after the attestation slot {slot}")]
    HeadBlockAfterSlot { block_slot: Slot, slot: Slot },
    #[error("target root is not the checkpoint block of the attested block in the target epoch")]
    TargetNotCheckpointOfHead,
    #[error("attestation slot {slot} is not yet in the past (current slot {current_slot})")]
    TooEarly { slot: Slot, current_slot: Slot },
    #[error("validator index {0} is out of the supported range")]
    ValidatorIndexOutOfRange(ValidatorIndex),
}

impl AttestationError {
    pub fn disposition(&self) -> Disposition {
        match self {
            AttestationError::TargetEpochOutOfRange {
                target_epoch,
                current_epoch,
            } => {
                if target_epoch > current_epoch {
                    Disposition::Delay
                } else {
                    Disposition::Ignore
                }
            }
            AttestationError::UnknownTargetRoot(_)
            | AttestationError::UnknownHeadBlock(_)
            | AttestationError::TooEarly { .. } => Disposition::Delay,
            AttestationError::TargetEpochSlotMismatch { .. }
            | AttestationError::HeadBlockAfterSlot { .. }
            | AttestationError::TargetNotCheckpointOfHead
            | AttestationError::ValidatorIndexOutOfRange(_) => Disposition::Reject,
        }
    }
}

/// Invalid arguments to queries and non-message calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("block {0} is unknown to fork choice")]
    UnknownBlock(Hash256),
    #[error("time {time_ms} ms is before genesis ({genesis_time_ms} ms)")]
    TimeBeforeGenesis { time_ms: u64, genesis_time_ms: u64 },
    #[error("time overflows u64 milliseconds")]
    TimeOverflow,
    #[error("justified balances are for {given:?}, the store is justified at {expected:?}")]
    WrongJustifiedBalances {
        given: Checkpoint,
        expected: Checkpoint,
    },
    #[error("the proposer boost is still on the head block {0} (get_proposer_head)")]
    ProposerBoostOnHead(Hash256),
    #[error("slot {slot} is in an epoch before the finalized epoch {finalized_epoch}")]
    SlotBeforeFinalization { slot: Slot, finalized_epoch: Epoch },
    #[error("block {0} has a VALID payload and cannot be invalidated")]
    InvalidatingValidBlock(Hash256),
    #[error("block {0} has an INVALID payload and cannot be marked valid")]
    ValidatingInvalidBlock(Hash256),
    #[error("the justified block {0} has an invalid payload")]
    InvalidJustifiedBlock(Hash256),
    #[error("the anchor is inconsistent: {0}")]
    BadAnchor(&'static str),
    #[error("persisted fork choice could not be decoded: {0}")]
    Decode(String),
}

/// Broken invariants. Seeing one is a bug in this crate or memory corruption.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InternalError {
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    #[error("node index {0} out of bounds")]
    NodeIndex(usize),
    #[error("delta vector has {deltas} entries for {nodes} nodes")]
    DeltaLength { deltas: usize, nodes: usize },
    #[error("node weight would underflow at {0}")]
    WeightUnderflow(Hash256),
    #[error("too many nodes for a u32 index")]
    TooManyNodes,
    #[error("bad configuration: {0}")]
    BadConfig(&'static str),
}
