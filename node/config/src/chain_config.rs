//! [`ChainConfig`]: every field of the spec's `configs/mainnet.yaml`, typed.
//!
//! # Parsing rules
//!
//! - Scalars are parsed from their text exactly as written (see [`crate::yaml`]): integers are
//!   decimal `uint64` (`18446744073709551615` included), `TERMINAL_TOTAL_DIFFICULTY` is a decimal
//!   `uint256`, versions/domain types/hashes/addresses are `0x`-prefixed hex of exact length.
//! - *Required* keys are the ones that identify a network: `PRESET_BASE`, `CONFIG_NAME`, the genesis
//!   time/delay/fork version, every fork version and epoch from Altair to Fulu, and the deposit
//!   chain, network id and contract. A missing required key is [`ConfigError::MissingKey`].
//! - Any other missing key takes the value of the spec's own config for the same `PRESET_BASE`
//!   (`networks/mainnet/config.yaml` or `networks/minimal/config.yaml`), and is listed in
//!   [`ChainConfig::defaulted`], except `BLOB_SCHEDULE`, which defaults to empty (another
//!   network's blob-parameter-only forks must never leak in). Network configs published by
//!   eth-clients lag the spec (no `SLOT_DURATION_MS`, no `*_BPS` timings), hence the defaults.
//! - `SECONDS_PER_SLOT` is accepted as the legacy spelling of `SLOT_DURATION_MS` (× 1000); if both
//!   are present they must agree.
//! - Unknown keys are kept verbatim in [`ChainConfig::unknown`]; they are not an error.
//! - After parsing, `SLOT_DURATION_MS` must be non-zero. Network coherence (fork order, unique
//!   `BLOB_SCHEDULE` epochs) is a separate check, [`ChainConfig::check_consistency`], because the
//!   spec's own test configs are not always coherent.

use crate::error::ConfigError;
use crate::yaml::{self, ConfigValue};
use keel_types::{Epoch, ExecutionAddress, Hash256, Preset, Uint256, Version};
use std::collections::BTreeMap;
use std::path::Path;

/// The vendored spec config of the mainnet preset (`configs/mainnet.yaml`).
pub(crate) const SPEC_MAINNET_YAML: &str = include_str!("../networks/mainnet/config.yaml");
/// The vendored spec config of the minimal preset (`configs/minimal.yaml`).
pub(crate) const SPEC_MINIMAL_YAML: &str = include_str!("../networks/minimal/config.yaml");

/// `PRESET_BASE`: which compile-time preset the config extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresetBase {
    Mainnet,
    Minimal,
}

impl PresetBase {
    /// `"mainnet"` or `"minimal"`, as written in `PRESET_BASE` and in `Preset::NAME`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PresetBase::Mainnet => "mainnet",
            PresetBase::Minimal => "minimal",
        }
    }

    fn spec_yaml(self) -> &'static str {
        match self {
            PresetBase::Mainnet => SPEC_MAINNET_YAML,
            PresetBase::Minimal => SPEC_MINIMAL_YAML,
        }
    }
}

/// One `BLOB_SCHEDULE` entry, and the spec's `BlobParameters` (Fulu `get_blob_parameters`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobParameters {
    pub epoch: Epoch,
    pub max_blobs_per_block: u64,
}

/// A config value type: parsed from the verbatim YAML scalar, printed for the Beacon API.
pub(crate) trait ScalarValue: Sized + Clone {
    fn parse_scalar(raw: &str) -> Result<Self, String>;
    fn to_spec_string(&self) -> String;
}

fn parse_decimal_digits(raw: &str) -> Result<&str, String> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a decimal unsigned integer".into());
    }
    Ok(raw)
}

impl ScalarValue for u64 {
    fn parse_scalar(raw: &str) -> Result<Self, String> {
        parse_decimal_digits(raw)?
            .parse::<u64>()
            .map_err(|_| "does not fit in a uint64".into())
    }
    fn to_spec_string(&self) -> String {
        self.to_string()
    }
}

impl ScalarValue for Uint256 {
    fn parse_scalar(raw: &str) -> Result<Self, String> {
        Uint256::from_str_radix(parse_decimal_digits(raw)?, 10)
            .map_err(|_| "does not fit in a uint256".into())
    }
    fn to_spec_string(&self) -> String {
        self.to_string()
    }
}

/// `0x` followed by exactly `2 * N` hex digits.
fn parse_hex_bytes<const N: usize>(raw: &str) -> Result<[u8; N], String> {
    let digits = raw
        .strip_prefix("0x")
        .or_else(|| raw.strip_prefix("0X"))
        .ok_or_else(|| format!("expected 0x-prefixed hex of {N} bytes"))?;
    if digits.len() != 2 * N {
        return Err(format!(
            "expected {N} bytes ({} hex digits), found {} hex digits",
            2 * N,
            digits.len()
        ));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|e| format!("invalid hex: {e}"))?;
    Ok(out)
}

impl ScalarValue for [u8; 4] {
    fn parse_scalar(raw: &str) -> Result<Self, String> {
        parse_hex_bytes::<4>(raw)
    }
    fn to_spec_string(&self) -> String {
        format!("0x{}", hex::encode(self))
    }
}

impl ScalarValue for Hash256 {
    fn parse_scalar(raw: &str) -> Result<Self, String> {
        parse_hex_bytes::<32>(raw).map(Hash256::from)
    }
    fn to_spec_string(&self) -> String {
        format!("0x{}", hex::encode(self.as_slice()))
    }
}

impl ScalarValue for ExecutionAddress {
    fn parse_scalar(raw: &str) -> Result<Self, String> {
        parse_hex_bytes::<20>(raw).map(ExecutionAddress::from)
    }
    fn to_spec_string(&self) -> String {
        format!("0x{}", hex::encode(self.as_slice()))
    }
}

impl ScalarValue for String {
    fn parse_scalar(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
    fn to_spec_string(&self) -> String {
        self.clone()
    }
}

impl ScalarValue for PresetBase {
    fn parse_scalar(raw: &str) -> Result<Self, String> {
        match raw {
            "mainnet" => Ok(PresetBase::Mainnet),
            "minimal" => Ok(PresetBase::Minimal),
            _ => Err("Keel supports the `mainnet` and `minimal` presets".into()),
        }
    }
    fn to_spec_string(&self) -> String {
        self.as_str().to_owned()
    }
}

/// Removes `key` from `entries` and parses it; falls back to `base` for optional keys.
fn take_field<T: ScalarValue>(
    entries: &mut BTreeMap<String, ConfigValue>,
    key: &'static str,
    required: bool,
    base: Option<&T>,
    defaulted: &mut Vec<&'static str>,
) -> Result<T, ConfigError> {
    match entries.remove(key) {
        Some(ConfigValue::Scalar(raw)) => {
            T::parse_scalar(&raw).map_err(|reason| ConfigError::InvalidValue {
                key: key.to_owned(),
                value: raw,
                reason,
            })
        }
        Some(other) => Err(ConfigError::InvalidValue {
            key: key.to_owned(),
            value: other.to_string(),
            reason: format!("expected a scalar, found {}", other.kind()),
        }),
        None => match base {
            Some(value) if !required => {
                defaulted.push(key);
                Ok(value.clone())
            }
            _ => Err(ConfigError::MissingKey(key)),
        },
    }
}

macro_rules! required {
    (req) => {
        true
    };
    (opt) => {
        false
    };
}

/// Declares the scalar fields of [`ChainConfig`] once: struct field, YAML key, type, and whether
/// the key is required (`req`) or defaults from the preset's spec config (`opt`). Order is the
/// spec file's order, which is also the order of [`ChainConfig::to_spec_map`].
macro_rules! chain_config {
    ($($key:literal => $field:ident: $ty:ty, $req:ident;)*) => {
        /// The runtime configuration of a network: every key of the spec's `config.yaml`.
        ///
        /// Field names are the YAML keys in snake case; see the module docs for parsing rules.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct ChainConfig {
            $(
                #[doc = concat!("`", $key, "`")]
                pub $field: $ty,
            )*
            /// `BLOB_SCHEDULE`, in file order (lookups do not depend on the order).
            pub blob_schedule: Vec<BlobParameters>,
            /// Keys this crate does not know, verbatim. Reported, never fatal.
            pub unknown: BTreeMap<String, ConfigValue>,
            /// Optional keys the file lacked, filled from the preset's spec config.
            pub defaulted: Vec<&'static str>,
        }

        impl ChainConfig {
            /// Every key of the spec's `config.yaml`, in file order (`BLOB_SCHEDULE` last).
            pub const KEYS: &'static [&'static str] = &[$($key,)* "BLOB_SCHEDULE"];

            fn take_fields(
                entries: &mut BTreeMap<String, ConfigValue>,
                base: Option<&ChainConfig>,
                blob_schedule: Vec<BlobParameters>,
                mut defaulted: Vec<&'static str>,
            ) -> Result<Self, ConfigError> {
                $(
                    let $field = take_field::<$ty>(
                        entries,
                        $key,
                        required!($req),
                        base.map(|b| &b.$field),
                        &mut defaulted,
                    )?;
                )*
                Ok(Self {
                    $($field,)*
                    blob_schedule,
                    unknown: BTreeMap::new(),
                    defaulted,
                })
            }

            fn scalar_spec_entries(&self) -> Vec<(&'static str, String)> {
                vec![$(($key, ScalarValue::to_spec_string(&self.$field)),)*]
            }
        }
    };
}

chain_config! {
    "PRESET_BASE" => preset_base: PresetBase, req;
    "CONFIG_NAME" => config_name: String, req;
    // Transition
    "TERMINAL_TOTAL_DIFFICULTY" => terminal_total_difficulty: Uint256, opt;
    "TERMINAL_BLOCK_HASH" => terminal_block_hash: Hash256, opt;
    "TERMINAL_BLOCK_HASH_ACTIVATION_EPOCH" => terminal_block_hash_activation_epoch: Epoch, opt;
    // Genesis
    "MIN_GENESIS_ACTIVE_VALIDATOR_COUNT" => min_genesis_active_validator_count: u64, opt;
    "MIN_GENESIS_TIME" => min_genesis_time: u64, req;
    "GENESIS_FORK_VERSION" => genesis_fork_version: Version, req;
    "GENESIS_DELAY" => genesis_delay: u64, req;
    // Forking
    "ALTAIR_FORK_VERSION" => altair_fork_version: Version, req;
    "ALTAIR_FORK_EPOCH" => altair_fork_epoch: Epoch, req;
    "BELLATRIX_FORK_VERSION" => bellatrix_fork_version: Version, req;
    "BELLATRIX_FORK_EPOCH" => bellatrix_fork_epoch: Epoch, req;
    "CAPELLA_FORK_VERSION" => capella_fork_version: Version, req;
    "CAPELLA_FORK_EPOCH" => capella_fork_epoch: Epoch, req;
    "DENEB_FORK_VERSION" => deneb_fork_version: Version, req;
    "DENEB_FORK_EPOCH" => deneb_fork_epoch: Epoch, req;
    "ELECTRA_FORK_VERSION" => electra_fork_version: Version, req;
    "ELECTRA_FORK_EPOCH" => electra_fork_epoch: Epoch, req;
    "FULU_FORK_VERSION" => fulu_fork_version: Version, req;
    "FULU_FORK_EPOCH" => fulu_fork_epoch: Epoch, req;
    "GLOAS_FORK_VERSION" => gloas_fork_version: Version, opt;
    "GLOAS_FORK_EPOCH" => gloas_fork_epoch: Epoch, opt;
    "HEZE_FORK_VERSION" => heze_fork_version: Version, opt;
    "HEZE_FORK_EPOCH" => heze_fork_epoch: Epoch, opt;
    // Time parameters
    "SLOT_DURATION_MS" => slot_duration_ms: u64, opt;
    "SECONDS_PER_ETH1_BLOCK" => seconds_per_eth1_block: u64, opt;
    "MIN_VALIDATOR_WITHDRAWABILITY_DELAY" => min_validator_withdrawability_delay: Epoch, opt;
    "SHARD_COMMITTEE_PERIOD" => shard_committee_period: Epoch, opt;
    "ETH1_FOLLOW_DISTANCE" => eth1_follow_distance: u64, opt;
    "PROPOSER_REORG_CUTOFF_BPS" => proposer_reorg_cutoff_bps: u64, opt;
    "ATTESTATION_DUE_BPS" => attestation_due_bps: u64, opt;
    "AGGREGATE_DUE_BPS" => aggregate_due_bps: u64, opt;
    "SYNC_MESSAGE_DUE_BPS" => sync_message_due_bps: u64, opt;
    "CONTRIBUTION_DUE_BPS" => contribution_due_bps: u64, opt;
    "MIN_BUILDER_WITHDRAWABILITY_DELAY" => min_builder_withdrawability_delay: Epoch, opt;
    "ATTESTATION_DUE_BPS_GLOAS" => attestation_due_bps_gloas: u64, opt;
    "AGGREGATE_DUE_BPS_GLOAS" => aggregate_due_bps_gloas: u64, opt;
    "SYNC_MESSAGE_DUE_BPS_GLOAS" => sync_message_due_bps_gloas: u64, opt;
    "CONTRIBUTION_DUE_BPS_GLOAS" => contribution_due_bps_gloas: u64, opt;
    "PAYLOAD_DUE_BPS" => payload_due_bps: u64, opt;
    "PAYLOAD_ATTESTATION_DUE_BPS" => payload_attestation_due_bps: u64, opt;
    "INCLUSION_LIST_DUE_BPS" => inclusion_list_due_bps: u64, opt;
    // Validator cycle
    "INACTIVITY_SCORE_BIAS" => inactivity_score_bias: u64, opt;
    "INACTIVITY_SCORE_RECOVERY_RATE" => inactivity_score_recovery_rate: u64, opt;
    "EJECTION_BALANCE" => ejection_balance: u64, opt;
    "MIN_PER_EPOCH_CHURN_LIMIT" => min_per_epoch_churn_limit: u64, opt;
    "CHURN_LIMIT_QUOTIENT" => churn_limit_quotient: u64, opt;
    "MAX_PER_EPOCH_ACTIVATION_CHURN_LIMIT" => max_per_epoch_activation_churn_limit: u64, opt;
    "MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA" => min_per_epoch_churn_limit_electra: u64, opt;
    "MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT" => max_per_epoch_activation_exit_churn_limit: u64, opt;
    "CHURN_LIMIT_QUOTIENT_GLOAS" => churn_limit_quotient_gloas: u64, opt;
    "CONSOLIDATION_CHURN_LIMIT_QUOTIENT" => consolidation_churn_limit_quotient: u64, opt;
    "MAX_PER_EPOCH_ACTIVATION_CHURN_LIMIT_GLOAS" => max_per_epoch_activation_churn_limit_gloas: u64, opt;
    // Fork choice
    "PROPOSER_SCORE_BOOST" => proposer_score_boost: u64, opt;
    "REORG_HEAD_WEIGHT_THRESHOLD" => reorg_head_weight_threshold: u64, opt;
    "REORG_PARENT_WEIGHT_THRESHOLD" => reorg_parent_weight_threshold: u64, opt;
    "REORG_MAX_EPOCHS_SINCE_FINALIZATION" => reorg_max_epochs_since_finalization: Epoch, opt;
    // Deposit contract
    "DEPOSIT_CHAIN_ID" => deposit_chain_id: u64, req;
    "DEPOSIT_NETWORK_ID" => deposit_network_id: u64, req;
    "DEPOSIT_CONTRACT_ADDRESS" => deposit_contract_address: ExecutionAddress, req;
    // Networking
    "MAX_PAYLOAD_SIZE" => max_payload_size: u64, opt;
    "MAX_REQUEST_BLOCKS" => max_request_blocks: u64, opt;
    "EPOCHS_PER_SUBNET_SUBSCRIPTION" => epochs_per_subnet_subscription: Epoch, opt;
    "ATTESTATION_PROPAGATION_SLOT_RANGE" => attestation_propagation_slot_range: u64, opt;
    "MAXIMUM_GOSSIP_CLOCK_DISPARITY" => maximum_gossip_clock_disparity: u64, opt;
    "MESSAGE_DOMAIN_INVALID_SNAPPY" => message_domain_invalid_snappy: [u8; 4], opt;
    "MESSAGE_DOMAIN_VALID_SNAPPY" => message_domain_valid_snappy: [u8; 4], opt;
    "SUBNETS_PER_NODE" => subnets_per_node: u64, opt;
    "ATTESTATION_SUBNET_COUNT" => attestation_subnet_count: u64, opt;
    "ATTESTATION_SUBNET_EXTRA_BITS" => attestation_subnet_extra_bits: u64, opt;
    "MAX_REQUEST_BLOCKS_DENEB" => max_request_blocks_deneb: u64, opt;
    "MIN_EPOCHS_FOR_BLOB_SIDECARS_REQUESTS" => min_epochs_for_blob_sidecars_requests: Epoch, opt;
    "BLOB_SIDECAR_SUBNET_COUNT" => blob_sidecar_subnet_count: u64, opt;
    "MAX_BLOBS_PER_BLOCK" => max_blobs_per_block: u64, opt;
    "BLOB_SIDECAR_SUBNET_COUNT_ELECTRA" => blob_sidecar_subnet_count_electra: u64, opt;
    "MAX_BLOBS_PER_BLOCK_ELECTRA" => max_blobs_per_block_electra: u64, opt;
    "NUMBER_OF_CUSTODY_GROUPS" => number_of_custody_groups: u64, opt;
    "DATA_COLUMN_SIDECAR_SUBNET_COUNT" => data_column_sidecar_subnet_count: u64, opt;
    "SAMPLES_PER_SLOT" => samples_per_slot: u64, opt;
    "CUSTODY_REQUIREMENT" => custody_requirement: u64, opt;
    "VALIDATOR_CUSTODY_REQUIREMENT" => validator_custody_requirement: u64, opt;
    "BALANCE_PER_ADDITIONAL_CUSTODY_GROUP" => balance_per_additional_custody_group: u64, opt;
    "MIN_EPOCHS_FOR_DATA_COLUMN_SIDECARS_REQUESTS" => min_epochs_for_data_column_sidecars_requests: Epoch, opt;
    "MAX_REQUEST_PAYLOADS" => max_request_payloads: u64, opt;
    "MAX_REQUEST_INCLUSION_LIST" => max_request_inclusion_list: u64, opt;
    "MIN_SLOTS_FOR_INCLUSION_LISTS_REQUESTS" => min_slots_for_inclusion_lists_requests: u64, opt;
    "MAX_BYTES_PER_INCLUSION_LIST" => max_bytes_per_inclusion_list: u64, opt;
    // Fast confirmation rule
    "CONFIRMATION_BYZANTINE_THRESHOLD" => confirmation_byzantine_threshold: u64, opt;
}

impl ChainConfig {
    /// Parses a `config.yaml` document. See the module docs for which keys are required, how
    /// missing optional keys are filled, and what is validated.
    pub fn from_yaml_str(text: &str) -> Result<Self, ConfigError> {
        let preset = peek_preset_base(text)?;
        let base = Self::parse(preset.spec_yaml(), None)?;
        Self::parse(text, Some(&base))
    }

    /// Reads and parses the config file at `path` (the only I/O this crate does).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_yaml_str(&text)
    }

    /// The spec's mainnet config (`configs/mainnet.yaml` at the vendored spec version).
    pub fn mainnet() -> Self {
        Self::parse(SPEC_MAINNET_YAML, None)
            .expect("vendored spec mainnet config parses (checked by this crate's tests)")
    }

    /// The spec's minimal config (`configs/minimal.yaml`), the one the minimal test vectors use.
    pub fn minimal() -> Self {
        Self::parse(SPEC_MINIMAL_YAML, None)
            .expect("vendored spec minimal config parses (checked by this crate's tests)")
    }

    /// The config of a local devnet: the minimal config with every fork up to Fulu active from
    /// genesis, under its own name, with `slot_duration_ms` per slot.
    pub fn dev(slot_duration_ms: u64) -> Self {
        ChainConfig {
            config_name: "keel-dev".into(),
            altair_fork_epoch: 0,
            bellatrix_fork_epoch: 0,
            capella_fork_epoch: 0,
            deneb_fork_epoch: 0,
            electra_fork_epoch: 0,
            fulu_fork_epoch: 0,
            slot_duration_ms,
            ..Self::minimal()
        }
    }

    /// Parses `text`; with `base == None` every key except `BLOB_SCHEDULE` is required.
    fn parse(text: &str, base: Option<&ChainConfig>) -> Result<Self, ConfigError> {
        let mut entries: BTreeMap<String, ConfigValue> =
            yaml::parse_mapping(text)?.into_iter().collect();
        let mut defaulted = Vec::new();

        apply_legacy_seconds_per_slot(&mut entries)?;

        let blob_schedule = match entries.remove("BLOB_SCHEDULE") {
            Some(value) => parse_blob_schedule(value)?,
            None => {
                defaulted.push("BLOB_SCHEDULE");
                Vec::new()
            }
        };

        let mut config = Self::take_fields(&mut entries, base, blob_schedule, defaulted)?;
        config.unknown = entries;
        config.validate()?;
        Ok(config)
    }

    /// Checks what parsing alone guarantees: values the helpers here would divide by.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.slot_duration_ms == 0 {
            return Err(ConfigError::InvalidValue {
                key: "SLOT_DURATION_MS".into(),
                value: "0".into(),
                reason: "must be non-zero".into(),
            });
        }
        Ok(())
    }

    /// Checks that the config describes a coherent network: fork epochs non-decreasing from
    /// Altair to Heze, and no two `BLOB_SCHEDULE` entries for one epoch.
    ///
    /// Parsing does not require this, because the spec's functions are defined for any config
    /// and the spec's test configs override single fork epochs (e.g. `FULU_FORK_EPOCH: 5` with
    /// earlier forks unscheduled). A node should run it on the config it is asked to follow;
    /// [`crate::Network::from_name`] runs it on the built-in networks.
    pub fn check_consistency(&self) -> Result<(), ConfigError> {
        let forks = [
            ("ALTAIR_FORK_EPOCH", self.altair_fork_epoch),
            ("BELLATRIX_FORK_EPOCH", self.bellatrix_fork_epoch),
            ("CAPELLA_FORK_EPOCH", self.capella_fork_epoch),
            ("DENEB_FORK_EPOCH", self.deneb_fork_epoch),
            ("ELECTRA_FORK_EPOCH", self.electra_fork_epoch),
            ("FULU_FORK_EPOCH", self.fulu_fork_epoch),
            ("GLOAS_FORK_EPOCH", self.gloas_fork_epoch),
            ("HEZE_FORK_EPOCH", self.heze_fork_epoch),
        ];
        for pair in forks.windows(2) {
            if let [(earlier, earlier_epoch), (later, later_epoch)] = *pair
                && later_epoch < earlier_epoch
            {
                return Err(ConfigError::ForkEpochsOutOfOrder {
                    earlier,
                    earlier_epoch,
                    later,
                    later_epoch,
                });
            }
        }
        let mut epochs: Vec<Epoch> = self.blob_schedule.iter().map(|b| b.epoch).collect();
        epochs.sort_unstable();
        if let Some(pair) = epochs.windows(2).find(|w| w[0] == w[1]) {
            return Err(ConfigError::DuplicateBlobScheduleEpoch(pair[0]));
        }
        Ok(())
    }

    /// Checks that the config extends the preset `P` the node is compiled with.
    pub fn check_preset<P: Preset>(&self) -> Result<(), ConfigError> {
        if self.preset_base.as_str() == P::NAME {
            Ok(())
        } else {
            Err(ConfigError::PresetMismatch {
                config: self.preset_base.as_str(),
                expected: P::NAME,
            })
        }
    }

    /// Keys the file had that this crate does not know (e.g. retired ones such as
    /// `MAX_REQUEST_BLOB_SIDECARS`), for the caller to log.
    pub fn unknown_keys(&self) -> impl Iterator<Item = &str> {
        self.unknown.keys().map(String::as_str)
    }

    /// The config in the Beacon API `GET /eth/v1/config/spec` shape: every value a string,
    /// `BLOB_SCHEDULE` a list of `{EPOCH, MAX_BLOBS_PER_BLOCK}` objects. Known keys come in spec
    /// order, then unknown keys verbatim (alphabetically). Preset values and constants are not
    /// part of a config; the API layer appends them.
    pub fn to_spec_map(&self) -> Vec<(String, ConfigValue)> {
        let mut out: Vec<(String, ConfigValue)> = self
            .scalar_spec_entries()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), ConfigValue::Scalar(v)))
            .collect();
        let schedule = self
            .blob_schedule
            .iter()
            .map(|b| {
                ConfigValue::Map(vec![
                    ("EPOCH".into(), ConfigValue::Scalar(b.epoch.to_string())),
                    (
                        "MAX_BLOBS_PER_BLOCK".into(),
                        ConfigValue::Scalar(b.max_blobs_per_block.to_string()),
                    ),
                ])
            })
            .collect();
        out.push(("BLOB_SCHEDULE".into(), ConfigValue::List(schedule)));
        out.extend(self.unknown.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

/// Reads only `PRESET_BASE`, to pick the spec config that supplies defaults.
fn peek_preset_base(text: &str) -> Result<PresetBase, ConfigError> {
    let entries = yaml::parse_mapping(text)?;
    match entries.into_iter().find(|(k, _)| k == "PRESET_BASE") {
        Some((_, ConfigValue::Scalar(raw))) => {
            PresetBase::parse_scalar(&raw).map_err(|_| ConfigError::UnsupportedPreset(raw))
        }
        Some((_, other)) => Err(ConfigError::InvalidValue {
            key: "PRESET_BASE".into(),
            value: other.to_string(),
            reason: format!("expected a scalar, found {}", other.kind()),
        }),
        None => Err(ConfigError::MissingKey("PRESET_BASE")),
    }
}

/// Maps the pre-1.6 `SECONDS_PER_SLOT` onto `SLOT_DURATION_MS`.
fn apply_legacy_seconds_per_slot(
    entries: &mut BTreeMap<String, ConfigValue>,
) -> Result<(), ConfigError> {
    let Some(value) = entries.remove("SECONDS_PER_SLOT") else {
        return Ok(());
    };
    let invalid = |value: String, reason: String| ConfigError::InvalidValue {
        key: "SECONDS_PER_SLOT".into(),
        value,
        reason,
    };
    let ConfigValue::Scalar(raw) = value else {
        return Err(invalid(value.to_string(), "expected a scalar".into()));
    };
    let seconds = u64::parse_scalar(&raw).map_err(|reason| invalid(raw.clone(), reason))?;
    let ms = seconds
        .checked_mul(1000)
        .ok_or_else(|| invalid(raw.clone(), "overflows SLOT_DURATION_MS".into()))?;
    match entries.get("SLOT_DURATION_MS") {
        None => {
            entries.insert(
                "SLOT_DURATION_MS".into(),
                ConfigValue::Scalar(ms.to_string()),
            );
        }
        Some(ConfigValue::Scalar(existing)) if existing.as_str() == ms.to_string() => {}
        Some(existing) => {
            return Err(invalid(
                raw,
                format!("disagrees with SLOT_DURATION_MS = {existing}"),
            ));
        }
    }
    Ok(())
}

fn parse_blob_schedule(value: ConfigValue) -> Result<Vec<BlobParameters>, ConfigError> {
    let items = match value {
        ConfigValue::List(items) => items,
        // `BLOB_SCHEDULE:` with nothing after it is an empty schedule.
        ConfigValue::Scalar(s) if matches!(s.as_str(), "" | "~" | "null") => Vec::new(),
        other => {
            return Err(ConfigError::InvalidValue {
                key: "BLOB_SCHEDULE".into(),
                value: other.to_string(),
                reason: format!("expected a list, found {}", other.kind()),
            });
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| parse_blob_schedule_entry(i, item))
        .collect()
}

fn parse_blob_schedule_entry(
    index: usize,
    item: ConfigValue,
) -> Result<BlobParameters, ConfigError> {
    let ConfigValue::Map(fields) = item else {
        return Err(ConfigError::InvalidValue {
            key: format!("BLOB_SCHEDULE[{index}]"),
            value: item.to_string(),
            reason: format!("expected a mapping, found {}", item.kind()),
        });
    };
    let mut epoch = None;
    let mut max_blobs = None;
    for (name, value) in fields {
        let key = format!("BLOB_SCHEDULE[{index}].{name}");
        let slot = match name.as_str() {
            "EPOCH" => &mut epoch,
            "MAX_BLOBS_PER_BLOCK" => &mut max_blobs,
            _ => {
                return Err(ConfigError::InvalidValue {
                    key,
                    value: value.to_string(),
                    reason: "unknown field (expected EPOCH and MAX_BLOBS_PER_BLOCK)".into(),
                });
            }
        };
        let ConfigValue::Scalar(raw) = value else {
            return Err(ConfigError::InvalidValue {
                key,
                value: value.to_string(),
                reason: format!("expected a scalar, found {}", value.kind()),
            });
        };
        let parsed = u64::parse_scalar(&raw).map_err(|reason| ConfigError::InvalidValue {
            key,
            value: raw,
            reason,
        })?;
        *slot = Some(parsed);
    }
    let missing = |field: &str| ConfigError::InvalidValue {
        key: format!("BLOB_SCHEDULE[{index}]"),
        value: String::new(),
        reason: format!("missing field {field}"),
    };
    Ok(BlobParameters {
        epoch: epoch.ok_or_else(|| missing("EPOCH"))?,
        max_blobs_per_block: max_blobs.ok_or_else(|| missing("MAX_BLOBS_PER_BLOCK"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parsing_is_strict() {
        assert_eq!(<[u8; 4]>::parse_scalar("0x01000000"), Ok([1, 0, 0, 0]));
        assert!(<[u8; 4]>::parse_scalar("01000000").is_err());
        assert!(<[u8; 4]>::parse_scalar("0x010000").is_err());
        assert!(<[u8; 4]>::parse_scalar("0x0100000000").is_err());
        assert!(<[u8; 4]>::parse_scalar("0xzz000000").is_err());
    }

    #[test]
    fn integer_parsing_is_strict() {
        assert_eq!(u64::parse_scalar("18446744073709551615"), Ok(u64::MAX));
        assert!(u64::parse_scalar("18446744073709551616").is_err());
        assert!(u64::parse_scalar("-1").is_err());
        assert!(u64::parse_scalar("+1").is_err());
        assert!(u64::parse_scalar("0x10").is_err());
        assert!(u64::parse_scalar("").is_err());
        assert!(u64::parse_scalar("1e3").is_err());
    }
}
