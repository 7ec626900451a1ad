//! The state transition's typed errors.
//!
//! Every failure says which operation failed and on what: an overflowing `safe_*` operation
//! carries its operands, an out-of-range lookup names the list and the index, and an assertion of
//! the spec that does not hold names the spec function whose assertion it is.

use crate::shuffling::ShufflingError;
use keel_types::{Epoch, Slot};
use thiserror::Error;

/// An arithmetic operation that overflowed, underflowed or divided by zero.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("{lhs} {op} {rhs} is not representable")]
pub struct ArithError {
    /// `"+"`, `"-"`, `"*"`, `"/"` or `"%"`.
    pub op: &'static str,
    pub lhs: u64,
    pub rhs: u64,
}

/// Why a state-transition function refused its input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    #[error("arithmetic: {0}")]
    Arith(#[from] ArithError),
    /// A lookup into a state list (or a list derived from one) missed.
    #[error("{list} index {index} out of range (length {len})")]
    IndexOutOfRange {
        list: &'static str,
        index: u64,
        len: u64,
    },
    /// A persistent-list operation (push, update, pop) failed.
    #[error("{list}: {op} failed: {error:?}")]
    Tree {
        list: &'static str,
        op: &'static str,
        error: keel_types::milhouse::Error,
    },
    #[error("shuffling: {0}")]
    Shuffling(#[from] ShufflingError),
    /// `compute_proposer_index` / sync committee sampling over an empty validator set.
    #[error("{function}: no active validators at epoch {epoch}")]
    NoActiveValidators {
        function: &'static str,
        epoch: Epoch,
    },
    /// `get_block_root_at_slot`'s assertion `slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT`.
    #[error("block root of slot {slot} is not available in a state at slot {state_slot}")]
    BlockRootUnavailable { slot: Slot, state_slot: Slot },
    /// `process_slots`' assertion `state.slot < slot`.
    #[error("process_slots: target slot {target} is not after the state's slot {state_slot}")]
    SlotNotAfterState { target: Slot, state_slot: Slot },
    /// `get_beacon_committee` with `index >= get_committee_count_per_slot`.
    #[error("committee index {index} out of range at slot {slot} ({count} committees per slot)")]
    CommitteeIndexOutOfRange { slot: Slot, index: u64, count: u64 },
    /// A value that must fit a platform `usize` (a list index) does not.
    #[error("{0} does not fit in usize")]
    UsizeOverflow(u64),
    /// BLS failure in a computation that must succeed (e.g. aggregating sync committee keys).
    #[error("{function}: BLS error: {reason}")]
    Bls {
        function: &'static str,
        reason: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// `Error::Tree` for a failed operation on the state list `list`.
    pub fn tree(
        list: &'static str,
        op: &'static str,
    ) -> impl FnOnce(keel_types::milhouse::Error) -> Self {
        move |error| Error::Tree { list, op, error }
    }

    /// `Error::IndexOutOfRange` for `list[index]` with `len` elements.
    pub fn index(list: &'static str, index: impl TryInto<u64>, len: usize) -> Self {
        Error::IndexOutOfRange {
            list,
            index: index.try_into().unwrap_or(u64::MAX),
            len: len as u64,
        }
    }
}
