//! Change request routes: draft, submit (with the same-asset warning), quote, accept or
//! decline, start, complete, cancel, reject, correct a quote (administrators); attachments uploaded by content for one
//! contract, listed only by that contract's changes and downloadable by whoever may read
//! the change.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sablier_domain::change::{
    ArticleRef, Attachment, AttachmentName, Change, ChangeCommand, ChangeEvent, ChangeForm,
    ChangeStatus, LeadTime, MAX_ATTACHMENTS, MediaType, Sha256Digest,
};
use sablier_domain::text::{AssetRef, Comment, CustomerReference, FreeText, Title};
use sablier_domain::{Authored, ChangeId, ContractId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Authorized, Caller};
use crate::http::bodies::{Empty, OptionalNote, OptionalReason, Quote, QuoteCorrection, Reason};
use crate::http::command::{self, Answered, CommandAnswer, action_route};
use crate::http::extract::{Body, Path, Query};
use crate::http::fields;
use crate::http::problem::Problem;
use crate::http::reads::{self, AsOf};
use crate::http::schema;
use crate::http::state::AppState;
use crate::http::views::{ChangeBilling, RequestDetail};
use sablier_projections::billing::Billing;
use sablier_projections::request_list::{RequestKind, RequestList};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    #[schema(value_type = schema::AttachmentName)]
    pub name: String,
    #[schema(value_type = schema::MediaType)]
    pub media_type: String,
    pub size_bytes: u64,
    /// The digest `POST /v1/attachments` answered.
    #[schema(value_type = schema::Sha256Digest)]
    pub sha256: String,
}

/// The change form. A draft may leave any field out; submission needs the asset, the
/// article (catalogue, category, article) and the lead time.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeFormBody {
    #[schema(value_type = Option<schema::AssetRef>)]
    pub asset: Option<String>,
    #[schema(value_type = Option<schema::Title>)]
    pub catalogue: Option<String>,
    #[schema(value_type = Option<schema::Title>)]
    pub category: Option<String>,
    #[schema(value_type = Option<schema::Title>)]
    pub article: Option<String>,
    /// `standard` or `urgent`, among the article's.
    #[schema(value_type = Option<schema::LeadTime>)]
    pub lead_time: Option<String>,
    /// At most 64 characters.
    #[schema(value_type = Option<schema::CustomerReference>)]
    pub customer_reference: Option<String>,
    #[schema(value_type = Option<schema::FreeText>)]
    pub additional_information: Option<String>,
    /// At most 5, each uploaded first.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// At most 400 characters.
    #[schema(value_type = Option<schema::Comment>)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChange {
    #[schema(value_type = schema::ContractId)]
    pub contract_id: String,
    /// `true`: submit now ("Confirmer la demande"); `false`: save as a draft.
    #[serde(default = "yes")]
    pub submit: bool,
    #[serde(default)]
    pub form: ChangeFormBody,
}

fn yes() -> bool {
    true
}

/// The form of a change of `contract`: it may list only files uploaded for that contract
/// (a digest uploaded only for another is refused as one never uploaded).
async fn form(
    state: &AppState,
    contract: &ContractId,
    body: &ChangeFormBody,
) -> Result<ChangeForm, Problem> {
    let article = article(body)?;
    let lead_time = lead_time(body)?;
    let attachments = attachments(state, contract, &body.attachments).await?;
    Ok(ChangeForm {
        asset: fields::parse_optional("asset", body.asset.as_deref(), AssetRef::parse)?,
        article,
        lead_time,
        customer_reference: fields::parse_optional(
            "customer_reference",
            body.customer_reference.as_deref(),
            CustomerReference::parse,
        )?,
        additional_information: fields::parse_optional(
            "additional_information",
            body.additional_information.as_deref(),
            FreeText::parse,
        )?,
        attachments,
        comment: fields::parse_optional("comment", body.comment.as_deref(), Comment::parse)?,
    })
}

/// The article: catalogue, category and article together, or none of them.
fn article(body: &ChangeFormBody) -> Result<Option<ArticleRef>, Problem> {
    match (&body.catalogue, &body.category, &body.article) {
        (None, None, None) => Ok(None),
        (Some(catalogue), Some(category), Some(article)) => Ok(Some(ArticleRef {
            catalogue: fields::parse("catalogue", catalogue, Title::parse)?,
            category: fields::parse("category", category, Title::parse)?,
            article: fields::parse("article", article, Title::parse)?,
        })),
        _ => Err(Problem::invalid_field(
            "article",
            "catalogue, category and article go together",
        )),
    }
}

fn lead_time(body: &ChangeFormBody) -> Result<Option<LeadTime>, Problem> {
    let Some(text) = body.lead_time.as_deref() else {
        return Ok(None);
    };
    LeadTime::ALL
        .into_iter()
        .find(|lead_time| lead_time.as_str() == text)
        .map(Some)
        .ok_or_else(|| Problem::invalid_field("lead_time", "must be standard or urgent"))
}

/// The attachments, each a file uploaded for `contract` with the size it was uploaded
/// with.
async fn attachments(
    state: &AppState,
    contract: &ContractId,
    listed: &[AttachmentRef],
) -> Result<Vec<Attachment>, Problem> {
    if listed.len() > MAX_ATTACHMENTS {
        return Err(Problem::invalid_field(
            "attachments",
            format!("at most {MAX_ATTACHMENTS} files (got {})", listed.len()),
        ));
    }
    let mut attachments = Vec::with_capacity(listed.len());
    for (index, attachment) in listed.iter().enumerate() {
        let field = |name: &str| format!("attachments[{index}].{name}");
        let sha256 = fields::parse(&field("sha256"), &attachment.sha256, Sha256Digest::parse)?;
        let stored = state
            .attachments
            .describe(contract, sha256.as_str())
            .await?
            .ok_or_else(|| {
                Problem::invalid_field(
                    field("sha256"),
                    "no file uploaded for this contract has this digest (upload it to /v1/attachments first)",
                )
            })?;
        if u64::try_from(stored.size_bytes).ok() != Some(attachment.size_bytes) {
            return Err(Problem::invalid_field(
                field("size_bytes"),
                format!("the uploaded file is {} bytes", stored.size_bytes),
            ));
        }
        attachments.push(Attachment {
            name: fields::parse(&field("name"), &attachment.name, AttachmentName::parse)?,
            media_type: fields::parse(
                &field("media_type"),
                &attachment.media_type,
                MediaType::parse,
            )?,
            size_bytes: attachment.size_bytes,
            sha256,
        });
    }
    Ok(attachments)
}

fn warnings(events: &[ChangeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            ChangeEvent::ChangeSubmitted {
                unfinished_changes_on_asset,
                ..
            } if !unfinished_changes_on_asset.is_empty() => Some(format!(
                "changes already in progress on this asset: {}",
                unfinished_changes_on_asset
                    .iter()
                    .map(ChangeId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => None,
        })
        .collect()
}

/// Creates a change (manager on Services): submitted at once, or saved as a draft.
#[utoipa::path(post, path = "/v1/changes", tag = "changes", request_body = NewChange,
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewChange>,
) -> Result<Answered, Problem> {
    let contract = fields::parse("contract_id", &body.contract_id, ContractId::parse)?;
    let caller = caller.authorize_on(contract.as_str(), "contract")?;
    let change_id = ChangeId::generate();
    let form = form(&state, &contract, &body.form).await?;
    let command = if body.submit {
        ChangeCommand::Submit {
            change_id: change_id.clone(),
            contract,
            form,
        }
    } else {
        ChangeCommand::SaveDraft {
            change_id: change_id.clone(),
            contract,
            form,
        }
    };
    let executed = command::execute(
        &state,
        &state.engine.changes,
        &caller,
        change_id.as_str(),
        Authored::new(caller.actor.clone(), command),
    )
    .await?;
    Ok(answered(executed, StatusCode::CREATED))
}

/// The answer to a command on a change, with `status`, listing the same-asset warning and
/// the billing when the command submitted it.
fn answered(
    (mut answer, events): (CommandAnswer, Vec<ChangeEvent>),
    status: StatusCode,
) -> Answered {
    answer.warnings = warnings(&events);
    answer.billing = submission_billing(&events);
    Answered { status, answer }
}

/// What a submission among `events` says of its billing.
fn submission_billing(events: &[ChangeEvent]) -> Option<ChangeBilling> {
    events.iter().find_map(|event| match event {
        ChangeEvent::ChangeSubmitted {
            billing: Some(billing),
            catalogue_price_cents,
            ..
        } => Some(ChangeBilling {
            billable: billing.billable,
            price_cents: catalogue_price_cents
                .filter(|_| billing.billable)
                .and_then(|cents| i64::try_from(cents).ok()),
            month: billing.month.to_string(),
            rank_in_month: i64::from(billing.rank_in_month),
        }),
        _ => None,
    })
}

/// The change with its delivery clock as of now (or `as_of`).
#[utoipa::path(get, path = "/v1/changes/{change_id}", tag = "changes",
    params(("change_id" = String, Path), AsOf),
    responses((status = 200, body = RequestDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(change_id): Path<String>,
    Query(as_of): Query<AsOf>,
) -> Result<Json<RequestDetail>, Problem> {
    let mut detail = reads::detail(&state, &caller, &change_id, RequestKind::Change, as_of).await?;
    detail.billing = Billing::change(&state.reader, &change_id)
        .await?
        .map(ChangeBilling::new);
    Ok(Json(detail))
}

/// What the right to act on a change is checked against: its contract, and whether it is
/// a draft (404 when the change does not exist).
fn standing(change: &Change) -> Result<(ContractId, bool), Problem> {
    let contract = change
        .contract()
        .ok_or_else(|| Problem::not_found("change request"))?;
    Ok((
        contract.clone(),
        change.status() == Some(ChangeStatus::Draft),
    ))
}

/// Applies the route's right on the change `id` of `contract`: a draft is seen only by its
/// author and its contract's Services managers (404 to anyone else).
async fn authorize(
    state: &AppState,
    caller: &Caller,
    id: &ChangeId,
    (contract, draft): (ContractId, bool),
) -> Result<Authorized, Problem> {
    if draft {
        // Its author is in the request list (the event's metadata); a draft the view has
        // not listed yet is open to the contract's Services managers alone.
        state.views_caught_up(&[RequestList::NAME]).await?;
        let author = RequestList::get(&state.reader, id.as_str())
            .await?
            .map(|row| row.created_by)
            .unwrap_or_default();
        if !caller.may_see_draft(contract.as_str(), &author) {
            return Err(Problem::not_found("change request"));
        }
    }
    caller.authorize_on(contract.as_str(), "change request")
}

fn change_id(change_id: &str) -> Result<ChangeId, Problem> {
    ChangeId::parse(change_id).map_err(|_| Problem::not_found("change request"))
}

/// Runs on the change the command `make` builds for its contract, once the route's right
/// holds on the change as the bus loads it.
async fn act_with<F, Fut>(
    state: &AppState,
    caller: &Caller,
    change_id: &ChangeId,
    make: F,
) -> Result<Answered, Problem>
where
    F: Fn(ContractId) -> Fut,
    Fut: Future<Output = Result<ChangeCommand, Problem>>,
{
    let prepare = |change: &Change| {
        let standing = standing(change);
        let make = &make;
        async move {
            let standing = standing?;
            let contract = standing.0.clone();
            let authorized = authorize(state, caller, change_id, standing).await?;
            let command = make(contract).await?;
            Ok((authorized, Authored::new(caller.actor.clone(), command)))
        }
    };
    let executed = command::act_on(
        state,
        &state.engine.changes,
        caller,
        change_id.as_str(),
        prepare,
    )
    .await?;
    Ok(answered(executed, StatusCode::OK))
}

/// Runs `command` on the change once the route's right holds on it.
async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    command: ChangeCommand,
) -> Result<Answered, Problem> {
    let id = change_id(id)?;
    act_with(state, caller, &id, |_| {
        std::future::ready(Ok(command.clone()))
    })
    .await
}

/// Replaces the whole form of a draft.
#[utoipa::path(put, path = "/v1/changes/{change_id}/draft", tag = "changes",
    params(("change_id" = String, Path)), request_body = ChangeFormBody,
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn edit_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ChangeFormBody>,
) -> Result<Answered, Problem> {
    let id = change_id(&id)?;
    act_with(&state, &caller, &id, |contract| {
        let (state, body) = (&state, &body);
        async move {
            let form = form(state, &contract, body).await?;
            Ok(ChangeCommand::EditDraft { form })
        }
    })
    .await
}

action_route!(
    "changes", "change_id", ChangeCommand;
    /// Submits the draft as last saved.
    submit, "/v1/changes/{change_id}/submit", Empty, |_body| ChangeCommand::SubmitDraft
);
action_route!(
    "changes", "change_id", ChangeCommand;
    /// Staff: the price of the study.
    quote, "/v1/changes/{change_id}/quote", Quote, |body| ChangeCommand::Quote {
        amount_cents: sablier_domain::Cents::parse("amount_cents", body.amount_cents)?,
        note: fields::parse_optional("note", body.note.as_deref(), FreeText::parse)?,
    }
);
action_route!(
    "changes", "change_id", ChangeCommand;
    /// Customer: accepts the quote.
    accept_quote, "/v1/changes/{change_id}/accept-quote", Empty, |_body| ChangeCommand::AcceptQuote
);
action_route!(
    "changes", "change_id", ChangeCommand;
    /// Customer: declines the quote; the change closes without work.
    decline_quote, "/v1/changes/{change_id}/decline-quote", OptionalReason, |body| ChangeCommand::DeclineQuote {
        reason: fields::parse_optional("reason", body.reason.as_deref(), FreeText::parse)?,
    }
);
action_route!(
    "changes", "change_id", ChangeCommand;
    /// Staff: work begins.
    start, "/v1/changes/{change_id}/start", Empty, |_body| ChangeCommand::Start
);
action_route!(
    "changes", "change_id", ChangeCommand;
    /// Staff: work is done.
    complete, "/v1/changes/{change_id}/complete", OptionalNote, |body| ChangeCommand::Complete {
        note: fields::parse_optional("note", body.note.as_deref(), FreeText::parse)?,
    }
);
action_route!(
    "changes", "change_id", ChangeCommand;
    /// Customer, before work starts.
    cancel, "/v1/changes/{change_id}/cancel", OptionalReason, |body| ChangeCommand::Cancel {
        reason: fields::parse_optional("reason", body.reason.as_deref(), FreeText::parse)?,
    }
);
action_route!(
    "changes", "change_id", ChangeCommand;
    /// Staff, with a reason, before work starts.
    reject, "/v1/changes/{change_id}/reject", Reason, |body| ChangeCommand::Reject {
        reason: fields::parse("reason", &body.reason, FreeText::parse)?,
    }
);

/// Administrators: replaces the quote of a change that has one, in any status (a
/// completed change's bill included), with a reason kept in the audit trail.
#[utoipa::path(post, path = "/v1/changes/{change_id}/quote-correction", tag = "changes",
    request_body = QuoteCorrection, params(("change_id" = String, Path)),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn correct_quote(
    State(state): State<AppState>,
    caller: Caller,
    Path(change_id): Path<String>,
    Body(body): Body<QuoteCorrection>,
) -> Result<Answered, Problem> {
    caller.authorize()?;
    let command = ChangeCommand::CorrectQuote {
        amount_cents: sablier_domain::Cents::parse("amount_cents", body.amount_cents)?,
        reason: fields::parse("reason", &body.reason, FreeText::parse)?,
    };
    act(&state, &caller, &change_id, command).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The contract the file is for (manager on Services).
    #[param(value_type = schema::ContractId)]
    pub contract_id: String,
    /// The file's name.
    #[param(value_type = schema::AttachmentName)]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadedAttachment {
    pub name: String,
    #[schema(value_type = schema::MediaType)]
    pub media_type: String,
    pub size_bytes: u64,
    #[schema(value_type = schema::Sha256Digest)]
    pub sha256: String,
}

/// Uploads a file to attach to a change of the contract (the body is the file, its
/// Content-Type the media type; 10 MiB at most by default). Answers the description to
/// put in the form; only changes of this contract may list it.
#[utoipa::path(post, path = "/v1/attachments", tag = "changes", params(UploadQuery),
    request_body(content = serde_json::Value, content_type = "*/*", description = "The file, any bytes; its Content-Type is its media type"),
    responses((status = 201, body = UploadedAttachment), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    content: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<UploadedAttachment>), Problem> {
    let content = content.map_err(|rejection| {
        Problem::new(rejection.status(), "body-too-large", rejection.body_text())
    })?;
    let contract = fields::parse("contract_id", &query.contract_id, ContractId::parse)?;
    let caller = caller.authorize_on(contract.as_str(), "contract")?;
    let name = fields::parse("name", &query.name, AttachmentName::parse)?;
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/octet-stream");
    let media_type = fields::parse("media_type", media_type, MediaType::parse)?;
    if content.is_empty() {
        return Err(Problem::invalid_field("body", "the file is empty"));
    }
    let stored = state
        .attachments
        .store(
            &contract,
            &content,
            media_type.as_str(),
            caller.actor.login.as_str(),
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadedAttachment {
            name: name.as_str().to_owned(),
            media_type: media_type.as_str().to_owned(),
            size_bytes: content.len() as u64,
            sha256: stored.sha256,
        }),
    ))
}

/// Downloads a file attached to a change (visitor on Services).
#[utoipa::path(get, path = "/v1/changes/{change_id}/attachments/{sha256}", tag = "changes",
    params(("change_id" = String, Path), ("sha256" = String, Path)),
    responses((status = 200, description = "The file, with the media type it was uploaded with", content_type = "*/*", body = Vec<u8>), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((change_id, sha256)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = self::change_id(&change_id)?;
    let (change, _): (Change, usize) = state.engine.changes.load(id.as_str()).await?;
    let standing = standing(&change)?;
    authorize(&state, &caller, &id, standing).await?;
    let attachment = change
        .form()
        .attachments
        .iter()
        .find(|attachment| attachment.sha256.as_str() == sha256.to_ascii_lowercase())
        .cloned()
        .ok_or_else(|| Problem::not_found("attachment"))?;
    let contract = change
        .contract()
        .ok_or_else(|| Problem::not_found("change request"))?;
    let content = state
        .attachments
        .content(contract, attachment.sha256.as_str())
        .await?
        .ok_or_else(|| Problem::not_found("attachment"))?;
    let mut response = content.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(attachment.media_type.as_str()) {
        headers.insert(CONTENT_TYPE, value);
    }
    let file_name: String = attachment
        .name
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
