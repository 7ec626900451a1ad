//! The client's error type: every way an Engine API call can fail short of a verdict.

use std::time::Duration;

use keel_types::ForkName;

use crate::convert::ConversionError;
use crate::jwt::JwtError;

/// An Engine API call that produced no verdict. Transport problems (unreachable, timeout, HTTP)
/// are kept apart from answers the execution client gave but Keel cannot use (JSON-RPC error
/// objects, malformed or over-limit responses), so callers can tell "EL offline" from "EL wrong".
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("execution endpoint {url} unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{method} to execution endpoint {url} timed out after {timeout:?}")]
    Timeout {
        method: &'static str,
        url: String,
        timeout: Duration,
    },
    #[error(
        "JWT rejected: check the --execution-jwt secret ({method} to {url} answered HTTP {status}: {body})"
    )]
    JwtRejected {
        method: &'static str,
        url: String,
        status: u16,
        body: String,
    },
    #[error("{method} to execution endpoint {url} answered HTTP {status}: {body}")]
    Http {
        method: &'static str,
        url: String,
        status: u16,
        body: String,
    },
    #[error("transport error talking to execution endpoint {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{method}: execution client returned JSON-RPC error {code}: {message}")]
    Rpc {
        method: &'static str,
        code: i64,
        message: String,
        data: Option<serde_json::Value>,
    },
    #[error("{method}: malformed response from the execution client: {reason}")]
    BadResponse {
        method: &'static str,
        reason: String,
    },
    #[error("{method}: {source}")]
    Conversion {
        method: &'static str,
        #[source]
        source: ConversionError,
    },
    #[error(
        "{method} is not used for fork {fork:?} (Keel speaks the Engine API of Electra and Fulu)"
    )]
    UnsupportedFork {
        method: &'static str,
        fork: ForkName,
    },
    #[error("invalid execution endpoint URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error(transparent)]
    Jwt(#[from] JwtError),
}

impl EngineError {
    /// True when the execution client could not be reached or did not answer in time: the node
    /// should treat the EL as offline (optimistic sync), not the payload as bad.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. } | Self::Timeout { .. } | Self::Transport { .. }
        )
    }
}
