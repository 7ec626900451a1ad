//! Where the time of importing the full block goes, on the 1M-validator fixture: runs
//! `process_signed_block` on fresh clones of the state advanced to the block's slot, with batched
//! signatures and with signatures skipped, and prints each run (the first `Batch` run decompresses
//! the attesters' keys into the pubkey cache; later runs find them there, as a node's warm cache
//! does). Suited to `perf record`.
//!
//! `cargo run --release -p keel-benches --bin block_steps [-- RUNS]`

use keel_benches::state_fixture::{realistic_fulu_block, realistic_fulu_state};
use keel_config::ChainConfig;
use keel_state_transition::block::attestation::{attestation_signature_set, get_attesting_indices};
use keel_state_transition::block::{
    BlockContext, SignatureStrategy, StaticExecutionEngine, process_signed_block,
};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::signature_sets::SignatureMode;
use keel_state_transition::slot::process_slots;
use keel_state_transition::{Caches, PostElectraFields, PostElectraState};
use keel_types::tree_hash::TreeHash;
use std::time::{Duration, Instant};

/// `(median, minimum)`.
fn median(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (
        times.get(times.len() / 2).copied().unwrap_or_default(),
        times.first().copied().unwrap_or_default(),
    )
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(7);
    let config = ChainConfig::mainnet();
    let mut state = realistic_fulu_state();
    state.apply_pending_updates().expect("apply updates");
    let _ = state.tree_hash_root();
    let block = realistic_fulu_block(&state);
    let mut caches = Caches::new();
    let mut pubkeys = PubkeyCache::from_state(&state);
    let mut advanced = state.clone();
    process_slots(&mut advanced, &config, &mut caches, block.message.slot).expect("slots");
    let _ = advanced.get_beacon_proposer_index(&mut caches);
    let engine = StaticExecutionEngine(true);

    let mut run = |label: &str, batch: bool, runs: usize| {
        let mut times = Vec::with_capacity(runs);
        for i in 0..runs {
            let mut s = advanced.clone();
            let mut rng = rand::rng();
            let strategy = if batch {
                SignatureStrategy::Batch(&mut rng)
            } else {
                SignatureStrategy::Skip
            };
            let t = Instant::now();
            process_signed_block(
                &mut s,
                &block,
                &config,
                &mut caches,
                &mut pubkeys,
                &engine,
                strategy,
            )
            .expect("valid block");
            let elapsed = t.elapsed();
            println!("{label} run {i}: {elapsed:?}");
            times.push(elapsed);
            drop(s);
        }
        let (median, min) = median(&mut times);
        println!("{label}: median {median:?}, min {min:?}");
    };
    run("warm-up (Batch, fills the pubkey cache)", true, 1);
    run("Batch", true, runs);
    run("Skip", false, runs);

    // The attestations' signature work alone: keys from the cache, then one set per attestation
    // (summing its keys, one pairing check) verified alone.
    let mut ctx = BlockContext::new(&config, &mut caches, &pubkeys, SignatureMode::Skip);
    let attestations = &block.message.body.attestations;
    let indices: Vec<Vec<u64>> = attestations
        .iter()
        .map(|a| get_attesting_indices(&advanced, &mut ctx, a).expect("indices"))
        .collect();
    for _ in 0..3 {
        let t = Instant::now();
        let sets: Vec<_> = attestations
            .iter()
            .zip(&indices)
            .map(|(a, i)| {
                attestation_signature_set(&advanced, &pubkeys, i, &a.data, &a.signature)
                    .expect("set")
                    .expect("non-empty")
            })
            .collect();
        let built = t.elapsed();
        let t = Instant::now();
        let valid = sets.iter().all(|s| s.verify());
        println!(
            "attestation sets: keys gathered {built:?}, each summed and verified alone {:?} ({valid})",
            t.elapsed()
        );
    }
}
