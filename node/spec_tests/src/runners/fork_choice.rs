//! `fork_choice/<handler>`: drives [`ForkChoice`] through a case's `steps.yaml` from
//! `get_forkchoice_store(anchor_state, anchor_block)`, for Electra and Fulu (every handler:
//! `get_head`, `on_block`, `ex_ante`, `reorg`, `withholding`, `get_proposer_head`,
//! `deposit_with_reorg`, and any other that uses the same steps).
//!
//! The store holds no states, so this runner keeps what the spec's `Store` keeps beside it:
//! every block's post-state (`store.block_states`) and the checkpoint states
//! (`store.checkpoint_states`, the block state advanced to the epoch's start slot), from which it
//! hands fork choice the facts of each block and the justified balances.
//!
//! Steps, as the format describes them:
//! - `tick`: `on_tick(time)`.
//! - `block`: the `on_block` checks ([`ForkChoice::validate_on_block`]), data availability
//!   (Electra: `verify_blob_kzg_proof_batch` of the step's `blobs` and `proofs` against the
//!   block's commitments; Fulu: every sidecar of `columns` passes `verify_data_column_sidecar`
//!   and `verify_data_column_sidecar_kzg_proofs`, an empty `columns` list means "not sampled"),
//!   `state_transition` on the parent's post-state with every signature checked, the pulled-up
//!   tip (`process_justification_and_finalization` on a copy), then [`ForkChoice::on_block`].
//!   Then the block's attestations (`on_attestation(.., is_from_block=True)`) and attester
//!   slashings, which must be accepted.
//! - `attestation`: `validate_on_attestation`, the indexed attestation from the target checkpoint
//!   state and its validity (signature included), then the latest messages.
//! - `attester_slashing`: `is_slashable_attestation_data` and both attestations' validity against
//!   the justified block's state, then the equivocating indices.
//! - `valid: false` on any of these: the step must be refused.
//! - `checks`: every key is compared; a key this runner does not know fails the case. With
//!   each `head` check, the head must also be one of `viable_for_head_roots_and_weights`, and
//!   those leaves' weights must equal the spec's `get_weight` computed naively from the latest
//!   messages (the vectors do not carry that check).
//!
//! Every case runs twice: with the store as the node keeps it, and with the store pruned
//! (threshold 0) and written out and read back after every step ([`Mode`]).

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome, parse_hex};
use crate::runners::common::{config, read_ssz};
use keel_config::ChainConfig;
use keel_crypto::kzg::Kzg;
use keel_fork_choice::{
    Anchor, BlockFacts, BlockOutcome, BlockSummary, ExecutionStatus, ForkChoice, ForkChoiceConfig,
    JustifiedBalances,
};
use keel_state_transition::Caches;
use keel_state_transition::accessors::{compute_epoch_at_slot, get_current_epoch};
use keel_state_transition::block::attestation::{
    get_indexed_attestation, is_valid_indexed_attestation,
};
use keel_state_transition::block::{
    BlockContext, BlockState, SignatureStrategy, StaticExecutionEngine, state_transition,
};
use keel_state_transition::epoch::process_justification_and_finalization;
use keel_state_transition::predicates::{is_active_validator, is_slashable_attestation_data};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::signature_sets::{SignatureMode, SignatureOrigin};
use keel_state_transition::slot::process_slots;
use keel_types::phase0::Checkpoint;
use keel_types::ssz_types::VariableList;
use keel_types::tree_hash::TreeHash;
use keel_types::{Gwei, Hash256, Mainnet, Minimal, Preset, Slot, deneb, electra, fulu};
use serde::Deserialize;
use std::collections::HashMap;
use std::marker::PhantomData;

pub fn handler(preset: &str, fork: &str, _handler: &str) -> Option<HandlerFn> {
    // Every handler shares the step format; a step or check this runner does not know fails the
    // case, so a new handler cannot pass silently.
    match (preset, fork) {
        ("minimal", "electra") => Some(run::<Minimal, electra::BeaconState<Minimal>, false>),
        ("minimal", "fulu") => Some(run::<Minimal, fulu::BeaconState<Minimal>, true>),
        ("mainnet", "electra") => Some(run::<Mainnet, electra::BeaconState<Mainnet>, false>),
        ("mainnet", "fulu") => Some(run::<Mainnet, fulu::BeaconState<Mainnet>, true>),
        _ => None,
    }
}

// ---------------------------------------------------------------- steps.yaml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    tick: Option<u64>,
    block: Option<String>,
    blobs: Option<String>,
    proofs: Option<Vec<String>>,
    columns: Option<Vec<String>>,
    attestation: Option<String>,
    attester_slashing: Option<String>,
    valid: Option<bool>,
    checks: Option<Checks>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checks {
    head: Option<HeadCheck>,
    time: Option<u64>,
    genesis_time: Option<u64>,
    justified_checkpoint: Option<CheckpointYaml>,
    finalized_checkpoint: Option<CheckpointYaml>,
    proposer_boost_root: Option<String>,
    get_proposer_head: Option<String>,
    should_override_forkchoice_update: Option<ShouldOverrideCheck>,
    viable_for_head_roots_and_weights: Option<Vec<RootWeight>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadCheck {
    slot: Slot,
    root: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointYaml {
    epoch: u64,
    root: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShouldOverrideCheck {
    validator_is_connected: bool,
    result: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RootWeight {
    root: String,
    weight: Gwei,
}

fn root(s: &str) -> Result<Hash256, CaseError> {
    let bytes = parse_hex(s)?;
    if bytes.len() != 32 {
        return Err(CaseError::Mismatch(format!("not a 32-byte root: {s:?}")));
    }
    Ok(Hash256::from_slice(&bytes))
}

fn checkpoint(c: &CheckpointYaml) -> Result<Checkpoint, CaseError> {
    Ok(Checkpoint {
        epoch: c.epoch,
        root: root(&c.root)?,
    })
}

fn mismatch(msg: impl Into<String>) -> CaseError {
    CaseError::Mismatch(msg.into())
}

// ---------------------------------------------------------------- the runner

/// Whether a step was accepted (`Ok`) or refused, with why.
type StepResult = Result<Result<(), String>, CaseError>;

struct Runner<'c, P: Preset, S: BlockState<P>, const FULU: bool> {
    case: &'c Case,
    config: &'static ChainConfig,
    fc: ForkChoice,
    /// `store.block_states`.
    block_states: HashMap<Hash256, S>,
    /// `store.checkpoint_states`.
    checkpoint_states: HashMap<Checkpoint, S>,
    caches: Caches,
    pubkeys: PubkeyCache,
    kzg: Option<Kzg>,
    mode: Mode,
    _preset: PhantomData<P>,
}

/// How the store is treated between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// As the node keeps it, never pruned (the spec's store keeps every block).
    Plain,
    /// Pruned after every step whenever anything precedes or conflicts with the finalized block
    /// (threshold 0), then written out and read back (`to_bytes` / `from_bytes`, balances
    /// re-supplied): the checks must not notice.
    PruneAndRestore,
}

fn run<P: Preset, S: BlockState<P>, const FULU: bool>(case: &Case) -> CaseResult {
    let steps: Vec<Step> = case.read_yaml("steps.yaml")?;
    for mode in [Mode::Plain, Mode::PruneAndRestore] {
        let mut runner = Runner::<P, S, FULU>::new(case, mode)?;
        for (i, step) in steps.iter().enumerate() {
            runner
                .step(step)
                .map_err(|e| mismatch(format!("{mode:?}: step {i}: {e}")))?;
        }
    }
    Ok(Outcome::Pass)
}

impl<'c, P: Preset, S: BlockState<P>, const FULU: bool> Runner<'c, P, S, FULU> {
    /// `get_forkchoice_store(anchor_state, anchor_block)`.
    fn new(case: &'c Case, mode: Mode) -> Result<Self, CaseError> {
        let config = config::<P>();
        let mut anchor_state: S = read_ssz(case, "anchor_state")?;
        let anchor_block: electra::BeaconBlock<P> = read_ssz(case, "anchor_block")?;
        anchor_state
            .apply_pending_updates()
            .map_err(|e| mismatch(format!("anchor state: {e}")))?;
        if anchor_block.state_root != anchor_state.tree_hash_root() {
            return Err(mismatch(
                "anchor block's state root is not the anchor state's",
            ));
        }
        let anchor_root = anchor_block.tree_hash_root();
        let anchor_checkpoint = Checkpoint {
            epoch: compute_epoch_at_slot::<P>(anchor_state.slot()),
            root: anchor_root,
        };
        let anchor = Anchor {
            block: summary(&anchor_block, anchor_root),
            state_slot: anchor_state.slot(),
            genesis_time: anchor_state.genesis_time(),
            state_justified_checkpoint: anchor_state.current_justified_checkpoint(),
            state_finalized_checkpoint: anchor_state.finalized_checkpoint(),
            execution_status: ExecutionStatus::Valid,
            justified_balances: justified_balances::<P, S>(anchor_checkpoint, &anchor_state),
        };
        let mut fc_config = ForkChoiceConfig::new::<P>(config);
        if mode == Mode::PruneAndRestore {
            fc_config.prune_threshold = 0;
        }
        let fc = ForkChoice::new(fc_config, anchor)
            .map_err(|e| mismatch(format!("get_forkchoice_store: {e}")))?;
        let pubkeys = PubkeyCache::from_state(&anchor_state);
        let mut block_states = HashMap::new();
        block_states.insert(anchor_root, anchor_state.clone());
        let mut checkpoint_states = HashMap::new();
        checkpoint_states.insert(anchor_checkpoint, anchor_state);
        Ok(Self {
            case,
            config,
            fc,
            block_states,
            checkpoint_states,
            caches: Caches::new(),
            pubkeys,
            kzg: None,
            mode,
            _preset: PhantomData,
        })
    }

    fn step(&mut self, step: &Step) -> Result<(), CaseError> {
        let actions = [
            step.tick.is_some(),
            step.block.is_some(),
            step.attestation.is_some(),
            step.attester_slashing.is_some(),
            step.checks.is_some(),
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err(mismatch(format!(
                "a step must hold exactly one action: {step:?}"
            )));
        }
        if step.block.is_none()
            && (step.blobs.is_some() || step.proofs.is_some() || step.columns.is_some())
        {
            return Err(mismatch("blobs, proofs and columns belong to block steps"));
        }
        if FULU && (step.blobs.is_some() || step.proofs.is_some()) {
            return Err(mismatch("blobs and proofs are pre-Fulu"));
        }
        if !FULU && step.columns.is_some() {
            return Err(mismatch("columns are post-Fulu"));
        }

        if let Some(checks) = &step.checks {
            if step.valid.is_some() {
                return Err(mismatch("a checks step has no validity"));
            }
            return self.checks(checks);
        }

        let outcome = if let Some(time) = step.tick {
            Ok(self.fc.on_tick(time).map_err(|e| e.to_string()))
        } else if let Some(block) = &step.block {
            self.on_block(block, step)
        } else if let Some(attestation) = &step.attestation {
            self.on_attestation_file(attestation)
        } else if let Some(slashing) = &step.attester_slashing {
            self.on_attester_slashing_file(slashing)
        } else {
            return Err(mismatch("unreachable: no action"));
        }?;
        let valid = step.valid.unwrap_or(true);
        match (valid, outcome) {
            (true, Err(e)) => return Err(mismatch(format!("valid step was refused: {e}"))),
            (false, Ok(())) => return Err(mismatch("invalid step was accepted")),
            (false, Err(e)) => {
                if std::env::var_os("KEEL_DEBUG_OPS").is_some() {
                    eprintln!("{}: refused as expected: {e}", self.case.display_path());
                }
            }
            (true, Ok(())) => {}
        }
        self.sync_balances()?;
        if self.mode == Mode::PruneAndRestore {
            self.prune_and_restore()?;
        }
        Ok(())
    }

    /// [`Mode::PruneAndRestore`]'s treatment after a step.
    fn prune_and_restore(&mut self) -> Result<(), CaseError> {
        let removed = self
            .fc
            .maybe_prune()
            .map_err(|e| mismatch(format!("maybe_prune: {e}")))?;
        if removed > 0 && std::env::var_os("KEEL_DEBUG_OPS").is_some() {
            eprintln!("{}: pruned {removed}", self.case.display_path());
        }
        let bytes = self.fc.to_bytes();
        self.fc = ForkChoice::from_bytes(self.fc.config().clone(), &bytes)
            .map_err(|e| mismatch(format!("from_bytes: {e}")))?;
        if self.fc.to_bytes() != bytes {
            return Err(mismatch("to_bytes after from_bytes differs"));
        }
        self.sync_balances()
    }

    // ------------------------------------------------------------ states

    /// `store.checkpoint_states[checkpoint]`, stored first as `store_target_checkpoint_state`
    /// does.
    fn checkpoint_state(&mut self, checkpoint: Checkpoint) -> Result<&S, String> {
        if !self.checkpoint_states.contains_key(&checkpoint) {
            let mut state = self
                .block_states
                .get(&checkpoint.root)
                .ok_or_else(|| format!("no state for checkpoint root {}", checkpoint.root))?
                .clone();
            let slot = checkpoint.epoch.saturating_mul(P::slots_per_epoch());
            if state.slot() < slot {
                process_slots(&mut state, self.config, &mut self.caches, slot)
                    .map_err(|e| format!("process_slots to the checkpoint: {e}"))?;
            }
            self.checkpoint_states.insert(checkpoint, state);
        }
        self.checkpoint_states
            .get(&checkpoint)
            .ok_or_else(|| "checkpoint state vanished".to_string())
    }

    /// Supplies the justified checkpoint state's balances whenever the store asks for them.
    fn sync_balances(&mut self) -> Result<(), CaseError> {
        if let Some(cp) = self.fc.needs_justified_balances() {
            let state = self.checkpoint_state(cp).map_err(mismatch)?;
            let balances = justified_balances::<P, S>(cp, state);
            self.fc
                .set_justified_balances(balances)
                .map_err(|e| mismatch(e.to_string()))?;
        }
        Ok(())
    }

    fn kzg(&mut self) -> Kzg {
        *self.kzg.get_or_insert_with(Kzg::mainnet)
    }

    // ------------------------------------------------------------ blocks

    fn on_block(&mut self, stem: &str, step: &Step) -> StepResult {
        let signed: electra::SignedBeaconBlock<P> = read_ssz(self.case, stem)?;
        let block = &signed.message;
        let block_root = block.tree_hash_root();
        if format!("block_{block_root}") != *stem {
            return Err(mismatch(format!("{stem} holds block {block_root}")));
        }
        let summary = summary(block, block_root);
        match self.fc.validate_on_block(&summary) {
            Ok(BlockOutcome::AlreadyKnown) => return Ok(Ok(())),
            Ok(BlockOutcome::New { .. }) => {}
            Err(e) => return Ok(Err(e.to_string())),
        }
        let available = if FULU {
            self.columns_available(step.columns.as_deref())?
        } else {
            self.blobs_available(
                &block.body.blob_kzg_commitments,
                step.blobs.as_deref(),
                step.proofs.as_deref(),
            )?
        };
        if let Err(e) = available {
            return Ok(Err(format!("data not available: {e}")));
        }

        let mut state = self
            .block_states
            .get(&block.parent_root)
            .ok_or_else(|| mismatch("parent accepted by fork choice has no state"))?
            .clone();
        let mut rng = rand::rng();
        if let Err(e) = state_transition(
            &mut state,
            &signed,
            self.config,
            &mut self.caches,
            &mut self.pubkeys,
            &StaticExecutionEngine(true),
            SignatureStrategy::Batch(&mut rng),
        ) {
            return Ok(Err(format!("state transition: {e}")));
        }
        // compute_pulled_up_tip
        let mut pulled_up = state.clone();
        process_justification_and_finalization(&mut pulled_up, self.config)
            .map_err(|e| mismatch(format!("pulled-up tip: {e}")))?;
        let facts = BlockFacts {
            justified_checkpoint: state.current_justified_checkpoint(),
            finalized_checkpoint: state.finalized_checkpoint(),
            unrealized_justified_checkpoint: pulled_up.current_justified_checkpoint(),
            unrealized_finalized_checkpoint: pulled_up.finalized_checkpoint(),
            execution_status: ExecutionStatus::Valid,
            data_available: true,
            seen_at_ms: None,
        };
        if let Err(e) = self.fc.on_block(&summary, &facts) {
            return Ok(Err(e.to_string()));
        }
        self.block_states.insert(block_root, state);
        self.sync_balances()?;

        // An on_block step implies receiving the block's attestations and attester slashings.
        for (i, attestation) in block.body.attestations.iter().enumerate() {
            if let Err(e) = self.on_attestation(attestation, true)? {
                return Err(mismatch(format!("block attestation {i} refused: {e}")));
            }
        }
        for (i, slashing) in block.body.attester_slashings.iter().enumerate() {
            if let Err(e) = self.on_attester_slashing(slashing)? {
                return Err(mismatch(format!(
                    "block attester slashing {i} refused: {e}"
                )));
            }
        }
        Ok(Ok(()))
    }

    /// Deneb's `is_data_available(root, blob_kzg_commitments)` with `retrieve_blobs_and_proofs`
    /// answering the step's blobs and proofs (empty lists when absent).
    fn blobs_available(
        &mut self,
        commitments: &deneb::BlobKzgCommitments<P>,
        blobs: Option<&str>,
        proofs: Option<&[String]>,
    ) -> StepResult {
        let blobs: Vec<deneb::Blob<P>> = match blobs {
            Some(stem) => {
                let list: VariableList<deneb::Blob<P>, P::MaxBlobCommitmentsPerBlock> =
                    read_ssz(self.case, stem)?;
                if format!("blobs_{}", list.tree_hash_root()) != stem {
                    return Err(mismatch(format!("{stem} does not hold its blobs")));
                }
                list.to_vec()
            }
            None => Vec::new(),
        };
        let proofs = proofs
            .unwrap_or_default()
            .iter()
            .map(|p| parse_hex(p))
            .collect::<Result<Vec<_>, _>>()?;
        let commitments: Vec<&[u8]> = commitments.iter().map(|c| &c.0[..]).collect();
        Ok(
            match self
                .kzg()
                .verify_blob_kzg_proof_batch(&blobs, &commitments, &proofs)
            {
                Ok(true) => Ok(()),
                Ok(false) => Err("verify_blob_kzg_proof_batch is false".into()),
                Err(e) => Err(format!("verify_blob_kzg_proof_batch: {e}")),
            },
        )
    }

    /// Fulu's `is_data_available(root)` with `retrieve_column_sidecars` answering the step's
    /// columns: none given is an empty list (available), an empty list raises (not sampled).
    fn columns_available(&mut self, columns: Option<&[String]>) -> StepResult {
        let Some(columns) = columns else {
            return Ok(Ok(()));
        };
        if columns.is_empty() {
            return Ok(Err("not all required columns have been sampled".into()));
        }
        for stem in columns {
            let sidecar: fulu::DataColumnSidecar<P> = read_ssz(self.case, stem)?;
            if format!("column_{}", sidecar.tree_hash_root()) != *stem {
                return Err(mismatch(format!("{stem} does not hold its sidecar")));
            }
            if let Err(e) = self.verify_data_column_sidecar(&sidecar) {
                return Ok(Err(format!("{stem}: {e}")));
            }
        }
        Ok(Ok(()))
    }

    /// `verify_data_column_sidecar` and `verify_data_column_sidecar_kzg_proofs`.
    fn verify_data_column_sidecar(
        &mut self,
        sidecar: &fulu::DataColumnSidecar<P>,
    ) -> Result<(), String> {
        if sidecar.index >= P::number_of_columns() {
            return Err(format!("column index {} out of range", sidecar.index));
        }
        let n = sidecar.kzg_commitments.len();
        if n == 0 {
            return Err("a sidecar for zero blobs".into());
        }
        let epoch = compute_epoch_at_slot::<P>(sidecar.signed_block_header.message.slot);
        let max = self.config.get_blob_parameters(epoch).max_blobs_per_block;
        if n as u64 > max {
            return Err(format!("{n} commitments exceed the blob limit {max}"));
        }
        if sidecar.column.len() != n || sidecar.kzg_proofs.len() != n {
            return Err(format!(
                "{} cells, {n} commitments, {} proofs",
                sidecar.column.len(),
                sidecar.kzg_proofs.len()
            ));
        }
        let commitments: Vec<&[u8]> = sidecar.kzg_commitments.iter().map(|c| &c.0[..]).collect();
        let proofs: Vec<&[u8]> = sidecar.kzg_proofs.iter().map(|p| &p.0[..]).collect();
        let cell_indices = vec![sidecar.index; n];
        match self.kzg().verify_cell_kzg_proof_batch(
            &commitments,
            &cell_indices,
            &sidecar.column[..],
            &proofs,
        ) {
            Ok(true) => Ok(()),
            Ok(false) => Err("verify_cell_kzg_proof_batch is false".into()),
            Err(e) => Err(format!("verify_cell_kzg_proof_batch: {e}")),
        }
    }

    // ------------------------------------------------------------ attestations, slashings

    fn on_attestation_file(&mut self, stem: &str) -> StepResult {
        let attestation: electra::Attestation<P> = read_ssz(self.case, stem)?;
        if format!("attestation_{}", attestation.tree_hash_root()) != stem {
            return Err(mismatch(format!("{stem} does not hold its attestation")));
        }
        self.on_attestation(&attestation, false)
    }

    /// `on_attestation(store, attestation, is_from_block)`.
    fn on_attestation(
        &mut self,
        attestation: &electra::Attestation<P>,
        is_from_block: bool,
    ) -> StepResult {
        let data = &attestation.data;
        if let Err(e) = self.fc.validate_on_attestation(data, is_from_block) {
            return Ok(Err(e.to_string()));
        }
        if let Err(e) = self.checkpoint_state(data.target) {
            return Ok(Err(e));
        }
        let Some(target_state) = self.checkpoint_states.get(&data.target) else {
            return Err(mismatch("target checkpoint state vanished"));
        };
        self.pubkeys.update(target_state);
        let mut ctx = BlockContext::new(
            self.config,
            &mut self.caches,
            &self.pubkeys,
            SignatureMode::Verify,
        );
        let indexed = match get_indexed_attestation(target_state, &mut ctx, attestation) {
            Ok(indexed) => indexed,
            Err(e) => return Ok(Err(format!("get_indexed_attestation: {e}"))),
        };
        if let Err(e) = is_valid_indexed_attestation(
            target_state,
            &mut ctx,
            SignatureOrigin::Attestation { index: 0 },
            &indexed,
        ) {
            return Ok(Err(format!("is_valid_indexed_attestation: {e}")));
        }
        Ok(self
            .fc
            .apply_attestation(data, &indexed.attesting_indices)
            .map(|_| ())
            .map_err(|e| e.to_string()))
    }

    fn on_attester_slashing_file(&mut self, stem: &str) -> StepResult {
        let slashing: electra::AttesterSlashing<P> = read_ssz(self.case, stem)?;
        if format!("attester_slashing_{}", slashing.tree_hash_root()) != stem {
            return Err(mismatch(format!(
                "{stem} does not hold its attester slashing"
            )));
        }
        self.on_attester_slashing(&slashing)
    }

    /// `on_attester_slashing(store, attester_slashing)`.
    fn on_attester_slashing(&mut self, slashing: &electra::AttesterSlashing<P>) -> StepResult {
        let (a1, a2) = (&slashing.attestation_1, &slashing.attestation_2);
        if !is_slashable_attestation_data(&a1.data, &a2.data) {
            return Ok(Err("attestation data is not slashable".into()));
        }
        let justified_root = self.fc.justified_checkpoint().root;
        let Some(state) = self.block_states.get(&justified_root) else {
            return Err(mismatch("no state for the justified block"));
        };
        self.pubkeys.update(state);
        let mut ctx = BlockContext::new(
            self.config,
            &mut self.caches,
            &self.pubkeys,
            SignatureMode::Verify,
        );
        for (which, attestation) in [(1u8, a1), (2, a2)] {
            if let Err(e) = is_valid_indexed_attestation(
                state,
                &mut ctx,
                SignatureOrigin::AttesterSlashing {
                    index: 0,
                    attestation: which,
                },
                attestation,
            ) {
                return Ok(Err(format!("attestation {which}: {e}")));
            }
        }
        self.fc
            .on_attester_slashing(&a1.attesting_indices, &a2.attesting_indices);
        Ok(Ok(()))
    }

    // ------------------------------------------------------------ checks

    fn checks(&mut self, checks: &Checks) -> Result<(), CaseError> {
        let Checks {
            head,
            time,
            genesis_time,
            justified_checkpoint,
            finalized_checkpoint,
            proposer_boost_root,
            get_proposer_head,
            should_override_forkchoice_update,
            viable_for_head_roots_and_weights,
        } = checks;
        let fc_err = |what: &str, e: keel_fork_choice::Error| mismatch(format!("{what}: {e}"));
        if let Some(expected) = head {
            let got = self.fc.get_head().map_err(|e| fc_err("get_head", e))?;
            let slot = self
                .fc
                .block(&got)
                .ok_or_else(|| mismatch("head is not a known block"))?
                .slot;
            crate::ensure_eq!(
                (slot, got),
                (expected.slot, root(&expected.root)?),
                "head (slot, root)"
            );
            // LMD-GHOST ends at a leaf of the filtered block tree (or at the justified block if
            // that tree is empty): the head must be among `viable_for_head_roots_and_weights`.
            let leaves = self
                .fc
                .viable_for_head_roots_and_weights()
                .map_err(|e| fc_err("viable_for_head_roots_and_weights", e))?;
            crate::ensure!(
                leaves.iter().any(|(r, _)| *r == got),
                "head {got} is not among the viable leaves {leaves:?}"
            );
            // The proto-array's weights against the spec's `get_weight`, computed naively.
            for (leaf, weight) in &leaves {
                let naive = self.naive_weight(leaf)?;
                crate::ensure_eq!(*weight, naive, format!("get_weight({leaf})"));
            }
        }
        if let Some(expected) = time {
            crate::ensure_eq!(self.fc.time(), *expected, "time");
        }
        if let Some(expected) = genesis_time {
            crate::ensure_eq!(self.fc.genesis_time(), *expected, "genesis_time");
        }
        if let Some(expected) = justified_checkpoint {
            crate::ensure_eq!(
                self.fc.justified_checkpoint(),
                checkpoint(expected)?,
                "justified_checkpoint"
            );
        }
        if let Some(expected) = finalized_checkpoint {
            crate::ensure_eq!(
                self.fc.finalized_checkpoint(),
                checkpoint(expected)?,
                "finalized_checkpoint"
            );
        }
        if let Some(expected) = proposer_boost_root {
            crate::ensure_eq!(
                self.fc.proposer_boost_root(),
                root(expected)?,
                "proposer_boost_root"
            );
        }
        if let Some(expected) = get_proposer_head {
            let head = self.fc.get_head().map_err(|e| fc_err("get_head", e))?;
            let weight = self.equivocating_committee_weight(&head)?;
            let slot = self.fc.current_slot();
            let got = self
                .fc
                .get_proposer_head(&head, slot, weight)
                .map_err(|e| fc_err("get_proposer_head", e))?;
            crate::ensure_eq!(got, root(expected)?, "get_proposer_head");
        }
        if let Some(expected) = should_override_forkchoice_update {
            let head = self.fc.get_head().map_err(|e| fc_err("get_head", e))?;
            let weight = self.equivocating_committee_weight(&head)?;
            let got = self
                .fc
                .should_override_forkchoice_update(&head, expected.validator_is_connected, weight)
                .map_err(|e| fc_err("should_override_forkchoice_update", e))?;
            crate::ensure_eq!(got, expected.result, "should_override_forkchoice_update");
        }
        if let Some(expected) = viable_for_head_roots_and_weights {
            let got = self
                .fc
                .viable_for_head_roots_and_weights()
                .map_err(|e| fc_err("viable_for_head_roots_and_weights", e))?;
            let mut want = expected
                .iter()
                .map(|rw| Ok((root(&rw.root)?, rw.weight)))
                .collect::<Result<Vec<_>, CaseError>>()?;
            want.sort();
            crate::ensure_eq!(got, want, "viable_for_head_roots_and_weights");
        }
        Ok(())
    }

    /// The spec's `get_weight(store, root)` by its definition: the justified balances of the
    /// non-equivocating validators whose latest message's block descends from `root`, plus the
    /// proposer score if the boosted block does.
    fn naive_weight(&self, root: &Hash256) -> Result<Gwei, CaseError> {
        let balances = self.fc.justified_balances().balances.clone();
        let mut weight: Gwei = 0;
        for (i, balance) in (0u64..).zip(balances) {
            if self.fc.is_equivocating(i) {
                continue;
            }
            let Some(message_root) = self.fc.latest_message(i).and_then(|m| m.root) else {
                continue;
            };
            if self.descends_from(message_root, root) {
                weight = weight.saturating_add(balance);
            }
        }
        let boost = self.fc.proposer_boost_root();
        if boost != Hash256::ZERO && self.descends_from(boost, root) {
            let score = self
                .fc
                .proposer_score()
                .map_err(|e| mismatch(format!("proposer score: {e}")))?;
            weight = weight.saturating_add(score);
        }
        Ok(weight)
    }

    /// Whether `root` is `ancestor` or one of its descendants, walking parent links.
    fn descends_from(&self, mut root: Hash256, ancestor: &Hash256) -> bool {
        loop {
            if root == *ancestor {
                return true;
            }
            match self.fc.block(&root) {
                Some(node) if node.parent.is_some() => root = node.parent_root,
                _ => return false,
            }
        }
    }

    /// `is_head_weak`'s equivocation term: the justified checkpoint state's effective balance of
    /// the equivocating validators in the committees of the head block's slot (from the head
    /// block's state).
    fn equivocating_committee_weight(&mut self, head: &Hash256) -> Result<Gwei, CaseError> {
        let head_state = self
            .block_states
            .get(head)
            .ok_or_else(|| mismatch("no state for the head"))?
            .clone();
        let slot = self
            .fc
            .block(head)
            .ok_or_else(|| mismatch("head is not a known block"))?
            .slot;
        let committees = self
            .caches
            .committee_cache(&head_state, compute_epoch_at_slot::<P>(slot))
            .map_err(|e| mismatch(format!("head committees: {e}")))?;
        let mut members = Vec::new();
        for index in 0..committees.committees_per_slot() {
            let committee = committees
                .get_beacon_committee(slot, index)
                .map_err(|e| mismatch(format!("head committee {index}: {e}")))?;
            members.extend_from_slice(committee);
        }
        let justified = self.fc.justified_checkpoint();
        self.checkpoint_state(justified).map_err(mismatch)?;
        let validators = self
            .checkpoint_states
            .get(&justified)
            .ok_or_else(|| mismatch("justified checkpoint state vanished"))?
            .validators();
        Ok(self.fc.equivocating_committee_weight(members, |i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| validators.get(i))
                .map_or(0, |v| v.effective_balance)
        }))
    }
}

/// The [`BlockSummary`] of a block.
fn summary<P: Preset>(block: &electra::BeaconBlock<P>, root: Hash256) -> BlockSummary {
    BlockSummary {
        root,
        slot: block.slot,
        parent_root: block.parent_root,
        proposer_index: block.proposer_index,
        execution_block_hash: Some(block.body.execution_payload.block_hash),
    }
}

/// The balances `get_weight` reads from a checkpoint state: effective balances of the validators
/// active in its current epoch and not slashed, and `get_total_active_balance`.
fn justified_balances<P: Preset, S: BlockState<P>>(
    checkpoint: Checkpoint,
    state: &S,
) -> JustifiedBalances {
    let epoch = get_current_epoch(state);
    JustifiedBalances::from_validators(
        checkpoint,
        state.validators().iter().map(|v| {
            (
                v.effective_balance,
                is_active_validator(v, epoch),
                v.slashed,
            )
        }),
        P::EFFECTIVE_BALANCE_INCREMENT,
    )
}
