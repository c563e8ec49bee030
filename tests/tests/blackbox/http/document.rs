//! The OpenAPI document as the suite holds the server to it: every answer the suite reads
//! through [`TestApp`](super::app::TestApp) must have a status the document gives its
//! operation, and a JSON body that matches the schema the document gives that status.
//! The document is the one the server serves (`ApiDoc`, built once per test process).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use reqwest::Method;
use serde_json::{Value, json};
use utoipa::OpenApi;

struct Document {
    value: Value,
    /// Each documented path template, split into segments (`None` for `{parameter}`).
    templates: Vec<(String, Vec<Option<String>>)>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let value = serde_json::to_value(sablier_api::http::openapi::ApiDoc::openapi())
            .expect("the document is JSON");
        let templates = value["paths"]
            .as_object()
            .expect("the document has paths")
            .keys()
            .map(|template| {
                let segments = template
                    .split('/')
                    .map(|segment| {
                        (!(segment.starts_with('{') && segment.ends_with('}')))
                            .then(|| segment.to_owned())
                    })
                    .collect();
                (template.clone(), segments)
            })
            .collect();
        Document {
            value,
            templates,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

impl Document {
    /// The template `path` is an instance of, preferring the one with most fixed segments.
    fn template(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .filter(|(_, template)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(fixed, segment)| {
                        fixed
                            .as_deref()
                            .map_or(!segment.is_empty(), |fixed| fixed == *segment)
                    })
            })
            .max_by_key(|(_, template)| template.iter().filter(|s| s.is_some()).count())
            .map(|(template, _)| template.as_str())
    }

    /// The validator of the schema at `pointer` (a JSON pointer into the document).
    fn validator(&self, pointer: &str) -> Arc<Validator> {
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        validators
            .entry(pointer.to_owned())
            .or_insert_with(|| {
                let schema = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": self.value["components"].clone(),
                    "allOf": [self.value.pointer(pointer).unwrap_or_else(|| {
                        panic!("the document has no schema at {pointer}")
                    })],
                });
                Arc::new(jsonschema::validator_for(&schema).unwrap_or_else(|error| {
                    panic!("the document's schema at {pointer} does not compile: {error}")
                }))
            })
            .clone()
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Checks one answer against the document. `method` is `None` when the caller did not
/// say it (a request built by hand): the answer must then fit one of the path's
/// operations. Panics, naming what differs, on an answer the document does not allow.
pub fn check_answer(
    method: Option<&Method>,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) {
    let document = document();
    let media = content_type
        .map(|value| value.split(';').next().unwrap_or("").trim().to_owned())
        .unwrap_or_default();
    let Some(template) = document.template(path) else {
        // Routes outside the document (`/openapi.json`, unknown ones): a refusal is a
        // problem all the same.
        if status >= 400 {
            check_body(document, "/components/schemas/Problem", path, status, body);
        }
        return;
    };
    let item = &document.value["paths"][template];
    let methods: Vec<String> = match method {
        Some(method) => vec![method.as_str().to_ascii_lowercase()],
        None => item
            .as_object()
            .unwrap()
            .keys()
            .filter(|key| key.as_str() != "parameters")
            .cloned()
            .collect(),
    };
    let mut refusals = Vec::new();
    for method in &methods {
        let Some(operation) = item.get(method) else {
            // A method the path does not serve: the router refuses it with a problem.
            if status >= 400 {
                check_body(document, "/components/schemas/Problem", path, status, body);
                return;
            }
            refusals.push(format!("{method} is not documented on {template}"));
            continue;
        };
        let responses = &operation["responses"];
        let family = format!("{}XX", status / 100);
        let Some(key) = [status.to_string(), family, "default".to_owned()]
            .into_iter()
            .find(|key| responses.get(key).is_some())
        else {
            refusals.push(format!(
                "{method} {template} does not document status {status}"
            ));
            continue;
        };
        let content = &responses[&key]["content"];
        let Some(declared) = content.as_object().filter(|content| !content.is_empty()) else {
            if body.is_empty() {
                return;
            }
            refusals.push(format!(
                "{method} {template} documents no body for {status}, got {} bytes",
                body.len()
            ));
            continue;
        };
        let covers = |range: &str| {
            range == media
                || range == "*/*"
                || range
                    .strip_suffix("/*")
                    .is_some_and(|kind| media.starts_with(&format!("{kind}/")))
        };
        if !declared.keys().any(|range| covers(range)) {
            refusals.push(format!(
                "{method} {template} documents {:?} for {status}, got {media:?}",
                declared.keys().collect::<Vec<_>>()
            ));
            continue;
        }
        if !(media == "application/json" || media.ends_with("+json")) {
            return;
        }
        let pointer = format!(
            "/paths/{}/{method}/responses/{key}/content/{}/schema",
            escape(template),
            escape(&media)
        );
        match errors(document, &pointer, body) {
            None => return,
            Some(found) => refusals.push(format!("{method} {template} {status}: {found}")),
        }
    }
    panic!(
        "the answer to {path} ({status}) disagrees with /openapi.json:\n{}\nbody: {}",
        refusals.join("\n"),
        String::from_utf8_lossy(body)
    );
}

fn check_body(document: &Document, pointer: &str, path: &str, status: u16, body: &[u8]) {
    if let Some(found) = errors(document, pointer, body) {
        panic!(
            "the answer to {path} ({status}) disagrees with /openapi.json: {found}\nbody: {}",
            String::from_utf8_lossy(body)
        );
    }
}

/// What is wrong with `body` against the schema at `pointer`, if anything.
fn errors(document: &Document, pointer: &str, body: &[u8]) -> Option<String> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => return Some(format!("the body is not JSON: {error}")),
    };
    let validator = document.validator(pointer);
    let found: Vec<String> = validator
        .iter_errors(&value)
        .map(|error| format!("at {}: {error}", error.instance_path()))
        .collect();
    (!found.is_empty()).then(|| found.join("; "))
}

#[test]
fn issue_20_the_suite_refuses_an_answer_the_document_does_not_allow() {
    let refused = |method: Option<&Method>, path: &str, status: u16, media: &str, body: &str| {
        std::panic::catch_unwind(|| {
            check_answer(method, path, status, Some(media), body.as_bytes())
        })
        .is_err()
    };
    let problem = r#"{"type": "https://sablier.dev/problems/not-found", "title": "Not Found", "status": 404, "detail": "incident not found"}"#;
    // What the document allows passes.
    assert!(!refused(
        Some(&Method::GET),
        "/v1/incidents/INC-1",
        404,
        "application/problem+json",
        problem
    ));
    assert!(!refused(
        None,
        "/v1/requests/INC-1/history",
        200,
        "application/json",
        "[]"
    ));
    // A body of the wrong shape, a status or a media type the operation does not document,
    // and a problem without its fields are refused.
    assert!(refused(
        None,
        "/v1/requests/INC-1/history",
        200,
        "application/json",
        r#"[{"sequence": "one"}]"#
    ));
    assert!(refused(
        Some(&Method::GET),
        "/healthz",
        302,
        "application/json",
        "{}"
    ));
    assert!(refused(
        Some(&Method::GET),
        "/v1/incidents/INC-1",
        404,
        "text/plain",
        "not found"
    ));
    assert!(refused(
        Some(&Method::GET),
        "/v1/incidents/INC-1",
        404,
        "application/problem+json",
        "{}"
    ));
    assert!(refused(
        None,
        "/no/such/route",
        404,
        "application/problem+json",
        "{}"
    ));
}
