//! Parse, don't validate: every piece of user text is checked once, at the edge, and the
//! domain only ever holds these newtypes.
//!
//! Stored events deserialize them without re-checking (`serde(transparent)`): a fact
//! recorded under yesterday's rules stays readable if a rule tightens.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A field that breaks its rule. `field` names the input field as the API calls it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct InvalidField {
    pub field: &'static str,
    pub rule: String,
}

impl InvalidField {
    pub fn new(field: &'static str, rule: impl Into<String>) -> Self {
        Self {
            field,
            rule: rule.into(),
        }
    }

    /// The same rule, reported under another field name (e.g. `contact.email`).
    pub fn at(self, field: &'static str) -> Self {
        Self { field, ..self }
    }
}

/// Text without control characters other than tab and line feed, as a JSON-Schema
/// (ECMA-262) pattern: the rule every `bounded_text!` type checks, stated for the API's
/// document.
pub const PLAIN_TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";

/// [`PLAIN_TEXT_PATTERN`] with at least one character that is not white space.
pub const NON_BLANK_TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";

/// Defines a trimmed text newtype of at most `$max` characters, non-empty unless
/// `allow_empty`. Length and characters are checked on the text as given, so that its
/// constants state the rule exactly for the API's document; the value kept is trimmed.
macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, allow_empty = $allow_empty:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;
            /// 0 when the text may be empty, else 1.
            pub const MIN_CHARS: usize = if $allow_empty { 0 } else { 1 };
            /// The characters allowed, as a JSON-Schema pattern.
            pub const PATTERN: &'static str = if $allow_empty {
                PLAIN_TEXT_PATTERN
            } else {
                NON_BLANK_TEXT_PATTERN
            };

            pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
                let given = value.as_ref();
                let trimmed = given.trim();
                if !$allow_empty && trimmed.is_empty() {
                    return Err(InvalidField::new($field, "must not be empty"));
                }
                let chars = given.chars().count();
                if chars > $max {
                    return Err(InvalidField::new(
                        $field,
                        format!("must be at most {} characters (got {chars})", $max),
                    ));
                }
                if given.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    return Err(InvalidField::new($field, "must not contain control characters"));
                }
                Ok(Self(trimmed.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

bounded_text!(
    /// A request's comment: at most 400 characters (docs/domain.md "Change requests").
    Comment, "comment", 400, allow_empty = true
);
bounded_text!(
    /// A comment on an incident: never empty, at most 4,000 characters (docs/domain.md,
    /// "Incidents").
    IncidentComment, "text", 4000, allow_empty = false
);
bounded_text!(
    /// The customer's own reference for a change: optional, at most 64 characters.
    CustomerReference, "customer_reference", 64, allow_empty = false
);
bounded_text!(
    /// A short title: an incident's summary, a contract's name.
    Title, "title", 200, allow_empty = false
);
bounded_text!(
    /// Free text: descriptions, additional information, reasons, resolutions.
    FreeText, "text", 10000, allow_empty = false
);
bounded_text!(
    /// A person's or company's name.
    Name, "name", 128, allow_empty = false
);
bounded_text!(
    /// The asset a change concerns (élément de parc).
    AssetRef, "asset", 128, allow_empty = false
);
bounded_text!(
    /// What an API token is for, shown in listings; may be empty.
    TokenLabel, "label", 200, allow_empty = true
);

/// A user's login: 8 to 64 characters among ASCII letters, digits and `. _ -`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Login(String);

impl Login {
    /// The rule [`Login::parse`] checks, as a JSON-Schema pattern.
    pub const PATTERN: &'static str = "^[A-Za-z0-9._-]{8,64}$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref();
        let length = value.chars().count();
        if !(8..=64).contains(&length) {
            return Err(InvalidField::new(
                "login",
                format!("must be 8 to 64 characters (got {length})"),
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(InvalidField::new(
                "login",
                format!("may contain only letters, digits and . _ - (found '{bad}')"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, kept in lower case so one address is one identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        let invalid = |rule: &str| Err(InvalidField::new("email", rule.to_owned()));
        if value.len() > Self::MAX_CHARS {
            return invalid("must be at most 254 characters");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return invalid("must contain one '@'");
        };
        if local.is_empty() || local.len() > 64 {
            return invalid("the part before '@' must be 1 to 64 characters");
        }
        if domain.contains('@') {
            return invalid("must contain one '@'");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|label| {
                label.is_empty()
                    || label.starts_with('-')
                    || label.ends_with('-')
                    || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        {
            return invalid("the domain must be dot-separated labels of letters, digits and '-'");
        }
        if local.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        }) {
            return invalid("the part before '@' contains a character not allowed in an address");
        }
        Ok(Self(value.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A telephone number: digits with optional leading `+` and separators, 6 to 20 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// The number's shape as the API's document states it, a JSON-Schema pattern: digits,
    /// `+` and separators, 6 to 32 characters. [`PhoneNumber::parse`] also counts 6 to 20
    /// digits and takes `+` only first.
    pub const PATTERN: &'static str = "^[+0-9 ().-]{6,32}$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value.chars().enumerate().all(|(index, c)| {
            c.is_ascii_digit()
                || matches!(c, ' ' | '.' | '-' | '(' | ')')
                || (c == '+' && index == 0)
        });
        if !allowed || !(6..=20).contains(&digits) {
            return Err(InvalidField::new(
                "phone",
                "must be 6 to 20 digits, optionally with a leading '+' and spaces, dots, dashes or parentheses",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_rules() {
        assert!(Login::parse("jean.dupont").is_ok());
        assert!(Login::parse("a_b-c.d9").is_ok());
        assert_eq!(
            Login::parse("short").unwrap_err(),
            InvalidField::new("login", "must be 8 to 64 characters (got 5)")
        );
        assert_eq!(
            Login::parse("jean dupont").unwrap_err(),
            InvalidField::new(
                "login",
                "may contain only letters, digits and . _ - (found ' ')"
            )
        );
        assert!(Login::parse("x".repeat(64)).is_ok());
        assert!(Login::parse("x".repeat(65)).is_err());
        assert!(Login::parse("jéandupont").is_err());
    }

    #[test]
    fn comment_is_at_most_400_characters() {
        assert!(Comment::parse("é".repeat(400)).is_ok());
        assert_eq!(
            Comment::parse("é".repeat(401)).unwrap_err(),
            InvalidField::new("comment", "must be at most 400 characters (got 401)")
        );
        assert_eq!(Comment::parse("  ").unwrap().as_str(), "");
    }

    #[test]
    fn issue_20_an_incident_comment_is_never_empty_and_at_most_4000_characters() {
        for blank in ["", "   ", "\n\t"] {
            assert_eq!(
                IncidentComment::parse(blank).unwrap_err(),
                InvalidField::new("text", "must not be empty"),
                "{blank:?}"
            );
        }
        assert!(IncidentComment::parse("é".repeat(4000)).is_ok());
        assert_eq!(
            IncidentComment::parse("é".repeat(4001)).unwrap_err(),
            InvalidField::new("text", "must be at most 4000 characters (got 4001)")
        );
        assert_eq!(IncidentComment::MIN_CHARS, 1);
        assert_eq!(IncidentComment::PATTERN, NON_BLANK_TEXT_PATTERN);
    }

    #[test]
    fn customer_reference_is_at_most_64_characters() {
        assert!(CustomerReference::parse("R".repeat(64)).is_ok());
        assert!(CustomerReference::parse("R".repeat(65)).is_err());
        assert!(CustomerReference::parse("").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Jean.Dupont@Example.FR ").unwrap().as_str(),
            "jean.dupont@example.fr"
        );
        for bad in [
            "", "no-at", "a@b", "a@@b.fr", "@b.fr", "a b@c.fr", "a@-b.fr", "a@b..fr",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn phone_numbers() {
        assert!(PhoneNumber::parse("+33 1 23 45 67 89").is_ok());
        assert!(PhoneNumber::parse("01.23.45.67.89").is_ok());
        assert!(PhoneNumber::parse("12345").is_err());
        assert!(PhoneNumber::parse("01 23 45 67 8x").is_err());
        assert!(PhoneNumber::parse("0+123456789").is_err());
    }
}
