//! The session's TimeZone, as PostgreSQL applies it to `timestamptz`, and
//! the server's version where a value's meaning depends on it. The
//! runtime has no zone database, so each question goes to the backend
//! (one host request, forwarded unchanged under process isolation).
use crate::request::{self, Writer};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Request op: the UTC offset the session's TimeZone gives.
const OP_TIMEZONE: u32 = 16;
/// Of an instant (microseconds since 2000-01-01 UTC).
const OF_INSTANT: u8 = 0;
/// Of a local time (microseconds since 2000-01-01 local), resolved as
/// PostgreSQL resolves a local time in a DST gap or overlap.
const OF_LOCAL: u8 = 1;

fn ask(mode: u8, usecs: i64) -> i64 {
    let mut w = Writer::new(OP_TIMEZONE);
    w.u8(mode);
    w.u64(usecs as u64);
    let east = request::send(w).and_then(|reply| reply.reader().u32());
    match east {
        Ok(seconds) => i64::from(seconds as i32) * 1_000_000,
        Err(e) => panic!("cannot read the session's TimeZone: {}", e.message()),
    }
}

/// Microseconds east of UTC at an instant.
pub(crate) fn offset_of_instant(usecs: i64) -> i64 {
    ask(OF_INSTANT, usecs)
}

/// Microseconds east of UTC for a local time.
pub(crate) fn offset_of_local(usecs: i64) -> i64 {
    ask(OF_LOCAL, usecs)
}

/// Request op: the server's PG_VERSION_NUM.
const OP_SERVER_VERSION: u32 = 17;

/// 0 until asked: the server does not change under a loaded library.
static SERVER_VERSION: AtomicU32 = AtomicU32::new(0);

/// Whether the server gives the extreme interval values PostgreSQL 17's
/// meaning (±infinity) rather than their face value. Asked only when a
/// value has those fields.
pub(crate) fn intervals_have_infinity() -> bool {
    let mut v = SERVER_VERSION.load(Relaxed);
    if v == 0 {
        v = match request::send(Writer::new(OP_SERVER_VERSION)).and_then(|reply| reply.reader().u32()) {
            Ok(v) => v,
            Err(e) => panic!("cannot read the server's version: {}", e.message()),
        };
        SERVER_VERSION.store(v, Relaxed);
    }
    v >= 170000
}
