//! The spec's constants: values that are neither preset nor config, as the spec defines them
//! (`Uint64` → `u64`, `Bytes1` → `u8`, `DomainType` → `[u8; 4]`), through Fulu.
//!
//! `ENDIANNESS` (`'little'`) has no value here: Keel encodes integers little-endian everywhere.
//! Constants that only the KZG/BLS code needs (`BLS_MODULUS`, ...) live in `keel-crypto`.

use keel_types::{DomainType, Epoch, Gwei, Hash256, Slot};

// ---- phase0: beacon-chain.md ----

pub const UINT64_MAX: u64 = u64::MAX;
pub const UINT64_MAX_SQRT: u64 = 4_294_967_295;
pub const GENESIS_SLOT: Slot = 0;
pub const GENESIS_EPOCH: Epoch = 0;
pub const FAR_FUTURE_EPOCH: Epoch = u64::MAX;
pub const BASE_REWARDS_PER_EPOCH: u64 = 4;
pub const JUSTIFICATION_BITS_LENGTH: u64 = 4;

pub const BLS_WITHDRAWAL_PREFIX: u8 = 0x00;
pub const ETH1_ADDRESS_WITHDRAWAL_PREFIX: u8 = 0x01;

pub const DOMAIN_BEACON_PROPOSER: DomainType = [0x00, 0x00, 0x00, 0x00];
pub const DOMAIN_BEACON_ATTESTER: DomainType = [0x01, 0x00, 0x00, 0x00];
pub const DOMAIN_RANDAO: DomainType = [0x02, 0x00, 0x00, 0x00];
pub const DOMAIN_DEPOSIT: DomainType = [0x03, 0x00, 0x00, 0x00];
pub const DOMAIN_VOLUNTARY_EXIT: DomainType = [0x04, 0x00, 0x00, 0x00];
pub const DOMAIN_SELECTION_PROOF: DomainType = [0x05, 0x00, 0x00, 0x00];
pub const DOMAIN_AGGREGATE_AND_PROOF: DomainType = [0x06, 0x00, 0x00, 0x00];
/// Reserves the rest of the `DomainType` space for applications (builder API, ...).
pub const DOMAIN_APPLICATION_MASK: DomainType = [0x00, 0x00, 0x00, 0x01];

// ---- phase0: deposit-contract.md, validator.md, p2p-interface.md, fork-choice.md,
// weak-subjectivity.md, fast-confirmation.md ----

pub const DEPOSIT_CONTRACT_TREE_DEPTH: u64 = 32;
pub const TARGET_AGGREGATORS_PER_COMMITTEE: u64 = 16;
pub const NODE_ID_BITS: u64 = 256;
/// A p2p "configuration" value that the spec's `config.yaml` does not carry.
pub const MAX_CONCURRENT_REQUESTS: u64 = 2;
pub const BASIS_POINTS: u64 = 10_000;
pub const ETH_TO_GWEI: u64 = 1_000_000_000;
/// A weak-subjectivity "configuration" value that the spec's `config.yaml` does not carry.
pub const SAFETY_DECAY: u64 = 10;
pub const COMMITTEE_WEIGHT_ESTIMATION_ADJUSTMENT_FACTOR: u64 = 5;

// ---- altair ----

pub const TIMELY_SOURCE_FLAG_INDEX: u64 = 0;
pub const TIMELY_TARGET_FLAG_INDEX: u64 = 1;
pub const TIMELY_HEAD_FLAG_INDEX: u64 = 2;

pub const TIMELY_SOURCE_WEIGHT: u64 = 14;
pub const TIMELY_TARGET_WEIGHT: u64 = 26;
pub const TIMELY_HEAD_WEIGHT: u64 = 14;
pub const SYNC_REWARD_WEIGHT: u64 = 2;
pub const PROPOSER_WEIGHT: u64 = 8;
pub const WEIGHT_DENOMINATOR: u64 = 64;

pub const DOMAIN_SYNC_COMMITTEE: DomainType = [0x07, 0x00, 0x00, 0x00];
pub const DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF: DomainType = [0x08, 0x00, 0x00, 0x00];
pub const DOMAIN_CONTRIBUTION_AND_PROOF: DomainType = [0x09, 0x00, 0x00, 0x00];

/// Indexed by the `TIMELY_*_FLAG_INDEX` constants.
pub const PARTICIPATION_FLAG_WEIGHTS: [u64; 3] = [
    TIMELY_SOURCE_WEIGHT,
    TIMELY_TARGET_WEIGHT,
    TIMELY_HEAD_WEIGHT,
];

/// `BLSSignature(b'\xc0' + b'\x00' * 95)` (`altair/bls.md`).
pub const G2_POINT_AT_INFINITY: [u8; 96] = {
    let mut bytes = [0u8; 96];
    bytes[0] = 0xc0;
    bytes
};

pub const TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE: u64 = 16;
pub const SYNC_COMMITTEE_SUBNET_COUNT: u64 = 4;

// altair light client (sync-protocol.md, p2p-interface.md)
pub const FINALIZED_ROOT_GINDEX: u64 = 105;
pub const CURRENT_SYNC_COMMITTEE_GINDEX: u64 = 54;
pub const NEXT_SYNC_COMMITTEE_GINDEX: u64 = 55;
pub const MIN_SYNC_COMMITTEE_PARTICIPANTS: u64 = 1;
pub const MAX_REQUEST_LIGHT_CLIENT_UPDATES: u64 = 128;

// ---- bellatrix ----

pub const EMPTY_BLOCK_HASH: Hash256 = Hash256::ZERO;

// ---- capella ----

pub const DOMAIN_BLS_TO_EXECUTION_CHANGE: DomainType = [0x0a, 0x00, 0x00, 0x00];
/// Capella light client (sync-protocol.md).
pub const EXECUTION_PAYLOAD_GINDEX: u64 = 25;

// ---- deneb ----

pub const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;
pub const BYTES_PER_FIELD_ELEMENT: u64 = 32;

// ---- electra ----

pub const UNSET_DEPOSIT_REQUESTS_START_INDEX: u64 = u64::MAX;
pub const FULL_EXIT_REQUEST_AMOUNT: Gwei = 0;
pub const COMPOUNDING_WITHDRAWAL_PREFIX: u8 = 0x02;
pub const DEPOSIT_REQUEST_TYPE: u8 = 0x00;
pub const WITHDRAWAL_REQUEST_TYPE: u8 = 0x01;
pub const CONSOLIDATION_REQUEST_TYPE: u8 = 0x02;

// electra light client (sync-protocol.md)
pub const FINALIZED_ROOT_GINDEX_ELECTRA: u64 = 169;
pub const CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA: u64 = 86;
pub const NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA: u64 = 87;

// ---- fulu: das-core.md ----

/// `Uint256(2**256 - 1)`.
pub const UINT256_MAX: keel_types::Uint256 = keel_types::Uint256::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values_match_the_spec_expressions() {
        assert_eq!(
            UINT64_MAX_SQRT * UINT64_MAX_SQRT,
            18_446_744_065_119_617_025
        );
        assert!(
            (UINT64_MAX_SQRT + 1)
                .checked_mul(UINT64_MAX_SQRT + 1)
                .is_none()
        );
        assert_eq!(
            TIMELY_SOURCE_WEIGHT
                + TIMELY_TARGET_WEIGHT
                + TIMELY_HEAD_WEIGHT
                + SYNC_REWARD_WEIGHT
                + PROPOSER_WEIGHT,
            WEIGHT_DENOMINATOR
        );
        assert_eq!(
            PARTICIPATION_FLAG_WEIGHTS[TIMELY_TARGET_FLAG_INDEX as usize],
            26
        );
        // The application mask is disjoint from every consensus domain type.
        for d in [
            DOMAIN_BEACON_PROPOSER,
            DOMAIN_BEACON_ATTESTER,
            DOMAIN_RANDAO,
            DOMAIN_DEPOSIT,
            DOMAIN_VOLUNTARY_EXIT,
            DOMAIN_SELECTION_PROOF,
            DOMAIN_AGGREGATE_AND_PROOF,
            DOMAIN_SYNC_COMMITTEE,
            DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
            DOMAIN_CONTRIBUTION_AND_PROOF,
            DOMAIN_BLS_TO_EXECUTION_CHANGE,
        ] {
            assert!(
                d.iter()
                    .zip(DOMAIN_APPLICATION_MASK)
                    .all(|(a, b)| a & b == 0)
            );
        }
        assert_eq!(G2_POINT_AT_INFINITY[0], 0xc0);
        assert!(G2_POINT_AT_INFINITY[1..].iter().all(|b| *b == 0));
    }
}
