//! The client against the mock, over loopback HTTP.

use std::time::{Duration, Instant};

use alloy_primitives::Address;
use keel_execution::{
    BlobProofKind, EngineClient, EngineError, ForkchoiceState, JwtSecret, MockConfig, MockEngine,
    MockMode, PayloadAttributes, PayloadId, PayloadVerdict,
};
use keel_types::capella::Withdrawal;
use keel_types::electra::ExecutionRequests;
use keel_types::{ForkName, Hash256, Minimal};

type P = Minimal;

async fn mock_and_client() -> (MockEngine, EngineClient) {
    let secret = JwtSecret::random();
    let mock = MockEngine::start_local(secret.clone()).await.unwrap();
    let client = EngineClient::new(&mock.url(), secret).unwrap();
    (mock, client)
}

fn attributes(timestamp: u64, parent_beacon_block_root: Hash256) -> PayloadAttributes {
    PayloadAttributes {
        timestamp,
        prev_randao: Hash256::repeat_byte(0x11),
        suggested_fee_recipient: Address::repeat_byte(0x22),
        withdrawals: vec![Withdrawal {
            index: 5,
            validator_index: 6,
            address: Address::repeat_byte(0x33),
            amount: 7,
        }],
        parent_beacon_block_root,
    }
}

#[tokio::test]
async fn build_import_and_move_head() {
    let (mock, client) = mock_and_client().await;
    let caps = client.exchange_capabilities().await.unwrap();
    assert!(caps.iter().any(|c| c == "engine_newPayloadV4"), "{caps:?}");

    let genesis = mock.genesis_block_hash();
    let header = mock.genesis_header::<P>().unwrap();
    assert_eq!(header.block_hash, genesis);
    assert_eq!(header.block_number, 0);

    // Build on genesis.
    let beacon_root = Hash256::repeat_byte(0xbb);
    let attrs = attributes(12, beacon_root);
    let fcu = client
        .forkchoice_updated(ForkchoiceState::same_hash(genesis), Some(&attrs))
        .await
        .unwrap();
    assert_eq!(fcu.verdict, PayloadVerdict::Valid);
    assert_eq!(fcu.latest_valid_hash, Some(genesis));
    let id = fcu.payload_id.expect("payload id with attributes");

    // Electra (V4) and Fulu (V5) both fetch it; the bundle kinds differ.
    let electra = client
        .get_payload::<P>(ForkName::Electra, id)
        .await
        .unwrap();
    assert_eq!(electra.blobs_bundle.kind, BlobProofKind::BlobProofs);
    let built = client.get_payload::<P>(ForkName::Fulu, id).await.unwrap();
    assert_eq!(built.blobs_bundle.kind, BlobProofKind::CellProofs);
    assert_eq!(electra.execution_payload, built.execution_payload);
    let payload = &built.execution_payload;
    assert_eq!(payload.parent_hash, genesis);
    assert_eq!(payload.block_number, 1);
    assert_eq!(payload.timestamp, 12);
    assert_eq!(payload.prev_randao, attrs.prev_randao);
    assert_eq!(payload.fee_recipient, attrs.suggested_fee_recipient);
    assert_eq!(payload.withdrawals.to_vec(), attrs.withdrawals);
    assert!(payload.transactions.is_empty());
    assert!(payload.gas_limit > 0 && payload.gas_used == 0);
    assert!(built.blobs_bundle.blobs.is_empty());
    assert_eq!(built.execution_requests, ExecutionRequests::default());

    // Import it: VALID.
    let verdict = client
        .new_payload(
            ForkName::Fulu,
            payload,
            &[],
            beacon_root,
            &built.execution_requests,
        )
        .await
        .unwrap();
    assert_eq!(verdict, PayloadVerdict::Valid);
    assert!(mock.knows_block(payload.block_hash));
    assert_eq!(mock.received_payloads().len(), 1);

    // The wrong parent beacon root changes the (mock) block hash: INVALID.
    let verdict = client
        .new_payload(
            ForkName::Fulu,
            payload,
            &[],
            Hash256::repeat_byte(0xcc),
            &built.execution_requests,
        )
        .await
        .unwrap();
    assert!(
        matches!(&verdict, PayloadVerdict::Invalid { reason, .. } if reason.contains("block hash mismatch")),
        "{verdict:?}"
    );

    // Move the head.
    let state = ForkchoiceState {
        head_block_hash: payload.block_hash,
        safe_block_hash: genesis,
        finalized_block_hash: genesis,
    };
    let fcu = client.forkchoice_updated(state, None).await.unwrap();
    assert_eq!(fcu.verdict, PayloadVerdict::Valid);
    assert_eq!(fcu.payload_id, None);
    assert_eq!(mock.forkchoice(), state);

    // A head the mock has never seen: SYNCING.
    let unknown = ForkchoiceState::same_hash(Hash256::repeat_byte(0x99));
    let fcu = client.forkchoice_updated(unknown, None).await.unwrap();
    assert_eq!(fcu.verdict, PayloadVerdict::Syncing);

    mock.stop().await;
}

#[tokio::test]
async fn unknown_parent_is_syncing() {
    let (mock, client) = mock_and_client().await;
    let genesis = mock.genesis_block_hash();
    let fcu = client
        .forkchoice_updated(
            ForkchoiceState::same_hash(genesis),
            Some(&attributes(12, Hash256::ZERO)),
        )
        .await
        .unwrap();
    let built = client
        .get_payload::<P>(ForkName::Electra, fcu.payload_id.unwrap())
        .await
        .unwrap();
    // A second mock with another genesis does not know the parent.
    let other = MockEngine::start(
        "127.0.0.1:0".parse().unwrap(),
        JwtSecret::from_bytes([7; 32]),
        MockConfig {
            genesis_block_hash: Some(Hash256::repeat_byte(0x42)),
            ..MockConfig::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(other.genesis_block_hash(), Hash256::repeat_byte(0x42));
    assert_eq!(
        other.genesis_header::<P>().unwrap().block_hash,
        Hash256::repeat_byte(0x42)
    );
    let other_client = EngineClient::new(&other.url(), JwtSecret::from_bytes([7; 32])).unwrap();
    let verdict = other_client
        .new_payload(
            ForkName::Electra,
            &built.execution_payload,
            &[],
            Hash256::ZERO,
            &built.execution_requests,
        )
        .await
        .unwrap();
    assert_eq!(verdict, PayloadVerdict::Syncing);
}

#[tokio::test]
async fn wrong_jwt_secret_is_a_clear_error() {
    let mock = MockEngine::start_local(JwtSecret::from_bytes([1; 32]))
        .await
        .unwrap();
    let client = EngineClient::new(&mock.url(), JwtSecret::from_bytes([2; 32])).unwrap();
    let err = client.exchange_capabilities().await.unwrap_err();
    assert!(
        matches!(err, EngineError::JwtRejected { status: 401, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    eprintln!("{message}");
    assert!(
        message.starts_with("JWT rejected: check the --execution-jwt secret"),
        "{message}"
    );
    assert!(!err.is_offline());
}

#[tokio::test]
async fn stale_or_missing_token_is_rejected_by_the_mock() {
    let secret = JwtSecret::random();
    let mock = MockEngine::start_local(secret.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "engine_exchangeCapabilities", "params": [[]]});
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    let stale = secret.token_at(now - 120).unwrap();
    let response = http
        .post(mock.url())
        .bearer_auth(stale)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let text = response.text().await.unwrap();
    assert!(text.contains("iat"), "{text}");

    let response = http.post(mock.url()).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 401);

    let fresh = secret.token_at(now - 30).unwrap();
    let response = http
        .post(mock.url())
        .bearer_auth(fresh)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn syncing_mode() {
    let (mock, client) = mock_and_client().await;
    let genesis = mock.genesis_block_hash();
    let fcu = client
        .forkchoice_updated(
            ForkchoiceState::same_hash(genesis),
            Some(&attributes(12, Hash256::ZERO)),
        )
        .await
        .unwrap();
    let built = client
        .get_payload::<P>(ForkName::Fulu, fcu.payload_id.unwrap())
        .await
        .unwrap();

    mock.set_mode(MockMode::Syncing);
    let verdict = client
        .new_payload(
            ForkName::Fulu,
            &built.execution_payload,
            &[],
            Hash256::ZERO,
            &built.execution_requests,
        )
        .await
        .unwrap();
    assert_eq!(verdict, PayloadVerdict::Syncing);
    assert!(verdict.is_optimistic());
    let fcu = client
        .forkchoice_updated(ForkchoiceState::same_hash(genesis), None)
        .await
        .unwrap();
    assert_eq!(fcu.verdict, PayloadVerdict::Syncing);

    // Back to normal: the same payload is VALID.
    mock.set_mode(MockMode::Normal);
    let verdict = client
        .new_payload(
            ForkName::Fulu,
            &built.execution_payload,
            &[],
            Hash256::ZERO,
            &built.execution_requests,
        )
        .await
        .unwrap();
    assert_eq!(verdict, PayloadVerdict::Valid);
}

#[tokio::test]
async fn invalid_mode_reports_latest_valid_hash() {
    let (mock, client) = mock_and_client().await;
    let genesis = mock.genesis_block_hash();
    let fcu = client
        .forkchoice_updated(
            ForkchoiceState::same_hash(genesis),
            Some(&attributes(12, Hash256::ZERO)),
        )
        .await
        .unwrap();
    let built = client
        .get_payload::<P>(ForkName::Electra, fcu.payload_id.unwrap())
        .await
        .unwrap();

    mock.set_mode(MockMode::Invalid {
        latest_valid_hash: Some(genesis),
    });
    let verdict = client
        .new_payload(
            ForkName::Electra,
            &built.execution_payload,
            &[],
            Hash256::ZERO,
            &built.execution_requests,
        )
        .await
        .unwrap();
    match &verdict {
        PayloadVerdict::Invalid {
            latest_valid_hash,
            reason,
        } => {
            assert_eq!(*latest_valid_hash, Some(genesis));
            assert!(reason.contains("INVALID"), "{reason}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let fcu = client
        .forkchoice_updated(ForkchoiceState::same_hash(genesis), None)
        .await
        .unwrap();
    assert!(
        matches!(fcu.verdict, PayloadVerdict::Invalid { latest_valid_hash: Some(h), .. } if h == genesis),
        "{fcu:?}"
    );
}

#[tokio::test]
async fn rpc_errors_and_blobs() {
    let (_mock, client) = mock_and_client().await;
    let err = client
        .get_payload::<P>(ForkName::Fulu, PayloadId::new([9; 8]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Rpc { code: -38001, .. }),
        "{err:?}"
    );
    let err = client
        .get_payload::<P>(ForkName::Deneb, PayloadId::new([9; 8]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::UnsupportedFork { .. }),
        "{err:?}"
    );

    // The mock has no blob pool: a miss is `None`, an empty request an empty answer.
    let blobs = client
        .get_blobs_v2::<P>(&[Hash256::repeat_byte(1)])
        .await
        .unwrap();
    assert!(blobs.is_none());
    let blobs = client.get_blobs_v2::<P>(&[]).await.unwrap();
    assert_eq!(blobs.map(|b| b.len()), Some(0));
}

#[tokio::test]
async fn clones_work_from_many_tasks() {
    let (_mock, client) = mock_and_client().await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.exchange_capabilities().await })
        })
        .collect();
    for task in tasks {
        assert!(!task.await.unwrap().unwrap().is_empty());
    }
}

#[tokio::test]
async fn unreachable_endpoint_fails_fast() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}");
    let client = EngineClient::new(&url, JwtSecret::random()).unwrap();
    let started = Instant::now();
    let err = client
        .forkchoice_updated(ForkchoiceState::default(), None)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, EngineError::Unreachable { .. }), "{err:?}");
    assert!(err.is_offline());
    let message = err.to_string();
    eprintln!("{message}");
    assert!(
        message.starts_with(&format!("execution endpoint {url} unreachable: ")),
        "{message}"
    );
}

#[tokio::test]
async fn silent_endpoint_times_out() {
    // Accepts connections, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = EngineClient::new(&format!("http://{addr}"), JwtSecret::random()).unwrap();
    let started = Instant::now();
    let err = client.exchange_capabilities().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            err,
            EngineError::Timeout {
                method: "engine_exchangeCapabilities",
                ..
            }
        ),
        "{err:?}"
    );
    // exchangeCapabilities has the spec's 1 s timeout.
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn stopped_mock_is_unreachable() {
    let (mock, client) = mock_and_client().await;
    client.exchange_capabilities().await.unwrap();
    mock.stop().await;
    let err = client.exchange_capabilities().await.unwrap_err();
    assert!(err.is_offline(), "{err:?}");
}

/// The client's futures must be `Send` so the node can drive them from spawned tasks.
#[allow(dead_code)]
fn futures_are_send(client: &EngineClient, payload: &keel_types::deneb::ExecutionPayload<P>) {
    fn assert_send<T: Send>(_: &T) {}
    let requests = ExecutionRequests::<P>::default();
    assert_send(&client.new_payload(ForkName::Fulu, payload, &[], Hash256::ZERO, &requests));
    assert_send(&client.forkchoice_updated(ForkchoiceState::default(), None));
    assert_send(&client.get_payload::<P>(ForkName::Fulu, PayloadId::new([0; 8])));
    assert_send(&client.get_blobs_v2::<P>(&[]));
    assert_send(&client.exchange_capabilities());
}
