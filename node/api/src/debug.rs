//! `/eth/v2/debug/beacon/states/{state_id}` and `/eth/v1/debug/fork_choice`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use keel_pipeline_api::ForkChoiceNode;
use keel_types::phase0::Checkpoint;
use keel_types::ssz::Encode;
use keel_types::{ForkName, Hash256, Preset, Slot};
use serde::Serialize;

use crate::AppState;
use crate::error::RequestError;
use crate::ids::{PathParams, StateId};
use crate::response::{Data, Encoding, VersionedData, blocking, json, negotiate, ssz, with_fork};
use crate::state::resolve_state;

pub async fn state<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, RequestError> {
    let encoding = negotiate(&headers)?;
    let id = StateId::parse(&state_id)?;
    blocking(move || {
        let snapshot = app.ctx.snapshots.load();
        let s = resolve_state(&snapshot, &app.ctx.store, id)?;
        // Only Fulu states are resolved (see `state::fulu_state`).
        let fork = ForkName::Fulu;
        match encoding {
            Encoding::Ssz => Ok(ssz(s.state.as_ssz_bytes(), fork)),
            Encoding::Json => json(&VersionedData {
                version: fork.as_str(),
                execution_optimistic: s.execution_optimistic,
                finalized: s.finalized,
                data: &*s.state,
            })
            .map(|r| with_fork(r, fork)),
        }
    })
    .await
}

#[derive(Serialize)]
struct Node {
    slot: Slot,
    block_root: Hash256,
    /// The spec requires a root; the tree's root node (no parent in fork choice) reports zero.
    parent_root: Hash256,
    justified_epoch: u64,
    finalized_epoch: u64,
    weight: u64,
    validity: &'static str,
    execution_block_hash: Hash256,
}

impl From<&ForkChoiceNode> for Node {
    fn from(n: &ForkChoiceNode) -> Self {
        Node {
            slot: n.slot,
            block_root: n.block_root,
            parent_root: n.parent_root.unwrap_or(Hash256::ZERO),
            justified_epoch: n.justified_epoch,
            finalized_epoch: n.finalized_epoch,
            weight: n.weight,
            validity: n.validity,
            execution_block_hash: n.execution_block_hash,
        }
    }
}

#[derive(Serialize)]
struct ForkChoice {
    justified_checkpoint: Checkpoint,
    finalized_checkpoint: Checkpoint,
    fork_choice_nodes: Vec<Node>,
}

pub async fn fork_choice<P: Preset>(
    State(app): State<AppState<P>>,
) -> Result<Response, RequestError> {
    let snapshot = app.ctx.snapshots.load();
    let view = &snapshot.fork_choice;
    json(&ForkChoice {
        justified_checkpoint: view.justified,
        finalized_checkpoint: view.finalized,
        fork_choice_nodes: view.nodes.iter().map(Node::from).collect(),
    })
}

#[derive(Serialize)]
struct ChainHead {
    root: Hash256,
    slot: Slot,
    execution_optimistic: bool,
}

/// `debug/beacon/heads` (v2): the leaves of fork choice's block tree.
pub async fn heads<P: Preset>(State(app): State<AppState<P>>) -> Result<Response, RequestError> {
    let snapshot = app.ctx.snapshots.load();
    let nodes = &snapshot.fork_choice.nodes;
    let parents: std::collections::HashSet<Hash256> =
        nodes.iter().filter_map(|n| n.parent_root).collect();
    let heads: Vec<ChainHead> = nodes
        .iter()
        .filter(|n| !parents.contains(&n.block_root))
        .map(|n| ChainHead {
            root: n.block_root,
            slot: n.slot,
            execution_optimistic: n.validity == "optimistic",
        })
        .collect();
    json(&Data { data: heads })
}
