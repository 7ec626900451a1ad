//! Crash safety: `keel dev` is killed with SIGKILL at arbitrary moments while it produces and
//! imports blocks, and restarted on the same datadir each time. Every restart opens the
//! database and resumes at or after the last head the API reported (the API only ever shows
//! committed snapshots), with every block it had reported still at its slot.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};
use support::{Api, free_port, spawn_keel};

fn start(datadir: &Path, log: &Path, http: u16) -> Child {
    let mut args: Vec<std::ffi::OsString> = ["dev", "--slot-ms", "500", "--disable-metrics"]
        .map(Into::into)
        .to_vec();
    args.extend(["--datadir".into(), datadir.into()]);
    args.extend(["--http-port".into(), http.to_string().into()]);
    spawn_keel(args, log)
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
            if let Some(head) = Api(http).head().await {
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
            let got = Api(http).header_at(s).await.map(|(root, _)| root);
            assert_eq!(
                got.as_deref(),
                Some(r.as_str()),
                "round {round}: block at slot {s} lost"
            );
        }
        committed.insert(slot, root);
        // Let it run (and record what it reports), then kill it mid-whatever.
        let until = Instant::now() + Duration::from_millis(*delay);
        while Instant::now() < until {
            if let Some((s, r)) = Api(http).head().await {
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
