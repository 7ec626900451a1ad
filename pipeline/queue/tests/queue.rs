//! Priority, drop policies, backpressure and shutdown of the core's queues.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_queue::{Class, DropPolicy, QueueConfig, SendError, SendOutcome, channel};
use std::time::Duration;

fn small() -> QueueConfig {
    QueueConfig {
        classes: [
            (2, DropPolicy::Never),
            (2, DropPolicy::Never),
            (4, DropPolicy::DropOldest),
            (4, DropPolicy::DropOldest),
            (8, DropPolicy::DropOldest),
            (4, DropPolicy::DropOldest),
        ],
    }
}

#[test]
fn a_flood_of_attestations_never_delays_a_block() {
    let (tx, rx) = channel::<u32>(&QueueConfig::default());
    for i in 0..10_000 {
        tx.send(Class::Attestation, i).unwrap();
    }
    tx.send(Class::Aggregate, 1).unwrap();
    tx.send(Class::Block, 42).unwrap();
    assert_eq!(rx.recv(), Some((Class::Block, 42)));
    assert_eq!(rx.recv(), Some((Class::Aggregate, 1)));
    assert_eq!(rx.recv(), Some((Class::Attestation, 0)));
}

#[test]
fn full_attestation_queue_sheds_the_oldest_and_counts_it() {
    let (tx, rx) = channel::<u32>(&small());
    for i in 0..8 {
        assert_eq!(
            tx.send(Class::Attestation, i).unwrap(),
            SendOutcome::Enqueued
        );
    }
    assert_eq!(
        tx.send(Class::Attestation, 8).unwrap(),
        SendOutcome::EnqueuedDroppedOldest
    );
    assert_eq!(
        tx.send(Class::Attestation, 9).unwrap(),
        SendOutcome::EnqueuedDroppedOldest
    );
    let got: Vec<u32> = std::iter::from_fn(|| rx.try_recv().map(|(_, v)| v)).collect();
    assert_eq!(got, (2..10).collect::<Vec<_>>(), "the two oldest were shed");
    let (enqueued, dropped) = rx.totals();
    assert_eq!(enqueued[Class::Attestation as usize], 10);
    assert_eq!(dropped[Class::Attestation as usize], 2);
}

#[test]
fn blocks_are_never_dropped_a_full_queue_pushes_back() {
    let (tx, rx) = channel::<u32>(&small());
    tx.send(Class::Block, 1).unwrap();
    tx.send(Class::Block, 2).unwrap();
    assert_eq!(
        tx.send(Class::Block, 3),
        Err(SendError::Full {
            class: Class::Block,
            item: 3
        })
    );
    // A blocking send waits until the core makes room.
    let producer = {
        let tx = tx.clone();
        std::thread::spawn(move || tx.send_blocking(Class::Block, 3))
    };
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(rx.recv(), Some((Class::Block, 1)));
    assert_eq!(producer.join().unwrap(), Ok(SendOutcome::Enqueued));
    assert_eq!(rx.recv(), Some((Class::Block, 2)));
    assert_eq!(rx.recv(), Some((Class::Block, 3)));
    assert_eq!(rx.totals().1.iter().sum::<u64>(), 0);
}

#[test]
fn the_core_drains_then_sees_the_end() {
    let (tx, rx) = channel::<u32>(&small());
    tx.send(Class::SyncMessage, 5).unwrap();
    drop(tx);
    assert_eq!(rx.recv(), Some((Class::SyncMessage, 5)));
    assert_eq!(rx.recv(), None);
}

#[test]
fn producers_learn_that_the_core_stopped() {
    let (tx, rx) = channel::<u32>(&small());
    drop(rx);
    assert_eq!(
        tx.send(Class::Attestation, 1),
        Err(SendError::Disconnected(1))
    );
}

#[test]
fn recv_timeout_returns_when_nothing_arrives() {
    let (_tx, rx) = channel::<u32>(&small());
    assert_eq!(rx.recv_timeout(Duration::from_millis(10)), None);
}

#[test]
fn a_waiting_core_wakes_for_any_class() {
    let (tx, rx) = channel::<u32>(&small());
    let producer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        tx.send(Class::Operation, 9).unwrap();
        tx
    });
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)),
        Some((Class::Operation, 9))
    );
    drop(producer.join());
}
