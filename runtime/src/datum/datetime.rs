//! `date`, `time`, `timetz`, `timestamp`, `timestamptz` and `interval` with
//! PostgreSQL's representation (days or microseconds since 2000-01-01,
//! infinities at the integer extremes) and its ISO output style.
use super::session_zone;
use core::fmt;
use core::ops::{Add, Neg, Sub};

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
pub(crate) const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;
/// 1970-01-01 in days since 2000-01-01.
const UNIX_EPOCH_DAYS: i32 = -10957;
/// 4714-11-24 BC, the first day PostgreSQL accepts, in days since 2000-01-01.
const MIN_DATE: i32 = -2451545;
/// 5874898-01-01, the first day PostgreSQL no longer accepts.
const END_DATE: i32 = 2147483494;
const MIN_TIMESTAMP: i64 = MIN_DATE as i64 * USECS_PER_DAY;
/// 294277-01-01 00:00, the first instant PostgreSQL no longer accepts.
const END_TIMESTAMP: i64 = 9223371331200000000;
/// The largest time zone offset of timetz: 15:59:59.
const MAX_TZ_SECONDS: i32 = 15 * 3600 + 59 * 60 + 59;

/// Why a date or time could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeConversionError {
    /// A field is outside its range (month 13, 25:00, February 30, year 0).
    FieldOverflow,
    /// The value is outside the range PostgreSQL stores.
    OutOfRange,
    /// A time zone offset beyond ±15:59:59.
    InvalidTimezoneOffset,
}

impl fmt::Display for DateTimeConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateTimeConversionError::FieldOverflow => "date/time field value out of range",
            DateTimeConversionError::OutOfRange => "date/time value out of range",
            DateTimeConversionError::InvalidTimezoneOffset => "time zone displacement out of range",
        })
    }
}

impl std::error::Error for DateTimeConversionError {}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Proleptic Gregorian days since 2000-01-01 of an astronomical year (1 BC = 0).
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468 + i64::from(UNIX_EPOCH_DAYS)
}

/// The inverse of `days_from_civil`.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719468 - i64::from(UNIX_EPOCH_DAYS);
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (era * 400 + yoe + i64::from(m <= 2), m, d)
}

/// A year as users write it (44 BC is -44) to the astronomical year.
fn astronomical(year: i32) -> Result<i64, DateTimeConversionError> {
    match year {
        0 => Err(DateTimeConversionError::FieldOverflow),
        y if y < 0 => Ok(i64::from(y) + 1),
        y => Ok(i64::from(y)),
    }
}

fn display_year(astro: i64) -> i32 {
    if astro <= 0 { (astro - 1) as i32 } else { astro as i32 }
}

fn write_date(f: &mut fmt::Formatter<'_>, days: i64) -> fmt::Result {
    let (y, m, d) = civil_from_days(days);
    let (shown, bc) = if y <= 0 { (1 - y, true) } else { (y, false) };
    write!(f, "{shown:04}-{m:02}-{d:02}")?;
    if bc {
        f.write_str(" BC")?;
    }
    Ok(())
}

/// `hh:mm:ss[.ffffff]`, trailing zeros of the fraction dropped, as PostgreSQL prints it.
fn write_time(f: &mut fmt::Formatter<'_>, usecs: i64) -> fmt::Result {
    let (h, rest) = (usecs / USECS_PER_HOUR, usecs % USECS_PER_HOUR);
    let (m, rest) = (rest / USECS_PER_MINUTE, rest % USECS_PER_MINUTE);
    let (s, frac) = (rest / USECS_PER_SEC, rest % USECS_PER_SEC);
    write!(f, "{h:02}:{m:02}:{s:02}")?;
    write_fraction(f, frac)
}

fn write_fraction(f: &mut fmt::Formatter<'_>, frac: i64) -> fmt::Result {
    if frac != 0 {
        let mut digits = format!("{frac:06}");
        while digits.ends_with('0') {
            digits.pop();
        }
        write!(f, ".{digits}")?;
    }
    Ok(())
}

fn time_usecs(hour: u8, minute: u8, second: f64) -> Result<i64, DateTimeConversionError> {
    if hour > 24 || minute > 59 || !(0.0..61.0).contains(&second) || second.is_nan() {
        return Err(DateTimeConversionError::FieldOverflow);
    }
    let usecs =
        i64::from(hour) * USECS_PER_HOUR + i64::from(minute) * USECS_PER_MINUTE + (second * 1e6).round() as i64;
    if usecs > USECS_PER_DAY {
        return Err(DateTimeConversionError::FieldOverflow);
    }
    Ok(usecs)
}

/// `date`: days since 2000-01-01, or ±infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    pub const NEG_INFINITY: Date = Date(i32::MIN);
    pub const INFINITY: Date = Date(i32::MAX);

    pub(crate) fn from_raw(days: i32) -> Date {
        Date(days)
    }

    /// A calendar date; BC years are negative (44 BC is -44), as in `make_date`.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Date, DateTimeConversionError> {
        let y = astronomical(year)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(y, month) {
            return Err(DateTimeConversionError::FieldOverflow);
        }
        Date::from_pg_epoch_days_i64(days_from_civil(y, month, day))
    }

    fn from_pg_epoch_days_i64(days: i64) -> Result<Date, DateTimeConversionError> {
        if (i64::from(MIN_DATE)..i64::from(END_DATE)).contains(&days) {
            Ok(Date(days as i32))
        } else {
            Err(DateTimeConversionError::OutOfRange)
        }
    }

    /// Days since 2000-01-01 (PostgreSQL's epoch).
    pub fn from_pg_epoch_days(days: i32) -> Result<Date, DateTimeConversionError> {
        Date::from_pg_epoch_days_i64(i64::from(days))
    }

    /// Days since 1970-01-01.
    pub fn from_unix_epoch_days(days: i32) -> Result<Date, DateTimeConversionError> {
        Date::from_pg_epoch_days_i64(i64::from(days) + i64::from(UNIX_EPOCH_DAYS))
    }

    pub fn infinity() -> Date {
        Date::INFINITY
    }

    pub fn neg_infinity() -> Date {
        Date::NEG_INFINITY
    }

    pub fn is_infinity(&self) -> bool {
        *self == Date::INFINITY
    }

    pub fn is_neg_infinity(&self) -> bool {
        *self == Date::NEG_INFINITY
    }

    pub fn is_finite(&self) -> bool {
        !self.is_infinity() && !self.is_neg_infinity()
    }

    pub fn to_pg_epoch_days(&self) -> i32 {
        self.0
    }

    pub fn to_unix_epoch_days(&self) -> i32 {
        self.0.saturating_sub(UNIX_EPOCH_DAYS)
    }

    fn civil(&self) -> (i64, u8, u8) {
        civil_from_days(i64::from(self.0))
    }

    /// The year as `extract(year …)` gives it: 44 BC is -44.
    pub fn year(&self) -> i32 {
        display_year(self.civil().0)
    }

    pub fn month(&self) -> u8 {
        self.civil().1
    }

    pub fn day(&self) -> u8 {
        self.civil().2
    }

    /// Day of the week, 0 = Sunday, as `extract(dow …)`.
    pub fn dow(&self) -> u8 {
        (i64::from(self.0) + 6).rem_euclid(7) as u8
    }

    /// Day of the year, 1-based, as `extract(doy …)`.
    pub fn doy(&self) -> u16 {
        let (y, _, _) = self.civil();
        (i64::from(self.0) - days_from_civil(y, 1, 1) + 1) as u16
    }

    /// `date + integer`: None beyond PostgreSQL's range (infinities stay).
    pub fn checked_add_days(&self, days: i32) -> Option<Date> {
        if !self.is_finite() {
            return Some(*self);
        }
        Date::from_pg_epoch_days_i64(i64::from(self.0) + i64::from(days)).ok()
    }
}

impl Add<i32> for Date {
    type Output = Date;
    /// Panics with PostgreSQL's message where `date + integer` fails.
    fn add(self, days: i32) -> Date {
        self.checked_add_days(days).expect("date out of range")
    }
}

impl Sub<i32> for Date {
    type Output = Date;
    fn sub(self, days: i32) -> Date {
        self.checked_add_days(days.checked_neg().expect("date out of range")).expect("date out of range")
    }
}

impl Sub for Date {
    type Output = i32;
    /// `date - date`: the days between; panics on infinities, as PostgreSQL errors.
    fn sub(self, other: Date) -> i32 {
        assert!(self.is_finite() && other.is_finite(), "cannot subtract infinite dates");
        self.0 - other.0
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Date::INFINITY => f.write_str("infinity"),
            Date::NEG_INFINITY => f.write_str("-infinity"),
            Date(d) => write_date(f, i64::from(d)),
        }
    }
}

/// `time`: microseconds since midnight (24:00:00 included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i64);

impl Time {
    pub const ALLBALLS: Time = Time(0);

    pub(crate) fn from_raw(usecs: i64) -> Time {
        Time(usecs)
    }

    pub fn new(hour: u8, minute: u8, second: f64) -> Result<Time, DateTimeConversionError> {
        time_usecs(hour, minute, second).map(Time)
    }

    pub fn from_microseconds(usecs: i64) -> Result<Time, DateTimeConversionError> {
        if (0..=USECS_PER_DAY).contains(&usecs) { Ok(Time(usecs)) } else { Err(DateTimeConversionError::OutOfRange) }
    }

    pub fn to_microseconds(&self) -> i64 {
        self.0
    }

    pub fn hour(&self) -> u8 {
        (self.0 / USECS_PER_HOUR) as u8
    }

    pub fn minute(&self) -> u8 {
        (self.0 % USECS_PER_HOUR / USECS_PER_MINUTE) as u8
    }

    /// Seconds with their fraction, as `extract(second …)`.
    pub fn second(&self) -> f64 {
        (self.0 % USECS_PER_MINUTE) as f64 / 1e6
    }

    /// The fraction of the second in microseconds.
    pub fn microseconds(&self) -> u32 {
        (self.0 % USECS_PER_SEC) as u32
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_time(f, self.0)
    }
}

/// `timetz`: a time of day and a fixed UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWithTimeZone {
    time: Time,
    /// Seconds west of UTC, as PostgreSQL stores it (UTC+02 is -7200).
    zone: i32,
}

impl TimeWithTimeZone {
    /// A time at UTC.
    pub fn new(hour: u8, minute: u8, second: f64) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        TimeWithTimeZone::with_timezone_offset(hour, minute, second, 0)
    }

    /// A time at the offset `offset_seconds` east of UTC (UTC+02:00 is 7200).
    pub fn with_timezone_offset(
        hour: u8,
        minute: u8,
        second: f64,
        offset_seconds: i32,
    ) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        if !(-MAX_TZ_SECONDS..=MAX_TZ_SECONDS).contains(&offset_seconds) {
            return Err(DateTimeConversionError::InvalidTimezoneOffset);
        }
        Ok(TimeWithTimeZone { time: Time::new(hour, minute, second)?, zone: -offset_seconds })
    }

    pub(crate) fn from_parts(usecs: i64, zone: i32) -> Option<TimeWithTimeZone> {
        let ok = (0..=USECS_PER_DAY).contains(&usecs) && (-MAX_TZ_SECONDS..=MAX_TZ_SECONDS).contains(&zone);
        ok.then_some(TimeWithTimeZone { time: Time(usecs), zone })
    }

    pub(crate) fn parts(&self) -> (i64, i32) {
        (self.time.0, self.zone)
    }

    /// The local time, without the offset.
    pub fn time(&self) -> Time {
        self.time
    }

    /// Seconds east of UTC, as `extract(timezone …)`.
    pub fn timezone_offset(&self) -> i32 {
        -self.zone
    }

    /// The same instant at UTC.
    pub fn to_utc(&self) -> Time {
        Time((self.time.0 + i64::from(self.zone) * USECS_PER_SEC).rem_euclid(USECS_PER_DAY))
    }

    pub fn hour(&self) -> u8 {
        self.time.hour()
    }

    pub fn minute(&self) -> u8 {
        self.time.minute()
    }

    pub fn second(&self) -> f64 {
        self.time.second()
    }

    pub fn microseconds(&self) -> u32 {
        self.time.microseconds()
    }
}

impl fmt::Display for TimeWithTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_time(f, self.time.0)?;
        write_offset(f, -i64::from(self.zone))
    }
}

fn timestamp_from_parts(
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: f64,
) -> Result<i64, DateTimeConversionError> {
    let date = Date::new(year, month, day)?;
    let t = time_usecs(hour, minute, second)?;
    let usecs = i64::from(date.0) * USECS_PER_DAY + t;
    if (MIN_TIMESTAMP..END_TIMESTAMP).contains(&usecs) { Ok(usecs) } else { Err(DateTimeConversionError::OutOfRange) }
}

/// The sum when an operand is infinite: PostgreSQL 17's infinite interval
/// moves a finite timestamp to that infinity, and meets the opposite
/// infinity with "timestamp out of range"; an infinite timestamp plus a
/// finite interval stays as it is.
fn infinite_operand(ts: i64, iv: &Interval) -> Option<Option<i64>> {
    let ts_inf = ts == i64::MIN || ts == i64::MAX;
    match iv.infinite_sign() {
        Some(up) if ts_inf => Some(((ts == i64::MAX) == up).then_some(ts)),
        Some(up) => Some(Some(if up { i64::MAX } else { i64::MIN })),
        None => ts_inf.then_some(Some(ts)),
    }
}

/// `timestamp + interval` with PostgreSQL's rules: months first (the day
/// clamped to the month's end), then days, then microseconds.
fn add_interval(ts: i64, iv: &Interval) -> Option<i64> {
    if let Some(early) = infinite_operand(ts, iv) {
        return early;
    }
    let mut ts = ts;
    if iv.months != 0 {
        let days = ts.div_euclid(USECS_PER_DAY);
        let time = ts.rem_euclid(USECS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let total = y * 12 + i64::from(m) - 1 + i64::from(iv.months);
        let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
        let nd = d.min(days_in_month(ny, nm));
        ts = days_from_civil(ny, nm, nd).checked_mul(USECS_PER_DAY)?.checked_add(time)?;
    }
    if iv.days != 0 {
        ts = ts.checked_add(i64::from(iv.days).checked_mul(USECS_PER_DAY)?)?;
    }
    ts = ts.checked_add(iv.micros)?;
    (MIN_TIMESTAMP..END_TIMESTAMP).contains(&ts).then_some(ts)
}

/// `timestamptz + interval` as PostgreSQL adds it: months and days on the
/// local calendar (a day across a DST change is 23 or 25 hours), then the
/// time.
fn add_interval_zoned(ts: i64, iv: &Interval) -> Option<i64> {
    if let Some(early) = infinite_operand(ts, iv) {
        return early;
    }
    let mut ts = ts;
    for step in [Interval { months: iv.months, days: 0, micros: 0 }, Interval { months: 0, days: iv.days, micros: 0 }] {
        if step.months != 0 || step.days != 0 {
            let local = ts.checked_add(session_zone::offset_of_instant(ts))?;
            let moved = add_interval(local, &step)?;
            ts = moved.checked_sub(session_zone::offset_of_local(moved))?;
        }
    }
    ts = ts.checked_add(iv.micros)?;
    (MIN_TIMESTAMP..END_TIMESTAMP).contains(&ts).then_some(ts)
}

/// `+HH[:MM[:SS]]` as PostgreSQL prints a UTC offset.
fn write_offset(f: &mut fmt::Formatter<'_>, east_secs: i64) -> fmt::Result {
    let (sign, abs) = if east_secs < 0 { ('-', -east_secs) } else { ('+', east_secs) };
    write!(f, "{sign}{:02}", abs / 3600)?;
    if abs % 3600 != 0 {
        write!(f, ":{:02}", abs % 3600 / 60)?;
        if abs % 60 != 0 {
            write!(f, ":{:02}", abs % 60)?;
        }
    }
    Ok(())
}

macro_rules! timestamp_type {
    ($(#[$doc:meta])* $name:ident, zoned: $zoned:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            pub const NEG_INFINITY: $name = $name(i64::MIN);
            pub const INFINITY: $name = $name(i64::MAX);

            pub(crate) fn from_raw(usecs: i64) -> $name {
                $name(usecs)
            }

            pub fn new(
                year: i32,
                month: u8,
                day: u8,
                hour: u8,
                minute: u8,
                second: f64,
            ) -> Result<$name, DateTimeConversionError> {
                let local = timestamp_from_parts(year, month, day, hour, minute, second)?;
                if $zoned {
                    $name::from_pg_epoch_microseconds(local - session_zone::offset_of_local(local))
                } else {
                    Ok($name(local))
                }
            }

            /// Microseconds east of UTC of the session's TimeZone at this
            /// value (0 for `timestamp`).
            fn offset(&self) -> i64 {
                if $zoned && self.is_finite() { session_zone::offset_of_instant(self.0) } else { 0 }
            }

            /// Microseconds since 2000-01-01 on the local clock.
            fn local(&self) -> i64 {
                self.0 + self.offset()
            }

            /// Microseconds since 2000-01-01 00:00.
            pub fn from_pg_epoch_microseconds(usecs: i64) -> Result<$name, DateTimeConversionError> {
                if usecs == i64::MIN || usecs == i64::MAX || (MIN_TIMESTAMP..END_TIMESTAMP).contains(&usecs) {
                    Ok($name(usecs))
                } else {
                    Err(DateTimeConversionError::OutOfRange)
                }
            }

            /// Microseconds since 1970-01-01 00:00.
            pub fn from_unix_epoch_microseconds(usecs: i64) -> Result<$name, DateTimeConversionError> {
                let shift = i64::from(UNIX_EPOCH_DAYS) * USECS_PER_DAY;
                usecs.checked_add(shift).ok_or(DateTimeConversionError::OutOfRange).and_then($name::from_pg_epoch_microseconds)
            }

            pub fn to_pg_epoch_microseconds(&self) -> i64 {
                self.0
            }

            pub fn to_unix_epoch_microseconds(&self) -> i64 {
                self.0.saturating_sub(i64::from(UNIX_EPOCH_DAYS) * USECS_PER_DAY)
            }

            pub fn positive_infinity() -> $name {
                $name::INFINITY
            }

            pub fn negative_infinity() -> $name {
                $name::NEG_INFINITY
            }

            pub fn is_infinity(&self) -> bool {
                *self == $name::INFINITY
            }

            pub fn is_neg_infinity(&self) -> bool {
                *self == $name::NEG_INFINITY
            }

            pub fn is_finite(&self) -> bool {
                !self.is_infinity() && !self.is_neg_infinity()
            }

            fn days(&self) -> i64 {
                self.local().div_euclid(USECS_PER_DAY)
            }

            /// The date part (infinities stay infinite).
            pub fn date(&self) -> Date {
                match *self {
                    $name::INFINITY => Date::INFINITY,
                    $name::NEG_INFINITY => Date::NEG_INFINITY,
                    _ => Date(self.days() as i32),
                }
            }

            /// The time-of-day part.
            pub fn time(&self) -> Time {
                Time(self.local().rem_euclid(USECS_PER_DAY))
            }

            pub fn year(&self) -> i32 {
                display_year(civil_from_days(self.days()).0)
            }

            pub fn month(&self) -> u8 {
                civil_from_days(self.days()).1
            }

            pub fn day(&self) -> u8 {
                civil_from_days(self.days()).2
            }

            pub fn hour(&self) -> u8 {
                self.time().hour()
            }

            pub fn minute(&self) -> u8 {
                self.time().minute()
            }

            pub fn second(&self) -> f64 {
                self.time().second()
            }

            pub fn microseconds(&self) -> u32 {
                self.time().microseconds()
            }

            /// `+ interval`: None when the result leaves PostgreSQL's range.
            pub fn checked_add(&self, iv: Interval) -> Option<$name> {
                if $zoned { add_interval_zoned(self.0, &iv) } else { add_interval(self.0, &iv) }.map($name)
            }

            pub fn checked_sub(&self, iv: Interval) -> Option<$name> {
                self.checked_add(iv.checked_neg()?)
            }
        }

        impl From<Date> for $name {
            /// Midnight of the date (in the session's TimeZone for timestamptz).
            fn from(d: Date) -> $name {
                match d {
                    Date::INFINITY => $name::INFINITY,
                    Date::NEG_INFINITY => $name::NEG_INFINITY,
                    Date(days) => {
                        // A date past 294276 AD has no timestamp, as PostgreSQL's cast says.
                        let local = i64::from(days)
                            .checked_mul(USECS_PER_DAY)
                            .filter(|u| (MIN_TIMESTAMP..END_TIMESTAMP).contains(u))
                            .expect("date out of range for timestamp");
                        $name(if $zoned { local - session_zone::offset_of_local(local) } else { local })
                    }
                }
            }
        }

        impl Add<Interval> for $name {
            type Output = $name;
            fn add(self, iv: Interval) -> $name {
                self.checked_add(iv).unwrap_or_else(|| datetime_overflow("timestamp out of range"))
            }
        }

        impl Sub<Interval> for $name {
            type Output = $name;
            fn sub(self, iv: Interval) -> $name {
                self.checked_sub(iv).unwrap_or_else(|| datetime_overflow("timestamp out of range"))
            }
        }

        impl Sub for $name {
            type Output = Interval;
            /// As PostgreSQL: whole days and the rest as time (`justify_hours`);
            /// from 17 on, an infinite operand gives an infinite interval.
            fn sub(self, other: $name) -> Interval {
                if !self.is_finite() || !other.is_finite() {
                    if !session_zone::intervals_have_infinity() {
                        datetime_overflow("cannot subtract infinite timestamps");
                    }
                    if self == other {
                        datetime_overflow("interval out of range");
                    }
                    return if self.is_infinity() || other.is_neg_infinity() { Interval::INFINITY } else { Interval::NEG_INFINITY };
                }
                let diff = self.0.checked_sub(other.0).expect("interval out of range");
                Interval { months: 0, days: (diff / USECS_PER_DAY) as i32, micros: diff % USECS_PER_DAY }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match *self {
                    $name::INFINITY => f.write_str("infinity"),
                    $name::NEG_INFINITY => f.write_str("-infinity"),
                    _ => {
                        let offset = self.offset();
                        let local = self.0 + offset;
                        let (y, m, d) = civil_from_days(local.div_euclid(USECS_PER_DAY));
                        let (shown, bc) = if y <= 0 { (1 - y, true) } else { (y, false) };
                        write!(f, "{shown:04}-{m:02}-{d:02} ")?;
                        write_time(f, local.rem_euclid(USECS_PER_DAY))?;
                        if $zoned {
                            write_offset(f, offset / USECS_PER_SEC)?;
                        }
                        if bc {
                            f.write_str(" BC")?;
                        }
                        Ok(())
                    }
                }
            }
        }
    };
}

timestamp_type!(
    /// `timestamp`: microseconds since 2000-01-01 00:00, or ±infinity.
    Timestamp,
    zoned: false
);
timestamp_type!(
    /// `timestamptz`: microseconds since 2000-01-01 00:00 UTC, or
    /// ±infinity. Fields, Display, `new`, `date()`, `time()` and calendar
    /// arithmetic use the session's TimeZone, as PostgreSQL does.
    TimestampWithTimeZone,
    zoned: true
);

impl TimestampWithTimeZone {
    /// The same instant as a UTC `timestamp`.
    pub fn to_utc(&self) -> Timestamp {
        Timestamp(self.0)
    }
}

impl From<Timestamp> for TimestampWithTimeZone {
    /// The timestamp read in the session's TimeZone, as `::timestamptz`.
    fn from(t: Timestamp) -> TimestampWithTimeZone {
        if t.is_finite() {
            TimestampWithTimeZone(t.0 - session_zone::offset_of_local(t.0))
        } else {
            TimestampWithTimeZone(t.0)
        }
    }
}

impl From<TimestampWithTimeZone> for Timestamp {
    /// The local time in the session's TimeZone, as `::timestamp`.
    fn from(t: TimestampWithTimeZone) -> Timestamp {
        Timestamp(t.local())
    }
}

impl From<TimestampWithTimeZone> for Date {
    /// The local date in the session's TimeZone, as `::date`.
    fn from(t: TimestampWithTimeZone) -> Date {
        t.date()
    }
}

impl From<Timestamp> for Date {
    fn from(t: Timestamp) -> Date {
        t.date()
    }
}

/// Why an interval could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalConversionError;

impl fmt::Display for IntervalConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interval out of range")
    }
}

impl std::error::Error for IntervalConversionError {}

/// Ends the call with PostgreSQL's ERROR for a date/time result out of range (SQLSTATE 22008).
fn datetime_overflow(message: &str) -> ! {
    crate::log::raise(crate::log::PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW, message, None)
}

/// `interval`: months, days and microseconds, kept apart as PostgreSQL
/// keeps them (a month is not a fixed number of days). From PostgreSQL 17
/// on, all three fields at their maximum are `infinity` and all three at
/// their minimum `-infinity`; an older server has no infinite interval and
/// takes those fields at face value (a huge finite interval), so whether a
/// value is infinite depends on the server the function runs on.
#[derive(Debug, Clone, Copy)]
pub struct Interval {
    months: i32,
    days: i32,
    micros: i64,
}

impl Interval {
    /// `'infinity'::interval` on PostgreSQL 17+.
    pub const INFINITY: Interval = Interval { months: i32::MAX, days: i32::MAX, micros: i64::MAX };
    /// `'-infinity'::interval` on PostgreSQL 17+.
    pub const NEG_INFINITY: Interval = Interval { months: i32::MIN, days: i32::MIN, micros: i64::MIN };

    pub(crate) fn from_raw(micros: i64, days: i32, months: i32) -> Interval {
        Interval { months, days, micros }
    }

    pub fn new(months: i32, days: i32, micros: i64) -> Result<Interval, IntervalConversionError> {
        Ok(Interval { months, days, micros })
    }

    pub fn from_years(years: i32) -> Interval {
        Interval { months: years.checked_mul(12).expect("interval out of range"), days: 0, micros: 0 }
    }

    pub fn from_months(months: i32) -> Interval {
        Interval { months, days: 0, micros: 0 }
    }

    pub fn from_weeks(weeks: i32) -> Interval {
        Interval { months: 0, days: weeks.checked_mul(7).expect("interval out of range"), micros: 0 }
    }

    pub fn from_days(days: i32) -> Interval {
        Interval { months: 0, days, micros: 0 }
    }

    pub fn from_hours(hours: i64) -> Interval {
        Interval { months: 0, days: 0, micros: hours.checked_mul(USECS_PER_HOUR).expect("interval out of range") }
    }

    pub fn from_minutes(minutes: i64) -> Interval {
        Interval { months: 0, days: 0, micros: minutes.checked_mul(USECS_PER_MINUTE).expect("interval out of range") }
    }

    pub fn from_seconds(seconds: f64) -> Interval {
        let micros = (seconds * 1e6).round();
        assert!(micros.is_finite() && micros.abs() < 9.2e18, "interval out of range");
        Interval { months: 0, days: 0, micros: micros as i64 }
    }

    pub fn from_micros(micros: i64) -> Interval {
        Interval { months: 0, days: 0, micros }
    }

    pub fn months(&self) -> i32 {
        self.months
    }

    pub fn days(&self) -> i32 {
        self.days
    }

    pub fn micros(&self) -> i64 {
        self.micros
    }

    /// Whole years of the months field, as `extract(year …)`.
    pub fn years(&self) -> i32 {
        self.months / 12
    }

    pub fn hours(&self) -> i64 {
        self.micros / USECS_PER_HOUR
    }

    pub fn minutes(&self) -> i64 {
        self.micros % USECS_PER_HOUR / USECS_PER_MINUTE
    }

    pub fn seconds(&self) -> f64 {
        (self.micros % USECS_PER_MINUTE) as f64 / 1e6
    }

    /// Which sentinel the fields are, whatever the server makes of them.
    fn sentinel(&self) -> Option<bool> {
        let f = (self.months, self.days, self.micros);
        if f == (i32::MAX, i32::MAX, i64::MAX) {
            Some(true)
        } else if f == (i32::MIN, i32::MIN, i64::MIN) {
            Some(false)
        } else {
            None
        }
    }

    /// Some(true) for infinity, Some(false) for -infinity, None when finite
    /// (always None before PostgreSQL 17; the server is asked only about a sentinel).
    pub(crate) fn infinite_sign(&self) -> Option<bool> {
        self.sentinel().filter(|_| session_zone::intervals_have_infinity())
    }

    /// `infinity` or `-infinity` (never before PostgreSQL 17).
    pub fn is_infinite(&self) -> bool {
        self.infinite_sign().is_some()
    }

    pub fn is_finite(&self) -> bool {
        !self.is_infinite()
    }

    pub fn is_infinity(&self) -> bool {
        self.infinite_sign() == Some(true)
    }

    pub fn is_neg_infinity(&self) -> bool {
        self.infinite_sign() == Some(false)
    }

    /// `extract(epoch …)`: a month counts 30 days and a year 365.25 days
    /// (±inf for the infinities).
    pub fn as_seconds(&self) -> f64 {
        match self.infinite_sign() {
            Some(true) => return f64::INFINITY,
            Some(false) => return f64::NEG_INFINITY,
            None => {}
        }
        let years = f64::from(self.months / 12);
        let months = f64::from(self.months % 12);
        years * 365.25 * 86400.0 + months * 30.0 * 86400.0 + f64::from(self.days) * 86400.0 + self.micros as f64 / 1e6
    }

    /// A finite computation that lands on a sentinel has no value on 17+.
    fn finite_result(months: Option<i32>, days: Option<i32>, micros: Option<i64>) -> Option<Interval> {
        let iv = Interval { months: months?, days: days?, micros: micros? };
        if iv.infinite_sign().is_some() { None } else { Some(iv) }
    }

    pub fn checked_neg(&self) -> Option<Interval> {
        match self.infinite_sign() {
            Some(true) => Some(Interval::NEG_INFINITY),
            Some(false) => Some(Interval::INFINITY),
            None => Interval::finite_result(self.months.checked_neg(), self.days.checked_neg(), self.micros.checked_neg()),
        }
    }

    /// `+`: None where PostgreSQL says "interval out of range" (a field
    /// overflows; on 17+ also infinity + -infinity, or a finite sum that
    /// would read as an infinity).
    pub fn checked_add(&self, o: Interval) -> Option<Interval> {
        match (self.infinite_sign(), o.infinite_sign()) {
            (Some(a), Some(b)) => (a == b).then_some(*self),
            (Some(_), None) => Some(*self),
            (None, Some(_)) => Some(o),
            (None, None) => Interval::finite_result(
                self.months.checked_add(o.months),
                self.days.checked_add(o.days),
                self.micros.checked_add(o.micros),
            ),
        }
    }

    /// `-`: None where PostgreSQL says "interval out of range" (including
    /// infinity - infinity on 17+).
    pub fn checked_sub(&self, o: Interval) -> Option<Interval> {
        match (self.infinite_sign(), o.infinite_sign()) {
            (Some(a), Some(b)) => (a != b).then_some(*self),
            (Some(_), None) => Some(*self),
            (None, Some(_)) => o.checked_neg(),
            (None, None) => Interval::finite_result(
                self.months.checked_sub(o.months),
                self.days.checked_sub(o.days),
                self.micros.checked_sub(o.micros),
            ),
        }
    }

    /// `justify_hours`: 24-hour periods become days (infinities stay).
    pub fn justify_hours(&self) -> Interval {
        if self.is_infinite() {
            return *self;
        }
        let mut days = i64::from(self.days) + self.micros / USECS_PER_DAY;
        let mut micros = self.micros % USECS_PER_DAY;
        if days > 0 && micros < 0 {
            micros += USECS_PER_DAY;
            days -= 1;
        } else if days < 0 && micros > 0 {
            micros -= USECS_PER_DAY;
            days += 1;
        }
        let days = i32::try_from(days).unwrap_or_else(|_| datetime_overflow("interval out of range"));
        Interval::finite_result(Some(self.months), Some(days), Some(micros))
            .unwrap_or_else(|| datetime_overflow("interval out of range"))
    }

    /// `justify_days`: 30-day periods become months (infinities stay).
    pub fn justify_days(&self) -> Interval {
        if self.is_infinite() {
            return *self;
        }
        let mut months = i64::from(self.months) + i64::from(self.days / 30);
        let mut days = self.days % 30;
        if months > 0 && days < 0 {
            days += 30;
            months -= 1;
        } else if months < 0 && days > 0 {
            days -= 30;
            months += 1;
        }
        let months = i32::try_from(months).unwrap_or_else(|_| datetime_overflow("interval out of range"));
        Interval::finite_result(Some(months), Some(days), Some(self.micros))
            .unwrap_or_else(|| datetime_overflow("interval out of range"))
    }

    /// `justify_interval`: both, signs made consistent (infinities stay).
    pub fn justify_interval(&self) -> Interval {
        if self.is_infinite() {
            return *self;
        }
        let mut months = i64::from(self.months) + i64::from(self.days / 30);
        let mut days = i64::from(self.days % 30) + self.micros / USECS_PER_DAY;
        let mut micros = self.micros % USECS_PER_DAY;
        months += days / 30;
        days %= 30;
        if months > 0 && (days < 0 || (days == 0 && micros < 0)) {
            days += 30;
            months -= 1;
        } else if months < 0 && (days > 0 || (days == 0 && micros > 0)) {
            days -= 30;
            months += 1;
        }
        if days > 0 && micros < 0 {
            micros += USECS_PER_DAY;
            days -= 1;
        } else if days < 0 && micros > 0 {
            micros -= USECS_PER_DAY;
            days += 1;
        }
        let months = i32::try_from(months).unwrap_or_else(|_| datetime_overflow("interval out of range"));
        Interval::finite_result(Some(months), Some(days as i32), Some(micros))
            .unwrap_or_else(|| datetime_overflow("interval out of range"))
    }

    /// The 128-bit span PostgreSQL compares intervals by (a month is 30
    /// days); the sentinels are its extremes, so infinities order right.
    fn span(&self) -> i128 {
        i128::from(self.micros) + (i128::from(self.days) + i128::from(self.months) * 30) * i128::from(USECS_PER_DAY)
    }
}

impl PartialEq for Interval {
    /// As PostgreSQL: '1 month' = '30 days'.
    fn eq(&self, o: &Interval) -> bool {
        self.span() == o.span()
    }
}

impl Eq for Interval {}

impl core::hash::Hash for Interval {
    /// By the span `==` compares, so that '1 mon' and '30 days' hash alike.
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.span().hash(state)
    }
}

impl PartialOrd for Interval {
    fn partial_cmp(&self, o: &Interval) -> Option<core::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Interval {
    fn cmp(&self, o: &Interval) -> core::cmp::Ordering {
        self.span().cmp(&o.span())
    }
}

impl Add for Interval {
    type Output = Interval;
    fn add(self, o: Interval) -> Interval {
        self.checked_add(o).unwrap_or_else(|| datetime_overflow("interval out of range"))
    }
}

impl Sub for Interval {
    type Output = Interval;
    fn sub(self, o: Interval) -> Interval {
        self.checked_sub(o).unwrap_or_else(|| datetime_overflow("interval out of range"))
    }
}

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        self.checked_neg().unwrap_or_else(|| datetime_overflow("interval out of range"))
    }
}

impl fmt::Display for Interval {
    /// IntervalStyle `postgres`, PostgreSQL's default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.infinite_sign() {
            Some(true) => return f.write_str("infinity"),
            Some(false) => return f.write_str("-infinity"),
            None => {}
        }
        let mut is_zero = true;
        let mut is_before = false;
        let mut field = |f: &mut fmt::Formatter<'_>, value: i64, unit: &str| -> fmt::Result {
            if value == 0 {
                return Ok(());
            }
            let space = if is_zero { "" } else { " " };
            let plus = if is_before && value > 0 { "+" } else { "" };
            let plural = if value != 1 { "s" } else { "" };
            write!(f, "{space}{plus}{value} {unit}{plural}")?;
            is_before = value < 0;
            is_zero = false;
            Ok(())
        };
        field(f, i64::from(self.months / 12), "year")?;
        field(f, i64::from(self.months % 12), "mon")?;
        field(f, i64::from(self.days), "day")?;
        if is_zero || self.micros != 0 {
            let space = if is_zero { "" } else { " " };
            let sign = if self.micros < 0 { "-" } else if is_before { "+" } else { "" };
            let abs = self.micros.unsigned_abs();
            let hours = abs / USECS_PER_HOUR as u64;
            let rest = abs % USECS_PER_HOUR as u64;
            write!(f, "{space}{sign}{hours:02}:{:02}:{:02}", rest / USECS_PER_MINUTE as u64, rest % USECS_PER_MINUTE as u64 / 1_000_000)?;
            write_fraction(f, (rest % 1_000_000) as i64)?;
        }
        Ok(())
    }
}
