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
use keel_types::fulu::{
    DataColumnSidecarsByRangeRequest, DataColumnSidecarsByRootRequest, MetaData, StatusV2,
};
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

impl<P: Preset> NodeNetwork<P> {
    /// `MAX_REQUEST_DATA_COLUMN_SIDECARS`: sidecars per answer, at most.
    fn max_columns(&self) -> usize {
        usize::try_from(request_limits::<P>(&self.config).max_request_data_column_sidecars)
            .unwrap_or(usize::MAX)
    }

    fn column_chunk(
        &self,
        read: &keel_store::ReadView<'_, P>,
        root: &Hash256,
        slot: u64,
        index: u64,
    ) -> Option<Chunk> {
        let ssz = read.data_column(root, index).ok()??;
        Some(Chunk::Success {
            context: self.digest_at_slot(slot),
            ssz,
        })
    }

    fn columns_by_range(&self, request: &[u8]) -> Vec<Chunk> {
        let Ok(request) = DataColumnSidecarsByRangeRequest::<P>::from_ssz_bytes(request) else {
            return invalid("malformed DataColumnSidecarsByRange request");
        };
        let count = request.count.min(self.config.max_request_blocks_deneb);
        let Ok(read) = self.store.read() else {
            return server_error();
        };
        let mut chunks = Vec::new();
        for slot in request.start_slot..request.start_slot.saturating_add(count) {
            let Some(root) = read.block_root_at_slot(slot).ok().flatten() else {
                continue;
            };
            for index in request.columns.iter() {
                if chunks.len() >= self.max_columns() {
                    return chunks;
                }
                chunks.extend(self.column_chunk(&read, &root, slot, *index));
            }
        }
        chunks
    }

    fn columns_by_root(&self, request: &[u8]) -> Vec<Chunk> {
        let Ok(request) = DataColumnSidecarsByRootRequest::<P>::from_ssz_bytes(request) else {
            return invalid("malformed DataColumnSidecarsByRoot request");
        };
        let Ok(read) = self.store.read() else {
            return server_error();
        };
        let mut chunks = Vec::new();
        for id in request.iter() {
            // The context bytes are the digest at the block's slot.
            let Some(slot) = read
                .block(&id.block_root)
                .ok()
                .flatten()
                .map(|block| block.message().slot())
            else {
                continue;
            };
            for index in id.columns.iter() {
                if chunks.len() >= self.max_columns() {
                    return chunks;
                }
                chunks.extend(self.column_chunk(&read, &id.block_root, slot, *index));
            }
        }
        chunks
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
            Family::DataColumnSidecarsByRange => self.columns_by_range(request),
            Family::DataColumnSidecarsByRoot => self.columns_by_root(request),
            // Blob sidecars ended with Fulu; a Fulu node keeps none to serve.
            _ => Vec::new(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How this node takes part in the network (from the command line).
#[derive(Debug, Clone)]
pub struct P2pOptions {
    pub listen_address: std::net::IpAddr,
    pub tcp_port: u16,
    pub quic_port: Option<u16>,
    /// None: no discovery.
    pub discovery_port: Option<u16>,
    pub boot_nodes: Vec<keel_p2p::Enr>,
    pub static_peers: Vec<keel_p2p::Multiaddr>,
    pub target_peers: usize,
    /// Every attestation and sync-committee subnet, as large operators run (and a devnet).
    pub subscribe_all_subnets: bool,
}

/// The gossip subnets a node subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnets {
    pub attestation: Vec<u64>,
    pub sync_committee: Vec<u64>,
    /// The subnets of the columns this node custodies (`CUSTODY_REQUIREMENT` groups).
    pub data_column: Vec<u64>,
    /// The columns themselves.
    pub custody_columns: Vec<u64>,
}

impl Subnets {
    /// All of them, or the spec's node-id based share (`compute_subscribed_subnets`); sync
    /// committee subnets only when asked for all (a node without validators needs none).
    pub fn for_node<P: Preset>(
        config: &ChainConfig,
        node_id: [u8; 32],
        epoch: u64,
        all: bool,
    ) -> Self {
        let custody_columns = custody_columns::<P>(config, node_id);
        let mut data_column: Vec<u64> = custody_columns
            .iter()
            .filter_map(|column| {
                keel_state_transition::fulu::p2p_interface::compute_subnet_for_data_column_sidecar(
                    config, *column,
                )
            })
            .collect();
        data_column.sort_unstable();
        data_column.dedup();
        if all {
            return Subnets {
                attestation: (0..config.attestation_subnet_count).collect(),
                sync_committee: (0..SYNC_COMMITTEE_SUBNET_COUNT).collect(),
                data_column,
                custody_columns,
            };
        }
        let attestation = keel_state_transition::subnets::compute_subscribed_subnets::<P>(
            config, node_id, epoch,
        )
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot compute the node's subnets; taking subnet 0");
            vec![0]
        });
        Subnets {
            attestation,
            sync_committee: Vec::new(),
            data_column,
            custody_columns,
        }
    }
}

/// The columns of the node's custody groups (das-core `get_custody_groups`, then
/// `compute_columns_for_custody_group`), sorted.
fn custody_columns<P: Preset>(config: &ChainConfig, node_id: [u8; 32]) -> Vec<u64> {
    use keel_state_transition::fulu::das_core::{
        compute_columns_for_custody_group, get_custody_groups,
    };
    let node_id = keel_types::Uint256::from_be_bytes(node_id);
    let groups = match get_custody_groups(config, node_id, config.custody_requirement) {
        Ok(groups) => groups,
        Err(e) => {
            tracing::warn!(error = %e, "cannot compute the node's custody groups");
            return Vec::new();
        }
    };
    let mut columns: Vec<u64> = groups
        .into_iter()
        .filter_map(|group| compute_columns_for_custody_group::<P>(config, group).ok())
        .flatten()
        .collect();
    columns.sort_unstable();
    columns.dedup();
    columns
}

/// `SYNC_COMMITTEE_SUBNET_COUNT` (altair p2p-interface).
const SYNC_COMMITTEE_SUBNET_COUNT: u64 = 4;

/// Every topic of `digest` this node subscribes to.
pub fn topics(digest: [u8; 4], subnets: &Subnets) -> Vec<String> {
    let mut kinds = vec![
        GossipKind::BeaconBlock,
        GossipKind::BeaconAggregateAndProof,
        GossipKind::VoluntaryExit,
        GossipKind::ProposerSlashing,
        GossipKind::AttesterSlashing,
        GossipKind::SyncCommitteeContributionAndProof,
        GossipKind::BlsToExecutionChange,
    ];
    kinds.extend(
        subnets
            .attestation
            .iter()
            .map(|s| GossipKind::BeaconAttestation(*s)),
    );
    kinds.extend(
        subnets
            .sync_committee
            .iter()
            .map(|s| GossipKind::SyncCommittee(*s)),
    );
    kinds.extend(
        subnets
            .data_column
            .iter()
            .map(|s| GossipKind::DataColumnSidecar(*s)),
    );
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

/// The fork digests whose topics a node should be subscribed to at `epoch`: the current one,
/// the next ones up to two epochs ahead (subscribed before a fork or blob-parameter change so
/// that the mesh is ready when it happens), and the previous ones up to two epochs back (kept a
/// little while for late messages).
pub fn digests_around(
    config: &ChainConfig,
    genesis_validators_root: Hash256,
    epoch: u64,
) -> Vec<[u8; 4]> {
    let mut digests: Vec<[u8; 4]> = (epoch.saturating_sub(2)..=epoch.saturating_add(2))
        .map(|e| config.compute_fork_digest(genesis_validators_root, e))
        .collect();
    digests.dedup();
    digests
}

/// Keeps the node's gossip subscriptions on the digests around the current epoch, so that
/// topics rotate at fork and blob-parameter boundaries.
pub async fn rotate_topics<P: Preset>(
    network: keel_p2p::NetworkHandle,
    config: Arc<ChainConfig>,
    snapshots: Arc<SnapshotCell<P>>,
    subnets: Subnets,
    mut subscribed: Vec<[u8; 4]>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let period = std::time::Duration::from_millis(config.slot_duration_ms.max(500));
    loop {
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        let snapshot = snapshots.load();
        let epoch = compute_epoch_at_slot::<P>(snapshot.current_slot);
        let wanted = digests_around(&config, snapshot.genesis_validators_root, epoch);
        for digest in wanted.iter().filter(|d| !subscribed.contains(d)) {
            tracing::info!(digest = %hex(digest), epoch, "subscribing to the next fork digest's topics");
            for topic in topics(*digest, &subnets) {
                network.subscribe(topic);
            }
        }
        for digest in subscribed.iter().filter(|d| !wanted.contains(d)) {
            tracing::info!(digest = %hex(digest), epoch, "leaving a past fork digest's topics");
            for topic in topics(*digest, &subnets) {
                network.unsubscribe(topic);
            }
        }
        subscribed = wanted;
    }
}

/// The req/resp limits of `config`'s chain under preset `P`.
pub fn request_limits<P: Preset>(config: &ChainConfig) -> Limits {
    Limits::derive(
        config.max_payload_size,
        config.max_request_blocks_deneb,
        config.max_blobs_per_block_electra,
        P::number_of_columns(),
    )
}

/// The network configuration of a node on `config`'s chain at `epoch`, and the subnets and
/// digests it subscribes to.
pub fn network_config<P: Preset>(
    config: &ChainConfig,
    genesis_validators_root: Hash256,
    epoch: u64,
    secret: [u8; 32],
    decoder: GossipDecoder<P>,
    options: &P2pOptions,
) -> Result<(NetworkConfig, Subnets, Vec<[u8; 4]>), keel_p2p::discovery::IdentityError> {
    let digest = config.compute_fork_digest(genesis_validators_root, epoch);
    let enr_fork_id = ENRForkID {
        fork_digest: digest,
        next_fork_version: config.next_fork_version(epoch),
        next_fork_epoch: config.next_fork_epoch(epoch),
    };
    let node_id = keel_p2p::discovery::node_id(secret)?;
    let subnets = Subnets::for_node::<P>(config, node_id, epoch, options.subscribe_all_subnets);
    let custody_group_count = config.custody_requirement;
    let mut metadata = MetaData {
        seq_number: 1,
        custody_group_count,
        ..MetaData::default()
    };
    for subnet in &subnets.attestation {
        let _ = metadata.attnets.set(*subnet as usize, true);
    }
    for subnet in &subnets.sync_committee {
        let _ = metadata.syncnets.set(*subnet as usize, true);
    }
    let digests = digests_around(config, genesis_validators_root, epoch);
    let topics = digests
        .iter()
        .flat_map(|digest| topics(*digest, &subnets))
        .collect();
    let network_config = NetworkConfig {
        listen_address: options.listen_address,
        tcp_port: options.tcp_port,
        quic_port: options.quic_port,
        discovery_port: options.discovery_port,
        boot_nodes: options.boot_nodes.clone(),
        static_peers: options.static_peers.clone(),
        target_peers: options.target_peers,
        max_inbound: options.target_peers + options.target_peers / 2 + 1,
        secret,
        enr_fields: EnrFields {
            eth2: enr_fork_id.as_ssz_bytes(),
            attnets: metadata.attnets.as_ssz_bytes(),
            syncnets: metadata.syncnets.as_ssz_bytes(),
            custody_group_count,
            next_fork_digest: config.next_fork_digest(genesis_validators_root, epoch),
        },
        metadata,
        limits: request_limits::<P>(config),
        ban_duration: std::time::Duration::from_secs(1800),
        message_id: Arc::new(move |topic, data| {
            decoder.message_id(topic, decoder.decompress(data).ok().as_deref(), data)
        }),
        topics,
        // A devnet's short slots want a faster heartbeat; the spec's is 700 ms.
        gossip_heartbeat: std::time::Duration::from_millis(700),
    };
    Ok((network_config, subnets, digests))
}

/// The network as the Beacon API sees it (`node/identity`, `node/peers`), live once the host
/// is up and empty before (or without) it.
pub struct ApiNetworkView {
    pub network: Arc<std::sync::OnceLock<keel_p2p::NetworkHandle>>,
    pub metadata: Arc<std::sync::OnceLock<MetaData>>,
}

impl keel_api::NetworkView for ApiNetworkView {
    fn peers(&self) -> Vec<keel_api::PeerInfo> {
        let Some(network) = self.network.get() else {
            return Vec::new();
        };
        network
            .peers()
            .into_iter()
            .map(|peer| keel_api::PeerInfo {
                peer_id: peer.peer_id.to_string(),
                enr: None,
                last_seen_p2p_address: peer.address.map(|a| a.to_string()).unwrap_or_default(),
                state: keel_api::PeerState::Connected,
                direction: if peer.inbound {
                    keel_api::PeerDirection::Inbound
                } else {
                    keel_api::PeerDirection::Outbound
                },
            })
            .collect()
    }

    fn identity(&self) -> Option<keel_api::NodeIdentity> {
        let network = self.network.get()?;
        let peer_id = network.peer_id.to_string();
        let discovery_addresses = match (network.enr.ip4(), network.enr.udp4()) {
            (Some(ip), Some(port)) => vec![format!("/ip4/{ip}/udp/{port}/p2p/{peer_id}")],
            _ => Vec::new(),
        };
        Some(keel_api::NodeIdentity {
            p2p_addresses: network
                .listen_addresses
                .iter()
                .map(|a| format!("{a}/p2p/{peer_id}"))
                .collect(),
            discovery_addresses,
            enr: network.enr.to_base64(),
            metadata: self.metadata.get().cloned().unwrap_or_default(),
            peer_id,
        })
    }
}
