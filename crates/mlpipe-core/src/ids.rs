//! Typed identifiers. Each id is its own type so a `BatchId` can never be passed where a
//! `ModelId` is expected.
//!
//! Generated ids are UUIDv7 strings: unique across processes and machines, and ordered by
//! creation time, so listing them sorted lists them oldest first.

use serde::{Deserialize, Serialize};
use std::fmt;

fn derived_uuid(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes).to_string()
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new, globally unique, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            /// An id derived from `text`: the same text gives the same id in every process
            /// (the first 16 bytes of its SHA-256, UUID-shaped), for work that must come
            /// out as one when it is named twice (a redelivered event, a schedule tick run
            /// by several workers).
            pub fn derived(text: &str) -> Self {
                Self(derived_uuid(text))
            }
            /// Wraps an existing id string (read back from a store or an event).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_string())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

string_id!(
    /// Identifies one persisted raw dataset (an immutable batch in the raw store).
    BatchId
);
string_id!(
    /// Identifies a fitted feature pipeline: a content hash of its definition and fitted
    /// state, so the same features always get the same id.
    FeatureSetId
);
string_id!(
    /// Names a model (a line of versions), e.g. `breast-cancer/logistic`.
    ModelId
);
string_id!(
    /// Identifies one run of a stage (a training run, an evaluation run, a batch-scoring run).
    RunId
);
string_id!(
    /// Identifies one online scoring request.
    RequestId
);
string_id!(
    /// Identifies one recorded train/evaluation split.
    SplitId
);
string_id!(
    /// Identifies one event on the broker; redeliveries keep the same id.
    EventId
);

/// A version of a model: versions of one [`ModelId`] count up from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelVersion(pub u32);

impl fmt::Display for ModelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A model id together with one of its versions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModelRef {
    /// The model line.
    pub model: ModelId,
    /// The version within it.
    pub version: ModelVersion,
}

impl ModelRef {
    /// Builds a reference from its two parts.
    pub fn new(model: impl Into<ModelId>, version: u32) -> Self {
        Self {
            model: model.into(),
            version: ModelVersion(version),
        }
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.model, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_time_ordered() {
        let a = BatchId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = BatchId::generate();
        assert_ne!(a, b);
        assert!(a < b, "{a} should sort before {b}");
    }

    #[test]
    fn derived_ids_are_the_uuid_shaped_sha256_prefix_of_their_text() {
        use sha2::{Digest, Sha256};
        let h = hex::encode(&Sha256::digest(b"event|source")[..16]);
        let want = format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        );
        assert_eq!(BatchId::derived("event|source").as_str(), want);
        assert_eq!(EventId::derived("x"), EventId::derived("x"));
        assert_ne!(EventId::derived("x"), EventId::derived("y"));
    }

    #[test]
    fn ids_serialise_as_plain_strings() {
        let id = ModelId::new("m");
        assert_eq!(serde_json::to_string(&id).ok().as_deref(), Some("\"m\""));
        let r = ModelRef::new("m", 3);
        assert_eq!(r.to_string(), "m@v3");
    }
}
