//! The decode stage on good, oversized, garbage and misplaced gossip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_config::ChainConfig;
use keel_decode::{DecodeError, GossipDecoder, max_compressed_len};
use keel_pipeline_api::{GossipMessage, PeerTag, RawMessage, Verdict};
use keel_types::ssz::Encode;
use keel_types::{ForkName, Hash256, Minimal, SignedBeaconBlock, electra, fulu};
use proptest::prelude::*;
use std::time::Instant;

fn fulu_chain() -> (ChainConfig, Hash256) {
    let mut config = ChainConfig::minimal();
    config.altair_fork_epoch = 0;
    config.bellatrix_fork_epoch = 0;
    config.capella_fork_epoch = 0;
    config.deneb_fork_epoch = 0;
    config.electra_fork_epoch = 0;
    config.fulu_fork_epoch = 0;
    (config, Hash256::repeat_byte(0x11))
}

fn raw(topic: String, data: Vec<u8>) -> RawMessage {
    RawMessage {
        topic,
        data,
        peer: PeerTag(1),
        received_at: Instant::now(),
    }
}

fn topic(decoder_config: &(ChainConfig, Hash256), name: &str) -> String {
    let digest = decoder_config.0.compute_fork_digest(decoder_config.1, 0);
    format!(
        "/eth2/{}/{name}/ssz_snappy",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn snappy(bytes: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(bytes).unwrap()
}

#[test]
fn a_block_decodes_for_the_topics_fork() {
    let chain = fulu_chain();
    let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
    let mut block = fulu::SignedBeaconBlock::<Minimal>::default();
    block.message.slot = 5;
    let (result, id) = decoder.decode(&raw(
        topic(&chain, "beacon_block"),
        snappy(&block.as_ssz_bytes()),
    ));
    let decoded = result.unwrap();
    assert_eq!(decoded.message_id, id);
    match decoded.message {
        GossipMessage::Block(b) => {
            assert_eq!(b.fork_name(), ForkName::Fulu);
            assert_eq!(*b, SignedBeaconBlock::Fulu(block));
        }
        other => panic!("decoded as {other:?}"),
    }
}

#[test]
fn an_attestation_keeps_its_subnet() {
    let chain = fulu_chain();
    let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
    let attestation = electra::SingleAttestation::default();
    let (result, _) = decoder.decode(&raw(
        topic(&chain, "beacon_attestation_7"),
        snappy(&attestation.as_ssz_bytes()),
    ));
    assert!(matches!(
        result.unwrap().message,
        GossipMessage::Attestation { subnet: 7, .. }
    ));
}

#[test]
fn an_oversized_claim_is_refused_before_allocating() {
    let chain = fulu_chain();
    let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
    // A snappy header claiming 100 MB, with no body behind it.
    let mut data = Vec::new();
    let mut n: u64 = 100_000_000;
    while n >= 0x80 {
        data.push((n as u8) | 0x80);
        n >>= 7;
    }
    data.push(n as u8);
    let (result, _) = decoder.decode(&raw(topic(&chain, "beacon_block"), data));
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::TooLarge {
                what: "uncompressed payload",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(err.verdict(), Verdict::Reject(_)));
}

#[test]
fn an_oversized_compressed_payload_is_refused() {
    let chain = fulu_chain();
    let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
    let data = vec![0u8; max_compressed_len(chain.0.max_payload_size) as usize + 1];
    let (result, _) = decoder.decode(&raw(topic(&chain, "beacon_block"), data));
    assert!(matches!(
        result,
        Err(DecodeError::TooLarge {
            what: "compressed payload",
            ..
        })
    ));
}

#[test]
fn garbage_and_wrong_types_are_rejected_unknown_digests_ignored() {
    let chain = fulu_chain();
    let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
    let garbage = decoder
        .decode(&raw(topic(&chain, "beacon_block"), vec![0xff; 40]))
        .0;
    assert!(matches!(garbage.unwrap_err().verdict(), Verdict::Reject(_)));

    let not_a_block = decoder
        .decode(&raw(topic(&chain, "beacon_block"), snappy(&[1, 2, 3])))
        .0;
    assert!(matches!(not_a_block, Err(DecodeError::Ssz { .. })));

    let blob_in_fulu = decoder
        .decode(&raw(topic(&chain, "blob_sidecar_0"), snappy(&[0; 8])))
        .0;
    assert!(matches!(blob_in_fulu, Err(DecodeError::NotInFork { .. })));

    let foreign = decoder
        .decode(&raw(
            "/eth2/deadbeef/beacon_block/ssz_snappy".into(),
            snappy(&[0; 8]),
        ))
        .0
        .unwrap_err();
    assert_eq!(
        foreign,
        DecodeError::UnknownForkDigest([0xde, 0xad, 0xbe, 0xef])
    );
    assert!(matches!(foreign.verdict(), Verdict::Ignore(_)));
}

#[test]
fn message_ids_depend_on_topic_and_on_whether_snappy_was_valid() {
    let chain = fulu_chain();
    let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
    let data = snappy(b"hello");
    let a = decoder
        .decode(&raw(topic(&chain, "voluntary_exit"), data.clone()))
        .1;
    let b = decoder
        .decode(&raw(topic(&chain, "proposer_slashing"), data.clone()))
        .1;
    assert_ne!(a, b);
    assert_eq!(
        a,
        decoder.message_id(&topic(&chain, "voluntary_exit"), Some(b"hello"), &data)
    );
    assert_ne!(
        a,
        decoder.message_id(&topic(&chain, "voluntary_exit"), None, &data)
    );
}

#[test]
fn batches_keep_their_order() {
    let chain = fulu_chain();
    let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
    let raws: Vec<RawMessage> = (0..64u64)
        .map(|i| {
            let att = electra::SingleAttestation {
                attester_index: i,
                ..Default::default()
            };
            raw(
                topic(&chain, "beacon_attestation_1"),
                snappy(&att.as_ssz_bytes()),
            )
        })
        .collect();
    let out = decoder.decode_batch(&raws);
    for (i, (result, _)) in out.into_iter().enumerate() {
        match result.unwrap().message {
            GossipMessage::Attestation { attestation, .. } => {
                assert_eq!(attestation.attester_index, i as u64)
            }
            other => panic!("{other:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048), kind in 0usize..6) {
        let chain = fulu_chain();
        let decoder = GossipDecoder::<Minimal>::new(&chain.0, chain.1);
        let names = ["beacon_block", "beacon_aggregate_and_proof", "beacon_attestation_0",
                     "attester_slashing", "data_column_sidecar_3", "sync_committee_contribution_and_proof"];
        let _ = decoder.decode(&raw(topic(&chain, names[kind]), data.clone()));
        let _ = decoder.decode(&raw(topic(&chain, names[kind]), snappy(&data)));
    }
}
