//! The signatures a block carries, as [`SignatureSet`]s, and the three ways of checking them
//! ([`SignatureMode`]).
//!
//! Each builder computes the spec's signing root and domain for one signature and pairs it with
//! the signer's decompressed key(s), borrowed from the [`PubkeyCache`] where the signer is a
//! validator. Block processing hands the builders to a [`SignatureSink`], which, by mode:
//!
//! - `Verify`: verifies each set at once, where the spec calls `bls.Verify` /
//!   `FastAggregateVerify`;
//! - `Batch`: keeps every set of the block and verifies them together in one
//!   [`verify_signature_sets`] call at the end (one multi-pairing); if the batch fails, each set
//!   is verified alone to name the invalid one. A block is accepted exactly when `Verify` would
//!   accept it (up to the batch's 2^-64 soundness error);
//! - `Skip`: builds nothing and verifies nothing (replaying blocks already known valid).
//!
//! What is not a validity check is never skipped or batched: deposit signatures decide whether a
//! deposit creates a validator, so they are always verified on the spot.

use crate::accessors::{compute_epoch_at_slot, get_current_epoch, get_domain};
use crate::pubkey_cache::{PubkeyCache, PubkeyError};
use crate::state::PostElectraState;
use keel_config::constants::{
    DOMAIN_BEACON_ATTESTER, DOMAIN_BEACON_PROPOSER, DOMAIN_BLS_TO_EXECUTION_CHANGE, DOMAIN_RANDAO,
    DOMAIN_VOLUNTARY_EXIT,
};
use keel_config::{ChainConfig, compute_domain, compute_signing_root};
use keel_crypto::bls::verify_signature_sets;
use keel_crypto::{BlsError, PublicKey, Signature, SignatureSet};
use keel_types::electra::{
    BeaconBlock, IndexedAttestation, SignedBLSToExecutionChange, SignedBeaconBlockHeader,
    SignedVoluntaryExit,
};
use keel_types::{Preset, Root, SignatureBytes};
use rand::CryptoRng;
use std::borrow::Cow;
use std::fmt;

/// How block processing treats signatures. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMode {
    /// Verify each signature where the spec does.
    Verify,
    /// Collect every signature of the block and verify them in one batch at the end.
    Batch,
    /// Verify no signature (replay of blocks known to be valid).
    Skip,
}

/// Which signature of a block a set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureOrigin {
    /// The proposer's signature over the block.
    BlockProposal,
    /// The RANDAO reveal.
    Randao,
    /// `header` (1 or 2) of the `index`-th proposer slashing.
    ProposerSlashing {
        index: usize,
        header: u8,
    },
    /// `attestation` (1 or 2) of the `index`-th attester slashing.
    AttesterSlashing {
        index: usize,
        attestation: u8,
    },
    Attestation {
        index: usize,
    },
    VoluntaryExit {
        index: usize,
    },
    BlsToExecutionChange {
        index: usize,
    },
    SyncAggregate,
}

impl fmt::Display for SignatureOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BlockProposal => write!(f, "block proposal"),
            Self::Randao => write!(f, "randao reveal"),
            Self::ProposerSlashing { index, header } => {
                write!(f, "proposer slashing {index}, header {header}")
            }
            Self::AttesterSlashing { index, attestation } => {
                write!(f, "attester slashing {index}, attestation {attestation}")
            }
            Self::Attestation { index } => write!(f, "attestation {index}"),
            Self::VoluntaryExit { index } => write!(f, "voluntary exit {index}"),
            Self::BlsToExecutionChange { index } => write!(f, "BLS to execution change {index}"),
            Self::SyncAggregate => write!(f, "sync aggregate"),
        }
    }
}

/// Why a signature was rejected. All of these make the spec's `bls.Verify` (or
/// `FastAggregateVerify`) return `False`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature does not verify")]
    Invalid,
    #[error("signature does not decode: {0}")]
    MalformedSignature(BlsError),
    #[error("signer key: {0}")]
    Pubkey(#[from] PubkeyError),
    #[error("signer key does not decode: {0}")]
    MalformedPubkey(BlsError),
}

/// A set to verify, or `None` when the signature is valid without a pairing check (the empty
/// sync aggregate signed by the point at infinity).
pub type SetResult<'a> = Result<Option<SignatureSet<'a>>, SignatureError>;

/// Receives the block's signature sets and treats them according to the [`SignatureMode`].
#[derive(Debug)]
pub struct SignatureSink<'a> {
    mode: SignatureMode,
    sets: Vec<(SignatureOrigin, SignatureSet<'a>)>,
}

impl<'a> SignatureSink<'a> {
    pub fn new(mode: SignatureMode) -> Self {
        Self {
            mode,
            sets: Vec::new(),
        }
    }

    pub fn mode(&self) -> SignatureMode {
        self.mode
    }

    /// Number of sets collected for the batch so far.
    pub fn collected(&self) -> usize {
        self.sets.len()
    }

    /// Checks one signature: `build` is only run unless the mode is `Skip`; in `Verify` mode the
    /// set is verified now, in `Batch` mode it is kept for [`SignatureSink::verify_batch`].
    pub fn check(
        &mut self,
        origin: SignatureOrigin,
        build: impl FnOnce() -> SetResult<'a>,
    ) -> Result<(), SignatureError> {
        match self.mode {
            SignatureMode::Skip => Ok(()),
            SignatureMode::Verify => match build()? {
                Some(set) if !set.verify() => Err(SignatureError::Invalid),
                _ => Ok(()),
            },
            SignatureMode::Batch => {
                if let Some(set) = build()? {
                    self.sets.push((origin, set));
                }
                Ok(())
            }
        }
    }

    /// Verifies every collected set in one batch (nothing to do outside `Batch` mode). On
    /// failure, finds the first invalid set and returns its origin.
    pub fn verify_batch<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(), SignatureOrigin> {
        let collected = std::mem::take(&mut self.sets);
        if collected.is_empty() {
            return Ok(());
        }
        let (origins, sets): (Vec<_>, Vec<_>) = collected.into_iter().unzip();
        if verify_signature_sets(&sets, rng) {
            return Ok(());
        }
        // Name the culprit. (If every set verifies alone, every signature is valid and the
        // batch was the one in 2^64 false negative: accept, as `Verify` would.)
        match sets.iter().zip(&origins).find(|(set, _)| !set.verify()) {
            Some((_, origin)) => Err(*origin),
            None => Ok(()),
        }
    }
}

/// Decodes signature bytes (a malformed encoding is an invalid signature).
pub fn decode_signature(bytes: &SignatureBytes) -> Result<Signature, SignatureError> {
    Signature::from_signature_bytes(bytes).map_err(SignatureError::MalformedSignature)
}

fn single<'a>(signature: &SignatureBytes, key: Cow<'a, PublicKey>, message: Root) -> SetResult<'a> {
    Ok(Some(SignatureSet::single_pubkey(
        decode_signature(signature)?,
        key,
        message,
    )))
}

/// `verify_block_signature`: the proposer's signature over the block, in the current epoch's
/// `DOMAIN_BEACON_PROPOSER`.
pub fn block_proposal_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: &'a PubkeyCache,
    block: &BeaconBlock<P>,
    signature: &SignatureBytes,
) -> SetResult<'a> {
    let domain = get_domain(state, DOMAIN_BEACON_PROPOSER, None);
    let signing_root = compute_signing_root(block, domain);
    let key = pubkeys.get(state, block.proposer_index)?;
    single(signature, key, signing_root)
}

/// `process_randao`'s check: the proposer's signature over the current epoch.
pub fn randao_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: &'a PubkeyCache,
    proposer_index: u64,
    randao_reveal: &SignatureBytes,
) -> SetResult<'a> {
    let epoch = get_current_epoch(state);
    let signing_root = compute_signing_root(&epoch, get_domain(state, DOMAIN_RANDAO, None));
    let key = pubkeys.get(state, proposer_index)?;
    single(randao_reveal, key, signing_root)
}

/// One signed header of a proposer slashing, in `DOMAIN_BEACON_PROPOSER` of the header's epoch.
pub fn proposer_slashing_header_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: &'a PubkeyCache,
    signed_header: &SignedBeaconBlockHeader,
) -> SetResult<'a> {
    let header = &signed_header.message;
    let domain = get_domain(
        state,
        DOMAIN_BEACON_PROPOSER,
        Some(compute_epoch_at_slot::<P>(header.slot)),
    );
    let signing_root = compute_signing_root(header, domain);
    let key = pubkeys.get(state, header.proposer_index)?;
    single(&signed_header.signature, key, signing_root)
}

/// `is_valid_indexed_attestation`'s signature check: `FastAggregateVerify` of the attesters'
/// keys over the attestation data, in `DOMAIN_BEACON_ATTESTER` of the target epoch. The caller
/// has checked that the indices are non-empty, sorted and unique.
pub fn indexed_attestation_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: &'a PubkeyCache,
    indexed_attestation: &IndexedAttestation<P>,
) -> SetResult<'a> {
    let data = &indexed_attestation.data;
    let domain = get_domain(state, DOMAIN_BEACON_ATTESTER, Some(data.target.epoch));
    let signing_root = compute_signing_root(data, domain);
    validators_signature_set(
        state,
        pubkeys,
        &indexed_attestation.attesting_indices,
        &indexed_attestation.signature,
        signing_root,
    )
}

/// `FastAggregateVerify(pubkeys of validators indices, message, signature)` as a set: the keys
/// are summed here (from the cache, by batched addition), so the set carries one key. Keys that
/// sum to the point at infinity make the signature invalid, as `FastAggregateVerify` says.
pub fn validators_signature_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    pubkeys: &PubkeyCache,
    indices: &[u64],
    signature: &SignatureBytes,
    message: Root,
) -> SetResult<'a> {
    let key = pubkeys
        .aggregate(state, indices)?
        .to_public_key()
        .map_err(|_| SignatureError::Invalid)?;
    Ok(Some(SignatureSet::single_pubkey(
        decode_signature(signature)?,
        Cow::<PublicKey>::Owned(key),
        message,
    )))
}

/// `process_voluntary_exit`'s check: the validator's signature in the Capella-pinned
/// `DOMAIN_VOLUNTARY_EXIT` (EIP-7044).
pub fn voluntary_exit_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
    pubkeys: &'a PubkeyCache,
    signed_exit: &SignedVoluntaryExit,
) -> SetResult<'a> {
    let exit = &signed_exit.message;
    let domain = compute_domain(
        DOMAIN_VOLUNTARY_EXIT,
        config.capella_fork_version,
        state.genesis_validators_root(),
    );
    let signing_root = compute_signing_root(exit, domain);
    let key = pubkeys.get(state, exit.validator_index)?;
    single(&signed_exit.signature, key, signing_root)
}

/// `process_bls_to_execution_change`'s check: signed by `from_bls_pubkey` (decoded here, not a
/// validator key) in the fork-agnostic `DOMAIN_BLS_TO_EXECUTION_CHANGE`.
pub fn bls_to_execution_change_set<'a, P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
    signed_change: &SignedBLSToExecutionChange,
) -> SetResult<'a> {
    let change = &signed_change.message;
    let domain = compute_domain(
        DOMAIN_BLS_TO_EXECUTION_CHANGE,
        config.genesis_fork_version,
        state.genesis_validators_root(),
    );
    let signing_root = compute_signing_root(change, domain);
    let key = PublicKey::from_pubkey_bytes(&change.from_bls_pubkey)
        .map_err(SignatureError::MalformedPubkey)?;
    single(&signed_change.signature, Cow::Owned(key), signing_root)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use keel_crypto::bls::interop_secret_key;
    use keel_types::Hash256;

    fn set(i: u64, signed: Hash256, claimed: Hash256) -> SignatureSet<'static> {
        let sk = interop_secret_key(i).unwrap();
        SignatureSet::single_pubkey(sk.sign(signed.as_slice()), sk.public_key(), claimed)
    }

    fn sets(bad: Option<usize>) -> Vec<(SignatureOrigin, SignatureSet<'static>)> {
        (0..5u64)
            .map(|i| {
                let message = Hash256::repeat_byte(i as u8);
                let signed = if bad == Some(i as usize) {
                    Hash256::repeat_byte(0xff)
                } else {
                    message
                };
                (
                    SignatureOrigin::Attestation { index: i as usize },
                    set(i, signed, message),
                )
            })
            .collect()
    }

    #[test]
    fn batch_accepts_valid_and_names_the_invalid_set() {
        let mut rng = rand::rng();
        let mut sink = SignatureSink::new(SignatureMode::Batch);
        for (origin, s) in sets(None) {
            sink.check(origin, || Ok(Some(s))).unwrap();
        }
        assert_eq!(sink.collected(), 5);
        assert_eq!(sink.verify_batch(&mut rng), Ok(()));

        let mut sink = SignatureSink::new(SignatureMode::Batch);
        for (origin, s) in sets(Some(3)) {
            sink.check(origin, || Ok(Some(s))).unwrap();
        }
        assert_eq!(
            sink.verify_batch(&mut rng),
            Err(SignatureOrigin::Attestation { index: 3 })
        );
    }

    #[test]
    fn verify_checks_at_once_and_skip_builds_nothing() {
        let mut sink = SignatureSink::new(SignatureMode::Verify);
        for (i, (origin, s)) in sets(Some(1)).into_iter().enumerate() {
            let result = sink.check(origin, || Ok(Some(s)));
            assert_eq!(result.is_err(), i == 1);
        }
        assert_eq!(sink.collected(), 0);

        let mut sink = SignatureSink::new(SignatureMode::Skip);
        sink.check(SignatureOrigin::Randao, || panic!("built in Skip mode"))
            .unwrap();
        assert_eq!(sink.verify_batch(&mut rand::rng()), Ok(()));
    }
}
