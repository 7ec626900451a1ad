//! The network service: one tokio task owning the libp2p swarm and discv5, driven by commands
//! from a cloneable [`NetworkHandle`] and reporting to the node through [`NetworkApp`].

use crate::discovery::{
    Endpoints, Enr, EnrFields, build_enr, dial_addresses, enr_fork_digest, enr_key, enr_subnets,
    libp2p_keypair, peer_id_of,
};
use crate::gossip::gossipsub_behaviour;
use crate::peers::{BAN_THRESHOLD, GoodbyeReason, Offence, PeerInfo, PeerTable};
use crate::rpc::{Chunk, Eth2Codec, Family, Limits, ResponseCode, WireRequest};
use crate::selection::Coverage;
use futures::StreamExt;
use keel_pipeline_api::{PeerTag, RawMessage, Verdict};
use keel_types::fulu::{MetaData, StatusV2};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, noise, tcp, yamux};
use ssz::{Decode, Encode};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Metric names.
pub mod metric {
    pub const PEERS: &str = "keel_p2p_peers";
    pub const GOSSIP_RECEIVED: &str = "keel_p2p_gossip_received_total";
    pub const GOSSIP_SHED: &str = "keel_p2p_gossip_shed_total";
    pub const GOSSIP_PUBLISHED: &str = "keel_p2p_gossip_published_total";
    pub const RPC_INBOUND: &str = "keel_p2p_rpc_inbound_total";
    pub const RPC_OUTBOUND: &str = "keel_p2p_rpc_outbound_total";
    pub const PENALTIES: &str = "keel_p2p_penalties_total";
    pub const BANS: &str = "keel_p2p_bans_total";
}

/// The gossip message-id function (the node's decoder computes it, so that gossipsub and the
/// pipeline agree on ids).
pub type MessageIdFn = Arc<dyn Fn(&str, &[u8]) -> [u8; 20] + Send + Sync>;

/// What the network service needs from the node.
pub trait NetworkApp: Send + Sync + 'static {
    /// A gossip message for the pipeline; `false` when the pipeline has no room (the message is
    /// then ignored: backpressure the network sees).
    fn gossip(&self, raw: RawMessage) -> bool;
    /// The node's current Status.
    fn status(&self) -> StatusV2;
    /// Whether a peer's Status is on this node's chain (`Err` says why not).
    fn check_status(&self, status: &StatusV2) -> Result<(), String>;
    /// Answers a data request (blocks, sidecars) from the node's store. Runs on a blocking
    /// thread.
    fn serve(&self, family: Family, request: &[u8]) -> Vec<Chunk>;
}

/// What the node hears about peers.
#[derive(Debug, Clone)]
pub enum NetworkEvent {
    /// A peer exchanged a relevant Status with us: it can be synced from.
    PeerReady { peer: PeerTag, status: StatusV2 },
    /// A peer disconnected.
    PeerGone { peer: PeerTag },
}

#[derive(Clone)]
pub struct NetworkConfig {
    pub listen_address: IpAddr,
    /// TCP port for libp2p (0: any free port).
    pub tcp_port: u16,
    /// UDP port for QUIC, if enabled.
    pub quic_port: Option<u16>,
    /// UDP port for discv5; `None` disables discovery.
    pub discovery_port: Option<u16>,
    pub boot_nodes: Vec<Enr>,
    /// Peers dialled directly (and redialled when they drop).
    pub static_peers: Vec<Multiaddr>,
    pub target_peers: usize,
    /// Most inbound connections accepted (beyond, new inbound peers are turned away).
    pub max_inbound: usize,
    pub secret: [u8; 32],
    pub enr_fields: EnrFields,
    pub metadata: MetaData,
    pub limits: Limits,
    pub ban_duration: Duration,
    pub message_id: MessageIdFn,
    pub topics: Vec<String>,
    pub gossip_heartbeat: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("{0}")]
    Identity(#[from] crate::discovery::IdentityError),
    #[error("transport: {0}")]
    Transport(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("discovery: {0}")]
    Discovery(String),
    #[error("gossipsub: {0}")]
    Gossipsub(String),
}

/// Why a request got no answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    #[error("peer {0:?} is not connected")]
    NotConnected(PeerTag),
    #[error("request failed: {0}")]
    Failed(String),
    #[error("the network service stopped")]
    Stopped,
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    status: request_response::Behaviour<Eth2Codec>,
    goodbye: request_response::Behaviour<Eth2Codec>,
    ping: request_response::Behaviour<Eth2Codec>,
    metadata: request_response::Behaviour<Eth2Codec>,
    blocks_by_range: request_response::Behaviour<Eth2Codec>,
    blocks_by_root: request_response::Behaviour<Eth2Codec>,
    blobs_by_range: request_response::Behaviour<Eth2Codec>,
    blobs_by_root: request_response::Behaviour<Eth2Codec>,
    columns_by_range: request_response::Behaviour<Eth2Codec>,
    columns_by_root: request_response::Behaviour<Eth2Codec>,
}

impl Behaviour {
    fn rpc(&mut self, family: Family) -> &mut request_response::Behaviour<Eth2Codec> {
        match family {
            Family::Status => &mut self.status,
            Family::Goodbye => &mut self.goodbye,
            Family::Ping => &mut self.ping,
            Family::MetaData => &mut self.metadata,
            Family::BlocksByRange => &mut self.blocks_by_range,
            Family::BlocksByRoot => &mut self.blocks_by_root,
            Family::BlobSidecarsByRange => &mut self.blobs_by_range,
            Family::BlobSidecarsByRoot => &mut self.blobs_by_root,
            Family::DataColumnSidecarsByRange => &mut self.columns_by_range,
            Family::DataColumnSidecarsByRoot => &mut self.columns_by_root,
        }
    }
}

fn rpc_behaviour(family: Family, limits: Limits) -> request_response::Behaviour<Eth2Codec> {
    let protocols = family
        .protocols()
        .into_iter()
        .map(|p| (p, ProtocolSupport::Full));
    request_response::Behaviour::with_codec(
        Eth2Codec { limits },
        protocols,
        request_response::Config::default()
            .with_request_timeout(Duration::from_secs(10))
            .with_max_concurrent_streams(256),
    )
}

enum Command {
    Publish {
        topic: String,
        data: Vec<u8>,
    },
    Report {
        message_id: [u8; 20],
        peer: PeerTag,
        verdict: Verdict,
    },
    Request {
        peer: PeerTag,
        family: Family,
        body: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<Chunk>, RequestError>>,
    },
    Respond {
        family: Family,
        channel: request_response::ResponseChannel<Vec<Chunk>>,
        chunks: Vec<Chunk>,
    },
    Penalise {
        peer: PeerTag,
        offence: Offence,
    },
    Subscribe(String),
    Unsubscribe(String),
    Dial(Multiaddr),
    Shutdown(oneshot::Sender<()>),
}

/// What readers may see without asking the service task.
#[derive(Default)]
struct Shared {
    peers: Mutex<Vec<PeerInfo>>,
}

/// The node's handle on the network service. Cheap to clone.
#[derive(Clone)]
pub struct NetworkHandle {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    pub peer_id: PeerId,
    pub enr: Enr,
    pub listen_addresses: Vec<Multiaddr>,
}

impl NetworkHandle {
    /// Publishes snappy-compressed SSZ on a gossip topic.
    pub fn publish(&self, topic: String, data: Vec<u8>) {
        let _ = self.commands.send(Command::Publish { topic, data });
    }

    /// Tells gossipsub (and the peer scorer) what the pipeline made of a message.
    pub fn report(&self, message_id: [u8; 20], peer: PeerTag, verdict: Verdict) {
        let _ = self.commands.send(Command::Report {
            message_id,
            peer,
            verdict,
        });
    }

    /// Sends a request; resolves with the response chunks.
    pub async fn request(
        &self,
        peer: PeerTag,
        family: Family,
        body: Vec<u8>,
    ) -> Result<Vec<Chunk>, RequestError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request {
                peer,
                family,
                body,
                reply,
            })
            .map_err(|_| RequestError::Stopped)?;
        answer.await.map_err(|_| RequestError::Stopped)?
    }

    pub fn penalise(&self, peer: PeerTag, offence: Offence) {
        let _ = self.commands.send(Command::Penalise { peer, offence });
    }

    pub fn subscribe(&self, topic: String) {
        let _ = self.commands.send(Command::Subscribe(topic));
    }

    pub fn unsubscribe(&self, topic: String) {
        let _ = self.commands.send(Command::Unsubscribe(topic));
    }

    pub fn dial(&self, address: Multiaddr) {
        let _ = self.commands.send(Command::Dial(address));
    }

    /// Connected peers as of the last change.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.shared
            .peers
            .lock()
            .map(|peers| peers.clone())
            .unwrap_or_default()
    }

    pub fn peer_count(&self) -> usize {
        self.shared.peers.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Says Goodbye to every peer and stops the service.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(3), wait).await;
        }
    }
}

/// A free port on `ip`, for "any port" settings that must be known before the ENR is built.
fn free_port(ip: IpAddr, udp: bool) -> Result<u16, NetworkError> {
    let fail = |e: std::io::Error| NetworkError::Listen {
        addr: ip.to_string(),
        reason: e.to_string(),
    };
    if udp {
        Ok(std::net::UdpSocket::bind((ip, 0))
            .and_then(|s| s.local_addr())
            .map_err(fail)?
            .port())
    } else {
        Ok(std::net::TcpListener::bind((ip, 0))
            .and_then(|s| s.local_addr())
            .map_err(fail)?
            .port())
    }
}

fn ip_protocol(ip: IpAddr) -> libp2p::multiaddr::Protocol<'static> {
    match ip {
        IpAddr::V4(ip) => libp2p::multiaddr::Protocol::Ip4(ip),
        IpAddr::V6(ip) => libp2p::multiaddr::Protocol::Ip6(ip),
    }
}

/// Starts the service on the current tokio runtime. Gossip and requests reach `app`; peer
/// events arrive on the returned receiver.
pub async fn start(
    mut config: NetworkConfig,
    app: Arc<dyn NetworkApp>,
) -> Result<(NetworkHandle, mpsc::UnboundedReceiver<NetworkEvent>), NetworkError> {
    use libp2p::multiaddr::Protocol;
    let keypair = libp2p_keypair(config.secret)?;
    let peer_id = keypair.public().to_peer_id();
    let ip = config.listen_address;
    if config.tcp_port == 0 {
        config.tcp_port = free_port(ip, false)?;
    }
    if config.quic_port == Some(0) {
        config.quic_port = Some(free_port(ip, true)?);
    }
    if config.discovery_port == Some(0) {
        config.discovery_port = Some(free_port(ip, true)?);
    }

    let limits = config.limits;
    let gossipsub = gossipsub_behaviour(&config).map_err(NetworkError::Gossipsub)?;
    let identify = identify::Behaviour::new(
        identify::Config::new("eth2/1.0.0".into(), keypair.public())
            .with_agent_version(format!("keel/{}", env!("CARGO_PKG_VERSION"))),
    );
    let behaviour = Behaviour {
        gossipsub,
        identify,
        status: rpc_behaviour(Family::Status, limits),
        goodbye: rpc_behaviour(Family::Goodbye, limits),
        ping: rpc_behaviour(Family::Ping, limits),
        metadata: rpc_behaviour(Family::MetaData, limits),
        blocks_by_range: rpc_behaviour(Family::BlocksByRange, limits),
        blocks_by_root: rpc_behaviour(Family::BlocksByRoot, limits),
        blobs_by_range: rpc_behaviour(Family::BlobSidecarsByRange, limits),
        blobs_by_root: rpc_behaviour(Family::BlobSidecarsByRoot, limits),
        columns_by_range: rpc_behaviour(Family::DataColumnSidecarsByRange, limits),
        columns_by_root: rpc_behaviour(Family::DataColumnSidecarsByRoot, limits),
    };
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_quic()
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();

    let mut listen_addresses = vec![
        Multiaddr::empty()
            .with(ip_protocol(ip))
            .with(Protocol::Tcp(config.tcp_port)),
    ];
    if let Some(port) = config.quic_port {
        listen_addresses.push(
            Multiaddr::empty()
                .with(ip_protocol(ip))
                .with(Protocol::Udp(port))
                .with(Protocol::QuicV1),
        );
    }
    for address in &listen_addresses {
        swarm
            .listen_on(address.clone())
            .map_err(|e| NetworkError::Listen {
                addr: address.to_string(),
                reason: e.to_string(),
            })?;
    }
    for topic in &config.topics {
        let _ = swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&gossipsub::IdentTopic::new(topic.clone()));
    }

    let key = enr_key(config.secret)?;
    let enr = build_enr(
        &key,
        Endpoints {
            ip,
            tcp: config.tcp_port,
            udp: config.discovery_port.unwrap_or(0),
            quic: config.quic_port,
        },
        &config.enr_fields,
        1,
    )?;
    let discovery = match config.discovery_port {
        Some(port) => {
            let listen = discv5::ListenConfig::from_ip(ip, port);
            let mut discv5 =
                discv5::Discv5::new(enr.clone(), key, discv5::ConfigBuilder::new(listen).build())
                    .map_err(|e| NetworkError::Discovery(e.to_string()))?;
            discv5
                .start()
                .await
                .map_err(|e| NetworkError::Discovery(e.to_string()))?;
            for boot in &config.boot_nodes {
                if let Err(e) = discv5.add_enr(boot.clone()) {
                    tracing::warn!(enr = %boot.to_base64(), error = e, "boot node refused");
                }
            }
            Some(Arc::new(discv5))
        }
        None => None,
    };
    // Boot nodes are dialled directly too: on a private network they are often the only peers.
    for boot in &config.boot_nodes {
        if let Some(peer) = peer_id_of(boot) {
            for address in dial_addresses(boot) {
                swarm.add_peer_address(peer, address);
            }
            let _ = swarm.dial(peer);
        }
    }
    for address in &config.static_peers {
        if let Err(e) = swarm.dial(address.clone()) {
            tracing::warn!(%address, error = %e, "cannot dial static peer");
        }
    }

    let (commands, command_rx) = mpsc::unbounded_channel();
    let (events, event_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::default());
    let handle = NetworkHandle {
        commands: commands.clone(),
        shared: Arc::clone(&shared),
        peer_id,
        enr: enr.clone(),
        listen_addresses,
    };
    tracing::info!(%peer_id, enr = %enr.to_base64(), "network listening");
    let service = Service {
        swarm,
        discovery,
        app,
        events,
        commands,
        shared,
        peers: PeerTable::default(),
        pending: HashMap::new(),
        rate: HashMap::new(),
        goodbyes: Vec::new(),
        own_digest: config
            .enr_fields
            .eth2
            .get(..4)
            .and_then(|d| d.try_into().ok()),
        coverage: Coverage::new(&config.enr_fields.attnets, &config.enr_fields.syncnets),
        peer_subnets: HashMap::new(),
        config,
    };
    tokio::spawn(service.run(command_rx));
    Ok((handle, event_rx))
}

struct Service {
    swarm: Swarm<Behaviour>,
    discovery: Option<Arc<discv5::Discv5>>,
    app: Arc<dyn NetworkApp>,
    events: mpsc::UnboundedSender<NetworkEvent>,
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
    peers: PeerTable,
    pending: HashMap<(Family, OutboundRequestId), Pending>,
    /// Requests each peer made per protocol family in the current window.
    rate: HashMap<(PeerId, Family), (Instant, u32)>,
    /// Peers that were sent a Goodbye, and when to drop them if they do not hang up.
    goodbyes: Vec<(PeerId, Instant)>,
    own_digest: Option<[u8; 4]>,
    /// Peers per subscribed subnet, from the ENRs of peers the node dialed.
    coverage: Coverage,
    /// The subnet fields of peers dialed (pending) or connected, by peer.
    peer_subnets: HashMap<PeerId, (Vec<u8>, Vec<u8>)>,
    config: NetworkConfig,
}

enum Pending {
    /// A request the node made; its answer goes back to the caller.
    Caller(oneshot::Sender<Result<Vec<Chunk>, RequestError>>),
    /// A request the service made itself (Status on connect, Ping, Goodbye).
    Internal,
}

/// Requests one peer may make per protocol family per [`RATE_WINDOW`].
fn rate_limit(family: Family) -> u32 {
    match family {
        Family::Status | Family::Ping | Family::MetaData => 10,
        Family::Goodbye => 2,
        _ => 128,
    }
}
const RATE_WINDOW: Duration = Duration::from_secs(10);

impl Service {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let (found_tx, mut found) = mpsc::unbounded_channel::<Vec<Enr>>();
        let mut tick = tokio::time::interval(Duration::from_secs(3));
        let mut ping = tokio::time::interval(Duration::from_secs(30));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                command = commands.recv() => match command {
                    Some(Command::Shutdown(done)) => {
                        self.farewell();
                        let _ = done.send(());
                        return;
                    }
                    Some(command) => self.on_command(command),
                    None => return,
                },
                Some(enrs) = found.recv() => self.on_discovered(enrs),
                _ = tick.tick() => self.on_tick(&found_tx),
                _ = ping.tick() => self.ping_all(),
            }
        }
    }

    fn publish_peers(&mut self) {
        let snapshot = self.peers.snapshot(Instant::now());
        metrics::gauge!(metric::PEERS).set(snapshot.len() as f64);
        if let Ok(mut peers) = self.shared.peers.lock() {
            *peers = snapshot;
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let now = Instant::now();
                if self.peers.is_banned(&peer_id, now) {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if num_established.get() > 1 {
                    return;
                }
                let inbound = !endpoint.is_dialer();
                if inbound && self.peers.inbound_count() >= self.config.max_inbound {
                    self.goodbye(peer_id, GoodbyeReason::TooManyPeers);
                    return;
                }
                let address = endpoint.get_remote_address().clone();
                self.peers.connected(peer_id, Some(address), inbound, now);
                if let Some((attnets, syncnets)) = self.peer_subnets.get(&peer_id) {
                    self.coverage.add(attnets, syncnets);
                }
                self.publish_peers();
                // The dialling side opens with Status.
                if !inbound {
                    self.send_internal(peer_id, Family::Status, self.app.status().as_ssz_bytes());
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                if let Some(tag) = self.peers.tag_of(&peer_id) {
                    let _ = self.events.send(NetworkEvent::PeerGone { peer: tag });
                }
                if self.peers.is_connected(&peer_id)
                    && let Some((attnets, syncnets)) = self.peer_subnets.get(&peer_id)
                {
                    self.coverage.remove(attnets, syncnets);
                }
                self.peer_subnets.remove(&peer_id);
                self.peers.disconnected(&peer_id);
                self.publish_peers();
                self.goodbyes.retain(|(p, _)| *p != peer_id);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(?peer_id, %error, "dial failed");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour(event),
            _ => {}
        }
    }

    fn on_behaviour(&mut self, event: BehaviourEvent) {
        use request_response::Event as Rr;
        let (family, event) = match event {
            BehaviourEvent::Gossipsub(event) => return self.on_gossip(event),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.peers.set_agent(&peer_id, info.agent_version);
                return;
            }
            BehaviourEvent::Identify(_) => return,
            BehaviourEvent::Status(e) => (Family::Status, e),
            BehaviourEvent::Goodbye(e) => (Family::Goodbye, e),
            BehaviourEvent::Ping(e) => (Family::Ping, e),
            BehaviourEvent::Metadata(e) => (Family::MetaData, e),
            BehaviourEvent::BlocksByRange(e) => (Family::BlocksByRange, e),
            BehaviourEvent::BlocksByRoot(e) => (Family::BlocksByRoot, e),
            BehaviourEvent::BlobsByRange(e) => (Family::BlobSidecarsByRange, e),
            BehaviourEvent::BlobsByRoot(e) => (Family::BlobSidecarsByRoot, e),
            BehaviourEvent::ColumnsByRange(e) => (Family::DataColumnSidecarsByRange, e),
            BehaviourEvent::ColumnsByRoot(e) => (Family::DataColumnSidecarsByRoot, e),
        };
        match event {
            Rr::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_request(peer, family, request, channel),
            Rr::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => self.on_response(peer, family, request_id, Ok(response)),
            Rr::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                match &error {
                    // Framing errors surface as I/O errors of kind InvalidData.
                    request_response::OutboundFailure::Io(e)
                        if e.kind() == std::io::ErrorKind::InvalidData =>
                    {
                        self.penalise(peer, Offence::Malformed);
                    }
                    // Other I/O errors (a stream reset, say, by a peer that gave up serving
                    // us) prove no malice: they cost what no answer costs.
                    request_response::OutboundFailure::Io(_)
                    | request_response::OutboundFailure::Timeout => {
                        self.penalise(peer, Offence::Timeout);
                    }
                    _ => {}
                }
                self.on_response(peer, family, request_id, Err(error.to_string()));
            }
            Rr::InboundFailure { peer, error, .. } => {
                // Malformed requests arrive as `Err` bodies (see `rpc::WireRequest`): libp2p
                // reports no failure for a request it could not read.
                if let request_response::InboundFailure::Io(e) = &error
                    && e.kind() == std::io::ErrorKind::InvalidData
                {
                    tracing::debug!(%peer, family = family.name(), error = %e, "malformed request");
                    self.penalise(peer, Offence::Malformed);
                }
            }
            Rr::ResponseSent { .. } => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        let Some(peer) = self.peers.tag_of(&propagation_source) else {
            return;
        };
        metrics::counter!(metric::GOSSIP_RECEIVED).increment(1);
        let raw = RawMessage {
            topic: message.topic.into_string(),
            data: message.data,
            peer,
            received_at: Instant::now(),
        };
        if !self.app.gossip(raw) {
            metrics::counter!(metric::GOSSIP_SHED).increment(1);
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    gossipsub::MessageAcceptance::Ignore,
                );
        }
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        family: Family,
        request: WireRequest,
        channel: request_response::ResponseChannel<Vec<Chunk>>,
    ) {
        metrics::counter!(metric::RPC_INBOUND, "protocol" => family.name()).increment(1);
        if !self.within_rate(peer, family) {
            self.penalise(peer, Offence::AbusiveRequest);
            let chunks = vec![Chunk::Error {
                code: ResponseCode::ResourceUnavailable,
                message: "rate limited".into(),
            }];
            let _ = self
                .swarm
                .behaviour_mut()
                .rpc(family)
                .send_response(channel, chunks);
            return;
        }
        let request = match request {
            Ok(body) => body,
            Err(reason) => {
                tracing::debug!(%peer, family = family.name(), %reason, "malformed request");
                self.penalise(peer, Offence::Malformed);
                return self.respond_error(
                    family,
                    channel,
                    ResponseCode::InvalidRequest,
                    "malformed request",
                );
            }
        };
        let success = |ssz: Vec<u8>| {
            vec![Chunk::Success {
                context: [0; 4],
                ssz,
            }]
        };
        let chunks = match family {
            Family::Status => {
                match StatusV2::from_ssz_bytes(&request) {
                    Ok(status) => self.on_status(peer, status),
                    Err(_) => {
                        self.penalise(peer, Offence::Malformed);
                        return self.respond_error(
                            family,
                            channel,
                            ResponseCode::InvalidRequest,
                            "malformed Status",
                        );
                    }
                }
                success(self.app.status().as_ssz_bytes())
            }
            Family::Goodbye => {
                let reason = <u64 as Decode>::from_ssz_bytes(&request).unwrap_or(0);
                tracing::debug!(%peer, reason = ?GoodbyeReason::from_code(reason), "peer said goodbye");
                self.goodbyes.push((peer, Instant::now()));
                Vec::new()
            }
            Family::Ping => success(self.config.metadata.seq_number.as_ssz_bytes()),
            Family::MetaData => success(self.config.metadata.as_ssz_bytes()),
            data => {
                let app = Arc::clone(&self.app);
                let commands = self.commands.clone();
                tokio::task::spawn_blocking(move || {
                    let chunks = app.serve(data, &request);
                    let _ = commands.send(Command::Respond {
                        family: data,
                        channel,
                        chunks,
                    });
                });
                return;
            }
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .rpc(family)
            .send_response(channel, chunks);
    }

    fn respond_error(
        &mut self,
        family: Family,
        channel: request_response::ResponseChannel<Vec<Chunk>>,
        code: ResponseCode,
        message: &str,
    ) {
        let chunks = vec![Chunk::Error {
            code,
            message: message.into(),
        }];
        let _ = self
            .swarm
            .behaviour_mut()
            .rpc(family)
            .send_response(channel, chunks);
    }

    fn within_rate(&mut self, peer: PeerId, family: Family) -> bool {
        let now = Instant::now();
        let entry = self.rate.entry((peer, family)).or_insert((now, 0));
        if now.duration_since(entry.0) > RATE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= rate_limit(family)
    }

    /// A peer's Status (in a request or a response): relevant peers become sync sources,
    /// others get a Goodbye.
    fn on_status(&mut self, peer: PeerId, status: StatusV2) {
        if let Err(reason) = self.app.check_status(&status) {
            tracing::debug!(%peer, %reason, "peer is on another chain");
            self.penalise(peer, Offence::IrrelevantNetwork);
            self.goodbye(peer, GoodbyeReason::IrrelevantNetwork);
            return;
        }
        self.peers.set_status(&peer, status);
        self.publish_peers();
        if let Some(tag) = self.peers.tag_of(&peer) {
            let _ = self
                .events
                .send(NetworkEvent::PeerReady { peer: tag, status });
        }
    }

    fn on_response(
        &mut self,
        peer: PeerId,
        family: Family,
        request_id: OutboundRequestId,
        response: Result<Vec<Chunk>, String>,
    ) {
        match self.pending.remove(&(family, request_id)) {
            Some(Pending::Caller(reply)) => {
                let _ = reply.send(response.map_err(RequestError::Failed));
            }
            Some(Pending::Internal) => {
                let Ok(chunks) = response else {
                    if family == Family::Goodbye {
                        let _ = self.swarm.disconnect_peer_id(peer);
                    }
                    return;
                };
                match family {
                    Family::Status => match chunks.first() {
                        Some(Chunk::Success { ssz, .. }) => match StatusV2::from_ssz_bytes(ssz) {
                            Ok(status) => self.on_status(peer, status),
                            Err(_) => self.penalise(peer, Offence::Malformed),
                        },
                        _ => self.penalise(peer, Offence::InvalidResponse),
                    },
                    Family::Goodbye => {
                        let _ = self.swarm.disconnect_peer_id(peer);
                    }
                    _ => {}
                }
            }
            None => {}
        }
    }

    fn send_internal(&mut self, peer: PeerId, family: Family, body: Vec<u8>) {
        let id = self
            .swarm
            .behaviour_mut()
            .rpc(family)
            .send_request(&peer, Ok(body));
        metrics::counter!(metric::RPC_OUTBOUND, "protocol" => family.name()).increment(1);
        self.pending.insert((family, id), Pending::Internal);
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data } => {
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(gossipsub::IdentTopic::new(topic.clone()), data);
                match result {
                    Ok(_) => metrics::counter!(metric::GOSSIP_PUBLISHED).increment(1),
                    Err(e) => tracing::debug!(%topic, error = %e, "not published"),
                }
            }
            Command::Report {
                message_id,
                peer,
                verdict,
            } => {
                let Some(peer_id) = self.peers.peer_of(peer) else {
                    return;
                };
                let acceptance = match &verdict {
                    Verdict::Accept => gossipsub::MessageAcceptance::Accept,
                    Verdict::Ignore(_) => gossipsub::MessageAcceptance::Ignore,
                    Verdict::Reject(_) => gossipsub::MessageAcceptance::Reject,
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(
                        &gossipsub::MessageId::new(&message_id),
                        &peer_id,
                        acceptance,
                    );
                if let Verdict::Reject(reason) = verdict {
                    tracing::debug!(%peer_id, %reason, "gossip rejected");
                    self.penalise(peer_id, Offence::InvalidGossip);
                }
            }
            Command::Request {
                peer,
                family,
                body,
                reply,
            } => {
                let Some(peer_id) = self.peers.peer_of(peer) else {
                    let _ = reply.send(Err(RequestError::NotConnected(peer)));
                    return;
                };
                let id = self
                    .swarm
                    .behaviour_mut()
                    .rpc(family)
                    .send_request(&peer_id, Ok(body));
                metrics::counter!(metric::RPC_OUTBOUND, "protocol" => family.name()).increment(1);
                self.pending.insert((family, id), Pending::Caller(reply));
            }
            Command::Respond {
                family,
                channel,
                chunks,
            } => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .rpc(family)
                    .send_response(channel, chunks);
            }
            Command::Penalise { peer, offence } => {
                if let Some(peer_id) = self.peers.peer_of(peer) {
                    self.penalise(peer_id, offence);
                }
            }
            Command::Subscribe(topic) => {
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .subscribe(&gossipsub::IdentTopic::new(topic));
            }
            Command::Unsubscribe(topic) => {
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .unsubscribe(&gossipsub::IdentTopic::new(topic));
            }
            Command::Dial(address) => {
                if let Err(e) = self.swarm.dial(address.clone()) {
                    tracing::debug!(%address, error = %e, "dial refused");
                }
            }
            Command::Shutdown(_) => {}
        }
    }

    fn penalise(&mut self, peer: PeerId, offence: Offence) {
        metrics::counter!(metric::PENALTIES, "offence" => offence.name()).increment(1);
        let Some(score) = self.peers.penalise(&peer, offence, Instant::now()) else {
            return;
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&peer, score);
        // A banned peer's messages still in flight must not ban it again (nor count again).
        if score < BAN_THRESHOLD && !self.peers.is_banned(&peer, Instant::now()) {
            tracing::info!(%peer, score, offence = offence.name(), "banning peer");
            metrics::counter!(metric::BANS).increment(1);
            self.peers
                .ban(peer, Instant::now(), self.config.ban_duration);
            let reason = if offence == Offence::IrrelevantNetwork {
                GoodbyeReason::IrrelevantNetwork
            } else {
                GoodbyeReason::BadScore
            };
            self.goodbye(peer, reason);
        }
    }

    /// Sends a Goodbye and disconnects once it is answered (or soon regardless).
    fn goodbye(&mut self, peer: PeerId, reason: GoodbyeReason) {
        if self.goodbyes.iter().any(|(p, _)| *p == peer) {
            return;
        }
        self.send_internal(peer, Family::Goodbye, reason.code().as_ssz_bytes());
        self.goodbyes.push((peer, Instant::now()));
    }

    fn farewell(&mut self) {
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in connected {
            self.send_internal(
                peer,
                Family::Goodbye,
                GoodbyeReason::ClientShutdown.code().as_ssz_bytes(),
            );
        }
    }

    fn ping_all(&mut self) {
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        let seq = self.config.metadata.seq_number.as_ssz_bytes();
        for peer in connected {
            self.send_internal(peer, Family::Ping, seq.clone());
        }
    }

    fn on_tick(&mut self, found: &mpsc::UnboundedSender<Vec<Enr>>) {
        let now = Instant::now();
        // Peers that got a Goodbye and did not hang up.
        let overdue: Vec<PeerId> = self
            .goodbyes
            .iter()
            .filter(|(_, at)| now.duration_since(*at) > Duration::from_secs(2))
            .map(|(p, _)| *p)
            .collect();
        for peer in overdue {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        self.goodbyes
            .retain(|(_, at)| now.duration_since(*at) <= Duration::from_secs(10));
        self.rate
            .retain(|_, (start, _)| now.duration_since(*start) <= RATE_WINDOW);
        self.publish_peers();

        if self.peers.len() >= self.config.target_peers {
            return;
        }
        for address in self.config.static_peers.clone() {
            let connected = address
                .iter()
                .find_map(|p| match p {
                    libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                    _ => None,
                })
                .is_some_and(|id| self.peers.is_connected(&id));
            if !connected {
                let _ = self.swarm.dial(address);
            }
        }
        if let Some(discovery) = &self.discovery {
            let query = discovery.find_node(enr::NodeId::random());
            let results = found.clone();
            tokio::spawn(async move {
                match query.await {
                    Ok(enrs) => {
                        let _ = results.send(enrs);
                    }
                    Err(e) => tracing::debug!(error = %e, "discovery query failed"),
                }
            });
            // discv5 also knows nodes it has talked to that a random query may not return.
            let _ = found.send(discovery.table_entries_enr());
        }
    }

    /// Dials discovered peers, those serving under-served subnets first; near the peer target
    /// only those.
    fn on_discovered(&mut self, enrs: Vec<Enr>) {
        let now = Instant::now();
        let mut candidates: Vec<(usize, PeerId, Enr)> = Vec::new();
        for enr in enrs {
            if enr_fork_digest(&enr) != self.own_digest {
                continue;
            }
            let Some(peer) = peer_id_of(&enr) else {
                continue;
            };
            if peer == *self.swarm.local_peer_id()
                || self.peers.is_connected(&peer)
                || self.peers.is_banned(&peer, now)
                || candidates.iter().any(|(_, p, _)| *p == peer)
            {
                continue;
            }
            let (attnets, syncnets) = enr_subnets(&enr);
            candidates.push((self.coverage.gain(&attnets, &syncnets), peer, enr));
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        // The last fifth of the peer slots is kept for peers that serve a subnet in need.
        let open = self.config.target_peers.saturating_mul(4) / 5;
        let mut planned = self.peers.len();
        for (gain, peer, enr) in candidates {
            if planned >= self.config.target_peers || (planned >= open && gain == 0) {
                return;
            }
            for address in dial_addresses(&enr) {
                self.swarm.add_peer_address(peer, address);
            }
            self.peer_subnets.insert(peer, enr_subnets(&enr));
            if self.swarm.dial(peer).is_ok() {
                planned = planned.saturating_add(1);
            }
        }
    }
}
