//! The Beacon API over HTTP against a real (small) chain: a Fulu interop genesis in an LMDB
//! store and a snapshot whose head is one block later.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::Fixture;
use keel_config::ChainConfig;
use keel_pipeline_api::ChainEvent;
use keel_types::ssz::Encode;
use keel_types::{Hash256, Minimal};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    fixture: Fixture<Minimal>,
    base: String,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Server {
    let fixture = tokio::task::spawn_blocking(|| common::build::<Minimal>(ChainConfig::minimal()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let ctx = fixture.ctx.clone();
    tokio::spawn(async move {
        keel_api::serve_on(listener, ctx, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server {
        fixture,
        base,
        client: reqwest::Client::new(),
        _stop: stop,
    }
}

impl Server {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.get(format!("{}{}", self.base, path)), path)
            .await
    }

    async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let request = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body.to_owned());
        self.send(request, path).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, path: &str) -> (StatusCode, Value) {
        let resp = request.send().await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = resp.bytes().await.unwrap();
        let value = if body.is_empty() {
            Value::Null
        } else {
            assert_eq!(content_type.as_deref(), Some("application/json"), "{path}");
            serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
        };
        (status, value)
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// Asserts the spec's error shape and returns the message.
    async fn error(&self, path: &str, expected: StatusCode) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert_eq!(body["code"], json!(expected.as_u16()), "{path}: {body}");
        body["message"].as_str().expect("message").to_owned()
    }
}

fn hex(root: &Hash256) -> String {
    format!("{root:#x}")
}

#[tokio::test]
async fn node_endpoints() {
    let s = start().await;
    let v = s.ok("/eth/v1/node/version").await;
    assert!(
        v["data"]["version"]
            .as_str()
            .unwrap()
            .starts_with("Keel/v0.1.0/"),
        "{v}"
    );
    let v = s.ok("/eth/v1/node/syncing").await;
    assert_eq!(
        v["data"],
        json!({"head_slot": "1", "sync_distance": "0", "is_syncing": false,
               "is_optimistic": false, "el_offline": false})
    );
    let (status, body) = s.get("/eth/v1/node/health").await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    let (status, _) = s.get("/eth/v1/node/health?syncing_status=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v = s.ok("/eth/v1/node/peers").await;
    assert_eq!(v, json!({"data": [], "meta": {"count": 0}}));
    s.error("/eth/v1/node/peers/not-base58!", StatusCode::BAD_REQUEST)
        .await;
    s.error(
        "/eth/v1/node/peers/16Uiu2HAmQ6yDj8oMRnfGXEWqWQmYCz5nXxn4cpe1DuTpEKMy1Qkb",
        StatusCode::NOT_FOUND,
    )
    .await;
    let v = s.ok("/eth/v1/node/peer_count").await;
    assert_eq!(v["data"]["connected"], json!("0"));
    let v = s.ok("/eth/v1/node/identity").await;
    assert_eq!(v["data"]["metadata"]["seq_number"], json!("0"));
    assert_eq!(
        v["data"]["metadata"]["attnets"],
        json!("0x0000000000000000")
    );
    assert_eq!(v["data"]["p2p_addresses"], json!([]));
}

#[tokio::test]
async fn genesis_and_config() {
    let s = start().await;
    let f = &s.fixture;
    let v = s.ok("/eth/v1/beacon/genesis").await;
    assert_eq!(
        v["data"],
        json!({
            "genesis_time": common::GENESIS_TIME.to_string(),
            "genesis_validators_root": hex(&f.genesis_state.genesis_validators_root),
            "genesis_fork_version": format!("0x{}", ::hex::encode(f.config.genesis_fork_version)),
        })
    );
    let v = s.ok("/eth/v1/config/spec").await;
    assert_eq!(v["data"]["PRESET_BASE"], json!("minimal"));
    assert_eq!(v["data"]["SLOTS_PER_EPOCH"], json!("8"));
    assert_eq!(v["data"]["FULU_FORK_EPOCH"], json!("0"));
    assert_eq!(v["data"]["DOMAIN_BEACON_PROPOSER"], json!("0x00000000"));
    assert!(v["data"]["BLOB_SCHEDULE"].is_array());
    let v = s.ok("/eth/v1/config/fork_schedule").await;
    let forks = v["data"].as_array().unwrap();
    assert_eq!(forks.len(), 7);
    assert_eq!(forks[6]["epoch"], json!("0"));
    assert_eq!(forks[6]["previous_version"], forks[5]["current_version"]);
    let v = s.ok("/eth/v1/config/deposit_contract").await;
    assert_eq!(
        v["data"]["chain_id"],
        json!(f.config.deposit_chain_id.to_string())
    );
    assert_eq!(v["data"]["address"].as_str().map(str::len), Some(42), "{v}");
}

#[tokio::test]
async fn state_ids() {
    let s = start().await;
    let f = &s.fixture;
    let head = hex(&f.head_state_root);
    let genesis = hex(&f.genesis_state_root);
    for (id, root) in [
        ("head", &head),
        ("1", &head),
        (head.as_str(), &head),
        // Not in the snapshot: served from the store.
        ("genesis", &genesis),
        ("0", &genesis),
        ("finalized", &genesis),
        ("justified", &genesis),
        (genesis.as_str(), &genesis),
    ] {
        let v = s.ok(&format!("/eth/v1/beacon/states/{id}/root")).await;
        assert_eq!(v["data"]["root"], json!(root), "{id}");
        assert_eq!(v["execution_optimistic"], json!(false));
        // Slot 0 is the finalized epoch's start slot.
        assert_eq!(v["finalized"], json!(root == &genesis), "{id}");
    }
    for bad in [
        "bogus",
        "0x12",
        "-1",
        "18446744073709551616",
        "Head",
        "0xzz",
    ] {
        let message = s
            .error(
                &format!("/eth/v1/beacon/states/{bad}/root"),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert!(message.contains("invalid state id"), "{message}");
    }
    let unknown = hex(&Hash256::repeat_byte(0xee));
    for missing in ["2", "999999", unknown.as_str()] {
        let message = s
            .error(
                &format!("/eth/v1/beacon/states/{missing}/root"),
                StatusCode::NOT_FOUND,
            )
            .await;
        assert_eq!(message, "state not found");
    }
    let v = s.ok("/eth/v1/beacon/states/head/fork").await;
    assert_eq!(v["data"]["epoch"], json!("0"));
    assert_eq!(
        v["data"]["current_version"],
        json!(format!("0x{}", ::hex::encode(f.config.fulu_fork_version)))
    );
    let v = s
        .ok("/eth/v1/beacon/states/head/finality_checkpoints")
        .await;
    assert_eq!(
        v["data"]["finalized"],
        json!({"epoch": "0", "root": hex(&Hash256::ZERO)})
    );
    let v = s.ok("/eth/v1/beacon/states/genesis/randao").await;
    assert_eq!(
        v["data"]["randao"],
        json!(hex(f.genesis_state.randao_mixes.get(0).unwrap()))
    );
    s.error(
        "/eth/v1/beacon/states/head/randao?epoch=5",
        StatusCode::BAD_REQUEST,
    )
    .await;
    s.error(
        "/eth/v1/beacon/states/head/randao?epoch=x",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn validators() {
    let s = start().await;
    let f = &s.fixture;
    let v = s.ok("/eth/v1/beacon/states/head/validators").await;
    let all = v["data"].as_array().unwrap();
    assert_eq!(all.len(), common::VALIDATORS as usize);
    assert_eq!(all[5]["index"], json!("5"));
    assert_eq!(all[5]["balance"], json!("32000000000"));
    assert_eq!(all[5]["status"], json!("active_ongoing"));
    assert_eq!(all[5]["validator"]["slashed"], json!(false));
    assert_eq!(
        all[5]["validator"]["exit_epoch"],
        json!(u64::MAX.to_string())
    );

    let pk2 = f
        .genesis_state
        .validators
        .get(2)
        .unwrap()
        .pubkey
        .to_string();
    let v = s
        .ok(&format!(
            "/eth/v1/beacon/states/head/validators?id=1,7&id={pk2}&id=1&id=9999"
        ))
        .await;
    let indices: Vec<_> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["index"].clone())
        .collect();
    assert_eq!(indices, vec![json!("1"), json!("7"), json!("2")]);
    let v = s
        .ok("/eth/v1/beacon/states/head/validators?status=active")
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 64);
    let v = s
        .ok("/eth/v1/beacon/states/head/validators?status=pending_queued,exited")
        .await;
    assert_eq!(v["data"], json!([]));
    s.error(
        "/eth/v1/beacon/states/head/validators?status=bogus",
        StatusCode::BAD_REQUEST,
    )
    .await;
    s.error(
        "/eth/v1/beacon/states/head/validators?id=0x1234",
        StatusCode::BAD_REQUEST,
    )
    .await;
    s.error(
        "/eth/v1/beacon/states/nope/validators",
        StatusCode::BAD_REQUEST,
    )
    .await;

    let v = s
        .ok(&format!("/eth/v1/beacon/states/genesis/validators/{pk2}"))
        .await;
    assert_eq!(v["data"]["index"], json!("2"));
    let v = s.ok("/eth/v1/beacon/states/head/validators/63").await;
    assert_eq!(
        v["data"]["validator"]["pubkey"],
        json!(
            f.genesis_state
                .validators
                .get(63)
                .unwrap()
                .pubkey
                .to_string()
        )
    );
    s.error(
        "/eth/v1/beacon/states/head/validators/64",
        StatusCode::NOT_FOUND,
    )
    .await;
    let unknown_pk = format!("0x{}", "ab".repeat(48));
    s.error(
        &format!("/eth/v1/beacon/states/head/validators/{unknown_pk}"),
        StatusCode::NOT_FOUND,
    )
    .await;
    s.error(
        "/eth/v1/beacon/states/head/validators/abc",
        StatusCode::BAD_REQUEST,
    )
    .await;

    // POST forms.
    let (status, v) = s
        .post(
            "/eth/v1/beacon/states/head/validators",
            &format!(r#"{{"ids": ["1", "{pk2}"], "statuses": ["active_ongoing"]}}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let indices: Vec<_> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["index"].clone())
        .collect();
    assert_eq!(indices, vec![json!("1"), json!("2")]);
    let (status, v) = s.post("/eth/v1/beacon/states/head/validators", "{}").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"].as_array().unwrap().len(), 64);
    let (status, v) = s
        .post(
            "/eth/v1/beacon/states/head/validators",
            r#"{"statuses": ["nope"]}"#,
        )
        .await;
    assert_eq!(
        (status, v["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(400))
    );
    let (status, _) = s
        .post("/eth/v1/beacon/states/head/validators", "{not json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, v) = s
        .post(
            "/eth/v1/beacon/states/head/validator_balances",
            r#"["0", "63", "64"]"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let (status, v) = s
        .post("/eth/v1/beacon/states/head/validator_balances", "")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"].as_array().unwrap().len(), 64);
    let (status, _) = s
        .post("/eth/v1/beacon/states/unknown/validator_balances", "[]")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let v = s
        .ok("/eth/v1/beacon/states/head/validator_balances?id=3&id=4")
        .await;
    assert_eq!(
        v["data"],
        json!([{"index": "3", "balance": "32000000000"}, {"index": "4", "balance": "32000000000"}])
    );
    let v = s.ok("/eth/v1/beacon/states/head/validator_balances").await;
    assert_eq!(v["data"].as_array().unwrap().len(), 64);
}

#[tokio::test]
async fn committees() {
    let s = start().await;
    let v = s.ok("/eth/v1/beacon/states/head/committees").await;
    let committees = v["data"].as_array().unwrap();
    // Minimal: 8 slots; 64 validators / 8 slots / TARGET_COMMITTEE_SIZE 4 = 2 committees each.
    assert_eq!(committees.len(), 16);
    let mut members: Vec<u64> = committees
        .iter()
        .flat_map(|c| c["validators"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    members.sort_unstable();
    assert_eq!(members, (0..64).collect::<Vec<_>>());

    let v = s
        .ok("/eth/v1/beacon/states/head/committees?slot=3&index=0")
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"][0]["slot"], json!("3"));
    let v = s.ok("/eth/v1/beacon/states/head/committees?epoch=1").await;
    assert_eq!(v["data"][0]["slot"], json!("8"));
    let v = s.ok("/eth/v1/beacon/states/head/committees?index=5").await;
    assert_eq!(v["data"], json!([]));
    s.error(
        "/eth/v1/beacon/states/head/committees?epoch=2",
        StatusCode::BAD_REQUEST,
    )
    .await;
    s.error(
        "/eth/v1/beacon/states/head/committees?epoch=0&slot=9",
        StatusCode::BAD_REQUEST,
    )
    .await;
    s.error(
        "/eth/v1/beacon/states/head/committees?epoch=18446744073709551615",
        StatusCode::BAD_REQUEST,
    )
    .await;

    let v = s.ok("/eth/v1/beacon/states/head/sync_committees").await;
    assert_eq!(v["data"]["validators"].as_array().unwrap().len(), 32);
    let aggregates = v["data"]["validator_aggregates"].as_array().unwrap();
    assert_eq!(aggregates.len(), 4);
    assert_eq!(aggregates[0].as_array().unwrap().len(), 8);
    s.ok("/eth/v1/beacon/states/head/sync_committees?epoch=8")
        .await;
    s.error(
        "/eth/v1/beacon/states/head/sync_committees?epoch=16",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn headers_and_blocks() {
    let s = start().await;
    let f = &s.fixture;
    let head_root = hex(&f.head_block_root);
    let genesis_root = hex(&f.genesis_block_root);

    let v = s.ok("/eth/v1/beacon/headers").await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"][0]["root"], json!(head_root));
    assert_eq!(v["data"][0]["canonical"], json!(true));
    assert_eq!(v["data"][0]["header"]["message"]["slot"], json!("1"));
    assert_eq!(
        v["data"][0]["header"]["message"]["proposer_index"],
        json!("3")
    );
    assert_eq!(
        v["data"][0]["header"]["message"]["parent_root"],
        json!(genesis_root)
    );
    let v = s
        .ok(&format!(
            "/eth/v1/beacon/headers?parent_root={genesis_root}"
        ))
        .await;
    assert_eq!(v["data"][0]["root"], json!(head_root));
    let v = s.ok("/eth/v1/beacon/headers?slot=0").await;
    assert_eq!(v["data"][0]["root"], json!(genesis_root));
    assert_eq!(v["finalized"], json!(true));
    let v = s.ok("/eth/v1/beacon/headers?slot=7").await;
    assert_eq!(v["data"], json!([]));
    s.error(
        "/eth/v1/beacon/headers?parent_root=0x12",
        StatusCode::BAD_REQUEST,
    )
    .await;
    s.error("/eth/v1/beacon/headers?slot=one", StatusCode::BAD_REQUEST)
        .await;

    for (id, root) in [
        ("head", &head_root),
        ("1", &head_root),
        ("genesis", &genesis_root),
        ("finalized", &genesis_root),
        ("0", &genesis_root),
        (genesis_root.as_str(), &genesis_root),
    ] {
        let v = s.ok(&format!("/eth/v1/beacon/headers/{id}")).await;
        assert_eq!(v["data"]["root"], json!(root), "{id}");
        let v = s.ok(&format!("/eth/v1/beacon/blocks/{id}/root")).await;
        assert_eq!(v["data"]["root"], json!(root), "{id}");
    }
    s.error("/eth/v1/beacon/headers/xyz", StatusCode::BAD_REQUEST)
        .await;
    s.error("/eth/v1/beacon/blocks/2/root", StatusCode::NOT_FOUND)
        .await;
    let message = s
        .error(
            &format!(
                "/eth/v1/beacon/blocks/{}/root",
                hex(&Hash256::repeat_byte(1))
            ),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(message, "block not found");

    // JSON block.
    let resp = s
        .client
        .get(format!("{}/eth/v2/beacon/blocks/head", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["eth-consensus-version"], "fulu");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["version"], json!("fulu"));
    assert_eq!(v["finalized"], json!(false));
    assert_eq!(v["data"]["message"]["slot"], json!("1"));
    assert_eq!(
        v["data"]["message"]["body"]["graffiti"],
        json!(hex(&Hash256::repeat_byte(0x11)))
    );
    assert_eq!(
        v["data"]["message"]["body"]["execution_payload"]["base_fee_per_gas"],
        json!("0")
    );
    // SSZ block.
    let resp = s
        .client
        .get(format!("{}/eth/v2/beacon/blocks/head", s.base))
        .header("accept", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.headers()["eth-consensus-version"], "fulu");
    assert_eq!(
        resp.bytes().await.unwrap().to_vec(),
        f.head_block.as_ssz_bytes()
    );
    // Preferences by q-value, and nothing acceptable.
    let resp = s
        .client
        .get(format!("{}/eth/v2/beacon/blocks/genesis", s.base))
        .header(
            "accept",
            "application/json;q=0.5, application/octet-stream;q=0.9",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    let resp = s
        .client
        .get(format!("{}/eth/v2/beacon/blocks/head", s.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn debug_endpoints() {
    let s = start().await;
    let f = &s.fixture;
    let resp = s
        .client
        .get(format!("{}/eth/v2/debug/beacon/states/genesis", s.base))
        .header("accept", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["eth-consensus-version"], "fulu");
    assert_eq!(
        resp.bytes().await.unwrap().to_vec(),
        f.genesis_state.as_ssz_bytes()
    );

    let v = s.ok("/eth/v2/debug/beacon/states/head").await;
    assert_eq!(v["version"], json!("fulu"));
    let state = &v["data"];
    assert_eq!(state["slot"], json!("1"));
    assert_eq!(
        state["genesis_time"],
        json!(common::GENESIS_TIME.to_string())
    );
    assert_eq!(state["validators"].as_array().unwrap().len(), 64);
    assert_eq!(state["balances"][0], json!("32000000000"));
    assert_eq!(state["justification_bits"], json!("0x00"));
    assert_eq!(state["proposer_lookahead"].as_array().unwrap().len(), 16);
    assert_eq!(
        state["current_sync_committee"]["pubkeys"]
            .as_array()
            .unwrap()
            .len(),
        32
    );
    s.error("/eth/v2/debug/beacon/states/7", StatusCode::NOT_FOUND)
        .await;
    s.error("/eth/v2/debug/beacon/states/x7", StatusCode::BAD_REQUEST)
        .await;

    let v = s.ok("/eth/v1/debug/fork_choice").await;
    let nodes = v["fork_choice_nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["parent_root"], json!(hex(&Hash256::ZERO)));
    assert_eq!(nodes[1]["parent_root"], json!(hex(&f.genesis_block_root)));
    assert_eq!(nodes[1]["weight"], json!("64000000000"));
    assert_eq!(nodes[1]["validity"], json!("valid"));
    assert_eq!(v["finalized_checkpoint"]["epoch"], json!("0"));

    let v = s.ok("/eth/v2/debug/beacon/heads").await;
    assert_eq!(
        v["data"],
        json!([{"root": hex(&f.head_block_root), "slot": "1", "execution_optimistic": false}])
    );
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let s = start().await;
    s.error("/eth/v1/no/such/thing", StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn events_stream() {
    let s = start().await;
    s.error("/eth/v1/events", StatusCode::BAD_REQUEST).await;
    s.error("/eth/v1/events?topics=head,bogus", StatusCode::BAD_REQUEST)
        .await;

    let mut resp = s
        .client
        .get(format!(
            "{}/eth/v1/events?topics=head,finalized_checkpoint",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");

    let cell = s.fixture.ctx.snapshots.clone();
    // A block event is filtered out; the head event that follows is delivered.
    cell.emit(ChainEvent::Block {
        slot: 2,
        block: Hash256::repeat_byte(2),
        execution_optimistic: false,
    });
    cell.emit(ChainEvent::Head {
        slot: 2,
        block: Hash256::repeat_byte(2),
        state: Hash256::repeat_byte(3),
        epoch_transition: false,
        previous_duty_dependent_root: Hash256::repeat_byte(4),
        current_duty_dependent_root: Hash256::repeat_byte(5),
        execution_optimistic: false,
    });
    let mut text = String::new();
    let read = async {
        while !text.contains("\n\n") {
            let chunk = resp.chunk().await.unwrap().expect("stream open");
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("event within 10 s");
    assert!(text.starts_with("event: head\n"), "{text}");
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("data line");
    let v: Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["slot"], json!("2"));
    assert_eq!(v["block"], json!(hex(&Hash256::repeat_byte(2))));
    assert_eq!(v["epoch_transition"], json!(false));
}

#[tokio::test]
async fn shutdown_ends_open_event_streams() {
    let fixture = tokio::task::spawn_blocking(|| common::build::<Minimal>(ChainConfig::minimal()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(keel_api::serve_on(listener, fixture.ctx.clone(), async {
        let _ = stopped.await;
    }));
    let mut resp = reqwest::get(format!("{base}/eth/v1/events?topics=block"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    stop.send(()).unwrap();
    let finished = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(
        matches!(finished, Ok(Ok(Ok(())))),
        "serve did not return: {finished:?}"
    );
    // The stream ended cleanly rather than being cut.
    assert!(resp.chunk().await.unwrap().is_none());
}
