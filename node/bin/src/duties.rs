//! `keel dev`'s built-in validator client: at the start of each slot the proposer (if local)
//! proposes; at the attestation deadline every local validator of the slot's committees
//! attests; at the aggregation deadline each committee's first selected local aggregator
//! publishes its aggregate. Everything produced goes through the same pipeline gossip does
//! (snappy SSZ on its topic into the verify stage). Slashing protection is recorded and fsynced
//! before anything signed leaves.

use crate::sink::unix_ms;
use keel_config::ChainConfig;
use keel_core::OperationPool;
use keel_execution::{EngineClient, ForkchoiceState, PayloadAttributes};
use keel_pipeline_api::{GossipKind, GossipTopic, PeerTag, RawMessage, Snapshot, SnapshotCell};
use keel_state_transition::Caches;
use keel_state_transition::accessors::compute_epoch_at_slot;
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_types::ssz::Encode;
use keel_types::{ExecutionAddress, ForkName, Hash256, Preset, SignedBeaconBlock, Slot};
use keel_validator::produce::{
    BlockContents, LocalValidators, aggregate_and_proof, attestation_data, attester_duties,
    committees, contribution_and_proof, payload_request, produce_block, proposer_index,
    single_attestation, slot_signature, state_at_slot, sync_committee_messages,
    sync_selection_proof, sync_subcommittee_members,
};
use keel_validator::{SlashingProtection, ValidatorError};
use keel_verify::VerifyStage;
use keel_verify::gossip::{
    compute_subnet_for_attestation, is_aggregator, is_sync_committee_aggregator,
    sync_committee_for_slot, sync_subcommittee_size,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// The peer tag of messages this node made itself.
pub const LOCAL_PEER: PeerTag = PeerTag(0);

#[derive(Debug, thiserror::Error)]
pub enum DutyError {
    #[error(transparent)]
    Validator(#[from] ValidatorError),
    #[error(transparent)]
    Protection(#[from] keel_validator::ProtectionError),
    #[error("execution engine: {0}")]
    Engine(#[from] keel_execution::EngineError),
    #[error("the execution engine started no payload build (it answered {0})")]
    NoPayload(String),
    #[error("no head state in the snapshot")]
    NoHeadState,
    #[error("{0}")]
    Other(String),
}

pub struct Duties<P: Preset> {
    pub config: Arc<ChainConfig>,
    pub local: LocalValidators,
    pub protection: Mutex<SlashingProtection>,
    pub snapshots: Arc<SnapshotCell<P>>,
    pub op_pool: Arc<OperationPool>,
    pub stage: Arc<VerifyStage<P>>,
    /// Where local messages are published to peers, once the network is up.
    pub network: Arc<std::sync::OnceLock<keel_p2p::NetworkHandle>>,
    pub engine: EngineClient,
    pub fee_recipient: ExecutionAddress,
}

/// The latest snapshot, its head, and the head state advanced to a slot (with the caches
/// that advancing filled).
type AtSlot<P> = (
    Arc<Snapshot<P>>,
    keel_pipeline_api::StateEntry<P>,
    keel_types::fulu::BeaconState<P>,
    Caches,
);

impl<P: Preset> Duties<P> {
    fn at_slot(&self, slot: Slot) -> Result<AtSlot<P>, DutyError> {
        let snapshot = self.snapshots.load();
        let head = snapshot.head_state().ok_or(DutyError::NoHeadState)?.clone();
        let mut caches = Caches::new();
        let state = state_at_slot(&head.state, slot, &self.config, &mut caches)?;
        Ok((snapshot, head, state, caches))
    }

    fn topic(&self, snapshot: &Snapshot<P>, slot: Slot, kind: GossipKind) -> String {
        let epoch = compute_epoch_at_slot::<P>(slot);
        GossipTopic {
            fork_digest: self
                .config
                .compute_fork_digest(snapshot.genesis_validators_root, epoch),
            kind,
        }
        .to_string()
    }

    fn publish(&self, topic: String, ssz: &[u8]) -> Result<(), DutyError> {
        let data = snap::raw::Encoder::new()
            .compress_vec(ssz)
            .map_err(|e| DutyError::Other(format!("snappy: {e}")))?;
        if let Some(network) = self.network.get() {
            network.publish(topic.clone(), data.clone());
        }
        self.stage.submit(RawMessage {
            topic,
            data,
            peer: LOCAL_PEER,
            received_at: Instant::now(),
        });
        Ok(())
    }

    /// Proposes the block of `slot` if its proposer is local.
    pub async fn propose(&self, slot: Slot) -> Result<Option<Hash256>, DutyError> {
        let snapshot = self.snapshots.load();
        let head = snapshot.head_state().ok_or(DutyError::NoHeadState)?.clone();
        if head.state.slot >= slot {
            return Ok(None);
        }
        let mut caches = Caches::new();
        let state = state_at_slot(&head.state, slot, &self.config, &mut caches)?;
        let proposer = proposer_index(&state, &mut caches)?;
        let Some((key, pubkey)) = self.local.get(proposer) else {
            return Ok(None);
        };
        let request = payload_request(&state, &self.config, head.block_root)?;
        let finalized_hash = execution_hash(&snapshot, &snapshot.finalized.root);
        let safe_hash = execution_hash(&snapshot, &snapshot.justified.root);
        let forkchoice = ForkchoiceState {
            head_block_hash: request.parent_hash,
            safe_block_hash: safe_hash,
            finalized_block_hash: finalized_hash,
        };
        let attributes = PayloadAttributes {
            timestamp: request.timestamp,
            prev_randao: request.prev_randao,
            suggested_fee_recipient: self.fee_recipient,
            withdrawals: request.withdrawals.clone(),
            parent_beacon_block_root: request.parent_beacon_block_root,
        };
        let response = self
            .engine
            .forkchoice_updated(forkchoice, Some(&attributes))
            .await?;
        let payload_id = response
            .payload_id
            .ok_or_else(|| DutyError::NoPayload(format!("{:?}", response.verdict)))?;
        let built = self
            .engine
            .get_payload::<P>(ForkName::Fulu, payload_id)
            .await?;
        let attestations = self.op_pool.attestations_for_block::<P>(
            slot,
            state.current_justified_checkpoint,
            state.previous_justified_checkpoint,
        );
        let contents = BlockContents {
            payload: built.execution_payload,
            execution_requests: built.execution_requests,
            blob_kzg_commitments: built.blobs_bundle.commitments.clone(),
            attestations,
            // The committee's signatures over the parent, collected from the last slot.
            sync_aggregate: Some(
                self.op_pool
                    .sync_aggregate::<P>(slot.saturating_sub(1), head.block_root),
            ),
            graffiti: graffiti(),
        };
        let mut pubkeys = PubkeyCache::from_state(&state);
        let (block, _) = produce_block(
            &state,
            proposer,
            key,
            contents,
            &self.config,
            &mut caches,
            &mut pubkeys,
        )?;
        {
            let mut protection = self
                .protection
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            protection.check_and_record_block(pubkey, slot)?;
            protection.persist()?;
        }
        let root = keel_types::tree_hash::TreeHash::tree_hash_root(&block.message);
        let ssz = SignedBeaconBlock::Fulu(block).as_ssz_bytes();
        self.publish(self.topic(&snapshot, slot, GossipKind::BeaconBlock), &ssz)?;
        metrics::counter!(crate::chain_metrics::BLOCKS_PROPOSED).increment(1);
        tracing::info!(slot, proposer, %root, "proposed block");
        Ok(Some(root))
    }

    /// Every local validator in the committees of `slot` attests to the current head.
    pub fn attest(&self, slot: Slot) -> Result<usize, DutyError> {
        let (snapshot, head, state, mut caches) = self.at_slot(slot)?;
        let data = attestation_data(&state, head.block_root)?;
        let shuffling = committees(&state, compute_epoch_at_slot::<P>(slot), &mut caches)?;
        let duties = attester_duties(&shuffling, slot, &self.local)?;
        let mut signed = Vec::with_capacity(duties.len());
        {
            let mut protection = self
                .protection
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for &(validator, committee_index, _, _) in &duties {
                let Some((key, pubkey)) = self.local.get(validator) else {
                    continue;
                };
                match protection.check_and_record_attestation(
                    pubkey,
                    data.source.epoch,
                    data.target.epoch,
                ) {
                    Ok(()) => signed.push(single_attestation(
                        &state,
                        &data,
                        committee_index,
                        validator,
                        key,
                    )),
                    Err(e) => tracing::warn!(validator, error = %e, "not attesting"),
                }
            }
            protection.persist()?;
        }
        for single in &signed {
            let subnet = compute_subnet_for_attestation::<P>(
                shuffling.committees_per_slot(),
                slot,
                single.committee_index,
                self.config.attestation_subnet_count,
            );
            self.publish(
                self.topic(&snapshot, slot, GossipKind::BeaconAttestation(subnet)),
                &single.as_ssz_bytes(),
            )?;
        }
        Ok(signed.len())
    }

    /// Every local member of the sync committee signs the head block root, on each subnet
    /// where it holds a position.
    pub fn sync_committee(&self, slot: Slot) -> Result<usize, DutyError> {
        let (snapshot, head, state, _) = self.at_slot(slot)?;
        let Some(committee) = sync_committee_for_slot::<P>(&state, slot) else {
            return Ok(0);
        };
        let messages = sync_committee_messages(
            &state,
            head.block_root,
            &self.local,
            sync_subcommittee_size::<P>(),
            committee,
        );
        for (message, subnets) in &messages {
            for subnet in subnets {
                self.publish(
                    self.topic(&snapshot, slot, GossipKind::SyncCommittee(*subnet)),
                    &message.as_ssz_bytes(),
                )?;
            }
        }
        Ok(messages.len())
    }

    /// In each sync subcommittee, the first local member selected as aggregator publishes the
    /// pool's contribution over the head it signed.
    pub fn sync_contributions(&self, slot: Slot) -> Result<usize, DutyError> {
        let (snapshot, head, state, _) = self.at_slot(slot)?;
        let Some(committee) = sync_committee_for_slot::<P>(&state, slot) else {
            return Ok(0);
        };
        let size = sync_subcommittee_size::<P>();
        let mut published = 0;
        for subcommittee in 0..keel_config::constants::SYNC_COMMITTEE_SUBNET_COUNT {
            let Some(contribution) =
                self.op_pool
                    .sync_contribution::<P>(slot, head.block_root, subcommittee)
            else {
                continue;
            };
            let members = sync_subcommittee_members(committee, subcommittee, size, &self.local);
            let aggregator = members.into_iter().find_map(|validator| {
                let (key, _) = self.local.get(validator)?;
                let proof = sync_selection_proof(&state, slot, subcommittee, key);
                is_sync_committee_aggregator::<P>(&proof).then_some((validator, key, proof))
            });
            let Some((validator, key, proof)) = aggregator else {
                continue;
            };
            let signed = contribution_and_proof(&state, validator, contribution, proof, key);
            self.publish(
                self.topic(
                    &snapshot,
                    slot,
                    GossipKind::SyncCommitteeContributionAndProof,
                ),
                &signed.as_ssz_bytes(),
            )?;
            published += 1;
        }
        Ok(published)
    }

    /// Each committee's first selected local aggregator publishes the pool's aggregate.
    pub fn aggregate(&self, slot: Slot) -> Result<usize, DutyError> {
        let (snapshot, head, state, mut caches) = self.at_slot(slot)?;
        let data = attestation_data(&state, head.block_root)?;
        let shuffling = committees(&state, compute_epoch_at_slot::<P>(slot), &mut caches)?;
        let duties = attester_duties(&shuffling, slot, &self.local)?;
        let mut published = 0;
        for committee_index in 0..shuffling.committees_per_slot() {
            let Some(aggregate) = self.op_pool.aggregate::<P>(&data, committee_index) else {
                continue;
            };
            let aggregator = duties.iter().filter(|d| d.1 == committee_index).find_map(
                |&(validator, _, _, committee_len)| {
                    let (key, _) = self.local.get(validator)?;
                    let proof = slot_signature(&state, slot, key);
                    is_aggregator(committee_len, &proof).then_some((validator, key, proof))
                },
            );
            let Some((validator, key, proof)) = aggregator else {
                continue;
            };
            let signed = aggregate_and_proof(&state, validator, aggregate, proof, key);
            self.publish(
                self.topic(&snapshot, slot, GossipKind::BeaconAggregateAndProof),
                &signed.as_ssz_bytes(),
            )?;
            published += 1;
        }
        Ok(published)
    }
}

/// The execution block hash of a block fork choice holds (zero if unknown, as the Engine API
/// allows for safe/finalized).
pub fn execution_hash<P: Preset>(snapshot: &Snapshot<P>, root: &Hash256) -> Hash256 {
    snapshot
        .fork_choice
        .nodes
        .iter()
        .find(|n| n.block_root == *root)
        .map(|n| n.execution_block_hash)
        .unwrap_or_default()
}

fn graffiti() -> keel_types::Bytes32 {
    let mut bytes = [0u8; 32];
    let text = b"keel dev";
    bytes[..text.len()].copy_from_slice(text);
    keel_types::Bytes32::from(bytes)
}

/// Milliseconds until `deadline_ms` (Unix), zero if past.
pub fn until(deadline_ms: u64) -> std::time::Duration {
    std::time::Duration::from_millis(deadline_ms.saturating_sub(unix_ms()))
}
