//! BLS verification: 64 distinct signature sets verified in one batch (one multi-pairing with
//! random scalars) against 64 individual verifications, and same-message batching.

use criterion::{Criterion, criterion_group, criterion_main};
use keel_crypto::bls::{
    PublicKey, SecretKey, Signature, SignatureSet, interop_secret_key, verify_signature_sets,
    verify_signature_sets_same_message,
};
use keel_types::Hash256;
use std::hint::black_box;

const SETS: usize = 64;

fn keys() -> Vec<(SecretKey, PublicKey)> {
    (0..SETS as u64)
        .map(|i| {
            let sk = interop_secret_key(i).expect("interop key");
            let pk = sk.public_key();
            (sk, pk)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let keys = keys();
    let messages: Vec<Hash256> = (0..SETS as u8).map(Hash256::repeat_byte).collect();
    let distinct: Vec<(Signature, &PublicKey, Hash256)> = keys
        .iter()
        .zip(&messages)
        .map(|((sk, pk), m)| (sk.sign(m.as_slice()), pk, *m))
        .collect();
    let same_message = Hash256::repeat_byte(0xaa);
    let same: Vec<(Signature, &PublicKey)> = keys
        .iter()
        .map(|(sk, pk)| (sk.sign(same_message.as_slice()), pk))
        .collect();

    // The benchmarks must measure successful verification, not an early exit.
    {
        let mut rng = rand::rng();
        let sets: Vec<SignatureSet> = distinct
            .iter()
            .map(|(sig, pk, m)| SignatureSet::single_pubkey(sig, *pk, *m))
            .collect();
        assert!(verify_signature_sets(&sets, &mut rng));
        let sets: Vec<SignatureSet> = same
            .iter()
            .map(|(sig, pk)| SignatureSet::single_pubkey(sig, *pk, same_message))
            .collect();
        assert!(verify_signature_sets_same_message(&sets, &mut rng));
    }

    let mut group = c.benchmark_group("bls");
    group.bench_function("64 distinct sets, individually", |b| {
        b.iter(|| {
            distinct
                .iter()
                .all(|(sig, pk, m)| sig.verify(pk, black_box(m.as_slice())))
        })
    });
    group.bench_function("64 distinct sets, one batch", |b| {
        let mut rng = rand::rng();
        b.iter(|| {
            let sets: Vec<SignatureSet> = distinct
                .iter()
                .map(|(sig, pk, m)| SignatureSet::single_pubkey(sig, *pk, *m))
                .collect();
            verify_signature_sets(black_box(&sets), &mut rng)
        })
    });
    group.bench_function("64 sets over one message, same-message batch", |b| {
        let mut rng = rand::rng();
        b.iter(|| {
            let sets: Vec<SignatureSet> = same
                .iter()
                .map(|(sig, pk)| SignatureSet::single_pubkey(sig, *pk, same_message))
                .collect();
            verify_signature_sets_same_message(black_box(&sets), &mut rng)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
