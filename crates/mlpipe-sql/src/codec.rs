//! Compact, exact encodings of numeric vectors and times for SQL columns.

use chrono::{DateTime, Utc};
use mlpipe_core::{Error, Result};

/// `f64`s as little-endian bytes (bit-exact).
pub fn f64s_to_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`f64s_to_bytes`].
pub fn bytes_to_f64s(b: &[u8]) -> Result<Vec<f64>> {
    if b.len() % 8 != 0 {
        return Err(Error::serde(
            "feature vector",
            "length is not a multiple of 8",
        ));
    }
    Ok(b.chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            f64::from_le_bytes(a)
        })
        .collect())
}

/// `u32`s as little-endian bytes.
pub fn u32s_to_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`u32s_to_bytes`].
pub fn bytes_to_u32s(b: &[u8]) -> Result<Vec<u32>> {
    if b.len() % 4 != 0 {
        return Err(Error::serde("index list", "length is not a multiple of 4"));
    }
    Ok(b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// A time as microseconds since the epoch.
pub fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`micros`].
pub fn from_micros(m: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(m)
        .ok_or_else(|| Error::serde("timestamp", format!("{m} µs is out of range")))
}

/// A JSON value as text.
pub fn json_text(v: &impl serde::Serialize, what: &str) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::serde(what, e))
}

/// Text as a JSON-decoded value.
pub fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::serde(what, e))
}
