//! `networking/gossip_*`: the gossip validation vectors, run through Keel's real verify stage
//! ([`GossipValidator`]) rather than a second copy of the rules.
//!
//! Per case: the `state` is the anchor; every entry of `blocks` is imported on its parent's
//! post-state (`state_transition`, signatures skipped: the vectors' stores take blocks as given)
//! and becomes a fork-choice node of the [`Snapshot`] the rules read. How the format's store maps
//! onto a snapshot:
//! - `store.blocks` → `fork_choice.nodes`; `store.block_states` → `states`. A `failed` block is a
//!   node without a held post-state (the spec's "in `store.blocks`, not in `store.block_states`").
//! - `payload_status` → node validity: `VALID` → "valid", `INVALIDATED` → "invalid",
//!   `NOT_VALIDATED` → "optimistic". Absent is `NOT_VALIDATED` (the spec's default).
//! - `finalized_checkpoint` (the state's, or the case's override) → `finalized`; a zero root (a
//!   genesis state) names the anchor block, as `get_forkchoice_store` does.
//!
//! Each message is validated at `genesis_time * 1000 + current_time_ms + offset_ms` by the
//! topic's `validate_*` and then [`GossipValidator::finish`] (signatures, seen-marking), with one
//! validator per case so that its seen-caches carry across the case's messages.
//!
//! Electra and Fulu run. The snapshot holds states in Fulu's container; an Electra case's states
//! (its `state` and the blocks' post-states, computed by Electra's state transition) are held
//! there *without* `upgrade_to_fulu` (`keel_state_transition::held_state`): `state.fork` stays
//! Electra's, so every signing domain the rules compute is Electra's, and the rules that still
//! differ (the blob limit, the proposer of a slot, advancing a state) follow the held state's
//! fork. The config is the case's or the preset's, as for Fulu: its fork schedule is not what
//! tells an Electra state from a Fulu one. Topics without a Keel rule are skipped.
//!
//! `get_custody_groups` and `compute_columns_for_custody_group` call the custody helpers of
//! `keel_state_transition::fulu::das_core` with the preset's config.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome, parse_hex};
use crate::runners::common::{config, read_ssz};
use keel_config::ChainConfig;
use keel_pipeline_api::{ForkChoiceNode, ForkChoiceView, Head, Snapshot, StateEntry};
use keel_state_transition::Caches;
use keel_state_transition::block::{SignatureStrategy, StaticExecutionEngine, state_transition};
use keel_state_transition::fulu::das_core::{
    compute_columns_for_custody_group, get_custody_groups,
};
use keel_state_transition::held_state::HoldableState;
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_types::phase0::Checkpoint;
use keel_types::tree_hash::TreeHash;
use keel_types::{Hash256, Mainnet, Minimal, Preset, Uint256, altair, deneb, electra, fulu};
use keel_verify::{GossipContext, GossipError, GossipValidator, Pending};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    if fork == "electra" {
        // Electra's networking vectors are all gossip rules (the custody helpers are Fulu's).
        return match (preset, handler) {
            ("minimal", h) if h.starts_with("gossip_") => {
                Some(run::<Minimal, electra::BeaconState<Minimal>>)
            }
            ("mainnet", h) if h.starts_with("gossip_") => {
                Some(run::<Mainnet, electra::BeaconState<Mainnet>>)
            }
            _ => None,
        };
    }
    if fork != "fulu" {
        return None;
    }
    match (preset, handler) {
        (_, "get_custody_groups") => Some(run_get_custody_groups),
        ("minimal", "compute_columns_for_custody_group") => {
            Some(run_compute_columns_for_custody_group::<Minimal>)
        }
        ("mainnet", "compute_columns_for_custody_group") => {
            Some(run_compute_columns_for_custody_group::<Mainnet>)
        }
        ("minimal", h) if h.starts_with("gossip_") => {
            Some(run::<Minimal, fulu::BeaconState<Minimal>>)
        }
        ("mainnet", h) if h.starts_with("gossip_") => {
            Some(run::<Mainnet, fulu::BeaconState<Mainnet>>)
        }
        _ => None,
    }
}

/// The preset's config, by the case's preset name (the custody helpers read
/// `NUMBER_OF_CUSTODY_GROUPS` from it).
fn preset_config(case: &Case) -> Result<&'static ChainConfig, CaseError> {
    match case.preset.as_str() {
        "minimal" => Ok(config::<Minimal>()),
        "mainnet" => Ok(config::<Mainnet>()),
        other => Err(mismatch(format!("unknown preset {other}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustodyGroupsMeta {
    #[allow(dead_code)]
    description: Option<String>,
    /// Read from the text instead: a `uint256` does not fit serde_yaml's integers.
    #[allow(dead_code)]
    node_id: serde_yaml::Value,
    custody_group_count: u64,
    result: Vec<u64>,
}

/// `networking/get_custody_groups`: `get_custody_groups(node_id, custody_group_count)`.
fn run_get_custody_groups(case: &Case) -> CaseResult {
    let meta: CustodyGroupsMeta = case.read_yaml("meta.yaml")?;
    let text = std::fs::read_to_string(case.file("meta.yaml")).map_err(|e| CaseError::Io {
        file: case.file("meta.yaml").display().to_string(),
        reason: e.to_string(),
    })?;
    let node_id = node_id_from_meta(&text)?;
    let groups = get_custody_groups(preset_config(case)?, node_id, meta.custody_group_count)
        .map_err(|e| mismatch(format!("get_custody_groups: {e}")))?;
    crate::ensure_eq!(groups, meta.result, "custody groups");
    Ok(Outcome::Pass)
}

/// The decimal `node_id` of a `meta.yaml` (written as a plain integer, possibly on the line
/// after its key), as a `uint256`.
fn node_id_from_meta(text: &str) -> Result<Uint256, CaseError> {
    let after = text
        .split_once("node_id:")
        .map(|(_, rest)| rest.trim_start())
        .ok_or_else(|| mismatch("meta.yaml has no node_id"))?;
    let digits: String = after
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Uint256::from_str_radix(&digits, 10).map_err(|e| mismatch(format!("node_id {digits:?}: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnsMeta {
    #[allow(dead_code)]
    description: Option<String>,
    custody_group: u64,
    result: Vec<u64>,
}

/// `networking/compute_columns_for_custody_group`.
fn run_compute_columns_for_custody_group<P: Preset>(case: &Case) -> CaseResult {
    let meta: ColumnsMeta = case.read_yaml("meta.yaml")?;
    let columns = compute_columns_for_custody_group::<P>(config::<P>(), meta.custody_group)
        .map_err(|e| mismatch(format!("compute_columns_for_custody_group: {e}")))?;
    crate::ensure_eq!(columns, meta.result, "columns");
    Ok(Outcome::Pass)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    topic: String,
    #[serde(default)]
    blocks: Vec<BlockEntry>,
    finalized_checkpoint: Option<FinalizedYaml>,
    seen_partial_data_column_headers: Option<Vec<SeenHeader>>,
    #[serde(default)]
    current_time_ms: u64,
    messages: Vec<Message>,
    bls_setting: Option<u8>,
}

/// A partial-column header the case's store has validated already.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeenHeader {
    block_root: String,
    header: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockEntry {
    block: String,
    #[serde(default)]
    failed: bool,
    payload_status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FinalizedYaml {
    epoch: u64,
    root: Option<String>,
    block: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    #[serde(default)]
    offset_ms: u64,
    subnet_id: Option<u64>,
    column_index: Option<u64>,
    group_id: Option<String>,
    message: String,
    expected: String,
    reason: Option<String>,
}

fn mismatch(msg: impl Into<String>) -> CaseError {
    CaseError::Mismatch(msg.into())
}

/// The topics Keel has a rule for.
const TOPICS: &[&str] = &[
    "beacon_block",
    "beacon_attestation",
    "beacon_aggregate_and_proof",
    "sync_committee",
    "voluntary_exit",
    "proposer_slashing",
    "bls_to_execution_change",
    "attester_slashing",
    "sync_committee_contribution_and_proof",
    "blob_sidecar",
    "data_column_sidecar",
    "partial_data_column_sidecar",
];

/// Topics whose messages carry `column_index` and `group_id` (and whose cases may preload
/// validated headers).
const PARTIAL_TOPIC: &str = "partial_data_column_sidecar";

/// One case; `S` is the state type of the case's fork (the vectors' `state` and the blocks'
/// post-states), held in the snapshot as the verify stage holds states.
fn run<P: Preset, S: HoldableState<P>>(case: &Case) -> CaseResult {
    let meta: Meta = case.read_yaml("meta.yaml")?;
    if !TOPICS.contains(&meta.topic.as_str()) {
        return Ok(Outcome::Skip(format!(
            "Keel's verify stage has no rule for the `{}` topic yet",
            meta.topic
        )));
    }
    if meta.bls_setting == Some(2) {
        // The verify stage always checks signatures.
        return Ok(Outcome::Skip("vector requires BLS off".into()));
    }
    let partial = meta.topic == PARTIAL_TOPIC;
    if meta.seen_partial_data_column_headers.is_some() && !partial {
        return Err(mismatch("partial column headers on a non-column topic"));
    }
    let config = case_config::<P>(case)?;
    let (snapshot, pubkeys) = build_snapshot::<P, S>(case, &meta, &config)?;
    let validator = GossipValidator::<P>::new(Arc::new(config));
    // `seen.partial_data_column_headers`, preloaded.
    for seen in meta.seen_partial_data_column_headers.iter().flatten() {
        let header: fulu::PartialDataColumnHeader<P> = read_ssz(case, &seen.header)?;
        validator.remember_partial_data_column_header(root(&seen.block_root)?, header);
    }
    let mut rng = rand::rng();
    for (i, message) in meta.messages.iter().enumerate() {
        if !partial && (message.column_index.is_some() || message.group_id.is_some()) {
            return Err(mismatch("column fields on a non-column topic"));
        }
        let now_ms = snapshot
            .genesis_time
            .saturating_mul(1000)
            .saturating_add(meta.current_time_ms)
            .saturating_add(message.offset_ms);
        let ctx = GossipContext {
            snapshot: &snapshot,
            pubkeys: &pubkeys,
            now_ms,
        };
        let outcome = validate::<P>(case, &validator, &ctx, &meta.topic, message, &mut rng)?;
        let got = match &outcome {
            Ok(()) => "valid",
            Err(GossipError::Ignore(_)) => "ignore",
            Err(GossipError::Reject(_)) => "reject",
        };
        if got != message.expected {
            return Err(mismatch(format!(
                "message {i} ({}): got {got} ({:?}), expected {} ({})",
                message.message,
                outcome.err(),
                message.expected,
                message.reason.as_deref().unwrap_or("-"),
            )));
        }
        if std::env::var_os("KEEL_DEBUG_OPS").is_some()
            && let Err(e) = outcome
        {
            eprintln!("{}: message {i}: {e}", case.display_path());
        }
    }
    Ok(Outcome::Pass)
}

/// One message through `validate_*` and `finish`.
fn validate<P: Preset>(
    case: &Case,
    validator: &GossipValidator<P>,
    ctx: &GossipContext<'_, P>,
    topic: &str,
    message: &Message,
    rng: &mut rand::rngs::ThreadRng,
) -> Result<Result<(), GossipError>, CaseError> {
    let stem = message.message.as_str();
    let subnet = || {
        message
            .subnet_id
            .ok_or_else(|| mismatch(format!("{topic} message without subnet_id")))
    };
    let received = Instant::now();
    fn done<T, P: Preset>(
        validator: &GossipValidator<P>,
        pending: Result<Pending<T>, GossipError>,
        rng: &mut rand::rngs::ThreadRng,
    ) -> Result<(), GossipError> {
        let pending = pending?;
        validator
            .finish(vec![pending], rng)
            .pop()
            .unwrap_or_else(|| Err(GossipError::Ignore("finish returned nothing".into())))
            .map(|_| ())
    }
    Ok(match topic {
        "beacon_block" => {
            // Electra's and Fulu's blocks share one container; the variant is the case's fork,
            // as the decoder would pick it from the topic's fork digest.
            let block: fulu::SignedBeaconBlock<P> = read_ssz(case, stem)?;
            let block = match case.fork.as_str() {
                "electra" => keel_types::SignedBeaconBlock::Electra(block),
                _ => keel_types::SignedBeaconBlock::Fulu(block),
            };
            done(
                validator,
                validator.validate_block(ctx, &block, received),
                rng,
            )
        }
        "beacon_attestation" => {
            let single: electra::SingleAttestation = read_ssz(case, stem)?;
            let pending = validator.validate_single_attestation(ctx, subnet()?, &single, received);
            done(validator, pending, rng)
        }
        "beacon_aggregate_and_proof" => {
            let signed: electra::SignedAggregateAndProof<P> = read_ssz(case, stem)?;
            done(
                validator,
                validator.validate_aggregate(ctx, &signed, received),
                rng,
            )
        }
        "sync_committee" => {
            let sync: altair::SyncCommitteeMessage = read_ssz(case, stem)?;
            let pending = validator.validate_sync_message(ctx, subnet()?, &sync, received);
            done(validator, pending, rng)
        }
        "voluntary_exit" => {
            let exit: electra::SignedVoluntaryExit = read_ssz(case, stem)?;
            done(
                validator,
                validator.validate_voluntary_exit(ctx, &exit),
                rng,
            )
        }
        "proposer_slashing" => {
            let slashing: electra::ProposerSlashing = read_ssz(case, stem)?;
            done(
                validator,
                validator.validate_proposer_slashing(ctx, &slashing),
                rng,
            )
        }
        "bls_to_execution_change" => {
            let change: electra::SignedBLSToExecutionChange = read_ssz(case, stem)?;
            let pending = validator.validate_bls_to_execution_change(ctx, &change);
            done(validator, pending, rng)
        }
        "attester_slashing" => {
            let slashing: electra::AttesterSlashing<P> = read_ssz(case, stem)?;
            let pending = validator.validate_attester_slashing(ctx, &slashing);
            done(validator, pending, rng)
        }
        "sync_committee_contribution_and_proof" => {
            let signed: electra::SignedContributionAndProof<P> = read_ssz(case, stem)?;
            done(
                validator,
                validator.validate_contribution(ctx, &signed),
                rng,
            )
        }
        "blob_sidecar" => {
            let sidecar: deneb::BlobSidecar<P> = read_ssz(case, stem)?;
            let pending =
                validator.validate_blob_sidecar(ctx, subnet()?, &Arc::new(sidecar), received);
            done(validator, pending, rng)
        }
        "data_column_sidecar" => {
            let sidecar: fulu::DataColumnSidecar<P> = read_ssz(case, stem)?;
            let pending = validator.validate_data_column_sidecar(
                ctx,
                subnet()?,
                &Arc::new(sidecar),
                received,
            );
            done(validator, pending, rng)
        }
        "partial_data_column_sidecar" => {
            let sidecar: fulu::PartialDataColumnSidecar<P> = read_ssz(case, stem)?;
            let group_stem = message
                .group_id
                .as_deref()
                .ok_or_else(|| mismatch("partial column message without group_id"))?;
            let group_id: fulu::PartialDataColumnGroupID = read_ssz(case, group_stem)?;
            let column_index = message
                .column_index
                .ok_or_else(|| mismatch("partial column message without column_index"))?;
            let pending = validator.validate_partial_data_column_sidecar(
                ctx,
                &Arc::new(sidecar),
                &group_id,
                column_index,
                received,
            );
            done(validator, pending, rng)
        }
        other => return Err(mismatch(format!("no rule for topic {other}"))),
    })
}

/// The case's own `config.yaml` when it has one (some vectors override values such as
/// `BLOB_SCHEDULE`, or schedule Capella for the BLS-change rule), else the preset's.
fn case_config<P: Preset>(case: &Case) -> Result<ChainConfig, CaseError> {
    if !case.exists("config.yaml") {
        return Ok(config::<P>().clone());
    }
    let text = std::fs::read_to_string(case.file("config.yaml")).map_err(|e| CaseError::Io {
        file: case.file("config.yaml").display().to_string(),
        reason: e.to_string(),
    })?;
    let has = |key: &str| text.lines().any(|l| l.starts_with(&format!("{key}:")));
    let mut prefix = String::new();
    // The vectors' configs leave out the network name Keel's parser requires.
    if !has("CONFIG_NAME") {
        prefix.push_str(&format!("CONFIG_NAME: '{}'\n", P::NAME));
    }
    // An Electra case's config is written by Electra's spec, which has no Fulu keys; Keel's
    // parser requires them (every fork Keel knows), so they come from the preset's spec config
    // (Fulu unscheduled there), as they would in the spec's own config file.
    let spec = config::<P>();
    if !has("FULU_FORK_VERSION") {
        let version: String = spec
            .fulu_fork_version
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        prefix.push_str(&format!("FULU_FORK_VERSION: 0x{version}\n"));
    }
    if !has("FULU_FORK_EPOCH") {
        prefix.push_str(&format!("FULU_FORK_EPOCH: {}\n", spec.fulu_fork_epoch));
    }
    ChainConfig::from_yaml_str(&format!("{prefix}{text}"))
        .map_err(|e| mismatch(format!("config.yaml: {e}")))
}

fn root(s: &str) -> Result<Hash256, CaseError> {
    let bytes = parse_hex(s)?;
    if bytes.len() != 32 {
        return Err(mismatch(format!("not a 32-byte root: {s:?}")));
    }
    Ok(Hash256::from_slice(&bytes))
}

/// The case's store as the snapshot the core would publish for it. Blocks are imported on the
/// case fork's own states (`S`); the snapshot holds each in Fulu's container
/// ([`HoldableState::into_held`]: an Electra state keeps its fork, so its signing domains), under
/// the state root of the real state.
fn build_snapshot<P: Preset, S: HoldableState<P>>(
    case: &Case,
    meta: &Meta,
    config: &ChainConfig,
) -> Result<(Snapshot<P>, PubkeyCache), CaseError> {
    let mut caches = Caches::new();
    let mut anchor_state: S = read_ssz(case, "state")?;
    anchor_state
        .apply_pending_updates()
        .map_err(|e| mismatch(format!("anchor state: {e}")))?;
    let anchor_state_root = anchor_state.tree_hash_root();
    let anchor = anchor_state
        .clone()
        .into_held(&mut caches)
        .map_err(|e| mismatch(format!("holding the anchor state: {e}")))?;
    // The anchor block: the state's latest header with its state root filled in.
    let mut header = anchor.latest_block_header;
    if header.state_root == Hash256::ZERO {
        header.state_root = anchor_state_root;
    }
    let mut anchor_root = header.tree_hash_root();
    // The case's first block may be the anchor block itself (`get_forkchoice_store(state,
    // block)`): the state's latest block, or a block at the state's slot committing to the
    // state (the header's state root is still zero then). It names the anchor.
    let blocks = meta
        .blocks
        .iter()
        .map(|entry| {
            Ok((
                entry,
                read_ssz::<fulu::SignedBeaconBlock<P>>(case, &entry.block)?,
            ))
        })
        .collect::<Result<Vec<_>, CaseError>>()?;
    let mut anchor_block = None;
    if let Some((entry, first)) = blocks.first()
        && (first.message.tree_hash_root() == anchor_root
            || (first.message.slot == anchor.slot && first.message.state_root == anchor_state_root))
    {
        anchor_root = first.message.tree_hash_root();
        anchor_block = Some(entry.block.clone());
    }
    let mut pubkeys = PubkeyCache::from_state(&anchor);

    // The anchor block's slot (the state may have been advanced past it).
    let anchor_slot = anchor.latest_block_header.slot;
    let mut nodes = vec![ForkChoiceNode {
        slot: anchor_slot,
        block_root: anchor_root,
        parent_root: None,
        justified_epoch: anchor.current_justified_checkpoint.epoch,
        finalized_epoch: anchor.finalized_checkpoint.epoch,
        weight: 0,
        validity: "valid",
        execution_block_hash: anchor.latest_execution_payload_header.block_hash,
    }];
    // The case fork's post-states, for importing their children.
    let mut fork_states: HashMap<Hash256, S> = HashMap::new();
    fork_states.insert(anchor_root, anchor_state);
    let mut states: HashMap<Hash256, StateEntry<P>> = HashMap::new();
    states.insert(
        anchor_root,
        StateEntry {
            block_root: anchor_root,
            state_root: anchor_state_root,
            state: Arc::new(anchor.clone()),
        },
    );
    let mut head = Head {
        block_root: anchor_root,
        slot: anchor_slot,
        state_root: anchor_state_root,
        optimistic: false,
    };
    let mut block_roots: HashMap<String, Hash256> = HashMap::new();

    if let Some(name) = anchor_block {
        block_roots.insert(name, anchor_root);
    }
    for (entry, signed) in blocks.iter().skip(usize::from(block_roots.len() == 1)) {
        let block = &signed.message;
        let block_root = block.tree_hash_root();
        block_roots.insert(entry.block.clone(), block_root);
        let validity = match entry.payload_status.as_deref() {
            Some("VALID") => "valid",
            Some("INVALIDATED") => "invalid",
            Some("NOT_VALIDATED") | None => "optimistic",
            Some(other) => return Err(mismatch(format!("unknown payload_status {other}"))),
        };
        nodes.push(ForkChoiceNode {
            slot: block.slot,
            block_root,
            parent_root: Some(block.parent_root),
            justified_epoch: 0,
            finalized_epoch: 0,
            weight: 0,
            validity,
            execution_block_hash: block.body.execution_payload.block_hash,
        });
        if entry.failed {
            // Seen, but its consensus validation failed: no post-state.
            continue;
        }
        let parent = fork_states
            .get(&block.parent_root)
            .ok_or_else(|| mismatch(format!("{}: parent state unknown", entry.block)))?;
        let mut state = parent.clone();
        state_transition(
            &mut state,
            signed,
            config,
            &mut caches,
            &mut pubkeys,
            &StaticExecutionEngine(true),
            SignatureStrategy::Skip,
        )
        .map_err(|e| mismatch(format!("importing {}: {e}", entry.block)))?;
        state
            .apply_pending_updates()
            .map_err(|e| mismatch(format!("{}: {e}", entry.block)))?;
        head = Head {
            block_root,
            slot: block.slot,
            state_root: block.state_root,
            optimistic: validity != "valid",
        };
        let held = state
            .clone()
            .into_held(&mut caches)
            .map_err(|e| mismatch(format!("holding {}: {e}", entry.block)))?;
        fork_states.insert(block_root, state);
        states.insert(
            block_root,
            StateEntry {
                block_root,
                state_root: block.state_root,
                state: Arc::new(held),
            },
        );
    }

    let mut finalized = anchor.finalized_checkpoint;
    if finalized.root == Hash256::ZERO {
        finalized.root = anchor_root;
    }
    if let Some(f) = &meta.finalized_checkpoint {
        let root = match (&f.root, &f.block) {
            (Some(r), None) => root(r)?,
            (None, Some(b)) => match block_roots.get(b) {
                Some(r) => *r,
                None => {
                    let block: fulu::SignedBeaconBlock<P> = read_ssz(case, b)?;
                    block.message.tree_hash_root()
                }
            },
            _ => {
                return Err(mismatch(
                    "finalized_checkpoint needs exactly one of root, block",
                ));
            }
        };
        finalized = Checkpoint {
            epoch: f.epoch,
            root,
        };
    }
    let justified = anchor.current_justified_checkpoint;
    let snapshot = Snapshot {
        sequence: 0,
        genesis_time: anchor.genesis_time,
        genesis_validators_root: anchor.genesis_validators_root,
        genesis_block_root: anchor_root,
        current_slot: anchor.slot,
        head,
        justified,
        finalized,
        states: Arc::new(states.into_values().collect()),
        fork_choice: Arc::new(ForkChoiceView {
            justified,
            finalized,
            unrealized_justified: justified,
            unrealized_finalized: finalized,
            nodes,
        }),
        el_online: true,
    };
    Ok((snapshot, pubkeys))
}
