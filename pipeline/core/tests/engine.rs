//! The chain with the execution engine's verdicts, over real loopback HTTP against the
//! embedded mock engine: VALID imports, SYNCING imports optimistically (the head is reported
//! optimistic), and INVALID from forkchoiceUpdated removes the optimistic branch from fork
//! choice so that the head falls back to the last valid block.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keel_config::ChainConfig;
use keel_core::{Chain, ChainAnchor, CoreError};
use keel_execution::{
    EngineClient, ForkchoiceState, JwtSecret, MockConfig, MockEngine, MockMode, PayloadAttributes,
};
use keel_pipeline_api::PayloadStatus;
use keel_state_transition::Caches;
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_store::{Store, StoreOptions};
use keel_types::tree_hash::TreeHash;
use keel_types::{ForkName, Hash256, Minimal};
use keel_validator::produce::{
    BlockContents, LocalValidators, interop_genesis, payload_request, produce_block,
    proposer_index, state_at_slot,
};
use std::sync::Arc;

type P = Minimal;
const SLOT_MS: u64 = 6000;

struct Harness {
    config: Arc<ChainConfig>,
    chain: Chain<P>,
    engine: EngineClient,
    mock: MockEngine,
    local: LocalValidators,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new() -> Self {
        let secret = JwtSecret::random();
        let mock = MockEngine::start(
            "127.0.0.1:0".parse().unwrap(),
            secret.clone(),
            MockConfig::default(),
        )
        .await
        .unwrap();
        let engine = EngineClient::new(&mock.url(), secret).unwrap();
        let config = Arc::new(ChainConfig::dev(SLOT_MS));
        let header = mock.genesis_header::<P>().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::<P>::open(dir.path(), &StoreOptions::default()).unwrap());
        let cfg = Arc::clone(&config);
        let chain = Chain::open(
            Arc::clone(&config),
            store,
            move || -> Result<_, CoreError> {
                Ok(ChainAnchor::genesis(
                    interop_genesis(&cfg, 64, 0, header).unwrap(),
                ))
            },
        )
        .unwrap();
        Harness {
            config,
            chain,
            engine,
            mock,
            local: LocalValidators::interop(0..64).unwrap(),
            _dir: dir,
        }
    }

    /// Builds the block of `slot` on the head with a payload from the engine, sends the payload
    /// to the engine (newPayload), and imports the block with the engine's verdict.
    async fn propose_and_import(&mut self, slot: u64) -> (Hash256, PayloadStatus) {
        let (root, status, result) = self.propose_and_try_import(slot).await;
        result.unwrap();
        (root, status)
    }

    async fn propose_and_try_import(
        &mut self,
        slot: u64,
    ) -> (
        Hash256,
        PayloadStatus,
        Result<keel_core::ImportOutcome, CoreError>,
    ) {
        self.chain.on_tick(slot * SLOT_MS).unwrap();
        let snapshot = self.chain.snapshot();
        let head = snapshot.head_state().unwrap().clone();
        let mut caches = Caches::new();
        let state = state_at_slot(&head.state, slot, &self.config, &mut caches).unwrap();
        let proposer = proposer_index(&state, &mut caches).unwrap();
        let request = payload_request(&state, &self.config, head.block_root).unwrap();
        // The mock builds on any block it knows, whatever its current mode.
        let mode = self.mock.mode();
        self.mock.set_mode(MockMode::Normal);
        let response = self
            .engine
            .forkchoice_updated(
                ForkchoiceState::same_hash(request.parent_hash),
                Some(&PayloadAttributes {
                    timestamp: request.timestamp,
                    prev_randao: request.prev_randao,
                    suggested_fee_recipient: Default::default(),
                    withdrawals: request.withdrawals.clone(),
                    parent_beacon_block_root: head.block_root,
                }),
            )
            .await
            .unwrap();
        let built = self
            .engine
            .get_payload::<P>(ForkName::Fulu, response.payload_id.unwrap())
            .await
            .unwrap();
        self.mock.set_mode(mode);
        let contents = BlockContents {
            payload: built.execution_payload,
            execution_requests: built.execution_requests,
            blob_kzg_commitments: Default::default(),
            attestations: Vec::new(),
            sync_aggregate: None,
            graffiti: Default::default(),
        };
        let mut pubkeys = PubkeyCache::from_state(&state);
        let (block, _) = produce_block(
            &state,
            proposer,
            &self.local.get(proposer).unwrap().0,
            contents,
            &self.config,
            &mut caches,
            &mut pubkeys,
        )
        .unwrap();
        let body = &block.message.body;
        let verdict = self
            .engine
            .new_payload(
                ForkName::Fulu,
                &body.execution_payload,
                &[],
                block.message.parent_root,
                &body.execution_requests,
            )
            .await
            .unwrap();
        let status = verdict.payload_status();
        let root = block.message.tree_hash_root();
        let result = self.chain.import_block(Arc::new(block), root, status, None);
        self.chain.commit().unwrap();
        (root, status, result)
    }

    fn payload_hash(&mut self, root: &Hash256) -> Hash256 {
        let snapshot = self.chain.snapshot();
        snapshot
            .fork_choice
            .nodes
            .iter()
            .find(|n| n.block_root == *root)
            .unwrap()
            .execution_block_hash
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncing_imports_optimistically_and_invalid_removes_the_branch() {
    let mut h = Harness::new().await;

    let (valid_root, status) = h.propose_and_import(1).await;
    assert_eq!(status, PayloadStatus::Valid);
    assert!(!h.chain.snapshot().head.optimistic);

    // An execution client that is syncing: blocks import optimistically.
    h.mock.set_mode(MockMode::Syncing);
    let (_, status) = h.propose_and_import(2).await;
    assert_eq!(status, PayloadStatus::Optimistic);
    let (optimistic_head, status) = h.propose_and_import(3).await;
    assert_eq!(status, PayloadStatus::Optimistic);
    let snapshot = h.chain.snapshot();
    assert_eq!(snapshot.head.block_root, optimistic_head);
    assert!(snapshot.head.optimistic, "the head is reported optimistic");

    // The engine then finds the branch invalid back to block 1's payload.
    let valid_hash = h.payload_hash(&valid_root);
    h.mock.set_mode(MockMode::Invalid {
        latest_valid_hash: Some(valid_hash),
    });
    let head_hash = h.payload_hash(&optimistic_head);
    let answer = h
        .engine
        .forkchoice_updated(ForkchoiceState::same_hash(head_hash), None)
        .await
        .unwrap();
    let status = answer.verdict.payload_status();
    assert_eq!(
        status,
        PayloadStatus::Invalid {
            latest_valid_hash: Some(valid_hash)
        }
    );
    h.chain.on_payload_status(optimistic_head, status).unwrap();
    let snapshot = h.chain.snapshot();
    assert_eq!(
        snapshot.head.block_root, valid_root,
        "the invalid branch is no longer head"
    );
    assert!(!snapshot.head.optimistic);
    let invalid: Vec<_> = snapshot
        .fork_choice
        .nodes
        .iter()
        .filter(|n| n.validity == "invalid")
        .map(|n| n.slot)
        .collect();
    assert_eq!(invalid, vec![2, 3]);

    // A block whose own payload the engine calls INVALID is refused, and the head stays.
    let (_, status, result) = h.propose_and_try_import(4).await;
    assert!(matches!(status, PayloadStatus::Invalid { .. }));
    assert!(
        matches!(result, Err(CoreError::InvalidPayload)),
        "{result:?}"
    );
    assert_eq!(h.chain.snapshot().head.block_root, valid_root);
    h.mock.stop().await;
}
