//! Where the time of `process_slots` across an epoch boundary goes, on the 1M-validator fixture:
//! `process_slot` and `process_epoch` timed apart, then the state's re-hash after the epoch; and
//! one `get_total_active_balance` (which block processing computes once per block). `process_slot`
//! is first timed on fresh clones: it is much slower on clones taken after an earlier clone went
//! through `process_epoch` and was dropped (the allocator's deferred work for the freed state
//! lands on the next allocations). With `KEEL_LEAK_STATES=1` the processed clones are leaked
//! instead of dropped, and `process_slot` stays fast.
//!
//! `cargo run --release -p keel-benches --bin epoch_steps`

use keel_benches::state_fixture::{realistic_fulu_block, realistic_fulu_state};
use keel_config::ChainConfig;
use keel_state_transition::epoch::process_epoch;
use keel_state_transition::slot::{process_slot, process_slots};
use keel_state_transition::{Caches, PostElectraFields};
use keel_types::tree_hash::TreeHash;
use keel_types::{Mainnet, Preset};
use std::time::Instant;

fn main() {
    let config = ChainConfig::mainnet();
    let mut state = realistic_fulu_state();
    let block = realistic_fulu_block(&state);
    let body = &block.message.body;
    println!(
        "fixture: slot {}, finalized epoch {}, block slot {}: {} withdrawals, {} attestations \
         with {} attesters, {} sync committee bits",
        state.slot,
        state.finalized_checkpoint.epoch,
        block.message.slot,
        body.execution_payload.withdrawals.len(),
        body.attestations.len(),
        body.attestations
            .iter()
            .map(|a| a.aggregation_bits.num_set_bits())
            .sum::<usize>(),
        body.sync_aggregate.sync_committee_bits.num_set_bits(),
    );
    let slots_per_epoch = <Mainnet as Preset>::slots_per_epoch();
    let boundary = (state.slot / slots_per_epoch + 1) * slots_per_epoch;
    let mut caches = Caches::new();
    process_slots(&mut state, &config, &mut caches, boundary - 1).expect("process_slots");
    state.apply_pending_updates().expect("apply updates");
    let _ = state.tree_hash_root();
    let t = Instant::now();
    let total = keel_state_transition::accessors::get_total_active_balance(&state)
        .expect("total active balance");
    println!(
        "get_total_active_balance (one pass over the registry, as block processing does): {:?} ({total} Gwei)",
        t.elapsed()
    );
    for run in 0..3 {
        let mut s = state.clone();
        let t = Instant::now();
        process_slot(&mut s).expect("process_slot");
        println!("probe {run}: process_slot alone {:?}", t.elapsed());
    }
    for run in 0..5 {
        let mut s = state.clone();
        let mut c = caches.clone();
        let t = Instant::now();
        process_slot(&mut s).expect("process_slot");
        let slot_time = t.elapsed();
        let t = Instant::now();
        process_epoch(&mut s, &config, &mut c).expect("process_epoch");
        let epoch_time = t.elapsed();
        let t = Instant::now();
        s.apply_pending_updates().expect("apply updates");
        let _ = s.tree_hash_root();
        println!(
            "run {run}: process_slot {slot_time:?}, process_epoch {epoch_time:?}, re-hash after {:?}",
            t.elapsed()
        );
        if std::env::var_os("KEEL_LEAK_STATES").is_some() {
            std::mem::forget(s);
        }
    }
}
