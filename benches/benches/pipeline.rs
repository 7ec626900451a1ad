//! The pipeline's stages one at a time (issue 5): decode (snappy + SSZ), gossip validation of a
//! single attestation against a snapshot, BLS batches of 1/8/64/256 sets (same message and
//! distinct), and the core's LMDB commit of one block's changes. (The queue has its own bench,
//! `queue.rs`.)
//!
//! Sizes: decode uses a mainnet-shaped attestation and the full mainnet-preset block of
//! [`keel_benches::mainnet_fulu_block`]; validation and the commit use the mainnet-preset state of
//! [`keel_benches::state_fixture`] with 16,384 interop validators (the rules and the commit do
//! not depend on the registry size beyond the committee scan and the key lookup; the 1M state
//! costs ~100 MB per chain).

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use keel_config::ChainConfig;
use keel_config::constants::DOMAIN_BEACON_ATTESTER;
use keel_config::signing::compute_signing_root;
use keel_core::{Chain, ChainAnchor};
use keel_crypto::bls::{PublicKey, Signature, SignatureSet, interop_secret_key};
use keel_decode::GossipDecoder;
use keel_pipeline_api::{GossipKind, GossipTopic, PayloadStatus, PeerTag, RawMessage};
use keel_state_transition::Caches;
use keel_state_transition::accessors::{compute_epoch_at_slot, get_domain};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_store::{Store, StoreOptions};
use keel_types::electra::{
    AttestationData, BeaconBlock, ExecutionPayload, SignedBeaconBlock, SingleAttestation,
};
use keel_types::phase0::Checkpoint;
use keel_types::ssz::Encode;
use keel_types::tree_hash::TreeHash;
use keel_types::{Hash256, Mainnet, fulu};
use keel_validator::BlockContents;
use keel_validator::produce::{payload_request, produce_block, proposer_index, state_at_slot};
use keel_verify::bls_batch::{BatchItem, verify_batch};
use keel_verify::gossip::compute_subnet_for_attestation;
use keel_verify::{GossipContext, GossipValidator};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

type P = Mainnet;

/// Mainnet's config with every fork from genesis (the load test's chain).
fn config() -> Arc<ChainConfig> {
    let mut config = ChainConfig::mainnet();
    config.altair_fork_epoch = 0;
    config.bellatrix_fork_epoch = 0;
    config.capella_fork_epoch = 0;
    config.deneb_fork_epoch = 0;
    config.electra_fork_epoch = 0;
    config.fulu_fork_epoch = 0;
    Arc::new(config)
}

fn compress(ssz: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(ssz)
        .expect("snappy compresses anything")
}

fn raw(topic: &GossipTopic, data: Vec<u8>) -> RawMessage {
    RawMessage {
        topic: topic.to_string(),
        data,
        peer: PeerTag(1),
        received_at: Instant::now(),
    }
}

/// The block of the fixture state's latest block header (its anchor).
fn anchor_block(state: &fulu::BeaconState<P>) -> SignedBeaconBlock<P> {
    let header = state.latest_block_header;
    SignedBeaconBlock {
        message: BeaconBlock {
            slot: header.slot,
            proposer_index: header.proposer_index,
            parent_root: header.parent_root,
            state_root: header.state_root,
            body: Default::default(),
        },
        signature: Default::default(),
    }
}

fn open_chain(
    config: &Arc<ChainConfig>,
    state: &fulu::BeaconState<P>,
) -> (tempfile::TempDir, Chain<P>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::<P>::open(dir.path(), &StoreOptions::default()).expect("store"));
    let anchor = ChainAnchor {
        state: state.clone(),
        block: anchor_block(state),
    };
    let chain = Chain::open(Arc::clone(config), store, move || Ok(anchor)).expect("chain");
    (dir, chain)
}

fn decode(c: &mut Criterion) {
    let config = config();
    let gvr = Hash256::repeat_byte(7);
    let decoder = GossipDecoder::<P>::new(&config, gvr);
    let digest = config.compute_fork_digest(gvr, 0);
    let attestation = SingleAttestation {
        committee_index: 17,
        attester_index: 712_345,
        data: AttestationData {
            slot: 12_800_000,
            index: 0,
            beacon_block_root: Hash256::repeat_byte(1),
            source: Checkpoint {
                epoch: 399_998,
                root: Hash256::repeat_byte(2),
            },
            target: Checkpoint {
                epoch: 399_999,
                root: Hash256::repeat_byte(3),
            },
        },
        signature: keel_types::SignatureBytes::from([0xab; 96]),
    };
    let attestation_topic = GossipTopic {
        fork_digest: digest,
        kind: GossipKind::BeaconAttestation(17),
    };
    let attestation_raw = raw(&attestation_topic, compress(&attestation.as_ssz_bytes()));
    let block = keel_benches::mainnet_fulu_block();
    let block_ssz = block.as_ssz_bytes();
    let block_topic = GossipTopic {
        fork_digest: digest,
        kind: GossipKind::BeaconBlock,
    };
    let block_raw = raw(&block_topic, compress(&block_ssz));
    assert!(decoder.decode(&attestation_raw).0.is_ok());
    assert!(decoder.decode(&block_raw).0.is_ok());

    let mut group = c.benchmark_group("pipeline/decode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("single attestation (snappy + SSZ + message-id)", |b| {
        b.iter(|| decoder.decode(black_box(&attestation_raw)))
    });
    group.bench_function(
        format!(
            "mainnet block, {} KiB SSZ / {} KiB snappy",
            block_ssz.len() / 1024,
            block_raw.data.len() / 1024
        ),
        |b| b.iter(|| decoder.decode(black_box(&block_raw))),
    );
    group.finish();
}

fn validation(c: &mut Criterion) {
    let config = config();
    let state = keel_benches::state_fixture::realistic_fulu_state_n(16_384);
    let (_dir, mut chain) = open_chain(&config, &state);
    let snapshot = chain.snapshot();
    let anchor_root = snapshot.head.block_root;
    let slot = state.slot;
    let epoch = compute_epoch_at_slot::<P>(slot);
    let mut caches = Caches::new();
    let committees = caches.committee_cache(&state, epoch).expect("committees");
    let committee = committees.get_beacon_committee(slot, 1).expect("committee");
    let attester = committee[committee.len() / 2];
    let data = AttestationData {
        slot,
        index: 0,
        beacon_block_root: anchor_root,
        source: state.current_justified_checkpoint,
        target: Checkpoint {
            epoch,
            root: anchor_root,
        },
    };
    let root = compute_signing_root(
        &data,
        get_domain(&state, DOMAIN_BEACON_ATTESTER, Some(epoch)),
    );
    let single = SingleAttestation {
        committee_index: 1,
        attester_index: attester,
        data,
        signature: interop_secret_key(attester)
            .expect("key")
            .sign(root.as_slice())
            .to_bytes(),
    };
    let subnet = compute_subnet_for_attestation::<P>(
        committees.committees_per_slot(),
        slot,
        1,
        config.attestation_subnet_count,
    );
    let pubkeys = PubkeyCache::from_state(&state);
    let _ = pubkeys.get(&state, attester);
    let validator = GossipValidator::<P>::new(Arc::clone(&config));
    let ctx = GossipContext {
        snapshot: &snapshot,
        pubkeys: &pubkeys,
        now_ms: (snapshot.genesis_time + slot * 12) * 1000 + 4000,
    };
    let pending = validator
        .validate_single_attestation(&ctx, subnet, &single, Instant::now())
        .expect("the attestation passes the gossip rules");
    let mut rng = rand::rng();
    assert!(validator.finish(vec![pending], &mut rng)[0].is_ok());
    // `finish` marked the attester seen: a fresh validator for the timed runs.
    let validator = GossipValidator::<P>::new(Arc::clone(&config));
    let _ = validator.validate_single_attestation(&ctx, subnet, &single, Instant::now());

    let mut group = c.benchmark_group("pipeline/validation");
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        "single attestation, rules without BLS (16,384 validators, mainnet preset)",
        |b| {
            b.iter(|| {
                validator
                    .validate_single_attestation(&ctx, subnet, black_box(&single), Instant::now())
                    .is_ok()
            })
        },
    );
    group.finish();
}

fn bls_batch(c: &mut Criterion) {
    const MAX: usize = 256;
    let keys: Vec<_> = (0..MAX as u64)
        .map(|i| interop_secret_key(i).expect("interop key"))
        .collect();
    let public: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
    let same_message = Hash256::repeat_byte(0x33);
    let same: Vec<Signature> = keys
        .iter()
        .map(|k| k.sign(same_message.as_slice()))
        .collect();
    let messages: Vec<Hash256> = (0..MAX)
        .map(|i| Hash256::from(keel_benches::Fill::new(i as u64).bytes::<32>()))
        .collect();
    let distinct: Vec<Signature> = keys
        .iter()
        .zip(&messages)
        .map(|(k, m)| k.sign(m.as_slice()))
        .collect();
    let items = |n: usize, same_root: bool| -> Vec<BatchItem<'_, usize>> {
        (0..n)
            .map(|i| BatchItem {
                item: i,
                sets: vec![if same_root {
                    SignatureSet::single_pubkey(&same[i], &public[i], same_message)
                } else {
                    SignatureSet::single_pubkey(&distinct[i], &public[i], messages[i])
                }],
            })
            .collect()
    };
    let mut rng = rand::rng();
    for same_root in [true, false] {
        let (results, _) = verify_batch(items(MAX, same_root), &mut rng);
        assert!(results.iter().all(|(_, ok)| *ok), "valid sets verify");
    }

    let mut group = c.benchmark_group("pipeline/bls_batch");
    for n in [1usize, 8, 64, 256] {
        group.throughput(Throughput::Elements(n as u64));
        for (same_root, label) in [(true, "same message"), (false, "distinct messages")] {
            group.bench_with_input(BenchmarkId::new(label, n), &n, |b, &n| {
                b.iter_batched(
                    || items(n, same_root),
                    |batch| verify_batch(batch, &mut rng),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

/// A block for the slot after `state`'s, on `parent`, without attestations, and its post-state.
fn next_block(
    config: &ChainConfig,
    state: &fulu::BeaconState<P>,
    parent: Hash256,
) -> (SignedBeaconBlock<P>, fulu::BeaconState<P>) {
    let mut caches = Caches::new();
    let pre = state_at_slot(state, state.slot + 1, config, &mut caches).expect("advance");
    let proposer = proposer_index(&pre, &mut caches).expect("proposer");
    let request = payload_request(&pre, config, parent).expect("payload request");
    let payload = ExecutionPayload::<P> {
        parent_hash: request.parent_hash,
        prev_randao: request.prev_randao,
        timestamp: request.timestamp,
        withdrawals: request.withdrawals.try_into().expect("withdrawals"),
        block_number: pre.latest_execution_payload_header.block_number + 1,
        gas_limit: 45_000_000,
        block_hash: Hash256::repeat_byte(0xbb),
        ..Default::default()
    };
    let contents = BlockContents {
        payload,
        execution_requests: Default::default(),
        blob_kzg_commitments: Default::default(),
        attestations: Vec::new(),
        sync_aggregate: None,
        graffiti: Default::default(),
    };
    let mut pubkeys = PubkeyCache::from_state(&pre);
    produce_block(
        &pre,
        proposer,
        &interop_secret_key(proposer).expect("key"),
        contents,
        config,
        &mut caches,
        &mut pubkeys,
    )
    .expect("block")
}

fn commit(c: &mut Criterion) {
    let config = config();
    let state = keel_benches::state_fixture::realistic_fulu_state_n(16_384);
    // The first block after the anchor also writes its post-state (the store keeps one state
    // per epoch, and the anchor block is from slot 0): it is imported in the setup, and the
    // second block, an ordinary mid-epoch one, is timed.
    let anchor_root = anchor_block(&state).message.tree_hash_root();
    let (first, post) = next_block(&config, &state, anchor_root);
    let first = Arc::new(first);
    let first_root = first.message.tree_hash_root();
    let (block, _) = next_block(&config, &post, first_root);
    let block = Arc::new(block);
    let root = block.message.tree_hash_root();
    let tick_ms = (state.genesis_time + (state.slot + 2) * 12) * 1000 + 500;
    let setup = || {
        let (dir, mut chain) = open_chain(&config, &state);
        chain.on_tick(tick_ms).expect("tick");
        chain
            .import_block(
                Arc::clone(&first),
                first_root,
                PayloadStatus::Valid,
                Some(tick_ms),
            )
            .expect("import");
        chain.commit().expect("commit");
        (dir, chain)
    };
    let import = |chain: &mut Chain<P>| {
        chain
            .import_block(
                Arc::clone(&block),
                root,
                PayloadStatus::Valid,
                Some(tick_ms),
            )
            .expect("import");
    };

    let mut group = c.benchmark_group("pipeline/core");
    group.sample_size(20);
    group.bench_function(
        "import_block + commit, a mid-epoch block (16,384 validators, mainnet preset)",
        |b| {
            b.iter_batched(
                setup,
                |(dir, mut chain)| {
                    import(&mut chain);
                    chain.commit().expect("commit");
                    (dir, chain)
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.bench_function(
        "commit alone: that block's changes in one LMDB transaction",
        |b| {
            b.iter_batched(
                || {
                    let (dir, mut chain) = setup();
                    import(&mut chain);
                    (dir, chain)
                },
                |(dir, mut chain)| {
                    chain.commit().expect("commit");
                    (dir, chain)
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, decode, validation, bls_batch, commit);
criterion_main!(benches);
