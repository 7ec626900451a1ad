//! Keel's consensus spec-test runner.
//!
//! Walks the official vector tree (`tests/<preset>/<fork>/<runner>/<handler>/<suite>/<case>/`),
//! dispatches every case by `(preset, fork, runner, handler)` and checks it against Keel's types,
//! crypto and state transition. Reports a per-runner tally; every skip is listed with its reason,
//! and a runner or handler without code is a skip, never a pass.
//!
//! Owns: reading vectors and comparing results. Must not: contain consensus logic of its own
//! (it calls the same functions the node runs).

pub mod case;
pub mod runners;
pub mod skips;
pub mod walk;

pub use case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
