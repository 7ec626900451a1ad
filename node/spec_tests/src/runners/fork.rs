//! `fork/fork`: the fork upgrade (`upgrade_to_<fork>`) from the previous fork's `pre` state must
//! produce `post` exactly.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::ensure_eq;
use crate::runners::common::{config, read_ssz};
use keel_state_transition::Caches;
use keel_state_transition::upgrade::{upgrade_to_electra, upgrade_to_fulu};
use keel_types::{Mainnet, Minimal, Preset, deneb, electra};
use ssz::Decode;
use tree_hash::TreeHash;

pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    if handler != "fork" {
        return None;
    }
    Some(match (preset, fork) {
        ("minimal", "electra") => to_electra::<Minimal>,
        ("mainnet", "electra") => to_electra::<Mainnet>,
        ("minimal", "fulu") => to_fulu::<Minimal>,
        ("mainnet", "fulu") => to_fulu::<Mainnet>,
        _ => return None,
    })
}

fn check_post<T: Decode + TreeHash>(case: &Case, got: &T) -> CaseResult {
    let expected: T = read_ssz(case, "post")?;
    ensure_eq!(
        got.tree_hash_root(),
        expected.tree_hash_root(),
        "post-state root"
    );
    Ok(Outcome::Pass)
}

fn to_electra<P: Preset>(case: &Case) -> CaseResult {
    let pre: deneb::BeaconState<P> = read_ssz(case, "pre")?;
    let post = upgrade_to_electra(pre, config::<P>())
        .map_err(|e| CaseError::Mismatch(format!("upgrade_to_electra: {e}")))?;
    check_post(case, &post)
}

fn to_fulu<P: Preset>(case: &Case) -> CaseResult {
    let pre: electra::BeaconState<P> = read_ssz(case, "pre")?;
    let post = upgrade_to_fulu(pre, config::<P>(), &mut Caches::new())
        .map_err(|e| CaseError::Mismatch(format!("upgrade_to_fulu: {e}")))?;
    check_post(case, &post)
}
