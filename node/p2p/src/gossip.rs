//! Gossipsub as the consensus p2p spec configures it: mesh sizes, heartbeat and history, the
//! message-id over the decompressed payload, `StrictNoSign` (anonymous, unsigned messages),
//! explicit validation (nothing is forwarded before the pipeline's verdict), and peer scoring.

use crate::service::NetworkConfig;
use libp2p::gossipsub::{
    self, ConfigBuilder, MessageAuthenticity, MessageId, PeerScoreParams, PeerScoreThresholds,
    TopicScoreParams, ValidationMode,
};
use std::time::Duration;

/// Snappy's worst case for the largest payload, plus protobuf framing.
fn max_transmit_size(max_payload_size: u64) -> usize {
    (max_payload_size + max_payload_size / 6 + 32 + 1024) as usize
}

pub fn gossipsub_behaviour(config: &NetworkConfig) -> Result<gossipsub::Behaviour, String> {
    let message_id = config.message_id.clone();
    let gossip = ConfigBuilder::default()
        // D, D_low, D_high, D_lazy.
        .mesh_n(8)
        .mesh_n_low(6)
        .mesh_n_high(12)
        .gossip_lazy(6)
        .heartbeat_interval(config.gossip_heartbeat)
        .fanout_ttl(Duration::from_secs(60))
        // mcache_len, mcache_gossip.
        .history_length(6)
        .history_gossip(3)
        // SECONDS_PER_SLOT * SLOTS_PER_EPOCH * 2 on mainnet; long enough for any preset.
        .duplicate_cache_time(Duration::from_secs(768))
        .max_transmit_size(max_transmit_size(config.limits.max_payload_size))
        .validation_mode(ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(move |message: &gossipsub::Message| {
            MessageId::new(&message_id(message.topic.as_str(), &message.data))
        })
        .build()
        .map_err(|e| e.to_string())?;
    let mut behaviour = gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, gossip)?;
    let (params, thresholds) = score_parameters(config);
    behaviour.with_peer_score(params, thresholds)?;
    Ok(behaviour)
}

/// Peer scoring: the application score (Keel's own peer scores) carries most weight; invalid
/// messages (P4) cost on every topic; mesh delivery rates are not scored, since a quiet devnet
/// topic must not count against honest peers.
fn score_parameters(config: &NetworkConfig) -> (PeerScoreParams, PeerScoreThresholds) {
    let mut params = PeerScoreParams {
        app_specific_weight: 1.0,
        decay_interval: Duration::from_secs(12),
        ..PeerScoreParams::default()
    };
    if config.listen_address.is_loopback() {
        // Local devnets put every node on one address.
        params
            .ip_colocation_factor_whitelist
            .insert(config.listen_address);
    }
    for topic in &config.topics {
        let topic_params = TopicScoreParams {
            topic_weight: 1.0,
            time_in_mesh_weight: 0.0,
            first_message_deliveries_weight: 0.5,
            first_message_deliveries_cap: 100.0,
            mesh_message_deliveries_weight: 0.0,
            mesh_failure_penalty_weight: 0.0,
            invalid_message_deliveries_weight: -100.0,
            invalid_message_deliveries_decay: 0.5,
            ..TopicScoreParams::default()
        };
        params.topics.insert(
            gossipsub::IdentTopic::new(topic.clone()).hash(),
            topic_params,
        );
    }
    let thresholds = PeerScoreThresholds {
        gossip_threshold: -4000.0,
        publish_threshold: -8000.0,
        graylist_threshold: -16000.0,
        accept_px_threshold: 100.0,
        opportunistic_graft_threshold: 5.0,
    };
    (params, thresholds)
}
