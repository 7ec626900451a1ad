use keel_types::{ForkName, Hash256};

/// Why the core refused an input or could not go on. Inputs that break a consensus rule are
/// [`CoreError::is_invalid_input`]; the rest are the node's own failures.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    #[error("the execution engine said the payload is invalid")]
    InvalidPayload,
    #[error("unknown parent {0}")]
    UnknownParent(Hash256),
    #[error("fork choice: {0}")]
    ForkChoice(#[from] keel_fork_choice::Error),
    #[error("state transition: {0}")]
    StateTransition(#[from] keel_state_transition::Error),
    #[error("store: {0}")]
    Store(#[from] keel_store::StoreError),
    #[error("replaying a stored block failed: {0}")]
    Replay(String),
    #[error("{0:?} data in a Fulu chain")]
    UnsupportedFork(ForkName),
    #[error("database inconsistent: {0}")]
    Corrupt(String),
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("anchor: {0}")]
    Anchor(String),
}

impl CoreError {
    /// The input was at fault (the sender is to blame), not the node.
    pub fn is_invalid_input(&self) -> bool {
        match self {
            CoreError::InvalidBlock(_)
            | CoreError::InvalidPayload
            | CoreError::UnknownParent(_) => true,
            CoreError::ForkChoice(e) => !e.is_internal(),
            _ => false,
        }
    }
}
