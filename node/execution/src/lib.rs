//! Keel's link to the execution layer: an Engine API client ([`EngineClient`]) and a mock
//! execution engine for development and tests ([`MockEngine`]).
//!
//! Owns: the Engine API methods Keel uses for Electra and Fulu (`engine_exchangeCapabilities`,
//! `engine_newPayloadV4`, `engine_forkchoiceUpdatedV3`, `engine_getPayloadV4`/`V5`,
//! `engine_getBlobsV2`) as JSON-RPC 2.0 over HTTP with JWT (HS256) authentication and the spec's
//! per-method timeouts; the JWT secret file ([`JwtSecret`]); checked conversions between the wire
//! types (alloy's `alloy-rpc-types-engine`) and Keel's SSZ types ([`convert`]); and the mock.
//! Inputs: Keel payloads, forkchoice states and attributes. Outputs: [`PayloadVerdict`]s, built
//! payloads and blobs in Keel types, or an [`EngineError`] that says what went wrong.
//!
//! Must not: hold consensus rules (what to do with a verdict is fork choice's and the core's
//! business), block the caller's thread (everything is async on tokio), or trust the execution
//! client (every list it returns is checked against the preset's SSZ limits, never panicking).
//! The mock is a development tool: it executes nothing and its block hashes are not Ethereum's.
//!
//! Sits beside the pipeline: the core (or a task it drives) calls the client; `bin` wires the
//! client to `--execution-endpoint`/`--execution-jwt`, or starts the mock for a dev chain.

pub mod client;
pub mod convert;
pub mod error;
pub mod jwt;
pub mod mock;

pub use alloy_rpc_types_engine::{ForkchoiceState, PayloadId};
pub use client::{
    BuiltPayload, EngineClient, ForkchoiceUpdatedResponse, KEEL_CAPABILITIES, PayloadAttributes,
    PayloadVerdict,
};
pub use convert::{BlobAndCellProofs, BlobProofKind, BlobsBundle, ConversionError};
pub use error::EngineError;
pub use jwt::{JwtError, JwtSecret};
pub use mock::{MockConfig, MockEngine, MockError, MockMode, mock_block_hash};
