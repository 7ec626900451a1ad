//! `keel bn`: a beacon node for a public network (mainnet preset). It starts from a checkpoint
//! (the finalized state and block from a trusted Beacon API), joins the network (discv5 from the
//! network's boot nodes, gossip on its share of subnets), range-syncs to the head and backfills
//! history, drives the execution engine, and serves the Beacon API and metrics.

use crate::cli::BnArgs;
use crate::network::P2pOptions;
use crate::node::{NodeError, prepare_datadir, shutdown_signal, start, start_network, status_line};
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

/// The p2p options from the flags; boot nodes default to the built-in network's.
fn p2p_options(args: &BnArgs) -> Result<P2pOptions, NodeError> {
    let flags = &args.p2p;
    let mut boot_nodes = flags.boot_nodes.clone();
    if boot_nodes.is_empty() && args.config.is_none() {
        let name = args.network_name();
        let network = Network::from_name(name)
            .map_err(|e| NodeError::Config(format!("--network {name}: {e}")))?;
        for text in &network.boot_enrs {
            match text.parse::<keel_p2p::Enr>() {
                Ok(enr) => boot_nodes.push(enr),
                Err(e) => tracing::warn!(enr = %text, error = %e, "skipping a built-in boot ENR"),
            }
        }
    }
    if boot_nodes.is_empty() && flags.libp2p_addresses.is_empty() {
        tracing::warn!(
            "no boot nodes and no --libp2p-addresses: the node can only wait to be dialed"
        );
    }
    Ok(P2pOptions {
        listen_address: flags.listen_address,
        tcp_port: flags.port,
        quic_port: (!flags.disable_quic).then_some(flags.quic_port),
        discovery_port: (!flags.disable_discovery)
            .then_some(flags.discovery_port.unwrap_or(flags.port)),
        boot_nodes,
        static_peers: flags.libp2p_addresses.clone(),
        target_peers: flags.target_peers.max(1),
        subscribe_all_subnets: flags.subscribe_all_subnets,
    })
}

fn chain_config(args: &BnArgs) -> Result<ChainConfig, NodeError> {
    let config = match (&args.network, &args.config) {
        (_, Some(path)) => ChainConfig::from_file(path)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?,
        (_, None) => {
            let name = args.network_name();
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
    let mut running = start(Arc::clone(&config), store, chain, engine, &args.common).await?;
    if args.p2p.disable_network {
        tracing::warn!(
            "--disable-network: the node serves its checkpoint and does not follow the chain"
        );
    } else {
        let options = p2p_options(&args)?;
        start_network(&mut running, &config, &options, &datadir).await?;
    }
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
