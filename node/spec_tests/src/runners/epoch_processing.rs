//! `epoch_processing/<handler>`: one epoch sub-step on `pre`, compared with `post` (absent:
//! the step must fail). When the case also carries `pre_epoch`/`post_epoch`, the whole
//! `process_epoch` is checked on them too (the format's "alternative condition").

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use keel_config::ChainConfig;
use keel_state_transition::epoch::{self, process_epoch};
use keel_state_transition::{Caches, PostElectraState};
use keel_types::ssz::Decode;
use keel_types::{Mainnet, Minimal, Preset, electra, fulu};
use std::sync::OnceLock;

/// Every epoch sub-step handler, by vector directory name.
const STEPS: &[&str] = &[
    "justification_and_finalization",
    "inactivity_updates",
    "rewards_and_penalties",
    "registry_updates",
    "slashings",
    "eth1_data_reset",
    "pending_deposits",
    "pending_consolidations",
    "effective_balance_updates",
    "slashings_reset",
    "randao_mixes_reset",
    "historical_summaries_update",
    "participation_flag_updates",
    "sync_committee_updates",
    "proposer_lookahead",
];

pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    if !STEPS.contains(&handler) || (handler == "proposer_lookahead" && fork != "fulu") {
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

fn apply<P: Preset, S: PostElectraState<P>>(
    step: &str,
    state: &mut S,
    config: &ChainConfig,
    caches: &mut Caches,
) -> keel_state_transition::Result<()> {
    match step {
        "justification_and_finalization" => {
            epoch::process_justification_and_finalization(state, config)
        }
        "inactivity_updates" => epoch::process_inactivity_updates(state, config),
        "rewards_and_penalties" => epoch::process_rewards_and_penalties(state, config),
        "registry_updates" => epoch::process_registry_updates(state, config),
        "slashings" => epoch::process_slashings(state),
        "eth1_data_reset" => epoch::process_eth1_data_reset(state),
        "pending_deposits" => epoch::process_pending_deposits(state, config),
        "pending_consolidations" => epoch::process_pending_consolidations(state),
        "effective_balance_updates" => epoch::process_effective_balance_updates(state),
        "slashings_reset" => epoch::process_slashings_reset(state),
        "randao_mixes_reset" => epoch::process_randao_mixes_reset(state),
        "historical_summaries_update" => epoch::process_historical_summaries_update(state),
        "participation_flag_updates" => epoch::process_participation_flag_updates(state),
        "sync_committee_updates" => epoch::process_sync_committee_updates(state, caches),
        "proposer_lookahead" => state.process_proposer_lookahead(caches),
        other => unreachable!("handler() admits only known steps, got {other}"),
    }
}

pub(crate) fn decode<S: Decode>(stem: &str, bytes: &[u8]) -> Result<S, CaseError> {
    S::from_ssz_bytes(bytes).map_err(|e| CaseError::Mismatch(format!("decoding {stem}: {e:?}")))
}

fn run<P: Preset, S: PostElectraState<P>>(case: &Case) -> CaseResult {
    let config = config::<P>();
    let pre: S = decode("pre", &case.read_ssz_snappy("pre")?)?;
    let post = case.read_ssz_snappy_opt("post")?;
    let mut state = pre;
    let result = apply(&case.handler, &mut state, config, &mut Caches::new());
    check("post", result, state, post.as_deref(), case)?;

    if let Some(pre_epoch) = case.read_ssz_snappy_opt("pre_epoch")? {
        let mut state: S = decode("pre_epoch", &pre_epoch)?;
        let post_epoch = case.read_ssz_snappy_opt("post_epoch")?;
        let result = process_epoch(&mut state, config, &mut Caches::new());
        check("post_epoch", result, state, post_epoch.as_deref(), case)?;
    }
    Ok(Outcome::Pass)
}

/// Compares the outcome with the expected state (`None`: the transition must fail), naming the
/// first differing field on a mismatch.
pub(crate) fn check<P: Preset, S: PostElectraState<P>>(
    what: &str,
    result: keel_state_transition::Result<()>,
    mut state: S,
    expected: Option<&[u8]>,
    _case: &Case,
) -> Result<(), CaseError> {
    match (result, expected) {
        (Err(_), None) => Ok(()),
        (Ok(()), None) => Err(CaseError::Mismatch(format!(
            "{what}: expected the transition to fail, it succeeded"
        ))),
        (Err(e), Some(_)) => Err(CaseError::Mismatch(format!(
            "{what}: transition failed: {e}"
        ))),
        (Ok(()), Some(bytes)) => {
            let mut expected: S = decode(what, bytes)?;
            state
                .apply_pending_updates()
                .map_err(|e| CaseError::Mismatch(format!("{what}: {e}")))?;
            if state.tree_hash_root() == expected.tree_hash_root() {
                return Ok(());
            }
            let got = state
                .field_roots()
                .map_err(|e| CaseError::Mismatch(e.to_string()))?;
            let want = expected
                .field_roots()
                .map_err(|e| CaseError::Mismatch(e.to_string()))?;
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
