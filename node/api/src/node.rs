//! `/eth/v1/node/...`: identity, version, sync status, health, peers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keel_types::{Preset, fulu};
use serde::Serialize;

use crate::error::RequestError;
use crate::ids::{PathParams, Query};
use crate::response::{Data, json, plain_json};
use crate::{AppState, PeerDirection, PeerInfo, PeerState};

/// A head this many slots behind the clock or less counts as synced: at the start of a slot the
/// new block has usually not arrived yet.
const SYNC_TOLERANCE_SLOTS: u64 = 1;

#[derive(Serialize)]
struct Identity<'a> {
    peer_id: &'a str,
    enr: &'a str,
    p2p_addresses: &'a [String],
    discovery_addresses: &'a [String],
    metadata: &'a fulu::MetaData,
}

pub async fn identity<P: Preset>(State(app): State<AppState<P>>) -> Result<Response, RequestError> {
    let live = app.ctx.network.identity();
    let id = live.as_ref().unwrap_or(&app.ctx.identity);
    json(&Data {
        data: Identity {
            peer_id: &id.peer_id,
            enr: &id.enr,
            p2p_addresses: &id.p2p_addresses,
            discovery_addresses: &id.discovery_addresses,
            metadata: &id.metadata,
        },
    })
}

#[derive(Serialize)]
struct Version<'a> {
    version: &'a str,
}

pub async fn version<P: Preset>(State(app): State<AppState<P>>) -> Result<Response, RequestError> {
    json(&Data {
        data: Version {
            version: &app.ctx.version,
        },
    })
}

#[derive(Serialize)]
struct Syncing {
    head_slot: u64,
    sync_distance: u64,
    is_syncing: bool,
    is_optimistic: bool,
    el_offline: bool,
}

pub async fn syncing<P: Preset>(State(app): State<AppState<P>>) -> Result<Response, RequestError> {
    let snapshot = app.ctx.snapshots.load();
    json(&Data {
        data: Syncing {
            head_slot: snapshot.head.slot,
            sync_distance: snapshot.sync_distance(),
            is_syncing: snapshot.sync_distance() > SYNC_TOLERANCE_SLOTS,
            is_optimistic: snapshot.is_optimistic(),
            el_offline: !snapshot.el_online,
        },
    })
}

/// `node/health`: 200 when synced, 206 (or `syncing_status`) while syncing. The spec gives
/// these responses no body, so none is sent, not even for a bad parameter.
pub async fn health<P: Preset>(State(app): State<AppState<P>>, query: Query) -> Response {
    let syncing_status = match query.single("syncing_status") {
        Ok(None) => None,
        Ok(Some(v)) => match v.parse::<u16>() {
            // 1xx codes are not final responses; the spec allows 100..=599, Keel answers with
            // a final code only.
            Ok(code @ 100..=599) => StatusCode::from_u16(code.max(200)).ok(),
            _ => return StatusCode::BAD_REQUEST.into_response(),
        },
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let snapshot = app.ctx.snapshots.load();
    if snapshot.sync_distance() > SYNC_TOLERANCE_SLOTS {
        syncing_status
            .unwrap_or(StatusCode::PARTIAL_CONTENT)
            .into_response()
    } else {
        StatusCode::OK.into_response()
    }
}

#[derive(Serialize)]
struct Meta {
    /// A JSON number in the spec (unlike every other count), hence `plain_json`.
    count: usize,
}

#[derive(Serialize)]
struct Peers {
    data: Vec<PeerInfo>,
    meta: Meta,
}

fn state_name(s: PeerState) -> &'static str {
    match s {
        PeerState::Disconnected => "disconnected",
        PeerState::Connecting => "connecting",
        PeerState::Connected => "connected",
        PeerState::Disconnecting => "disconnecting",
    }
}

fn direction_name(d: PeerDirection) -> &'static str {
    match d {
        PeerDirection::Inbound => "inbound",
        PeerDirection::Outbound => "outbound",
    }
}

pub async fn peers<P: Preset>(
    State(app): State<AppState<P>>,
    query: Query,
) -> Result<Response, RequestError> {
    // The spec documents no 400 here: an unknown filter value simply matches no peer.
    let states = query.list("state");
    let directions = query.list("direction");
    let data: Vec<PeerInfo> = app
        .ctx
        .network
        .peers()
        .into_iter()
        .filter(|p| states.is_empty() || states.contains(&state_name(p.state)))
        .filter(|p| directions.is_empty() || directions.contains(&direction_name(p.direction)))
        .collect();
    let count = data.len();
    plain_json(&Peers {
        data,
        meta: Meta { count },
    })
}

/// `node/peers/{peer_id}`. A peer id is base58 (libp2p's multihash encoding); anything else
/// is a 400.
pub async fn peer<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(peer_id): PathParams<String>,
) -> Result<Response, RequestError> {
    const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if peer_id.is_empty() || !peer_id.chars().all(|c| BASE58.contains(c)) {
        return Err(RequestError::bad_request(format!(
            "invalid peer id: {peer_id:?}"
        )));
    }
    let peer = app
        .ctx
        .network
        .peers()
        .into_iter()
        .find(|p| p.peer_id == peer_id)
        .ok_or_else(|| RequestError::not_found("peer not found"))?;
    json(&Data { data: peer })
}

pub async fn peer_count<P: Preset>(
    State(app): State<AppState<P>>,
) -> Result<Response, RequestError> {
    json(&Data {
        data: app.ctx.network.peer_counts(),
    })
}
