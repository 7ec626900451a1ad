//! What readers see of the chain: an immutable [`Snapshot`] the core publishes after each
//! committed batch, and the [`ChainEvent`]s it emits alongside.
//!
//! Readers (the Beacon API, metrics, req/resp) load the latest snapshot through
//! [`SnapshotCell::load`] — an `ArcSwap` load, no lock, never waiting on the writer — and keep
//! it as long as they like: the states inside are structurally shared milhouse trees, so holding
//! an old snapshot costs only what changed since.

use arc_swap::ArcSwap;
use keel_types::phase0::Checkpoint;
use keel_types::{Hash256, Preset, Slot, fulu};
use std::sync::Arc;

/// A state the snapshot holds, with the roots that name it.
#[derive(Debug, Clone)]
pub struct StateEntry<P: Preset> {
    /// The block whose post-state (possibly advanced through empty slots) this is.
    pub block_root: Hash256,
    pub state_root: Hash256,
    pub state: Arc<fulu::BeaconState<P>>,
}

/// The head as fork choice last chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub block_root: Hash256,
    pub slot: Slot,
    pub state_root: Hash256,
    /// The execution engine has not yet said VALID for the head's payload (or an ancestor's).
    pub optimistic: bool,
}

/// One block in fork choice, as `debug/fork_choice` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkChoiceNode {
    pub slot: Slot,
    pub block_root: Hash256,
    pub parent_root: Option<Hash256>,
    pub justified_epoch: u64,
    pub finalized_epoch: u64,
    pub weight: u64,
    /// "valid", "invalid" or "optimistic".
    pub validity: &'static str,
    pub execution_block_hash: Hash256,
}

/// Fork choice's view, as readers need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForkChoiceView {
    pub justified: Checkpoint,
    pub finalized: Checkpoint,
    pub unrealized_justified: Checkpoint,
    pub unrealized_finalized: Checkpoint,
    pub nodes: Vec<ForkChoiceNode>,
}

/// Everything a reader may ask about the chain at one moment. Immutable once published.
#[derive(Debug, Clone)]
pub struct Snapshot<P: Preset> {
    /// Increases by one with every publication.
    pub sequence: u64,
    pub genesis_time: u64,
    pub genesis_validators_root: Hash256,
    pub genesis_block_root: Hash256,
    /// The slot of the core's clock when it published.
    pub current_slot: Slot,
    pub head: Head,
    pub justified: Checkpoint,
    pub finalized: Checkpoint,
    /// Post-states of the head, of recent blocks, of the justified and finalized checkpoint
    /// blocks and of genesis (when still held). Looked up by block root or state root.
    pub states: Arc<Vec<StateEntry<P>>>,
    pub fork_choice: Arc<ForkChoiceView>,
    /// The execution engine answered the last request (false once it is unreachable).
    pub el_online: bool,
}

impl<P: Preset> Snapshot<P> {
    /// The head block's post-state. Always present: the core never publishes without it.
    pub fn head_state(&self) -> Option<&StateEntry<P>> {
        self.state_by_block_root(&self.head.block_root)
    }

    pub fn state_by_block_root(&self, root: &Hash256) -> Option<&StateEntry<P>> {
        self.states.iter().find(|e| e.block_root == *root)
    }

    pub fn state_by_state_root(&self, root: &Hash256) -> Option<&StateEntry<P>> {
        self.states.iter().find(|e| e.state_root == *root)
    }

    /// Blocks between head and finalized that the node has not verified with the execution
    /// engine make the whole response optimistic.
    pub fn is_optimistic(&self) -> bool {
        self.head.optimistic
    }

    /// How far the head is behind the clock, in slots.
    pub fn sync_distance(&self) -> u64 {
        self.current_slot.saturating_sub(self.head.slot)
    }
}

/// Something readers may want pushed to them (the Beacon API's `events` stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    Head {
        slot: Slot,
        block: Hash256,
        state: Hash256,
        epoch_transition: bool,
        previous_duty_dependent_root: Hash256,
        current_duty_dependent_root: Hash256,
        execution_optimistic: bool,
    },
    Block {
        slot: Slot,
        block: Hash256,
        execution_optimistic: bool,
    },
    FinalizedCheckpoint {
        block: Hash256,
        state: Hash256,
        epoch: u64,
        execution_optimistic: bool,
    },
    ChainReorg {
        slot: Slot,
        depth: u64,
        old_head_block: Hash256,
        new_head_block: Hash256,
        old_head_state: Hash256,
        new_head_state: Hash256,
        epoch: u64,
        execution_optimistic: bool,
    },
}

impl ChainEvent {
    /// The SSE event name (the Beacon API's `topics`).
    pub fn topic(&self) -> &'static str {
        match self {
            ChainEvent::Head { .. } => "head",
            ChainEvent::Block { .. } => "block",
            ChainEvent::FinalizedCheckpoint { .. } => "finalized_checkpoint",
            ChainEvent::ChainReorg { .. } => "chain_reorg",
        }
    }
}

/// Where the core publishes and readers load. Cloning shares the same cell.
#[derive(Debug)]
pub struct SnapshotCell<P: Preset> {
    current: ArcSwap<Snapshot<P>>,
    events: tokio::sync::broadcast::Sender<ChainEvent>,
}

impl<P: Preset> SnapshotCell<P> {
    /// Room for this many undelivered events per subscriber; a slower subscriber misses the
    /// oldest (and is told so by the broadcast channel) rather than holding the core back.
    const EVENT_BUFFER: usize = 1024;

    pub fn new(first: Snapshot<P>) -> Self {
        let (events, _) = tokio::sync::broadcast::channel(Self::EVENT_BUFFER);
        SnapshotCell {
            current: ArcSwap::from_pointee(first),
            events,
        }
    }

    /// The latest snapshot. Lock-free; the caller may keep it.
    pub fn load(&self) -> Arc<Snapshot<P>> {
        self.current.load_full()
    }

    /// Replaces the snapshot (the core only).
    pub fn publish(&self, next: Snapshot<P>) {
        self.current.store(Arc::new(next));
    }

    /// Pushes an event to every subscriber; with none, it is dropped (nobody asked).
    pub fn emit(&self, event: ChainEvent) {
        let _no_subscribers = self.events.send(event);
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }
}
