//! Serves the test fixture chain (see `tests/common/mod.rs`) with the mainnet preset (the
//! OpenAPI schemas fix mainnet vector lengths) on a port, for schemathesis:
//! `cargo run -p keel-api --example api_fixture -- 127.0.0.1:5052`.
//! Prints `listening on <addr>` once the socket is bound, and serves until Ctrl-C / SIGTERM.

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5052".into())
        .parse()?;
    let fixture = common::build::<keel_types::Mainnet>(keel_config::ChainConfig::mainnet());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    keel_api::serve_on(listener, fixture.ctx.clone(), shutdown).await?;
    drop(fixture);
    Ok(())
}
