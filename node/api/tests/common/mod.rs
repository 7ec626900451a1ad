//! A small chain for the API tests and the schemathesis fixture server: an interop Fulu genesis
//! (64 validators; minimal preset for the tests, mainnet for schemathesis, whose schemas fix
//! mainnet vector lengths) held in the store only, and one block at slot 1 (unsigned,
//! never executed: the API does not check blocks) whose post-state is the head in the snapshot.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use keel_api::{ApiContext, NoNetwork, NodeIdentity};
use keel_config::ChainConfig;
use keel_pipeline_api::{ForkChoiceNode, ForkChoiceView, Head, Snapshot, SnapshotCell, StateEntry};
use keel_state_transition::genesis::interop_genesis_state_fulu;
use keel_state_transition::{Caches, PostElectraFields};
use keel_store::{Store, StoreError, StoreOptions};
use keel_types::phase0::Checkpoint;
use keel_types::tree_hash::TreeHash;
use keel_types::{BeaconState, ForkName, Hash256, Preset, SignedBeaconBlock, fulu};

pub const VALIDATORS: u64 = 64;
pub const GENESIS_TIME: u64 = 1_700_000_000;

pub struct Fixture<P: Preset> {
    pub ctx: ApiContext<P>,
    pub config: ChainConfig,
    pub genesis_state: fulu::BeaconState<P>,
    pub genesis_state_root: Hash256,
    pub genesis_block_root: Hash256,
    pub head_state: fulu::BeaconState<P>,
    pub head_state_root: Hash256,
    pub head_block_root: Hash256,
    pub head_block: SignedBeaconBlock<P>,
    /// Keeps the store's directory alive.
    pub dir: tempfile::TempDir,
}

/// `base` with every fork through Fulu at genesis.
pub fn config(base: ChainConfig) -> ChainConfig {
    let mut config = base;
    config.altair_fork_epoch = 0;
    config.bellatrix_fork_epoch = 0;
    config.capella_fork_epoch = 0;
    config.deneb_fork_epoch = 0;
    config.electra_fork_epoch = 0;
    config.fulu_fork_epoch = 0;
    config
}

pub fn build<P: Preset>(base: ChainConfig) -> Fixture<P> {
    let config = config(base);
    let keys: Vec<_> = (0..VALIDATORS)
        .map(|i| {
            let pk = keel_crypto::bls::interop_secret_key(i)
                .unwrap()
                .public_key()
                .to_bytes();
            (pk, 32_000_000_000)
        })
        .collect();
    let mut caches = Caches::new();
    let mut genesis_state = interop_genesis_state_fulu::<P>(
        &config,
        &keys,
        GENESIS_TIME,
        Hash256::repeat_byte(0x42),
        Default::default(),
        &mut caches,
    )
    .unwrap();
    genesis_state.apply_pending_updates().unwrap();
    let genesis_state_root = genesis_state.tree_hash_root();

    let mut genesis_block = fulu::SignedBeaconBlock::<P>::default();
    genesis_block.message.state_root = genesis_state_root;
    let genesis_block_root = genesis_block.message.tree_hash_root();

    // The head: slot 1, child of genesis. Its "post-state" is the genesis state moved to slot 1
    // with the history a real transition would have written (enough for slot lookups).
    let mut head_state = genesis_state.clone();
    head_state.slot = 1;
    *head_state.state_roots.get_mut(0).unwrap() = genesis_state_root;
    *head_state.block_roots.get_mut(0).unwrap() = genesis_block_root;
    head_state.apply_pending_updates().unwrap();
    let head_state_root = head_state.tree_hash_root();
    let mut head_inner = fulu::SignedBeaconBlock::<P>::default();
    head_inner.message.slot = 1;
    head_inner.message.proposer_index = 3;
    head_inner.message.parent_root = genesis_block_root;
    head_inner.message.state_root = head_state_root;
    head_inner.message.body.graffiti = Hash256::repeat_byte(0x11);
    let head_block_root = head_inner.message.tree_hash_root();
    let head_block = SignedBeaconBlock::Fulu(head_inner);

    let dir = tempfile::tempdir().unwrap();
    let store = Store::<P>::open(dir.path(), &StoreOptions { map_size: 1 << 30 }).unwrap();
    store
        .write(|batch| {
            batch.put_block(&genesis_block_root, &SignedBeaconBlock::Fulu(genesis_block))?;
            batch.put_state(
                &genesis_state_root,
                &BeaconState::Fulu(genesis_state.clone()),
            )?;
            batch.put_block_root_at_slot(0, &genesis_block_root)?;
            batch.put_block(&head_block_root, &head_block)?;
            batch.put_block_root_at_slot(1, &head_block_root)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();

    let genesis_checkpoint = Checkpoint {
        epoch: 0,
        root: genesis_block_root,
    };
    let execution_block_hash = genesis_state.latest_execution_payload_header.block_hash;
    let snapshot = Snapshot {
        sequence: 0,
        genesis_time: GENESIS_TIME,
        genesis_validators_root: genesis_state.genesis_validators_root,
        genesis_block_root,
        current_slot: 1,
        head: Head {
            block_root: head_block_root,
            slot: 1,
            state_root: head_state_root,
            optimistic: false,
        },
        justified: genesis_checkpoint,
        finalized: genesis_checkpoint,
        // The genesis state is deliberately left out: it is served from the store.
        states: Arc::new(vec![StateEntry {
            block_root: head_block_root,
            state_root: head_state_root,
            state: Arc::new(head_state.clone()),
        }]),
        fork_choice: Arc::new(ForkChoiceView {
            justified: genesis_checkpoint,
            finalized: genesis_checkpoint,
            unrealized_justified: genesis_checkpoint,
            unrealized_finalized: genesis_checkpoint,
            nodes: vec![
                ForkChoiceNode {
                    slot: 0,
                    block_root: genesis_block_root,
                    parent_root: None,
                    justified_epoch: 0,
                    finalized_epoch: 0,
                    weight: 0,
                    validity: "valid",
                    execution_block_hash,
                },
                ForkChoiceNode {
                    slot: 1,
                    block_root: head_block_root,
                    parent_root: Some(genesis_block_root),
                    justified_epoch: 0,
                    finalized_epoch: 0,
                    weight: 64_000_000_000,
                    validity: "valid",
                    execution_block_hash,
                },
            ],
        }),
        el_online: true,
    };
    let ctx = ApiContext::new(
        Arc::new(SnapshotCell::new(snapshot)),
        Arc::new(store),
        Arc::new(config.clone()),
        NodeIdentity::placeholder(),
        Arc::new(NoNetwork),
    );
    assert_eq!(head_block.fork_name(), ForkName::Fulu);
    Fixture {
        ctx,
        config,
        genesis_state,
        genesis_state_root,
        genesis_block_root,
        head_state,
        head_state_root,
        head_block_root,
        head_block,
        dir,
    }
}
