//! `transition/core`: blocks across a fork boundary. `pre` is a state of the fork before
//! `post_fork`; the blocks are applied in turn by `state_transition_across_forks` with the post
//! fork scheduled at `fork_epoch`, and the result compared with `post` (a state of `post_fork`).
//! Blocks `0..=fork_block` belong to the initial fork (all blocks, if `fork_block` is absent,
//! belong to the post fork), which is checked: each block must have been applied to a state of
//! its own fork.
//!
//! Every case runs with signatures verified one by one and again batched per block
//! (`bls_setting: 2`: not verified), as in `sanity/blocks`.
//!
//! Keel implements Electra onwards, so only Electra → Fulu cases (`fulu/transition`) run; the
//! Deneb → Electra ones are in the skip list.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::ensure;
use crate::runners::common::{check, config, decode, read_ssz};
use keel_config::ChainConfig;
use keel_state_transition::Caches;
use keel_state_transition::block::{SignatureStrategy, StaticExecutionEngine};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::transition_across_forks::{
    ElectraToFulu, ForkState, ForkUpgrade, state_transition_across_forks,
};
use keel_types::{Epoch, Mainnet, Minimal, Preset, electra};
use serde::Deserialize;

#[derive(Deserialize)]
struct Meta {
    post_fork: String,
    fork_epoch: Epoch,
    /// The index of the last block of the initial fork.
    fork_block: Option<usize>,
    blocks_count: usize,
    #[serde(default)]
    bls_setting: u8,
}

pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    if handler != "core" {
        return None;
    }
    match (preset, fork) {
        ("minimal", "fulu") => Some(run::<Minimal, ElectraToFulu>),
        ("mainnet", "fulu") => Some(run::<Mainnet, ElectraToFulu>),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Verify,
    Batch,
    Skip,
}

fn run<P: Preset, U: ForkUpgrade<P>>(case: &Case) -> CaseResult {
    let meta: Meta = case.read_yaml("meta.yaml")?;
    ensure!(
        meta.post_fork == case.fork,
        "meta.yaml: post_fork {} in a {} case",
        meta.post_fork,
        case.fork
    );
    let config = ChainConfig {
        fulu_fork_epoch: meta.fork_epoch,
        ..config::<P>().clone()
    };
    ensure!(
        U::fork_epoch(&config) == meta.fork_epoch,
        "the upgrade's fork epoch is not the one meta.yaml schedules"
    );
    let pre: U::Pre = read_ssz(case, "pre")?;
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
        let mut state = Some(ForkState::<P, U>::Pre(pre.clone()));
        let mut caches = Caches::new();
        let mut pubkeys = PubkeyCache::new();
        let mut rng = rand::rng();
        let mut result = Ok(());
        for (i, block) in blocks.iter().enumerate() {
            let Some(current) = state.take() else { break };
            let signatures = match mode {
                Mode::Verify => SignatureStrategy::Verify,
                Mode::Batch => SignatureStrategy::Batch(&mut rng),
                Mode::Skip => SignatureStrategy::Skip,
            };
            match state_transition_across_forks(
                current,
                block,
                &config,
                &mut caches,
                &mut pubkeys,
                &engine,
                signatures,
            ) {
                Ok(next) => {
                    let pre_fork_block = meta.fork_block.is_some_and(|last| i <= last);
                    ensure!(
                        next.is_post() != pre_fork_block,
                        "block {i} (slot {}) is a {} block but was applied to a {} state",
                        block.message.slot,
                        if pre_fork_block {
                            "pre-fork"
                        } else {
                            "post-fork"
                        },
                        if next.is_post() {
                            "post-fork"
                        } else {
                            "pre-fork"
                        }
                    );
                    state = Some(next);
                }
                Err(e) => {
                    result = Err(format!("block {i}: {e}"));
                    break;
                }
            }
        }
        let what = format!("post ({mode:?})");
        match (state, result) {
            (Some(ForkState::Post(state)), result) => check(&what, result, state, post.as_deref())?,
            (None, result) => ensure!(
                post.is_none(),
                "{what}: processing failed: {}",
                result.err().unwrap_or_default()
            ),
            (Some(ForkState::Pre(_)), _) => {
                return Err(CaseError::Mismatch(format!(
                    "{what}: the blocks end before the fork at epoch {}",
                    meta.fork_epoch
                )));
            }
        }
    }
    Ok(Outcome::Pass)
}
