//! Crash safety: `keel dev` is killed with SIGKILL at arbitrary moments while it produces and
//! imports blocks, and restarted on the same datadir each time. Every restart opens the
//! database and resumes at or after the last head the API reported (the API only ever shows
//! committed snapshots), with every block it had reported still at its slot.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::collections::BTreeMap;
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

fn start(datadir: &Path, log: &Path, http: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(["dev", "--slot-ms", "500", "--disable-metrics", "--datadir"])
        .arg(datadir)
        .args(["--http-port", &http.to_string()])
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

async fn get(http: u16, path: &str) -> Option<Value> {
    let response = reqwest::get(format!("http://127.0.0.1:{http}{path}"))
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

async fn head(http: u16) -> Option<(u64, String)> {
    let v = get(http, "/eth/v1/beacon/headers/head").await?;
    let slot = v
        .pointer("/data/header/message/slot")?
        .as_str()?
        .parse()
        .ok()?;
    let root = v.pointer("/data/root")?.as_str()?.to_string();
    Some((slot, root))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_any_moment_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let log = dir.path().join("node.log");
    // Blocks the API reported, by slot: they were committed.
    let mut committed: BTreeMap<u64, String> = BTreeMap::new();
    // Kill delays after the API is up, spread over a slot and more (ms).
    let delays = [1700u64, 2300, 950, 3100, 1300, 2650];
    for (round, delay) in delays.iter().enumerate() {
        let http = free_port();
        let mut child = start(&datadir, &log, http);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (slot, root) = loop {
            if let Some(head) = head(http).await {
                break head;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: no API after restart; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Resumed at or after everything reported before the kill.
        if let Some((&last_slot, _)) = committed.last_key_value() {
            assert!(
                slot >= last_slot,
                "round {round}: resumed at {slot}, had {last_slot}"
            );
        }
        for (&s, r) in &committed {
            let v = get(http, &format!("/eth/v1/beacon/headers/{s}")).await;
            let got = v.as_ref().and_then(|v| v.pointer("/data/root")?.as_str());
            assert_eq!(
                got,
                Some(r.as_str()),
                "round {round}: block at slot {s} lost"
            );
        }
        committed.insert(slot, root);
        // Let it run (and record what it reports), then kill it mid-whatever.
        let until = Instant::now() + Duration::from_millis(*delay);
        while Instant::now() < until {
            if let Some((s, r)) = head(http).await {
                committed.insert(s, r);
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    assert!(
        committed.len() >= 6,
        "the node barely advanced: {committed:?}"
    );
}
