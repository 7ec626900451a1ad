//! `MockEngine`: a small execution engine for development and tests, serving the Engine API
//! subset Keel uses over real HTTP (axum) on a local socket, with real JWT checks.
//!
//! It keeps a chain of empty blocks (no transactions, no blobs, no requests) in memory, builds
//! payloads on request and judges the payloads it is sent. It does not execute anything, and its
//! block hash is **not** the RLP/Keccak header hash of Ethereum: it is a SHA-256 over the payload
//! fields, the parent beacon block root and the execution requests ([`mock_block_hash`]), which
//! is deterministic, so any mock can check a payload another mock built, and changes whenever a
//! field is tampered with. Nothing outside the mock interprets it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use alloy_eips::eip4895::Withdrawal as WireWithdrawal;
use alloy_eips::eip7685::Requests;
use alloy_primitives::{B256, Bloom, Bytes, U256, b256};
use alloy_rpc_types_engine::{
    BlobsBundleV1, BlobsBundleV2, ExecutionPayloadEnvelopeV3, ExecutionPayloadEnvelopeV4,
    ExecutionPayloadEnvelopeV5, ExecutionPayloadV1, ExecutionPayloadV2, ExecutionPayloadV3,
    ForkchoiceState, PayloadAttributes as WirePayloadAttributes, PayloadId,
};
use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use keel_types::deneb::ExecutionPayloadHeader;
use keel_types::{Hash256, Preset};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::client::{
    ENGINE_EXCHANGE_CAPABILITIES, ENGINE_FORKCHOICE_UPDATED_V3, ENGINE_GET_BLOBS_V2,
    ENGINE_GET_PAYLOAD_V4, ENGINE_GET_PAYLOAD_V5, ENGINE_NEW_PAYLOAD_V4,
};
use crate::convert::{ConversionError, execution_payload_from_v3, execution_payload_header};
use crate::jwt::{JwtSecret, unix_now};

/// Root of an empty Merkle-Patricia trie (what an EL reports for a block without receipts).
const EMPTY_TRIE_ROOT: B256 =
    b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
/// `extra_data` of the blocks the mock builds.
const MOCK_EXTRA_DATA: &[u8] = b"keel-mock";
/// `engine_getBlobsV2`'s minimum request size the EL must serve (osaka.md); more is -38004.
const MAX_GET_BLOBS_REQUEST: usize = 128;

// JSON-RPC and Engine API error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const UNKNOWN_PAYLOAD: i64 = -38001;
const INVALID_FORKCHOICE_STATE: i64 = -38002;
const INVALID_PAYLOAD_ATTRIBUTES: i64 = -38003;
const TOO_LARGE_REQUEST: i64 = -38004;

/// How the mock answers `newPayload` and `forkchoiceUpdated`; switchable at runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MockMode {
    /// Judge payloads and heads by the mock's chain.
    #[default]
    Normal,
    /// Answer SYNCING to everything (an EL catching up).
    Syncing,
    /// Answer INVALID to everything, with this latest valid hash.
    Invalid { latest_valid_hash: Option<Hash256> },
}

/// The mock's genesis block and chain parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfig {
    /// The genesis block hash; `None` computes it with [`mock_block_hash`]. Set it when the
    /// consensus genesis state already names an execution block hash.
    pub genesis_block_hash: Option<Hash256>,
    pub genesis_timestamp: u64,
    pub gas_limit: u64,
    /// Wei; the first child block has 7/8 of it (EIP-1559 with empty blocks).
    pub genesis_base_fee_per_gas: u64,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            genesis_block_hash: None,
            genesis_timestamp: 0,
            gas_limit: 36_000_000,
            genesis_base_fee_per_gas: 1_000_000_000,
        }
    }
}

/// Failure to start the mock.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("mock execution engine cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The mock's SHA-256 stand-in for an execution block hash (see the module doc): a domain tag,
/// then every `ExecutionPayloadV3` field except `block_hash` (fixed-width big-endian integers,
/// length-prefixed byte strings and lists), the parent beacon block root and the EIP-7685
/// requests.
pub fn mock_block_hash(
    payload: &ExecutionPayloadV3,
    parent_beacon_block_root: B256,
    execution_requests: &[Bytes],
) -> B256 {
    fn bytes(h: &mut Sha256, b: &[u8]) {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    }
    let v2 = &payload.payload_inner;
    let v1 = &v2.payload_inner;
    let mut h = Sha256::new();
    h.update(b"keel-mock-block-hash-v1");
    h.update(v1.parent_hash);
    h.update(v1.fee_recipient);
    h.update(v1.state_root);
    h.update(v1.receipts_root);
    h.update(v1.logs_bloom);
    h.update(v1.prev_randao);
    h.update(v1.block_number.to_be_bytes());
    h.update(v1.gas_limit.to_be_bytes());
    h.update(v1.gas_used.to_be_bytes());
    h.update(v1.timestamp.to_be_bytes());
    bytes(&mut h, &v1.extra_data);
    h.update(v1.base_fee_per_gas.to_be_bytes::<32>());
    h.update((v1.transactions.len() as u64).to_be_bytes());
    for tx in &v1.transactions {
        bytes(&mut h, tx);
    }
    h.update((v2.withdrawals.len() as u64).to_be_bytes());
    for w in &v2.withdrawals {
        h.update(w.index.to_be_bytes());
        h.update(w.validator_index.to_be_bytes());
        h.update(w.address);
        h.update(w.amount.to_be_bytes());
    }
    h.update(payload.blob_gas_used.to_be_bytes());
    h.update(payload.excess_blob_gas.to_be_bytes());
    h.update(parent_beacon_block_root);
    h.update((execution_requests.len() as u64).to_be_bytes());
    for r in execution_requests {
        bytes(&mut h, r);
    }
    B256::from_slice(&h.finalize())
}

fn genesis_payload(config: &MockConfig) -> ExecutionPayloadV3 {
    let mut payload = ExecutionPayloadV3 {
        payload_inner: ExecutionPayloadV2 {
            payload_inner: ExecutionPayloadV1 {
                parent_hash: B256::ZERO,
                fee_recipient: Default::default(),
                state_root: B256::from_slice(&Sha256::digest(b"keel-mock genesis state")),
                receipts_root: EMPTY_TRIE_ROOT,
                logs_bloom: Bloom::ZERO,
                prev_randao: B256::ZERO,
                block_number: 0,
                gas_limit: config.gas_limit,
                gas_used: 0,
                timestamp: config.genesis_timestamp,
                extra_data: Bytes::new(),
                base_fee_per_gas: U256::from(config.genesis_base_fee_per_gas),
                block_hash: B256::ZERO,
                transactions: Vec::new(),
            },
            withdrawals: Vec::new(),
        },
        blob_gas_used: 0,
        excess_blob_gas: 0,
    };
    payload.payload_inner.payload_inner.block_hash = config
        .genesis_block_hash
        .unwrap_or_else(|| mock_block_hash(&payload, B256::ZERO, &[]));
    payload
}

/// A payload the mock built, kept until `getPayload` asks for it.
#[derive(Debug, Clone)]
struct Built {
    payload: ExecutionPayloadV3,
}

#[derive(Debug)]
struct MockState {
    mode: MockMode,
    /// Blocks the mock holds as valid and executed, by hash.
    blocks: HashMap<B256, ExecutionPayloadV3>,
    built: HashMap<PayloadId, Built>,
    forkchoice: ForkchoiceState,
    /// Every payload `newPayload` received, in order.
    received: Vec<ExecutionPayloadV3>,
    next_payload_id: u64,
}

struct Shared {
    secret: JwtSecret,
    genesis: ExecutionPayloadV3,
    state: Mutex<MockState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, MockState> {
        // A panicking handler cannot leave the maps half-updated in a way that matters to a
        // mock, so a poisoned lock is simply taken over.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running mock execution engine. Dropping it stops the server too; [`MockEngine::stop`] also
/// waits for it to finish.
pub struct MockEngine {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockEngine")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockEngine {
    /// Binds `addr` (port 0 picks a free port) and serves until stopped or dropped. Must be
    /// called inside a tokio runtime.
    pub async fn start(
        addr: SocketAddr,
        secret: JwtSecret,
        config: MockConfig,
    ) -> Result<Self, MockError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| MockError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MockError::Bind { addr, source })?;
        let genesis = genesis_payload(&config);
        let genesis_hash = genesis.payload_inner.payload_inner.block_hash;
        let shared = Arc::new(Shared {
            secret,
            genesis: genesis.clone(),
            state: Mutex::new(MockState {
                mode: MockMode::Normal,
                blocks: HashMap::from([(genesis_hash, genesis)]),
                built: HashMap::new(),
                forkchoice: ForkchoiceState::same_hash(genesis_hash),
                received: Vec::new(),
                next_payload_id: 1,
            }),
        });
        let app = Router::new()
            .route("/", post(handle_http))
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                // Resolves on `stop()` or when the handle is dropped.
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "mock execution engine server failed");
            }
        });
        tracing::info!(%addr, genesis_block_hash = %genesis_hash, "mock execution engine listening");
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// [`Self::start`] on `127.0.0.1` with a free port and the default genesis.
    pub async fn start_local(secret: JwtSecret) -> Result<Self, MockError> {
        Self::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            secret,
            MockConfig::default(),
        )
        .await
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: MockMode) {
        self.shared.lock().mode = mode;
    }

    pub fn mode(&self) -> MockMode {
        self.shared.lock().mode
    }

    /// The genesis block as an `ExecutionPayloadV3`.
    pub fn genesis_payload(&self) -> ExecutionPayloadV3 {
        self.shared.genesis.clone()
    }

    pub fn genesis_block_hash(&self) -> Hash256 {
        self.shared.genesis.payload_inner.payload_inner.block_hash
    }

    /// The genesis block as the consensus `ExecutionPayloadHeader` the genesis beacon state
    /// must hold as `latest_execution_payload_header`.
    pub fn genesis_header<P: Preset>(&self) -> Result<ExecutionPayloadHeader<P>, ConversionError> {
        Ok(execution_payload_header(&execution_payload_from_v3::<P>(
            &self.shared.genesis,
        )?))
    }

    /// The last forkchoice state a VALID `forkchoiceUpdated` set.
    pub fn forkchoice(&self) -> ForkchoiceState {
        self.shared.lock().forkchoice
    }

    /// Every payload `newPayload` received, in order (whatever the verdict).
    pub fn received_payloads(&self) -> Vec<ExecutionPayloadV3> {
        self.shared.lock().received.clone()
    }

    /// Whether the mock holds `hash` as a valid block.
    pub fn knows_block(&self, hash: Hash256) -> bool {
        self.shared.lock().blocks.contains_key(&hash)
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

// ---- HTTP layer: JWT, then JSON-RPC ----

fn rpc_error_body(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } })
}

async fn handle_http(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: BodyBytes,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let auth = match token {
        None => Err("missing Authorization: Bearer <jwt> header".to_owned()),
        Some(token) => shared
            .secret
            .verify(token.trim(), unix_now())
            .map_err(|e| e.to_string()),
    };
    if let Err(reason) = auth {
        tracing::debug!(%reason, "mock execution engine rejected a request");
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(rpc_error_body(Value::Null, -32000, reason)),
        )
            .into_response();
    }

    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return axum::Json(rpc_error_body(
                Value::Null,
                PARSE_ERROR,
                format!("parse error: {e}"),
            ))
            .into_response();
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return axum::Json(rpc_error_body(id, INVALID_REQUEST, "missing method")).into_response();
    };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let body = match dispatch(&shared, method, params) {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(RpcError { code, message }) => rpc_error_body(id, code, message),
    };
    axum::Json(body).into_response()
}

struct RpcError {
    code: i64,
    message: String,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Positional parameter `index`, decoded; a missing optional parameter reads as `null`.
fn param<T: DeserializeOwned>(params: &Value, index: usize) -> Result<T, RpcError> {
    let value = params.get(index).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value)
        .map_err(|e| RpcError::new(INVALID_PARAMS, format!("invalid params[{index}]: {e}")))
}

fn to_value<T: serde::Serialize>(value: T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::new(-32603, e.to_string()))
}

fn status(status: &str, latest_valid_hash: Option<B256>, error: Option<String>) -> Value {
    json!({ "status": status, "latestValidHash": latest_valid_hash, "validationError": error })
}

fn dispatch(shared: &Shared, method: &str, params: Value) -> Result<Value, RpcError> {
    match method {
        ENGINE_EXCHANGE_CAPABILITIES => {
            let _theirs: Vec<String> = param(&params, 0)?;
            to_value([
                ENGINE_EXCHANGE_CAPABILITIES,
                ENGINE_NEW_PAYLOAD_V4,
                ENGINE_FORKCHOICE_UPDATED_V3,
                ENGINE_GET_PAYLOAD_V4,
                ENGINE_GET_PAYLOAD_V5,
                ENGINE_GET_BLOBS_V2,
            ])
        }
        ENGINE_NEW_PAYLOAD_V4 => new_payload(shared, &params),
        ENGINE_FORKCHOICE_UPDATED_V3 => forkchoice_updated(shared, &params),
        ENGINE_GET_PAYLOAD_V4 | ENGINE_GET_PAYLOAD_V5 => {
            let id: PayloadId = param(&params, 0)?;
            let built = shared
                .lock()
                .built
                .get(&id)
                .cloned()
                .ok_or_else(|| RpcError::new(UNKNOWN_PAYLOAD, "Unknown payload"))?;
            // Empty blocks: no fees, no blobs, no requests.
            if method == ENGINE_GET_PAYLOAD_V4 {
                to_value(ExecutionPayloadEnvelopeV4 {
                    envelope_inner: ExecutionPayloadEnvelopeV3 {
                        execution_payload: built.payload,
                        block_value: U256::ZERO,
                        blobs_bundle: BlobsBundleV1::empty(),
                        should_override_builder: false,
                    },
                    execution_requests: Requests::default(),
                })
            } else {
                to_value(ExecutionPayloadEnvelopeV5 {
                    execution_payload: built.payload,
                    block_value: U256::ZERO,
                    blobs_bundle: BlobsBundleV2::empty(),
                    should_override_builder: false,
                    execution_requests: Requests::default(),
                })
            }
        }
        ENGINE_GET_BLOBS_V2 => {
            let hashes: Vec<B256> = param(&params, 0)?;
            if hashes.len() > MAX_GET_BLOBS_REQUEST {
                return Err(RpcError::new(TOO_LARGE_REQUEST, "Too large request"));
            }
            // The mock's blob pool is always empty: any request misses (all-or-nothing).
            Ok(if hashes.is_empty() {
                json!([])
            } else {
                Value::Null
            })
        }
        other => Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!("method {other} not supported by the mock execution engine"),
        )),
    }
}

fn new_payload(shared: &Shared, params: &Value) -> Result<Value, RpcError> {
    let payload: ExecutionPayloadV3 = param(params, 0)?;
    let versioned_hashes: Vec<B256> = param(params, 1)?;
    let parent_beacon_block_root: B256 = param(params, 2)?;
    let requests: Vec<Bytes> = param(params, 3)?;
    let v1 = &payload.payload_inner.payload_inner;
    let (hash, parent_hash) = (v1.block_hash, v1.parent_hash);

    let mut state = shared.lock();
    state.received.push(payload.clone());
    let computed = mock_block_hash(&payload, parent_beacon_block_root, &requests);
    match state.mode {
        MockMode::Syncing => {
            // A syncing execution client still keeps the payload, to execute once synced: the
            // next block can be built on it.
            if computed == hash {
                state.blocks.insert(hash, payload.clone());
            }
            return Ok(status("SYNCING", None, None));
        }
        MockMode::Invalid { latest_valid_hash } => {
            return Ok(status(
                "INVALID",
                latest_valid_hash,
                Some("mock execution engine set to INVALID".into()),
            ));
        }
        MockMode::Normal => {}
    }
    if computed != hash {
        return Ok(status(
            "INVALID",
            None,
            Some(format!(
                "block hash mismatch: payload says {hash}, mock computes {computed}"
            )),
        ));
    }
    if state.blocks.contains_key(&hash) {
        return Ok(status("VALID", Some(hash), None));
    }
    let Some(parent) = state.blocks.get(&parent_hash) else {
        return Ok(status("SYNCING", None, None));
    };
    let parent_v1 = &parent.payload_inner.payload_inner;
    let problem = if !versioned_hashes.is_empty() {
        Some(format!(
            "{} versioned hashes given, but mock blocks carry no blob transactions",
            versioned_hashes.len()
        ))
    } else if parent_v1.block_number.checked_add(1) != Some(v1.block_number) {
        Some(format!(
            "block number {} does not follow parent {}",
            v1.block_number, parent_v1.block_number
        ))
    } else if v1.timestamp <= parent_v1.timestamp {
        Some(format!(
            "timestamp {} not after parent timestamp {}",
            v1.timestamp, parent_v1.timestamp
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        return Ok(status("INVALID", Some(parent_hash), Some(problem)));
    }
    state.blocks.insert(hash, payload);
    Ok(status("VALID", Some(hash), None))
}

fn forkchoice_updated(shared: &Shared, params: &Value) -> Result<Value, RpcError> {
    let fc: ForkchoiceState = param(params, 0)?;
    let attributes: Option<WirePayloadAttributes> = param(params, 1)?;

    let mut state = shared.lock();
    let respond = |s: Value, id: Option<PayloadId>| json!({ "payloadStatus": s, "payloadId": id });
    match state.mode {
        MockMode::Syncing => return Ok(respond(status("SYNCING", None, None), None)),
        MockMode::Invalid { latest_valid_hash } => {
            return Ok(respond(
                status(
                    "INVALID",
                    latest_valid_hash,
                    Some("mock execution engine set to INVALID".into()),
                ),
                None,
            ));
        }
        MockMode::Normal => {}
    }
    let Some(head) = state.blocks.get(&fc.head_block_hash).cloned() else {
        return Ok(respond(status("SYNCING", None, None), None));
    };
    for (name, hash) in [
        ("safe", fc.safe_block_hash),
        ("finalized", fc.finalized_block_hash),
    ] {
        if !hash.is_zero() && !state.blocks.contains_key(&hash) {
            return Err(RpcError::new(
                INVALID_FORKCHOICE_STATE,
                format!("Invalid forkchoice state: unknown {name} block {hash}"),
            ));
        }
    }
    state.forkchoice = fc;

    let mut payload_id = None;
    if let Some(attributes) = attributes {
        let built = build_payload(&head, &attributes)?;
        let id = PayloadId::new(state.next_payload_id.to_be_bytes());
        state.next_payload_id = state.next_payload_id.wrapping_add(1);
        state.built.insert(id, Built { payload: built });
        payload_id = Some(id);
    }
    Ok(respond(
        status("VALID", Some(fc.head_block_hash), None),
        payload_id,
    ))
}

/// An empty child of `parent` as the attributes ask.
fn build_payload(
    parent: &ExecutionPayloadV3,
    attributes: &WirePayloadAttributes,
) -> Result<ExecutionPayloadV3, RpcError> {
    let parent_v1 = &parent.payload_inner.payload_inner;
    let (Some(withdrawals), Some(parent_beacon_block_root)) = (
        attributes.withdrawals.as_ref(),
        attributes.parent_beacon_block_root,
    ) else {
        return Err(RpcError::new(
            INVALID_PARAMS,
            "PayloadAttributesV3 needs withdrawals and parentBeaconBlockRoot",
        ));
    };
    if attributes.timestamp <= parent_v1.timestamp {
        return Err(RpcError::new(
            INVALID_PAYLOAD_ATTRIBUTES,
            format!(
                "Invalid payload attributes: timestamp {} not after head timestamp {}",
                attributes.timestamp, parent_v1.timestamp
            ),
        ));
    }
    let block_number = parent_v1
        .block_number
        .checked_add(1)
        .ok_or_else(|| RpcError::new(INVALID_PAYLOAD_ATTRIBUTES, "block number overflow"))?;
    // EIP-1559 with an empty parent (gas used 0, target half the limit): the base fee falls by 1/8.
    let base_fee = parent_v1.base_fee_per_gas - parent_v1.base_fee_per_gas / U256::from(8);
    let withdrawals: Vec<WireWithdrawal> = withdrawals.clone();
    // The state changes only by the withdrawals; fold them into the parent's state root.
    let mut state_hasher = Sha256::new();
    state_hasher.update(parent_v1.state_root);
    for w in &withdrawals {
        state_hasher.update(w.index.to_be_bytes());
        state_hasher.update(w.amount.to_be_bytes());
    }
    let mut payload = ExecutionPayloadV3 {
        payload_inner: ExecutionPayloadV2 {
            payload_inner: ExecutionPayloadV1 {
                parent_hash: parent_v1.block_hash,
                fee_recipient: attributes.suggested_fee_recipient,
                state_root: B256::from_slice(&state_hasher.finalize()),
                receipts_root: EMPTY_TRIE_ROOT,
                logs_bloom: Bloom::ZERO,
                prev_randao: attributes.prev_randao,
                block_number,
                gas_limit: parent_v1.gas_limit,
                gas_used: 0,
                timestamp: attributes.timestamp,
                extra_data: Bytes::from_static(MOCK_EXTRA_DATA),
                base_fee_per_gas: base_fee,
                block_hash: B256::ZERO,
                transactions: Vec::new(),
            },
            withdrawals,
        },
        blob_gas_used: 0,
        excess_blob_gas: 0,
    };
    payload.payload_inner.payload_inner.block_hash =
        mock_block_hash(&payload, parent_beacon_block_root, &[]);
    Ok(payload)
}
