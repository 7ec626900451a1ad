//! Domains, signing roots and fork digests (`specs/phase0/beacon-chain.md` "Misc" helpers,
//! `specs/phase0/p2p-interface.md` and `specs/fulu/beacon-chain.md` `compute_fork_digest`).

use crate::chain_config::BlobParameters;
use keel_types::phase0::{Fork, ForkData, SigningData};
use keel_types::{Domain, DomainType, Epoch, ForkDigest, Root, Version};
use tree_hash::TreeHash;

/// The spec's `compute_fork_data_root`: `hash_tree_root(ForkData(current_version,
/// genesis_validators_root))`.
pub fn compute_fork_data_root(current_version: Version, genesis_validators_root: Root) -> Root {
    ForkData {
        current_version,
        genesis_validators_root,
    }
    .tree_hash_root()
}

/// The spec's `compute_domain`: `domain_type ++ compute_fork_data_root(..)[:28]`.
///
/// The spec's optional arguments are explicit here; for its defaults (genesis fork version, zero
/// root) use [`crate::ChainConfig::genesis_domain`].
pub fn compute_domain(
    domain_type: DomainType,
    fork_version: Version,
    genesis_validators_root: Root,
) -> Domain {
    let fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root);
    let mut domain = [0u8; 32];
    domain[..4].copy_from_slice(&domain_type);
    domain[4..].copy_from_slice(&fork_data_root[..28]);
    domain
}

/// The spec's `get_domain(state, domain_type, epoch)`, taking the state's `fork` and
/// `genesis_validators_root`: the previous fork version is used for epochs before `fork.epoch`.
pub fn get_domain(
    fork: &Fork,
    genesis_validators_root: Root,
    domain_type: DomainType,
    epoch: Epoch,
) -> Domain {
    let fork_version = if epoch < fork.epoch {
        fork.previous_version
    } else {
        fork.current_version
    };
    compute_domain(domain_type, fork_version, genesis_validators_root)
}

/// The spec's `compute_signing_root(ssz_object, domain)`.
pub fn compute_signing_root<T: TreeHash + ?Sized>(ssz_object: &T, domain: Domain) -> Root {
    compute_signing_root_from_root(ssz_object.tree_hash_root(), domain)
}

/// `compute_signing_root` for an object whose `hash_tree_root` is already known.
pub fn compute_signing_root_from_root(object_root: Root, domain: Domain) -> Root {
    SigningData {
        object_root,
        domain,
    }
    .tree_hash_root()
}

/// The phase0 `compute_fork_digest(current_version, genesis_validators_root)`: the first four
/// bytes of the fork data root. This is the digest of every fork before Fulu.
pub fn compute_fork_digest_phase0(
    current_version: Version,
    genesis_validators_root: Root,
) -> ForkDigest {
    let root = compute_fork_data_root(current_version, genesis_validators_root);
    let mut digest = ForkDigest::default();
    digest.copy_from_slice(&root[..4]);
    digest
}

/// The Fulu digest for given blob parameters (EIP-7892): the first four bytes of
/// `compute_fork_data_root(fork_version, genesis_validators_root) XOR
/// hash(uint_to_bytes(uint64(epoch)) ++ uint_to_bytes(uint64(max_blobs_per_block)))`,
/// integers little-endian.
pub fn compute_fork_digest_with_blob_parameters(
    fork_version: Version,
    genesis_validators_root: Root,
    blob_parameters: BlobParameters,
) -> ForkDigest {
    let base = compute_fork_data_root(fork_version, genesis_validators_root);
    let mut preimage = [0u8; 16];
    preimage[..8].copy_from_slice(&blob_parameters.epoch.to_le_bytes());
    preimage[8..].copy_from_slice(&blob_parameters.max_blobs_per_block.to_le_bytes());
    let mask = ethereum_hashing::hash_fixed(&preimage);
    let mut digest = ForkDigest::default();
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = base[i] ^ mask[i];
    }
    digest
}
