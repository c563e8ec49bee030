//! sablier-sla from the outside: hand-worked cases (every expected value is worked out in a
//! comment from the rules of docs/domain.md ("SLA clocks") and issue 3, never by calling
//! the code under test) and the laws the engine must obey whatever its inputs (proptest).
//!
//! Time zone reminders for the cases: Europe/Paris is CET (UTC+1) until
//! 2026-03-29T01:00Z, CEST (UTC+2) until 2026-10-25T01:00Z, then CET again.

mod calendar_cases;
mod clock_cases;
mod domain_doc;
mod laws;
mod policy_cases;
mod support;
