//! `keel bn`: a beacon node for a public network (mainnet preset). It starts from a checkpoint
//! (the finalized state and block from a trusted Beacon API), follows the execution engine, and
//! serves the Beacon API and metrics. Peer-to-peer networking (gossip, range sync, backfill) is
//! not built yet: until it is, the node holds its checkpoint and says so.

use crate::cli::BnArgs;
use crate::node::{NodeError, prepare_datadir, shutdown_signal, start, status_line};
use crate::sink::unix_ms;
use keel_config::{ChainConfig, Network};
use keel_core::{Chain, ChainAnchor, CoreError, CoreInput, meta};
use keel_execution::{EngineClient, JwtSecret};
use keel_queue::Class;
use keel_store::{Store, StoreOptions};
use keel_types::tree_hash::TreeHash;
use keel_types::{BeaconState, ForkName, Hash256, Mainnet, SignedBeaconBlock};
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
        Some(checkpoint_sync(url).await?)
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

/// Fetches the finalized state and its block as SSZ from a standard Beacon API and checks that
/// they belong together.
async fn checkpoint_sync(url: &str) -> Result<ChainAnchor<P>, NodeError> {
    let base = url.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| NodeError::CheckpointSync(e.to_string()))?;
    tracing::info!(%base, "checkpoint sync: downloading the finalized state");
    let (fork, state_bytes) = fetch_ssz(
        &client,
        &format!("{base}/eth/v2/debug/beacon/states/finalized"),
    )
    .await?;
    let state = match BeaconState::<P>::from_ssz_bytes_for_fork(&state_bytes, fork) {
        Ok(BeaconState::Fulu(state)) => state,
        Ok(other) => {
            return Err(NodeError::CheckpointSync(format!(
                "the finalized state is {:?}; Keel follows Fulu",
                other.fork_name()
            )));
        }
        Err(e) => return Err(NodeError::CheckpointSync(format!("state SSZ: {e:?}"))),
    };
    let mut header = state.latest_block_header;
    if header.state_root == Hash256::ZERO {
        header.state_root = state.tree_hash_root();
    }
    let block_root = header.tree_hash_root();
    tracing::info!(slot = state.slot, %block_root, "checkpoint sync: downloading its block");
    let (block_fork, block_bytes) = fetch_ssz(
        &client,
        &format!("{base}/eth/v2/beacon/blocks/{block_root}"),
    )
    .await?;
    let block = match SignedBeaconBlock::<P>::from_ssz_bytes_for_fork(&block_bytes, block_fork) {
        Ok(SignedBeaconBlock::Fulu(block)) => block,
        Ok(other) => {
            return Err(NodeError::CheckpointSync(format!(
                "the block is {:?}",
                other.fork_name()
            )));
        }
        Err(e) => return Err(NodeError::CheckpointSync(format!("block SSZ: {e:?}"))),
    };
    if block.message.tree_hash_root() != block_root {
        return Err(NodeError::CheckpointSync(
            "the block served is not the state's latest block".into(),
        ));
    }
    Ok(ChainAnchor { state, block })
}

async fn fetch_ssz(client: &reqwest::Client, url: &str) -> Result<(ForkName, Vec<u8>), NodeError> {
    let fail = |reason: String| NodeError::CheckpointSync(format!("{url}: {reason}"));
    let response = client
        .get(url)
        .header("Accept", "application/octet-stream")
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let fork = response
        .headers()
        .get("Eth-Consensus-Version")
        .and_then(|v| v.to_str().ok())
        .and_then(|name| ForkName::ALL.iter().copied().find(|f| f.as_str() == name))
        .ok_or_else(|| fail("no usable Eth-Consensus-Version header".into()))?;
    let total = response.content_length().unwrap_or(0);
    let progress = crate::progress::Progress::new("checkpoint download", total, "bytes");
    let mut bytes = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut response = response;
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        bytes.extend_from_slice(&chunk);
        progress.set(bytes.len() as u64);
    }
    progress.finish();
    Ok((fork, bytes))
}
