//! Keel's consensus types: every SSZ container of the consensus specs from phase0 to Fulu, generic
//! over the preset, with SSZ encoding (`ethereum_ssz`), merkleization (`tree_hash`) and persistent,
//! structurally shared lists for the beacon state (`milhouse`).
//!
//! Owns: container definitions (one module per fork, holding the containers that fork introduces
//! or changes, named as in the spec), presets, the spec's custom types, and the fork-generic
//! wrappers (`ForkName`, "a block/state of some fork").
//! Must not: perform I/O, read clocks, or contain consensus rules beyond what a type needs.
//!
//! Sits at the bottom of the dependency graph: `types ← config ← crypto ← state_transition`.

pub mod phase0;
pub mod preset;
pub mod primitives;

pub use preset::{Mainnet, Minimal, Preset};
pub use primitives::*;

pub use milhouse;
pub use ssz;
pub use ssz_types;
pub use tree_hash;
