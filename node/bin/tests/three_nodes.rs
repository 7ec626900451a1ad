//! Three `keel dev` processes on loopback, the devnet's 48 validators split among them: the
//! second and third find the first through discv5 (its ENR as their boot node), every node
//! imports the others' blocks from gossip, and all three finalize the same chain. A fourth node,
//! started once they have finalized, checkpoint-syncs from the first one's Beacon API,
//! range-syncs to the head, backfills to genesis and then follows the chain over gossip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::{Api, KillOnDrop, free_port, spawn_keel};

struct Node {
    // Held for its Drop: the node stops with the test.
    _process: KillOnDrop,
    api: Api,
}

fn start(
    datadir: &Path,
    genesis_time: u64,
    range: &str,
    boot: Option<&str>,
    extra: &[String],
) -> Node {
    let (http, metrics, p2p) = (free_port(), free_port(), free_port());
    let mut args: Vec<String> = ["dev", "--slot-ms", "1000", "--validators", "48"]
        .map(Into::into)
        .to_vec();
    args.extend(["--datadir".into(), datadir.display().to_string()]);
    for (flag, value) in [
        ("--genesis-time", genesis_time),
        ("--http-port", u64::from(http)),
        ("--metrics-port", u64::from(metrics)),
        ("--p2p-port", u64::from(p2p)),
        ("--discovery-port", u64::from(p2p)),
    ] {
        args.extend([flag.to_string(), value.to_string()]);
    }
    args.extend(["--local-validators".into(), range.into()]);
    if let Some(enr) = boot {
        args.extend(["--boot-nodes".into(), enr.into()]);
    }
    args.extend(extra.iter().cloned());
    Node {
        _process: KillOnDrop(spawn_keel(args, &datadir.with_extension("log"))),
        api: Api(http),
    }
}

async fn finalized(node: &Node) -> Option<(u64, String)> {
    node.api.finalized().await
}

async fn proposer_at(node: &Node, slot: u64) -> Option<(String, u64)> {
    node.api.header_at(slot).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_dev_nodes_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let genesis_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 8;
    let a = start(&dir.path().join("a"), genesis_time, "0..16", None, &[]);
    let enr_file = dir.path().join("a").join("network").join("enr");
    let deadline = Instant::now() + Duration::from_secs(30);
    let enr = loop {
        if let Ok(enr) = std::fs::read_to_string(&enr_file) {
            break enr;
        }
        assert!(Instant::now() < deadline, "node a wrote no ENR");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let b = start(
        &dir.path().join("b"),
        genesis_time,
        "16..32",
        Some(&enr),
        &[],
    );
    let c = start(
        &dir.path().join("c"),
        genesis_time,
        "32..48",
        Some(&enr),
        &[],
    );
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

    // A fourth node, with no validators, joins from a's finalized checkpoint.
    let url = format!("http://127.0.0.1:{}", nodes[0].api.0);
    let d = start(
        &dir.path().join("d"),
        genesis_time,
        "0..0",
        Some(&enr),
        &["--checkpoint-sync-url".into(), url],
    );
    let synced_to = head_slot(&nodes[0]).await.unwrap();
    // Range sync: d holds a's block at the slot a was at when d started (or the same empty
    // slot), and its head keeps up with a's afterwards (gossip).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let d_head = head_slot(&d).await.unwrap_or(0);
        if d_head >= synced_to + 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "d did not sync: head {d_head}, target {synced_to} (logs in {})",
            dir.path().display()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for slot in synced_to.saturating_sub(2)..=synced_to + 2 {
        let ours = proposer_at(&nodes[0], slot).await.map(|(root, _)| root);
        let theirs = proposer_at(&d, slot).await.map(|(root, _)| root);
        assert_eq!(ours, theirs, "slot {slot}: a and d disagree");
    }
    // Backfill: the history below d's checkpoint, down to genesis, is a's.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut all = true;
        for slot in 0..=4 {
            let ours = proposer_at(&nodes[0], slot).await.map(|(root, _)| root);
            let theirs = proposer_at(&d, slot).await.map(|(root, _)| root);
            if ours.is_none() || ours != theirs {
                all = false;
            }
        }
        if all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "d did not backfill to genesis (logs in {})",
            dir.path().display()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Following gossip: d's head stays with a's while the chain goes on, and both agree on
    // finality.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (a_head, d_head) = (head(&nodes[0]).await, head(&d).await);
        let (a_final, d_final) = (finalized(&nodes[0]).await, finalized(&d).await);
        if a_head.is_some() && a_head == d_head && a_final.is_some() && a_final == d_final {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "d does not follow a: heads {a_head:?} / {d_head:?}, finalized {a_final:?} / {d_final:?} (logs in {})",
            dir.path().display()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn head(node: &Node) -> Option<(u64, String)> {
    node.api.head().await
}

async fn head_slot(node: &Node) -> Option<u64> {
    head(node).await.map(|(slot, _)| slot)
}

async fn futures_join(nodes: &[Node], slot: u64) -> Vec<Option<(String, u64)>> {
    let mut out = Vec::new();
    for node in nodes {
        out.push(proposer_at(node, slot).await);
    }
    out
}
