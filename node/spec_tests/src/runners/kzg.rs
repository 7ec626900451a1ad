//! `kzg`: the EIP-4844 blob functions (deneb) and the EIP-7594 cell functions (fulu), run through
//! `keel_crypto::kzg` with the embedded mainnet trusted setup (suite `kzg-mainnet`).
//!
//! Inputs are handed over as raw bytes, so that wrong lengths, non-canonical field elements and
//! invalid points are rejected by the code the node runs. `output: null` means the function must
//! fail.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome, parse_hex};
use crate::ensure_eq;
use keel_crypto::kzg::{Kzg, KzgError};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub fn handler(_preset: &str, _fork: &str, handler: &str) -> Option<HandlerFn> {
    Some(match handler {
        "blob_to_kzg_commitment" => run_blob_to_kzg_commitment,
        "compute_kzg_proof" => run_compute_kzg_proof,
        "compute_blob_kzg_proof" => run_compute_blob_kzg_proof,
        "verify_kzg_proof" => run_verify_kzg_proof,
        "verify_blob_kzg_proof" => run_verify_blob_kzg_proof,
        "verify_blob_kzg_proof_batch" => run_verify_blob_kzg_proof_batch,
        "compute_cells" => run_compute_cells,
        "compute_cells_and_kzg_proofs" => run_compute_cells_and_kzg_proofs,
        "recover_cells_and_kzg_proofs" => run_recover_cells_and_kzg_proofs,
        "verify_cell_kzg_proof_batch" => run_verify_cell_kzg_proof_batch,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Data<I, O> {
    input: I,
    output: Option<O>,
}

fn read<I: DeserializeOwned, O: DeserializeOwned>(case: &Case) -> Result<Data<I, O>, CaseError> {
    case.read_yaml("data.yaml")
}

fn hex_list(items: &[String]) -> Result<Vec<Vec<u8>>, CaseError> {
    items.iter().map(|s| parse_hex(s)).collect()
}

/// Checks a result against an expected output that is `None` when the function must fail, using
/// `compare` when both are present.
fn check<T, O>(
    got: Result<T, KzgError>,
    expected: Option<O>,
    compare: impl FnOnce(T, O) -> CaseResult,
) -> CaseResult {
    match (got, expected) {
        (Ok(got), Some(expected)) => compare(got, expected),
        (Err(_), None) => Ok(Outcome::Pass),
        (Ok(_), None) => Err(CaseError::Mismatch(
            "expected an error, got a result".into(),
        )),
        (Err(e), Some(_)) => Err(CaseError::Mismatch(format!("unexpected error: {e}"))),
    }
}

fn same_bytes(what: &str, got: &[u8], expected: &str) -> CaseResult {
    ensure_eq!(hex::encode(got), hex::encode(parse_hex(expected)?), what);
    Ok(Outcome::Pass)
}

/// Compares lists item by item, naming the first difference rather than printing whole lists.
fn same_list<T: AsRef<[u8]>>(what: &str, got: &[T], expected: &[String]) -> CaseResult {
    ensure_eq!(got.len(), expected.len(), format!("{what} count"));
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        same_bytes(&format!("{what}[{i}]"), g.as_ref(), e)?;
    }
    Ok(Outcome::Pass)
}

fn same_bool(what: &str, got: bool, expected: bool) -> CaseResult {
    ensure_eq!(got, expected, what);
    Ok(Outcome::Pass)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlobInput {
    blob: String,
}

fn run_blob_to_kzg_commitment(case: &Case) -> CaseResult {
    let data: Data<BlobInput, String> = read(case)?;
    let blob = parse_hex(&data.input.blob)?;
    check(
        Kzg::mainnet().blob_to_kzg_commitment(&blob),
        data.output,
        |got, expected| same_bytes("commitment", &got.0, &expected),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComputeKzgProofInput {
    blob: String,
    z: String,
}

fn run_compute_kzg_proof(case: &Case) -> CaseResult {
    let data: Data<ComputeKzgProofInput, (String, String)> = read(case)?;
    let blob = parse_hex(&data.input.blob)?;
    let z = parse_hex(&data.input.z)?;
    check(
        Kzg::mainnet().compute_kzg_proof(&blob, &z),
        data.output,
        |(proof, y), (ep, ey)| {
            same_bytes("proof", &proof.0, &ep)?;
            same_bytes("y", y.as_slice(), &ey)
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlobCommitmentInput {
    blob: String,
    commitment: String,
}

fn run_compute_blob_kzg_proof(case: &Case) -> CaseResult {
    let data: Data<BlobCommitmentInput, String> = read(case)?;
    let blob = parse_hex(&data.input.blob)?;
    let commitment = parse_hex(&data.input.commitment)?;
    check(
        Kzg::mainnet().compute_blob_kzg_proof(&blob, &commitment),
        data.output,
        |got, expected| same_bytes("proof", &got.0, &expected),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyKzgProofInput {
    commitment: String,
    z: String,
    y: String,
    proof: String,
}

fn run_verify_kzg_proof(case: &Case) -> CaseResult {
    let data: Data<VerifyKzgProofInput, bool> = read(case)?;
    let input = &data.input;
    let (commitment, z, y, proof) = (
        parse_hex(&input.commitment)?,
        parse_hex(&input.z)?,
        parse_hex(&input.y)?,
        parse_hex(&input.proof)?,
    );
    check(
        Kzg::mainnet().verify_kzg_proof(&commitment, &z, &y, &proof),
        data.output,
        |got, expected| same_bool("verify_kzg_proof", got, expected),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBlobKzgProofInput {
    blob: String,
    commitment: String,
    proof: String,
}

fn run_verify_blob_kzg_proof(case: &Case) -> CaseResult {
    let data: Data<VerifyBlobKzgProofInput, bool> = read(case)?;
    let input = &data.input;
    let (blob, commitment, proof) = (
        parse_hex(&input.blob)?,
        parse_hex(&input.commitment)?,
        parse_hex(&input.proof)?,
    );
    check(
        Kzg::mainnet().verify_blob_kzg_proof(&blob, &commitment, &proof),
        data.output,
        |got, expected| same_bool("verify_blob_kzg_proof", got, expected),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBlobKzgProofBatchInput {
    blobs: Vec<String>,
    commitments: Vec<String>,
    proofs: Vec<String>,
}

fn run_verify_blob_kzg_proof_batch(case: &Case) -> CaseResult {
    let data: Data<VerifyBlobKzgProofBatchInput, bool> = read(case)?;
    let input = &data.input;
    let (blobs, commitments, proofs) = (
        hex_list(&input.blobs)?,
        hex_list(&input.commitments)?,
        hex_list(&input.proofs)?,
    );
    check(
        Kzg::mainnet().verify_blob_kzg_proof_batch(&blobs, &commitments, &proofs),
        data.output,
        |got, expected| same_bool("verify_blob_kzg_proof_batch", got, expected),
    )
}

fn run_compute_cells(case: &Case) -> CaseResult {
    let data: Data<BlobInput, Vec<String>> = read(case)?;
    let blob = parse_hex(&data.input.blob)?;
    check(
        Kzg::mainnet().compute_cells(&blob),
        data.output,
        |got, expected| same_list("cells", &got, &expected),
    )
}

fn run_compute_cells_and_kzg_proofs(case: &Case) -> CaseResult {
    let data: Data<BlobInput, (Vec<String>, Vec<String>)> = read(case)?;
    let blob = parse_hex(&data.input.blob)?;
    check(
        Kzg::mainnet().compute_cells_and_kzg_proofs(&blob),
        data.output,
        |(cells, proofs), (expected_cells, expected_proofs)| {
            same_list("cells", &cells, &expected_cells)?;
            same_list("proofs", &proofs, &expected_proofs)
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverInput {
    cell_indices: Vec<u64>,
    cells: Vec<String>,
}

fn run_recover_cells_and_kzg_proofs(case: &Case) -> CaseResult {
    let data: Data<RecoverInput, (Vec<String>, Vec<String>)> = read(case)?;
    let cells = hex_list(&data.input.cells)?;
    check(
        Kzg::mainnet().recover_cells_and_kzg_proofs(&data.input.cell_indices, &cells),
        data.output,
        |(cells, proofs), (expected_cells, expected_proofs)| {
            same_list("cells", &cells, &expected_cells)?;
            same_list("proofs", &proofs, &expected_proofs)
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyCellKzgProofBatchInput {
    commitments: Vec<String>,
    cell_indices: Vec<u64>,
    cells: Vec<String>,
    proofs: Vec<String>,
}

fn run_verify_cell_kzg_proof_batch(case: &Case) -> CaseResult {
    let data: Data<VerifyCellKzgProofBatchInput, bool> = read(case)?;
    let input = &data.input;
    let (commitments, cells, proofs) = (
        hex_list(&input.commitments)?,
        hex_list(&input.cells)?,
        hex_list(&input.proofs)?,
    );
    check(
        Kzg::mainnet().verify_cell_kzg_proof_batch(
            &commitments,
            &input.cell_indices,
            &cells,
            &proofs,
        ),
        data.output,
        |got, expected| same_bool("verify_cell_kzg_proof_batch", got, expected),
    )
}
