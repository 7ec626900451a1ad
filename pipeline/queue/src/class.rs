//! Priority classes, in the order the core drains them.

/// What kind of item a queue carries, highest priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Blocks (gossip and req/resp).
    Block,
    /// Data column and blob sidecars: a block cannot be imported without them.
    DataColumn,
    /// Aggregates and sync-committee contributions: few, and each carries many votes.
    Aggregate,
    /// Voluntary exits, slashings, BLS-to-execution changes.
    Operation,
    /// Single attestations.
    Attestation,
    /// Sync-committee messages.
    SyncMessage,
}

impl Class {
    /// Every class, in drain order.
    pub const ALL: [Class; 6] = [
        Class::Block,
        Class::DataColumn,
        Class::Aggregate,
        Class::Operation,
        Class::Attestation,
        Class::SyncMessage,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Block => "block",
            Class::DataColumn => "data_column",
            Class::Aggregate => "aggregate",
            Class::Operation => "operation",
            Class::Attestation => "attestation",
            Class::SyncMessage => "sync_message",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// What happens when a class's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropPolicy {
    /// Never drop: the producer is told the queue is full (or waits, with a blocking send).
    Never,
    /// Drop the oldest queued item to make room for the new one.
    DropOldest,
}

/// Capacity and policy of every class.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// `(capacity, policy)` per class, indexed in [`Class::ALL`] order.
    pub classes: [(usize, DropPolicy); 6],
}

impl Default for QueueConfig {
    /// Sized for a node subscribed to all subnets on mainnet: a slot brings ~30,000 single
    /// attestations, ~1,000 aggregates, 512 sync messages, one block and its columns.
    fn default() -> Self {
        Self {
            classes: [
                (64, DropPolicy::Never),
                (1_024, DropPolicy::Never),
                (4_096, DropPolicy::DropOldest),
                (1_024, DropPolicy::DropOldest),
                (65_536, DropPolicy::DropOldest),
                (4_096, DropPolicy::DropOldest),
            ],
        }
    }
}

impl QueueConfig {
    pub fn capacity(&self, class: Class) -> usize {
        self.classes.get(class.index()).map_or(0, |c| c.0)
    }

    pub fn policy(&self, class: Class) -> DropPolicy {
        self.classes
            .get(class.index())
            .map_or(DropPolicy::Never, |c| c.1)
    }
}
