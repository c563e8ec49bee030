//! Reads the TOML policy format into a [`Policy`], checking every cell.

use std::collections::BTreeMap;

use toml::{Table, Value};

use super::error::{CellProblem, PolicyError};
use super::{POLICY_METRICS, Policy, Target};
use crate::calendar::{BUSINESS_HOURS_FR, NAMED_CALENDARS, TWENTY_FOUR_SEVEN};
use crate::clock::LARGEST_TARGET_SECONDS;
use crate::risk::RiskRatio;
use crate::terms::{Metric, Priority, Tier};

const TOP_LEVEL_KEYS: [&str; 4] = ["version", "at_risk_ratio", "pausable", "tiers"];

pub(super) fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let document: Table = toml::from_str(text).map_err(|error| PolicyError::Syntax {
        message: error.to_string().trim_end().to_owned(),
    })?;
    refuse_unknown_keys(&document, "", |key| TOP_LEVEL_KEYS.contains(&key))?;
    let version = match document.get("version") {
        None => return Err(PolicyError::MissingVersion),
        Some(Value::String(version)) if !version.trim().is_empty() => version.trim().to_owned(),
        Some(_) => return Err(wrong_type("version", "a non-empty string")),
    };
    let at_risk_ratio = match document.get("at_risk_ratio") {
        None => RiskRatio::default(),
        Some(Value::Float(ratio)) => parse_ratio(&ratio.to_string())?,
        Some(Value::Integer(ratio)) => parse_ratio(&ratio.to_string())?,
        Some(Value::String(ratio)) => parse_ratio(ratio)?,
        Some(_) => return Err(wrong_type("at_risk_ratio", "a decimal between 0 and 1")),
    };
    let pausable = read_pausable(document.get("pausable"))?;
    let tiers = match document.get("tiers") {
        Some(Value::Table(tiers)) => tiers,
        Some(_) => return Err(wrong_type("tiers", "a table of tiers")),
        None => &Table::new(),
    };
    refuse_unknown_keys(tiers, "tiers.", |key| {
        Tier::ALL.iter().any(|tier| tier.as_str() == key)
    })?;
    let mut targets = BTreeMap::new();
    for tier in Tier::ALL {
        read_tier(tier, tiers.get(tier.as_str()), &pausable, &mut targets)?;
    }
    Ok(Policy {
        version,
        at_risk_ratio,
        targets,
    })
}

fn parse_ratio(text: &str) -> Result<RiskRatio, PolicyError> {
    RiskRatio::parse_decimal(text).map_err(|source| PolicyError::AtRiskRatio { source })
}

fn wrong_type(path: &str, expected: &'static str) -> PolicyError {
    PolicyError::WrongType {
        path: path.to_owned(),
        expected,
    }
}

fn refuse_unknown_keys(
    table: &Table,
    prefix: &str,
    is_known: impl Fn(&str) -> bool,
) -> Result<(), PolicyError> {
    match table.keys().find(|key| !is_known(key)) {
        Some(key) => Err(PolicyError::UnknownKey {
            path: format!("{prefix}{key}"),
        }),
        None => Ok(()),
    }
}

fn is_policy_metric(key: &str) -> bool {
    POLICY_METRICS.iter().any(|metric| metric.as_str() == key)
}

fn read_pausable(section: Option<&Value>) -> Result<BTreeMap<Metric, bool>, PolicyError> {
    let section = match section {
        Some(Value::Table(section)) => section,
        Some(_) => return Err(wrong_type("pausable", "a table of booleans per metric")),
        None => &Table::new(),
    };
    refuse_unknown_keys(section, "pausable.", is_policy_metric)?;
    let mut pausable = BTreeMap::new();
    for metric in POLICY_METRICS {
        match section.get(metric.as_str()) {
            Some(Value::Boolean(value)) => pausable.insert(metric, *value),
            Some(_) => return Err(wrong_type(&format!("pausable.{metric}"), "true or false")),
            None => return Err(PolicyError::MissingPausable { metric }),
        };
    }
    Ok(pausable)
}

fn read_tier(
    tier: Tier,
    table: Option<&Value>,
    pausable: &BTreeMap<Metric, bool>,
    targets: &mut BTreeMap<(Tier, Priority, Metric), Target>,
) -> Result<(), PolicyError> {
    let cell_error = |priority, metric, problem| PolicyError::Cell {
        tier,
        priority,
        metric,
        problem,
    };
    let table = match table {
        Some(Value::Table(table)) => table,
        Some(_) => {
            return Err(wrong_type(
                &format!("tiers.{tier}"),
                "a table of metric rows",
            ));
        }
        None => {
            return Err(cell_error(
                Priority::P1,
                Metric::Gti,
                CellProblem::MissingTierTable,
            ));
        }
    };
    refuse_unknown_keys(table, &format!("tiers.{tier}."), is_policy_metric)?;
    for metric in POLICY_METRICS {
        let row = match table.get(metric.as_str()) {
            Some(Value::Array(row)) => row,
            Some(_) => {
                return Err(wrong_type(
                    &format!("tiers.{tier}.{metric}"),
                    "an array of 4 cells (P1, P2, P3, P4)",
                ));
            }
            None => return Err(cell_error(Priority::P1, metric, CellProblem::MissingRow)),
        };
        if row.len() > Priority::ALL.len() {
            return Err(PolicyError::RowTooLong {
                tier,
                metric,
                cells: row.len(),
            });
        }
        for (index, priority) in Priority::ALL.into_iter().enumerate() {
            let problem = |problem| cell_error(priority, metric, problem);
            let text = match row.get(index) {
                Some(Value::String(text)) => text,
                Some(_) => return Err(problem(CellProblem::NotText)),
                None => return Err(problem(CellProblem::ShortRow { cells: row.len() })),
            };
            if let Some((seconds, calendar)) = parse_cell(text).map_err(problem)? {
                let target = Target {
                    seconds,
                    calendar: calendar.to_owned(),
                    pausable: pausable[&metric],
                };
                targets.insert((tier, priority, metric), target);
            }
        }
    }
    Ok(())
}

/// `none`, or `AMOUNT UNIT [AMOUNT UNIT ...] [CALENDAR]`: the target's seconds and calendar.
fn parse_cell(text: &str) -> Result<Option<(i64, &'static str)>, CellProblem> {
    let owned = || text.to_owned();
    let mut tokens = text.split_whitespace().peekable();
    match tokens.peek() {
        None => return Err(CellProblem::Empty),
        Some(&"none") if text.split_whitespace().count() == 1 => return Ok(None),
        Some(_) => {}
    }
    let mut seconds: i64 = 0;
    let mut has_duration = false;
    let is_amount = |token: &&str| {
        token.starts_with(|c: char| c.is_ascii_digit()) && !NAMED_CALENDARS.contains(token)
    };
    while let Some(token) = tokens.next_if(is_amount) {
        let digits_end = token
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(token.len());
        let (digits, attached_unit) = token.split_at(digits_end);
        let unit = match attached_unit {
            "" => tokens.next().unwrap_or(""),
            unit => unit,
        };
        let unit_seconds = match unit {
            "s" => 1,
            "min" => 60,
            "h" => 3600,
            _ => {
                return Err(CellProblem::UnknownUnit {
                    text: owned(),
                    unit: unit.to_owned(),
                });
            }
        };
        let too_long = || CellProblem::TooLong { text: owned() };
        let amount: i64 = digits.parse().map_err(|_| too_long())?;
        seconds = amount
            .checked_mul(unit_seconds)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(too_long)?;
        has_duration = true;
    }
    if !has_duration {
        return Err(CellProblem::NoDuration { text: owned() });
    }
    let calendar = match tokens.next() {
        None => TWENTY_FOUR_SEVEN,
        Some("bh") => BUSINESS_HOURS_FR,
        Some(name) => NAMED_CALENDARS
            .into_iter()
            .find(|known| *known == name)
            .ok_or_else(|| CellProblem::UnknownCalendar {
                text: owned(),
                name: name.to_owned(),
            })?,
    };
    if tokens.next().is_some() {
        return Err(CellProblem::TrailingWords { text: owned() });
    }
    if seconds <= 0 {
        return Err(CellProblem::NotPositive { text: owned() });
    }
    if seconds > LARGEST_TARGET_SECONDS {
        return Err(CellProblem::TooLong { text: owned() });
    }
    Ok(Some((seconds, calendar)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_durations_and_calendars() {
        assert_eq!(parse_cell("none"), Ok(None));
        assert_eq!(parse_cell("4 h"), Ok(Some((14_400, "24x7"))));
        assert_eq!(
            parse_cell("40 h bh"),
            Ok(Some((144_000, "business-hours-fr")))
        );
        assert_eq!(parse_cell("1 h 30 min 24x7"), Ok(Some((5_400, "24x7"))));
        assert_eq!(
            parse_cell("90min business-hours-fr-alsace"),
            Ok(Some((5_400, "business-hours-fr-alsace")))
        );
        assert_eq!(parse_cell("45 s"), Ok(Some((45, "24x7"))));
    }

    #[test]
    fn bad_cells_say_what_is_wrong() {
        assert_eq!(parse_cell("  "), Err(CellProblem::Empty));
        assert_eq!(
            parse_cell("4 hours"),
            Err(CellProblem::UnknownUnit {
                text: "4 hours".into(),
                unit: "hours".into()
            })
        );
        assert_eq!(
            parse_cell("2 d"),
            Err(CellProblem::UnknownUnit {
                text: "2 d".into(),
                unit: "d".into()
            })
        );
        assert_eq!(
            parse_cell("4"),
            Err(CellProblem::UnknownUnit {
                text: "4".into(),
                unit: "".into()
            })
        );
        assert_eq!(
            parse_cell("bh"),
            Err(CellProblem::NoDuration { text: "bh".into() })
        );
        assert_eq!(
            parse_cell("4 h weekdays"),
            Err(CellProblem::UnknownCalendar {
                text: "4 h weekdays".into(),
                name: "weekdays".into()
            })
        );
        assert_eq!(
            parse_cell("4 h bh please"),
            Err(CellProblem::TrailingWords {
                text: "4 h bh please".into()
            })
        );
        assert_eq!(
            parse_cell("0 min"),
            Err(CellProblem::NotPositive {
                text: "0 min".into()
            })
        );
        assert_eq!(
            parse_cell("99999999999999999999 h"),
            Err(CellProblem::TooLong {
                text: "99999999999999999999 h".into()
            })
        );
        assert_eq!(
            parse_cell("900000 h"),
            Err(CellProblem::TooLong {
                text: "900000 h".into()
            })
        );
    }
}
