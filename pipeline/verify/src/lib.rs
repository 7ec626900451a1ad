//! The verify stage: everything between a decoded message and the core's queues.
//!
//! Owns: gossip validation against the latest snapshot (arriving with the core) and BLS
//! batching ([`bls_batch`]): many messages' signature sets checked together, same-message
//! groups for the price of about one verification, and bisection so that one bad signature
//! never condemns the good messages batched with it.
//! Must not: mutate consensus state or wait on the writer.

pub mod bls_batch;
pub mod gossip;
pub mod stage;
pub mod verified;

pub use gossip::{GossipContext, GossipError, GossipValidator, Pending};
pub use stage::{StageSink, VerifyStage};
pub use verified::{
    AttestationOrigin, VerifiedAttestation, VerifiedAttesterSlashing, VerifiedBlobSidecar,
    VerifiedBlock, VerifiedBlsToExecutionChange, VerifiedContribution, VerifiedDataColumnSidecar,
    VerifiedPartialDataColumnSidecar, VerifiedProposerSlashing, VerifiedSyncMessage,
    VerifiedVoluntaryExit,
};
