//! Genesis states for devnets, tests and benchmarks.
//!
//! This spec version keeps `initialize_beacon_state_from_eth1` for phase0 only; a network that
//! starts at a later fork runs the upgrades in turn from there ("for the pure Fulu networks, the
//! `upgrade_to_fulu` function is applied to transition the genesis state"). Keel implements
//! Electra onwards, so [`interop_genesis_state`] builds the state that chain of upgrades yields
//! at Electra — fork `{DENEB, ELECTRA, 0}`, Electra's churn fields as `upgrade_to_electra` sets
//! them, every deposit already applied and activated — and [`interop_genesis_state_fulu`] applies
//! `upgrade_to_fulu` to it.
//!
//! Validators come from the caller's public keys (for interop: `keel_crypto::bls::
//! interop_secret_key(i)`'s keys, which the caller may cache, since deriving a million of them
//! takes a while), so this stays a pure function.

use crate::accessors::{
    compute_activation_exit_epoch, get_activation_exit_churn_limit, get_consolidation_churn_limit,
    get_next_sync_committee,
};
use crate::cache::Caches;
use crate::error::Result;
use crate::math::SafeArith;
use crate::mutators::add_validator_to_registry;
use crate::state::PostElectraFields;
use crate::upgrade::upgrade_to_fulu;
use ethereum_hashing::hash_fixed;
use keel_config::ChainConfig;
use keel_config::constants::{
    ETH1_ADDRESS_WITHDRAWAL_PREFIX, GENESIS_EPOCH, UNSET_DEPOSIT_REQUESTS_START_INDEX,
};
use keel_types::electra::{BeaconBlockBody, BeaconBlockHeader, Eth1Data, ExecutionPayloadHeader};
use keel_types::milhouse::Vector;
use keel_types::phase0::Fork;
use keel_types::tree_hash::TreeHash;
use keel_types::typenum::Unsigned;
use keel_types::{Bytes32, ForkName, Gwei, Hash256, Preset, PublicKeyBytes, electra, fulu};
use std::sync::Arc;

/// The interop withdrawal credentials: `0x01`, 11 zero bytes, and an address taken from the
/// public key's hash, so that withdrawals have somewhere to go on a devnet.
pub fn interop_withdrawal_credentials(pubkey: &PublicKeyBytes) -> Bytes32 {
    let hash = hash_fixed(pubkey.as_bytes());
    let mut credentials = [0u8; 32];
    credentials[0] = ETH1_ADDRESS_WITHDRAWAL_PREFIX;
    credentials[12..].copy_from_slice(&hash[12..]);
    Bytes32::from(credentials)
}

/// An Electra genesis state with one active validator per `(pubkey, balance)`.
pub fn interop_genesis_state<P: Preset>(
    config: &ChainConfig,
    validators: &[(PublicKeyBytes, Gwei)],
    genesis_time: u64,
    eth1_block_hash: Hash256,
    latest_execution_payload_header: ExecutionPayloadHeader<P>,
    caches: &mut Caches,
) -> Result<electra::BeaconState<P>> {
    let deposit_count = validators.len() as u64;
    let mut state = electra::BeaconState::<P> {
        genesis_time,
        fork: Fork {
            previous_version: config.fork_version(ForkName::Deneb),
            current_version: config.fork_version(ForkName::Electra),
            epoch: GENESIS_EPOCH,
        },
        // No eth1 deposit tree backs an interop genesis: the deposits are applied directly and
        // deposits afterwards arrive as execution-layer requests.
        eth1_data: Eth1Data {
            deposit_root: Hash256::ZERO,
            deposit_count,
            block_hash: eth1_block_hash,
        },
        latest_block_header: BeaconBlockHeader {
            body_root: BeaconBlockBody::<P>::default().tree_hash_root(),
            ..Default::default()
        },
        randao_mixes: Vector::new(vec![
            eth1_block_hash;
            P::EpochsPerHistoricalVector::to_usize()
        ])
        .map_err(crate::error::Error::tree("randao_mixes", "new"))?,
        eth1_deposit_index: deposit_count,
        latest_execution_payload_header,
        deposit_requests_start_index: UNSET_DEPOSIT_REQUESTS_START_INDEX,
        ..Default::default()
    };

    for (pubkey, balance) in validators {
        let credentials = interop_withdrawal_credentials(pubkey);
        add_validator_to_registry(&mut state, *pubkey, credentials, *balance)?;
    }
    // Activate every validator whose deposit reaches the activation balance.
    for index in 0..state.validators.len() {
        if let Some(validator) = state.validators.get_mut(index)
            && validator.effective_balance >= P::MIN_ACTIVATION_BALANCE
        {
            validator.activation_eligibility_epoch = GENESIS_EPOCH;
            validator.activation_epoch = GENESIS_EPOCH;
        }
    }
    state.apply_pending_updates()?;
    state.genesis_validators_root = state.validators.tree_hash_root();

    let sync_committee = Arc::new(get_next_sync_committee(&state, caches)?);
    state.current_sync_committee = sync_committee.clone();
    state.next_sync_committee = sync_committee;

    // As `upgrade_to_electra` leaves them at epoch 0 (no validator is exiting).
    state.earliest_exit_epoch = compute_activation_exit_epoch::<P>(GENESIS_EPOCH)?.safe_add(1)?;
    state.earliest_consolidation_epoch = compute_activation_exit_epoch::<P>(GENESIS_EPOCH)?;
    state.exit_balance_to_consume = get_activation_exit_churn_limit(&state, config)?;
    state.consolidation_balance_to_consume = get_consolidation_churn_limit(&state, config)?;
    state.apply_pending_updates()?;
    Ok(state)
}

/// A Fulu genesis state: [`interop_genesis_state`] followed by `upgrade_to_fulu`.
pub fn interop_genesis_state_fulu<P: Preset>(
    config: &ChainConfig,
    validators: &[(PublicKeyBytes, Gwei)],
    genesis_time: u64,
    eth1_block_hash: Hash256,
    latest_execution_payload_header: ExecutionPayloadHeader<P>,
    caches: &mut Caches,
) -> Result<fulu::BeaconState<P>> {
    let electra = interop_genesis_state(
        config,
        validators,
        genesis_time,
        eth1_block_hash,
        latest_execution_payload_header,
        caches,
    )?;
    upgrade_to_fulu(electra, config, caches)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::accessors::get_total_active_balance;
    use keel_types::Minimal;

    fn keys(n: u64) -> Vec<(PublicKeyBytes, Gwei)> {
        (0..n)
            .map(|i| {
                let pk = keel_crypto::bls::interop_secret_key(i)
                    .unwrap()
                    .public_key()
                    .to_bytes();
                (pk, 32_000_000_000)
            })
            .collect()
    }

    #[test]
    fn fulu_genesis_is_consistent() {
        let config = ChainConfig::minimal();
        let mut caches = Caches::new();
        let validators = keys(64);
        let state = interop_genesis_state_fulu::<Minimal>(
            &config,
            &validators,
            1_700_000_000,
            Hash256::repeat_byte(7),
            ExecutionPayloadHeader::default(),
            &mut caches,
        )
        .unwrap();
        assert_eq!(state.validators.len(), 64);
        assert_eq!(
            state.fork.current_version,
            config.fork_version(ForkName::Fulu)
        );
        assert_eq!(
            state.fork.previous_version,
            config.fork_version(ForkName::Electra)
        );
        assert_eq!(
            get_total_active_balance(&state).unwrap(),
            64 * 32_000_000_000
        );
        assert_eq!(
            state.genesis_validators_root,
            state.validators.tree_hash_root()
        );
        // Every lookahead slot names an existing validator.
        assert!(state.proposer_lookahead.iter().all(|&i| i < 64));
        // Same inputs, same state, byte for byte.
        let again = interop_genesis_state_fulu::<Minimal>(
            &config,
            &validators,
            1_700_000_000,
            Hash256::repeat_byte(7),
            ExecutionPayloadHeader::default(),
            &mut Caches::new(),
        )
        .unwrap();
        assert_eq!(state.tree_hash_root(), again.tree_hash_root());
    }
}
