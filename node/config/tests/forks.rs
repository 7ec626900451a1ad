//! Fork schedule, fork digests, domains and signing roots against published values.

use keel_config::constants::*;
use keel_config::{
    BlobParameters, ChainConfig, ForkName, Network, compute_domain, compute_fork_data_root,
    compute_fork_digest_phase0, compute_signing_root, compute_signing_root_from_root, get_domain,
};
use keel_types::phase0::{Checkpoint, Fork};
use keel_types::{Hash256, Mainnet, Minimal, Preset};

fn digest(hex_str: &str) -> [u8; 4] {
    let mut out = [0u8; 4];
    hex::decode_to_slice(hex_str.trim_start_matches("0x"), &mut out).unwrap();
    out
}

fn root(hex_str: &str) -> Hash256 {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_str.trim_start_matches("0x"), &mut out).unwrap();
    Hash256::from(out)
}

/// Mainnet fork digests as seen on the network: phase0..Electra are the long-published values
/// (eth-clients/mainnet README has the genesis one), Fulu and its two BPO digests are the ones
/// mainnet peers advertise in their ENRs and gossip topics (`/eth2/8c9f62fe/...` since BPO2).
#[test]
fn mainnet_fork_digests() {
    let mainnet = Network::from_name("mainnet").unwrap();
    let cases = [
        (0, "b5303f2a"),
        (74_239, "b5303f2a"),
        (74_240, "afcaaba0"),
        (144_896, "4a26c58b"),
        (194_048, "bba4da96"),
        (269_568, "6a95a1a9"),
        (364_032, "ad532ceb"),
        (411_391, "ad532ceb"),
        // Fulu before BPO1: blob parameters are (ELECTRA_FORK_EPOCH, MAX_BLOBS_PER_BLOCK_ELECTRA).
        (411_392, "cc2c5cdb"),
        (412_671, "cc2c5cdb"),
        (412_672, "cb0d1acc"),
        (419_071, "cb0d1acc"),
        (419_072, "8c9f62fe"),
        (500_000, "8c9f62fe"),
    ];
    for (epoch, expected) in cases {
        assert_eq!(
            mainnet.fork_digest(epoch),
            Some(digest(expected)),
            "epoch {epoch}"
        );
    }
    // The "pre-genesis" digest (genesis version, zero root) from the same README.
    assert_eq!(
        compute_fork_digest_phase0([0, 0, 0, 0], Hash256::ZERO),
        digest("f5a5fd42")
    );
}

/// Hoodi's current digest as advertised by its peers (after BPO2): checks the vendored Hoodi
/// schedule and genesis validators root as much as the algorithm.
#[test]
fn hoodi_fork_digest() {
    let hoodi = Network::from_name("hoodi").unwrap();
    assert_eq!(hoodi.fork_digest(54_016), Some(digest("c6ecb76c")));
    assert_eq!(hoodi.fork_digest(200_000), Some(digest("c6ecb76c")));
}

/// Sepolia's digests as seen on its network: Deneb and Electra gossip topics, and the current
/// (post-BPO2) digest its peers advertise.
#[test]
fn sepolia_fork_digests() {
    let sepolia = Network::from_name("sepolia").unwrap();
    assert_eq!(sepolia.fork_digest(132_608), Some(digest("d31f6191")));
    assert_eq!(sepolia.fork_digest(222_464), Some(digest("14045b5a")));
    assert_eq!(sepolia.fork_digest(275_712), Some(digest("74d01459")));
    assert_eq!(sepolia.config.next_fork_epoch(272_640), 274_176);
}

/// `tests/core/pyspec/eth_consensus_specs/test/fulu/validator/test_compute_fork_digest.py` of
/// ethereum/consensus-specs at tag v1.7.0-alpha.13 (our vectors' version): `FULU_FORK_EPOCH: 0`,
/// a six-entry `BLOB_SCHEDULE`, and `compute_fork_version` overridden to return each case's
/// version (here: Fulu's version is set to it, with every fork active from epoch 0).
#[test]
fn spec_fulu_fork_digest_vectors() {
    let mut yaml = include_str!("../networks/minimal/config.yaml").to_owned();
    for fork in ["ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU"] {
        yaml = yaml.replace(
            &format!("{fork}_FORK_EPOCH: 18446744073709551615"),
            &format!("{fork}_FORK_EPOCH: 0"),
        );
    }
    let yaml = yaml.replace(
        "BLOB_SCHEDULE: []",
        "BLOB_SCHEDULE:
  - EPOCH: 9
    MAX_BLOBS_PER_BLOCK: 9
  - EPOCH: 100
    MAX_BLOBS_PER_BLOCK: 100
  - EPOCH: 150
    MAX_BLOBS_PER_BLOCK: 175
  - EPOCH: 200
    MAX_BLOBS_PER_BLOCK: 200
  - EPOCH: 250
    MAX_BLOBS_PER_BLOCK: 275
  - EPOCH: 300
    MAX_BLOBS_PER_BLOCK: 300",
    );
    let mut config = ChainConfig::from_yaml_str(&yaml).unwrap();
    assert_eq!(config.fulu_fork_epoch, 0);
    assert_eq!(config.blob_schedule.len(), 6);
    let cases: [(u64, &str, u8, &str); 26] = [
        (9, "06000000", 0, "ab3ae6c8"),
        (10, "06000000", 0, "ab3ae6c8"),
        (11, "06000000", 0, "ab3ae6c8"),
        (99, "06000000", 0, "ab3ae6c8"),
        (100, "06000000", 0, "df67557b"),
        (101, "06000000", 0, "df67557b"),
        (150, "06000000", 0, "8ab38b59"),
        (199, "06000000", 0, "8ab38b59"),
        (200, "06000000", 0, "d9b81438"),
        (201, "06000000", 0, "d9b81438"),
        (250, "06000000", 0, "4ef32a62"),
        (299, "06000000", 0, "4ef32a62"),
        (300, "06000000", 0, "ca100d64"),
        (301, "06000000", 0, "ca100d64"),
        (9, "06000000", 1, "89671111"),
        (9, "06000000", 2, "f49b0e24"),
        (9, "06000000", 3, "86544e4f"),
        (100, "06000000", 1, "fd3aa2a2"),
        (100, "06000000", 2, "80c6bd97"),
        (100, "06000000", 3, "f209fdfc"),
        (9, "06000001", 0, "30f8c25b"),
        (9, "07000000", 0, "0432f5a9"),
        (9, "07000001", 0, "6e69a671"),
        (100, "06000001", 0, "44a571e8"),
        (100, "07000000", 0, "706f461a"),
        (100, "07000001", 0, "1a3415c2"),
    ];
    for (epoch, version, root_byte, expected) in cases {
        config.fulu_fork_version = digest(version);
        let gvr = Hash256::repeat_byte(root_byte);
        assert_eq!(
            config.compute_fork_digest(gvr, epoch),
            digest(expected),
            "epoch {epoch}, version {version}, root byte {root_byte}"
        );
    }
}

#[test]
fn fork_schedule_of_mainnet() {
    let c = ChainConfig::mainnet();
    assert_eq!(c.fork_at_epoch(0), ForkName::Phase0);
    assert_eq!(c.fork_at_epoch(74_239), ForkName::Phase0);
    assert_eq!(c.fork_at_epoch(74_240), ForkName::Altair);
    assert_eq!(c.fork_at_epoch(364_031), ForkName::Deneb);
    assert_eq!(c.fork_at_epoch(364_032), ForkName::Electra);
    assert_eq!(c.fork_at_epoch(411_392), ForkName::Fulu);
    assert_eq!(c.fork_at_epoch(FAR_FUTURE_EPOCH), ForkName::Fulu);
    assert_eq!(c.fork_version(ForkName::Capella), [3, 0, 0, 0]);
    assert_eq!(c.fork_epoch(ForkName::Phase0), GENESIS_EPOCH);
    assert_eq!(c.compute_fork_version(269_568), [4, 0, 0, 0]);

    let spe = Mainnet::slots_per_epoch();
    assert_eq!(c.fork_for_slot(74_240 * spe - 1, spe), ForkName::Phase0);
    assert_eq!(c.fork_for_slot(74_240 * spe, spe), ForkName::Altair);
    assert_eq!(c.fork_for_slot(u64::MAX, 0), ForkName::Fulu);

    assert_eq!(
        c.state_fork(400_000),
        Fork {
            previous_version: [4, 0, 0, 0],
            current_version: [5, 0, 0, 0],
            epoch: 364_032
        }
    );
    assert_eq!(
        c.state_fork(5),
        Fork {
            previous_version: [0, 0, 0, 0],
            current_version: [0, 0, 0, 0],
            epoch: 0
        }
    );

    // Next forks: regular ones change the version, BPO ones only the epoch and digest.
    assert_eq!(c.next_fork(364_032), Some((ForkName::Fulu, 411_392)));
    assert_eq!(c.next_fork(411_392), None);
    assert_eq!(c.next_fork_epoch(364_032), 411_392);
    assert_eq!(c.next_fork_epoch(411_392), 412_672);
    assert_eq!(c.next_fork_epoch(412_672), 419_072);
    assert_eq!(c.next_fork_epoch(419_072), FAR_FUTURE_EPOCH);
    assert_eq!(c.next_fork_version(364_032), [6, 0, 0, 0]);
    assert_eq!(c.next_fork_version(412_000), [6, 0, 0, 0]);
    let gvr = Network::from_name("mainnet")
        .unwrap()
        .genesis
        .unwrap()
        .genesis_validators_root;
    assert_eq!(c.next_fork_digest(gvr, 412_000), digest("cb0d1acc"));
    assert_eq!(c.next_fork_digest(gvr, 419_072), [0, 0, 0, 0]);

    // Blob limits across Deneb, Electra and the schedule.
    assert_eq!(c.get_max_blobs_per_block(269_567), 0);
    assert_eq!(c.get_max_blobs_per_block(269_568), 6);
    assert_eq!(c.get_max_blobs_per_block(364_032), 9);
    assert_eq!(c.get_max_blobs_per_block(411_392), 9);
    assert_eq!(c.get_max_blobs_per_block(412_672), 15);
    assert_eq!(c.get_max_blobs_per_block(419_072), 21);
    assert_eq!(
        c.get_blob_parameters(411_392),
        BlobParameters {
            epoch: 364_032,
            max_blobs_per_block: 9
        }
    );
    assert_eq!(
        c.get_blob_parameters(u64::MAX),
        BlobParameters {
            epoch: 419_072,
            max_blobs_per_block: 21
        }
    );
}

#[test]
fn fork_schedule_with_shared_epochs() {
    // Hoodi starts at Deneb: Altair..Deneb share epoch 0.
    let c = Network::from_name("hoodi").unwrap().config;
    assert_eq!(c.fork_at_epoch(0), ForkName::Deneb);
    assert_eq!(c.fork_at_epoch(2048), ForkName::Electra);
    assert_eq!(c.fork_at_epoch(50_688), ForkName::Fulu);
    assert_eq!(
        c.state_fork(0),
        Fork {
            previous_version: [0x40, 0, 0x09, 0x10],
            current_version: [0x50, 0, 0x09, 0x10],
            epoch: 0
        }
    );
    assert_eq!(
        c.scheduled_forks(),
        vec![
            (ForkName::Phase0, 0),
            (ForkName::Altair, 0),
            (ForkName::Bellatrix, 0),
            (ForkName::Capella, 0),
            (ForkName::Deneb, 0),
            (ForkName::Electra, 2048),
            (ForkName::Fulu, 50_688),
        ]
    );
    assert_eq!(c.next_fork(0), Some((ForkName::Electra, 2048)));

    // The minimal spec config schedules nothing after phase0.
    let m = ChainConfig::minimal();
    assert_eq!(m.fork_at_epoch(1_000_000), ForkName::Phase0);
    assert_eq!(m.next_fork_epoch(0), FAR_FUTURE_EPOCH);
    assert_eq!(m.next_fork_version(0), m.genesis_fork_version);
    assert_eq!(
        m.fork_for_slot(80, Minimal::slots_per_epoch()),
        ForkName::Phase0
    );
}

#[test]
fn fork_names_round_trip() {
    for fork in ForkName::ALL {
        assert_eq!(fork.as_str().parse::<ForkName>(), Ok(fork));
    }
    assert!(ForkName::Phase0 < ForkName::Fulu);
}

#[test]
fn domains_against_known_values() {
    // The deposit domain every mainnet deposit tool hard-codes.
    assert_eq!(
        compute_fork_data_root([0, 0, 0, 0], Hash256::ZERO),
        root("f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b")
    );
    let expected_deposit_domain =
        root("03000000f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a9").0;
    assert_eq!(
        compute_domain(DOMAIN_DEPOSIT, [0, 0, 0, 0], Hash256::ZERO),
        expected_deposit_domain
    );
    assert_eq!(
        ChainConfig::mainnet().genesis_domain(DOMAIN_DEPOSIT),
        expected_deposit_domain
    );

    // get_domain switches to the previous version before the fork epoch.
    let fork = Fork {
        previous_version: [1, 0, 0, 0],
        current_version: [2, 0, 0, 0],
        epoch: 10,
    };
    let gvr = Hash256::repeat_byte(7);
    assert_eq!(
        get_domain(&fork, gvr, DOMAIN_RANDAO, 9),
        compute_domain(DOMAIN_RANDAO, [1, 0, 0, 0], gvr)
    );
    assert_eq!(
        get_domain(&fork, gvr, DOMAIN_RANDAO, 10),
        compute_domain(DOMAIN_RANDAO, [2, 0, 0, 0], gvr)
    );
    assert_eq!(
        get_domain(&fork, gvr, DOMAIN_RANDAO, 10)[..4],
        DOMAIN_RANDAO
    );
}

#[test]
fn signing_root_is_the_merkle_root_of_object_root_and_domain() {
    let domain = compute_domain(
        DOMAIN_BEACON_ATTESTER,
        [5, 0, 0, 0],
        Hash256::repeat_byte(9),
    );
    let checkpoint = Checkpoint {
        epoch: 123,
        root: Hash256::repeat_byte(0xab),
    };
    let object_root = tree_hash::TreeHash::tree_hash_root(&checkpoint);
    // SigningData has two 32-byte fields: its root is sha256(object_root ++ domain).
    let expected = Hash256::from(ethereum_hashing::hash32_concat(
        object_root.as_slice(),
        &domain,
    ));
    assert_eq!(compute_signing_root(&checkpoint, domain), expected);
    assert_eq!(
        compute_signing_root_from_root(object_root, domain),
        expected
    );
    // A root is its own hash_tree_root, so signing a root directly is the same thing.
    assert_eq!(compute_signing_root(&object_root, domain), expected);
}
