//! Range types: `Range<T>` with PostgreSQL's bounds (inclusive, exclusive,
//! infinite) and the empty range.
use core::fmt;

/// One bound of a range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RangeBound<T> {
    Infinite,
    Inclusive(T),
    Exclusive(T),
}

impl<T> RangeBound<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            RangeBound::Infinite => None,
            RangeBound::Inclusive(v) | RangeBound::Exclusive(v) => Some(v),
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self, RangeBound::Infinite)
    }

    pub fn is_inclusive(&self) -> bool {
        matches!(self, RangeBound::Inclusive(_))
    }

    pub fn is_exclusive(&self) -> bool {
        matches!(self, RangeBound::Exclusive(_))
    }
}

impl<T> From<T> for RangeBound<T> {
    /// A plain value is an inclusive bound.
    fn from(v: T) -> RangeBound<T> {
        RangeBound::Inclusive(v)
    }
}

/// `int4range` (`Range<i32>`), `int8range` (`Range<i64>`), `numrange`
/// (`Range<AnyNumeric>`), `daterange` (`Range<Date>`), `tsrange`
/// (`Range<Timestamp>`), `tstzrange` (`Range<TimestampWithTimeZone>`).
/// PostgreSQL puts discrete ranges into canonical form (`[1,3]` becomes
/// `[1,4)`) when a result is returned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Range<T> {
    /// None: the empty range.
    inner: Option<(RangeBound<T>, RangeBound<T>)>,
}

impl<T> Range<T> {
    pub fn new(lower: impl Into<RangeBound<T>>, upper: impl Into<RangeBound<T>>) -> Range<T> {
        Range { inner: Some((lower.into(), upper.into())) }
    }

    pub fn empty() -> Range<T> {
        Range { inner: None }
    }

    /// `(,)`: every value.
    pub fn infinite() -> Range<T> {
        Range { inner: Some((RangeBound::Infinite, RangeBound::Infinite)) }
    }

    pub fn lower(&self) -> Option<&RangeBound<T>> {
        self.inner.as_ref().map(|(l, _)| l)
    }

    pub fn upper(&self) -> Option<&RangeBound<T>> {
        self.inner.as_ref().map(|(_, u)| u)
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_none()
    }

    /// Both bounds infinite.
    pub fn is_infinite(&self) -> bool {
        matches!(self.inner, Some((RangeBound::Infinite, RangeBound::Infinite)))
    }

    /// The bounds, None for the empty range.
    pub fn into_inner(self) -> Option<(RangeBound<T>, RangeBound<T>)> {
        self.inner
    }
}

impl<T: PartialOrd> Range<T> {
    /// `range @> value`.
    pub fn contains(&self, v: &T) -> bool {
        let Some((l, u)) = &self.inner else { return false };
        let above = match l {
            RangeBound::Infinite => true,
            RangeBound::Inclusive(b) => v >= b,
            RangeBound::Exclusive(b) => v > b,
        };
        let below = match u {
            RangeBound::Infinite => true,
            RangeBound::Inclusive(b) => v <= b,
            RangeBound::Exclusive(b) => v < b,
        };
        above && below
    }
}

impl<T> From<core::ops::Range<T>> for Range<T> {
    /// `a..b` is `[a,b)`.
    fn from(r: core::ops::Range<T>) -> Range<T> {
        Range::new(RangeBound::Inclusive(r.start), RangeBound::Exclusive(r.end))
    }
}

impl<T> From<core::ops::RangeInclusive<T>> for Range<T> {
    fn from(r: core::ops::RangeInclusive<T>) -> Range<T> {
        let (a, b) = r.into_inner();
        Range::new(RangeBound::Inclusive(a), RangeBound::Inclusive(b))
    }
}

impl<T> From<core::ops::RangeFrom<T>> for Range<T> {
    fn from(r: core::ops::RangeFrom<T>) -> Range<T> {
        Range::new(RangeBound::Inclusive(r.start), RangeBound::Infinite)
    }
}

impl<T> From<core::ops::RangeTo<T>> for Range<T> {
    fn from(r: core::ops::RangeTo<T>) -> Range<T> {
        Range::new(RangeBound::Infinite, RangeBound::Exclusive(r.end))
    }
}

impl<T> From<core::ops::RangeFull> for Range<T> {
    fn from(_: core::ops::RangeFull) -> Range<T> {
        Range::infinite()
    }
}

impl<T: fmt::Display> fmt::Display for Range<T> {
    /// As PostgreSQL prints ranges (values unquoted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((l, u)) = &self.inner else { return f.write_str("empty") };
        f.write_str(if l.is_inclusive() { "[" } else { "(" })?;
        if let Some(v) = l.get() {
            write!(f, "{v}")?;
        }
        f.write_str(",")?;
        if let Some(v) = u.get() {
            write!(f, "{v}")?;
        }
        f.write_str(if u.is_inclusive() { "]" } else { ")" })
    }
}
