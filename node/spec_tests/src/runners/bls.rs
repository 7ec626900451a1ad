//! `bls`: the Altair extensions `eth_aggregate_pubkeys` and `eth_fast_aggregate_verify`, and the
//! classic IETF handlers (`sign`, `verify`, `aggregate`, `fast_aggregate_verify`,
//! `aggregate_verify`, `batch_verify`) that older vector sets carry (tests/formats/bls).
//!
//! Inputs are handed to `keel-crypto` as raw bytes, so that wrong lengths, bad encodings, infinity
//! keys and points outside the subgroup are rejected by the same code the node runs. An input that
//! does not decode makes a verification `false`; `output: null` means the function must fail.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome, parse_hex};
use crate::ensure_eq;
use keel_crypto::bls::{
    self, AggregateSignature, PublicKey, SecretKey, Signature, SignatureSet, eth_aggregate_pubkeys,
    eth_fast_aggregate_verify,
};
use keel_types::{Hash256, PublicKeyBytes};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub fn handler(_preset: &str, _fork: &str, handler: &str) -> Option<HandlerFn> {
    Some(match handler {
        "eth_aggregate_pubkeys" => run_eth_aggregate_pubkeys,
        "eth_fast_aggregate_verify" => run_eth_fast_aggregate_verify,
        "sign" => run_sign,
        "verify" => run_verify,
        "aggregate" => run_aggregate,
        "fast_aggregate_verify" => run_fast_aggregate_verify,
        "aggregate_verify" => run_aggregate_verify,
        "batch_verify" => run_batch_verify,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Data<I, O> {
    input: I,
    output: O,
}

fn read<I: DeserializeOwned, O: DeserializeOwned>(case: &Case) -> Result<Data<I, O>, CaseError> {
    case.read_yaml("data.yaml")
}

fn hex_list(items: &[String]) -> Result<Vec<Vec<u8>>, CaseError> {
    items.iter().map(|s| parse_hex(s)).collect()
}

/// Decodes every key; `None` if any is invalid (the verification is then false).
fn decode_pubkeys(items: &[Vec<u8>]) -> Option<Vec<PublicKey>> {
    items
        .iter()
        .map(|b| PublicKey::from_bytes(b).ok())
        .collect()
}

/// Compares a byte-valued result with an expected `output` that is `null` when the function must
/// fail.
fn check_bytes<E: std::fmt::Display>(
    got: Result<Vec<u8>, E>,
    expected: &Option<String>,
) -> CaseResult {
    match (got, expected) {
        (Ok(got), Some(expected)) => {
            ensure_eq!(
                hex::encode(got),
                hex::encode(parse_hex(expected)?),
                "output"
            )
        }
        (Err(_), None) => {}
        (Ok(got), None) => {
            return Err(CaseError::Mismatch(format!(
                "expected an error, got 0x{}",
                hex::encode(got)
            )));
        }
        (Err(e), Some(expected)) => {
            return Err(CaseError::Mismatch(format!(
                "unexpected error {e}, expected {expected}"
            )));
        }
    }
    Ok(Outcome::Pass)
}

fn run_eth_aggregate_pubkeys(case: &Case) -> CaseResult {
    let data: Data<Vec<String>, Option<String>> = read(case)?;
    let inputs = hex_list(&data.input)?;
    // A key of the wrong length is an invalid key: the function must fail on it.
    let got = inputs
        .iter()
        .map(|b| {
            <[u8; 48]>::try_from(b.as_slice())
                .map(PublicKeyBytes)
                .map_err(|_| format!("public key of {} bytes", b.len()))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|keys| eth_aggregate_pubkeys(&keys).map_err(|e| e.to_string()))
        .map(|agg| agg.0.to_vec());
    check_bytes(got, &data.output)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastAggregateVerifyInput {
    pubkeys: Vec<String>,
    message: String,
    signature: String,
}

fn run_eth_fast_aggregate_verify(case: &Case) -> CaseResult {
    let data: Data<FastAggregateVerifyInput, bool> = read(case)?;
    let pubkeys = hex_list(&data.input.pubkeys)?;
    let message = parse_hex(&data.input.message)?;
    let signature = parse_hex(&data.input.signature)?;
    let got = match (decode_pubkeys(&pubkeys), Signature::from_bytes(&signature)) {
        (Some(pks), Ok(sig)) => {
            let refs: Vec<&PublicKey> = pks.iter().collect();
            eth_fast_aggregate_verify(&refs, &message, &sig)
        }
        _ => false,
    };
    ensure_eq!(got, data.output, "eth_fast_aggregate_verify");
    Ok(Outcome::Pass)
}

fn run_fast_aggregate_verify(case: &Case) -> CaseResult {
    let data: Data<FastAggregateVerifyInput, bool> = read(case)?;
    let pubkeys = hex_list(&data.input.pubkeys)?;
    let message = parse_hex(&data.input.message)?;
    let signature = parse_hex(&data.input.signature)?;
    let got = match (decode_pubkeys(&pubkeys), Signature::from_bytes(&signature)) {
        (Some(pks), Ok(sig)) => {
            let refs: Vec<&PublicKey> = pks.iter().collect();
            sig.fast_aggregate_verify(&refs, &message)
        }
        _ => false,
    };
    ensure_eq!(got, data.output, "fast_aggregate_verify");
    Ok(Outcome::Pass)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInput {
    privkey: String,
    message: String,
}

fn run_sign(case: &Case) -> CaseResult {
    let data: Data<SignInput, Option<String>> = read(case)?;
    let privkey = parse_hex(&data.input.privkey)?;
    let message = parse_hex(&data.input.message)?;
    let got = SecretKey::from_bytes(&privkey).map(|sk| sk.sign(&message).to_bytes().0.to_vec());
    check_bytes(got, &data.output)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyInput {
    pubkey: String,
    message: String,
    signature: String,
}

fn run_verify(case: &Case) -> CaseResult {
    let data: Data<VerifyInput, bool> = read(case)?;
    let pubkey = parse_hex(&data.input.pubkey)?;
    let message = parse_hex(&data.input.message)?;
    let signature = parse_hex(&data.input.signature)?;
    let got = match (
        PublicKey::from_bytes(&pubkey),
        Signature::from_bytes(&signature),
    ) {
        (Ok(pk), Ok(sig)) => sig.verify(&pk, &message),
        _ => false,
    };
    ensure_eq!(got, data.output, "verify");
    Ok(Outcome::Pass)
}

fn run_aggregate(case: &Case) -> CaseResult {
    let data: Data<Vec<String>, Option<String>> = read(case)?;
    let inputs = hex_list(&data.input)?;
    let got = inputs
        .iter()
        .map(|b| Signature::from_bytes(b))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|sigs| AggregateSignature::aggregate(&sigs.iter().collect::<Vec<_>>()))
        .map(|agg| agg.to_bytes().0.to_vec());
    check_bytes(got, &data.output)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AggregateVerifyInput {
    pubkeys: Vec<String>,
    messages: Vec<String>,
    signature: String,
}

fn run_aggregate_verify(case: &Case) -> CaseResult {
    let data: Data<AggregateVerifyInput, bool> = read(case)?;
    let pubkeys = hex_list(&data.input.pubkeys)?;
    let messages = hex_list(&data.input.messages)?;
    let signature = parse_hex(&data.input.signature)?;
    let got = match (decode_pubkeys(&pubkeys), Signature::from_bytes(&signature)) {
        (Some(pks), Ok(sig)) => {
            let pk_refs: Vec<&PublicKey> = pks.iter().collect();
            let msg_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            sig.aggregate_verify(&pk_refs, &msg_refs)
        }
        _ => false,
    };
    ensure_eq!(got, data.output, "aggregate_verify");
    Ok(Outcome::Pass)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchVerifyInput {
    pubkeys: Vec<String>,
    messages: Vec<String>,
    signatures: Vec<String>,
}

fn run_batch_verify(case: &Case) -> CaseResult {
    let data: Data<BatchVerifyInput, bool> = read(case)?;
    let pubkeys = hex_list(&data.input.pubkeys)?;
    let messages = hex_list(&data.input.messages)?;
    let signatures = hex_list(&data.input.signatures)?;
    let decoded = (|| {
        if pubkeys.len() != messages.len() || pubkeys.len() != signatures.len() {
            return None;
        }
        let pks = decode_pubkeys(&pubkeys)?;
        let sigs = signatures
            .iter()
            .map(|b| Signature::from_bytes(b).ok())
            .collect::<Option<Vec<_>>>()?;
        // Signature sets carry 32-byte signing roots.
        let roots = messages
            .iter()
            .map(|m| Hash256::try_from(m.as_slice()).ok())
            .collect::<Option<Vec<_>>>()?;
        Some((pks, sigs, roots))
    })();
    let got = match decoded {
        Some((pks, sigs, roots)) => {
            let sets: Vec<SignatureSet> = pks
                .iter()
                .zip(&sigs)
                .zip(roots)
                .map(|((pk, sig), root)| SignatureSet::single_pubkey(sig, pk, root))
                .collect();
            bls::verify_signature_sets(&sets, &mut rand::rng())
        }
        None => false,
    };
    ensure_eq!(got, data.output, "batch_verify");
    Ok(Outcome::Pass)
}
