//! The export file: JSON Lines, versioned (`replay-tools/docs/export-format.md`). A header
//! line, one line per event exactly as stored, and an end line. Nothing in it depends on
//! when or where it was written, so exporting an imported log gives the same bytes.

use serde::{Deserialize, Serialize};

/// The `format` field of the header.
pub const FORMAT: &str = "sablier-event-log";

/// The version this build writes and reads. A reader refuses a version it does not know.
pub const VERSION: u32 = 1;

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// Every event of the log up to its head: only such a file can be imported.
    pub complete: bool,
    pub selection: Selection,
}

/// What a filtered export kept (every field `null` in a complete one).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub contract: Option<String>,
    pub request: Option<String>,
    /// RFC 3339 UTC, inclusive, on the event's own instant (`at`).
    pub from: Option<String>,
    /// RFC 3339 UTC, inclusive.
    pub to: Option<String>,
}

impl Selection {
    pub fn is_everything(&self) -> bool {
        *self == Selection::default()
    }
}

/// One event line: the stored row, payload and metadata as their exact stored text.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventLine<'a> {
    pub position: i64,
    #[serde(borrow)]
    pub aggregate_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub aggregate_id: std::borrow::Cow<'a, str>,
    pub sequence: i64,
    #[serde(borrow)]
    pub event_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub event_version: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub payload: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub metadata: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub hash: std::borrow::Cow<'a, str>,
}

impl<'a> EventLine<'a> {
    pub fn of(event: &'a sablier_store::StoredEvent) -> Self {
        Self {
            position: event.position,
            aggregate_type: event.aggregate_type.as_str().into(),
            aggregate_id: event.aggregate_id.as_str().into(),
            sequence: event.sequence,
            event_type: event.event_type.as_str().into(),
            event_version: event.event_version.as_str().into(),
            payload: event.payload.as_str().into(),
            metadata: event.metadata.as_str().into(),
            hash: event.hash.as_str().into(),
        }
    }

    pub fn into_stored(self) -> sablier_store::StoredEvent {
        sablier_store::StoredEvent {
            position: self.position,
            aggregate_type: self.aggregate_type.into_owned(),
            aggregate_id: self.aggregate_id.into_owned(),
            sequence: self.sequence,
            event_type: self.event_type.into_owned(),
            event_version: self.event_version.into_owned(),
            payload: self.payload.into_owned(),
            metadata: self.metadata.into_owned(),
            hash: self.hash.into_owned(),
        }
    }
}

/// The last line: `{"end": {...}}`. Its absence means the file was cut short.
#[derive(Debug, Serialize, Deserialize)]
pub struct EndLine {
    pub end: End,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// Event lines in the file.
    pub events: u64,
    /// The last event's position and hash (0 and the genesis hash when there is none).
    pub last_position: i64,
    pub last_hash: String,
}

/// How the end line starts, which no event line does.
pub const END_PREFIX: &str = "{\"end\":";
