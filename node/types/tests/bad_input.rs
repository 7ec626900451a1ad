//! Hostile bytes never panic the decoders.
//!
//! Every SSZ payload Keel decodes comes from a peer, a file or an API client. For each container
//! (the major ones with populated samples, and every container of every fork with its default
//! value) and both presets, proptest feeds the decoder:
//!
//! - arbitrary bytes,
//! - valid encodings truncated at a random point,
//! - valid encodings with garbage appended,
//! - valid encodings with random bytes overwritten,
//! - valid encodings with a random value written over something that looks like an SSZ offset.
//!
//! Decoding must return `Err`, or a value that re-encodes to exactly the input (SSZ is canonical)
//! and decodes again to itself; hashing the value must not panic either. A panic anywhere fails
//! the test.

use std::fmt::Debug;
use std::sync::Arc;

use keel_types::ssz::{Decode, Encode};
use keel_types::ssz_types::{BitList, BitVector, FixedVector, VariableList, typenum::Unsigned};
use keel_types::tree_hash::TreeHash;
use keel_types::*;
use milhouse::{List, Vector};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

// ---------------------------------------------------------------------------------------------
// The fuzzing harness
// ---------------------------------------------------------------------------------------------

/// Positions of 4-byte little-endian values that could be SSZ offsets: pointing forward, into the
/// encoding.
fn offset_candidates(bytes: &[u8]) -> Vec<usize> {
    let len = bytes.len();
    (0..len.saturating_sub(3))
        .filter(|&p| {
            let v =
                u32::from_le_bytes([bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]]) as usize;
            v >= p + 4 && v <= len
        })
        .take(4096)
        .collect()
}

/// Inputs derived from `valid` encodings (plus arbitrary bytes).
fn inputs(valid: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    let arbitrary = vec(any::<u8>(), 0..600).boxed();
    let valid: Vec<Vec<u8>> = valid.into_iter().filter(|v| !v.is_empty()).collect();
    if valid.is_empty() {
        return arbitrary;
    }
    let valid = Arc::new(valid);
    let n = valid.len();

    let v = valid.clone();
    let truncated = (0..n, any::<Index>()).prop_map(move |(i, cut)| {
        let sample = &v[i];
        sample[..cut.index(sample.len())].to_vec()
    });

    let v = valid.clone();
    let extended = (0..n, vec(any::<u8>(), 1..64)).prop_map(move |(i, garbage)| {
        let mut sample = v[i].clone();
        sample.extend_from_slice(&garbage);
        sample
    });

    let v = valid.clone();
    let mutated = (0..n, vec((any::<Index>(), any::<u8>()), 1..4)).prop_map(move |(i, pokes)| {
        let mut sample = v[i].clone();
        for (at, byte) in pokes {
            let at = at.index(sample.len());
            sample[at] = byte;
        }
        sample
    });

    let candidates: Arc<Vec<Vec<usize>>> =
        Arc::new(valid.iter().map(|v| offset_candidates(v)).collect());
    let v = valid.clone();
    let offset_value = prop_oneof![
        any::<u32>(),
        0u32..16,
        any::<Index>().prop_map(|i| i.index(1 << 20) as u32),
    ];
    let offset_poked = (0..n, any::<Index>(), offset_value, any::<i8>()).prop_map(
        move |(i, which, value, delta)| {
            let mut sample = v[i].clone();
            let len = sample.len();
            let at = match candidates[i].as_slice() {
                [] => which.index(len.saturating_sub(3).max(1)),
                positions => positions[which.index(positions.len())],
            };
            // Either an arbitrary value or the old offset nudged by a few bytes.
            let new = if delta % 2 == 0 {
                value
            } else {
                let old = sample
                    .get(at..at + 4)
                    .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                old.wrapping_add(i32::from(delta / 2) as u32)
            };
            if at + 4 <= len {
                sample[at..at + 4].copy_from_slice(&new.to_le_bytes());
            }
            sample
        },
    );

    prop_oneof![
        1 => arbitrary,
        2 => truncated,
        1 => extended,
        2 => mutated,
        3 => offset_poked,
    ]
    .boxed()
}

/// Runs `check` on `cases` inputs derived from `valid`.
fn fuzz(
    what: &str,
    valid: Vec<Vec<u8>>,
    cases: u32,
    check: impl Fn(&[u8]) -> Result<(), TestCaseError>,
) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&inputs(valid), |input| check(&input)) {
        panic!("{what}: {e}");
    }
}

/// Fewer cases for big samples (mainnet states are megabytes), so the suite stays fast.
fn cases_for(valid: &[Vec<u8>], small: u32) -> u32 {
    let largest = valid.iter().map(Vec::len).max().unwrap_or(0);
    match largest {
        0..=65_536 => small,
        65_537..=1_000_000 => small.div_ceil(4),
        _ => 6,
    }
}

/// The property: `Err`, or a value that is exactly the input's meaning.
fn check_decode<T: Decode + Encode + TreeHash + PartialEq + Debug>(
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    let Ok(value) = T::from_ssz_bytes(bytes) else {
        return Ok(());
    };
    let encoded = value.as_ssz_bytes();
    prop_assert!(
        encoded == bytes,
        "accepted a non-canonical encoding ({} bytes)",
        bytes.len()
    );
    let again = T::from_ssz_bytes(&encoded)
        .map_err(|e| TestCaseError::fail(format!("re-encoding does not decode: {e:?}")))?;
    prop_assert!(again == value, "re-decoded value differs");
    let _ = value.tree_hash_root();
    Ok(())
}

fn fuzz_type<T: Decode + Encode + TreeHash + PartialEq + Debug>(
    what: &str,
    samples: &[T],
    cases: u32,
) {
    let valid: Vec<Vec<u8>> = samples.iter().map(Encode::as_ssz_bytes).collect();
    for (sample, bytes) in samples.iter().zip(&valid) {
        // The samples themselves must be valid, or the derived inputs test little.
        assert_eq!(
            T::from_ssz_bytes(bytes).as_ref(),
            Ok(sample),
            "{what}: sample does not round-trip"
        );
    }
    let cases = cases_for(&valid, cases);
    fuzz(what, valid, cases, check_decode::<T>);
}

// ---------------------------------------------------------------------------------------------
// Populated samples of the major containers
// ---------------------------------------------------------------------------------------------

fn list<T, N: Unsigned>(items: Vec<T>) -> VariableList<T, N> {
    VariableList::new(items).expect("sample within limit")
}

fn fixed<T: Clone, N: Unsigned>(item: T) -> FixedVector<T, N> {
    FixedVector::from_elem(item)
}

fn bits<N: Unsigned + Clone>(len: usize, set: &[usize]) -> BitList<N> {
    let mut bits = BitList::with_capacity(len).expect("sample within limit");
    for &i in set {
        bits.set(i, true).expect("bit within length");
    }
    bits
}

fn bitvector<N: Unsigned + Clone>(set: &[usize]) -> BitVector<N> {
    let mut bits = BitVector::new();
    for &i in set {
        bits.set(i, true).expect("bit within length");
    }
    bits
}

fn root(byte: u8) -> Hash256 {
    Hash256::repeat_byte(byte)
}

fn attestation_data(slot: u64) -> phase0::AttestationData {
    phase0::AttestationData {
        slot,
        index: 1,
        beacon_block_root: root(1),
        source: phase0::Checkpoint {
            epoch: 2,
            root: root(2),
        },
        target: phase0::Checkpoint {
            epoch: 3,
            root: root(3),
        },
    }
}

fn phase0_attestation<P: Preset>() -> phase0::Attestation<P> {
    phase0::Attestation {
        aggregation_bits: bits(13, &[0, 5, 12]),
        data: attestation_data(9),
        signature: SignatureBytes::infinity(),
    }
}

fn electra_attestation<P: Preset>() -> electra::Attestation<P> {
    electra::Attestation {
        aggregation_bits: bits(21, &[1, 20]),
        data: attestation_data(10),
        signature: SignatureBytes::infinity(),
        committee_bits: bitvector(&[0, 2]),
    }
}

fn phase0_slashing<P: Preset>() -> phase0::AttesterSlashing<P> {
    let indexed = phase0::IndexedAttestation {
        attesting_indices: list(vec![1, 4, 9]),
        data: attestation_data(4),
        signature: SignatureBytes::infinity(),
    };
    phase0::AttesterSlashing {
        attestation_1: indexed.clone(),
        attestation_2: indexed,
    }
}

fn electra_slashing<P: Preset>() -> electra::AttesterSlashing<P> {
    let indexed = electra::IndexedAttestation {
        attesting_indices: list(vec![2, 3, 5, 7]),
        data: attestation_data(6),
        signature: SignatureBytes::infinity(),
    };
    electra::AttesterSlashing {
        attestation_1: indexed.clone(),
        attestation_2: indexed,
    }
}

fn proposer_slashing() -> phase0::ProposerSlashing {
    let header = phase0::SignedBeaconBlockHeader {
        message: phase0::BeaconBlockHeader {
            slot: 5,
            proposer_index: 6,
            ..Default::default()
        },
        signature: SignatureBytes::infinity(),
    };
    phase0::ProposerSlashing {
        signed_header_1: header,
        signed_header_2: header,
    }
}

fn deposit() -> phase0::Deposit {
    phase0::Deposit {
        proof: fixed(root(7)),
        data: phase0::DepositData {
            amount: 32_000_000_000,
            ..Default::default()
        },
    }
}

fn exit() -> phase0::SignedVoluntaryExit {
    phase0::SignedVoluntaryExit {
        message: phase0::VoluntaryExit {
            epoch: 3,
            validator_index: 8,
        },
        signature: SignatureBytes::infinity(),
    }
}

fn sync_aggregate<P: Preset>() -> altair::SyncAggregate<P> {
    altair::SyncAggregate {
        sync_committee_bits: bitvector(&[0, 3]),
        sync_committee_signature: SignatureBytes::infinity(),
    }
}

fn transactions<P: Preset>() -> bellatrix::Transactions<P> {
    list(vec![
        ByteList::from_slice(&[0x02; 40]).expect("short"),
        ByteList::from_slice(&[]).expect("short"),
        ByteList::from_slice(&[0xf8; 3]).expect("short"),
    ])
}

/// Fills the execution-block-header fields every payload and payload header shares.
macro_rules! fill_payload_common {
    ($payload:expr) => {{
        $payload.parent_hash = root(0x11);
        $payload.fee_recipient = ExecutionAddress::repeat_byte(0x22);
        $payload.logs_bloom.as_mut_slice()[0] = 0x80;
        $payload.block_number = 77;
        $payload.gas_used = 21_000;
        $payload.extra_data = ByteList::from_slice(b"keel").expect("short");
        $payload.base_fee_per_gas = Uint256::from(7u64);
        $payload.block_hash = root(0x33);
    }};
}

fn withdrawals<P: Preset>() -> capella::Withdrawals<P> {
    list(vec![capella::Withdrawal {
        index: 1,
        validator_index: 2,
        amount: 3,
        ..Default::default()
    }])
}

fn bellatrix_payload<P: Preset>() -> bellatrix::ExecutionPayload<P> {
    let mut payload = bellatrix::ExecutionPayload::default();
    fill_payload_common!(payload);
    payload.transactions = transactions::<P>();
    payload
}

fn capella_payload<P: Preset>() -> capella::ExecutionPayload<P> {
    let mut payload = capella::ExecutionPayload::default();
    fill_payload_common!(payload);
    payload.transactions = transactions::<P>();
    payload.withdrawals = withdrawals::<P>();
    payload
}

fn deneb_payload<P: Preset>() -> deneb::ExecutionPayload<P> {
    let mut payload = deneb::ExecutionPayload::default();
    fill_payload_common!(payload);
    payload.transactions = transactions::<P>();
    payload.withdrawals = withdrawals::<P>();
    payload.blob_gas_used = 131_072;
    payload
}

fn bls_changes<P: Preset>()
-> VariableList<capella::SignedBLSToExecutionChange, P::MaxBlsToExecutionChanges> {
    list(vec![capella::SignedBLSToExecutionChange::default()])
}

fn commitments<P: Preset>() -> deneb::BlobKzgCommitments<P> {
    list(vec![KzgCommitment::zero(), KzgCommitment([0xc0; 48])])
}

fn execution_requests<P: Preset>() -> electra::ExecutionRequests<P> {
    electra::ExecutionRequests {
        deposits: list(vec![electra::DepositRequest {
            index: 4,
            ..Default::default()
        }]),
        withdrawals: list(vec![electra::WithdrawalRequest::default()]),
        consolidations: list(vec![electra::ConsolidationRequest::default()]),
    }
}

/// Fills the phase0 body fields (present in every fork's body).
macro_rules! fill_body_common {
    ($body:expr, $attestation:expr, $slashing:expr) => {{
        $body.randao_reveal = SignatureBytes::infinity();
        $body.graffiti = root(0x47);
        $body.proposer_slashings = list(vec![proposer_slashing()]);
        $body.attester_slashings = list(vec![$slashing]);
        $body.attestations = list(vec![$attestation.clone(), $attestation]);
        $body.deposits = list(vec![deposit()]);
        $body.voluntary_exits = list(vec![exit(), exit()]);
    }};
}

/// Wraps a body into a signed block of the same module.
macro_rules! signed_block {
    ($module:ident, $body:expr) => {
        $module::SignedBeaconBlock {
            message: $module::BeaconBlock {
                slot: 12,
                proposer_index: 3,
                parent_root: root(0x50),
                state_root: root(0x51),
                body: $body,
            },
            signature: SignatureBytes::infinity(),
        }
    };
}

fn sample_block<P: Preset>(fork: ForkName) -> SignedBeaconBlock<P> {
    match fork {
        ForkName::Phase0 => {
            let mut body = phase0::BeaconBlockBody::<P>::default();
            fill_body_common!(body, phase0_attestation(), phase0_slashing());
            SignedBeaconBlock::Phase0(signed_block!(phase0, body))
        }
        ForkName::Altair => {
            let mut body = altair::BeaconBlockBody::<P>::default();
            fill_body_common!(body, phase0_attestation(), phase0_slashing());
            body.sync_aggregate = sync_aggregate();
            SignedBeaconBlock::Altair(signed_block!(altair, body))
        }
        ForkName::Bellatrix => {
            let mut body = bellatrix::BeaconBlockBody::<P>::default();
            fill_body_common!(body, phase0_attestation(), phase0_slashing());
            body.sync_aggregate = sync_aggregate();
            body.execution_payload = bellatrix_payload();
            SignedBeaconBlock::Bellatrix(signed_block!(bellatrix, body))
        }
        ForkName::Capella => {
            let mut body = capella::BeaconBlockBody::<P>::default();
            fill_body_common!(body, phase0_attestation(), phase0_slashing());
            body.sync_aggregate = sync_aggregate();
            body.execution_payload = capella_payload();
            body.bls_to_execution_changes = bls_changes::<P>();
            SignedBeaconBlock::Capella(signed_block!(capella, body))
        }
        ForkName::Deneb => {
            let mut body = deneb::BeaconBlockBody::<P>::default();
            fill_body_common!(body, phase0_attestation(), phase0_slashing());
            body.sync_aggregate = sync_aggregate();
            body.execution_payload = deneb_payload();
            body.bls_to_execution_changes = bls_changes::<P>();
            body.blob_kzg_commitments = commitments::<P>();
            SignedBeaconBlock::Deneb(signed_block!(deneb, body))
        }
        ForkName::Electra | ForkName::Fulu => {
            let mut body = electra::BeaconBlockBody::<P>::default();
            fill_body_common!(body, electra_attestation(), electra_slashing());
            body.sync_aggregate = sync_aggregate();
            body.execution_payload = deneb_payload();
            body.bls_to_execution_changes = bls_changes::<P>();
            body.blob_kzg_commitments = commitments::<P>();
            body.execution_requests = execution_requests();
            let block = signed_block!(electra, body);
            if fork == ForkName::Electra {
                SignedBeaconBlock::Electra(block)
            } else {
                SignedBeaconBlock::Fulu(block)
            }
        }
    }
}

fn milhouse_list<T: milhouse::Value, N: Unsigned>(items: Vec<T>) -> List<T, N> {
    List::new(items).expect("sample within limit")
}

fn sample_state<P: Preset>(fork: ForkName) -> BeaconState<P> {
    let mut state = BeaconState::<P>::default_for_fork(fork);
    let validator = phase0::Validator {
        effective_balance: 32_000_000_000,
        exit_epoch: u64::MAX,
        withdrawable_epoch: u64::MAX,
        ..Default::default()
    };
    map_fork!(BeaconState, &mut state, s => {
        s.genesis_time = 1_606_824_023;
        s.slot = 100;
        s.block_roots = Vector::new(vec![root(9); P::SlotsPerHistoricalRoot::to_usize()])
            .expect("full length");
        s.historical_roots = milhouse_list(vec![root(1), root(2)]);
        s.eth1_data_votes = milhouse_list(vec![phase0::Eth1Data::default(); 3]);
        s.validators = milhouse_list(vec![validator.clone(); 5]);
        s.balances = milhouse_list(vec![32_000_000_000; 5]);
        s.justification_bits = bitvector(&[1]);
    });

    // Participation and inactivity, from Altair on.
    macro_rules! altair_fields {
        ($s:expr) => {{
            $s.previous_epoch_participation = milhouse_list(vec![0b111; 5]);
            $s.current_epoch_participation = milhouse_list(vec![0b001; 5]);
            $s.inactivity_scores = milhouse_list(vec![0, 1, 2, 3, 4]);
        }};
    }
    macro_rules! payload_header {
        ($s:expr) => {{
            fill_payload_common!($s.latest_execution_payload_header);
        }};
    }
    macro_rules! capella_fields {
        ($s:expr) => {{
            $s.historical_summaries = milhouse_list(vec![capella::HistoricalSummary::default(); 2]);
            $s.next_withdrawal_index = 17;
        }};
    }
    macro_rules! electra_fields {
        ($s:expr) => {{
            $s.pending_deposits = milhouse_list(vec![electra::PendingDeposit::default(); 2]);
            $s.pending_partial_withdrawals =
                milhouse_list(vec![electra::PendingPartialWithdrawal::default()]);
            $s.pending_consolidations =
                milhouse_list(vec![electra::PendingConsolidation::default()]);
        }};
    }
    match &mut state {
        BeaconState::Phase0(s) => {
            let pending = phase0::PendingAttestation {
                aggregation_bits: bits(3, &[1]),
                data: attestation_data(99),
                inclusion_delay: 1,
                proposer_index: 2,
            };
            s.previous_epoch_attestations = milhouse_list(vec![pending.clone()]);
            s.current_epoch_attestations = milhouse_list(vec![pending.clone(), pending]);
        }
        BeaconState::Altair(s) => altair_fields!(s),
        BeaconState::Bellatrix(s) => {
            altair_fields!(s);
            payload_header!(s);
        }
        BeaconState::Capella(s) => {
            altair_fields!(s);
            payload_header!(s);
            capella_fields!(s);
        }
        BeaconState::Deneb(s) => {
            altair_fields!(s);
            payload_header!(s);
            capella_fields!(s);
        }
        BeaconState::Electra(s) => {
            altair_fields!(s);
            payload_header!(s);
            capella_fields!(s);
            electra_fields!(s);
        }
        BeaconState::Fulu(s) => {
            altair_fields!(s);
            payload_header!(s);
            capella_fields!(s);
            electra_fields!(s);
            s.proposer_lookahead = Vector::new((0..P::ProposerLookaheadSlots::to_u64()).collect())
                .expect("full length");
        }
    }
    state
}

fn header() -> phase0::SignedBeaconBlockHeader {
    phase0::SignedBeaconBlockHeader {
        message: phase0::BeaconBlockHeader {
            slot: 33,
            proposer_index: 4,
            ..Default::default()
        },
        signature: SignatureBytes::infinity(),
    }
}

fn data_column_sidecar<P: Preset>() -> fulu::DataColumnSidecar<P> {
    let mut cell = fulu::Cell::<P>::zero();
    cell.as_mut_slice()[5] = 0x55;
    fulu::DataColumnSidecar {
        index: 3,
        column: list(vec![cell.clone(), cell]),
        kzg_commitments: commitments::<P>(),
        kzg_proofs: list(vec![KzgProof::zero(), KzgProof([0xc0; 48])]),
        signed_block_header: header(),
        kzg_commitments_inclusion_proof: fixed(root(4)),
    }
}

fn partial_data_column_sidecar<P: Preset>() -> fulu::PartialDataColumnSidecar<P> {
    let full = data_column_sidecar::<P>();
    fulu::PartialDataColumnSidecar {
        cells_present_bitmap: bits(2, &[0, 1]),
        partial_column: full.column,
        kzg_proofs: full.kzg_proofs,
        header: list(vec![fulu::PartialDataColumnHeader {
            kzg_commitments: full.kzg_commitments,
            signed_block_header: full.signed_block_header,
            kzg_commitments_inclusion_proof: full.kzg_commitments_inclusion_proof,
        }]),
    }
}

fn blob_sidecar<P: Preset>() -> deneb::BlobSidecar<P> {
    let mut blob = deneb::Blob::<P>::zero();
    blob.as_mut_slice()[100] = 1;
    deneb::BlobSidecar {
        index: 1,
        blob,
        kzg_commitment: KzgCommitment([0xc0; 48]),
        kzg_proof: KzgProof([0xc0; 48]),
        signed_block_header: header(),
        kzg_commitment_inclusion_proof: fixed(root(5)),
    }
}

macro_rules! light_client_update {
    ($module:ident, $header:expr) => {
        $module::LightClientUpdate::<P> {
            attested_header: $header,
            next_sync_committee: altair::SyncCommittee::default(),
            next_sync_committee_branch: fixed(root(1)),
            finalized_header: $header,
            finality_branch: fixed(root(2)),
            sync_aggregate: sync_aggregate(),
            signature_slot: 8,
        }
    };
}

macro_rules! execution_light_client_header {
    ($module:ident) => {{
        let mut header = $module::LightClientHeader::<P>::default();
        header.beacon.slot = 64;
        fill_payload_common!(header.execution);
        header.execution_branch = fixed(root(3));
        header
    }};
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

fn fork_wrappers<P: Preset>() {
    for fork in ForkName::ALL {
        let blocks = [
            SignedBeaconBlock::<P>::default_for_fork(fork),
            sample_block::<P>(fork),
        ];
        let valid: Vec<Vec<u8>> = blocks.iter().map(SignedBeaconBlock::as_ssz_bytes).collect();
        for (block, bytes) in blocks.iter().zip(&valid) {
            assert_eq!(
                SignedBeaconBlock::from_ssz_bytes_for_fork(bytes, fork).as_ref(),
                Ok(block)
            );
        }
        let cases = cases_for(&valid, 256);
        fuzz(
            &format!("{} SignedBeaconBlock {fork}", P::NAME),
            valid,
            cases,
            |bytes| {
                let Ok(block) = SignedBeaconBlock::<P>::from_ssz_bytes_for_fork(bytes, fork) else {
                    return Ok(());
                };
                prop_assert_eq!(block.fork_name(), fork);
                prop_assert!(
                    block.as_ssz_bytes() == bytes,
                    "non-canonical block accepted"
                );
                let _ = block.canonical_root();
                let _ = block.message().body_root();
                Ok(())
            },
        );

        let states = [
            BeaconState::<P>::default_for_fork(fork),
            sample_state::<P>(fork),
        ];
        let valid: Vec<Vec<u8>> = states.iter().map(BeaconState::as_ssz_bytes).collect();
        for (state, bytes) in states.iter().zip(&valid) {
            assert!(BeaconState::<P>::from_ssz_bytes_for_fork(bytes, fork).as_ref() == Ok(state));
        }
        let cases = cases_for(&valid, 128);
        fuzz(
            &format!("{} BeaconState {fork}", P::NAME),
            valid,
            cases,
            |bytes| {
                let Ok(state) = BeaconState::<P>::from_ssz_bytes_for_fork(bytes, fork) else {
                    return Ok(());
                };
                prop_assert_eq!(state.fork_name(), fork);
                prop_assert!(
                    state.as_ssz_bytes() == bytes,
                    "non-canonical state accepted"
                );
                let _ = state.tree_hash_root();
                Ok(())
            },
        );
    }
}

fn major_containers<P: Preset>() {
    let name = P::NAME;
    fuzz_type(
        &format!("{name} phase0::Attestation"),
        &[phase0_attestation::<P>()],
        512,
    );
    fuzz_type(
        &format!("{name} electra::Attestation"),
        &[electra_attestation::<P>()],
        512,
    );
    fuzz_type(
        &format!("{name} electra::SingleAttestation"),
        &[electra::SingleAttestation {
            attester_index: 5,
            ..Default::default()
        }],
        256,
    );
    fuzz_type(
        &format!("{name} phase0::AttesterSlashing"),
        &[phase0::AttesterSlashing::default(), phase0_slashing::<P>()],
        512,
    );
    fuzz_type(
        &format!("{name} electra::AttesterSlashing"),
        &[
            electra::AttesterSlashing::default(),
            electra_slashing::<P>(),
        ],
        512,
    );
    fuzz_type(
        &format!("{name} deneb::BlobSidecar"),
        &[blob_sidecar::<P>()],
        32,
    );
    fuzz_type(
        &format!("{name} fulu::DataColumnSidecar"),
        &[
            fulu::DataColumnSidecar::default(),
            data_column_sidecar::<P>(),
        ],
        512,
    );
    fuzz_type(
        &format!("{name} fulu::PartialDataColumnSidecar"),
        &[partial_data_column_sidecar::<P>()],
        512,
    );
    fuzz_type(
        &format!("{name} bellatrix::ExecutionPayload"),
        &[
            bellatrix::ExecutionPayload::default(),
            bellatrix_payload::<P>(),
        ],
        512,
    );
    fuzz_type(
        &format!("{name} capella::ExecutionPayload"),
        &[capella::ExecutionPayload::default(), capella_payload::<P>()],
        512,
    );
    fuzz_type(
        &format!("{name} deneb::ExecutionPayload"),
        &[deneb::ExecutionPayload::default(), deneb_payload::<P>()],
        512,
    );
    fuzz_type(
        &format!("{name} altair::LightClientUpdate"),
        &[light_client_update!(
            altair,
            altair::LightClientHeader::default()
        )],
        256,
    );
    fuzz_type(
        &format!("{name} capella::LightClientUpdate"),
        &[light_client_update!(
            capella,
            execution_light_client_header!(capella)
        )],
        384,
    );
    fuzz_type(
        &format!("{name} deneb::LightClientUpdate"),
        &[light_client_update!(
            deneb,
            execution_light_client_header!(deneb)
        )],
        384,
    );
    fuzz_type(
        &format!("{name} electra::LightClientUpdate"),
        &[light_client_update!(
            electra,
            execution_light_client_header!(deneb)
        )],
        384,
    );
}

// Autoref specialization: the default value's encoding where the type has a `Default`.
struct DefaultEncoding<T>(std::marker::PhantomData<T>);
trait ViaDefault {
    fn encodings(&self) -> Vec<Vec<u8>>;
}
impl<T: Default + Encode> ViaDefault for DefaultEncoding<T> {
    fn encodings(&self) -> Vec<Vec<u8>> {
        vec![T::default().as_ssz_bytes()]
    }
}
trait NoDefault {
    fn encodings(&self) -> Vec<Vec<u8>>;
}
impl<T> NoDefault for &DefaultEncoding<T> {
    fn encodings(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

/// Every container of every fork: arbitrary bytes and mutations of its default encoding.
fn every_container<P: Preset>() -> usize {
    let mut count = 0;
    macro_rules! sweep {
        ($fork:ident, $name:ident, $ty:ty) => {{
            let valid = (&DefaultEncoding::<$ty>(std::marker::PhantomData)).encodings();
            let what = concat!(stringify!($fork), "::", stringify!($name));
            let cases = cases_for(&valid, 64);
            fuzz(
                &format!("{} {what}", P::NAME),
                valid,
                cases,
                check_decode::<$ty>,
            );
            count += 1;
        }};
    }
    for_each_ssz_static_type!(sweep, P);
    for_each_p2p_only_type!(sweep, P);
    count
}

#[test]
fn fork_wrappers_reject_bad_input_minimal() {
    fork_wrappers::<Minimal>();
}

#[test]
fn fork_wrappers_reject_bad_input_mainnet() {
    fork_wrappers::<Mainnet>();
}

#[test]
fn major_containers_reject_bad_input_minimal() {
    major_containers::<Minimal>();
}

#[test]
fn major_containers_reject_bad_input_mainnet() {
    major_containers::<Mainnet>();
}

#[test]
fn every_container_rejects_bad_input_minimal() {
    assert!(every_container::<Minimal>() > 300);
}

#[test]
fn every_container_rejects_bad_input_mainnet() {
    assert!(every_container::<Mainnet>() > 300);
}

#[test]
fn offsets_are_found() {
    let block = sample_block::<Minimal>(ForkName::Electra).as_ssz_bytes();
    // The signed block's offset to its message is the first 4 bytes.
    assert!(offset_candidates(&block).contains(&0));
}
