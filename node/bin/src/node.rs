//! Wiring: the store, the core, the verify stage, the engine, the Beacon API, metrics, the slot
//! clock and (for `keel dev`) the validator duties; and the orderly shutdown of all of them.

use crate::chain_metrics;
use crate::cli::{CommonArgs, DevArgs};
use crate::duties::{Duties, execution_hash, until};
use crate::sink::{NodeSink, unix_ms};
use keel_api::{ApiContext, NodeIdentity};
use keel_config::ChainConfig;
use keel_core::{Chain, CoreError, CoreHandle, CoreInput, meta};
use keel_decode::GossipDecoder;
use keel_execution::{
    EngineClient, ForkchoiceState, JwtSecret, MockConfig, MockEngine, PayloadVerdict,
};
use keel_pipeline_api::{ChainEvent, PayloadStatus, SnapshotCell};
use keel_queue::{Class, QueueConfig};
use keel_store::{Store, StoreOptions};
use keel_types::{Minimal, Preset};
use keel_validator::SlashingProtection;
use keel_validator::produce::{LocalValidators, interop_genesis_for};
use keel_verify::{GossipValidator, VerifyStage};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// Why the node could not start or had to stop. Each says what to fix, in one line.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("datadir {path}: {reason}")]
    Datadir { path: PathBuf, reason: String },
    #[error("database: {0}")]
    Store(#[from] keel_store::StoreError),
    #[error("chain: {0}")]
    Core(#[from] CoreError),
    #[error("JWT secret: {0}")]
    Jwt(#[from] keel_execution::JwtError),
    #[error("execution engine: {0}")]
    Engine(#[from] keel_execution::EngineError),
    #[error("{0}")]
    Mock(#[from] keel_execution::MockError),
    #[error("cannot listen on {addr} for the {what}: {reason}")]
    Listen {
        what: &'static str,
        addr: SocketAddr,
        reason: String,
    },
    #[error("slashing protection: {0}")]
    Protection(#[from] keel_validator::ProtectionError),
    #[error("validator keys: {0}")]
    Validator(#[from] keel_validator::ValidatorError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("checkpoint sync: {0}")]
    CheckpointSync(String),
    #[error("cannot start a thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Creates `path` if needed and checks that it is a writable directory.
pub fn prepare_datadir(path: &Path) -> Result<PathBuf, NodeError> {
    let fail = |reason: String| NodeError::Datadir {
        path: path.to_path_buf(),
        reason,
    };
    std::fs::create_dir_all(path).map_err(|e| fail(format!("cannot create it: {e}")))?;
    let probe = path.join(".keel-write-test");
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("not writable: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(path.to_path_buf())
}

fn open_store<P: Preset>(datadir: &Path) -> Result<Arc<Store<P>>, NodeError> {
    let dir = datadir.join("db");
    std::fs::create_dir_all(&dir).map_err(|e| NodeError::Datadir {
        path: dir.clone(),
        reason: format!("cannot create the database directory: {e}"),
    })?;
    Ok(Arc::new(Store::open(&dir, &StoreOptions::default())?))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<tokio::net::TcpListener, NodeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Listen {
            what,
            addr,
            reason: e.to_string(),
        })
}

fn start_metrics(common: &CommonArgs) -> Result<(), NodeError> {
    if common.disable_metrics {
        return Ok(());
    }
    let addr = SocketAddr::new(common.metrics_address, common.metrics_port);
    // Bind first so that a taken port is a clear startup error, not a log line later.
    std::net::TcpListener::bind(addr).map_err(|e| NodeError::Listen {
        what: "metrics endpoint",
        addr,
        reason: e.to_string(),
    })?;
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| NodeError::Listen {
            what: "metrics endpoint",
            addr,
            reason: e.to_string(),
        })?;
    tracing::info!(%addr, "metrics listening");
    Ok(())
}

/// Everything a running node holds.
pub struct Running<P: Preset> {
    pub core: CoreHandle<P>,
    pub engine: EngineClient,
    pub store: Arc<Store<P>>,
    /// Set once the network is up.
    pub network: Arc<OnceLock<keel_p2p::NetworkHandle>>,
    /// The node's p2p MetaData, set with the network (for `node/identity`).
    pub p2p_metadata: Arc<OnceLock<keel_types::fulu::MetaData>>,
    pub stage: Arc<VerifyStage<P>>,
    pub shutdown: watch::Sender<bool>,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts the core, the verify stage, the API and the engine follower on an opened chain.
pub async fn start<P: Preset>(
    config: Arc<ChainConfig>,
    store: Arc<Store<P>>,
    chain: Chain<P>,
    engine: EngineClient,
    common: &CommonArgs,
) -> Result<Running<P>, NodeError> {
    let http_addr = SocketAddr::new(common.http_address, common.http_port);
    let http = bind("Beacon API", http_addr).await?;
    start_metrics(common)?;
    let core = keel_core::spawn(chain, &QueueConfig::default())?;
    let snapshot = core.snapshots.load();
    let network = Arc::new(OnceLock::new());
    let sink = Arc::new(NodeSink {
        core: core.sender.clone(),
        engine: engine.clone(),
        runtime: tokio::runtime::Handle::current(),
        network: Arc::clone(&network),
    });
    let stage = Arc::new(VerifyStage::start(
        GossipDecoder::new(&config, snapshot.genesis_validators_root),
        GossipValidator::new(Arc::clone(&config)),
        Arc::clone(&core.snapshots),
        Arc::clone(&core.pubkeys),
        sink,
    )?);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();

    let p2p_metadata = Arc::new(OnceLock::new());
    let ctx = ApiContext::new(
        Arc::clone(&core.snapshots),
        Arc::clone(&store),
        Arc::clone(&config),
        NodeIdentity::placeholder(),
        Arc::new(crate::network::ApiNetworkView {
            network: Arc::clone(&network),
            metadata: Arc::clone(&p2p_metadata),
        }),
    );

    let mut api_shutdown = shutdown_rx.clone();
    tasks.push(tokio::spawn(async move {
        let stop = async move {
            let _ = api_shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(e) = keel_api::serve_on(http, ctx, stop).await {
            tracing::error!(error = %e, "Beacon API stopped");
        }
    }));
    tasks.push(tokio::spawn(follow_head(
        Arc::clone(&core.snapshots),
        core.sender.clone(),
        engine.clone(),
        shutdown_rx,
    )));
    Ok(Running {
        core,
        engine,
        store,
        network,
        p2p_metadata,
        stage,
        shutdown,
        tasks,
    })
}

/// Tells the engine about every new head (`engine_forkchoiceUpdatedV3`) and hands its verdicts
/// back to the core: VALID confirms an optimistic head, INVALID removes the branch.
async fn follow_head<P: Preset>(
    snapshots: Arc<SnapshotCell<P>>,
    core: keel_queue::QueueSender<CoreInput<P>>,
    engine: EngineClient,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut events = snapshots.subscribe();
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let event = match event {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        chain_metrics::on_event(&event);
        let ChainEvent::Head { block, .. } = event else {
            continue;
        };
        let snapshot = snapshots.load();
        chain_metrics::sample(&snapshot, &core);
        if snapshot.head.block_root != block {
            continue; // a newer head follows
        }
        let state = ForkchoiceState {
            head_block_hash: execution_hash(&snapshot, &block),
            safe_block_hash: execution_hash(&snapshot, &snapshot.justified.root),
            finalized_block_hash: execution_hash(&snapshot, &snapshot.finalized.root),
        };
        let answer = engine.forkchoice_updated(state, None).await;
        let status = match answer {
            Ok(response) => match response.verdict {
                PayloadVerdict::Valid if snapshot.head.optimistic => Some(PayloadStatus::Valid),
                PayloadVerdict::Invalid {
                    latest_valid_hash, ..
                } => Some(PayloadStatus::Invalid { latest_valid_hash }),
                _ => None,
            },
            Err(e) => {
                tracing::warn!(error = %e, "forkchoiceUpdated failed");
                let _ = core.send(Class::Block, CoreInput::ElOnline(!e.is_offline()));
                None
            }
        };
        if let Some(status) = status {
            let _ = core.send(
                Class::Block,
                CoreInput::PayloadStatus {
                    block_root: block,
                    status,
                },
            );
        }
    }
}

impl<P: Preset> Running<P> {
    /// Stops everything in order: no new inputs, the API, then the core after its last commit.
    pub async fn stop(self) -> Result<(), NodeError> {
        let _ = self.shutdown.send(true);
        if let Some(network) = self.network.get() {
            network.shutdown().await;
        }
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        drop(self.stage);
        let core = self.core;
        tokio::task::spawn_blocking(move || core.shutdown())
            .await
            .map_err(|e| NodeError::Config(format!("core shutdown task: {e}")))??;
        Ok(())
    }
}

/// One readable line per slot.
pub fn status_line<P: Preset>(running: &Running<P>, slot: u64) {
    let snapshot = running.core.snapshots.load();
    chain_metrics::sample(&snapshot, &running.core.sender);
    let depths = running.core.sender.depths();
    let root = snapshot.head.block_root;
    tracing::info!(
        "slot {slot} | head {} {}… | justified {} | finalized {} | peers {} | queues {:?} | el {}",
        snapshot.head.slot,
        &format!("{root}")[..10],
        snapshot.justified.epoch,
        snapshot.finalized.epoch,
        running.network.get().map_or(0, |n| n.peer_count()),
        depths,
        if snapshot.el_online {
            "online"
        } else {
            "OFFLINE"
        },
    );
}

// ------------------------------------------------------------------------------- keel dev

pub async fn run_dev(args: DevArgs) -> Result<(), NodeError> {
    type P = Minimal;
    let datadir = prepare_datadir(&args.common.datadir)?;
    if args.reset {
        for stale in ["db", "slashing_protection.json"] {
            let path = datadir.join(stale);
            let _ = std::fs::remove_dir_all(&path);
            let _ = std::fs::remove_file(&path);
        }
    }
    let config = Arc::new(ChainConfig::dev(args.slot_ms));
    let jwt_path = args
        .execution_jwt
        .clone()
        .unwrap_or_else(|| datadir.join("jwt.hex"));
    let secret = JwtSecret::load_or_generate(&jwt_path)?;
    let store = open_store::<P>(&datadir)?;
    let fresh = store.read()?.meta(meta::FORK_CHOICE)?.is_none();

    let (mut chain, mock) = if fresh && let Some(url) = &args.checkpoint_sync_url {
        let anchor = crate::checkpoint::checkpoint_sync::<P>(url).await?;
        let genesis_time = anchor.state.genesis_time;
        tracing::info!(
            slot = anchor.state.slot,
            genesis_time,
            "joining a devnet from its checkpoint"
        );
        // The embedded engine knows only the execution genesis: the checkpoint's payloads are
        // new to it, so it answers SYNCING and imports stay optimistic, as with a real
        // execution client that is still syncing.
        let mock = start_mock(&secret, genesis_time).await?;
        let chain = Chain::open(Arc::clone(&config), Arc::clone(&store), move || Ok(anchor))?;
        (chain, mock)
    } else if fresh {
        let genesis_time = args.genesis_time.unwrap_or_else(|| unix_ms() / 1000 + 2);
        let mock = start_mock(&secret, genesis_time).await?;
        let header = mock
            .genesis_header::<P>()
            .map_err(|e| NodeError::Config(format!("mock genesis header: {e}")))?;
        let validators = args.validators;
        tracing::info!(validators, genesis_time, "creating a new devnet");
        let local = derive_keys(validators)?;
        let genesis_config = Arc::clone(&config);
        let chain = Chain::open(Arc::clone(&config), Arc::clone(&store), move || {
            interop_genesis_for::<P>(&genesis_config, &local, genesis_time, header)
                .map(keel_core::ChainAnchor::genesis)
                .map_err(|e| CoreError::Genesis(e.to_string()))
        })?;
        (chain, mock)
    } else {
        let chain = Chain::open(Arc::clone(&config), Arc::clone(&store), || {
            Err(CoreError::Genesis("the database has a chain".into()))
        })?;
        // The embedded engine keeps no disk state: it starts again from the same execution
        // genesis and is handed every canonical payload, so that it knows the head, safe and
        // finalized blocks as a real execution client would.
        let head = chain.head();
        let genesis_time = chain.genesis_time();
        let mock = start_mock(&secret, genesis_time).await?;
        let engine = EngineClient::new(&mock.url(), secret.clone())?;
        let replayed = replay_payloads(&engine, &store, head.block_root).await?;
        tracing::info!(head_slot = head.slot, head = %head.block_root, replayed, "resumed devnet");
        (chain, mock)
    };
    let engine = EngineClient::new(&mock.url(), secret)?;
    let capabilities = engine.exchange_capabilities().await?;
    tracing::info!(url = %mock.url(), methods = capabilities.len(), "execution engine (embedded mock) ready");

    let validator_count = chain
        .snapshot()
        .head_state()
        .map(|e| e.state.validators.len() as u64)
        .unwrap_or(args.validators);
    let running = start(
        Arc::clone(&config),
        store,
        chain,
        engine.clone(),
        &args.common,
    )
    .await?;
    let mut running = running;
    if let Some(port) = args.p2p_port {
        // A devnet is small: every node takes every subnet, on loopback.
        let options = crate::network::P2pOptions {
            listen_address: std::net::IpAddr::from([127, 0, 0, 1]),
            tcp_port: port,
            quic_port: None,
            discovery_port: args.discovery_port,
            boot_nodes: args.boot_nodes.clone(),
            static_peers: args.peers.clone(),
            target_peers: 50,
            subscribe_all_subnets: true,
        };
        start_network(&mut running, &config, &options, &datadir).await?;
    } else if args.checkpoint_sync_url.is_some() {
        tracing::warn!(
            "--checkpoint-sync-url without --p2p-port: the node cannot sync past its checkpoint"
        );
    }
    metrics::gauge!(chain_metrics::LOCAL_VALIDATORS).set(validator_count as f64);
    let duties = Arc::new(Duties {
        config: Arc::clone(&config),
        local: derive_keys_in(
            args.local_validators
                .clone()
                .map_or(0..validator_count, |r| {
                    r.start.min(validator_count)..r.end.min(validator_count)
                }),
        )?,
        protection: Mutex::new(SlashingProtection::open(
            datadir.join("slashing_protection.json"),
        )?),
        snapshots: Arc::clone(&running.core.snapshots),
        op_pool: Arc::clone(&running.core.op_pool),
        stage: Arc::clone(&running.stage),
        network: Arc::clone(&running.network),
        engine,
        fee_recipient: Default::default(),
    });

    let result = tokio::select! {
        result = slot_loop(&running, &duties, &config) => result,
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    };
    drop(duties);
    running.stop().await?;
    mock.stop().await;
    tracing::info!("stopped; the database is consistent");
    result
}

/// Starts the libp2p host, the sync task and topic rotation for a running node.
pub async fn start_network<P: Preset>(
    running: &mut Running<P>,
    config: &Arc<ChainConfig>,
    options: &crate::network::P2pOptions,
    datadir: &Path,
) -> Result<(), NodeError> {
    let snapshot = running.core.snapshots.load();
    let secret = keel_p2p::discovery::load_or_generate_key(&datadir.join("network").join("key"))
        .map_err(|e| NodeError::Config(e.to_string()))?;
    let epoch = keel_state_transition::accessors::compute_epoch_at_slot::<P>(snapshot.current_slot);
    let (network_config, subnets, digests) = crate::network::network_config(
        config,
        snapshot.genesis_validators_root,
        epoch,
        secret,
        GossipDecoder::<P>::new(config, snapshot.genesis_validators_root),
        options,
    )
    .map_err(|e| NodeError::Config(format!("network identity: {e}")))?;
    tracing::info!(
        attestation_subnets = ?subnets.attestation,
        sync_subnets = ?subnets.sync_committee,
        column_subnets = ?subnets.data_column,
        "gossip subscriptions"
    );
    let _ = running.p2p_metadata.set(network_config.metadata.clone());
    // Blocks that commit to blobs wait for these columns (data availability).
    let _ = running.core.sender.send(
        keel_queue::Class::Block,
        CoreInput::SetCustodyColumns(subnets.custody_columns.clone()),
    );
    let app = Arc::new(crate::network::NodeNetwork::new(
        Arc::clone(config),
        Arc::clone(&running.core.snapshots),
        Arc::clone(&running.store),
        Arc::clone(&running.stage),
    )?);
    let (handle, events) = keel_p2p::start(network_config, Arc::clone(&app) as _)
        .await
        .map_err(|e| NodeError::Config(format!("network: {e}")))?;
    let sync = keel_sync::SyncService::<P, _, _>::new(
        Arc::new(crate::sync::NodeSyncChain {
            snapshots: Arc::clone(&running.core.snapshots),
            store: Arc::clone(&running.store),
            core: running.core.sender.clone(),
            engine: running.engine.clone(),
            network: app,
        }),
        handle.clone(),
        Arc::clone(config),
        keel_sync::SyncConfig::new::<P>(config),
    );
    running
        .tasks
        .push(tokio::spawn(sync.run(events, running.shutdown.subscribe())));
    running
        .tasks
        .push(tokio::spawn(crate::network::rotate_topics(
            handle.clone(),
            Arc::clone(config),
            Arc::clone(&running.core.snapshots),
            subnets,
            digests,
            running.shutdown.subscribe(),
        )));
    let enr_path = datadir.join("network").join("enr");
    if let Err(e) = std::fs::write(&enr_path, handle.enr.to_base64()) {
        tracing::warn!(path = %enr_path.display(), error = %e, "cannot write the ENR file");
    }
    let _ = running.network.set(handle);
    Ok(())
}

/// The interop keys of validators `0..count`, with a progress display.
fn derive_keys(count: u64) -> Result<LocalValidators, NodeError> {
    derive_keys_in(0..count)
}

/// The interop keys of validators in `range`, with a progress display.
fn derive_keys_in(range: std::ops::Range<u64>) -> Result<LocalValidators, NodeError> {
    let count = range.end.saturating_sub(range.start);
    let progress = crate::progress::Progress::new("deriving interop keys", count, "keys");
    let local = LocalValidators::interop_with_progress(range, &|done| progress.set(done))?;
    progress.finish();
    Ok(local)
}

/// Ticks the core at each slot's start and deadlines and runs the duties due then.
async fn slot_loop<P: Preset>(
    running: &Running<P>,
    duties: &Arc<Duties<P>>,
    config: &ChainConfig,
) -> Result<(), NodeError> {
    let genesis_ms = running
        .core
        .snapshots
        .load()
        .genesis_time
        .saturating_mul(1000);
    let slot_ms = config.slot_duration_ms.max(1);
    let attest_ms = slot_ms * config.attestation_due_bps / 10_000;
    let aggregate_ms = slot_ms * config.aggregate_due_bps / 10_000;
    loop {
        let now = unix_ms();
        if now < genesis_ms {
            tracing::info!(seconds = (genesis_ms - now) / 1000, "waiting for genesis");
            tokio::time::sleep(until(genesis_ms)).await;
            continue;
        }
        let slot = (now - genesis_ms) / slot_ms;
        let slot_start = genesis_ms + slot * slot_ms;
        tick(running);
        if slot > 0 {
            status_line(running, slot);
            let proposer = Arc::clone(duties);
            tokio::spawn(async move {
                if let Err(e) = proposer.propose(slot).await {
                    tracing::warn!(slot, error = %e, "block proposal failed");
                }
            });
        }
        tokio::time::sleep(until(slot_start + attest_ms)).await;
        tick(running);
        if slot > 0 {
            let member = Arc::clone(duties);
            match tokio::task::spawn_blocking(move || member.sync_committee(slot)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(slot, error = %e, "sync committee duty failed"),
                Err(e) => tracing::warn!(slot, error = %e, "sync committee task failed"),
            }
            let attester = Arc::clone(duties);
            match tokio::task::spawn_blocking(move || attester.attest(slot)).await {
                Ok(Ok(count)) => {
                    metrics::counter!(chain_metrics::ATTESTATIONS_PUBLISHED).increment(count as u64)
                }
                Ok(Err(e)) => tracing::warn!(slot, error = %e, "attesting failed"),
                Err(e) => tracing::warn!(slot, error = %e, "attestation task failed"),
            }
        }
        tokio::time::sleep(until(slot_start + aggregate_ms)).await;
        tick(running);
        if slot > 0 {
            let aggregator = Arc::clone(duties);
            match tokio::task::spawn_blocking(move || {
                aggregator
                    .aggregate(slot)
                    .and_then(|_| aggregator.sync_contributions(slot))
            })
            .await
            {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(slot, error = %e, "aggregating failed"),
                Err(e) => tracing::warn!(slot, error = %e, "aggregation task failed"),
            }
        }
        tokio::time::sleep(until(slot_start + slot_ms)).await;
    }
}

fn tick<P: Preset>(running: &Running<P>) {
    let _ = running
        .core
        .sender
        .send(Class::Block, CoreInput::Tick { unix_ms: unix_ms() });
}

/// The embedded mock execution engine on a free loopback port, its execution genesis at
/// `genesis_time` (the same on every start, so that a restart can replay the chain into it).
async fn start_mock(secret: &JwtSecret, genesis_time: u64) -> Result<MockEngine, NodeError> {
    Ok(MockEngine::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        secret.clone(),
        MockConfig {
            genesis_timestamp: genesis_time,
            ..MockConfig::default()
        },
    )
    .await?)
}

/// Sends the payload of every block from genesis to `head` to the engine (`newPayload`), oldest
/// first; returns how many it accepted as VALID.
async fn replay_payloads<P: Preset>(
    engine: &EngineClient,
    store: &Store<P>,
    head: keel_types::Hash256,
) -> Result<usize, NodeError> {
    let mut blocks = Vec::new();
    {
        let read = store.read()?;
        let mut cursor = head;
        while let Some(block) = read.block(&cursor)? {
            let keel_types::SignedBeaconBlock::Fulu(block) = block else {
                break;
            };
            if block.message.slot == 0 {
                break;
            }
            cursor = block.message.parent_root;
            blocks.push(block);
        }
    }
    let mut valid = 0;
    for block in blocks.iter().rev() {
        let body = &block.message.body;
        let verdict = engine
            .new_payload(
                keel_types::ForkName::Fulu,
                &body.execution_payload,
                &[],
                block.message.parent_root,
                &body.execution_requests,
            )
            .await?;
        if verdict.is_valid() {
            valid += 1;
        } else {
            tracing::warn!(
                slot = block.message.slot,
                ?verdict,
                "engine refused a stored payload"
            );
        }
    }
    Ok(valid)
}

// -------------------------------------------------------------------------------- keel bn

pub async fn run_bn(args: crate::cli::BnArgs) -> Result<(), NodeError> {
    crate::bn::run(args).await
}
