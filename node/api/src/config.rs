//! `/eth/v1/config/...`: the spec values, the fork schedule, the deposit contract.

use axum::extract::State;
use axum::response::Response;
use keel_config::ConfigValue;
use keel_config::constants;
use keel_types::phase0::Fork;
use keel_types::{ExecutionAddress, ForkName, Preset};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use crate::AppState;
use crate::error::RequestError;
use crate::response::{Data, json};

/// A config value in the `config/spec` shape: scalars as strings, lists and maps as such.
struct SpecValue<'a>(&'a ConfigValue);

impl Serialize for SpecValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            ConfigValue::Scalar(s) => serializer.serialize_str(s),
            ConfigValue::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&SpecValue(item))?;
                }
                seq.end()
            }
            ConfigValue::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &SpecValue(v))?;
                }
                map.end()
            }
        }
    }
}

struct Spec(Vec<(String, ConfigValue)>);

impl Serialize for Spec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, &SpecValue(v))?;
        }
        map.end()
    }
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

/// The spec constants clients commonly read from `config/spec` (domains, prefixes, aggregation
/// targets), beside the config and the preset.
fn constant_entries() -> Vec<(&'static str, String)> {
    vec![
        (
            "DOMAIN_BEACON_PROPOSER",
            hex(&constants::DOMAIN_BEACON_PROPOSER),
        ),
        (
            "DOMAIN_BEACON_ATTESTER",
            hex(&constants::DOMAIN_BEACON_ATTESTER),
        ),
        ("DOMAIN_RANDAO", hex(&constants::DOMAIN_RANDAO)),
        ("DOMAIN_DEPOSIT", hex(&constants::DOMAIN_DEPOSIT)),
        (
            "DOMAIN_VOLUNTARY_EXIT",
            hex(&constants::DOMAIN_VOLUNTARY_EXIT),
        ),
        (
            "DOMAIN_SELECTION_PROOF",
            hex(&constants::DOMAIN_SELECTION_PROOF),
        ),
        (
            "DOMAIN_AGGREGATE_AND_PROOF",
            hex(&constants::DOMAIN_AGGREGATE_AND_PROOF),
        ),
        (
            "DOMAIN_SYNC_COMMITTEE",
            hex(&constants::DOMAIN_SYNC_COMMITTEE),
        ),
        (
            "DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF",
            hex(&constants::DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF),
        ),
        (
            "DOMAIN_CONTRIBUTION_AND_PROOF",
            hex(&constants::DOMAIN_CONTRIBUTION_AND_PROOF),
        ),
        (
            "DOMAIN_APPLICATION_MASK",
            hex(&constants::DOMAIN_APPLICATION_MASK),
        ),
        (
            "BLS_WITHDRAWAL_PREFIX",
            hex(&[constants::BLS_WITHDRAWAL_PREFIX]),
        ),
        (
            "ETH1_ADDRESS_WITHDRAWAL_PREFIX",
            hex(&[constants::ETH1_ADDRESS_WITHDRAWAL_PREFIX]),
        ),
        (
            "TARGET_AGGREGATORS_PER_COMMITTEE",
            constants::TARGET_AGGREGATORS_PER_COMMITTEE.to_string(),
        ),
        (
            "TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE",
            constants::TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE.to_string(),
        ),
        ("GENESIS_SLOT", constants::GENESIS_SLOT.to_string()),
        ("GENESIS_EPOCH", constants::GENESIS_EPOCH.to_string()),
        ("FAR_FUTURE_EPOCH", constants::FAR_FUTURE_EPOCH.to_string()),
        (
            "DEPOSIT_CONTRACT_TREE_DEPTH",
            constants::DEPOSIT_CONTRACT_TREE_DEPTH.to_string(),
        ),
        (
            "JUSTIFICATION_BITS_LENGTH",
            constants::JUSTIFICATION_BITS_LENGTH.to_string(),
        ),
    ]
}

pub async fn spec<P: Preset>(State(app): State<AppState<P>>) -> Result<Response, RequestError> {
    let mut entries = app.ctx.config.to_spec_map();
    let known: std::collections::HashSet<String> = entries.iter().map(|(k, _)| k.clone()).collect();
    let extra = P::values()
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .chain(constant_entries())
        .filter(|(k, _)| !known.contains(*k))
        .map(|(k, v)| (k.to_owned(), ConfigValue::Scalar(v)))
        .collect::<Vec<_>>();
    entries.extend(extra);
    json(&Data {
        data: Spec(entries),
    })
}

pub async fn fork_schedule<P: Preset>(
    State(app): State<AppState<P>>,
) -> Result<Response, RequestError> {
    let config = &app.ctx.config;
    let forks: Vec<Fork> = ForkName::ALL
        .iter()
        .map(|&fork| Fork {
            previous_version: config.fork_version(fork.previous().unwrap_or(fork)),
            current_version: config.fork_version(fork),
            epoch: config.fork_epoch(fork),
        })
        .collect();
    json(&Data { data: forks })
}

#[derive(Serialize)]
struct DepositContract {
    chain_id: u64,
    address: ExecutionAddress,
}

pub async fn deposit_contract<P: Preset>(
    State(app): State<AppState<P>>,
) -> Result<Response, RequestError> {
    json(&Data {
        data: DepositContract {
            chain_id: app.ctx.config.deposit_chain_id,
            address: app.ctx.config.deposit_contract_address,
        },
    })
}
