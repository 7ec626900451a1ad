//! Electra's own spec functions (`specs/electra/`) that are not fork-generic.
//!
//! - [`p2p_interface`]: the blob sidecar checks of `p2p-interface.md` (Deneb's, with Electra's
//!   subnet count and blob limit), shared by gossip and req/resp.

pub mod p2p_interface;
