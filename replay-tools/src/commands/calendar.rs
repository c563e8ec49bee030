//! `sablier-replay calendar ...`: what a named calendar says, so an analyst can check a
//! deadline by hand.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Args, Subcommand};
use sablier_sla::Calendar;
use sablier_sla::calendar::SUPPORTED_HOLIDAY_YEARS;
use sablier_sla::clock::LARGEST_TARGET_SECONDS;

use crate::instants::{format_instant, parse_instant};
use crate::outcome::Outcome;

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The calendar's holidays of a year, as a JSON array of {"date", "name"}.
    Holidays {
        #[command(flatten)]
        calendar: CalendarChoice,
        /// From 1900 to 2200.
        #[arg(long, value_parser = clap::value_parser!(i32).range(i64::from(*SUPPORTED_HOLIDAY_YEARS.start())..=i64::from(*SUPPORTED_HOLIDAY_YEARS.end())))]
        year: i32,
    },
    /// The open seconds in [from, to), as an integer.
    OpenSeconds {
        #[command(flatten)]
        calendar: CalendarChoice,
        /// RFC 3339, e.g. 2026-03-27T16:30:00Z.
        #[arg(long, value_parser = parse_instant)]
        from: DateTime<Utc>,
        /// RFC 3339; 0 when not after --from.
        #[arg(long, value_parser = parse_instant)]
        to: DateTime<Utc>,
    },
    /// The earliest instant at which N open seconds have passed since `from`.
    Add {
        #[command(flatten)]
        calendar: CalendarChoice,
        /// RFC 3339, e.g. 2026-03-27T16:30:00Z.
        #[arg(long, value_parser = parse_instant)]
        from: DateTime<Utc>,
        /// Open seconds to add (0 gives --from itself).
        #[arg(long, value_parser = clap::value_parser!(i64).range(0..=LARGEST_TARGET_SECONDS))]
        seconds: i64,
    },
}

#[derive(Debug, Args)]
pub struct CalendarChoice {
    /// 24x7, business-hours-fr or business-hours-fr-alsace.
    #[arg(long)]
    calendar: String,
    /// The IANA time zone the calendar's hours are in.
    #[arg(long, default_value = "Europe/Paris", value_parser = parse_time_zone)]
    timezone: Tz,
}

fn parse_time_zone(text: &str) -> Result<Tz, String> {
    text.parse::<Tz>()
        .map_err(|error| format!("{error}: expected an IANA time zone such as Europe/Paris"))
}

impl CalendarChoice {
    fn calendar(&self) -> anyhow::Result<Calendar> {
        Calendar::named(&self.calendar, self.timezone).context("--calendar")
    }
}

pub fn run(command: CalendarCommand) -> anyhow::Result<Outcome> {
    let answer = match command {
        CalendarCommand::Holidays { calendar, year } => {
            serde_json::to_string(&calendar.calendar()?.holidays(year))?
        }
        CalendarCommand::OpenSeconds { calendar, from, to } => calendar
            .calendar()?
            .open_seconds_between(from, to)
            .to_string(),
        CalendarCommand::Add {
            calendar,
            from,
            seconds,
        } => {
            let reached = calendar.calendar()?.add_open_seconds(from, seconds);
            let reached = sablier_sla::range::instant(reached).with_context(|| {
                format!(
                    "{seconds} open seconds after {} end past 2099-12-31T23:59:59Z",
                    format_instant(from)
                )
            })?;
            format_instant(reached)
        }
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{answer}").context("writing to stdout")?;
    Ok(Outcome::Clean)
}
