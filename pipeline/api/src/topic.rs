//! Gossip topics: `/eth2/<fork_digest>/<name>/ssz_snappy`.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// What a topic carries (the `<name>` part), with its subnet where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GossipKind {
    BeaconBlock,
    BeaconAggregateAndProof,
    BeaconAttestation(u64),
    VoluntaryExit,
    ProposerSlashing,
    AttesterSlashing,
    SyncCommitteeContributionAndProof,
    SyncCommittee(u64),
    BlsToExecutionChange,
    BlobSidecar(u64),
    DataColumnSidecar(u64),
    LightClientFinalityUpdate,
    LightClientOptimisticUpdate,
}

const PLAIN: [(&str, GossipKind); 9] = [
    ("beacon_block", GossipKind::BeaconBlock),
    (
        "beacon_aggregate_and_proof",
        GossipKind::BeaconAggregateAndProof,
    ),
    ("voluntary_exit", GossipKind::VoluntaryExit),
    ("proposer_slashing", GossipKind::ProposerSlashing),
    ("attester_slashing", GossipKind::AttesterSlashing),
    (
        "sync_committee_contribution_and_proof",
        GossipKind::SyncCommitteeContributionAndProof,
    ),
    ("bls_to_execution_change", GossipKind::BlsToExecutionChange),
    (
        "light_client_finality_update",
        GossipKind::LightClientFinalityUpdate,
    ),
    (
        "light_client_optimistic_update",
        GossipKind::LightClientOptimisticUpdate,
    ),
];

/// A topic kind that carries a subnet number.
type WithSubnet = fn(u64) -> GossipKind;

const SUBNETTED: [(&str, WithSubnet); 4] = [
    ("beacon_attestation_", GossipKind::BeaconAttestation),
    ("sync_committee_", GossipKind::SyncCommittee),
    ("blob_sidecar_", GossipKind::BlobSidecar),
    ("data_column_sidecar_", GossipKind::DataColumnSidecar),
];

impl GossipKind {
    fn parse(name: &str) -> Option<Self> {
        if let Some((_, kind)) = PLAIN.iter().find(|(n, _)| *n == name) {
            return Some(*kind);
        }
        SUBNETTED.iter().find_map(|(prefix, make)| {
            let subnet = name.strip_prefix(prefix)?;
            // Canonical decimal only: no sign, no leading zeros, so each topic has one spelling.
            if subnet.is_empty() || (subnet.len() > 1 && subnet.starts_with('0')) {
                return None;
            }
            subnet
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| subnet.parse().ok().map(make))?
        })
    }
}

impl fmt::Display for GossipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subnetted = |prefix: &str, subnet: &u64| format!("{prefix}{subnet}");
        let name = match self {
            GossipKind::BeaconAttestation(s) => subnetted("beacon_attestation_", s),
            GossipKind::SyncCommittee(s) => subnetted("sync_committee_", s),
            GossipKind::BlobSidecar(s) => subnetted("blob_sidecar_", s),
            GossipKind::DataColumnSidecar(s) => subnetted("data_column_sidecar_", s),
            plain => PLAIN
                .iter()
                .find(|(_, k)| k == plain)
                .map(|(n, _)| (*n).to_string())
                .unwrap_or_default(),
        };
        f.write_str(&name)
    }
}

/// A parsed gossip topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GossipTopic {
    pub fork_digest: [u8; 4],
    pub kind: GossipKind,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TopicError {
    #[error("topic {0:?} is not /eth2/<digest>/<name>/ssz_snappy")]
    Malformed(String),
    #[error("topic {0:?} names no known message")]
    UnknownName(String),
}

impl FromStr for GossipTopic {
    type Err = TopicError;

    fn from_str(topic: &str) -> Result<Self, Self::Err> {
        let malformed = || TopicError::Malformed(topic.to_string());
        let mut parts = topic.split('/');
        let (Some(""), Some("eth2"), Some(digest), Some(name), Some("ssz_snappy"), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(malformed());
        };
        let mut fork_digest = [0u8; 4];
        if digest.len() != 8 || hex_decode(digest, &mut fork_digest).is_none() {
            return Err(malformed());
        }
        let kind = GossipKind::parse(name).ok_or_else(|| TopicError::UnknownName(topic.into()))?;
        Ok(GossipTopic { fork_digest, kind })
    }
}

fn hex_decode(s: &str, out: &mut [u8; 4]) -> Option<()> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    for (byte, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
        let [hi, lo] = pair else { return None };
        *byte = (digit(*hi)? << 4) | digit(*lo)?;
    }
    Some(())
}

impl fmt::Display for GossipTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.fork_digest;
        write!(
            f,
            "/eth2/{a:02x}{b:02x}{c:02x}{d:02x}/{}/ssz_snappy",
            self.kind
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip() {
        for name in [
            "beacon_block",
            "beacon_attestation_63",
            "data_column_sidecar_127",
            "sync_committee_3",
            "bls_to_execution_change",
        ] {
            let text = format!("/eth2/cc2c5cdb/{name}/ssz_snappy");
            let topic: GossipTopic = text.parse().unwrap();
            assert_eq!(topic.fork_digest, [0xcc, 0x2c, 0x5c, 0xdb]);
            assert_eq!(topic.to_string(), text);
        }
    }

    #[test]
    fn malformed_topics_are_refused() {
        for bad in [
            "/eth2/cc2c5cdb/beacon_block/ssz",
            "/eth2/cc2c5c/beacon_block/ssz_snappy",
            "/eth2/CC2C5CDB/beacon_block/ssz_snappy",
            "/eth2/cc2c5cdb/beacon_attestation_/ssz_snappy",
            "/eth2/cc2c5cdb/beacon_attestation_01/ssz_snappy",
            "/eth2/cc2c5cdb/beacon_attestation_+1/ssz_snappy",
            "/eth2/cc2c5cdb/no_such_thing/ssz_snappy",
            "/eth2/cc2c5cdb/beacon_block/ssz_snappy/extra",
        ] {
            assert!(bad.parse::<GossipTopic>().is_err(), "{bad} was accepted");
        }
    }
}
