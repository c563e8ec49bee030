//! Who is calling, and what they may do: the rights of docs/domain.md "Users and roles",
//! as the API applies them.
//!
//! [`authenticate`] stands in front of every route that needs a caller and checks the
//! bearer token first; [`Caller`] then reads what it found.
//!
//! Every route declares the [`Right`] it needs where it is registered (`http::routes`),
//! and [`declared`] hands that right to the route's [`Caller`]. A handler applies it
//! through [`Caller::authorize`], [`Caller::authorize_on`] or
//! [`Caller::authorize_request`] at the point it knows the contract, and gets an
//! [`Authorized`] caller, which running a command takes. A route that answers with
//! success without having applied its right answers 500 instead, and a route that
//! declares no right cannot build a [`Caller`].
//!
//! A bearer token names a login and a kind of actor (customer, agent, analyst, admin).
//! Staff see every contract; analysts only read. A customer sees only the contracts they
//! are declared on (another contract's objects answer 404, never 403), and within one
//! holds a role per section: visitor reads, manager acts. Opening an incident needs
//! visitor or manager on Support; changes and orders need manager on Services; an upgrade
//! needs manager on Contract; managing users needs manager on Users; billing amounts need
//! manager on Invoices. What only the kind of actor decides (staff-only steps) the
//! aggregates check themselves.
//!
//! A request is read by its section ([`section_of`]): incidents on Support, changes and
//! orders on Services; lists follow the same rule ([`Caller::readable_requests`] gives the
//! request list and the breach watch, per contract, the kinds the caller may read there).
//! A change draft answers 404 to anyone but its author and its contract's Services
//! managers ([`Caller::may_see_draft`]). Once the token is known, a `Sablier-Read-After:
//! <position>` header makes the request wait for the views to reach that position
//! ([`crate::http::state::AppState::views_reach`]); `Sablier-Channel` names the channel
//! the events record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sablier_domain::contract::{Section, SectionRole, SectionRoles};
use sablier_domain::text::Login;
use sablier_domain::{Actor, ActorRole, Channel, CommandContext, ContractId};
use sablier_projections::directory::Directory;
use sablier_projections::request_list::{
    PortalStatus, RequestKind, RequestRow, VisibleContract, VisibleDrafts,
};
use sablier_store::access::{TokenGrant, could_be_token};

use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::http::telemetry::RequestId;

/// The header naming the channel a command came through.
pub const CHANNEL_HEADER: &str = "sablier-channel";
/// A position a command answered with: the request waits (bounded) until the views show it.
pub const READ_AFTER_HEADER: &str = "sablier-read-after";

/// The `Sablier-Read-After` header's position, if the request carries one.
fn read_after(headers: &axum::http::HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(value) = headers.get(READ_AFTER_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse::<i64>().ok())
        .filter(|position| *position >= 0)
        .map(Some)
        .ok_or_else(|| {
            Problem::malformed(format!(
                "Sablier-Read-After must be an event position, a whole number from 0 (as a command's answer reports it); got {:?}",
                String::from_utf8_lossy(value.as_bytes())
            ))
        })
}

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub actor: Actor,
    pub token_id: String,
    pub request_id: String,
    /// Staff acting for a customer (a phone call): that customer's login.
    pub on_behalf_of: Option<Login>,
    /// What the command came through: the `Sablier-Channel` header (`portal`, `phone`
    /// or `api`), `api` without it.
    pub channel: Channel,
    /// Customers: their section roles per contract they are declared on. Staff: empty.
    memberships: BTreeMap<String, SectionRoles>,
    /// The right the route declares, and whether it was applied.
    right: DeclaredRight,
}

/// What a route needs of its caller, declared once where the route is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Right {
    /// No caller at all: the probes, the metrics, the OpenAPI document.
    Public,
    /// Any authenticated caller: the answer shows only what they see.
    Anyone,
    /// Administrators; the refusal names the action.
    Admin(&'static str),
    /// `Need` on the contract the route is about: the one its path or body names, or the
    /// one of the object its path names.
    On(Need),
    /// Staff (agents and administrators) on a contract they see (a customer declared on it
    /// is refused naming the action, another gets 404).
    StaffOn(&'static str),
    /// Reading a request: visitor on the section of its kind ([`section_of`]); a change
    /// draft only for whoever may see it ([`Caller::may_see_draft`]).
    ReadRequest,
}

/// The right of the route a request reached, and whether the handler applied it.
#[derive(Clone, Debug)]
pub struct DeclaredRight {
    right: Right,
    applied: Arc<AtomicBool>,
}

impl DeclaredRight {
    fn applied(&self) -> bool {
        self.right == Right::Public || self.applied.load(Ordering::Relaxed)
    }
}

/// The layer each route is registered with: it hands the route's [`Right`] to its
/// [`Caller`], and turns a success answered without that right applied into a 500.
pub async fn declared(State(right): State<Right>, mut request: Request, next: Next) -> Response {
    let declared = DeclaredRight {
        right,
        applied: Arc::new(AtomicBool::new(right == Right::Anyone)),
    };
    request.extensions_mut().insert(declared.clone());
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status().is_success() && !declared.applied() {
        tracing::error!(path, ?right, "a route answered without applying its right");
        return unanswerable().into_response();
    }
    response
}

/// The opaque 500 of a route that is wired wrong; the cause is logged where it is found.
fn unanswerable() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server failed to answer; the failure is logged",
    )
}

/// A caller whose route's [`Right`] was applied, and the contract it was applied on: what
/// running a command takes (`command::execute`, `command::act_on`).
#[derive(Clone, Debug)]
pub struct Authorized {
    caller: Caller,
    /// The contract the right was checked on; `None` for a right that names none
    /// ([`Caller::authorize`]).
    contract: Option<String>,
}

impl std::ops::Deref for Authorized {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl Authorized {
    /// The contract the right was checked on, if it names one.
    pub fn contract(&self) -> Option<&str> {
        self.contract.as_deref()
    }

    /// The same caller, acting for `login` (staff taking a customer's call): a user
    /// declared on `contract` who may do there what `need` asks (docs/domain.md, "Users
    /// and roles"), else 422 naming `field`.
    pub async fn on_behalf_of(
        self,
        state: &AppState,
        login: Login,
        contract: &str,
        need: Need,
        field: &str,
    ) -> Result<Self, Problem> {
        // A user declared by a command this server acknowledged is seen at once.
        state.views_caught_up(&[Directory::NAME]).await?;
        let mut memberships = BTreeMap::new();
        for entry in Directory::memberships(&state.reader, login.as_str()).await? {
            memberships.insert(entry.contract_id.clone(), entry.roles()?);
        }
        let represented = Caller {
            actor: Actor::new(login.clone(), ActorRole::Customer),
            on_behalf_of: None,
            memberships,
            ..self.caller.clone()
        };
        if let Err(refusal) = represented.require(contract, need, "contract") {
            let rule = if represented.sees(contract) {
                format!(
                    "{login} may not do this on contract {contract}: {}",
                    refusal.detail
                )
            } else {
                format!("{login} is not a user declared on contract {contract}")
            };
            return Err(Problem::invalid_field(field, rule));
        }
        Ok(Self {
            caller: Caller {
                on_behalf_of: Some(login),
                ..self.caller
            },
            contract: self.contract,
        })
    }

    /// A command prepared for this caller would be recorded under `context` on `contract`
    /// (the object the bus loaded): refused as a route wired wrong unless this is the
    /// caller and the contract the right was applied to.
    pub fn confirm(&self, context: &CommandContext, contract: Option<&str>) -> Result<(), Problem> {
        if self.context() != *context {
            return Err(self.misapplied("for another caller than the one the command records"));
        }
        if self.contract() != contract {
            return Err(self.misapplied("on another contract than the object's"));
        }
        Ok(())
    }
}

/// The section whose role decides who reads a request of `kind`: Support for incidents,
/// Services for changes and orders.
pub fn section_of(kind: RequestKind) -> Section {
    match kind {
        RequestKind::Incident => Section::Support,
        RequestKind::Change | RequestKind::Order => Section::Services,
    }
}

/// What a route needs on a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Declared on the contract (any section): the contract itself, its lists.
    Declared,
    /// At least visitor on the section.
    Read(Section),
    /// Manager on the section.
    Manage(Section),
    /// Opening or following an incident: visitor or manager on Support, and not an analyst.
    ActOnSupport,
}

impl Caller {
    pub fn is_staff(&self) -> bool {
        matches!(
            self.actor.role,
            ActorRole::Agent | ActorRole::Analyst | ActorRole::Admin
        )
    }

    pub fn is_admin(&self) -> bool {
        self.actor.role == ActorRole::Admin
    }

    /// The contracts a customer reads requests on, each with the kinds of request they may
    /// read there (those of the sections they are at least visitor on, [`section_of`]); a
    /// contract where they read none is left out. `None` for staff (every contract, every
    /// kind).
    pub fn readable_requests(&self) -> Option<Vec<VisibleContract>> {
        (!self.is_staff()).then(|| {
            self.memberships
                .iter()
                .filter_map(|(id, roles)| {
                    let contract = ContractId::parse(id).ok()?;
                    let kinds: Vec<RequestKind> = RequestKind::ALL
                        .into_iter()
                        .filter(|kind| roles.role_in(section_of(*kind)) >= SectionRole::Visitor)
                        .collect();
                    (!kinds.is_empty()).then_some(VisibleContract { contract, kinds })
                })
                .collect()
        })
    }

    /// docs/domain.md "Drafts": a change draft is seen only by its author and the Services
    /// managers of its contract; to anyone else it does not exist.
    pub fn may_see_draft(&self, contract: &str, author: &str) -> bool {
        let manages_services = !self.is_staff()
            && self
                .memberships
                .get(contract)
                .is_some_and(|roles| roles.role_in(Section::Services) == SectionRole::Manager);
        manages_services || (self.actor.login.as_str() == author && self.sees(contract))
    }

    /// The drafts the request list shows the caller ([`Caller::may_see_draft`]).
    pub fn visible_drafts(&self) -> VisibleDrafts {
        let author = Some(self.actor.login.as_str().to_owned());
        if self.is_staff() {
            return VisibleDrafts {
                author,
                ..VisibleDrafts::default()
            };
        }
        let declared = || {
            self.memberships
                .keys()
                .filter_map(|id| ContractId::parse(id).ok())
        };
        VisibleDrafts {
            every_draft_on: declared()
                .filter(|id| self.may_see_draft(id.as_str(), ""))
                .collect(),
            author,
            own_on: Some(declared().collect()),
        }
    }

    /// Whether the caller sees `contract` at all (staff: always).
    pub fn sees(&self, contract: &str) -> bool {
        self.is_staff() || self.memberships.contains_key(contract)
    }

    /// Checks `need` on `contract`. A contract the caller is not declared on is reported
    /// as `not_found` (the object the route was about), never as forbidden.
    pub fn require(&self, contract: &str, need: Need, not_found: &str) -> Result<(), Problem> {
        let acts = !matches!(need, Need::Declared | Need::Read(_));
        if self.is_staff() {
            if acts && self.actor.role == ActorRole::Analyst {
                return Err(Problem::forbidden("an analyst only reads"));
            }
            return Ok(());
        }
        let Some(roles) = self.memberships.get(contract) else {
            return Err(Problem::not_found(not_found));
        };
        let (section, allowed) = match need {
            Need::Declared => return Ok(()),
            Need::Read(section) => (section, roles.role_in(section) >= SectionRole::Visitor),
            Need::Manage(section) => (section, roles.role_in(section) == SectionRole::Manager),
            Need::ActOnSupport => (
                Section::Support,
                roles.role_in(Section::Support) >= SectionRole::Visitor,
            ),
        };
        if allowed {
            Ok(())
        } else {
            let wanted = match need {
                Need::Manage(_) => "manager",
                _ => "visitor or manager",
            };
            Err(Problem::forbidden(format!(
                "this needs the role {wanted} on the {} section of contract {contract} (yours: {})",
                section_name(section),
                roles.role_in(section)
            )))
        }
    }

    /// Applies the route's right where it names no contract ([`Right::Anyone`],
    /// [`Right::Admin`]).
    pub fn authorize(&self) -> Result<Authorized, Problem> {
        match self.right.right {
            Right::Anyone => {}
            Right::Admin(action) => self.require_admin(action)?,
            _ => return Err(self.misapplied("without a contract")),
        }
        Ok(self.authorized(None))
    }

    /// Applies the route's right on `contract`; a contract the caller is not declared on
    /// is reported as `not_found` (the object the route was about), never as forbidden.
    pub fn authorize_on(&self, contract: &str, not_found: &str) -> Result<Authorized, Problem> {
        match self.right.right {
            Right::Anyone => {}
            Right::Admin(action) => self.require_admin(action)?,
            Right::On(need) => self.require(contract, need, not_found)?,
            Right::StaffOn(action) => {
                self.require(contract, Need::Declared, not_found)?;
                self.require_staff(action)?;
            }
            Right::Public | Right::ReadRequest => {
                return Err(self.misapplied("on a contract"));
            }
        }
        Ok(self.authorized(Some(contract)))
    }

    /// Applies the route's right ([`Right::ReadRequest`]) on the request `row`: a change
    /// draft the caller may not see ([`Caller::may_see_draft`]) is `not_found`, like
    /// another contract's request.
    pub fn authorize_request(
        &self,
        row: &RequestRow,
        not_found: &str,
    ) -> Result<Authorized, Problem> {
        if self.right.right != Right::ReadRequest {
            return Err(self.misapplied("on a request"));
        }
        let contract = row.contract_id.as_str();
        if row.portal_status == PortalStatus::Draft
            && !self.may_see_draft(contract, &row.created_by)
        {
            return Err(Problem::not_found(not_found));
        }
        self.require(contract, Need::Read(section_of(row.kind)), not_found)?;
        Ok(self.authorized(Some(contract)))
    }

    fn authorized(&self, contract: Option<&str>) -> Authorized {
        self.right.applied.store(true, Ordering::Relaxed);
        Authorized {
            caller: self.clone(),
            contract: contract.map(str::to_owned),
        }
    }

    /// A handler applied its route's right the wrong way: the route is wired wrong.
    fn misapplied(&self, how: &str) -> Problem {
        tracing::error!(right = ?self.right.right, how, "a route's right was applied the wrong way");
        unanswerable()
    }

    /// Staff only (agents and admins; analysts only read).
    pub fn require_staff(&self, action: &str) -> Result<(), Problem> {
        match self.actor.role {
            ActorRole::Agent | ActorRole::Admin => Ok(()),
            role => Err(Problem::forbidden(format!("a {role} may not {action}"))),
        }
    }

    pub fn require_admin(&self, action: &str) -> Result<(), Problem> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "a {} may not {action}",
                self.actor.role
            )))
        }
    }

    /// The metadata every event of this request records.
    pub fn context(&self) -> CommandContext {
        let context =
            CommandContext::new(self.actor.clone(), self.channel, self.request_id.clone());
        match &self.on_behalf_of {
            Some(login) => context.on_behalf_of(login.clone()),
            None => context,
        }
    }

    /// Whether the caller may see billing amounts of `contract`.
    pub fn sees_amounts(&self, contract: &str) -> bool {
        self.is_staff()
            || self
                .memberships
                .get(contract)
                .is_some_and(|roles| roles.invoices == SectionRole::Manager)
    }
}

fn section_name(section: Section) -> &'static str {
    match section {
        Section::Contract => "Contract",
        Section::Dashboard => "Dashboard",
        Section::Services => "Services",
        Section::Invoices => "Invoices",
        Section::Support => "Support",
        Section::Users => "Users",
    }
}

/// The token a request was authenticated with, set by [`authenticate`] for the routes
/// behind it.
#[derive(Clone, Debug)]
pub struct Authenticated(pub TokenGrant);

/// Why a request was not authenticated.
enum Refused {
    /// No usable token: 401, and a failed authentication for the address.
    Unauthenticated(Problem),
    /// The lookup itself failed (the database): answered as it is.
    Failed(Problem),
}

/// The grant of the request's bearer token.
async fn grant(state: &AppState, headers: &HeaderMap) -> Result<TokenGrant, Refused> {
    let header = headers.get(AUTHORIZATION).ok_or_else(|| {
        Refused::Unauthenticated(Problem::unauthenticated(
            "an Authorization: Bearer token is required",
        ))
    })?;
    let secret = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            Refused::Unauthenticated(Problem::unauthenticated(
                "the Authorization header must be 'Bearer <token>'",
            ))
        })?;
    let unknown =
        || Refused::Unauthenticated(Problem::unauthenticated("the token is unknown or revoked"));
    if let Some(grant) = state.token_cache.get(secret) {
        return Ok(grant);
    }
    // Nothing is looked up for what no token can be.
    if !could_be_token(secret) {
        return Err(unknown());
    }
    let grant = state
        .tokens
        .find(secret)
        .await
        .map_err(|error| Refused::Failed(Problem::from(error)))?
        .ok_or_else(unknown)?;
    state.token_cache.remember(secret, &grant);
    Ok(grant)
}

/// The door of every route that needs a caller, before anything else is done for the
/// request: its body is not read and no idempotency record is written until its token is
/// known. A missing, malformed, unknown or revoked token is 401, or 429 past the
/// address's budget of failed authentications; a known token past its budget of requests
/// is 429 ([`crate::http::throttle`]).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<crate::http::bare_refusals::ClientAddress>>()
        .map(|ConnectInfo(address)| address.0.ip());
    match grant(&state, request.headers()).await {
        Ok(grant) => {
            if let Err(throttled) = state.throttle.request(&grant.token_id) {
                return throttled.into_response();
            }
            request.extensions_mut().insert(Authenticated(grant));
            next.run(request).await
        }
        Err(Refused::Unauthenticated(problem)) => {
            match state.throttle.failed_authentication(address) {
                Ok(()) => problem.into_response(),
                Err(throttled) => throttled.into_response(),
            }
        }
        Err(Refused::Failed(problem)) => problem.into_response(),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Some(Authenticated(grant)) = parts.extensions.get::<Authenticated>().cloned() else {
            tracing::error!(
                path = parts.uri.path(),
                "a route that needs a caller is not behind authentication"
            );
            return Err(unanswerable());
        };
        let Some(right) = parts.extensions.get::<DeclaredRight>().cloned() else {
            tracing::error!(path = parts.uri.path(), "a route declares no right");
            return Err(unanswerable());
        };
        let role: ActorRole = grant
            .role
            .parse()
            .map_err(|_| Problem::unauthenticated("the token's role is unknown"))?;
        let login = Login::parse(&grant.login)
            .map_err(|_| Problem::unauthenticated("the token's login is invalid"))?;
        if let Some(position) = read_after(&parts.headers)? {
            state.views_reach(position).await?;
        }
        let mut memberships = BTreeMap::new();
        if role == ActorRole::Customer {
            // A user declared by a command this server acknowledged is seen at once.
            state.views_caught_up(&[Directory::NAME]).await?;
            for entry in Directory::memberships(&state.reader, &grant.login).await? {
                memberships.insert(entry.contract_id.clone(), entry.roles()?);
            }
        }
        let channel = match parts
            .headers
            .get(CHANNEL_HEADER)
            .map(|value| value.to_str())
        {
            None => Channel::Api,
            Some(Ok("portal")) => Channel::Portal,
            Some(Ok("phone")) => Channel::Phone,
            Some(Ok("api")) => Channel::Api,
            Some(_) => {
                return Err(Problem::invalid_field(
                    "Sablier-Channel",
                    "must be portal, phone or api",
                ));
            }
        };
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        Ok(Caller {
            actor: Actor::new(login, role),
            token_id: grant.token_id,
            request_id,
            on_behalf_of: None,
            channel,
            memberships,
            right,
        })
    }
}
