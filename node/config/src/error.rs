//! The one error type of this crate.

use keel_types::Epoch;
use std::path::PathBuf;

/// Why a config (or a built-in network) could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid YAML (or holds more than one document).
    #[error("malformed config YAML: {0}")]
    Yaml(String),
    /// The document is valid YAML but not a mapping of `KEY: value` pairs.
    #[error("the config must be a YAML mapping of `KEY: value` pairs")]
    NotAMapping,
    /// A key without which the network cannot be identified is absent.
    #[error("missing required config key `{0}`")]
    MissingKey(&'static str),
    /// A key is present but its value does not parse as the spec's type.
    #[error("invalid value {value:?} for `{key}`: {reason}")]
    InvalidValue {
        key: String,
        value: String,
        reason: String,
    },
    /// `PRESET_BASE` names a preset Keel is not compiled for.
    #[error("unsupported PRESET_BASE {0:?}: Keel knows the `mainnet` and `minimal` presets")]
    UnsupportedPreset(String),
    /// The config's preset differs from the one the caller runs with.
    #[error("the config extends the {config:?} preset but the node runs the {expected:?} preset")]
    PresetMismatch {
        config: &'static str,
        expected: &'static str,
    },
    /// A fork is scheduled before the fork it builds on.
    #[error(
        "fork epochs out of order: `{later}` ({later_epoch}) is before `{earlier}` ({earlier_epoch})"
    )]
    ForkEpochsOutOfOrder {
        earlier: &'static str,
        earlier_epoch: Epoch,
        later: &'static str,
        later_epoch: Epoch,
    },
    /// `BLOB_SCHEDULE` has two entries for one epoch, which makes `get_blob_parameters` ambiguous.
    #[error("BLOB_SCHEDULE lists epoch {0} more than once")]
    DuplicateBlobScheduleEpoch(Epoch),
    /// The config file could not be read.
    #[error("cannot read config file {path}: {message}")]
    Io { path: PathBuf, message: String },
    /// `Network::from_name` got a name it does not know.
    #[error("unknown network {0:?} (built-in networks: mainnet, minimal, sepolia, hoodi)")]
    UnknownNetwork(String),
    /// A vendored boot-ENR list is not a YAML list of `enr:` strings.
    #[error("invalid boot ENR list of network {network}: {reason}")]
    InvalidBootEnrs {
        network: &'static str,
        reason: String,
    },
}
