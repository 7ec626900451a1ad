//! `merkle_proof/single_merkle_proof` and `light_client/single_merkle_proof`: the branch for a
//! generalized index inside an object (`object.ssz_snappy`, `proof.yaml`).
//!
//! Checks that Keel computes the same leaf and branch as the vectors, and that the branch verifies
//! against the object's root with `is_valid_merkle_branch`.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome, parse_hex};
use crate::{ensure, ensure_eq};
use keel_state_transition::merkle::{Merkleized, compute_merkle_proof, is_valid_merkle_branch};
use keel_types::{Hash256, Mainnet, Minimal, Preset, electra, fulu};
use serde::Deserialize;
use ssz::Decode;
use tree_hash::TreeHash;

#[derive(Deserialize)]
struct Proof {
    leaf: String,
    leaf_index: u64,
    branch: Vec<String>,
}

/// The only handler is `single_merkle_proof`; the suite names the container, so the type is
/// chosen per case.
pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    let supported = handler == "single_merkle_proof"
        && matches!(preset, "minimal" | "mainnet")
        && matches!(fork, "electra" | "fulu");
    supported.then_some(by_suite)
}

fn container_check(preset: &str, fork: &str, container: &str) -> Option<HandlerFn> {
    match preset {
        "minimal" => for_preset::<Minimal>(fork, container),
        "mainnet" => for_preset::<Mainnet>(fork, container),
        _ => None,
    }
}

fn for_preset<P: Preset>(fork: &str, container: &str) -> Option<HandlerFn> {
    Some(match (fork, container) {
        ("electra", "BeaconBlockBody") => check::<electra::BeaconBlockBody<P>>,
        ("electra", "BeaconState") => check::<electra::BeaconState<P>>,
        ("fulu", "BeaconBlockBody") => check::<fulu::BeaconBlockBody<P>>,
        ("fulu", "BeaconState") => check::<fulu::BeaconState<P>>,
        _ => return None,
    })
}

fn hash(s: &str) -> Result<Hash256, CaseError> {
    let bytes = parse_hex(s)?;
    Hash256::try_from(bytes.as_slice())
        .map_err(|_| CaseError::Mismatch(format!("{s} is not a 32-byte root")))
}

fn check<T: Decode + TreeHash + Merkleized>(case: &Case) -> CaseResult {
    let bytes = case.read_ssz_snappy("object")?;
    let object =
        T::from_ssz_bytes(&bytes).map_err(|e| CaseError::Mismatch(format!("decoding: {e:?}")))?;
    let expected: Proof = case.read_yaml("proof.yaml")?;
    let expected_leaf = hash(&expected.leaf)?;
    let expected_branch = expected
        .branch
        .iter()
        .map(|b| hash(b))
        .collect::<Result<Vec<_>, _>>()?;

    let (leaf, branch) = compute_merkle_proof(&object, expected.leaf_index)
        .map_err(|e| CaseError::Mismatch(format!("compute_merkle_proof: {e}")))?;
    ensure_eq!(leaf, expected_leaf, "leaf");
    ensure_eq!(branch, expected_branch, "branch");

    let depth = branch.len();
    let index = expected.leaf_index ^ (1u64 << depth);
    ensure!(
        is_valid_merkle_branch(
            expected_leaf,
            &expected_branch,
            depth,
            index,
            object.tree_hash_root()
        ),
        "the vector's branch does not verify against the object's root"
    );
    Ok(Outcome::Pass)
}

fn by_suite(case: &Case) -> CaseResult {
    match container_check(&case.preset, &case.fork, &case.suite) {
        Some(run) => run(case),
        None => Err(CaseError::Mismatch(format!(
            "no Merkle proof support for container {} in {}",
            case.suite, case.fork
        ))),
    }
}
