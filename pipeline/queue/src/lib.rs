//! The queues between the parallel stages and the single-writer core.
//!
//! Owns: one bounded crossbeam channel per priority class, the order in which the core drains
//! them (a higher class is always taken first, so a flood of attestations can never delay a
//! block), each class's drop policy, and the counters behind the queue metrics.
//! Inputs: verified items from any number of producer threads. Output: items to ONE consumer,
//! the core. Must not: look inside items beyond their class, or drop what its policy keeps.
//!
//! Drop policies: classes whose loss would cost consensus (blocks, data columns) are never
//! dropped: a full queue pushes back on the producer ([`SendError::Full`] or a blocking send),
//! which the network side sees as backpressure. Gossip classes whose value decays with age
//! (single attestations, sync messages) shed their *oldest* entry to make room for the new one.
//! Every drop is counted.

mod class;
mod queue;

pub use class::{Class, DropPolicy, QueueConfig};
pub use queue::{QueueReceiver, QueueSender, SendError, SendOutcome, channel, metric};
