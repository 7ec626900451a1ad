//! The standard beacon-node metrics (`ethereum/beacon-metrics`, interop set and some of the
//! additional set), sampled from the latest snapshot once per slot, plus the queue depths.

use keel_core::CoreInput;
use keel_pipeline_api::{ChainEvent, Snapshot};
use keel_queue::{Class, QueueSender};
use keel_state_transition::accessors::compute_epoch_at_slot;
use keel_state_transition::predicates::is_active_validator;
use keel_types::{Hash256, Preset};
use std::sync::atomic::{AtomicU64, Ordering};

pub const PEERS: &str = "libp2p_peer_connected_total";
pub const HEAD_SLOT: &str = "beacon_head_state_slot";
pub const FINALIZED_EPOCH: &str = "beacon_finalized_epoch";
pub const CURRENT_JUSTIFIED_EPOCH: &str = "beacon_current_justified_epoch";
pub const PREVIOUS_JUSTIFIED_EPOCH: &str = "beacon_previous_justified_epoch";
pub const ACTIVE_VALIDATORS: &str = "beacon_head_state_active_validators_total";
pub const REORGS: &str = "beacon_fork_choice_reorg_total";
pub const PROCESSED_DEPOSITS: &str = "beacon_processed_deposits_total";
pub const HEAD_STATE_ROOT: &str = "beacon_head_state_root";
pub const FINALIZED_ROOT: &str = "beacon_head_state_finalized_root";
pub const SYNC_STATE: &str = "beacon_sync_state";
pub const LOCAL_VALIDATORS: &str = "local_validator_count";
pub const BLOCKS_PROPOSED: &str = "beacon_block_proposed_total";
pub const ATTESTATIONS_PUBLISHED: &str = "beacon_attestations_published_total";
pub const CURRENT_SLOT: &str = "keel_clock_slot";
pub const QUEUE_DEPTH: &str = keel_queue::metric::DEPTH;
pub const EL_ONLINE: &str = "keel_execution_engine_online";

static SAMPLED_EPOCH: AtomicU64 = AtomicU64::new(u64::MAX);

/// `int.from_bytes(root[24:32], 'little', signed=True)`, as the spec asks for roots.
fn root_gauge(root: &Hash256) -> f64 {
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&root.as_slice()[24..32]);
    i64::from_le_bytes(tail) as f64
}

pub fn sample<P: Preset>(snapshot: &Snapshot<P>, queue: &QueueSender<CoreInput<P>>) {
    metrics::gauge!(PEERS).set(0.0);
    metrics::gauge!(HEAD_SLOT).set(snapshot.head.slot as f64);
    metrics::gauge!(CURRENT_SLOT).set(snapshot.current_slot as f64);
    metrics::gauge!(FINALIZED_EPOCH).set(snapshot.finalized.epoch as f64);
    metrics::gauge!(FINALIZED_ROOT).set(root_gauge(&snapshot.finalized.root));
    metrics::gauge!(HEAD_STATE_ROOT).set(root_gauge(&snapshot.head.state_root));
    metrics::gauge!(SYNC_STATE).set(if snapshot.sync_distance() > 1 {
        2.0
    } else {
        1.0
    });
    metrics::gauge!(EL_ONLINE).set(if snapshot.el_online { 1.0 } else { 0.0 });
    if let Some(head) = snapshot.head_state() {
        let state = &head.state;
        metrics::gauge!(CURRENT_JUSTIFIED_EPOCH)
            .set(state.current_justified_checkpoint.epoch as f64);
        metrics::gauge!(PREVIOUS_JUSTIFIED_EPOCH)
            .set(state.previous_justified_checkpoint.epoch as f64);
        let epoch = compute_epoch_at_slot::<P>(state.slot);
        // A pass over every validator: once per epoch.
        if SAMPLED_EPOCH.swap(epoch, Ordering::Relaxed) != epoch {
            let active = state
                .validators
                .iter()
                .filter(|v| is_active_validator(v, epoch))
                .count();
            metrics::gauge!(ACTIVE_VALIDATORS).set(active as f64);
        }
        metrics::gauge!(PROCESSED_DEPOSITS).set(state.eth1_deposit_index as f64);
    }
    for (class, depth) in Class::ALL.iter().zip(queue.depths()) {
        metrics::gauge!(QUEUE_DEPTH, "class" => class.as_str()).set(depth as f64);
    }
}

pub fn on_event(event: &ChainEvent) {
    if let ChainEvent::ChainReorg { .. } = event {
        metrics::counter!(REORGS).increment(1);
    }
}
