//! Parsing: every built-in config, required/optional keys, typed errors, the spec-map shape.

use keel_config::{ChainConfig, ConfigError, ConfigValue, ForkName, Network, PresetBase};
use keel_types::{Hash256, Mainnet, Minimal, Uint256};

const SPEC_MAINNET: &str = include_str!("../networks/mainnet/config.yaml");
const SPEC_MINIMAL: &str = include_str!("../networks/minimal/config.yaml");

/// The keys of a `config.yaml`, read naively line by line (top-level `KEY:` lines).
fn top_level_keys(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with(['#', ' ', '-']) && !l.trim().is_empty())
        .filter_map(|l| l.split_once(':').map(|(k, _)| k))
        .collect()
}

#[test]
fn every_builtin_network_parses() {
    for name in Network::NAMES {
        let network = Network::from_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(network.name, name);
        assert_eq!(network.config.config_name, name, "CONFIG_NAME of {name}");
        if name == "minimal" {
            assert!(network.boot_enrs.is_empty());
            assert!(network.genesis.is_none());
        } else {
            assert!(network.boot_enrs.len() >= 5, "{name} has boot ENRs");
            assert!(network.boot_enrs.iter().all(|e| e.starts_with("enr:-")));
            assert!(network.genesis.is_some());
        }
    }
}

#[test]
fn preset_bases_of_builtin_networks() {
    let expect = [
        ("mainnet", PresetBase::Mainnet),
        ("minimal", PresetBase::Minimal),
        ("sepolia", PresetBase::Mainnet),
        ("hoodi", PresetBase::Mainnet),
    ];
    for (name, preset) in expect {
        let config = Network::from_name(name).unwrap().config;
        assert_eq!(config.preset_base, preset, "{name}");
    }
    let mainnet = ChainConfig::mainnet();
    assert!(mainnet.check_preset::<Mainnet>().is_ok());
    assert_eq!(
        mainnet.check_preset::<Minimal>(),
        Err(ConfigError::PresetMismatch {
            config: "mainnet",
            expected: "minimal"
        })
    );
    assert!(ChainConfig::minimal().check_preset::<Minimal>().is_ok());
}

#[test]
fn spec_configs_are_covered_exactly() {
    // Every key of the spec's config.yaml is a typed field: nothing unknown, nothing defaulted,
    // and KEYS lists exactly the file's keys.
    for text in [SPEC_MAINNET, SPEC_MINIMAL] {
        let config = ChainConfig::from_yaml_str(text).unwrap();
        assert!(config.unknown.is_empty(), "unknown: {:?}", config.unknown);
        assert!(
            config.defaulted.is_empty(),
            "defaulted: {:?}",
            config.defaulted
        );
        let mut file_keys = top_level_keys(text);
        let mut known: Vec<&str> = ChainConfig::KEYS.to_vec();
        file_keys.sort_unstable();
        known.sort_unstable();
        assert_eq!(file_keys, known);
    }
    assert_eq!(
        ChainConfig::from_yaml_str(SPEC_MAINNET).unwrap(),
        ChainConfig::mainnet()
    );
}

#[test]
fn mainnet_values() {
    let c = ChainConfig::mainnet();
    assert_eq!(c.config_name, "mainnet");
    assert_eq!(
        c.terminal_total_difficulty,
        Uint256::from_str_radix("58750000000000000000000", 10).unwrap()
    );
    assert_eq!(c.terminal_block_hash, Hash256::ZERO);
    assert_eq!(c.terminal_block_hash_activation_epoch, u64::MAX);
    assert_eq!(c.genesis_fork_version, [0, 0, 0, 0]);
    assert_eq!(c.fulu_fork_version, [6, 0, 0, 0]);
    assert_eq!(c.fulu_fork_epoch, 411_392);
    assert_eq!(c.gloas_fork_epoch, u64::MAX);
    assert_eq!(c.slot_duration_ms, 12_000);
    assert_eq!(c.max_blobs_per_block_electra, 9);
    assert_eq!(
        format!("{:?}", c.deposit_contract_address).to_lowercase(),
        "0x00000000219ab540356cbb839cbe05303d7705fa"
    );
    assert_eq!(c.blob_schedule.len(), 2);
    assert_eq!(c.blob_schedule[1].epoch, 419_072);
    assert_eq!(c.blob_schedule[1].max_blobs_per_block, 21);
    assert_eq!(c.confirmation_byzantine_threshold, 25);

    let m = ChainConfig::minimal();
    assert_eq!(
        m.terminal_total_difficulty.to_string(),
        "115792089237316195423570985008687907853269984665640564039457584007913129638912"
    );
    assert!(m.blob_schedule.is_empty());
    assert_eq!(m.slot_duration_ms, 6_000);
}

#[test]
fn eth_clients_configs_are_filled_from_the_preset() {
    let hoodi = Network::from_name("hoodi").unwrap().config;
    // SECONDS_PER_SLOT: 12 is read as SLOT_DURATION_MS.
    assert_eq!(hoodi.slot_duration_ms, 12_000);
    assert!(!hoodi.defaulted.contains(&"SLOT_DURATION_MS"));
    assert!(hoodi.defaulted.contains(&"ATTESTATION_DUE_BPS"));
    assert_eq!(hoodi.attestation_due_bps, 3333);
    assert!(!hoodi.defaulted.contains(&"BLOB_SCHEDULE"));
    assert_eq!(hoodi.deposit_chain_id, 560_048);
    assert_eq!(hoodi.electra_fork_epoch, 2048);
    // Retired or client-specific keys are reported, not fatal.
    let unknown: Vec<&str> = hoodi.unknown_keys().collect();
    assert!(
        unknown.contains(&"MAX_REQUEST_BLOB_SIDECARS"),
        "{unknown:?}"
    );
    assert!(unknown.contains(&"MAX_BLOBS_PER_BLOCK_FULU"), "{unknown:?}");
    assert_eq!(
        hoodi.unknown.get("WHISK_PROPOSER_SELECTION_GAP"),
        Some(&ConfigValue::Scalar("2".into()))
    );

    let sepolia = Network::from_name("sepolia").unwrap().config;
    assert_eq!(sepolia.fulu_fork_version, [0x90, 0, 0, 0x75]);
    assert_eq!(
        sepolia.terminal_total_difficulty,
        Uint256::from(17_000_000_000_000_000u64)
    );
    assert_eq!(sepolia.number_of_custody_groups, 128);
    assert!(sepolia.defaulted.contains(&"NUMBER_OF_CUSTODY_GROUPS"));
}

/// A minimal valid config with everything required and nothing else.
const REQUIRED_ONLY: &str = "\
PRESET_BASE: minimal
CONFIG_NAME: testnet
MIN_GENESIS_TIME: 100
GENESIS_FORK_VERSION: 0x00000009
GENESIS_DELAY: 10
ALTAIR_FORK_VERSION: 0x01000009
ALTAIR_FORK_EPOCH: 0
BELLATRIX_FORK_VERSION: 0x02000009
BELLATRIX_FORK_EPOCH: 0
CAPELLA_FORK_VERSION: 0x03000009
CAPELLA_FORK_EPOCH: 1
DENEB_FORK_VERSION: 0x04000009
DENEB_FORK_EPOCH: 2
ELECTRA_FORK_VERSION: 0x05000009
ELECTRA_FORK_EPOCH: 3
FULU_FORK_VERSION: 0x06000009
FULU_FORK_EPOCH: 18446744073709551615
DEPOSIT_CHAIN_ID: 7
DEPOSIT_NETWORK_ID: 7
DEPOSIT_CONTRACT_ADDRESS: 0x1234567890123456789012345678901234567890
";

#[test]
fn required_keys_suffice_and_defaults_come_from_the_preset() {
    let c = ChainConfig::from_yaml_str(REQUIRED_ONLY).unwrap();
    assert_eq!(c.preset_base, PresetBase::Minimal);
    assert_eq!(c.fulu_fork_epoch, u64::MAX);
    // Defaults from the minimal spec config, not mainnet's.
    assert_eq!(c.slot_duration_ms, 6_000);
    assert_eq!(c.gloas_fork_version, [0x07, 0, 0, 0x01]);
    assert!(c.blob_schedule.is_empty());
    assert!(c.defaulted.contains(&"BLOB_SCHEDULE"));
    assert!(c.defaulted.contains(&"SHARD_COMMITTEE_PERIOD"));
    assert_eq!(c.fork_at_epoch(2), ForkName::Deneb);
}

#[test]
fn a_missing_required_key_is_named() {
    for key in [
        "PRESET_BASE",
        "CONFIG_NAME",
        "GENESIS_FORK_VERSION",
        "ELECTRA_FORK_EPOCH",
        "DEPOSIT_CONTRACT_ADDRESS",
    ] {
        let text: String = REQUIRED_ONLY
            .lines()
            .filter(|l| !l.starts_with(&format!("{key}:")))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            ChainConfig::from_yaml_str(&text),
            Err(ConfigError::MissingKey(key)),
            "{key}"
        );
    }
    // The spec config itself must be complete: dropping an optional key there is no error
    // through the public path, but the key is reported as defaulted.
    let text = SPEC_MAINNET.replace("SHARD_COMMITTEE_PERIOD: 256\n", "");
    let c = ChainConfig::from_yaml_str(&text).unwrap();
    assert_eq!(c.defaulted, vec!["SHARD_COMMITTEE_PERIOD"]);
}

fn with(key: &str, value: &str) -> String {
    let mut found = false;
    let text: String = REQUIRED_ONLY
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{key}:")) {
                found = true;
                format!("{key}: {value}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    if found {
        text
    } else {
        format!("{text}{key}: {value}\n")
    }
}

fn invalid_key(result: Result<ChainConfig, ConfigError>) -> String {
    match result {
        Err(ConfigError::InvalidValue { key, .. }) => key,
        other => panic!("expected InvalidValue, got {other:?}"),
    }
}

#[test]
fn malformed_values_are_typed_errors() {
    for (key, value) in [
        ("GENESIS_FORK_VERSION", "0x000009"),
        ("GENESIS_FORK_VERSION", "0x0000000g"),
        ("GENESIS_FORK_VERSION", "9"),
        ("ALTAIR_FORK_VERSION", "[1, 2]"),
        ("ALTAIR_FORK_EPOCH", "soon"),
        ("ALTAIR_FORK_EPOCH", "-1"),
        ("ALTAIR_FORK_EPOCH", "18446744073709551616"),
        ("ALTAIR_FORK_EPOCH", "1.5"),
        ("MIN_GENESIS_TIME", ""),
        ("DEPOSIT_CONTRACT_ADDRESS", "0x1234"),
        ("TERMINAL_TOTAL_DIFFICULTY", "lots"),
        ("TERMINAL_BLOCK_HASH", "0x00"),
    ] {
        let err = ChainConfig::from_yaml_str(&with(key, value));
        assert_eq!(invalid_key(err), key, "{key}: {value}");
    }
    assert_eq!(
        ChainConfig::from_yaml_str(&with("PRESET_BASE", "gnosis")),
        Err(ConfigError::UnsupportedPreset("gnosis".into()))
    );
    let err = ChainConfig::from_yaml_str(&with("ALTAIR_FORK_EPOCH", "soon")).unwrap_err();
    assert!(err.to_string().contains("ALTAIR_FORK_EPOCH"), "{err}");
    assert!(err.to_string().contains("soon"), "{err}");
}

#[test]
fn big_values_parse_exactly() {
    let c = ChainConfig::from_yaml_str(&with(
        "TERMINAL_TOTAL_DIFFICULTY",
        "115792089237316195423570985008687907853269984665640564039457584007913129639935",
    ))
    .unwrap();
    assert_eq!(c.terminal_total_difficulty, Uint256::MAX);
    let c =
        ChainConfig::from_yaml_str(&with("ELECTRA_FORK_EPOCH", "18446744073709551615")).unwrap();
    assert_eq!(c.electra_fork_epoch, u64::MAX);
    // Quoted values are the same values.
    let c = ChainConfig::from_yaml_str(&with("GENESIS_DELAY", "'42'")).unwrap();
    assert_eq!(c.genesis_delay, 42);
}

#[test]
fn structural_errors() {
    assert_eq!(
        ChainConfig::from_yaml_str("- a\n- b\n"),
        Err(ConfigError::NotAMapping)
    );
    assert_eq!(
        ChainConfig::from_yaml_str(""),
        Err(ConfigError::MissingKey("PRESET_BASE"))
    );
    assert!(matches!(
        ChainConfig::from_yaml_str("PRESET_BASE: [minimal\n"),
        Err(ConfigError::Yaml(_))
    ));
    // Out-of-order forks parse (the spec's test configs do this) but are not a coherent network.
    let out_of_order = ChainConfig::from_yaml_str(&with("ELECTRA_FORK_EPOCH", "1")).unwrap();
    assert!(matches!(
        out_of_order.check_consistency(),
        Err(ConfigError::ForkEpochsOutOfOrder {
            earlier: "DENEB_FORK_EPOCH",
            later: "ELECTRA_FORK_EPOCH",
            ..
        })
    ));
    assert_eq!(
        ChainConfig::from_yaml_str(&with("SLOT_DURATION_MS", "0")).map(|_| ()),
        Err(ConfigError::InvalidValue {
            key: "SLOT_DURATION_MS".into(),
            value: "0".into(),
            reason: "must be non-zero".into()
        })
    );
    assert_eq!(
        invalid_key(ChainConfig::from_yaml_str(&format!(
            "{}SECONDS_PER_SLOT: 12\n",
            with("SLOT_DURATION_MS", "6000")
        ))),
        "SECONDS_PER_SLOT"
    );
    assert!(matches!(
        ChainConfig::from_file("/nonexistent/keel/config.yaml"),
        Err(ConfigError::Io { .. })
    ));
    assert!(matches!(
        Network::from_name("holesky"),
        Err(ConfigError::UnknownNetwork(_))
    ));
}

#[test]
fn blob_schedule_parsing() {
    let text = format!(
        "{REQUIRED_ONLY}BLOB_SCHEDULE:\n  - EPOCH: 9\n    MAX_BLOBS_PER_BLOCK: 12\n  - EPOCH: 5\n    MAX_BLOBS_PER_BLOCK: 10\n"
    );
    let c = ChainConfig::from_yaml_str(&text).unwrap();
    assert_eq!(c.blob_schedule.len(), 2);
    assert_eq!(c.blob_schedule[0].epoch, 9);

    let dup = format!(
        "{REQUIRED_ONLY}BLOB_SCHEDULE:\n  - EPOCH: 9\n    MAX_BLOBS_PER_BLOCK: 12\n  - EPOCH: 9\n    MAX_BLOBS_PER_BLOCK: 10\n"
    );
    let dup = ChainConfig::from_yaml_str(&dup).unwrap();
    assert_eq!(
        dup.check_consistency(),
        Err(ConfigError::DuplicateBlobScheduleEpoch(9))
    );
    // As in the spec's stable sort, the first listed of two equal epochs wins.
    assert_eq!(dup.get_blob_parameters(10).max_blobs_per_block, 12);
    let bad_epoch =
        format!("{REQUIRED_ONLY}BLOB_SCHEDULE:\n  - EPOCH: x\n    MAX_BLOBS_PER_BLOCK: 1\n");
    assert_eq!(
        invalid_key(ChainConfig::from_yaml_str(&bad_epoch)),
        "BLOB_SCHEDULE[0].EPOCH"
    );
    let missing = format!("{REQUIRED_ONLY}BLOB_SCHEDULE:\n  - EPOCH: 3\n");
    assert_eq!(
        invalid_key(ChainConfig::from_yaml_str(&missing)),
        "BLOB_SCHEDULE[0]"
    );
    let not_list = format!("{REQUIRED_ONLY}BLOB_SCHEDULE: 3\n");
    assert_eq!(
        invalid_key(ChainConfig::from_yaml_str(&not_list)),
        "BLOB_SCHEDULE"
    );
    let empty = format!("{REQUIRED_ONLY}BLOB_SCHEDULE: []\n");
    assert!(
        ChainConfig::from_yaml_str(&empty)
            .unwrap()
            .blob_schedule
            .is_empty()
    );
}

#[test]
fn unknown_keys_are_kept_verbatim() {
    let text = format!("{REQUIRED_ONLY}SOME_FUTURE_KEY: 0x0001\nNESTED:\n  - 1\n  - 2\n");
    let c = ChainConfig::from_yaml_str(&text).unwrap();
    assert_eq!(
        c.unknown.get("SOME_FUTURE_KEY"),
        Some(&ConfigValue::Scalar("0x0001".into()))
    );
    assert_eq!(
        c.unknown.get("NESTED").map(ToString::to_string).as_deref(),
        Some("[1, 2]")
    );
}

#[test]
fn spec_map_shape() {
    let map = ChainConfig::mainnet().to_spec_map();
    let get = |k: &str| {
        map.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} missing"))
    };
    assert_eq!(map[0].0, "PRESET_BASE");
    assert_eq!(get("PRESET_BASE"), ConfigValue::Scalar("mainnet".into()));
    assert_eq!(
        get("GENESIS_FORK_VERSION"),
        ConfigValue::Scalar("0x00000000".into())
    );
    assert_eq!(
        get("ALTAIR_FORK_VERSION"),
        ConfigValue::Scalar("0x01000000".into())
    );
    assert_eq!(
        get("TERMINAL_TOTAL_DIFFICULTY"),
        ConfigValue::Scalar("58750000000000000000000".into())
    );
    assert_eq!(
        get("GLOAS_FORK_EPOCH"),
        ConfigValue::Scalar("18446744073709551615".into())
    );
    assert_eq!(
        get("DEPOSIT_CONTRACT_ADDRESS"),
        ConfigValue::Scalar("0x00000000219ab540356cbb839cbe05303d7705fa".into())
    );
    assert_eq!(
        get("BLOB_SCHEDULE").to_string(),
        "[{EPOCH: 412672, MAX_BLOBS_PER_BLOCK: 15}, {EPOCH: 419072, MAX_BLOBS_PER_BLOCK: 21}]"
    );
    assert_eq!(map.len(), ChainConfig::KEYS.len());

    // Round trip: the spec map, written back as YAML, parses to the same config.
    let yaml: String = map
        .iter()
        .filter(|(k, _)| k != "BLOB_SCHEDULE")
        .map(|(k, v)| format!("{k}: '{v}'\n"))
        .collect();
    let yaml = format!(
        "{yaml}BLOB_SCHEDULE:\n  - EPOCH: 412672\n    MAX_BLOBS_PER_BLOCK: 15\n  - EPOCH: 419072\n    MAX_BLOBS_PER_BLOCK: 21\n"
    );
    assert_eq!(
        ChainConfig::from_yaml_str(&yaml).unwrap(),
        ChainConfig::mainnet()
    );
}
