//! Which attestation subnets a node subscribes to for its own sake (phase0 p2p-interface,
//! "Attestation subnet subscription"): a function of the node id and the epoch, so that the
//! network can check, from a node's ENR, that it carries its share of subnets.

use crate::shuffling::{ShufflingError, compute_shuffled_index};
use keel_config::ChainConfig;
use keel_types::{Epoch, Hash256, Preset};

/// `NODE_ID_BITS`.
pub const NODE_ID_BITS: u32 = 256;

/// The spec's `compute_attestation_subnet_prefix_bits()`.
pub fn compute_attestation_subnet_prefix_bits(config: &ChainConfig) -> u32 {
    let ceillog2 = config
        .attestation_subnet_count
        .max(1)
        .next_power_of_two()
        .trailing_zeros();
    let extra = u32::try_from(config.attestation_subnet_extra_bits).unwrap_or(u32::MAX);
    ceillog2.saturating_add(extra)
}

/// The spec's `compute_subscribed_subnet(node_id, epoch, index)`; `node_id` is big-endian
/// (the uint256 the spec reads from the discv5 node id).
pub fn compute_subscribed_subnet<P: Preset>(
    config: &ChainConfig,
    node_id: [u8; 32],
    epoch: Epoch,
    index: u64,
) -> Result<u64, ShufflingError> {
    let prefix_bits = compute_attestation_subnet_prefix_bits(config).min(63);
    // `node_id >> (NODE_ID_BITS - prefix_bits)`: the top `prefix_bits` bits, which fit a u64.
    let top = u64::from_be_bytes(node_id[..8].try_into().unwrap_or([0; 8]));
    let node_id_prefix = top
        .checked_shr(64u32.saturating_sub(prefix_bits))
        .unwrap_or(0);
    // `node_id % EPOCHS_PER_SUBNET_SUBSCRIPTION`, exact for any modulus: byte by byte, the
    // accumulator stays below the modulus (< 2^64), so the shift cannot overflow.
    let epochs_per_subscription = config.epochs_per_subnet_subscription.max(1);
    let modulus = u128::from(epochs_per_subscription);
    let node_offset = node_id.iter().fold(0u128, |acc, byte| {
        (acc.wrapping_shl(8) | u128::from(*byte))
            .checked_rem(modulus)
            .unwrap_or(0)
    });
    let node_offset = u64::try_from(node_offset).unwrap_or(0);
    let period = epoch
        .saturating_add(node_offset)
        .checked_div(epochs_per_subscription)
        .unwrap_or(0);
    let permutation_seed = Hash256::from(ethereum_hashing::hash_fixed(&period.to_le_bytes()));
    let permutated_prefix = compute_shuffled_index(
        node_id_prefix,
        1u64.checked_shl(prefix_bits).unwrap_or(u64::MAX),
        &permutation_seed,
        P::SHUFFLE_ROUND_COUNT as u8,
    )?;
    Ok(permutated_prefix
        .wrapping_add(index)
        .checked_rem(config.attestation_subnet_count)
        .unwrap_or(0))
}

/// The spec's `compute_subscribed_subnets(node_id, epoch)`.
pub fn compute_subscribed_subnets<P: Preset>(
    config: &ChainConfig,
    node_id: [u8; 32],
    epoch: Epoch,
) -> Result<Vec<u64>, ShufflingError> {
    (0..config.subnets_per_node)
        .map(|index| compute_subscribed_subnet::<P>(config, node_id, epoch, index))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )]
    use super::*;
    use keel_types::Mainnet;

    #[test]
    fn a_node_takes_subnets_per_node_consecutive_subnets() {
        let config = ChainConfig::mainnet();
        assert_eq!(compute_attestation_subnet_prefix_bits(&config), 6);
        let node_id = [0xabu8; 32];
        let subnets = compute_subscribed_subnets::<Mainnet>(&config, node_id, 1000).unwrap();
        assert_eq!(subnets.len(), 2);
        assert_eq!(subnets[1], (subnets[0] + 1) % 64);
    }

    #[test]
    fn subscriptions_rotate_per_period_at_a_node_specific_offset() {
        let config = ChainConfig::mainnet();
        let node_id = [0x5au8; 32];
        let period = config.epochs_per_subnet_subscription;
        let offset = node_id.iter().fold(0u128, |a, b| {
            ((a << 8) | u128::from(*b)) % u128::from(period)
        }) as u64;
        // Within one period (shifted by the offset) the subnets do not change.
        let start = period * 10 - offset;
        let first = compute_subscribed_subnets::<Mainnet>(&config, node_id, start).unwrap();
        let last =
            compute_subscribed_subnets::<Mainnet>(&config, node_id, start + period - 1).unwrap();
        assert_eq!(first, last);
        // Over many periods, different subnets come up.
        let distinct: std::collections::HashSet<u64> = (0..40)
            .map(|p| {
                compute_subscribed_subnet::<Mainnet>(&config, node_id, start + p * period, 0)
                    .unwrap()
            })
            .collect();
        assert!(distinct.len() > 10, "{distinct:?}");
    }
}
