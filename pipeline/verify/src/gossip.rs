//! The p2p spec's gossip rules (`specs/phase0..fulu/p2p-interface.md`), checked against the
//! latest published [`Snapshot`] and nothing else: no rule ever asks the core for a state.
//!
//! Each `validate_*` runs every rule that needs no signature and returns a [`Pending`] message
//! with its signature sets; [`GossipValidator::finish`] verifies a batch of those sets
//! together ([`crate::bls_batch`]), applies the "first valid message" rules (a message is only
//! marked seen once its signatures verified, so a forgery cannot censor the real one) and
//! yields the [`crate::verified`] types the core accepts.
//!
//! A message whose shuffling (or proposer) needs a state more than an epoch ahead of the held
//! one gets that state advanced through empty slots here, on the stage's threads (a few are
//! cached); the core is never asked. A fork-choice node whose post-state the snapshot does not
//! hold is the spec's "in `store.blocks`, not in `store.block_states`": the core keeps the
//! post-state of every block in fork choice, so only a block that failed validation lacks one.
//!
//! The operation topics (exits, slashings, BLS changes, sync contributions) read the head state,
//! as the spec's `state` parameter for them is the head state.
//!
//! Electra and Fulu messages are both validated. The snapshot holds states in Fulu's container
//! (an Electra state keeps its own `state.fork`, so the signing domains computed from it are
//! Electra's; see `keel_state_transition::held_state`); where the two forks' rules still differ
//! (the block blob limit, whether a state already knows a slot's proposer, advancing a state)
//! the rule asks [`StateFork`], the fork of the parent (or target) state at the message's slot.
//!
//! Data column sidecars and their partial messages are in [`data_column`]: their header rules
//! follow the block's, with the inclusion and KZG proofs of the Fulu p2p spec. Blob sidecars
//! (Electra) are in [`blob_sidecar`], with the same header rules.

use crate::bls_batch::{BatchItem, verify_batch};
use crate::verified::{
    AttestationOrigin, VerifiedAttestation, VerifiedAttesterSlashing, VerifiedBlock,
    VerifiedBlsToExecutionChange, VerifiedContribution, VerifiedProposerSlashing,
    VerifiedSyncMessage, VerifiedVoluntaryExit,
};
use keel_config::ChainConfig;
use keel_config::constants::{
    BLS_WITHDRAWAL_PREFIX, DOMAIN_AGGREGATE_AND_PROOF, DOMAIN_BEACON_ATTESTER,
    DOMAIN_CONTRIBUTION_AND_PROOF, DOMAIN_SELECTION_PROOF, DOMAIN_SYNC_COMMITTEE,
    DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF, FAR_FUTURE_EPOCH, SYNC_COMMITTEE_SUBNET_COUNT,
    TARGET_AGGREGATORS_PER_COMMITTEE, TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE,
};
use keel_config::signing::compute_signing_root;
use keel_crypto::bls::{PublicKey, SignatureSet};
use keel_pipeline_api::{ForkChoiceNode, Snapshot, StateEntry, Verdict};
use keel_state_transition::accessors::{compute_epoch_at_slot, get_current_epoch, get_domain};
use keel_state_transition::held_state::{StateFork, process_slots_held};
use keel_state_transition::predicates::{
    is_active_validator, is_slashable_attestation_data, is_slashable_validator,
};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::signature_sets::{
    block_proposal_set, bls_to_execution_change_set, decode_signature, indexed_attestation_set,
    proposer_slashing_header_set, voluntary_exit_set,
};
use keel_state_transition::{Caches, CommitteeCache, PostElectraFields};
use keel_types::electra::{
    Attestation, AttesterSlashing, ProposerSlashing, SignedAggregateAndProof,
    SignedBLSToExecutionChange, SignedContributionAndProof, SignedVoluntaryExit, SingleAttestation,
    SyncAggregatorSelectionData,
};
use keel_types::ssz_types::{BitList, BitVector};
use keel_types::tree_hash::TreeHash;
use keel_types::{Epoch, Hash256, Preset, SignedBeaconBlock, Slot, ValidatorIndex, fulu};
use rand::CryptoRng;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

mod blob_sidecar;
mod data_column;

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

/// A held state whose `state.fork` is neither Electra's nor Fulu's in the config.
fn unknown_state_fork() -> GossipError {
    ignore("the state is of a fork Keel does not validate against")
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
    /// `(slot, validator_index, subnet)` of a sync committee message.
    SyncMessage(Slot, ValidatorIndex, u64),
    /// The validator of a voluntary exit (one exit per validator, ever).
    VoluntaryExit(ValidatorIndex),
    /// The proposer of a proposer slashing.
    ProposerSlashing(ValidatorIndex),
    /// The validator of a BLS-to-execution change.
    BlsChange(ValidatorIndex),
    /// A validator already in an accepted attester slashing's intersection.
    AttesterSlashing(ValidatorIndex),
    /// `(slot, aggregator_index, subcommittee_index)` of a sync contribution.
    ContributionAggregator(Slot, ValidatorIndex, u64),
    /// `(block_header.slot, block_header.proposer_index, sidecar.index)` of a data column
    /// sidecar (the spec's `data_column_sidecar_tuples`).
    DataColumn(Slot, ValidatorIndex, u64),
    /// `(block_header.slot, block_header.proposer_index, sidecar.index)` of a blob sidecar
    /// (the spec's `blob_sidecar_tuples`).
    BlobSidecar(Slot, ValidatorIndex, u64),
    /// A partial-column header to remember once its signature verified:
    /// `(block_header.slot, group block root, hash_tree_root(header))`. Never enters the seen
    /// set: [`GossipValidator::finish`] moves the header from the candidates to the validated
    /// headers instead (the spec's `seen.partial_data_column_headers`).
    PartialHeader(Slot, Hash256, Hash256),
}

impl SeenKey {
    fn epoch<P: Preset>(&self) -> Epoch {
        match *self {
            SeenKey::Block(slot, _)
            | SeenKey::SyncMessage(slot, _, _)
            | SeenKey::ContributionAggregator(slot, _, _)
            | SeenKey::DataColumn(slot, _, _)
            | SeenKey::BlobSidecar(slot, _, _)
            | SeenKey::PartialHeader(slot, _, _) => compute_epoch_at_slot::<P>(slot),
            SeenKey::Attester(epoch, _) | SeenKey::Aggregator(epoch, _) => epoch,
            // Each can happen once per validator: kept for good (bounded by the registry).
            SeenKey::VoluntaryExit(_)
            | SeenKey::ProposerSlashing(_)
            | SeenKey::BlsChange(_)
            | SeenKey::AttesterSlashing(_) => Epoch::MAX,
        }
    }
}

/// A message that passed every rule but its signatures.
pub struct Pending<T> {
    item: T,
    sets: Vec<SignatureSet<'static>>,
    seen: Vec<SeenKey>,
    /// An aggregate's data key and bits, remembered once its signatures verified.
    aggregate_bits: Option<(AggregateKey, Vec<bool>)>,
}

/// The data an aggregate's bits are compared under (`is_non_strict_superset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AggregateKey {
    /// `(target epoch, hash_tree_root(data), committee index)`: the spec's
    /// `aggregate_cache_key`, with the epoch for pruning.
    Attestation(Epoch, Hash256, u64),
    /// `(slot, beacon_block_root, subcommittee_index)` of a sync contribution.
    Contribution(Slot, Hash256, u64),
}

impl AggregateKey {
    fn epoch<P: Preset>(&self) -> Epoch {
        match *self {
            AggregateKey::Attestation(epoch, _, _) => epoch,
            AggregateKey::Contribution(slot, _, _) => compute_epoch_at_slot::<P>(slot),
        }
    }
}

impl<T> Pending<T> {
    /// The same pending message around another item type.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Pending<U> {
        Pending {
            item: f(self.item),
            sets: self.sets,
            seen: self.seen,
            aggregate_bits: self.aggregate_bits,
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
    /// The aggregation bits of the aggregates accepted, per data and committee.
    aggregates: Mutex<HashMap<AggregateKey, Vec<Vec<bool>>>>,
    /// Committee shufflings of the states it validated against (the core keeps its own).
    caches: Mutex<Caches>,
    /// Block post-states advanced to a later epoch: `((block root, epoch), state)`.
    advanced: Mutex<Vec<AdvancedState<P>>>,
    /// Validated partial-column headers by block root (`seen.partial_data_column_headers`).
    partial_headers: Mutex<HashMap<Hash256, PartialHeaderEntry<P>>>,
    /// Headers that passed every rule but their signature, by `hash_tree_root(header)`: moved
    /// to `partial_headers` by [`GossipValidator::finish`] once the signature verified.
    partial_header_candidates: Mutex<HashMap<Hash256, PartialHeaderEntry<P>>>,
    _preset: std::marker::PhantomData<P>,
}

/// A partial-column header with its `hash_tree_root` (compared instead of the whole header).
#[derive(Debug, Clone)]
pub(crate) struct PartialHeaderEntry<P: Preset> {
    pub(crate) root: Hash256,
    pub(crate) header: Arc<fulu::PartialDataColumnHeader<P>>,
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
            aggregates: Mutex::new(HashMap::new()),
            caches: Mutex::new(Caches::new()),
            advanced: Mutex::new(Vec::new()),
            partial_headers: Mutex::new(HashMap::new()),
            partial_header_candidates: Mutex::new(HashMap::new()),
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
        self.aggregates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|key, _| key.epoch::<P>() >= finalized_epoch);
        let recent = |entry: &PartialHeaderEntry<P>| {
            compute_epoch_at_slot::<P>(entry.header.signed_block_header.message.slot)
                >= finalized_epoch
        };
        self.partial_headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, entry| recent(entry));
        self.partial_header_candidates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, entry| recent(entry));
    }

    /// `compute_time_at_slot_ms`: the Unix millisecond at which `slot` starts.
    fn slot_start_ms(&self, ctx: &GossipContext<'_, P>, slot: Slot) -> u64 {
        ctx.snapshot
            .genesis_time
            .saturating_mul(1000)
            .saturating_add(slot.saturating_mul(self.config.slot_duration_ms))
    }

    /// `is_not_from_future_slot`: `slot` has started, allowing `MAXIMUM_GOSSIP_CLOCK_DISPARITY`.
    fn is_not_from_future_slot(&self, ctx: &GossipContext<'_, P>, slot: Slot) -> bool {
        let disparity = self.config.maximum_gossip_clock_disparity;
        ctx.now_ms.saturating_add(disparity) >= self.slot_start_ms(ctx, slot)
    }

    /// `is_within_slot_range`: now lies in `[slot, slot + range]` (inclusive, to the end of the
    /// last slot), allowing `MAXIMUM_GOSSIP_CLOCK_DISPARITY` on both ends.
    fn is_within_slot_range(&self, ctx: &GossipContext<'_, P>, slot: Slot, range: u64) -> bool {
        let disparity = self.config.maximum_gossip_clock_disparity;
        let end_slot = slot.saturating_add(range).saturating_add(1);
        self.is_not_from_future_slot(ctx, slot)
            && self.slot_start_ms(ctx, end_slot).saturating_add(disparity) >= ctx.now_ms
    }

    /// `is_current_or_previous_epoch`: now lies in `epoch` or the one after it.
    fn is_current_or_previous_epoch(&self, ctx: &GossipContext<'_, P>, epoch: Epoch) -> bool {
        let last = P::slots_per_epoch().saturating_sub(1);
        let start = |e: Epoch| e.saturating_mul(P::slots_per_epoch());
        self.is_within_slot_range(ctx, start(epoch), last)
            || self.is_within_slot_range(ctx, start(epoch.saturating_add(1)), last)
    }

    // ------------------------------------------------------------------ beacon_block

    /// `beacon_block` (Electra's and Fulu's `validate_beacon_block_gossip`).
    ///
    /// Where the spec's store has a block but not its state (its consensus validation failed),
    /// the snapshot has a fork-choice node whose post-state it does not hold.
    pub fn validate_block(
        &self,
        ctx: &GossipContext<'_, P>,
        block: &SignedBeaconBlock<P>,
        received_at: Instant,
    ) -> Result<Pending<VerifiedBlock<P>>, GossipError> {
        // Electra and Fulu blocks share one container; which fork's rules apply is the parent
        // state's fork at the block's slot (checked against the variant below).
        let (SignedBeaconBlock::Electra(signed) | SignedBeaconBlock::Fulu(signed)) = block else {
            return Err(reject(format!(
                "a {:?} block: Keel validates Electra and Fulu blocks",
                block.fork_name()
            )));
        };
        let message = &signed.message;
        // [IGNORE] not from a future slot.
        if !self.is_not_from_future_slot(ctx, message.slot) {
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
        // [REJECT] the proposer index is a validator's (the registry only grows, so the head
        // state's is the largest the snapshot knows).
        if let Some(head) = ctx.snapshot.head_state()
            && message.proposer_index >= head.state.validators.len() as u64
        {
            return Err(reject(format!(
                "proposer index {} out of range",
                message.proposer_index
            )));
        }
        // [IGNORE] parent seen.
        let nodes = &ctx.snapshot.fork_choice.nodes;
        let Some(parent) = nodes.iter().find(|n| n.block_root == message.parent_root) else {
            return Err(ignore(format!("unknown parent {}", message.parent_root)));
        };
        // [REJECT] the payload's timestamp is the slot's time.
        let slot_time = self.slot_start_ms(ctx, message.slot) / 1000;
        if message.body.execution_payload.timestamp != slot_time {
            return Err(reject(format!(
                "payload timestamp {} is not the slot's time {slot_time}",
                message.body.execution_payload.timestamp
            )));
        }
        // The parent failed consensus validation (seen, no post-state): [REJECT] while its
        // payload is unverified (optimistic), [IGNORE] once the engine has ruled on it.
        let Some(parent_state) = ctx.snapshot.state_by_block_root(&message.parent_root) else {
            return Err(if parent.validity == "optimistic" {
                reject("parent failed validation and its payload is unverified")
            } else {
                ignore("parent failed validation (or its state is not held)")
            });
        };
        // [IGNORE] the parent's payload is invalid.
        if parent.validity == "invalid" {
            return Err(ignore("parent's payload is invalid"));
        }
        // [REJECT] slot after the parent's.
        if message.slot <= parent.slot {
            return Err(reject(format!(
                "slot {} not after its parent's {}",
                message.slot, parent.slot
            )));
        }
        // [REJECT] the finalized checkpoint is an ancestor.
        let finalized = ctx.snapshot.finalized;
        if checkpoint_block::<P>(nodes, &message.parent_root, finalized.epoch)
            != Some(finalized.root)
        {
            return Err(reject("the finalized checkpoint is not an ancestor"));
        }
        // The block's fork: its parent state's, advanced to the block's slot. The decoder chose
        // the variant by the topic's fork digest; a block of the other fork is invalid here.
        let fork = self.state_fork_at(parent_state, message.slot)?;
        let variant_fork = match block {
            SignedBeaconBlock::Electra(_) => Some(StateFork::Electra),
            SignedBeaconBlock::Fulu(_) => Some(StateFork::Fulu),
            _ => None,
        };
        if variant_fork != Some(fork) {
            return Err(reject(format!(
                "a {:?} block at a slot of {fork:?}",
                block.fork_name()
            )));
        }
        // [REJECT] blob commitments within the fork's limit: `MAX_BLOBS_PER_BLOCK_ELECTRA`, or
        // Fulu's `get_blob_parameters`.
        let epoch = compute_epoch_at_slot::<P>(message.slot);
        let max_blobs = fork.max_blobs_per_block::<P>(&self.config, epoch);
        if message.body.blob_kzg_commitments.len() as u64 > max_blobs {
            return Err(reject(format!(
                "{} blob commitments, the limit is {max_blobs}",
                message.body.blob_kzg_commitments.len()
            )));
        }
        // [REJECT] the expected proposer, from the parent's state.
        let expected = self.expected_proposer(parent_state, message.slot)?;
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
            aggregate_bits: None,
        })
    }

    /// The fork whose rules a message at `slot` follows: that of `entry`'s state advanced to
    /// the slot ([`StateFork::at_slot`]).
    fn state_fork_at(&self, entry: &StateEntry<P>, slot: Slot) -> Result<StateFork, GossipError> {
        StateFork::at_slot(&entry.state, &self.config, slot).ok_or_else(unknown_state_fork)
    }

    /// The fork of a held state itself ([`StateFork::of`]).
    fn held_fork(&self, state: &fulu::BeaconState<P>) -> Result<StateFork, GossipError> {
        StateFork::of(state, &self.config).ok_or_else(unknown_state_fork)
    }

    /// The proposer of `slot` in the context of `entry`'s state (`process_slots` to the slot,
    /// then `get_beacon_proposer_index`): read from the state when its fork already knows it
    /// (Fulu's lookahead covers the next epoch too, Electra's selection only the current one),
    /// else from the state advanced to the slot's epoch.
    fn expected_proposer(
        &self,
        entry: &StateEntry<P>,
        slot: Slot,
    ) -> Result<ValidatorIndex, GossipError> {
        let fork = self.held_fork(&entry.state)?;
        if let Some(proposer) = fork.proposer_without_advancing(&entry.state, slot) {
            return Ok(proposer);
        }
        let advanced = self.advanced_state(entry, compute_epoch_at_slot::<P>(slot))?;
        self.held_fork(&advanced)?
            .proposer_without_advancing(&advanced, slot)
            .ok_or_else(|| ignore("the proposer of the slot is not known"))
    }

    /// `entry`'s state advanced through empty slots to the start of `epoch` (for a block more
    /// than an epoch after its parent, or an attestation whose target state is older than the
    /// shuffling it needs), by the rules of the state's fork ([`process_slots_held`]: an
    /// Electra state upgraded at `FULU_FORK_EPOCH`). Computed here, on the stage's threads,
    /// never by the core; the last few are kept.
    fn advanced_state(
        &self,
        entry: &StateEntry<P>,
        epoch: Epoch,
    ) -> Result<Arc<fulu::BeaconState<P>>, GossipError> {
        let key = (entry.block_root, epoch);
        let mut advanced = self.advanced.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, state)) = advanced.iter().find(|(k, _)| *k == key) {
            return Ok(Arc::clone(state));
        }
        let fork = self.held_fork(&entry.state)?;
        let epoch_start = epoch.saturating_mul(P::slots_per_epoch());
        let mut caches = self
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let state = process_slots_held(
            (*entry.state).clone(),
            fork,
            &self.config,
            &mut caches,
            epoch_start,
        )
        .map_err(|e| ignore(format!("advancing the state: {e}")))?;
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
        // [REJECT] data.index is 0 from Electra on.
        if data.index != 0 {
            return Err(reject("attestation data index must be 0"));
        }
        self.check_attestation_timing(ctx, data.slot, data.target.epoch)?;
        let seen = SeenKey::Attester(data.target.epoch, single.attester_index);
        if self.is_seen(&seen) {
            return Err(ignore(
                "an attestation from this validator for this target was seen",
            ));
        }
        self.check_attestation_block(ctx, data)?;
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
        let signature = decode_signature(&single.signature)
            .map_err(|e| reject(format!("attestation signature: {e}")))?;
        let key = ctx
            .pubkeys
            .get(state.as_ref(), single.attester_index)
            .map_err(|e| reject(format!("attester key: {e}")))?;
        let domain = get_domain(
            state.as_ref(),
            DOMAIN_BEACON_ATTESTER,
            Some(data.target.epoch),
        );
        let set = SignatureSet::single_pubkey(
            Cow::Owned(signature.clone()),
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
                signature,
            },
            sets: vec![set],
            seen: vec![seen],
            aggregate_bits: None,
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
        // [REJECT] data.index is 0 from Electra on.
        if data.index != 0 {
            return Err(reject("attestation data index must be 0"));
        }
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
        self.check_attestation_timing(ctx, data.slot, data.target.epoch)?;
        self.check_attestation_block(ctx, data)?;
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
        let bits: Vec<bool> = aggregate.aggregation_bits.iter().collect();
        let attesting_indices: Vec<ValidatorIndex> = {
            let mut indices: Vec<_> = committee
                .iter()
                .zip(&bits)
                .filter(|(_, bit)| **bit)
                .map(|(&v, _)| v)
                .collect();
            indices.sort_unstable();
            indices
        };
        if attesting_indices.is_empty() {
            return Err(reject("aggregate without participants"));
        }
        // [IGNORE] no valid aggregate of this data and committee with a superset of these bits
        // was seen.
        let aggregate_key =
            AggregateKey::Attestation(data.target.epoch, data.tree_hash_root(), committee_index);
        if self.seen_superset(&aggregate_key, &bits) {
            return Err(ignore(
                "an aggregate with a superset of these bits was seen",
            ));
        }
        // [IGNORE] the first aggregate of this aggregator for the target epoch.
        let seen_aggregator = SeenKey::Aggregator(data.target.epoch, proof.aggregator_index);
        if self.is_seen(&seen_aggregator) {
            return Err(ignore(
                "an aggregate from this aggregator for this target was seen",
            ));
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
        let target_state = state.as_ref();
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
        let aggregate_signature = decode_signature(&aggregate.signature)
            .map_err(|e| reject(format!("aggregate signature: {e}")))?;
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
                Cow::Owned(aggregate_signature.clone()),
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
                signature: aggregate_signature,
            },
            sets,
            seen: vec![seen_aggregator],
            aggregate_bits: Some((aggregate_key, bits)),
        })
    }

    /// Whether an accepted aggregate of `key` had every bit of `bits` set
    /// (`is_non_strict_superset`).
    fn seen_superset(&self, key: &AggregateKey, bits: &[bool]) -> bool {
        self.aggregates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .is_some_and(|seen| seen.iter().any(|prior| is_superset(prior, bits)))
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
        if !self.is_within_slot_range(ctx, message.slot, 0) {
            return Err(ignore(format!(
                "sync message for slot {} is not current",
                message.slot
            )));
        }
        let head = ctx
            .snapshot
            .head_state()
            .ok_or_else(|| ignore("no head state"))?;
        let state = head.state.as_ref();
        // [REJECT] a validator's index.
        if message.validator_index >= state.validators.len() as u64 {
            return Err(reject(format!(
                "validator index {} out of range",
                message.validator_index
            )));
        }
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
        // [IGNORE] the first message of this validator for this slot on this subnet.
        let seen = SeenKey::SyncMessage(message.slot, message.validator_index, subnet);
        if self.is_seen(&seen) {
            return Err(ignore(
                "a sync message from this validator on this subnet was seen",
            ));
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
            aggregate_bits: None,
        })
    }

    /// [IGNORE] not from a future slot; [IGNORE] in the current or previous epoch; [REJECT] the
    /// target epoch is the slot's.
    fn check_attestation_timing(
        &self,
        ctx: &GossipContext<'_, P>,
        slot: Slot,
        target_epoch: Epoch,
    ) -> Result<(), GossipError> {
        if !self.is_not_from_future_slot(ctx, slot) {
            return Err(ignore(format!("attestation for future slot {slot}")));
        }
        let epoch = compute_epoch_at_slot::<P>(slot);
        if !self.is_current_or_previous_epoch(ctx, epoch) {
            return Err(ignore("attestation not from the current or previous epoch"));
        }
        if target_epoch != epoch {
            return Err(reject("target epoch is not the epoch of the slot"));
        }
        Ok(())
    }

    /// [IGNORE] the voted block is known; [REJECT] it passed validation (its post-state is
    /// held); [REJECT] the target is the voted block's checkpoint block; [IGNORE] the finalized
    /// checkpoint is an ancestor of the voted block.
    fn check_attestation_block(
        &self,
        ctx: &GossipContext<'_, P>,
        data: &keel_types::electra::AttestationData,
    ) -> Result<(), GossipError> {
        let nodes = &ctx.snapshot.fork_choice.nodes;
        if !nodes.iter().any(|n| n.block_root == data.beacon_block_root) {
            return Err(ignore(format!(
                "unknown voted block {}",
                data.beacon_block_root
            )));
        }
        if ctx
            .snapshot
            .state_by_block_root(&data.beacon_block_root)
            .is_none()
        {
            return Err(reject("voted block failed validation"));
        }
        match checkpoint_block::<P>(nodes, &data.beacon_block_root, data.target.epoch) {
            Some(root) if root == data.target.root => {}
            Some(_) => return Err(reject("target is not the voted block's checkpoint block")),
            // Walked below fork choice's root: the target predates finalization.
            None => return Err(ignore("target below the finalized block")),
        }
        let finalized = ctx.snapshot.finalized;
        if checkpoint_block::<P>(nodes, &data.beacon_block_root, finalized.epoch)
            != Some(finalized.root)
        {
            return Err(ignore("the finalized checkpoint is not an ancestor"));
        }
        Ok(())
    }

    /// The committees of `data`'s target epoch, from the post-state of the target block (an
    /// ancestor of the voted block, checked before) or else of the voted block, advanced to the
    /// target epoch when it is too old to fix that epoch's shuffling.
    fn target_committees(
        &self,
        ctx: &GossipContext<'_, P>,
        data: &keel_types::electra::AttestationData,
    ) -> Result<(Arc<fulu::BeaconState<P>>, Arc<CommitteeCache>), GossipError> {
        let entry = ctx
            .snapshot
            .state_by_block_root(&data.target.root)
            .or_else(|| ctx.snapshot.state_by_block_root(&data.beacon_block_root))
            .ok_or_else(|| ignore(format!("no state for target {}", data.target.root)))?;
        let state_epoch = compute_epoch_at_slot::<P>(entry.state.slot());
        let state = if state_epoch.saturating_add(1) < data.target.epoch {
            self.advanced_state(entry, data.target.epoch)?
        } else {
            Arc::clone(&entry.state)
        };
        let committees = self
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .committee_cache(state.as_ref(), data.target.epoch)
            .map_err(|e| ignore(format!("shuffling: {e}")))?;
        Ok((state, committees))
    }

    // ------------------------------------------------------------------ operations

    /// The head state: the operation topics' rules read it (`state` is the head state).
    fn head<'s>(&self, ctx: &GossipContext<'s, P>) -> Result<&'s StateEntry<P>, GossipError> {
        ctx.snapshot
            .head_state()
            .ok_or_else(|| ignore("no head state"))
    }

    /// `voluntary_exit` (Deneb's `validate_voluntary_exit_gossip`).
    pub fn validate_voluntary_exit(
        &self,
        ctx: &GossipContext<'_, P>,
        signed: &SignedVoluntaryExit,
    ) -> Result<Pending<VerifiedVoluntaryExit>, GossipError> {
        let exit = &signed.message;
        let seen = SeenKey::VoluntaryExit(exit.validator_index);
        if self.is_seen(&seen) {
            return Err(ignore("an exit of this validator was seen"));
        }
        let state = self.head(ctx)?.state.as_ref();
        let validator = usize::try_from(exit.validator_index)
            .ok()
            .and_then(|i| state.validators.get(i))
            .ok_or_else(|| reject("validator index out of range"))?;
        let current_epoch = get_current_epoch::<P, _>(state);
        if !is_active_validator(validator, current_epoch) {
            return Err(reject("validator is not active"));
        }
        if validator.exit_epoch != FAR_FUTURE_EPOCH {
            return Err(reject("validator has already initiated exit"));
        }
        if current_epoch < exit.epoch {
            return Err(reject("exit epoch is in the future"));
        }
        if current_epoch
            < validator
                .activation_epoch
                .saturating_add(self.config.shard_committee_period)
        {
            return Err(reject("validator has not been active long enough"));
        }
        let set = voluntary_exit_set(state, &self.config, ctx.pubkeys, signed)
            .map_err(|e| reject(format!("exit signature: {e}")))?
            .ok_or_else(|| reject("no exit signature set"))?;
        Ok(Pending {
            item: VerifiedVoluntaryExit { exit: *signed },
            sets: vec![owned_set(set)],
            seen: vec![seen],
            aggregate_bits: None,
        })
    }

    /// `proposer_slashing` (phase0's `validate_proposer_slashing_gossip`).
    pub fn validate_proposer_slashing(
        &self,
        ctx: &GossipContext<'_, P>,
        slashing: &ProposerSlashing,
    ) -> Result<Pending<VerifiedProposerSlashing>, GossipError> {
        let header_1 = &slashing.signed_header_1.message;
        let header_2 = &slashing.signed_header_2.message;
        let seen = SeenKey::ProposerSlashing(header_1.proposer_index);
        if self.is_seen(&seen) {
            return Err(ignore("a slashing of this proposer was seen"));
        }
        if header_1.slot != header_2.slot {
            return Err(reject("header slots do not match"));
        }
        if header_1.proposer_index != header_2.proposer_index {
            return Err(reject("header proposer indices do not match"));
        }
        if header_1 == header_2 {
            return Err(reject("headers are not different"));
        }
        let state = self.head(ctx)?.state.as_ref();
        let proposer = usize::try_from(header_1.proposer_index)
            .ok()
            .and_then(|i| state.validators.get(i))
            .ok_or_else(|| reject("proposer index out of range"))?;
        if !is_slashable_validator(proposer, get_current_epoch::<P, _>(state)) {
            return Err(reject("proposer is not slashable"));
        }
        let sets = [&slashing.signed_header_1, &slashing.signed_header_2]
            .into_iter()
            .map(|header| {
                proposer_slashing_header_set::<P, _>(state, ctx.pubkeys, header)
                    .map_err(|e| reject(format!("header signature: {e}")))?
                    .map(owned_set)
                    .ok_or_else(|| reject("no header signature set"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pending {
            item: VerifiedProposerSlashing {
                slashing: *slashing,
            },
            sets,
            seen: vec![seen],
            aggregate_bits: None,
        })
    }

    /// `attester_slashing` (phase0's `validate_attester_slashing_gossip`, Electra's types).
    pub fn validate_attester_slashing(
        &self,
        ctx: &GossipContext<'_, P>,
        slashing: &AttesterSlashing<P>,
    ) -> Result<Pending<VerifiedAttesterSlashing<P>>, GossipError> {
        let (att_1, att_2) = (&slashing.attestation_1, &slashing.attestation_2);
        let indices_2: HashSet<ValidatorIndex> = att_2.attesting_indices.iter().copied().collect();
        let mut slashable: Vec<ValidatorIndex> = att_1
            .attesting_indices
            .iter()
            .copied()
            .filter(|i| indices_2.contains(i))
            .collect();
        slashable.sort_unstable();
        slashable.dedup();
        // [IGNORE] at least one index of the intersection not yet seen; only those are marked
        // (the others already are).
        let new: Vec<SeenKey> = slashable
            .iter()
            .map(|&i| SeenKey::AttesterSlashing(i))
            .filter(|key| !self.is_seen(key))
            .collect();
        if new.is_empty() {
            return Err(ignore("every slashable index was already seen"));
        }
        if !is_slashable_attestation_data(&att_1.data, &att_2.data) {
            return Err(reject("attestation data is not slashable"));
        }
        let state = self.head(ctx)?.state.as_ref();
        let validators = state.validators.len() as u64;
        let mut sets = Vec::with_capacity(2);
        for (n, attestation) in [(1, att_1), (2, att_2)] {
            let indices = &attestation.attesting_indices;
            if indices.iter().any(|&i| i >= validators) {
                return Err(reject(format!(
                    "validator index out of range in attestation {n}"
                )));
            }
            // is_valid_indexed_attestation: non-empty, sorted, unique; the signature is batched.
            if indices.is_empty()
                || indices
                    .iter()
                    .zip(indices.iter().skip(1))
                    .any(|(a, b)| a >= b)
            {
                return Err(reject(format!("invalid indexed attestation {n}")));
            }
            let set = indexed_attestation_set::<P, _>(state, ctx.pubkeys, attestation)
                .map_err(|e| reject(format!("attestation {n} signature: {e}")))?
                .ok_or_else(|| reject(format!("no signature set for attestation {n}")))?;
            sets.push(owned_set(set));
        }
        let current_epoch = get_current_epoch::<P, _>(state);
        let any_slashable = slashable.iter().any(|&i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| state.validators.get(i))
                .is_some_and(|v| is_slashable_validator(v, current_epoch))
        });
        if !any_slashable {
            return Err(reject("no slashable validator in the intersection"));
        }
        Ok(Pending {
            item: VerifiedAttesterSlashing {
                slashing: Arc::new(slashing.clone()),
            },
            sets,
            seen: new,
            aggregate_bits: None,
        })
    }

    /// `sync_committee_contribution_and_proof` (Altair's
    /// `validate_sync_committee_contribution_and_proof_gossip`).
    pub fn validate_contribution(
        &self,
        ctx: &GossipContext<'_, P>,
        signed: &SignedContributionAndProof<P>,
    ) -> Result<Pending<VerifiedContribution<P>>, GossipError> {
        let proof = &signed.message;
        let contribution = &proof.contribution;
        if !self.is_within_slot_range(ctx, contribution.slot, 0) {
            return Err(ignore(format!(
                "contribution for slot {} is not current",
                contribution.slot
            )));
        }
        if contribution.subcommittee_index >= SYNC_COMMITTEE_SUBNET_COUNT {
            return Err(reject("subcommittee index out of range"));
        }
        let bits: Vec<bool> = contribution.aggregation_bits.iter().collect();
        if !bits.iter().any(|b| *b) {
            return Err(reject("contribution without participants"));
        }
        if !is_sync_committee_aggregator::<P>(&proof.selection_proof) {
            return Err(reject("selection proof does not select the aggregator"));
        }
        let state = self.head(ctx)?.state.as_ref();
        if proof.aggregator_index >= state.validators.len() as u64 {
            return Err(reject("aggregator index out of range"));
        }
        let committee = sync_committee_for_slot::<P>(state, contribution.slot)
            .ok_or_else(|| ignore("sync committee period not known to the head state"))?;
        let size = sync_subcommittee_size::<P>();
        let start = usize::try_from(contribution.subcommittee_index)
            .ok()
            .and_then(|i| i.checked_mul(size))
            .ok_or_else(|| reject("subcommittee index out of range"))?;
        let subcommittee: Vec<_> = committee
            .pubkeys
            .iter()
            .skip(start)
            .take(size)
            .copied()
            .collect();
        let aggregator_key = ctx
            .pubkeys
            .get(state, proof.aggregator_index)
            .map_err(|e| reject(format!("aggregator key: {e}")))?
            .into_owned();
        if !subcommittee.contains(&aggregator_key.to_bytes()) {
            return Err(reject("aggregator not in the subcommittee"));
        }
        let data_key = AggregateKey::Contribution(
            contribution.slot,
            contribution.beacon_block_root,
            contribution.subcommittee_index,
        );
        if self.seen_superset(&data_key, &bits) {
            return Err(ignore(
                "a contribution with a superset of these bits was seen",
            ));
        }
        let seen = SeenKey::ContributionAggregator(
            contribution.slot,
            proof.aggregator_index,
            contribution.subcommittee_index,
        );
        if self.is_seen(&seen) {
            return Err(ignore(
                "a contribution from this aggregator for this slot and subcommittee was seen",
            ));
        }
        let epoch = Some(compute_epoch_at_slot::<P>(contribution.slot));
        let selection_data = SyncAggregatorSelectionData {
            slot: contribution.slot,
            subcommittee_index: contribution.subcommittee_index,
        };
        let selection_root = compute_signing_root(
            &selection_data,
            get_domain(state, DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF, epoch),
        );
        let proof_root = compute_signing_root(
            proof,
            get_domain(state, DOMAIN_CONTRIBUTION_AND_PROOF, epoch),
        );
        let block_root = compute_signing_root(
            &contribution.beacon_block_root,
            get_domain(state, DOMAIN_SYNC_COMMITTEE, epoch),
        );
        let participants = subcommittee
            .iter()
            .zip(&bits)
            .filter(|(_, bit)| **bit)
            .map(|(key, _)| PublicKey::from_pubkey_bytes(key).map(Cow::Owned))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| reject(format!("participant key: {e:?}")))?;
        let decode = |bytes, what: &str| {
            decode_signature(bytes).map_err(|e| reject(format!("{what} signature: {e}")))
        };
        let sets = vec![
            SignatureSet::single_pubkey(
                Cow::Owned(decode(&proof.selection_proof, "selection proof")?),
                Cow::Owned(aggregator_key.clone()),
                selection_root,
            ),
            SignatureSet::single_pubkey(
                Cow::Owned(decode(&signed.signature, "contribution-and-proof")?),
                Cow::Owned(aggregator_key),
                proof_root,
            ),
            SignatureSet::multiple_pubkeys(
                Cow::Owned(decode(&contribution.signature, "contribution")?),
                participants,
                block_root,
            ),
        ];
        Ok(Pending {
            item: VerifiedContribution {
                contribution: Arc::new(signed.clone()),
            },
            sets,
            seen: vec![seen],
            aggregate_bits: Some((data_key, bits)),
        })
    }

    /// `bls_to_execution_change` (Capella's `validate_bls_to_execution_change_gossip`).
    pub fn validate_bls_to_execution_change(
        &self,
        ctx: &GossipContext<'_, P>,
        signed: &SignedBLSToExecutionChange,
    ) -> Result<Pending<VerifiedBlsToExecutionChange>, GossipError> {
        let change = &signed.message;
        // [IGNORE] the wall clock is at or after Capella.
        let since_genesis = ctx
            .now_ms
            .saturating_sub(ctx.snapshot.genesis_time.saturating_mul(1000));
        let current_slot = since_genesis / self.config.slot_duration_ms.max(1);
        if compute_epoch_at_slot::<P>(current_slot) < self.config.capella_fork_epoch {
            return Err(ignore("the current epoch is before Capella"));
        }
        let seen = SeenKey::BlsChange(change.validator_index);
        if self.is_seen(&seen) {
            return Err(ignore("a BLS change of this validator was seen"));
        }
        let state = self.head(ctx)?.state.as_ref();
        let validator = usize::try_from(change.validator_index)
            .ok()
            .and_then(|i| state.validators.get(i))
            .ok_or_else(|| reject("validator index out of range"))?;
        let credentials = validator.withdrawal_credentials.as_slice();
        if credentials.first() != Some(&BLS_WITHDRAWAL_PREFIX) {
            return Err(reject("validator does not have BLS withdrawal credentials"));
        }
        let key_hash = ethereum_hashing::hash(change.from_bls_pubkey.as_ref());
        if credentials.get(1..) != key_hash.get(1..) {
            return Err(reject("pubkey does not match the withdrawal credentials"));
        }
        let set = bls_to_execution_change_set::<P, _>(state, &self.config, signed)
            .map_err(|e| reject(format!("BLS change signature: {e}")))?
            .ok_or_else(|| reject("no BLS change signature set"))?;
        Ok(Pending {
            item: VerifiedBlsToExecutionChange { change: *signed },
            sets: vec![owned_set(set)],
            seen: vec![seen],
            aggregate_bits: None,
        })
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
                item: (p.item, p.seen, p.aggregate_bits),
                sets: p.sets,
            })
            .collect();
        let (results, _stats) = verify_batch(items, rng);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut aggregates = self
            .aggregates
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut partial_headers = self
            .partial_headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut candidates = self
            .partial_header_candidates
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        results
            .into_iter()
            .map(|((item, keys, bits), valid)| {
                let (headers, keys): (Vec<SeenKey>, Vec<SeenKey>) = keys
                    .into_iter()
                    .partition(|k| matches!(k, SeenKey::PartialHeader(..)));
                if !valid {
                    // An identical header carries the identical signature: no other pending
                    // message can still validate this candidate.
                    for key in &headers {
                        if let SeenKey::PartialHeader(_, _, header_root) = key {
                            candidates.remove(header_root);
                        }
                    }
                    return Err(reject("invalid signature"));
                }
                if keys.iter().any(|k| seen.contains(k)) {
                    return Err(ignore("duplicate"));
                }
                // Another header for the same block may have been validated since this one's
                // rules ran.
                for key in &headers {
                    if let SeenKey::PartialHeader(_, block_root, header_root) = key
                        && partial_headers
                            .get(block_root)
                            .is_some_and(|prior| prior.root != *header_root)
                    {
                        return Err(reject("header differs from previously validated header"));
                    }
                }
                // Another aggregate of the batch may have covered these bits already.
                if let Some((key, bits)) = &bits
                    && aggregates
                        .get(key)
                        .is_some_and(|prior| prior.iter().any(|p| is_superset(p, bits)))
                {
                    return Err(ignore(
                        "an aggregate with a superset of these bits was seen",
                    ));
                }
                seen.extend(keys);
                if let Some((key, bits)) = bits {
                    aggregates.entry(key).or_default().push(bits);
                }
                for key in headers {
                    if let SeenKey::PartialHeader(_, block_root, header_root) = key
                        && let Some(entry) = candidates.remove(&header_root)
                    {
                        partial_headers.insert(block_root, entry);
                    }
                }
                Ok(item)
            })
            .collect()
    }
}

/// `get_checkpoint_block`: the root of `root`'s ancestor (or itself) at the start of `epoch`,
/// the last block at or before that slot. `None` when the walk leaves fork choice's nodes.
pub fn checkpoint_block<P: Preset>(
    nodes: &[ForkChoiceNode],
    root: &Hash256,
    epoch: Epoch,
) -> Option<Hash256> {
    let slot = epoch.saturating_mul(P::slots_per_epoch());
    let mut index = nodes.iter().position(|n| n.block_root == *root)?;
    while nodes.get(index)?.slot > slot {
        let parent = nodes.get(index)?.parent_root?;
        // Fork choice lists parents before children: look behind first.
        index = nodes
            .get(..index)?
            .iter()
            .rposition(|n| n.block_root == parent)
            .or_else(|| nodes.iter().position(|n| n.block_root == parent))?;
    }
    nodes.get(index).map(|n| n.block_root)
}

/// `is_non_strict_superset` for one prior bitset: every bit set in `bits` is set in `prior`.
fn is_superset(prior: &[bool], bits: &[bool]) -> bool {
    prior.len() == bits.len() && prior.iter().zip(bits).all(|(p, b)| *p || !*b)
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

/// `is_sync_committee_aggregator` given the selection proof.
pub fn is_sync_committee_aggregator<P: Preset>(
    selection_proof: &keel_types::SignatureBytes,
) -> bool {
    let modulo =
        (sync_subcommittee_size::<P>() as u64 / TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE).max(1);
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

#[cfg(test)]
mod tests {
    use super::*;
    use keel_types::Minimal;

    fn node(slot: Slot, root: u8, parent: Option<u8>) -> ForkChoiceNode {
        ForkChoiceNode {
            slot,
            block_root: Hash256::repeat_byte(root),
            parent_root: parent.map(Hash256::repeat_byte),
            justified_epoch: 0,
            finalized_epoch: 0,
            weight: 0,
            validity: "valid",
            execution_block_hash: Hash256::ZERO,
        }
    }

    #[test]
    fn checkpoint_block_is_the_last_block_at_or_before_the_epoch_start() {
        // Minimal: 8 slots per epoch. Blocks at 0, 7, 9, 17.
        let nodes = vec![
            node(0, 1, None),
            node(7, 2, Some(1)),
            node(9, 3, Some(2)),
            node(17, 4, Some(3)),
        ];
        let root = Hash256::repeat_byte(4);
        let at = |epoch| checkpoint_block::<Minimal>(&nodes, &root, epoch);
        assert_eq!(at(0), Some(Hash256::repeat_byte(1)));
        assert_eq!(at(1), Some(Hash256::repeat_byte(2)));
        assert_eq!(at(2), Some(Hash256::repeat_byte(3)));
        assert_eq!(at(3), Some(root));
        // A walk that leaves the nodes (an unknown parent) finds nothing.
        let orphan = vec![node(9, 3, Some(9))];
        assert_eq!(
            checkpoint_block::<Minimal>(&orphan, &Hash256::repeat_byte(3), 0),
            None
        );
    }

    /// A snapshot whose only block is an interop genesis (64 validators) held as `held`.
    fn genesis_snapshot(config: &ChainConfig, electra: bool) -> (Snapshot<Minimal>, PubkeyCache) {
        use keel_pipeline_api::{ForkChoiceView, Head};
        use keel_state_transition::held_state::hold_electra_state;
        let mut caches = Caches::new();
        let validators: Vec<_> = (0..64)
            .map(|i| {
                let key = keel_crypto::bls::interop_secret_key(i).expect("interop key");
                (key.public_key().to_bytes(), 32_000_000_000)
            })
            .collect();
        let genesis = keel_state_transition::genesis::interop_genesis_state::<Minimal>(
            config,
            &validators,
            1_700_000_000,
            Hash256::repeat_byte(7),
            Default::default(),
            &mut caches,
        )
        .expect("genesis");
        let state = if electra {
            hold_electra_state(genesis, &mut caches).expect("held")
        } else {
            keel_state_transition::upgrade::upgrade_to_fulu(genesis, config, &mut caches)
                .expect("upgraded")
        };
        let mut header = state.latest_block_header;
        header.state_root = state.tree_hash_root();
        let root = header.tree_hash_root();
        let checkpoint = keel_types::phase0::Checkpoint { epoch: 0, root };
        let pubkeys = PubkeyCache::from_state(&state);
        let snapshot = Snapshot {
            sequence: 0,
            genesis_time: state.genesis_time,
            genesis_validators_root: state.genesis_validators_root,
            genesis_block_root: root,
            current_slot: 0,
            head: Head {
                block_root: root,
                slot: 0,
                state_root: header.state_root,
                optimistic: false,
            },
            justified: checkpoint,
            finalized: checkpoint,
            states: Arc::new(vec![StateEntry {
                block_root: root,
                state_root: header.state_root,
                state: Arc::new(state),
            }]),
            fork_choice: Arc::new(ForkChoiceView {
                justified: checkpoint,
                finalized: checkpoint,
                unrealized_justified: checkpoint,
                unrealized_finalized: checkpoint,
                nodes: vec![ForkChoiceNode {
                    block_root: root,
                    ..node(0, 0, None)
                }],
            }),
            el_online: true,
        };
        (snapshot, pubkeys)
    }

    /// The block variant must be the fork of the parent state at the block's slot, and an
    /// Electra state's proposer for a slot of its next epoch comes from the advanced state.
    #[test]
    fn blocks_follow_the_parent_states_fork() {
        let config = ChainConfig::minimal();
        for electra in [true, false] {
            let (snapshot, pubkeys) = genesis_snapshot(&config, electra);
            let root = snapshot.genesis_block_root;
            let validator = GossipValidator::<Minimal>::new(Arc::new(config.clone()));
            // A slot of the next epoch, so that an Electra parent state must be advanced.
            let slot = Minimal::slots_per_epoch() + 1;
            let ctx = GossipContext {
                snapshot: &snapshot,
                pubkeys: &pubkeys,
                now_ms: snapshot.genesis_time * 1000 + slot * config.slot_duration_ms,
            };
            let mut block = keel_types::electra::SignedBeaconBlock::<Minimal>::default();
            block.message.slot = slot;
            block.message.parent_root = root;
            block.message.body.execution_payload.timestamp =
                snapshot.genesis_time + slot * config.slot_duration_ms / 1000;
            let (right, wrong) = if electra {
                (
                    SignedBeaconBlock::Electra(block.clone()),
                    SignedBeaconBlock::Fulu(block.clone()),
                )
            } else {
                (
                    SignedBeaconBlock::Fulu(block.clone()),
                    SignedBeaconBlock::Electra(block.clone()),
                )
            };
            let result = validator.validate_block(&ctx, &wrong, Instant::now());
            assert!(
                matches!(&result, Err(GossipError::Reject(r)) if r.contains("at a slot of")),
                "electra {electra}: {:?}",
                result.err()
            );
            // The right variant reaches the proposer rule; the expected proposer is that of the
            // parent state advanced to the slot by the parent's fork.
            let entry = snapshot.head_state().expect("head state");
            let fork = StateFork::of(&entry.state, &config).expect("fork");
            let mut caches = Caches::new();
            let advanced = process_slots_held(
                (*entry.state).clone(),
                fork,
                &config,
                &mut caches,
                Minimal::slots_per_epoch(),
            )
            .expect("advanced");
            let expected = fork
                .proposer_without_advancing(&advanced, slot)
                .expect("proposer");
            assert_eq!(
                validator.expected_proposer(entry, slot),
                Ok(expected),
                "electra {electra}"
            );
            block.message.proposer_index = (expected + 1) % 64;
            let right = match right {
                SignedBeaconBlock::Electra(_) => SignedBeaconBlock::Electra(block.clone()),
                _ => SignedBeaconBlock::Fulu(block.clone()),
            };
            let result = validator.validate_block(&ctx, &right, Instant::now());
            assert!(
                matches!(&result, Err(GossipError::Reject(r)) if r.contains("is not the expected")),
                "electra {electra}: {:?}",
                result.err()
            );
        }
    }

    #[test]
    fn superset_is_non_strict_and_length_checked() {
        assert!(is_superset(&[true, true, false], &[true, false, false]));
        assert!(is_superset(&[true, false], &[true, false]));
        assert!(!is_superset(&[true, false], &[false, true]));
        assert!(!is_superset(&[true, true], &[true, true, false]));
    }
}
