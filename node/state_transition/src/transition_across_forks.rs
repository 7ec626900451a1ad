//! The fork-generic driver: slots and blocks across a fork boundary.
//!
//! The spec's `process_slots` upgrades the state when it reaches the first slot of the next
//! fork's epoch (`state.slot % SLOTS_PER_EPOCH == 0 and compute_epoch_at_slot(state.slot) ==
//! <FORK>_FORK_EPOCH`). A state's type is its fork here, so that step changes the type: a
//! [`ForkState`] holds a state on either side of one boundary, [`ForkUpgrade`] names the two
//! forks and the upgrade between them ([`ElectraToFulu`]), and [`process_slots_across_forks`] /
//! [`state_transition_across_forks`] are the spec's `process_slots` / `state_transition` over
//! such a state. Within a fork they are [`process_slots`] and
//! [`crate::block::state_transition`].

use crate::block::{BlockError, BlockState, ExecutionEngine, SignatureStrategy, apply_block};
use crate::cache::Caches;
use crate::error::{Error, Result};
use crate::math::SafeArith;
use crate::pubkey_cache::PubkeyCache;
use crate::slot::process_slots;
use crate::state::PostElectraFields;
use crate::upgrade::upgrade_to_fulu;
use keel_config::ChainConfig;
use keel_types::electra::SignedBeaconBlock;
use keel_types::{Epoch, Preset, Slot, electra, fulu};

/// Two consecutive forks and the upgrade between them.
pub trait ForkUpgrade<P: Preset> {
    /// The state before the fork.
    type Pre: BlockState<P>;
    /// The state from the fork's first slot on.
    type Post: BlockState<P>;
    /// The post fork's activation epoch in `config` (`<FORK>_FORK_EPOCH`).
    fn fork_epoch(config: &ChainConfig) -> Epoch;
    /// `upgrade_to_<fork>`.
    fn upgrade(pre: Self::Pre, config: &ChainConfig, caches: &mut Caches) -> Result<Self::Post>;
}

/// Electra → Fulu at `FULU_FORK_EPOCH`, by `upgrade_to_fulu`.
#[derive(Debug, Clone, Copy)]
pub struct ElectraToFulu;

impl<P: Preset> ForkUpgrade<P> for ElectraToFulu {
    type Pre = electra::BeaconState<P>;
    type Post = fulu::BeaconState<P>;

    fn fork_epoch(config: &ChainConfig) -> Epoch {
        config.fulu_fork_epoch
    }

    fn upgrade(pre: Self::Pre, config: &ChainConfig, caches: &mut Caches) -> Result<Self::Post> {
        upgrade_to_fulu(pre, config, caches)
    }
}

/// A state on either side of `U`'s fork boundary.
#[derive(Debug, Clone)]
pub enum ForkState<P: Preset, U: ForkUpgrade<P>> {
    Pre(U::Pre),
    Post(U::Post),
}

impl<P: Preset, U: ForkUpgrade<P>> ForkState<P, U> {
    pub fn slot(&self) -> Slot {
        match self {
            Self::Pre(state) => state.slot(),
            Self::Post(state) => state.slot(),
        }
    }

    /// Whether the state has been upgraded.
    pub fn is_post(&self) -> bool {
        matches!(self, Self::Post(_))
    }
}

/// The fork's first slot, `None` when the fork is not scheduled (its epoch's start slot does not
/// fit in a `u64`, as for `FAR_FUTURE_EPOCH`).
fn fork_slot<P: Preset, U: ForkUpgrade<P>>(config: &ChainConfig) -> Option<Slot> {
    U::fork_epoch(config).safe_mul(P::slots_per_epoch()).ok()
}

/// The spec's `process_slots(state, slot)` across `U`'s boundary: slots (and epochs) are
/// processed by the pre-fork rules up to the fork's first slot, the state is upgraded there, and
/// the remaining slots are processed by the post-fork rules. Requires `state.slot < slot`.
///
/// A pre-fork state already past the fork's first slot cannot have come from `process_slots`;
/// it is refused with [`Error::SlotNotAfterState`] naming the fork slot it should have stopped
/// at.
pub fn process_slots_across_forks<P: Preset, U: ForkUpgrade<P>>(
    state: ForkState<P, U>,
    config: &ChainConfig,
    caches: &mut Caches,
    slot: Slot,
) -> Result<ForkState<P, U>> {
    if state.slot() >= slot {
        return Err(Error::SlotNotAfterState {
            target: slot,
            state_slot: state.slot(),
        });
    }
    let mut pre = match state {
        ForkState::Pre(pre) => pre,
        ForkState::Post(mut post) => {
            process_slots(&mut post, config, caches, slot)?;
            return Ok(ForkState::Post(post));
        }
    };
    match fork_slot::<P, U>(config) {
        Some(fork_slot) if fork_slot <= slot => {
            if pre.slot() > fork_slot {
                return Err(Error::SlotNotAfterState {
                    target: fork_slot,
                    state_slot: pre.slot(),
                });
            }
            if pre.slot() < fork_slot {
                process_slots(&mut pre, config, caches, fork_slot)?;
            }
            let mut post = U::upgrade(pre, config, caches)?;
            if post.slot() < slot {
                process_slots(&mut post, config, caches, slot)?;
            }
            Ok(ForkState::Post(post))
        }
        _ => {
            process_slots(&mut pre, config, caches, slot)?;
            Ok(ForkState::Pre(pre))
        }
    }
}

/// The spec's `state_transition(state, signed_block, validate_result=True)` across `U`'s
/// boundary: [`process_slots_across_forks`] to the block's slot, then the block (signature as
/// `signatures` says, then `process_block`) by the rules of the fork the state is then in, then
/// the block's state root.
///
/// On error the state is gone (as the spec's state is discarded when an assertion fails).
#[allow(clippy::too_many_arguments)]
pub fn state_transition_across_forks<P: Preset, U: ForkUpgrade<P>>(
    state: ForkState<P, U>,
    signed_block: &SignedBeaconBlock<P>,
    config: &ChainConfig,
    caches: &mut Caches,
    pubkeys: &mut PubkeyCache,
    engine: &dyn ExecutionEngine<P>,
    signatures: SignatureStrategy<'_>,
) -> std::result::Result<ForkState<P, U>, BlockError> {
    let block = &signed_block.message;
    let state =
        process_slots_across_forks(state, config, caches, block.slot).map_err(BlockError::Slots)?;
    match state {
        ForkState::Pre(mut pre) => {
            apply_block(
                &mut pre,
                signed_block,
                config,
                caches,
                pubkeys,
                engine,
                signatures,
            )?;
            Ok(ForkState::Pre(pre))
        }
        ForkState::Post(mut post) => {
            apply_block(
                &mut post,
                signed_block,
                config,
                caches,
                pubkeys,
                engine,
                signatures,
            )?;
            Ok(ForkState::Post(post))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::genesis::interop_genesis_state;
    use keel_config::constants::FAR_FUTURE_EPOCH;
    use keel_types::electra::ExecutionPayloadHeader;
    use keel_types::tree_hash::TreeHash;
    use keel_types::{Hash256, Minimal};

    type Across = ForkState<Minimal, ElectraToFulu>;

    fn genesis(config: &ChainConfig) -> electra::BeaconState<Minimal> {
        let validators: Vec<_> = (0..64)
            .map(|i| {
                let pk = keel_crypto::bls::interop_secret_key(i)
                    .unwrap()
                    .public_key()
                    .to_bytes();
                (pk, 32_000_000_000)
            })
            .collect();
        interop_genesis_state::<Minimal>(
            config,
            &validators,
            1_700_000_000,
            Hash256::repeat_byte(7),
            ExecutionPayloadHeader::default(),
            &mut Caches::new(),
        )
        .unwrap()
    }

    fn config_with_fulu_at(fulu_fork_epoch: Epoch) -> ChainConfig {
        ChainConfig {
            fulu_fork_epoch,
            ..ChainConfig::minimal()
        }
    }

    #[test]
    fn upgrades_at_the_fork_slot_and_continues_in_the_new_fork() {
        let config = config_with_fulu_at(1);
        let pre = genesis(&config);
        let caches = &mut Caches::new();
        let got =
            process_slots_across_forks(Across::Pre(pre.clone()), &config, caches, 11).unwrap();
        let Across::Post(mut got) = got else {
            panic!("not upgraded")
        };

        // By hand: Electra slots to the fork slot, `upgrade_to_fulu`, Fulu slots.
        let mut electra = pre;
        process_slots(&mut electra, &config, caches, 8).unwrap();
        let mut fulu = upgrade_to_fulu(electra, &config, caches).unwrap();
        process_slots(&mut fulu, &config, caches, 11).unwrap();
        assert_eq!(got.slot, 11);
        assert_eq!(got.fork.epoch, 1);
        assert_eq!(got.fork.current_version, config.fulu_fork_version);
        got.apply_pending_updates().unwrap();
        fulu.apply_pending_updates().unwrap();
        assert_eq!(got.tree_hash_root(), fulu.tree_hash_root());
    }

    #[test]
    fn reaching_the_fork_slot_upgrades() {
        let config = config_with_fulu_at(1);
        let got = process_slots_across_forks(
            Across::Pre(genesis(&config)),
            &config,
            &mut Caches::new(),
            8,
        )
        .unwrap();
        assert!(got.is_post());
        assert_eq!(got.slot(), 8);
    }

    #[test]
    fn stays_in_the_old_fork_before_the_fork_slot_or_without_a_fork() {
        for (fork_epoch, slot) in [(1, 7), (FAR_FUTURE_EPOCH, 20)] {
            let config = config_with_fulu_at(fork_epoch);
            let got = process_slots_across_forks(
                Across::Pre(genesis(&config)),
                &config,
                &mut Caches::new(),
                slot,
            )
            .unwrap();
            assert!(!got.is_post(), "fork epoch {fork_epoch}");
            assert_eq!(got.slot(), slot);
        }
    }

    #[test]
    fn refuses_a_target_not_after_the_state_and_a_pre_fork_state_past_the_fork() {
        let config = config_with_fulu_at(1);
        let caches = &mut Caches::new();
        let mut pre = genesis(&config);
        assert_eq!(
            process_slots_across_forks(Across::Pre(pre.clone()), &config, caches, 0).unwrap_err(),
            Error::SlotNotAfterState {
                target: 0,
                state_slot: 0
            }
        );
        // An Electra state at slot 9 cannot have come from `process_slots` with Fulu at epoch 1.
        process_slots(&mut pre, &config_with_fulu_at(FAR_FUTURE_EPOCH), caches, 9).unwrap();
        assert_eq!(
            process_slots_across_forks(Across::Pre(pre), &config, caches, 12).unwrap_err(),
            Error::SlotNotAfterState {
                target: 8,
                state_slot: 9
            }
        );
    }
}
