//! Block processing for Electra and Fulu: `process_block` and its steps, in spec order and under
//! spec names, generic over [`BlockState`] (the post-Electra states).
//!
//! | module | spec functions |
//! |---|---|
//! | [`header`] | `process_block_header`, `verify_block_signature` |
//! | [`withdrawals`] | `get_expected_withdrawals` (with Electra's pending partial withdrawals), `process_withdrawals` and helpers |
//! | [`execution_payload`] | `process_execution_payload`, `NewPayloadRequest`, `get_execution_requests_list` |
//! | [`randao`] | `process_randao` |
//! | [`eth1`] | `process_eth1_data` |
//! | [`operations`] | `process_operations`, slashings, `process_deposit`, exits, BLS changes |
//! | [`attestation`] | `process_attestation` (EIP-7549) and its accessors |
//! | [`requests`] | `process_deposit_request`, `process_withdrawal_request`, `process_consolidation_request` |
//! | [`sync_aggregate`] | `process_sync_aggregate` |
//! | [`transition`] | `state_transition` within a fork (slots, signed block, state root) |
//!
//! The library performs no I/O: the execution engine's verdict on the payload comes through the
//! caller's [`ExecutionEngine`]. Signatures are verified, batched or skipped as the caller's
//! [`SignatureStrategy`] says (see [`crate::signature_sets`]); validator keys come from the
//! caller's [`PubkeyCache`], which [`process_block`] brings up to date first.
//!
//! What differs between Electra and Fulu in block processing is an associated item of
//! [`BlockState`]: the blob limit, whether Eth1 bridge deposits are still processed, and whether
//! deposit requests record `deposit_requests_start_index`.

pub mod attestation;
pub mod error;
pub mod eth1;
pub mod execution_payload;
pub mod header;
pub mod operations;
pub mod randao;
pub mod requests;
pub mod sync_aggregate;
pub mod transition;
pub mod withdrawals;

pub use error::{BlockError, IndexedAttestationError, OperationError};
pub use execution_payload::{ExecutionEngine, NewPayloadRequest, StaticExecutionEngine};
pub use transition::{apply_block, state_transition};

use crate::accessors::get_total_active_balance;
use crate::cache::{Caches, EpochBalances};
use crate::error::{Error, Result};
use crate::math::SafeArith;
use crate::pubkey_cache::PubkeyCache;
use crate::signature_sets::{SignatureMode, SignatureOrigin, SignatureSink};
use crate::state::PostElectraState;
use keel_config::ChainConfig;
use keel_config::constants::UNSET_DEPOSIT_REQUESTS_START_INDEX;
use keel_types::electra::{BeaconBlock, SignedBeaconBlock};
use keel_types::tree_hash::TreeHash;
use keel_types::typenum::Unsigned;
use keel_types::{Epoch, Gwei, Hash256, Preset, SignatureBytes, ValidatorIndex};
use rand::CryptoRng;
use std::sync::Arc;

/// A post-Electra state as block processing sees it: [`PostElectraState`] plus the block rules
/// that differ between forks.
pub trait BlockState<P: Preset>: PostElectraState<P> {
    /// `process_execution_payload`'s blob limit at `epoch`: `MAX_BLOBS_PER_BLOCK_ELECTRA` in
    /// Electra, `get_blob_parameters(epoch).max_blobs_per_block` (EIP-7892) from Fulu on.
    fn max_blobs_per_block(config: &ChainConfig, epoch: Epoch) -> u64;

    /// `process_operations`' required number of Eth1 bridge deposits in the block. Electra:
    /// `min(MAX_DEPOSITS, limit - eth1_deposit_index)` while `eth1_deposit_index < limit =
    /// min(eth1_data.deposit_count, deposit_requests_start_index)`, else 0. Fulu removed the
    /// bridge (and `process_deposit`): always 0.
    fn expected_deposit_count(&self) -> Result<u64>;

    /// Whether `process_deposit_request` records the first request's index in
    /// `deposit_requests_start_index` (Electra; Fulu removed the step).
    const RECORDS_DEPOSIT_REQUESTS_START_INDEX: bool;
}

impl<P: Preset> BlockState<P> for keel_types::electra::BeaconState<P> {
    fn max_blobs_per_block(config: &ChainConfig, _epoch: Epoch) -> u64 {
        config.max_blobs_per_block_electra
    }

    fn expected_deposit_count(&self) -> Result<u64> {
        let limit = self
            .eth1_data
            .deposit_count
            .min(self.deposit_requests_start_index);
        if self.eth1_deposit_index < limit {
            Ok(P::MaxDeposits::to_u64().min(limit.safe_sub(self.eth1_deposit_index)?))
        } else {
            Ok(0)
        }
    }

    const RECORDS_DEPOSIT_REQUESTS_START_INDEX: bool = true;
}

impl<P: Preset> BlockState<P> for keel_types::fulu::BeaconState<P> {
    fn max_blobs_per_block(config: &ChainConfig, epoch: Epoch) -> u64 {
        config.get_blob_parameters(epoch).max_blobs_per_block
    }

    fn expected_deposit_count(&self) -> Result<u64> {
        Ok(0)
    }

    const RECORDS_DEPOSIT_REQUESTS_START_INDEX: bool = false;
}

/// Whether `deposit_requests_start_index` is still unset.
pub(crate) fn deposit_requests_start_index_unset<P: Preset, S: PostElectraState<P>>(
    state: &S,
) -> bool {
    state.deposit_requests_start_index() == UNSET_DEPOSIT_REQUESTS_START_INDEX
}

/// How the caller wants signatures treated, with the randomness batch verification needs.
pub enum SignatureStrategy<'r> {
    /// Verify each signature where the spec does.
    Verify,
    /// Verify all of the block's signatures in one batch, with random scalars from this RNG
    /// (which must be unpredictable to whoever made the block).
    Batch(&'r mut dyn CryptoRng),
    /// Verify none (replay of blocks known to be valid).
    Skip,
}

impl SignatureStrategy<'_> {
    pub fn mode(&self) -> SignatureMode {
        match self {
            Self::Verify => SignatureMode::Verify,
            Self::Batch(_) => SignatureMode::Batch,
            Self::Skip => SignatureMode::Skip,
        }
    }
}

/// What the steps of one block's processing share: the configuration, the caller's caches, the
/// signature sink, and values constant within a block (memoized on first use).
///
/// Use one context per block (or per operation, as the spec tests do): the memoized total
/// active balance, effective balances and proposer index are those of the state the context
/// first saw. Within a block they cannot change: no operation changes effective balances,
/// activates a validator or exits one before a future epoch, and the proposer seed does not
/// depend on the current epoch's RANDAO mix.
pub struct BlockContext<'a> {
    pub config: &'a ChainConfig,
    pub caches: &'a mut Caches,
    pub pubkeys: &'a PubkeyCache,
    pub signatures: SignatureSink<'a>,
    total_active_balance: Option<Gwei>,
    proposer_index: Option<ValidatorIndex>,
    /// The pre-block registry's balances (from the caller's [`Caches`], keyed by the registry's
    /// root), when [`process_block`] looked them up.
    balances: Option<Arc<EpochBalances>>,
    /// Per participation list (previous, current epoch): a copy of its values, taken when an
    /// attestation touches a large share of the registry and kept in step with every write made
    /// through the context, so that reading an attester's flags is an array read rather than a
    /// tree walk. Validators appended during the block lie beyond it.
    participation: [Option<Vec<u8>>; 2],
}

impl<'a> BlockContext<'a> {
    pub fn new(
        config: &'a ChainConfig,
        caches: &'a mut Caches,
        pubkeys: &'a PubkeyCache,
        mode: SignatureMode,
    ) -> Self {
        Self {
            config,
            caches,
            pubkeys,
            signatures: SignatureSink::new(mode),
            total_active_balance: None,
            proposer_index: None,
            balances: None,
            participation: [None, None],
        }
    }

    /// Looks up (or builds and stores) the [`EpochBalances`] of `state`, whose registry root is
    /// `validators_root`, in the caller's caches. Call before the block changes anything.
    fn load_epoch_balances<P: Preset, S: PostElectraState<P>>(
        &mut self,
        state: &S,
        validators_root: Hash256,
    ) -> Result<()> {
        let balances = self.caches.epoch_balances(state, validators_root)?;
        self.total_active_balance = Some(balances.total_active_balance());
        self.balances = Some(balances);
        Ok(())
    }

    /// `get_total_active_balance(state)`, computed once per context.
    pub fn total_active_balance<P: Preset, S: PostElectraState<P>>(
        &mut self,
        state: &S,
    ) -> Result<Gwei> {
        match self.total_active_balance {
            Some(total) => Ok(total),
            None => {
                let total = get_total_active_balance(state)?;
                self.total_active_balance = Some(total);
                Ok(total)
            }
        }
    }

    /// `state.validators[index].effective_balance`: from the pre-block balances when loaded
    /// (effective balances do not change within a block), else from the state.
    pub fn effective_balance<P: Preset, S: PostElectraState<P>>(
        &self,
        state: &S,
        index: ValidatorIndex,
    ) -> Result<Gwei> {
        if let Some(balance) = self
            .balances
            .as_ref()
            .and_then(|b| b.effective_balance(index))
        {
            return Ok(balance);
        }
        Ok(crate::accessors::validator(state.validators(), index)?.effective_balance)
    }

    /// The copy of participation list `which` (0: previous epoch, 1: current epoch), taken now
    /// if not yet (one pass over the list).
    pub(crate) fn participation_copy<P: Preset, S: PostElectraState<P>>(
        &mut self,
        state: &S,
        which: usize,
    ) -> Option<&mut Vec<u8>> {
        let slot = self.participation.get_mut(which)?;
        if slot.is_none() {
            let list = if which == 0 {
                state.previous_epoch_participation()
            } else {
                state.current_epoch_participation()
            };
            *slot = Some(list.iter().copied().collect());
        }
        slot.as_mut()
    }

    /// The copy of participation list `which`, if one was taken.
    pub(crate) fn participation_copy_if_taken(&mut self, which: usize) -> Option<&mut Vec<u8>> {
        self.participation.get_mut(which)?.as_mut()
    }

    /// `get_beacon_proposer_index(state)`, computed once per context.
    pub fn proposer_index<P: Preset, S: PostElectraState<P>>(
        &mut self,
        state: &S,
    ) -> Result<ValidatorIndex> {
        match self.proposer_index {
            Some(index) => Ok(index),
            None => {
                let index = state.get_beacon_proposer_index(self.caches)?;
                self.proposer_index = Some(index);
                Ok(index)
            }
        }
    }
}

/// The spec's `process_block(state, block)` for Electra and Fulu (the block's signature is not
/// checked; see [`process_signed_block`]).
///
/// `pubkeys` is updated with `state`'s validators first. On error the state is partially
/// updated and must be discarded (as the spec's state is when an assertion fails).
pub fn process_block<P: Preset, S: BlockState<P>>(
    state: &mut S,
    block: &BeaconBlock<P>,
    config: &ChainConfig,
    caches: &mut Caches,
    pubkeys: &mut PubkeyCache,
    engine: &dyn ExecutionEngine<P>,
    signatures: SignatureStrategy<'_>,
) -> std::result::Result<(), BlockError> {
    process_block_inner(
        state, block, None, config, caches, pubkeys, engine, signatures,
    )
}

/// `verify_block_signature` followed by `process_block`, with the proposer's signature in the
/// same batch as the block's other signatures (`Batch` mode). This is what `state_transition`
/// runs after `process_slots`.
pub fn process_signed_block<P: Preset, S: BlockState<P>>(
    state: &mut S,
    signed_block: &SignedBeaconBlock<P>,
    config: &ChainConfig,
    caches: &mut Caches,
    pubkeys: &mut PubkeyCache,
    engine: &dyn ExecutionEngine<P>,
    signatures: SignatureStrategy<'_>,
) -> std::result::Result<(), BlockError> {
    process_block_inner(
        state,
        &signed_block.message,
        Some(&signed_block.signature),
        config,
        caches,
        pubkeys,
        engine,
        signatures,
    )
}

#[allow(clippy::too_many_arguments)]
fn process_block_inner<P: Preset, S: BlockState<P>>(
    state: &mut S,
    block: &BeaconBlock<P>,
    block_signature: Option<&SignatureBytes>,
    config: &ChainConfig,
    caches: &mut Caches,
    pubkeys: &mut PubkeyCache,
    engine: &dyn ExecutionEngine<P>,
    signatures: SignatureStrategy<'_>,
) -> std::result::Result<(), BlockError> {
    pubkeys.update(state);
    let pubkeys: &PubkeyCache = pubkeys;
    let mode = signatures.mode();
    // The registry's root keys the cached total active balance and effective balances. The
    // state is normally hashed already (`process_slot` hashes it); otherwise this hashing is
    // work the post-state root needs anyway.
    let validators_root = {
        let validators = state.validators_mut();
        validators
            .apply_updates()
            .map_err(|e| BlockError::PreState(Error::tree("validators", "apply_updates")(e)))?;
        validators.tree_hash_root()
    };
    let mut ctx = BlockContext::new(config, caches, pubkeys, mode);
    ctx.load_epoch_balances(&*state, validators_root)
        .map_err(BlockError::PreState)?;

    if let Some(signature) = block_signature {
        header::verify_block_signature(state, block, signature, &mut ctx)
            .map_err(BlockError::BlockSignature)?;
    }
    header::process_block_header(state, block, &mut ctx).map_err(BlockError::BlockHeader)?;
    withdrawals::process_withdrawals(state, &block.body.execution_payload)
        .map_err(BlockError::Withdrawals)?;
    execution_payload::process_execution_payload(state, &block.body, engine, &mut ctx)
        .map_err(BlockError::ExecutionPayload)?;
    randao::process_randao(state, &block.body, &mut ctx).map_err(BlockError::Randao)?;
    eth1::process_eth1_data(state, &block.body).map_err(BlockError::Eth1Data)?;
    operations::process_operations(state, &block.body, &mut ctx)?;
    sync_aggregate::process_sync_aggregate(state, &block.body.sync_aggregate, &mut ctx)
        .map_err(BlockError::SyncAggregate)?;

    if let SignatureStrategy::Batch(rng) = signatures {
        ctx.signatures
            .verify_batch(rng)
            .map_err(BlockError::InvalidSignature)?;
    }
    Ok(())
}

/// Checks one signature through the context's sink, as [`SignatureSink::check`].
pub(crate) fn check_signature<'a>(
    ctx: &mut BlockContext<'a>,
    origin: SignatureOrigin,
    build: impl FnOnce(&'a PubkeyCache) -> crate::signature_sets::SetResult<'a>,
) -> std::result::Result<(), crate::signature_sets::SignatureError> {
    let pubkeys = ctx.pubkeys;
    ctx.signatures.check(origin, || build(pubkeys))
}
