//! Why a policy file was refused; every message says where the problem is, down to the
//! cell (`Gold/P1/GTR: ...`).

use crate::risk::RiskRatioError;
use crate::terms::{Metric, Priority, Tier};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("not valid TOML: {message}")]
    Syntax { message: String },
    #[error("unknown key '{path}'")]
    UnknownKey { path: String },
    #[error("'{path}' must be {expected}")]
    WrongType {
        path: String,
        expected: &'static str,
    },
    #[error("'version' is missing: a policy names its version")]
    MissingVersion,
    #[error("at_risk_ratio: {source}")]
    AtRiskRatio { source: RiskRatioError },
    #[error("pausable.{metric}: missing (say whether pauses stop {metric})")]
    MissingPausable { metric: Metric },
    #[error("{tier}/{metric}: {cells} cells, expected 4 (P1, P2, P3, P4)")]
    RowTooLong {
        tier: Tier,
        metric: Metric,
        cells: usize,
    },
    #[error("{tier}/{priority}/{metric}: {problem}")]
    Cell {
        tier: Tier,
        priority: Priority,
        metric: Metric,
        problem: CellProblem,
    },
}

/// What is wrong with one cell.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    #[error("missing (there is no table for this tier under [tiers])")]
    MissingTierTable,
    #[error("missing (the tier has no row for this metric)")]
    MissingRow,
    #[error("missing (the row has {cells} cells)")]
    ShortRow { cells: usize },
    #[error("must be a string such as \"4 h bh\" or \"none\"")]
    NotText,
    #[error("is empty (write \"none\" for no commitment)")]
    Empty,
    #[error("'{text}' has no duration")]
    NoDuration { text: String },
    #[error("'{text}' has an unknown unit '{unit}' (expected s, min or h)")]
    UnknownUnit { text: String, unit: String },
    #[error(
        "'{text}' names an unknown calendar '{name}' (expected 24x7, bh, business-hours-fr or business-hours-fr-alsace)"
    )]
    UnknownCalendar { text: String, name: String },
    #[error("'{text}' has words after its calendar")]
    TrailingWords { text: String },
    #[error("'{text}' is not a positive duration (write \"none\" for no commitment)")]
    NotPositive { text: String },
    #[error("'{text}' is longer than 100 years")]
    TooLong { text: String },
}
