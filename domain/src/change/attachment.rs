//! A file attached to a change. Sablier records what identifies the file (name, media
//! type, size, SHA-256), never its content: the content lives in the provider's file store
//! and the digest proves which file the customer sent.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::InvalidField;

/// At most this many attachments per change (seed 000: "5 pièces jointes maximum").
pub const MAX_ATTACHMENTS: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attachment {
    pub name: AttachmentName,
    pub media_type: MediaType,
    pub size_bytes: u64,
    pub sha256: Sha256Digest,
}

/// A file name: 1 to 255 characters, no path separator, no control character.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttachmentName(String);

impl AttachmentName {
    pub const MAX_CHARS: usize = 255;
    /// The name as the API's document states it, a JSON-Schema pattern: no path separator,
    /// and something other than white space. [`AttachmentName::parse`] also trims the name
    /// and refuses control characters.
    pub const PATTERN: &'static str = "^[^/\\\\]*[^/\\\\\\s][^/\\\\]*$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        let invalid = |rule: String| InvalidField::new("attachments.name", rule);
        let chars = value.chars().count();
        if chars == 0 {
            return Err(invalid("must not be empty".to_owned()));
        }
        if chars > Self::MAX_CHARS {
            return Err(invalid(format!(
                "must be at most {} characters (got {chars})",
                Self::MAX_CHARS
            )));
        }
        if value
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\'))
        {
            return Err(invalid(
                "must be a file name, without '/', '\\' or control characters".to_owned(),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttachmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A media type such as `application/pdf` (RFC 6838 `type/subtype`, parameters dropped),
/// kept in lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MediaType(String);

impl MediaType {
    /// The rule [`MediaType::parse`] checks on a `type/subtype` without parameters, as a
    /// JSON-Schema pattern (RFC 6838 restricted names of 1 to 127 characters).
    pub const PATTERN: &'static str =
        "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let essence = value.as_ref().split(';').next().unwrap_or("").trim();
        let restricted_name = |part: &str| {
            (1..=127).contains(&part.len())
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
                && part.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '!' | '#' | '$' | '&' | '-' | '^' | '_' | '.' | '+')
                })
        };
        match essence.split_once('/') {
            Some((kind, subtype)) if restricted_name(kind) && restricted_name(subtype) => {
                Ok(Self(essence.to_ascii_lowercase()))
            }
            _ => Err(InvalidField::new(
                "attachments.media_type",
                format!("must be a media type such as application/pdf (got '{essence}')"),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SHA-256 digest: 64 hexadecimal digits, kept in lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sha256Digest(String);

impl Sha256Digest {
    /// The rule [`Sha256Digest::parse`] checks, as a JSON-Schema pattern.
    pub const PATTERN: &'static str = "^[0-9a-fA-F]{64}$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        if value.len() != 64 || !value.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(InvalidField::new(
                "attachments.sha256",
                "must be 64 hexadecimal digits (a SHA-256 digest)",
            ));
        }
        Ok(Self(value.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names() {
        assert_eq!(
            AttachmentName::parse(" plan.pdf ").unwrap().as_str(),
            "plan.pdf"
        );
        assert!(AttachmentName::parse("").is_err());
        assert!(AttachmentName::parse("../etc/passwd").is_err());
        assert!(AttachmentName::parse("a\\b").is_err());
        assert!(AttachmentName::parse("x".repeat(255)).is_ok());
        assert_eq!(
            AttachmentName::parse("x".repeat(256)).unwrap_err(),
            InvalidField::new(
                "attachments.name",
                "must be at most 255 characters (got 256)"
            )
        );
    }

    #[test]
    fn media_types() {
        assert_eq!(
            MediaType::parse("Application/PDF").unwrap().as_str(),
            "application/pdf"
        );
        assert_eq!(
            MediaType::parse("text/plain; charset=utf-8")
                .unwrap()
                .as_str(),
            "text/plain"
        );
        assert!(MediaType::parse("application/vnd.ms-excel").is_ok());
        for bad in ["", "pdf", "application/", "/pdf", "a/b/c", "text /plain"] {
            assert!(MediaType::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn sha256_digests() {
        let digest = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(
            Sha256Digest::parse(digest).unwrap().as_str(),
            digest.to_ascii_lowercase()
        );
        assert!(Sha256Digest::parse(&digest[1..]).is_err());
        assert!(Sha256Digest::parse(format!("{}g", &digest[1..])).is_err());
    }
}
