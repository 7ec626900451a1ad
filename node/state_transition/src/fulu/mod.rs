//! Fulu's own spec functions (`specs/fulu/`), beside the fork-generic helpers of the crate root.
//!
//! - [`das_core`]: the custody helpers of `das-core.md` (`get_custody_groups`,
//!   `compute_columns_for_custody_group`).
//! - [`p2p_interface`]: the data-column sidecar checks of `p2p-interface.md` (structure,
//!   inclusion proof, KZG proofs, subnet), shared by gossip and req/resp.

pub mod das_core;
pub mod p2p_interface;
