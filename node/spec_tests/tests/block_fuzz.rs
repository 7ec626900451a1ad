//! No block panics the state transition: blocks from the vectors' `sanity/blocks` cases, with
//! random bytes overwritten (indices, lengths, offsets, amounts, bit fields), are decoded and, when
//! they decode, run through `state_transition` against their pre-state with signatures skipped
//! (so that the mutation reaches the deepest checks). Each run must return `Ok` or a typed error;
//! a panic (including an arithmetic overflow, which panics in this test profile) fails the test.

use keel_spec_tests::walk::{self, Filter};
use keel_spec_tests::{Case, runners::common::config};
use keel_state_transition::Caches;
use keel_state_transition::block::{
    BlockError, SignatureStrategy, StaticExecutionEngine, state_transition,
};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_types::ssz::Decode;
use keel_types::{Minimal, fulu};
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

const CASES: &[&str] = &[
    "full_random_operations_0",
    "full_random_operations_1",
    "attestation",
    "attester_slashing",
    "proposer_slashing",
    "voluntary_exit",
    "deposit_request",
    "withdrawal_request",
    "consolidation_request",
    "sync_committee_committee__full",
    "bls_change",
];

struct Fixture {
    pre: fulu::BeaconState<Minimal>,
    block: Vec<u8>,
}

fn fixtures() -> Vec<Fixture> {
    let filter = Filter {
        preset: Some("minimal".into()),
        fork: Some("fulu".into()),
        runner: Some("sanity".into()),
        handler: Some("blocks".into()),
        ..Default::default()
    };
    let cases: Vec<Case> =
        walk::discover(&walk::default_root(), &filter).expect("vectors readable");
    cases
        .into_iter()
        .filter(|c| CASES.iter().any(|name| c.name.starts_with(name)))
        .filter_map(|c| {
            let pre = fulu::BeaconState::from_ssz_bytes(&c.read_ssz_snappy("pre").ok()?).ok()?;
            let block = c.read_ssz_snappy("blocks_0").ok()?;
            Some(Fixture { pre, block })
        })
        .collect()
}

/// The block applied to a fresh copy of the fixture's pre-state, signatures skipped.
fn apply(fixture: &Fixture, block: &fulu::SignedBeaconBlock<Minimal>) -> Result<(), BlockError> {
    let mut state = fixture.pre.clone();
    state_transition(
        &mut state,
        block,
        config::<Minimal>(),
        &mut Caches::new(),
        &mut PubkeyCache::new(),
        &StaticExecutionEngine(true),
        SignatureStrategy::Skip,
    )
}

fn run(fixture: &Fixture, bytes: &[u8]) {
    let Ok(block) = fulu::SignedBeaconBlock::<Minimal>::from_ssz_bytes(bytes) else {
        return;
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| apply(fixture, &block)));
    assert!(
        outcome.is_ok(),
        "state_transition panicked on a mutated block"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn mutated_blocks_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        thread_local!(static FIXTURES: Vec<Fixture> = fixtures());
        FIXTURES.with(|fixtures| {
            assert!(fixtures.len() >= 5, "expected sanity/blocks vectors, found {}", fixtures.len());
            let fixture = &fixtures[pick.index(fixtures.len())];
            let mut bytes = fixture.block.clone();
            for (at, value) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *value;
            }
            run(fixture, &bytes);
        });
    }
}

#[test]
fn the_unmutated_blocks_are_processed() {
    // Guards the fuzz test itself: its fixtures must be blocks the transition accepts, or the
    // mutations would never get past the first check.
    let fixtures = fixtures();
    assert!(fixtures.len() >= 5);
    let accepted = fixtures
        .iter()
        .filter(|f| {
            let block = fulu::SignedBeaconBlock::<Minimal>::from_ssz_bytes(&f.block).unwrap();
            apply(f, &block).is_ok()
        })
        .count();
    assert!(
        accepted * 2 >= fixtures.len(),
        "only {accepted} of {} fixtures apply",
        fixtures.len()
    );
}
