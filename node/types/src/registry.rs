//! Which containers each fork has, by spec name: the map a test runner (or a debugging tool)
//! needs from `(fork, "ContainerName")` to a Rust type.
//!
//! Two sets per fork:
//!
//! - [`for_each_ssz_static_type!`](crate::for_each_ssz_static_type): exactly the containers of the
//!   fork's executable spec (the `class X(Container)` definitions of every document up to that
//!   fork, minus the ones the spec deprecates: `PendingAttestation` from Altair, `HistoricalBatch`
//!   from Capella, `BlobSidecar`/`BlobIdentifier` from Fulu). That is the set the spec's
//!   `ssz_static` generator covers, so a runner can check both directions: every vector directory
//!   has a type, and every type has vectors.
//! - [`for_each_p2p_only_type!`](crate::for_each_p2p_only_type): the req/resp and ENR containers
//!   the networking documents write as bare `( field: type ... )` blocks (`MetaData`, `Status`,
//!   `StatusV2`, `*ByRangeRequest`, ...). They are real SSZ containers but are not part of the
//!   executable spec, so there are no vectors for them.
//!
//! Both macros call `callback!(fork_module, ContainerName, Type)` once per container and fork, e.g.
//! `callback!(electra, Attestation, keel_types::electra::Attestation<Minimal>)`; the preset is
//! the macro's second argument:
//!
//! ```
//! use keel_types::{Minimal, for_each_ssz_static_type};
//!
//! fn type_size(fork: &str, name: &str) -> Option<usize> {
//!     macro_rules! arm {
//!         ($fork:ident, $name:ident, $ty:ty) => {
//!             if fork == stringify!($fork) && name == stringify!($name) {
//!                 return Some(std::mem::size_of::<$ty>());
//!             }
//!         };
//!     }
//!     for_each_ssz_static_type!(arm, Minimal);
//!     None
//! }
//! assert!(type_size("fulu", "DataColumnSidecar").is_some());
//! assert!(type_size("fulu", "BlobSidecar").is_none()); // deprecated in Fulu
//! ```
//!
//! Containers are listed by the fork that has them, not the fork that introduced them: `fulu`
//! lists `Attestation` (Electra's type, re-exported by `fulu`), so a runner iterating over
//! `tests/<preset>/<fork>/ssz_static/<Name>` can resolve every directory through `<fork>::<Name>`.

/// The per-fork container lists. `plain` containers have no preset parameter, `generic` ones
/// take `<P: Preset>`.
#[doc(hidden)]
#[macro_export]
macro_rules! __ssz_static_list {
    ($cb:path; $($args:tt)*) => {
        $cb! { [$($args)*]
            phase0 {
                plain: [
                    AttestationData, BeaconBlockHeader, Checkpoint, Deposit, DepositData,
                    DepositMessage, Eth1Block, Eth1Data, Fork, ForkData, ProposerSlashing,
                    SignedBeaconBlockHeader, SignedVoluntaryExit, SigningData, Validator,
                    VoluntaryExit,
                ],
                generic: [
                    AggregateAndProof, Attestation, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconState, HistoricalBatch, IndexedAttestation, PendingAttestation,
                    SignedAggregateAndProof, SignedBeaconBlock,
                ],
            }
            altair {
                plain: [
                    AttestationData, BeaconBlockHeader, Checkpoint, Deposit, DepositData,
                    DepositMessage, Eth1Block, Eth1Data, Fork, ForkData, LightClientHeader,
                    ProposerSlashing, SignedBeaconBlockHeader, SignedVoluntaryExit, SigningData,
                    SyncAggregatorSelectionData, SyncCommitteeMessage, Validator, VoluntaryExit,
                ],
                generic: [
                    AggregateAndProof, Attestation, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconState, ContributionAndProof, HistoricalBatch, IndexedAttestation,
                    LightClientBootstrap, LightClientFinalityUpdate, LightClientOptimisticUpdate,
                    LightClientUpdate, SignedAggregateAndProof, SignedBeaconBlock,
                    SignedContributionAndProof, SyncAggregate, SyncCommittee,
                    SyncCommitteeContribution,
                ],
            }
            bellatrix {
                plain: [
                    AttestationData, BeaconBlockHeader, Checkpoint, Deposit, DepositData,
                    DepositMessage, Eth1Block, Eth1Data, Fork, ForkData, LightClientHeader,
                    PowBlock, ProposerSlashing, SignedBeaconBlockHeader, SignedVoluntaryExit,
                    SigningData, SyncAggregatorSelectionData, SyncCommitteeMessage, Validator,
                    VoluntaryExit,
                ],
                generic: [
                    AggregateAndProof, Attestation, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconState, ContributionAndProof, ExecutionPayload, ExecutionPayloadHeader,
                    HistoricalBatch, IndexedAttestation, LightClientBootstrap,
                    LightClientFinalityUpdate, LightClientOptimisticUpdate, LightClientUpdate,
                    SignedAggregateAndProof, SignedBeaconBlock, SignedContributionAndProof,
                    SyncAggregate, SyncCommittee, SyncCommitteeContribution,
                ],
            }
            capella {
                plain: [
                    AttestationData, BLSToExecutionChange, BeaconBlockHeader, Checkpoint, Deposit,
                    DepositData, DepositMessage, Eth1Block, Eth1Data, Fork, ForkData,
                    HistoricalSummary, PowBlock, ProposerSlashing, SignedBLSToExecutionChange,
                    SignedBeaconBlockHeader, SignedVoluntaryExit, SigningData,
                    SyncAggregatorSelectionData, SyncCommitteeMessage, Validator, VoluntaryExit,
                    Withdrawal,
                ],
                generic: [
                    AggregateAndProof, Attestation, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconState, ContributionAndProof, ExecutionPayload, ExecutionPayloadHeader,
                    IndexedAttestation, LightClientBootstrap, LightClientFinalityUpdate,
                    LightClientHeader, LightClientOptimisticUpdate, LightClientUpdate,
                    SignedAggregateAndProof, SignedBeaconBlock, SignedContributionAndProof,
                    SyncAggregate, SyncCommittee, SyncCommitteeContribution,
                ],
            }
            deneb {
                plain: [
                    AttestationData, BLSToExecutionChange, BeaconBlockHeader, BlobIdentifier,
                    Checkpoint, Deposit, DepositData, DepositMessage, Eth1Block, Eth1Data, Fork,
                    ForkData, HistoricalSummary, PowBlock, ProposerSlashing,
                    SignedBLSToExecutionChange, SignedBeaconBlockHeader, SignedVoluntaryExit,
                    SigningData, SyncAggregatorSelectionData, SyncCommitteeMessage, Validator,
                    VoluntaryExit, Withdrawal,
                ],
                generic: [
                    AggregateAndProof, Attestation, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconState, BlobSidecar, ContributionAndProof, ExecutionPayload,
                    ExecutionPayloadHeader, IndexedAttestation, LightClientBootstrap,
                    LightClientFinalityUpdate, LightClientHeader, LightClientOptimisticUpdate,
                    LightClientUpdate, SignedAggregateAndProof, SignedBeaconBlock,
                    SignedContributionAndProof, SyncAggregate, SyncCommittee,
                    SyncCommitteeContribution,
                ],
            }
            electra {
                plain: [
                    AttestationData, BLSToExecutionChange, BeaconBlockHeader, BlobIdentifier,
                    Checkpoint, ConsolidationRequest, Deposit, DepositData, DepositMessage,
                    DepositRequest, Eth1Block, Eth1Data, Fork, ForkData, HistoricalSummary,
                    PendingConsolidation, PendingDeposit, PendingPartialWithdrawal, PowBlock,
                    ProposerSlashing, SignedBLSToExecutionChange, SignedBeaconBlockHeader,
                    SignedVoluntaryExit, SigningData, SingleAttestation,
                    SyncAggregatorSelectionData, SyncCommitteeMessage, Validator, VoluntaryExit,
                    Withdrawal, WithdrawalRequest,
                ],
                generic: [
                    AggregateAndProof, Attestation, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconState, BlobSidecar, ContributionAndProof, ExecutionPayload,
                    ExecutionPayloadHeader, ExecutionRequests, IndexedAttestation,
                    LightClientBootstrap, LightClientFinalityUpdate, LightClientHeader,
                    LightClientOptimisticUpdate, LightClientUpdate, SignedAggregateAndProof,
                    SignedBeaconBlock, SignedContributionAndProof, SyncAggregate, SyncCommittee,
                    SyncCommitteeContribution,
                ],
            }
            fulu {
                plain: [
                    AttestationData, BLSToExecutionChange, BeaconBlockHeader, Checkpoint,
                    ConsolidationRequest, Deposit, DepositData, DepositMessage, DepositRequest,
                    Eth1Block, Eth1Data, Fork, ForkData, HistoricalSummary,
                    PartialDataColumnGroupID, PendingConsolidation, PendingDeposit,
                    PendingPartialWithdrawal, PowBlock, ProposerSlashing,
                    SignedBLSToExecutionChange, SignedBeaconBlockHeader, SignedVoluntaryExit,
                    SigningData, SingleAttestation, SyncAggregatorSelectionData,
                    SyncCommitteeMessage, Validator, VoluntaryExit, Withdrawal, WithdrawalRequest,
                ],
                generic: [
                    AggregateAndProof, Attestation, AttesterSlashing, BeaconBlock, BeaconBlockBody,
                    BeaconState, ContributionAndProof, DataColumnSidecar,
                    DataColumnsByRootIdentifier, ExecutionPayload, ExecutionPayloadHeader,
                    ExecutionRequests, IndexedAttestation, LightClientBootstrap,
                    LightClientFinalityUpdate, LightClientHeader, LightClientOptimisticUpdate,
                    LightClientUpdate, MatrixEntry, PartialDataColumnHeader,
                    PartialDataColumnPartsMetadata, PartialDataColumnSidecar,
                    SignedAggregateAndProof, SignedBeaconBlock, SignedContributionAndProof,
                    SyncAggregate, SyncCommittee, SyncCommitteeContribution,
                ],
            }
        }
    };
}

/// The p2p-only containers per fork (see the module docs).
#[doc(hidden)]
#[macro_export]
macro_rules! __p2p_only_list {
    ($cb:path; $($args:tt)*) => {
        $cb! { [$($args)*]
            phase0 {
                plain: [BeaconBlocksByRangeRequest, ENRForkID, ErrorMessage, MetaData, Status],
                generic: [],
            }
            altair {
                plain: [
                    BeaconBlocksByRangeRequest, ENRForkID, ErrorMessage,
                    LightClientUpdatesByRangeRequest, MetaData, Status,
                ],
                generic: [],
            }
            bellatrix {
                plain: [
                    BeaconBlocksByRangeRequest, ENRForkID, ErrorMessage,
                    LightClientUpdatesByRangeRequest, MetaData, Status,
                ],
                generic: [],
            }
            capella {
                plain: [
                    BeaconBlocksByRangeRequest, ENRForkID, ErrorMessage,
                    LightClientUpdatesByRangeRequest, MetaData, Status,
                ],
                generic: [],
            }
            deneb {
                plain: [
                    BeaconBlocksByRangeRequest, BlobSidecarsByRangeRequest, ENRForkID,
                    ErrorMessage, LightClientUpdatesByRangeRequest, MetaData, Status,
                ],
                generic: [],
            }
            electra {
                plain: [
                    BeaconBlocksByRangeRequest, BlobSidecarsByRangeRequest, ENRForkID,
                    ErrorMessage, LightClientUpdatesByRangeRequest, MetaData, Status,
                ],
                generic: [],
            }
            fulu {
                plain: [
                    BeaconBlocksByHeadRequest, BeaconBlocksByRangeRequest, ENRForkID,
                    ErrorMessage, LightClientUpdatesByRangeRequest, MetaData, Status, StatusV2,
                ],
                generic: [DataColumnSidecarsByRangeRequest],
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __emit_container_calls {
    ([$cb:path, $preset:ty]
     $( $fork:ident {
         plain: [$($plain:ident),* $(,)?],
         generic: [$($generic:ident),* $(,)?] $(,)?
     } )*) => {
        $(
            $( $cb!($fork, $plain, $crate::$fork::$plain); )*
            $( $cb!($fork, $generic, $crate::$fork::$generic<$preset>); )*
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __emit_container_names {
    ([$name:ident]
     $( $fork:ident {
         plain: [$($plain:ident),* $(,)?],
         generic: [$($generic:ident),* $(,)?] $(,)?
     } )*) => {
        /// `(fork name, container names)` for every fork.
        pub const $name: &[(&str, &[&str])] = &[
            $( (stringify!($fork), &[ $(stringify!($plain),)* $(stringify!($generic),)* ]), )*
        ];
    };
}

/// Calls `$cb!(fork_module, ContainerName, Type)` for every container of every fork's executable
/// spec (the `ssz_static` set), with generic containers instantiated at preset `$preset`.
#[macro_export]
macro_rules! for_each_ssz_static_type {
    ($cb:path, $preset:ty) => {
        $crate::__ssz_static_list!($crate::__emit_container_calls; $cb, $preset)
    };
}

/// Calls `$cb!(fork_module, ContainerName, Type)` for every p2p-only container (req/resp and ENR
/// payloads without test vectors), with generic containers instantiated at preset `$preset`.
#[macro_export]
macro_rules! for_each_p2p_only_type {
    ($cb:path, $preset:ty) => {
        $crate::__p2p_only_list!($crate::__emit_container_calls; $cb, $preset)
    };
}

__ssz_static_list!(__emit_container_names; SSZ_STATIC_CONTAINERS);
__p2p_only_list!(__emit_container_names; P2P_ONLY_CONTAINERS);

fn lookup(table: &'static [(&str, &[&str])], fork: crate::ForkName) -> &'static [&'static str] {
    table
        .iter()
        .find(|(name, _)| *name == fork.as_str())
        .map_or(&[], |(_, names)| names)
}

/// The names of the containers in `fork`'s executable spec (the `ssz_static` set).
pub fn ssz_static_containers(fork: crate::ForkName) -> &'static [&'static str] {
    lookup(SSZ_STATIC_CONTAINERS, fork)
}

/// The names of `fork`'s p2p-only containers.
pub fn p2p_only_containers(fork: crate::ForkName) -> &'static [&'static str] {
    lookup(P2P_ONLY_CONTAINERS, fork)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ForkName, Mainnet, Minimal, Preset};
    use ssz::{Decode, Encode};
    use std::collections::BTreeSet;
    use std::marker::PhantomData;
    use tree_hash::TreeHash;

    #[test]
    fn every_fork_has_a_list_and_names_are_unique() {
        for fork in ForkName::ALL {
            let names = ssz_static_containers(fork);
            assert!(!names.is_empty(), "{fork}");
            let set: BTreeSet<_> = names.iter().collect();
            assert_eq!(set.len(), names.len(), "duplicate container in {fork}");
            let p2p = p2p_only_containers(fork);
            assert!(p2p.iter().all(|n| !set.contains(n)), "{fork}: listed twice");
        }
        assert_eq!(SSZ_STATIC_CONTAINERS.len(), ForkName::COUNT);
        assert_eq!(P2P_ONLY_CONTAINERS.len(), ForkName::COUNT);
    }

    #[test]
    fn deprecations_follow_the_spec() {
        let has = |fork, name| ssz_static_containers(fork).contains(&name);
        assert!(has(ForkName::Phase0, "PendingAttestation"));
        assert!(!has(ForkName::Altair, "PendingAttestation"));
        assert!(has(ForkName::Bellatrix, "HistoricalBatch"));
        assert!(!has(ForkName::Capella, "HistoricalBatch"));
        assert!(has(ForkName::Electra, "BlobSidecar"));
        assert!(!has(ForkName::Fulu, "BlobSidecar"));
        assert!(!has(ForkName::Fulu, "BlobIdentifier"));
        // A fork never loses a container without the spec deprecating it.
        let deprecated = [
            "PendingAttestation",
            "HistoricalBatch",
            "BlobSidecar",
            "BlobIdentifier",
        ];
        for pair in ForkName::ALL.windows(2) {
            for name in ssz_static_containers(pair[0]) {
                assert!(
                    has(pair[1], name) || deprecated.contains(name),
                    "{name} disappears in {}",
                    pair[1]
                );
            }
        }
    }

    // Autoref specialization: `Some(T::default())` where `T: Default`, `None` otherwise (the
    // containers holding a `BitList` have no `Default`).
    struct DefaultIfAny<T>(PhantomData<T>);
    trait ViaDefault<T> {
        fn default_if_any(&self) -> Option<T>;
    }
    impl<T: Default> ViaDefault<T> for DefaultIfAny<T> {
        fn default_if_any(&self) -> Option<T> {
            Some(T::default())
        }
    }
    trait NoDefault<T> {
        fn default_if_any(&self) -> Option<T>;
    }
    impl<T> NoDefault<T> for &DefaultIfAny<T> {
        fn default_if_any(&self) -> Option<T> {
            None
        }
    }

    /// Every listed type default-constructs where it can, and its SSZ and tree-hash
    /// implementations agree with themselves: `decode(encode(x)) == x`.
    fn listed_types_round_trip<P: Preset>() -> usize {
        let mut checked = 0;
        macro_rules! check {
            ($fork:ident, $name:ident, $ty:ty) => {{
                fn check_one<T: Encode + Decode + TreeHash + PartialEq + std::fmt::Debug>(
                    value: T,
                    what: &str,
                ) {
                    let bytes = value.as_ssz_bytes();
                    let decoded =
                        T::from_ssz_bytes(&bytes).unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    assert_eq!(decoded, value, "{what}");
                    assert_eq!(decoded.tree_hash_root(), value.tree_hash_root(), "{what}");
                    if <T as Encode>::is_ssz_fixed_len() {
                        assert_eq!(bytes.len(), <T as Encode>::ssz_fixed_len(), "{what}");
                    }
                }
                if let Some(value) = (&DefaultIfAny::<$ty>(PhantomData)).default_if_any() {
                    check_one(value, concat!(stringify!($fork), "::", stringify!($name)));
                    checked += 1;
                }
            }};
        }
        for_each_ssz_static_type!(check, P);
        for_each_p2p_only_type!(check, P);
        checked
    }

    #[test]
    fn listed_types_round_trip_minimal() {
        assert!(listed_types_round_trip::<Minimal>() > 300);
    }

    #[test]
    fn listed_types_round_trip_mainnet() {
        assert!(listed_types_round_trip::<Mainnet>() > 300);
    }
}
