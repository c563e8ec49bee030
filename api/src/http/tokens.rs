//! Token administration (admins): create a token for a user, list, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sablier_domain::ActorRole;
use sablier_domain::text::{Login, TokenLabel};
use sablier_store::access::TokenGrant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::Caller;
use crate::http::extract::{Body, Path};
use crate::http::fields;
use crate::http::problem::Problem;
use crate::http::schema;
use crate::http::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The user the token acts as.
    #[schema(value_type = schema::Login)]
    pub login: String,
    /// `customer`, `agent`, `analyst` or `admin`.
    #[schema(value_type = schema::TokenRole)]
    pub role: String,
    /// What the token is for (shown in listings).
    #[serde(default)]
    #[schema(value_type = Option<schema::TokenLabel>)]
    pub label: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub token_id: String,
    #[schema(value_type = schema::Login)]
    pub login: String,
    #[schema(value_type = schema::TokenRole)]
    pub role: String,
    #[schema(max_length = 200)]
    pub label: String,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

impl From<TokenGrant> for TokenView {
    fn from(grant: TokenGrant) -> Self {
        Self {
            token_id: grant.token_id,
            login: grant.login,
            role: grant.role,
            label: grant.label,
            created_at: grant.created_at,
            created_by: grant.created_by,
            revoked_at: grant.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedTokenView {
    /// The bearer token: shown this once, stored only as its SHA-256.
    pub token: String,
    #[serde(flatten)]
    pub grant: TokenView,
}

/// Parses the role a token may carry (never `system`).
pub fn token_role(text: &str) -> Result<ActorRole, Problem> {
    match text.parse::<ActorRole>() {
        Ok(ActorRole::System) | Err(_) => Err(Problem::invalid_field(
            "role",
            "must be customer, agent, analyst or admin",
        )),
        Ok(role) => Ok(role),
    }
}

/// Admin: creates a token for a user.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = IssuedTokenView), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewToken>,
) -> Result<(StatusCode, Json<IssuedTokenView>), Problem> {
    caller.authorize()?;
    let login = fields::parse("login", &body.login, Login::parse)?;
    let role = token_role(&body.role)?;
    let label = fields::parse(
        "label",
        body.label.as_deref().unwrap_or_default(),
        TokenLabel::parse,
    )?;
    let issued = state
        .tokens
        .issue(
            login.as_str(),
            role.as_str(),
            &label,
            caller.actor.login.as_str(),
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenView {
            token: issued.secret,
            grant: issued.grant.into(),
        }),
    ))
}

/// Admin: every token, revoked ones included.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenView>), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, Problem> {
    caller.authorize()?;
    Ok(Json(
        state
            .tokens
            .list()
            .await?
            .into_iter()
            .map(TokenView::from)
            .collect(),
    ))
}

/// Admin: revokes a token; it stops working at once.
#[utoipa::path(delete, path = "/v1/tokens/{token_id}", tag = "tokens",
    params(("token_id" = String, Path)),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(token_id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.authorize()?;
    if state.tokens.revoke(&token_id, state.now()).await? {
        state.token_cache.clear();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("token"))
    }
}
