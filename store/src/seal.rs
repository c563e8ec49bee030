//! The tamper-evident seal: every event's hash covers the hash of the event before it
//! (by global position) and the event's exact stored bytes, so altering, removing or
//! reordering any stored event breaks the chain from that event on.
//!
//! `hash(n) = SHA-256(hash(n-1) "\n" position "\n" aggregate_type "\n" aggregate_id "\n"
//! sequence "\n" event_type "\n" event_version "\n" len(payload) ":" payload "\n"
//! len(metadata) ":" metadata)`, lower-case hex; `hash(0)` is 64 zeros. Lengths are in
//! bytes, so no field can bleed into the next.

use sha2::{Digest, Sha256};

/// The hash before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an event the seal covers, as stored.
#[derive(Clone, Copy, Debug)]
pub struct SealedFields<'a> {
    pub position: i64,
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a str,
    pub metadata: &'a str,
}

pub fn chain_hash(previous_hash: &str, event: SealedFields<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous_hash.as_bytes());
    for field in [
        event.position.to_string().as_str(),
        event.aggregate_type,
        event.aggregate_id,
        event.sequence.to_string().as_str(),
        event.event_type,
        event.event_version,
    ] {
        hasher.update(b"\n");
        hasher.update(field.as_bytes());
    }
    for field in [event.payload, event.metadata] {
        hasher.update(format!("\n{}:", field.len()).as_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(payload: &str) -> SealedFields<'_> {
        SealedFields {
            position: 1,
            aggregate_type: "Incident",
            aggregate_id: "INC1",
            sequence: 1,
            event_type: "IncidentOpened",
            event_version: "1",
            payload,
            metadata: "{}",
        }
    }

    #[test]
    fn any_byte_changes_the_hash() {
        let original = chain_hash(GENESIS_HASH, fields(r#"{"a":1}"#));
        assert_eq!(original.len(), 64);
        assert_ne!(original, chain_hash(GENESIS_HASH, fields(r#"{"a":2}"#)));
        assert_ne!(original, chain_hash(&"1".repeat(64), fields(r#"{"a":1}"#)));
        assert_eq!(original, chain_hash(GENESIS_HASH, fields(r#"{"a":1}"#)));
    }

    #[test]
    fn length_prefixes_keep_fields_apart() {
        let a = SealedFields {
            payload: "x\n1:y",
            metadata: "",
            ..fields("")
        };
        let b = SealedFields {
            payload: "x",
            metadata: "y",
            ..fields("")
        };
        assert_ne!(chain_hash(GENESIS_HASH, a), chain_hash(GENESIS_HASH, b));
    }
}
