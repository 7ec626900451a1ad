//! The libp2p transport (`--transport libp2p`): the same pipeline, but its gossip arrives
//! through a real keel-p2p host, published by a second keel-p2p host in the same process.
//!
//! The node's host hands gossip to [`NodeApp`], which does what the node's own network app
//! does (`node/bin/src/network.rs`, `NodeNetwork`): a bounded ingest queue in front of the
//! verify stage, shedding (returning `false`, which gossipsub turns into `Ignore`) when it is
//! full. The ingest thread records each message's receipt time as the host set it
//! (`RawMessage::received_at`), remembers which peer tag the host gave the sender, and submits
//! it under the message's own number (the [`crate::sink::Sink`] files verdicts by `PeerTag`);
//! the sink reports every verdict back to gossipsub with the host's peer tag, as the node's
//! sink does.
//!
//! The sender is a second host on its own tokio runtime that dials the node (a static peer,
//! loopback, no discovery), subscribes to the same topics, and publishes the pre-compressed
//! messages with [`NetworkHandle::publish`] on the schedule the in-process feeder keeps.

use crate::LoadError;
use crate::generate::{P, State};
use crate::sink::Sink;
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use keel_config::ChainConfig;
use keel_decode::GossipDecoder;
use keel_p2p::{
    Chunk, EnrFields, Family, Limits, Multiaddr, NetworkApp, NetworkConfig, NetworkHandle,
};
use keel_pipeline_api::{PeerTag, RawMessage};
use keel_types::Hash256;
use keel_types::fulu::{MetaData, StatusV2};
use keel_types::phase0::ENRForkID;
use keel_types::ssz::Encode;
use keel_verify::VerifyStage;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Gossip waiting for the verify stage; beyond this the node's app sheds. The node's own
/// ingest queue (`node/bin/src/network.rs`) has the same capacity.
const INGEST_CAPACITY: usize = 8192;

/// How long the two hosts may take to connect and see each other's subscriptions.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Gossipsub's heartbeat, as the node configures it (the spec's 0.7 s).
const HEARTBEAT: Duration = Duration::from_millis(700);

/// A message's key in the node's lookup: a hash of its topic and bytes. Every scheduled message
/// is distinct (the adversarial profile's duplicates are exact copies of a message, and
/// gossipsub's duplicate cache stops them before they are delivered), so a 64-bit hash is
/// enough to find its number; it is also cheaper on the swarm's task than the message id
/// (which needs a snappy decompression).
fn key(topic: &str, data: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    topic.hash(&mut hasher);
    data.hash(&mut hasher);
    hasher.finish()
}

/// The Status both hosts give: the load test's chain at its anchor.
pub fn anchor_status(state: &State, anchor_root: Hash256, digest: [u8; 4]) -> StatusV2 {
    StatusV2 {
        fork_digest: digest,
        finalized_root: state.finalized_checkpoint.root,
        finalized_epoch: state.finalized_checkpoint.epoch,
        head_root: anchor_root,
        head_slot: state.slot,
        earliest_available_slot: state.slot,
    }
}

/// The node's rule for a peer's Status (`NodeNetwork::check_status`): same fork digest, and
/// the same finalized root where the finalized epochs agree.
fn check_status(ours: &StatusV2, theirs: &StatusV2) -> Result<(), String> {
    if theirs.fork_digest != ours.fork_digest {
        return Err("fork digest is not ours".into());
    }
    if theirs.finalized_epoch == ours.finalized_epoch
        && theirs.finalized_epoch > 0
        && theirs.finalized_root != ours.finalized_root
    {
        return Err("a different finalized checkpoint".into());
    }
    Ok(())
}

/// The node's side of the network: gossip into the ingest queue.
pub struct NodeApp {
    status: StatusV2,
    /// Each scheduled message's number by [`key`]; set once the schedule is made.
    index: OnceLock<HashMap<u64, usize>>,
    ingest: Sender<(usize, RawMessage)>,
    /// Messages that were not scheduled: the sender's probes.
    probes: AtomicU64,
    /// Scheduled messages shed because the ingest queue was full.
    shed: AtomicU64,
}

impl NetworkApp for NodeApp {
    fn gossip(&self, raw: RawMessage) -> bool {
        let found = self
            .index
            .get()
            .and_then(|index| index.get(&key(&raw.topic, &raw.data)));
        let Some(&index) = found else {
            // Not a scheduled message: a probe (see `Libp2p::start`). Refusing it makes the
            // host ignore it in gossipsub, which costs the sender nothing.
            self.probes.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        match self.ingest.try_send((index, raw)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shed.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    fn status(&self) -> StatusV2 {
        self.status
    }

    fn check_status(&self, status: &StatusV2) -> Result<(), String> {
        check_status(&self.status, status)
    }

    /// Nothing is stored to serve: the sender never asks.
    fn serve(&self, _family: Family, _request: &[u8]) -> Vec<Chunk> {
        Vec::new()
    }
}

/// The sender's side: it is not a node and takes no gossip.
struct SenderApp {
    status: StatusV2,
}

impl NetworkApp for SenderApp {
    /// Refused (so ignored in gossipsub): the node forwards nothing back to its only peer, the
    /// message's source, so this is never expected.
    fn gossip(&self, _raw: RawMessage) -> bool {
        false
    }

    fn status(&self) -> StatusV2 {
        self.status
    }

    fn check_status(&self, status: &StatusV2) -> Result<(), String> {
        check_status(&self.status, status)
    }

    fn serve(&self, _family: Family, _request: &[u8]) -> Vec<Chunk> {
        Vec::new()
    }
}

/// A host's configuration, as the node's `network_config` makes it: loopback, an ephemeral
/// TCP port, no QUIC, no discovery; the gossip message id from the pipeline's decoder; limits
/// from the chain config.
fn network_config(
    config: &ChainConfig,
    genesis_validators_root: Hash256,
    epoch: u64,
    secret: [u8; 32],
    topics: Vec<String>,
    subnets: &[u64],
    static_peers: Vec<Multiaddr>,
) -> NetworkConfig {
    let digest = config.compute_fork_digest(genesis_validators_root, epoch);
    let enr_fork_id = ENRForkID {
        fork_digest: digest,
        next_fork_version: config.next_fork_version(epoch),
        next_fork_epoch: config.next_fork_epoch(epoch),
    };
    let custody_group_count = config.custody_requirement;
    let mut metadata = MetaData {
        seq_number: 1,
        custody_group_count,
        ..MetaData::default()
    };
    let mut attnets = vec![0u8; (config.attestation_subnet_count as usize).div_ceil(8)];
    for subnet in subnets {
        let subnet = *subnet as usize;
        let _ = metadata.attnets.set(subnet, true);
        if let Some(byte) = attnets.get_mut(subnet / 8) {
            *byte |= 1 << (subnet % 8);
        }
    }
    let decoder = GossipDecoder::<P>::new(config, genesis_validators_root);
    NetworkConfig {
        listen_address: std::net::IpAddr::from([127, 0, 0, 1]),
        tcp_port: 0,
        quic_port: None,
        discovery_port: None,
        boot_nodes: Vec::new(),
        static_peers,
        target_peers: 50,
        max_inbound: 80,
        secret,
        enr_fields: EnrFields {
            eth2: enr_fork_id.as_ssz_bytes(),
            attnets,
            syncnets: vec![0],
            custody_group_count,
            next_fork_digest: config.next_fork_digest(genesis_validators_root, epoch),
        },
        metadata,
        limits: Limits::derive(
            config.max_payload_size,
            config.max_request_blocks_deneb,
            config.max_blobs_per_block_electra,
            <P as keel_types::Preset>::number_of_columns(),
        ),
        ban_duration: Duration::from_secs(1800),
        message_id: Arc::new(move |topic, data| {
            decoder.message_id(topic, decoder.decompress(data).ok().as_deref(), data)
        }),
        topics,
        gossip_heartbeat: HEARTBEAT,
    }
}

fn runtime(name: &str, threads: usize) -> Result<tokio::runtime::Runtime, LoadError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| LoadError::Network(format!("tokio runtime: {e}")))
}

/// Where the chain is, for both hosts' configurations.
pub struct ChainView<'a> {
    pub config: &'a ChainConfig,
    pub genesis_validators_root: Hash256,
    pub epoch: u64,
    pub status: StatusV2,
}

/// The two hosts, connected.
pub struct Libp2p {
    /// The hosts' tasks run on these; a runtime each, as two machines would.
    node_runtime: tokio::runtime::Runtime,
    sender_runtime: tokio::runtime::Runtime,
    node: NetworkHandle,
    sender: NetworkHandle,
    app: Arc<NodeApp>,
    queue: Option<Receiver<(usize, RawMessage)>>,
    ingest: Option<JoinHandle<()>>,
}

/// What the transport itself saw.
pub struct Libp2pCounts {
    pub shed: u64,
    pub probes: u64,
}

impl Libp2p {
    /// Starts the node's host and the sender's, has the sender dial the node, and waits until
    /// a probe published by the sender reaches the node's app: the connection is up, the
    /// Status exchange passed and the sender knows the node's subscriptions.
    pub fn start(
        chain: &ChainView<'_>,
        topics: Vec<String>,
        subnets: &[u64],
    ) -> Result<Self, LoadError> {
        let fail =
            |what: &str, e: keel_p2p::NetworkError| LoadError::Network(format!("{what}: {e}"));
        // Node-sized: a running node's runtime has a worker per core (two here); the sender
        // needs one.
        let node_runtime = runtime("keel-lt-node", 2)?;
        let sender_runtime = runtime("keel-lt-sender", 1)?;
        let (ingest, queue) = bounded(INGEST_CAPACITY);
        let app = Arc::new(NodeApp {
            status: chain.status,
            index: OnceLock::new(),
            ingest,
            probes: AtomicU64::new(0),
            shed: AtomicU64::new(0),
        });
        // Two fixed identities (any valid secp256k1 scalar): the runs are reproducible.
        let node_config = network_config(
            chain.config,
            chain.genesis_validators_root,
            chain.epoch,
            [0x11; 32],
            topics.clone(),
            subnets,
            Vec::new(),
        );
        let (node, _node_events) = node_runtime
            .block_on(keel_p2p::start(
                node_config,
                Arc::clone(&app) as Arc<dyn NetworkApp>,
            ))
            .map_err(|e| fail("starting the node's host", e))?;
        // The node's TCP address and identity: what a static peer is dialled at.
        let dial: Multiaddr = node
            .listen_addresses
            .iter()
            .find(|a| a.to_string().contains("/tcp/"))
            .map(|a| format!("{a}/p2p/{}", node.peer_id))
            .ok_or_else(|| LoadError::Network("the node's host has no TCP address".into()))?
            .parse()
            .map_err(|e| LoadError::Network(format!("the node's address: {e}")))?;
        let probe_topic = topics
            .first()
            .cloned()
            .ok_or_else(|| LoadError::Network("no topics".into()))?;
        let sender_config = network_config(
            chain.config,
            chain.genesis_validators_root,
            chain.epoch,
            [0x22; 32],
            topics,
            subnets,
            vec![dial.clone()],
        );
        let (sender, _sender_events) = sender_runtime
            .block_on(keel_p2p::start(
                sender_config,
                Arc::new(SenderApp {
                    status: chain.status,
                }) as Arc<dyn NetworkApp>,
            ))
            .map_err(|e| fail("starting the sender's host", e))?;
        eprintln!(
            "libp2p: node {} on {}, sender {} dialling it",
            node.peer_id, dial, sender.peer_id
        );
        let started = Instant::now();
        let mut probe = 0u64;
        loop {
            if started.elapsed() > CONNECT_TIMEOUT {
                return Err(LoadError::Network(format!(
                    "the sender did not reach the node within {} s (peers: node {}, sender {})",
                    CONNECT_TIMEOUT.as_secs(),
                    node.peer_count(),
                    sender.peer_count()
                )));
            }
            if app.probes.load(Ordering::Relaxed) > 0 {
                break;
            }
            // Probing starts once the Status exchange is done (before it the connection may
            // still be refused as another chain's). A probe published before the sender has
            // the node's subscriptions goes nowhere ("insufficient peers"): hence the retries.
            let ready = |h: &NetworkHandle, other| {
                h.peers()
                    .iter()
                    .any(|p| p.peer_id == other && p.status.is_some())
            };
            if ready(&sender, node.peer_id) || ready(&node, sender.peer_id) {
                probe += 1;
                // Distinct bytes every time, or the duplicate cache would stop the next one.
                sender.publish(
                    probe_topic.clone(),
                    format!("keel-loadtest probe {probe}").into_bytes(),
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!(
            "libp2p: connected; probe {probe} reached the node after {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(Libp2p {
            node_runtime,
            sender_runtime,
            node,
            sender,
            app,
            queue: Some(queue),
            ingest: None,
        })
    }

    /// Tells the node's app which message is which (by topic and bytes).
    pub fn set_schedule<'a>(
        &self,
        messages: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<(), LoadError> {
        let mut index = HashMap::new();
        for (i, (topic, data)) in messages.enumerate() {
            // An exact copy (the adversarial profile's duplicates) keeps the first number:
            // gossipsub delivers only the first anyway.
            index.entry(key(topic, data)).or_insert(i);
        }
        self.app
            .index
            .set(index)
            .map_err(|_| LoadError::Network("the schedule was set twice".into()))
    }

    /// Starts the ingest thread: gossip from the node's host into `stage`, each message
    /// recorded with the receipt time the host gave it and under its own number.
    pub fn start_ingest(
        &mut self,
        sink: Arc<Sink>,
        stage: Arc<VerifyStage<P>>,
    ) -> Result<(), LoadError> {
        let Some(queue) = self.queue.take() else {
            return Err(LoadError::Network(
                "the ingest thread was started twice".into(),
            ));
        };
        sink.set_network(self.node.clone());
        let thread = std::thread::Builder::new()
            .name("keel-lt-ingest".into())
            .spawn(move || {
                // Ends when the node's app (the only sender) is dropped.
                for (index, mut raw) in queue {
                    sink.received(index, raw.received_at, raw.peer);
                    raw.peer = PeerTag(index as u64);
                    stage.submit(raw);
                }
            })
            .map_err(LoadError::Stage)?;
        self.ingest = Some(thread);
        Ok(())
    }

    /// Publishes one message from the sender's host.
    pub fn publish(&self, topic: String, data: Vec<u8>) {
        self.sender.publish(topic, data);
    }

    pub fn counts(&self) -> Libp2pCounts {
        Libp2pCounts {
            shed: self.app.shed.load(Ordering::Relaxed),
            probes: self.app.probes.load(Ordering::Relaxed),
        }
    }

    /// Whether the sender is still connected to the node (a node bans a peer whose messages
    /// fail validation too often).
    pub fn connected(&self) -> bool {
        self.node
            .peers()
            .iter()
            .any(|p| p.peer_id == self.sender.peer_id)
    }

    /// Stops both hosts and waits for the ingest thread to hand over what it holds.
    pub fn stop(self) {
        let Libp2p {
            node_runtime,
            sender_runtime,
            node,
            sender,
            app,
            queue,
            ingest,
        } = self;
        sender_runtime.block_on(sender.shutdown());
        sender_runtime.shutdown_timeout(Duration::from_secs(2));
        node_runtime.block_on(node.shutdown());
        // Shutting the runtime down drops the host's task, and with it its handle on the app.
        node_runtime.shutdown_timeout(Duration::from_secs(2));
        // The last handle on the app, whose end of the ingest queue goes with it: the ingest
        // thread drains what is queued and ends.
        drop(app);
        drop(queue);
        if let Some(thread) = ingest {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_pipeline_api::{GossipKind, GossipTopic};

    #[test]
    fn status_on_another_fork_or_finalized_root_is_refused() {
        let ours = StatusV2 {
            fork_digest: [1, 2, 3, 4],
            finalized_epoch: 5,
            finalized_root: Hash256::repeat_byte(1),
            ..StatusV2::default()
        };
        assert!(check_status(&ours, &ours).is_ok());
        let other_fork = StatusV2 {
            fork_digest: [9, 9, 9, 9],
            ..ours
        };
        assert!(check_status(&ours, &other_fork).is_err());
        let other_root = StatusV2 {
            finalized_root: Hash256::repeat_byte(2),
            ..ours
        };
        assert!(check_status(&ours, &other_root).is_err());
        let behind = StatusV2 {
            finalized_epoch: 4,
            finalized_root: Hash256::repeat_byte(2),
            ..ours
        };
        assert!(check_status(&ours, &behind).is_ok());
    }

    /// The sender's publication reaches the node's app through both hosts, under the number
    /// the schedule gave it, stamped with the host's receipt time.
    #[test]
    fn a_published_message_reaches_the_node_under_its_number() {
        let config = crate::config(1.0);
        let gvr = Hash256::repeat_byte(7);
        let digest = config.compute_fork_digest(gvr, 0);
        let topic = GossipTopic {
            fork_digest: digest,
            kind: GossipKind::BeaconAggregateAndProof,
        }
        .to_string();
        let chain = ChainView {
            config: &config,
            genesis_validators_root: gvr,
            epoch: 0,
            status: StatusV2 {
                fork_digest: digest,
                ..StatusV2::default()
            },
        };
        let net = Libp2p::start(&chain, vec![topic.clone()], &[]).expect("both hosts connect");
        // Gossipsub does not look inside: any snappy payload goes through the hosts.
        let other = crate::compress(b"another message");
        let data = crate::compress(b"a scheduled message");
        net.set_schedule(
            [
                (topic.as_str(), other.as_slice()),
                (topic.as_str(), data.as_slice()),
            ]
            .into_iter(),
        )
        .expect("first schedule");
        let published = Instant::now();
        net.publish(topic.clone(), data.clone());
        let (index, raw) = net
            .queue
            .as_ref()
            .expect("ingest not started")
            .recv_timeout(Duration::from_secs(10))
            .expect("the node's app got the message");
        assert_eq!(index, 1);
        assert_eq!(raw.topic, topic);
        assert_eq!(raw.data, data);
        assert!(raw.received_at >= published);
        assert_eq!(net.counts().shed, 0);
        assert!(net.connected());
        net.stop();
    }
}
