//! Whether a change is billable, decided once at submission (docs/domain.md "Submission":
//! each contract has free changes per calendar month; a change submitted beyond them is
//! marked billable at submission, with its price from the catalogue).
//!
//! The rank is counted in the log (the `SubmittedChanges` port). The count is not part
//! of a command's read set, so two submissions of one contract decided at once may share
//! a rank.

use serde::{Deserialize, Serialize};

use crate::month::YearMonth;

/// Free changes per contract and calendar month when nothing else is configured.
pub const DEFAULT_FREE_CHANGES_PER_MONTH: u32 = 5;

/// The billing facts of a submission, carried by `ChangeSubmitted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionBilling {
    /// The calendar month of the submission, in the contract's time zone.
    pub month: YearMonth,
    /// Its rank among the contract's changes submitted that month, from 1.
    pub rank_in_month: u32,
    /// The free changes per month in force for the contract at submission.
    pub free_changes_per_month: u32,
    /// Beyond the free changes: billed once completed, at the catalogue price (or, for an
    /// article priced on quote, at the quote the customer accepted).
    pub billable: bool,
}

impl SubmissionBilling {
    /// The submission ranked `rank_in_month` in `month`, with `free_changes_per_month`.
    pub fn decide(month: YearMonth, rank_in_month: u32, free_changes_per_month: u32) -> Self {
        Self {
            month,
            rank_in_month,
            free_changes_per_month,
            billable: rank_in_month > free_changes_per_month,
        }
    }
}
