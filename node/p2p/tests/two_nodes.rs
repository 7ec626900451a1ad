//! Two network services on loopback: they connect (static peer), exchange Status, carry
//! gossip both ways with verdicts, answer req/resp from the app, and a peer that keeps sending
//! invalid gossip is scored down, disconnected and banned.

use keel_p2p::rpc::Chunk;
use keel_p2p::{EnrFields, Family, Limits, NetworkApp, NetworkConfig, NetworkEvent};
use keel_pipeline_api::{RawMessage, Verdict};
use keel_types::fulu::{MetaData, StatusV2};
use keel_types::ssz::{Decode, Encode};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

const TOPIC: &str = "/eth2/01020304/beacon_block/ssz_snappy";

struct App {
    gossip: mpsc::UnboundedSender<RawMessage>,
    served: Mutex<Vec<(Family, Vec<u8>)>>,
}

impl NetworkApp for App {
    fn gossip(&self, raw: RawMessage) -> bool {
        self.gossip.send(raw).is_ok()
    }
    fn status(&self) -> StatusV2 {
        StatusV2 {
            fork_digest: [1, 2, 3, 4],
            head_slot: 7,
            ..Default::default()
        }
    }
    fn check_status(&self, status: &StatusV2) -> Result<(), String> {
        (status.fork_digest == [1, 2, 3, 4])
            .then_some(())
            .ok_or_else(|| "other fork".into())
    }
    fn serve(&self, family: Family, request: &[u8]) -> Vec<Chunk> {
        if let Ok(mut served) = self.served.lock() {
            served.push((family, request.to_vec()));
        }
        (0..3u8)
            .map(|i| Chunk::Success {
                context: [1, 2, 3, 4],
                ssz: vec![i; 100],
            })
            .collect()
    }
}

fn config(secret: [u8; 32], static_peers: Vec<keel_p2p::Multiaddr>) -> NetworkConfig {
    NetworkConfig {
        listen_address: IpAddr::from([127, 0, 0, 1]),
        tcp_port: 0,
        quic_port: None,
        discovery_port: None,
        boot_nodes: Vec::new(),
        static_peers,
        target_peers: 4,
        max_inbound: 8,
        secret,
        enr_fields: EnrFields {
            eth2: vec![
                1, 2, 3, 4, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            attnets: vec![0; 8],
            syncnets: vec![0],
            custody_group_count: 4,
            next_fork_digest: [0; 4],
        },
        metadata: MetaData::default(),
        limits: Limits {
            max_payload_size: 10 << 20,
            max_request_blocks: 128,
            max_request_blob_sidecars: 768,
            max_request_data_column_sidecars: 16384,
        },
        ban_duration: Duration::from_secs(60),
        message_id: Arc::new(|topic, data| {
            let mut id = [0u8; 20];
            for (i, b) in topic.bytes().chain(data.iter().copied()).enumerate() {
                id[i % 20] ^= b;
            }
            id
        }),
        topics: vec![TOPIC.to_string()],
        gossip_heartbeat: Duration::from_millis(200),
    }
}

fn secret(byte: u8) -> [u8; 32] {
    let mut s = [byte; 32];
    s[0] = 1;
    s
}

async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(value) = check() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_gossip_serve_and_ban() {
    let (gossip_a, mut inbox_a) = mpsc::unbounded_channel();
    let app_a = Arc::new(App {
        gossip: gossip_a,
        served: Mutex::new(Vec::new()),
    });
    let (a, mut events_a) = keel_p2p::start(config(secret(7), Vec::new()), app_a.clone())
        .await
        .unwrap();
    let address = a.listen_addresses[0]
        .clone()
        .with(libp2p::multiaddr::Protocol::P2p(a.peer_id));
    let (gossip_b, mut inbox_b) = mpsc::unbounded_channel();
    let app_b = Arc::new(App {
        gossip: gossip_b,
        served: Mutex::new(Vec::new()),
    });
    let (b, _events_b) = keel_p2p::start(config(secret(9), vec![address]), app_b)
        .await
        .unwrap();

    // B dials A and opens with Status; A accepts it as a sync source.
    let ready = tokio::time::timeout(Duration::from_secs(10), events_a.recv())
        .await
        .expect("A hears about B")
        .unwrap();
    let NetworkEvent::PeerReady {
        peer: b_at_a,
        status,
    } = ready
    else {
        panic!("expected PeerReady, got {ready:?}");
    };
    assert_eq!(status.head_slot, 7);
    let a_at_b = until("B sees A", || b.peers().first().map(|p| p.tag)).await;

    // Req/resp: B asks A for blocks; A's app answers with three chunks and context bytes.
    let chunks = b
        .request(a_at_b, Family::BlocksByRange, vec![5; 24])
        .await
        .unwrap();
    assert_eq!(chunks.len(), 3);
    assert!(
        matches!(&chunks[2], Chunk::Success { context: [1, 2, 3, 4], ssz } if ssz == &vec![2u8; 100])
    );
    assert_eq!(
        app_a.served.lock().unwrap()[0],
        (Family::BlocksByRange, vec![5; 24])
    );
    let pong = b
        .request(a_at_b, Family::Ping, 0u64.as_ssz_bytes())
        .await
        .unwrap();
    assert!(matches!(&pong[0], Chunk::Success { ssz, .. } if u64::from_ssz_bytes(ssz) == Ok(0)));

    // Gossip: wait for the mesh, then B publishes and A receives it with B's tag.
    tokio::time::sleep(Duration::from_secs(2)).await;
    b.publish(TOPIC.to_string(), b"hello".to_vec());
    let received = tokio::time::timeout(Duration::from_secs(10), inbox_a.recv())
        .await
        .expect("A receives B's gossip")
        .unwrap();
    assert_eq!(received.data, b"hello");
    assert_eq!(received.peer, b_at_a);
    a.report([0; 20], received.peer, Verdict::Accept);
    a.publish(TOPIC.to_string(), b"back".to_vec());
    let back = tokio::time::timeout(Duration::from_secs(10), inbox_b.recv())
        .await
        .expect("B receives A's gossip")
        .unwrap();
    assert_eq!(back.data, b"back");

    // B turns bad: every message it sends is rejected by A's pipeline. A bans it.
    for i in 0..10u8 {
        b.publish(TOPIC.to_string(), vec![b'x', i]);
        if let Ok(Some(raw)) = tokio::time::timeout(Duration::from_secs(5), inbox_a.recv()).await {
            a.report(
                [0; 20],
                raw.peer,
                Verdict::Reject("invalid signature".into()),
            );
        }
        if a.peers().is_empty() {
            break;
        }
    }
    until("A drops B", || a.peers().is_empty().then_some(())).await;
    // And refuses B when it comes back (B redials its static peer).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(a.peers().is_empty(), "a banned peer got back in");
}
