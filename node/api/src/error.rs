//! Errors: [`ApiError`] for running the server, [`RequestError`] for one request — the single
//! place where a failure becomes an HTTP status.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use keel_store::StoreError;
use serde::Serialize;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot bind the Beacon API to {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the Beacon API server failed: {0}")]
    Serve(std::io::Error),
}

/// Why one request failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request is malformed (bad id, bad parameter): 400.
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed, but the node does not hold it: 404.
    #[error("{0}")]
    NotFound(String),
    /// No media type the client accepts can be produced: 406.
    #[error("{0}")]
    NotAcceptable(String),
    /// The node failed (store, state computation, a panicked task): 500.
    #[error("{0}")]
    Internal(String),
}

impl RequestError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        RequestError::BadRequest(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        RequestError::NotFound(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        RequestError::Internal(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::BadRequest(_) => StatusCode::BAD_REQUEST,
            RequestError::NotFound(_) => StatusCode::NOT_FOUND,
            RequestError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            RequestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        RequestError::Internal(format!("store: {e}"))
    }
}

impl From<keel_state_transition::Error> for RequestError {
    fn from(e: keel_state_transition::Error) -> Self {
        RequestError::Internal(format!("state computation: {e}"))
    }
}

/// The spec's error body. `code` is a JSON number, so this is never passed through `Quoted`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: u16,
    message: &'a str,
}

/// A JSON error response in the spec's shape.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    let body = serde_json::to_vec(&ErrorBody {
        code: status.as_u16(),
        message,
    })
    .unwrap_or_else(|_| b"{\"code\":500,\"message\":\"error\"}".to_vec());
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "Beacon API request failed");
        }
        error_response(status, &self.to_string())
    }
}

pub(crate) async fn not_found_route() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such endpoint")
}

pub(crate) async fn method_not_allowed() -> Response {
    error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}
