//! The core thread: takes verified inputs from the priority queues, applies them to the
//! [`Chain`] in arrival order (class priority first), commits each batch in one LMDB write
//! transaction, then publishes a new snapshot. Nothing else writes.

use crate::chain::backfill::Frontier;
use crate::chain::{Chain, ImportOutcome};
use crate::error::CoreError;
use crate::op_pool::OperationPool;
use arc_swap::ArcSwap;
use crossbeam_channel::Sender;
use keel_pipeline_api::{PayloadStatus, SnapshotCell};
use keel_queue::{Class, QueueConfig, QueueReceiver, QueueSender, channel};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_types::electra::SignedBeaconBlock;
use keel_types::{Hash256, Preset};
use keel_verify::{VerifiedAttestation, VerifiedBlock, VerifiedContribution, VerifiedSyncMessage};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Metric names.
pub mod metric {
    pub const BATCHES: &str = "keel_core_batches_total";
    pub const BATCH_ITEMS: &str = "keel_core_batch_items";
    pub const COMMIT_SECONDS: &str = "keel_core_commit_seconds";
    pub const BLOCK_IMPORT_SECONDS: &str = "keel_core_block_import_seconds";
    pub const BLOCKS_IMPORTED: &str = "keel_core_blocks_imported_total";
    pub const BLOCKS_REFUSED: &str = "keel_core_blocks_refused_total";
    pub const ATTESTATIONS_APPLIED: &str = "keel_core_attestations_applied_total";
    pub const ATTESTATIONS_REFUSED: &str = "keel_core_attestations_refused_total";
    pub const RECEIPT_TO_IMPORT_SECONDS: &str = "keel_core_receipt_to_import_seconds";
}

/// What the core accepts: only verify-stage outputs, the engine's verdicts and the clock.
#[derive(Debug)]
pub enum CoreInput<P: Preset> {
    Block {
        block: VerifiedBlock<P>,
        payload: PayloadStatus,
        /// When the block arrived, in Unix milliseconds (for proposer boost and timeliness;
        /// given, not read, so that replays are identical).
        seen_at_ms: u64,
    },
    Attestation(VerifiedAttestation<P>),
    SyncMessage(VerifiedSyncMessage),
    Contribution(VerifiedContribution<P>),
    /// A later verdict on an optimistically imported block.
    PayloadStatus {
        block_root: Hash256,
        status: PayloadStatus,
    },
    /// The wall clock, in Unix milliseconds (the core never reads it itself, so a recorded
    /// input sequence replays identically).
    Tick {
        unix_ms: u64,
    },
    /// Whether the execution engine answers.
    ElOnline(bool),
    /// A block from range sync (req/resp, not gossip): no gossip rules apply, and the state
    /// transition verifies every signature in it, the proposer's included. The outcome goes
    /// back on `reply`.
    SyncedBlock {
        block: Arc<SignedBeaconBlock<P>>,
        root: Hash256,
        payload: PayloadStatus,
        reply: Sender<Result<ImportOutcome, CoreError>>,
    },
    /// History below the checkpoint anchor, oldest first (see [`Chain::backfill`]).
    Backfill {
        blocks: Vec<Arc<keel_types::SignedBeaconBlock<P>>>,
        reply: Sender<Result<Frontier, CoreError>>,
    },
    /// A data column sidecar that passed its gossip rules: stored, and counted towards its
    /// block's data availability.
    DataColumn(keel_verify::VerifiedDataColumnSidecar<P>),
    /// The columns this node custodies (set once its network identity is known).
    SetCustodyColumns(Vec<u64>),
}

impl<P: Preset> CoreInput<P> {
    pub fn class(&self) -> Class {
        match self {
            CoreInput::Block { .. }
            | CoreInput::PayloadStatus { .. }
            | CoreInput::Tick { .. }
            | CoreInput::ElOnline(_)
            | CoreInput::SyncedBlock { .. }
            | CoreInput::Backfill { .. }
            | CoreInput::DataColumn(_)
            | CoreInput::SetCustodyColumns(_) => Class::Block,
            CoreInput::SyncMessage(_) => Class::SyncMessage,
            CoreInput::Contribution(_) => Class::Aggregate,
            CoreInput::Attestation(a) => match a.origin() {
                keel_verify::AttestationOrigin::Aggregate => Class::Aggregate,
                keel_verify::AttestationOrigin::Single => Class::Attestation,
            },
        }
    }
}

/// At most this many inputs per transaction, so that snapshots stay fresh under load.
const MAX_BATCH: usize = 512;

/// The running core, as the rest of the node sees it.
pub struct CoreHandle<P: Preset> {
    pub sender: QueueSender<CoreInput<P>>,
    pub snapshots: Arc<SnapshotCell<P>>,
    /// The validator keys for the verify stage.
    pub pubkeys: Arc<ArcSwap<PubkeyCache>>,
    pub op_pool: Arc<OperationPool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), CoreError>>>,
}

impl<P: Preset> CoreHandle<P> {
    /// Asks the core to finish its current batch (committing it) and stop; waits for it.
    pub fn shutdown(mut self) -> Result<(), CoreError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), CoreError> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(CoreError::Corrupt("the core thread panicked".into()))),
            None => Ok(()),
        }
    }

    /// Whether the core thread is still running (it stops on a fatal store error).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl<P: Preset> Drop for CoreHandle<P> {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// Starts the core thread on `chain`.
pub fn spawn<P: Preset>(
    mut chain: Chain<P>,
    queue: &QueueConfig,
) -> Result<CoreHandle<P>, CoreError> {
    let (sender, receiver) = channel(queue);
    let snapshots = Arc::new(SnapshotCell::new(chain.snapshot()));
    let pubkeys = Arc::new(ArcSwap::new(chain.pubkeys()));
    let op_pool = Arc::clone(chain.op_pool());
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let snapshots = Arc::clone(&snapshots);
        let pubkeys = Arc::clone(&pubkeys);
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("keel-core".into())
            .spawn(move || run(&mut chain, &receiver, &snapshots, &pubkeys, &stop))
            .map_err(|e| CoreError::Corrupt(format!("cannot start the core thread: {e}")))?
    };
    Ok(CoreHandle {
        sender,
        snapshots,
        pubkeys,
        op_pool,
        stop,
        thread: Some(thread),
    })
}

fn run<P: Preset>(
    chain: &mut Chain<P>,
    receiver: &QueueReceiver<CoreInput<P>>,
    snapshots: &SnapshotCell<P>,
    pubkeys: &ArcSwap<PubkeyCache>,
    stop: &AtomicBool,
) -> Result<(), CoreError> {
    while !stop.load(Ordering::SeqCst) {
        let Some((_, first)) = receiver.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        let mut items = 1usize;
        apply(chain, first);
        while items < MAX_BATCH {
            let Some((_, next)) = receiver.try_recv() else {
                break;
            };
            apply(chain, next);
            items += 1;
        }
        let started = Instant::now();
        if let Err(e) = chain.commit() {
            tracing::error!(error = %e, "commit failed; the core stops");
            return Err(e);
        }
        metrics::histogram!(metric::COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::counter!(metric::BATCHES).increment(1);
        metrics::histogram!(metric::BATCH_ITEMS).record(items as f64);
        publish(chain, snapshots, pubkeys);
    }
    Ok(())
}

/// Publishes the chain's snapshot and events (also used once at start).
pub fn publish<P: Preset>(
    chain: &mut Chain<P>,
    snapshots: &SnapshotCell<P>,
    pubkeys: &ArcSwap<PubkeyCache>,
) {
    let keys = chain.pubkeys();
    if !Arc::ptr_eq(&keys, &pubkeys.load()) {
        pubkeys.store(keys);
    }
    snapshots.publish(chain.snapshot());
    for event in chain.take_events() {
        snapshots.emit(event);
    }
}

/// Applies one input. Refusals are logged and counted; they never stop the core.
pub fn apply<P: Preset>(chain: &mut Chain<P>, input: CoreInput<P>) {
    match input {
        CoreInput::Block {
            block,
            payload,
            seen_at_ms,
        } => {
            let started = Instant::now();
            let slot = block.block().message.slot;
            match chain.import_block(
                Arc::clone(block.block()),
                block.root(),
                payload,
                Some(seen_at_ms),
            ) {
                Ok(ImportOutcome::Imported { root }) => {
                    metrics::counter!(metric::BLOCKS_IMPORTED).increment(1);
                    metrics::histogram!(metric::BLOCK_IMPORT_SECONDS)
                        .record(started.elapsed().as_secs_f64());
                    metrics::histogram!(metric::RECEIPT_TO_IMPORT_SECONDS)
                        .record(block.received_at().elapsed().as_secs_f64());
                    tracing::debug!(%root, slot, "block imported");
                }
                Ok(ImportOutcome::AlreadyKnown) => {}
                Ok(ImportOutcome::AwaitingData) => {
                    tracing::debug!(root = %block.root(), slot, "block waits for its data columns");
                }
                Err(e) => {
                    metrics::counter!(metric::BLOCKS_REFUSED).increment(1);
                    tracing::warn!(root = %block.root(), slot, error = %e, "block refused");
                }
            }
        }
        CoreInput::Attestation(attestation) => {
            match chain.on_attestation_decoded(
                attestation.attestation(),
                attestation.attesting_indices(),
                attestation.committee_index(),
                Some(attestation.signature()),
            ) {
                Ok(()) => metrics::counter!(metric::ATTESTATIONS_APPLIED).increment(1),
                Err(e) => {
                    metrics::counter!(metric::ATTESTATIONS_REFUSED).increment(1);
                    tracing::debug!(error = %e, "attestation refused by fork choice");
                }
            }
        }
        CoreInput::SyncMessage(message) => {
            chain.on_sync_message(message.message(), message.positions());
        }
        CoreInput::Contribution(contribution) => {
            chain.on_contribution(&contribution.contribution().message.contribution);
        }
        CoreInput::PayloadStatus { block_root, status } => {
            if let Err(e) = chain.on_payload_status(block_root, status) {
                tracing::warn!(%block_root, error = %e, "payload verdict not applied");
            }
        }
        CoreInput::Tick { unix_ms } => {
            if let Err(e) = chain.on_tick(unix_ms) {
                tracing::warn!(error = %e, "tick failed");
            }
        }
        CoreInput::ElOnline(online) => chain.set_el_online(online),
        CoreInput::SyncedBlock {
            block,
            root,
            payload,
            reply,
        } => {
            let slot = block.message.slot;
            let outcome = chain.import_block(block, root, payload, None);
            match &outcome {
                Ok(ImportOutcome::Imported { .. }) => {
                    metrics::counter!(metric::BLOCKS_IMPORTED).increment(1)
                }
                Ok(ImportOutcome::AlreadyKnown | ImportOutcome::AwaitingData) => {}
                Err(e) => {
                    metrics::counter!(metric::BLOCKS_REFUSED).increment(1);
                    tracing::debug!(%root, slot, error = %e, "synced block refused");
                }
            }
            let _ = reply.send(outcome);
        }
        CoreInput::Backfill { blocks, reply } => {
            let _ = reply.send(chain.backfill(&blocks));
        }
        CoreInput::DataColumn(sidecar) => {
            let root = sidecar.block_root();
            match chain.on_data_column(Arc::clone(sidecar.sidecar()), root) {
                Ok(Some(ImportOutcome::Imported { .. })) => {
                    metrics::counter!(metric::BLOCKS_IMPORTED).increment(1);
                    tracing::debug!(%root, "block imported once its columns arrived");
                }
                Ok(_) => {}
                Err(e) => {
                    metrics::counter!(metric::BLOCKS_REFUSED).increment(1);
                    tracing::warn!(%root, error = %e, "block refused after its columns arrived");
                }
            }
        }
        CoreInput::SetCustodyColumns(columns) => chain.set_custody_columns(columns),
    }
}
