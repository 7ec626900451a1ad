//! The store keeps what was committed, nothing of a failed batch, and refuses foreign data.
#![allow(unsafe_code)] // the schema test opens the LMDB files directly, as the store does
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_store::{SCHEMA_VERSION, Store, StoreError, StoreOptions};
use keel_types::{BeaconState, Hash256, Minimal, SignedBeaconBlock, fulu};

type TestStore = Store<Minimal>;

fn options() -> StoreOptions {
    StoreOptions { map_size: 64 << 20 }
}

fn sample_block(slot: u64) -> SignedBeaconBlock<Minimal> {
    let mut block = fulu::SignedBeaconBlock::<Minimal>::default();
    block.message.slot = slot;
    SignedBeaconBlock::Fulu(block)
}

fn root_of(block: &SignedBeaconBlock<Minimal>) -> Hash256 {
    block.canonical_root()
}

#[test]
fn committed_data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let block = sample_block(7);
    let root = root_of(&block);
    let state = BeaconState::Fulu(fulu::BeaconState::<Minimal>::default());
    let state_root = state.tree_hash_root();
    {
        let store = TestStore::open(dir.path(), &options()).unwrap();
        store
            .write(|batch| -> Result<(), StoreError> {
                batch.put_block(&root, &block)?;
                batch.put_block_root_at_slot(7, &root)?;
                batch.put_state(&state_root, &state)?;
                batch.put_meta("head", root.as_slice())?;
                batch.put_data_column(&root, 3, b"column")?;
                Ok(())
            })
            .unwrap();
    }
    let store = TestStore::open(dir.path(), &options()).unwrap();
    let view = store.read().unwrap();
    assert_eq!(view.block(&root).unwrap(), Some(block));
    assert_eq!(view.block_root_at_slot(7).unwrap(), Some(root));
    assert_eq!(view.block_root_at_slot(8).unwrap(), None);
    assert_eq!(
        view.state(&state_root).unwrap().map(|s| s.tree_hash_root()),
        Some(state_root)
    );
    assert_eq!(view.meta("head").unwrap().as_deref(), Some(root.as_slice()));
    assert_eq!(
        view.data_column(&root, 3).unwrap().as_deref(),
        Some(&b"column"[..])
    );
    assert_eq!(view.data_column(&root, 4).unwrap(), None);
}

#[test]
fn a_failed_batch_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::open(dir.path(), &options()).unwrap();
    let block = sample_block(1);
    let root = root_of(&block);
    let result = store.write(|batch| -> Result<(), StoreError> {
        batch.put_block(&root, &block)?;
        Err(StoreError::Corrupt("the core gave up on this batch".into()))
    });
    assert!(result.is_err());
    assert_eq!(store.read().unwrap().block(&root).unwrap(), None);
}

#[test]
fn readers_see_a_snapshot_while_the_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::open(dir.path(), &options()).unwrap();
    let before = store.read().unwrap();
    let block = sample_block(2);
    let root = root_of(&block);
    store.write(|batch| batch.put_block(&root, &block)).unwrap();
    assert_eq!(
        before.block(&root).unwrap(),
        None,
        "an open read view is a snapshot"
    );
    assert_eq!(store.read().unwrap().block(&root).unwrap(), Some(block));
}

#[test]
fn another_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(TestStore::open(dir.path(), &options()).unwrap());
    {
        let env = unsafe {
            heed::EnvOpenOptions::new()
                .map_size(64 << 20)
                .max_dbs(8)
                .open(dir.path())
                .unwrap()
        };
        let wtxn = env.write_txn().unwrap();
        let meta: heed::Database<heed::types::Str, heed::types::Bytes> = env
            .create_databases_and_commit(wtxn, |opener, wtxn| {
                opener
                    .create_database(wtxn, Some("meta"))
                    .map(heed::CommitOrAbort::<_, ()>::Commit)
            })
            .unwrap()
            .unwrap_commit();
        let mut wtxn = env.write_txn().unwrap();
        meta.put(
            &mut wtxn,
            "schema_version",
            &(SCHEMA_VERSION + 1).to_be_bytes(),
        )
        .unwrap();
        wtxn.commit().unwrap();
    }
    match TestStore::open(dir.path(), &options()) {
        Err(StoreError::SchemaMismatch {
            found, expected, ..
        }) => {
            assert_eq!((found, expected), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected a schema mismatch, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn the_schema_version_cannot_be_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::open(dir.path(), &options()).unwrap();
    assert!(
        store
            .write(|batch| batch.put_meta("schema_version", b"x"))
            .is_err()
    );
}

#[test]
fn a_garbage_database_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.mdb"), vec![0x5a; 64 * 1024]).unwrap();
    match TestStore::open(dir.path(), &options()) {
        Err(StoreError::Open { path, .. }) => {
            assert!(path.contains(&*dir.path().to_string_lossy()))
        }
        other => panic!("expected an open error, got {:?}", other.map(|_| ())),
    }
}
