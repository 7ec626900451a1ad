//! The sync task: one loop that keeps peers' Status fresh and, each round, does the most
//! urgent of range sync, a lookup by root, or one backfill batch.

use crate::blocks::{ContextTable, ResponseFault};
use crate::progress::Progress;
use crate::{Frontier, ImportError, LocalChain, SyncChain, SyncConfig, SyncNetwork, metric};
use keel_config::ChainConfig;
use keel_p2p::{Family, NetworkEvent, Offence};
use keel_pipeline_api::PeerTag;
use keel_types::fulu::StatusV2;
use keel_types::phase0::BeaconBlocksByRangeRequest;
use keel_types::ssz::{Decode, Encode};
use keel_types::{Hash256, Preset, SignedBeaconBlock, Slot};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::task::JoinSet;

type Block<P> = Arc<SignedBeaconBlock<P>>;

/// Range-sync downloads in flight: each ends with its batch's start slot, the peer asked and
/// what came back.
type Downloads<P> = JoinSet<(Slot, PeerTag, Result<Vec<Block<P>>, Failure>)>;

/// Attempts at one range-sync batch before the round is abandoned (and started again later
/// from wherever the head then is).
const MAX_BATCH_ATTEMPTS: u32 = 5;

/// Why a download gave nothing usable.
#[derive(Debug)]
enum Failure {
    /// The request did not complete (disconnect, timeout, rate limit): nobody is judged here;
    /// the network service scores timeouts itself.
    Request(String),
    /// The answer was not what was asked.
    Fault(ResponseFault),
}

impl Failure {
    fn offence(&self) -> Option<Offence> {
        match self {
            Failure::Request(_) => None,
            Failure::Fault(
                ResponseFault::Undecodable { .. } | ResponseFault::UnknownContext(_),
            ) => Some(Offence::Malformed),
            // An error response is the peer's right (it may have pruned, or be busy).
            Failure::Fault(ResponseFault::ErrorResponse(_)) => None,
            Failure::Fault(_) => Some(Offence::InvalidResponse),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Request(e) => write!(f, "request failed: {e}"),
            Failure::Fault(e) => write!(f, "bad answer: {e}"),
        }
    }
}

/// Why importing a batch stopped.
enum BatchError {
    /// A block the chain refused as invalid: the peer that sent it is to blame.
    Invalid(String),
    /// The batch does not attach to the chain: its first missing ancestor.
    UnknownParent(Hash256),
    Internal(String),
}

/// The sync task's state.
pub struct SyncService<P: Preset, C: SyncChain<P>, N: SyncNetwork> {
    chain: Arc<C>,
    network: N,
    table: ContextTable,
    config: SyncConfig,
    peers: HashMap<PeerTag, StatusV2>,
    /// Roots a lookup failed to resolve, not tried again this run.
    failed_lookups: HashSet<Hash256>,
    /// Exclusive end slot of the next backfill request (below the frontier when peers showed
    /// the slots between to be empty).
    backfill_cursor: Option<Slot>,
    backfill_progress: Option<Progress>,
    backfill_complete: bool,
    round_robin: usize,
    _preset: PhantomData<P>,
}

impl<P: Preset, C: SyncChain<P>, N: SyncNetwork> SyncService<P, C, N> {
    pub fn new(
        chain: Arc<C>,
        network: N,
        chain_config: Arc<ChainConfig>,
        config: SyncConfig,
    ) -> Self {
        let table = ContextTable::new(chain_config, chain.local().genesis_validators_root);
        Self {
            chain,
            network,
            table,
            config,
            peers: HashMap::new(),
            failed_lookups: HashSet::new(),
            backfill_cursor: None,
            backfill_progress: None,
            backfill_complete: false,
            round_robin: 0,
            _preset: PhantomData,
        }
    }

    /// Runs until `shutdown` turns true or the network's events end.
    pub async fn run(
        mut self,
        mut events: UnboundedReceiver<NetworkEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(self.config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_status = Instant::now();
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => return,
                },
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            if last_status.elapsed() >= self.config.status_interval {
                last_status = Instant::now();
                self.refresh_statuses().await;
            }
            tokio::select! {
                () = self.step(&mut events) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    fn on_event(&mut self, event: NetworkEvent) {
        match event {
            NetworkEvent::PeerReady { peer, status } => {
                self.peers.insert(peer, status);
            }
            NetworkEvent::PeerGone { peer } => {
                self.peers.remove(&peer);
            }
        }
    }

    fn drain(&mut self, events: &mut UnboundedReceiver<NetworkEvent>) {
        while let Ok(event) = events.try_recv() {
            self.on_event(event);
        }
    }

    /// Asks every peer for its Status at once.
    async fn refresh_statuses(&mut self) {
        let ours = self.chain.status().as_ssz_bytes();
        let mut asks = JoinSet::new();
        for peer in self.peers.keys().copied() {
            let (network, body) = (self.network.clone(), ours.clone());
            asks.spawn(async move {
                let answer = network.request(peer, Family::Status, body).await;
                (peer, answer)
            });
        }
        while let Some(Ok((peer, answer))) = asks.join_next().await {
            let status = answer.ok().and_then(|chunks| match chunks.first() {
                Some(keel_p2p::Chunk::Success { ssz, .. }) => StatusV2::from_ssz_bytes(ssz).ok(),
                _ => None,
            });
            if let Some(status) = status
                && let Some(known) = self.peers.get_mut(&peer)
            {
                *known = status;
            }
        }
    }

    /// One round: the most urgent thing to do.
    async fn step(&mut self, events: &mut UnboundedReceiver<NetworkEvent>) {
        self.drain(events);
        let local = self.chain.local();
        if let Some(target) = self.range_target(&local) {
            metrics::gauge!(metric::STATE).set(1.0);
            self.range_sync(local, target, events).await;
        } else if let Some((peer, root)) = self.unknown_head(&local) {
            metrics::gauge!(metric::STATE).set(1.0);
            if let Err(reason) = self.lookup(peer, root).await {
                tracing::debug!(peer = peer.0, %root, %reason, "lookup failed");
                self.failed_lookups.insert(root);
            }
        } else if self.config.backfill {
            metrics::gauge!(metric::STATE).set(2.0);
            self.backfill_step(&local).await;
        }
        metrics::gauge!(metric::STATE).set(0.0);
    }

    /// A believable head slot is at most one slot past the wall clock.
    fn believable(status: &StatusV2, local: &LocalChain) -> bool {
        status.head_slot <= local.current_slot.saturating_add(1)
    }

    /// The highest head slot among peers, if it is far enough ahead to range-sync towards
    /// (one or two slots behind is what gossip and lookups are for).
    fn range_target(&self, local: &LocalChain) -> Option<Slot> {
        self.peers
            .values()
            .filter(|s| Self::believable(s, local))
            .map(|s| s.head_slot)
            .max()
            .filter(|best| *best > local.head_slot.saturating_add(2))
    }

    /// A peer whose head the chain does not know (and a lookup has not already failed on).
    fn unknown_head(&self, local: &LocalChain) -> Option<(PeerTag, Hash256)> {
        let mut peers: Vec<_> = self.peers.iter().collect();
        peers.sort_by_key(|(peer, _)| peer.0);
        peers.into_iter().find_map(|(peer, status)| {
            (Self::believable(status, local)
                && status.head_slot > local.finalized_slot
                && !self.failed_lookups.contains(&status.head_root)
                && !self.chain.has_block(&status.head_root))
            .then_some((*peer, status.head_root))
        })
    }

    /// A peer that should hold slots from `start`, round-robin, other than `avoid` if there is
    /// any other.
    fn pick_peer(&mut self, start: Slot, avoid: Option<PeerTag>) -> Option<PeerTag> {
        let mut candidates: Vec<PeerTag> = self
            .peers
            .iter()
            .filter(|(_, status)| status.head_slot >= start)
            .map(|(peer, _)| *peer)
            .collect();
        candidates.sort_by_key(|peer| peer.0);
        if candidates.len() > 1
            && let Some(avoid) = avoid
        {
            candidates.retain(|peer| *peer != avoid);
        }
        self.round_robin = self.round_robin.wrapping_add(1);
        candidates
            .get(self.round_robin % candidates.len().max(1))
            .copied()
    }

    fn spawn_range_download(
        &self,
        downloads: &mut Downloads<P>,
        peer: PeerTag,
        start: Slot,
        count: u64,
    ) {
        let (network, table) = (self.network.clone(), self.table.clone());
        downloads.spawn(async move {
            let result = fetch_range::<P, N>(&network, &table, peer, start, count).await;
            (start, peer, result)
        });
    }

    /// Forward from the head towards `target` (which moves up as peers report new heads):
    /// batches download in parallel from different peers and import strictly in order.
    async fn range_sync(
        &mut self,
        local: LocalChain,
        mut target: Slot,
        events: &mut UnboundedReceiver<NetworkEvent>,
    ) {
        let batch = self.config.batch_slots.max(1);
        let first = local.head_slot.saturating_add(1);
        tracing::info!(
            from = first,
            target,
            peers = self.peers.len(),
            "range sync started"
        );
        let mut progress = Progress::new("range sync", local.head_slot);
        let mut next_request = first;
        let mut next_import = first;
        let mut retries: BTreeMap<Slot, (u32, Option<PeerTag>)> = BTreeMap::new();
        let mut attempts: HashMap<Slot, u32> = HashMap::new();
        let mut ready: BTreeMap<Slot, (PeerTag, Vec<Block<P>>)> = BTreeMap::new();
        let mut downloads: Downloads<P> = JoinSet::new();
        let mut imported = 0u64;
        loop {
            self.drain(events);
            let now = self.chain.local();
            if let Some(higher) = self.range_target(&now) {
                target = target.max(higher);
            }
            metrics::gauge!(metric::TARGET_SLOT).set(target as f64);
            if next_import > target && ready.is_empty() && downloads.is_empty() {
                break;
            }
            // Failed batches first, then new ones, up to the in-flight limit.
            let retry_starts: Vec<Slot> = retries.keys().copied().collect();
            for start in retry_starts {
                if downloads.len() >= self.config.max_in_flight {
                    break;
                }
                let avoid = retries.get(&start).and_then(|(_, peer)| *peer);
                if let Some(peer) = self.pick_peer(start, avoid) {
                    retries.remove(&start);
                    self.spawn_range_download(&mut downloads, peer, start, batch);
                }
            }
            while downloads.len() < self.config.max_in_flight && next_request <= target {
                let Some(peer) = self.pick_peer(next_request, None) else {
                    break;
                };
                self.spawn_range_download(&mut downloads, peer, next_request, batch);
                next_request = next_request.saturating_add(batch);
            }
            if let Some((peer, blocks)) = ready.remove(&next_import) {
                match self.import_batch(&blocks).await {
                    Ok(count) => {
                        imported += count;
                        metrics::counter!(metric::BLOCKS_IMPORTED).increment(count);
                        next_import = next_import.saturating_add(batch);
                        progress.report(self.chain.local().head_slot, target);
                    }
                    Err(BatchError::Invalid(reason)) => {
                        tracing::warn!(peer = peer.0, start = next_import, %reason, "range sync: invalid block");
                        self.network.penalise(peer, Offence::InvalidResponse);
                        if !Self::retry(&mut retries, &mut attempts, next_import, Some(peer)) {
                            break;
                        }
                    }
                    Err(BatchError::UnknownParent(parent)) => {
                        // The head is on another branch than the peer's chain, or an earlier
                        // batch came back short: fetch the missing ancestors, then this batch
                        // again.
                        if let Err(reason) = self.lookup(peer, parent).await {
                            tracing::info!(peer = peer.0, %parent, %reason, "range sync: the batch does not attach; starting over");
                            break;
                        }
                        ready.insert(next_import, (peer, blocks));
                    }
                    Err(BatchError::Internal(reason)) => {
                        tracing::warn!(%reason, "range sync stopped");
                        break;
                    }
                }
                continue;
            }
            let Some(joined) = downloads.join_next().await else {
                if retries.is_empty() && next_request > target {
                    break;
                }
                // No peer can serve what is left: wait for the next round.
                tracing::debug!(next_import, target, "range sync: no peer to ask");
                break;
            };
            let Ok((start, peer, result)) = joined else {
                break;
            };
            match result {
                Ok(blocks) => {
                    ready.insert(start, (peer, blocks));
                }
                Err(failure) => {
                    metrics::counter!(metric::BATCHES_FAILED).increment(1);
                    tracing::debug!(peer = peer.0, start, %failure, "range sync batch failed");
                    if let Some(offence) = failure.offence() {
                        self.network.penalise(peer, offence);
                    }
                    if !Self::retry(&mut retries, &mut attempts, start, Some(peer)) {
                        break;
                    }
                }
            }
        }
        downloads.abort_all();
        let head = self.chain.local().head_slot;
        if imported > 0 {
            progress.finish(head);
        }
    }

    /// Queues `start` for another download; false once it has failed too often.
    fn retry(
        retries: &mut BTreeMap<Slot, (u32, Option<PeerTag>)>,
        attempts: &mut HashMap<Slot, u32>,
        start: Slot,
        failed_peer: Option<PeerTag>,
    ) -> bool {
        let count = attempts.entry(start).or_insert(0);
        *count += 1;
        if *count >= MAX_BATCH_ATTEMPTS {
            tracing::info!(
                start,
                "range sync: a batch failed {MAX_BATCH_ATTEMPTS} times; pausing"
            );
            return false;
        }
        retries.insert(start, (*count, failed_peer));
        true
    }

    /// Imports a batch in order, skipping blocks the chain already has.
    async fn import_batch(&self, blocks: &[Block<P>]) -> Result<u64, BatchError> {
        let mut imported = 0;
        for block in blocks {
            let root = block.canonical_root();
            if self.chain.has_block(&root) {
                continue;
            }
            match self.chain.import(Arc::clone(block), root).await {
                Ok(()) => imported += 1,
                Err(ImportError::Invalid(reason)) => return Err(BatchError::Invalid(reason)),
                Err(ImportError::UnknownParent(parent)) => {
                    // Mid-batch, a gap means the peer left a block out: its fault.
                    return Err(if imported == 0 {
                        BatchError::UnknownParent(parent)
                    } else {
                        BatchError::Invalid(format!("the batch skips the parent {parent}"))
                    });
                }
                Err(ImportError::AwaitingData(root)) => {
                    // Its children cannot attach until it is imported: stop here, blaming
                    // nobody. (Range sync does not fetch columns by range yet; gossip and the
                    // columns' own arrival complete such a block.)
                    return Err(BatchError::Internal(format!(
                        "block {root} waits for its data columns"
                    )));
                }
                Err(ImportError::Internal(reason)) => return Err(BatchError::Internal(reason)),
            }
        }
        Ok(imported)
    }

    /// Fetches `root` and its ancestors by root from `peer` until one the chain knows, then
    /// imports them oldest first.
    async fn lookup(&mut self, peer: PeerTag, root: Hash256) -> Result<(), String> {
        metrics::counter!(metric::LOOKUPS).increment(1);
        let mut missing: Vec<Block<P>> = Vec::new();
        let mut wanted = root;
        while !self.chain.has_block(&wanted) {
            if missing.len() >= self.config.max_lookup_depth {
                return Err(format!(
                    "no known ancestor within {} blocks",
                    self.config.max_lookup_depth
                ));
            }
            let chunks = self
                .network
                .request(peer, Family::BlocksByRoot, wanted.as_slice().to_vec())
                .await?;
            let found = match self.table.decode_roots::<P>(&chunks, &[wanted]) {
                Ok(found) => found,
                Err(fault) => {
                    if let Some(offence) = Failure::Fault(fault.clone()).offence() {
                        self.network.penalise(peer, offence);
                    }
                    return Err(fault.to_string());
                }
            };
            let Some(block) = found.into_iter().next() else {
                return Err(format!("the peer does not have {wanted}"));
            };
            wanted = block.parent_root();
            missing.push(block);
        }
        missing.reverse();
        match self.import_batch(&missing).await {
            Ok(count) => {
                tracing::debug!(peer = peer.0, %root, count, "lookup imported");
                Ok(())
            }
            Err(BatchError::Invalid(reason)) => {
                self.network.penalise(peer, Offence::InvalidResponse);
                Err(reason)
            }
            Err(BatchError::UnknownParent(parent)) => Err(format!("unknown parent {parent}")),
            Err(BatchError::Internal(reason)) => Err(reason),
        }
    }

    /// The lowest slot backfill goes down to.
    fn backfill_floor(&self, current_slot: Slot) -> Slot {
        let epoch = current_slot / self.config.slots_per_epoch.max(1);
        epoch.saturating_sub(self.config.backfill_epochs) * self.config.slots_per_epoch
    }

    /// One backfill batch below the frontier.
    async fn backfill_step(&mut self, local: &LocalChain) {
        let Some(front) = self.chain.frontier() else {
            return;
        };
        let floor = self.backfill_floor(local.current_slot);
        metrics::gauge!(metric::BACKFILL_SLOT).set(front.slot as f64);
        if front.slot <= floor {
            if !self.backfill_complete {
                self.backfill_complete = true;
                if let Some(progress) = &self.backfill_progress {
                    progress.finish(front.slot);
                }
                tracing::info!(slot = front.slot, "backfill complete");
            }
            return;
        }
        let progress = self
            .backfill_progress
            .get_or_insert_with(|| Progress::new("backfill", front.slot));
        progress.report(front.slot, floor);
        let end = self
            .backfill_cursor
            .filter(|cursor| *cursor <= front.slot && *cursor > floor)
            .unwrap_or(front.slot);
        let start = end
            .saturating_sub(self.config.batch_slots.max(1))
            .max(floor);
        let Some(peer) = self.backfill_peer(start, end) else {
            return;
        };
        let blocks =
            match fetch_range::<P, N>(&self.network, &self.table, peer, start, end - start).await {
                Ok(blocks) => blocks,
                Err(failure) => {
                    tracing::debug!(peer = peer.0, start, %failure, "backfill batch failed");
                    if let Some(offence) = failure.offence() {
                        self.network.penalise(peer, offence);
                    }
                    return;
                }
            };
        let blocks: Vec<Block<P>> = blocks
            .into_iter()
            .filter(|block| block.slot() < front.slot)
            .collect();
        if blocks.is_empty() {
            // Empty slots (or a peer that withholds them: the next batch would not chain, and
            // the cursor goes back to the frontier).
            self.backfill_cursor = (start > floor).then_some(start);
            return;
        }
        let count = blocks.len() as u64;
        match self.chain.backfill(blocks).await {
            Ok(Frontier { slot, .. }) => {
                metrics::counter!(metric::BACKFILL_BLOCKS).increment(count);
                metrics::gauge!(metric::BACKFILL_SLOT).set(slot as f64);
                self.backfill_cursor = Some(start);
            }
            Err(ImportError::Internal(reason)) => {
                tracing::warn!(%reason, "backfill: the chain could not store a batch");
            }
            Err(e) => {
                tracing::warn!(peer = peer.0, start, error = %e, "backfill: batch refused");
                self.network.penalise(peer, Offence::InvalidResponse);
                self.backfill_cursor = None;
            }
        }
    }

    /// A peer that says it holds `start..end`.
    fn backfill_peer(&mut self, start: Slot, end: Slot) -> Option<PeerTag> {
        let mut candidates: BTreeSet<u64> = BTreeSet::new();
        for (peer, status) in &self.peers {
            if status.earliest_available_slot <= start && status.head_slot >= end {
                candidates.insert(peer.0);
            }
        }
        self.round_robin = self.round_robin.wrapping_add(1);
        let candidates: Vec<u64> = candidates.into_iter().collect();
        candidates
            .get(self.round_robin % candidates.len().max(1))
            .map(|tag| PeerTag(*tag))
    }
}

/// One `BeaconBlocksByRange` request for `start..start + count`, decoded and checked.
async fn fetch_range<P: Preset, N: SyncNetwork>(
    network: &N,
    table: &ContextTable,
    peer: PeerTag,
    start: Slot,
    count: u64,
) -> Result<Vec<Block<P>>, Failure> {
    let body = BeaconBlocksByRangeRequest {
        start_slot: start,
        count,
        step: 1,
    }
    .as_ssz_bytes();
    let chunks = network
        .request(peer, Family::BlocksByRange, body)
        .await
        .map_err(Failure::Request)?;
    table
        .decode_range::<P>(&chunks, start, count)
        .map_err(Failure::Fault)
}
