//! A realistic mainnet-preset Fulu state with 1,000,000 interop validators, and a full block
//! that is valid on it (real signatures), for the state-transition benchmarks.
//!
//! The state starts as `interop_genesis_state_fulu` (every validator active, then balances
//! varied around 32 ETH) and is
//! advanced with `process_slots` through [`EPOCHS`] epochs, with ~95% of validators' flags set
//! before each epoch boundary, so justification, finalization, inactivity scores and rewards are
//! those of a healthy chain. It stops at a mid-epoch slot with ~95% of both participation
//! records set. Generating it takes a while, so its SSZ bytes (and the block's) are cached under
//! [`fixture_dir`].

use crate::{Fill, fixture_dir, interop_pubkeys};
use keel_config::ChainConfig;
use keel_config::compute_signing_root;
use keel_config::constants::{
    DOMAIN_BEACON_ATTESTER, DOMAIN_BEACON_PROPOSER, DOMAIN_RANDAO, DOMAIN_SYNC_COMMITTEE,
};
use keel_crypto::bls::{AggregateSignature, interop_secret_key};
use keel_state_transition::accessors::{
    get_block_root, get_block_root_at_slot, get_current_epoch, get_domain, get_randao_mix,
};
use keel_state_transition::block::withdrawals::get_expected_withdrawals;
use keel_state_transition::block::{SignatureStrategy, StaticExecutionEngine, process_block};
use keel_state_transition::genesis::interop_genesis_state_fulu;
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::slot::process_slots;
use keel_state_transition::{Caches, PostElectraFields, PostElectraState};
use keel_types::electra::ExecutionRequests;
use keel_types::fulu::{
    Attestation, AttestationData, BeaconBlock, BeaconBlockBody, BeaconState, Checkpoint,
    ExecutionPayload, ExecutionPayloadHeader, SignedBeaconBlock, SyncAggregate,
};
use keel_types::milhouse::List;
use keel_types::ssz::{Decode, Encode};
use keel_types::ssz_types::{BitList, BitVector, VariableList};
use keel_types::tree_hash::TreeHash;
use keel_types::typenum::Unsigned;
use keel_types::*;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// Validators in the fixture state.
pub const VALIDATORS: usize = 1_000_000;
/// Epochs the fixture is advanced through after genesis.
pub const EPOCHS: u64 = 6;
/// Slot within the last epoch at which the fixture state stops.
pub const SLOT_IN_EPOCH: u64 = 16;
/// Bumped whenever the generation changes, so stale cached bytes are not reused.
const FIXTURE_VERSION: u32 = 2;

fn cache_path(what: &str, n: usize) -> PathBuf {
    fixture_dir().join(format!("fulu-{what}-{n}-v{FIXTURE_VERSION}.ssz"))
}

fn read_cached<T: Decode>(path: &PathBuf) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    T::from_ssz_bytes(&bytes).ok()
}

fn write_cached<T: Encode>(path: &PathBuf, value: &T) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(path, value.as_ssz_bytes()) {
        eprintln!("could not cache fixture at {}: {e}", path.display());
    }
}

/// Whether validator `index` participates (deterministic, ~95%).
fn participates(index: usize, salt: u64) -> bool {
    !Fill::new((index as u64) ^ (salt << 40))
        .next_u64()
        .is_multiple_of(20)
}

/// Participation flags for `n` validators: all three flags for ~95%, none for the rest.
fn participation(n: usize, salt: u64) -> Vec<u8> {
    (0..n)
        .into_par_iter()
        .map(|i| if participates(i, salt) { 0b111 } else { 0 })
        .collect()
}

/// The realistic 1M-validator state (see the module docs), from the disk cache if present.
pub fn realistic_fulu_state() -> BeaconState<Mainnet> {
    realistic_fulu_state_n(VALIDATORS)
}

/// As [`realistic_fulu_state`] with `n` validators.
pub fn realistic_fulu_state_n(n: usize) -> BeaconState<Mainnet> {
    let path = cache_path("state", n);
    if let Some(state) = read_cached::<BeaconState<Mainnet>>(&path) {
        return state;
    }
    let started = Instant::now();
    let state = generate_state(n);
    eprintln!(
        "generated the {n}-validator Fulu state in {:.1} s (interop keys included); caching it in {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    write_cached(&path, &state);
    state
}

fn generate_state(n: usize) -> BeaconState<Mainnet> {
    let config = ChainConfig::mainnet();
    let keys = interop_pubkeys(n);
    let started = Instant::now();
    let mut fill = Fill::new(3);
    // Every validator is activated at genesis with 32 ETH; the balances are then varied: mostly
    // a little above 32 ETH (the excess the sweep withdraws), some a little below (effective
    // balance kept by hysteresis), 3% clearly below (their effective balance drops to 31 ETH).
    let validators: Vec<(PublicKeyBytes, Gwei)> =
        keys.iter().map(|pk| (*pk, 32_000_000_000)).collect();
    let balances: Vec<Gwei> = (0..n)
        .map(|_| {
            let r = fill.next_u64();
            if r.is_multiple_of(33) {
                31_000_000_000 + (r >> 8) % 700_000_000
            } else {
                31_900_000_000 + (r >> 8) % 160_000_000
            }
        })
        .collect();
    let header = ExecutionPayloadHeader::<Mainnet> {
        block_hash: fill.root(),
        block_number: 23_000_000,
        gas_limit: 45_000_000,
        timestamp: 1_760_000_000,
        ..Default::default()
    };
    let mut caches = Caches::new();
    let mut state = interop_genesis_state_fulu::<Mainnet>(
        &config,
        &validators,
        1_760_000_000,
        Hash256::repeat_byte(0x42),
        header,
        &mut caches,
    )
    .expect("genesis");
    state.balances = List::new(balances).expect("balances");
    eprintln!("  genesis: {:.1} s", started.elapsed().as_secs_f64());
    let slots_per_epoch = <Mainnet as Preset>::SlotsPerEpoch::to_u64();
    for epoch in 0..EPOCHS {
        state.current_epoch_participation =
            List::new(participation(n, epoch)).expect("participation");
        process_slots(
            &mut state,
            &config,
            &mut caches,
            (epoch + 1) * slots_per_epoch,
        )
        .expect("process_slots");
        eprintln!(
            "  epoch {} reached: {:.1} s",
            epoch + 1,
            started.elapsed().as_secs_f64()
        );
    }
    process_slots(
        &mut state,
        &config,
        &mut caches,
        EPOCHS * slots_per_epoch + SLOT_IN_EPOCH,
    )
    .expect("process_slots");
    state.current_epoch_participation = List::new(participation(n, EPOCHS)).expect("participation");
    state.apply_pending_updates().expect("apply updates");
    state
}

/// A full block for the slot after [`realistic_fulu_state`]'s, valid on it with real
/// signatures (from the disk cache if present): 8 Electra aggregates, one per recent slot, each
/// covering all committees of its slot with every member's signature; a full sync aggregate;
/// the expected withdrawals (16); 200 × 300-byte transactions; no deposits, blobs or requests.
pub fn realistic_fulu_block(state: &BeaconState<Mainnet>) -> SignedBeaconBlock<Mainnet> {
    let n = state.validators.len();
    let path = cache_path(&format!("block-slot{}", state.slot + 1), n);
    if let Some(block) = read_cached::<SignedBeaconBlock<Mainnet>>(&path) {
        return block;
    }
    let started = Instant::now();
    let block = generate_block(state);
    eprintln!(
        "generated and signed the full block in {:.1} s; caching it in {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    write_cached(&path, &block);
    block
}

fn sign_all(indices: &[u64], signing_root: Hash256) -> SignatureBytes {
    indices
        .par_iter()
        .fold(AggregateSignature::infinity, |mut agg, &i| {
            let sig = interop_secret_key(i)
                .expect("interop key")
                .sign(signing_root.as_slice());
            agg.add(&sig);
            agg
        })
        .reduce(AggregateSignature::infinity, |mut a, b| {
            a.add_aggregate(&b);
            a
        })
        .to_bytes()
}

fn generate_block(state: &BeaconState<Mainnet>) -> SignedBeaconBlock<Mainnet> {
    let config = ChainConfig::mainnet();
    let mut caches = Caches::new();
    let slot = state.slot + 1;
    let mut pre = state.clone();
    process_slots(&mut pre, &config, &mut caches, slot).expect("process_slots");
    let epoch = get_current_epoch(&pre);
    let proposer_index = pre
        .get_beacon_proposer_index(&mut caches)
        .expect("proposer");
    let parent_root = pre.latest_block_header.tree_hash_root();
    let mut fill = Fill::new(4);

    let randao_reveal = sign_all(
        &[proposer_index],
        compute_signing_root(&epoch, get_domain(&pre, DOMAIN_RANDAO, None)),
    );

    // Attestations: one aggregate per slot `slot - 1 ..= slot - 8`, all committees, all members.
    let committees = caches.committee_cache(&pre, epoch).expect("committees");
    let attester_domain = get_domain(&pre, DOMAIN_BEACON_ATTESTER, Some(epoch));
    let target = Checkpoint {
        epoch,
        root: get_block_root(&pre, epoch).expect("target root"),
    };
    let mut attestations = Vec::new();
    for k in 1..=8u64 {
        let att_slot = slot - k;
        let data = AttestationData {
            slot: att_slot,
            index: 0,
            beacon_block_root: get_block_root_at_slot(&pre, att_slot).expect("head root"),
            source: pre.current_justified_checkpoint,
            target,
        };
        let mut members = Vec::new();
        let mut committee_bits = BitVector::new();
        for c in 0..committees.committees_per_slot() {
            members.extend_from_slice(
                committees
                    .get_beacon_committee(att_slot, c)
                    .expect("committee"),
            );
            committee_bits.set(c as usize, true).expect("committee bit");
        }
        let mut aggregation_bits = BitList::with_capacity(members.len()).expect("bits");
        for i in 0..members.len() {
            aggregation_bits.set(i, true).expect("bit");
        }
        let signature = sign_all(&members, compute_signing_root(&data, attester_domain));
        attestations.push(Attestation::<Mainnet> {
            aggregation_bits,
            data,
            signature,
            committee_bits,
        });
    }

    // Sync aggregate: every member signs the previous slot's block root.
    let index_of: HashMap<PublicKeyBytes, u64> = pre
        .validators
        .iter()
        .zip(0u64..)
        .map(|(v, i)| (v.pubkey, i))
        .collect();
    let sync_members: Vec<u64> = pre
        .current_sync_committee
        .pubkeys
        .iter()
        .map(|pk| index_of[pk])
        .collect();
    let previous_slot = slot - 1;
    let sync_root = compute_signing_root(
        &get_block_root_at_slot(&pre, previous_slot).expect("block root"),
        get_domain(
            &pre,
            DOMAIN_SYNC_COMMITTEE,
            Some(previous_slot / <Mainnet as Preset>::SlotsPerEpoch::to_u64()),
        ),
    );
    let mut sync_bits = BitVector::new();
    for i in 0..sync_members.len() {
        sync_bits.set(i, true).expect("bit");
    }
    let sync_aggregate = SyncAggregate {
        sync_committee_bits: sync_bits,
        sync_committee_signature: sign_all(&sync_members, sync_root),
    };

    let withdrawals = get_expected_withdrawals(&pre)
        .expect("withdrawals")
        .withdrawals;
    let transactions = (0..200)
        .map(|_| {
            let tx: Vec<u8> = (0..300).map(|_| fill.next_u64() as u8).collect();
            ByteList::from_vec(tx).expect("transaction size")
        })
        .collect();
    let seconds_per_slot = config.slot_duration_ms / 1000;
    let body = BeaconBlockBody::<Mainnet> {
        randao_reveal,
        eth1_data: pre.eth1_data,
        graffiti: fill.root(),
        attestations: VariableList::new(attestations).expect("attestations"),
        sync_aggregate,
        execution_payload: ExecutionPayload {
            parent_hash: pre.latest_execution_payload_header.block_hash,
            fee_recipient: ExecutionAddress::from(fill.bytes::<20>()),
            state_root: fill.root(),
            receipts_root: fill.root(),
            prev_randao: get_randao_mix(&pre, epoch).expect("randao mix"),
            block_number: pre.latest_execution_payload_header.block_number + 1,
            gas_limit: 45_000_000,
            gas_used: 30_000_000,
            timestamp: pre.genesis_time + slot * seconds_per_slot,
            block_hash: fill.root(),
            transactions: VariableList::new(transactions).expect("transactions"),
            withdrawals: VariableList::new(withdrawals).expect("withdrawals"),
            ..Default::default()
        },
        execution_requests: ExecutionRequests::default(),
        ..Default::default()
    };
    let mut block = BeaconBlock {
        slot,
        proposer_index,
        parent_root,
        state_root: Hash256::ZERO,
        body,
    };
    let mut pubkeys = PubkeyCache::from_state(&pre);
    let mut post = pre.clone();
    process_block(
        &mut post,
        &block,
        &config,
        &mut caches,
        &mut pubkeys,
        &StaticExecutionEngine(true),
        SignatureStrategy::Verify,
    )
    .expect("the generated block is valid");
    post.apply_pending_updates().expect("apply updates");
    block.state_root = post.tree_hash_root();
    let signature = sign_all(
        &[proposer_index],
        compute_signing_root(&block, get_domain(&pre, DOMAIN_BEACON_PROPOSER, None)),
    );
    SignedBeaconBlock {
        message: block,
        signature,
    }
}
