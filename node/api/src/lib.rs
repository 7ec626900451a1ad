//! Keel's Beacon API: the standard HTTP interface (`/eth/v1/...`, `/eth/v2/...`) over axum.
//!
//! Owns: routing, parsing of state/block/validator ids and query parameters, the JSON envelope
//! (`data`, `execution_optimistic`, `finalized`, `version`), SSZ responses, the spec's error
//! shape (`{"code": 400, "message": "..."}`) and the server-sent `events` stream.
//! Inputs: the latest [`Snapshot`](keel_pipeline_api::Snapshot) (loaded lock-free from the
//! [`SnapshotCell`]), read transactions on the [`Store`], the [`ChainConfig`], the node's
//! [`NodeIdentity`] and a [`NetworkView`] of the peers. Outputs: HTTP responses.
//! Must not: call into the single-writer core or write to the store. Every request works on one
//! snapshot it loaded at its start, so a response never mixes two moments of the chain.
//!
//! Error mapping lives in one place ([`error::RequestError`]): malformed input is a 400,
//! something well-formed that the node does not hold a 404, and only the node's own failures a
//! 500. Handlers that touch the store or do O(validators) work run on tokio's blocking pool.

mod beacon;
mod config;
mod debug;
pub mod error;
mod events;
mod ids;
mod node;
mod response;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use keel_config::ChainConfig;
use keel_pipeline_api::SnapshotCell;
use keel_state_transition::Caches;
use keel_store::Store;
use keel_types::{Preset, fulu};
use serde::Serialize;

pub use error::ApiError;

/// What the node says about itself on `node/identity` (the caller fills it from the networking
/// layer; the dev node without p2p fills placeholders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// The libp2p peer id (base58).
    pub peer_id: String,
    /// The node's ENR (`enr:-...`).
    pub enr: String,
    /// Multiaddrs the node listens on for libp2p.
    pub p2p_addresses: Vec<String>,
    /// Multiaddrs the node listens on for discv5.
    pub discovery_addresses: Vec<String>,
    /// The node's current p2p `MetaData` (v3).
    pub metadata: fulu::MetaData,
}

impl NodeIdentity {
    /// An identity for a node without networking: every field says so.
    pub fn placeholder() -> Self {
        NodeIdentity {
            peer_id: "none (networking disabled)".into(),
            enr: "none (networking disabled)".into(),
            p2p_addresses: Vec::new(),
            discovery_addresses: Vec::new(),
            metadata: fulu::MetaData::default(),
        }
    }
}

/// A peer's connection state, as `node/peers` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerState {
    Disconnected,
    Connecting,
    Connected,
    Disconnecting,
}

/// Who opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerDirection {
    Inbound,
    Outbound,
}

/// One peer, as `node/peers` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerInfo {
    pub peer_id: String,
    pub enr: Option<String>,
    pub last_seen_p2p_address: String,
    pub state: PeerState,
    pub direction: PeerDirection,
}

/// How many peers are in each state (`node/peer_count`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PeerCounts {
    pub disconnected: u64,
    pub connecting: u64,
    pub connected: u64,
    pub disconnecting: u64,
}

/// The networking layer as the API sees it. Implementations must answer quickly and without
/// blocking on the network (they are called from request handlers).
pub trait NetworkView: Send + Sync + 'static {
    /// Every peer the node knows, in any state.
    fn peers(&self) -> Vec<PeerInfo>;

    /// The node's identity once its network is up (`None`: the context's fixed identity).
    fn identity(&self) -> Option<NodeIdentity> {
        None
    }

    /// Peers per state. The default counts [`NetworkView::peers`]; an implementation that keeps
    /// counters should answer from them.
    fn peer_counts(&self) -> PeerCounts {
        let mut counts = PeerCounts::default();
        for peer in self.peers() {
            let n = match peer.state {
                PeerState::Disconnected => &mut counts.disconnected,
                PeerState::Connecting => &mut counts.connecting,
                PeerState::Connected => &mut counts.connected,
                PeerState::Disconnecting => &mut counts.disconnecting,
            };
            *n = n.saturating_add(1);
        }
        counts
    }
}

/// The [`NetworkView`] of a node without networking: no peers, ever.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNetwork;

impl NetworkView for NoNetwork {
    fn peers(&self) -> Vec<PeerInfo> {
        Vec::new()
    }
}

/// `Keel/v<version>/<os>-<arch>`, the `node/version` string.
pub fn version_string() -> String {
    format!(
        "Keel/v{}/{}-{}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Everything the API reads. Cheap to clone (shared handles).
#[derive(Clone)]
pub struct ApiContext<P: Preset> {
    pub snapshots: Arc<SnapshotCell<P>>,
    pub store: Arc<Store<P>>,
    pub config: Arc<ChainConfig>,
    pub identity: Arc<NodeIdentity>,
    pub network: Arc<dyn NetworkView>,
    /// The `node/version` string; [`ApiContext::new`] sets [`version_string`].
    pub version: String,
}

impl<P: Preset> ApiContext<P> {
    pub fn new(
        snapshots: Arc<SnapshotCell<P>>,
        store: Arc<Store<P>>,
        config: Arc<ChainConfig>,
        identity: NodeIdentity,
        network: Arc<dyn NetworkView>,
    ) -> Self {
        ApiContext {
            snapshots,
            store,
            config,
            identity: Arc::new(identity),
            network,
            version: version_string(),
        }
    }
}

/// The router's state: the context plus the API's own derived-data caches (committee
/// shufflings), which only ever hold what a state determines, so sharing them is safe.
pub(crate) struct Shared<P: Preset> {
    pub ctx: ApiContext<P>,
    pub caches: Mutex<Caches>,
    /// Becomes `true` when the server shuts down: open event streams end then, or the graceful
    /// shutdown would wait for them forever.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

pub(crate) type AppState<P> = Arc<Shared<P>>;

/// The Beacon API's routes over `ctx`. (Event streams served by this router end only when
/// their client leaves; [`serve`] also ends them at shutdown.)
pub fn router<P: Preset>(ctx: ApiContext<P>) -> Router {
    let (_never, shutdown) = tokio::sync::watch::channel(false);
    router_with_shutdown(ctx, shutdown)
}

fn router_with_shutdown<P: Preset>(
    ctx: ApiContext<P>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Router {
    let shared: AppState<P> = Arc::new(Shared {
        ctx,
        caches: Mutex::new(Caches::new()),
        shutdown,
    });
    Router::new()
        // node
        .route("/eth/v1/node/identity", get(node::identity::<P>))
        .route("/eth/v1/node/version", get(node::version::<P>))
        .route("/eth/v1/node/syncing", get(node::syncing::<P>))
        .route("/eth/v1/node/health", get(node::health::<P>))
        .route("/eth/v1/node/peers", get(node::peers::<P>))
        .route("/eth/v1/node/peers/{peer_id}", get(node::peer::<P>))
        .route("/eth/v1/node/peer_count", get(node::peer_count::<P>))
        // beacon: genesis and states
        .route("/eth/v1/beacon/genesis", get(beacon::genesis::<P>))
        .route(
            "/eth/v1/beacon/states/{state_id}/root",
            get(beacon::state_root::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/fork",
            get(beacon::state_fork::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/finality_checkpoints",
            get(beacon::finality_checkpoints::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/validators",
            get(beacon::validators::<P>).post(beacon::post_validators::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/validators/{validator_id}",
            get(beacon::validator::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/validator_balances",
            get(beacon::validator_balances::<P>).post(beacon::post_validator_balances::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/committees",
            get(beacon::committees::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/sync_committees",
            get(beacon::sync_committees::<P>),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/randao",
            get(beacon::randao::<P>),
        )
        // beacon: headers and blocks
        .route("/eth/v1/beacon/headers", get(beacon::headers::<P>))
        .route(
            "/eth/v1/beacon/headers/{block_id}",
            get(beacon::header::<P>),
        )
        .route("/eth/v2/beacon/blocks/{block_id}", get(beacon::block::<P>))
        .route(
            "/eth/v1/beacon/blocks/{block_id}/root",
            get(beacon::block_root::<P>),
        )
        // debug
        .route(
            "/eth/v2/debug/beacon/states/{state_id}",
            get(debug::state::<P>),
        )
        .route("/eth/v1/debug/fork_choice", get(debug::fork_choice::<P>))
        .route("/eth/v2/debug/beacon/heads", get(debug::heads::<P>))
        // config
        .route("/eth/v1/config/spec", get(config::spec::<P>))
        .route(
            "/eth/v1/config/fork_schedule",
            get(config::fork_schedule::<P>),
        )
        .route(
            "/eth/v1/config/deposit_contract",
            get(config::deposit_contract::<P>),
        )
        // events
        .route("/eth/v1/events", get(events::events::<P>))
        .fallback(error::not_found_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(shared)
}

/// Serves the Beacon API on `addr` until `shutdown` completes, then finishes in-flight
/// requests and returns.
pub async fn serve<P: Preset>(
    addr: SocketAddr,
    ctx: ApiContext<P>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ApiError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ApiError::Bind { addr, source })?;
    serve_on(listener, ctx, shutdown).await
}

/// As [`serve`], on a listener the caller bound (tests bind port 0 and read the address).
pub async fn serve_on<P: Preset>(
    listener: tokio::net::TcpListener,
    ctx: ApiContext<P>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ApiError> {
    if let Ok(local) = listener.local_addr() {
        tracing::info!(%local, "Beacon API listening");
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    axum::serve(listener, router_with_shutdown(ctx, stopped))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ApiError::Serve)
}
