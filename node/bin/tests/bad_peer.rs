//! Bad peers: two `keel dev` processes share one devnet (the "victim" and an honest proposer,
//! a quarter of the validators run by nobody), and three hostile peers inside this test attack
//! the victim over libp2p on loopback:
//!
//! - `gossip`, a keel-p2p host on the victim's real topics: replays of an imported block (spam
//!   of duplicates, which cost nothing), then one each of malformed snappy, a snappy header
//!   claiming 2 GiB, a real snappy payload that decompresses to more than `MAX_PAYLOAD_SIZE`,
//!   bytes that are no block, and three syntactically valid blocks the gossip rules reject: a
//!   proposer index out of range, the wrong proposer, and the right proposer with a bad
//!   signature;
//! - `frames`, a raw peer (`keel_p2p::testing`) that opens with a valid Status and then sends
//!   req/resp frames the codec would never write: garbage snappy, a length prefix beyond the
//!   limit, a stream beyond the limit, an overlong varint;
//! - `spam`, a keel-p2p host that floods Ping requests beyond the rate limit.
//!
//! Each must be penalised, banned (the victim's `keel_p2p_penalties_total`/`keel_p2p_bans_total`
//! count it, its log names it), disconnected, and refused when it dials again; every kind of
//! invalid gossip is rejected; the honest peer is never banned; neither process crashes; and
//! the victim keeps importing the honest node's blocks afterwards.
//!
//! `BAD_PEER_KEEP=1` keeps the nodes' data directories and logs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use keel_config::ChainConfig;
use keel_p2p::rpc::{Family, encode_request};
use keel_p2p::testing::RawPeer;
use keel_p2p::{
    Chunk, EnrFields, Limits, Multiaddr, NetworkApp, NetworkConfig, NetworkEvent, NetworkHandle,
    PeerId,
};
use keel_pipeline_api::{GossipKind, GossipTopic, RawMessage};
use keel_types::fulu::{MetaData, SignedBeaconBlock, StatusV2};
use keel_types::ssz::{Decode, Encode};
use keel_types::{Hash256, Minimal, Preset};
use serde_json::Value;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{Api, KillOnDrop, free_port, spawn_keel};
use tokio::sync::mpsc::UnboundedReceiver;

const VALIDATORS: u64 = 48;
const VICTIM: Range<u64> = 0..12;
const HONEST: Range<u64> = 12..36;
/// Nobody runs these: their slots stay empty, so a block "by" one of them can only come from
/// the test.
const OFFLINE: Range<u64> = 36..48;
const SLOT_MS: u64 = 1000;

struct Node {
    child: KillOnDrop,
    http: u16,
    metrics: u16,
    p2p: u16,
    datadir: PathBuf,
}

impl Node {
    fn start(datadir: &Path, genesis_time: u64, range: &Range<u64>, peer: Option<&str>) -> Node {
        let (http, metrics, p2p) = (free_port(), free_port(), free_port());
        let mut args: Vec<String> = vec!["dev".into(), "--slot-ms".into(), SLOT_MS.to_string()];
        args.extend(["--validators".into(), VALIDATORS.to_string()]);
        args.extend(["--datadir".into(), datadir.display().to_string()]);
        for (flag, value) in [
            ("--genesis-time", genesis_time),
            ("--http-port", u64::from(http)),
            ("--metrics-port", u64::from(metrics)),
            ("--p2p-port", u64::from(p2p)),
        ] {
            args.extend([flag.to_string(), value.to_string()]);
        }
        args.extend([
            "--local-validators".into(),
            format!("{}..{}", range.start, range.end),
        ]);
        if let Some(peer) = peer {
            args.extend(["--peer".into(), peer.into()]);
        }
        // A fresh log per node (the datadir is new).
        let _ = std::fs::remove_file(datadir.with_extension("log"));
        let child = KillOnDrop(spawn_keel(args, &datadir.with_extension("log")));
        Node {
            child,
            http,
            metrics,
            p2p,
            datadir: datadir.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.datadir.with_extension("log")).unwrap_or_default()
    }

    fn alive(&mut self) -> bool {
        self.child.0.try_wait().unwrap().is_none()
    }

    /// The ENR the node wrote, once it has.
    async fn enr(&self) -> keel_p2p::Enr {
        let path = self.datadir.join("network").join("enr");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && let Ok(enr) = text.trim().parse::<keel_p2p::Enr>()
            {
                return enr;
            }
            assert!(Instant::now() < deadline, "no ENR at {}", path.display());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn get(&self, path: &str) -> Option<Value> {
        Api(self.http).get(path).await
    }

    async fn block_ssz(&self, root: &str) -> Vec<u8> {
        let response = reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{}/eth/v2/beacon/blocks/{root}",
                self.http
            ))
            .header("accept", "application/octet-stream")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "block {root}: {response:?}");
        response.bytes().await.unwrap().to_vec()
    }

    /// `(root, proposer)` of the canonical block at `slot`, if there is one.
    async fn header_at(&self, slot: u64) -> Option<(String, u64)> {
        Api(self.http).header_at(slot).await
    }

    async fn head_slot(&self) -> Option<u64> {
        Api(self.http).head().await.map(|(slot, _)| slot)
    }

    /// The head state's slot and its Fulu proposer lookahead (this epoch's and the next's).
    async fn lookahead(&self) -> Option<(u64, Vec<u64>)> {
        let v = self.get("/eth/v2/debug/beacon/states/head").await?;
        let slot = v.pointer("/data/slot")?.as_str()?.parse().ok()?;
        let lookahead = v
            .pointer("/data/proposer_lookahead")?
            .as_array()?
            .iter()
            .map(|p| p.as_str().and_then(|p| p.parse().ok()))
            .collect::<Option<Vec<u64>>>()?;
        Some((slot, lookahead))
    }

    /// A metric's value, summed over the series whose labels contain `label`.
    async fn metric(&self, name: &str, label: &str) -> f64 {
        let Ok(response) = reqwest::get(format!("http://127.0.0.1:{}/metrics", self.metrics)).await
        else {
            return 0.0;
        };
        let text = response.text().await.unwrap_or_default();
        text.lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
                    && line.contains(label)
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn wall_slot(genesis_time: u64) -> u64 {
    now_ms().saturating_sub(genesis_time * 1000) / SLOT_MS
}

fn hash(hex: &str) -> Hash256 {
    let hex = hex.trim_start_matches("0x");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Hash256::from_slice(&bytes)
}

fn snappy(bytes: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(bytes).unwrap()
}

/// What a hostile keel-p2p host tells the victim: its chain, so that it is not turned away as
/// irrelevant before it misbehaves; gossip it hears is counted and dropped.
struct HostileApp {
    digest: [u8; 4],
    heard: AtomicUsize,
}

impl NetworkApp for HostileApp {
    fn gossip(&self, _: RawMessage) -> bool {
        self.heard.fetch_add(1, Ordering::Relaxed);
        false
    }
    fn status(&self) -> StatusV2 {
        StatusV2 {
            fork_digest: self.digest,
            ..StatusV2::default()
        }
    }
    fn check_status(&self, _: &StatusV2) -> Result<(), String> {
        Ok(())
    }
    fn serve(&self, _: Family, _: &[u8]) -> Vec<Chunk> {
        Vec::new()
    }
}

struct Hostile {
    handle: NetworkHandle,
    events: UnboundedReceiver<NetworkEvent>,
    app: Arc<HostileApp>,
}

/// A keel-p2p host on the victim's chain, subscribed to `topics`. Its message ids are unique
/// per message, so that its gossipsub sends the same bytes as often as it is told to.
async fn hostile_host(digest: [u8; 4], topics: Vec<String>) -> Hostile {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let config = ChainConfig::dev(SLOT_MS);
    let secret = loop {
        let mut candidate = [0u8; 32];
        candidate[..16].copy_from_slice(&now_ms().to_le_bytes().repeat(2));
        candidate[16..24].copy_from_slice(&NEXT_ID.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        candidate[31] = 1;
        if keel_p2p::discovery::libp2p_keypair(candidate).is_ok() {
            break candidate;
        }
    };
    let mut eth2 = digest.to_vec();
    eth2.extend_from_slice(&[0; 12]);
    let network = NetworkConfig {
        listen_address: [127, 0, 0, 1].into(),
        tcp_port: 0,
        quic_port: None,
        discovery_port: None,
        boot_nodes: Vec::new(),
        static_peers: Vec::new(),
        target_peers: 4,
        max_inbound: 4,
        secret,
        enr_fields: EnrFields {
            eth2,
            attnets: vec![0; 8],
            syncnets: vec![0],
            custody_group_count: config.custody_requirement,
            next_fork_digest: [0; 4],
        },
        metadata: MetaData::default(),
        limits: Limits {
            max_payload_size: config.max_payload_size,
            max_request_blocks: config.max_request_blocks_deneb,
            max_request_blob_sidecars: config.max_request_blocks_deneb
                * config.max_blobs_per_block_electra,
            max_request_data_column_sidecars: config.max_request_blocks_deneb * 128,
        },
        ban_duration: Duration::from_secs(60),
        message_id: Arc::new(|_, _| {
            let mut id = [0u8; 20];
            id[..8].copy_from_slice(&NEXT_ID.fetch_add(1, Ordering::Relaxed).to_le_bytes());
            id
        }),
        topics,
        gossip_heartbeat: Duration::from_millis(700),
    };
    let app = Arc::new(HostileApp {
        digest,
        heard: AtomicUsize::new(0),
    });
    let (handle, events) = keel_p2p::start(network, app.clone()).await.unwrap();
    Hostile {
        handle,
        events,
        app,
    }
}

impl Hostile {
    /// Dials `victim` and waits for the Status exchange; returns the victim's tag.
    async fn join(&mut self, victim: &Multiaddr) -> keel_pipeline_api::PeerTag {
        self.handle.dial(victim.clone());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(NetworkEvent::PeerReady { peer, .. })) => return peer,
                Ok(Some(_)) => {}
                other => panic!("the victim never became ready: {other:?}"),
            }
        }
    }

    /// Waits until the victim drops the connection.
    async fn wait_gone(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(NetworkEvent::PeerGone { .. })) => return true,
                Ok(Some(_)) => {}
                _ => return self.handle.peer_count() == 0,
            }
        }
    }

    /// Dials the victim again: it must not become a peer (the connection, if it opens at all,
    /// is closed at once and no Status is answered).
    async fn redial_is_refused(&mut self, victim: &Multiaddr) -> Result<(), String> {
        self.handle.dial(victim.clone());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
        while let Ok(event) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            if let Some(NetworkEvent::PeerReady { .. }) = event {
                return Err("the victim accepted a banned peer's Status".into());
            }
        }
        match self.handle.peer_count() {
            0 => Ok(()),
            n => Err(format!("still connected to {n} peers after the redial")),
        }
    }
}

/// The `gossip` hostile: duplicates, then one of each kind of invalid message; returns its
/// peer id once the victim has dropped it and refused it again.
async fn gossip_attack(
    victim: &Node,
    victim_address: &Multiaddr,
    digest: [u8; 4],
    genesis_time: u64,
) -> PeerId {
    let topic = GossipTopic {
        fork_digest: digest,
        kind: GossipKind::BeaconBlock,
    }
    .to_string();
    let mut hostile = hostile_host(digest, vec![topic.clone()]).await;
    hostile.join(victim_address).await;
    // The victim's gossip reaching us means the subscriptions have been exchanged.
    let deadline = Instant::now() + Duration::from_secs(10);
    while hostile.app.heard.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Spam of duplicates: an imported block, again and again. Duplicates are not an offence.
    let rejects_before = victim
        .metric("keel_p2p_penalties_total", "invalid_gossip")
        .await;
    let head = victim.get("/eth/v1/beacon/headers/head").await.unwrap();
    let head_root = head.pointer("/data/root").unwrap().as_str().unwrap();
    let replay = snappy(&victim.block_ssz(head_root).await);
    for _ in 0..30 {
        hostile.handle.publish(topic.clone(), replay.clone());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        victim
            .metric("keel_p2p_penalties_total", "invalid_gossip")
            .await,
        rejects_before,
        "replayed duplicates were penalised"
    );
    assert_eq!(hostile.handle.peer_count(), 1, "dropped for duplicates");

    // Invalid blocks at a slot whose proposer is offline: no honest block can claim it.
    let blocks = invalid_blocks(victim, genesis_time).await;
    let config = ChainConfig::dev(SLOT_MS);
    let max = config.max_payload_size;
    // Snappy's raw format: varint(length) then elements; a copy reaching 4 GiB back is invalid.
    let malformed_snappy = vec![0x20, 0x03, 0xff, 0xff, 0xff, 0xff, 0xaa];
    // A header claiming 2 GiB.
    let claims_too_much = vec![0x80, 0x80, 0x80, 0x80, 0x08, 0x00, 0x61];
    // A real snappy block that decompresses to one byte more than `MAX_PAYLOAD_SIZE` (half a
    // megabyte on the wire). Compressed payloads beyond gossipsub's transmit size never reach
    // the node: libp2p closes the stream they arrive on.
    let too_large = snappy(&vec![0u8; max as usize + 1]);
    let not_a_block = snappy(b"these bytes are not a SignedBeaconBlock");
    let messages = [
        malformed_snappy,
        claims_too_much,
        too_large,
        not_a_block,
        blocks.out_of_range,
        blocks.wrong_proposer,
        blocks.bad_signature,
    ];
    for message in messages {
        hostile.handle.publish(topic.clone(), message);
    }
    assert!(
        hostile.wait_gone(Duration::from_secs(15)).await,
        "the victim kept a peer that sent invalid gossip"
    );
    hostile
        .redial_is_refused(victim_address)
        .await
        .expect("gossip hostile");
    let id = hostile.handle.peer_id;
    hostile.handle.shutdown().await;
    id
}

struct InvalidBlocks {
    out_of_range: Vec<u8>,
    wrong_proposer: Vec<u8>,
    bad_signature: Vec<u8>,
}

/// Three blocks for a slot whose proposer nobody runs, children of the victim's latest canonical
/// block before that slot, with the right payload timestamp: one names a validator that does
/// not exist, one the wrong proposer, one the right proposer but another block's signature.
/// All are snappy-compressed.
async fn invalid_blocks(victim: &Node, genesis_time: u64) -> InvalidBlocks {
    let epoch_slots = Minimal::slots_per_epoch();
    let deadline = Instant::now() + Duration::from_secs(25);
    let (slot, proposer) = loop {
        let (state_slot, lookahead) = victim.lookahead().await.unwrap();
        let finalized: u64 = victim
            .get("/eth/v1/beacon/states/head/finality_checkpoints")
            .await
            .and_then(|v| v.pointer("/data/finalized/epoch")?.as_str()?.parse().ok())
            .unwrap();
        let start = state_slot - state_slot % epoch_slots;
        let now = wall_slot(genesis_time);
        let offline: Vec<(u64, u64)> = lookahead
            .iter()
            .enumerate()
            .map(|(i, p)| (start + i as u64, *p))
            .filter(|(slot, p)| OFFLINE.contains(p) && *slot > finalized * epoch_slots + 1)
            .collect();
        // The latest such slot that has passed (no waiting), else the next one to come.
        let candidate = offline
            .iter()
            .rfind(|(slot, _)| *slot < now)
            .or_else(|| offline.iter().find(|(slot, _)| *slot >= now));
        if let Some(found) = candidate {
            break *found;
        }
        assert!(Instant::now() < deadline, "no offline proposer");
        tokio::time::sleep(Duration::from_millis(SLOT_MS * 2)).await;
    };
    // A slot to come: wait for it to start (plus a little; the victim allows 500 ms either way).
    let start_ms = genesis_time * 1000 + slot * SLOT_MS + 100;
    let wait = start_ms.saturating_sub(now_ms());
    tokio::time::sleep(Duration::from_millis(wait)).await;
    // Its parent: the latest canonical block before it.
    let mut parent_slot = slot - 1;
    let (parent_root, _) = loop {
        if let Some(found) = victim.header_at(parent_slot).await {
            break found;
        }
        parent_slot -= 1;
    };
    let template = victim.block_ssz(&parent_root).await;
    let mut block = SignedBeaconBlock::<Minimal>::from_ssz_bytes(&template).unwrap();
    block.message.slot = slot;
    block.message.parent_root = hash(&parent_root);
    block.message.body.execution_payload.timestamp = genesis_time + slot * SLOT_MS / 1000;
    let with_proposer = |index: u64| {
        let mut block = block.clone();
        block.message.proposer_index = index;
        snappy(&block.as_ssz_bytes())
    };
    InvalidBlocks {
        out_of_range: with_proposer(VALIDATORS + 1000),
        wrong_proposer: with_proposer(if proposer == OFFLINE.start {
            OFFLINE.start + 1
        } else {
            OFFLINE.start
        }),
        bad_signature: with_proposer(proposer),
    }
}

/// The `frames` hostile: a valid Status, then frames no codec writes.
async fn frames_attack(victim_address: &Multiaddr, digest: [u8; 4]) -> PeerId {
    let mut raw = RawPeer::new().unwrap();
    let victim = raw
        .connect(victim_address.clone(), Duration::from_secs(10))
        .await
        .unwrap();
    let status_protocol = Family::Status.protocols()[0];
    let status = StatusV2 {
        fork_digest: digest,
        ..StatusV2::default()
    };
    let answer = raw
        .request(
            victim,
            Family::Status,
            encode_request(status_protocol, &status.as_ssz_bytes()),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(answer.first(), Some(&0), "Status not answered: {answer:?}");

    let mut garbage_snappy = vec![24];
    garbage_snappy.extend_from_slice(b"not snappy frames at all");
    // A length prefix of 4 GiB.
    let claims_too_much = vec![0x80, 0x80, 0x80, 0x80, 0x10, 0xff, 0x06, 0x00];
    let beyond_the_stream_limit = vec![0x5a; 3 << 20];
    let overlong_varint = vec![0xff; 11];
    let frames = [
        (Family::BlocksByRange, garbage_snappy),
        (Family::BlocksByRoot, claims_too_much),
        (Family::BlocksByRange, beyond_the_stream_limit),
        (Family::Ping, overlong_varint),
    ];
    for (i, (family, wire)) in frames.into_iter().enumerate() {
        if !raw.is_connected(&victim) {
            break;
        }
        let answer = raw
            .request(victim, family, wire, Duration::from_secs(10))
            .await;
        // Where the victim answers, it says InvalidRequest.
        if i < 2 {
            assert_eq!(
                answer.as_ref().ok().and_then(|a| a.first()),
                Some(&1),
                "frame {i}: {answer:?}"
            );
        }
    }
    assert!(
        raw.wait_disconnected(&victim, Duration::from_secs(10))
            .await,
        "the victim kept a peer that sent malformed frames"
    );
    // Dialled again, the connection may open but is closed at once, and a Status is not
    // answered.
    if raw
        .connect(victim_address.clone(), Duration::from_secs(5))
        .await
        .is_ok()
    {
        let status = raw
            .request(
                victim,
                Family::Status,
                encode_request(status_protocol, &status.as_ssz_bytes()),
                Duration::from_secs(5),
            )
            .await;
        assert!(
            status.as_ref().is_err() || status.as_ref().is_ok_and(|a| a.is_empty()),
            "a banned peer's Status was answered: {status:?}"
        );
        assert!(
            raw.wait_disconnected(&victim, Duration::from_secs(5)).await,
            "a banned peer stayed connected"
        );
    }
    raw.peer_id()
}

/// The `spam` hostile: Pings far beyond the rate limit.
async fn spam_attack(victim_address: &Multiaddr, digest: [u8; 4]) -> PeerId {
    let mut hostile = hostile_host(digest, Vec::new()).await;
    let victim = hostile.join(victim_address).await;
    let mut answered = 0;
    for _ in 0..60 {
        match hostile
            .handle
            .request(victim, Family::Ping, 1u64.as_ssz_bytes())
            .await
        {
            Ok(chunks) if matches!(chunks.first(), Some(Chunk::Success { .. })) => answered += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert!(answered > 0, "no Ping was answered");
    assert!(
        hostile.wait_gone(Duration::from_secs(10)).await,
        "the victim kept a peer that spammed requests"
    );
    hostile
        .redial_is_refused(victim_address)
        .await
        .expect("spam hostile");
    let id = hostile.handle.peer_id;
    hostile.handle.shutdown().await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_peers_are_banned_while_honest_blocks_keep_coming() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    // BAD_PEER_KEEP=1 keeps the nodes' data and logs for a look after the run.
    let _dir = match std::env::var_os("BAD_PEER_KEEP") {
        Some(_) => {
            let _ = dir.keep();
            None
        }
        None => Some(dir),
    };
    let genesis_time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 8;
    let mut victim = Node::start(&root.join("victim"), genesis_time, &VICTIM, None);
    let victim_enr = victim.enr().await;
    let victim_id = keel_p2p::discovery::peer_id_of(&victim_enr).unwrap();
    let digest = keel_p2p::discovery::enr_fork_digest(&victim_enr).unwrap();
    let victim_address: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}/p2p/{victim_id}", victim.p2p)
        .parse()
        .unwrap();
    let mut honest = Node::start(
        &root.join("honest"),
        genesis_time,
        &HONEST,
        Some(&victim_address.to_string()),
    );
    let honest_id = keel_p2p::discovery::peer_id_of(&honest.enr().await).unwrap();
    let logs = root.display().to_string();

    // The victim imports the honest node's blocks before the attack.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut slot = 1;
    loop {
        let head = victim.head_slot().await.unwrap_or(0);
        while slot <= head {
            if let Some((_, proposer)) = victim.header_at(slot).await
                && HONEST.contains(&proposer)
            {
                break;
            }
            slot += 1;
        }
        if slot <= head {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the victim imported no honest block (logs in {logs})"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let bans_before = victim.metric("keel_p2p_bans_total", "").await;
    let ready_after = started.elapsed();

    let (gossip, frames, spam) = tokio::join!(
        gossip_attack(&victim, &victim_address, digest, genesis_time),
        frames_attack(&victim_address, digest),
        spam_attack(&victim_address, digest),
    );
    let attacked_until = wall_slot(genesis_time);
    let attacked_after = started.elapsed();

    // Penalised for what each did, banned once each, and named in the log; the honest peer
    // never.
    let penalties = |offence: &'static str| {
        let victim = &victim;
        async move {
            victim
                .metric(
                    "keel_p2p_penalties_total",
                    &format!("offence=\"{offence}\""),
                )
                .await
        }
    };
    assert!(penalties("invalid_gossip").await >= 6.0);
    assert!(penalties("malformed").await >= 3.0);
    assert!(penalties("abusive_request").await >= 7.0);
    assert_eq!(
        victim.metric("keel_p2p_bans_total", "").await - bans_before,
        3.0,
        "logs in {logs}"
    );
    let log = victim.log();
    let bans: Vec<&str> = log.lines().filter(|l| l.contains("banning peer")).collect();
    for hostile in [gossip, frames, spam] {
        assert!(
            bans.iter().any(|l| l.contains(&hostile.to_string())),
            "{hostile} not banned: {bans:#?}"
        );
    }
    assert!(
        !bans.iter().any(|l| l.contains(&honest_id.to_string())),
        "the honest peer was banned: {bans:#?}"
    );
    // Where the Beacon API lists the victim's peers, the hostile ones are gone.
    if let Some(peers) = victim.get("/eth/v1/node/peers").await
        && let Some(peers) = peers.pointer("/data").and_then(Value::as_array)
    {
        let listed: Vec<&str> = peers
            .iter()
            .filter_map(|p| p.pointer("/peer_id")?.as_str())
            .collect();
        for hostile in [gossip, frames, spam] {
            assert!(
                !listed.contains(&hostile.to_string().as_str()),
                "{hostile} still listed: {listed:?}"
            );
        }
        assert!(
            listed.is_empty() || listed.contains(&honest_id.to_string().as_str()),
            "the honest peer is not listed: {listed:?}"
        );
    }
    // Every kind of invalid gossip was judged invalid.
    let max = ChainConfig::dev(SLOT_MS).max_payload_size;
    for reason in [
        "invalid snappy data".to_string(),
        "uncompressed payload of 2147483648 bytes exceeds".to_string(),
        format!("uncompressed payload of {} bytes exceeds", max + 1),
        "invalid SSZ".to_string(),
        "out of range".to_string(),
        "is not the expected".to_string(),
        "signature".to_string(),
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("gossip rejected") && l.contains(&reason)),
            "no gossip rejected for {reason:?} (logs in {logs})"
        );
    }

    // The victim keeps importing the honest node's blocks.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut slot = attacked_until + 1;
    let imported = loop {
        let head = victim.head_slot().await.unwrap_or(0);
        let mut found = None;
        while slot <= head {
            if let Some((_, proposer)) = victim.header_at(slot).await
                && HONEST.contains(&proposer)
            {
                found = Some(slot);
                break;
            }
            slot += 1;
        }
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no honest block after slot {attacked_until} (head {head}; logs in {logs})"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(victim.alive(), "the victim died (logs in {logs})");
    assert!(honest.alive(), "the honest node died (logs in {logs})");
    assert!(
        !log.contains("panicked"),
        "the victim panicked (logs in {logs})"
    );
    eprintln!(
        "bad_peer: honest blocks flowing after {:.1}s, attacks done after {:.1}s (slot \
         {attacked_until}), an honest block imported at slot {imported}, {:.1}s in all",
        ready_after.as_secs_f64(),
        attacked_after.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
