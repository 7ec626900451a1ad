//! Built-in networks: the config, boot ENRs and genesis facts compiled into the binary.
//!
//! Files live in `networks/<name>/` (see the crate README for where each comes from). Genesis
//! facts that a `config.yaml` does not carry are constants here, copied from the network's
//! published genesis metadata.

use crate::chain_config::ChainConfig;
use crate::error::ConfigError;
use crate::yaml;
use keel_types::{Epoch, ForkDigest, Hash256, Root};

/// What the genesis state fixes and a config does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisInfo {
    /// `state.genesis_time` (not `MIN_GENESIS_TIME`: genesis happened `GENESIS_DELAY` later, or
    /// more if the validator count was reached late).
    pub genesis_time: u64,
    /// `state.genesis_validators_root`.
    pub genesis_validators_root: Root,
}

/// A built-in network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// `"mainnet"`, `"minimal"`, `"sepolia"` or `"hoodi"`.
    pub name: &'static str,
    pub config: ChainConfig,
    /// Boot node ENRs (`enr:...`), empty for `minimal`.
    pub boot_enrs: Vec<String>,
    /// `None` for `minimal`, which is a preset for tests and has no genesis.
    pub genesis: Option<GenesisInfo>,
    /// Execution-layer block number in which the deposit contract was deployed.
    pub deposit_contract_block: Option<u64>,
}

struct Builtin {
    name: &'static str,
    config_yaml: &'static str,
    boot_enr_yaml: Option<&'static str>,
    genesis: Option<(u64, [u8; 32])>,
    deposit_contract_block: Option<u64>,
}

const fn hex32(s: &str) -> [u8; 32] {
    let bytes = s.as_bytes();
    assert!(bytes.len() == 66 && bytes[0] == b'0' && bytes[1] == b'x');
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(bytes[2 + 2 * i]) << 4) | nibble(bytes[3 + 2 * i]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit"),
    }
}

const BUILTINS: [Builtin; 4] = [
    Builtin {
        name: "mainnet",
        config_yaml: include_str!("../networks/mainnet/config.yaml"),
        boot_enr_yaml: Some(include_str!("../networks/mainnet/boot_enr.yaml")),
        // eth-clients/mainnet README "Genesis information".
        genesis: Some((
            1_606_824_023,
            hex32("0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"),
        )),
        deposit_contract_block: Some(11_052_984),
    },
    Builtin {
        name: "minimal",
        config_yaml: include_str!("../networks/minimal/config.yaml"),
        boot_enr_yaml: None,
        genesis: None,
        deposit_contract_block: None,
    },
    Builtin {
        name: "sepolia",
        config_yaml: include_str!("../networks/sepolia/config.yaml"),
        boot_enr_yaml: Some(include_str!("../networks/sepolia/boot_enr.yaml")),
        // eth-clients/sepolia metadata/README.md; genesis time also read from genesis.ssz.
        genesis: Some((
            1_655_733_600,
            hex32("0xd8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078"),
        )),
        deposit_contract_block: Some(1_273_020),
    },
    Builtin {
        name: "hoodi",
        config_yaml: include_str!("../networks/hoodi/config.yaml"),
        boot_enr_yaml: Some(include_str!("../networks/hoodi/boot_enr.yaml")),
        // eth-clients/hoodi README ("Linux Epoch time") and metadata/genesis_validators_root.txt.
        genesis: Some((
            1_742_213_400,
            hex32("0x212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f"),
        )),
        deposit_contract_block: Some(0),
    },
];

impl Network {
    /// The names `from_name` accepts.
    pub const NAMES: [&'static str; 4] = ["mainnet", "minimal", "sepolia", "hoodi"];

    /// Loads a built-in network by name (case-sensitive, as in `CONFIG_NAME`).
    pub fn from_name(name: &str) -> Result<Self, ConfigError> {
        let builtin = BUILTINS
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| ConfigError::UnknownNetwork(name.to_owned()))?;
        let config = ChainConfig::from_yaml_str(builtin.config_yaml)?;
        config.check_consistency()?;
        let boot_enrs = match builtin.boot_enr_yaml {
            Some(text) => parse_boot_enrs(builtin.name, text)?,
            None => Vec::new(),
        };
        Ok(Network {
            name: builtin.name,
            config,
            boot_enrs,
            genesis: builtin.genesis.map(|(genesis_time, root)| GenesisInfo {
                genesis_time,
                genesis_validators_root: Hash256::from(root),
            }),
            deposit_contract_block: builtin.deposit_contract_block,
        })
    }

    /// `compute_fork_digest(genesis_validators_root, epoch)` of this network; `None` without a
    /// known genesis.
    pub fn fork_digest(&self, epoch: Epoch) -> Option<ForkDigest> {
        self.genesis.map(|g| {
            self.config
                .compute_fork_digest(g.genesis_validators_root, epoch)
        })
    }
}

fn parse_boot_enrs(network: &'static str, text: &str) -> Result<Vec<String>, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidBootEnrs { network, reason };
    let enrs = yaml::parse_string_list(text).map_err(invalid)?;
    if let Some(bad) = enrs.iter().find(|e| !e.starts_with("enr:-")) {
        return Err(invalid(format!("{bad:?} is not an `enr:` record")));
    }
    Ok(enrs)
}
