//! Readers never slow the writer: the core imports and commits a run of blocks and publishes a
//! snapshot after each, once with nobody reading and once with a reader thread loading
//! snapshots and reading the head state in a tight loop. Snapshots are `ArcSwap` loads of
//! immutable, structurally shared states, so the two should match within noise.
//!
//! One reader thread, not more: on this 2-core machine the core and one reader each have a
//! core; further spinning threads would measure the OS scheduler, not lock contention.
//! Minimal preset, 64 interop validators, 32 blocks (4 epochs, so epoch processing is in it).

use criterion::{Criterion, criterion_group, criterion_main};
use keel_config::ChainConfig;
use keel_core::{Chain, ChainAnchor, CoreError, publish};
use keel_pipeline_api::{PayloadStatus, SnapshotCell};
use keel_state_transition::Caches;
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_store::{Store, StoreOptions};
use keel_types::electra::{ExecutionPayloadHeader, SignedBeaconBlock};
use keel_types::tree_hash::TreeHash;
use keel_types::{Hash256, Minimal, deneb, fulu};
use keel_validator::produce::{
    BlockContents, LocalValidators, interop_genesis, payload_request, produce_block,
    proposer_index, state_at_slot,
};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

type P = Minimal;
const SLOT_MS: u64 = 6000;
const BLOCKS: u64 = 32;

fn genesis(config: &ChainConfig) -> fulu::BeaconState<P> {
    let header = ExecutionPayloadHeader::<P> {
        block_hash: Hash256::repeat_byte(1),
        gas_limit: 30_000_000,
        ..Default::default()
    };
    interop_genesis(config, 64, 0, header).expect("interop genesis")
}

fn open(config: &Arc<ChainConfig>, dir: &std::path::Path) -> Chain<P> {
    let store = Arc::new(Store::<P>::open(dir, &StoreOptions::default()).expect("store"));
    let cfg = Arc::clone(config);
    Chain::open(
        Arc::clone(config),
        store,
        move || -> Result<_, CoreError> { Ok(ChainAnchor::genesis(genesis(&cfg))) },
    )
    .expect("chain")
}

/// A run of blocks, one per slot, each on the previous.
fn blocks(config: &Arc<ChainConfig>) -> Vec<Arc<SignedBeaconBlock<P>>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = open(config, dir.path());
    let local = LocalValidators::interop(0..64).expect("keys");
    let mut caches = Caches::new();
    let mut out = Vec::new();
    for slot in 1..=BLOCKS {
        chain.on_tick(slot * SLOT_MS).expect("tick");
        let snapshot = chain.snapshot();
        let head = snapshot.head_state().expect("head").clone();
        let state = state_at_slot(&head.state, slot, config, &mut caches).expect("advance");
        let proposer = proposer_index(&state, &mut caches).expect("proposer");
        let request = payload_request(&state, config, head.block_root).expect("request");
        let mut block_hash = [0u8; 32];
        block_hash[..8].copy_from_slice(&slot.to_le_bytes());
        let payload = deneb::ExecutionPayload::<P> {
            parent_hash: request.parent_hash,
            prev_randao: request.prev_randao,
            timestamp: request.timestamp,
            withdrawals: request.withdrawals.try_into().expect("withdrawals"),
            block_number: slot,
            gas_limit: 30_000_000,
            block_hash: Hash256::from(block_hash),
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
        let mut pubkeys = PubkeyCache::from_state(&state);
        let (block, _) = produce_block(
            &state,
            proposer,
            &local.get(proposer).expect("key").0,
            contents,
            config,
            &mut caches,
            &mut pubkeys,
        )
        .expect("block");
        let block = Arc::new(block);
        let root = block.message.tree_hash_root();
        chain
            .import_block(Arc::clone(&block), root, PayloadStatus::Valid, None)
            .expect("import");
        out.push(block);
    }
    out
}

/// What runs beside the core.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Beside {
    Nothing,
    /// A thread loading snapshots and reading the head state in a tight loop.
    SnapshotReader,
    /// A thread spinning without touching the chain: the control for CPU contention alone.
    BusyLoop,
}

/// Imports every block into a fresh chain: import, commit, publish, per block.
fn import_all(config: &Arc<ChainConfig>, blocks: &[Arc<SignedBeaconBlock<P>>], beside: Beside) {
    let readers = usize::from(beside != Beside::Nothing);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut chain = open(config, dir.path());
    let cell = Arc::new(SnapshotCell::new(chain.snapshot()));
    let pubkeys = arc_swap::ArcSwap::new(chain.pubkeys());
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..readers)
        .map(|_| {
            let cell = Arc::clone(&cell);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if beside == Beside::SnapshotReader {
                        let snapshot = cell.load();
                        if let Some(head) = snapshot.head_state() {
                            black_box(head.state.balances.get(0));
                        }
                    }
                    reads = black_box(reads + 1);
                }
                reads
            })
        })
        .collect();
    for block in blocks {
        chain.on_tick(block.message.slot * SLOT_MS).expect("tick");
        let root = block.message.tree_hash_root();
        chain
            .import_block(Arc::clone(block), root, PayloadStatus::Valid, None)
            .expect("import");
        chain.commit().expect("commit");
        publish(&mut chain, &cell, &pubkeys);
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        black_box(thread.join().expect("reader"));
    }
}

fn bench(c: &mut Criterion) {
    let config = Arc::new(ChainConfig::dev(SLOT_MS));
    let blocks = blocks(&config);
    let mut group = c.benchmark_group("core_readers");
    group.sample_size(10);
    group.bench_function("import+commit+publish 32 blocks, no readers", |b| {
        b.iter(|| import_all(&config, &blocks, Beside::Nothing))
    });
    group.bench_function("import+commit+publish 32 blocks, 1 reader spinning", |b| {
        b.iter(|| import_all(&config, &blocks, Beside::SnapshotReader))
    });
    group.bench_function(
        "import+commit+publish 32 blocks, 1 busy loop (control)",
        |b| b.iter(|| import_all(&config, &blocks, Beside::BusyLoop)),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
