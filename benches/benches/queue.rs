//! The core's queues: one producer thread and the core draining, a mainnet slot's mix.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keel_queue::{Class, QueueConfig, channel};

/// One slot of an all-subnets node: ~30k attestations, ~1k aggregates, 512 sync messages, a
/// block and its 128 columns.
fn slot_mix() -> Vec<Class> {
    let mut mix = vec![Class::Attestation; 30_000];
    mix.extend(std::iter::repeat_n(Class::Aggregate, 1_000));
    mix.extend(std::iter::repeat_n(Class::SyncMessage, 512));
    mix.extend(std::iter::repeat_n(Class::DataColumn, 128));
    mix.push(Class::Block);
    mix
}

fn bench(c: &mut Criterion) {
    let mix = slot_mix();
    let mut group = c.benchmark_group("queue");
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("one slot's messages through producer thread -> core", |b| {
        b.iter(|| {
            let (tx, rx) = channel::<u64>(&QueueConfig::default());
            let producer = {
                let mix = mix.clone();
                std::thread::spawn(move || {
                    for (i, class) in mix.into_iter().enumerate() {
                        let _ = tx.send_blocking(class, i as u64);
                    }
                })
            };
            let mut received = 0usize;
            while rx.recv().is_some() {
                received += 1;
            }
            let _ = producer.join();
            received
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
