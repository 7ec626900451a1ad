//! Building responses: the JSON envelopes, SSZ bodies, content negotiation, and running work on
//! the blocking pool.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keel_types::ForkName;
use keel_types::json::Quoted;
use serde::Serialize;

use crate::error::RequestError;

/// `Eth-Consensus-Version`.
pub const CONSENSUS_VERSION: HeaderName = HeaderName::from_static("eth-consensus-version");

/// `{"data": ...}`.
#[derive(Serialize)]
pub struct Data<T> {
    pub data: T,
}

/// `{"execution_optimistic": .., "finalized": .., "data": ...}`.
#[derive(Serialize)]
pub struct ChainData<T> {
    pub execution_optimistic: bool,
    pub finalized: bool,
    pub data: T,
}

/// `{"version": .., "execution_optimistic": .., "finalized": .., "data": ...}`.
#[derive(Serialize)]
pub struct VersionedData<T> {
    pub version: &'static str,
    pub execution_optimistic: bool,
    pub finalized: bool,
    pub data: T,
}

/// A 200 with `value` in the Beacon API encoding (integers quoted).
pub fn json<T: Serialize>(value: &T) -> Result<Response, RequestError> {
    let body = serde_json::to_vec(&Quoted(value))
        .map_err(|e| RequestError::internal(format!("JSON encoding: {e}")))?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

/// A 200 with `value` as plain JSON (for the few shapes whose numbers are JSON numbers).
pub fn plain_json<T: Serialize>(value: &T) -> Result<Response, RequestError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| RequestError::internal(format!("JSON encoding: {e}")))?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

/// The media type a client asked for on an endpoint that offers JSON and SSZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Ssz,
}

/// Picks JSON or SSZ from `Accept`, honouring q-values; no header, `*/*` or `application/*`
/// mean JSON. Nothing acceptable is a 406.
pub fn negotiate(headers: &HeaderMap) -> Result<Encoding, RequestError> {
    let Some(accept) = headers.get(ACCEPT) else {
        return Ok(Encoding::Json);
    };
    let accept = accept
        .to_str()
        .map_err(|_| RequestError::bad_request("invalid Accept header"))?;
    if accept.trim().is_empty() {
        return Ok(Encoding::Json);
    }
    let mut best: Option<(f32, Encoding)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let encoding = match media.as_str() {
            "application/octet-stream" => Encoding::Ssz,
            "application/json" | "application/*" | "*/*" => Encoding::Json,
            _ => continue,
        };
        if q <= 0.0 {
            continue;
        }
        // Ties keep the earlier entry: the client listed it first.
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, encoding));
        }
    }
    best.map(|(_, e)| e).ok_or_else(|| {
        RequestError::NotAcceptable(format!(
            "cannot produce {accept}; offered: application/json, application/octet-stream"
        ))
    })
}

/// A 200 with SSZ bytes and the fork header.
pub fn ssz(bytes: Vec<u8>, fork: ForkName) -> Response {
    (
        StatusCode::OK,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (CONSENSUS_VERSION, HeaderValue::from_static(fork.as_str())),
        ],
        bytes,
    )
        .into_response()
}

/// Adds `Eth-Consensus-Version` to a response.
pub fn with_fork(mut response: Response, fork: ForkName) -> Response {
    response
        .headers_mut()
        .insert(CONSENSUS_VERSION, HeaderValue::from_static(fork.as_str()));
    response
}

/// Runs `f` on the blocking pool (store reads, SSZ decoding, O(validators) scans). A panic in
/// `f` becomes a 500 rather than a dropped connection.
pub async fn blocking<T, F>(f: F) -> Result<T, RequestError>
where
    F: FnOnce() -> Result<T, RequestError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RequestError::internal(format!("request task failed: {e}")))?
}
