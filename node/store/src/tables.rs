//! The tables and the typed read/write API over them.

use crate::error::StoreError;
use heed::types::{Bytes, Str, U64};
use heed::{CommitOrAbort, Database, Env, EnvOpenOptions, RoTxn, RwTxn, WithoutTls};
use keel_types::{BeaconState, ForkName, Hash256, Preset, SignedBeaconBlock, Slot};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// Bumped whenever the layout changes; a database with another version is refused.
pub const SCHEMA_VERSION: u32 = 1;

type SlotKey = U64<heed::byteorder::BigEndian>;

const META_SCHEMA_VERSION: &str = "schema_version";

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The largest the database may grow (LMDB maps it; pages are allocated on use).
    pub map_size: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        // 1 TiB of address space: a mainnet node's store stays far below it, and LMDB only
        // uses disk for what is written.
        Self { map_size: 1 << 40 }
    }
}

#[derive(Clone, Copy)]
struct Tables {
    meta: Database<'static, Str, Bytes>,
    blocks: Database<'static, Bytes, Bytes>,
    block_roots_by_slot: Database<'static, SlotKey, Bytes>,
    states: Database<'static, Bytes, Bytes>,
    blob_sidecars: Database<'static, Bytes, Bytes>,
    data_columns: Database<'static, Bytes, Bytes>,
}

const TABLE_COUNT: u32 = 6;

/// The database of one node, for one preset.
pub struct Store<P: Preset> {
    /// Without thread-local read slots: readers are async tasks that move between threads and
    /// may hold several read views at once.
    env: Env<WithoutTls>,
    tables: Tables,
    path: PathBuf,
    _preset: PhantomData<P>,
}

fn fork_byte(fork: ForkName) -> u8 {
    ForkName::ALL.iter().position(|f| *f == fork).unwrap_or(0) as u8
}

fn fork_from_byte(byte: u8) -> Result<ForkName, StoreError> {
    ForkName::ALL
        .get(byte as usize)
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("unknown fork byte {byte}")))
}

fn with_fork(fork: ForkName, ssz: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(ssz.len() + 1);
    out.push(fork_byte(fork));
    out.extend(ssz);
    out
}

fn split_fork<'a>(what: &str, bytes: &'a [u8]) -> Result<(ForkName, &'a [u8]), StoreError> {
    let (&first, rest) = bytes
        .split_first()
        .ok_or_else(|| StoreError::Corrupt(format!("empty {what} record")))?;
    Ok((fork_from_byte(first)?, rest))
}

/// `(block root, index)` for sidecars and columns: ordered by block, then index.
fn sidecar_key(block_root: &Hash256, index: u64) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(block_root.as_slice());
    key[32..].copy_from_slice(&index.to_be_bytes());
    key
}

impl<P: Preset> Store<P> {
    /// Opens (or creates) the database in `dir`, checking its schema version.
    pub fn open(dir: impl AsRef<Path>, options: &StoreOptions) -> Result<Self, StoreError> {
        let path = dir.as_ref().to_path_buf();
        let display = path.display().to_string();
        std::fs::create_dir_all(&path).map_err(|source| StoreError::CreateDir {
            path: display.clone(),
            source,
        })?;
        let mut env_options = EnvOpenOptions::new().read_txn_without_tls();
        env_options.map_size(options.map_size).max_dbs(TABLE_COUNT);
        // SAFETY: the directory belongs to this node; nothing else truncates or rewrites its
        // files while they are mapped, which is all heed asks of the caller.
        #[allow(unsafe_code)]
        let env = unsafe { env_options.open(&path) }.map_err(|source| StoreError::Open {
            path: display.clone(),
            source,
        })?;

        let wtxn = env.write_txn()?;
        let tables =
            env.create_databases_and_commit(wtxn, |opener, wtxn| -> Result<_, heed::Error> {
                let meta = opener.create_database::<Str, Bytes>(wtxn, Some("meta"))?;
                let version = meta.get(wtxn, META_SCHEMA_VERSION)?.map(<[u8]>::to_vec);
                if version.is_none() {
                    meta.put(wtxn, META_SCHEMA_VERSION, &SCHEMA_VERSION.to_be_bytes())?;
                }
                Ok(CommitOrAbort::<_, ()>::Commit((
                    (meta, opener.create_database(wtxn, Some("blocks"))?),
                    (
                        opener.create_database(wtxn, Some("block_roots_by_slot"))?,
                        opener.create_database(wtxn, Some("states"))?,
                    ),
                    (
                        opener.create_database(wtxn, Some("blob_sidecars"))?,
                        opener.create_database(wtxn, Some("data_columns"))?,
                    ),
                )))
            })?;
        let ((meta, blocks), (block_roots_by_slot, states), (blob_sidecars, data_columns)) =
            match tables {
                CommitOrAbort::Commit(tables) => tables,
                CommitOrAbort::Abort(()) => {
                    return Err(StoreError::Corrupt("opening the tables was aborted".into()));
                }
            };
        let store = Self {
            env,
            tables: Tables {
                meta,
                blocks,
                block_roots_by_slot,
                states,
                blob_sidecars,
                data_columns,
            },
            path,
            _preset: PhantomData,
        };
        store.check_schema()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let rtxn = self.env.read_txn()?;
        let raw = self
            .tables
            .meta
            .get(&rtxn, META_SCHEMA_VERSION)?
            .ok_or_else(|| StoreError::Corrupt("schema version missing".into()))?;
        let bytes: [u8; 4] = raw
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("schema version of {} bytes", raw.len())))?;
        let found = u32::from_be_bytes(bytes);
        if found != SCHEMA_VERSION {
            return Err(StoreError::SchemaMismatch {
                path: self.path.display().to_string(),
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    /// Runs `f` in one write transaction and commits it; if `f` fails nothing is written.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut WriteBatch<'_, P>) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = self.env.write_txn().map_err(StoreError::from)?;
        let mut batch = WriteBatch {
            txn,
            tables: self.tables,
            _preset: PhantomData,
        };
        let out = f(&mut batch)?;
        batch.txn.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// A consistent read-only view of the last committed state of the database.
    pub fn read(&self) -> Result<ReadView<'_, P>, StoreError> {
        Ok(ReadView {
            txn: self.env.read_txn()?,
            tables: self.tables,
            _preset: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The reads both a [`ReadView`] and a [`WriteBatch`] (which sees its own writes) offer.
macro_rules! reads {
    () => {
        pub fn block(&self, root: &Hash256) -> Result<Option<SignedBeaconBlock<P>>, StoreError> {
            let Some(bytes) = self.tables.blocks.get(&self.txn, root.as_slice())? else {
                return Ok(None);
            };
            let (fork, ssz) = split_fork("block", bytes)?;
            SignedBeaconBlock::from_ssz_bytes_for_fork(ssz, fork)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("block {root}: {e:?}")))
        }

        pub fn state(&self, root: &Hash256) -> Result<Option<BeaconState<P>>, StoreError> {
            let Some(bytes) = self.tables.states.get(&self.txn, root.as_slice())? else {
                return Ok(None);
            };
            let (fork, ssz) = split_fork("state", bytes)?;
            BeaconState::from_ssz_bytes_for_fork(ssz, fork)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("state {root}: {e:?}")))
        }

        pub fn block_root_at_slot(&self, slot: Slot) -> Result<Option<Hash256>, StoreError> {
            self.tables
                .block_roots_by_slot
                .get(&self.txn, &slot)?
                .map(|b| {
                    Hash256::try_from(b)
                        .map_err(|_| StoreError::Corrupt(format!("root at slot {slot}")))
                })
                .transpose()
        }

        pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.tables.meta.get(&self.txn, key)?.map(<[u8]>::to_vec))
        }

        /// The SSZ of a blob sidecar (Deneb/Electra) by block root and index.
        pub fn blob_sidecar(
            &self,
            root: &Hash256,
            index: u64,
        ) -> Result<Option<Vec<u8>>, StoreError> {
            let key = sidecar_key(root, index);
            Ok(self
                .tables
                .blob_sidecars
                .get(&self.txn, &key)?
                .map(<[u8]>::to_vec))
        }

        /// The SSZ of a data column sidecar (Fulu) by block root and column index.
        pub fn data_column(
            &self,
            root: &Hash256,
            index: u64,
        ) -> Result<Option<Vec<u8>>, StoreError> {
            let key = sidecar_key(root, index);
            Ok(self
                .tables
                .data_columns
                .get(&self.txn, &key)?
                .map(<[u8]>::to_vec))
        }
    };
}

/// A read transaction: a snapshot of the last commit that the writer never blocks.
pub struct ReadView<'env, P: Preset> {
    txn: RoTxn<'env, WithoutTls>,
    tables: Tables,
    _preset: PhantomData<P>,
}

impl<P: Preset> ReadView<'_, P> {
    reads!();

    /// A digest of every table's every record, in key order: two databases with equal
    /// digests hold the same contents (used to check that the core is deterministic).
    pub fn content_digest(&self) -> Result<Hash256, StoreError> {
        let mut all = Vec::new();
        let mut add = |table: u8, key: &[u8], value: &[u8]| {
            all.push(table);
            all.extend_from_slice(&(key.len() as u64).to_le_bytes());
            all.extend_from_slice(key);
            all.extend_from_slice(&(value.len() as u64).to_le_bytes());
            all.extend_from_slice(value);
        };
        for entry in self.tables.meta.iter(&self.txn)? {
            let (key, value) = entry?;
            add(0, key.as_bytes(), value);
        }
        for (table, db) in [
            (1, self.tables.blocks),
            (3, self.tables.states),
            (4, self.tables.blob_sidecars),
            (5, self.tables.data_columns),
        ] {
            for entry in db.iter(&self.txn)? {
                let (key, value) = entry?;
                add(table, key, value);
            }
        }
        for entry in self.tables.block_roots_by_slot.iter(&self.txn)? {
            let (slot, value) = entry?;
            add(2, &slot.to_be_bytes(), value);
        }
        Ok(Hash256::from_slice(&ethereum_hashing::hash(&all)))
    }
}

/// The changes of one batch, committed together by [`Store::write`].
pub struct WriteBatch<'env, P: Preset> {
    txn: RwTxn<'env>,
    tables: Tables,
    _preset: PhantomData<P>,
}

impl<P: Preset> WriteBatch<'_, P> {
    reads!();

    pub fn put_block(
        &mut self,
        root: &Hash256,
        block: &SignedBeaconBlock<P>,
    ) -> Result<(), StoreError> {
        let value = with_fork(block.fork_name(), block.as_ssz_bytes());
        Ok(self
            .tables
            .blocks
            .put(&mut self.txn, root.as_slice(), &value)?)
    }

    pub fn delete_block(&mut self, root: &Hash256) -> Result<bool, StoreError> {
        Ok(self.tables.blocks.delete(&mut self.txn, root.as_slice())?)
    }

    pub fn put_state(&mut self, root: &Hash256, state: &BeaconState<P>) -> Result<(), StoreError> {
        let value = with_fork(state.fork_name(), state.as_ssz_bytes());
        Ok(self
            .tables
            .states
            .put(&mut self.txn, root.as_slice(), &value)?)
    }

    pub fn delete_state(&mut self, root: &Hash256) -> Result<bool, StoreError> {
        Ok(self.tables.states.delete(&mut self.txn, root.as_slice())?)
    }

    pub fn put_block_root_at_slot(&mut self, slot: Slot, root: &Hash256) -> Result<(), StoreError> {
        Ok(self
            .tables
            .block_roots_by_slot
            .put(&mut self.txn, &slot, root.as_slice())?)
    }

    pub fn delete_block_root_at_slot(&mut self, slot: Slot) -> Result<bool, StoreError> {
        Ok(self
            .tables
            .block_roots_by_slot
            .delete(&mut self.txn, &slot)?)
    }

    pub fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if key == META_SCHEMA_VERSION {
            return Err(StoreError::Corrupt(
                "the schema version is not writable".into(),
            ));
        }
        Ok(self.tables.meta.put(&mut self.txn, key, value)?)
    }

    /// Removes a meta entry; whether there was one.
    pub fn delete_meta(&mut self, key: &str) -> Result<bool, StoreError> {
        if key == META_SCHEMA_VERSION {
            return Err(StoreError::Corrupt(
                "the schema version is not writable".into(),
            ));
        }
        Ok(self.tables.meta.delete(&mut self.txn, key)?)
    }

    pub fn put_blob_sidecar(
        &mut self,
        root: &Hash256,
        index: u64,
        ssz: &[u8],
    ) -> Result<(), StoreError> {
        Ok(self
            .tables
            .blob_sidecars
            .put(&mut self.txn, &sidecar_key(root, index), ssz)?)
    }

    pub fn put_data_column(
        &mut self,
        root: &Hash256,
        index: u64,
        ssz: &[u8],
    ) -> Result<(), StoreError> {
        Ok(self
            .tables
            .data_columns
            .put(&mut self.txn, &sidecar_key(root, index), ssz)?)
    }
}
