//! The OpenAPI schemas of the domain's parsed newtypes, built from the constants the
//! newtypes parse with (`MAX_CHARS`, `MIN_CHARS`, `PATTERN`): the document states each
//! rule once, as a named component (`#/components/schemas/FreeText`), and cannot drift
//! from the parser. A body field names one with `#[schema(value_type = schema::FreeText)]`
//! (`Option<schema::FreeText>` when it may be left out).
//!
//! The types here are markers for the document only; the handlers parse with the domain's
//! types of the same name.

use sablier_domain::ContractId as ContractIdRule;
use sablier_domain::incident::PauseReason as PauseReasonRule;
use sablier_domain::text;
use sablier_sla::clock::IntervalKind as IntervalKindRule;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// A schema for each trimmed text newtype of `sablier_domain::text`.
macro_rules! bounded_text_schema {
    ($name:ident, $description:literal) => {
        #[doc = $description]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string($description)
                    .min_length(Some(text::$name::MIN_CHARS))
                    .max_length(Some(text::$name::MAX_CHARS))
                    .pattern(Some(text::$name::PATTERN))
                    .into()
            }
        }

        impl ToSchema for $name {}
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

/// 8 to 64 characters among letters, digits and `. _ -`.
pub struct Login;

impl PartialSchema for Login {
    fn schema() -> RefOr<Schema> {
        string("A user's login: 8 to 64 characters among letters, digits and `. _ -`.")
            .pattern(Some(text::Login::PATTERN))
            .into()
    }
}

impl ToSchema for Login {}

/// An email address.
pub struct Email;

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        string("An email address (kept in lower case).")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(text::Email::MAX_CHARS))
            .into()
    }
}

impl ToSchema for Email {}

/// A contract number.
pub struct ContractId;

impl PartialSchema for ContractId {
    fn schema() -> RefOr<Schema> {
        string("A contract number: `OCB` and 7 digits.")
            .pattern(Some(ContractIdRule::PATTERN))
            .into()
    }
}

impl ToSchema for ContractId {}

/// Why an incident's clocks pause: a code, not prose.
pub struct PauseReason;

impl PartialSchema for PauseReason {
    fn schema() -> RefOr<Schema> {
        string(
            "Why the clocks pause: a code of 1 to 64 lowercase letters, digits or `_` \
             (default `awaiting_customer`).",
        )
        .pattern(Some(PauseReasonRule::PATTERN))
        .into()
    }
}

impl ToSchema for PauseReason {}

/// What an interval of a clock's explanation is.
pub struct IntervalKind;

impl PartialSchema for IntervalKind {
    fn schema() -> RefOr<Schema> {
        string("What an interval of an explanation is: counted time, or why it was not counted.")
            .enum_values(Some(IntervalKindRule::ALL.map(IntervalKindRule::as_str)))
            .into()
    }
}

impl ToSchema for IntervalKind {}

#[cfg(test)]
mod tests {
    use sablier_domain::text::InvalidField;

    use super::*;

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
