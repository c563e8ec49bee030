//! Reference data any authenticated caller may read: the change and service catalogues,
//! and the platform maintenance windows (now, next, or a range).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use sablier_domain::order::Price;
use sablier_sla::maintenance::{
    maintenance_window_at, maintenance_windows_between, next_maintenance_window,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Caller;
use crate::http::extract::Query;
use crate::http::fields;
use crate::http::problem::Problem;
use crate::http::schema;
use crate::http::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeadTimeView {
    /// `standard` or `urgent`.
    #[schema(value_type = schema::LeadTime)]
    pub lead_time: String,
    pub business_days: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArticleView {
    #[schema(value_type = schema::Title)]
    pub catalogue: String,
    #[schema(value_type = schema::Title)]
    pub category: String,
    #[schema(value_type = schema::Title)]
    pub article: String,
    /// Staff quote it, and the customer accepts, before work starts.
    pub requires_study: bool,
    pub lead_times: Vec<LeadTimeView>,
    /// Euro cents excluding tax, when billable beyond the month's free changes.
    pub price_cents: Option<u64>,
}

/// Every article of the change catalogue.
#[utoipa::path(get, path = "/v1/catalogues/changes", tag = "reference",
    responses((status = 200, body = Vec<ArticleView>), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn changes(State(state): State<AppState>, _caller: Caller) -> Json<Vec<ArticleView>> {
    let mut articles = Vec::new();
    for catalogue in state.change_catalogue.catalogues() {
        for category in &catalogue.categories {
            for article in &category.articles {
                articles.push(ArticleView {
                    catalogue: catalogue.name.to_string(),
                    category: category.name.to_string(),
                    article: article.name.to_string(),
                    requires_study: article.requires_study,
                    lead_times: article
                        .lead_times
                        .iter()
                        .map(|offer| LeadTimeView {
                            lead_time: offer.lead_time.as_str().to_owned(),
                            business_days: offer.business_days,
                        })
                        .collect(),
                    price_cents: article.price_cents,
                });
            }
        }
    }
    Json(articles)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceItemView {
    pub id: String,
    pub name: String,
    #[schema(value_type = schema::Title)]
    pub category: String,
    #[schema(value_type = schema::FreeText)]
    pub description: String,
    /// Euro cents excluding tax; absent for an item sold on quote.
    pub price_cents: Option<u64>,
    pub on_quote: bool,
}

/// The service catalogue (orders).
#[utoipa::path(get, path = "/v1/catalogues/services", tag = "reference",
    responses((status = 200, body = Vec<ServiceItemView>), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn services(
    State(state): State<AppState>,
    _caller: Caller,
) -> Json<Vec<ServiceItemView>> {
    Json(
        state
            .service_catalogue
            .items()
            .iter()
            .map(|item| ServiceItemView {
                id: item.id.as_str().to_owned(),
                name: item.name.to_string(),
                category: item.category.as_str().to_owned(),
                description: item.description.to_string(),
                price_cents: match item.price {
                    Price::Fixed { cents_excl_tax } => Some(cents_excl_tax),
                    Price::OnQuote => None,
                },
                on_quote: item.price.is_on_quote(),
            })
            .collect(),
    )
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowsQuery {
    /// Start of a range (RFC 3339); with `to`, lists the windows in it.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// End of the range; with `from`.
    #[param(format = DateTime)]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WindowView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MaintenanceView {
    pub as_of: DateTime<Utc>,
    /// The window in progress, if any.
    pub now: Option<WindowView>,
    /// The next window to start.
    pub next: WindowView,
    /// The windows of the range asked for (empty without one).
    pub windows: Vec<WindowView>,
}

/// Platform maintenance windows: the one in progress, the next, and those of a range
/// (at most 366 days).
#[utoipa::path(get, path = "/v1/maintenance-windows", tag = "reference", params(WindowsQuery),
    responses((status = 200, body = MaintenanceView), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn maintenance(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<WindowsQuery>,
) -> Result<Json<MaintenanceView>, Problem> {
    let now = state.now();
    let windows = match (&query.from, &query.to) {
        (None, None) => Vec::new(),
        (Some(from), Some(to)) => {
            let (from, to) = (fields::instant("from", from)?, fields::instant("to", to)?);
            if to < from {
                return Err(Problem::invalid_field("to", "must not be before from"));
            }
            if to - from > Duration::days(366) {
                return Err(Problem::invalid_field(
                    "to",
                    "the range is at most 366 days",
                ));
            }
            maintenance_windows_between(from, to)
                .into_iter()
                .map(|window| WindowView {
                    start: window.start,
                    end: window.end,
                })
                .collect()
        }
        (None, Some(_)) => return Err(Problem::invalid_field("from", "is required with to")),
        (Some(_), None) => return Err(Problem::invalid_field("to", "is required with from")),
    };
    let next = next_maintenance_window(now);
    Ok(Json(MaintenanceView {
        as_of: now,
        now: maintenance_window_at(now).map(|window| WindowView {
            start: window.start,
            end: window.end,
        }),
        next: WindowView {
            start: next.start,
            end: next.end,
        },
        windows,
    }))
}
