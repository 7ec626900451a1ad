//! End to end: `keel dev` as a process. It finalizes (seen through the Beacon API and the
//! metrics endpoint), stops cleanly on SIGTERM, and restarts on the same datadir at the same
//! chain without proposing a second block for any slot it already filled.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::{Api, KillOnDrop, free_port, spawn_keel};

struct Node {
    child: KillOnDrop,
    api: Api,
    metrics: u16,
}

impl Node {
    fn start(datadir: &Path, log: &Path) -> Node {
        let (http, metrics) = (free_port(), free_port());
        let mut args: Vec<std::ffi::OsString> =
            ["dev", "--slot-ms", "500"].map(Into::into).to_vec();
        args.extend(["--datadir".into(), datadir.into()]);
        args.extend(["--http-port".into(), http.to_string().into()]);
        args.extend(["--metrics-port".into(), metrics.to_string().into()]);
        Node {
            child: KillOnDrop(spawn_keel(args, log)),
            api: Api(http),
            metrics,
        }
    }

    async fn get(&self, path: &str) -> Option<Value> {
        self.api.get(path).await
    }

    async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl AsyncFnMut(&Node) -> Option<T>,
    ) -> T {
        support::wait_for(what, timeout, async || probe(self).await).await
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        support::terminate(&mut self.child.0)
    }
}

fn epoch(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{pointer} missing in {v}"))
}

async fn header_root(node: &Node, slot: u64) -> Option<String> {
    node.api.header_at(slot).await.map(|(root, _)| root)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_finalizes_and_resumes_after_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let node = Node::start(&datadir, &dir.path().join("first.log"));

    let checkpoints = node
        .wait_for("finality", Duration::from_secs(180), async |n| {
            let v = n
                .get("/eth/v1/beacon/states/head/finality_checkpoints")
                .await?;
            (epoch(&v, "/data/finalized/epoch") >= 1).then_some(v)
        })
        .await;
    assert!(epoch(&checkpoints, "/data/current_justified/epoch") >= 2);

    // The metrics follow the chain (sampled at each new head).
    let metrics_url = format!("http://127.0.0.1:{}/metrics", node.metrics);
    node.wait_for(
        "finality in the metrics",
        Duration::from_secs(10),
        async |_| {
            let metrics = reqwest::get(&metrics_url).await.ok()?.text().await.ok()?;
            let finalized: f64 = metrics
                .lines()
                .find_map(|l| l.strip_prefix("beacon_finalized_epoch "))?
                .trim()
                .parse()
                .ok()?;
            (finalized >= 1.0).then_some(())
        },
    )
    .await;

    let status = node.terminate();
    assert!(status.success(), "exit after SIGTERM: {status}");

    // What the first run committed: its head and the canonical block of every slot.
    let restarted = Node::start(&datadir, &dir.path().join("second.log"));
    let head = restarted
        .wait_for(
            "the API after restart",
            Duration::from_secs(30),
            async |n| n.get("/eth/v1/beacon/headers/head").await,
        )
        .await;
    let resumed_slot = epoch(&head, "/data/header/message/slot");
    assert!(
        resumed_slot >= 32,
        "resumed at slot {resumed_slot}: history lost"
    );
    let first_log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    let second_log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    let resumed_line = second_log
        .lines()
        .find(|l| l.contains("resumed devnet"))
        .expect("the second run resumed the database");
    // Every block proposed in the first run at or before the resumed head is still the one
    // at its slot: nothing was re-proposed.
    for line in first_log.lines().filter(|l| l.contains("proposed block")) {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| {
                    strip_ansi(w)
                        .strip_prefix(&format!("{name}="))
                        .map(str::to_string)
                })
                .unwrap()
        };
        let slot: u64 = field("slot").parse().unwrap();
        let root = field("root");
        if slot + 2 > resumed_slot {
            continue; // possibly still in flight at SIGTERM
        }
        assert_eq!(
            header_root(&restarted, slot).await.as_deref(),
            Some(root.as_str()),
            "slot {slot} after restart ({resumed_line})"
        );
    }
    // And it goes on: a new block on top after the restart.
    restarted
        .wait_for(
            "a block after restart",
            Duration::from_secs(30),
            async |n| {
                let v = n.get("/eth/v1/beacon/headers/head").await?;
                (epoch(&v, "/data/header/message/slot") > resumed_slot).then_some(())
            },
        )
        .await;
    let second_log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    assert!(
        !second_log.contains("refusing to sign a block"),
        "slashing protection had to stop a double proposal"
    );
    let status = restarted.terminate();
    assert!(status.success(), "exit after SIGTERM: {status}");
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
