//! The OpenAPI schemas of the domain's parsed values, built from what the parsers parse
//! with: the constants of the text newtypes (`MAX_CHARS`, `MIN_CHARS`, `PATTERN`) and the
//! `ALL` lists of the closed sets (tiers, priorities, roles, lead times...). The document
//! states each rule once, as a named component (`#/components/schemas/FreeText`), and
//! cannot drift from the parser. A body field names one with
//! `#[schema(value_type = schema::FreeText)]` (`Option<schema::FreeText>` when it may be
//! left out), a parameter with `#[param(value_type = schema::YearMonth)]`. No handler writes
//! a pattern of its own: a test reads the handlers' sources to keep it so.
//!
//! The types here are markers for the document only; the handlers parse with the domain's
//! types of the same name.

use sablier_domain::ActorRole;
use sablier_domain::ContractId as ContractIdRule;
use sablier_domain::YearMonth as YearMonthRule;
use sablier_domain::change::{
    AttachmentName as AttachmentNameRule, LeadTime as LeadTimeRule, MediaType as MediaTypeRule,
    Sha256Digest as Sha256DigestRule,
};
use sablier_domain::contract::{Offer as OfferRule, SectionRole as SectionRoleRule};
use sablier_domain::incident::PauseReason as PauseReasonRule;
use sablier_domain::order::{Civility as CivilityRule, ServiceItemId as ServiceItemIdRule};
use sablier_domain::text;
use sablier_projections::request_list::{
    PortalStatus as PortalStatusRule, RequestKind as RequestKindRule,
};
use sablier_sla::clock::IntervalKind as IntervalKindRule;
use sablier_sla::{Metric as MetricRule, Priority as PriorityRule, Tier as TierRule};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// Defines the document-only marker `$name`, whose schema is the builder `$schema`.
macro_rules! marker_schema {
    ($(#[$doc:meta])* $name:ident, $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $name {}
    };
}

/// A schema for each trimmed text newtype of `sablier_domain::text`.
macro_rules! bounded_text_schema {
    ($name:ident, $description:literal) => {
        marker_schema!(
            #[doc = $description]
            $name,
            string($description)
                .min_length(Some(text::$name::MIN_CHARS))
                .max_length(Some(text::$name::MAX_CHARS))
                .pattern(Some(text::$name::PATTERN))
        );
    };
}

bounded_text_schema!(
    Title,
    "A short title (an incident's summary, a contract's name)."
);
bounded_text_schema!(
    FreeText,
    "Free text: descriptions, additional information, reasons, resolutions."
);
bounded_text_schema!(Name, "A person's or company's name.");
bounded_text_schema!(AssetRef, "The asset a change concerns (élément de parc).");
bounded_text_schema!(
    CustomerReference,
    "The customer's own reference for a change."
);
bounded_text_schema!(Comment, "A change request's comment; may be empty.");
bounded_text_schema!(IncidentComment, "A comment on an incident; never empty.");
bounded_text_schema!(TokenLabel, "What an API token is for; may be empty.");

marker_schema!(
    /// 8 to 64 characters among letters, digits and `. _ -`.
    Login,
    string("A user's login: 8 to 64 characters among letters, digits and `. _ -`.")
        .pattern(Some(text::Login::PATTERN))
);

marker_schema!(
    /// An email address.
    Email,
    string("An email address (kept in lower case).")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(text::Email::MAX_CHARS))
);

marker_schema!(
    /// A contract number.
    ContractId,
    string("A contract number: `OCB` and 7 digits.")
        .pattern(Some(ContractIdRule::PATTERN))
);

marker_schema!(
    /// Why an incident's clocks pause: a code, not prose.
    PauseReason,
    string(
        "Why the clocks pause: a code of 1 to 64 lowercase letters, digits or `_` \
         (default `awaiting_customer`).",
    )
    .pattern(Some(PauseReasonRule::PATTERN))
);

marker_schema!(
    /// What an interval of a clock's explanation is.
    IntervalKind,
    string("What an interval of an explanation is: counted time, or why it was not counted.")
        .enum_values(Some(IntervalKindRule::ALL.map(IntervalKindRule::as_str)))
);

/// A pattern that matches one of `names` in any ASCII case, as the terms' `FromStr` reads
/// them (`gold` is `Gold`). The names are letters, digits and spaces.
fn any_case(names: impl IntoIterator<Item = &'static str>) -> String {
    let alternatives: Vec<String> = names
        .into_iter()
        .map(|name| {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect();
    format!("^({})$", alternatives.join("|"))
}

/// A schema for a closed set read in any case: a pattern built from the type's `ALL`.
macro_rules! any_case_term_schema {
    ($name:ident, $rule:ident, $description:literal) => {
        marker_schema!(
            #[doc = $description]
            $name,
            string($description).pattern(Some(any_case($rule::ALL.map($rule::as_str))))
        );
    };
}

any_case_term_schema!(
    Tier,
    TierRule,
    "A support tier: `Standard`, `Bronze`, `Silver` or `Gold` (any case)."
);
any_case_term_schema!(
    Priority,
    PriorityRule,
    "An incident's priority: `P1` service down, `P2` degraded, `P3` minor, `P4` information \
     request (any case)."
);
any_case_term_schema!(
    Metric,
    MetricRule,
    "An SLA metric: `GTI`, `GTD`, `GTR` or `delivery` (any case)."
);
any_case_term_schema!(
    Offer,
    OfferRule,
    "A cloud offer: `Flexible Computing Advanced`, `Flexible Engine` or `Cloud Avenue` \
     (any case)."
);

/// A schema for a closed set read exactly: the names of the type's `ALL`, as an `enum`.
macro_rules! closed_set_schema {
    ($name:ident, $names:expr, $description:literal) => {
        marker_schema!(
            #[doc = $description]
            $name,
            string($description).enum_values(Some($names))
        );
    };
}

closed_set_schema!(
    LeadTime,
    LeadTimeRule::ALL.map(LeadTimeRule::as_str),
    "A change's delivery lead time."
);
closed_set_schema!(
    SectionRole,
    SectionRoleRule::ALL.map(SectionRoleRule::as_str),
    "A user's role in a section of the portal: `visitor` reads, `manager` acts."
);
closed_set_schema!(
    Civility,
    CivilityRule::ALL.map(CivilityRule::as_str),
    "How to address the contact: `ms` (Madame) or `mr` (Monsieur)."
);
closed_set_schema!(
    TokenRole,
    ActorRole::ALL
        .into_iter()
        .filter(|role| *role != ActorRole::System)
        .map(ActorRole::as_str),
    "The role an API token acts with (never `system`, Sablier's own)."
);
closed_set_schema!(
    RequestKind,
    RequestKindRule::ALL.map(RequestKindRule::as_str),
    "A kind of request."
);
closed_set_schema!(
    PortalStatus,
    PortalStatusRule::ALL.map(PortalStatusRule::as_str),
    "A request's status as the portal shows it."
);
closed_set_schema!(
    SortOrder,
    SORT_ORDERS,
    "The order of a list of requests: `newest_first` (the default) or `oldest_first`."
);

/// The names of `sablier_projections::request_list::SortOrder`, as the list route reads
/// them.
const SORT_ORDERS: [&str; 2] = ["newest_first", "oldest_first"];

marker_schema!(
    /// A file's name.
    AttachmentName,
    string("A file's name: no `/` or `\\`, not blank.")
        .min_length(Some(1))
        .max_length(Some(AttachmentNameRule::MAX_CHARS))
        .pattern(Some(AttachmentNameRule::PATTERN))
);

marker_schema!(
    /// A media type `type/subtype`.
    MediaType,
    string("A media type such as `application/pdf`.")
        .pattern(Some(MediaTypeRule::PATTERN))
);

marker_schema!(
    /// A SHA-256 digest.
    Sha256Digest,
    string("A SHA-256 digest: 64 hexadecimal digits.")
        .pattern(Some(Sha256DigestRule::PATTERN))
);

marker_schema!(
    /// A telephone number.
    PhoneNumber,
    string(
        "A telephone number: 6 to 20 digits, a leading `+`, spaces, dots, dashes or \
         parentheses.",
    )
    .pattern(Some(text::PhoneNumber::PATTERN))
);

marker_schema!(
    /// A service catalogue item's id.
    ServiceItemId,
    string("A service catalogue item's id: lower-case letters, digits and `-`.")
        .max_length(Some(ServiceItemIdRule::MAX_CHARS))
        .pattern(Some(ServiceItemIdRule::PATTERN))
);

marker_schema!(
    /// A calendar month.
    YearMonth,
    string("A calendar month, `YYYY-MM`.")
        .pattern(Some(YearMonthRule::PATTERN))
);

marker_schema!(
    /// What to search the request list for.
    SearchText,
    string("What to search for: anything but white space only.")
        .pattern(Some(SEARCH_TEXT_PATTERN))
);

/// The rule of `sablier_projections::request_list::SearchText::parse` (something other
/// than white space), as a JSON-Schema pattern.
const SEARCH_TEXT_PATTERN: &str = "\\S";

marker_schema!(
    /// A whole number written in decimal digits, for one a JSON number may not carry exactly.
    DecimalDigits,
    string(
        "A whole number in decimal digits (it may exceed what a JSON number carries exactly).",
    )
    .pattern(Some("^[0-9]+$"))
    .examples(["9223372036854775808"])
);

#[cfg(test)]
mod tests {
    use sablier_domain::text::InvalidField;
    use std::str::FromStr;

    use super::*;

    /// Checks that `pattern` matches exactly the samples `accepts` takes.
    fn agrees(pattern: &str, accepts: impl Fn(&str) -> bool, samples: &[&str]) {
        let regex = regex::Regex::new(pattern).unwrap();
        for sample in samples {
            assert_eq!(
                regex.is_match(sample),
                accepts(sample),
                "{pattern} and the parser disagree on {sample:?}"
            );
        }
    }

    /// The names a closed-set schema lists.
    fn listed<T: PartialSchema>() -> Vec<String> {
        let RefOr::T(Schema::Object(object)) = T::schema() else {
            panic!("a closed set is an object schema");
        };
        object
            .enum_values
            .expect("a closed set lists its names")
            .iter()
            .map(|name| name.as_str().unwrap().to_owned())
            .collect()
    }

    /// The pattern a schema states.
    fn pattern<T: PartialSchema>() -> String {
        let RefOr::T(Schema::Object(object)) = T::schema() else {
            panic!("an object schema");
        };
        object.pattern.expect("a pattern")
    }

    #[test]
    fn issue_21_no_openapi_pattern_is_written_by_hand() {
        let handlers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
        let written = regex::Regex::new(r#"pattern\s*=\s*r?#*""#).unwrap();
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&handlers).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|extension| extension != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for (number, line) in source.lines().enumerate() {
                if written.is_match(line) {
                    found.push(format!(
                        "{}:{}: {}",
                        path.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
        assert!(
            found.is_empty(),
            "patterns written by hand; name a schema of this module instead \
             (value_type = schema::...):\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn issue_21_the_terms_read_in_any_case_are_documented_in_any_case() {
        assert_eq!(any_case(["Gold", "P1"]), "^([Gg][Oo][Ll][Dd]|[Pp]1)$");
        let samples = [
            "Standard",
            "gold",
            "SILVER",
            "Platinum",
            "",
            " Gold",
            "P1",
            "p4",
            "P5",
            "GTR",
            "gti",
            "Delivery",
            "Flexible Engine",
            "cloud avenue",
            "Cloud  Avenue",
        ];
        agrees(
            &pattern::<Tier>(),
            |v| TierRule::from_str(v).is_ok(),
            &samples,
        );
        agrees(
            &pattern::<Priority>(),
            |v| PriorityRule::from_str(v).is_ok(),
            &samples,
        );
        agrees(
            &pattern::<Metric>(),
            |v| MetricRule::from_str(v).is_ok(),
            &samples,
        );
        agrees(
            &pattern::<Offer>(),
            |v| OfferRule::from_str(v).is_ok(),
            &samples,
        );
    }

    /// Each closed set lists exactly the names its parser takes.
    #[test]
    fn issue_21_the_closed_sets_list_what_their_parsers_take() {
        fn agrees_with(listed: Vec<String>, accepts: impl Fn(&str) -> bool, samples: &[&str]) {
            for sample in samples
                .iter()
                .copied()
                .chain(listed.iter().map(String::as_str))
            {
                assert_eq!(
                    listed.iter().any(|name| name == sample),
                    accepts(sample),
                    "{listed:?} and the parser disagree on {sample:?}"
                );
            }
        }
        fn serde_reads<T: serde::de::DeserializeOwned>(value: &str) -> bool {
            serde_json::from_value::<T>(serde_json::Value::from(value)).is_ok()
        }
        let samples = [
            "",
            "none",
            "Manager",
            "ms",
            "Mr",
            "system",
            "Admin",
            "standard",
            "Urgent",
            "incident",
            "Order",
            "draft",
            "in progress",
            "newest_first",
        ];
        agrees_with(listed::<LeadTime>(), serde_reads::<LeadTimeRule>, &samples);
        agrees_with(
            listed::<SectionRole>(),
            serde_reads::<SectionRoleRule>,
            &samples,
        );
        agrees_with(listed::<Civility>(), serde_reads::<CivilityRule>, &samples);
        agrees_with(
            listed::<TokenRole>(),
            |value| crate::http::tokens::token_role(value).is_ok(),
            &samples,
        );
        agrees_with(
            listed::<RequestKind>(),
            |value| RequestKindRule::from_str(value).is_ok(),
            &samples,
        );
        agrees_with(
            listed::<PortalStatus>(),
            |value| PortalStatusRule::from_str(value).is_ok(),
            &samples,
        );
        assert_eq!(listed::<SortOrder>(), ["newest_first", "oldest_first"]);
    }

    /// The patterns moved next to their parsers agree with them on the text as sent
    /// (surrounding white space aside, which the parsers trim).
    #[test]
    fn issue_21_the_domain_patterns_agree_with_their_parsers() {
        let long_subtype = format!("application/{}", "x".repeat(127));
        let too_long_subtype = format!("application/{}", "x".repeat(128));
        agrees(
            Sha256DigestRule::PATTERN,
            |v| Sha256DigestRule::parse(v).is_ok(),
            &[
                &"a".repeat(64),
                &"F0".repeat(32),
                &"a".repeat(63),
                &"g".repeat(64),
                "",
            ],
        );
        agrees(
            MediaTypeRule::PATTERN,
            |v| MediaTypeRule::parse(v).is_ok(),
            &[
                "application/pdf",
                "application/vnd.ms-excel",
                "text/x-c++",
                "/pdf",
                "pdf",
                "text/",
                "-a/b",
                "a b/c",
                &long_subtype,
                &too_long_subtype,
            ],
        );
        agrees(
            YearMonthRule::PATTERN,
            |v| YearMonthRule::from_str(v).is_ok(),
            &[
                "2026-03", "0001-12", "2026-13", "2026-00", "26-03", "2026-3", "abcd-01",
            ],
        );
        agrees(
            AttachmentNameRule::PATTERN,
            |v| AttachmentNameRule::parse(v).is_ok(),
            &["plan.pdf", "rapport final.docx", "a/b", "a\\b", "", "   "],
        );
        agrees(
            text::PhoneNumber::PATTERN,
            |v| text::PhoneNumber::parse(v).is_ok(),
            &[
                "+33 1 23 45 67 89",
                "01.23.45.67.89",
                "(01) 23-45",
                "12345",
                "01 23 45 67 8x",
            ],
        );
        agrees(
            ServiceItemIdRule::PATTERN,
            |v| ServiceItemIdRule::parse(v).is_ok(),
            &[
                "pack-expert-4h",
                "a",
                "Pack",
                "pack expert",
                "pack_expert",
                "",
            ],
        );
        agrees(
            SEARCH_TEXT_PATTERN,
            |v| sablier_projections::request_list::SearchText::parse(v).is_ok(),
            &["disk", " disk ", "", "   ", "\t\n"],
        );
    }

    /// The patterns the document states accept what the parsers accept, on samples from
    /// either side of each rule.
    #[test]
    fn the_patterns_agree_with_the_parsers() {
        fn agree(
            pattern: &str,
            parse: impl Fn(&str) -> Result<(), InvalidField>,
            samples: &[&str],
        ) {
            let regex = regex::Regex::new(pattern).unwrap();
            for sample in samples {
                assert_eq!(
                    regex.is_match(sample),
                    parse(sample).is_ok(),
                    "{pattern} and the parser disagree on {sample:?}"
                );
            }
        }
        agree(
            text::Login::PATTERN,
            |value| text::Login::parse(value).map(drop),
            &[
                "jean.dupont",
                "a_b-c.d9",
                "short",
                "jean dupont",
                "jéandupont",
                &"x".repeat(65),
            ],
        );
        agree(
            ContractIdRule::PATTERN,
            |value| ContractIdRule::parse(value).map(drop),
            &[
                "OCB0000124",
                "OCB000012",
                "OCB00001245",
                "ocb0000124",
                "OCBabcdefg",
            ],
        );
        agree(
            PauseReasonRule::PATTERN,
            |value| PauseReasonRule::parse(value).map(drop),
            &[
                "awaiting_customer",
                "a",
                "Awaiting",
                "awaiting customer",
                "",
                &"a".repeat(65),
            ],
        );
        agree(
            text::NON_BLANK_TEXT_PATTERN,
            |value| text::FreeText::parse(value).map(drop),
            &[
                "Disk full",
                "",
                "   ",
                "a\nb",
                "tab\there",
                "bell\u{7}",
                "\u{7}",
                "del\u{7f}x",
                " x\r\n",
            ],
        );
        agree(
            text::PLAIN_TEXT_PATTERN,
            |value| text::Comment::parse(value).map(drop),
            &[
                "",
                "a comment",
                "line\nbreak",
                "nul\u{0}",
                "c1\u{85}",
                "cr\r",
                " padded ",
            ],
        );
    }
}
