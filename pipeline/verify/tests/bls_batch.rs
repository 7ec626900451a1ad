//! Batches find exactly the bad signatures, whatever their mix of messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use keel_crypto::bls::{PublicKey, SecretKey, Signature, SignatureSet, interop_secret_key};
use keel_types::Hash256;
use keel_verify::bls_batch::{BatchItem, verify_batch};
use proptest::prelude::*;

struct Signer {
    sk: SecretKey,
    pk: PublicKey,
}

fn signers(n: u64) -> Vec<Signer> {
    (0..n)
        .map(|i| {
            let sk = interop_secret_key(i).unwrap();
            let pk = sk.public_key();
            Signer { sk, pk }
        })
        .collect()
}

/// Item `i` is signed by signer `i % n` over message `msg[i]`; `bad[i]` signs the wrong message.
fn items<'a>(signers: &'a [Signer], messages: &[u8], bad: &[bool]) -> Vec<BatchItem<'a, usize>> {
    messages
        .iter()
        .zip(bad)
        .enumerate()
        .map(|(i, (&m, &is_bad))| {
            let signer = &signers[i % signers.len()];
            let message = Hash256::repeat_byte(m);
            let signed = if is_bad {
                Hash256::repeat_byte(m ^ 0xff)
            } else {
                message
            };
            let sig: Signature = signer.sk.sign(signed.as_slice());
            BatchItem {
                item: i,
                sets: vec![SignatureSet::single_pubkey(sig, &signer.pk, message)],
            }
        })
        .collect()
}

#[test]
fn same_message_group_with_one_poisoned_signature() {
    let signers = signers(16);
    let mut bad = vec![false; 64];
    bad[37] = true;
    let (results, stats) = verify_batch(items(&signers, &[7; 64], &bad), &mut rand::rng());
    for (i, ok) in &results {
        assert_eq!(*ok, *i != 37, "item {i}");
    }
    assert_eq!(stats.same_message_groups, 1);
    assert_eq!(stats.invalid_sets, 1);
    // One failing check, then a bisection path of about log2(64) levels, two checks each.
    assert!(stats.checks <= 1 + 2 * 6, "{stats:?}");
}

#[test]
fn a_clean_batch_costs_one_check_per_group() {
    let signers = signers(8);
    let messages: Vec<u8> = (0..40).map(|i| (i % 4) as u8).chain(100..110).collect();
    let bad = vec![false; messages.len()];
    let (results, stats) = verify_batch(items(&signers, &messages, &bad), &mut rand::rng());
    assert!(results.iter().all(|(_, ok)| *ok));
    // Four same-message groups and one group for the ten distinct messages.
    assert_eq!((stats.same_message_groups, stats.checks), (4, 5));
}

#[test]
fn an_item_fails_if_any_of_its_sets_fails() {
    let signers = signers(2);
    let m = Hash256::repeat_byte(1);
    let good = signers[0].sk.sign(m.as_slice());
    let forged = signers[0].sk.sign(m.as_slice()); // signed by key 0, claimed by key 1
    let item = BatchItem {
        item: "two sets",
        sets: vec![
            SignatureSet::single_pubkey(good, &signers[0].pk, m),
            SignatureSet::single_pubkey(forged, &signers[1].pk, m),
        ],
    };
    let (results, _) = verify_batch(vec![item], &mut rand::rng());
    assert_eq!(results, vec![("two sets", false)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn exactly_the_bad_items_are_found(
        messages in proptest::collection::vec(0u8..4, 1..24),
        bad_mask in any::<u32>(),
    ) {
        let signers = signers(6);
        let bad: Vec<bool> = (0..messages.len()).map(|i| bad_mask >> i & 1 == 1).collect();
        let (results, _) = verify_batch(items(&signers, &messages, &bad), &mut rand::rng());
        for (i, ok) in results {
            prop_assert_eq!(ok, !bad[i]);
        }
    }
}
