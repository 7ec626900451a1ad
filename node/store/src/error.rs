use thiserror::Error;

/// Why the store refused or failed. Opening errors name the path; a corrupt or foreign database
/// is reported as such, never silently re-created.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database at {path}: {source}")]
    Open { path: String, source: heed::Error },
    #[error("database at {path} has schema version {found}; this Keel reads version {expected}")]
    SchemaMismatch {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error("database is corrupt: {0}")]
    Corrupt(String),
    #[error("LMDB: {0}")]
    Lmdb(#[from] heed::Error),
}
