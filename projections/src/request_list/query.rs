//! What a reader asks of the request list, parsed once at the edge: who is asking (which
//! contracts they may see), the filters, the search text, the sort order and the page
//! (limit and keyset cursor). Invalid input is refused here, never inside the query.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sablier_domain::ContractId;

use crate::request_list::search;

/// Why a request-list query was refused: the field and the rule it broke (the API turns it
/// into a 400 naming the field).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidRequestQuery {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidRequestQuery {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// The three kinds of request the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestKind {
    Incident,
    Change,
    Order,
}

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [
        RequestKind::Incident,
        RequestKind::Change,
        RequestKind::Order,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Incident => "incident",
            RequestKind::Change => "change",
            RequestKind::Order => "order",
        }
    }
}

/// What the portal shows a customer: `draft` (brouillon, a change not submitted yet),
/// `transmitted`, `in_progress` (en cours) or `completed` (terminée). See
/// [`crate::request_list::status`] for the mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortalStatus {
    Draft,
    Transmitted,
    InProgress,
    Completed,
}

impl PortalStatus {
    pub const ALL: [PortalStatus; 4] = [
        PortalStatus::Draft,
        PortalStatus::Transmitted,
        PortalStatus::InProgress,
        PortalStatus::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PortalStatus::Draft => "draft",
            PortalStatus::Transmitted => "transmitted",
            PortalStatus::InProgress => "in_progress",
            PortalStatus::Completed => "completed",
        }
    }
}

/// `Display` as `as_str()`, and `FromStr` that takes exactly one of `ALL`'s names (spaces
/// around it trimmed; case matters, as in the query string the API documents), refusing
/// anything else with an [`InvalidRequestQuery`] naming the field.
macro_rules! display_and_parse_exact {
    ($ty:ty, $field:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = InvalidRequestQuery;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|known| known.as_str() == value.trim())
                    .ok_or_else(|| {
                        let expected: Vec<&str> =
                            Self::ALL.iter().map(|known| known.as_str()).collect();
                        InvalidRequestQuery::new(
                            $field,
                            format!(
                                "unknown value '{value}' (expected one of: {})",
                                expected.join(", ")
                            ),
                        )
                    })
            }
        }
    };
}

display_and_parse_exact!(RequestKind, "kind");
display_and_parse_exact!(PortalStatus, "portal_status");

/// By creation instant, then by request id (the tie-breaker that makes the order total).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// How many rows a page holds: 1 to [`PageLimit::MAX`], [`PageLimit::DEFAULT`] unless told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const MAX: u32 = 200;
    pub const DEFAULT: PageLimit = PageLimit(50);

    pub fn new(limit: u32) -> Result<Self, InvalidRequestQuery> {
        if (1..=Self::MAX).contains(&limit) {
            Ok(Self(limit))
        } else {
            Err(InvalidRequestQuery::new(
                "limit",
                format!("must be between 1 and {} (got {limit})", Self::MAX),
            ))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the user typed in the search box, normalised as the indexed terms are (trimmed,
/// whitespace runs collapsed, lower-cased): 1 to [`SearchText::MAX_CHARS`] characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchText {
    normalised: String,
    upper_bound: String,
}

impl SearchText {
    /// Indexed terms keep this many characters, so a longer search could not match exactly.
    pub const MAX_CHARS: usize = search::MAX_TERM_CHARS;

    pub fn parse(text: impl AsRef<str>) -> Result<Self, InvalidRequestQuery> {
        let normalised = search::normalise(text.as_ref());
        let chars = normalised.chars().count();
        if chars == 0 {
            return Err(InvalidRequestQuery::new("search", "must not be empty"));
        }
        if chars > Self::MAX_CHARS {
            return Err(InvalidRequestQuery::new(
                "search",
                format!(
                    "must be at most {} characters (got {chars})",
                    Self::MAX_CHARS
                ),
            ));
        }
        let upper_bound = search::prefix_upper_bound(&normalised).ok_or_else(|| {
            InvalidRequestQuery::new("search", "contains no searchable character")
        })?;
        Ok(Self {
            normalised,
            upper_bound,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.normalised
    }

    /// The least string above every string that starts with this text: `[text, bound)` is
    /// the index range of the terms it matches.
    pub(crate) fn upper_bound(&self) -> &str {
        &self.upper_bound
    }
}

/// Where the next page starts: the sort key `(created_at, request_id)` of the last row
/// served, and the sort and filters of the list it continues
/// ([`RequestQuery::check_cursor`]). Opaque to clients (hex of a versioned text), stable
/// whatever arrives meanwhile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageCursor {
    /// [`RequestQuery::fingerprint`] of the query that handed it out.
    pub(crate) query: String,
    pub(crate) created_at: String,
    pub(crate) request_id: String,
}

impl PageCursor {
    const VERSION: &'static str = "2";

    /// The cursor after the row `(created_at, request_id)` of a page of `query`.
    pub(crate) fn new(query: &RequestQuery, created_at: String, request_id: String) -> Self {
        Self {
            query: query.fingerprint(),
            created_at,
            request_id,
        }
    }

    pub fn parse(text: impl AsRef<str>) -> Result<Self, InvalidRequestQuery> {
        let invalid = || InvalidRequestQuery::new("cursor", "is not a cursor this list handed out");
        let decoded = decode_hex(text.as_ref().trim()).ok_or_else(invalid)?;
        let mut parts = decoded.split('\n');
        let (Some(Self::VERSION), Some(query), Some(created_at), Some(request_id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid());
        };
        if DateTime::parse_from_rfc3339(created_at).is_err() || request_id.is_empty() {
            return Err(invalid());
        }
        Ok(Self {
            query: query.to_owned(),
            created_at: created_at.to_owned(),
            request_id: request_id.to_owned(),
        })
    }
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!(
            "{}\n{}\n{}\n{}",
            Self::VERSION,
            self.query,
            self.created_at,
            self.request_id
        );
        for byte in text.bytes() {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

fn decode_hex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// A contract a customer reads requests of, and the kinds they may read there (those of
/// the sections they are at least visitor on: incidents on Support, changes and orders on
/// Services).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisibleContract {
    pub contract: ContractId,
    pub kinds: Vec<RequestKind>,
}

impl VisibleContract {
    /// Every kind of request of `contract`.
    pub fn every_kind(contract: ContractId) -> Self {
        Self {
            contract,
            kinds: RequestKind::ALL.to_vec(),
        }
    }
}

/// The change drafts a reader may list (docs/domain.md "Drafts": a draft is seen only by
/// its author and the Services managers of its contract). None by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisibleDrafts {
    /// Contracts whose every draft the reader sees: those where they manage Services.
    pub every_draft_on: Vec<ContractId>,
    /// The reader's login: they see the drafts they saved...
    pub author: Option<String>,
    /// ...on these contracts (a customer: those they are declared on); `None`: on any
    /// contract (staff).
    pub own_on: Option<Vec<ContractId>>,
}

/// One page of the request list as a reader asks for it. Built for a customer (who sees
/// only the contracts they are declared on, and there only the kinds they may read) or
/// for staff (who see every contract): there is deliberately no default, so that no
/// caller gets "every contract" by forgetting a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestQuery {
    /// `None`: staff, every contract. `Some`: only these contracts, and on each only its
    /// kinds (empty: nothing).
    pub visible_contracts: Option<Vec<VisibleContract>>,
    /// The change drafts the reader may see besides (none unless set): a draft is listed
    /// only when no search is given.
    pub drafts: VisibleDrafts,
    pub contract: Option<ContractId>,
    pub kind: Option<RequestKind>,
    pub portal_status: Option<PortalStatus>,
    /// The aggregate's own status (`awaiting_customer`, `quoted`…), across kinds unless
    /// `kind` is set too.
    pub detailed_status: Option<String>,
    /// Matches contract names, contract ids, request ids and request names (and references).
    pub search: Option<SearchText>,
    pub sort: SortOrder,
    pub after: Option<PageCursor>,
    pub limit: PageLimit,
}

impl RequestQuery {
    pub fn for_customer(visible_contracts: Vec<VisibleContract>) -> Self {
        Self::unfiltered(Some(visible_contracts))
    }

    /// The sort and filters that make this list what it is (not the cursor nor the page
    /// size, nor who reads it), as 16 hex digits (64-bit FNV-1a of their text): a cursor
    /// carries it, so that it continues only the list it was handed out for.
    fn fingerprint(&self) -> String {
        let sort = match self.sort {
            SortOrder::NewestFirst => "newest_first",
            SortOrder::OldestFirst => "oldest_first",
        };
        // Each part as the query names it after `=`, empty when absent, separated by the
        // unit separator (a control character).
        let text = [
            Some(sort),
            self.contract.as_ref().map(ContractId::as_str),
            self.kind.map(RequestKind::as_str),
            self.portal_status.map(PortalStatus::as_str),
            self.detailed_status.as_deref(),
            self.search.as_ref().map(SearchText::as_str),
        ]
        .map(|part| part.map_or(String::new(), |part| format!("={part}")))
        .join("\u{1f}");
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        format!("{hash:016x}")
    }

    /// Refuses a cursor handed out for another sort or other filters: followed here, it
    /// would skip or repeat rows of this list without a word.
    pub fn check_cursor(&self) -> Result<(), InvalidRequestQuery> {
        match &self.after {
            Some(cursor) if cursor.query != self.fingerprint() => Err(InvalidRequestQuery::new(
                "cursor",
                "continues a list of another sort or other filters; ask again without it",
            )),
            _ => Ok(()),
        }
    }

    pub fn for_staff() -> Self {
        Self::unfiltered(None)
    }

    fn unfiltered(visible_contracts: Option<Vec<VisibleContract>>) -> Self {
        Self {
            visible_contracts,
            drafts: VisibleDrafts::default(),
            contract: None,
            kind: None,
            portal_status: None,
            detailed_status: None,
            search: None,
            sort: SortOrder::default(),
            after: None,
            limit: PageLimit::default(),
        }
    }
}

/// One request as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRow {
    pub request_id: String,
    pub kind: RequestKind,
    pub contract_id: ContractId,
    /// `None` when the contract's creation was not seen (a change or an order on a contract
    /// this view never heard of); incidents carry their contract's name themselves.
    pub contract_name: Option<String>,
    /// Incident: its title. Change: the article asked for. Order: the item ordered.
    pub name: String,
    /// Change: the customer's own reference, if any. Order: its reference
    /// (`FCA0124-2611-0001`). Incident: none.
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The login that created the request (for a change: that submitted it).
    pub created_by: String,
    /// The customer a staff member created it for, when they said so.
    pub created_on_behalf_of: Option<String>,
    pub detailed_status: String,
    pub portal_status: PortalStatus,
    /// The instant of the last event applied to this request.
    pub last_update_at: DateTime<Utc>,
    /// The feed position of that event.
    pub last_position: i64,
}

/// A page of rows and, when more rows follow, the cursor of the next page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestPage {
    pub rows: Vec<RequestRow>,
    pub next: Option<PageCursor>,
}
