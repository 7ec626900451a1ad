//! `epoch_processing/<handler>`: one epoch sub-step on `pre`, compared with `post` (absent:
//! the step must fail). When the case also carries `pre_epoch`/`post_epoch`, the whole
//! `process_epoch` is checked on them too (the format's "alternative condition").

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::runners::common::{check, config, decode, read_ssz};
use keel_config::ChainConfig;
use keel_state_transition::epoch::{self, process_epoch};
use keel_state_transition::{Caches, PostElectraState};
use keel_types::{Mainnet, Minimal, Preset, electra, fulu};

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

fn apply<P: Preset, S: PostElectraState<P>>(
    step: &str,
    state: &mut S,
    config: &ChainConfig,
    caches: &mut Caches,
) -> Result<Result<(), String>, CaseError> {
    let result = match step {
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
        other => return Err(CaseError::Mismatch(format!("unknown epoch step {other}"))),
    };
    Ok(result.map_err(|e| e.to_string()))
}

fn run<P: Preset, S: PostElectraState<P>>(case: &Case) -> CaseResult {
    let config = config::<P>();
    let mut state: S = read_ssz(case, "pre")?;
    let post = case.read_ssz_snappy_opt("post")?;
    let result = apply(&case.handler, &mut state, config, &mut Caches::new())?;
    check("post", result, state, post.as_deref())?;

    if let Some(pre_epoch) = case.read_ssz_snappy_opt("pre_epoch")? {
        let mut state: S = decode("pre_epoch", &pre_epoch)?;
        let post_epoch = case.read_ssz_snappy_opt("post_epoch")?;
        let result =
            process_epoch(&mut state, config, &mut Caches::new()).map_err(|e| e.to_string());
        check("post_epoch", result, state, post_epoch.as_deref())?;
    }
    Ok(Outcome::Pass)
}
