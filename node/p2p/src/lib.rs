//! The consensus p2p layer on rust-libp2p: TCP and QUIC with noise and yamux, identify,
//! gossipsub with the spec's parameters and peer scoring, the req/resp protocols with the
//! `ssz_snappy` framing, discv5 discovery with the consensus ENR fields, and peer management
//! (scores, Goodbye, bans with expiry, inbound limits, per-peer request rate limits).
//!
//! Inputs: commands through [`NetworkHandle`] (publish, report a verdict, request, penalise).
//! Outputs: gossip as [`keel_pipeline_api::RawMessage`]s and requests to serve, both through the
//! node's [`NetworkApp`]; peer events as [`NetworkEvent`]s.
//! Must not: hold consensus logic. Whether a message is valid is the pipeline's verdict; what a
//! Status means for the chain is the node's answer to [`NetworkApp::check_status`]; what a
//! request returns comes from the node's store. This crate moves bytes and keeps peers honest.

pub mod discovery;
mod gossip;
pub mod peers;
pub mod rpc;
pub mod selection;
mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use discovery::{Enr, EnrFields};
pub use libp2p::{Multiaddr, PeerId};
pub use peers::{GoodbyeReason, Offence, PeerInfo};
pub use rpc::{Chunk, Family, Limits, ResponseCode};
pub use service::{
    MessageIdFn, NetworkApp, NetworkConfig, NetworkError, NetworkEvent, NetworkHandle,
    RequestError, metric, start,
};
