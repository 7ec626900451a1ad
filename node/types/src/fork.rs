//! Fork names and fork-generic wrappers ("a state / block of some fork").
//!
//! # One fork list
//!
//! Every fork Keel knows is listed exactly once, in `__with_fork_list!` (this file), as
//! `Variant module` pairs in activation order (`Phase0 phase0, Altair altair, ...`). Everything that
//! enumerates forks is generated from that list by `macro_rules!`:
//!
//! - [`ForkName`]: its variants, `ALL`, `as_str` (the module name: `"phase0"`), `FromStr`,
//!   `previous`/`next`;
//! - the wrapper enums [`BeaconState`], [`BeaconBlock`], [`SignedBeaconBlock`],
//!   [`BeaconBlockBody`] (and the borrowed [`BeaconBlockRef`], [`BeaconBlockBodyRef`]), whose
//!   variant `X` holds `crate::x::BeaconState<P>` etc. — a fork that re-uses an earlier fork's
//!   block (Fulu re-uses Electra's) re-exports it from its module, so the pattern stays uniform;
//! - their per-variant dispatch: `fork_name()`, `from_ssz_bytes_for_fork()`, SSZ encoding, tree
//!   hashing and the common accessors go through [`map_fork!`](crate::map_fork) (one arm per
//!   variant, same code in each) or [`map_fork_name!`](crate::map_fork_name) (one arm per fork
//!   name, with that fork's module in scope under a caller-chosen alias).
//!
//! Adding a fork (Gloas) therefore means: write `gloas.rs` with the containers it introduces and
//! `pub use` of the ones it keeps, add `Gloas gloas` to `__with_fork_list!`, and list its
//! containers in `registry.rs` (the spec-test container sets). No match in this crate's code needs
//! editing (only tests that spell out per-fork samples), and code in other crates that uses
//! `map_fork!` / `map_fork_name!` instead of hand-written matches picks the new variant up too.
//! Only code that looks at fork-specific fields has to decide what the new fork does — which is
//! the point.
//!
//! `map_fork!` and `map_fork_name!` are exported for other crates, and so is
//! [`fork_list!`](crate::fork_list), for crates that generate their own per-fork items or
//! statements (it calls back a macro with the whole list).
//!
//! Mechanics: `__with_fork_list!` prepends its caller's tokens to the list and hands everything
//! to `__fork_expand!`, whose arms do the work (`@map`, `@map_name`, `@callback`). The
//! expression-position macros (`map_fork!`, `map_fork_name!`) name those internal macros by
//! literal `$crate::` paths, because rustc cannot invoke a macro whose name arrives as a `$cb:path`
//! fragment in expression position; user callbacks (`fork_list!`) work in item and statement
//! position.

use std::fmt;
use std::str::FromStr;

use crate::phase0::{
    BeaconBlockHeader, Checkpoint, Eth1Data, Fork, SignedBeaconBlockHeader, Validator,
};
use crate::preset::Preset;
use crate::primitives::*;
use milhouse::{List, Vector};
use ssz::{Decode, DecodeError, Encode};
use tree_hash::TreeHash;

/// The list of forks, oldest first: THE place a fork is added.
///
/// Expands to `$crate::__fork_expand! { <prefix tokens> Phase0 phase0, Altair altair, ... }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_fork_list {
    ($($prefix:tt)*) => {
        $crate::__fork_expand! {
            $($prefix)*
            Phase0 phase0,
            Altair altair,
            Bellatrix bellatrix,
            Capella capella,
            Deneb deneb,
            Electra electra,
            Fulu fulu,
        }
    };
}

/// Calls back a macro with the fork list, for generating per-fork items or statements:
/// `fork_list!(callback; args...)` expands to
/// `callback! { [args...] Phase0 phase0, Altair altair, ..., Fulu fulu, }`
/// (`Variant module,` pairs, oldest first, trailing comma included).
///
/// ```
/// macro_rules! module_names {
///     ([] $($variant:ident $module:ident,)*) => {
///         const MODULES: &[&str] = &[$(stringify!($module),)*];
///     };
/// }
/// keel_types::fork_list!(module_names);
/// assert_eq!(MODULES.first(), Some(&"phase0"));
/// assert_eq!(MODULES.len(), keel_types::ForkName::COUNT);
/// ```
#[macro_export]
macro_rules! fork_list {
    ($cb:path $(; $($args:tt)*)?) => {
        $crate::__with_fork_list! { @callback [$cb] [$($($args)*)?] }
    };
}

/// Evaluates `$body` with `$inner` bound to the content of whichever variant `$value` is.
///
/// `$enum` names a fork-generic enum (`BeaconState`, `SignedBeaconBlock`, `Self`, ...) in scope.
/// The body is compiled once per variant, so it may only use what every fork's type has:
///
/// ```
/// use keel_types::{BeaconState, Minimal, map_fork};
/// fn validator_count(state: &BeaconState<Minimal>) -> usize {
///     map_fork!(BeaconState, state, s => s.validators.len())
/// }
/// ```
#[macro_export]
macro_rules! map_fork {
    ($enum:ident, $value:expr, $inner:ident => $body:expr) => {
        $crate::__with_fork_list! { @map [$enum, $value, $inner, $body] }
    };
}

/// Evaluates `$body` for the fork `$fork` (a [`ForkName`]), with that fork's module in scope as
/// `$alias` and `$variant` bound to the variant constructor of the wrapper enum `$enum`:
///
/// ```
/// use keel_types::{BeaconState, ForkName, Minimal, map_fork_name, ssz::Decode};
/// fn decode(bytes: &[u8], fork: ForkName) -> Result<BeaconState<Minimal>, ssz::DecodeError> {
///     map_fork_name!(fork, BeaconState, Variant, types =>
///         types::BeaconState::<Minimal>::from_ssz_bytes(bytes).map(Variant))
/// }
/// ```
///
/// The short form `map_fork_name!(fork, types => body)` only brings the module into scope.
#[macro_export]
macro_rules! map_fork_name {
    ($fork:expr, $enum:ident, $variant:ident, $alias:ident => $body:expr) => {
        $crate::__with_fork_list! { @map_name [$fork, $enum, $variant, $alias, $body] }
    };
    ($fork:expr, $alias:ident => $body:expr) => {
        $crate::__with_fork_list! { @map_name_short [$fork, $alias, $body] }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __fork_expand {
    (@callback [$cb:path] [$($args:tt)*] $($variant:ident $module:ident,)*) => {
        $cb! { [$($args)*] $($variant $module,)* }
    };
    (@map [$enum:ident, $value:expr, $inner:ident, $body:expr] $($variant:ident $module:ident,)*) => {
        match $value {
            $( $enum::$variant($inner) => $body, )*
        }
    };
    (@map_name [$fork:expr, $enum:ident, $v:ident, $alias:ident, $body:expr]
     $($variant:ident $module:ident,)*) => {
        match $fork {
            $( $crate::ForkName::$variant => {
                #[allow(unused_imports)]
                use $crate::$module as $alias;
                #[allow(unused_imports)]
                use $enum::$variant as $v;
                $body
            } )*
        }
    };
    (@map_name_short [$fork:expr, $alias:ident, $body:expr] $($variant:ident $module:ident,)*) => {
        match $fork {
            $( $crate::ForkName::$variant => {
                #[allow(unused_imports)]
                use $crate::$module as $alias;
                $body
            } )*
        }
    };
}

/// Returned by `ForkName::from_str` for a name that is not a known fork.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fork name {0:?}")]
pub struct UnknownForkName(pub String);

macro_rules! define_fork_name {
    ([] $($variant:ident $module:ident,)*) => {
        /// A consensus fork, in activation order (`Ord` follows activation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ForkName {
            $( $variant, )*
        }

        impl ForkName {
            /// Number of forks.
            pub const COUNT: usize = [$(ForkName::$variant,)*].len();

            /// Every fork, oldest first.
            pub const ALL: [ForkName; Self::COUNT] = [$(ForkName::$variant,)*];

            /// The lowercase name used by the spec (directory names, test vectors) and the
            /// Beacon API: `"phase0"`, ..., `"fulu"`. It is the name of the fork's module here.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ForkName::$variant => stringify!($module), )*
                }
            }
        }
    };
}

fork_list!(define_fork_name);

impl ForkName {
    /// The first fork.
    pub const GENESIS: ForkName = ForkName::ALL[0];

    /// The latest fork Keel knows.
    pub const LATEST: ForkName = ForkName::ALL[ForkName::COUNT - 1];

    const fn index(self) -> usize {
        self as usize
    }

    /// The fork before this one (`None` for phase0).
    pub const fn previous(self) -> Option<ForkName> {
        match self.index() {
            0 => None,
            i => Some(ForkName::ALL[i - 1]),
        }
    }

    /// The fork after this one (`None` for the latest fork).
    pub const fn next(self) -> Option<ForkName> {
        let i = self.index() + 1;
        if i < ForkName::COUNT {
            Some(ForkName::ALL[i])
        } else {
            None
        }
    }
}

impl fmt::Display for ForkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ForkName {
    type Err = UnknownForkName;

    /// Accepts the spec's lowercase names, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ForkName::ALL
            .iter()
            .copied()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownForkName(s.to_owned()))
    }
}

macro_rules! define_fork_enums {
    ([] $($variant:ident $module:ident,)*) => {
        /// A `BeaconState` of some fork.
        #[derive(Debug, Clone, PartialEq, ssz_derive::Encode, tree_hash_derive::TreeHash)]
        #[ssz(enum_behaviour = "transparent")]
        #[tree_hash(enum_behaviour = "transparent")]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged, bound = ""))]
        pub enum BeaconState<P: Preset> {
            $( $variant(crate::$module::BeaconState<P>), )*
        }

        /// A `BeaconBlock` of some fork.
        #[derive(Debug, Clone, PartialEq, Eq, ssz_derive::Encode, tree_hash_derive::TreeHash)]
        #[ssz(enum_behaviour = "transparent")]
        #[tree_hash(enum_behaviour = "transparent")]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged, bound = ""))]
        pub enum BeaconBlock<P: Preset> {
            $( $variant(crate::$module::BeaconBlock<P>), )*
        }

        /// A `SignedBeaconBlock` of some fork.
        #[derive(Debug, Clone, PartialEq, Eq, ssz_derive::Encode, tree_hash_derive::TreeHash)]
        #[ssz(enum_behaviour = "transparent")]
        #[tree_hash(enum_behaviour = "transparent")]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged, bound = ""))]
        pub enum SignedBeaconBlock<P: Preset> {
            $( $variant(crate::$module::SignedBeaconBlock<P>), )*
        }

        /// A `BeaconBlockBody` of some fork.
        #[derive(Debug, Clone, PartialEq, Eq, ssz_derive::Encode, tree_hash_derive::TreeHash)]
        #[ssz(enum_behaviour = "transparent")]
        #[tree_hash(enum_behaviour = "transparent")]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged, bound = ""))]
        pub enum BeaconBlockBody<P: Preset> {
            $( $variant(crate::$module::BeaconBlockBody<P>), )*
        }

        /// A borrowed `BeaconBlock` of some fork (e.g. the message of a [`SignedBeaconBlock`]).
        #[derive(Debug, PartialEq, Eq)]
        pub enum BeaconBlockRef<'a, P: Preset> {
            $( $variant(&'a crate::$module::BeaconBlock<P>), )*
        }

        /// A borrowed `BeaconBlockBody` of some fork.
        #[derive(Debug, PartialEq, Eq)]
        pub enum BeaconBlockBodyRef<'a, P: Preset> {
            $( $variant(&'a crate::$module::BeaconBlockBody<P>), )*
        }

        // `derive(Clone, Copy)` would require `P: Copy`-style bounds on the referent; a reference
        // is always `Copy`.
        impl<P: Preset> Clone for BeaconBlockRef<'_, P> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<P: Preset> Copy for BeaconBlockRef<'_, P> {}
        impl<P: Preset> Clone for BeaconBlockBodyRef<'_, P> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<P: Preset> Copy for BeaconBlockBodyRef<'_, P> {}

        impl<P: Preset> BeaconState<P> {
            /// The fork this state belongs to (by type, not by `fork.current_version`).
            pub fn fork_name(&self) -> ForkName {
                match self {
                    $( Self::$variant(_) => ForkName::$variant, )*
                }
            }
        }

        impl<P: Preset> BeaconBlock<P> {
            /// The fork this block belongs to.
            pub fn fork_name(&self) -> ForkName {
                match self {
                    $( Self::$variant(_) => ForkName::$variant, )*
                }
            }

            /// Borrows the block as a [`BeaconBlockRef`].
            pub fn to_ref(&self) -> BeaconBlockRef<'_, P> {
                match self {
                    $( Self::$variant(inner) => BeaconBlockRef::$variant(inner), )*
                }
            }
        }

        impl<P: Preset> SignedBeaconBlock<P> {
            /// The fork this block belongs to.
            pub fn fork_name(&self) -> ForkName {
                match self {
                    $( Self::$variant(_) => ForkName::$variant, )*
                }
            }

            /// The unsigned block.
            pub fn message(&self) -> BeaconBlockRef<'_, P> {
                match self {
                    $( Self::$variant(inner) => BeaconBlockRef::$variant(&inner.message), )*
                }
            }

            /// Splits into the unsigned block and the signature.
            pub fn into_message_and_signature(self) -> (BeaconBlock<P>, SignatureBytes) {
                match self {
                    $( Self::$variant(inner) => {
                        (BeaconBlock::$variant(inner.message), inner.signature)
                    } )*
                }
            }
        }

        impl<P: Preset> BeaconBlockBody<P> {
            /// The fork this body belongs to.
            pub fn fork_name(&self) -> ForkName {
                match self {
                    $( Self::$variant(_) => ForkName::$variant, )*
                }
            }

            /// Borrows the body as a [`BeaconBlockBodyRef`].
            pub fn to_ref(&self) -> BeaconBlockBodyRef<'_, P> {
                match self {
                    $( Self::$variant(inner) => BeaconBlockBodyRef::$variant(inner), )*
                }
            }
        }

        impl<'a, P: Preset> BeaconBlockRef<'a, P> {
            /// The fork this block belongs to.
            pub fn fork_name(self) -> ForkName {
                match self {
                    $( Self::$variant(_) => ForkName::$variant, )*
                }
            }

            /// The block body.
            pub fn body(self) -> BeaconBlockBodyRef<'a, P> {
                match self {
                    $( Self::$variant(inner) => BeaconBlockBodyRef::$variant(&inner.body), )*
                }
            }

            /// An owned copy.
            pub fn to_owned_block(self) -> BeaconBlock<P> {
                match self {
                    $( Self::$variant(inner) => BeaconBlock::$variant(inner.clone()), )*
                }
            }
        }

        impl<'a, P: Preset> BeaconBlockBodyRef<'a, P> {
            /// The fork this body belongs to.
            pub fn fork_name(self) -> ForkName {
                match self {
                    $( Self::$variant(_) => ForkName::$variant, )*
                }
            }

            /// An owned copy.
            pub fn to_owned_body(self) -> BeaconBlockBody<P> {
                match self {
                    $( Self::$variant(inner) => BeaconBlockBody::$variant(inner.clone()), )*
                }
            }
        }
    };
}

fork_list!(define_fork_enums);

/// SSZ decoding for a known fork, SSZ encoding and the tree-hash root, for an owned wrapper enum.
macro_rules! impl_ssz_and_root {
    ($enum:ident) => {
        impl<P: Preset> $enum<P> {
            /// Decodes `bytes` as the given fork's type. SSZ is not self-describing: the fork
            /// comes from context (the slot and the fork schedule, a fork digest, a test's path).
            pub fn from_ssz_bytes_for_fork(bytes: &[u8], fork: ForkName) -> Result<Self, DecodeError> {
                map_fork_name!(fork, $enum, Variant, types =>
                    types::$enum::<P>::from_ssz_bytes(bytes).map(Variant))
            }

            /// The SSZ encoding of the inner container.
            pub fn as_ssz_bytes(&self) -> Vec<u8> {
                map_fork!($enum, self, inner => inner.as_ssz_bytes())
            }

            /// `hash_tree_root` of the inner container.
            pub fn tree_hash_root(&self) -> Hash256 {
                map_fork!($enum, self, inner => inner.tree_hash_root())
            }
        }
    };
}

impl_ssz_and_root!(BeaconState);
impl_ssz_and_root!(BeaconBlock);
impl_ssz_and_root!(SignedBeaconBlock);
impl_ssz_and_root!(BeaconBlockBody);

/// Accessors for fields every fork's `BeaconState` has, with the same type: `Copy` fields by
/// value, collections by reference.
macro_rules! state_accessors {
    (
        by_value { $($field:ident: $ty:ty,)* }
        by_ref { $($ref_field:ident: $ref_ty:ty,)* }
    ) => {
        impl<P: Preset> BeaconState<P> {
            $(
                pub fn $field(&self) -> $ty {
                    map_fork!(BeaconState, self, s => s.$field)
                }
            )*
            $(
                pub fn $ref_field(&self) -> &$ref_ty {
                    map_fork!(BeaconState, self, s => &s.$ref_field)
                }
            )*
        }
    };
}

state_accessors! {
    by_value {
        genesis_time: u64,
        genesis_validators_root: Root,
        slot: Slot,
        fork: Fork,
        latest_block_header: BeaconBlockHeader,
        eth1_data: Eth1Data,
        eth1_deposit_index: u64,
        previous_justified_checkpoint: Checkpoint,
        current_justified_checkpoint: Checkpoint,
        finalized_checkpoint: Checkpoint,
    }
    by_ref {
        block_roots: Vector<Root, P::SlotsPerHistoricalRoot>,
        state_roots: Vector<Root, P::SlotsPerHistoricalRoot>,
        historical_roots: List<Root, P::HistoricalRootsLimit>,
        eth1_data_votes: List<Eth1Data, P::SlotsPerEth1VotingPeriod>,
        validators: List<Validator, P::ValidatorRegistryLimit>,
        balances: List<Gwei, P::ValidatorRegistryLimit>,
        randao_mixes: Vector<Bytes32, P::EpochsPerHistoricalVector>,
        slashings: Vector<Gwei, P::EpochsPerSlashingsVector>,
    }
}

impl<P: Preset> BeaconState<P> {
    /// Sets the slot (the one field every slot transition writes).
    pub fn set_slot(&mut self, slot: Slot) {
        map_fork!(BeaconState, self, s => s.slot = slot)
    }
}

impl<'a, P: Preset> BeaconBlockRef<'a, P> {
    pub fn slot(self) -> Slot {
        map_fork!(Self, self, b => b.slot)
    }

    pub fn proposer_index(self) -> ValidatorIndex {
        map_fork!(Self, self, b => b.proposer_index)
    }

    pub fn parent_root(self) -> Root {
        map_fork!(Self, self, b => b.parent_root)
    }

    pub fn state_root(self) -> Root {
        map_fork!(Self, self, b => b.state_root)
    }

    /// `hash_tree_root(block.body)`.
    pub fn body_root(self) -> Root {
        map_fork!(Self, self, b => b.body.tree_hash_root())
    }

    /// `hash_tree_root(block)`: the block root.
    pub fn tree_hash_root(self) -> Hash256 {
        map_fork!(Self, self, b => b.tree_hash_root())
    }

    /// The SSZ encoding of the block.
    pub fn as_ssz_bytes(self) -> Vec<u8> {
        map_fork!(Self, self, b => b.as_ssz_bytes())
    }

    /// The block's header (its body replaced by the body root).
    pub fn block_header(self) -> BeaconBlockHeader {
        map_fork!(Self, self, b => BeaconBlockHeader {
            slot: b.slot,
            proposer_index: b.proposer_index,
            parent_root: b.parent_root,
            state_root: b.state_root,
            body_root: b.body.tree_hash_root(),
        })
    }
}

impl<'a, P: Preset> BeaconBlockBodyRef<'a, P> {
    pub fn randao_reveal(self) -> &'a SignatureBytes {
        map_fork!(Self, self, b => &b.randao_reveal)
    }

    pub fn eth1_data(self) -> &'a Eth1Data {
        map_fork!(Self, self, b => &b.eth1_data)
    }

    pub fn graffiti(self) -> &'a Bytes32 {
        map_fork!(Self, self, b => &b.graffiti)
    }

    /// `hash_tree_root(body)`.
    pub fn tree_hash_root(self) -> Hash256 {
        map_fork!(Self, self, b => b.tree_hash_root())
    }

    /// The SSZ encoding of the body.
    pub fn as_ssz_bytes(self) -> Vec<u8> {
        map_fork!(Self, self, b => b.as_ssz_bytes())
    }
}

impl<P: Preset> BeaconBlock<P> {
    pub fn slot(&self) -> Slot {
        self.to_ref().slot()
    }

    pub fn proposer_index(&self) -> ValidatorIndex {
        self.to_ref().proposer_index()
    }

    pub fn parent_root(&self) -> Root {
        self.to_ref().parent_root()
    }

    pub fn state_root(&self) -> Root {
        self.to_ref().state_root()
    }

    /// `hash_tree_root(block.body)`.
    pub fn body_root(&self) -> Root {
        self.to_ref().body_root()
    }

    /// The block body.
    pub fn body(&self) -> BeaconBlockBodyRef<'_, P> {
        self.to_ref().body()
    }

    /// The block's header (its body replaced by the body root).
    pub fn block_header(&self) -> BeaconBlockHeader {
        self.to_ref().block_header()
    }

    /// Sets the state root (block production fills it in after running the transition).
    pub fn set_state_root(&mut self, state_root: Root) {
        map_fork!(BeaconBlock, self, b => b.state_root = state_root)
    }
}

impl<P: Preset> SignedBeaconBlock<P> {
    pub fn signature(&self) -> &SignatureBytes {
        map_fork!(SignedBeaconBlock, self, b => &b.signature)
    }

    /// The block root: `hash_tree_root(signed_block.message)`.
    pub fn canonical_root(&self) -> Root {
        self.message().tree_hash_root()
    }

    pub fn slot(&self) -> Slot {
        self.message().slot()
    }

    pub fn parent_root(&self) -> Root {
        self.message().parent_root()
    }

    /// The signed header that stands for this block in proposer slashings and sidecars.
    pub fn signed_block_header(&self) -> SignedBeaconBlockHeader {
        SignedBeaconBlockHeader {
            message: self.message().block_header(),
            signature: *self.signature(),
        }
    }
}

impl<P: Preset> Default for BeaconState<P> {
    /// A default (all-zero) phase0 state.
    fn default() -> Self {
        Self::Phase0(Default::default())
    }
}

impl<P: Preset> BeaconState<P> {
    /// The all-zero state of the given fork.
    pub fn default_for_fork(fork: ForkName) -> Self {
        map_fork_name!(fork, BeaconState, Variant, types => Variant(types::BeaconState::<P>::default()))
    }
}

impl<P: Preset> SignedBeaconBlock<P> {
    /// The all-zero signed block of the given fork.
    pub fn default_for_fork(fork: ForkName) -> Self {
        map_fork_name!(fork, SignedBeaconBlock, Variant, types =>
            Variant(types::SignedBeaconBlock::<P>::default()))
    }
}

impl<P: Preset> BeaconBlock<P> {
    /// The all-zero block of the given fork.
    pub fn default_for_fork(fork: ForkName) -> Self {
        map_fork_name!(fork, BeaconBlock, Variant, types => Variant(types::BeaconBlock::<P>::default()))
    }
}

impl<P: Preset> BeaconBlockBody<P> {
    /// The all-zero block body of the given fork.
    pub fn default_for_fork(fork: ForkName) -> Self {
        map_fork_name!(fork, BeaconBlockBody, Variant, types =>
            Variant(types::BeaconBlockBody::<P>::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mainnet, Minimal};

    #[test]
    fn fork_names_round_trip_and_are_ordered() {
        let names: Vec<&str> = ForkName::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "phase0",
                "altair",
                "bellatrix",
                "capella",
                "deneb",
                "electra",
                "fulu"
            ]
        );
        for (i, fork) in ForkName::ALL.into_iter().enumerate() {
            assert_eq!(fork.as_str().parse::<ForkName>(), Ok(fork));
            assert_eq!(fork.as_str().to_uppercase().parse::<ForkName>(), Ok(fork));
            assert_eq!(fork.to_string(), fork.as_str());
            assert_eq!(fork.previous(), i.checked_sub(1).map(|j| ForkName::ALL[j]));
            assert_eq!(fork.next(), ForkName::ALL.get(i + 1).copied());
        }
        assert!(ForkName::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ForkName::GENESIS, ForkName::Phase0);
        assert_eq!(ForkName::LATEST, ForkName::Fulu);
        assert_eq!(
            "gloas".parse::<ForkName>(),
            Err(UnknownForkName("gloas".into()))
        );
        assert!("".parse::<ForkName>().is_err());
    }

    fn default_states_round_trip<P: Preset>() {
        for fork in ForkName::ALL {
            let state = BeaconState::<P>::default_for_fork(fork);
            assert_eq!(state.fork_name(), fork);
            let bytes = state.as_ssz_bytes();
            assert_eq!(bytes, ssz::Encode::as_ssz_bytes(&state), "{fork}");
            let decoded = BeaconState::<P>::from_ssz_bytes_for_fork(&bytes, fork)
                .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
            assert_eq!(decoded, state, "{fork}");
            assert_eq!(decoded.tree_hash_root(), state.tree_hash_root(), "{fork}");
            assert_eq!(
                TreeHash::tree_hash_root(&state),
                state.tree_hash_root(),
                "{fork}"
            );
            assert_eq!(decoded.slot(), 0);
            // Another fork's decoder must not accept this fork's state.
            for other in ForkName::ALL.into_iter().filter(|f| *f != fork) {
                assert!(
                    BeaconState::<P>::from_ssz_bytes_for_fork(&bytes, other).is_err(),
                    "{fork} state decoded as {other}"
                );
            }
        }
    }

    fn default_blocks_round_trip<P: Preset>() {
        for fork in ForkName::ALL {
            let block = SignedBeaconBlock::<P>::default_for_fork(fork);
            assert_eq!(block.fork_name(), fork);
            assert_eq!(block.message().fork_name(), fork);
            assert_eq!(block.message().body().fork_name(), fork);
            let bytes = block.as_ssz_bytes();
            let decoded = SignedBeaconBlock::<P>::from_ssz_bytes_for_fork(&bytes, fork)
                .unwrap_or_else(|e| panic!("{fork}: {e:?}"));
            assert_eq!(decoded, block, "{fork}");
            assert_eq!(decoded.canonical_root(), block.message().tree_hash_root());
            assert_eq!(
                decoded.signed_block_header().message.tree_hash_root(),
                decoded.canonical_root(),
                "a header and its block share a root ({fork})"
            );

            let (message, signature) = decoded.clone().into_message_and_signature();
            assert_eq!(message.fork_name(), fork);
            assert_eq!(signature, *decoded.signature());
            assert_eq!(message.tree_hash_root(), decoded.canonical_root());
            assert_eq!(message.body_root(), message.body().tree_hash_root());
            let body = message.body().to_owned_body();
            let body_bytes = body.as_ssz_bytes();
            assert_eq!(
                BeaconBlockBody::<P>::from_ssz_bytes_for_fork(&body_bytes, fork),
                Ok(body),
                "{fork}"
            );
            let block_bytes = message.as_ssz_bytes();
            assert_eq!(
                BeaconBlock::<P>::from_ssz_bytes_for_fork(&block_bytes, fork),
                Ok(message),
                "{fork}"
            );
        }
    }

    #[test]
    fn default_states_round_trip_minimal() {
        default_states_round_trip::<Minimal>();
    }

    #[test]
    fn default_states_round_trip_mainnet() {
        default_states_round_trip::<Mainnet>();
    }

    #[test]
    fn default_blocks_round_trip_minimal() {
        default_blocks_round_trip::<Minimal>();
    }

    #[test]
    fn default_blocks_round_trip_mainnet() {
        default_blocks_round_trip::<Mainnet>();
    }

    #[test]
    fn block_accessors() {
        let mut inner = crate::deneb::SignedBeaconBlock::<Minimal>::default();
        inner.message.slot = 7;
        inner.message.proposer_index = 3;
        inner.message.parent_root = Hash256::repeat_byte(1);
        inner.message.body.graffiti = Hash256::repeat_byte(2);
        inner.signature = SignatureBytes::infinity();
        let block = SignedBeaconBlock::Deneb(inner.clone());
        assert_eq!(block.slot(), 7);
        assert_eq!(block.message().proposer_index(), 3);
        assert_eq!(block.parent_root(), Hash256::repeat_byte(1));
        assert_eq!(*block.message().body().graffiti(), Hash256::repeat_byte(2));
        assert_eq!(*block.signature(), SignatureBytes::infinity());
        assert_eq!(block.canonical_root(), inner.message.tree_hash_root());
        assert_eq!(
            block.message().body_root(),
            inner.message.body.tree_hash_root()
        );

        let mut state = BeaconState::<Minimal>::default_for_fork(ForkName::Fulu);
        state.set_slot(42);
        assert_eq!(state.slot(), 42);
        assert_eq!(state.validators().len(), 0);
    }
}
