//! The p2p spec's gossip rules (`specs/phase0..fulu/p2p-interface.md`), checked against the
//! latest published [`Snapshot`] and nothing else: no rule ever asks the core for a state.
//!
//! Each `validate_*` runs every rule that needs no signature and returns a [`Pending`] message
//! with its signature sets; [`GossipValidator::finish`] verifies a batch of those sets
//! together ([`crate::bls_batch`]), applies the "first valid message" rules (a message is only
//! marked seen once its signatures verified, so a forgery cannot censor the real one) and
//! yields the [`crate::verified`] types the core accepts.
//!
//! A message whose committee shuffling would need a state the snapshot does not hold (its target
//! block's post-state is unknown or more than one epoch behind the target) is ignored rather
//! than handed to the core: the sender is not penalised, and nobody regenerates states for it.

use crate::bls_batch::{BatchItem, verify_batch};
use crate::verified::{AttestationOrigin, VerifiedAttestation, VerifiedBlock, VerifiedSyncMessage};
use keel_config::ChainConfig;
use keel_config::constants::{
    DOMAIN_AGGREGATE_AND_PROOF, DOMAIN_BEACON_ATTESTER, DOMAIN_SELECTION_PROOF,
    TARGET_AGGREGATORS_PER_COMMITTEE,
};
use keel_config::signing::compute_signing_root;
use keel_crypto::bls::SignatureSet;
use keel_pipeline_api::{Snapshot, StateEntry, Verdict};
use keel_state_transition::accessors::{compute_epoch_at_slot, get_domain};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::signature_sets::{block_proposal_set, decode_signature};
use keel_state_transition::{Caches, CommitteeCache, PostElectraFields};
use keel_types::electra::{Attestation, SignedAggregateAndProof, SingleAttestation};
use keel_types::ssz_types::{BitList, BitVector};
use keel_types::tree_hash::TreeHash;
use keel_types::{Epoch, Hash256, Preset, SignedBeaconBlock, Slot, ValidatorIndex, fulu};
use rand::CryptoRng;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Why a message was not accepted. `Ignore` costs the sender nothing; `Reject` is penalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GossipError {
    #[error("ignored: {0}")]
    Ignore(String),
    #[error("rejected: {0}")]
    Reject(String),
}

impl GossipError {
    pub fn verdict(&self) -> Verdict {
        match self {
            GossipError::Ignore(reason) => Verdict::Ignore(reason.clone()),
            GossipError::Reject(reason) => Verdict::Reject(reason.clone()),
        }
    }
}

fn ignore(reason: impl Into<String>) -> GossipError {
    GossipError::Ignore(reason.into())
}

fn reject(reason: impl Into<String>) -> GossipError {
    GossipError::Reject(reason.into())
}

/// What makes a message a duplicate of one already accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SeenKey {
    /// `(block.slot, block.proposer_index)`.
    Block(Slot, ValidatorIndex),
    /// `(target.epoch, attester_index)` of a single attestation.
    Attester(Epoch, ValidatorIndex),
    /// `(target.epoch, aggregator_index)`.
    Aggregator(Epoch, ValidatorIndex),
    /// `hash_tree_root` of an aggregate already seen (any aggregator).
    Aggregate(Epoch, Hash256),
    /// `(slot, validator_index, subnet)` of a sync committee message.
    SyncMessage(Slot, ValidatorIndex, u64),
}

impl SeenKey {
    fn epoch<P: Preset>(&self) -> Epoch {
        match *self {
            SeenKey::Block(slot, _) | SeenKey::SyncMessage(slot, _, _) => {
                compute_epoch_at_slot::<P>(slot)
            }
            SeenKey::Attester(epoch, _)
            | SeenKey::Aggregator(epoch, _)
            | SeenKey::Aggregate(epoch, _) => epoch,
        }
    }
}

/// A message that passed every rule but its signatures.
pub struct Pending<T> {
    item: T,
    sets: Vec<SignatureSet<'static>>,
    seen: Vec<SeenKey>,
}

impl<T> Pending<T> {
    /// The same pending message around another item type.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Pending<U> {
        Pending {
            item: f(self.item),
            sets: self.sets,
            seen: self.seen,
        }
    }

    pub fn item(&self) -> &T {
        &self.item
    }

    pub fn signature_sets(&self) -> usize {
        self.sets.len()
    }
}

/// The gossip rules and the seen-message caches. Shared by every verify worker (`&self`).
#[derive(Debug)]
pub struct GossipValidator<P: Preset> {
    config: Arc<ChainConfig>,
    seen: Mutex<HashSet<SeenKey>>,
    /// Committee shufflings of the states it validated against (the core keeps its own).
    caches: Mutex<Caches>,
    /// Parent states advanced to a later epoch: `((parent root, epoch), state)`.
    advanced: Mutex<Vec<AdvancedState<P>>>,
    _preset: std::marker::PhantomData<P>,
}

type AdvancedState<P> = ((Hash256, Epoch), Arc<fulu::BeaconState<P>>);

/// What a rule needs of the world: the snapshot, the validator keys and the time.
#[derive(Clone, Copy)]
pub struct GossipContext<'a, P: Preset> {
    pub snapshot: &'a Snapshot<P>,
    pub pubkeys: &'a PubkeyCache,
    /// Wall-clock Unix milliseconds.
    pub now_ms: u64,
}

impl<P: Preset> GossipValidator<P> {
    pub fn new(config: Arc<ChainConfig>) -> Self {
        GossipValidator {
            config,
            seen: Mutex::new(HashSet::new()),
            caches: Mutex::new(Caches::new()),
            advanced: Mutex::new(Vec::new()),
            _preset: std::marker::PhantomData,
        }
    }

    fn is_seen(&self, key: &SeenKey) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }

    /// Forgets what no longer matters: keys older than the finalized epoch.
    pub fn prune(&self, finalized_epoch: Epoch) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|key| key.epoch::<P>() >= finalized_epoch);
    }

    /// The latest slot a message may be for, allowing `MAXIMUM_GOSSIP_CLOCK_DISPARITY`.
    fn latest_acceptable_slot(&self, ctx: &GossipContext<'_, P>) -> Slot {
        let disparity = self.config.maximum_gossip_clock_disparity;
        let genesis_ms = ctx.snapshot.genesis_time.saturating_mul(1000);
        let slot_ms = self.config.slot_duration_ms.max(1);
        ctx.now_ms
            .saturating_add(disparity)
            .saturating_sub(genesis_ms)
            / slot_ms
    }

    /// The earliest slot a message may be for, allowing `MAXIMUM_GOSSIP_CLOCK_DISPARITY`.
    fn earliest_current_slot(&self, ctx: &GossipContext<'_, P>) -> Slot {
        let disparity = self.config.maximum_gossip_clock_disparity;
        let genesis_ms = ctx.snapshot.genesis_time.saturating_mul(1000);
        let slot_ms = self.config.slot_duration_ms.max(1);
        ctx.now_ms
            .saturating_sub(disparity)
            .saturating_sub(genesis_ms)
            / slot_ms
    }

    // ------------------------------------------------------------------ beacon_block

    /// `beacon_block` (Fulu).
    pub fn validate_block(
        &self,
        ctx: &GossipContext<'_, P>,
        block: &SignedBeaconBlock<P>,
        received_at: Instant,
    ) -> Result<Pending<VerifiedBlock<P>>, GossipError> {
        let SignedBeaconBlock::Fulu(signed) = block else {
            return Err(reject(format!(
                "a {:?} block on a Fulu topic",
                block.fork_name()
            )));
        };
        let message = &signed.message;
        // [IGNORE] not from a future slot.
        if message.slot > self.latest_acceptable_slot(ctx) {
            return Err(ignore(format!("block for future slot {}", message.slot)));
        }
        // [IGNORE] later than the latest finalized slot.
        let finalized_slot = ctx
            .snapshot
            .finalized
            .epoch
            .saturating_mul(P::slots_per_epoch());
        if message.slot <= finalized_slot {
            return Err(ignore(format!(
                "block slot {} not after the finalized slot {finalized_slot}",
                message.slot
            )));
        }
        // [IGNORE] the first block for this proposer and slot.
        let seen = SeenKey::Block(message.slot, message.proposer_index);
        if self.is_seen(&seen) {
            return Err(ignore(
                "a block for this slot and proposer was already seen",
            ));
        }
        // [REJECT] blob commitments within the limit of the block's epoch.
        let epoch = compute_epoch_at_slot::<P>(message.slot);
        let max_blobs = self.config.get_max_blobs_per_block(epoch);
        if message.body.blob_kzg_commitments.len() as u64 > max_blobs {
            return Err(reject(format!(
                "{} blob commitments, the limit is {max_blobs}",
                message.body.blob_kzg_commitments.len()
            )));
        }
        // [IGNORE] parent seen; [REJECT] parent valid; [REJECT] slot after the parent's.
        let Some(parent) = ctx
            .snapshot
            .fork_choice
            .nodes
            .iter()
            .find(|n| n.block_root == message.parent_root)
        else {
            return Err(ignore(format!("unknown parent {}", message.parent_root)));
        };
        if parent.validity == "invalid" {
            return Err(reject("parent's payload is invalid"));
        }
        if message.slot <= parent.slot {
            return Err(reject(format!(
                "slot {} not after its parent's {}",
                message.slot, parent.slot
            )));
        }
        // [REJECT] the finalized block is an ancestor (fork choice holds only its descendants).
        // [REJECT] the expected proposer, from the parent's state: Fulu's proposer lookahead
        // names the proposers of the parent state's current and next epochs.
        let parent_state = ctx
            .snapshot
            .state_by_block_root(&message.parent_root)
            .ok_or_else(|| ignore("parent state not held"))?;
        let expected = match proposer_from_lookahead::<P>(&parent_state.state, message.slot) {
            Some(proposer) => proposer,
            None => {
                let advanced = self.advanced_parent_state(parent_state, message.slot)?;
                proposer_from_lookahead::<P>(&advanced, message.slot)
                    .ok_or_else(|| ignore("proposer lookahead does not reach the block"))?
            }
        };
        if expected != message.proposer_index {
            return Err(reject(format!(
                "proposer {} is not the expected {expected}",
                message.proposer_index
            )));
        }
        // [REJECT] the proposer signature (checked in the batch).
        let set = block_proposal_set(
            parent_state.state.as_ref(),
            ctx.pubkeys,
            message,
            &signed.signature,
        )
        .map_err(|e| reject(format!("proposer signature: {e}")))?
        .ok_or_else(|| reject("no proposer signature set"))?;
        Ok(Pending {
            item: VerifiedBlock {
                block: Arc::new(signed.clone()),
                root: message.tree_hash_root(),
                received_at,
            },
            sets: vec![owned_set(set)],
            seen: vec![seen],
        })
    }

    /// The parent's state advanced through empty slots to the block's epoch, for a block more
    /// than an epoch after its parent (the lookahead of the parent's state does not reach it).
    /// Computed here, on the stage's threads, never by the core; the last few are kept.
    fn advanced_parent_state(
        &self,
        parent: &StateEntry<P>,
        slot: Slot,
    ) -> Result<Arc<fulu::BeaconState<P>>, GossipError> {
        let epoch = compute_epoch_at_slot::<P>(slot);
        let key = (parent.block_root, epoch);
        let mut advanced = self.advanced.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, state)) = advanced.iter().find(|(k, _)| *k == key) {
            return Ok(Arc::clone(state));
        }
        let mut state = (*parent.state).clone();
        let epoch_start = epoch.saturating_mul(P::slots_per_epoch());
        let mut caches = self
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        keel_state_transition::slot::process_slots(
            &mut state,
            &self.config,
            &mut caches,
            epoch_start,
        )
        .map_err(|e| ignore(format!("advancing the parent state: {e}")))?;
        let state = Arc::new(state);
        if advanced.len() >= 4 {
            advanced.remove(0);
        }
        advanced.push((key, Arc::clone(&state)));
        Ok(state)
    }

    // ------------------------------------------------------------------ attestations

    /// `beacon_attestation_{subnet_id}` (Electra's `SingleAttestation`).
    pub fn validate_single_attestation(
        &self,
        ctx: &GossipContext<'_, P>,
        subnet: u64,
        single: &SingleAttestation,
        received_at: Instant,
    ) -> Result<Pending<VerifiedAttestation<P>>, GossipError> {
        let data = &single.data;
        self.check_attestation_timing(ctx, data.slot, data.target.epoch)?;
        let seen = SeenKey::Attester(data.target.epoch, single.attester_index);
        if self.is_seen(&seen) {
            return Err(ignore(
                "an attestation from this validator for this target was seen",
            ));
        }
        let (state, committees) = self.target_committees(ctx, data)?;
        // [REJECT] committee index in range; [REJECT] the right subnet.
        if single.committee_index >= committees.committees_per_slot() {
            return Err(reject(format!(
                "committee index {} out of range",
                single.committee_index
            )));
        }
        let expected_subnet = compute_subnet_for_attestation::<P>(
            committees.committees_per_slot(),
            data.slot,
            single.committee_index,
            self.config.attestation_subnet_count,
        );
        if expected_subnet != subnet {
            return Err(reject(format!(
                "attestation for subnet {expected_subnet} on subnet {subnet}"
            )));
        }
        let committee = committees
            .get_beacon_committee(data.slot, single.committee_index)
            .map_err(|e| reject(format!("committee: {e}")))?;
        // [REJECT] the attester is a member of the committee.
        let position = committee
            .iter()
            .position(|&v| v == single.attester_index)
            .ok_or_else(|| reject("attester not in the committee"))?;
        self.check_attestation_block(ctx, data)?;
        let signature = decode_signature(&single.signature)
            .map_err(|e| reject(format!("attestation signature: {e}")))?;
        let key = ctx
            .pubkeys
            .get(state.state.as_ref(), single.attester_index)
            .map_err(|e| reject(format!("attester key: {e}")))?;
        let domain = get_domain(
            state.state.as_ref(),
            DOMAIN_BEACON_ATTESTER,
            Some(data.target.epoch),
        );
        let set = SignatureSet::single_pubkey(
            Cow::Owned(signature),
            Cow::Owned(key.into_owned()),
            compute_signing_root(data, domain),
        );
        let mut aggregation_bits = BitList::with_capacity(committee.len())
            .map_err(|_| reject("committee larger than an attestation can hold"))?;
        aggregation_bits
            .set(position, true)
            .map_err(|_| reject("attester position out of range"))?;
        let attestation = Attestation {
            aggregation_bits,
            data: *data,
            signature: single.signature,
            committee_bits: committee_bits::<P>(single.committee_index)?,
        };
        Ok(Pending {
            item: VerifiedAttestation {
                attestation: Arc::new(attestation),
                attesting_indices: vec![single.attester_index],
                committee_index: single.committee_index,
                origin: AttestationOrigin::Single,
                received_at,
            },
            sets: vec![set],
            seen: vec![seen],
        })
    }

    /// `beacon_aggregate_and_proof` (Electra).
    pub fn validate_aggregate(
        &self,
        ctx: &GossipContext<'_, P>,
        signed: &SignedAggregateAndProof<P>,
        received_at: Instant,
    ) -> Result<Pending<VerifiedAttestation<P>>, GossipError> {
        let proof = &signed.message;
        let aggregate = &proof.aggregate;
        let data = &aggregate.data;
        // [REJECT] exactly one committee bit.
        let committee_indices: Vec<usize> = aggregate
            .committee_bits
            .iter()
            .enumerate()
            .filter_map(|(i, bit)| bit.then_some(i))
            .collect();
        let [committee_index] = committee_indices[..] else {
            return Err(reject("an aggregate must cover exactly one committee"));
        };
        let committee_index = committee_index as u64;
        // [REJECT] data.index is 0 from Electra on.
        if data.index != 0 {
            return Err(reject("attestation data index must be 0"));
        }
        self.check_attestation_timing(ctx, data.slot, data.target.epoch)?;
        let seen_aggregator = SeenKey::Aggregator(data.target.epoch, proof.aggregator_index);
        let seen_aggregate = SeenKey::Aggregate(data.target.epoch, aggregate.tree_hash_root());
        if self.is_seen(&seen_aggregator) {
            return Err(ignore(
                "an aggregate from this aggregator for this target was seen",
            ));
        }
        if self.is_seen(&seen_aggregate) {
            return Err(ignore("this aggregate was already seen"));
        }
        let (state, committees) = self.target_committees(ctx, data)?;
        if committee_index >= committees.committees_per_slot() {
            return Err(reject(format!(
                "committee index {committee_index} out of range"
            )));
        }
        let committee = committees
            .get_beacon_committee(data.slot, committee_index)
            .map_err(|e| reject(format!("committee: {e}")))?;
        // [REJECT] bits sized to the committee, at least one set.
        if aggregate.aggregation_bits.len() != committee.len() {
            return Err(reject("aggregation bits do not match the committee size"));
        }
        let attesting_indices: Vec<ValidatorIndex> = {
            let mut indices: Vec<_> = committee
                .iter()
                .enumerate()
                .filter(|(i, _)| aggregate.aggregation_bits.get(*i).unwrap_or(false))
                .map(|(_, &v)| v)
                .collect();
            indices.sort_unstable();
            indices
        };
        if attesting_indices.is_empty() {
            return Err(reject("aggregate without participants"));
        }
        // [REJECT] the aggregator is a member of the committee and selected.
        if !committee.contains(&proof.aggregator_index) {
            return Err(reject("aggregator not in the committee"));
        }
        let selection_signature = decode_signature(&proof.selection_proof)
            .map_err(|e| reject(format!("selection proof: {e}")))?;
        if !is_aggregator(committee.len(), &proof.selection_proof) {
            return Err(reject("selection proof does not select the aggregator"));
        }
        self.check_attestation_block(ctx, data)?;
        let target_state = state.state.as_ref();
        let aggregator_key = ctx
            .pubkeys
            .get(target_state, proof.aggregator_index)
            .map_err(|e| reject(format!("aggregator key: {e}")))?
            .into_owned();
        let selection_root = compute_signing_root(
            &data.slot,
            get_domain(
                target_state,
                DOMAIN_SELECTION_PROOF,
                Some(compute_epoch_at_slot::<P>(data.slot)),
            ),
        );
        let proof_root = compute_signing_root(
            proof,
            get_domain(
                target_state,
                DOMAIN_AGGREGATE_AND_PROOF,
                Some(compute_epoch_at_slot::<P>(data.slot)),
            ),
        );
        let attestation_root = compute_signing_root(
            data,
            get_domain(
                target_state,
                DOMAIN_BEACON_ATTESTER,
                Some(data.target.epoch),
            ),
        );
        let attester_keys = attesting_indices
            .iter()
            .map(|&i| {
                ctx.pubkeys
                    .get(target_state, i)
                    .map(|k| Cow::Owned(k.into_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| reject(format!("attester key: {e}")))?;
        let sets = vec![
            SignatureSet::single_pubkey(
                Cow::Owned(selection_signature),
                Cow::Owned(aggregator_key.clone()),
                selection_root,
            ),
            SignatureSet::single_pubkey(
                Cow::Owned(
                    decode_signature(&signed.signature)
                        .map_err(|e| reject(format!("aggregate-and-proof signature: {e}")))?,
                ),
                Cow::Owned(aggregator_key),
                proof_root,
            ),
            SignatureSet::multiple_pubkeys(
                Cow::Owned(
                    decode_signature(&aggregate.signature)
                        .map_err(|e| reject(format!("aggregate signature: {e}")))?,
                ),
                attester_keys,
                attestation_root,
            ),
        ];
        Ok(Pending {
            item: VerifiedAttestation {
                attestation: Arc::new(aggregate.clone()),
                attesting_indices,
                committee_index,
                origin: AttestationOrigin::Aggregate,
                received_at,
            },
            sets,
            seen: vec![seen_aggregator, seen_aggregate],
        })
    }

    // ------------------------------------------------------------------ sync committee

    /// `sync_committee_{subnet_id}`.
    pub fn validate_sync_message(
        &self,
        ctx: &GossipContext<'_, P>,
        subnet: u64,
        message: &keel_types::altair::SyncCommitteeMessage,
        received_at: Instant,
    ) -> Result<Pending<VerifiedSyncMessage>, GossipError> {
        // [IGNORE] for the current slot.
        if message.slot > self.latest_acceptable_slot(ctx)
            || message.slot < self.earliest_current_slot(ctx)
        {
            return Err(ignore(format!(
                "sync message for slot {} is not current",
                message.slot
            )));
        }
        let seen = SeenKey::SyncMessage(message.slot, message.validator_index, subnet);
        if self.is_seen(&seen) {
            return Err(ignore(
                "a sync message from this validator on this subnet was seen",
            ));
        }
        let head = ctx
            .snapshot
            .head_state()
            .ok_or_else(|| ignore("no head state"))?;
        let state = head.state.as_ref();
        let committee = sync_committee_for_slot::<P>(state, message.slot)
            .ok_or_else(|| ignore("sync committee period not known to the head state"))?;
        let key = ctx
            .pubkeys
            .get(state, message.validator_index)
            .map_err(|e| reject(format!("validator key: {e}")))?;
        let pubkey = key.to_bytes();
        let subcommittee = sync_subcommittee_size::<P>();
        // [REJECT] the validator is in the subnet's subcommittee.
        let positions: Vec<usize> = committee
            .pubkeys
            .iter()
            .enumerate()
            .filter(|(i, pk)| **pk == pubkey && (*i / subcommittee) as u64 == subnet)
            .map(|(i, _)| i)
            .collect();
        if positions.is_empty() {
            return Err(reject("validator not in the subnet's sync subcommittee"));
        }
        let domain = get_domain(
            state,
            keel_config::constants::DOMAIN_SYNC_COMMITTEE,
            Some(compute_epoch_at_slot::<P>(message.slot)),
        );
        let signature = decode_signature(&message.signature)
            .map_err(|e| reject(format!("sync message signature: {e}")))?;
        let set = SignatureSet::single_pubkey(
            Cow::Owned(signature),
            Cow::Owned(key.into_owned()),
            compute_signing_root(&message.beacon_block_root, domain),
        );
        Ok(Pending {
            item: VerifiedSyncMessage {
                message: *message,
                positions,
                received_at,
            },
            sets: vec![set],
            seen: vec![seen],
        })
    }

    /// [IGNORE] within `ATTESTATION_PROPAGATION_SLOT_RANGE` and in the current or previous
    /// epoch; [REJECT] the target epoch is the slot's.
    fn check_attestation_timing(
        &self,
        ctx: &GossipContext<'_, P>,
        slot: Slot,
        target_epoch: Epoch,
    ) -> Result<(), GossipError> {
        if target_epoch != compute_epoch_at_slot::<P>(slot) {
            return Err(reject("target epoch is not the epoch of the slot"));
        }
        let latest = self.latest_acceptable_slot(ctx);
        if slot > latest {
            return Err(ignore(format!("attestation for future slot {slot}")));
        }
        let earliest = self.earliest_current_slot(ctx);
        let current_epoch = compute_epoch_at_slot::<P>(earliest);
        if target_epoch.saturating_add(1) < current_epoch {
            return Err(ignore("attestation older than the previous epoch"));
        }
        if slot.saturating_add(self.config.attestation_propagation_slot_range) < earliest {
            return Err(ignore("attestation outside the propagation range"));
        }
        Ok(())
    }

    /// [IGNORE] the voted block is known; [REJECT] it is not invalid; [REJECT] the target is
    /// the voted block's checkpoint block.
    fn check_attestation_block(
        &self,
        ctx: &GossipContext<'_, P>,
        data: &keel_types::electra::AttestationData,
    ) -> Result<(), GossipError> {
        let nodes = &ctx.snapshot.fork_choice.nodes;
        let find = |root: &Hash256| nodes.iter().find(|n| n.block_root == *root);
        let Some(voted) = find(&data.beacon_block_root) else {
            return Err(ignore(format!(
                "unknown voted block {}",
                data.beacon_block_root
            )));
        };
        if voted.validity == "invalid" {
            return Err(reject("voted block is invalid"));
        }
        // get_checkpoint_block(store, beacon_block_root, target.epoch)
        let target_slot = data.target.epoch.saturating_mul(P::slots_per_epoch());
        let mut node = voted;
        while node.slot > target_slot {
            match node.parent_root.as_ref().and_then(find) {
                Some(parent) => node = parent,
                // Walked below fork choice's root: the target predates finalization.
                None => return Err(ignore("target below the finalized block")),
            }
        }
        if node.block_root != data.target.root {
            return Err(reject("target is not the voted block's checkpoint block"));
        }
        Ok(())
    }

    /// The committees of `data`'s epoch, from the target block's post-state when the snapshot
    /// holds it and it is recent enough to fix the shuffling (its epoch at least the target's
    /// minus one).
    fn target_committees<'s>(
        &self,
        ctx: &GossipContext<'s, P>,
        data: &keel_types::electra::AttestationData,
    ) -> Result<(&'s StateEntry<P>, Arc<CommitteeCache>), GossipError> {
        let entry = ctx
            .snapshot
            .state_by_block_root(&data.target.root)
            .ok_or_else(|| ignore(format!("no state for target {}", data.target.root)))?;
        let state_epoch = compute_epoch_at_slot::<P>(entry.state.slot());
        if state_epoch.saturating_add(1) < data.target.epoch {
            return Err(ignore("target state too far behind the target epoch"));
        }
        let committees = self
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .committee_cache(entry.state.as_ref(), data.target.epoch)
            .map_err(|e| ignore(format!("shuffling: {e}")))?;
        Ok((entry, committees))
    }

    // ------------------------------------------------------------------ signatures

    /// Verifies the signatures of many pending messages together and marks the valid ones as
    /// seen. Results are in input order; a duplicate within the batch is ignored.
    pub fn finish<T, R: CryptoRng + ?Sized>(
        &self,
        pending: Vec<Pending<T>>,
        rng: &mut R,
    ) -> Vec<Result<T, GossipError>> {
        let items = pending
            .into_iter()
            .map(|p| BatchItem {
                item: (p.item, p.seen),
                sets: p.sets,
            })
            .collect();
        let (results, _stats) = verify_batch(items, rng);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        results
            .into_iter()
            .map(|((item, keys), valid)| {
                if !valid {
                    return Err(reject("invalid signature"));
                }
                if keys.iter().any(|k| seen.contains(k)) {
                    return Err(ignore("duplicate"));
                }
                seen.extend(keys);
                Ok(item)
            })
            .collect()
    }
}

/// The proposer of `slot` according to `state.proposer_lookahead`, which covers the state's
/// current epoch and the next.
pub fn proposer_from_lookahead<P: Preset>(
    state: &fulu::BeaconState<P>,
    slot: Slot,
) -> Option<ValidatorIndex> {
    let state_epoch_start =
        compute_epoch_at_slot::<P>(state.slot).checked_mul(P::slots_per_epoch())?;
    let offset = slot.checked_sub(state_epoch_start)?;
    state
        .proposer_lookahead
        .get(usize::try_from(offset).ok()?)
        .copied()
}

/// The sync committee that signs at `slot`: the one of `slot + 1`'s period (validator guide),
/// from `state`'s current or next committee.
pub fn sync_committee_for_slot<P: Preset>(
    state: &fulu::BeaconState<P>,
    slot: Slot,
) -> Option<&keel_types::altair::SyncCommittee<P>> {
    let period = |epoch: Epoch| epoch / P::EPOCHS_PER_SYNC_COMMITTEE_PERIOD.max(1);
    let wanted = period(compute_epoch_at_slot::<P>(slot.saturating_add(1)));
    let current = period(compute_epoch_at_slot::<P>(state.slot));
    if wanted == current {
        Some(&state.current_sync_committee)
    } else if wanted == current.saturating_add(1) {
        Some(&state.next_sync_committee)
    } else {
        None
    }
}

/// `SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT`.
pub fn sync_subcommittee_size<P: Preset>() -> usize {
    (P::sync_committee_size() / keel_config::constants::SYNC_COMMITTEE_SUBNET_COUNT).max(1) as usize
}

/// `compute_subnet_for_attestation`.
pub fn compute_subnet_for_attestation<P: Preset>(
    committees_per_slot: u64,
    slot: Slot,
    committee_index: u64,
    subnet_count: u64,
) -> u64 {
    let slots_since_epoch_start = slot % P::slots_per_epoch();
    let committees_since_epoch_start = committees_per_slot.saturating_mul(slots_since_epoch_start);
    committees_since_epoch_start.saturating_add(committee_index) % subnet_count.max(1)
}

/// `is_aggregator` given the committee length and the selection proof.
pub fn is_aggregator(committee_len: usize, selection_proof: &keel_types::SignatureBytes) -> bool {
    let modulo = (committee_len as u64 / TARGET_AGGREGATORS_PER_COMMITTEE).max(1);
    let digest = ethereum_hashing::hash(selection_proof.as_ref());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first) % modulo == 0
}

fn committee_bits<P: Preset>(
    committee_index: u64,
) -> Result<BitVector<P::MaxCommitteesPerSlot>, GossipError> {
    let mut bits = BitVector::new();
    bits.set(committee_index as usize, true)
        .map_err(|_| reject("committee index beyond MAX_COMMITTEES_PER_SLOT"))?;
    Ok(bits)
}

fn owned_set(set: SignatureSet<'_>) -> SignatureSet<'static> {
    let keys = set
        .signing_keys()
        .iter()
        .map(|k| Cow::Owned(k.as_ref().clone()))
        .collect();
    SignatureSet::multiple_pubkeys(Cow::Owned(set.signature().clone()), keys, *set.message())
}
