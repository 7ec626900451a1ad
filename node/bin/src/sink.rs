//! Where the verify stage's outputs go: blocks to the execution engine (newPayload) and then to
//! the core with the engine's verdict; attestations straight to the core's queues.

use keel_core::CoreInput;
use keel_execution::{EngineClient, PayloadVerdict};
use keel_pipeline_api::{PayloadStatus, PeerTag, Verdict};
use keel_queue::{Class, QueueSender};
use keel_state_transition::block::execution_payload::kzg_commitment_to_versioned_hash;
use keel_types::electra::SignedBeaconBlock;
use keel_types::{ForkName, Preset};
use keel_verify::{
    StageSink, VerifiedAttestation, VerifiedBlock, VerifiedContribution, VerifiedSyncMessage,
};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub struct NodeSink<P: Preset> {
    pub core: QueueSender<CoreInput<P>>,
    pub engine: EngineClient,
    pub runtime: tokio::runtime::Handle,
    /// Set once the network is up: verdicts on peers' messages go back to gossipsub.
    pub network: Arc<OnceLock<keel_p2p::NetworkHandle>>,
}

/// The engine's verdict in the core's terms; an engine that does not answer makes the import
/// optimistic (and the node reports the EL offline).
pub fn payload_status(
    verdict: Result<PayloadVerdict, keel_execution::EngineError>,
) -> (PayloadStatus, bool) {
    match verdict {
        Ok(verdict) => (verdict.payload_status(), true),
        Err(e) => {
            tracing::warn!(error = %e, "execution engine did not judge the payload; importing optimistically");
            (PayloadStatus::Optimistic, !e.is_offline())
        }
    }
}

/// Hands a block's payload to the engine (`newPayload`); the verdict in the core's terms and
/// whether the engine answered.
pub async fn judge_payload<P: Preset>(
    engine: &EngineClient,
    block: &SignedBeaconBlock<P>,
) -> (PayloadStatus, bool) {
    let message = &block.message;
    let hashes: Vec<_> = message
        .body
        .blob_kzg_commitments
        .iter()
        .map(kzg_commitment_to_versioned_hash)
        .collect();
    let verdict = engine
        .new_payload(
            ForkName::Fulu,
            &message.body.execution_payload,
            &hashes,
            message.parent_root,
            &message.body.execution_requests,
        )
        .await;
    payload_status(verdict)
}

impl<P: Preset> StageSink<P> for NodeSink<P> {
    fn block(&self, block: VerifiedBlock<P>) {
        let core = self.core.clone();
        let engine = self.engine.clone();
        let seen_at_ms = unix_ms();
        self.runtime.spawn(async move {
            let (payload, online) = judge_payload(&engine, block.block()).await;
            let inputs = [
                CoreInput::ElOnline(online),
                CoreInput::Block {
                    block,
                    payload,
                    seen_at_ms,
                },
            ];
            // Blocks are never dropped: wait for room off the async threads.
            let _ = tokio::task::spawn_blocking(move || {
                for input in inputs {
                    if core.send_blocking(Class::Block, input).is_err() {
                        tracing::debug!("the core has stopped; block not delivered");
                    }
                }
            })
            .await;
        });
    }

    fn attestation(&self, attestation: VerifiedAttestation<P>) {
        let input = CoreInput::Attestation(attestation);
        let class = input.class();
        if self.core.send(class, input).is_err() {
            tracing::debug!("attestation not delivered: the core's queue refused it");
        }
    }

    fn sync_message(&self, message: VerifiedSyncMessage) {
        if self
            .core
            .send(Class::SyncMessage, CoreInput::SyncMessage(message))
            .is_err()
        {
            tracing::debug!("sync message not delivered: the core's queue refused it");
        }
    }

    fn contribution(&self, contribution: VerifiedContribution<P>) {
        if self
            .core
            .send(Class::Aggregate, CoreInput::Contribution(contribution))
            .is_err()
        {
            tracing::debug!("contribution not delivered: the core's queue refused it");
        }
    }

    fn data_column_sidecar(&self, sidecar: keel_verify::VerifiedDataColumnSidecar<P>) {
        // Columns gate their block's import: wait for room rather than drop one.
        let core = self.core.clone();
        self.runtime.spawn_blocking(move || {
            if core
                .send_blocking(Class::Block, CoreInput::DataColumn(sidecar))
                .is_err()
            {
                tracing::debug!("the core has stopped; column not delivered");
            }
        });
    }

    fn verdict(&self, message_id: [u8; 20], peer: PeerTag, verdict: Verdict) {
        if peer != crate::duties::LOCAL_PEER
            && let Some(network) = self.network.get()
        {
            network.report(message_id, peer, verdict.clone());
        }
        match verdict {
            Verdict::Accept => {}
            Verdict::Ignore(reason) => tracing::debug!(peer = peer.0, %reason, "gossip ignored"),
            Verdict::Reject(reason) => tracing::warn!(peer = peer.0, %reason, "gossip rejected"),
        }
    }
}
