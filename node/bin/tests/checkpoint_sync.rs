//! `keel bn` from a checkpoint: it downloads the finalized state and block from a Beacon API
//! (Keel's own, serving a mainnet-preset Fulu fixture chain), checks the execution endpoint
//! (the mock engine, with the shared JWT secret), anchors its database there and serves the
//! anchor over its own Beacon API; restarted, it resumes from its database without the URL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../api/tests/common/mod.rs"]
mod common;
mod support;

use keel_execution::{JwtSecret, MockConfig, MockEngine};
use serde_json::Value;
use std::process::Child;
use std::time::{Duration, Instant};
use support::{Api, free_port, spawn_keel};

/// The spec's mainnet config with every fork through Fulu at genesis, as the fixture has it.
fn config_yaml() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/networks/mainnet/config.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            let forked = ["ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU"]
                .iter()
                .any(|f| line.starts_with(&format!("{f}_FORK_EPOCH:")));
            match line.split_once(':') {
                Some((key, _)) if forked => format!("{key}: 0"),
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn start(args: &[String], log: &std::path::Path) -> Child {
    spawn_keel(
        std::iter::once("bn").chain(args.iter().map(String::as_str)),
        log,
    )
}

async fn wait_head(port: u16, child: &mut Child, log: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some((_, root)) = Api(port).head().await {
            return root;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "keel bn exited ({status}):\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "keel bn's API never answered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn terminate(mut child: Child) {
    let status = support::terminate(&mut child);
    assert!(status.success(), "exit after SIGTERM: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bn_checkpoint_syncs_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    // The trusted Beacon API.
    let fixture = common::build::<keel_types::Mainnet>(keel_config::ChainConfig::mainnet());
    let source = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let source_port = source.local_addr().unwrap().port();
    let ctx = fixture.ctx.clone();
    tokio::spawn(async move {
        let _ = keel_api::serve_on(source, ctx, std::future::pending()).await;
    });
    // The execution client.
    let jwt = dir.path().join("jwt.hex");
    let secret = JwtSecret::load_or_generate(&jwt).unwrap();
    let engine = MockEngine::start(
        "127.0.0.1:0".parse().unwrap(),
        secret,
        MockConfig::default(),
    )
    .await
    .unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, config_yaml()).unwrap();

    let (http, p2p, quic) = (free_port(), free_port(), free_port());
    let args: Vec<String> = vec![
        "--port".into(),
        p2p.to_string(),
        "--quic-port".into(),
        quic.to_string(),
        "--listen-address".into(),
        "127.0.0.1".into(),
        "--disable-discovery".into(),
        "--config".into(),
        config.display().to_string(),
        "--datadir".into(),
        dir.path().join("data").display().to_string(),
        "--execution-endpoint".into(),
        engine.url(),
        "--execution-jwt".into(),
        jwt.display().to_string(),
        "--http-port".into(),
        http.to_string(),
        "--disable-metrics".into(),
    ];
    let log = dir.path().join("bn.log");
    let mut first_args = args.clone();
    first_args.extend([
        "--checkpoint-sync-url".into(),
        format!("http://127.0.0.1:{source_port}"),
    ]);
    let mut child = start(&first_args, &log);
    let root = wait_head(http, &mut child, &log).await;
    assert_eq!(
        root,
        fixture.genesis_block_root.to_string(),
        "anchored at the source's finalized block"
    );
    // Its libp2p host is up, and the Beacon API says where.
    let identity: Value = reqwest::get(format!("http://127.0.0.1:{http}/eth/v1/node/identity"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let peer_id = identity
        .pointer("/data/peer_id")
        .and_then(Value::as_str)
        .unwrap();
    assert!(
        peer_id.starts_with("16Uiu2"),
        "a secp256k1 peer id: {identity}"
    );
    let addresses = identity.pointer("/data/p2p_addresses").unwrap().to_string();
    assert!(
        addresses.contains(&format!("/tcp/{p2p}/p2p/{peer_id}")),
        "{addresses}"
    );
    assert!(
        identity
            .pointer("/data/enr")
            .and_then(Value::as_str)
            .unwrap()
            .starts_with("enr:")
    );
    terminate(child);

    // Restart without the URL: the database has the chain.
    let mut child = start(&args, &log);
    let resumed = wait_head(http, &mut child, &log).await;
    assert_eq!(resumed, root);
    terminate(child);
    engine.stop().await;
}
