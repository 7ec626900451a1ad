//! One test case directory and the helpers every handler uses to read it.

use serde::de::DeserializeOwned;
use std::path::PathBuf;
use thiserror::Error;

/// Where a case sits in the vector tree:
/// `tests/<preset>/<fork>/<runner>/<handler>/<suite>/<case>/`.
#[derive(Debug, Clone)]
pub struct Case {
    pub preset: String,
    pub fork: String,
    pub runner: String,
    pub handler: String,
    pub suite: String,
    pub name: String,
    pub path: PathBuf,
}

/// What a handler concluded about a case it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The case was not run; the reason is listed in the skip report.
    Skip(String),
}

/// Why a case failed: the first difference found, or why its files could not be read.
#[derive(Debug, Error)]
pub enum CaseError {
    #[error("{0}")]
    Mismatch(String),
    #[error("reading {file}: {reason}")]
    Io { file: String, reason: String },
}

pub type CaseResult = Result<Outcome, CaseError>;

/// A handler runs one case. Plain function pointers keep dispatch tables simple and `Sync`.
pub type HandlerFn = fn(&Case) -> CaseResult;

/// Fails a case with a formatted message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::case::CaseError::Mismatch(format!($($arg)+)));
        }
    };
}

/// Fails a case if `got != expected`, printing both.
#[macro_export]
macro_rules! ensure_eq {
    ($got:expr, $expected:expr, $what:expr) => {{
        let (got, expected) = (&$got, &$expected);
        if got != expected {
            return Err($crate::case::CaseError::Mismatch(format!(
                "{}: got {:?}, expected {:?}",
                $what, got, expected
            )));
        }
    }};
}

impl Case {
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.file(name).exists()
    }

    fn io_error(&self, name: &str, reason: impl ToString) -> CaseError {
        CaseError::Io {
            file: self.file(name).display().to_string(),
            reason: reason.to_string(),
        }
    }

    pub fn read_bytes(&self, name: &str) -> Result<Vec<u8>, CaseError> {
        std::fs::read(self.file(name)).map_err(|e| self.io_error(name, e))
    }

    /// Reads `<name>.ssz_snappy` and returns the raw SSZ bytes (block-format snappy, as the
    /// generators write it).
    pub fn read_ssz_snappy(&self, stem: &str) -> Result<Vec<u8>, CaseError> {
        let name = format!("{stem}.ssz_snappy");
        let compressed = self.read_bytes(&name)?;
        snap::raw::Decoder::new()
            .decompress_vec(&compressed)
            .map_err(|e| self.io_error(&name, format!("snappy: {e}")))
    }

    /// Like `read_ssz_snappy` but `None` when the file is absent (e.g. `post` of an invalid case).
    pub fn read_ssz_snappy_opt(&self, stem: &str) -> Result<Option<Vec<u8>>, CaseError> {
        if self.exists(&format!("{stem}.ssz_snappy")) {
            self.read_ssz_snappy(stem).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn read_yaml<T: DeserializeOwned>(&self, name: &str) -> Result<T, CaseError> {
        let text = std::fs::read_to_string(self.file(name)).map_err(|e| self.io_error(name, e))?;
        serde_yaml::from_str(&text).map_err(|e| self.io_error(name, format!("yaml: {e}")))
    }

    pub fn display_path(&self) -> String {
        format!(
            "{}/{}/{}/{}/{}/{}",
            self.preset, self.fork, self.runner, self.handler, self.suite, self.name
        )
    }
}

/// Parses `0x`-prefixed hex as the vectors write it.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, CaseError> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .map_err(|e| CaseError::Mismatch(format!("bad hex {s:?}: {e}")))
}
