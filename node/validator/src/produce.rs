//! Producing what validators sign: blocks (around a payload the caller got from the engine),
//! single attestations and aggregates, signed by local keys.
//!
//! All functions are pure given their inputs; the caller supplies states from a snapshot, the
//! engine's payload and the operation pool's attestations, and checks slashing protection.

use crate::ValidatorError;
use keel_config::ChainConfig;
use keel_config::constants::{
    DOMAIN_AGGREGATE_AND_PROOF, DOMAIN_BEACON_ATTESTER, DOMAIN_BEACON_PROPOSER, DOMAIN_RANDAO,
    DOMAIN_SELECTION_PROOF,
};
use keel_config::signing::compute_signing_root;
use keel_crypto::bls::{SecretKey, interop_secret_key};
use keel_state_transition::accessors::{
    compute_epoch_at_slot, get_block_root, get_domain, get_randao_mix,
};
use keel_state_transition::block::execution_payload::compute_time_at_slot;
use keel_state_transition::block::withdrawals::get_expected_withdrawals;
use keel_state_transition::block::{SignatureStrategy, StaticExecutionEngine, apply_block};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::slot::process_slots;
use keel_state_transition::{Caches, CommitteeCache, PostElectraFields};
use keel_types::electra::{
    AggregateAndProof, Attestation, AttestationData, BeaconBlock, BeaconBlockBody,
    ExecutionRequests, SignedAggregateAndProof, SignedBeaconBlock, SingleAttestation,
    SyncAggregate, Withdrawal,
};
use keel_types::phase0::Checkpoint;
use keel_types::tree_hash::TreeHash;
use keel_types::{
    Bytes32, Epoch, Hash256, Preset, PublicKeyBytes, SignatureBytes, Slot, ValidatorIndex, deneb,
    fulu,
};
use std::collections::HashMap;

type State<P> = fulu::BeaconState<P>;

/// The keys this node signs with, by validator index.
pub struct LocalValidators {
    keys: HashMap<ValidatorIndex, (SecretKey, PublicKeyBytes)>,
}

impl LocalValidators {
    /// The interop keys of validators `range` (validator `i` holds interop key `i`, as in an
    /// interop genesis).
    pub fn interop(range: std::ops::Range<u64>) -> Result<Self, ValidatorError> {
        Self::interop_with_progress(range, &|_| {})
    }

    /// [`LocalValidators::interop`], calling `progress` with the number of keys derived so far
    /// every 1024 keys (deriving a million keys takes about a minute).
    pub fn interop_with_progress(
        range: std::ops::Range<u64>,
        progress: &dyn Fn(u64),
    ) -> Result<Self, ValidatorError> {
        let mut keys = HashMap::new();
        let start = range.start;
        for index in range {
            if (index - start).is_multiple_of(1024) {
                progress(index - start);
            }
            let secret = interop_secret_key(index)
                .map_err(|e| ValidatorError::Key(format!("interop key {index}: {e}")))?;
            let public = secret.public_key().to_bytes();
            keys.insert(index, (secret, public));
        }
        Ok(LocalValidators { keys })
    }

    pub fn get(&self, index: ValidatorIndex) -> Option<&(SecretKey, PublicKeyBytes)> {
        self.keys.get(&index)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Local validator indices, ascending.
    pub fn indices(&self) -> Vec<ValidatorIndex> {
        let mut indices: Vec<_> = self.keys.keys().copied().collect();
        indices.sort_unstable();
        indices
    }
}

fn sign(key: &SecretKey, root: Hash256) -> SignatureBytes {
    key.sign(root.as_slice()).to_bytes()
}

/// `head_state` advanced through empty slots to `slot` (a copy).
pub fn state_at_slot<P: Preset>(
    head_state: &State<P>,
    slot: Slot,
    config: &ChainConfig,
    caches: &mut Caches,
) -> Result<State<P>, ValidatorError> {
    let mut state = head_state.clone();
    if state.slot < slot {
        process_slots(&mut state, config, caches, slot)?;
    }
    Ok(state)
}

/// What the engine needs to build the payload of a block at `state.slot` (`state` advanced to
/// that slot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadRequest {
    pub parent_hash: Hash256,
    pub timestamp: u64,
    pub prev_randao: Hash256,
    pub withdrawals: Vec<Withdrawal>,
    pub parent_beacon_block_root: Hash256,
}

pub fn payload_request<P: Preset>(
    state: &State<P>,
    config: &ChainConfig,
    parent_beacon_block_root: Hash256,
) -> Result<PayloadRequest, ValidatorError> {
    let epoch = compute_epoch_at_slot::<P>(state.slot);
    Ok(PayloadRequest {
        parent_hash: state.latest_execution_payload_header.block_hash,
        timestamp: compute_time_at_slot(state, config, state.slot)?,
        prev_randao: get_randao_mix(state, epoch)?,
        withdrawals: get_expected_withdrawals(state)?.withdrawals,
        parent_beacon_block_root,
    })
}

/// The proposer of `state.slot`.
pub fn proposer_index<P: Preset>(
    state: &State<P>,
    caches: &mut Caches,
) -> Result<ValidatorIndex, ValidatorError> {
    Ok(keel_state_transition::accessors::get_beacon_proposer_index(
        state, caches,
    )?)
}

/// The parts of a block body the caller gathered.
pub struct BlockContents<P: Preset> {
    pub payload: deneb::ExecutionPayload<P>,
    pub execution_requests: ExecutionRequests<P>,
    pub blob_kzg_commitments: keel_types::electra::BlobKzgCommitments<P>,
    pub attestations: Vec<Attestation<P>>,
    /// The sync committee's signatures over the parent block; `None` for an empty aggregate.
    pub sync_aggregate: Option<SyncAggregate<P>>,
    pub graffiti: Bytes32,
}

/// Builds and signs the block of `state.slot` (`state` advanced to it; its latest block header
/// is the parent) for `proposer`, computing the state root by applying it to a copy.
/// Attestations that do not apply are dropped rather than failing the block.
#[allow(clippy::too_many_arguments)]
pub fn produce_block<P: Preset>(
    state: &State<P>,
    proposer: ValidatorIndex,
    key: &SecretKey,
    contents: BlockContents<P>,
    config: &ChainConfig,
    caches: &mut Caches,
    pubkeys: &mut PubkeyCache,
) -> Result<(SignedBeaconBlock<P>, State<P>), ValidatorError> {
    let epoch = compute_epoch_at_slot::<P>(state.slot);
    let randao_reveal = sign(
        key,
        compute_signing_root(&epoch, get_domain(state, DOMAIN_RANDAO, Some(epoch))),
    );
    let mut header = state.latest_block_header;
    if header.state_root == Hash256::ZERO {
        header.state_root = state.tree_hash_root();
    }
    let parent_root = header.tree_hash_root();
    let empty_sync = SyncAggregate {
        sync_committee_bits: Default::default(),
        sync_committee_signature: SignatureBytes::infinity(),
    };
    let attempt = |attestations: Vec<Attestation<P>>,
                   sync_aggregate: SyncAggregate<P>,
                   caches: &mut Caches,
                   pubkeys: &mut PubkeyCache|
     -> Result<(SignedBeaconBlock<P>, State<P>), ValidatorError> {
        let body = BeaconBlockBody {
            randao_reveal,
            eth1_data: state.eth1_data,
            graffiti: contents.graffiti,
            attestations: attestations
                .try_into()
                .map_err(|_| ValidatorError::Build("too many attestations".into()))?,
            sync_aggregate,
            execution_payload: contents.payload.clone(),
            blob_kzg_commitments: contents.blob_kzg_commitments.clone(),
            execution_requests: contents.execution_requests.clone(),
            ..Default::default()
        };
        let mut block = SignedBeaconBlock {
            message: BeaconBlock {
                slot: state.slot,
                proposer_index: proposer,
                parent_root,
                state_root: Hash256::ZERO,
                body,
            },
            signature: SignatureBytes::default(),
        };
        let mut post = state.clone();
        // The state root is unknown until the block is applied: apply without the root check.
        keel_state_transition::block::process_signed_block(
            &mut post,
            &block,
            config,
            caches,
            pubkeys,
            &StaticExecutionEngine(true),
            SignatureStrategy::Skip,
        )?;
        post.apply_pending_updates()?;
        block.message.state_root = post.tree_hash_root();
        let domain = get_domain(state, DOMAIN_BEACON_PROPOSER, Some(epoch));
        block.signature = sign(key, compute_signing_root(&block.message, domain));
        // Re-check the finished block as an importer would (state root included).
        let mut check = state.clone();
        apply_block(
            &mut check,
            &block,
            config,
            caches,
            pubkeys,
            &StaticExecutionEngine(true),
            SignatureStrategy::Skip,
        )?;
        Ok((block, post))
    };
    let sync_aggregate = contents
        .sync_aggregate
        .clone()
        .unwrap_or_else(|| empty_sync.clone());
    match attempt(
        contents.attestations.clone(),
        sync_aggregate,
        caches,
        pubkeys,
    ) {
        Ok(done) => Ok(done),
        // Something the pools thought includable was not (e.g. a reorg since): a block without
        // operations still fills the slot.
        Err(_) if !contents.attestations.is_empty() || contents.sync_aggregate.is_some() => {
            attempt(Vec::new(), empty_sync, caches, pubkeys)
        }
        Err(e) => Err(e),
    }
}

/// The `AttestationData` a validator signs at `state.slot` (`state` advanced to the slot) for
/// head block `head_root`.
pub fn attestation_data<P: Preset>(
    state: &State<P>,
    head_root: Hash256,
) -> Result<AttestationData, ValidatorError> {
    let epoch = compute_epoch_at_slot::<P>(state.slot);
    let epoch_start = epoch.saturating_mul(P::slots_per_epoch());
    let target_root = if epoch_start == state.slot {
        head_root
    } else {
        get_block_root(state, epoch)?
    };
    Ok(AttestationData {
        slot: state.slot,
        index: 0,
        beacon_block_root: head_root,
        source: state.current_justified_checkpoint,
        target: Checkpoint {
            epoch,
            root: target_root,
        },
    })
}

/// A signed `SingleAttestation` of `validator` in committee `committee_index`.
pub fn single_attestation<P: Preset>(
    state: &State<P>,
    data: &AttestationData,
    committee_index: u64,
    validator: ValidatorIndex,
    key: &SecretKey,
) -> SingleAttestation {
    let domain = get_domain(state, DOMAIN_BEACON_ATTESTER, Some(data.target.epoch));
    SingleAttestation {
        committee_index,
        attester_index: validator,
        data: *data,
        signature: sign(key, compute_signing_root(data, domain)),
    }
}

/// The slot signature (`get_slot_signature`) that decides whether a validator aggregates.
pub fn slot_signature<P: Preset>(state: &State<P>, slot: Slot, key: &SecretKey) -> SignatureBytes {
    let domain = get_domain(
        state,
        DOMAIN_SELECTION_PROOF,
        Some(compute_epoch_at_slot::<P>(slot)),
    );
    sign(key, compute_signing_root(&slot, domain))
}

/// A signed aggregate-and-proof around `aggregate`.
pub fn aggregate_and_proof<P: Preset>(
    state: &State<P>,
    aggregator: ValidatorIndex,
    aggregate: Attestation<P>,
    selection_proof: SignatureBytes,
    key: &SecretKey,
) -> SignedAggregateAndProof<P> {
    let message = AggregateAndProof {
        aggregator_index: aggregator,
        aggregate,
        selection_proof,
    };
    let domain = get_domain(
        state,
        DOMAIN_AGGREGATE_AND_PROOF,
        Some(compute_epoch_at_slot::<P>(message.aggregate.data.slot)),
    );
    let signature = sign(key, compute_signing_root(&message, domain));
    SignedAggregateAndProof { message, signature }
}

/// Each local validator's committee duty at `slot`: (validator, committee index, position,
/// committee length).
pub fn attester_duties(
    committees: &CommitteeCache,
    slot: Slot,
    local: &LocalValidators,
) -> Result<Vec<(ValidatorIndex, u64, usize, usize)>, ValidatorError> {
    let mut duties = Vec::new();
    for committee_index in 0..committees.committees_per_slot() {
        let committee = committees.get_beacon_committee(slot, committee_index)?;
        for (position, validator) in committee.iter().enumerate() {
            if local.get(*validator).is_some() {
                duties.push((*validator, committee_index, position, committee.len()));
            }
        }
    }
    Ok(duties)
}

/// Signed sync committee messages of every local validator in the sync committee that signs at
/// `state.slot` (`state` advanced to the slot), over `head_root`, with the subnets each goes to.
pub fn sync_committee_messages<P: Preset>(
    state: &State<P>,
    head_root: Hash256,
    local: &LocalValidators,
    subcommittee_size: usize,
    committee: &keel_types::altair::SyncCommittee<P>,
) -> Vec<(keel_types::altair::SyncCommitteeMessage, Vec<u64>)> {
    let domain = get_domain(
        state,
        keel_config::constants::DOMAIN_SYNC_COMMITTEE,
        Some(compute_epoch_at_slot::<P>(state.slot)),
    );
    let signing_root = compute_signing_root(&head_root, domain);
    let mut by_validator: HashMap<ValidatorIndex, Vec<u64>> = HashMap::new();
    for (position, pubkey) in committee.pubkeys.iter().enumerate() {
        let Some(index) = local
            .keys
            .iter()
            .find_map(|(i, (_, pk))| (pk == pubkey).then_some(*i))
        else {
            continue;
        };
        let subnet = (position / subcommittee_size.max(1)) as u64;
        let subnets = by_validator.entry(index).or_default();
        if !subnets.contains(&subnet) {
            subnets.push(subnet);
        }
    }
    let mut messages: Vec<_> = by_validator
        .into_iter()
        .filter_map(|(index, subnets)| {
            let (key, _) = local.get(index)?;
            Some((
                keel_types::altair::SyncCommitteeMessage {
                    slot: state.slot,
                    beacon_block_root: head_root,
                    validator_index: index,
                    signature: sign(key, signing_root),
                },
                subnets,
            ))
        })
        .collect();
    messages.sort_by_key(|(m, _)| m.validator_index);
    messages
}

/// The selection proof of a sync committee member for `subcommittee` at `slot`
/// (`get_sync_committee_selection_proof`).
pub fn sync_selection_proof<P: Preset>(
    state: &State<P>,
    slot: Slot,
    subcommittee: u64,
    key: &SecretKey,
) -> SignatureBytes {
    let domain = get_domain(
        state,
        keel_config::constants::DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
        Some(compute_epoch_at_slot::<P>(slot)),
    );
    let data = keel_types::altair::SyncAggregatorSelectionData {
        slot,
        subcommittee_index: subcommittee,
    };
    sign(key, compute_signing_root(&data, domain))
}

/// A signed contribution-and-proof around `contribution`.
pub fn contribution_and_proof<P: Preset>(
    state: &State<P>,
    aggregator: ValidatorIndex,
    contribution: keel_types::altair::SyncCommitteeContribution<P>,
    selection_proof: SignatureBytes,
    key: &SecretKey,
) -> keel_types::altair::SignedContributionAndProof<P> {
    let message = keel_types::altair::ContributionAndProof {
        aggregator_index: aggregator,
        contribution,
        selection_proof,
    };
    let domain = get_domain(
        state,
        keel_config::constants::DOMAIN_CONTRIBUTION_AND_PROOF,
        Some(compute_epoch_at_slot::<P>(message.contribution.slot)),
    );
    let signature = sign(key, compute_signing_root(&message, domain));
    keel_types::altair::SignedContributionAndProof { message, signature }
}

/// Local validators holding a position in `subcommittee` of `committee`, ascending.
pub fn sync_subcommittee_members<P: Preset>(
    committee: &keel_types::altair::SyncCommittee<P>,
    subcommittee: u64,
    subcommittee_size: usize,
    local: &LocalValidators,
) -> Vec<ValidatorIndex> {
    let start = subcommittee as usize * subcommittee_size;
    let mut members: Vec<ValidatorIndex> = committee
        .pubkeys
        .iter()
        .skip(start)
        .take(subcommittee_size)
        .filter_map(|pk| {
            local
                .keys
                .iter()
                .find_map(|(i, (_, mine))| (mine == pk).then_some(*i))
        })
        .collect();
    members.sort_unstable();
    members.dedup();
    members
}

/// The committees of `epoch` from `state`.
pub fn committees<P: Preset>(
    state: &State<P>,
    epoch: Epoch,
    caches: &mut Caches,
) -> Result<std::sync::Arc<CommitteeCache>, ValidatorError> {
    Ok(caches.committee_cache(state, epoch)?)
}

/// An interop genesis state at Fulu for `count` validators (validator `i` holds interop key
/// `i`, 32 ETH each) whose execution genesis is `payload_header`.
pub fn interop_genesis<P: Preset>(
    config: &ChainConfig,
    count: u64,
    genesis_time: u64,
    payload_header: keel_types::electra::ExecutionPayloadHeader<P>,
) -> Result<State<P>, ValidatorError> {
    let local = LocalValidators::interop(0..count)?;
    interop_genesis_for(config, &local, genesis_time, payload_header)
}

/// [`interop_genesis`] for keys already derived: one validator per local key, by index.
pub fn interop_genesis_for<P: Preset>(
    config: &ChainConfig,
    local: &LocalValidators,
    genesis_time: u64,
    payload_header: keel_types::electra::ExecutionPayloadHeader<P>,
) -> Result<State<P>, ValidatorError> {
    let validators: Vec<(PublicKeyBytes, u64)> = local
        .indices()
        .into_iter()
        .filter_map(|i| local.get(i).map(|(_, pk)| (*pk, P::MAX_EFFECTIVE_BALANCE)))
        .collect();
    let eth1_block_hash = payload_header.block_hash;
    Ok(keel_state_transition::genesis::interop_genesis_state_fulu(
        config,
        &validators,
        genesis_time,
        eth1_block_hash,
        payload_header,
        &mut Caches::new(),
    )?)
}
