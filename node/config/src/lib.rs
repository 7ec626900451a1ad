//! Keel's chain configuration: the spec's runtime `config.yaml` values as a typed [`ChainConfig`],
//! the built-in networks (mainnet, minimal, sepolia, hoodi) with their boot ENRs and genesis
//! facts, the fork schedule derived from a config (fork at an epoch, fork versions, the state
//! `Fork`, fork digests including Fulu's blob-parameter-aware digest, blob limits per epoch),
//! signature domains and signing roots, and the spec constants that are neither preset nor config.
//!
//! Inputs: YAML text (or a file path handed to [`ChainConfig::from_file`]) and the YAML files
//! vendored under `networks/`, which are compiled in with `include_str!`. Outputs: plain values
//! (`Version`, `Domain`, `ForkDigest`, `Root`, ...) and the Beacon API `config/spec` shape
//! ([`ChainConfig::to_spec_map`]).
//! Must not: do I/O other than reading the one config file it is asked to read, read clocks,
//! touch the network, or hold consensus state; preset values live in `keel-types`, and consensus
//! rules beyond these helpers live in `keel-state-transition`.

pub mod chain_config;
pub mod constants;
pub mod error;
pub mod fork_schedule;
pub mod network;
pub mod signing;
pub mod yaml;

pub use chain_config::{BlobParameters, ChainConfig, PresetBase};
pub use error::ConfigError;
pub use keel_types::ForkName;
pub use network::{GenesisInfo, Network};
pub use signing::{
    compute_domain, compute_fork_data_root, compute_fork_digest_phase0,
    compute_fork_digest_with_blob_parameters, compute_signing_root, compute_signing_root_from_root,
    get_domain,
};
pub use yaml::ConfigValue;
