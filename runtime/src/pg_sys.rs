//! The few `pg_sys` names upstream PL/Rust's documentation uses for
//! argument and result types: `Oid`, `Point`, `BOX`, `ItemPointerData`.
//! Plain data here: nothing reaches into the backend.
use core::fmt;

/// `oid`: an unsigned 32-bit object identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Oid(u32);

impl Oid {
    pub const INVALID: Oid = Oid(0);

    pub const fn from_u32(n: u32) -> Oid {
        Oid(n)
    }

    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

#[allow(non_upper_case_globals)]
pub const InvalidOid: Oid = Oid::INVALID;

impl From<u32> for Oid {
    fn from(n: u32) -> Oid {
        Oid(n)
    }
}

impl From<Oid> for u32 {
    fn from(o: Oid) -> u32 {
        o.0
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// `point`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// `box`: PostgreSQL keeps the upper right corner in `high`, the lower left in `low`.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BOX {
    pub high: Point,
    pub low: Point,
}

/// The block number of a `tid`, split in two halves as PostgreSQL stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BlockIdData {
    pub bi_hi: u16,
    pub bi_lo: u16,
}

/// `tid`: a block number and an item offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ItemPointerData {
    pub ip_blkid: BlockIdData,
    pub ip_posid: u16,
}

impl ItemPointerData {
    pub fn new(block: u32, offset: u16) -> ItemPointerData {
        ItemPointerData { ip_blkid: BlockIdData { bi_hi: (block >> 16) as u16, bi_lo: block as u16 }, ip_posid: offset }
    }

    pub fn block_number(&self) -> u32 {
        (u32::from(self.ip_blkid.bi_hi) << 16) | u32::from(self.ip_blkid.bi_lo)
    }

    pub fn offset_number(&self) -> u16 {
        self.ip_posid
    }
}

impl fmt::Display for ItemPointerData {
    /// As PostgreSQL prints a tid: `(block,offset)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.block_number(), self.ip_posid)
    }
}
