//! Bad flags and bad surroundings give one clear line on stderr and a failing exit code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn keel(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(args)
        .env("KEEL_LOG", "error")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn last_line(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or_default()
}

#[test]
fn unknown_flag() {
    let (ok, err) = keel(&["dev", "--no-such-flag"]);
    assert!(!ok);
    assert!(
        err.contains("unexpected argument '--no-such-flag'"),
        "{err}"
    );
}

#[test]
fn malformed_jwt_file() {
    let dir = tempfile::tempdir().unwrap();
    let jwt = dir.path().join("jwt.hex");
    std::fs::write(&jwt, "not hex at all").unwrap();
    let (ok, err) = keel(&[
        "bn",
        "--datadir",
        dir.path().join("data").to_str().unwrap(),
        "--execution-endpoint",
        "http://127.0.0.1:1",
        "--execution-jwt",
        jwt.to_str().unwrap(),
    ]);
    assert!(!ok);
    let line = last_line(&err);
    assert!(line.starts_with("error: JWT secret:"), "{err}");
    assert!(line.contains("jwt.hex"), "names the file: {line}");
}

#[test]
fn unreachable_execution_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (ok, err) = keel(&[
        "bn",
        "--datadir",
        dir.path().join("data").to_str().unwrap(),
        "--execution-endpoint",
        &endpoint,
        "--execution-jwt",
        dir.path().join("jwt.hex").to_str().unwrap(),
    ]);
    assert!(!ok);
    let line = last_line(&err);
    assert!(
        line.contains("unreachable") && line.contains(&endpoint),
        "{err}"
    );
}

#[test]
fn unwritable_datadir() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (ok, err) = keel(&["dev", "--datadir", file.join("sub").to_str().unwrap()]);
    assert!(!ok);
    assert!(last_line(&err).starts_with("error: datadir"), "{err}");
}

#[test]
fn unknown_network() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, err) = keel(&[
        "bn",
        "--network",
        "nonesuch",
        "--datadir",
        dir.path().to_str().unwrap(),
        "--execution-endpoint",
        "http://127.0.0.1:1",
        "--execution-jwt",
        dir.path().join("jwt.hex").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(last_line(&err).contains("--network nonesuch"), "{err}");
}
