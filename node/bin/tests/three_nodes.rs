//! Three `keel dev` processes on loopback, the devnet's 48 validators split among them: the
//! second and third find the first through discv5 (its ENR as their boot node), every node
//! imports the others' blocks from gossip, and all three finalize the same chain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Node {
    child: Child,
    http: u16,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(datadir: &Path, genesis_time: u64, range: &str, boot: Option<&str>) -> Node {
    let (http, metrics, p2p) = (free_port(), free_port(), free_port());
    let log = std::fs::File::create(datadir.with_extension("log")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_keel"));
    command
        .args([
            "dev",
            "--slot-ms",
            "1000",
            "--validators",
            "48",
            "--datadir",
        ])
        .arg(datadir)
        .args(["--genesis-time", &genesis_time.to_string()])
        .args(["--http-port", &http.to_string()])
        .args(["--metrics-port", &metrics.to_string()])
        .args(["--p2p-port", &p2p.to_string()])
        .args(["--discovery-port", &p2p.to_string()])
        .args(["--local-validators", range]);
    if let Some(enr) = boot {
        command.args(["--boot-nodes", enr]);
    }
    let child = command
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    Node { child, http }
}

async fn get(node: &Node, path: &str) -> Option<Value> {
    let response = reqwest::get(format!("http://127.0.0.1:{}{path}", node.http))
        .await
        .ok()?;
    response.status().is_success().then_some(())?;
    response.json().await.ok()
}

async fn finalized(node: &Node) -> Option<(u64, String)> {
    let v = get(node, "/eth/v1/beacon/states/head/finality_checkpoints").await?;
    let epoch = v.pointer("/data/finalized/epoch")?.as_str()?.parse().ok()?;
    let root = v.pointer("/data/finalized/root")?.as_str()?.to_string();
    Some((epoch, root))
}

async fn proposer_at(node: &Node, slot: u64) -> Option<(String, u64)> {
    let v = get(node, &format!("/eth/v1/beacon/headers/{slot}")).await?;
    let root = v.pointer("/data/root")?.as_str()?.to_string();
    let proposer = v
        .pointer("/data/header/message/proposer_index")?
        .as_str()?
        .parse()
        .ok()?;
    Some((root, proposer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_dev_nodes_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let genesis_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 8;
    let a = start(&dir.path().join("a"), genesis_time, "0..16", None);
    let enr_file = dir.path().join("a").join("network").join("enr");
    let deadline = Instant::now() + Duration::from_secs(30);
    let enr = loop {
        if let Ok(enr) = std::fs::read_to_string(&enr_file) {
            break enr;
        }
        assert!(Instant::now() < deadline, "node a wrote no ENR");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let b = start(&dir.path().join("b"), genesis_time, "16..32", Some(&enr));
    let c = start(&dir.path().join("c"), genesis_time, "32..48", Some(&enr));
    let nodes = [a, b, c];

    // All three finalize epoch 2 or later on the same checkpoint.
    let deadline = Instant::now() + Duration::from_secs(150);
    let agreed = loop {
        let mut seen = Vec::new();
        for node in &nodes {
            seen.push(finalized(node).await);
        }
        if let [Some(x), Some(y), Some(z)] = &seen[..]
            && x.0 >= 2
            && x == y
            && y == z
        {
            break x.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no common finality: {seen:?} (logs in {})",
            dir.path().display()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert!(agreed.0 >= 2);

    // The finalized chain holds blocks by every node's validators: each imported the others'
    // blocks from gossip.
    let mut proposers = Vec::new();
    for slot in 1..=16 {
        let views: Vec<_> = futures_join(&nodes, slot).await;
        if let Some(Some((root, proposer))) = views.first() {
            assert!(
                views
                    .iter()
                    .all(|v| v.as_ref().map(|(r, _)| r) == Some(root)),
                "slot {slot}: {views:?}"
            );
            proposers.push(*proposer);
        }
    }
    for range in [0..16u64, 16..32, 32..48] {
        assert!(
            proposers.iter().any(|p| range.contains(p)),
            "no block by validators {range:?} in {proposers:?}"
        );
    }
}

async fn futures_join(nodes: &[Node], slot: u64) -> Vec<Option<(String, u64)>> {
    let mut out = Vec::new();
    for node in nodes {
        out.push(proposer_at(node, slot).await);
    }
    out
}
