//! Parsing one field of a CSV record as a scalar: text (trimmed UTF-8), integers,
//! numbers, booleans and timestamps. Inference (which type a column gets) and the column
//! builders (which parse every value into that type) read fields through these alone, so
//! a value is a number for one exactly when it is for the other.

pub(crate) fn field_str(f: &[u8]) -> Option<&str> {
    std::str::from_utf8(f).ok().map(str::trim)
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "1" => Some(true),
        "false" | "f" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Parses `2024-01-31`, `2024-01-31 12:00:00`, `2024-01-31T12:00:00[.fff][Z|±hh:mm]` as
/// microseconds since the epoch (UTC when no offset is given).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

/// An optionally signed decimal integer, refusing overflow.
pub(crate) fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        n = n.checked_mul(10)?;
        n = if neg {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

/// Whether text is a number as the CSV parser reads it (the common plain decimal form
/// first, cheaply); integers are tested with the parser's own `parse_i64` alike.
pub(crate) fn is_number(v: &str) -> bool {
    super::number::parse_prefix(v.as_bytes()).is_some_and(|(_, n)| n == v.len())
        || fast_float2::parse::<f64, _>(v).is_ok()
}
