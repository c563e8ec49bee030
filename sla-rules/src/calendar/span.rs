//! A calendar's own explanation of a span of time: which parts are open, and why the
//! others are closed. Clocks build their explanations from the same pieces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::walk::PieceStatus;

/// A maximal run of time with one status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpan {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub status: CalendarStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarStatus {
    Open,
    OutsideHours,
    Holiday { name: String },
}

impl CalendarStatus {
    pub(crate) fn matches(&self, piece: PieceStatus<'_>) -> bool {
        match (self, piece) {
            (CalendarStatus::Open, PieceStatus::Open) => true,
            (CalendarStatus::OutsideHours, PieceStatus::OutsideHours) => true,
            (CalendarStatus::Holiday { name }, PieceStatus::Holiday(piece_name)) => {
                name == piece_name
            }
            _ => false,
        }
    }

    pub(crate) fn of(piece: PieceStatus<'_>) -> CalendarStatus {
        match piece {
            PieceStatus::Open => CalendarStatus::Open,
            PieceStatus::OutsideHours => CalendarStatus::OutsideHours,
            PieceStatus::Holiday(name) => CalendarStatus::Holiday {
                name: name.to_owned(),
            },
        }
    }
}
