//! Presets as type parameters.
//!
//! A preset fixes the sizes of SSZ lists and vectors, so it has to be known at compile time:
//! containers are generic over `P: Preset` and list limits are `typenum` types. Every value here is
//! copied from the spec's `presets/{mainnet,minimal}/*.yaml`; the test at the bottom of this file
//! re-reads those files (vendored under `presets/`) and fails on any disagreement, so the mainnet
//! preset is checked even though only minimal-preset vectors are at hand.

use std::fmt::Debug;
use std::hash::Hash;
use typenum::{
    U1, U2, U4, U8, U16, U17, U32, U64, U128, U256, U512, U1024, U2048, U4096, U8192, U65536,
    U131072, U262144, U1048576, U16777216, U134217728, U1073741824, U1099511627776, Unsigned,
};

/// `preset_values! { NAME = value, ... }`: the `(name, value)` list of `Preset::values()`, names
/// taken from the identifiers so they cannot drift from the spellings.
macro_rules! preset_values {
    ($($name:ident = $value:expr,)*) => {
        vec![$((stringify!($name), $value),)*]
    };
}

/// What a type-level preset value must provide: its number (`Unsigned`) and the traits the
/// containers sized by it derive.
pub trait PresetValue: Unsigned + Clone + Debug + Send + Sync + Eq + Hash + Default {}

impl<T: Unsigned + Clone + Debug + Send + Sync + Eq + Hash + Default> PresetValue for T {}

/// The preset values every container and spec function may depend on.
///
/// Associated types are the values that size SSZ collections; associated constants the rest.
pub trait Preset:
    'static + Clone + Copy + Debug + Default + PartialEq + Eq + Hash + Send + Sync
{
    /// `"mainnet"` or `"minimal"`, as in the spec's `PRESET_BASE`.
    const NAME: &'static str;

    // ---- phase0 ----
    type MaxCommitteesPerSlot: PresetValue;
    type MaxValidatorsPerCommittee: PresetValue;
    type SlotsPerEpoch: PresetValue;
    type SlotsPerHistoricalRoot: PresetValue;
    type EpochsPerHistoricalVector: PresetValue;
    type EpochsPerSlashingsVector: PresetValue;
    type HistoricalRootsLimit: PresetValue;
    type ValidatorRegistryLimit: PresetValue;
    type MaxProposerSlashings: PresetValue;
    type MaxAttesterSlashings: PresetValue;
    type MaxAttestations: PresetValue;
    type MaxDeposits: PresetValue;
    type MaxVoluntaryExits: PresetValue;
    /// `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH` (limit of `eth1_data_votes`).
    type SlotsPerEth1VotingPeriod: PresetValue;
    /// `MAX_ATTESTATIONS * SLOTS_PER_EPOCH` (limit of phase0's pending attestations).
    type MaxPendingAttestations: PresetValue;

    const SHUFFLE_ROUND_COUNT: u64;
    const TARGET_COMMITTEE_SIZE: u64;
    const HYSTERESIS_QUOTIENT: u64;
    const HYSTERESIS_DOWNWARD_MULTIPLIER: u64;
    const HYSTERESIS_UPWARD_MULTIPLIER: u64;
    const MIN_DEPOSIT_AMOUNT: u64;
    const MAX_EFFECTIVE_BALANCE: u64;
    const EFFECTIVE_BALANCE_INCREMENT: u64;
    const MIN_ATTESTATION_INCLUSION_DELAY: u64;
    const MIN_SEED_LOOKAHEAD: u64;
    const MAX_SEED_LOOKAHEAD: u64;
    const MIN_EPOCHS_TO_INACTIVITY_PENALTY: u64;
    const EPOCHS_PER_ETH1_VOTING_PERIOD: u64;
    const BASE_REWARD_FACTOR: u64;
    const WHISTLEBLOWER_REWARD_QUOTIENT: u64;
    const PROPOSER_REWARD_QUOTIENT: u64;
    const INACTIVITY_PENALTY_QUOTIENT: u64;
    const MIN_SLASHING_PENALTY_QUOTIENT: u64;
    const PROPORTIONAL_SLASHING_MULTIPLIER: u64;

    // ---- altair ----
    type SyncCommitteeSize: PresetValue;
    /// `SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT`.
    type SyncSubcommitteeSize: PresetValue;
    const INACTIVITY_PENALTY_QUOTIENT_ALTAIR: u64;
    const MIN_SLASHING_PENALTY_QUOTIENT_ALTAIR: u64;
    const PROPORTIONAL_SLASHING_MULTIPLIER_ALTAIR: u64;
    const EPOCHS_PER_SYNC_COMMITTEE_PERIOD: u64;
    const MIN_SYNC_COMMITTEE_PARTICIPANTS: u64;
    const UPDATE_TIMEOUT: u64;

    // ---- bellatrix ----
    type MaxBytesPerTransaction: PresetValue;
    type MaxTransactionsPerPayload: PresetValue;
    type BytesPerLogsBloom: PresetValue;
    type MaxExtraDataBytes: PresetValue;
    const INACTIVITY_PENALTY_QUOTIENT_BELLATRIX: u64;
    const MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX: u64;
    const PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX: u64;

    // ---- capella ----
    type MaxBlsToExecutionChanges: PresetValue;
    type MaxWithdrawalsPerPayload: PresetValue;
    const MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP: u64;

    // ---- deneb ----
    type MaxBlobCommitmentsPerBlock: PresetValue;
    type KzgCommitmentInclusionProofDepth: PresetValue;
    type FieldElementsPerBlob: PresetValue;
    /// `BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_BLOB`.
    type BytesPerBlob: PresetValue;

    // ---- electra ----
    /// `MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT` (Electra aggregation bits).
    type MaxValidatorsPerSlot: PresetValue;
    type PendingDepositsLimit: PresetValue;
    type PendingPartialWithdrawalsLimit: PresetValue;
    type PendingConsolidationsLimit: PresetValue;
    type MaxAttesterSlashingsElectra: PresetValue;
    type MaxAttestationsElectra: PresetValue;
    type MaxDepositRequestsPerPayload: PresetValue;
    type MaxWithdrawalRequestsPerPayload: PresetValue;
    type MaxConsolidationRequestsPerPayload: PresetValue;
    const MIN_ACTIVATION_BALANCE: u64;
    const MAX_EFFECTIVE_BALANCE_ELECTRA: u64;
    const MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA: u64;
    const WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA: u64;
    const MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP: u64;
    const MAX_PENDING_DEPOSITS_PER_EPOCH: u64;

    // ---- fulu ----
    type KzgCommitmentsInclusionProofDepth: PresetValue;
    type FieldElementsPerCell: PresetValue;
    /// `BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_CELL`.
    type BytesPerCell: PresetValue;
    type FieldElementsPerExtBlob: PresetValue;
    type CellsPerExtBlob: PresetValue;
    type NumberOfColumns: PresetValue;
    /// `(MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH` (length of `proposer_lookahead`).
    type ProposerLookaheadSlots: PresetValue;

    // ---- convenience accessors for the type-level values ----
    fn slots_per_epoch() -> u64 {
        Self::SlotsPerEpoch::to_u64()
    }
    fn max_committees_per_slot() -> u64 {
        Self::MaxCommitteesPerSlot::to_u64()
    }
    fn max_validators_per_committee() -> u64 {
        Self::MaxValidatorsPerCommittee::to_u64()
    }
    fn slots_per_historical_root() -> u64 {
        Self::SlotsPerHistoricalRoot::to_u64()
    }
    fn epochs_per_historical_vector() -> u64 {
        Self::EpochsPerHistoricalVector::to_u64()
    }
    fn epochs_per_slashings_vector() -> u64 {
        Self::EpochsPerSlashingsVector::to_u64()
    }
    fn sync_committee_size() -> u64 {
        Self::SyncCommitteeSize::to_u64()
    }
    fn max_withdrawals_per_payload() -> u64 {
        Self::MaxWithdrawalsPerPayload::to_u64()
    }
    fn max_blob_commitments_per_block() -> u64 {
        Self::MaxBlobCommitmentsPerBlock::to_u64()
    }
    fn number_of_columns() -> u64 {
        Self::NumberOfColumns::to_u64()
    }

    /// Every preset value by its spec name (derived products under descriptive names), for the
    /// preset-file check and for the Beacon API's `config/spec`.
    fn values() -> Vec<(&'static str, u64)> {
        preset_values! {
            MAX_COMMITTEES_PER_SLOT = Self::MaxCommitteesPerSlot::to_u64(),
            MAX_VALIDATORS_PER_COMMITTEE = Self::MaxValidatorsPerCommittee::to_u64(),
            SLOTS_PER_EPOCH = Self::SlotsPerEpoch::to_u64(),
            SLOTS_PER_HISTORICAL_ROOT = Self::SlotsPerHistoricalRoot::to_u64(),
            EPOCHS_PER_HISTORICAL_VECTOR = Self::EpochsPerHistoricalVector::to_u64(),
            EPOCHS_PER_SLASHINGS_VECTOR = Self::EpochsPerSlashingsVector::to_u64(),
            HISTORICAL_ROOTS_LIMIT = Self::HistoricalRootsLimit::to_u64(),
            VALIDATOR_REGISTRY_LIMIT = Self::ValidatorRegistryLimit::to_u64(),
            MAX_PROPOSER_SLASHINGS = Self::MaxProposerSlashings::to_u64(),
            MAX_ATTESTER_SLASHINGS = Self::MaxAttesterSlashings::to_u64(),
            MAX_ATTESTATIONS = Self::MaxAttestations::to_u64(),
            MAX_DEPOSITS = Self::MaxDeposits::to_u64(),
            MAX_VOLUNTARY_EXITS = Self::MaxVoluntaryExits::to_u64(),
            SLOTS_PER_ETH1_VOTING_PERIOD = Self::SlotsPerEth1VotingPeriod::to_u64(),
            MAX_PENDING_ATTESTATIONS = Self::MaxPendingAttestations::to_u64(),
            SYNC_COMMITTEE_SIZE = Self::SyncCommitteeSize::to_u64(),
            SYNC_SUBCOMMITTEE_SIZE = Self::SyncSubcommitteeSize::to_u64(),
            MAX_BYTES_PER_TRANSACTION = Self::MaxBytesPerTransaction::to_u64(),
            MAX_TRANSACTIONS_PER_PAYLOAD = Self::MaxTransactionsPerPayload::to_u64(),
            BYTES_PER_LOGS_BLOOM = Self::BytesPerLogsBloom::to_u64(),
            MAX_EXTRA_DATA_BYTES = Self::MaxExtraDataBytes::to_u64(),
            MAX_BLS_TO_EXECUTION_CHANGES = Self::MaxBlsToExecutionChanges::to_u64(),
            MAX_WITHDRAWALS_PER_PAYLOAD = Self::MaxWithdrawalsPerPayload::to_u64(),
            MAX_BLOB_COMMITMENTS_PER_BLOCK = Self::MaxBlobCommitmentsPerBlock::to_u64(),
            KZG_COMMITMENT_INCLUSION_PROOF_DEPTH = Self::KzgCommitmentInclusionProofDepth::to_u64(),
            FIELD_ELEMENTS_PER_BLOB = Self::FieldElementsPerBlob::to_u64(),
            BYTES_PER_BLOB = Self::BytesPerBlob::to_u64(),
            MAX_VALIDATORS_PER_SLOT = Self::MaxValidatorsPerSlot::to_u64(),
            PENDING_DEPOSITS_LIMIT = Self::PendingDepositsLimit::to_u64(),
            PENDING_PARTIAL_WITHDRAWALS_LIMIT = Self::PendingPartialWithdrawalsLimit::to_u64(),
            PENDING_CONSOLIDATIONS_LIMIT = Self::PendingConsolidationsLimit::to_u64(),
            MAX_ATTESTER_SLASHINGS_ELECTRA = Self::MaxAttesterSlashingsElectra::to_u64(),
            MAX_ATTESTATIONS_ELECTRA = Self::MaxAttestationsElectra::to_u64(),
            MAX_DEPOSIT_REQUESTS_PER_PAYLOAD = Self::MaxDepositRequestsPerPayload::to_u64(),
            MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD = Self::MaxWithdrawalRequestsPerPayload::to_u64(),
            MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD = Self::MaxConsolidationRequestsPerPayload::to_u64(),
            KZG_COMMITMENTS_INCLUSION_PROOF_DEPTH = Self::KzgCommitmentsInclusionProofDepth::to_u64(),
            FIELD_ELEMENTS_PER_CELL = Self::FieldElementsPerCell::to_u64(),
            BYTES_PER_CELL = Self::BytesPerCell::to_u64(),
            FIELD_ELEMENTS_PER_EXT_BLOB = Self::FieldElementsPerExtBlob::to_u64(),
            CELLS_PER_EXT_BLOB = Self::CellsPerExtBlob::to_u64(),
            NUMBER_OF_COLUMNS = Self::NumberOfColumns::to_u64(),
            PROPOSER_LOOKAHEAD_SLOTS = Self::ProposerLookaheadSlots::to_u64(),
            SHUFFLE_ROUND_COUNT = Self::SHUFFLE_ROUND_COUNT,
            TARGET_COMMITTEE_SIZE = Self::TARGET_COMMITTEE_SIZE,
            HYSTERESIS_QUOTIENT = Self::HYSTERESIS_QUOTIENT,
            HYSTERESIS_DOWNWARD_MULTIPLIER = Self::HYSTERESIS_DOWNWARD_MULTIPLIER,
            HYSTERESIS_UPWARD_MULTIPLIER = Self::HYSTERESIS_UPWARD_MULTIPLIER,
            MIN_DEPOSIT_AMOUNT = Self::MIN_DEPOSIT_AMOUNT,
            MAX_EFFECTIVE_BALANCE = Self::MAX_EFFECTIVE_BALANCE,
            EFFECTIVE_BALANCE_INCREMENT = Self::EFFECTIVE_BALANCE_INCREMENT,
            MIN_ATTESTATION_INCLUSION_DELAY = Self::MIN_ATTESTATION_INCLUSION_DELAY,
            MIN_SEED_LOOKAHEAD = Self::MIN_SEED_LOOKAHEAD,
            MAX_SEED_LOOKAHEAD = Self::MAX_SEED_LOOKAHEAD,
            MIN_EPOCHS_TO_INACTIVITY_PENALTY = Self::MIN_EPOCHS_TO_INACTIVITY_PENALTY,
            EPOCHS_PER_ETH1_VOTING_PERIOD = Self::EPOCHS_PER_ETH1_VOTING_PERIOD,
            BASE_REWARD_FACTOR = Self::BASE_REWARD_FACTOR,
            WHISTLEBLOWER_REWARD_QUOTIENT = Self::WHISTLEBLOWER_REWARD_QUOTIENT,
            PROPOSER_REWARD_QUOTIENT = Self::PROPOSER_REWARD_QUOTIENT,
            INACTIVITY_PENALTY_QUOTIENT = Self::INACTIVITY_PENALTY_QUOTIENT,
            MIN_SLASHING_PENALTY_QUOTIENT = Self::MIN_SLASHING_PENALTY_QUOTIENT,
            PROPORTIONAL_SLASHING_MULTIPLIER = Self::PROPORTIONAL_SLASHING_MULTIPLIER,
            INACTIVITY_PENALTY_QUOTIENT_ALTAIR = Self::INACTIVITY_PENALTY_QUOTIENT_ALTAIR,
            MIN_SLASHING_PENALTY_QUOTIENT_ALTAIR = Self::MIN_SLASHING_PENALTY_QUOTIENT_ALTAIR,
            PROPORTIONAL_SLASHING_MULTIPLIER_ALTAIR = Self::PROPORTIONAL_SLASHING_MULTIPLIER_ALTAIR,
            EPOCHS_PER_SYNC_COMMITTEE_PERIOD = Self::EPOCHS_PER_SYNC_COMMITTEE_PERIOD,
            MIN_SYNC_COMMITTEE_PARTICIPANTS = Self::MIN_SYNC_COMMITTEE_PARTICIPANTS,
            UPDATE_TIMEOUT = Self::UPDATE_TIMEOUT,
            INACTIVITY_PENALTY_QUOTIENT_BELLATRIX = Self::INACTIVITY_PENALTY_QUOTIENT_BELLATRIX,
            MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX = Self::MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX,
            PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX = Self::PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX,
            MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP = Self::MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP,
            MIN_ACTIVATION_BALANCE = Self::MIN_ACTIVATION_BALANCE,
            MAX_EFFECTIVE_BALANCE_ELECTRA = Self::MAX_EFFECTIVE_BALANCE_ELECTRA,
            MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA = Self::MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA,
            WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA = Self::WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA,
            MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP = Self::MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP,
            MAX_PENDING_DEPOSITS_PER_EPOCH = Self::MAX_PENDING_DEPOSITS_PER_EPOCH,
        }
    }
}

/// The mainnet preset (`presets/mainnet`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mainnet;

/// The minimal preset (`presets/minimal`), for tests and small devnets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Minimal;

impl Preset for Mainnet {
    const NAME: &'static str = "mainnet";

    type MaxCommitteesPerSlot = U64;
    type MaxValidatorsPerCommittee = U2048;
    type SlotsPerEpoch = U32;
    type SlotsPerHistoricalRoot = U8192;
    type EpochsPerHistoricalVector = U65536;
    type EpochsPerSlashingsVector = U8192;
    type HistoricalRootsLimit = U16777216;
    type ValidatorRegistryLimit = U1099511627776;
    type MaxProposerSlashings = U16;
    type MaxAttesterSlashings = U2;
    type MaxAttestations = U128;
    type MaxDeposits = U16;
    type MaxVoluntaryExits = U16;
    type SlotsPerEth1VotingPeriod = U2048; // 64 * 32
    type MaxPendingAttestations = U4096; // 128 * 32

    const SHUFFLE_ROUND_COUNT: u64 = 90;
    const TARGET_COMMITTEE_SIZE: u64 = 128;
    const HYSTERESIS_QUOTIENT: u64 = 4;
    const HYSTERESIS_DOWNWARD_MULTIPLIER: u64 = 1;
    const HYSTERESIS_UPWARD_MULTIPLIER: u64 = 5;
    const MIN_DEPOSIT_AMOUNT: u64 = 1_000_000_000;
    const MAX_EFFECTIVE_BALANCE: u64 = 32_000_000_000;
    const EFFECTIVE_BALANCE_INCREMENT: u64 = 1_000_000_000;
    const MIN_ATTESTATION_INCLUSION_DELAY: u64 = 1;
    const MIN_SEED_LOOKAHEAD: u64 = 1;
    const MAX_SEED_LOOKAHEAD: u64 = 4;
    const MIN_EPOCHS_TO_INACTIVITY_PENALTY: u64 = 4;
    const EPOCHS_PER_ETH1_VOTING_PERIOD: u64 = 64;
    const BASE_REWARD_FACTOR: u64 = 64;
    const WHISTLEBLOWER_REWARD_QUOTIENT: u64 = 512;
    const PROPOSER_REWARD_QUOTIENT: u64 = 8;
    const INACTIVITY_PENALTY_QUOTIENT: u64 = 67_108_864;
    const MIN_SLASHING_PENALTY_QUOTIENT: u64 = 128;
    const PROPORTIONAL_SLASHING_MULTIPLIER: u64 = 1;

    type SyncCommitteeSize = U512;
    type SyncSubcommitteeSize = U128; // 512 / 4
    const INACTIVITY_PENALTY_QUOTIENT_ALTAIR: u64 = 50_331_648;
    const MIN_SLASHING_PENALTY_QUOTIENT_ALTAIR: u64 = 64;
    const PROPORTIONAL_SLASHING_MULTIPLIER_ALTAIR: u64 = 2;
    const EPOCHS_PER_SYNC_COMMITTEE_PERIOD: u64 = 256;
    const MIN_SYNC_COMMITTEE_PARTICIPANTS: u64 = 1;
    const UPDATE_TIMEOUT: u64 = 8192;

    type MaxBytesPerTransaction = U1073741824;
    type MaxTransactionsPerPayload = U1048576;
    type BytesPerLogsBloom = U256;
    type MaxExtraDataBytes = U32;
    const INACTIVITY_PENALTY_QUOTIENT_BELLATRIX: u64 = 16_777_216;
    const MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX: u64 = 32;
    const PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX: u64 = 3;

    type MaxBlsToExecutionChanges = U16;
    type MaxWithdrawalsPerPayload = U16;
    const MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP: u64 = 16384;

    type MaxBlobCommitmentsPerBlock = U4096;
    type KzgCommitmentInclusionProofDepth = U17;
    type FieldElementsPerBlob = U4096;
    type BytesPerBlob = U131072;

    type MaxValidatorsPerSlot = U131072; // 2048 * 64
    type PendingDepositsLimit = U134217728;
    type PendingPartialWithdrawalsLimit = U134217728;
    type PendingConsolidationsLimit = U262144;
    type MaxAttesterSlashingsElectra = U1;
    type MaxAttestationsElectra = U8;
    type MaxDepositRequestsPerPayload = U8192;
    type MaxWithdrawalRequestsPerPayload = U16;
    type MaxConsolidationRequestsPerPayload = U2;
    const MIN_ACTIVATION_BALANCE: u64 = 32_000_000_000;
    const MAX_EFFECTIVE_BALANCE_ELECTRA: u64 = 2_048_000_000_000;
    const MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA: u64 = 4096;
    const WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA: u64 = 4096;
    const MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP: u64 = 8;
    const MAX_PENDING_DEPOSITS_PER_EPOCH: u64 = 16;

    type KzgCommitmentsInclusionProofDepth = U4;
    type FieldElementsPerCell = U64;
    type BytesPerCell = U2048;
    type FieldElementsPerExtBlob = U8192;
    type CellsPerExtBlob = U128;
    type NumberOfColumns = U128;
    type ProposerLookaheadSlots = U64; // (1 + 1) * 32
}

impl Preset for Minimal {
    const NAME: &'static str = "minimal";

    type MaxCommitteesPerSlot = U4;
    type MaxValidatorsPerCommittee = U2048;
    type SlotsPerEpoch = U8;
    type SlotsPerHistoricalRoot = U64;
    type EpochsPerHistoricalVector = U64;
    type EpochsPerSlashingsVector = U64;
    type HistoricalRootsLimit = U16777216;
    type ValidatorRegistryLimit = U1099511627776;
    type MaxProposerSlashings = U16;
    type MaxAttesterSlashings = U2;
    type MaxAttestations = U128;
    type MaxDeposits = U16;
    type MaxVoluntaryExits = U16;
    type SlotsPerEth1VotingPeriod = U32; // 4 * 8
    type MaxPendingAttestations = U1024; // 128 * 8

    const SHUFFLE_ROUND_COUNT: u64 = 10;
    const TARGET_COMMITTEE_SIZE: u64 = 4;
    const HYSTERESIS_QUOTIENT: u64 = 4;
    const HYSTERESIS_DOWNWARD_MULTIPLIER: u64 = 1;
    const HYSTERESIS_UPWARD_MULTIPLIER: u64 = 5;
    const MIN_DEPOSIT_AMOUNT: u64 = 1_000_000_000;
    const MAX_EFFECTIVE_BALANCE: u64 = 32_000_000_000;
    const EFFECTIVE_BALANCE_INCREMENT: u64 = 1_000_000_000;
    const MIN_ATTESTATION_INCLUSION_DELAY: u64 = 1;
    const MIN_SEED_LOOKAHEAD: u64 = 1;
    const MAX_SEED_LOOKAHEAD: u64 = 4;
    const MIN_EPOCHS_TO_INACTIVITY_PENALTY: u64 = 4;
    const EPOCHS_PER_ETH1_VOTING_PERIOD: u64 = 4;
    const BASE_REWARD_FACTOR: u64 = 64;
    const WHISTLEBLOWER_REWARD_QUOTIENT: u64 = 512;
    const PROPOSER_REWARD_QUOTIENT: u64 = 8;
    const INACTIVITY_PENALTY_QUOTIENT: u64 = 33_554_432;
    const MIN_SLASHING_PENALTY_QUOTIENT: u64 = 64;
    const PROPORTIONAL_SLASHING_MULTIPLIER: u64 = 2;

    type SyncCommitteeSize = U32;
    type SyncSubcommitteeSize = U8; // 32 / 4
    const INACTIVITY_PENALTY_QUOTIENT_ALTAIR: u64 = 50_331_648;
    const MIN_SLASHING_PENALTY_QUOTIENT_ALTAIR: u64 = 64;
    const PROPORTIONAL_SLASHING_MULTIPLIER_ALTAIR: u64 = 2;
    const EPOCHS_PER_SYNC_COMMITTEE_PERIOD: u64 = 8;
    const MIN_SYNC_COMMITTEE_PARTICIPANTS: u64 = 1;
    const UPDATE_TIMEOUT: u64 = 64;

    type MaxBytesPerTransaction = U1073741824;
    type MaxTransactionsPerPayload = U1048576;
    type BytesPerLogsBloom = U256;
    type MaxExtraDataBytes = U32;
    const INACTIVITY_PENALTY_QUOTIENT_BELLATRIX: u64 = 16_777_216;
    const MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX: u64 = 32;
    const PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX: u64 = 3;

    type MaxBlsToExecutionChanges = U16;
    type MaxWithdrawalsPerPayload = U4;
    const MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP: u64 = 16;

    type MaxBlobCommitmentsPerBlock = U4096;
    type KzgCommitmentInclusionProofDepth = U17;
    type FieldElementsPerBlob = U4096;
    type BytesPerBlob = U131072;

    type MaxValidatorsPerSlot = U8192; // 2048 * 4
    type PendingDepositsLimit = U134217728;
    type PendingPartialWithdrawalsLimit = U64;
    type PendingConsolidationsLimit = U64;
    type MaxAttesterSlashingsElectra = U1;
    type MaxAttestationsElectra = U8;
    type MaxDepositRequestsPerPayload = U8192;
    type MaxWithdrawalRequestsPerPayload = U16;
    type MaxConsolidationRequestsPerPayload = U2;
    const MIN_ACTIVATION_BALANCE: u64 = 32_000_000_000;
    const MAX_EFFECTIVE_BALANCE_ELECTRA: u64 = 2_048_000_000_000;
    const MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA: u64 = 4096;
    const WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA: u64 = 4096;
    const MAX_PENDING_PARTIALS_PER_WITHDRAWALS_SWEEP: u64 = 2;
    const MAX_PENDING_DEPOSITS_PER_EPOCH: u64 = 16;

    type KzgCommitmentsInclusionProofDepth = U4;
    type FieldElementsPerCell = U64;
    type BytesPerCell = U2048;
    type FieldElementsPerExtBlob = U8192;
    type CellsPerExtBlob = U128;
    type NumberOfColumns = U128;
    type ProposerLookaheadSlots = U16; // (1 + 1) * 8
}

#[cfg(test)]
mod tests {
    //! Checks every value above against the spec's preset files, vendored under `presets/`
    //! (copied verbatim from `consensus-specs/presets/{mainnet,minimal}` at the version of our
    //! test vectors).

    use super::*;
    use std::collections::BTreeMap;

    /// The spec's preset files for the forks Keel implements, by preset name.
    macro_rules! preset_files {
        ($preset:literal) => {
            [
                (
                    "phase0",
                    include_str!(concat!("../presets/", $preset, "/phase0.yaml")),
                ),
                (
                    "altair",
                    include_str!(concat!("../presets/", $preset, "/altair.yaml")),
                ),
                (
                    "bellatrix",
                    include_str!(concat!("../presets/", $preset, "/bellatrix.yaml")),
                ),
                (
                    "capella",
                    include_str!(concat!("../presets/", $preset, "/capella.yaml")),
                ),
                (
                    "deneb",
                    include_str!(concat!("../presets/", $preset, "/deneb.yaml")),
                ),
                (
                    "electra",
                    include_str!(concat!("../presets/", $preset, "/electra.yaml")),
                ),
                (
                    "fulu",
                    include_str!(concat!("../presets/", $preset, "/fulu.yaml")),
                ),
            ]
        };
    }

    /// `BYTES_PER_FIELD_ELEMENT`, a spec constant (not a preset value).
    const BYTES_PER_FIELD_ELEMENT: u64 = 32;
    /// `SYNC_COMMITTEE_SUBNET_COUNT`, a spec constant (not a preset value).
    const SYNC_COMMITTEE_SUBNET_COUNT: u64 = 4;

    fn parse(files: &[(&str, &str)]) -> BTreeMap<String, u64> {
        let mut all = BTreeMap::new();
        for (fork, text) in files {
            let map: BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(text)
                .unwrap_or_else(|e| panic!("{fork}.yaml does not parse: {e}"));
            assert!(!map.is_empty(), "{fork}.yaml is empty");
            for (key, value) in map {
                let value = value
                    .as_u64()
                    .unwrap_or_else(|| panic!("{fork}.yaml: {key} is not an integer: {value:?}"));
                let previous = all.insert(key.clone(), value);
                assert!(previous.is_none(), "{key} appears in two preset files");
            }
        }
        all
    }

    /// The products `values()` reports under descriptive names, recomputed from the files.
    fn derived(spec: &BTreeMap<String, u64>) -> BTreeMap<&'static str, u64> {
        let v = |key: &str| {
            *spec
                .get(key)
                .unwrap_or_else(|| panic!("{key} missing from the files"))
        };
        BTreeMap::from([
            (
                "SLOTS_PER_ETH1_VOTING_PERIOD",
                v("EPOCHS_PER_ETH1_VOTING_PERIOD") * v("SLOTS_PER_EPOCH"),
            ),
            (
                "MAX_PENDING_ATTESTATIONS",
                v("MAX_ATTESTATIONS") * v("SLOTS_PER_EPOCH"),
            ),
            (
                "SYNC_SUBCOMMITTEE_SIZE",
                v("SYNC_COMMITTEE_SIZE") / SYNC_COMMITTEE_SUBNET_COUNT,
            ),
            (
                "BYTES_PER_BLOB",
                BYTES_PER_FIELD_ELEMENT * v("FIELD_ELEMENTS_PER_BLOB"),
            ),
            (
                "MAX_VALIDATORS_PER_SLOT",
                v("MAX_VALIDATORS_PER_COMMITTEE") * v("MAX_COMMITTEES_PER_SLOT"),
            ),
            (
                "BYTES_PER_CELL",
                BYTES_PER_FIELD_ELEMENT * v("FIELD_ELEMENTS_PER_CELL"),
            ),
            (
                "PROPOSER_LOOKAHEAD_SLOTS",
                (v("MIN_SEED_LOOKAHEAD") + 1) * v("SLOTS_PER_EPOCH"),
            ),
        ])
    }

    fn check<P: Preset>(files: &[(&str, &str)]) {
        let spec = parse(files);
        let derived = derived(&spec);
        let ours: BTreeMap<&str, u64> = P::values().into_iter().collect();
        assert_eq!(
            ours.len(),
            P::values().len(),
            "{}: duplicate name in values()",
            P::NAME
        );

        let mut errors = Vec::new();
        // Every spec value is ours, with the same value.
        for (key, value) in &spec {
            match ours.get(key.as_str()) {
                None => errors.push(format!("{key} (= {value}) is missing from values()")),
                Some(ours) if ours != value => {
                    errors.push(format!("{key}: spec {value}, ours {ours}"))
                }
                Some(_) => {}
            }
        }
        // Every value of ours is a spec value or a product we can recompute.
        for (key, value) in &ours {
            if spec.contains_key(*key) {
                continue;
            }
            match derived.get(key) {
                None => errors.push(format!("{key} is neither in the preset files nor derived")),
                Some(expected) if expected != value => {
                    errors.push(format!("{key}: derived {expected}, ours {value}"))
                }
                Some(_) => {}
            }
        }
        assert!(
            errors.is_empty(),
            "{} preset disagrees with the spec:\n{}",
            P::NAME,
            errors.join("\n")
        );
    }

    #[test]
    fn mainnet_matches_spec_presets() {
        check::<Mainnet>(&preset_files!("mainnet"));
    }

    #[test]
    fn minimal_matches_spec_presets() {
        check::<Minimal>(&preset_files!("minimal"));
    }

    #[test]
    fn a_wrong_value_is_caught() {
        let mut files = preset_files!("minimal");
        let broken = files[0]
            .1
            .replace("SLOTS_PER_EPOCH: 8", "SLOTS_PER_EPOCH: 9");
        assert_ne!(broken, files[0].1, "the replacement must hit");
        files[0].1 = &broken;
        let result = std::panic::catch_unwind(|| check::<Minimal>(&files));
        assert!(
            result.is_err(),
            "a wrong SLOTS_PER_EPOCH must fail the check"
        );
    }

    #[test]
    fn preset_names() {
        assert_eq!(Mainnet::NAME, "mainnet");
        assert_eq!(Minimal::NAME, "minimal");
    }
}
