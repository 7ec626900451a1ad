//! The custody helpers of `specs/fulu/das-core.md`: which custody groups a node keeps, and which
//! columns a custody group covers.
//!
//! `NUMBER_OF_CUSTODY_GROUPS` is a config value (`ChainConfig::number_of_custody_groups`),
//! `NUMBER_OF_COLUMNS` a preset value (`P::number_of_columns()`); both are read from there, never
//! assumed. The spec's `assert`s are [`CustodyError`]s: the arguments come from peers' metadata
//! and ENRs, so a bad value must be an error the caller can handle, not a panic.

use crate::math::bytes_to_uint64;
use keel_config::ChainConfig;
use keel_types::{Preset, Uint256};
use thiserror::Error;

/// `CustodyIndex`.
pub type CustodyIndex = u64;
/// `ColumnIndex`.
pub type ColumnIndex = u64;
/// `NodeID`: a `uint256`.
pub type NodeId = Uint256;

/// A spec assertion of the custody helpers that the arguments do not satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CustodyError {
    /// `get_custody_groups`: `custody_group_count <= NUMBER_OF_CUSTODY_GROUPS`.
    #[error("custody group count {count} exceeds NUMBER_OF_CUSTODY_GROUPS ({groups})")]
    TooManyGroups { count: u64, groups: u64 },
    /// `compute_columns_for_custody_group`: `custody_group < NUMBER_OF_CUSTODY_GROUPS`.
    #[error("custody group {group} is not below NUMBER_OF_CUSTODY_GROUPS ({groups})")]
    GroupOutOfRange { group: u64, groups: u64 },
    /// A column index past `u64`: only possible with a corrupt config.
    #[error("column index overflows for custody group {group}")]
    ColumnOverflow { group: u64 },
}

/// `get_custody_groups(node_id, custody_group_count)`: the sorted custody groups of a node,
/// derived from hashing consecutive ids starting at its node id.
pub fn get_custody_groups(
    config: &ChainConfig,
    node_id: NodeId,
    custody_group_count: u64,
) -> Result<Vec<CustodyIndex>, CustodyError> {
    let groups = config.number_of_custody_groups;
    if custody_group_count > groups {
        return Err(CustodyError::TooManyGroups {
            count: custody_group_count,
            groups,
        });
    }
    // Skip computation if all groups are custodied.
    if custody_group_count == groups {
        return Ok((0..groups).collect());
    }
    // Here `0 <= custody_group_count < groups`, so `groups > 0` and the loop ends: every id
    // hashes to some group, and fewer than `groups` distinct groups are wanted.
    let wanted = usize::try_from(custody_group_count).map_err(|_| CustodyError::TooManyGroups {
        count: custody_group_count,
        groups,
    })?;
    let mut custody_groups: Vec<CustodyIndex> = Vec::with_capacity(wanted);
    let mut current_id = node_id;
    while custody_groups.len() < wanted {
        // `uint_to_bytes(Uint256)`: 32 bytes, little-endian.
        let digest = ethereum_hashing::hash(&current_id.to_le_bytes::<32>());
        let custody_group = bytes_to_uint64(digest.get(..8).unwrap_or_default())
            .checked_rem(groups)
            .ok_or(CustodyError::TooManyGroups {
                count: custody_group_count,
                groups,
            })?;
        if !custody_groups.contains(&custody_group) {
            custody_groups.push(custody_group);
        }
        // Overflow prevention, as the spec writes it: wrap from UINT256_MAX to 0.
        current_id = current_id
            .checked_add(Uint256::from(1u8))
            .unwrap_or(Uint256::ZERO);
    }
    custody_groups.sort_unstable();
    Ok(custody_groups)
}

/// `compute_columns_for_custody_group(custody_group)`: the columns
/// `NUMBER_OF_CUSTODY_GROUPS * i + custody_group` for `i` in
/// `range(NUMBER_OF_COLUMNS // NUMBER_OF_CUSTODY_GROUPS)`.
pub fn compute_columns_for_custody_group<P: Preset>(
    config: &ChainConfig,
    custody_group: CustodyIndex,
) -> Result<Vec<ColumnIndex>, CustodyError> {
    let groups = config.number_of_custody_groups;
    if custody_group >= groups {
        return Err(CustodyError::GroupOutOfRange {
            group: custody_group,
            groups,
        });
    }
    // `groups > custody_group >= 0`, so the division is defined.
    let columns_per_group = P::number_of_columns().checked_div(groups).unwrap_or(0);
    (0..columns_per_group)
        .map(|i| {
            groups
                .checked_mul(i)
                .and_then(|c| c.checked_add(custody_group))
                .ok_or(CustodyError::ColumnOverflow {
                    group: custody_group,
                })
        })
        .collect()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use keel_types::{Mainnet, Minimal};

    #[test]
    fn all_groups_when_count_is_the_total() {
        let config = ChainConfig::mainnet();
        let all = get_custody_groups(&config, Uint256::MAX, config.number_of_custody_groups);
        assert_eq!(
            all.unwrap(),
            (0..config.number_of_custody_groups).collect::<Vec<_>>()
        );
    }

    #[test]
    fn groups_are_sorted_distinct_and_wrap_at_the_top_id() {
        let config = ChainConfig::minimal();
        for count in [0, 1, 4, 127] {
            let groups = get_custody_groups(&config, Uint256::MAX, count).unwrap();
            assert_eq!(groups.len() as u64, count);
            assert!(groups.windows(2).all(|w| w[0] < w[1]));
            assert!(groups.iter().all(|g| *g < config.number_of_custody_groups));
        }
    }

    #[test]
    fn assertions_are_errors() {
        let config = ChainConfig::mainnet();
        let groups = config.number_of_custody_groups;
        assert!(get_custody_groups(&config, Uint256::ZERO, groups + 1).is_err());
        assert!(compute_columns_for_custody_group::<Mainnet>(&config, groups).is_err());
    }

    #[test]
    fn columns_partition_the_matrix() {
        let config = ChainConfig::minimal();
        let mut all: Vec<u64> = (0..config.number_of_custody_groups)
            .flat_map(|g| compute_columns_for_custody_group::<Minimal>(&config, g).unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..Minimal::number_of_columns()).collect::<Vec<_>>());
    }
}
