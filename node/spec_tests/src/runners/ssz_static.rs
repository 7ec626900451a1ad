//! `ssz_static`: every container of every fork, for both presets. Each case decodes
//! `serialized`, re-encodes it byte for byte and checks the hash-tree-root in `roots.yaml`.
//! (The shared vectors are trimmed to those two files; `value.yaml` is not needed for the checks.)
//!
//! The type for `(fork, container)` comes from `keel_types::for_each_ssz_static_type!`, the one
//! registry of which containers each fork has.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::{ensure, ensure_eq};
use keel_types::{Mainnet, Minimal, for_each_ssz_static_type};
use serde::Deserialize;
use ssz::{Decode, Encode};
use tree_hash::TreeHash;

#[derive(Deserialize)]
struct Roots {
    root: String,
}

pub fn handler(preset: &str, fork: &str, container: &str) -> Option<HandlerFn> {
    match preset {
        "minimal" => minimal(fork, container),
        "mainnet" => mainnet(fork, container),
        _ => None,
    }
}

macro_rules! lookup_fn {
    ($fn_name:ident, $preset:ty) => {
        fn $fn_name(fork: &str, container: &str) -> Option<HandlerFn> {
            macro_rules! arm {
                ($fork:ident, $name:ident, $ty:ty) => {
                    if fork == stringify!($fork) && container == stringify!($name) {
                        return Some(check::<$ty>);
                    }
                };
            }
            for_each_ssz_static_type!(arm, $preset);
            None
        }
    };
}
lookup_fn!(minimal, Minimal);
lookup_fn!(mainnet, Mainnet);

fn check<T: Encode + Decode + TreeHash>(case: &Case) -> CaseResult {
    let bytes = case.read_ssz_snappy("serialized")?;
    let value = T::from_ssz_bytes(&bytes)
        .map_err(|e| CaseError::Mismatch(format!("decoding failed: {e:?}")))?;
    ensure!(
        value.as_ssz_bytes() == bytes,
        "re-encoding differs from serialized"
    );
    let roots: Roots = case.read_yaml("roots.yaml")?;
    ensure_eq!(
        format!("{:?}", value.tree_hash_root()),
        roots.root,
        "hash_tree_root"
    );
    Ok(Outcome::Pass)
}
