//! `shuffling/core/shuffle`: the permutation of `count` indices under `seed`.
//!
//! Both the per-index `compute_shuffled_index` and the whole-list `shuffle_list` are checked
//! against `mapping`, so that neither can drift from the spec.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::ensure_eq;
use keel_state_transition::{compute_shuffled_index, shuffle_list};
use keel_types::{Hash256, Mainnet, Minimal, Preset};
use serde::Deserialize;

#[derive(Deserialize)]
struct Mapping {
    seed: String,
    count: u64,
    mapping: Vec<u64>,
}

pub fn handler(preset: &str, _fork: &str, handler: &str) -> Option<HandlerFn> {
    match (preset, handler) {
        ("minimal", "core") => Some(run::<Minimal>),
        ("mainnet", "core") => Some(run::<Mainnet>),
        _ => None,
    }
}

fn run<P: Preset>(case: &Case) -> CaseResult {
    let m: Mapping = case.read_yaml("mapping.yaml")?;
    let seed_bytes = crate::case::parse_hex(&m.seed)?;
    let seed = Hash256::try_from(seed_bytes.as_slice())
        .map_err(|_| CaseError::Mismatch(format!("seed {} is not 32 bytes", m.seed)))?;
    let rounds = u8::try_from(P::SHUFFLE_ROUND_COUNT)
        .map_err(|_| CaseError::Mismatch("SHUFFLE_ROUND_COUNT exceeds 255".into()))?;
    ensure_eq!(m.mapping.len() as u64, m.count, "mapping length vs count");

    let mut list: Vec<u64> = (0..m.count).collect();
    shuffle_list(&mut list, &seed, rounds)
        .map_err(|e| CaseError::Mismatch(format!("shuffle_list: {e}")))?;
    ensure_eq!(list, m.mapping, "shuffle_list permutation");

    for (i, expected) in m.mapping.iter().enumerate() {
        let got = compute_shuffled_index(i as u64, m.count, &seed, rounds)
            .map_err(|e| CaseError::Mismatch(format!("compute_shuffled_index({i}): {e}")))?;
        ensure_eq!(got, *expected, format!("compute_shuffled_index({i})"));
    }
    Ok(Outcome::Pass)
}
