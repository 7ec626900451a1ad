//! Slashing protection: what each key has signed, written to disk before any signature leaves.
//!
//! The rules (EIP-3076's minimal form): a block only for a slot above every slot signed before;
//! an attestation only with a target above every target signed before and a source not below
//! any source signed before (which also rules out surrounding and surrounded votes). The record
//! is one small JSON file, replaced atomically (write, fsync, rename, fsync the directory), so a
//! crash at any moment leaves either the old or the new record — never one that forgot a
//! signature.

use keel_types::{Epoch, PublicKeyBytes, Slot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProtectionError {
    #[error("slashing protection file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("slashing protection file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("refusing to sign a block at slot {slot}: already signed slot {signed}")]
    BlockSlot { slot: Slot, signed: Slot },
    #[error(
        "refusing to sign an attestation {source_epoch}->{target}: already signed {signed_source}->{signed_target}"
    )]
    Attestation {
        source_epoch: Epoch,
        target: Epoch,
        signed_source: Epoch,
        signed_target: Epoch,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Signed {
    block_slot: Option<Slot>,
    source: Option<Epoch>,
    target: Option<Epoch>,
}

/// The on-disk record of every key's latest signatures.
#[derive(Debug)]
pub struct SlashingProtection {
    path: PathBuf,
    keys: BTreeMap<String, Signed>,
}

fn key_name(pubkey: &PublicKeyBytes) -> String {
    format!("0x{}", hex_lower(pubkey.as_ref()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SlashingProtection {
    /// Opens the record in `path`, creating an empty one if absent.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ProtectionError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| ProtectionError::Io {
            path: path.clone(),
            source,
        };
        let keys = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ProtectionError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io(e)),
        };
        Ok(SlashingProtection { path, keys })
    }

    /// Checks that `pubkey` may sign a block at `slot` and records it (in memory; call
    /// [`SlashingProtection::persist`] before releasing the signature).
    pub fn check_and_record_block(
        &mut self,
        pubkey: &PublicKeyBytes,
        slot: Slot,
    ) -> Result<(), ProtectionError> {
        let entry = self.keys.entry(key_name(pubkey)).or_default();
        if let Some(signed) = entry.block_slot
            && slot <= signed
        {
            return Err(ProtectionError::BlockSlot { slot, signed });
        }
        entry.block_slot = Some(slot);
        Ok(())
    }

    /// Checks that `pubkey` may sign an attestation `source -> target` and records it.
    pub fn check_and_record_attestation(
        &mut self,
        pubkey: &PublicKeyBytes,
        source: Epoch,
        target: Epoch,
    ) -> Result<(), ProtectionError> {
        let entry = self.keys.entry(key_name(pubkey)).or_default();
        if let (Some(signed_source), Some(signed_target)) = (entry.source, entry.target)
            && (target <= signed_target || source < signed_source)
        {
            return Err(ProtectionError::Attestation {
                source_epoch: source,
                target,
                signed_source,
                signed_target,
            });
        }
        entry.source = Some(source);
        entry.target = Some(target);
        Ok(())
    }

    /// Writes the record durably.
    pub fn persist(&self) -> Result<(), ProtectionError> {
        let io = |source| ProtectionError::Io {
            path: self.path.clone(),
            source,
        };
        let bytes =
            serde_json::to_vec_pretty(&self.keys).map_err(|e| ProtectionError::Corrupt {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        let tmp = self.path.with_extension("tmp");
        let mut file = File::create(&tmp).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn refuses_double_signing_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("protection.json");
        let key = PublicKeyBytes::from([7u8; 48]);
        {
            let mut p = SlashingProtection::open(&path).unwrap();
            p.check_and_record_block(&key, 5).unwrap();
            p.check_and_record_attestation(&key, 1, 2).unwrap();
            p.persist().unwrap();
        }
        let mut p = SlashingProtection::open(&path).unwrap();
        assert!(p.check_and_record_block(&key, 5).is_err());
        assert!(p.check_and_record_block(&key, 4).is_err());
        assert!(p.check_and_record_attestation(&key, 1, 2).is_err());
        assert!(
            p.check_and_record_attestation(&key, 0, 3).is_err(),
            "surrounding vote"
        );
        p.check_and_record_block(&key, 6).unwrap();
        p.check_and_record_attestation(&key, 2, 3).unwrap();
    }

    #[test]
    fn corrupt_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("protection.json");
        fs::write(&path, b"{not json").unwrap();
        assert!(matches!(
            SlashingProtection::open(&path),
            Err(ProtectionError::Corrupt { .. })
        ));
    }
}
