//! The node's side of the network service: gossip into the verify stage (through a bounded
//! ingest queue, so that a full pipeline sheds at the network edge instead of blocking the
//! swarm), Status from the latest snapshot, and req/resp answers from store read transactions.

use crossbeam_channel::{Sender, TrySendError, bounded};
use keel_config::ChainConfig;
use keel_decode::GossipDecoder;
use keel_p2p::rpc::Chunk;
use keel_p2p::{EnrFields, Family, Limits, NetworkApp, NetworkConfig, ResponseCode};
use keel_pipeline_api::{GossipKind, GossipTopic, RawMessage, SnapshotCell};
use keel_state_transition::accessors::compute_epoch_at_slot;
use keel_store::Store;
use keel_types::fulu::{MetaData, StatusV2};
use keel_types::phase0::{BeaconBlocksByRangeRequest, ENRForkID};
use keel_types::ssz::{Decode, Encode};
use keel_types::{Hash256, Preset};
use keel_verify::VerifyStage;
use std::sync::Arc;

/// Gossip messages waiting for the verify stage; beyond this the network sheds (ignores) them.
const INGEST_CAPACITY: usize = 8192;

pub struct NodeNetwork<P: Preset> {
    config: Arc<ChainConfig>,
    snapshots: Arc<SnapshotCell<P>>,
    store: Arc<Store<P>>,
    ingest: Sender<RawMessage>,
}

impl<P: Preset> NodeNetwork<P> {
    /// Starts the ingest thread feeding `stage`.
    pub fn new(
        config: Arc<ChainConfig>,
        snapshots: Arc<SnapshotCell<P>>,
        store: Arc<Store<P>>,
        stage: Arc<VerifyStage<P>>,
    ) -> std::io::Result<Self> {
        let (ingest, queue) = bounded::<RawMessage>(INGEST_CAPACITY);
        std::thread::Builder::new()
            .name("keel-gossip-ingest".into())
            .spawn(move || {
                // Ends when the network (the only sender) is dropped.
                for raw in queue {
                    stage.submit(raw);
                }
            })?;
        Ok(Self {
            config,
            snapshots,
            store,
            ingest,
        })
    }

    fn digest_at_slot(&self, slot: u64) -> [u8; 4] {
        let root = self.snapshots.load().genesis_validators_root;
        self.config
            .compute_fork_digest(root, compute_epoch_at_slot::<P>(slot))
    }

    fn block_chunk(&self, read: &keel_store::ReadView<'_, P>, root: &Hash256) -> Option<Chunk> {
        let block = read.block(root).ok()??;
        Some(Chunk::Success {
            context: self.digest_at_slot(block.message().slot()),
            ssz: block.as_ssz_bytes(),
        })
    }

    fn blocks_by_range(&self, request: &[u8]) -> Vec<Chunk> {
        let Ok(request) = BeaconBlocksByRangeRequest::from_ssz_bytes(request) else {
            return invalid("malformed BeaconBlocksByRange request");
        };
        let count = request.count.min(self.config.max_request_blocks_deneb);
        let Ok(read) = self.store.read() else {
            return server_error();
        };
        (request.start_slot..request.start_slot.saturating_add(count))
            .filter_map(|slot| read.block_root_at_slot(slot).ok().flatten())
            .filter_map(|root| self.block_chunk(&read, &root))
            .collect()
    }

    fn blocks_by_root(&self, request: &[u8]) -> Vec<Chunk> {
        if !request.len().is_multiple_of(32)
            || (request.len() / 32) as u64 > self.config.max_request_blocks_deneb
        {
            return invalid("malformed BeaconBlocksByRoot request");
        }
        let Ok(read) = self.store.read() else {
            return server_error();
        };
        request
            .chunks_exact(32)
            .filter_map(|root| self.block_chunk(&read, &Hash256::from_slice(root)))
            .collect()
    }
}

fn invalid(message: &str) -> Vec<Chunk> {
    vec![Chunk::Error {
        code: ResponseCode::InvalidRequest,
        message: message.into(),
    }]
}

fn server_error() -> Vec<Chunk> {
    vec![Chunk::Error {
        code: ResponseCode::ServerError,
        message: "database unavailable".into(),
    }]
}

impl<P: Preset> NetworkApp for NodeNetwork<P> {
    fn gossip(&self, raw: RawMessage) -> bool {
        match self.ingest.try_send(raw) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    fn status(&self) -> StatusV2 {
        let snapshot = self.snapshots.load();
        StatusV2 {
            fork_digest: self.digest_at_slot(snapshot.current_slot),
            finalized_root: snapshot.finalized.root,
            finalized_epoch: snapshot.finalized.epoch,
            head_root: snapshot.head.block_root,
            head_slot: snapshot.head.slot,
            earliest_available_slot: keel_core::backfill_frontier(&self.store)
                .ok()
                .flatten()
                .map_or(0, |f| f.slot),
        }
    }

    fn check_status(&self, status: &StatusV2) -> Result<(), String> {
        let snapshot = self.snapshots.load();
        let ours = self.digest_at_slot(snapshot.current_slot);
        if status.fork_digest != ours {
            return Err(format!(
                "fork digest {} is not ours ({})",
                hex(&status.fork_digest),
                hex(&ours)
            ));
        }
        if status.finalized_epoch == snapshot.finalized.epoch
            && status.finalized_epoch > 0
            && status.finalized_root != snapshot.finalized.root
        {
            return Err("a different finalized checkpoint".into());
        }
        Ok(())
    }

    fn serve(&self, family: Family, request: &[u8]) -> Vec<Chunk> {
        match family {
            Family::BlocksByRange => self.blocks_by_range(request),
            Family::BlocksByRoot => self.blocks_by_root(request),
            // Keel's devnet blocks carry no blobs; sidecars are not stored yet.
            _ => Vec::new(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every topic a dev node subscribes to (all subnets: a devnet is small).
pub fn dev_topics(digest: [u8; 4], config: &ChainConfig) -> Vec<String> {
    let mut kinds = vec![
        GossipKind::BeaconBlock,
        GossipKind::BeaconAggregateAndProof,
        GossipKind::VoluntaryExit,
        GossipKind::ProposerSlashing,
        GossipKind::AttesterSlashing,
        GossipKind::SyncCommitteeContributionAndProof,
        GossipKind::BlsToExecutionChange,
    ];
    kinds.extend((0..config.attestation_subnet_count).map(GossipKind::BeaconAttestation));
    kinds.extend((0..4).map(GossipKind::SyncCommittee));
    kinds
        .into_iter()
        .map(|kind| {
            GossipTopic {
                fork_digest: digest,
                kind,
            }
            .to_string()
        })
        .collect()
}

/// The network configuration of a node on `config`'s chain at `epoch`.
pub fn network_config(
    config: &ChainConfig,
    genesis_validators_root: Hash256,
    epoch: u64,
    secret: [u8; 32],
    decoder: GossipDecoder<impl Preset>,
) -> NetworkConfig {
    let digest = config.compute_fork_digest(genesis_validators_root, epoch);
    let enr_fork_id = ENRForkID {
        fork_digest: digest,
        next_fork_version: config.next_fork_version(epoch),
        next_fork_epoch: config.next_fork_epoch(epoch),
    };
    let all_subnets = vec![0xffu8; (config.attestation_subnet_count as usize).div_ceil(8)];
    let custody_group_count = config.custody_requirement;
    let mut metadata = MetaData {
        seq_number: 1,
        custody_group_count,
        ..MetaData::default()
    };
    for subnet in 0..config.attestation_subnet_count as usize {
        let _ = metadata.attnets.set(subnet, true);
    }
    NetworkConfig {
        listen_address: std::net::IpAddr::from([127, 0, 0, 1]),
        tcp_port: 0,
        quic_port: None,
        discovery_port: None,
        boot_nodes: Vec::new(),
        static_peers: Vec::new(),
        target_peers: 50,
        max_inbound: 80,
        secret,
        enr_fields: EnrFields {
            eth2: enr_fork_id.as_ssz_bytes(),
            attnets: all_subnets,
            syncnets: vec![0x0f],
            custody_group_count,
            next_fork_digest: config.next_fork_digest(genesis_validators_root, epoch),
        },
        metadata,
        limits: Limits {
            max_payload_size: config.max_payload_size,
            max_request_blocks: config.max_request_blocks_deneb,
            // MAX_REQUEST_BLOB_SIDECARS_ELECTRA and MAX_REQUEST_DATA_COLUMN_SIDECARS, as the
            // spec derives them (NUMBER_OF_COLUMNS = 128).
            max_request_blob_sidecars: config.max_request_blocks_deneb
                * config.max_blobs_per_block_electra,
            max_request_data_column_sidecars: config.max_request_blocks_deneb * 128,
        },
        ban_duration: std::time::Duration::from_secs(1800),
        message_id: Arc::new(move |topic, data| {
            decoder.message_id(topic, decoder.decompress(data).ok().as_deref(), data)
        }),
        topics: dev_topics(digest, config),
        gossip_heartbeat: std::time::Duration::from_millis(700),
    }
}
