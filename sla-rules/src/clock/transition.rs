//! What happens to a clock, in time order: the facts a clock is evaluated from.
//!
//! The serialized form is one flat JSON object per transition, e.g.
//! `{"at": "2026-03-27T16:30:00Z", "kind": "pause", "reason": "awaiting_customer",
//! "actor": "agent.martin"}` (the actor is optional: lists written before it was kept
//! have none),
//! `{"at": "...", "kind": "target", "target_seconds": 7200}` or, when the new target
//! counts on another calendar, `{"at": "...", "kind": "target", "target_seconds": 3600,
//! "calendar": "business-hours-fr"}`. Unknown fields, a reason or an actor on anything but
//! a pause, a `target_seconds` or a `calendar` on anything but a target, and a missing
//! `target_seconds` on a target are refused.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// The pause reason when none is given (docs/domain.md "What each step does to the clocks").
pub const DEFAULT_PAUSE_REASON: &str = "awaiting_customer";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TransitionRecord", into = "TransitionRecord")]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub kind: TransitionKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransitionKind {
    /// The request was created: the clock runs from here (once).
    Start,
    /// The clock stops counting, e.g. while awaiting the customer: why, and who paused
    /// it (`None` when the list does not say).
    Pause {
        reason: String,
        actor: Option<String>,
    },
    /// Counting again after a pause.
    Resume,
    /// The metric's event happened (intervention, diagnosis, restoration).
    Stop,
    /// Runs again after a stop, keeping the time already counted.
    Reopen,
    /// The target changes (e.g. a new priority); `target_seconds: None` removes the
    /// commitment. `calendar` names the calendar the clock counts on from this instant
    /// (the new priority's, when it differs): one of [`crate::calendar::NAMED_CALENDARS`]
    /// or the name of the clock's own calendar, in the time zone of the clock's calendar.
    /// `None` keeps the calendar in force. Time already counted carries over.
    Target {
        target_seconds: Option<i64>,
        calendar: Option<String>,
    },
}

impl Transition {
    pub fn start(at: DateTime<Utc>) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Start,
        }
    }

    /// A pause whose actor is not known.
    pub fn pause(at: DateTime<Utc>, reason: impl Into<String>) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Pause {
                reason: reason.into(),
                actor: None,
            },
        }
    }

    /// A pause by `actor` (a login).
    pub fn pause_by(
        at: DateTime<Utc>,
        reason: impl Into<String>,
        actor: impl Into<String>,
    ) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Pause {
                reason: reason.into(),
                actor: Some(actor.into()),
            },
        }
    }

    pub fn resume(at: DateTime<Utc>) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Resume,
        }
    }

    pub fn stop(at: DateTime<Utc>) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Stop,
        }
    }

    pub fn reopen(at: DateTime<Utc>) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Reopen,
        }
    }

    /// A new target on the calendar in force.
    pub fn target(at: DateTime<Utc>, target_seconds: Option<i64>) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Target {
                target_seconds,
                calendar: None,
            },
        }
    }

    /// A new target counted on `calendar` from `at` on, e.g. after a priority change from
    /// a round-the-clock cell to a business-hours one.
    pub fn target_on(
        at: DateTime<Utc>,
        target_seconds: Option<i64>,
        calendar: impl Into<String>,
    ) -> Transition {
        Transition {
            at,
            kind: TransitionKind::Target {
                target_seconds,
                calendar: Some(calendar.into()),
            },
        }
    }
}

impl TransitionKind {
    /// The serialized name: `start`, `pause`, `resume`, `stop`, `reopen` or `target`.
    pub fn name(&self) -> &'static str {
        match self {
            TransitionKind::Start => "start",
            TransitionKind::Pause { .. } => "pause",
            TransitionKind::Resume => "resume",
            TransitionKind::Stop => "stop",
            TransitionKind::Reopen => "reopen",
            TransitionKind::Target { .. } => "target",
        }
    }
}

impl fmt::Display for TransitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionRecord {
    at: DateTime<Utc>,
    kind: KindName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
    #[serde(
        default,
        deserialize_with = "present_even_if_null",
        skip_serializing_if = "Option::is_none"
    )]
    target_seconds: Option<Option<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calendar: Option<String>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Start,
    Pause,
    Resume,
    Stop,
    Reopen,
    Target,
}

/// Tells `"target_seconds": null` (no commitment) from a missing field.
fn present_even_if_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(deserializer).map(Some)
}

/// Why a transition record does not describe a transition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionFormatError {
    #[error("only a pause has a reason")]
    ReasonOutsidePause,
    #[error("only a pause has an actor")]
    ActorOutsidePause,
    #[error("only a target transition has target_seconds")]
    TargetSecondsOutsideTarget,
    #[error("only a target transition has a calendar")]
    CalendarOutsideTarget,
    #[error(
        "a target transition needs target_seconds (a number of seconds, or null for no commitment)"
    )]
    MissingTargetSeconds,
}

impl TryFrom<TransitionRecord> for Transition {
    type Error = TransitionFormatError;

    fn try_from(record: TransitionRecord) -> Result<Self, Self::Error> {
        if record.reason.is_some() && !matches!(record.kind, KindName::Pause) {
            return Err(TransitionFormatError::ReasonOutsidePause);
        }
        if record.actor.is_some() && !matches!(record.kind, KindName::Pause) {
            return Err(TransitionFormatError::ActorOutsidePause);
        }
        if record.target_seconds.is_some() && !matches!(record.kind, KindName::Target) {
            return Err(TransitionFormatError::TargetSecondsOutsideTarget);
        }
        if record.calendar.is_some() && !matches!(record.kind, KindName::Target) {
            return Err(TransitionFormatError::CalendarOutsideTarget);
        }
        let kind = match record.kind {
            KindName::Start => TransitionKind::Start,
            KindName::Pause => TransitionKind::Pause {
                reason: record
                    .reason
                    .unwrap_or_else(|| DEFAULT_PAUSE_REASON.to_owned()),
                actor: record.actor,
            },
            KindName::Resume => TransitionKind::Resume,
            KindName::Stop => TransitionKind::Stop,
            KindName::Reopen => TransitionKind::Reopen,
            KindName::Target => TransitionKind::Target {
                target_seconds: record
                    .target_seconds
                    .ok_or(TransitionFormatError::MissingTargetSeconds)?,
                calendar: record.calendar,
            },
        };
        Ok(Transition {
            at: record.at,
            kind,
        })
    }
}

impl From<Transition> for TransitionRecord {
    fn from(transition: Transition) -> Self {
        let mut actor = None;
        let (kind, reason, target_seconds, calendar) = match transition.kind {
            TransitionKind::Start => (KindName::Start, None, None, None),
            TransitionKind::Pause {
                reason,
                actor: paused_by,
            } => {
                actor = paused_by;
                (KindName::Pause, Some(reason), None, None)
            }
            TransitionKind::Resume => (KindName::Resume, None, None, None),
            TransitionKind::Stop => (KindName::Stop, None, None, None),
            TransitionKind::Reopen => (KindName::Reopen, None, None, None),
            TransitionKind::Target {
                target_seconds,
                calendar,
            } => (KindName::Target, None, Some(target_seconds), calendar),
        };
        TransitionRecord {
            at: transition.at,
            kind,
            reason,
            actor,
            target_seconds,
            calendar,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn transitions_serialize_as_flat_objects() {
        let pause = Transition::pause(at("2026-03-27T16:30:00Z"), "awaiting_customer");
        assert_eq!(
            serde_json::to_string(&pause).unwrap(),
            r#"{"at":"2026-03-27T16:30:00Z","kind":"pause","reason":"awaiting_customer"}"#
        );
        let no_commitment = Transition::target(at("2026-03-27T16:30:00Z"), None);
        assert_eq!(
            serde_json::to_string(&no_commitment).unwrap(),
            r#"{"at":"2026-03-27T16:30:00Z","kind":"target","target_seconds":null}"#
        );
        for transition in [
            pause,
            no_commitment,
            Transition::reopen(at("2026-03-28T00:00:00Z")),
        ] {
            let json = serde_json::to_string(&transition).unwrap();
            assert_eq!(
                serde_json::from_str::<Transition>(&json).unwrap(),
                transition
            );
        }
    }

    #[test]
    fn a_target_may_name_the_calendar_it_counts_on() {
        let lowered =
            Transition::target_on(at("2026-03-27T16:35:00Z"), Some(3600), "business-hours-fr");
        let json = r#"{"at":"2026-03-27T16:35:00Z","kind":"target","target_seconds":3600,"calendar":"business-hours-fr"}"#;
        assert_eq!(serde_json::to_string(&lowered).unwrap(), json);
        assert_eq!(serde_json::from_str::<Transition>(json).unwrap(), lowered);
        // Without a calendar, the one in force is kept: the field is left out.
        let kept: Transition = serde_json::from_str(
            r#"{"at": "2026-03-27T16:35:00Z", "kind": "target", "target_seconds": 3600}"#,
        )
        .unwrap();
        assert_eq!(
            kept.kind,
            TransitionKind::Target {
                target_seconds: Some(3600),
                calendar: None
            }
        );
        assert!(!serde_json::to_string(&kept).unwrap().contains("calendar"));
    }

    #[test]
    fn a_pause_without_reason_awaits_the_customer() {
        let pause: Transition =
            serde_json::from_str(r#"{"at": "2026-03-27T16:30:00Z", "kind": "pause"}"#).unwrap();
        assert_eq!(
            pause.kind,
            TransitionKind::Pause {
                reason: "awaiting_customer".into(),
                actor: None,
            }
        );
    }

    #[test]
    fn issue_20_a_pause_carries_its_actor_and_lists_without_one_still_read() {
        let paused = Transition::pause_by(
            at("2026-03-27T16:30:00Z"),
            "awaiting_customer",
            "agent.martin",
        );
        let json = r#"{"at":"2026-03-27T16:30:00Z","kind":"pause","reason":"awaiting_customer","actor":"agent.martin"}"#;
        assert_eq!(serde_json::to_string(&paused).unwrap(), json);
        assert_eq!(serde_json::from_str::<Transition>(json).unwrap(), paused);
        // As stored before the actor was kept.
        let old: Transition = serde_json::from_str(
            r#"{"at":"2026-03-27T16:30:00Z","kind":"pause","reason":"awaiting_customer"}"#,
        )
        .unwrap();
        assert_eq!(
            old,
            Transition::pause(at("2026-03-27T16:30:00Z"), "awaiting_customer")
        );
        assert!(
            serde_json::from_str::<Transition>(
                r#"{"at": "2026-03-27T16:30:00Z", "kind": "stop", "actor": "x"}"#
            )
            .unwrap_err()
            .to_string()
            .contains("only a pause has an actor")
        );
    }

    #[test]
    fn malformed_records_are_refused_with_a_reason() {
        let refused = |json: &str| {
            serde_json::from_str::<Transition>(json)
                .unwrap_err()
                .to_string()
        };
        assert!(
            refused(r#"{"at": "2026-03-27T16:30:00Z", "kind": "target"}"#)
                .contains("a target transition needs target_seconds")
        );
        assert!(
            refused(r#"{"at": "2026-03-27T16:30:00Z", "kind": "stop", "reason": "x"}"#)
                .contains("only a pause has a reason")
        );
        assert!(
            refused(r#"{"at": "2026-03-27T16:30:00Z", "kind": "pause", "calendar": "24x7"}"#)
                .contains("only a target transition has a calendar")
        );
        assert!(
            refused(r#"{"at": "2026-03-27T16:30:00Z", "kind": "target", "calendar": "24x7"}"#)
                .contains("a target transition needs target_seconds")
        );
        assert!(refused(r#"{"at": "2026-03-27T16:30:00Z", "kind": "halt"}"#).contains("halt"));
        assert!(
            refused(r#"{"at": "2026-03-27T16:30:00Z", "kind": "start", "by": "x"}"#)
                .contains("unknown field `by`")
        );
    }
}
