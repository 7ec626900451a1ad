//! The channels, the priority drain and the counters.

use crate::class::{Class, DropPolicy, QueueConfig};
use crossbeam_channel::{Receiver, Select, Sender, TrySendError, bounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Metric names, in one place (they match the dashboards in `deploy/`).
pub mod metric {
    pub const DEPTH: &str = "keel_queue_depth";
    pub const ENQUEUED: &str = "keel_queue_enqueued_total";
    pub const DROPPED: &str = "keel_queue_dropped_total";
}

/// How a send went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    Enqueued,
    /// Enqueued after dropping the class's oldest item.
    EnqueuedDroppedOldest,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SendError<T> {
    /// The class never drops and its queue is full: backpressure. The item is handed back.
    #[error("the {class:?} queue is full")]
    Full { class: Class, item: T },
    /// The core is gone.
    #[error("the core has stopped")]
    Disconnected(T),
}

#[derive(Default)]
struct Counters {
    enqueued: [AtomicU64; 6],
    dropped: [AtomicU64; 6],
}

struct Lane<T> {
    policy: DropPolicy,
    tx: Sender<T>,
    /// Kept by producers so that a `DropOldest` class can shed its oldest item itself.
    rx: Receiver<T>,
}

/// The producers' side: cheap to clone, one per stage thread.
pub struct QueueSender<T> {
    lanes: Arc<Vec<Lane<T>>>,
    counters: Arc<Counters>,
    /// Set when the core drops its receiver: producers hold receiver clones (to shed the oldest
    /// items), so the channels alone would never report the core gone.
    closed: Arc<AtomicBool>,
}

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        Self {
            lanes: self.lanes.clone(),
            counters: self.counters.clone(),
            closed: self.closed.clone(),
        }
    }
}

/// The core's side.
pub struct QueueReceiver<T> {
    receivers: Vec<Receiver<T>>,
    counters: Arc<Counters>,
    closed: Arc<AtomicBool>,
}

impl<T> Drop for QueueReceiver<T> {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// What a non-blocking look at the queues found.
enum Poll<T> {
    Item(Class, T),
    Empty,
    /// Every producer is gone and nothing is left.
    Closed,
}

/// One queue per class, sized and governed by `config`.
pub fn channel<T>(config: &QueueConfig) -> (QueueSender<T>, QueueReceiver<T>) {
    let lanes: Vec<Lane<T>> = Class::ALL
        .iter()
        .map(|&class| {
            let (tx, rx) = bounded(config.capacity(class).max(1));
            Lane {
                policy: config.policy(class),
                tx,
                rx,
            }
        })
        .collect();
    let receivers = lanes.iter().map(|lane| lane.rx.clone()).collect();
    let counters = Arc::new(Counters::default());
    let closed = Arc::new(AtomicBool::new(false));
    (
        QueueSender {
            lanes: Arc::new(lanes),
            counters: counters.clone(),
            closed: closed.clone(),
        },
        QueueReceiver {
            receivers,
            counters,
            closed,
        },
    )
}

fn count(counter: &[AtomicU64; 6], class: Class, name: &'static str) {
    if let Some(c) = counter.get(class.index()) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    metrics::counter!(name, "class" => class.as_str()).increment(1);
}

impl<T> QueueSender<T> {
    fn lane(&self, class: Class) -> Option<&Lane<T>> {
        self.lanes.get(class.index())
    }

    /// Enqueues without waiting, applying the class's drop policy when it is full.
    pub fn send(&self, class: Class, item: T) -> Result<SendOutcome, SendError<T>> {
        let Some(lane) = self.lane(class) else {
            return Err(SendError::Disconnected(item));
        };
        if self.closed.load(Ordering::Acquire) {
            return Err(SendError::Disconnected(item));
        }
        let mut item = item;
        let mut outcome = SendOutcome::Enqueued;
        loop {
            match lane.tx.try_send(item) {
                Ok(()) => {
                    count(&self.counters.enqueued, class, metric::ENQUEUED);
                    return Ok(outcome);
                }
                Err(TrySendError::Disconnected(back)) => return Err(SendError::Disconnected(back)),
                Err(TrySendError::Full(back)) => match lane.policy {
                    DropPolicy::Never => return Err(SendError::Full { class, item: back }),
                    DropPolicy::DropOldest => {
                        // Another producer or the core may have made room meanwhile; either way
                        // at most one item per attempt is shed, and the loop retries.
                        if lane.rx.try_recv().is_ok() {
                            count(&self.counters.dropped, class, metric::DROPPED);
                            outcome = SendOutcome::EnqueuedDroppedOldest;
                        }
                        item = back;
                    }
                },
            }
        }
    }

    /// Enqueues, waiting while a never-drop class is full (backpressure on the caller).
    pub fn send_blocking(&self, class: Class, item: T) -> Result<SendOutcome, SendError<T>> {
        match self.send(class, item) {
            Err(SendError::Full { class, item }) => {
                let Some(lane) = self.lane(class) else {
                    return Err(SendError::Disconnected(item));
                };
                // Wait in slices so that a core that stops meanwhile is noticed.
                let mut item = item;
                loop {
                    if self.closed.load(Ordering::Acquire) {
                        return Err(SendError::Disconnected(item));
                    }
                    match lane.tx.send_timeout(item, Duration::from_millis(50)) {
                        Ok(()) => break,
                        Err(crossbeam_channel::SendTimeoutError::Timeout(back)) => item = back,
                        Err(crossbeam_channel::SendTimeoutError::Disconnected(back)) => {
                            return Err(SendError::Disconnected(back));
                        }
                    }
                }
                count(&self.counters.enqueued, class, metric::ENQUEUED);
                Ok(SendOutcome::Enqueued)
            }
            other => other,
        }
    }

    /// Items waiting in each class, in [`Class::ALL`] order.
    pub fn depths(&self) -> [usize; 6] {
        let mut out = [0; 6];
        for (slot, lane) in out.iter_mut().zip(self.lanes.iter()) {
            *slot = lane.tx.len();
        }
        out
    }
}

impl<T> QueueReceiver<T> {
    fn poll(&self) -> Poll<T> {
        let mut open = false;
        for (&class, rx) in Class::ALL.iter().zip(&self.receivers) {
            match rx.try_recv() {
                Ok(item) => return Poll::Item(class, item),
                Err(crossbeam_channel::TryRecvError::Empty) => open = true,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {}
            }
        }
        if open { Poll::Empty } else { Poll::Closed }
    }

    /// The highest-priority item waiting, if any.
    pub fn try_recv(&self) -> Option<(Class, T)> {
        match self.poll() {
            Poll::Item(class, item) => Some((class, item)),
            Poll::Empty | Poll::Closed => None,
        }
    }

    /// Waits until an item is available and returns the highest-priority one; `None` once every
    /// producer is gone and the queues are drained, or at `deadline`.
    pub fn recv_deadline(&self, deadline: Option<Instant>) -> Option<(Class, T)> {
        loop {
            match self.poll() {
                Poll::Item(class, item) => {
                    self.publish_depths();
                    return Some((class, item));
                }
                Poll::Closed => return None,
                Poll::Empty => {}
            }
            // Wait for any lane to become ready, then take by priority (not by readiness).
            let mut select = Select::new();
            for rx in &self.receivers {
                select.recv(rx);
            }
            match deadline {
                Some(d) => {
                    if select.ready_deadline(d).is_err() {
                        return None;
                    }
                }
                None => {
                    select.ready();
                }
            }
        }
    }

    pub fn recv(&self) -> Option<(Class, T)> {
        self.recv_deadline(None)
    }

    pub fn recv_timeout(&self, timeout: Duration) -> Option<(Class, T)> {
        self.recv_deadline(Some(Instant::now() + timeout))
    }

    fn publish_depths(&self) {
        for (&class, rx) in Class::ALL.iter().zip(&self.receivers) {
            metrics::gauge!(metric::DEPTH, "class" => class.as_str()).set(rx.len() as f64);
        }
    }

    /// Items enqueued and dropped so far, per class in [`Class::ALL`] order.
    pub fn totals(&self) -> ([u64; 6], [u64; 6]) {
        let load = |a: &[AtomicU64; 6]| {
            let mut out = [0u64; 6];
            for (o, v) in out.iter_mut().zip(a.iter()) {
                *o = v.load(Ordering::Relaxed);
            }
            out
        };
        (load(&self.counters.enqueued), load(&self.counters.dropped))
    }
}
