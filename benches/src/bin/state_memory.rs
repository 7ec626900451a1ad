//! Peak memory of one 1M-validator state plus 32 clones, each with one balance mutated (the
//! clones share everything else with the original: milhouse's structural sharing).
//!
//! `cargo run --release -p keel-benches --bin state_memory`
//!
//! Reads VmRSS and VmHWM from `/proc/self/status` (Linux). The fixture is read from its disk
//! cache (generate it first with the `state_transition` bench, or this generates it).

use keel_benches::state_fixture::realistic_fulu_state;
use keel_state_transition::PostElectraFields;
use keel_types::tree_hash::TreeHash;

/// `(VmRSS, VmHWM)` in MiB.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn report(label: &str) {
    let (rss, hwm) = rss_mib();
    println!("{label:<48} VmRSS {rss:>8.0} MiB   VmHWM {hwm:>8.0} MiB");
}

fn main() {
    report("start");
    let mut state = realistic_fulu_state();
    report("one state decoded");
    state.apply_pending_updates().expect("apply updates");
    let root = state.tree_hash_root();
    report("one state, hashed");
    let clones: Vec<_> = (0..32u64)
        .map(|i| {
            let mut s = state.clone();
            *s.balances.get_mut(i as usize * 31_013).expect("balance") += 1;
            s.apply_pending_updates().expect("apply updates");
            assert_ne!(s.tree_hash_root(), root);
            s
        })
        .collect();
    report("+ 32 clones, one balance each, hashed");
    println!(
        "states alive: {}; the peak (VmHWM) includes decoding's transient buffers",
        clones.len() + 1
    );
}
