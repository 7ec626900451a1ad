//! Conversions between the Engine API wire types (alloy's JSON structs) and Keel's SSZ types.
//!
//! Everything arriving from the execution client is checked against the SSZ limits of the preset
//! (`MAX_TRANSACTIONS_PER_PAYLOAD`, `MAX_BYTES_PER_TRANSACTION`, `MAX_EXTRA_DATA_BYTES`,
//! `MAX_WITHDRAWALS_PER_PAYLOAD`, `MAX_BLOB_COMMITMENTS_PER_BLOCK`, the request-list limits) and
//! fails with a [`ConversionError`] naming the field, never a panic: an execution client is a
//! separate process and may be buggy or hostile.

use alloy_eips::eip4844::BlobAndProofV2;
use alloy_eips::eip4895::Withdrawal as WireWithdrawal;
use alloy_eips::eip7685::Requests;
use alloy_primitives::{Bloom, Bytes};
use alloy_rpc_types_engine::{
    BlobsBundleV1, BlobsBundleV2, ExecutionPayloadV1, ExecutionPayloadV2, ExecutionPayloadV3,
};
use keel_config::constants::{
    CONSOLIDATION_REQUEST_TYPE, DEPOSIT_REQUEST_TYPE, WITHDRAWAL_REQUEST_TYPE,
};
use keel_types::deneb::{
    Blob, BlobKzgCommitments, ExecutionPayload, ExtraData, LogsBloom, Transaction, Transactions,
    Withdrawal, Withdrawals,
};
use keel_types::electra::{
    ConsolidationRequests, DepositRequests, ExecutionRequests, WithdrawalRequests,
};
use keel_types::ssz::Decode;
use keel_types::ssz_types::VariableList;
use keel_types::typenum::Unsigned;
use keel_types::{KzgCommitment, KzgProof, Preset};

/// A wire value that does not fit Keel's SSZ types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error("{field}: {len} items exceed the SSZ limit of {limit}")]
    TooMany {
        field: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("{field}: {len} bytes exceed the SSZ limit of {limit}")]
    TooLong {
        field: String,
        len: usize,
        limit: usize,
    },
    #[error("{field}: expected {expected} bytes, got {got}")]
    WrongLength {
        field: String,
        expected: usize,
        got: usize,
    },
    #[error("execution request {index}: unknown request type {request_type:#04x}")]
    UnknownRequestType { index: usize, request_type: u8 },
    #[error("execution request {index}: no request data after the type byte")]
    EmptyRequest { index: usize },
    #[error(
        "execution request {index}: type {request_type:#04x} after {previous:#04x} (types must be strictly ascending)"
    )]
    RequestOrder {
        index: usize,
        request_type: u8,
        previous: u8,
    },
    #[error("execution request {index} (type {request_type:#04x}): bad SSZ: {reason}")]
    RequestSsz {
        index: usize,
        request_type: u8,
        reason: String,
    },
    #[error(
        "blobs bundle: {commitments} commitments, {proofs} proofs and {blobs} blobs (expected equal commitments and blobs, {proofs_per_blob} proofs per blob)"
    )]
    BundleShape {
        commitments: usize,
        proofs: usize,
        blobs: usize,
        proofs_per_blob: usize,
    },
}

/// Which proofs a blobs bundle carries: one per blob (Electra, `BlobsBundleV1`) or one per cell
/// of the extended blob (Fulu, `BlobsBundleV2`, `CELLS_PER_EXT_BLOB` per blob).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobProofKind {
    BlobProofs,
    CellProofs,
}

/// A blobs bundle in Keel's types. `proofs` is a plain `Vec` because Fulu's cell proofs
/// (`blobs × CELLS_PER_EXT_BLOB`) have no single SSZ list type; its length is checked against
/// `blobs` on conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobsBundle<P: Preset> {
    pub kind: BlobProofKind,
    pub commitments: BlobKzgCommitments<P>,
    pub proofs: Vec<KzgProof>,
    pub blobs: VariableList<Blob<P>, P::MaxBlobCommitmentsPerBlock>,
}

impl<P: Preset> BlobsBundle<P> {
    /// Proofs per blob for this bundle's kind.
    pub fn proofs_per_blob(&self) -> usize {
        proofs_per_blob::<P>(self.kind)
    }
}

/// One answer of `engine_getBlobsV2`: a blob and its `CELLS_PER_EXT_BLOB` cell proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobAndCellProofs<P: Preset> {
    pub blob: Blob<P>,
    pub proofs: Vec<KzgProof>,
}

fn proofs_per_blob<P: Preset>(kind: BlobProofKind) -> usize {
    match kind {
        BlobProofKind::BlobProofs => 1,
        BlobProofKind::CellProofs => P::CellsPerExtBlob::to_usize(),
    }
}

fn checked_list<T, N: Unsigned>(
    field: &'static str,
    items: Vec<T>,
) -> Result<VariableList<T, N>, ConversionError> {
    let len = items.len();
    VariableList::new(items).map_err(|_| ConversionError::TooMany {
        field,
        len,
        limit: N::to_usize(),
    })
}

fn blob_from_wire<P: Preset>(index: usize, bytes: &[u8]) -> Result<Blob<P>, ConversionError> {
    Blob::<P>::from_slice(bytes).map_err(|_| ConversionError::WrongLength {
        field: format!("blobs[{index}]"),
        expected: Blob::<P>::fixed_len(),
        got: bytes.len(),
    })
}

// ---- withdrawals ----

pub fn withdrawal_to_wire(w: &Withdrawal) -> WireWithdrawal {
    WireWithdrawal {
        index: w.index,
        validator_index: w.validator_index,
        address: w.address,
        amount: w.amount,
    }
}

pub fn withdrawal_from_wire(w: &WireWithdrawal) -> Withdrawal {
    Withdrawal {
        index: w.index,
        validator_index: w.validator_index,
        address: w.address,
        amount: w.amount,
    }
}

/// Wire withdrawals into `List[Withdrawal, MAX_WITHDRAWALS_PER_PAYLOAD]`.
pub fn withdrawals_from_wire<P: Preset>(
    withdrawals: &[WireWithdrawal],
) -> Result<Withdrawals<P>, ConversionError> {
    checked_list(
        "withdrawals",
        withdrawals.iter().map(withdrawal_from_wire).collect(),
    )
}

// ---- execution payload ----

/// Keel's payload as `ExecutionPayloadV3` (the payload `engine_newPayloadV4` takes). Fails only
/// if the preset's `BYTES_PER_LOGS_BLOOM` is not the 256 bytes the wire format fixes.
pub fn execution_payload_to_v3<P: Preset>(
    payload: &ExecutionPayload<P>,
) -> Result<ExecutionPayloadV3, ConversionError> {
    let bloom_bytes = payload.logs_bloom.as_slice();
    let logs_bloom = Bloom::try_from(bloom_bytes).map_err(|_| ConversionError::WrongLength {
        field: "logs_bloom".into(),
        expected: Bloom::len_bytes(),
        got: bloom_bytes.len(),
    })?;
    Ok(ExecutionPayloadV3 {
        payload_inner: ExecutionPayloadV2 {
            payload_inner: ExecutionPayloadV1 {
                parent_hash: payload.parent_hash,
                fee_recipient: payload.fee_recipient,
                state_root: payload.state_root,
                receipts_root: payload.receipts_root,
                logs_bloom,
                prev_randao: payload.prev_randao,
                block_number: payload.block_number,
                gas_limit: payload.gas_limit,
                gas_used: payload.gas_used,
                timestamp: payload.timestamp,
                extra_data: Bytes::copy_from_slice(payload.extra_data.as_slice()),
                base_fee_per_gas: payload.base_fee_per_gas,
                block_hash: payload.block_hash,
                transactions: payload
                    .transactions
                    .iter()
                    .map(|tx| Bytes::copy_from_slice(tx.as_slice()))
                    .collect(),
            },
            withdrawals: payload.withdrawals.iter().map(withdrawal_to_wire).collect(),
        },
        blob_gas_used: payload.blob_gas_used,
        excess_blob_gas: payload.excess_blob_gas,
    })
}

/// An `ExecutionPayloadV3` from the execution client as Keel's payload, checking every list and
/// byte string against the preset's limits.
pub fn execution_payload_from_v3<P: Preset>(
    wire: &ExecutionPayloadV3,
) -> Result<ExecutionPayload<P>, ConversionError> {
    let v2 = &wire.payload_inner;
    let v1 = &v2.payload_inner;
    let logs_bloom = LogsBloom::<P>::from_slice(v1.logs_bloom.as_slice()).map_err(|_| {
        ConversionError::WrongLength {
            field: "logs_bloom".into(),
            expected: LogsBloom::<P>::fixed_len(),
            got: v1.logs_bloom.len(),
        }
    })?;
    let extra_data =
        ExtraData::<P>::from_slice(&v1.extra_data).map_err(|_| ConversionError::TooLong {
            field: "extra_data".into(),
            len: v1.extra_data.len(),
            limit: ExtraData::<P>::max_len(),
        })?;
    let limit = P::MaxTransactionsPerPayload::to_usize();
    if v1.transactions.len() > limit {
        return Err(ConversionError::TooMany {
            field: "transactions",
            len: v1.transactions.len(),
            limit,
        });
    }
    let transactions = v1
        .transactions
        .iter()
        .enumerate()
        .map(|(i, tx)| {
            Transaction::<P>::from_slice(tx).map_err(|_| ConversionError::TooLong {
                field: format!("transactions[{i}]"),
                len: tx.len(),
                limit: Transaction::<P>::max_len(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let transactions: Transactions<P> = checked_list("transactions", transactions)?;
    Ok(ExecutionPayload {
        parent_hash: v1.parent_hash,
        fee_recipient: v1.fee_recipient,
        state_root: v1.state_root,
        receipts_root: v1.receipts_root,
        logs_bloom,
        prev_randao: v1.prev_randao,
        block_number: v1.block_number,
        gas_limit: v1.gas_limit,
        gas_used: v1.gas_used,
        timestamp: v1.timestamp,
        extra_data,
        base_fee_per_gas: v1.base_fee_per_gas,
        block_hash: v1.block_hash,
        transactions,
        withdrawals: withdrawals_from_wire::<P>(&v2.withdrawals)?,
        blob_gas_used: wire.blob_gas_used,
        excess_blob_gas: wire.excess_blob_gas,
    })
}

/// The header the beacon state keeps of a payload (as `process_execution_payload` builds it).
pub use keel_state_transition::block::execution_payload::execution_payload_header;

// ---- execution requests (EIP-7685) ----

/// `get_execution_requests_list`: `type ++ ssz(list)` for each non-empty list, in type order.
pub fn execution_requests_to_wire<P: Preset>(requests: &ExecutionRequests<P>) -> Requests {
    Requests::new(
        keel_state_transition::block::execution_payload::get_execution_requests_list(requests)
            .into_iter()
            .map(Bytes::from)
            .collect(),
    )
}

fn decode_requests<T: Decode>(
    index: usize,
    request_type: u8,
    data: &[u8],
) -> Result<T, ConversionError> {
    T::from_ssz_bytes(data).map_err(|e| ConversionError::RequestSsz {
        index,
        request_type,
        reason: format!("{e:?}"),
    })
}

/// The validator spec's `get_execution_requests`: the inverse of `get_execution_requests_list`,
/// rejecting unknown types, empty data, and types out of strictly ascending order.
pub fn execution_requests_from_wire<P: Preset>(
    list: &[Bytes],
) -> Result<ExecutionRequests<P>, ConversionError> {
    let mut requests = ExecutionRequests::<P>::default();
    let mut previous: Option<u8> = None;
    for (index, request) in list.iter().enumerate() {
        let Some((&request_type, data)) = request.split_first() else {
            return Err(ConversionError::EmptyRequest { index });
        };
        if data.is_empty() {
            return Err(ConversionError::EmptyRequest { index });
        }
        if let Some(previous) = previous
            && request_type <= previous
        {
            return Err(ConversionError::RequestOrder {
                index,
                request_type,
                previous,
            });
        }
        previous = Some(request_type);
        match request_type {
            DEPOSIT_REQUEST_TYPE => {
                requests.deposits =
                    decode_requests::<DepositRequests<P>>(index, request_type, data)?;
            }
            WITHDRAWAL_REQUEST_TYPE => {
                requests.withdrawals =
                    decode_requests::<WithdrawalRequests<P>>(index, request_type, data)?;
            }
            CONSOLIDATION_REQUEST_TYPE => {
                requests.consolidations =
                    decode_requests::<ConsolidationRequests<P>>(index, request_type, data)?;
            }
            _ => {
                return Err(ConversionError::UnknownRequestType {
                    index,
                    request_type,
                });
            }
        }
    }
    Ok(requests)
}

// ---- blobs ----

fn bundle_from_parts<P: Preset>(
    kind: BlobProofKind,
    commitments: &[alloy_eips::eip4844::Bytes48],
    proofs: &[alloy_eips::eip4844::Bytes48],
    blobs: &[alloy_eips::eip4844::Blob],
) -> Result<BlobsBundle<P>, ConversionError> {
    let per_blob = proofs_per_blob::<P>(kind);
    let shape_ok =
        commitments.len() == blobs.len() && blobs.len().checked_mul(per_blob) == Some(proofs.len());
    if !shape_ok {
        return Err(ConversionError::BundleShape {
            commitments: commitments.len(),
            proofs: proofs.len(),
            blobs: blobs.len(),
            proofs_per_blob: per_blob,
        });
    }
    let commitments = checked_list(
        "blobs_bundle.commitments",
        commitments.iter().map(|c| KzgCommitment(c.0)).collect(),
    )?;
    // Checked before copying 128 KiB per blob.
    let limit = P::MaxBlobCommitmentsPerBlock::to_usize();
    if blobs.len() > limit {
        return Err(ConversionError::TooMany {
            field: "blobs_bundle.blobs",
            len: blobs.len(),
            limit,
        });
    }
    let blobs = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| blob_from_wire::<P>(i, b.as_slice()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BlobsBundle {
        kind,
        commitments,
        proofs: proofs.iter().map(|p| KzgProof(p.0)).collect(),
        blobs: checked_list("blobs_bundle.blobs", blobs)?,
    })
}

/// `BlobsBundleV1` (Electra, one proof per blob).
pub fn blobs_bundle_from_v1<P: Preset>(
    bundle: &BlobsBundleV1,
) -> Result<BlobsBundle<P>, ConversionError> {
    bundle_from_parts(
        BlobProofKind::BlobProofs,
        &bundle.commitments,
        &bundle.proofs,
        &bundle.blobs,
    )
}

/// `BlobsBundleV2` (Fulu, `CELLS_PER_EXT_BLOB` cell proofs per blob).
pub fn blobs_bundle_from_v2<P: Preset>(
    bundle: &BlobsBundleV2,
) -> Result<BlobsBundle<P>, ConversionError> {
    bundle_from_parts(
        BlobProofKind::CellProofs,
        &bundle.commitments,
        &bundle.proofs,
        &bundle.blobs,
    )
}

/// One `BlobAndProofV2` (from `engine_getBlobsV2`), checking the cell-proof count.
pub fn blob_and_cell_proofs_from_wire<P: Preset>(
    index: usize,
    wire: &BlobAndProofV2,
) -> Result<BlobAndCellProofs<P>, ConversionError> {
    let per_blob = P::CellsPerExtBlob::to_usize();
    if wire.proofs.len() != per_blob {
        return Err(ConversionError::BundleShape {
            commitments: 0,
            proofs: wire.proofs.len(),
            blobs: 1,
            proofs_per_blob: per_blob,
        });
    }
    Ok(BlobAndCellProofs {
        blob: blob_from_wire::<P>(index, wire.blob.as_slice())?,
        proofs: wire.proofs.iter().map(|p| KzgProof(p.0)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_types::Minimal;
    use keel_types::electra::{ConsolidationRequest, DepositRequest};
    use keel_types::ssz::Encode;

    #[test]
    fn requests_round_trip_and_order() {
        let mut requests = ExecutionRequests::<Minimal>::default();
        requests.deposits.push(DepositRequest::default()).unwrap();
        requests
            .consolidations
            .push(ConsolidationRequest::default())
            .unwrap();
        let wire = execution_requests_to_wire(&requests);
        assert_eq!(wire.len(), 2);
        assert_eq!(wire[0][0], DEPOSIT_REQUEST_TYPE);
        assert_eq!(wire[1][0], CONSOLIDATION_REQUEST_TYPE);
        let back = execution_requests_from_wire::<Minimal>(&wire).unwrap();
        assert_eq!(back, requests);

        let reversed = vec![wire[1].clone(), wire[0].clone()];
        assert!(matches!(
            execution_requests_from_wire::<Minimal>(&reversed),
            Err(ConversionError::RequestOrder { index: 1, .. })
        ));
        let empty = vec![Bytes::from(vec![WITHDRAWAL_REQUEST_TYPE])];
        assert!(matches!(
            execution_requests_from_wire::<Minimal>(&empty),
            Err(ConversionError::EmptyRequest { index: 0 })
        ));
        let unknown = vec![Bytes::from(vec![0x07, 1, 2])];
        assert!(matches!(
            execution_requests_from_wire::<Minimal>(&unknown),
            Err(ConversionError::UnknownRequestType {
                request_type: 0x07,
                ..
            })
        ));
    }

    #[test]
    fn requests_over_limit_are_rejected() {
        // One more deposit request than the preset allows.
        let n = <Minimal as Preset>::MaxDepositRequestsPerPayload::to_usize() + 1;
        let mut data = vec![DEPOSIT_REQUEST_TYPE];
        for _ in 0..n {
            data.extend(DepositRequest::default().as_ssz_bytes());
        }
        assert!(matches!(
            execution_requests_from_wire::<Minimal>(&[Bytes::from(data)]),
            Err(ConversionError::RequestSsz { .. })
        ));
    }

    #[test]
    fn payload_round_trip_and_limits() {
        let mut payload = ExecutionPayload::<Minimal> {
            block_number: 7,
            timestamp: 99,
            ..Default::default()
        };
        payload
            .transactions
            .push(Transaction::<Minimal>::from_slice(&[1, 2, 3]).unwrap())
            .unwrap();
        payload
            .withdrawals
            .push(Withdrawal {
                index: 1,
                validator_index: 2,
                address: Default::default(),
                amount: 3,
            })
            .unwrap();
        let wire = execution_payload_to_v3(&payload).unwrap();
        assert_eq!(
            execution_payload_from_v3::<Minimal>(&wire).unwrap(),
            payload
        );

        let mut too_much_extra = wire.clone();
        too_much_extra.payload_inner.payload_inner.extra_data = Bytes::from(vec![0u8; 33]);
        assert!(matches!(
            execution_payload_from_v3::<Minimal>(&too_much_extra),
            Err(ConversionError::TooLong { .. })
        ));

        let mut too_many_withdrawals = wire;
        let limit = <Minimal as Preset>::MaxWithdrawalsPerPayload::to_usize();
        too_many_withdrawals.payload_inner.withdrawals = vec![WireWithdrawal::default(); limit + 1];
        assert_eq!(
            execution_payload_from_v3::<Minimal>(&too_many_withdrawals),
            Err(ConversionError::TooMany {
                field: "withdrawals",
                len: limit + 1,
                limit
            })
        );
    }

    #[test]
    fn bundle_shape_is_checked() {
        let bundle = BlobsBundleV2 {
            commitments: vec![Default::default()],
            proofs: vec![Default::default(); 3],
            blobs: vec![Default::default()],
        };
        assert!(matches!(
            blobs_bundle_from_v2::<Minimal>(&bundle),
            Err(ConversionError::BundleShape { .. })
        ));
        let ok = BlobsBundleV2 {
            proofs: vec![Default::default(); 128],
            ..bundle
        };
        let converted = blobs_bundle_from_v2::<Minimal>(&ok).unwrap();
        assert_eq!(converted.proofs.len(), 128);
        assert_eq!(converted.blobs.len(), 1);
    }
}
