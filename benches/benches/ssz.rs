//! SSZ decoding and hash_tree_root of mainnet-preset Fulu objects: a full block and a state with
//! 1,000,000 validators.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use keel_benches::{mainnet_fulu_block, mainnet_fulu_state};
use keel_types::Mainnet;
use keel_types::fulu::{BeaconState, SignedBeaconBlock};
use keel_types::ssz::{Decode, Encode};
use keel_types::tree_hash::TreeHash;
use std::hint::black_box;

const VALIDATORS: usize = 1_000_000;

fn block(c: &mut Criterion) {
    let bytes = mainnet_fulu_block().as_ssz_bytes();
    let mut group = c.benchmark_group("ssz/SignedBeaconBlock (mainnet, fulu, full)");
    group.bench_function(format!("decode {} bytes", bytes.len()), |b| {
        b.iter(|| SignedBeaconBlock::<Mainnet>::from_ssz_bytes(black_box(&bytes)))
    });
    group.bench_function("decode + hash_tree_root", |b| {
        b.iter(|| {
            SignedBeaconBlock::<Mainnet>::from_ssz_bytes(black_box(&bytes))
                .map(|block| block.message.tree_hash_root())
        })
    });
    group.finish();
}

fn state(c: &mut Criterion) {
    let bytes = mainnet_fulu_state(VALIDATORS).as_ssz_bytes();
    let decode = |bytes: &[u8]| BeaconState::<Mainnet>::from_ssz_bytes(bytes).expect("decodes");
    let mut group = c.benchmark_group("ssz/BeaconState (mainnet, fulu, 1M validators)");
    group.sample_size(10);
    group.bench_function(format!("decode {} MB", bytes.len() / 1_000_000), |b| {
        b.iter(|| decode(black_box(&bytes)))
    });
    group.bench_function("hash_tree_root from scratch (after decode)", |b| {
        b.iter_batched(
            || decode(&bytes),
            |state| state.tree_hash_root(),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("encode", |b| {
        let state = decode(&bytes);
        b.iter(|| black_box(&state).as_ssz_bytes())
    });
    group.finish();
}

criterion_group!(benches, block, state);
criterion_main!(benches);
