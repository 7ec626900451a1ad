//! Keel's cryptography: Ethereum BLS signatures and KZG commitments.
//!
//! Owns: decoding and validating BLS public keys and signatures (`bls`), signing, single,
//! aggregate and batch verification (`bls::verify_signature_sets`), the Altair BLS extensions, the
//! deterministic interop keys; and the EIP-4844 / EIP-7594 KZG functions over the embedded mainnet
//! trusted setup (`kzg`).
//!
//! Inputs: wire bytes (`keel_types::{PublicKeyBytes, SignatureBytes}`, byte slices for blobs,
//! cells, commitments and proofs), signing roots computed by the caller, and — for batch
//! verification — a caller-supplied cryptographic RNG (and, with feature `rayon`, optionally a
//! caller-supplied thread pool).
//!
//! Outputs: validated key and signature types, `bool` verdicts, commitments, proofs and cells
//! (`keel_types::{KzgCommitment, KzgProof}`); every malformed input is a typed error
//! (`BlsError`, `KzgError`), never a panic.
//!
//! Must not: do I/O, read clocks, spawn threads (blst is built with `no-threads`), compute signing
//! roots or domains (that is the state transition's job), or cache keys by validator index (the
//! caller's pubkey cache holds decoded `PublicKey`s and lends them to `SignatureSet`s).

pub mod bls;
pub mod kzg;

pub use bls::{
    AggregatePublicKey, AggregateSignature, BlsError, PublicKey, SecretKey, Signature, SignatureSet,
};
pub use kzg::{Kzg, KzgError};
