//! Checked integer arithmetic and the spec's math helpers (`integer_squareroot`,
//! `uint_to_bytes`, `bytes_to_uint64`).
//!
//! The crate denies `clippy::arithmetic_side_effects`: every operation on a value that comes from
//! the state or a block goes through [`SafeArith`], which turns an overflow into an [`ArithError`]
//! carrying the operands. (In the spec an overflowing `uint64` operation raises, which makes the
//! block or the epoch transition invalid; an `Err` here has the same effect.)

use crate::error::{ArithError, Error, Result};

/// `checked_*` arithmetic returning [`ArithError`] with the operands.
pub trait SafeArith: Sized + Copy {
    fn safe_add(self, rhs: Self) -> Result<Self, ArithError>;
    fn safe_sub(self, rhs: Self) -> Result<Self, ArithError>;
    fn safe_mul(self, rhs: Self) -> Result<Self, ArithError>;
    /// Division; `rhs == 0` is an error.
    fn safe_div(self, rhs: Self) -> Result<Self, ArithError>;
    /// Remainder; `rhs == 0` is an error.
    fn safe_rem(self, rhs: Self) -> Result<Self, ArithError>;

    fn safe_add_assign(&mut self, rhs: Self) -> Result<(), ArithError> {
        *self = self.safe_add(rhs)?;
        Ok(())
    }
    fn safe_sub_assign(&mut self, rhs: Self) -> Result<(), ArithError> {
        *self = self.safe_sub(rhs)?;
        Ok(())
    }
}

macro_rules! impl_safe_arith {
    ($($t:ty),*) => {$(
        impl SafeArith for $t {
            #[inline]
            fn safe_add(self, rhs: Self) -> Result<Self, ArithError> {
                self.checked_add(rhs).ok_or(ArithError { op: "+", lhs: self as u64, rhs: rhs as u64 })
            }
            #[inline]
            fn safe_sub(self, rhs: Self) -> Result<Self, ArithError> {
                self.checked_sub(rhs).ok_or(ArithError { op: "-", lhs: self as u64, rhs: rhs as u64 })
            }
            #[inline]
            fn safe_mul(self, rhs: Self) -> Result<Self, ArithError> {
                self.checked_mul(rhs).ok_or(ArithError { op: "*", lhs: self as u64, rhs: rhs as u64 })
            }
            #[inline]
            fn safe_div(self, rhs: Self) -> Result<Self, ArithError> {
                self.checked_div(rhs).ok_or(ArithError { op: "/", lhs: self as u64, rhs: rhs as u64 })
            }
            #[inline]
            fn safe_rem(self, rhs: Self) -> Result<Self, ArithError> {
                self.checked_rem(rhs).ok_or(ArithError { op: "%", lhs: self as u64, rhs: rhs as u64 })
            }
        }
    )*};
}

impl_safe_arith!(u64, usize);

/// `u64` → `usize` for list indices (lossless on the 64-bit targets Keel supports; an error
/// elsewhere rather than a silent truncation).
#[inline]
pub fn to_usize(value: u64) -> Result<usize> {
    usize::try_from(value).map_err(|_| Error::UsizeOverflow(value))
}

/// The spec's `integer_squareroot`: the largest `x` with `x * x <= n`.
pub fn integer_squareroot(n: u64) -> u64 {
    if n == u64::MAX {
        return keel_config::constants::UINT64_MAX_SQRT;
    }
    // Newton's method from above, as the spec writes it; every step stays below n + 1.
    let mut x = n;
    let mut y = x.div_ceil(2);
    while y < x {
        x = y;
        // x >= 1 here (y < x implies x > 0), and n / x + x <= 2n fits since n < u64::MAX... except
        // for huge n; use the overflow-free form (x + n / x) / 2 = x / 2 + (n / x) / 2 + carry.
        let q = n.checked_div(x).unwrap_or(0);
        y = (x / 2)
            .saturating_add(q / 2)
            .saturating_add((x % 2).saturating_add(q % 2) / 2);
    }
    x
}

/// The spec's `uint_to_bytes` for a `uint64`: 8 bytes, little-endian.
#[inline]
pub fn uint_to_bytes(value: u64) -> [u8; 8] {
    value.to_le_bytes()
}

/// The spec's `bytes_to_uint64` for up to 8 little-endian bytes (shorter inputs are
/// zero-extended, as `int.from_bytes` does).
#[inline]
pub fn bytes_to_uint64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    for (dst, src) in buf.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u64::from_le_bytes(buf)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn squareroot_matches_definition() {
        for n in (0u64..10_000).chain([u64::MAX - 1, u64::MAX, 1 << 62, (1 << 32) - 1]) {
            let r = integer_squareroot(n);
            assert!(r.checked_mul(r).unwrap() <= n, "{n}");
            assert!((r + 1).checked_mul(r + 1).is_none_or(|sq| sq > n), "{n}");
        }
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(
            u64::MAX.safe_add(1),
            Err(ArithError {
                op: "+",
                lhs: u64::MAX,
                rhs: 1
            })
        );
        assert!(1u64.safe_div(0).is_err());
    }
}
