//! `numeric` as `AnyNumeric`: arbitrary precision decimal arithmetic with
//! PostgreSQL's results (its display scales, its division scale rule, its
//! rounding half away from zero, NaN and ±Infinity). Values travel as the
//! text `numeric_out` prints and `numeric_in` reads.
use core::cmp::Ordering;
use core::fmt;
use crate::log::PgSqlErrorCode;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, Sub, SubAssign};

/// PostgreSQL's limit on the exponent of numeric input.
const MAX_EXPONENT: i64 = 1000;
/// PostgreSQL's limits on digits before and after the decimal point.
const MAX_WEIGHT_DIGITS: usize = 131072;
const MAX_DSCALE: u32 = 16383;
/// select_div_scale's constants: significant digits of a quotient, and the display scale cap.
const MIN_SIG_DIGITS: i64 = 16;
const MAX_DISPLAY_SCALE: i64 = 1000;
const DIVISION_BY_ZERO: &str = "division by zero";

#[derive(Clone, Debug)]
enum Repr {
    NaN,
    PosInf,
    NegInf,
    /// ±(digits, least significant first) × 10^-scale; no most-significant
    /// zeros, zero is no digits and not negative.
    Finite { neg: bool, digits: Vec<u8>, scale: u32 },
}

/// `numeric` of any precision and scale.
#[derive(Clone, Debug)]
pub struct AnyNumeric(Repr);

/// Why a conversion to or from `AnyNumeric` failed; the text is PostgreSQL's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    ConversionNotSupported(String),
    OutOfRange(String),
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ConversionNotSupported(s) | Error::OutOfRange(s) | Error::Invalid(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    fn text(&self) -> &str {
        match self {
            Error::ConversionNotSupported(s) | Error::OutOfRange(s) | Error::Invalid(s) => s,
        }
    }

    /// PostgreSQL's primary message (`numeric field overflow`), without the detail.
    pub fn message(&self) -> &str {
        self.split().0
    }

    /// PostgreSQL's detail sentence, where it gives one (a typmod overflow).
    pub fn detail(&self) -> Option<&str> {
        self.split().1
    }

    /// A typmod error carries PostgreSQL's message and detail as
    /// `message: Detail sentence.` so that the enum keeps pgrx's shape.
    fn split(&self) -> (&str, Option<&str>) {
        let text = self.text();
        match text.split_once(": ") {
            Some((m, d)) if d.starts_with(|c: char| c.is_ascii_uppercase()) && d.ends_with('.') => (m, Some(d)),
            _ => (text, None),
        }
    }

    /// The SQLSTATE PostgreSQL raises for the same failure.
    pub fn sqlstate(&self) -> &'static str {
        self.code().sqlstate()
    }

    fn code(&self) -> PgSqlErrorCode {
        match self {
            Error::ConversionNotSupported(_) => PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            Error::OutOfRange(_) => PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            Error::Invalid(s) if s == DIVISION_BY_ZERO => PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO,
            Error::Invalid(_) => PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
        }
    }

    /// Ends the call with this ERROR as PostgreSQL reports it (SQLSTATE,
    /// message, detail), rather than the generic error a returned `Err` gives.
    pub fn raise(&self) -> ! {
        let (message, detail) = self.split();
        crate::log::raise(self.code(), message, detail)
    }
}

/// The sign of a numeric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    Negative,
    Positive,
    Zero,
    NaN,
}

fn trim(mut d: Vec<u8>) -> Vec<u8> {
    while d.last() == Some(&0) {
        d.pop();
    }
    d
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    Shifted::of(a).cmp_mag(&Shifted::of(b))
}

fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    Shifted::of(a).plus(&Shifted::of(b))
}

/// a - b for a >= b.
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    Shifted::of(a).minus(&Shifted::of(b))
}

fn mul_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut acc = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        // Long products take a while: let a statement timeout or cancel in.
        if i % 64 == 63 {
            crate::checkpoint();
        }
        if x == 0 {
            continue;
        }
        for (j, &y) in b.iter().enumerate() {
            acc[i + j] += u32::from(x) * u32::from(y);
        }
        // Carry per row keeps every cell far below u32::MAX.
        let mut carry = 0;
        for cell in acc.iter_mut().skip(i) {
            let v = *cell + carry;
            *cell = v % 10;
            carry = v / 10;
        }
    }
    trim(acc.into_iter().map(|d| d as u8).collect())
}

/// Quotient and remainder of magnitudes (b non-zero), schoolbook.
fn divmod_mag(a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut q = vec![0u8; a.len()];
    let mut r: Vec<u8> = Vec::with_capacity(b.len() + 1);
    for i in (0..a.len()).rev() {
        if i % 64 == 0 {
            crate::checkpoint();
        }
        r.insert(0, a[i]);
        r = trim(r);
        let mut n = 0;
        while cmp_mag(&r, b) != Ordering::Less {
            r = sub_mag(&r, b);
            n += 1;
        }
        q[i] = n;
    }
    (trim(q), r)
}

/// `d` × 10^n.
fn shift(d: &[u8], n: u32) -> Vec<u8> {
    if d.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0u8; n as usize];
    out.extend_from_slice(d);
    out
}

/// Digits (least significant first, no most-significant zeros) times
/// 10^by, read in place: sums and differences align their operands' scales
/// without copying them.
struct Shifted<'a> {
    digits: &'a [u8],
    by: usize,
}

impl<'a> Shifted<'a> {
    fn of(digits: &'a [u8]) -> Shifted<'a> {
        Shifted { digits, by: 0 }
    }

    fn len(&self) -> usize {
        if self.digits.is_empty() { 0 } else { self.digits.len() + self.by }
    }

    fn at(&self, i: usize) -> u8 {
        if i < self.by { 0 } else { self.digits.get(i - self.by).copied().unwrap_or(0) }
    }

    fn cmp_mag(&self, o: &Shifted<'_>) -> Ordering {
        self.len().cmp(&o.len()).then_with(|| {
            (0..self.len()).rev().map(|i| self.at(i).cmp(&o.at(i))).find(|c| c.is_ne()).unwrap_or(Ordering::Equal)
        })
    }

    fn plus(&self, o: &Shifted<'_>) -> Vec<u8> {
        let n = self.len().max(o.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0;
        for i in 0..n {
            let s = self.at(i) + o.at(i) + carry;
            out.push(s % 10);
            carry = s / 10;
        }
        if carry > 0 {
            out.push(carry);
        }
        out
    }

    /// self - o for self >= o.
    fn minus(&self, o: &Shifted<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        let mut borrow = 0i8;
        for i in 0..self.len() {
            let mut d = self.at(i) as i8 - o.at(i) as i8 - borrow;
            borrow = i8::from(d < 0);
            if d < 0 {
                d += 10;
            }
            out.push(d as u8);
        }
        trim(out)
    }
}

fn from_u128(mut n: u128) -> Vec<u8> {
    let mut d = Vec::new();
    while n > 0 {
        d.push((n % 10) as u8);
        n /= 10;
    }
    d
}

impl AnyNumeric {
    fn finite(neg: bool, digits: Vec<u8>, scale: u32) -> AnyNumeric {
        let digits = trim(digits);
        let neg = neg && !digits.is_empty();
        AnyNumeric(Repr::Finite { neg, digits, scale })
    }

    pub fn nan() -> AnyNumeric {
        AnyNumeric(Repr::NaN)
    }

    pub fn infinity() -> AnyNumeric {
        AnyNumeric(Repr::PosInf)
    }

    pub fn neg_infinity() -> AnyNumeric {
        AnyNumeric(Repr::NegInf)
    }

    pub fn zero() -> AnyNumeric {
        AnyNumeric::finite(false, Vec::new(), 0)
    }

    pub fn is_nan(&self) -> bool {
        matches!(self.0, Repr::NaN)
    }

    /// +Infinity or -Infinity.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::PosInf | Repr::NegInf)
    }

    pub fn is_finite(&self) -> bool {
        matches!(self.0, Repr::Finite { .. })
    }

    pub fn sign(&self) -> Sign {
        match &self.0 {
            Repr::NaN => Sign::NaN,
            Repr::PosInf => Sign::Positive,
            Repr::NegInf => Sign::Negative,
            Repr::Finite { digits, .. } if digits.is_empty() => Sign::Zero,
            Repr::Finite { neg: true, .. } => Sign::Negative,
            Repr::Finite { .. } => Sign::Positive,
        }
    }

    /// The display scale: digits after the decimal point (0 for NaN and infinities).
    pub fn scale(&self) -> u32 {
        match &self.0 {
            Repr::Finite { scale, .. } => *scale,
            _ => 0,
        }
    }

    /// Significant digits, as `numeric`'s precision counts them (NaN and infinities: 0).
    pub fn precision(&self) -> u32 {
        match &self.0 {
            Repr::Finite { digits, scale, .. } => (digits.len() as u32).max(*scale),
            _ => 0,
        }
    }

    pub fn abs(&self) -> AnyNumeric {
        match &self.0 {
            Repr::NegInf => AnyNumeric::infinity(),
            Repr::Finite { digits, scale, .. } => AnyNumeric::finite(false, digits.clone(), *scale),
            _ => self.clone(),
        }
    }

    /// Rounded half away from zero to `scale` digits after the point (`round(x, s)`; a negative scale rounds left of it).
    pub fn round(&self, scale: i32) -> AnyNumeric {
        self.rescale(scale, true)
    }

    /// Truncated toward zero to `scale` digits after the point (`trunc(x, s)`).
    pub fn trunc(&self, scale: i32) -> AnyNumeric {
        self.rescale(scale, false)
    }

    fn rescale(&self, target: i32, round: bool) -> AnyNumeric {
        let Repr::Finite { neg, digits, scale } = &self.0 else { return self.clone() };
        let target = target.clamp(-(MAX_WEIGHT_DIGITS as i32), MAX_DSCALE as i32);
        let cut = *scale as i64 - i64::from(target);
        let out_scale = target.max(0) as u32;
        if cut <= 0 {
            return AnyNumeric::finite(*neg, shift(digits, (-cut) as u32), out_scale);
        }
        let cut = cut as usize;
        let up = round && digits.get(cut - 1).is_some_and(|d| *d >= 5);
        let mut kept: Vec<u8> = digits.get(cut..).map(<[u8]>::to_vec).unwrap_or_default();
        if up {
            kept = add_mag(&kept, &[1]);
        }
        // A negative target leaves zeros left of the point.
        let zeros = (i64::from(out_scale) - i64::from(target)) as u32;
        AnyNumeric::finite(*neg, shift(&kept, zeros), out_scale)
    }

    /// The largest integer not greater than self (`floor`).
    pub fn floor(&self) -> AnyNumeric {
        let t = self.trunc(0);
        if self.sign() == Sign::Negative && t != *self { t - AnyNumeric::from(1) } else { t }
    }

    /// The smallest integer not less than self (`ceil`).
    pub fn ceil(&self) -> AnyNumeric {
        let t = self.trunc(0);
        if self.sign() == Sign::Positive && t != *self { t + AnyNumeric::from(1) } else { t }
    }

    /// Trailing fractional zeros removed (`trim_scale`).
    pub fn normalize(&self) -> AnyNumeric {
        let Repr::Finite { neg, digits, scale } = &self.0 else { return self.clone() };
        if digits.is_empty() {
            return AnyNumeric::zero();
        }
        let zeros = digits.iter().take_while(|d| **d == 0).count().min(*scale as usize);
        AnyNumeric::finite(*neg, digits[zeros..].to_vec(), scale - zeros as u32)
    }

    /// (weight, first digit) in PostgreSQL's base-10000 representation, as select_div_scale reads them.
    fn base10000_lead(&self) -> (i64, u32) {
        let Repr::Finite { digits, scale, .. } = &self.0 else { return (0, 0) };
        if digits.is_empty() {
            return (0, 0);
        }
        let top = digits.len() as i64 - 1 - i64::from(*scale);
        let weight = top.div_euclid(4);
        let mut first = 0;
        for q in (weight * 4..weight * 4 + 4).rev() {
            let idx = q + i64::from(*scale);
            let d = if (0..digits.len() as i64).contains(&idx) { u32::from(digits[idx as usize]) } else { 0 };
            first = first * 10 + d;
        }
        (weight, first)
    }

    fn checked_div_impl(&self, o: &AnyNumeric) -> Result<AnyNumeric, Error> {
        use Repr::*;
        let by_zero = || Error::Invalid(DIVISION_BY_ZERO.into());
        match (&self.0, &o.0) {
            (NaN, _) | (_, NaN) => Ok(AnyNumeric::nan()),
            (PosInf | NegInf, PosInf | NegInf) => Ok(AnyNumeric::nan()),
            (PosInf | NegInf, Finite { neg, digits, .. }) => {
                if digits.is_empty() {
                    return Err(by_zero());
                }
                Ok(if matches!(self.0, PosInf) != *neg { AnyNumeric::infinity() } else { AnyNumeric::neg_infinity() })
            }
            (Finite { .. }, PosInf | NegInf) => Ok(AnyNumeric::zero()),
            (Finite { neg: n1, digits: d1, scale: s1 }, Finite { neg: n2, digits: d2, scale: s2 }) => {
                if d2.is_empty() {
                    return Err(by_zero());
                }
                let (w1, f1) = self.base10000_lead();
                let (w2, f2) = o.base10000_lead();
                let mut qweight = w1 - w2;
                if f1 <= f2 {
                    qweight -= 1;
                }
                let rscale = (MIN_SIG_DIGITS - qweight * 4)
                    .max(i64::from(*s1))
                    .max(i64::from(*s2))
                    .clamp(0, MAX_DISPLAY_SCALE);
                let k = rscale + i64::from(*s2) - i64::from(*s1);
                let (n, d) = if k >= 0 { (shift(d1, k as u32), d2.clone()) } else { (d1.clone(), shift(d2, (-k) as u32)) };
                let (q, r) = divmod_mag(&n, &d);
                let q = if cmp_mag(&add_mag(&r, &r), &d) != Ordering::Less { add_mag(&q, &[1]) } else { q };
                Ok(AnyNumeric::finite(n1 != n2, q, rscale as u32))
            }
        }
    }

    /// `self / o`, or the division-by-zero error instead of a panic.
    pub fn checked_div(&self, o: &AnyNumeric) -> Result<AnyNumeric, Error> {
        self.checked_div_impl(o)
    }

    /// `self % o` (the sign of self), or the division-by-zero error.
    pub fn checked_rem(&self, o: &AnyNumeric) -> Result<AnyNumeric, Error> {
        use Repr::*;
        match (&self.0, &o.0) {
            (NaN, _) | (_, NaN) => Ok(AnyNumeric::nan()),
            (PosInf | NegInf, _) if o.sign() == Sign::Zero => Err(Error::Invalid(DIVISION_BY_ZERO.into())),
            (PosInf | NegInf, _) => Ok(AnyNumeric::nan()),
            (Finite { .. }, PosInf | NegInf) => Ok(self.clone()),
            (Finite { neg, digits: d1, scale: s1 }, Finite { digits: d2, scale: s2, .. }) => {
                if d2.is_empty() {
                    return Err(Error::Invalid(DIVISION_BY_ZERO.into()));
                }
                let s = (*s1).max(*s2);
                let (_, r) = divmod_mag(&shift(d1, s - s1), &shift(d2, s - s2));
                Ok(AnyNumeric::finite(*neg, r, s))
            }
        }
    }

    fn add_impl(&self, o: &AnyNumeric, negate_o: bool) -> AnyNumeric {
        use Repr::*;
        // o as it is added (negated for a subtraction), without copying its digits
        let o_pos_inf = matches!((&o.0, negate_o), (PosInf, false) | (NegInf, true));
        let o_neg_inf = matches!((&o.0, negate_o), (NegInf, false) | (PosInf, true));
        match (&self.0, &o.0) {
            (NaN, _) | (_, NaN) => AnyNumeric::nan(),
            (PosInf, _) if o_neg_inf => AnyNumeric::nan(),
            (NegInf, _) if o_pos_inf => AnyNumeric::nan(),
            (PosInf, _) => AnyNumeric::infinity(),
            (NegInf, _) => AnyNumeric::neg_infinity(),
            _ if o_pos_inf => AnyNumeric::infinity(),
            _ if o_neg_inf => AnyNumeric::neg_infinity(),
            (Finite { neg: n1, digits: d1, scale: s1 }, Finite { neg, digits: d2, scale: s2 }) => {
                let n2 = if negate_o { !neg && !d2.is_empty() } else { *neg };
                let s = (*s1).max(*s2);
                let a = Shifted { digits: d1, by: (s - s1) as usize };
                let b = Shifted { digits: d2, by: (s - s2) as usize };
                if *n1 == n2 {
                    AnyNumeric::finite(*n1, a.plus(&b), s)
                } else {
                    match a.cmp_mag(&b) {
                        Ordering::Less => AnyNumeric::finite(n2, b.minus(&a), s),
                        _ => AnyNumeric::finite(*n1, a.minus(&b), s),
                    }
                }
            }
            _ => unreachable!("every non-finite case is matched above"),
        }
    }

    fn mul_impl(&self, o: &AnyNumeric) -> AnyNumeric {
        use Repr::*;
        let sign = |s: &AnyNumeric| s.sign();
        match (&self.0, &o.0) {
            (NaN, _) | (_, NaN) => AnyNumeric::nan(),
            (PosInf | NegInf, _) | (_, PosInf | NegInf) => match (sign(self), sign(o)) {
                (Sign::Zero, _) | (_, Sign::Zero) => AnyNumeric::nan(),
                (a, b) if (a == Sign::Negative) != (b == Sign::Negative) => AnyNumeric::neg_infinity(),
                _ => AnyNumeric::infinity(),
            },
            (Finite { neg: n1, digits: d1, scale: s1 }, Finite { neg: n2, digits: d2, scale: s2 }) => {
                AnyNumeric::finite(n1 != n2, mul_mag(d1, d2), s1 + s2)
            }
        }
    }

    /// PostgreSQL's `numeric_in` syntax: optional sign, digits with an
    /// optional point and exponent, or NaN / Infinity / inf.
    fn parse(text: &str) -> Result<AnyNumeric, Error> {
        let invalid = || Error::Invalid(format!("invalid input syntax for type numeric: \"{text}\""));
        let s = text.trim();
        // every argument is parsed: the special values are matched without a lower-cased copy
        let is = |word: &str| s.eq_ignore_ascii_case(word);
        if is("nan") {
            return Ok(AnyNumeric::nan());
        }
        if is("infinity") || is("+infinity") || is("inf") || is("+inf") {
            return Ok(AnyNumeric::infinity());
        }
        if is("-infinity") || is("-inf") {
            return Ok(AnyNumeric::neg_infinity());
        }
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (mantissa, exp) = match body.find(['e', 'E']) {
            Some(i) => {
                let e: i64 = body[i + 1..].parse().map_err(|_| invalid())?;
                if !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&e) {
                    return Err(invalid());
                }
                (&body[..i], e)
            }
            None => (body, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).rev().map(|b| b - b'0').collect();
        let frac_len = frac.len() as i64 - exp;
        let scale = if frac_len >= 0 {
            frac_len as u32
        } else {
            digits = shift(&digits, (-frac_len) as u32);
            0
        };
        let n = AnyNumeric::finite(neg, digits, scale);
        if let Repr::Finite { digits, scale, .. } = &n.0 {
            if *scale > MAX_DSCALE || digits.len().saturating_sub(*scale as usize) > MAX_WEIGHT_DIGITS {
                return Err(Error::OutOfRange("value overflows numeric format".into()));
            }
        }
        Ok(n)
    }

    /// As `float8_numeric` / `float4_numeric`: `significant` digits (15 or 6).
    fn from_float(f: f64, significant: usize) -> AnyNumeric {
        if f.is_nan() {
            return AnyNumeric::nan();
        }
        if f.is_infinite() {
            return if f > 0.0 { AnyNumeric::infinity() } else { AnyNumeric::neg_infinity() };
        }
        let text = format!("{:.*e}", significant - 1, f);
        let (m, e) = text.split_once('e').unwrap_or((&text, "0"));
        let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
        AnyNumeric::parse(&format!("{m}e{e}")).unwrap_or_else(|_| AnyNumeric::nan())
    }

    /// Rounded to an integer half away from zero, as numeric_int8 does.
    fn to_i128(&self, target: &str) -> Result<i128, Error> {
        match &self.0 {
            Repr::NaN => Err(Error::ConversionNotSupported(format!("cannot convert NaN to {target}"))),
            Repr::PosInf | Repr::NegInf => {
                Err(Error::ConversionNotSupported(format!("cannot convert infinity to {target}")))
            }
            Repr::Finite { .. } => {
                let Repr::Finite { neg, digits, .. } = self.round(0).0 else { unreachable!() };
                if digits.len() > 38 {
                    return Err(Error::OutOfRange(format!("{target} out of range")));
                }
                let mag = digits.iter().rev().fold(0i128, |acc, d| acc * 10 + i128::from(*d));
                Ok(if neg { -mag } else { mag })
            }
        }
    }
}

impl Default for AnyNumeric {
    fn default() -> AnyNumeric {
        AnyNumeric::zero()
    }
}

impl AnyNumeric {
    /// The text `numeric_out` prints: all `scale()` digits after the point.
    pub(crate) fn text(&self) -> String {
        match &self.0 {
            Repr::NaN => "NaN".into(),
            Repr::PosInf => "Infinity".into(),
            Repr::NegInf => "-Infinity".into(),
            Repr::Finite { neg, digits, scale } => {
                let scale = *scale as usize;
                let width = digits.len().max(scale + 1);
                let mut s = String::with_capacity(width + 2);
                if *neg {
                    s.push('-');
                }
                for i in (0..width).rev() {
                    s.push((b'0' + digits.get(i).copied().unwrap_or(0)) as char);
                    if i == scale && scale > 0 {
                        s.push('.');
                    }
                }
                s
            }
        }
    }
}

impl fmt::Display for AnyNumeric {
    /// As `numeric_out`: all `scale()` digits after the point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.text())
    }
}

impl core::str::FromStr for AnyNumeric {
    type Err = Error;
    fn from_str(s: &str) -> Result<AnyNumeric, Error> {
        AnyNumeric::parse(s)
    }
}

impl TryFrom<&str> for AnyNumeric {
    type Error = Error;
    fn try_from(s: &str) -> Result<AnyNumeric, Error> {
        AnyNumeric::parse(s)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for AnyNumeric {
            fn from(n: $t) -> AnyNumeric {
                let neg = n < <$t>::default();
                AnyNumeric::finite(neg, from_u128((n as i128).unsigned_abs()), 0)
            }
        }
        impl TryFrom<AnyNumeric> for $t {
            type Error = Error;
            fn try_from(n: AnyNumeric) -> Result<$t, Error> {
                TryFrom::try_from(&n)
            }
        }
        impl TryFrom<&AnyNumeric> for $t {
            type Error = Error;
            fn try_from(n: &AnyNumeric) -> Result<$t, Error> {
                let name = stringify!($t);
                let v = n.to_i128(name)?;
                <$t>::try_from(v).map_err(|_| Error::OutOfRange(format!("{name} out of range")))
            }
        }
    )*};
}

from_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl From<i128> for AnyNumeric {
    fn from(n: i128) -> AnyNumeric {
        AnyNumeric::finite(n < 0, from_u128(n.unsigned_abs()), 0)
    }
}

impl From<u128> for AnyNumeric {
    fn from(n: u128) -> AnyNumeric {
        AnyNumeric::finite(false, from_u128(n), 0)
    }
}

impl TryFrom<f64> for AnyNumeric {
    type Error = Error;
    /// As PostgreSQL's `float8::numeric`: 15 significant digits.
    fn try_from(f: f64) -> Result<AnyNumeric, Error> {
        Ok(AnyNumeric::from_float(f, 15))
    }
}

impl TryFrom<f32> for AnyNumeric {
    type Error = Error;
    /// As PostgreSQL's `float4::numeric`: 6 significant digits.
    fn try_from(f: f32) -> Result<AnyNumeric, Error> {
        Ok(AnyNumeric::from_float(f64::from(f), 6))
    }
}

impl TryFrom<&AnyNumeric> for f64 {
    type Error = Error;
    fn try_from(n: &AnyNumeric) -> Result<f64, Error> {
        match &n.0 {
            Repr::NaN => Ok(f64::NAN),
            Repr::PosInf => Ok(f64::INFINITY),
            Repr::NegInf => Ok(f64::NEG_INFINITY),
            Repr::Finite { .. } => {
                let v: f64 = n.to_string().parse().map_err(|_| Error::Invalid("invalid numeric".into()))?;
                if v.is_infinite() { Err(Error::OutOfRange("value out of range: overflow".into())) } else { Ok(v) }
            }
        }
    }
}

impl TryFrom<AnyNumeric> for f64 {
    type Error = Error;
    fn try_from(n: AnyNumeric) -> Result<f64, Error> {
        f64::try_from(&n)
    }
}

impl TryFrom<&AnyNumeric> for f32 {
    type Error = Error;
    fn try_from(n: &AnyNumeric) -> Result<f32, Error> {
        let v = f64::try_from(n)?;
        let r = v as f32;
        if r.is_infinite() && v.is_finite() { Err(Error::OutOfRange("value out of range: overflow".into())) } else { Ok(r) }
    }
}

impl TryFrom<AnyNumeric> for f32 {
    type Error = Error;
    fn try_from(n: AnyNumeric) -> Result<f32, Error> {
        f32::try_from(&n)
    }
}

impl PartialEq for AnyNumeric {
    /// As PostgreSQL: NaN equals NaN, and scale does not matter (1.0 = 1.00).
    fn eq(&self, o: &AnyNumeric) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for AnyNumeric {}

impl PartialOrd for AnyNumeric {
    fn partial_cmp(&self, o: &AnyNumeric) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for AnyNumeric {
    /// PostgreSQL's total order: -Infinity < finite < Infinity < NaN.
    fn cmp(&self, o: &AnyNumeric) -> Ordering {
        use Repr::*;
        let rank = |r: &Repr| match r {
            NegInf => 0,
            Finite { .. } => 1,
            PosInf => 2,
            NaN => 3,
        };
        match (&self.0, &o.0) {
            (Finite { neg: n1, digits: d1, scale: s1 }, Finite { neg: n2, digits: d2, scale: s2 }) => {
                let s = (*s1).max(*s2);
                let (a, b) = (shift(d1, s - s1), shift(d2, s - s2));
                match (n1, n2) {
                    (false, true) => Ordering::Greater,
                    (true, false) => Ordering::Less,
                    (false, false) => cmp_mag(&a, &b),
                    (true, true) => cmp_mag(&b, &a),
                }
            }
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

impl core::hash::Hash for AnyNumeric {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        match &self.normalize().0 {
            Repr::Finite { neg, digits, scale } => (0u8, neg, digits, scale).hash(state),
            Repr::NaN => 1u8.hash(state),
            Repr::PosInf => 2u8.hash(state),
            Repr::NegInf => 3u8.hash(state),
        }
    }
}

impl Neg for AnyNumeric {
    type Output = AnyNumeric;
    fn neg(self) -> AnyNumeric {
        match self.0 {
            Repr::NaN => AnyNumeric::nan(),
            Repr::PosInf => AnyNumeric::neg_infinity(),
            Repr::NegInf => AnyNumeric::infinity(),
            Repr::Finite { neg, digits, scale } => AnyNumeric::finite(!neg, digits, scale),
        }
    }
}

macro_rules! binop {
    ($trait:ident, $method:ident, $assign:ident, $assign_method:ident, |$a:ident, $b:ident| $body:expr) => {
        impl<T: Into<AnyNumeric>> $trait<T> for AnyNumeric {
            type Output = AnyNumeric;
            fn $method(self, rhs: T) -> AnyNumeric {
                let ($a, $b) = (&self, &rhs.into());
                $body
            }
        }
        impl<T: Into<AnyNumeric>> $trait<T> for &AnyNumeric {
            type Output = AnyNumeric;
            fn $method(self, rhs: T) -> AnyNumeric {
                let ($a, $b) = (self, &rhs.into());
                $body
            }
        }
        impl<T: Into<AnyNumeric>> $assign<T> for AnyNumeric {
            fn $assign_method(&mut self, rhs: T) {
                let ($a, $b) = (&*self, &rhs.into());
                *self = $body;
            }
        }
    };
}

impl From<&AnyNumeric> for AnyNumeric {
    fn from(n: &AnyNumeric) -> AnyNumeric {
        n.clone()
    }
}

binop!(Add, add, AddAssign, add_assign, |a, b| a.add_impl(b, false));
binop!(Sub, sub, SubAssign, sub_assign, |a, b| a.add_impl(b, true));
binop!(Mul, mul, MulAssign, mul_assign, |a, b| a.mul_impl(b));
binop!(Div, div, DivAssign, div_assign, |a, b| a.checked_div_impl(b).unwrap_or_else(|e| panic!("{e}")));

impl<T: Into<AnyNumeric>> Rem<T> for AnyNumeric {
    type Output = AnyNumeric;
    fn rem(self, rhs: T) -> AnyNumeric {
        self.checked_rem(&rhs.into()).unwrap_or_else(|e| panic!("{e}"))
    }
}


/// `numeric(P, S)`: PostgreSQL's typmod rule applied when one is made —
/// rounded half away from zero to `S` digits after the point, refused
/// ("numeric field overflow") when more than `P - S` digits remain before
/// it or when it is infinite; NaN passes. `P` must be 1..=1000 and `S` at
/// most `P` (pgrx's SQL-standard subset of what PostgreSQL accepts): any
/// other pair fails to compile where a value is made. Arithmetic yields
/// `AnyNumeric`, as in pgrx.
#[derive(Clone, Debug)]
pub struct Numeric<const P: u32, const S: u32>(AnyNumeric);

impl<const P: u32, const S: u32> Numeric<P, S> {
    /// Evaluated by every constructor, so a nonsensical pair is a build error, not a runtime one.
    const VALID: () = assert!(P >= 1 && P <= 1000 && S <= P, "Numeric<P, S> needs 1 <= P <= 1000 and S <= P");

    fn constrain(n: &AnyNumeric) -> Result<Numeric<P, S>, Error> {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID;
        let overflow = |why: String| Error::OutOfRange(format!("numeric field overflow: A field with precision {P}, scale {S} {why}."));
        match &n.0 {
            Repr::NaN => Ok(Numeric(n.clone())),
            Repr::PosInf | Repr::NegInf => Err(overflow("cannot hold an infinite value".into())),
            Repr::Finite { .. } => {
                let r = n.round(S as i32);
                let Repr::Finite { digits, scale, .. } = &r.0 else { unreachable!("rounding keeps a value finite") };
                let room = P - S;
                if digits.len().saturating_sub(*scale as usize) > room as usize {
                    let bound = if room > 0 { format!("10^{room}") } else { "1".into() };
                    return Err(overflow(format!("must round to an absolute value less than {bound}")));
                }
                Ok(Numeric(r))
            }
        }
    }

    pub fn as_anynumeric(&self) -> &AnyNumeric {
        &self.0
    }

    /// The same value under another precision and scale (PostgreSQL's rule again).
    pub fn rescale<const NEW_P: u32, const NEW_S: u32>(self) -> Result<Numeric<NEW_P, NEW_S>, Error> {
        Numeric::constrain(&self.0)
    }
}

impl<const P: u32, const S: u32> TryFrom<AnyNumeric> for Numeric<P, S> {
    type Error = Error;
    fn try_from(n: AnyNumeric) -> Result<Numeric<P, S>, Error> {
        Numeric::constrain(&n)
    }
}

impl<const P: u32, const S: u32> TryFrom<&AnyNumeric> for Numeric<P, S> {
    type Error = Error;
    fn try_from(n: &AnyNumeric) -> Result<Numeric<P, S>, Error> {
        Numeric::constrain(n)
    }
}

macro_rules! numeric_from {
    ($($t:ty),*) => {$(
        impl<const P: u32, const S: u32> TryFrom<$t> for Numeric<P, S> {
            type Error = Error;
            fn try_from(n: $t) -> Result<Numeric<P, S>, Error> {
                Numeric::constrain(&AnyNumeric::from(n))
            }
        }
    )*};
}

numeric_from!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl<const P: u32, const S: u32> TryFrom<f64> for Numeric<P, S> {
    type Error = Error;
    fn try_from(f: f64) -> Result<Numeric<P, S>, Error> {
        Numeric::constrain(&AnyNumeric::try_from(f)?)
    }
}

impl<const P: u32, const S: u32> TryFrom<f32> for Numeric<P, S> {
    type Error = Error;
    fn try_from(f: f32) -> Result<Numeric<P, S>, Error> {
        Numeric::constrain(&AnyNumeric::try_from(f)?)
    }
}

impl<const P: u32, const S: u32> TryFrom<&str> for Numeric<P, S> {
    type Error = Error;
    fn try_from(s: &str) -> Result<Numeric<P, S>, Error> {
        Numeric::constrain(&AnyNumeric::parse(s)?)
    }
}

impl<const P: u32, const S: u32> core::str::FromStr for Numeric<P, S> {
    type Err = Error;
    fn from_str(s: &str) -> Result<Numeric<P, S>, Error> {
        Numeric::try_from(s)
    }
}

impl<const P: u32, const S: u32> TryFrom<Numeric<P, S>> for f64 {
    type Error = Error;
    fn try_from(n: Numeric<P, S>) -> Result<f64, Error> {
        f64::try_from(&n.0)
    }
}

impl<const P: u32, const S: u32> From<Numeric<P, S>> for AnyNumeric {
    fn from(n: Numeric<P, S>) -> AnyNumeric {
        n.0
    }
}

impl<const P: u32, const S: u32> From<&Numeric<P, S>> for AnyNumeric {
    fn from(n: &Numeric<P, S>) -> AnyNumeric {
        n.0.clone()
    }
}

impl<const P: u32, const S: u32> fmt::Display for Numeric<P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Numerics compare by value whatever their precision and scale, as in SQL.
impl<const P: u32, const S: u32, T: Into<AnyNumeric> + Clone> PartialEq<T> for Numeric<P, S> {
    fn eq(&self, o: &T) -> bool {
        self.0 == o.clone().into()
    }
}

impl<const P: u32, const S: u32> Eq for Numeric<P, S> {}

impl<const P: u32, const S: u32, T: Into<AnyNumeric> + Clone> PartialOrd<T> for Numeric<P, S> {
    fn partial_cmp(&self, o: &T) -> Option<Ordering> {
        Some(self.0.cmp(&o.clone().into()))
    }
}

impl<const P: u32, const S: u32> Ord for Numeric<P, S> {
    fn cmp(&self, o: &Numeric<P, S>) -> Ordering {
        self.0.cmp(&o.0)
    }
}

impl<const P: u32, const S: u32> PartialEq<Numeric<P, S>> for AnyNumeric {
    fn eq(&self, o: &Numeric<P, S>) -> bool {
        *self == o.0
    }
}

impl<const P: u32, const S: u32> PartialOrd<Numeric<P, S>> for AnyNumeric {
    fn partial_cmp(&self, o: &Numeric<P, S>) -> Option<Ordering> {
        Some(self.cmp(&o.0))
    }
}

impl<const P: u32, const S: u32> core::hash::Hash for Numeric<P, S> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl<const P: u32, const S: u32> Neg for Numeric<P, S> {
    type Output = Numeric<P, S>;
    /// The bounds are symmetric, so a negated value still fits.
    fn neg(self) -> Numeric<P, S> {
        Numeric(-self.0)
    }
}

macro_rules! numeric_op {
    ($trait:ident, $method:ident) => {
        impl<const P: u32, const S: u32, T: Into<AnyNumeric>> $trait<T> for Numeric<P, S> {
            type Output = AnyNumeric;
            fn $method(self, rhs: T) -> AnyNumeric {
                self.0.$method(rhs)
            }
        }
        impl<const P: u32, const S: u32, T: Into<AnyNumeric>> $trait<T> for &Numeric<P, S> {
            type Output = AnyNumeric;
            fn $method(self, rhs: T) -> AnyNumeric {
                (&self.0).$method(rhs)
            }
        }
    };
}

numeric_op!(Add, add);
numeric_op!(Sub, sub);
numeric_op!(Mul, mul);
numeric_op!(Div, div);

impl<const P: u32, const S: u32, T: Into<AnyNumeric>> Rem<T> for Numeric<P, S> {
    type Output = AnyNumeric;
    fn rem(self, rhs: T) -> AnyNumeric {
        self.0.rem(rhs)
    }
}

/// A `.rs` function's numeric parameter: `AnyNumeric` as it arrives, or a
/// `Numeric<P, S>` with its typmod applied at the call (PostgreSQL keeps no
/// typmod on a function's argument), a value that does not fit being the
/// ERROR a cast to numeric(P, S) gives.
#[doc(hidden)]
pub trait NumericArg: Sized {
    fn from_numeric_arg(n: AnyNumeric) -> Self;
}

impl NumericArg for AnyNumeric {
    fn from_numeric_arg(n: AnyNumeric) -> AnyNumeric {
        n
    }
}

impl<const P: u32, const S: u32> NumericArg for Numeric<P, S> {
    fn from_numeric_arg(n: AnyNumeric) -> Numeric<P, S> {
        Numeric::constrain(&n).unwrap_or_else(|e| e.raise())
    }
}

#[doc(hidden)]
pub fn numeric_arg<T: NumericArg>(n: AnyNumeric) -> T {
    T::from_numeric_arg(n)
}
