//! Node identity and discv5 discovery: the persistent secp256k1 key (shared by the ENR and the
//! libp2p identity, as the consensus p2p spec requires), the ENR with its consensus fields, and
//! the conversions from an ENR to a libp2p peer id and dial addresses.

use alloy_rlp::Bytes;
use enr::{CombinedKey, CombinedPublicKey};
use libp2p::identity::{Keypair, PeerId, secp256k1};
use libp2p::multiaddr::{Multiaddr, Protocol};
use std::net::IpAddr;
use std::path::Path;

/// The ENR as discv5 uses it.
pub type Enr = enr::Enr<CombinedKey>;

/// What the consensus fields of the ENR say (their values are computed by the node, which knows
/// the fork schedule; this crate only carries them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrFields {
    /// `eth2`: SSZ `ENRForkID`.
    pub eth2: Vec<u8>,
    /// `attnets`: SSZ `Bitvector[ATTESTATION_SUBNET_COUNT]`.
    pub attnets: Vec<u8>,
    /// `syncnets`: SSZ `Bitvector[SYNC_COMMITTEE_SUBNET_COUNT]`.
    pub syncnets: Vec<u8>,
    /// `cgc`: the custody group count.
    pub custody_group_count: u64,
    /// `nfd`: the next fork digest.
    pub next_fork_digest: [u8; 4],
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("node key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("building the ENR: {0}")]
    Enr(String),
}

/// The node's secp256k1 secret, loaded from `path` or generated there (mode 0600) on first start,
/// so that the node keeps its peer id and ENR across restarts.
pub fn load_or_generate_key(path: &Path) -> Result<[u8; 32], IdentityError> {
    let fail = |reason: String| IdentityError::Key {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).map_err(|e| fail(format!("not hex: {e}")))?;
            let secret: [u8; 32] = bytes.try_into().map_err(|_| fail("not 32 bytes".into()))?;
            // Refuse a key libp2p or discv5 would refuse, now rather than later.
            secp256k1::SecretKey::try_from_bytes(secret)
                .map_err(|e| fail(format!("not a secp256k1 secret: {e}")))?;
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = secp256k1::SecretKey::generate();
            let secret = key.to_bytes();
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            }
            write_private(path, &hex::encode(secret)).map_err(|e| fail(e.to_string()))?;
            Ok(secret)
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The libp2p identity for the secret.
pub fn libp2p_keypair(secret: [u8; 32]) -> Result<Keypair, IdentityError> {
    let key = secp256k1::SecretKey::try_from_bytes(secret).map_err(|e| IdentityError::Key {
        path: String::new(),
        reason: e.to_string(),
    })?;
    Ok(Keypair::from(secp256k1::Keypair::from(key)))
}

/// The discv5 key for the secret.
pub fn enr_key(secret: [u8; 32]) -> Result<CombinedKey, IdentityError> {
    let mut bytes = secret;
    CombinedKey::secp256k1_from_bytes(&mut bytes).map_err(|e| IdentityError::Key {
        path: String::new(),
        reason: e.to_string(),
    })
}

/// The discv5 node id of the secret's key: the `node_id` the spec's subnet and custody
/// functions take (big-endian uint256).
pub fn node_id(secret: [u8; 32]) -> Result<[u8; 32], IdentityError> {
    use enr::EnrKey;
    Ok(enr::NodeId::from(enr_key(secret)?.public()).raw())
}

/// Where the node is reachable.
#[derive(Debug, Clone, Copy)]
pub struct Endpoints {
    pub ip: IpAddr,
    pub tcp: u16,
    pub udp: u16,
    pub quic: Option<u16>,
}

/// The node's ENR with the consensus fields.
pub fn build_enr(
    key: &CombinedKey,
    endpoints: Endpoints,
    fields: &EnrFields,
    seq: u64,
) -> Result<Enr, IdentityError> {
    let mut builder = Enr::builder();
    builder.seq(seq).ip(endpoints.ip);
    match endpoints.ip {
        IpAddr::V4(_) => builder.tcp4(endpoints.tcp).udp4(endpoints.udp),
        IpAddr::V6(_) => builder.tcp6(endpoints.tcp).udp6(endpoints.udp),
    };
    if let Some(quic) = endpoints.quic {
        builder.add_value("quic", &quic);
    }
    builder
        .add_value("eth2", &Bytes::from(fields.eth2.clone()))
        .add_value("attnets", &Bytes::from(fields.attnets.clone()))
        .add_value("syncnets", &Bytes::from(fields.syncnets.clone()))
        .add_value("cgc", &fields.custody_group_count)
        .add_value("nfd", &Bytes::from(fields.next_fork_digest.to_vec()));
    builder
        .build(key)
        .map_err(|e| IdentityError::Enr(e.to_string()))
}

/// The libp2p peer id of the ENR's key (secp256k1 only, as the consensus spec requires).
pub fn peer_id_of(enr: &Enr) -> Option<PeerId> {
    match enr.public_key() {
        CombinedPublicKey::Secp256k1(key) => {
            let compressed = enr::EnrPublicKey::encode(&key);
            let public = secp256k1::PublicKey::try_from_bytes(compressed.as_ref()).ok()?;
            Some(PeerId::from_public_key(&libp2p::identity::PublicKey::from(
                public,
            )))
        }
        _ => None,
    }
}

/// The addresses to dial the ENR's node at: TCP, and QUIC where it announces it.
pub fn dial_addresses(enr: &Enr) -> Vec<Multiaddr> {
    let mut out = Vec::new();
    if let Some(ip) = enr.ip4() {
        if let Some(tcp) = enr.tcp4() {
            out.push(
                Multiaddr::empty()
                    .with(Protocol::Ip4(ip))
                    .with(Protocol::Tcp(tcp)),
            );
        }
        if let Some(Ok(quic)) = enr.get_decodable::<u16>("quic") {
            out.push(
                Multiaddr::empty()
                    .with(Protocol::Ip4(ip))
                    .with(Protocol::Udp(quic))
                    .with(Protocol::QuicV1),
            );
        }
    }
    out
}

/// The ENR's `attnets` and `syncnets` bitfields (empty where absent).
pub fn enr_subnets(enr: &Enr) -> (Vec<u8>, Vec<u8>) {
    let field = |key: &str| {
        enr.get_decodable::<Bytes>(key)
            .and_then(Result::ok)
            .map(|b| b.to_vec())
            .unwrap_or_default()
    };
    (field("attnets"), field("syncnets"))
}

/// The ENR's `eth2` field: the SSZ `ENRForkID`, whose first 4 bytes are the fork digest.
pub fn enr_fork_digest(enr: &Enr) -> Option<[u8; 4]> {
    let bytes = enr.get_decodable::<Bytes>("eth2")?.ok()?;
    bytes.get(..4)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> EnrFields {
        EnrFields {
            eth2: vec![
                1, 2, 3, 4, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            attnets: vec![0; 8],
            syncnets: vec![0],
            custody_group_count: 4,
            next_fork_digest: [9, 9, 9, 9],
        }
    }

    #[test]
    fn the_enr_and_libp2p_share_the_identity() {
        let secret = secp256k1::SecretKey::generate().to_bytes();
        let key = enr_key(secret).unwrap();
        let endpoints = Endpoints {
            ip: IpAddr::from([127, 0, 0, 1]),
            tcp: 9000,
            udp: 9001,
            quic: Some(9002),
        };
        let enr = build_enr(&key, endpoints, &fields(), 1).unwrap();
        let libp2p = libp2p_keypair(secret).unwrap();
        assert_eq!(peer_id_of(&enr), Some(libp2p.public().to_peer_id()));
        assert_eq!(enr_fork_digest(&enr), Some([1, 2, 3, 4]));
        assert_eq!(enr.get_decodable::<u64>("cgc").unwrap().unwrap(), 4);
        let addresses = dial_addresses(&enr);
        assert_eq!(addresses.len(), 2);
        assert_eq!(addresses[0].to_string(), "/ip4/127.0.0.1/tcp/9000");
        assert_eq!(addresses[1].to_string(), "/ip4/127.0.0.1/udp/9002/quic-v1");
        // A round trip through the text form keeps every field.
        let parsed: Enr = enr.to_base64().parse().unwrap();
        assert_eq!(parsed, enr);
    }

    #[test]
    fn the_key_file_persists_and_bad_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("keel-p2p-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("key");
        let first = load_or_generate_key(&path).unwrap();
        assert_eq!(load_or_generate_key(&path).unwrap(), first);
        std::fs::write(&path, "zz").unwrap();
        assert!(load_or_generate_key(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
