//! Keel's durable store: LMDB through `heed`, as typed tables.
//!
//! Owns: the on-disk layout (tables, key encodings, the schema version), opening and checking a
//! database, and the two ways in: [`Store::write`] runs one closure in ONE write transaction
//! (the single-writer core commits each batch of changes this way, so a crash leaves either all
//! of a batch or none of it), and [`Store::read`] gives a read transaction that never waits on
//! the writer (LMDB's MVCC).
//! Inputs and outputs are consensus types from `keel-types` and raw SSZ.
//! Must not: know consensus rules (what to prune, what is canonical is the core's decision), or
//! depend on anything but `keel-types`.
//!
//! Values that depend on the fork (blocks, states) are stored as one fork byte (the fork's
//! position in `ForkName::ALL`, stable because forks are only ever appended) followed by SSZ.

mod error;
mod tables;

pub use error::StoreError;
pub use tables::{ReadView, SCHEMA_VERSION, Store, StoreOptions, WriteBatch};
