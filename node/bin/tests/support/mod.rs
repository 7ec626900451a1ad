//! Helpers for the tests that run `keel` as a process: free ports, spawning with a log file,
//! the Beacon API as JSON, waiting for a condition, and SIGTERM with a deadline.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `keel <args>` with stdout and stderr appended to `log`.
pub fn spawn_keel<I, S>(args: I, log: &Path) -> Child
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(args)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

/// A `keel` process that is killed and reaped when the test lets go of it (a failing assertion
/// must not leave nodes running).
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGTERM, then the exit status (a node that does not stop within 20 s fails the test).
pub fn terminate(child: &mut Child) -> ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the node did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `probe` until it yields, failing the test after `timeout`.
pub async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A node's Beacon API on loopback.
#[derive(Debug, Clone, Copy)]
pub struct Api(pub u16);

impl Api {
    /// The JSON body of a successful GET.
    pub async fn get(&self, path: &str) -> Option<Value> {
        let response = reqwest::get(format!("http://127.0.0.1:{}{path}", self.0))
            .await
            .ok()?;
        response.status().is_success().then_some(())?;
        response.json().await.ok()
    }

    /// The head's slot and root.
    pub async fn head(&self) -> Option<(u64, String)> {
        let v = self.get("/eth/v1/beacon/headers/head").await?;
        let slot = quoted(&v, "/data/header/message/slot")?;
        let root = v.pointer("/data/root")?.as_str()?.to_string();
        Some((slot, root))
    }

    /// The root and proposer of the canonical block at `slot`.
    pub async fn header_at(&self, slot: u64) -> Option<(String, u64)> {
        let v = self.get(&format!("/eth/v1/beacon/headers/{slot}")).await?;
        let root = v.pointer("/data/root")?.as_str()?.to_string();
        Some((root, quoted(&v, "/data/header/message/proposer_index")?))
    }

    /// The finalized checkpoint's epoch and root.
    pub async fn finalized(&self) -> Option<(u64, String)> {
        let v = self
            .get("/eth/v1/beacon/states/head/finality_checkpoints")
            .await?;
        let root = v.pointer("/data/finalized/root")?.as_str()?.to_string();
        Some((quoted(&v, "/data/finalized/epoch")?, root))
    }
}

/// A quoted decimal (the Beacon API's uint64) at `pointer`.
pub fn quoted(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer)?.as_str()?.parse().ok()
}
