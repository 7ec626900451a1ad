//! The dispatch table: `(preset, fork, runner, handler)` → the function that runs such cases.
//!
//! Each runner module exposes `handler(preset, fork, handler) -> Option<HandlerFn>`; `None` means
//! the handler is not implemented and the case is reported as skipped, never as passed.

use crate::case::HandlerFn;

pub mod bls;
pub mod common;
pub mod epoch_processing;
pub mod fork;
pub mod fork_choice;
pub mod kzg;
pub mod merkle_proof;
pub mod networking;
pub mod operations;
pub mod rewards;
pub mod sanity;
pub mod sanity_blocks;
pub mod shuffling;
pub mod ssz_static;
pub mod transition;
// Test containers keep the field names of the spec's generators (`A`, `B`, ...).
#[allow(non_snake_case)]
pub mod ssz_generic;

/// How a case is to be treated.
pub enum Lookup {
    Run(HandlerFn),
    /// No code for this runner or handler yet: skipped with this reason.
    Unknown(String),
}

pub fn lookup(preset: &str, fork: &str, runner: &str, handler: &str) -> Lookup {
    let found = match runner {
        "ssz_generic" => ssz_generic::handler(preset, fork, handler),
        "shuffling" => shuffling::handler(preset, fork, handler),
        "ssz_static" => ssz_static::handler(preset, fork, handler),
        // `light_client/single_merkle_proof` shares the merkle_proof format. The other
        // light_client handlers are not implemented yet.
        "merkle_proof" | "light_client" => merkle_proof::handler(preset, fork, handler),
        "bls" => bls::handler(preset, fork, handler),
        "kzg" => kzg::handler(preset, fork, handler),
        "epoch_processing" => epoch_processing::handler(preset, fork, handler),
        "sanity" => sanity::handler(preset, fork, handler),
        "operations" => operations::handler(preset, fork, handler),
        "fork" => fork::handler(preset, fork, handler),
        "fork_choice" => fork_choice::handler(preset, fork, handler),
        "rewards" => rewards::handler(preset, fork, handler),
        // `finality/finality` and `random/random` have the `sanity/blocks` format.
        "finality" | "random" if handler == runner => sanity_blocks::handler(preset, fork),
        "finality" | "random" => None,
        "transition" => transition::handler(preset, fork, handler),
        "networking" => networking::handler(preset, fork, handler),
        _ => return Lookup::Unknown(format!("runner `{runner}` is not implemented")),
    };
    match found {
        Some(f) => Lookup::Run(f),
        None => Lookup::Unknown(format!(
            "handler `{runner}/{handler}` is not implemented for {preset}/{fork}"
        )),
    }
}
