//! `sanity/slots`: `process_slots(pre, pre.slot + slots)` against `post`, for Electra and Fulu.
//! (The `sanity/blocks` handler belongs with block processing.)

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::runners::common::{check, config, read_ssz};
use keel_state_transition::slot::process_slots;
use keel_state_transition::{Caches, PostElectraState};
use keel_types::{Mainnet, Minimal, Preset, electra, fulu};

pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    if handler == "blocks" {
        return crate::runners::sanity_blocks::handler(preset, fork);
    }
    if handler != "slots" {
        return None;
    }
    match (preset, fork) {
        ("minimal", "electra") => Some(run_slots::<Minimal, electra::BeaconState<Minimal>>),
        ("minimal", "fulu") => Some(run_slots::<Minimal, fulu::BeaconState<Minimal>>),
        ("mainnet", "electra") => Some(run_slots::<Mainnet, electra::BeaconState<Mainnet>>),
        ("mainnet", "fulu") => Some(run_slots::<Mainnet, fulu::BeaconState<Mainnet>>),
        _ => None,
    }
}

fn run_slots<P: Preset, S: PostElectraState<P>>(case: &Case) -> CaseResult {
    let config = config::<P>();
    let mut state: S = read_ssz(case, "pre")?;
    let slots: u64 = case.read_yaml("slots.yaml")?;
    let post = case.read_ssz_snappy_opt("post")?;
    let target = state
        .slot()
        .checked_add(slots)
        .ok_or_else(|| CaseError::Mismatch("pre.slot + slots overflows".into()))?;
    let result =
        process_slots(&mut state, config, &mut Caches::new(), target).map_err(|e| e.to_string());
    check("post", result, state, post.as_deref())?;
    Ok(Outcome::Pass)
}
