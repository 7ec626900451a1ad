//! Shuffling a mainnet-sized validator set: the whole-list shuffle against the per-index function.

use criterion::{Criterion, criterion_group, criterion_main};
use keel_state_transition::{compute_shuffled_index, shuffle_list};
use keel_types::{Hash256, Mainnet, Preset};
use std::hint::black_box;

const VALIDATORS: u64 = 1_000_000;

fn bench(c: &mut Criterion) {
    let rounds = Mainnet::SHUFFLE_ROUND_COUNT as u8;
    let seed = Hash256::repeat_byte(0x42);
    let mut group = c.benchmark_group("shuffling");
    group.sample_size(10);
    group.bench_function("shuffle_list 1,000,000 indices (90 rounds)", |b| {
        let input: Vec<u32> = (0..VALIDATORS as u32).collect();
        b.iter_batched_ref(
            || input.clone(),
            |list| shuffle_list(list, black_box(&seed), rounds),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("compute_shuffled_index, one index of 1,000,000", |b| {
        b.iter(|| compute_shuffled_index(black_box(123_456), VALIDATORS, &seed, rounds))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
