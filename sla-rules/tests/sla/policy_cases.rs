//! The embedded `default-2026` policy cell by cell (copied by hand from the table of
//! docs/domain.md "Targets of `default-2026`"), and the messages that name the cell when a
//! policy file is wrong.

use sablier_sla::policy::DEFAULT_2026_TEXT;
use sablier_sla::{Metric, Policy, Priority, RiskRatio, Target, Tier};

use crate::support::{HOUR, MINUTE};

/// One row of that table: GTI P1-P4, GTD P1-P2 (P3, P4 none), GTR P1-P4, as
/// (seconds, business hours?) with `None` for "–".
type Row = (
    [Option<(i64, bool)>; 4],
    [Option<(i64, bool)>; 4],
    [Option<(i64, bool)>; 4],
);

fn domain_table() -> [(Tier, Row); 4] {
    let round = |seconds| Some((seconds, false));
    let business = |seconds| Some((seconds, true));
    [
        (Tier::Standard, ([None; 4], [None; 4], [None; 4])),
        (
            Tier::Bronze,
            (
                [
                    round(HOUR),
                    round(2 * HOUR),
                    business(4 * HOUR),
                    business(8 * HOUR),
                ],
                [round(4 * HOUR), round(8 * HOUR), None, None],
                [round(8 * HOUR), round(24 * HOUR), business(40 * HOUR), None],
            ),
        ),
        (
            Tier::Silver,
            (
                [
                    round(30 * MINUTE),
                    round(HOUR),
                    business(2 * HOUR),
                    business(4 * HOUR),
                ],
                [round(4 * HOUR), round(8 * HOUR), None, None],
                [round(8 * HOUR), round(16 * HOUR), business(24 * HOUR), None],
            ),
        ),
        (
            Tier::Gold,
            (
                [
                    round(15 * MINUTE),
                    round(30 * MINUTE),
                    business(HOUR),
                    business(2 * HOUR),
                ],
                [round(2 * HOUR), round(4 * HOUR), None, None],
                [round(4 * HOUR), round(8 * HOUR), business(16 * HOUR), None],
            ),
        ),
    ]
}

#[test]
fn default_2026_matches_the_domain_table_cell_by_cell() {
    let policy = Policy::default_2026();
    assert_eq!(policy.version(), "default-2026");
    assert_eq!(policy.at_risk_ratio(), RiskRatio::THREE_QUARTERS);
    for (tier, (gti, gtd, gtr)) in domain_table() {
        for (metric, row, pausable) in [
            (Metric::Gti, gti, false),
            (Metric::Gtd, gtd, true),
            (Metric::Gtr, gtr, true),
        ] {
            for (priority, cell) in Priority::ALL.into_iter().zip(row) {
                let expected = cell.map(|(seconds, business_hours)| Target {
                    seconds,
                    calendar: if business_hours {
                        "business-hours-fr"
                    } else {
                        "24x7"
                    }
                    .to_owned(),
                    pausable,
                });
                assert_eq!(
                    policy.target(tier, priority, metric),
                    expected.as_ref(),
                    "{tier}/{priority}/{metric}"
                );
            }
        }
    }
    // The seeds fix GTR P1: Standard none, Bronze 8 h, Silver 8 h, Gold 4 h.
    assert_eq!(
        policy
            .target(Tier::Gold, Priority::P1, Metric::Gtr)
            .unwrap()
            .seconds,
        4 * HOUR
    );
    assert_eq!(policy.cells().count(), 48);
}

#[test]
fn delivery_is_not_a_policy_cell() {
    let policy = Policy::default_2026();
    for tier in Tier::ALL {
        for priority in Priority::ALL {
            assert_eq!(policy.target(tier, priority, Metric::Delivery), None);
        }
    }
}

#[test]
fn the_embedded_file_is_read_by_the_public_parser() {
    assert_eq!(Policy::parse(DEFAULT_2026_TEXT), Ok(Policy::default_2026()));
}

/// The default policy with one line replaced.
fn edited(line: &str, replacement: &str) -> String {
    assert!(DEFAULT_2026_TEXT.contains(line), "{line}");
    DEFAULT_2026_TEXT.replacen(line, replacement, 1)
}

fn refusal(text: &str) -> String {
    Policy::parse(text).unwrap_err().to_string()
}

#[test]
fn errors_name_the_cell() {
    assert_eq!(
        refusal(&edited(
            r#"GTR = ["4 h", "8 h", "16 h bh", "none"]"#,
            r#"GTR = ["4 hours", "8 h", "16 h bh", "none"]"#
        )),
        "Gold/P1/GTR: '4 hours' has an unknown unit 'hours' (expected s, min or h)"
    );
    assert_eq!(
        refusal(&edited(
            r#"GTR = ["8 h", "24 h", "40 h bh", "none"]"#,
            r#"GTR = ["8 h", "24 h", "40 h bh"]"#
        )),
        "Bronze/P4/GTR: missing (the row has 3 cells)"
    );
    assert_eq!(
        refusal(&edited(
            r#"GTD = ["4 h", "8 h", "none", "none"]"#,
            r#"GTD = ["4 h", "8 h", "none", "none", "1 h"]"#
        )),
        "Bronze/GTD: 5 cells, expected 4 (P1, P2, P3, P4)"
    );
    assert_eq!(
        refusal(&edited(
            r#"GTI = ["30 min", "1 h", "2 h bh", "4 h bh"]"#,
            r#"GTI = ["30 min", "1 h", "2 h weekdays", "4 h bh"]"#
        )),
        "Silver/P3/GTI: '2 h weekdays' names an unknown calendar 'weekdays' (expected 24x7, \
         bh, business-hours-fr or business-hours-fr-alsace)"
    );
    assert_eq!(
        refusal(&edited(
            r#"GTI = ["15 min", "30 min", "1 h bh", "2 h bh"]"#,
            r#"GTI = ["15 min", 30, "1 h bh", "2 h bh"]"#
        )),
        "Gold/P2/GTI: must be a string such as \"4 h bh\" or \"none\""
    );
    assert_eq!(
        refusal(&edited("[tiers.Silver]", "[tiers.Platinum]")),
        "unknown key 'tiers.Platinum'"
    );
    assert_eq!(
        refusal(&edited("[tiers.Gold]\nGTI", "[tiers.Gold]\nGTX = []\nGTI")),
        "unknown key 'tiers.Gold.GTX'"
    );
    assert_eq!(
        refusal(&edited("GTD = true\n", "")),
        "pausable.GTD: missing (say whether pauses stop GTD)"
    );
    assert_eq!(
        refusal(&edited("version = \"default-2026\"\n", "")),
        "'version' is missing: a policy names its version"
    );
    assert_eq!(
        refusal(&edited("at_risk_ratio = 0.75", "at_risk_ratio = 1.5")),
        "at_risk_ratio: 15/10 is not between 0 and 1"
    );
    assert!(refusal("version = ").starts_with("not valid TOML: "));
}

#[test]
fn a_missing_tier_or_row_names_its_first_cell() {
    let without_bronze = {
        let start = DEFAULT_2026_TEXT.find("[tiers.Bronze]").unwrap();
        let end = DEFAULT_2026_TEXT.find("[tiers.Silver]").unwrap();
        format!(
            "{}{}",
            &DEFAULT_2026_TEXT[..start],
            &DEFAULT_2026_TEXT[end..]
        )
    };
    assert_eq!(
        refusal(&without_bronze),
        "Bronze/P1/GTI: missing (there is no table for this tier under [tiers])"
    );
    assert_eq!(
        refusal(&edited(r#"GTD = ["2 h", "4 h", "none", "none"]"#, "")),
        "Gold/P1/GTD: missing (the tier has no row for this metric)"
    );
}

#[test]
fn a_minimal_policy_in_another_shape_reads() {
    let text = r#"
        version = "what-if-1"
        at_risk_ratio = "0.8"
        pausable = { GTI = false, GTD = true, GTR = false }
        [tiers]
        Standard = { GTI = ["none", "none", "none", "none"], GTD = ["none", "none", "none", "none"], GTR = ["none", "none", "none", "none"] }
        Bronze = { GTI = ["1h", "1h", "1h", "1h"], GTD = ["none", "none", "none", "none"], GTR = ["2 h business-hours-fr-alsace", "none", "none", "none"] }
        Silver = { GTI = ["1 h 30 min", "1h", "1h", "1h"], GTD = ["none", "none", "none", "none"], GTR = ["none", "none", "none", "none"] }
        Gold = { GTI = ["90 s", "1h", "1h", "1h"], GTD = ["none", "none", "none", "none"], GTR = ["none", "none", "none", "none"] }
    "#;
    let policy = Policy::parse(text).unwrap();
    assert_eq!(policy.version(), "what-if-1");
    assert_eq!(policy.at_risk_ratio(), RiskRatio::new(4, 5).unwrap());
    assert_eq!(
        policy.target(Tier::Bronze, Priority::P1, Metric::Gtr),
        Some(&Target {
            seconds: 2 * HOUR,
            calendar: "business-hours-fr-alsace".into(),
            pausable: false
        })
    );
    assert_eq!(
        policy
            .target(Tier::Silver, Priority::P1, Metric::Gti)
            .unwrap()
            .seconds,
        90 * MINUTE
    );
    assert_eq!(
        policy
            .target(Tier::Gold, Priority::P1, Metric::Gti)
            .unwrap()
            .seconds,
        90
    );
}
