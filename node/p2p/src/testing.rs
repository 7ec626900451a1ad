//! Test support (cargo feature `testing`; never enabled in the `keel` binary): a peer that
//! speaks the eth2 req/resp protocol ids but writes whatever bytes it is given, so that tests
//! can send a node what the real codec refuses to produce — garbage snappy, bad length
//! prefixes, frames beyond the limits — and watch what the node does about it.
//!
//! [`RawPeer`] is a bare libp2p host (TCP, noise, yamux) with one request-response behaviour
//! per protocol family it can speak ([`RAW_FAMILIES`]); it only makes requests (the node's own
//! requests to it fail as unsupported protocols, which the node does not penalise). Its
//! requests and the answers it reads are raw wire bytes: frame them with
//! [`crate::rpc::encode_request`] for a well-formed request, or not at all.

use crate::discovery::libp2p_keypair;
use crate::rpc::{Family, ProtocolId};
use crate::service::NetworkError;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, noise, tcp, yamux};
use std::collections::{HashMap, HashSet};
use std::io;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// The families a [`RawPeer`] can send requests on.
pub const RAW_FAMILIES: [Family; 4] = [
    Family::Status,
    Family::Ping,
    Family::BlocksByRange,
    Family::BlocksByRoot,
];

/// Most bytes of an answer a [`RawPeer`] reads.
const MAX_ANSWER: u64 = 16 << 20;

/// Writes requests as given and reads answers as they come: no framing, no limits but
/// [`MAX_ANSWER`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

async fn read_all<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(MAX_ANSWER).read_to_end(&mut buf).await?;
    Ok(buf)
}

impl request_response::Codec for RawCodec {
    type Protocol = ProtocolId;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &ProtocolId, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_all(io).await
    }

    async fn read_response<T>(&mut self, _: &ProtocolId, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_all(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &ProtocolId,
        io: &mut T,
        wire: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&wire).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &ProtocolId,
        io: &mut T,
        wire: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&wire).await?;
        io.close().await
    }
}

#[derive(NetworkBehaviour)]
struct RawBehaviour {
    status: request_response::Behaviour<RawCodec>,
    ping: request_response::Behaviour<RawCodec>,
    blocks_by_range: request_response::Behaviour<RawCodec>,
    blocks_by_root: request_response::Behaviour<RawCodec>,
}

fn raw_behaviour(family: Family) -> request_response::Behaviour<RawCodec> {
    request_response::Behaviour::with_codec(
        RawCodec,
        family
            .protocols()
            .into_iter()
            .map(|p| (p, ProtocolSupport::Outbound)),
        request_response::Config::default().with_request_timeout(Duration::from_secs(10)),
    )
}

/// A libp2p peer that sends raw bytes on the eth2 req/resp protocols.
pub struct RawPeer {
    swarm: Swarm<RawBehaviour>,
    connected: HashSet<PeerId>,
    answers: HashMap<(Family, OutboundRequestId), Result<Vec<u8>, String>>,
}

impl RawPeer {
    /// A peer with a fresh random identity, not listening. Call from a tokio runtime.
    pub fn new() -> Result<Self, NetworkError> {
        let secret = loop {
            let candidate: [u8; 32] = rand::random();
            if libp2p_keypair(candidate).is_ok() {
                break candidate;
            }
        };
        let keypair = libp2p_keypair(secret)?;
        let behaviour = RawBehaviour {
            status: raw_behaviour(Family::Status),
            ping: raw_behaviour(Family::Ping),
            blocks_by_range: raw_behaviour(Family::BlocksByRange),
            blocks_by_root: raw_behaviour(Family::BlocksByRoot),
        };
        let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|e| NetworkError::Transport(e.to_string()))?
            .with_behaviour(|_| behaviour)
            .map_err(|e| NetworkError::Transport(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        Ok(Self {
            swarm,
            connected: HashSet::new(),
            answers: HashMap::new(),
        })
    }

    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Whether a connection to `peer` is open.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.connected.contains(peer)
    }

    /// Dials `address` (which names its peer id) and waits until the connection is up.
    pub async fn connect(
        &mut self,
        address: Multiaddr,
        within: Duration,
    ) -> Result<PeerId, String> {
        self.swarm.dial(address).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + within;
        loop {
            let event = timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| "timed out connecting".to_string())?;
            match event {
                SwarmEvent::ConnectionEstablished {
                    peer_id, endpoint, ..
                } if endpoint.is_dialer() => {
                    self.connected.insert(peer_id);
                    return Ok(peer_id);
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error.to_string()),
                other => self.observe(other),
            }
        }
    }

    /// Sends `wire` as it is on `family`'s newest protocol (one of [`RAW_FAMILIES`]) and waits
    /// for the raw answer, or for why there is none (the stream or connection failed, timeout).
    pub async fn request(
        &mut self,
        peer: PeerId,
        family: Family,
        wire: Vec<u8>,
        within: Duration,
    ) -> Result<Vec<u8>, String> {
        let id = self.rpc(family)?.send_request(&peer, wire);
        let deadline = Instant::now() + within;
        loop {
            if let Some(answer) = self.answers.remove(&(family, id)) {
                return answer;
            }
            let event = timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| "timed out waiting for an answer".to_string())?;
            self.observe(event);
        }
    }

    /// Drives the host until `peer` is disconnected (true) or `within` has passed (false).
    pub async fn wait_disconnected(&mut self, peer: &PeerId, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.connected.contains(peer) {
            match timeout_at(deadline, self.swarm.select_next_some()).await {
                Ok(event) => self.observe(event),
                Err(_) => return false,
            }
        }
        true
    }

    /// Drives the host for `duration` (answers and connection changes are recorded).
    pub async fn run_for(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while let Ok(event) = timeout_at(deadline, self.swarm.select_next_some()).await {
            self.observe(event);
        }
    }

    fn rpc(
        &mut self,
        family: Family,
    ) -> Result<&mut request_response::Behaviour<RawCodec>, String> {
        let behaviour = self.swarm.behaviour_mut();
        Ok(match family {
            Family::Status => &mut behaviour.status,
            Family::Ping => &mut behaviour.ping,
            Family::BlocksByRange => &mut behaviour.blocks_by_range,
            Family::BlocksByRoot => &mut behaviour.blocks_by_root,
            other => return Err(format!("a raw peer does not speak {}", other.name())),
        })
    }

    fn observe(&mut self, event: SwarmEvent<RawBehaviourEvent>) {
        use request_response::{Event, Message};
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                self.connected.insert(peer_id);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.connected.remove(&peer_id);
            }
            SwarmEvent::Behaviour(event) => {
                let (family, event) = match event {
                    RawBehaviourEvent::Status(e) => (Family::Status, e),
                    RawBehaviourEvent::Ping(e) => (Family::Ping, e),
                    RawBehaviourEvent::BlocksByRange(e) => (Family::BlocksByRange, e),
                    RawBehaviourEvent::BlocksByRoot(e) => (Family::BlocksByRoot, e),
                };
                match event {
                    Event::Message {
                        message:
                            Message::Response {
                                request_id,
                                response,
                            },
                        ..
                    } => {
                        self.answers.insert((family, request_id), Ok(response));
                    }
                    Event::OutboundFailure {
                        request_id, error, ..
                    } => {
                        self.answers
                            .insert((family, request_id), Err(error.to_string()));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}
