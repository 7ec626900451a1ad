//! `sanity/blocks`: `state_transition(state, block)` for each `blocks_<i>` in turn from `pre`,
//! compared with `post` (absent: some block must be rejected), for Electra and Fulu.
//! `finality/finality` and `random/random` have the same format and run here too.
//!
//! Every case runs twice, with each block's signatures verified one by one (`Verify`) and in
//! one batch per block (`Batch`); caches (committees, pubkeys) are kept across the case's
//! blocks, as the node keeps them.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::runners::common::{check, config, decode, read_ssz};
use keel_state_transition::Caches;
use keel_state_transition::block::{
    BlockState, SignatureStrategy, StaticExecutionEngine, state_transition,
};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_types::{Mainnet, Minimal, Preset, electra, fulu};
use serde::Deserialize;

#[derive(Deserialize)]
struct Meta {
    blocks_count: usize,
    #[serde(default)]
    bls_setting: u8,
}

pub fn handler(preset: &str, fork: &str) -> Option<HandlerFn> {
    match (preset, fork) {
        ("minimal", "electra") => Some(run::<Minimal, electra::BeaconState<Minimal>>),
        ("minimal", "fulu") => Some(run::<Minimal, fulu::BeaconState<Minimal>>),
        ("mainnet", "electra") => Some(run::<Mainnet, electra::BeaconState<Mainnet>>),
        ("mainnet", "fulu") => Some(run::<Mainnet, fulu::BeaconState<Mainnet>>),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Verify,
    Batch,
    Skip,
}

fn run<P: Preset, S: BlockState<P>>(case: &Case) -> CaseResult {
    let config = config::<P>();
    let pre: S = read_ssz(case, "pre")?;
    let meta: Meta = case.read_yaml("meta.yaml")?;
    let blocks = (0..meta.blocks_count)
        .map(|i| {
            let stem = format!("blocks_{i}");
            decode::<electra::SignedBeaconBlock<P>>(&stem, &case.read_ssz_snappy(&stem)?)
        })
        .collect::<Result<Vec<_>, CaseError>>()?;
    let post = case.read_ssz_snappy_opt("post")?;
    let modes: &[Mode] = if meta.bls_setting == 2 {
        &[Mode::Skip]
    } else {
        &[Mode::Verify, Mode::Batch]
    };

    let engine = StaticExecutionEngine(true);
    for &mode in modes {
        let mut state = pre.clone();
        let mut caches = Caches::new();
        let mut pubkeys = PubkeyCache::new();
        let mut rng = rand::rng();
        let mut result = Ok(());
        for (i, block) in blocks.iter().enumerate() {
            let signatures = match mode {
                Mode::Verify => SignatureStrategy::Verify,
                Mode::Batch => SignatureStrategy::Batch(&mut rng),
                Mode::Skip => SignatureStrategy::Skip,
            };
            let outcome = state_transition(
                &mut state,
                block,
                config,
                &mut caches,
                &mut pubkeys,
                &engine,
                signatures,
            );
            if let Err(e) = outcome {
                result = Err(format!("block {i}: {e}"));
                break;
            }
        }
        check(&format!("post ({mode:?})"), result, state, post.as_deref())?;
    }
    Ok(Outcome::Pass)
}
