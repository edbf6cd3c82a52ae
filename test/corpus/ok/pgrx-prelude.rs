// The names upstream PL/Rust's documentation writes: the prelude, pgrx:: and pg_sys:: paths.
use pgrx::prelude::*;
use pgrx::datum::{Range, RangeBound};

fn next_week(d: Date) -> Option<Date> {
    d.checked_add_days(7)
}

fn describe(n: &pgrx::AnyNumeric, r: &Range<i64>, o: pg_sys::Oid) -> String {
    let lower = match r.lower() {
        Some(RangeBound::Inclusive(v)) => format!("[{v}"),
        Some(RangeBound::Exclusive(v)) => format!("({v}"),
        Some(RangeBound::Infinite) => "(".to_string(),
        None => "empty".to_string(),
    };
    let x: i32 = n.try_into().unwrap_or_default();
    format!("{} {lower} {} {x}", n.round(2), o.as_u32())
}

fn stamp(t: Timestamp, i: Interval) -> Option<TimestampWithTimeZone> {
    t.checked_add(i).map(TimestampWithTimeZone::from)
}

let _ = next_week(Date::new(2024, 2, 29)?);
let _ = describe(&(AnyNumeric::from(5) / 3), &Range::new(1, RangeBound::Exclusive(5)), pg_sys::Oid::from(7));
let _ = stamp(Timestamp::INFINITY, Interval::from_days(1));
let _ = Uuid::from_bytes([0; 16]).to_string();
