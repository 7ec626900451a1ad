//! The chain as the single writer keeps it: fork choice, the post-states of the blocks it holds,
//! the operation pool, and the store changes of the batch in progress.
//!
//! Everything here runs on the core thread. Methods take their inputs (blocks with their engine
//! verdicts, attestations, ticks) and change only this struct; [`Chain::commit`] writes the
//! batch's changes in one LMDB transaction and [`Chain::snapshot`] describes the result. Same
//! inputs, same store contents and snapshots.

use crate::error::CoreError;
use crate::op_pool::OperationPool;
use keel_config::ChainConfig;
use keel_fork_choice::{
    Anchor, BlockFacts, BlockOutcome, BlockSummary, ExecutionStatus, ForkChoice, ForkChoiceConfig,
    JustifiedBalances, Persisted,
};
use keel_pipeline_api::{
    ChainEvent, ForkChoiceNode, ForkChoiceView, Head, PayloadStatus, Snapshot, StateEntry,
};
use keel_state_transition::accessors::{compute_epoch_at_slot, get_current_epoch};
use keel_state_transition::block::{BlockError, SignatureStrategy};
use keel_state_transition::block::{StaticExecutionEngine, state_transition};
use keel_state_transition::epoch::process_justification_and_finalization;
use keel_state_transition::predicates::is_active_validator;
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::slot::process_slots;
use keel_state_transition::{Caches, PostElectraFields};
use keel_store::Store;
use keel_types::electra::{BeaconBlock, SignedBeaconBlock};
use keel_types::phase0::Checkpoint;
use keel_types::tree_hash::TreeHash;
use keel_types::{BeaconState, Hash256, Preset, Slot, fulu};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type State<P> = fulu::BeaconState<P>;

/// Meta-table keys.
pub mod meta {
    /// The last full fork-choice record (`ForkChoice::persist`).
    pub const FORK_CHOICE: &str = "fork_choice";
    /// How many fork-choice deltas follow the full record (u32, little-endian); delta `i` is
    /// under [`fork_choice_delta`]`(i)`.
    pub const FORK_CHOICE_DELTAS: &str = "fork_choice_deltas";

    /// The key of fork-choice delta `i`.
    pub fn fork_choice_delta(i: u32) -> String {
        format!("fork_choice_delta_{i:08}")
    }
    /// Genesis block root (32 bytes): present once the chain was initialised.
    pub const GENESIS_BLOCK_ROOT: &str = "genesis_block_root";
    /// Head block root (32 bytes) as of the last commit.
    pub const HEAD: &str = "head";
    /// The anchor's block root and the root of the state it was given with (64 bytes); the
    /// state may be later than the block (a checkpoint state after empty slots).
    pub const ANCHOR: &str = "anchor";
    /// The oldest block backfill has stored: slot, root and parent root (72 bytes).
    pub const BACKFILL: &str = "backfill";
}

#[path = "backfill.rs"]
pub mod backfill;

#[path = "availability.rs"]
pub(crate) mod availability;

/// A block change the next commit writes.
pub(crate) enum Write<P: Preset> {
    Block(Hash256, Arc<SignedBeaconBlock<P>>),
    /// A verified data column sidecar: block root, column index.
    DataColumn(Hash256, u64, Arc<fulu::DataColumnSidecar<P>>),
    State(Hash256, Arc<State<P>>),
    DeleteBlock(Hash256),
    DeleteState(Hash256),
}

/// What importing a block did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported {
        root: Hash256,
    },
    AlreadyKnown,
    /// Parked until the node holds its custody columns (see `availability`).
    AwaitingData,
}

/// The post-state of a block the chain holds, with what the store knows of it.
#[derive(Debug, Clone)]
struct HotBlock<P: Preset> {
    parent_root: Hash256,
    slot: Slot,
    state_root: Hash256,
    state: Arc<State<P>>,
}

pub struct Chain<P: Preset> {
    config: Arc<ChainConfig>,
    store: Arc<Store<P>>,
    fork_choice: ForkChoice,
    /// Fork-choice deltas stored after the last full record.
    fork_choice_deltas: u32,
    /// Post-states of every block fork choice holds, by block root.
    hot: HashMap<Hash256, HotBlock<P>>,
    availability: availability::DataAvailability<P>,
    /// `store.checkpoint_states`, for the justified balances.
    checkpoint_states: BTreeMap<(u64, Hash256), Arc<State<P>>>,
    caches: Caches,
    /// The core's validator keys. `shared_pubkeys` is a clone of it handed to the verify stage:
    /// clones share storage, so keys the verify stage decompresses for gossip are already
    /// decompressed when the core imports a block, and a refresh costs one `Arc` per chunk.
    pubkeys: PubkeyCache,
    shared_pubkeys: Arc<PubkeyCache>,
    op_pool: Arc<OperationPool>,
    genesis_time: u64,
    genesis_validators_root: Hash256,
    genesis_block_root: Hash256,
    head: Head,
    /// The canonical chain as last written to `block_roots_by_slot`: slot → root, from the
    /// finalized block up.
    canonical: BTreeMap<Slot, Hash256>,
    sequence: u64,
    writes: Vec<Write<P>>,
    /// Attestations for the current slot: fork choice counts them from the next slot on.
    delayed_votes: Vec<(keel_types::electra::AttestationData, Vec<u64>)>,
    events: Vec<ChainEvent>,
    el_online: bool,
    /// `(anchor block root, anchor state root)`.
    anchor: Option<(Hash256, Hash256)>,
}

/// Where a new chain starts: a state and the block it belongs to (its latest block header).
pub struct ChainAnchor<P: Preset> {
    pub state: State<P>,
    pub block: SignedBeaconBlock<P>,
}

impl<P: Preset> ChainAnchor<P> {
    /// Genesis: the state and the genesis block made from its header.
    pub fn genesis(state: State<P>) -> Self {
        let block = genesis_block(&state);
        ChainAnchor { state, block }
    }
}

/// The genesis block of a state whose `latest_block_header` is the genesis header.
pub fn genesis_block<P: Preset>(state: &State<P>) -> SignedBeaconBlock<P> {
    SignedBeaconBlock {
        message: BeaconBlock {
            slot: state.slot,
            proposer_index: 0,
            parent_root: Hash256::ZERO,
            state_root: state.tree_hash_root(),
            body: Default::default(),
        },
        signature: Default::default(),
    }
}

fn justified_balances<P: Preset>(checkpoint: Checkpoint, state: &State<P>) -> JustifiedBalances {
    let epoch = get_current_epoch(state);
    JustifiedBalances::from_validators(
        checkpoint,
        state.validators.iter().map(|v| {
            (
                v.effective_balance,
                is_active_validator(v, epoch),
                v.slashed,
            )
        }),
        P::EFFECTIVE_BALANCE_INCREMENT,
    )
}

fn summary<P: Preset>(block: &BeaconBlock<P>, root: Hash256) -> BlockSummary {
    BlockSummary {
        root,
        slot: block.slot,
        parent_root: block.parent_root,
        proposer_index: block.proposer_index,
        execution_block_hash: Some(block.body.execution_payload.block_hash),
    }
}

fn execution_status(status: PayloadStatus) -> Result<ExecutionStatus, CoreError> {
    match status {
        PayloadStatus::Valid => Ok(ExecutionStatus::Valid),
        PayloadStatus::Optimistic => Ok(ExecutionStatus::Optimistic),
        PayloadStatus::Invalid { .. } => Err(CoreError::InvalidPayload),
    }
}

impl<P: Preset> Chain<P> {
    /// Opens the chain in `store`: resumes from its last commit if it has one, else starts at
    /// the anchor `anchor` returns (called only then: genesis, or a checkpoint state and block)
    /// and commits it.
    pub fn open(
        config: Arc<ChainConfig>,
        store: Arc<Store<P>>,
        anchor: impl FnOnce() -> Result<ChainAnchor<P>, CoreError>,
    ) -> Result<Self, CoreError> {
        let fork_choice_bytes = store.read()?.meta(meta::FORK_CHOICE)?;
        let mut chain = match fork_choice_bytes {
            Some(bytes) => Self::resume(config, store, &bytes)?,
            None => Self::from_anchor(config, store, anchor()?)?,
        };
        // A node that starts mid-epoch would otherwise shuffle on its first block's import.
        chain.prime_committees();
        Ok(chain)
    }

    fn from_anchor(
        config: Arc<ChainConfig>,
        store: Arc<Store<P>>,
        anchor: ChainAnchor<P>,
    ) -> Result<Self, CoreError> {
        let ChainAnchor { mut state, block } = anchor;
        state.apply_pending_updates()?;
        let state_root = state.tree_hash_root();
        // The state is the block's post-state, possibly advanced through empty slots.
        let mut header = state.latest_block_header;
        if header.state_root == Hash256::ZERO {
            header.state_root = state_root;
        }
        let root = block.message.tree_hash_root();
        if header.tree_hash_root() != root {
            return Err(CoreError::Anchor(format!(
                "block {root} is not the state's latest block {}",
                header.tree_hash_root()
            )));
        }
        let block = Arc::new(block);
        let checkpoint = Checkpoint {
            epoch: compute_epoch_at_slot::<P>(state.slot),
            root,
        };
        let anchor = Anchor {
            block: summary(&block.message, root),
            state_slot: state.slot,
            genesis_time: state.genesis_time,
            state_justified_checkpoint: state.current_justified_checkpoint,
            state_finalized_checkpoint: state.finalized_checkpoint,
            execution_status: ExecutionStatus::Valid,
            justified_balances: justified_balances(checkpoint, &state),
        };
        let fork_choice = ForkChoice::new(ForkChoiceConfig::new::<P>(&config), anchor)?;
        let state = Arc::new(state);
        let genesis_root = if block.message.slot == 0 {
            root
        } else {
            Hash256::ZERO
        };
        let mut chain = Self::assemble(config, store, fork_choice, genesis_root, &state);
        chain.insert_hot(root, &block, state_root, Arc::clone(&state));
        chain.canonical.insert(block.message.slot, root);
        chain.writes.push(Write::Block(root, block));
        chain.writes.push(Write::State(state_root, state));
        chain.anchor = Some((root, state_root));
        chain.update_head()?;
        chain.commit()?;
        Ok(chain)
    }

    fn assemble(
        config: Arc<ChainConfig>,
        store: Arc<Store<P>>,
        fork_choice: ForkChoice,
        genesis_block_root: Hash256,
        state: &State<P>,
    ) -> Self {
        let pubkeys = PubkeyCache::from_state(state);
        Chain {
            head: Head {
                block_root: genesis_block_root,
                slot: 0,
                state_root: Hash256::ZERO,
                optimistic: false,
            },
            config,
            store,
            fork_choice,
            hot: HashMap::new(),
            availability: availability::DataAvailability::default(),
            checkpoint_states: BTreeMap::new(),
            caches: Caches::new(),
            pubkeys: pubkeys.clone(),
            shared_pubkeys: Arc::new(pubkeys),
            op_pool: Arc::new(OperationPool::new()),
            genesis_time: state.genesis_time,
            genesis_validators_root: state.genesis_validators_root,
            genesis_block_root,
            canonical: BTreeMap::new(),
            fork_choice_deltas: 0,
            sequence: 0,
            writes: Vec::new(),
            delayed_votes: Vec::new(),
            events: Vec::new(),
            el_online: true,
            anchor: None,
        }
    }

    /// Rebuilds the chain from the store: fork choice from its bytes, the states of its blocks
    /// by replaying their blocks onto the nearest stored ancestor state.
    fn resume(
        config: Arc<ChainConfig>,
        store: Arc<Store<P>>,
        fork_choice_bytes: &[u8],
    ) -> Result<Self, CoreError> {
        let genesis_block_root = {
            let read = store.read()?;
            let bytes = read
                .meta(meta::GENESIS_BLOCK_ROOT)?
                .ok_or_else(|| CoreError::Corrupt("fork choice without genesis root".into()))?;
            Hash256::try_from(bytes.as_slice())
                .map_err(|_| CoreError::Corrupt("genesis root is not 32 bytes".into()))?
        };
        let deltas = {
            let read = store.read()?;
            let count = read
                .meta(meta::FORK_CHOICE_DELTAS)?
                .map(|b| {
                    <[u8; 4]>::try_from(b.as_slice())
                        .map(u32::from_le_bytes)
                        .map_err(|_| CoreError::Corrupt("fork-choice delta count".into()))
                })
                .transpose()?
                .unwrap_or(0);
            (0..count)
                .map(|i| {
                    read.meta(&meta::fork_choice_delta(i))?.ok_or_else(|| {
                        CoreError::Corrupt(format!("fork-choice delta {i} is missing"))
                    })
                })
                .collect::<Result<Vec<_>, CoreError>>()?
        };
        let fork_choice_deltas = u32::try_from(deltas.len()).unwrap_or(u32::MAX);
        let fork_choice = ForkChoice::from_bytes_and_deltas(
            ForkChoiceConfig::new::<P>(&config),
            fork_choice_bytes,
            &deltas,
        )?;
        let roots: Vec<Hash256> = fork_choice
            .proto_array()
            .nodes()
            .iter()
            .map(|n| n.root)
            .collect();
        let first = *roots
            .first()
            .ok_or_else(|| CoreError::Corrupt("empty fork choice".into()))?;
        let (first_state, _) = load_state(&store, &config, first)?;
        let mut chain =
            Self::assemble(config, store, fork_choice, genesis_block_root, &first_state);
        chain.fork_choice_deltas = fork_choice_deltas;
        chain.anchor = chain.store.read()?.meta(meta::ANCHOR)?.and_then(|record| {
            let block = Hash256::try_from(record.get(..32)?).ok()?;
            let state = Hash256::try_from(record.get(32..64)?).ok()?;
            Some((block, state))
        });
        // Nodes are stored parent before child, so each replay starts from a hot parent.
        let mut first_state = Some(first_state);
        for root in roots {
            let block = chain.stored_block(&root)?;
            let (state, state_root) = match (
                chain.hot.get(&block.message.parent_root),
                first_state.take(),
            ) {
                (_, Some(state)) => {
                    // The oldest node: its state as loaded (maybe advanced past the block).
                    let state_root = state.tree_hash_root();
                    (state, state_root)
                }
                (Some(parent), None) => {
                    let mut state = (*parent.state).clone();
                    chain.replay(&mut state, &block)?;
                    (state, block.message.state_root)
                }
                (None, None) => (
                    load_state(&chain.store, &chain.config, root)?.0,
                    block.message.state_root,
                ),
            };
            chain.insert_hot(root, &block, state_root, Arc::new(state));
        }
        let read = chain.store.read()?;
        let finalized_slot = chain
            .fork_choice
            .finalized_checkpoint()
            .epoch
            .saturating_mul(P::slots_per_epoch());
        let head_root = read
            .meta(meta::HEAD)?
            .and_then(|b| Hash256::try_from(b.as_slice()).ok())
            .unwrap_or(first);
        if let Some(head) = chain.hot.get(&head_root) {
            for slot in finalized_slot..=head.slot {
                if let Some(root) = read.block_root_at_slot(slot)? {
                    chain.canonical.insert(slot, root);
                }
            }
        }
        drop(read);
        chain.supply_justified_balances()?;
        chain.update_head()?;
        chain.events.clear();
        Ok(chain)
    }

    fn stored_block(&self, root: &Hash256) -> Result<Arc<SignedBeaconBlock<P>>, CoreError> {
        match self.store.read()?.block(root)? {
            Some(keel_types::SignedBeaconBlock::Fulu(block)) => Ok(Arc::new(block)),
            Some(other) => Err(CoreError::UnsupportedFork(other.fork_name())),
            None => Err(CoreError::Corrupt(format!("block {root} missing"))),
        }
    }

    /// Applies a block known to be valid (it was imported before): no signatures, the
    /// engine's verdict taken as given.
    fn replay(
        &mut self,
        state: &mut State<P>,
        block: &SignedBeaconBlock<P>,
    ) -> Result<(), CoreError> {
        state_transition(
            state,
            block,
            &self.config,
            &mut self.caches,
            &mut self.pubkeys,
            &StaticExecutionEngine(true),
            SignatureStrategy::Skip,
        )
        .map_err(|e| CoreError::Replay(e.to_string()))
    }

    fn insert_hot(
        &mut self,
        root: Hash256,
        block: &SignedBeaconBlock<P>,
        state_root: Hash256,
        state: Arc<State<P>>,
    ) {
        self.hot.insert(
            root,
            HotBlock {
                parent_root: block.message.parent_root,
                slot: block.message.slot,
                state_root,
                state,
            },
        );
    }

    pub fn op_pool(&self) -> &Arc<OperationPool> {
        &self.op_pool
    }

    /// The validator keys, shared with the verify stage. The same `Arc` is returned until the
    /// core's cache changes (appended or rebuilt), so the verify stage's handle is swapped only
    /// then; comparing with the core's cache rather than lengths also catches a rebuild for
    /// another branch of the same length.
    pub fn pubkeys(&mut self) -> Arc<PubkeyCache> {
        if !self.shared_pubkeys.shares_entries_with(&self.pubkeys) {
            self.shared_pubkeys = Arc::new(self.pubkeys.clone());
        }
        Arc::clone(&self.shared_pubkeys)
    }

    pub fn genesis_time(&self) -> u64 {
        self.genesis_time
    }

    pub fn head(&self) -> Head {
        self.head
    }

    pub fn fork_choice(&self) -> &ForkChoice {
        &self.fork_choice
    }

    /// [`keel_store::ReadView::content_digest`] of the last commit.
    pub fn store_digest(&self) -> Result<Hash256, CoreError> {
        Ok(self.store.read()?.content_digest()?)
    }

    pub fn set_el_online(&mut self, online: bool) {
        self.el_online = online;
    }

    // ---------------------------------------------------------------- inputs

    /// `on_tick`, in Unix milliseconds.
    pub fn on_tick(&mut self, unix_ms: u64) -> Result<(), CoreError> {
        let epoch_before = self.fork_choice.current_epoch();
        let slot_before = self.fork_choice.current_slot();
        self.fork_choice.on_tick_ms(unix_ms)?;
        if self.fork_choice.current_slot() != slot_before {
            for (data, indices) in std::mem::take(&mut self.delayed_votes) {
                self.apply_vote(data, indices);
            }
        }
        // The tick may realise pulled-up checkpoints at an epoch boundary.
        self.supply_justified_balances()?;
        if self.fork_choice.current_epoch() != epoch_before {
            self.op_pool.prune::<P>(self.fork_choice.current_epoch());
        }
        if self.fork_choice.current_slot() != slot_before {
            self.availability.expire(self.fork_choice.current_slot());
            self.prime_committees();
        }
        self.update_head()
    }

    /// Imports a block whose gossip rules and proposer signature passed, with the engine's
    /// verdict on its payload: the state transition (every other signature checked in one
    /// batch), fork choice, and the block's attestations as votes.
    pub fn import_block(
        &mut self,
        block: Arc<SignedBeaconBlock<P>>,
        root: Hash256,
        payload: PayloadStatus,
        seen_at_ms: Option<u64>,
    ) -> Result<ImportOutcome, CoreError> {
        let summary = summary(&block.message, root);
        if let BlockOutcome::AlreadyKnown = self.fork_choice.validate_on_block(&summary)? {
            return Ok(ImportOutcome::AlreadyKnown);
        }
        let status = execution_status(payload)?;
        if !self.hot.contains_key(&block.message.parent_root) {
            return Err(CoreError::UnknownParent(block.message.parent_root));
        }
        if !self.is_data_available(&block, &root) {
            self.park(
                root,
                availability::Parked {
                    block,
                    payload,
                    seen_at_ms,
                },
            );
            return Ok(ImportOutcome::AwaitingData);
        }
        let parent = self
            .hot
            .get(&block.message.parent_root)
            .ok_or(CoreError::UnknownParent(block.message.parent_root))?;
        let parent_epoch = compute_epoch_at_slot::<P>(parent.slot);
        let mut state = (*parent.state).clone();
        let mut rng = rand::rng();
        state_transition(
            &mut state,
            &block,
            &self.config,
            &mut self.caches,
            &mut self.pubkeys,
            // The engine's verdict came with the block; INVALID never gets here.
            &StaticExecutionEngine(true),
            SignatureStrategy::Batch(&mut rng),
        )
        .map_err(|e: BlockError| CoreError::InvalidBlock(e.to_string()))?;
        let mut pulled_up = state.clone();
        process_justification_and_finalization(&mut pulled_up, &self.config)?;
        let facts = BlockFacts {
            justified_checkpoint: state.current_justified_checkpoint,
            finalized_checkpoint: state.finalized_checkpoint,
            unrealized_justified_checkpoint: pulled_up.current_justified_checkpoint,
            unrealized_finalized_checkpoint: pulled_up.finalized_checkpoint,
            execution_status: status,
            // Checked above: a block without its custody columns was parked.
            data_available: true,
            seen_at_ms,
        };
        let finalized_before = self.fork_choice.finalized_checkpoint();
        self.fork_choice.on_block(&summary, &facts)?;
        let state_root = block.message.state_root;
        let state = Arc::new(state);
        // States are stored at epoch boundaries: the first block of each epoch.
        if compute_epoch_at_slot::<P>(block.message.slot) > parent_epoch {
            self.writes
                .push(Write::State(state_root, Arc::clone(&state)));
        }
        self.writes.push(Write::Block(root, Arc::clone(&block)));
        self.insert_hot(root, &block, state_root, Arc::clone(&state));
        self.supply_justified_balances()?;

        for attestation in &block.message.body.attestations {
            self.op_pool.on_included(attestation);
            let Ok(indices) = attesting_indices(&state, &mut self.caches, attestation) else {
                continue;
            };
            // Votes from blocks that fork choice cannot use (old targets) are not errors.
            let _ = self
                .fork_choice
                .on_attestation(&attestation.data, &indices, true);
        }
        self.events.push(ChainEvent::Block {
            slot: block.message.slot,
            block: root,
            execution_optimistic: status == ExecutionStatus::Optimistic,
        });
        self.update_head()?;
        if self.fork_choice.finalized_checkpoint() != finalized_before {
            self.on_finalized()?;
        }
        Ok(ImportOutcome::Imported { root })
    }

    /// A verified attestation: a vote for fork choice and material for block production.
    pub fn on_attestation(
        &mut self,
        attestation: &keel_types::electra::Attestation<P>,
        attesting_indices: &[u64],
        committee_index: u64,
    ) -> Result<(), CoreError> {
        self.on_attestation_decoded(attestation, attesting_indices, committee_index, None)
    }

    /// [`Chain::on_attestation`] with the signature the verify stage decoded, if at hand.
    pub fn on_attestation_decoded(
        &mut self,
        attestation: &keel_types::electra::Attestation<P>,
        attesting_indices: &[u64],
        committee_index: u64,
        signature: Option<&keel_crypto::bls::Signature>,
    ) -> Result<(), CoreError> {
        self.fork_choice
            .validate_on_attestation(&attestation.data, false)
            .or_else(|e| match e.disposition() {
                // Counted from the next slot: held until the tick that gets there.
                Some(keel_fork_choice::Disposition::Delay) => Ok(()),
                _ => Err(e),
            })?;
        match signature {
            Some(signature) => self
                .op_pool
                .insert_decoded(attestation, committee_index, signature),
            None => self.op_pool.insert(attestation, committee_index),
        }
        self.apply_vote(attestation.data, attesting_indices.to_vec());
        Ok(())
    }

    fn apply_vote(&mut self, data: keel_types::electra::AttestationData, indices: Vec<u64>) {
        match self.fork_choice.on_attestation(&data, &indices, false) {
            Ok(_) => {}
            Err(e) if e.disposition() == Some(keel_fork_choice::Disposition::Delay) => {
                self.delayed_votes.push((data, indices));
            }
            // Checked valid on arrival; refused now only if fork choice moved on (pruned).
            Err(_) => {}
        }
    }

    /// A verified sync committee message: material for the next block's sync aggregate.
    pub fn on_sync_message(
        &mut self,
        message: &keel_types::altair::SyncCommitteeMessage,
        positions: &[usize],
    ) {
        self.op_pool.insert_sync_message::<P>(
            message.slot,
            message.beacon_block_root,
            positions,
            &message.signature,
        );
    }

    /// A verified sync committee contribution.
    pub fn on_contribution(
        &mut self,
        contribution: &keel_types::altair::SyncCommitteeContribution<P>,
    ) {
        self.op_pool.insert_contribution(contribution);
    }

    /// A later engine verdict on an optimistically imported block.
    pub fn on_payload_status(
        &mut self,
        block_root: Hash256,
        status: PayloadStatus,
    ) -> Result<(), CoreError> {
        match status {
            PayloadStatus::Valid => self.fork_choice.on_valid_execution_payload(&block_root)?,
            PayloadStatus::Invalid { latest_valid_hash } => self
                .fork_choice
                .on_invalid_execution_payload(&block_root, latest_valid_hash)?,
            PayloadStatus::Optimistic => {}
        }
        self.update_head()
    }

    // ---------------------------------------------------------------- derived

    /// Gives fork choice the justified checkpoint state's balances whenever it asks.
    fn supply_justified_balances(&mut self) -> Result<(), CoreError> {
        while let Some(checkpoint) = self.fork_choice.needs_justified_balances() {
            let state = self.checkpoint_state(checkpoint)?;
            self.fork_choice
                .set_justified_balances(justified_balances(checkpoint, &state))?;
        }
        Ok(())
    }

    /// `store_target_checkpoint_state`: the checkpoint block's state advanced to the epoch's
    /// first slot.
    fn checkpoint_state(&mut self, checkpoint: Checkpoint) -> Result<Arc<State<P>>, CoreError> {
        let key = (checkpoint.epoch, checkpoint.root);
        if let Some(state) = self.checkpoint_states.get(&key) {
            return Ok(Arc::clone(state));
        }
        let base = match self.hot.get(&checkpoint.root) {
            Some(hot) => Arc::clone(&hot.state),
            None => Arc::new(load_state(&self.store, &self.config, checkpoint.root)?.0),
        };
        let slot = checkpoint.epoch.saturating_mul(P::slots_per_epoch());
        let state = if base.slot < slot {
            let mut advanced = (*base).clone();
            process_slots(&mut advanced, &self.config, &mut self.caches, slot)?;
            Arc::new(advanced)
        } else {
            base
        };
        self.checkpoint_states.insert(key, Arc::clone(&state));
        Ok(state)
    }

    /// Re-runs `get_head`; on a change, records the new canonical chain and emits events.
    fn update_head(&mut self) -> Result<(), CoreError> {
        let head_root = self.fork_choice.get_head()?;
        let Some(node) = self.fork_choice.block(&head_root) else {
            return Err(CoreError::Corrupt(format!(
                "head {head_root} not in fork choice"
            )));
        };
        let optimistic = node.execution_status == ExecutionStatus::Optimistic;
        let hot = self
            .hot
            .get(&head_root)
            .ok_or_else(|| CoreError::Corrupt(format!("no state for head {head_root}")))?;
        let new_head = Head {
            block_root: head_root,
            slot: hot.slot,
            state_root: hot.state_root,
            optimistic,
        };
        if new_head.block_root == self.head.block_root && self.head.state_root != Hash256::ZERO {
            self.head = new_head;
            return Ok(());
        }
        let old = self.head;
        // The new canonical chain, back to where it meets the recorded one.
        let mut segment = Vec::new();
        let mut cursor = head_root;
        while let Some(block) = self.hot.get(&cursor) {
            if self.canonical.get(&block.slot) == Some(&cursor) {
                break;
            }
            segment.push((block.slot, cursor));
            cursor = block.parent_root;
        }
        let meets_at = self.hot.get(&cursor).map(|b| b.slot).unwrap_or_default();
        let reorged_out: Vec<Slot> = self
            .canonical
            .range(meets_at.saturating_add(1)..)
            .map(|(slot, _)| *slot)
            .collect();
        let depth = old.slot.saturating_sub(meets_at);
        for slot in &reorged_out {
            self.canonical.remove(slot);
        }
        for (slot, root) in segment {
            self.canonical.insert(slot, root);
        }
        self.head = new_head;
        if old.state_root != Hash256::ZERO {
            let is_reorg = !reorged_out.is_empty() && old.block_root != Hash256::ZERO;
            if is_reorg {
                self.events.push(ChainEvent::ChainReorg {
                    slot: new_head.slot,
                    depth,
                    old_head_block: old.block_root,
                    new_head_block: new_head.block_root,
                    old_head_state: old.state_root,
                    new_head_state: new_head.state_root,
                    epoch: compute_epoch_at_slot::<P>(new_head.slot),
                    execution_optimistic: optimistic,
                });
            }
            let (previous_duty_dependent_root, current_duty_dependent_root) =
                self.duty_dependent_roots(&new_head);
            self.events.push(ChainEvent::Head {
                slot: new_head.slot,
                block: new_head.block_root,
                state: new_head.state_root,
                epoch_transition: compute_epoch_at_slot::<P>(new_head.slot)
                    != compute_epoch_at_slot::<P>(old.slot),
                previous_duty_dependent_root,
                current_duty_dependent_root,
                execution_optimistic: optimistic,
            });
        }
        Ok(())
    }

    /// The block roots at the last slot before the previous and the current epoch of `head`
    /// (the Beacon API's duty-dependent roots), the genesis root where there is none.
    fn duty_dependent_roots(&self, head: &Head) -> (Hash256, Hash256) {
        let epoch = compute_epoch_at_slot::<P>(head.slot);
        let root_before = |epoch: u64| -> Hash256 {
            let start = epoch.saturating_mul(P::slots_per_epoch());
            if start == 0 {
                return self.genesis_block_root;
            }
            self.canonical
                .range(..start)
                .next_back()
                .map(|(_, r)| *r)
                .unwrap_or(self.genesis_block_root)
        };
        (root_before(epoch.saturating_sub(1)), root_before(epoch))
    }

    /// After finalization: prune fork choice, forget states and blocks of abandoned forks.
    fn on_finalized(&mut self) -> Result<(), CoreError> {
        let finalized = self.fork_choice.finalized_checkpoint();
        let finalized_state_root = self
            .hot
            .get(&finalized.root)
            .map(|b| b.state_root)
            .unwrap_or_default();
        self.events.push(ChainEvent::FinalizedCheckpoint {
            block: finalized.root,
            state: finalized_state_root,
            epoch: finalized.epoch,
            execution_optimistic: self.head.optimistic,
        });
        // The finalized block's post-state is stored so that a restart (and the API's
        // `finalized` state id) never has to replay from further back.
        if let Some(block) = self.hot.get(&finalized.root) {
            self.writes
                .push(Write::State(block.state_root, Arc::clone(&block.state)));
        }
        self.fork_choice.maybe_prune()?;
        let finalized_slot = self.hot.get(&finalized.root).map(|b| b.slot).unwrap_or(0);
        let abandoned: Vec<(Hash256, Hash256)> = self
            .hot
            .iter()
            .filter(|(root, block)| {
                !self.fork_choice.contains_block(root) && !self.is_canonical(root, block.slot)
            })
            .map(|(root, block)| (*root, block.state_root))
            .collect();
        for (root, state_root) in abandoned {
            self.hot.remove(&root);
            self.writes.push(Write::DeleteBlock(root));
            self.writes.push(Write::DeleteState(state_root));
        }
        // Canonical ancestors below the finalized block stay in the store; their states leave
        // memory.
        self.hot
            .retain(|root, block| block.slot >= finalized_slot || *root == finalized.root);
        self.hot
            .retain(|root, _| self.fork_choice.contains_block(root));
        self.checkpoint_states
            .retain(|(epoch, _), _| *epoch >= finalized.epoch);
        Ok(())
    }

    fn is_canonical(&self, root: &Hash256, slot: Slot) -> bool {
        self.canonical.get(&slot) == Some(root)
    }

    // ---------------------------------------------------------------- output

    /// Writes the batch's changes, fork choice and the head in one transaction.
    pub fn commit(&mut self) -> Result<(), CoreError> {
        let writes = std::mem::take(&mut self.writes);
        let fork_choice = self.fork_choice.persist();
        let deltas_before = self.fork_choice_deltas;
        let finalized_slot = self
            .fork_choice
            .finalized_checkpoint()
            .epoch
            .saturating_mul(P::slots_per_epoch());
        self.fork_choice_deltas = self.store.write(|batch| -> Result<u32, CoreError> {
            for write in &writes {
                match write {
                    Write::Block(root, block) => batch.put_block(
                        root,
                        &keel_types::SignedBeaconBlock::Fulu((**block).clone()),
                    )?,
                    Write::State(root, state) => {
                        batch.put_state(root, &BeaconState::Fulu((**state).clone()))?
                    }
                    Write::DeleteBlock(root) => {
                        batch.delete_block(root)?;
                    }
                    Write::DataColumn(root, index, sidecar) => {
                        batch.put_data_column(
                            root,
                            *index,
                            &keel_types::ssz::Encode::as_ssz_bytes(&**sidecar),
                        )?;
                    }
                    Write::DeleteState(root) => {
                        batch.delete_state(root)?;
                    }
                }
            }
            // block_roots_by_slot follows the canonical chain above finalization.
            let top = self.canonical.keys().next_back().copied().unwrap_or(0);
            for slot in finalized_slot..=top.max(self.head.slot) {
                match self.canonical.get(&slot) {
                    Some(root) => batch.put_block_root_at_slot(slot, root)?,
                    None => {
                        batch.delete_block_root_at_slot(slot)?;
                    }
                }
            }
            let deltas_after = match &fork_choice {
                Persisted::Full(bytes) => {
                    batch.put_meta(meta::FORK_CHOICE, bytes)?;
                    for i in 0..deltas_before {
                        batch.delete_meta(&meta::fork_choice_delta(i))?;
                    }
                    0
                }
                Persisted::Delta(bytes) => {
                    batch.put_meta(&meta::fork_choice_delta(deltas_before), bytes)?;
                    deltas_before.saturating_add(1)
                }
            };
            batch.put_meta(meta::FORK_CHOICE_DELTAS, &deltas_after.to_le_bytes())?;
            batch.put_meta(meta::HEAD, self.head.block_root.as_slice())?;
            batch.put_meta(meta::GENESIS_BLOCK_ROOT, self.genesis_block_root.as_slice())?;
            if let Some((block_root, state_root)) = self.anchor {
                let mut record = block_root.to_vec();
                record.extend_from_slice(state_root.as_slice());
                batch.put_meta(meta::ANCHOR, &record)?;
            }
            Ok(deltas_after)
        })?;
        Ok(())
    }

    /// Computes the head state's committees for its epoch and the next (which its state
    /// already fixes) on the clock, so that the first block of an epoch does not pay for the
    /// shuffling on its import path (hundreds of milliseconds at a million validators).
    fn prime_committees(&mut self) {
        let Some(head) = self.hot.get(&self.head.block_root) else {
            return;
        };
        let state = Arc::clone(&head.state);
        let epoch = get_current_epoch(state.as_ref());
        for epoch in [epoch, epoch.saturating_add(1)] {
            if let Err(e) = self.caches.committee_cache::<P, _>(state.as_ref(), epoch) {
                tracing::debug!(epoch, error = %e, "committees not primed");
            }
        }
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<ChainEvent> {
        std::mem::take(&mut self.events)
    }

    /// What readers see now.
    pub fn snapshot(&mut self) -> Snapshot<P> {
        self.sequence = self.sequence.saturating_add(1);
        let proto = self.fork_choice.proto_array();
        let nodes = proto
            .nodes()
            .iter()
            .map(|n| ForkChoiceNode {
                slot: n.slot,
                block_root: n.root,
                parent_root: n.parent.map(|_| n.parent_root),
                justified_epoch: n.justified_checkpoint.epoch,
                finalized_epoch: n.finalized_checkpoint.epoch,
                weight: n.weight,
                validity: match n.execution_status {
                    ExecutionStatus::Invalid => "invalid",
                    ExecutionStatus::Optimistic => "optimistic",
                    ExecutionStatus::Valid | ExecutionStatus::Irrelevant => "valid",
                },
                execution_block_hash: n.execution_block_hash.unwrap_or_default(),
            })
            .collect();
        let view = ForkChoiceView {
            justified: self.fork_choice.justified_checkpoint(),
            finalized: self.fork_choice.finalized_checkpoint(),
            unrealized_justified: self.fork_choice.unrealized_justified_checkpoint(),
            unrealized_finalized: self.fork_choice.unrealized_finalized_checkpoint(),
            nodes,
        };
        let mut states: Vec<StateEntry<P>> = self
            .hot
            .iter()
            .map(|(root, b)| StateEntry {
                block_root: *root,
                state_root: b.state_root,
                state: Arc::clone(&b.state),
            })
            .collect();
        // Deterministic order: by slot, then root.
        states.sort_by_key(|e| (e.state.slot, e.block_root));
        Snapshot {
            sequence: self.sequence,
            genesis_time: self.genesis_time,
            genesis_validators_root: self.genesis_validators_root,
            genesis_block_root: self.genesis_block_root,
            current_slot: self.fork_choice.current_slot(),
            head: self.head,
            justified: view.justified,
            finalized: view.finalized,
            states: Arc::new(states),
            fork_choice: Arc::new(view),
            el_online: self.el_online,
        }
    }
}

/// A block's post-state from the store: the nearest stored ancestor state, then the blocks
/// after it replayed (signatures skipped: they were verified on import).
fn load_state<P: Preset>(
    store: &Store<P>,
    config: &ChainConfig,
    root: Hash256,
) -> Result<(State<P>, Slot), CoreError> {
    let read = store.read()?;
    let anchor = read.meta(meta::ANCHOR)?.and_then(|record| {
        let block = Hash256::try_from(record.get(..32)?).ok()?;
        let state = Hash256::try_from(record.get(32..64)?).ok()?;
        Some((block, state))
    });
    let mut blocks = Vec::new();
    let mut cursor = root;
    let mut state = loop {
        let block = match read.block(&cursor)? {
            Some(keel_types::SignedBeaconBlock::Fulu(block)) => block,
            Some(other) => return Err(CoreError::UnsupportedFork(other.fork_name())),
            None => return Err(CoreError::Corrupt(format!("block {cursor} missing"))),
        };
        // The anchor's state may have been given after empty slots: stored under its own root.
        let state_root = match anchor {
            Some((anchor_block, anchor_state)) if anchor_block == cursor => anchor_state,
            _ => block.message.state_root,
        };
        match read.state(&state_root)? {
            Some(BeaconState::Fulu(state)) => break state,
            Some(other) => return Err(CoreError::UnsupportedFork(other.fork_name())),
            None => {
                cursor = block.message.parent_root;
                blocks.push(block);
            }
        }
    };
    drop(read);
    let mut caches = Caches::new();
    let mut pubkeys = PubkeyCache::from_state(&state);
    for block in blocks.iter().rev() {
        state_transition(
            &mut state,
            block,
            config,
            &mut caches,
            &mut pubkeys,
            &StaticExecutionEngine(true),
            SignatureStrategy::Skip,
        )
        .map_err(|e| CoreError::Replay(e.to_string()))?;
    }
    let slot = state.slot;
    Ok((state, slot))
}

/// `get_attesting_indices` on `state`.
fn attesting_indices<P: Preset>(
    state: &State<P>,
    caches: &mut Caches,
    attestation: &keel_types::electra::Attestation<P>,
) -> Result<Vec<u64>, CoreError> {
    let epoch = compute_epoch_at_slot::<P>(attestation.data.slot);
    let committees = caches.committee_cache(state, epoch)?;
    let mut indices = Vec::new();
    let mut offset = 0usize;
    for (committee_index, bit) in attestation.committee_bits.iter().enumerate() {
        if !bit {
            continue;
        }
        let committee =
            committees.get_beacon_committee(attestation.data.slot, committee_index as u64)?;
        for (i, validator) in committee.iter().enumerate() {
            if attestation
                .aggregation_bits
                .get(offset.saturating_add(i))
                .unwrap_or(false)
            {
                indices.push(*validator);
            }
        }
        offset = offset.saturating_add(committee.len());
    }
    indices.sort_unstable();
    indices.dedup();
    Ok(indices)
}
