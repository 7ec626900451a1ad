//! The decode → validate → BLS-batch stages as one running unit.
//!
//! [`VerifyStage::submit`] hands a raw message to the rayon pool, which decompresses, decodes
//! and checks the gossip rules against the latest snapshot. Messages that pass wait (at most
//! [`BATCH_WAIT`], at most [`BATCH_SIZE`] of them) in the batcher thread, whose batches are
//! verified on the rayon pool in chunks (same-message grouping inside each chunk), and the
//! survivors go to the [`StageSink`]. Every message gets a verdict.
//!
//! Backpressure is taken in [`VerifyStage::submit`], on the caller's thread: at most
//! [`PENDING_CAPACITY`] messages are in the stage at once. The rayon workers never wait for the
//! batcher: the batcher verifies on the same pool, so workers blocked on a full channel to it
//! would leave nobody to run its chunks (a deadlock under overload).

use crate::gossip::{GossipContext, GossipError, GossipValidator, Pending};
use crate::verified::{
    VerifiedAttestation, VerifiedBlock, VerifiedContribution, VerifiedDataColumnSidecar,
    VerifiedSyncMessage,
};
use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use keel_decode::GossipDecoder;
use keel_pipeline_api::{GossipMessage, PeerTag, RawMessage, SnapshotCell, Verdict};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_types::Preset;
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a validated message may wait for others to share its BLS batch.
pub const BATCH_WAIT: Duration = Duration::from_millis(5);
/// Most messages per batch.
pub const BATCH_SIZE: usize = 256;
/// Messages per parallel verification chunk.
const CHUNK: usize = 64;
/// Messages in the stage at once (submitted, not yet answered); beyond this,
/// [`VerifyStage::submit`] waits: backpressure on the caller.
pub const PENDING_CAPACITY: usize = 16_384;

/// Metric names.
pub mod metric {
    pub const DECODED: &str = "keel_verify_decoded_total";
    pub const VERDICTS: &str = "keel_verify_verdicts_total";
    pub const BATCH_SIZE: &str = "keel_verify_batch_size";
    pub const RECEIPT_TO_VERDICT_SECONDS: &str = "keel_verify_receipt_to_verdict_seconds";
}

/// Where verified messages and verdicts go.
pub trait StageSink<P: Preset>: Send + Sync + 'static {
    fn block(&self, block: VerifiedBlock<P>);
    fn attestation(&self, attestation: VerifiedAttestation<P>);
    fn sync_message(&self, message: VerifiedSyncMessage);
    fn contribution(&self, contribution: VerifiedContribution<P>);
    /// A data column sidecar that passed its gossip rules (it has been accepted, so gossipsub
    /// forwards it). The default drops it: for sinks that keep no columns.
    fn data_column_sidecar(&self, sidecar: VerifiedDataColumnSidecar<P>) {
        let _ = sidecar;
    }
    /// The verdict for gossipsub and the peer scorer.
    fn verdict(&self, message_id: [u8; 20], peer: PeerTag, verdict: Verdict);
}

enum Item<P: Preset> {
    Block(VerifiedBlock<P>),
    Attestation(VerifiedAttestation<P>),
    Sync(VerifiedSyncMessage),
    Contribution(VerifiedContribution<P>),
    DataColumn(VerifiedDataColumnSidecar<P>),
}

struct Waiting<P: Preset> {
    pending: Pending<Item<P>>,
    message_id: [u8; 20],
    peer: PeerTag,
    received_at: Instant,
}

struct Shared<P: Preset> {
    decoder: GossipDecoder<P>,
    validator: GossipValidator<P>,
    snapshots: Arc<SnapshotCell<P>>,
    pubkeys: Arc<ArcSwap<PubkeyCache>>,
    sink: Arc<dyn StageSink<P>>,
    /// One token per message in the stage: taken by `submit` (waiting when there are
    /// [`PENDING_CAPACITY`]), given back with the message's verdict.
    in_flight: (Sender<()>, Receiver<()>),
}

pub struct VerifyStage<P: Preset> {
    shared: Arc<Shared<P>>,
    /// Blocks skip the queue: their own thread, and their signature checked alone at once
    /// rather than waiting in a batch behind thousands of attestations.
    priority: rayon::ThreadPool,
    to_batcher: Sender<Waiting<P>>,
    stop: Arc<AtomicBool>,
    batcher: Option<JoinHandle<()>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl<P: Preset> VerifyStage<P> {
    pub fn start(
        decoder: GossipDecoder<P>,
        validator: GossipValidator<P>,
        snapshots: Arc<SnapshotCell<P>>,
        pubkeys: Arc<ArcSwap<PubkeyCache>>,
        sink: Arc<dyn StageSink<P>>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            decoder,
            validator,
            snapshots,
            pubkeys,
            sink,
            in_flight: bounded(PENDING_CAPACITY),
        });
        // Unbounded, but never holds more than `PENDING_CAPACITY`: see `in_flight`.
        let (to_batcher, from_stage) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let batcher = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("keel-bls-batcher".into())
                .spawn(move || batcher(&shared, &from_stage, &stop))?
        };
        let priority = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "keel-verify-blocks".into())
            .build()
            .map_err(std::io::Error::other)?;
        Ok(VerifyStage {
            shared,
            priority,
            to_batcher,
            stop,
            batcher: Some(batcher),
        })
    }

    /// Queues a raw message for the stages; the verdict arrives at the sink. Returns at once
    /// unless [`PENDING_CAPACITY`] messages are in the stage: then it waits for one to be
    /// answered (backpressure). Call it from outside the rayon pool.
    pub fn submit(&self, raw: RawMessage) {
        // Fails only if the receiver is gone, which `shared` keeps alive.
        let _ = self.shared.in_flight.0.send(());
        let shared = Arc::clone(&self.shared);
        if is_priority(&raw.topic) {
            self.priority.spawn(move || {
                if let Some(waiting) = validate(&shared, &raw) {
                    finish_chunk(&shared, vec![waiting]);
                }
            });
            return;
        }
        let to_batcher = self.to_batcher.clone();
        rayon::spawn(move || {
            if let Some(waiting) = validate(&shared, &raw) {
                // Never blocks (see `in_flight`); fails only once the stage is stopping.
                let _ = to_batcher.send(waiting);
            }
        });
    }

    /// Messages submitted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.1.len()
    }

    /// Prunes the duplicate caches below the finalized epoch.
    pub fn prune(&self, finalized_epoch: u64) {
        self.shared.validator.prune(finalized_epoch);
    }
}

impl<P: Preset> Drop for VerifyStage<P> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.batcher.take() {
            let _ = thread.join();
        }
    }
}

/// Topics whose messages take the priority lane: blocks (a late block costs the whole network
/// a slot; an attestation flood must never hold one up).
fn is_priority(topic: &str) -> bool {
    topic.contains("/beacon_block/")
}

fn report<P: Preset>(shared: &Shared<P>, id: [u8; 20], peer: PeerTag, at: Instant, v: Verdict) {
    let label = match v {
        Verdict::Accept => "accept",
        Verdict::Ignore(_) => "ignore",
        Verdict::Reject(_) => "reject",
    };
    metrics::counter!(metric::VERDICTS, "verdict" => label).increment(1);
    metrics::histogram!(metric::RECEIPT_TO_VERDICT_SECONDS).record(at.elapsed().as_secs_f64());
    shared.sink.verdict(id, peer, v);
    let _ = shared.in_flight.1.try_recv();
}

/// Decode and gossip rules; `None` when the message got its verdict already.
fn validate<P: Preset>(shared: &Shared<P>, raw: &RawMessage) -> Option<Waiting<P>> {
    let (decoded, message_id) = shared.decoder.decode(raw);
    metrics::counter!(metric::DECODED).increment(1);
    let decoded = match decoded {
        Ok(decoded) => decoded,
        Err(e) => {
            report(shared, message_id, raw.peer, raw.received_at, e.verdict());
            return None;
        }
    };
    let snapshot = shared.snapshots.load();
    let pubkeys = shared.pubkeys.load();
    let ctx = GossipContext {
        snapshot: &snapshot,
        pubkeys: &pubkeys,
        now_ms: now_ms(),
    };
    let received_at = raw.received_at;
    let pending: Result<Pending<Item<P>>, GossipError> = match &decoded.message {
        GossipMessage::Block(block) => shared
            .validator
            .validate_block(&ctx, block, received_at)
            .map(|p| p.map(Item::Block)),
        GossipMessage::Attestation {
            subnet,
            attestation,
        } => shared
            .validator
            .validate_single_attestation(&ctx, *subnet, attestation, received_at)
            .map(|p| p.map(Item::Attestation)),
        GossipMessage::Aggregate(aggregate) => shared
            .validator
            .validate_aggregate(&ctx, aggregate, received_at)
            .map(|p| p.map(Item::Attestation)),
        GossipMessage::SyncMessage { subnet, message } => shared
            .validator
            .validate_sync_message(&ctx, *subnet, message, received_at)
            .map(|p| p.map(Item::Sync)),
        GossipMessage::SyncContribution(contribution) => shared
            .validator
            .validate_contribution(&ctx, contribution)
            .map(|p| p.map(Item::Contribution)),
        GossipMessage::DataColumnSidecar { subnet, sidecar } => shared
            .validator
            .validate_data_column_sidecar(&ctx, *subnet, sidecar, received_at)
            .map(|p| p.map(Item::DataColumn)),
        other => Err(GossipError::Ignore(format!(
            "{} is not validated by this node yet",
            other.kind()
        ))),
    };
    match pending {
        Ok(pending) => Some(Waiting {
            pending,
            message_id,
            peer: raw.peer,
            received_at,
        }),
        Err(e) => {
            report(shared, message_id, raw.peer, received_at, e.verdict());
            None
        }
    }
}

fn batcher<P: Preset>(shared: &Shared<P>, from_stage: &Receiver<Waiting<P>>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(first) = from_stage.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        let deadline = Instant::now() + BATCH_WAIT;
        let mut batch = vec![first];
        while batch.len() < BATCH_SIZE {
            match from_stage.recv_deadline(deadline) {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        metrics::histogram!(metric::BATCH_SIZE).record(batch.len() as f64);
        let chunks: Vec<Vec<Waiting<P>>> = chunked(batch, CHUNK);
        chunks
            .into_par_iter()
            .for_each(|chunk| finish_chunk(shared, chunk));
    }
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::new();
    let mut current = Vec::with_capacity(size);
    for item in items {
        current.push(item);
        if current.len() == size {
            chunks.push(std::mem::replace(&mut current, Vec::with_capacity(size)));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn finish_chunk<P: Preset>(shared: &Shared<P>, chunk: Vec<Waiting<P>>) {
    let mut meta = Vec::with_capacity(chunk.len());
    let mut pendings = Vec::with_capacity(chunk.len());
    for waiting in chunk {
        meta.push((waiting.message_id, waiting.peer, waiting.received_at));
        pendings.push(waiting.pending);
    }
    let mut rng = rand::rng();
    let results = shared.validator.finish(pendings, &mut rng);
    for ((message_id, peer, received_at), result) in meta.into_iter().zip(results) {
        match result {
            Ok(item) => {
                report(shared, message_id, peer, received_at, Verdict::Accept);
                match item {
                    Item::Block(block) => shared.sink.block(block),
                    Item::Attestation(attestation) => shared.sink.attestation(attestation),
                    Item::Sync(message) => shared.sink.sync_message(message),
                    Item::Contribution(contribution) => shared.sink.contribution(contribution),
                    Item::DataColumn(sidecar) => shared.sink.data_column_sidecar(sidecar),
                }
            }
            Err(e) => report(shared, message_id, peer, received_at, e.verdict()),
        }
    }
}
