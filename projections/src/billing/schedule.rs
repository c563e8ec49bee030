//! A contract's billed tier over time, as plain dates: which tier is billed on which days of
//! a month, and how many expert minutes that month includes. No storage here.

use chrono::NaiveDate;
use sablier_domain::month::YearMonth;
use sablier_sla::Tier;

use super::BilledTier;

/// How many of its billed months Bronze includes expert time in.
const BRONZE_MONTHS_WITH_EXPERT_TIME: usize = 3;

/// The expert minutes a tier includes per billed month (Bronze only in its first months).
fn included_minutes_per_month(tier: Tier) -> u32 {
    match tier {
        Tier::Standard => 0,
        Tier::Bronze | Tier::Silver => 2 * 60,
        Tier::Gold => 4 * 60,
    }
}

/// The tier billed from each decision's date until the next decision's, from the
/// contract's creation date on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TierSchedule {
    created_on: NaiveDate,
    /// Sorted by date, one decision per date.
    decisions: Vec<(NaiveDate, Tier)>,
}

impl TierSchedule {
    pub(super) fn new(created_on: NaiveDate, mut decisions: Vec<(NaiveDate, Tier)>) -> Self {
        decisions.sort_by_key(|(effective_on, _)| *effective_on);
        decisions.dedup_by_key(|(effective_on, _)| *effective_on);
        Self {
            created_on,
            decisions,
        }
    }

    /// The tier billed on `date`, if any (none before the contract's creation).
    pub(super) fn tier_on(&self, date: NaiveDate) -> Option<Tier> {
        if date < self.created_on {
            return None;
        }
        let decided_by_then = self
            .decisions
            .partition_point(|(effective_on, _)| *effective_on <= date);
        decided_by_then
            .checked_sub(1)
            .map(|index| self.decisions[index].1)
    }

    /// The tiers billed in `month`, each with its first and last billed day, in order and
    /// never overlapping; adjacent days of the same tier form one period.
    pub(super) fn periods_in(&self, month: YearMonth) -> Vec<BilledTier> {
        let first = month.first_day().max(self.created_on);
        let last = month.last_day();
        let mut periods: Vec<BilledTier> = Vec::new();
        for (index, (effective_on, tier)) in self.decisions.iter().enumerate() {
            let until = self
                .decisions
                .get(index + 1)
                .and_then(|(next, _)| next.pred_opt())
                .unwrap_or(NaiveDate::MAX);
            let from = (*effective_on).max(first);
            let to = until.min(last);
            if from > to {
                continue;
            }
            match periods.last_mut() {
                Some(previous)
                    if previous.tier == *tier && previous.to.succ_opt() == Some(from) =>
                {
                    previous.to = to;
                }
                _ => periods.push(BilledTier {
                    tier: *tier,
                    from,
                    to,
                }),
            }
        }
        periods
    }

    /// The tier billed on the last day of `month`: the one whose allowance the month gets.
    fn tier_closing(&self, month: YearMonth) -> Option<Tier> {
        self.tier_on(month.last_day())
    }

    /// Included expert minutes of `month`: its closing tier's allowance; Bronze's only in
    /// the first three months Bronze closes over the contract's whole life.
    pub(super) fn included_minutes(&self, month: YearMonth) -> u32 {
        match self.tier_closing(month) {
            None => 0,
            Some(Tier::Bronze)
                if self.bronze_months_through(month) > BRONZE_MONTHS_WITH_EXPERT_TIME =>
            {
                0
            }
            Some(tier) => included_minutes_per_month(tier),
        }
    }

    /// How many months from the creation month through `month` close on Bronze, stopping
    /// the count once it passes the months that include expert time.
    fn bronze_months_through(&self, month: YearMonth) -> usize {
        let mut counted = 0;
        let mut current = YearMonth::of(self.created_on);
        while current <= month && counted <= BRONZE_MONTHS_WITH_EXPERT_TIME {
            if self.tier_closing(current) == Some(Tier::Bronze) {
                counted += 1;
            }
            current = current.next();
        }
        counted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(value: &str) -> NaiveDate {
        value.parse().unwrap()
    }

    fn month(value: &str) -> YearMonth {
        value.parse().unwrap()
    }

    fn period(tier: Tier, from: &str, to: &str) -> BilledTier {
        BilledTier {
            tier,
            from: date(from),
            to: date(to),
        }
    }

    #[test]
    fn a_decision_mid_month_splits_the_month_without_sharing_a_day() {
        let schedule = TierSchedule::new(
            date("2026-01-10"),
            vec![
                (date("2026-01-10"), Tier::Bronze),
                (date("2026-02-15"), Tier::Gold),
            ],
        );
        assert_eq!(
            schedule.periods_in(month("2026-02")),
            vec![
                period(Tier::Bronze, "2026-02-01", "2026-02-14"),
                period(Tier::Gold, "2026-02-15", "2026-02-28"),
            ]
        );
        assert_eq!(schedule.tier_on(date("2026-02-14")), Some(Tier::Bronze));
        assert_eq!(schedule.tier_on(date("2026-02-15")), Some(Tier::Gold));
        assert_eq!(schedule.tier_on(date("2026-01-09")), None);
    }

    #[test]
    fn nothing_is_billed_before_the_creation_date() {
        let schedule =
            TierSchedule::new(date("2026-01-10"), vec![(date("2026-01-10"), Tier::Silver)]);
        assert_eq!(schedule.periods_in(month("2025-12")), vec![]);
        assert_eq!(
            schedule.periods_in(month("2026-01")),
            vec![period(Tier::Silver, "2026-01-10", "2026-01-31")]
        );
        assert_eq!(schedule.included_minutes(month("2025-12")), 0);
    }

    #[test]
    fn the_same_tier_decided_again_is_one_period() {
        let schedule = TierSchedule::new(
            date("2026-01-10"),
            vec![
                (date("2026-01-10"), Tier::Silver),
                (date("2026-01-20"), Tier::Silver),
            ],
        );
        assert_eq!(
            schedule.periods_in(month("2026-01")),
            vec![period(Tier::Silver, "2026-01-10", "2026-01-31")]
        );
    }

    #[test]
    fn bronze_includes_expert_time_in_its_first_three_months_over_the_contract_life() {
        let schedule = TierSchedule::new(
            date("2026-01-20"),
            vec![
                (date("2026-01-20"), Tier::Bronze),
                (date("2026-03-01"), Tier::Silver),
                (date("2026-05-01"), Tier::Bronze),
            ],
        );
        let included: Vec<u32> = [
            "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
        ]
        .into_iter()
        .map(|value| schedule.included_minutes(month(value)))
        .collect();
        assert_eq!(included, vec![120, 120, 120, 120, 120, 0]);
    }
}
