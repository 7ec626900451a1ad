//! `keel bn`: a beacon node for a public network (mainnet preset). It starts from a checkpoint
//! (the finalized state and block from a trusted Beacon API), follows the execution engine, and
//! serves the Beacon API and metrics. Peer-to-peer networking (gossip, range sync, backfill) is
//! not built yet: until it is, the node holds its checkpoint and says so.

use crate::cli::BnArgs;
use crate::node::{NodeError, prepare_datadir, shutdown_signal, start, status_line};
use crate::sink::unix_ms;
use keel_config::{ChainConfig, Network};
use keel_core::{Chain, CoreError, CoreInput, meta};
use keel_execution::{EngineClient, JwtSecret};
use keel_queue::Class;
use keel_store::{Store, StoreOptions};
use keel_types::Mainnet;
use std::sync::Arc;
use std::time::Duration;

type P = Mainnet;

fn chain_config(args: &BnArgs) -> Result<ChainConfig, NodeError> {
    let config = match (&args.network, &args.config) {
        (_, Some(path)) => ChainConfig::from_file(path)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?,
        (name, None) => {
            let name = name.as_deref().unwrap_or("mainnet");
            Network::from_name(name)
                .map_err(|e| NodeError::Config(format!("--network {name}: {e}")))?
                .config
        }
    };
    config.check_preset::<P>().map_err(|e| {
        NodeError::Config(format!("the config does not match the mainnet preset: {e}"))
    })?;
    Ok(config)
}

pub async fn run(args: BnArgs) -> Result<(), NodeError> {
    let config = Arc::new(chain_config(&args)?);
    let datadir = prepare_datadir(&args.common.datadir)?;
    let secret = JwtSecret::load_or_generate(&args.execution_jwt)?;
    let engine = EngineClient::new(&args.execution_endpoint, secret)?;
    let capabilities = engine.exchange_capabilities().await?;
    tracing::info!(url = %args.execution_endpoint, methods = capabilities.len(), "execution engine reachable");

    let db = datadir.join("db");
    std::fs::create_dir_all(&db).map_err(|e| NodeError::Datadir {
        path: db.clone(),
        reason: e.to_string(),
    })?;
    let store = Arc::new(Store::<P>::open(&db, &StoreOptions::default())?);
    let fresh = store.read()?.meta(meta::FORK_CHOICE)?.is_none();
    let anchor = if fresh {
        let url = args.checkpoint_sync_url.as_deref().ok_or_else(|| {
            NodeError::Config(
                "a new database needs --checkpoint-sync-url (a trusted Beacon API serving the finalized state)"
                    .into(),
            )
        })?;
        Some(crate::checkpoint::checkpoint_sync::<P>(url).await?)
    } else {
        None
    };
    let chain = Chain::open(Arc::clone(&config), Arc::clone(&store), move || {
        anchor.ok_or_else(|| CoreError::Anchor("no checkpoint".into()))
    })?;
    let running = start(Arc::clone(&config), store, chain, engine, &args.common).await?;
    tracing::warn!(
        "peer-to-peer networking is not implemented yet: the node serves its checkpoint and does not follow the chain"
    );
    let genesis_ms = running
        .core
        .snapshots
        .load()
        .genesis_time
        .saturating_mul(1000);
    let slot_ms = config.slot_duration_ms.max(1);
    let ticking = async {
        loop {
            let now = unix_ms();
            let _ = running
                .core
                .sender
                .send(Class::Block, CoreInput::Tick { unix_ms: now });
            let slot = now.saturating_sub(genesis_ms) / slot_ms;
            status_line(&running, slot);
            let next = genesis_ms + (slot + 1) * slot_ms;
            tokio::time::sleep(Duration::from_millis(next.saturating_sub(unix_ms()))).await;
        }
    };
    tokio::select! {
        () = ticking => {}
        () = shutdown_signal() => tracing::info!("shutting down"),
    }
    running.stop().await
}
