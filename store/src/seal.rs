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
    let mut line = |field: &str| {
        hasher.update(b"\n");
        hasher.update(field.as_bytes());
    };
    line(itoa::Buffer::new().format(event.position));
    line(event.aggregate_type);
    line(event.aggregate_id);
    line(itoa::Buffer::new().format(event.sequence));
    line(event.event_type);
    line(event.event_version);
    for field in [event.payload, event.metadata] {
        hasher.update(b"\n");
        hasher.update(itoa::Buffer::new().format(field.len()).as_bytes());
        hasher.update(b":");
        hasher.update(field.as_bytes());
    }
    // Into a buffer at once: `hex::encode` collects the digits one char at a time, and
    // `verify` hashes every event of the log.
    let mut hex = [0_u8; 64];
    hex::encode_to_slice(hasher.finalize(), &mut hex).expect("64 hex digits for 32 bytes");
    String::from_utf8(hex.to_vec()).expect("hex digits are ASCII")
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

    /// The hash is stored forever: the sealed text of these fields must never change.
    #[test]
    fn the_sealed_text_is_the_documented_one() {
        let event = fields(r#"{"a":1}"#);
        let text = format!(
            "{GENESIS_HASH}\n1\nIncident\nINC1\n1\nIncidentOpened\n1\n7:{{\"a\":1}}\n2:{{}}"
        );
        assert_eq!(
            chain_hash(GENESIS_HASH, event),
            hex::encode(Sha256::digest(text.as_bytes()))
        );
    }
}
