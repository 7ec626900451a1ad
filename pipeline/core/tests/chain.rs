//! The chain on a 64-validator Fulu devnet with full participation: it finalizes, resumes from
//! its database exactly where it committed, and the same inputs give the same database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keel_config::ChainConfig;
use keel_core::{Chain, CoreError, ImportOutcome};
use keel_crypto::bls::AggregateSignature;
use keel_pipeline_api::PayloadStatus;
use keel_state_transition::Caches;
use keel_state_transition::accessors::compute_epoch_at_slot;
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_store::{Store, StoreOptions};
use keel_types::electra::{Attestation, ExecutionPayloadHeader, SignedBeaconBlock};
use keel_types::ssz_types::{BitList, BitVector};
use keel_types::tree_hash::TreeHash;
use keel_types::{Hash256, Minimal, deneb, fulu};
use keel_validator::produce::{
    BlockContents, LocalValidators, attestation_data, attester_duties, committees, interop_genesis,
    payload_request, produce_block, proposer_index, single_attestation, state_at_slot,
};
use std::sync::Arc;

type P = Minimal;
const VALIDATORS: u64 = 64;
const SLOT_MS: u64 = 6000;

/// One input to the chain, recorded so that it can be replayed.
#[derive(Clone)]
enum Input {
    Tick(u64),
    Block(Arc<SignedBeaconBlock<P>>),
    Attestation(Box<Attestation<P>>, Vec<u64>, u64),
}

fn config() -> Arc<ChainConfig> {
    Arc::new(ChainConfig::dev(SLOT_MS))
}

fn genesis(config: &ChainConfig) -> fulu::BeaconState<P> {
    let header = ExecutionPayloadHeader::<P> {
        block_hash: Hash256::repeat_byte(1),
        gas_limit: 30_000_000,
        ..Default::default()
    };
    interop_genesis(config, VALIDATORS, 0, header).unwrap()
}

fn open(dir: &std::path::Path, config: &Arc<ChainConfig>) -> Chain<P> {
    let store = Arc::new(Store::<P>::open(dir, &StoreOptions::default()).unwrap());
    let cfg = Arc::clone(config);
    Chain::open(
        Arc::clone(config),
        store,
        move || -> Result<_, CoreError> { Ok(keel_core::ChainAnchor::genesis(genesis(&cfg))) },
    )
    .unwrap()
}

fn apply(chain: &mut Chain<P>, input: &Input) {
    match input {
        Input::Tick(ms) => chain.on_tick(*ms).unwrap(),
        Input::Block(block) => {
            let root = block.message.tree_hash_root();
            chain
                .import_block(Arc::clone(block), root, PayloadStatus::Valid, None)
                .unwrap();
        }
        Input::Attestation(attestation, indices, committee) => chain
            .on_attestation(attestation, indices, *committee)
            .unwrap(),
    }
}

/// Runs `slots` slots from the chain's current head: a block per slot from the right proposer
/// with the pool's attestations, then every validator's attestation, one commit per slot.
fn drive(
    chain: &mut Chain<P>,
    config: &ChainConfig,
    slots: std::ops::RangeInclusive<u64>,
) -> Vec<Input> {
    let local = LocalValidators::interop(0..VALIDATORS).unwrap();
    let mut caches = Caches::new();
    let mut recorded = Vec::new();
    for slot in slots {
        let mut step = |chain: &mut Chain<P>, input: Input| {
            apply(chain, &input);
            recorded.push(input);
        };
        step(chain, Input::Tick(slot * SLOT_MS));
        let block = produce_at(chain, config, slot, &local, &mut caches, Default::default());
        step(chain, Input::Block(block));

        // Every committee of the slot attests to the new head, as one aggregate each.
        let snapshot = chain.snapshot();
        let head = snapshot.head_state().unwrap().clone();
        let state = state_at_slot(&head.state, slot, config, &mut caches).unwrap();
        let data = attestation_data(&state, head.block_root).unwrap();
        let shuffling = committees(&state, compute_epoch_at_slot::<P>(slot), &mut caches).unwrap();
        let duties = attester_duties(&shuffling, slot, &local).unwrap();
        for committee_index in 0..shuffling.committees_per_slot() {
            let members: Vec<_> = duties.iter().filter(|d| d.1 == committee_index).collect();
            let Some(first) = members.first() else {
                continue;
            };
            let mut bits = BitList::with_capacity(first.3).unwrap();
            let mut signature = AggregateSignature::infinity();
            let mut indices = Vec::new();
            for (validator, _, position, _) in &members {
                let single = single_attestation(
                    &state,
                    &data,
                    committee_index,
                    *validator,
                    &local.get(*validator).unwrap().0,
                );
                bits.set(*position, true).unwrap();
                signature.add(
                    &keel_crypto::bls::Signature::from_signature_bytes(&single.signature).unwrap(),
                );
                indices.push(*validator);
            }
            indices.sort_unstable();
            let mut committee_bits = BitVector::new();
            committee_bits.set(committee_index as usize, true).unwrap();
            let attestation = Attestation {
                aggregation_bits: bits,
                data,
                signature: signature.to_bytes(),
                committee_bits,
            };
            step(
                chain,
                Input::Attestation(Box::new(attestation), indices, committee_index),
            );
        }
        chain.commit().unwrap();
    }
    recorded
}

/// The block of `slot` on the chain's head, by the right proposer, with the pool's attestations
/// and the given blob commitments.
fn produce_at(
    chain: &mut Chain<P>,
    config: &ChainConfig,
    slot: u64,
    local: &LocalValidators,
    caches: &mut Caches,
    blob_kzg_commitments: keel_types::electra::BlobKzgCommitments<P>,
) -> Arc<SignedBeaconBlock<P>> {
    let snapshot = chain.snapshot();
    let head = snapshot.head_state().unwrap().clone();
    let state = state_at_slot(&head.state, slot, config, caches).unwrap();
    let proposer = proposer_index(&state, caches).unwrap();
    let request = payload_request(&state, config, head.block_root).unwrap();
    let payload = deneb::ExecutionPayload::<P> {
        parent_hash: request.parent_hash,
        prev_randao: request.prev_randao,
        timestamp: request.timestamp,
        withdrawals: request.withdrawals.clone().try_into().unwrap(),
        block_number: state.latest_execution_payload_header.block_number + 1,
        gas_limit: 30_000_000,
        block_hash: Hash256::from_slice(&payload_hash(slot)),
        ..Default::default()
    };
    let attestations = chain.op_pool().attestations_for_block::<P>(
        slot,
        state.current_justified_checkpoint,
        state.previous_justified_checkpoint,
    );
    let contents = BlockContents {
        payload,
        execution_requests: Default::default(),
        blob_kzg_commitments,
        attestations,
        sync_aggregate: None,
        graffiti: Default::default(),
    };
    let mut pubkeys = PubkeyCache::from_state(&state);
    let (block, _) = produce_block(
        &state,
        proposer,
        &local.get(proposer).unwrap().0,
        contents,
        config,
        caches,
        &mut pubkeys,
    )
    .unwrap();
    Arc::new(block)
}

/// A distinct execution block hash per slot (nothing checks it without an engine).
fn payload_hash(slot: u64) -> Vec<u8> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&slot.to_le_bytes());
    bytes[31] = 0xee;
    bytes.to_vec()
}

#[test]
fn finalizes_resumes_and_is_deterministic() {
    let config = config();
    let dir = tempfile::tempdir().unwrap();
    let mut chain = open(dir.path(), &config);
    let slots_per_epoch = 8;
    let recorded = drive(&mut chain, &config, 1..=5 * slots_per_epoch);
    let snapshot = chain.snapshot();
    assert_eq!(snapshot.head.slot, 5 * slots_per_epoch);
    assert!(
        snapshot.finalized.epoch >= 3,
        "full participation for 5 epochs finalizes epoch 3, got {:?}",
        snapshot.finalized
    );
    let head = chain.head();
    let finalized = snapshot.finalized;
    let digest = chain.store_digest().unwrap();
    drop(chain);

    // Restart: the same head and checkpoints, and it goes on from there.
    let mut resumed = open(dir.path(), &config);
    assert_eq!(resumed.head(), head);
    assert_eq!(resumed.snapshot().finalized, finalized);
    assert_eq!(
        resumed.store_digest().unwrap(),
        digest,
        "opening wrote nothing"
    );
    drive(
        &mut resumed,
        &config,
        5 * slots_per_epoch + 1..=6 * slots_per_epoch,
    );
    assert_eq!(resumed.head().slot, 6 * slots_per_epoch);
    assert!(resumed.snapshot().finalized.epoch > finalized.epoch);
    drop(resumed);

    // Replay: the recorded inputs into a fresh database give the same contents.
    let replay_dir = tempfile::tempdir().unwrap();
    let mut replayed = open(replay_dir.path(), &config);
    // One commit per slot, as `drive` did: before each tick but the first, and at the end.
    for (i, input) in recorded.iter().enumerate() {
        if matches!(input, Input::Tick(_)) && i > 0 {
            replayed.commit().unwrap();
        }
        apply(&mut replayed, input);
    }
    replayed.commit().unwrap();
    assert_eq!(replayed.head(), head);
    assert_eq!(replayed.store_digest().unwrap(), digest);
}

#[test]
fn a_block_with_blobs_waits_for_its_custody_columns() {
    let config = config();
    let dir = tempfile::tempdir().unwrap();
    let mut chain = open(dir.path(), &config);
    chain.set_custody_columns(vec![70, 3]);
    let local = LocalValidators::interop(0..VALIDATORS).unwrap();
    let mut caches = Caches::new();
    chain.on_tick(SLOT_MS).unwrap();
    let commitments = vec![keel_types::KzgCommitment::default()]
        .try_into()
        .unwrap();
    let block = produce_at(&mut chain, &config, 1, &local, &mut caches, commitments);
    let root = block.message.tree_hash_root();
    let genesis_head = chain.head().block_root;

    let outcome = chain
        .import_block(Arc::clone(&block), root, PayloadStatus::Valid, None)
        .unwrap();
    assert_eq!(outcome, ImportOutcome::AwaitingData);
    assert_eq!(chain.head().block_root, genesis_head, "not imported yet");

    let column = |index: u64| {
        let mut sidecar = fulu::DataColumnSidecar::<P> {
            index,
            ..Default::default()
        };
        sidecar.signed_block_header.message.slot = 1;
        Arc::new(sidecar)
    };
    assert_eq!(chain.on_data_column(column(3), root).unwrap(), None);
    // A column the node does not custody does not complete it.
    assert_eq!(chain.on_data_column(column(5), root).unwrap(), None);
    assert_eq!(chain.head().block_root, genesis_head);
    assert_eq!(
        chain.on_data_column(column(70), root).unwrap(),
        Some(ImportOutcome::Imported { root })
    );
    assert_eq!(chain.head().block_root, root);
    chain.commit().unwrap();

    // The columns are stored; a node that custodies nothing (no network) imports at once.
    drop(chain);
    let store = Store::<P>::open(dir.path(), &StoreOptions::default()).unwrap();
    let read = store.read().unwrap();
    for index in [3, 5, 70] {
        assert!(
            read.data_column(&root, index).unwrap().is_some(),
            "column {index}"
        );
    }
    drop(read);
    drop(store);
    let other = tempfile::tempdir().unwrap();
    let mut chain = open(other.path(), &config);
    chain.on_tick(SLOT_MS).unwrap();
    assert_eq!(
        chain
            .import_block(block, root, PayloadStatus::Valid, None)
            .unwrap(),
        ImportOutcome::Imported { root }
    );
}
