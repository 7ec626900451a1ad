//! What the state-transition runners share: the preset's chain config, SSZ reads, and the
//! comparison of a processed state with the expected `post`.

use crate::case::{Case, CaseError};
use keel_config::ChainConfig;
use keel_state_transition::PostElectraState;
use keel_types::Preset;
use ssz::Decode;
use std::sync::OnceLock;

/// The spec's config for the preset the vectors were generated with.
pub fn config<P: Preset>() -> &'static ChainConfig {
    static MAINNET: OnceLock<ChainConfig> = OnceLock::new();
    static MINIMAL: OnceLock<ChainConfig> = OnceLock::new();
    if P::NAME == "mainnet" {
        MAINNET.get_or_init(ChainConfig::mainnet)
    } else {
        MINIMAL.get_or_init(ChainConfig::minimal)
    }
}

pub fn decode<T: Decode>(stem: &str, bytes: &[u8]) -> Result<T, CaseError> {
    T::from_ssz_bytes(bytes).map_err(|e| CaseError::Mismatch(format!("decoding {stem}: {e:?}")))
}

/// Reads `<stem>.ssz_snappy` of the case and decodes it.
pub fn read_ssz<T: Decode>(case: &Case, stem: &str) -> Result<T, CaseError> {
    decode(stem, &case.read_ssz_snappy(stem)?)
}

/// Compares the outcome with the expected state (`None`: processing must fail), naming the
/// differing fields on a mismatch.
pub fn check<P: Preset, S: PostElectraState<P>>(
    what: &str,
    result: Result<(), String>,
    mut state: S,
    expected: Option<&[u8]>,
) -> Result<(), CaseError> {
    match (result, expected) {
        (Err(e), None) => {
            if std::env::var_os("KEEL_DEBUG_OPS").is_some() {
                eprintln!("{what}: {e}");
            }
            Ok(())
        }
        (Ok(()), None) => Err(CaseError::Mismatch(format!(
            "{what}: expected processing to fail, it succeeded"
        ))),
        (Err(e), Some(_)) => Err(CaseError::Mismatch(format!(
            "{what}: processing failed: {e}"
        ))),
        (Ok(()), Some(bytes)) => {
            let mut expected: S = decode(what, bytes)?;
            let mismatch = |e: keel_state_transition::Error| CaseError::Mismatch(e.to_string());
            state.apply_pending_updates().map_err(mismatch)?;
            if state.tree_hash_root() == expected.tree_hash_root() {
                return Ok(());
            }
            let got = state.field_roots().map_err(mismatch)?;
            let want = expected.field_roots().map_err(mismatch)?;
            let differing: Vec<&str> = got
                .iter()
                .zip(&want)
                .filter(|(g, w)| g.1 != w.1)
                .map(|(g, _)| g.0)
                .collect();
            Err(CaseError::Mismatch(format!(
                "{what}: state root mismatch; differing fields: {differing:?}"
            )))
        }
    }
}
