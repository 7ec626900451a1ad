//! KZG polynomial commitments for blobs (EIP-4844, deneb/polynomial-commitments.md) and cells
//! (EIP-7594, fulu/polynomial-commitments-sampling.md), on top of `c-kzg` with the mainnet
//! trusted setup embedded in the binary (c-kzg's `ethereum_kzg_settings`).
//!
//! Inputs are byte slices as they arrive from the network or the execution layer; a slice of the
//! wrong length is a [`KzgError::InvalidLength`], never a panic. Values of the right length that
//! are not canonical field elements or valid G1 points are rejected by c-kzg
//! ([`KzgError::InvalidInput`]). A `false` from a `verify_*` function means the inputs were
//! well-formed but the proof does not hold.
//!
//! # Trusted setup and precomputation
//! The setup is parsed on first use and kept for the life of the process (c-kzg holds one static
//! copy per precompute value). [`Kzg::mainnet`] uses precompute 0: the fixed-base tables only speed
//! up *computing* cell proofs (`compute_cells_and_kzg_proofs`, `recover_cells_and_kzg_proofs`,
//! ~40% faster at 8), and cost memory (96 MiB at 8) and load time. A node mostly verifies, and
//! verification is unaffected, so the default is 0. A supernode that reconstructs columns, or a
//! proposer computing cell proofs itself, can opt in with [`Kzg::mainnet_with_precompute`]
//! (c-kzg recommends 8).

use c_kzg::KzgSettings;
use keel_types::{Hash256, KzgCommitment, KzgProof};
use thiserror::Error;

pub const BYTES_PER_FIELD_ELEMENT: usize = c_kzg::BYTES_PER_FIELD_ELEMENT;
pub const FIELD_ELEMENTS_PER_BLOB: usize = c_kzg::FIELD_ELEMENTS_PER_BLOB;
pub const BYTES_PER_BLOB: usize = c_kzg::BYTES_PER_BLOB;
pub const BYTES_PER_COMMITMENT: usize = c_kzg::BYTES_PER_COMMITMENT;
pub const BYTES_PER_PROOF: usize = c_kzg::BYTES_PER_PROOF;
pub const FIELD_ELEMENTS_PER_CELL: usize = c_kzg::FIELD_ELEMENTS_PER_CELL;
pub const BYTES_PER_CELL: usize = c_kzg::BYTES_PER_CELL;
pub const CELLS_PER_EXT_BLOB: usize = c_kzg::CELLS_PER_EXT_BLOB;
/// The largest precompute value c-kzg supports.
pub const MAX_PRECOMPUTE: u64 = 15;

/// One cell of an extended blob.
pub type Cell = [u8; BYTES_PER_CELL];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KzgError {
    #[error("{what}: expected {expected} bytes, got {got}")]
    InvalidLength {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: {left} vs {right} items")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// c-kzg rejected the inputs (non-canonical field element, invalid point, bad cell index,
    /// duplicate or too few cells, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("precompute {0} is above the supported maximum {MAX_PRECOMPUTE}")]
    UnsupportedPrecompute(u64),
    /// c-kzg failed for a reason other than its inputs (allocation, internal error).
    #[error("c-kzg: {0}")]
    Library(String),
}

impl From<c_kzg::Error> for KzgError {
    fn from(e: c_kzg::Error) -> Self {
        match e {
            c_kzg::Error::CError(c_kzg::CkzgError::C_KZG_BADARGS) => {
                KzgError::InvalidInput("rejected by c-kzg (C_KZG_BADARGS)".into())
            }
            c_kzg::Error::InvalidBytesLength(s)
            | c_kzg::Error::InvalidKzgProof(s)
            | c_kzg::Error::InvalidKzgCommitment(s)
            | c_kzg::Error::MismatchLength(s) => KzgError::InvalidInput(s),
            other => KzgError::Library(other.to_string()),
        }
    }
}

fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N], KzgError> {
    bytes.try_into().map_err(|_| KzgError::InvalidLength {
        what,
        expected: N,
        got: bytes.len(),
    })
}

fn blob(bytes: &[u8]) -> Result<c_kzg::Blob, KzgError> {
    if bytes.len() != BYTES_PER_BLOB {
        return Err(KzgError::InvalidLength {
            what: "blob",
            expected: BYTES_PER_BLOB,
            got: bytes.len(),
        });
    }
    Ok(c_kzg::Blob::from_bytes(bytes)?)
}

fn cell(bytes: &[u8]) -> Result<c_kzg::Cell, KzgError> {
    if bytes.len() != BYTES_PER_CELL {
        return Err(KzgError::InvalidLength {
            what: "cell",
            expected: BYTES_PER_CELL,
            got: bytes.len(),
        });
    }
    Ok(c_kzg::Cell::from_bytes(bytes)?)
}

fn bytes48(what: &'static str, bytes: &[u8]) -> Result<c_kzg::Bytes48, KzgError> {
    fixed::<48>(what, bytes).map(c_kzg::Bytes48::new)
}

fn bytes32(what: &'static str, bytes: &[u8]) -> Result<c_kzg::Bytes32, KzgError> {
    fixed::<32>(what, bytes).map(c_kzg::Bytes32::new)
}

fn same_len(what: &'static str, left: usize, right: usize) -> Result<(), KzgError> {
    if left == right {
        Ok(())
    } else {
        Err(KzgError::LengthMismatch { what, left, right })
    }
}

fn proof_out(proof: &c_kzg::KzgProof) -> KzgProof {
    KzgProof(**proof)
}

/// A handle on a loaded trusted setup. Cheap to copy; the setup itself is static.
#[derive(Clone, Copy)]
pub struct Kzg {
    settings: &'static KzgSettings,
}

impl std::fmt::Debug for Kzg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kzg(mainnet trusted setup)")
    }
}

impl Kzg {
    /// The mainnet trusted setup without precomputation (see the module docs). The first call
    /// parses the setup (about two seconds); later calls return the same setup.
    pub fn mainnet() -> Self {
        Self {
            settings: c_kzg::ethereum_kzg_settings(0),
        }
    }

    /// The mainnet trusted setup with fixed-base tables of the given size (0..=15, c-kzg
    /// recommends 8), loaded once per value.
    pub fn mainnet_with_precompute(precompute: u64) -> Result<Self, KzgError> {
        if precompute > MAX_PRECOMPUTE {
            return Err(KzgError::UnsupportedPrecompute(precompute));
        }
        Ok(Self {
            settings: c_kzg::ethereum_kzg_settings(precompute),
        })
    }

    /// `blob_to_kzg_commitment(blob)`.
    pub fn blob_to_kzg_commitment(&self, blob_bytes: &[u8]) -> Result<KzgCommitment, KzgError> {
        let commitment = self.settings.blob_to_kzg_commitment(&blob(blob_bytes)?)?;
        Ok(KzgCommitment(*commitment))
    }

    /// `compute_kzg_proof(blob, z)`: the proof and the evaluation `y = p(z)`.
    pub fn compute_kzg_proof(
        &self,
        blob_bytes: &[u8],
        z: &[u8],
    ) -> Result<(KzgProof, Hash256), KzgError> {
        let (proof, y) = self
            .settings
            .compute_kzg_proof(&blob(blob_bytes)?, &bytes32("z", z)?)?;
        Ok((proof_out(&proof), Hash256::from(*y)))
    }

    /// `compute_blob_kzg_proof(blob, commitment)`.
    pub fn compute_blob_kzg_proof(
        &self,
        blob_bytes: &[u8],
        commitment: &[u8],
    ) -> Result<KzgProof, KzgError> {
        let proof = self
            .settings
            .compute_blob_kzg_proof(&blob(blob_bytes)?, &bytes48("commitment", commitment)?)?;
        Ok(proof_out(&proof))
    }

    /// `verify_kzg_proof(commitment, z, y, proof)`.
    pub fn verify_kzg_proof(
        &self,
        commitment: &[u8],
        z: &[u8],
        y: &[u8],
        proof: &[u8],
    ) -> Result<bool, KzgError> {
        Ok(self.settings.verify_kzg_proof(
            &bytes48("commitment", commitment)?,
            &bytes32("z", z)?,
            &bytes32("y", y)?,
            &bytes48("proof", proof)?,
        )?)
    }

    /// `verify_blob_kzg_proof(blob, commitment, proof)`.
    pub fn verify_blob_kzg_proof(
        &self,
        blob_bytes: &[u8],
        commitment: &[u8],
        proof: &[u8],
    ) -> Result<bool, KzgError> {
        Ok(self.settings.verify_blob_kzg_proof(
            &blob(blob_bytes)?,
            &bytes48("commitment", commitment)?,
            &bytes48("proof", proof)?,
        )?)
    }

    /// `verify_blob_kzg_proof_batch(blobs, commitments, proofs)`; true for an empty batch, as in
    /// the spec.
    pub fn verify_blob_kzg_proof_batch<B, C, P>(
        &self,
        blobs: &[B],
        commitments: &[C],
        proofs: &[P],
    ) -> Result<bool, KzgError>
    where
        B: AsRef<[u8]>,
        C: AsRef<[u8]>,
        P: AsRef<[u8]>,
    {
        same_len("blobs vs commitments", blobs.len(), commitments.len())?;
        same_len("blobs vs proofs", blobs.len(), proofs.len())?;
        let blobs = blobs
            .iter()
            .map(|b| blob(b.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let commitments = commitments
            .iter()
            .map(|c| bytes48("commitment", c.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let proofs = proofs
            .iter()
            .map(|p| bytes48("proof", p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self
            .settings
            .verify_blob_kzg_proof_batch(&blobs, &commitments, &proofs)?)
    }

    /// `compute_cells(blob)`: the `CELLS_PER_EXT_BLOB` cells of the extended blob.
    pub fn compute_cells(&self, blob_bytes: &[u8]) -> Result<Vec<Cell>, KzgError> {
        let cells = self.settings.compute_cells(&blob(blob_bytes)?)?;
        Ok(cells.iter().map(c_kzg::Cell::to_bytes).collect())
    }

    /// `compute_cells_and_kzg_proofs(blob)`: `CELLS_PER_EXT_BLOB` cells and their proofs.
    pub fn compute_cells_and_kzg_proofs(
        &self,
        blob_bytes: &[u8],
    ) -> Result<(Vec<Cell>, Vec<KzgProof>), KzgError> {
        let (cells, proofs) = self
            .settings
            .compute_cells_and_kzg_proofs(&blob(blob_bytes)?)?;
        Ok((
            cells.iter().map(c_kzg::Cell::to_bytes).collect(),
            proofs.iter().map(proof_out).collect(),
        ))
    }

    /// `recover_cells_and_kzg_proofs(cell_indices, cells)`: all cells and proofs of a blob from at
    /// least half of its cells (distinct indices below `CELLS_PER_EXT_BLOB`).
    pub fn recover_cells_and_kzg_proofs<C: AsRef<[u8]>>(
        &self,
        cell_indices: &[u64],
        cells: &[C],
    ) -> Result<(Vec<Cell>, Vec<KzgProof>), KzgError> {
        same_len("cell indices vs cells", cell_indices.len(), cells.len())?;
        let cells = cells
            .iter()
            .map(|c| cell(c.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let (cells, proofs) = self
            .settings
            .recover_cells_and_kzg_proofs(cell_indices, &cells)?;
        Ok((
            cells.iter().map(c_kzg::Cell::to_bytes).collect(),
            proofs.iter().map(proof_out).collect(),
        ))
    }

    /// `verify_cell_kzg_proof_batch(commitments, cell_indices, cells, proofs)`: cell `i` is cell
    /// `cell_indices[i]` of the blob committed to by `commitments[i]`. True for an empty batch.
    pub fn verify_cell_kzg_proof_batch<M, C, P>(
        &self,
        commitments: &[M],
        cell_indices: &[u64],
        cells: &[C],
        proofs: &[P],
    ) -> Result<bool, KzgError>
    where
        M: AsRef<[u8]>,
        C: AsRef<[u8]>,
        P: AsRef<[u8]>,
    {
        same_len("cells vs commitments", cells.len(), commitments.len())?;
        same_len("cells vs cell indices", cells.len(), cell_indices.len())?;
        same_len("cells vs proofs", cells.len(), proofs.len())?;
        let commitments = commitments
            .iter()
            .map(|c| bytes48("commitment", c.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let cells = cells
            .iter()
            .map(|c| cell(c.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let proofs = proofs
            .iter()
            .map(|p| bytes48("proof", p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.settings.verify_cell_kzg_proof_batch(
            &commitments,
            cell_indices,
            &cells,
            &proofs,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob of small canonical field elements.
    fn test_blob(seed: u8) -> Vec<u8> {
        let mut blob = vec![0u8; BYTES_PER_BLOB];
        for (i, fe) in blob.chunks_exact_mut(BYTES_PER_FIELD_ELEMENT).enumerate() {
            fe[31] = seed.wrapping_add(i as u8);
            fe[30] = (i >> 8) as u8;
        }
        blob
    }

    #[test]
    fn blob_commit_prove_verify() {
        let kzg = Kzg::mainnet();
        let blob = test_blob(1);
        let commitment = kzg.blob_to_kzg_commitment(&blob).unwrap();
        let proof = kzg.compute_blob_kzg_proof(&blob, &commitment.0).unwrap();
        assert!(
            kzg.verify_blob_kzg_proof(&blob, &commitment.0, &proof.0)
                .unwrap()
        );
        assert!(
            kzg.verify_blob_kzg_proof_batch(&[&blob[..]], &[commitment], &[proof])
                .unwrap()
        );
        let other = test_blob(2);
        assert!(
            !kzg.verify_blob_kzg_proof(&other, &commitment.0, &proof.0)
                .unwrap()
        );

        let z = [0u8; 32];
        let (proof, y) = kzg.compute_kzg_proof(&blob, &z).unwrap();
        assert!(
            kzg.verify_kzg_proof(&commitment.0, &z, y.as_slice(), &proof.0)
                .unwrap()
        );
        let mut y2 = y;
        y2.0[31] ^= 1;
        assert!(
            !kzg.verify_kzg_proof(&commitment.0, &z, y2.as_slice(), &proof.0)
                .unwrap()
        );
    }

    #[test]
    fn wrong_lengths_are_typed_errors() {
        let kzg = Kzg::mainnet();
        assert_eq!(
            kzg.blob_to_kzg_commitment(&[0u8; 10]),
            Err(KzgError::InvalidLength {
                what: "blob",
                expected: BYTES_PER_BLOB,
                got: 10
            })
        );
        let blob = test_blob(0);
        assert!(matches!(
            kzg.verify_blob_kzg_proof(&blob, &[0u8; 47], &[0u8; 48]),
            Err(KzgError::InvalidLength {
                what: "commitment",
                ..
            })
        ));
        assert!(matches!(
            kzg.verify_kzg_proof(&[0u8; 48], &[0u8; 33], &[0u8; 32], &[0u8; 48]),
            Err(KzgError::InvalidLength { what: "z", .. })
        ));
        assert!(matches!(
            kzg.verify_blob_kzg_proof_batch(&[&blob[..]], &[[0u8; 48]; 2], &[[0u8; 48]]),
            Err(KzgError::LengthMismatch { .. })
        ));
        assert!(matches!(
            kzg.verify_cell_kzg_proof_batch(&[[0u8; 48]], &[0], &[[0u8; 10]], &[[0u8; 48]]),
            Err(KzgError::InvalidLength { what: "cell", .. })
        ));
        assert!(matches!(
            kzg.recover_cells_and_kzg_proofs::<&[u8]>(&[], &[]),
            Err(KzgError::InvalidInput(_))
        ));
        assert!(matches!(
            Kzg::mainnet_with_precompute(16),
            Err(KzgError::UnsupportedPrecompute(16))
        ));
        // A non-canonical field element.
        let bad = vec![0xffu8; BYTES_PER_BLOB];
        assert!(matches!(
            kzg.blob_to_kzg_commitment(&bad),
            Err(KzgError::InvalidInput(_))
        ));
    }

    #[test]
    fn cells_round_trip() {
        let kzg = Kzg::mainnet();
        let blob = test_blob(3);
        let commitment = kzg.blob_to_kzg_commitment(&blob).unwrap();
        let (cells, proofs) = kzg.compute_cells_and_kzg_proofs(&blob).unwrap();
        assert_eq!(cells.len(), CELLS_PER_EXT_BLOB);
        assert_eq!(kzg.compute_cells(&blob).unwrap(), cells);
        let indices: Vec<u64> = (0..CELLS_PER_EXT_BLOB as u64).step_by(2).collect();
        let half: Vec<&Cell> = indices.iter().map(|&i| &cells[i as usize]).collect();
        let (recovered, recovered_proofs) =
            kzg.recover_cells_and_kzg_proofs(&indices, &half).unwrap();
        assert_eq!(recovered, cells);
        assert_eq!(recovered_proofs, proofs);
        let sel = [1usize, 64, 127];
        let ok = kzg
            .verify_cell_kzg_proof_batch(
                &[commitment; 3],
                &sel.map(|i| i as u64),
                &sel.map(|i| cells[i]),
                &sel.map(|i| proofs[i]),
            )
            .unwrap();
        assert!(ok);
        let wrong = kzg
            .verify_cell_kzg_proof_batch(&[commitment], &[2], &[cells[1]], &[proofs[1]])
            .unwrap();
        assert!(!wrong);
    }
}
