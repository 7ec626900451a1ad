//! Keel's built-in validator duties (used by `keel dev`).
//!
//! Owns: local keys, slashing protection ([`protection`]), and producing what validators sign
//! ([`produce`]): blocks around an engine payload, single attestations, aggregates.
//! Inputs are states from snapshots, payloads from the engine and attestations from the
//! operation pool; outputs are signed consensus objects.
//! Must not: publish anything itself or skip slashing protection — the caller records and
//! persists protection before a signature leaves the process.

pub mod produce;
pub mod protection;

pub use produce::{BlockContents, LocalValidators, PayloadRequest};
pub use protection::{ProtectionError, SlashingProtection};

#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error("key: {0}")]
    Key(String),
    #[error("state: {0}")]
    State(#[from] keel_state_transition::Error),
    #[error("block: {0}")]
    Block(#[from] keel_state_transition::block::BlockError),
    #[error("building the block: {0}")]
    Build(String),
    #[error(transparent)]
    Protection(#[from] ProtectionError),
}
