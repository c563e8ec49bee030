//! Contract routes: create (admin), read, support-tier upgrade and downgrade, expert time,
//! users and their section roles, and the billing of a month.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use chrono_tz::Tz;
use sablier_domain::contract::{
    ContractCommand, DeclareUser, DeclaredUser, Offer, SectionRoles, UnknownOffer,
};
use sablier_domain::month::NotAMonth;
use sablier_domain::text::{Email, FreeText, Login, Name, Title};
use sablier_domain::{Authored, ContractId, YearMonth};
use sablier_projections::billing::Billing;
use sablier_projections::directory::{ContractEntry, Directory};
use sablier_sla::Tier;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::{Authorized, Caller};
use crate::http::command::{self, Answered, CommandAnswer};
use crate::http::extract::{Body, Path};
use crate::http::fields;
use crate::http::problem::Problem;
use crate::http::schema;
use crate::http::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(value_type = schema::Login)]
    pub login: String,
    #[schema(value_type = schema::Email)]
    pub email: String,
    #[schema(value_type = schema::Name)]
    pub first_name: String,
    #[schema(value_type = schema::Name)]
    pub last_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContract {
    #[schema(value_type = schema::ContractId)]
    pub contract_id: String,
    #[schema(value_type = schema::Title)]
    pub name: String,
    /// `Flexible Computing Advanced`, `Flexible Engine` or `Cloud Avenue`.
    #[schema(value_type = schema::Offer)]
    pub offer: String,
    #[schema(value_type = schema::Name)]
    pub company: String,
    /// IANA time zone, default `Europe/Paris`.
    #[serde(default)]
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    /// `Standard` (default), `Bronze`, `Silver` or `Gold`.
    #[serde(default)]
    #[schema(value_type = Option<schema::Tier>)]
    pub tier: Option<String>,
    /// The referent user: every right on the contract, never removed.
    pub referent: NewUser,
}

fn declared_user(user: &NewUser, prefix: &str) -> Result<DeclaredUser, Problem> {
    let field = |name: &str| format!("{prefix}{name}");
    Ok(DeclaredUser {
        login: fields::parse(&field("login"), &user.login, Login::parse)?,
        email: fields::parse(&field("email"), &user.email, Email::parse)?,
        first_name: fields::parse(&field("first_name"), &user.first_name, Name::parse)?,
        last_name: fields::parse(&field("last_name"), &user.last_name, Name::parse)?,
    })
}

/// Admin: creates a contract with its referent user.
#[utoipa::path(post, path = "/v1/contracts", tag = "contracts", request_body = CreateContract,
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<CreateContract>,
) -> Result<Answered, Problem> {
    let caller = caller.authorize()?;
    let contract_id = fields::parse("contract_id", &body.contract_id, ContractId::parse)?;
    let offer: Offer = body
        .offer
        .parse()
        .map_err(|error: UnknownOffer| Problem::invalid_field("offer", error.to_string()))?;
    let time_zone: Tz = match &body.time_zone {
        Some(zone) => zone.parse().map_err(|_| {
            Problem::invalid_field("time_zone", format!("'{zone}' is not an IANA time zone"))
        })?,
        None => chrono_tz::Europe::Paris,
    };
    let command = ContractCommand::CreateContract {
        contract_id: contract_id.clone(),
        name: fields::parse("name", &body.name, Title::parse)?,
        offer,
        company: fields::parse("company", &body.company, Name::parse)?,
        time_zone,
        tier: match &body.tier {
            Some(tier) => fields::term("tier", tier)?,
            None => Tier::Standard,
        },
        referent: declared_user(&body.referent, "referent.")?,
    };
    let (answer, _) = command::execute(
        &state,
        &state.engine.contracts,
        &caller,
        contract_id.as_str(),
        Authored::new(caller.actor.clone(), command),
    )
    .await?;
    Ok(Answered {
        status: StatusCode::CREATED,
        answer,
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TierPeriod {
    /// The instant the tier applies for SLA.
    pub effective_at: String,
    #[schema(value_type = schema::Tier)]
    pub tier: String,
    /// `created`, `upgraded` or `downgraded`.
    pub change: String,
    pub decided_at: String,
    /// The first day it is billed.
    pub billing_effective_on: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContractView {
    #[schema(value_type = schema::ContractId)]
    pub contract_id: String,
    pub name: String,
    #[schema(value_type = schema::Offer)]
    pub offer: String,
    #[schema(value_type = schema::Name)]
    pub company: String,
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
    pub referent: String,
    pub created_at: String,
    /// The SLA tier timeline, oldest first.
    pub tiers: Vec<TierPeriod>,
}

/// A contract as the directory lists it, with its tier timeline.
async fn contract_view(state: &AppState, entry: ContractEntry) -> Result<ContractView, Problem> {
    let tiers = Directory::tiers(&state.reader, &entry.contract_id)
        .await?
        .into_iter()
        .map(|tier| TierPeriod {
            effective_at: tier.effective_at,
            tier: tier.tier,
            change: tier.change,
            decided_at: tier.decided_at,
            billing_effective_on: tier.billing_effective_on,
        })
        .collect();
    Ok(ContractView {
        contract_id: entry.contract_id,
        name: entry.name,
        offer: entry.offer,
        company: entry.company,
        time_zone: entry.time_zone,
        referent: entry.referent,
        created_at: entry.created_at,
        tiers,
    })
}

/// The contracts the caller sees (staff: all).
#[utoipa::path(get, path = "/v1/contracts", tag = "contracts",
    responses((status = 200, body = Vec<ContractView>), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ContractView>>, Problem> {
    state.views_caught_up(&[Directory::NAME]).await?;
    let mut views = Vec::new();
    for entry in Directory::contracts(&state.reader).await? {
        if caller.sees(&entry.contract_id) {
            views.push(contract_view(&state, entry).await?);
        }
    }
    Ok(Json(views))
}

/// One contract with its tier timeline.
#[utoipa::path(get, path = "/v1/contracts/{contract_id}", tag = "contracts",
    params(("contract_id" = String, Path)),
    responses((status = 200, body = ContractView), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
) -> Result<Json<ContractView>, Problem> {
    caller.authorize_on(&contract_id, "contract")?;
    state.views_caught_up(&[Directory::NAME]).await?;
    let entry = Directory::contract(&state.reader, &contract_id)
        .await?
        .ok_or_else(|| Problem::not_found("contract"))?;
    Ok(Json(contract_view(&state, entry).await?))
}

/// Runs `command` on the contract for a caller the route's right was applied to.
async fn act(
    state: &AppState,
    caller: &Authorized,
    contract_id: &str,
    command: ContractCommand,
) -> Result<Answered, Problem> {
    let id = ContractId::parse(contract_id).map_err(|_| Problem::not_found("contract"))?;
    command::answer(
        state,
        &state.engine.contracts,
        caller,
        id.as_str(),
        Authored::new(caller.actor.clone(), command),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierChange {
    /// `Bronze`, `Silver`, `Gold` (or `Standard` for a downgrade).
    #[schema(value_type = schema::Tier)]
    pub to: String,
}

/// Upgrades the support tier (manager on Contract): SLA at once, billing from the first
/// of next month.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/upgrade", tag = "contracts",
    params(("contract_id" = String, Path)), request_body = TierChange,
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Body(body): Body<TierChange>,
) -> Result<Answered, Problem> {
    let caller = caller.authorize_on(&contract_id, "contract")?;
    let to = fields::term("to", &body.to)?;
    act(
        &state,
        &caller,
        &contract_id,
        ContractCommand::UpgradeSupportTier { to },
    )
    .await
}

/// Staff: downgrades the support tier from the first of next month.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/downgrade", tag = "contracts",
    params(("contract_id" = String, Path)), request_body = TierChange,
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn downgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Body(body): Body<TierChange>,
) -> Result<Answered, Problem> {
    let caller = caller.authorize_on(&contract_id, "contract")?;
    let to = fields::term("to", &body.to)?;
    act(
        &state,
        &caller,
        &contract_id,
        ContractCommand::DowngradeSupportTier { to },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpertTime {
    /// The day the work was done (`2026-03-27`), from 1970-01-01 to 2099-12-31.
    #[schema(format = Date)]
    pub performed_on: String,
    /// 1 to 1440.
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: u32,
    #[serde(default)]
    #[schema(value_type = Option<schema::FreeText>)]
    pub note: Option<String>,
}

/// Staff: logs expert time against the contract.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/expert-time", tag = "contracts",
    params(("contract_id" = String, Path)), request_body = ExpertTime,
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn expert_time(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Body(body): Body<ExpertTime>,
) -> Result<Answered, Problem> {
    let caller = caller.authorize_on(&contract_id, "contract")?;
    let performed_on = fields::date("performed_on", &body.performed_on)?;
    let note = fields::parse_optional("note", body.note.as_deref(), FreeText::parse)?;
    act(
        &state,
        &caller,
        &contract_id,
        ContractCommand::LogExpertTime {
            performed_on,
            minutes: body.minutes,
            note,
        },
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = schema::Login)]
    pub login: String,
    #[schema(value_type = schema::Email)]
    pub email: String,
    #[schema(value_type = schema::Name)]
    pub first_name: String,
    #[schema(value_type = schema::Name)]
    pub last_name: String,
    /// One role per section: `none`, `visitor` or `manager`.
    #[schema(value_type = Object)]
    pub roles: serde_json::Value,
}

/// The users declared on a contract with their section roles (visitor on Users).
#[utoipa::path(get, path = "/v1/contracts/{contract_id}/users", tag = "contracts",
    params(("contract_id" = String, Path)),
    responses((status = 200, body = Vec<UserView>), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn users(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
) -> Result<Json<Vec<UserView>>, Problem> {
    caller.authorize_on(&contract_id, "contract")?;
    state.views_caught_up(&[Directory::NAME]).await?;
    if Directory::contract(&state.reader, &contract_id)
        .await?
        .is_none()
    {
        return Err(Problem::not_found("contract"));
    }
    let users = Directory::users(&state.reader, &contract_id)
        .await?
        .into_iter()
        .map(|user| {
            Ok(UserView {
                roles: serde_json::to_value(user.roles()?)
                    .map_err(|error| Problem::internal(&error))?,
                login: user.login,
                email: user.email,
                first_name: user.first_name,
                last_name: user.last_name,
            })
        })
        .collect::<Result<_, Problem>>()?;
    Ok(Json(users))
}

/// One role per section (`none`, `visitor` or `manager`); absent sections are `none`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RolesDoc {
    #[schema(value_type = Option<schema::SectionRole>)]
    contract: Option<String>,
    #[schema(value_type = Option<schema::SectionRole>)]
    dashboard: Option<String>,
    #[schema(value_type = Option<schema::SectionRole>)]
    services: Option<String>,
    #[schema(value_type = Option<schema::SectionRole>)]
    invoices: Option<String>,
    #[schema(value_type = Option<schema::SectionRole>)]
    support: Option<String>,
    #[schema(value_type = Option<schema::SectionRole>)]
    users: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareUserBody {
    #[schema(value_type = schema::Login)]
    pub login: String,
    #[schema(value_type = schema::Email)]
    pub email: String,
    #[schema(value_type = schema::Name)]
    pub first_name: String,
    #[schema(value_type = schema::Name)]
    pub last_name: String,
    /// `{"contract": "visitor", "support": "manager", ...}`; absent sections are `none`.
    #[serde(default)]
    #[schema(value_type = RolesDoc)]
    pub roles: SectionRoles,
}

/// Declares a user on the contract (manager on Users). An email already known keeps its
/// existing login.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/users", tag = "contracts",
    params(("contract_id" = String, Path)), request_body = DeclareUserBody,
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn declare_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(contract_id): Path<String>,
    Body(body): Body<DeclareUserBody>,
) -> Result<Answered, Problem> {
    let caller = caller.authorize_on(&contract_id, "contract")?;
    let command = ContractCommand::DeclareUser(DeclareUser {
        login: fields::parse("login", &body.login, Login::parse)?,
        email: fields::parse("email", &body.email, Email::parse)?,
        first_name: fields::parse("first_name", &body.first_name, Name::parse)?,
        last_name: fields::parse("last_name", &body.last_name, Name::parse)?,
        roles: body.roles,
    });
    act(&state, &caller, &contract_id, command).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    #[schema(value_type = RolesDoc)]
    pub roles: SectionRoles,
}

/// Changes a user's section roles (manager on Users).
#[utoipa::path(put, path = "/v1/contracts/{contract_id}/users/{login}/roles", tag = "contracts",
    params(("contract_id" = String, Path), ("login" = String, Path)), request_body = RolesBody,
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn change_roles(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, login)): Path<(String, String)>,
    Body(body): Body<RolesBody>,
) -> Result<Answered, Problem> {
    let caller = caller.authorize_on(&contract_id, "contract")?;
    let login = Login::parse(&login).map_err(|_| Problem::not_found("user"))?;
    act(
        &state,
        &caller,
        &contract_id,
        ContractCommand::ChangeUserRoles {
            login,
            roles: body.roles,
        },
    )
    .await
}

/// Removes a user from the contract (manager on Users); never the referent.
#[utoipa::path(delete, path = "/v1/contracts/{contract_id}/users/{login}", tag = "contracts",
    params(("contract_id" = String, Path), ("login" = String, Path)),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn remove_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, login)): Path<(String, String)>,
) -> Result<Answered, Problem> {
    let caller = caller.authorize_on(&contract_id, "contract")?;
    let login = Login::parse(&login).map_err(|_| Problem::not_found("user"))?;
    act(
        &state,
        &caller,
        &contract_id,
        ContractCommand::RemoveUser { login },
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BilledTierView {
    #[schema(value_type = schema::Tier)]
    pub tier: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BillingLineView {
    /// `order` or `change`.
    pub kind: String,
    pub id: String,
    pub reference: Option<String>,
    #[schema(max_length = 200)]
    pub label: String,
    /// Euro cents excluding tax; `null` for a visitor on Invoices, and on a line whose
    /// amount cannot be billed (`amount_refused` says why).
    #[schema(maximum = 100_000_000_000_u64)]
    pub amount_cents: Option<u64>,
    /// Present when the line has no amount because the amount the log holds exceeds the
    /// maximum (a quote written before amounts were bounded): the amount as written, in
    /// decimal digits (it may exceed what a JSON number carries exactly). An
    /// administrator's quote correction gives the line its amount. Amounts are shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<schema::DecimalDigits>)]
    pub written_amount_cents: Option<String>,
    /// Present with `written_amount_cents`: why the line has no amount, and what is
    /// awaited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "the quoted 9223372036854775808 cents exceed the maximum of 100000000000 cents; an administrator's quote correction is awaited"
    )]
    pub amount_refused: Option<String>,
    pub effective_on: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BillView {
    #[schema(value_type = schema::ContractId)]
    pub contract_id: String,
    pub month: String,
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
    pub tiers: Vec<BilledTierView>,
    pub expert_minutes_included: u32,
    pub expert_minutes_used: u32,
    pub expert_minutes_remaining: u32,
    pub expert_minutes_overage: u32,
    pub lines: Vec<BillingLineView>,
    /// Whether amounts are shown (manager on Invoices, or staff).
    pub amounts_shown: bool,
}

/// The billing of a month (visitor on Invoices; amounts for managers only).
#[utoipa::path(get, path = "/v1/contracts/{contract_id}/billing/{month}", tag = "contracts",
    params(("contract_id" = String, Path), ("month" = schema::YearMonth, Path, description = "YYYY-MM")),
    responses((status = 200, body = BillView), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn billing(
    State(state): State<AppState>,
    caller: Caller,
    Path((contract_id, month)): Path<(String, String)>,
) -> Result<Json<BillView>, Problem> {
    let caller = caller.authorize_on(&contract_id, "contract")?;
    let contract = ContractId::parse(&contract_id).map_err(|_| Problem::not_found("contract"))?;
    let month: YearMonth = month
        .parse()
        .map_err(|error: NotAMonth| Problem::invalid_field("month", error.to_string()))?;
    state.views_caught_up(&[Billing::NAME]).await?;
    let bill = Billing::month(&state.reader, &contract, month)
        .await?
        .ok_or_else(|| Problem::not_found("billing month"))?;
    let amounts_shown = caller.sees_amounts(&contract_id);
    Ok(Json(BillView {
        contract_id,
        month: bill.month.to_string(),
        time_zone: bill.time_zone.to_string(),
        tiers: bill
            .tiers
            .iter()
            .map(|tier| BilledTierView {
                tier: tier.tier.to_string(),
                from: tier.from,
                to: tier.to,
            })
            .collect(),
        expert_minutes_included: bill.expert_minutes.included,
        expert_minutes_used: bill.expert_minutes.used,
        expert_minutes_remaining: bill.expert_minutes.remaining,
        expert_minutes_overage: bill.expert_minutes.overage,
        lines: bill
            .lines
            .iter()
            .map(|line| BillingLineView {
                kind: serde_json::to_value(line.kind)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                id: line.id.clone(),
                reference: line.reference.clone(),
                label: line.label.clone(),
                amount_cents: line.amount_cents.filter(|_| amounts_shown),
                written_amount_cents: line
                    .refused_amount_cents
                    .filter(|_| amounts_shown)
                    .map(|written| written.to_string()),
                amount_refused: line.amount_refused().filter(|_| amounts_shown),
                effective_on: line.effective_on,
            })
            .collect(),
        amounts_shown,
    }))
}
