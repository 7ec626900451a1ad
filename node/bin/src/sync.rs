//! The node as the sync task sees it: its head and history from the snapshot and the store,
//! imports through the execution engine and the core (waiting for each verdict).

use crate::network::NodeNetwork;
use crate::sink::judge_payload;
use crossbeam_channel::bounded;
use keel_core::{CoreError, CoreInput};
use keel_execution::EngineClient;
use keel_p2p::NetworkApp;
use keel_pipeline_api::SnapshotCell;
use keel_queue::{Class, QueueSender};
use keel_store::Store;
use keel_sync::{Frontier, ImportError, LocalChain, SyncChain};
use keel_types::fulu::StatusV2;
use keel_types::{Hash256, Preset, SignedBeaconBlock};
use std::sync::Arc;

pub struct NodeSyncChain<P: Preset> {
    pub snapshots: Arc<SnapshotCell<P>>,
    pub store: Arc<Store<P>>,
    pub core: QueueSender<CoreInput<P>>,
    pub engine: EngineClient,
    pub network: Arc<NodeNetwork<P>>,
}

/// Hands `input` to the core (waiting for room: synced blocks are never dropped) and waits for
/// its answer on `answer`, off the async threads.
async fn ask_core<P: Preset, T: Send + 'static>(
    core: &QueueSender<CoreInput<P>>,
    inputs: Vec<CoreInput<P>>,
    answer: crossbeam_channel::Receiver<Result<T, CoreError>>,
) -> Result<T, ImportError> {
    let core = core.clone();
    tokio::task::spawn_blocking(move || {
        for input in inputs {
            core.send_blocking(Class::Block, input)
                .map_err(|_| ImportError::Internal("the core has stopped".into()))?;
        }
        answer
            .recv()
            .map_err(|_| ImportError::Internal("the core stopped before answering".into()))?
            .map_err(|e| match e {
                CoreError::UnknownParent(parent) => ImportError::UnknownParent(parent),
                e if e.is_invalid_input() => ImportError::Invalid(e.to_string()),
                e => ImportError::Internal(e.to_string()),
            })
    })
    .await
    .map_err(|e| ImportError::Internal(format!("core task: {e}")))?
}

impl<P: Preset> SyncChain<P> for NodeSyncChain<P> {
    fn local(&self) -> LocalChain {
        let snapshot = self.snapshots.load();
        LocalChain {
            head_slot: snapshot.head.slot,
            head_root: snapshot.head.block_root,
            finalized_slot: snapshot
                .finalized
                .epoch
                .saturating_mul(P::slots_per_epoch()),
            current_slot: snapshot.current_slot,
            genesis_validators_root: snapshot.genesis_validators_root,
        }
    }

    fn status(&self) -> StatusV2 {
        self.network.status()
    }

    fn has_block(&self, root: &Hash256) -> bool {
        self.snapshots
            .load()
            .fork_choice
            .nodes
            .iter()
            .any(|node| node.block_root == *root)
            || self
                .store
                .read()
                .ok()
                .and_then(|read| read.block(root).ok().flatten())
                .is_some()
    }

    fn frontier(&self) -> Option<Frontier> {
        keel_core::backfill_frontier(&self.store)
            .ok()
            .flatten()
            .map(|f| Frontier {
                slot: f.slot,
                parent_root: f.parent_root,
            })
    }

    async fn import(
        &self,
        block: Arc<SignedBeaconBlock<P>>,
        root: Hash256,
    ) -> Result<(), ImportError> {
        let SignedBeaconBlock::Fulu(block) = &*block else {
            return Err(ImportError::Internal(format!(
                "a {} block: Keel imports Fulu blocks only",
                block.fork_name().as_str()
            )));
        };
        let block = Arc::new(block.clone());
        let (payload, online) = judge_payload(&self.engine, &block).await;
        let (reply, answer) = bounded(1);
        let inputs = vec![
            CoreInput::ElOnline(online),
            CoreInput::SyncedBlock {
                block,
                root,
                payload,
                reply,
            },
        ];
        match ask_core(&self.core, inputs, answer).await? {
            keel_core::ImportOutcome::AwaitingData => Err(ImportError::AwaitingData(root)),
            keel_core::ImportOutcome::Imported { .. } | keel_core::ImportOutcome::AlreadyKnown => {
                Ok(())
            }
        }
    }

    async fn backfill(
        &self,
        blocks: Vec<Arc<SignedBeaconBlock<P>>>,
    ) -> Result<Frontier, ImportError> {
        let (reply, answer) = bounded(1);
        let front = ask_core(
            &self.core,
            vec![CoreInput::Backfill { blocks, reply }],
            answer,
        )
        .await?;
        Ok(Frontier {
            slot: front.slot,
            parent_root: front.parent_root,
        })
    }
}
