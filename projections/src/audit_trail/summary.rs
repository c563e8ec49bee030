//! One line of English per event, from the event alone: what staff and analysts read in a
//! history ("Priority changed from P2 to P1: customer escalated; target now GTR 4 h").
//! Free text is quoted on one line and cut to [`FREE_TEXT_CHARS`] characters.

use std::fmt::Display;

use sablier_domain::change::{ChangeEvent, ChangeForm};
use sablier_domain::contract::{ContractEvent, DeclaredUser, SectionRole, SectionRoles};
use sablier_domain::incident::{ClockChange, ClockChangeKind, IncidentEvent};
use sablier_domain::order::{OrderEvent, OrderReference, Price};
use sablier_domain::text::{CustomerReference, FreeText, Login};

use crate::event::DomainEvent;
use crate::sql::instant_text;

const FREE_TEXT_CHARS: usize = 120;

/// The one-line summary of `event`.
pub fn summary(event: &DomainEvent) -> String {
    match event {
        DomainEvent::Contract(event) => contract(event),
        DomainEvent::Incident(event) => {
            let line = incident(event);
            match clocks(event.clocks()) {
                Some(clocks) => format!("{line}; {clocks}"),
                None => line,
            }
        }
        DomainEvent::Change(event) => change(event),
        DomainEvent::Order(event) => order(event),
    }
}

fn contract(event: &ContractEvent) -> String {
    match event {
        ContractEvent::ContractCreated {
            contract_id,
            name,
            offer,
            tier,
            referent,
            ..
        } => format!(
            "Contract {contract_id} created: {name}, {}, tier {tier}, referent {}",
            offer.as_str(),
            referent.login
        ),
        ContractEvent::SupportTierUpgraded {
            from,
            to,
            billing_effective_on,
            cancelled_downgrade,
            ..
        } => {
            let mut line = format!(
                "Support tier upgraded from {from} to {to}, billed from {billing_effective_on}"
            );
            if let Some(downgrade) = cancelled_downgrade {
                line.push_str(&format!(
                    "; the scheduled downgrade to {downgrade} is cancelled"
                ));
            }
            line
        }
        ContractEvent::SupportTierDowngradeScheduled {
            from,
            to,
            effective_on,
            replaced_downgrade,
            ..
        } => {
            let mut line =
                format!("Support tier downgrade from {from} to {to} scheduled for {effective_on}");
            if let Some(replaced) = replaced_downgrade {
                line.push_str(&format!("; replaces the downgrade to {replaced}"));
            }
            line
        }
        ContractEvent::ExpertTimeLogged {
            expert,
            performed_on,
            billing_month,
            minutes,
            note,
            ..
        } => with_text(
            format!(
                "{} of expert time logged for {expert} on {performed_on}, billed in {billing_month}",
                duration(i64::from(*minutes) * 60)
            ),
            note.as_ref().map(|note| note.as_str()),
        ),
        ContractEvent::UserDeclared {
            user,
            roles,
            requested_login,
            ..
        } => user_declared(user, roles, requested_login.as_ref()),
        ContractEvent::UserRolesChanged {
            login,
            previous,
            roles,
            ..
        } => roles_changed(login, previous, roles),
        ContractEvent::UserRemoved { login, .. } => format!("User {login} removed"),
    }
}

/// `User ada declared (ada@example.com): manager of contract`, and the login kept when
/// the email was known already.
fn user_declared(
    user: &DeclaredUser,
    roles: &SectionRoles,
    requested_login: Option<&Login>,
) -> String {
    let mut line = format!(
        "User {} declared ({}): {}",
        user.login,
        user.email,
        roles_text(roles)
    );
    if let Some(requested) = requested_login {
        line.push_str(&format!(
            "; email already known, keeps login {} instead of {requested}",
            user.login
        ));
    }
    line
}

/// `Roles of ada changed: support visitor → manager`: each section whose role changed.
fn roles_changed(login: &Login, previous: &SectionRoles, roles: &SectionRoles) -> String {
    let changes: Vec<String> = sections(previous)
        .into_iter()
        .zip(sections(roles))
        .filter(|((_, before), (_, after))| before != after)
        .map(|((section, before), (_, after))| {
            format!("{section} {} → {}", role_name(before), role_name(after))
        })
        .collect();
    if changes.is_empty() {
        format!("Roles of {login} confirmed unchanged")
    } else {
        format!("Roles of {login} changed: {}", changes.join(", "))
    }
}

fn incident(event: &IncidentEvent) -> String {
    match event {
        IncidentEvent::IncidentOpened {
            priority,
            title,
            tier,
            policy_version,
            ..
        } => format!(
            "Incident opened at {priority} ({tier}, policy {policy_version}): {}",
            one_line(title.as_str())
        ),
        IncidentEvent::InterventionStarted { .. } => "Intervention started".to_owned(),
        IncidentEvent::CustomerInputRequested { .. } => "Customer input requested".to_owned(),
        IncidentEvent::CustomerResponded { .. } => "Customer responded".to_owned(),
        IncidentEvent::DiagnosisShared {
            diagnosis, first, ..
        } => {
            let what = if *first {
                "Diagnosis shared"
            } else {
                "Diagnosis updated"
            };
            format!("{what}: {}", one_line(diagnosis.as_str()))
        }
        IncidentEvent::ServiceRestored { resolution, .. } => {
            format!("Service restored: {}", one_line(resolution.as_str()))
        }
        IncidentEvent::IncidentClosed { .. } => "Incident closed".to_owned(),
        IncidentEvent::IncidentReopened {
            reason,
            restored_at,
            ..
        } => format!(
            "Incident reopened (restored at {}): {}",
            instant_text(*restored_at),
            one_line(reason.as_str())
        ),
        IncidentEvent::PriorityChanged {
            from, to, reason, ..
        } => {
            format!(
                "Priority changed from {from} to {to}: {}",
                one_line(reason.as_str())
            )
        }
        IncidentEvent::CommentAdded { text, .. } => {
            with_text("Comment added".to_owned(), Some(text.as_str()))
        }
    }
}

fn change(event: &ChangeEvent) -> String {
    match event {
        ChangeEvent::ChangeDraftSaved { form, .. } => draft("Change draft saved", form),
        ChangeEvent::ChangeDraftEdited { form, .. } => draft("Change draft edited", form),
        ChangeEvent::ChangeSubmitted {
            asset,
            article,
            requires_study,
            lead_time,
            lead_time_business_days,
            due_at,
            customer_reference,
            unfinished_changes_on_asset,
            ..
        } => format!(
            "Change submitted: {} on {asset}, {lead_time} lead time ({lead_time_business_days} business days), due {}{}",
            article.article,
            instant_text(*due_at),
            submission_notes(
                customer_reference.as_ref(),
                *requires_study,
                unfinished_changes_on_asset.len()
            )
        ),
        ChangeEvent::ChangeQuoted {
            amount_cents, note, ..
        } => with_text(
            format!("Change quoted at {}", euros(*amount_cents)),
            note.as_ref().map(|note| note.as_str()),
        ),
        ChangeEvent::ChangeQuoteAccepted { amount_cents, .. } => {
            QuoteOf::TheChange.answered(*amount_cents, "accepted", None)
        }
        ChangeEvent::ChangeQuoteDeclined {
            amount_cents,
            reason,
            ..
        } => QuoteOf::TheChange.answered(*amount_cents, "declined", reason.as_ref()),
        ChangeEvent::ChangeStarted { .. } => "Work on the change started".to_owned(),
        ChangeEvent::ChangeCompleted {
            note,
            accepted_quote_cents,
            ..
        } => {
            let mut line = "Change completed".to_owned();
            if let Some(cents) = accepted_quote_cents {
                line.push_str(&format!(" (quote of {})", euros(*cents)));
            }
            with_text(line, note.as_ref().map(|note| note.as_str()))
        }
        ChangeEvent::ChangeCancelled {
            previous_status,
            reason,
            ..
        } => with_text(
            format!("Change cancelled (was {previous_status})"),
            reason.as_ref().map(|reason| reason.as_str()),
        ),
        ChangeEvent::ChangeRejected {
            previous_status,
            reason,
            ..
        } => format!(
            "Change rejected (was {previous_status}): {}",
            one_line(reason.as_str())
        ),
        ChangeEvent::ChangeQuoteCorrected {
            amount_cents,
            previous_amount_cents,
            reason,
            status,
            ..
        } => QuoteOf::TheChange.corrected(*previous_amount_cents, *amount_cents, status, reason),
    }
}

/// `Change draft saved: <article> on <asset>`, each as far as the form has it.
fn draft(what: &str, form: &ChangeForm) -> String {
    let mut line = what.to_owned();
    if let Some(article) = &form.article {
        line.push_str(&format!(": {}", article.article));
    }
    if let Some(asset) = &form.asset {
        line.push_str(&format!(" on {asset}"));
    }
    line
}

/// What a submission's line ends with: its reference, whether it needs a study, and a
/// warning when other changes are in progress on its asset.
fn submission_notes(
    customer_reference: Option<&CustomerReference>,
    requires_study: bool,
    unfinished_changes_on_asset: usize,
) -> String {
    let mut notes = String::new();
    if let Some(reference) = customer_reference {
        notes.push_str(&format!(", reference {reference}"));
    }
    if requires_study {
        notes.push_str(", study required");
    }
    match unfinished_changes_on_asset {
        0 => {}
        1 => notes.push_str("; warning: 1 other change in progress on this asset"),
        n => notes.push_str(&format!(
            "; warning: {n} other changes in progress on this asset"
        )),
    }
    notes
}

/// What a quote's lines are about: the change whose history they are in (it needs no
/// name), or an order, named by its reference.
#[derive(Clone, Copy)]
enum QuoteOf<'a> {
    TheChange,
    Order(&'a OrderReference),
}

impl QuoteOf<'_> {
    /// `Quote of 450.00 € excl. tax accepted`, `Quote of … for order ORD-7 declined: <reason>`.
    fn answered(self, amount_cents: u64, answer: &str, reason: Option<&FreeText>) -> String {
        let line = match self {
            QuoteOf::TheChange => format!("Quote of {} {answer}", euros(amount_cents)),
            QuoteOf::Order(reference) => format!(
                "Quote of {} for order {reference} {answer}",
                euros(amount_cents)
            ),
        };
        with_text(line, reason.map(FreeText::as_str))
    }

    /// `Quote corrected from 400.00 € excl. tax to 450.00 € excl. tax (change completed):
    /// <reason>`, `Quote of order ORD-7 corrected from … (order completed): <reason>`.
    fn corrected(
        self,
        previous_amount_cents: u64,
        amount_cents: u64,
        status: &dyn Display,
        reason: &FreeText,
    ) -> String {
        let (quote, kind) = match self {
            QuoteOf::TheChange => ("Quote".to_owned(), "change"),
            QuoteOf::Order(reference) => (format!("Quote of order {reference}"), "order"),
        };
        format!(
            "{quote} corrected from {} to {} ({kind} {status}): {}",
            euros(previous_amount_cents),
            euros(amount_cents),
            one_line(reason.as_str())
        )
    }
}

fn order(event: &OrderEvent) -> String {
    match event {
        OrderEvent::OrderPlaced {
            reference, item, ..
        } => format!(
            "Order {reference} placed: {} ({})",
            item.name,
            price(item.price)
        ),
        OrderEvent::OrderConfirmationRecorded {
            reference,
            recipients,
            ..
        } => {
            let recipients: Vec<&str> = recipients.iter().map(|email| email.as_str()).collect();
            format!(
                "Confirmation of order {reference} sent to {}",
                recipients.join(", ")
            )
        }
        OrderEvent::OrderQuoted {
            reference,
            amount_cents,
            note,
            ..
        } => with_text(
            format!("Order {reference} quoted at {}", euros(*amount_cents)),
            note.as_ref().map(|note| note.as_str()),
        ),
        OrderEvent::OrderQuoteAccepted {
            reference,
            amount_cents,
            ..
        } => QuoteOf::Order(reference).answered(*amount_cents, "accepted", None),
        OrderEvent::OrderQuoteDeclined {
            reference,
            amount_cents,
            reason,
            ..
        } => QuoteOf::Order(reference).answered(*amount_cents, "declined", reason.as_ref()),
        OrderEvent::OrderStarted { reference, .. } => format!("Work on order {reference} started"),
        OrderEvent::OrderCompleted {
            reference,
            amount_cents,
            note,
            ..
        } => with_text(
            format!(
                "Order {reference} completed, {} billed",
                euros(*amount_cents)
            ),
            note.as_ref().map(|note| note.as_str()),
        ),
        OrderEvent::OrderCancelled {
            reference,
            previous_status,
            reason,
            ..
        } => format!(
            "Order {reference} cancelled (was {previous_status}): {}",
            one_line(reason.as_str())
        ),
        OrderEvent::OrderQuoteCorrected {
            reference,
            amount_cents,
            previous_amount_cents,
            reason,
            status,
            ..
        } => QuoteOf::Order(reference).corrected(
            *previous_amount_cents,
            *amount_cents,
            status,
            reason,
        ),
    }
}

/// What an event did to the SLA clocks, grouped by what happened ("clocks GTD, GTR paused
/// (awaiting_customer)"). A clock resumed only to stop at the same instant reads "stopped".
fn clocks(changes: &[ClockChange]) -> Option<String> {
    let stopped = |metric| {
        changes
            .iter()
            .any(|change| change.metric == metric && change.kind == ClockChangeKind::Stop)
    };
    let mut started = Vec::new();
    let mut targets = Vec::new();
    // (what happened, metrics), in order of first appearance.
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for change in changes {
        let metric = change.metric.as_str();
        let what = match &change.kind {
            ClockChangeKind::Start {
                target_seconds,
                calendar,
                ..
            } => {
                started.push(format!(
                    "{metric} {} ({calendar})",
                    target_text(*target_seconds)
                ));
                continue;
            }
            ClockChangeKind::Target {
                target_seconds,
                calendar,
            } => {
                let target = format!("{metric} {}", target_text(*target_seconds));
                targets.push(match calendar {
                    Some(calendar) => format!("{target} ({calendar})"),
                    None => target,
                });
                continue;
            }
            ClockChangeKind::Resume if stopped(change.metric) => continue,
            ClockChangeKind::Pause { reason } => format!("paused ({reason})"),
            ClockChangeKind::Resume => "resumed".to_owned(),
            ClockChangeKind::Stop => "stopped".to_owned(),
            ClockChangeKind::Reopen => "reopened".to_owned(),
        };
        match groups.iter_mut().find(|(group, _)| *group == what) {
            Some((_, metrics)) => metrics.push(metric),
            None => groups.push((what, vec![metric])),
        }
    }
    let mut parts = Vec::new();
    if !started.is_empty() {
        parts.push(format!(
            "{} started: {}",
            plural("clock", started.len()),
            started.join(", ")
        ));
    }
    for (what, metrics) in groups {
        parts.push(format!(
            "{} {} {what}",
            plural("clock", metrics.len()),
            metrics.join(", ")
        ));
    }
    if !targets.is_empty() {
        parts.push(format!(
            "{} now {}",
            plural("target", targets.len()),
            targets.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn target_text(target_seconds: Option<i64>) -> String {
    target_seconds.map_or_else(|| "without commitment".to_owned(), duration)
}

fn plural(word: &str, count: usize) -> String {
    if count == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// `15 min`, `4 h`, `1 h 30 min`, `40 h` (seconds only when there are some).
fn duration(seconds: i64) -> String {
    let (hours, minutes, seconds) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut parts = Vec::new();
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes} min"));
    }
    if seconds > 0 || parts.is_empty() {
        parts.push(format!("{seconds} s"));
    }
    parts.join(" ")
}

/// An item's price: `450.00 € excl. tax`, or `on quote`.
fn price(price: Price) -> String {
    match price {
        Price::Fixed { cents_excl_tax } => euros(cents_excl_tax),
        Price::OnQuote => "on quote".to_owned(),
    }
}

/// `450.00 € excl. tax`.
fn euros(cents: u64) -> String {
    format!("{}.{:02} € excl. tax", cents / 100, cents % 100)
}

/// Free text on one line, cut to [`FREE_TEXT_CHARS`] characters.
fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= FREE_TEXT_CHARS {
        line
    } else {
        let cut: String = line.chars().take(FREE_TEXT_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// `line: text`, or `line` alone when there is no text (or only blanks).
fn with_text(line: String, text: Option<&str>) -> String {
    match text.map(one_line).filter(|text| !text.is_empty()) {
        Some(text) => format!("{line}: {text}"),
        None => line,
    }
}

fn sections(roles: &SectionRoles) -> [(&'static str, SectionRole); 6] {
    [
        ("contract", roles.contract),
        ("dashboard", roles.dashboard),
        ("services", roles.services),
        ("invoices", roles.invoices),
        ("support", roles.support),
        ("users", roles.users),
    ]
}

fn role_name(role: SectionRole) -> &'static str {
    match role {
        SectionRole::None => "none",
        SectionRole::Visitor => "visitor",
        SectionRole::Manager => "manager",
    }
}

/// `manager of contract, services; visitor of support`, or `no rights`.
fn roles_text(roles: &SectionRoles) -> String {
    let of = |wanted: SectionRole| -> Vec<&str> {
        sections(roles)
            .into_iter()
            .filter(|(_, role)| *role == wanted)
            .map(|(section, _)| section)
            .collect()
    };
    let parts: Vec<String> = [SectionRole::Manager, SectionRole::Visitor]
        .into_iter()
        .filter_map(|role| {
            let sections = of(role);
            (!sections.is_empty())
                .then(|| format!("{} of {}", role_name(role), sections.join(", ")))
        })
        .collect();
    if parts.is_empty() {
        "no rights".to_owned()
    } else {
        parts.join("; ")
    }
}
