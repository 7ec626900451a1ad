//! Fork choice at mainnet scale: 1,000,000 validators, 64 unfinalized blocks on 4 forks.
//!
//! Targets: (a) 32,000 new latest messages (one slot's attesters, as 64 aggregates of 500) then
//! `get_head` ≤ 5 ms; (b) `get_head` with nothing new ≤ 50 µs; (c) `on_block` bookkeeping
//! (everything but the state transition) ≤ 1 ms.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use keel_config::ChainConfig;
use keel_fork_choice::{
    Anchor, BlockFacts, BlockSummary, ExecutionStatus, ForkChoice, ForkChoiceConfig,
    JustifiedBalances, ViabilityContext,
};
use keel_types::phase0::{AttestationData, Checkpoint};
use keel_types::{Hash256, Mainnet, Slot};
use std::hint::black_box;

const VALIDATORS: u64 = 1_000_000;
const FORKS: u64 = 4;
const BLOCKS_PER_FORK: u64 = 16;
const BALANCE: u64 = 32_000_000_000;
const SLOT_MS: u64 = 12_000;

fn root(n: u64) -> Hash256 {
    let mut b = [0u8; 32];
    b[24..].copy_from_slice(&n.to_be_bytes());
    b[0] = 0x5a;
    Hash256::from(b)
}

/// Block `k` (0-based) of fork `f`: root, slot. Forks interleave slots 1..=64.
fn block(f: u64, k: u64) -> (Hash256, Slot) {
    (root(1 + f * 100 + k), 1 + k * FORKS + f)
}

fn facts(genesis: Hash256) -> BlockFacts {
    let cp = Checkpoint {
        epoch: 0,
        root: genesis,
    };
    BlockFacts {
        justified_checkpoint: cp,
        finalized_checkpoint: cp,
        unrealized_justified_checkpoint: cp,
        unrealized_finalized_checkpoint: cp,
        execution_status: ExecutionStatus::Optimistic,
        data_available: true,
        seen_at_ms: None,
    }
}

/// The store: 64 blocks on 4 forks from genesis, every validator with a latest message
/// (epoch 1) spread over all 64 blocks, weights applied; time at the start of slot 66.
fn setup() -> ForkChoice {
    let config = ForkChoiceConfig::new::<Mainnet>(&ChainConfig::mainnet());
    let genesis = root(0);
    let checkpoint = Checkpoint {
        epoch: 0,
        root: genesis,
    };
    let balances = JustifiedBalances::new(
        checkpoint,
        vec![BALANCE; VALIDATORS as usize],
        BALANCE * VALIDATORS,
    );
    let anchor = Anchor {
        block: BlockSummary {
            root: genesis,
            slot: 0,
            parent_root: Hash256::ZERO,
            proposer_index: 0,
            execution_block_hash: None,
        },
        state_slot: 0,
        genesis_time: 1_600_000_000,
        state_justified_checkpoint: checkpoint,
        state_finalized_checkpoint: checkpoint,
        execution_status: ExecutionStatus::Valid,
        justified_balances: balances,
    };
    let mut fc = ForkChoice::new(config, anchor).expect("anchor");
    let genesis_ms = 1_600_000_000_000u64;
    for k in 0..BLOCKS_PER_FORK {
        for f in 0..FORKS {
            let (r, slot) = block(f, k);
            let parent = if k == 0 { genesis } else { block(f, k - 1).0 };
            fc.on_tick_ms(genesis_ms + slot * SLOT_MS + 11_000)
                .expect("tick");
            let summary = BlockSummary {
                root: r,
                slot,
                parent_root: parent,
                proposer_index: slot,
                execution_block_hash: Some(r),
            };
            fc.on_block(&summary, &facts(genesis)).expect("block");
        }
    }
    fc.on_tick_ms(genesis_ms + 66 * SLOT_MS).expect("tick");
    // Initial votes (epoch 1): validator v on block v % 64.
    let all: Vec<u64> = (0..VALIDATORS).collect();
    for (i, chunk) in all.chunks((VALIDATORS / 64) as usize).enumerate() {
        let i = i as u64 % 64;
        let (r, _) = block(i % FORKS, i / FORKS);
        let data = AttestationData {
            slot: 40,
            index: 0,
            beacon_block_root: r,
            source: checkpoint,
            target: Checkpoint { epoch: 1, root: r },
        };
        fc.apply_attestation(&data, chunk).expect("votes");
    }
    fc.get_head().expect("head");
    fc
}

/// 64 aggregates of 500 validators (32,000 in all) for slot 65, target epoch 2, on the tips:
/// each validator moves from wherever it was to one of the 4 fork tips.
fn new_messages() -> Vec<(AttestationData, Vec<u64>)> {
    (0..64u64)
        .map(|c| {
            let (tip, _) = block(c % FORKS, BLOCKS_PER_FORK - 1);
            let data = AttestationData {
                slot: 65,
                index: c,
                beacon_block_root: tip,
                source: Checkpoint::default(),
                target: Checkpoint {
                    epoch: 2,
                    root: tip,
                },
            };
            let indices = (0..500)
                .map(|i| (c * 15_601 + i * 31) % VALIDATORS)
                .collect();
            (data, indices)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let base = setup();
    let messages = new_messages();
    let mut group = c.benchmark_group("fork_choice");
    group.sample_size(20);

    group.bench_function("(a) 32,000 new latest messages + get_head", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |fc| {
                for (data, indices) in &messages {
                    fc.on_attestation(data, indices, false)
                        .expect("attestation");
                }
                black_box(fc.get_head().expect("head"))
            },
            BatchSize::LargeInput,
        )
    });

    group.bench_function("(b) get_head, nothing new", |b| {
        let mut fc = base.clone();
        fc.get_head().expect("head");
        b.iter(|| black_box(fc.get_head().expect("head")))
    });

    group.bench_function("(b') proto-array pass, no vote changes (uncached)", |b| {
        let mut array = base.proto_array().clone();
        let ctx = ViabilityContext {
            current_epoch: 2,
            justified_epoch: 0,
            finalized_epoch: 0,
            slots_per_epoch: 32,
        };
        b.iter(|| {
            let mut deltas = vec![0i64; array.len()];
            array
                .apply_score_changes(&mut deltas, &ctx, None)
                .expect("pass");
            black_box(array.find_head(&root(0)).expect("head"))
        })
    });

    let genesis = root(0);
    let (tip, _) = block(3, BLOCKS_PER_FORK - 1);
    let new_block = BlockSummary {
        root: root(9_999),
        slot: 66,
        parent_root: tip,
        proposer_index: 66,
        execution_block_hash: Some(root(9_999)),
    };
    group.bench_function("(c) on_block bookkeeping (timely, takes the boost)", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |fc| black_box(fc.on_block(&new_block, &facts(genesis)).expect("block")),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("(c') on_block + get_head (boost applied)", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |fc| {
                fc.on_block(&new_block, &facts(genesis)).expect("block");
                black_box(fc.get_head().expect("head"))
            },
            BatchSize::LargeInput,
        )
    });

    group.bench_function(
        "new justified balances: 1,000,000-validator rescan + get_head",
        |b| {
            b.iter_batched_ref(
                || {
                    let mut fc = base.clone();
                    let cp = fc.justified_checkpoint();
                    let mut balances = vec![BALANCE; VALIDATORS as usize];
                    for i in (0..VALIDATORS as usize).step_by(97) {
                        balances[i] = BALANCE - 1_000_000_000;
                    }
                    fc.set_justified_balances(JustifiedBalances::new(
                        cp,
                        balances,
                        BALANCE * VALIDATORS,
                    ))
                    .expect("balances");
                    fc
                },
                |fc| black_box(fc.get_head().expect("head")),
                BatchSize::LargeInput,
            )
        },
    );

    group.bench_function("persist: to_bytes (1,000,000 votes)", |b| {
        b.iter(|| black_box(base.to_bytes().len()))
    });
    let bytes = base.to_bytes();
    let config = base.config().clone();
    let balances = base.justified_balances().clone();
    group.bench_function(
        "restart: from_bytes + balances + first get_head (all votes re-applied)",
        |b| {
            b.iter_batched(
                || balances.clone(),
                |balances| {
                    let mut fc = ForkChoice::from_bytes(config.clone(), &bytes).expect("decode");
                    fc.set_justified_balances(balances).expect("balances");
                    black_box(fc.get_head().expect("head"))
                },
                BatchSize::LargeInput,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
