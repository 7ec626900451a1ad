//! The fork abstraction: [`PostElectraState`], implemented by Electra's and Fulu's `BeaconState`.
//!
//! Spec functions are written once, generic over `S: PostElectraState<P>`, and read and write the
//! state through the trait's accessors. Everything the two forks share is generated from ONE
//! field list (the `post_electra_fields!` macro), which yields:
//!
//! - the trait [`PostElectraFields`] (a supertrait of [`PostElectraState`]) with, per field `x`,
//!   an accessor pair: `x()` (by value for `Copy` scalars, by reference otherwise)
//!   and `x_mut()`;
//! - [`StateFields`] / [`StateFieldsMut`] with one (`&`/`&mut`) reference per field, from
//!   [`PostElectraFields::fields`] / [`PostElectraFields::fields_mut`], for code that must hold
//!   several fields at once (e.g. iterate validators while writing balances) — the borrow
//!   checker sees disjoint fields;
//! - [`PostElectraFields::apply_pending_updates`], flushing every persistent list's pending
//!   writes (required before hashing: `milhouse` lists refuse to hash with pending updates).
//!
//! What differs between forks is an associated item, not an `if fork >= ..` in a spec function:
//!
//! | item | Electra | Fulu |
//! |---|---|---|
//! | [`PostElectraState::FORK`] | `Electra` | `Fulu` |
//! | [`PostElectraState::get_beacon_proposer_index`] | computed (`compute_proposer_index`) | read from `proposer_lookahead` |
//! | [`PostElectraState::process_proposer_lookahead`] | no step | EIP-7917 epoch step |
//! | [`PostElectraState::is_deposit_request_blocked_by_eth1_bridge`] | eth1 bridge check | `false` (bridge removed) |
//!
//! Fulu-only fields are reached through [`PostFuluState`]. Adding Gloas means a new impl (and,
//! for fields Gloas removes, moving them out of the shared list into per-fork traits).

use crate::cache::Caches;
use crate::error::{Error, Result};
use crate::math::SafeArith;
use keel_types::electra::{
    BeaconBlockHeader, Checkpoint, Eth1Data, ExecutionPayloadHeader, Fork, HistoricalSummary,
    JustificationBitsLength, PendingConsolidation, PendingDeposit, PendingPartialWithdrawal,
    SyncCommittee, Validator,
};
use keel_types::milhouse::{List, Vector};
use keel_types::ssz::{Decode, Encode};
use keel_types::ssz_types::BitVector;
use keel_types::tree_hash::TreeHash;
use keel_types::{
    BeaconState, Bytes32, Epoch, ForkName, Gwei, ParticipationFlags, Preset, Root, Slot,
    ValidatorIndex, WithdrawalIndex,
};
use std::sync::Arc;

/// Generates [`PostElectraFields`] (accessors, split borrows, `apply_pending_updates`), the
/// borrow structs and the impls for every listed state type, from the one list of fields
/// Electra and Fulu share.
///
/// - `impls`: each state type with its own extra persistent fields (flushed by
///   `apply_pending_updates` too);
/// - `copy`: `Copy` values, read by value;
/// - `tree`: `milhouse` lists and vectors;
/// - `other`: everything else, read by reference.
///
/// Each field entry is `name / name_mut: Type`, types written in terms of the preset `P`.
macro_rules! post_electra_fields {
    (impls { $($state:ty [$($x:ident),*];)* } fields $fields:tt) => {
        post_electra_fields!(@trait $fields);
        $( post_electra_fields!(@impl [$state] [$($x),*] $fields); )*
    };
    (@trait {
        copy { $($c:ident / $c_mut:ident: $cty:ty,)* }
        tree { $($t:ident / $t_mut:ident: $tty:ty,)* }
        other { $($o:ident / $o_mut:ident: $oty:ty,)* }
    }) => {
        /// Shared borrows of every field common to the post-Electra states.
        pub struct StateFields<'a, P: Preset> {
            $(pub $c: &'a $cty,)*
            $(pub $t: &'a $tty,)*
            $(pub $o: &'a $oty,)*
        }

        /// Disjoint mutable borrows of every field common to the post-Electra states.
        pub struct StateFieldsMut<'a, P: Preset> {
            $(pub $c: &'a mut $cty,)*
            $(pub $t: &'a mut $tty,)*
            $(pub $o: &'a mut $oty,)*
        }

        /// Accessors for every field the post-Electra states share (generated; see the module
        /// docs). A supertrait of [`PostElectraState`], so a bound `S: PostElectraState<P>`
        /// brings these methods along.
        pub trait PostElectraFields<P: Preset> {
            $(
                fn $c(&self) -> $cty;
                fn $c_mut(&mut self) -> &mut $cty;
            )*
            $(
                fn $t(&self) -> &$tty;
                fn $t_mut(&mut self) -> &mut $tty;
            )*
            $(
                fn $o(&self) -> &$oty;
                fn $o_mut(&mut self) -> &mut $oty;
            )*

            /// One shared reference per common field.
            fn fields(&self) -> StateFields<'_, P>;
            /// One mutable reference per common field (disjoint borrows).
            fn fields_mut(&mut self) -> StateFieldsMut<'_, P>;

            /// Flushes the pending writes of every persistent list and vector (the fork's own
            /// included). Hashing a state requires it.
            fn apply_pending_updates(&mut self) -> Result<()>;

            /// `(field name, hash_tree_root(field))` for every field, the fork's own included,
            /// in no particular order (flushes pending updates first). For pinpointing where
            /// two states differ.
            fn field_roots(&mut self) -> Result<Vec<(&'static str, Root)>>;
        }
    };
    (@impl [$state:ty] [$($x:ident),*] {
        copy { $($c:ident / $c_mut:ident: $cty:ty,)* }
        tree { $($t:ident / $t_mut:ident: $tty:ty,)* }
        other { $($o:ident / $o_mut:ident: $oty:ty,)* }
    }) => {
        impl<P: Preset> PostElectraFields<P> for $state {
            $(
                #[inline]
                fn $c(&self) -> $cty { self.$c }
                #[inline]
                fn $c_mut(&mut self) -> &mut $cty { &mut self.$c }
            )*
            $(
                #[inline]
                fn $t(&self) -> &$tty { &self.$t }
                #[inline]
                fn $t_mut(&mut self) -> &mut $tty { &mut self.$t }
            )*
            $(
                #[inline]
                fn $o(&self) -> &$oty { &self.$o }
                #[inline]
                fn $o_mut(&mut self) -> &mut $oty { &mut self.$o }
            )*

            fn fields(&self) -> StateFields<'_, P> {
                StateFields { $($c: &self.$c,)* $($t: &self.$t,)* $($o: &self.$o,)* }
            }

            fn fields_mut(&mut self) -> StateFieldsMut<'_, P> {
                StateFieldsMut {
                    $($c: &mut self.$c,)* $($t: &mut self.$t,)* $($o: &mut self.$o,)*
                }
            }

            fn apply_pending_updates(&mut self) -> Result<()> {
                $(
                    self.$t
                        .apply_updates()
                        .map_err(Error::tree(stringify!($t), "apply_updates"))?;
                )*
                $(
                    self.$x
                        .apply_updates()
                        .map_err(Error::tree(stringify!($x), "apply_updates"))?;
                )*
                Ok(())
            }

            fn field_roots(&mut self) -> Result<Vec<(&'static str, Root)>> {
                self.apply_pending_updates()?;
                Ok(vec![
                    $((stringify!($c), self.$c.tree_hash_root()),)*
                    $((stringify!($t), self.$t.tree_hash_root()),)*
                    $((stringify!($o), self.$o.tree_hash_root()),)*
                    $((stringify!($x), self.$x.tree_hash_root()),)*
                ])
            }
        }
    };
}

post_electra_fields! {
    impls {
        keel_types::electra::BeaconState<P> [];
        keel_types::fulu::BeaconState<P> [proposer_lookahead];
    }
    fields {
        copy {
            genesis_time / genesis_time_mut: u64,
            genesis_validators_root / genesis_validators_root_mut: Root,
            slot / slot_mut: Slot,
            fork / fork_mut: Fork,
            latest_block_header / latest_block_header_mut: BeaconBlockHeader,
            eth1_data / eth1_data_mut: Eth1Data,
            eth1_deposit_index / eth1_deposit_index_mut: u64,
            previous_justified_checkpoint / previous_justified_checkpoint_mut: Checkpoint,
            current_justified_checkpoint / current_justified_checkpoint_mut: Checkpoint,
            finalized_checkpoint / finalized_checkpoint_mut: Checkpoint,
            next_withdrawal_index / next_withdrawal_index_mut: WithdrawalIndex,
            next_withdrawal_validator_index / next_withdrawal_validator_index_mut: ValidatorIndex,
            deposit_requests_start_index / deposit_requests_start_index_mut: u64,
            deposit_balance_to_consume / deposit_balance_to_consume_mut: Gwei,
            exit_balance_to_consume / exit_balance_to_consume_mut: Gwei,
            earliest_exit_epoch / earliest_exit_epoch_mut: Epoch,
            consolidation_balance_to_consume / consolidation_balance_to_consume_mut: Gwei,
            earliest_consolidation_epoch / earliest_consolidation_epoch_mut: Epoch,
        }
        tree {
            block_roots / block_roots_mut: Vector<Root, P::SlotsPerHistoricalRoot>,
            state_roots / state_roots_mut: Vector<Root, P::SlotsPerHistoricalRoot>,
            historical_roots / historical_roots_mut: List<Root, P::HistoricalRootsLimit>,
            eth1_data_votes / eth1_data_votes_mut: List<Eth1Data, P::SlotsPerEth1VotingPeriod>,
            validators / validators_mut: List<Validator, P::ValidatorRegistryLimit>,
            balances / balances_mut: List<Gwei, P::ValidatorRegistryLimit>,
            randao_mixes / randao_mixes_mut: Vector<Bytes32, P::EpochsPerHistoricalVector>,
            slashings / slashings_mut: Vector<Gwei, P::EpochsPerSlashingsVector>,
            previous_epoch_participation / previous_epoch_participation_mut:
                List<ParticipationFlags, P::ValidatorRegistryLimit>,
            current_epoch_participation / current_epoch_participation_mut:
                List<ParticipationFlags, P::ValidatorRegistryLimit>,
            inactivity_scores / inactivity_scores_mut: List<u64, P::ValidatorRegistryLimit>,
            historical_summaries / historical_summaries_mut:
                List<HistoricalSummary, P::HistoricalRootsLimit>,
            pending_deposits / pending_deposits_mut:
                List<PendingDeposit, P::PendingDepositsLimit>,
            pending_partial_withdrawals / pending_partial_withdrawals_mut:
                List<PendingPartialWithdrawal, P::PendingPartialWithdrawalsLimit>,
            pending_consolidations / pending_consolidations_mut:
                List<PendingConsolidation, P::PendingConsolidationsLimit>,
        }
        other {
            justification_bits / justification_bits_mut: BitVector<JustificationBitsLength>,
            current_sync_committee / current_sync_committee_mut: Arc<SyncCommittee<P>>,
            next_sync_committee / next_sync_committee_mut: Arc<SyncCommittee<P>>,
            latest_execution_payload_header / latest_execution_payload_header_mut:
                ExecutionPayloadHeader<P>,
        }
    }
}

/// A beacon state of Electra or a later fork: the shared fields ([`PostElectraFields`]) plus the
/// fork's own behaviour as associated items. See the module docs.
pub trait PostElectraState<P: Preset>:
    PostElectraFields<P>
    + Clone
    + std::fmt::Debug
    + PartialEq
    + Encode
    + Decode
    + TreeHash
    + Send
    + Sync
    + 'static
{
    /// The fork whose `BeaconState` this is.
    const FORK: ForkName;

    /// The spec's `get_beacon_proposer_index(state)` for this fork.
    fn get_beacon_proposer_index(&self, caches: &mut Caches) -> Result<ValidatorIndex>;

    /// The fork's `process_proposer_lookahead` epoch step; nothing before Fulu.
    fn process_proposer_lookahead(&mut self, caches: &mut Caches) -> Result<()>;

    /// `process_pending_deposits`' first check: whether `deposit` must wait for Eth1 bridge
    /// deposits still to be applied. Electra: `deposit.slot > GENESIS_SLOT and
    /// state.eth1_deposit_index < state.deposit_requests_start_index`; Fulu removed the
    /// bridge, so never.
    fn is_deposit_request_blocked_by_eth1_bridge(&self, deposit: &PendingDeposit) -> bool;

    /// Wraps the state into the fork-generic [`BeaconState`] enum.
    fn into_beacon_state(self) -> BeaconState<P>;
}

impl<P: Preset> PostElectraState<P> for keel_types::electra::BeaconState<P> {
    const FORK: ForkName = ForkName::Electra;

    /// Electra's `get_beacon_proposer_index`: computed from the current epoch's seed.
    fn get_beacon_proposer_index(&self, caches: &mut Caches) -> Result<ValidatorIndex> {
        crate::accessors::compute_beacon_proposer_index(self, caches)
    }

    fn process_proposer_lookahead(&mut self, _caches: &mut Caches) -> Result<()> {
        Ok(())
    }

    fn is_deposit_request_blocked_by_eth1_bridge(&self, deposit: &PendingDeposit) -> bool {
        deposit.slot > keel_config::constants::GENESIS_SLOT
            && self.eth1_deposit_index < self.deposit_requests_start_index
    }

    fn into_beacon_state(self) -> BeaconState<P> {
        BeaconState::Electra(self)
    }
}

impl<P: Preset> PostElectraState<P> for keel_types::fulu::BeaconState<P> {
    const FORK: ForkName = ForkName::Fulu;

    /// Fulu's `get_beacon_proposer_index`: `state.proposer_lookahead[state.slot % SLOTS_PER_EPOCH]`.
    fn get_beacon_proposer_index(&self, _caches: &mut Caches) -> Result<ValidatorIndex> {
        let position = crate::math::to_usize(self.slot.safe_rem(P::slots_per_epoch())?)?;
        self.proposer_lookahead
            .get(position)
            .copied()
            .ok_or_else(|| {
                Error::index(
                    "proposer_lookahead",
                    position,
                    self.proposer_lookahead.len(),
                )
            })
    }

    fn process_proposer_lookahead(&mut self, caches: &mut Caches) -> Result<()> {
        crate::epoch::process_proposer_lookahead(self, caches)
    }

    fn is_deposit_request_blocked_by_eth1_bridge(&self, _deposit: &PendingDeposit) -> bool {
        false
    }

    fn into_beacon_state(self) -> BeaconState<P> {
        BeaconState::Fulu(self)
    }
}

/// A beacon state of Fulu or later: adds EIP-7917's `proposer_lookahead`.
pub trait PostFuluState<P: Preset>: PostElectraState<P> {
    fn proposer_lookahead(&self) -> &Vector<ValidatorIndex, P::ProposerLookaheadSlots>;
    fn proposer_lookahead_mut(&mut self) -> &mut Vector<ValidatorIndex, P::ProposerLookaheadSlots>;
}

impl<P: Preset> PostFuluState<P> for keel_types::fulu::BeaconState<P> {
    fn proposer_lookahead(&self) -> &Vector<ValidatorIndex, P::ProposerLookaheadSlots> {
        &self.proposer_lookahead
    }
    fn proposer_lookahead_mut(&mut self) -> &mut Vector<ValidatorIndex, P::ProposerLookaheadSlots> {
        &mut self.proposer_lookahead
    }
}
