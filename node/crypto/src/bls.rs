//! Ethereum BLS signatures: BLS12-381, public keys in G1 and signatures in G2 ("min_pk"), ciphersuite
//! `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (IETF draft v4, proof-of-possession scheme), on
//! top of `blst`.
//!
//! Decoded types carry their checks with them, so that verification never repeats them:
//! - [`PublicKey`]: decompressed, on the curve, in the G1 subgroup, not the point at infinity
//!   (the spec's `KeyValidate`).
//! - [`Signature`]: decompressed, on the curve, in the G2 subgroup. The point at infinity *is* a
//!   valid signature encoding (`G2_POINT_AT_INFINITY`); it simply verifies against nothing except
//!   the empty set in [`eth_fast_aggregate_verify`].
//!
//! Batch verification ([`verify_signature_sets`], [`verify_signature_sets_same_message`]) draws
//! random 64-bit scalars from a caller-supplied cryptographic RNG; see the soundness notes there.

use blst::min_pk as blst_core;
use blst::{BLST_ERROR, Pairing, blst_p1_affine, blst_p2_affine};
use keel_types::{Hash256, PublicKeyBytes, SignatureBytes};
use rand::CryptoRng;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use thiserror::Error;

/// The hash-to-curve domain separation tag of the proof-of-possession ciphersuite.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
pub const SECRET_KEY_BYTES_LEN: usize = 32;
pub const PUBLIC_KEY_BYTES_LEN: usize = 48;
pub const SIGNATURE_BYTES_LEN: usize = 96;
/// `G2_POINT_AT_INFINITY` (altair/bls.md).
pub const INFINITY_SIGNATURE: [u8; SIGNATURE_BYTES_LEN] = {
    let mut bytes = [0u8; SIGNATURE_BYTES_LEN];
    bytes[0] = 0xc0;
    bytes
};
/// Bits of the random scalars of batch verification: a forged batch passes with probability at
/// most 2^-64 per attempt.
const RAND_BITS: usize = 64;

/// Why bytes or inputs were rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlsError {
    #[error("{what}: expected {expected} bytes, got {got}")]
    InvalidLength {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("invalid public key: {0}")]
    InvalidPublicKey(&'static str),
    #[error("public key is the point at infinity")]
    InfinityPublicKey,
    #[error("invalid signature: {0}")]
    InvalidSignature(&'static str),
    #[error("invalid secret key: {0}")]
    InvalidSecretKey(&'static str),
    #[error("empty input: {0}")]
    EmptyInput(&'static str),
}

fn describe(err: BLST_ERROR) -> &'static str {
    match err {
        BLST_ERROR::BLST_BAD_ENCODING => "bad encoding",
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => "point not on the curve",
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => "point not in the prime-order subgroup",
        BLST_ERROR::BLST_PK_IS_INFINITY => "point at infinity",
        BLST_ERROR::BLST_BAD_SCALAR => "scalar out of range",
        _ => "rejected by blst",
    }
}

fn check_len(what: &'static str, bytes: &[u8], expected: usize) -> Result<(), BlsError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(BlsError::InvalidLength {
            what,
            expected,
            got: bytes.len(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

/// A BLS secret key (a non-zero scalar below the curve order). Zeroed on drop by blst; `Debug`
/// does not print it.
#[derive(Clone)]
pub struct SecretKey(blst_core::SecretKey);

impl SecretKey {
    /// Parses a 32-byte big-endian scalar; zero and values >= the curve order are rejected.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_len("secret key", bytes, SECRET_KEY_BYTES_LEN)?;
        blst_core::SecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| BlsError::InvalidSecretKey("zero or not below the curve order"))
    }

    /// A fresh key: IETF `KeyGen` over 32 bytes of input keying material from `rng`.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            let mut ikm = [0u8; 32];
            rng.fill_bytes(&mut ikm);
            // `key_gen` only fails for fewer than 32 bytes of keying material.
            if let Ok(sk) = blst_core::SecretKey::key_gen(&ikm, &[]) {
                return Self(sk);
            }
        }
    }

    /// The 32-byte big-endian encoding. Handle with care.
    pub fn to_bytes(&self) -> [u8; SECRET_KEY_BYTES_LEN] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// The spec's `Sign(privkey, message)`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message, DST, &[]))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A validated public key: on the curve, in the G1 subgroup, not the point at infinity.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(blst_core::PublicKey);

impl PublicKey {
    /// Decompresses 48 bytes and runs the spec's `KeyValidate`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_len("public key", bytes, PUBLIC_KEY_BYTES_LEN)?;
        let pk = blst_core::PublicKey::uncompress(bytes)
            .map_err(|e| BlsError::InvalidPublicKey(describe(e)))?;
        match pk.validate() {
            Ok(()) => Ok(Self(pk)),
            Err(BLST_ERROR::BLST_PK_IS_INFINITY) => Err(BlsError::InfinityPublicKey),
            Err(e) => Err(BlsError::InvalidPublicKey(describe(e))),
        }
    }

    pub fn from_pubkey_bytes(bytes: &PublicKeyBytes) -> Result<Self, BlsError> {
        Self::from_bytes(&bytes.0)
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> PublicKeyBytes {
        PublicKeyBytes(self.0.compress())
    }
}

impl TryFrom<&PublicKeyBytes> for PublicKey {
    type Error = BlsError;
    fn try_from(bytes: &PublicKeyBytes) -> Result<Self, BlsError> {
        Self::from_pubkey_bytes(bytes)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_bytes())
    }
}

/// A sum of public keys, kept in projective form while keys are being added.
#[derive(Clone)]
pub struct AggregatePublicKey(blst_core::AggregatePublicKey);

impl AggregatePublicKey {
    pub fn from_public_key(pk: &PublicKey) -> Self {
        Self(blst_core::AggregatePublicKey::from_public_key(&pk.0))
    }

    /// The spec's `AggregatePKs`: at least one key is required.
    pub fn aggregate(pks: &[&PublicKey]) -> Result<Self, BlsError> {
        let (first, rest) = pks
            .split_first()
            .ok_or(BlsError::EmptyInput("public keys"))?;
        let mut agg = Self::from_public_key(first);
        for pk in rest {
            agg.add(pk);
        }
        Ok(agg)
    }

    pub fn add(&mut self, pk: &PublicKey) {
        self.0
            .add_aggregate(&blst_core::AggregatePublicKey::from_public_key(&pk.0));
    }

    /// The sum of many keys (the point at infinity for none), by blst's batched affine addition
    /// (see [`SignatureSet`]'s key sum): for thousands of keys, several times faster than
    /// [`AggregatePublicKey::add`] per key.
    pub fn sum<'k>(keys: impl IntoIterator<Item = &'k PublicKey>) -> Self {
        let points: Vec<blst_p1_affine> = keys
            .into_iter()
            .map(|pk| blst_p1_affine::from(pk.0))
            .collect();
        Self(blst_core::AggregatePublicKey::from(sum_points(&points)))
    }

    /// Adds another sum to this one.
    pub fn add_aggregate(&mut self, other: &AggregatePublicKey) {
        self.0.add_aggregate(&other.0);
    }

    /// The sum as a [`PublicKey`]; fails if the keys cancel out to the point at infinity.
    pub fn to_public_key(&self) -> Result<PublicKey, BlsError> {
        let pk = self.0.to_public_key();
        if is_infinity_pk(&pk) {
            Err(BlsError::InfinityPublicKey)
        } else {
            Ok(PublicKey(pk))
        }
    }

    /// The compressed sum (`0xc0 00..` if the keys cancel out).
    pub fn to_bytes(&self) -> PublicKeyBytes {
        PublicKeyBytes(self.0.to_public_key().compress())
    }
}

fn is_infinity_pk(pk: &blst_core::PublicKey) -> bool {
    // blst represents the point at infinity in affine form as all-zero coordinates.
    *pk == blst_core::PublicKey::from(blst_p1_affine::default())
}

// ---------------------------------------------------------------------------------------------
// Signatures

/// A decoded signature: on the curve and in the G2 subgroup (possibly the point at infinity).
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(blst_core::Signature);

impl Signature {
    /// Decompresses 96 bytes and checks subgroup membership. The point at infinity is accepted.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_len("signature", bytes, SIGNATURE_BYTES_LEN)?;
        let sig = blst_core::Signature::uncompress(bytes)
            .map_err(|e| BlsError::InvalidSignature(describe(e)))?;
        sig.validate(false)
            .map_err(|e| BlsError::InvalidSignature(describe(e)))?;
        Ok(Self(sig))
    }

    pub fn from_signature_bytes(bytes: &SignatureBytes) -> Result<Self, BlsError> {
        Self::from_bytes(&bytes.0)
    }

    /// `G2_POINT_AT_INFINITY`, the signature of nothing.
    pub fn infinity() -> Self {
        Self(blst_core::Signature::from(blst_p2_affine::default()))
    }

    pub fn is_infinity(&self) -> bool {
        *self == Self::infinity()
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> SignatureBytes {
        SignatureBytes(self.0.compress())
    }

    /// The spec's `Verify(pubkey, message, signature)`.
    pub fn verify(&self, pk: &PublicKey, message: &[u8]) -> bool {
        self.0.verify(false, message, DST, &[], &pk.0, false) == BLST_ERROR::BLST_SUCCESS
    }

    /// The spec's `FastAggregateVerify`: all keys signed the same message. False for no keys (see
    /// [`eth_fast_aggregate_verify`] for the Altair exception) and for keys summing to infinity.
    pub fn fast_aggregate_verify(&self, pks: &[&PublicKey], message: &[u8]) -> bool {
        match AggregatePublicKey::aggregate(pks).and_then(|agg| agg.to_public_key()) {
            Ok(pk) => self.verify(&pk, message),
            Err(_) => false,
        }
    }

    /// The spec's `AggregateVerify`: key `i` signed message `i`. False for no keys or mismatched
    /// lengths. (The proof-of-possession scheme does not require distinct messages.)
    pub fn aggregate_verify(&self, pks: &[&PublicKey], messages: &[&[u8]]) -> bool {
        if pks.is_empty() || pks.len() != messages.len() {
            return false;
        }
        let pks: Vec<&blst_core::PublicKey> = pks.iter().map(|pk| &pk.0).collect();
        self.0.aggregate_verify(false, messages, DST, &pks, false) == BLST_ERROR::BLST_SUCCESS
    }

    fn point(&self) -> blst_p2_affine {
        self.0.into()
    }
}

impl TryFrom<&SignatureBytes> for Signature {
    type Error = BlsError;
    fn try_from(bytes: &SignatureBytes) -> Result<Self, BlsError> {
        Self::from_signature_bytes(bytes)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_bytes())
    }
}

/// A sum of signatures, kept in projective form while signatures are being added.
#[derive(Clone)]
pub struct AggregateSignature(blst_core::AggregateSignature);

impl AggregateSignature {
    /// The empty aggregate (`G2_POINT_AT_INFINITY`).
    pub fn infinity() -> Self {
        Self::from_signature(&Signature::infinity())
    }

    pub fn from_signature(sig: &Signature) -> Self {
        Self(blst_core::AggregateSignature::from_signature(&sig.0))
    }

    /// The spec's `Aggregate`: at least one signature is required.
    pub fn aggregate(sigs: &[&Signature]) -> Result<Self, BlsError> {
        let (first, rest) = sigs
            .split_first()
            .ok_or(BlsError::EmptyInput("signatures"))?;
        let mut agg = Self::from_signature(first);
        for sig in rest {
            agg.add(sig);
        }
        Ok(agg)
    }

    pub fn add(&mut self, sig: &Signature) {
        self.0
            .add_aggregate(&blst_core::AggregateSignature::from_signature(&sig.0));
    }

    pub fn add_aggregate(&mut self, other: &AggregateSignature) {
        self.0.add_aggregate(&other.0);
    }

    pub fn to_signature(&self) -> Signature {
        Signature(self.0.to_signature())
    }

    pub fn to_bytes(&self) -> SignatureBytes {
        self.to_signature().to_bytes()
    }
}

// ---------------------------------------------------------------------------------------------
// Altair extensions

/// The spec's `eth_aggregate_pubkeys`: at least one key, every key passes `KeyValidate`, returns
/// the compressed sum. (With keys already decoded, use [`AggregatePublicKey::aggregate`].)
pub fn eth_aggregate_pubkeys(pubkeys: &[PublicKeyBytes]) -> Result<PublicKeyBytes, BlsError> {
    let (first, rest) = pubkeys
        .split_first()
        .ok_or(BlsError::EmptyInput("public keys"))?;
    let mut agg = AggregatePublicKey::from_public_key(&PublicKey::from_pubkey_bytes(first)?);
    for bytes in rest {
        agg.add(&PublicKey::from_pubkey_bytes(bytes)?);
    }
    Ok(agg.to_bytes())
}

/// The spec's `eth_fast_aggregate_verify`: `FastAggregateVerify`, except that no keys with the
/// infinity signature is valid (an empty sync aggregate).
pub fn eth_fast_aggregate_verify(
    pubkeys: &[&PublicKey],
    message: &[u8],
    signature: &Signature,
) -> bool {
    if pubkeys.is_empty() && signature.is_infinity() {
        return true;
    }
    signature.fast_aggregate_verify(pubkeys, message)
}

// ---------------------------------------------------------------------------------------------
// Signature sets and batch verification

/// One signature to check: `signature` over `message` (a signing root) by the sum of
/// `signing_keys`. Keys and signature are borrowed when the caller holds them (e.g. a pubkey
/// cache) and owned when they were decoded for this check.
#[derive(Clone, Debug)]
pub struct SignatureSet<'a> {
    signature: Cow<'a, Signature>,
    signing_keys: Vec<Cow<'a, PublicKey>>,
    message: Hash256,
}

impl<'a> From<&'a Signature> for Cow<'a, Signature> {
    fn from(sig: &'a Signature) -> Self {
        Cow::Borrowed(sig)
    }
}

impl From<Signature> for Cow<'_, Signature> {
    fn from(sig: Signature) -> Self {
        Cow::Owned(sig)
    }
}

impl<'a> From<&'a PublicKey> for Cow<'a, PublicKey> {
    fn from(pk: &'a PublicKey) -> Self {
        Cow::Borrowed(pk)
    }
}

impl From<PublicKey> for Cow<'_, PublicKey> {
    fn from(pk: PublicKey) -> Self {
        Cow::Owned(pk)
    }
}

impl<'a> SignatureSet<'a> {
    pub fn single_pubkey(
        signature: impl Into<Cow<'a, Signature>>,
        signing_key: impl Into<Cow<'a, PublicKey>>,
        message: Hash256,
    ) -> Self {
        Self {
            signature: signature.into(),
            signing_keys: vec![signing_key.into()],
            message,
        }
    }

    /// A set whose signature is by the sum of `signing_keys` (an aggregate attestation, a sync
    /// aggregate). A set without keys never verifies.
    pub fn multiple_pubkeys(
        signature: impl Into<Cow<'a, Signature>>,
        signing_keys: Vec<Cow<'a, PublicKey>>,
        message: Hash256,
    ) -> Self {
        Self {
            signature: signature.into(),
            signing_keys,
            message,
        }
    }

    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    pub fn signing_keys(&self) -> &[Cow<'a, PublicKey>] {
        &self.signing_keys
    }

    pub fn message(&self) -> &Hash256 {
        &self.message
    }

    /// Verifies this set alone (`FastAggregateVerify`).
    pub fn verify(&self) -> bool {
        match self.signing_key() {
            Some(pk) => {
                self.signature
                    .0
                    .verify(false, self.message.as_slice(), DST, &[], &pk, false)
                    == BLST_ERROR::BLST_SUCCESS
            }
            None => false,
        }
    }

    /// The sum of the signing keys; `None` without keys or if they cancel out to infinity.
    fn signing_key(&self) -> Option<blst_core::PublicKey> {
        let (first, rest) = self.signing_keys.split_first()?;
        if rest.is_empty() {
            return Some(first.0);
        }
        let pk = if self.signing_keys.len() < BULK_ADDITION_MIN_KEYS {
            let mut agg = blst_core::AggregatePublicKey::from_public_key(&first.0);
            for pk in rest {
                agg.add_public_key(&pk.0, false).ok()?;
            }
            agg.to_public_key()
        } else {
            sum_public_keys(&self.signing_keys)
        };
        (!is_infinity_pk(&pk)).then_some(pk)
    }
}

/// From this many keys on, [`SignatureSet`] sums its keys with blst's batched affine addition
/// (`blst_p1s_add`: Montgomery's simultaneous inversion over pairs of points, about 5M+1S per
/// point instead of the 8M+5S of one mixed addition per key).
const BULK_ADDITION_MIN_KEYS: usize = 64;

/// The sum of validated keys (the point at infinity if they cancel out), by batched affine
/// addition. Same point as adding them one by one: blst's batched addition handles equal points
/// (doubling) and opposite points (infinity).
fn sum_public_keys(keys: &[Cow<'_, PublicKey>]) -> blst_core::PublicKey {
    let points: Vec<blst_p1_affine> = keys.iter().map(|pk| blst_p1_affine::from(pk.0)).collect();
    blst_core::AggregatePublicKey::from(sum_points(&points)).to_public_key()
}

/// `blst_p1s_add` over `points` (the point at infinity, all-zero projective coordinates, for
/// none).
fn sum_points(points: &[blst_p1_affine]) -> blst::blst_p1 {
    use blst::MultiPoint;
    if points.is_empty() {
        return blst::blst_p1::default();
    }
    points.add()
}

/// Non-zero 64-bit scalars, little-endian as blst reads them.
fn random_scalars<R: CryptoRng + ?Sized>(n: usize, rng: &mut R) -> Vec<[u8; 8]> {
    (0..n)
        .map(|_| {
            loop {
                let r = rng.next_u64();
                if r != 0 {
                    break r.to_le_bytes();
                }
            }
        })
        .collect()
}

/// Adds `e(r_i * pk_i, H(m_i))` and `r_i * sig_i` of every set to one pairing accumulator and
/// commits it; `None` if a set has no usable key.
fn accumulate(sets: &[SignatureSet<'_>], scalars: &[[u8; 8]]) -> Option<Pairing<'static>> {
    let mut pairing = Pairing::new(true, DST);
    for (set, scalar) in sets.iter().zip(scalars) {
        let pk: blst_p1_affine = set.signing_key()?.into();
        let sig = set.signature.point();
        // Keys and signatures were subgroup-checked when decoded: no checks here.
        let err = pairing.mul_n_aggregate(
            &pk,
            false,
            &sig,
            false,
            scalar,
            RAND_BITS,
            set.message.as_slice(),
            &[],
        );
        if err != BLST_ERROR::BLST_SUCCESS {
            return None;
        }
    }
    pairing.commit();
    Some(pairing)
}

/// Verifies many signature sets at once; true only if every set is valid.
///
/// Checks `prod_i e(r_i * pk_i, H(m_i)) == e(g1, sum_i r_i * sig_i)` in one multi-pairing (one
/// Miller loop per set, one final exponentiation), with independent random non-zero 64-bit `r_i`
/// from `rng` — the algorithm of blst's `verify_multiple_aggregate_signatures`, driven through its
/// `Pairing` API directly so that a caller's pool can share the work
/// ([`verify_signature_sets_in_pool`]). A batch with an invalid set passes with probability at
/// most 2^-64 provided `rng` is unpredictable to whoever built the sets; all points were
/// subgroup-checked at decoding, so the random scalars cannot be cancelled by small-order
/// components. One set is verified directly, without randomness. An empty batch returns false:
/// verifying nothing is a caller bug.
pub fn verify_signature_sets<R: CryptoRng + ?Sized>(
    sets: &[SignatureSet<'_>],
    rng: &mut R,
) -> bool {
    match sets {
        [] => false,
        [one] => one.verify(),
        _ => {
            let scalars = random_scalars(sets.len(), rng);
            accumulate(sets, &scalars).is_some_and(|pairing| pairing.finalverify(None))
        }
    }
}

/// [`verify_signature_sets`] with the Miller loops spread over `pool` (feature `rayon`). The
/// scalars are drawn up front from `rng`, so the result does not depend on the pool's scheduling.
#[cfg(feature = "rayon")]
pub fn verify_signature_sets_in_pool<R: CryptoRng + ?Sized>(
    sets: &[SignatureSet<'_>],
    rng: &mut R,
    pool: &rayon::ThreadPool,
) -> bool {
    use rayon::prelude::*;
    /// Below this many sets per task, splitting costs more than it saves.
    const MIN_SETS_PER_TASK: usize = 8;
    if sets.len() < 2 * MIN_SETS_PER_TASK {
        return verify_signature_sets(sets, rng);
    }
    let scalars = random_scalars(sets.len(), rng);
    let per_task = sets
        .len()
        .div_ceil(pool.current_num_threads().max(1))
        .max(MIN_SETS_PER_TASK);
    let merged = pool.install(|| {
        sets.par_chunks(per_task)
            .zip(scalars.par_chunks(per_task))
            .map(|(sets, scalars)| accumulate(sets, scalars))
            .try_reduce_with(|mut acc, other| {
                (acc.merge(&other) == BLST_ERROR::BLST_SUCCESS).then_some(acc)
            })
    });
    matches!(merged, Some(Some(pairing)) if pairing.finalverify(None))
}

/// Verifies many sets over the *same* message (e.g. sync committee messages for one block root,
/// or aggregates of one attestation data) for about the cost of one verification: two
/// multi-scalar multiplications and one two-pairing check,
/// `e(sum_i r_i * pk_i, H(m)) == e(g1, sum_i r_i * sig_i)`.
///
/// Soundness: write `sig_i = sk_i * H(m) + d_i`. The check passes iff `sum_i r_i * d_i = 0` in G2,
/// a group of prime order because every signature was subgroup-checked at decoding. If some
/// `d_j != 0`, then for any fixed values of the other scalars at most one value of `r_j` satisfies
/// this, so a batch with an invalid set passes with probability at most 1/(2^64 - 1) — provided
/// the `r_i` are drawn from `rng` after the sets are fixed and cannot be predicted by whoever made
/// them. Plain, unweighted aggregation would NOT be sound: two invalid signatures `sig_1 + d`,
/// `sig_2 - d` would sum to a valid one. Each set's keys must not sum to infinity (rejected here,
/// as [`SignatureSet::verify`] does), and keys are assumed to have proofs of possession (deposit
/// signatures), as everywhere in this ciphersuite.
///
/// Returns false if the sets do not all share one message, or if there are none.
pub fn verify_signature_sets_same_message<R: CryptoRng + ?Sized>(
    sets: &[SignatureSet<'_>],
    rng: &mut R,
) -> bool {
    let Some(first) = sets.first() else {
        return false;
    };
    if sets.iter().any(|set| set.message != first.message) {
        return false;
    }
    if sets.len() == 1 {
        return first.verify();
    }
    let mut pks = Vec::with_capacity(sets.len());
    for set in sets {
        match set.signing_key() {
            Some(pk) => pks.push(pk),
            None => return false,
        }
    }
    let sigs: Vec<blst_core::Signature> = sets.iter().map(|set| set.signature.0).collect();
    let scalars: Vec<u8> = random_scalars(sets.len(), rng).concat();
    let (Ok(agg_pk), Ok(agg_sig)) = (
        blst_core::AggregatePublicKey::aggregate_with_randomness(&pks, &scalars, RAND_BITS, false),
        blst_core::AggregateSignature::aggregate_with_randomness(&sigs, &scalars, RAND_BITS, false),
    ) else {
        return false;
    };
    // An infinity aggregate key is rejected by blst's verification.
    agg_sig.to_signature().verify(
        false,
        first.message.as_slice(),
        DST,
        &[],
        &agg_pk.to_public_key(),
        false,
    ) == BLST_ERROR::BLST_SUCCESS
}

// ---------------------------------------------------------------------------------------------
// Interop keys

/// The BLS12-381 group order `r`, as little-endian 64-bit limbs.
const CURVE_ORDER: [u64; 4] = [
    0xffff_ffff_0000_0001,
    0x53bd_a402_fffe_5bfe,
    0x3339_d808_09a1_d805,
    0x73ed_a753_299d_7d48,
];

/// The deterministic, NOT SECRET, interop validator key of `index` (eth2.0-pm
/// `interop/mocked_start/keygen.py`): `sha256(index as 32 bytes little-endian)`, read as a
/// little-endian integer, modulo the curve order.
pub fn interop_secret_key(index: u64) -> Result<SecretKey, BlsError> {
    let mut preimage = [0u8; 32];
    preimage[..8].copy_from_slice(&index.to_le_bytes());
    let digest: [u8; 32] = Sha256::digest(preimage).into();
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(digest.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(word);
    }
    // 2^256 < 3r, so at most two subtractions reduce the value.
    while !less_than(&limbs, &CURVE_ORDER) {
        limbs = subtract(&limbs, &CURVE_ORDER);
    }
    let mut big_endian = [0u8; 32];
    for (chunk, limb) in big_endian.chunks_exact_mut(8).zip(limbs.iter().rev()) {
        chunk.copy_from_slice(&limb.to_be_bytes());
    }
    SecretKey::from_bytes(&big_endian)
}

fn less_than(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

fn subtract(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        out[i] = d2;
        borrow = b1 || b2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(0x6b65656c)
    }

    fn keys(n: usize) -> Vec<SecretKey> {
        let mut rng = rng();
        (0..n).map(|_| SecretKey::random(&mut rng)).collect()
    }

    fn root(byte: u8) -> Hash256 {
        Hash256::repeat_byte(byte)
    }

    #[test]
    fn sign_verify_round_trip() {
        let sk = &keys(1)[0];
        let pk = sk.public_key();
        let msg = root(7);
        let sig = sk.sign(msg.as_slice());
        assert!(sig.verify(&pk, msg.as_slice()));

        // Through the wire encodings.
        let pk2 = PublicKey::from_pubkey_bytes(&pk.to_bytes()).unwrap();
        let sig2 = Signature::from_signature_bytes(&sig.to_bytes()).unwrap();
        assert_eq!(pk, pk2);
        assert_eq!(sig, sig2);
        assert!(sig2.verify(&pk2, msg.as_slice()));

        let sk2 = SecretKey::from_bytes(&sk.to_bytes()).unwrap();
        assert_eq!(sk2.public_key(), pk);
    }

    #[test]
    fn tampered_message_or_wrong_key_fails() {
        let ks = keys(2);
        let msg = root(1);
        let sig = ks[0].sign(msg.as_slice());
        assert!(!sig.verify(&ks[0].public_key(), root(2).as_slice()));
        assert!(!sig.verify(&ks[1].public_key(), msg.as_slice()));
        let mut tampered = msg;
        tampered.0[31] ^= 1;
        assert!(!sig.verify(&ks[0].public_key(), tampered.as_slice()));
        assert!(!Signature::infinity().verify(&ks[0].public_key(), msg.as_slice()));
    }

    #[test]
    fn decoding_rejects_bad_bytes() {
        assert_eq!(
            PublicKey::from_bytes(&[0u8; 47]),
            Err(BlsError::InvalidLength {
                what: "public key",
                expected: 48,
                got: 47
            })
        );
        let mut inf = [0u8; 48];
        inf[0] = 0xc0;
        assert_eq!(
            PublicKey::from_bytes(&inf),
            Err(BlsError::InfinityPublicKey)
        );
        assert!(matches!(
            PublicKey::from_bytes(&[0u8; 48]),
            Err(BlsError::InvalidPublicKey(_))
        ));
        assert!(matches!(
            Signature::from_bytes(&[0u8; 96]),
            Err(BlsError::InvalidSignature(_))
        ));
        assert!(Signature::from_bytes(&[0u8; 95]).is_err());
        assert!(
            Signature::from_bytes(&INFINITY_SIGNATURE)
                .unwrap()
                .is_infinity()
        );
        assert_eq!(Signature::infinity().to_bytes().0, INFINITY_SIGNATURE);
        assert!(SecretKey::from_bytes(&[0u8; 32]).is_err());
        assert!(SecretKey::from_bytes(&[0xff; 32]).is_err());
    }

    #[test]
    fn aggregation() {
        let ks = keys(4);
        let msg = root(3);
        let pks: Vec<PublicKey> = ks.iter().map(SecretKey::public_key).collect();
        let pk_refs: Vec<&PublicKey> = pks.iter().collect();
        let sigs: Vec<Signature> = ks.iter().map(|k| k.sign(msg.as_slice())).collect();
        let sig_refs: Vec<&Signature> = sigs.iter().collect();
        let agg = AggregateSignature::aggregate(&sig_refs)
            .unwrap()
            .to_signature();
        assert!(agg.fast_aggregate_verify(&pk_refs, msg.as_slice()));
        assert!(!agg.fast_aggregate_verify(&pk_refs[..3], msg.as_slice()));
        assert!(!agg.fast_aggregate_verify(&[], msg.as_slice()));
        assert!(eth_fast_aggregate_verify(&pk_refs, msg.as_slice(), &agg));
        assert!(eth_fast_aggregate_verify(
            &[],
            msg.as_slice(),
            &Signature::infinity()
        ));
        assert!(!eth_fast_aggregate_verify(&[], msg.as_slice(), &agg));

        let msgs: Vec<Hash256> = (0..4).map(|i| root(10 + i)).collect();
        let msg_refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let sigs: Vec<Signature> = ks
            .iter()
            .zip(&msgs)
            .map(|(k, m)| k.sign(m.as_slice()))
            .collect();
        let sig_refs: Vec<&Signature> = sigs.iter().collect();
        let agg = AggregateSignature::aggregate(&sig_refs)
            .unwrap()
            .to_signature();
        assert!(agg.aggregate_verify(&pk_refs, &msg_refs));
        assert!(!agg.aggregate_verify(&pk_refs[..3], &msg_refs[..3]));
        assert!(!agg.aggregate_verify(&pk_refs, &msg_refs[..3]));

        let bytes: Vec<PublicKeyBytes> = pks.iter().map(PublicKey::to_bytes).collect();
        let sum = AggregatePublicKey::aggregate(&pk_refs)
            .unwrap()
            .to_public_key()
            .unwrap();
        assert_eq!(eth_aggregate_pubkeys(&bytes).unwrap(), sum.to_bytes());
        assert_eq!(
            eth_aggregate_pubkeys(&[]),
            Err(BlsError::EmptyInput("public keys"))
        );
        assert!(AggregateSignature::aggregate(&[]).is_err());
    }

    /// The batched affine sum equals the one-by-one sum, with repeated keys (doubling) and a
    /// key and its negation (cancelling) among them.
    #[test]
    fn bulk_key_sum_matches_sequential_sum() {
        let ks = keys(40);
        let mut pks: Vec<PublicKey> = ks.iter().map(SecretKey::public_key).collect();
        // Repeats: doubling inside the batched addition.
        for i in 0..100 {
            pks.push(pks[i % 7].clone());
        }
        let neg = {
            let mut agg = blst_core::AggregatePublicKey::from_public_key(&pks[3].0);
            agg.sub_aggregate(&blst_core::AggregatePublicKey::from_public_key(&pks[3].0));
            agg.sub_aggregate(&blst_core::AggregatePublicKey::from_public_key(&pks[3].0));
            PublicKey(agg.to_public_key())
        };
        pks.push(neg);
        let refs: Vec<&PublicKey> = pks.iter().collect();
        let sequential = AggregatePublicKey::aggregate(&refs)
            .unwrap()
            .to_public_key();
        let bulk = AggregatePublicKey::sum(refs.iter().copied()).to_public_key();
        assert_eq!(bulk, sequential);
        let mut halves = AggregatePublicKey::sum(refs[..70].iter().copied());
        halves.add_aggregate(&AggregatePublicKey::sum(refs[70..].iter().copied()));
        assert_eq!(halves.to_public_key(), sequential);
        assert!(
            AggregatePublicKey::sum(std::iter::empty())
                .to_public_key()
                .is_err()
        );

        // Through a signature set (>= BULK_ADDITION_MIN_KEYS keys): signs with the sum.
        let msg = root(4);
        let sk_sum: Vec<&SecretKey> = (0..pks.len())
            .map(|i| if i < 40 { &ks[i] } else { &ks[(i - 40) % 7] })
            .take(140)
            .collect();
        let sigs: Vec<Signature> = sk_sum.iter().map(|k| k.sign(msg.as_slice())).collect();
        let sig_refs: Vec<&Signature> = sigs.iter().collect();
        let agg = AggregateSignature::aggregate(&sig_refs)
            .unwrap()
            .to_signature();
        let set = SignatureSet::multiple_pubkeys(
            &agg,
            pks[..140].iter().map(Cow::Borrowed).collect(),
            msg,
        );
        assert!(set.verify());
        let mut cancelled = pks[..140].iter().map(Cow::Borrowed).collect::<Vec<_>>();
        cancelled.push(Cow::Borrowed(&pks[140]));
        assert!(!SignatureSet::multiple_pubkeys(&agg, cancelled, msg).verify());
    }

    /// 64 sets: single-key and multi-key, borrowed and owned, over distinct messages.
    fn sets_of<'a>(
        pks: &'a [PublicKey],
        sigs: &'a [Signature],
        msgs: &[Hash256],
    ) -> Vec<SignatureSet<'a>> {
        (0..pks.len())
            .map(|i| {
                if i % 4 == 0 {
                    SignatureSet::single_pubkey(sigs[i].clone(), &pks[i], msgs[i])
                } else {
                    SignatureSet::single_pubkey(&sigs[i], pks[i].clone(), msgs[i])
                }
            })
            .collect()
    }

    #[test]
    fn batch_of_64_sets() {
        let ks = keys(64);
        let pks: Vec<PublicKey> = ks.iter().map(SecretKey::public_key).collect();
        let msgs: Vec<Hash256> = (0..64).map(|i| root(i as u8)).collect();
        let sigs: Vec<Signature> = ks
            .iter()
            .zip(&msgs)
            .map(|(k, m)| k.sign(m.as_slice()))
            .collect();
        let mut rng = rng();

        let sets = sets_of(&pks, &sigs, &msgs);
        assert!(verify_signature_sets(&sets, &mut rng));
        assert!(verify_signature_sets(&sets[..1], &mut rng));
        assert!(!verify_signature_sets(&[], &mut rng));

        // One wrong message, one wrong key, one swapped signature: each fails the whole batch.
        for bad in [5usize, 32, 63] {
            let mut sets = sets_of(&pks, &sigs, &msgs);
            sets[bad].message = root(200);
            assert!(
                !verify_signature_sets(&sets, &mut rng),
                "bad message at {bad}"
            );
            let mut sets = sets_of(&pks, &sigs, &msgs);
            sets[bad].signing_keys = vec![Cow::Borrowed(&pks[(bad + 1) % 64])];
            assert!(!verify_signature_sets(&sets, &mut rng), "bad key at {bad}");
            let mut sets = sets_of(&pks, &sigs, &msgs);
            sets[bad].signature = Cow::Owned(Signature::infinity());
            assert!(
                !verify_signature_sets(&sets, &mut rng),
                "bad signature at {bad}"
            );
        }

        // Two invalid signatures that sum to the valid aggregate: plain aggregation would accept.
        let mut sets = sets_of(&pks, &sigs, &msgs);
        let mut shifted = AggregateSignature::from_signature(&sigs[0]);
        shifted.add(&sigs[1]);
        sets[0].signature = Cow::Owned(shifted.to_signature());
        sets[1].signature = Cow::Owned(Signature::infinity());
        assert!(!verify_signature_sets(&sets, &mut rng));
    }

    #[test]
    fn multi_key_sets_in_batch() {
        let ks = keys(6);
        let pks: Vec<PublicKey> = ks.iter().map(SecretKey::public_key).collect();
        let (m1, m2) = (root(1), root(2));
        let agg1 = AggregateSignature::aggregate(&[
            &ks[0].sign(m1.as_slice()),
            &ks[1].sign(m1.as_slice()),
        ])
        .unwrap()
        .to_signature();
        let agg2 = AggregateSignature::aggregate(&[
            &ks[2].sign(m2.as_slice()),
            &ks[3].sign(m2.as_slice()),
            &ks[4].sign(m2.as_slice()),
        ])
        .unwrap()
        .to_signature();
        let single = ks[5].sign(m1.as_slice());
        let sets = vec![
            SignatureSet::multiple_pubkeys(&agg1, vec![(&pks[0]).into(), (&pks[1]).into()], m1),
            SignatureSet::multiple_pubkeys(agg2, pks[2..5].iter().map(Cow::Borrowed).collect(), m2),
            SignatureSet::single_pubkey(&single, &pks[5], m1),
        ];
        let mut rng = rng();
        assert!(sets.iter().all(SignatureSet::verify));
        assert!(verify_signature_sets(&sets, &mut rng));
        let mut bad = sets.clone();
        bad[1].signing_keys.pop();
        assert!(!bad[1].verify());
        assert!(!verify_signature_sets(&bad, &mut rng));
        let mut empty = sets.clone();
        empty[0].signing_keys.clear();
        assert!(!verify_signature_sets(&empty, &mut rng));
    }

    #[test]
    fn same_message_batch() {
        let ks = keys(16);
        let pks: Vec<PublicKey> = ks.iter().map(SecretKey::public_key).collect();
        let msg = root(9);
        let sigs: Vec<Signature> = ks.iter().map(|k| k.sign(msg.as_slice())).collect();
        let mut rng = rng();
        let sets: Vec<SignatureSet> = pks
            .iter()
            .zip(&sigs)
            .map(|(pk, sig)| SignatureSet::single_pubkey(sig, pk, msg))
            .collect();
        assert!(verify_signature_sets_same_message(&sets, &mut rng));
        assert!(verify_signature_sets_same_message(&sets[..1], &mut rng));
        assert!(!verify_signature_sets_same_message(&[], &mut rng));

        // A signature by the wrong key.
        let mut bad = sets.clone();
        bad[3].signature = Cow::Owned(ks[4].sign(msg.as_slice()));
        assert!(!verify_signature_sets_same_message(&bad, &mut rng));

        // Cancelling errors: sig_0 + sig_1 in slot 0 and infinity in slot 1.
        let mut bad = sets.clone();
        let mut shifted = AggregateSignature::from_signature(&sigs[0]);
        shifted.add(&sigs[1]);
        bad[0].signature = Cow::Owned(shifted.to_signature());
        bad[1].signature = Cow::Owned(Signature::infinity());
        assert!(!verify_signature_sets_same_message(&bad, &mut rng));

        // Different messages are refused rather than mis-verified.
        let mut mixed = sets.clone();
        mixed[2] = SignatureSet::single_pubkey(ks[2].sign(root(8).as_slice()), &pks[2], root(8));
        assert!(!verify_signature_sets_same_message(&mixed, &mut rng));
        assert!(verify_signature_sets(&mixed, &mut rng));

        // Keys summing to infinity with the infinity signature.
        let neg = {
            // pk + (-pk): build -pk as the aggregate-key complement through blst.
            let mut agg = blst_core::AggregatePublicKey::from_public_key(&pks[0].0);
            agg.sub_aggregate(&blst_core::AggregatePublicKey::from_public_key(&pks[0].0));
            agg.sub_aggregate(&blst_core::AggregatePublicKey::from_public_key(&pks[0].0));
            PublicKey(agg.to_public_key())
        };
        let mut cancel = sets.clone();
        cancel[0] = SignatureSet::multiple_pubkeys(
            Signature::infinity(),
            vec![pks[0].clone().into(), neg.into()],
            msg,
        );
        assert!(!cancel[0].verify());
        assert!(!verify_signature_sets_same_message(&cancel, &mut rng));
        assert!(!verify_signature_sets(&cancel, &mut rng));
    }

    #[cfg(feature = "rayon")]
    #[test]
    fn batch_in_pool() {
        let ks = keys(64);
        let pks: Vec<PublicKey> = ks.iter().map(SecretKey::public_key).collect();
        let msgs: Vec<Hash256> = (0..64).map(|i| root(i as u8)).collect();
        let sigs: Vec<Signature> = ks
            .iter()
            .zip(&msgs)
            .map(|(k, m)| k.sign(m.as_slice()))
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut rng = rng();
        let sets = sets_of(&pks, &sigs, &msgs);
        assert!(verify_signature_sets_in_pool(&sets, &mut rng, &pool));
        let mut bad = sets_of(&pks, &sigs, &msgs);
        bad[40].message = root(255);
        assert!(!verify_signature_sets_in_pool(&bad, &mut rng, &pool));
    }

    #[test]
    fn interop_key_zero_matches_published_pubkey() {
        let sk = interop_secret_key(0).unwrap();
        assert_eq!(
            hex::encode(sk.to_bytes()),
            "25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866"
        );
        assert_eq!(
            sk.public_key().to_bytes(),
            PublicKeyBytes::from_hex(
                "0xa99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c"
            )
            .unwrap()
        );
        let sk1 = interop_secret_key(1).unwrap();
        assert_eq!(
            sk1.public_key().to_bytes(),
            PublicKeyBytes::from_hex(
                "0xb89bebc699769726a318c8e9971bd3171297c61aea4a6578a7a4f94b547dcba5bac16a89108b6b6a1fe3695d1a874a0b"
            )
            .unwrap()
        );
    }

    #[test]
    fn modular_reduction() {
        let r_plus_5 = {
            let mut v = CURVE_ORDER;
            v[0] += 5;
            v
        };
        assert!(!less_than(&r_plus_5, &CURVE_ORDER));
        assert_eq!(subtract(&r_plus_5, &CURVE_ORDER), [5, 0, 0, 0]);
        assert_eq!(subtract(&[0, 1, 0, 0], &[1, 0, 0, 0]), [u64::MAX, 0, 0, 0]);
    }

    /// The privkey of the spec generators' first BLS key signs the zero root to the signature in
    /// the `eth_fast_aggregate_verify_valid_0` vector.
    #[test]
    fn matches_spec_generator_signature() {
        let sk = SecretKey::from_bytes(
            &hex::decode("263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            sk.public_key().to_bytes(),
            PublicKeyBytes::from_hex(
                "0xa491d1b0ecd9bb917989f0e74f0dea0422eac4a873e5e2644f368dffb9a6e20fd6e10c1b77654d067c0618f6e5a7f79a"
            )
            .unwrap()
        );
        assert_eq!(
            hex::encode(sk.sign(&[0u8; 32]).to_bytes().0),
            "b6ed936746e01f8ecf281f020953fbf1f01debd5657c4a383940b020b26507f6076334f91e2366c96e9ab279fb5158090352ea1c5b0c9274504f4f0e7053af24802e51e4568d164fe986834f41e55c8e850ce1f98458c0cfc9ab380b55285a55"
        );
    }
}
