//! `/eth/v1/events`: server-sent events from the core's [`ChainEvent`]s.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use keel_pipeline_api::ChainEvent;
use keel_types::json::Quoted;
use keel_types::{Hash256, Preset, Slot};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::AppState;
use crate::error::RequestError;
use crate::ids::Query;

/// Topics Keel emits. Other topics of the spec are refused with a 400, so that a client learns
/// at once that it would wait for nothing.
const TOPICS: [&str; 4] = ["head", "block", "finalized_checkpoint", "chain_reorg"];

#[derive(Serialize)]
#[serde(untagged)]
enum Payload {
    Head {
        slot: Slot,
        block: Hash256,
        state: Hash256,
        epoch_transition: bool,
        previous_duty_dependent_root: Hash256,
        current_duty_dependent_root: Hash256,
        execution_optimistic: bool,
    },
    Block {
        slot: Slot,
        block: Hash256,
        execution_optimistic: bool,
    },
    FinalizedCheckpoint {
        block: Hash256,
        state: Hash256,
        epoch: u64,
        execution_optimistic: bool,
    },
    ChainReorg {
        slot: Slot,
        depth: u64,
        old_head_block: Hash256,
        new_head_block: Hash256,
        old_head_state: Hash256,
        new_head_state: Hash256,
        epoch: u64,
        execution_optimistic: bool,
    },
}

impl From<&ChainEvent> for Payload {
    fn from(e: &ChainEvent) -> Self {
        match *e {
            ChainEvent::Head {
                slot,
                block,
                state,
                epoch_transition,
                previous_duty_dependent_root,
                current_duty_dependent_root,
                execution_optimistic,
            } => Payload::Head {
                slot,
                block,
                state,
                epoch_transition,
                previous_duty_dependent_root,
                current_duty_dependent_root,
                execution_optimistic,
            },
            ChainEvent::Block {
                slot,
                block,
                execution_optimistic,
            } => Payload::Block {
                slot,
                block,
                execution_optimistic,
            },
            ChainEvent::FinalizedCheckpoint {
                block,
                state,
                epoch,
                execution_optimistic,
            } => Payload::FinalizedCheckpoint {
                block,
                state,
                epoch,
                execution_optimistic,
            },
            ChainEvent::ChainReorg {
                slot,
                depth,
                old_head_block,
                new_head_block,
                old_head_state,
                new_head_state,
                epoch,
                execution_optimistic,
            } => Payload::ChainReorg {
                slot,
                depth,
                old_head_block,
                new_head_block,
                old_head_state,
                new_head_state,
                epoch,
                execution_optimistic,
            },
        }
    }
}

fn to_sse(event: &ChainEvent) -> Option<Event> {
    let data = serde_json::to_string(&Quoted(Payload::from(event))).ok()?;
    Some(Event::default().event(event.topic()).data(data))
}

pub async fn events<P: Preset>(
    State(app): State<AppState<P>>,
    query: Query,
) -> Result<Response, RequestError> {
    let requested = query.list("topics");
    if requested.is_empty() {
        return Err(RequestError::bad_request("missing topics"));
    }
    let mut topics: Vec<&'static str> = Vec::new();
    for topic in requested {
        let known = TOPICS.iter().find(|t| **t == topic).ok_or_else(|| {
            RequestError::bad_request(format!(
                "unsupported topic {topic:?}; Keel emits {}",
                TOPICS.join(", ")
            ))
        })?;
        topics.push(known);
    }
    let receiver = app.ctx.snapshots.subscribe();
    Ok(
        Sse::new(event_stream(receiver, topics, app.shutdown.clone()))
            .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
            .into_response(),
    )
}

/// Resolves once `shutdown` says so; never if the sender is gone without saying so.
async fn shutting_down(shutdown: &mut watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        if shutdown.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn event_stream(
    receiver: broadcast::Receiver<ChainEvent>,
    topics: Vec<&'static str>,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = (receiver, topics, shutdown);
    stream::unfold(state, |(mut receiver, topics, mut shutdown)| async move {
        loop {
            let received = tokio::select! {
                received = receiver.recv() => received,
                () = shutting_down(&mut shutdown) => return None,
            };
            match received {
                Ok(event) if topics.contains(&event.topic()) => {
                    if let Some(sse) = to_sse(&event) {
                        return Some((Ok(sse), (receiver, topics, shutdown)));
                    }
                }
                Ok(_) => {}
                // A slow client missed events; it keeps receiving from here on.
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "SSE subscriber lagged");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}
