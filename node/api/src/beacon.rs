//! `/eth/v1/beacon/...` and `/eth/v2/beacon/...`: genesis, state queries, headers, blocks.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use keel_state_transition::accessors::{compute_epoch_at_slot, compute_start_slot_at_epoch};
use keel_types::phase0::{Checkpoint, SignedBeaconBlockHeader, Validator};
use keel_types::typenum::Unsigned;
use keel_types::{Epoch, Hash256, Preset, Slot, ValidatorIndex, fulu};
use serde::Serialize;

use crate::AppState;
use crate::error::RequestError;
use crate::ids::{BlockId, PathParams, Query, StateId, ValidatorId, parse_root};
use crate::response::{
    ChainData, Data, Encoding, VersionedData, blocking, json, negotiate, ssz, with_fork,
};
use crate::state::{ResolvedBlock, ResolvedState, block_by_root, resolve_block, resolve_state};

type Result<T> = std::result::Result<T, RequestError>;

/// `FAR_FUTURE_EPOCH`.
const FAR_FUTURE_EPOCH: Epoch = u64::MAX;

#[derive(Serialize)]
struct Root {
    root: Hash256,
}

/// Resolves `state_id` on the blocking pool and answers with `f(state)` in the chain envelope.
async fn with_state<P: Preset, T: Serialize>(
    app: AppState<P>,
    state_id: String,
    f: impl FnOnce(&AppState<P>, &ResolvedState<P>) -> Result<T> + Send + 'static,
) -> Result<Response> {
    let id = StateId::parse(&state_id)?;
    blocking(move || {
        let snapshot = app.ctx.snapshots.load();
        let resolved = resolve_state(&snapshot, &app.ctx.store, id)?;
        let data = f(&app, &resolved)?;
        json(&ChainData {
            execution_optimistic: resolved.execution_optimistic,
            finalized: resolved.finalized,
            data,
        })
    })
    .await
}

#[derive(Serialize)]
struct Genesis {
    genesis_time: u64,
    genesis_validators_root: Hash256,
    #[serde(serialize_with = "keel_types::json::hex_bytes")]
    genesis_fork_version: [u8; 4],
}

pub async fn genesis<P: Preset>(State(app): State<AppState<P>>) -> Result<Response> {
    let snapshot = app.ctx.snapshots.load();
    json(&Data {
        data: Genesis {
            genesis_time: snapshot.genesis_time,
            genesis_validators_root: snapshot.genesis_validators_root,
            genesis_fork_version: app.ctx.config.genesis_fork_version,
        },
    })
}

pub async fn state_root<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
) -> Result<Response> {
    with_state(app, state_id, |_, s| Ok(Root { root: s.state_root })).await
}

pub async fn state_fork<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
) -> Result<Response> {
    with_state(app, state_id, |_, s| Ok(s.state.fork)).await
}

#[derive(Serialize)]
struct FinalityCheckpoints {
    previous_justified: Checkpoint,
    current_justified: Checkpoint,
    finalized: Checkpoint,
}

pub async fn finality_checkpoints<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
) -> Result<Response> {
    with_state(app, state_id, |_, s| {
        Ok(FinalityCheckpoints {
            previous_justified: s.state.previous_justified_checkpoint,
            current_justified: s.state.current_justified_checkpoint,
            finalized: s.state.finalized_checkpoint,
        })
    })
    .await
}

// ---- validators ----

/// The spec's validator status at `epoch` (`validator-status.md`).
fn validator_status(v: &Validator, epoch: Epoch) -> &'static str {
    if v.activation_epoch > epoch {
        if v.activation_eligibility_epoch == FAR_FUTURE_EPOCH {
            "pending_initialized"
        } else {
            "pending_queued"
        }
    } else if epoch < v.exit_epoch {
        if v.exit_epoch == FAR_FUTURE_EPOCH {
            "active_ongoing"
        } else if v.slashed {
            "active_slashed"
        } else {
            "active_exiting"
        }
    } else if epoch < v.withdrawable_epoch {
        if v.slashed {
            "exited_slashed"
        } else {
            "exited_unslashed"
        }
    } else if v.effective_balance != 0 {
        "withdrawal_possible"
    } else {
        "withdrawal_done"
    }
}

const STATUSES: [&str; 9] = [
    "pending_initialized",
    "pending_queued",
    "active_ongoing",
    "active_exiting",
    "active_slashed",
    "exited_unslashed",
    "exited_slashed",
    "withdrawal_possible",
    "withdrawal_done",
];

/// The `status` filter: specific statuses and the generic ones (`active` = `active_*`, ...).
fn parse_status_filter(values: &[&str]) -> Result<Option<HashSet<&'static str>>> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut set = HashSet::new();
    for value in values {
        let matching: Vec<&'static str> = match *value {
            "pending" | "active" | "exited" | "withdrawal" => STATUSES
                .iter()
                .copied()
                .filter(|s| s.starts_with(value))
                .collect(),
            specific => STATUSES
                .iter()
                .copied()
                .filter(|s| *s == specific)
                .collect(),
        };
        if matching.is_empty() {
            return Err(RequestError::bad_request(format!(
                "invalid validator status: {value:?}"
            )));
        }
        set.extend(matching);
    }
    Ok(Some(set))
}

/// The indices `ids` name in `state`, in request order, unknown ones left out (as the spec
/// says); `None` for "every validator".
fn select_validators<P: Preset>(
    state: &fulu::BeaconState<P>,
    ids: &[ValidatorId],
) -> Option<Vec<ValidatorIndex>> {
    if ids.is_empty() {
        return None;
    }
    let count = state.validators.len() as u64;
    let wanted_keys: HashSet<_> = ids
        .iter()
        .filter_map(|id| match id {
            ValidatorId::Pubkey(pk) => Some(*pk),
            ValidatorId::Index(_) => None,
        })
        .collect();
    // One pass over the registry for all public keys asked for.
    let by_key: HashMap<_, ValidatorIndex> = if wanted_keys.is_empty() {
        HashMap::new()
    } else {
        state
            .validators
            .iter()
            .zip(0u64..)
            .filter(|(v, _)| wanted_keys.contains(&v.pubkey))
            .map(|(v, i)| (v.pubkey, i))
            .collect()
    };
    let mut seen = HashSet::new();
    Some(
        ids.iter()
            .filter_map(|id| match id {
                ValidatorId::Index(i) if *i < count => Some(*i),
                ValidatorId::Index(_) => None,
                ValidatorId::Pubkey(pk) => by_key.get(pk).copied(),
            })
            .filter(|i| seen.insert(*i))
            .collect(),
    )
}

fn parse_ids(query: &Query) -> Result<Vec<ValidatorId>> {
    query
        .list("id")
        .into_iter()
        .map(ValidatorId::parse)
        .collect()
}

#[derive(Serialize)]
struct ValidatorData {
    index: ValidatorIndex,
    balance: u64,
    status: &'static str,
    validator: Validator,
}

fn validator_data<P: Preset>(
    state: &fulu::BeaconState<P>,
    index: ValidatorIndex,
    epoch: Epoch,
) -> Option<ValidatorData> {
    let i = usize::try_from(index).ok()?;
    let validator = state.validators.get(i)?.clone();
    let balance = state.balances.get(i).copied().unwrap_or(0);
    Some(ValidatorData {
        index,
        balance,
        status: validator_status(&validator, epoch),
        validator,
    })
}

pub async fn validators<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    query: Query,
) -> Result<Response> {
    let ids = parse_ids(&query)?;
    let filter = parse_status_filter(&query.list("status"))?;
    validators_response(app, state_id, ids, filter).await
}

/// The body of `POST .../validators`: both lists optional.
#[derive(serde::Deserialize, Default)]
struct ValidatorsBody {
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    statuses: Option<Vec<String>>,
}

/// Parses a JSON request body; an empty body is `T::default()` (the spec's "no filter").
fn parse_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| RequestError::bad_request(format!("invalid request body: {e}")))
}

/// `POST .../validators`: as the GET, with the filters in the body (no URL length limit).
pub async fn post_validators<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    body: Bytes,
) -> Result<Response> {
    let body: ValidatorsBody = parse_body(&body)?;
    let ids = body
        .ids
        .unwrap_or_default()
        .iter()
        .map(|id| ValidatorId::parse(id))
        .collect::<Result<Vec<_>>>()?;
    let statuses = body.statuses.unwrap_or_default();
    let filter = parse_status_filter(&statuses.iter().map(String::as_str).collect::<Vec<_>>())?;
    validators_response(app, state_id, ids, filter).await
}

async fn validators_response<P: Preset>(
    app: AppState<P>,
    state_id: String,
    ids: Vec<ValidatorId>,
    filter: Option<HashSet<&'static str>>,
) -> Result<Response> {
    with_state(app, state_id, move |_, s| {
        let state = &*s.state;
        let epoch = compute_epoch_at_slot::<P>(state.slot);
        let indices: Vec<ValidatorIndex> = select_validators(state, &ids)
            .unwrap_or_else(|| (0..state.validators.len() as u64).collect());
        Ok(indices
            .into_iter()
            .filter_map(|i| validator_data(state, i, epoch))
            .filter(|v| filter.as_ref().is_none_or(|f| f.contains(v.status)))
            .collect::<Vec<_>>())
    })
    .await
}

pub async fn validator<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams((state_id, validator_id)): PathParams<(String, String)>,
) -> Result<Response> {
    let id = ValidatorId::parse(&validator_id)?;
    with_state(app, state_id, move |_, s| {
        let state = &*s.state;
        let epoch = compute_epoch_at_slot::<P>(state.slot);
        select_validators(state, &[id])
            .and_then(|found| found.first().copied())
            .and_then(|i| validator_data(state, i, epoch))
            .ok_or_else(|| RequestError::not_found("validator not found"))
    })
    .await
}

#[derive(Serialize)]
struct Balance {
    index: ValidatorIndex,
    balance: u64,
}

pub async fn validator_balances<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    query: Query,
) -> Result<Response> {
    let ids = parse_ids(&query)?;
    balances_response(app, state_id, ids).await
}

/// `POST .../validator_balances`: the ids as a JSON array in the body (empty: every validator).
pub async fn post_validator_balances<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    body: Bytes,
) -> Result<Response> {
    let ids = parse_body::<Vec<String>>(&body)?
        .iter()
        .map(|id| ValidatorId::parse(id))
        .collect::<Result<Vec<_>>>()?;
    balances_response(app, state_id, ids).await
}

async fn balances_response<P: Preset>(
    app: AppState<P>,
    state_id: String,
    ids: Vec<ValidatorId>,
) -> Result<Response> {
    with_state(app, state_id, move |_, s| {
        let state = &*s.state;
        let indices = select_validators(state, &ids)
            .unwrap_or_else(|| (0..state.balances.len() as u64).collect());
        Ok(indices
            .into_iter()
            .filter_map(|index| {
                let balance = state.balances.get(usize::try_from(index).ok()?).copied()?;
                Some(Balance { index, balance })
            })
            .collect::<Vec<_>>())
    })
    .await
}

// ---- committees, sync committees, randao ----

#[derive(Serialize)]
struct Committee {
    index: u64,
    slot: Slot,
    validators: Vec<ValidatorIndex>,
}

pub async fn committees<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    query: Query,
) -> Result<Response> {
    let epoch_param = query.u64("epoch")?;
    let index_param = query.u64("index")?;
    let slot_param = query.u64("slot")?;
    with_state(app, state_id, move |app, s| {
        let state = &*s.state;
        let current = compute_epoch_at_slot::<P>(state.slot);
        let epoch = epoch_param
            .or(slot_param.map(compute_epoch_at_slot::<P>))
            .unwrap_or(current);
        // The seed of `epoch` uses the RANDAO mix of `epoch - MIN_SEED_LOOKAHEAD - 1`, which the
        // state still holds for the last EPOCHS_PER_HISTORICAL_VECTOR epochs; beyond the next
        // epoch the shuffling is not yet determined.
        let oldest = current
            .saturating_add(P::MIN_SEED_LOOKAHEAD)
            .saturating_add(1)
            .saturating_sub(P::epochs_per_historical_vector());
        if epoch > current.saturating_add(1) || epoch < oldest {
            return Err(RequestError::bad_request(format!(
                "epoch {epoch} is outside the range this state can compute committees for \
                 ({oldest}..={})",
                current.saturating_add(1)
            )));
        }
        if let Some(slot) = slot_param
            && compute_epoch_at_slot::<P>(slot) != epoch
        {
            return Err(RequestError::bad_request(format!(
                "slot {slot} is not in epoch {epoch}"
            )));
        }
        let cache = app
            .caches
            .lock()
            .map_err(|_| RequestError::internal("committee cache poisoned"))?
            .committee_cache(state, epoch)?;
        let start = compute_start_slot_at_epoch::<P>(epoch)?;
        let mut out = Vec::new();
        for slot in start..start.saturating_add(P::slots_per_epoch()) {
            if slot_param.is_some_and(|s| s != slot) {
                continue;
            }
            for index in 0..cache.committees_per_slot() {
                if index_param.is_some_and(|i| i != index) {
                    continue;
                }
                out.push(Committee {
                    index,
                    slot,
                    validators: cache.get_beacon_committee(slot, index)?.to_vec(),
                });
            }
        }
        Ok(out)
    })
    .await
}

#[derive(Serialize)]
struct SyncCommitteeData {
    validators: Vec<ValidatorIndex>,
    validator_aggregates: Vec<Vec<ValidatorIndex>>,
}

pub async fn sync_committees<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    query: Query,
) -> Result<Response> {
    let epoch_param = query.u64("epoch")?;
    with_state(app, state_id, move |_, s| {
        let state = &*s.state;
        let current = compute_epoch_at_slot::<P>(state.slot);
        let epoch = epoch_param.unwrap_or(current);
        let period = |e: Epoch| e / P::EPOCHS_PER_SYNC_COMMITTEE_PERIOD.max(1);
        let committee = if period(epoch) == period(current) {
            &state.current_sync_committee
        } else if period(epoch) == period(current).saturating_add(1) {
            &state.next_sync_committee
        } else {
            return Err(RequestError::bad_request(format!(
                "epoch {epoch} is not in the current or next sync committee period of the state"
            )));
        };
        let wanted: HashSet<_> = committee.pubkeys.iter().copied().collect();
        let by_key: HashMap<_, ValidatorIndex> = state
            .validators
            .iter()
            .zip(0u64..)
            .filter(|(v, _)| wanted.contains(&v.pubkey))
            .map(|(v, i)| (v.pubkey, i))
            .collect();
        let validators = committee
            .pubkeys
            .iter()
            .map(|pk| {
                by_key.get(pk).copied().ok_or_else(|| {
                    RequestError::internal(format!("sync committee member {pk} is not a validator"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let subcommittee = usize::try_from(
            P::sync_committee_size() / keel_types::altair::SyncCommitteeSubnetCount::to_u64(),
        )
        .unwrap_or(1)
        .max(1);
        let validator_aggregates = validators.chunks(subcommittee).map(<[_]>::to_vec).collect();
        Ok(SyncCommitteeData {
            validators,
            validator_aggregates,
        })
    })
    .await
}

#[derive(Serialize)]
struct Randao {
    randao: Hash256,
}

pub async fn randao<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(state_id): PathParams<String>,
    query: Query,
) -> Result<Response> {
    let epoch_param = query.u64("epoch")?;
    with_state(app, state_id, move |_, s| {
        let state = &*s.state;
        let current = compute_epoch_at_slot::<P>(state.slot);
        let epoch = epoch_param.unwrap_or(current);
        let vector = P::epochs_per_historical_vector();
        if epoch > current || epoch.saturating_add(vector) <= current {
            return Err(RequestError::bad_request(format!(
                "epoch {epoch} is outside the RANDAO history of this state"
            )));
        }
        let randao = usize::try_from(epoch % vector)
            .ok()
            .and_then(|i| state.randao_mixes.get(i).copied())
            .ok_or_else(|| RequestError::internal("randao mix out of range"))?;
        Ok(Randao { randao })
    })
    .await
}

// ---- headers and blocks ----

#[derive(Serialize)]
struct HeaderData {
    root: Hash256,
    canonical: bool,
    header: SignedBeaconBlockHeader,
}

fn header_data<P: Preset>(b: &ResolvedBlock<P>) -> HeaderData {
    HeaderData {
        root: b.root,
        canonical: b.canonical,
        header: b.block.signed_block_header(),
    }
}

pub async fn headers<P: Preset>(State(app): State<AppState<P>>, query: Query) -> Result<Response> {
    let slot = query.u64("slot")?;
    let parent_root = query
        .single("parent_root")?
        .map(|v| {
            parse_root(v)
                .ok_or_else(|| RequestError::bad_request(format!("invalid parent_root: {v:?}")))
        })
        .transpose()?;
    blocking(move || {
        let snapshot = app.ctx.snapshots.load();
        let store = &app.ctx.store;
        let mut blocks = Vec::new();
        if let Some(parent) = parent_root {
            // Children are found among the blocks fork choice knows (everything since
            // finalization); older children are the canonical ones, by slot.
            for node in snapshot.fork_choice.nodes.iter() {
                if node.parent_root == Some(parent) && slot.is_none_or(|s| s == node.slot) {
                    blocks.extend(block_by_root(&snapshot, store, node.block_root)?);
                }
            }
        } else if let Some(slot) = slot {
            match resolve_block(&snapshot, store, BlockId::Slot(slot)) {
                Ok(b) => blocks.push(b),
                Err(RequestError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        } else {
            blocks.push(resolve_block(&snapshot, store, BlockId::Head)?);
        }
        // A block that does not match the slot filter (the block at a skipped slot is the
        // previous one) is not a header at that slot.
        blocks.retain(|b| slot.is_none_or(|s| b.block.slot() == s));
        json(&ChainData {
            execution_optimistic: blocks.iter().any(|b| b.execution_optimistic),
            finalized: !blocks.is_empty() && blocks.iter().all(|b| b.finalized),
            data: blocks.iter().map(header_data).collect::<Vec<_>>(),
        })
    })
    .await
}

async fn with_block<P: Preset>(
    app: AppState<P>,
    block_id: String,
    f: impl FnOnce(ResolvedBlock<P>) -> Result<Response> + Send + 'static,
) -> Result<Response> {
    let id = BlockId::parse(&block_id)?;
    blocking(move || {
        let snapshot = app.ctx.snapshots.load();
        f(resolve_block(&snapshot, &app.ctx.store, id)?)
    })
    .await
}

pub async fn header<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(block_id): PathParams<String>,
) -> Result<Response> {
    with_block(app, block_id, |b| {
        json(&ChainData {
            execution_optimistic: b.execution_optimistic,
            finalized: b.finalized,
            data: header_data(&b),
        })
    })
    .await
}

pub async fn block<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(block_id): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let encoding = negotiate(&headers)?;
    with_block(app, block_id, move |b| {
        let fork = b.block.fork_name();
        match encoding {
            Encoding::Ssz => Ok(ssz(b.block.as_ssz_bytes(), fork)),
            Encoding::Json => json(&VersionedData {
                version: fork.as_str(),
                execution_optimistic: b.execution_optimistic,
                finalized: b.finalized,
                data: &b.block,
            })
            .map(|r| with_fork(r, fork)),
        }
    })
    .await
}

pub async fn block_root<P: Preset>(
    State(app): State<AppState<P>>,
    PathParams(block_id): PathParams<String>,
) -> Result<Response> {
    with_block(app, block_id, |b| {
        json(&ChainData {
            execution_optimistic: b.execution_optimistic,
            finalized: b.finalized,
            data: Root { root: b.root },
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let mut v = Validator {
            activation_eligibility_epoch: FAR_FUTURE_EPOCH,
            activation_epoch: FAR_FUTURE_EPOCH,
            exit_epoch: FAR_FUTURE_EPOCH,
            withdrawable_epoch: FAR_FUTURE_EPOCH,
            ..Default::default()
        };
        assert_eq!(validator_status(&v, 5), "pending_initialized");
        v.activation_eligibility_epoch = 3;
        assert_eq!(validator_status(&v, 5), "pending_queued");
        v.activation_epoch = 4;
        assert_eq!(validator_status(&v, 5), "active_ongoing");
        v.exit_epoch = 10;
        assert_eq!(validator_status(&v, 5), "active_exiting");
        v.slashed = true;
        assert_eq!(validator_status(&v, 5), "active_slashed");
        v.withdrawable_epoch = 20;
        assert_eq!(validator_status(&v, 12), "exited_slashed");
        v.effective_balance = 1;
        assert_eq!(validator_status(&v, 20), "withdrawal_possible");
        v.effective_balance = 0;
        assert_eq!(validator_status(&v, 20), "withdrawal_done");
        let active = parse_status_filter(&["active"]).ok().flatten();
        assert_eq!(active.map(|s| s.len()), Some(3));
        assert!(parse_status_filter(&["bogus"]).is_err());
    }
}
