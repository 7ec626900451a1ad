//! The decode stage: gossip bytes → [`Decoded`] messages, on rayon, statelessly.
//!
//! Owns: topic parsing and the fork-digest → fork table, the gossip size limits (checked
//! *before* allocating: the snappy header's claimed length is read first), snappy block
//! decompression, SSZ decoding into the topic's type for the topic's fork, and the gossip
//! message-id. Input: [`RawMessage`]s; output: [`Decoded`] or a [`DecodeError`] that maps to a
//! gossip [`Verdict`].
//! Must not: read chain state or decide validity beyond the encoding (that is the verify stage).

use keel_config::ChainConfig;
use keel_pipeline_api::{
    Decoded, GossipKind, GossipMessage, GossipTopic, RawMessage, TopicError, Verdict,
};
use keel_types::ssz::Decode;
use keel_types::{ForkName, Hash256, Preset, SignedBeaconBlock};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use thiserror::Error;

/// Why a message could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error(transparent)]
    Topic(#[from] TopicError),
    #[error("fork digest {0:02x?} belongs to no fork of this chain")]
    UnknownForkDigest([u8; 4]),
    #[error("{what} of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        what: &'static str,
        len: u64,
        max: u64,
    },
    #[error("invalid snappy data: {0}")]
    Snappy(String),
    #[error("{kind}: invalid SSZ for {fork}: {reason}")]
    Ssz {
        kind: GossipKind,
        fork: ForkName,
        reason: String,
    },
    #[error("{kind} is not carried on {fork} topics")]
    NotInFork { kind: GossipKind, fork: ForkName },
    #[error("{0} messages are not processed by this node")]
    NotHandled(GossipKind),
}

impl DecodeError {
    /// The gossip verdict for a message that failed here: bad encoding is the sender's fault
    /// (reject); a topic we cannot place is not (ignore).
    pub fn verdict(&self) -> Verdict {
        match self {
            DecodeError::UnknownForkDigest(_) | DecodeError::NotHandled(_) => {
                Verdict::Ignore(self.to_string())
            }
            _ => Verdict::Reject(self.to_string()),
        }
    }
}

/// What decoding one message yields: the message (or why not) and its gossip message-id, which
/// gossipsub needs to report the verdict either way.
pub type DecodeOutcome<P> = (Result<Decoded<P>, DecodeError>, [u8; 20]);

/// The spec's `max_compressed_len`: snappy's worst case for `n` input bytes.
pub fn max_compressed_len(n: u64) -> u64 {
    n.saturating_add(n / 6).saturating_add(32)
}

/// Decodes gossip for one chain (its fork digests) and one preset.
pub struct GossipDecoder<P: Preset> {
    digests: HashMap<[u8; 4], ForkName>,
    max_payload_size: u64,
    domain_valid_snappy: [u8; 4],
    domain_invalid_snappy: [u8; 4],
    _preset: PhantomData<P>,
}

impl<P: Preset> GossipDecoder<P> {
    /// Knows the digest of every scheduled fork and of every blob-parameter change after Fulu.
    pub fn new(config: &ChainConfig, genesis_validators_root: Hash256) -> Self {
        let mut digests = HashMap::new();
        // Every epoch at which the digest changes: regular forks and blob-parameter changes. The
        // fork is the one active at that epoch (several may share an epoch on devnets).
        let epochs = config
            .scheduled_forks()
            .into_iter()
            .map(|(_, epoch)| epoch)
            .chain(config.blob_schedule.iter().map(|entry| entry.epoch));
        for epoch in epochs {
            let digest = config.compute_fork_digest(genesis_validators_root, epoch);
            digests.insert(digest, config.fork_at_epoch(epoch));
        }
        Self {
            digests,
            max_payload_size: config.max_payload_size,
            domain_valid_snappy: config.message_domain_valid_snappy,
            domain_invalid_snappy: config.message_domain_invalid_snappy,
            _preset: PhantomData,
        }
    }

    pub fn fork_of_digest(&self, digest: [u8; 4]) -> Option<ForkName> {
        self.digests.get(&digest).copied()
    }

    /// Decodes one message. The message-id is computed even when decoding fails later, as
    /// gossipsub needs it to report the verdict.
    pub fn decode(&self, raw: &RawMessage) -> DecodeOutcome<P> {
        let decompressed = self.decompress(&raw.data);
        let message_id = self.message_id(&raw.topic, decompressed.as_deref().ok(), &raw.data);
        let result = decompressed.and_then(|bytes| {
            let topic: GossipTopic = raw.topic.parse()?;
            let fork = self
                .fork_of_digest(topic.fork_digest)
                .ok_or(DecodeError::UnknownForkDigest(topic.fork_digest))?;
            let message = decode_message::<P>(topic.kind, fork, &bytes)?;
            Ok(Decoded {
                message,
                message_id,
                peer: raw.peer,
                received_at: raw.received_at,
            })
        });
        (result, message_id)
    }

    /// Decodes a batch on the current rayon pool, keeping the input order.
    pub fn decode_batch(&self, raws: &[RawMessage]) -> Vec<DecodeOutcome<P>> {
        raws.par_iter().map(|raw| self.decode(raw)).collect()
    }

    /// Snappy block decompression with the limits checked before any allocation.
    pub fn decompress(&self, data: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let max_compressed = max_compressed_len(self.max_payload_size);
        if data.len() as u64 > max_compressed {
            return Err(DecodeError::TooLarge {
                what: "compressed payload",
                len: data.len() as u64,
                max: max_compressed,
            });
        }
        let claimed =
            snap::raw::decompress_len(data).map_err(|e| DecodeError::Snappy(e.to_string()))?;
        if claimed as u64 > self.max_payload_size {
            return Err(DecodeError::TooLarge {
                what: "uncompressed payload",
                len: claimed as u64,
                max: self.max_payload_size,
            });
        }
        snap::raw::Decoder::new()
            .decompress_vec(data)
            .map_err(|e| DecodeError::Snappy(e.to_string()))
    }

    /// The Altair+ gossip message-id: over the decompressed data when it decompresses, over the
    /// raw data otherwise, with the topic length and topic mixed in.
    pub fn message_id(&self, topic: &str, decompressed: Option<&[u8]>, raw: &[u8]) -> [u8; 20] {
        let (domain, data) = match decompressed {
            Some(bytes) => (self.domain_valid_snappy, bytes),
            None => (self.domain_invalid_snappy, raw),
        };
        let mut hasher = Sha256::new();
        hasher.update(domain);
        hasher.update((topic.len() as u64).to_le_bytes());
        hasher.update(topic.as_bytes());
        hasher.update(data);
        let digest = hasher.finalize();
        let mut id = [0u8; 20];
        id.copy_from_slice(&digest[..20]);
        id
    }
}

fn ssz<T: Decode>(kind: GossipKind, fork: ForkName, bytes: &[u8]) -> Result<Arc<T>, DecodeError> {
    T::from_ssz_bytes(bytes)
        .map(Arc::new)
        .map_err(|e| DecodeError::Ssz {
            kind,
            fork,
            reason: format!("{e:?}"),
        })
}

/// The topic's type for the topic's fork. Keel processes Electra onwards: earlier forks' gossip
/// types are not decoded.
fn decode_message<P: Preset>(
    kind: GossipKind,
    fork: ForkName,
    bytes: &[u8],
) -> Result<GossipMessage<P>, DecodeError> {
    use keel_types::{altair, capella, deneb, electra, fulu, phase0};
    let not_in_fork = || DecodeError::NotInFork { kind, fork };
    let post_electra = fork >= ForkName::Electra;
    Ok(match kind {
        GossipKind::BeaconBlock => GossipMessage::Block(Arc::new(
            SignedBeaconBlock::from_ssz_bytes_for_fork(bytes, fork).map_err(|e| {
                DecodeError::Ssz {
                    kind,
                    fork,
                    reason: format!("{e:?}"),
                }
            })?,
        )),
        _ if !post_electra => return Err(not_in_fork()),
        GossipKind::BeaconAggregateAndProof => {
            GossipMessage::Aggregate(ssz::<electra::SignedAggregateAndProof<P>>(
                kind, fork, bytes,
            )?)
        }
        GossipKind::BeaconAttestation(subnet) => GossipMessage::Attestation {
            subnet,
            attestation: ssz::<electra::SingleAttestation>(kind, fork, bytes)?,
        },
        GossipKind::VoluntaryExit => {
            GossipMessage::VoluntaryExit(ssz::<phase0::SignedVoluntaryExit>(kind, fork, bytes)?)
        }
        GossipKind::ProposerSlashing => {
            GossipMessage::ProposerSlashing(ssz::<phase0::ProposerSlashing>(kind, fork, bytes)?)
        }
        GossipKind::AttesterSlashing => {
            GossipMessage::AttesterSlashing(ssz::<electra::AttesterSlashing<P>>(kind, fork, bytes)?)
        }
        GossipKind::SyncCommitteeContributionAndProof => {
            GossipMessage::SyncContribution(ssz::<altair::SignedContributionAndProof<P>>(
                kind, fork, bytes,
            )?)
        }
        GossipKind::SyncCommittee(subnet) => GossipMessage::SyncMessage {
            subnet,
            message: ssz::<altair::SyncCommitteeMessage>(kind, fork, bytes)?,
        },
        GossipKind::BlsToExecutionChange => {
            GossipMessage::BlsToExecutionChange(ssz::<capella::SignedBLSToExecutionChange>(
                kind, fork, bytes,
            )?)
        }
        GossipKind::BlobSidecar(subnet) if fork < ForkName::Fulu => GossipMessage::BlobSidecar {
            subnet,
            sidecar: ssz::<deneb::BlobSidecar<P>>(kind, fork, bytes)?,
        },
        GossipKind::DataColumnSidecar(subnet) if fork >= ForkName::Fulu => {
            GossipMessage::DataColumnSidecar {
                subnet,
                sidecar: ssz::<fulu::DataColumnSidecar<P>>(kind, fork, bytes)?,
            }
        }
        GossipKind::BlobSidecar(_) | GossipKind::DataColumnSidecar(_) => return Err(not_in_fork()),
        GossipKind::LightClientFinalityUpdate | GossipKind::LightClientOptimisticUpdate => {
            return Err(DecodeError::NotHandled(kind));
        }
    })
}
