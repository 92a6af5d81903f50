//! The checksum every source records for what it read: XXH3-128 of the bytes, as 32 hex
//! digits (`xxhsum -H2` prints the same value for a file).
//!
//! It identifies content for idempotent redelivery (source identity + checksum) and
//! detects changed or corrupted inputs; it is not a defence against someone crafting a
//! collision on purpose. XXH3 hashes at memory speed, where SHA-256 cost a sizeable share
//! of CSV ingestion time (see `docs/benchmarks.md`).

use mlpipe_core::store::BatchSummary;
use twox_hash::XxHash3_128;

/// A running checksum and byte count. A custom [`Source`](crate::Source) can use it for
/// its [`summary`](crate::Source::summary), so that every source checksums alike.
///
/// ```
/// let mut c = mlpipe_ingest::Checksum::default();
/// c.update(b"hello ");
/// c.update(b"world");
/// assert_eq!(c.summary().checksum, "df8d09e93f874900a99b8775cc15b6c7");
/// assert_eq!(c.summary().source_bytes, 11);
/// ```
#[derive(Clone)]
pub struct Checksum {
    hasher: XxHash3_128,
    bytes: u64,
}

impl Default for Checksum {
    fn default() -> Self {
        Self {
            hasher: XxHash3_128::new(),
            bytes: 0,
        }
    }
}

impl Checksum {
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.write(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// Checksum (hex) and byte count of everything added so far.
    pub fn summary(&self) -> BatchSummary {
        BatchSummary {
            warnings: Vec::new(),
            checksum: format!("{:032x}", self.hasher.finish_128()),
            source_bytes: self.bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Checksum;

    #[test]
    fn is_xxh3_128_of_all_bytes_however_they_arrive() {
        let mut whole = Checksum::default();
        whole.update(b"hello world");
        let mut parts = Checksum::default();
        parts.update(b"hello");
        parts.update(b" world");
        assert_eq!(whole.summary(), parts.summary());
        assert_eq!(whole.summary().source_bytes, 11);
        // Reference: python-xxhash 4.1.0 (libxxhash 0.8.4), `xxh3_128_hexdigest(b"hello world")`.
        assert_eq!(whole.summary().checksum, "df8d09e93f874900a99b8775cc15b6c7");
        assert_eq!(Checksum::default().summary().checksum.len(), 32);
    }
}
