//! `rewards/<handler>` (`basic`, `leak`, `random`, `inactivity_scores`): the Altair+ reward
//! delta functions on `pre`, each compared with its `Deltas` file: `get_flag_index_deltas` for
//! the source, target and head flags and `get_inactivity_penalty_deltas`. (Phase 0's
//! `inclusion_delay_deltas` does not exist from Altair on; a case carrying it fails.)

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::ensure;
use crate::runners::common::{config, read_ssz};
use keel_config::constants::{
    TIMELY_HEAD_FLAG_INDEX, TIMELY_SOURCE_FLAG_INDEX, TIMELY_TARGET_FLAG_INDEX,
};
use keel_state_transition::PostElectraState;
use keel_state_transition::epoch::{
    EpochSummary, get_flag_index_deltas, get_inactivity_penalty_deltas,
};
use keel_types::{Gwei, Mainnet, Minimal, Preset, electra, fulu};
use ssz_derive::Decode;
use ssz_types::VariableList;

const HANDLERS: &[&str] = &["basic", "leak", "random", "inactivity_scores"];

/// The format's `Deltas` container.
#[derive(Decode)]
struct Deltas<P: Preset> {
    rewards: VariableList<Gwei, P::ValidatorRegistryLimit>,
    penalties: VariableList<Gwei, P::ValidatorRegistryLimit>,
}

pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    if !HANDLERS.contains(&handler) {
        return None;
    }
    match (preset, fork) {
        ("minimal", "electra") => Some(run::<Minimal, electra::BeaconState<Minimal>>),
        ("minimal", "fulu") => Some(run::<Minimal, fulu::BeaconState<Minimal>>),
        ("mainnet", "electra") => Some(run::<Mainnet, electra::BeaconState<Mainnet>>),
        ("mainnet", "fulu") => Some(run::<Mainnet, fulu::BeaconState<Mainnet>>),
        _ => None,
    }
}

fn run<P: Preset, S: PostElectraState<P>>(case: &Case) -> CaseResult {
    let config = config::<P>();
    let state: S = read_ssz(case, "pre")?;
    ensure!(
        !case.exists("inclusion_delay_deltas.ssz_snappy"),
        "inclusion_delay_deltas is a phase 0 function, not defined from Altair on"
    );
    let failed =
        |what: &str, e: keel_state_transition::Error| CaseError::Mismatch(format!("{what}: {e}"));
    let summary = EpochSummary::new(&state, config).map_err(|e| failed("EpochSummary", e))?;
    for (stem, flag_index) in [
        ("source_deltas", TIMELY_SOURCE_FLAG_INDEX),
        ("target_deltas", TIMELY_TARGET_FLAG_INDEX),
        ("head_deltas", TIMELY_HEAD_FLAG_INDEX),
    ] {
        let got = get_flag_index_deltas(&state, config, &summary, flag_index)
            .map_err(|e| failed(stem, e))?;
        compare::<P>(case, stem, got)?;
    }
    let got = get_inactivity_penalty_deltas(&state, config, &summary)
        .map_err(|e| failed("inactivity_penalty_deltas", e))?;
    compare::<P>(case, "inactivity_penalty_deltas", got)?;
    Ok(Outcome::Pass)
}

/// Compares `(rewards, penalties)` with the `Deltas` in `<stem>.ssz_snappy`, naming the first
/// differing validator.
fn compare<P: Preset>(
    case: &Case,
    stem: &str,
    got: (Vec<Gwei>, Vec<Gwei>),
) -> Result<(), CaseError> {
    let expected: Deltas<P> = read_ssz(case, stem)?;
    for (what, got, want) in [
        ("rewards", &got.0, &expected.rewards[..]),
        ("penalties", &got.1, &expected.penalties[..]),
    ] {
        ensure!(
            got.len() == want.len(),
            "{stem}.{what}: {} entries, expected {}",
            got.len(),
            want.len()
        );
        if let Some((i, (g, w))) = got.iter().zip(want).enumerate().find(|(_, (g, w))| g != w) {
            return Err(CaseError::Mismatch(format!(
                "{stem}.{what}[{i}]: got {g}, expected {w}"
            )));
        }
    }
    Ok(())
}
