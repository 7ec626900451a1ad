//! `EngineClient`: the Engine API methods Keel needs for Electra and Fulu, over JSON-RPC 2.0 /
//! HTTP with a fresh HS256 token per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy_eips::eip4844::BlobAndProofV2;
use alloy_eips::eip7685::Requests;
use alloy_primitives::B256;
use alloy_rpc_types_engine::{
    ExecutionPayloadEnvelopeV4, ExecutionPayloadEnvelopeV5, ExecutionPayloadV3, ForkchoiceState,
    PayloadId,
};
use keel_state_transition::block::execution_payload::NewPayloadRequest;
use keel_types::deneb::{ExecutionPayload, VersionedHash, Withdrawal};
use keel_types::electra::ExecutionRequests;
use keel_types::{ExecutionAddress, ForkName, Hash256, Preset, Root, Uint256};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::convert::{
    BlobAndCellProofs, BlobsBundle, ConversionError, blob_and_cell_proofs_from_wire,
    blobs_bundle_from_v1, blobs_bundle_from_v2, execution_payload_from_v3, execution_payload_to_v3,
    execution_requests_from_wire, execution_requests_to_wire, withdrawal_to_wire,
};
use crate::error::EngineError;
use crate::jwt::JwtSecret;

// Method names, as the execution-apis spec spells them.
pub const ENGINE_EXCHANGE_CAPABILITIES: &str = "engine_exchangeCapabilities";
pub const ENGINE_NEW_PAYLOAD_V4: &str = "engine_newPayloadV4";
pub const ENGINE_FORKCHOICE_UPDATED_V3: &str = "engine_forkchoiceUpdatedV3";
pub const ENGINE_GET_PAYLOAD_V4: &str = "engine_getPayloadV4";
pub const ENGINE_GET_PAYLOAD_V5: &str = "engine_getPayloadV5";
pub const ENGINE_GET_BLOBS_V2: &str = "engine_getBlobsV2";

/// The methods Keel calls, announced in `engine_exchangeCapabilities`.
pub const KEEL_CAPABILITIES: &[&str] = &[
    ENGINE_NEW_PAYLOAD_V4,
    ENGINE_FORKCHOICE_UPDATED_V3,
    ENGINE_GET_PAYLOAD_V4,
    ENGINE_GET_PAYLOAD_V5,
    ENGINE_GET_BLOBS_V2,
];

// Timeouts from the execution-apis spec (`src/engine/{common,cancun,prague,osaka}.md`, each
// method's "Timeout" line): the consensus client gives up after this long.
pub const TIMEOUT_EXCHANGE_CAPABILITIES: Duration = Duration::from_secs(1);
pub const TIMEOUT_NEW_PAYLOAD: Duration = Duration::from_secs(8);
pub const TIMEOUT_FORKCHOICE_UPDATED: Duration = Duration::from_secs(8);
pub const TIMEOUT_GET_PAYLOAD: Duration = Duration::from_secs(1);
pub const TIMEOUT_GET_BLOBS: Duration = Duration::from_secs(1);
/// Connecting is cut short on its own so a dead host fails fast even under an 8 s method timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What the execution client said about a payload (newPayload) or a head (forkchoiceUpdated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadVerdict {
    /// Executed (or known) and valid.
    Valid,
    /// Invalid; `latest_valid_hash` is the most recent valid ancestor if the EL knows it
    /// (`0x00..00` means a pre-merge ancestor, `None` that the EL cannot tell).
    Invalid {
        latest_valid_hash: Option<Hash256>,
        reason: String,
    },
    /// The EL is syncing and cannot judge yet: import optimistically.
    Syncing,
    /// Accepted without execution (side chain): import optimistically.
    Accepted,
    /// The legacy `INVALID_BLOCK_HASH` status (V1/V2 only; V3+ report `INVALID`), kept so an EL
    /// that still sends it gets a verdict rather than a parse error.
    InvalidBlockHash { reason: String },
}

impl PayloadVerdict {
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid)
    }

    pub fn is_invalid(&self) -> bool {
        matches!(self, Self::Invalid { .. } | Self::InvalidBlockHash { .. })
    }

    /// SYNCING or ACCEPTED: neither valid nor invalid, the block is imported optimistically.
    pub fn is_optimistic(&self) -> bool {
        matches!(self, Self::Syncing | Self::Accepted)
    }

    /// The EL's latest valid ancestor of an invalid payload, if it named one.
    pub fn latest_valid_hash(&self) -> Option<Hash256> {
        match self {
            Self::Invalid {
                latest_valid_hash, ..
            } => *latest_valid_hash,
            _ => None,
        }
    }

    /// The verdict as the core takes it with a block.
    pub fn payload_status(&self) -> keel_pipeline_api::PayloadStatus {
        use keel_pipeline_api::PayloadStatus;
        match self {
            Self::Valid => PayloadStatus::Valid,
            Self::Syncing | Self::Accepted => PayloadStatus::Optimistic,
            Self::Invalid { .. } | Self::InvalidBlockHash { .. } => PayloadStatus::Invalid {
                latest_valid_hash: self.latest_valid_hash(),
            },
        }
    }
}

/// `PayloadAttributesV3` in Keel's types: what a proposer asks the EL to build on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadAttributes {
    pub timestamp: u64,
    pub prev_randao: Hash256,
    pub suggested_fee_recipient: ExecutionAddress,
    pub withdrawals: Vec<Withdrawal>,
    pub parent_beacon_block_root: Root,
}

impl PayloadAttributes {
    pub fn to_wire(&self) -> alloy_rpc_types_engine::PayloadAttributes {
        alloy_rpc_types_engine::PayloadAttributes {
            timestamp: self.timestamp,
            prev_randao: self.prev_randao,
            suggested_fee_recipient: self.suggested_fee_recipient,
            withdrawals: Some(self.withdrawals.iter().map(withdrawal_to_wire).collect()),
            parent_beacon_block_root: Some(self.parent_beacon_block_root),
        }
    }
}

/// The answer to `engine_forkchoiceUpdatedV3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkchoiceUpdatedResponse {
    pub verdict: PayloadVerdict,
    /// The EL's own latest valid hash for the head (set with VALID and INVALID).
    pub latest_valid_hash: Option<Hash256>,
    /// Set when attributes were given and the EL started building.
    pub payload_id: Option<PayloadId>,
}

/// The answer to `engine_getPayloadV4`/`V5` in Keel's types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPayload<P: Preset> {
    pub execution_payload: ExecutionPayload<P>,
    /// Wei the fee recipient would receive.
    pub block_value: Uint256,
    pub blobs_bundle: BlobsBundle<P>,
    pub should_override_builder: bool,
    pub execution_requests: ExecutionRequests<P>,
}

/// `PayloadStatusV1` as received. Parsed by hand rather than through alloy's `PayloadStatus`
/// because that type rejects `validationError: null` on INVALID and the legacy
/// `INVALID_BLOCK_HASH` status, both of which real execution clients send.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePayloadStatus {
    status: String,
    #[serde(default)]
    latest_valid_hash: Option<B256>,
    #[serde(default)]
    validation_error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireForkchoiceUpdated {
    payload_status: WirePayloadStatus,
    #[serde(default)]
    payload_id: Option<PayloadId>,
}

fn verdict_from_wire(
    method: &'static str,
    status: &WirePayloadStatus,
) -> Result<PayloadVerdict, EngineError> {
    let reason = || status.validation_error.clone().unwrap_or_default();
    Ok(match status.status.as_str() {
        "VALID" => PayloadVerdict::Valid,
        "INVALID" => PayloadVerdict::Invalid {
            latest_valid_hash: status.latest_valid_hash,
            reason: reason(),
        },
        "SYNCING" => PayloadVerdict::Syncing,
        "ACCEPTED" => PayloadVerdict::Accepted,
        "INVALID_BLOCK_HASH" => PayloadVerdict::InvalidBlockHash { reason: reason() },
        other => {
            return Err(EngineError::BadResponse {
                method,
                reason: format!("unknown payload status {other:?}"),
            });
        }
    })
}

/// A JSON-RPC 2.0 request; `params` is a tuple, which serializes as the positional array.
#[derive(Serialize)]
struct RpcRequest<'a, T> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: T,
}

#[derive(Debug, Deserialize)]
struct RpcErrorObject {
    code: i64,
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct RpcResponse {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcErrorObject>,
}

/// Renders an error with its sources: reqwest's own message ("error sending request") hides the
/// useful part ("Connection refused") in the chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Cuts an error body to something fit for a log line.
fn truncate(mut body: String) -> String {
    const MAX: usize = 512;
    if body.len() > MAX {
        let mut end = MAX;
        while !body.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        body.truncate(end);
        body.push_str("...");
    }
    body
}

struct Inner {
    url: String,
    secret: JwtSecret,
    http: reqwest::Client,
    next_id: AtomicU64,
}

/// An Engine API client. Cloning is cheap (one `Arc`); clones share the connection pool and may be
/// used from any number of tasks at once.
#[derive(Clone)]
pub struct EngineClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EngineClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineClient")
            .field("url", &self.inner.url)
            .finish_non_exhaustive()
    }
}

impl EngineClient {
    /// A client for the endpoint `url` (e.g. `http://127.0.0.1:8551`). Proxies from the
    /// environment are ignored: the Engine API is a private link to a local execution client.
    pub fn new(url: &str, secret: JwtSecret) -> Result<Self, EngineError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| EngineError::InvalidUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        if parsed.scheme() != "http" {
            return Err(EngineError::InvalidUrl {
                url: url.to_owned(),
                reason: "only http:// is supported (Keel is built without TLS)".into(),
            });
        }
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| EngineError::Transport {
                url: url.to_owned(),
                reason: error_chain(&e),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                url: url.to_owned(),
                secret,
                http,
                next_id: AtomicU64::new(1),
            }),
        })
    }

    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// One JSON-RPC call: fresh token, method timeout, error classification, `result` decoding.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: impl Serialize,
        timeout: Duration,
    ) -> Result<T, EngineError> {
        let url = &self.inner.url;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let body = RpcRequest {
            jsonrpc: "2.0",
            id,
            method,
            params,
        };
        let token = self.inner.secret.token()?;
        let transport = |e: reqwest::Error| {
            if e.is_connect() {
                // The top-level message only repeats the URL; the cause is in the sources.
                let reason = match std::error::Error::source(&e) {
                    Some(source) => error_chain(source),
                    None => error_chain(&e),
                };
                EngineError::Unreachable {
                    url: url.clone(),
                    reason,
                }
            } else if e.is_timeout() {
                EngineError::Timeout {
                    method,
                    url: url.clone(),
                    timeout,
                }
            } else {
                EngineError::Transport {
                    url: url.clone(),
                    reason: error_chain(&e),
                }
            }
        };
        let response = self
            .inner
            .http
            .post(url.as_str())
            .bearer_auth(token)
            .json(&body)
            .timeout(timeout)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            let body = response.text().await.unwrap_or_default();
            return Err(EngineError::JwtRejected {
                method,
                url: url.clone(),
                status: status.as_u16(),
                body: truncate(body),
            });
        }
        let text = response.text().await.map_err(transport)?;
        // JSON-RPC servers may carry an error object on a non-2xx status; prefer that if present.
        let parsed: Result<RpcResponse, _> = serde_json::from_str(&text);
        let rpc = match parsed {
            Ok(rpc) => rpc,
            Err(e) if status.is_success() => {
                return Err(EngineError::BadResponse {
                    method,
                    reason: format!("not a JSON-RPC response ({e}): {}", truncate(text)),
                });
            }
            Err(_) => {
                return Err(EngineError::Http {
                    method,
                    url: url.clone(),
                    status: status.as_u16(),
                    body: truncate(text),
                });
            }
        };
        if let Some(err) = rpc.error {
            return Err(EngineError::Rpc {
                method,
                code: err.code,
                message: err.message,
                data: err.data,
            });
        }
        if !status.is_success() {
            return Err(EngineError::Http {
                method,
                url: url.clone(),
                status: status.as_u16(),
                body: truncate(text),
            });
        }
        // A missing `result` is read as `null` so that methods answering `null` (getBlobsV2)
        // decode into `Option`s; for other methods `null` fails below with a clear message.
        serde_json::from_value(rpc.result.unwrap_or(Value::Null)).map_err(|e| {
            EngineError::BadResponse {
                method,
                reason: e.to_string(),
            }
        })
    }

    /// `engine_exchangeCapabilities`: announces [`KEEL_CAPABILITIES`], returns the EL's list.
    pub async fn exchange_capabilities(&self) -> Result<Vec<String>, EngineError> {
        self.call(
            ENGINE_EXCHANGE_CAPABILITIES,
            (KEEL_CAPABILITIES,),
            TIMEOUT_EXCHANGE_CAPABILITIES,
        )
        .await
    }

    /// `engine_newPayloadV4` (Electra and Fulu). Implements the spec's
    /// `verify_and_notify_new_payload` up to the EL call: a payload holding an empty transaction
    /// is judged invalid here without asking.
    pub async fn new_payload<P: Preset>(
        &self,
        fork: ForkName,
        payload: &ExecutionPayload<P>,
        versioned_hashes: &[VersionedHash],
        parent_beacon_block_root: Root,
        execution_requests: &ExecutionRequests<P>,
    ) -> Result<PayloadVerdict, EngineError> {
        let method = ENGINE_NEW_PAYLOAD_V4;
        if !matches!(fork, ForkName::Electra | ForkName::Fulu) {
            return Err(EngineError::UnsupportedFork { method, fork });
        }
        if payload.transactions.iter().any(|tx| tx.is_empty()) {
            return Ok(PayloadVerdict::Invalid {
                latest_valid_hash: None,
                reason: "payload contains an empty transaction".into(),
            });
        }
        let wire: ExecutionPayloadV3 = execution_payload_to_v3(payload)
            .map_err(|source| EngineError::Conversion { method, source })?;
        let requests: Requests = execution_requests_to_wire(execution_requests);
        let params = (wire, versioned_hashes, parent_beacon_block_root, requests);
        let status: WirePayloadStatus = self.call(method, params, TIMEOUT_NEW_PAYLOAD).await?;
        verdict_from_wire(method, &status)
    }

    /// [`Self::new_payload`] from the state transition's `NewPayloadRequest`.
    pub async fn new_payload_request<P: Preset>(
        &self,
        fork: ForkName,
        request: &NewPayloadRequest<'_, P>,
    ) -> Result<PayloadVerdict, EngineError> {
        self.new_payload(
            fork,
            request.execution_payload,
            &request.versioned_hashes,
            request.parent_beacon_block_root,
            request.execution_requests,
        )
        .await
    }

    /// `engine_forkchoiceUpdatedV3`: moves the EL's head/safe/finalized, and with `attributes`
    /// starts building a payload on the head.
    pub async fn forkchoice_updated(
        &self,
        state: ForkchoiceState,
        attributes: Option<&PayloadAttributes>,
    ) -> Result<ForkchoiceUpdatedResponse, EngineError> {
        let method = ENGINE_FORKCHOICE_UPDATED_V3;
        let params = (state, attributes.map(PayloadAttributes::to_wire));
        let response: WireForkchoiceUpdated = self
            .call(method, params, TIMEOUT_FORKCHOICE_UPDATED)
            .await?;
        Ok(ForkchoiceUpdatedResponse {
            verdict: verdict_from_wire(method, &response.payload_status)?,
            latest_valid_hash: response.payload_status.latest_valid_hash,
            payload_id: response.payload_id,
        })
    }

    /// `engine_getPayloadV4` (Electra) or `engine_getPayloadV5` (Fulu, cell proofs).
    pub async fn get_payload<P: Preset>(
        &self,
        fork: ForkName,
        payload_id: PayloadId,
    ) -> Result<BuiltPayload<P>, EngineError> {
        match fork {
            ForkName::Electra => {
                let method = ENGINE_GET_PAYLOAD_V4;
                let envelope: ExecutionPayloadEnvelopeV4 = self
                    .call(method, (payload_id,), TIMEOUT_GET_PAYLOAD)
                    .await?;
                let inner = &envelope.envelope_inner;
                built_payload(
                    method,
                    &inner.execution_payload,
                    inner.block_value,
                    blobs_bundle_from_v1::<P>(&inner.blobs_bundle),
                    inner.should_override_builder,
                    &envelope.execution_requests,
                )
            }
            ForkName::Fulu => {
                let method = ENGINE_GET_PAYLOAD_V5;
                let envelope: ExecutionPayloadEnvelopeV5 = self
                    .call(method, (payload_id,), TIMEOUT_GET_PAYLOAD)
                    .await?;
                built_payload(
                    method,
                    &envelope.execution_payload,
                    envelope.block_value,
                    blobs_bundle_from_v2::<P>(&envelope.blobs_bundle),
                    envelope.should_override_builder,
                    &envelope.execution_requests,
                )
            }
            other => Err(EngineError::UnsupportedFork {
                method: ENGINE_GET_PAYLOAD_V4,
                fork: other,
            }),
        }
    }

    /// `engine_getBlobsV2` (Fulu): every requested blob with its cell proofs, or `None` if the EL
    /// lacks any of them (the method is all-or-nothing).
    pub async fn get_blobs_v2<P: Preset>(
        &self,
        versioned_hashes: &[VersionedHash],
    ) -> Result<Option<Vec<BlobAndCellProofs<P>>>, EngineError> {
        let method = ENGINE_GET_BLOBS_V2;
        let answer: Option<Vec<Option<BlobAndProofV2>>> = self
            .call(method, (versioned_hashes,), TIMEOUT_GET_BLOBS)
            .await?;
        let Some(entries) = answer else {
            return Ok(None);
        };
        if entries.len() != versioned_hashes.len() {
            return Err(EngineError::BadResponse {
                method,
                reason: format!(
                    "{} entries for {} requested hashes",
                    entries.len(),
                    versioned_hashes.len()
                ),
            });
        }
        // V2 answers all or nothing; an EL that nulls single entries is treated as a miss.
        let mut out = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let Some(entry) = entry else {
                return Ok(None);
            };
            out.push(
                blob_and_cell_proofs_from_wire::<P>(index, entry)
                    .map_err(|source| EngineError::Conversion { method, source })?,
            );
        }
        Ok(Some(out))
    }
}

fn built_payload<P: Preset>(
    method: &'static str,
    payload: &ExecutionPayloadV3,
    block_value: Uint256,
    blobs_bundle: Result<BlobsBundle<P>, ConversionError>,
    should_override_builder: bool,
    requests: &Requests,
) -> Result<BuiltPayload<P>, EngineError> {
    let conv = |source| EngineError::Conversion { method, source };
    Ok(BuiltPayload {
        execution_payload: execution_payload_from_v3::<P>(payload).map_err(conv)?,
        block_value,
        blobs_bundle: blobs_bundle.map_err(conv)?,
        should_override_builder,
        execution_requests: execution_requests_from_wire::<P>(requests).map_err(conv)?,
    })
}
