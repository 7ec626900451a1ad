//! State-transition benchmarks at 1,000,000 validators (mainnet preset, Fulu), on the realistic
//! fixture of `keel_benches::state_fixture` (generated once, then read from the disk cache).
//!
//! `cargo bench -p keel-benches --bench state_transition`

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use keel_benches::state_fixture::{realistic_fulu_block, realistic_fulu_state};
use keel_config::ChainConfig;
use keel_state_transition::block::{
    SignatureStrategy, StaticExecutionEngine, process_signed_block, state_transition,
};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::slot::process_slots;
use keel_state_transition::{Caches, PostElectraFields, PostElectraState};
use keel_types::fulu::BeaconState;
use keel_types::ssz::{Decode, Encode};
use keel_types::tree_hash::TreeHash;
use keel_types::{Mainnet, Preset};
use std::hint::black_box;
use std::time::Duration;

/// The fixture state, hashed (as a node's head state is after import).
fn hashed_state() -> BeaconState<Mainnet> {
    let mut state = realistic_fulu_state();
    state.apply_pending_updates().expect("apply updates");
    let _ = state.tree_hash_root();
    state
}

fn epoch_processing(c: &mut Criterion) {
    let config = ChainConfig::mainnet();
    let mut state = hashed_state();
    let slots_per_epoch = <Mainnet as Preset>::slots_per_epoch();
    let boundary = (state.slot / slots_per_epoch + 1) * slots_per_epoch;
    let mut caches = Caches::new();
    process_slots(&mut state, &config, &mut caches, boundary - 1).expect("process_slots");
    state.apply_pending_updates().expect("apply updates");
    let _ = state.tree_hash_root();
    let mut group = c.benchmark_group("state_transition/1M");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("process_slots across an epoch boundary", |b| {
        b.iter_batched(
            || (state.clone(), caches.clone()),
            |(mut state, mut caches)| {
                process_slots(&mut state, &config, &mut caches, boundary).expect("process_slots");
                state
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn block_import(c: &mut Criterion) {
    let config = ChainConfig::mainnet();
    let state = hashed_state();
    let block = realistic_fulu_block(&state);
    let mut caches = Caches::new();
    let mut pubkeys = PubkeyCache::from_state(&state);
    // The state advanced to the block's slot (as after the slot's `process_slots`).
    let mut advanced = state.clone();
    process_slots(&mut advanced, &config, &mut caches, block.message.slot).expect("slots");
    let _ = advanced.get_beacon_proposer_index(&mut caches);
    let _ = caches.committee_cache(&advanced, block.message.slot / 32);
    let engine = StaticExecutionEngine(true);

    let mut group = c.benchmark_group("state_transition/1M");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("process_signed_block (full block, Batch signatures)", |b| {
        b.iter_batched(
            || advanced.clone(),
            |mut s| {
                process_signed_block(
                    &mut s,
                    &block,
                    &config,
                    &mut caches,
                    &mut pubkeys,
                    &engine,
                    SignatureStrategy::Batch(&mut rand::rng()),
                )
                .expect("valid block");
                s
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(
        "process_signed_block (full block, signatures skipped)",
        |b| {
            b.iter_batched(
                || advanced.clone(),
                |mut s| {
                    process_signed_block(
                        &mut s,
                        &block,
                        &config,
                        &mut caches,
                        &mut pubkeys,
                        &engine,
                        SignatureStrategy::Skip,
                    )
                    .expect("valid block");
                    s
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.bench_function(
        "state_transition (slot + full block, Batch + state root)",
        |b| {
            b.iter_batched(
                || state.clone(),
                |mut s| {
                    state_transition(
                        &mut s,
                        &block,
                        &config,
                        &mut caches,
                        &mut pubkeys,
                        &engine,
                        SignatureStrategy::Batch(&mut rand::rng()),
                    )
                    .expect("valid block");
                    s
                },
                BatchSize::PerIteration,
            )
        },
    );
    // Incremental hashing: each iteration's state has the block applied to a clone of the
    // hashed state (in setup), so only the changed paths are unhashed.
    group.bench_function("hash_tree_root after the block (incremental)", |b| {
        b.iter_batched(
            || {
                let mut s = advanced.clone();
                process_signed_block(
                    &mut s,
                    &block,
                    &config,
                    &mut caches,
                    &mut pubkeys,
                    &engine,
                    SignatureStrategy::Skip,
                )
                .expect("valid block");
                s
            },
            |mut s| {
                s.apply_pending_updates().expect("apply updates");
                let root = s.tree_hash_root();
                (s, root)
            },
            BatchSize::PerIteration,
        )
    });
    let bytes = {
        let mut s = advanced.clone();
        process_signed_block(
            &mut s,
            &block,
            &config,
            &mut caches,
            &mut pubkeys,
            &engine,
            SignatureStrategy::Skip,
        )
        .expect("valid block");
        s.as_ssz_bytes()
    };
    group.bench_function("hash_tree_root after the block (from scratch)", |b| {
        b.iter_batched(
            || BeaconState::<Mainnet>::from_ssz_bytes(&bytes).expect("decode"),
            |s| {
                let root = s.tree_hash_root();
                (s, root)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn clone_and_mutate(c: &mut Criterion) {
    let state = hashed_state();
    let mut group = c.benchmark_group("state_transition/1M");
    group.bench_function("clone + mutate one balance", |b| {
        b.iter(|| {
            let mut s = black_box(&state).clone();
            *s.balances.get_mut(500_000).expect("balance") += 1;
            s
        })
    });
    group.bench_function("clone + mutate one balance + apply_pending_updates", |b| {
        b.iter(|| {
            let mut s = black_box(&state).clone();
            *s.balances.get_mut(500_000).expect("balance") += 1;
            s.apply_pending_updates().expect("apply updates");
            s
        })
    });
    group.finish();
}

criterion_group!(benches, epoch_processing, block_import, clone_and_mutate);
criterion_main!(benches);
