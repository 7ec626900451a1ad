//! Keel's consensus types: every SSZ container of the consensus specs from phase0 to Fulu, generic
//! over the preset, with SSZ encoding (`ethereum_ssz`), merkleization (`tree_hash`) and persistent,
//! structurally shared lists for the beacon state (`milhouse`).
//!
//! Owns: container definitions (one module per fork, holding the containers that fork introduces
//! or changes, named as in the spec, and re-exporting the earlier ones it keeps, so `fulu::X` is
//! Fulu's `X` whichever fork defined it), presets, the spec's custom types, byte strings
//! ([`ByteVector`], [`ByteList`]), the fork-generic wrappers ([`ForkName`], [`BeaconState`],
//! [`SignedBeaconBlock`], ...: "a state/block of some fork", generated from the one fork list in
//! [`fork`]), and the per-fork container registry ([`registry`]) that maps a spec name to a type.
//! With the `serde` feature, also the Beacon API JSON encoding of every container ([`json`]).
//! Must not: perform I/O, read clocks, or contain consensus rules beyond what a type needs.
//!
//! Sits at the bottom of the dependency graph: `types ← config ← crypto ← state_transition`.

pub mod altair;
pub mod bellatrix;
pub mod bytes;
pub mod capella;
pub mod deneb;
pub mod electra;
pub mod fork;
pub mod fulu;
#[cfg(feature = "serde")]
pub mod json;
pub mod phase0;
pub mod preset;
pub mod primitives;
pub mod registry;

pub use bytes::{ByteList, ByteVector};
pub use fork::{
    BeaconBlock, BeaconBlockBody, BeaconBlockBodyRef, BeaconBlockRef, BeaconState, ForkName,
    SignedBeaconBlock, UnknownForkName,
};
pub use preset::{Mainnet, Minimal, Preset};
pub use primitives::*;

pub use milhouse;
pub use ssz;
pub use ssz_types;
pub use tree_hash;
pub use typenum;
