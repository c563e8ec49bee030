//! Bad input on every command route: malformed JSON, a body not declared as JSON, missing,
//! extra and mistyped fields, overlong strings, a sixth attachment, an unknown catalogue
//! article, invalid transitions and another contract's ids. Each gets a 4xx problem body
//! naming what is wrong, and the log gains no event.

use reqwest::Method;
use serde_json::{Value, json};

use super::app::{TestApp, on_every_backend};

struct Route {
    method: Method,
    path: String,
    /// A valid body; the checks break it one way at a time.
    body: Value,
    /// The fields the body cannot go without.
    required: &'static [&'static str],
}

fn route(method: Method, path: String, body: Value, required: &'static [&'static str]) -> Route {
    Route {
        method,
        path,
        body,
        required,
    }
}

/// Every command route with a JSON body, on objects of contract OCB0000601.
fn command_routes(incident: &str, change: &str, order: &str) -> Vec<Route> {
    use Method as M;
    let text = || json!({"text": "words"});
    vec![
        route(
            M::POST,
            "/v1/contracts".into(),
            json!({"contract_id": "OCB0000699", "name": "N", "offer": "Cloud Avenue", "company": "C",
            "referent": {"login": "ref.login01", "email": "r@x.example", "first_name": "R", "last_name": "F"}}),
            &["contract_id", "name", "offer", "company", "referent"],
        ),
        route(
            M::POST,
            "/v1/contracts/OCB0000601/upgrade".into(),
            json!({"to": "Gold"}),
            &["to"],
        ),
        route(
            M::POST,
            "/v1/contracts/OCB0000601/downgrade".into(),
            json!({"to": "Bronze"}),
            &["to"],
        ),
        route(
            M::POST,
            "/v1/contracts/OCB0000601/expert-time".into(),
            json!({"performed_on": "2026-03-02", "minutes": 30}),
            &["performed_on", "minutes"],
        ),
        route(
            M::POST,
            "/v1/contracts/OCB0000601/users".into(),
            json!({"login": "new.user01", "email": "n@x.example", "first_name": "N", "last_name": "U"}),
            &["login", "email", "first_name", "last_name"],
        ),
        route(
            M::PUT,
            "/v1/contracts/OCB0000601/users/alice.referent/roles".into(),
            json!({"roles": {"support": "visitor"}}),
            &["roles"],
        ),
        route(
            M::POST,
            "/v1/incidents".into(),
            json!({"contract_id": "OCB0000601", "priority": "P2", "title": "T", "description": "D"}),
            &["contract_id", "priority", "title", "description"],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/start-intervention"),
            json!({}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/await-customer"),
            json!({"reason": "awaiting_customer"}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/customer-response"),
            json!({}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/diagnosis"),
            text(),
            &["text"],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/restore"),
            text(),
            &["text"],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/close"),
            json!({}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/reopen"),
            text(),
            &["text"],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/priority"),
            json!({"to": "P1", "reason": "worse"}),
            &["to", "reason"],
        ),
        route(
            M::POST,
            format!("/v1/incidents/{incident}/comments"),
            text(),
            &["text"],
        ),
        route(
            M::POST,
            "/v1/changes".into(),
            json!({"contract_id": "OCB0000601", "form": {"asset": "vm"}}),
            &["contract_id"],
        ),
        route(
            M::PUT,
            format!("/v1/changes/{change}/draft"),
            json!({"asset": "vm"}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/submit"),
            json!({}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/quote"),
            json!({"amount_cents": 100}),
            &["amount_cents"],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/quote-correction"),
            json!({"amount_cents": 100, "reason": "typo"}),
            &["amount_cents", "reason"],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/accept-quote"),
            json!({}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/decline-quote"),
            json!({"reason": "no"}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/start"),
            json!({}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/complete"),
            json!({"note": "ok"}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/cancel"),
            json!({"reason": "no"}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/changes/{change}/reject"),
            json!({"reason": "no"}),
            &["reason"],
        ),
        route(
            M::POST,
            "/v1/orders".into(),
            json!({"contract_id": "OCB0000601", "item": "pack-expert-4h", "contact": {
            "civility": "mr", "last_name": "L", "first_name": "F", "email": "e@x.example", "mobile": "0612345678"}}),
            &["contract_id", "item", "contact"],
        ),
        route(
            M::POST,
            format!("/v1/orders/{order}/quote"),
            json!({"amount_cents": 100}),
            &["amount_cents"],
        ),
        route(
            M::POST,
            format!("/v1/orders/{order}/quote-correction"),
            json!({"amount_cents": 100, "reason": "typo"}),
            &["amount_cents", "reason"],
        ),
        route(
            M::POST,
            format!("/v1/orders/{order}/accept-quote"),
            json!({}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/orders/{order}/decline-quote"),
            json!({"reason": "no"}),
            &[],
        ),
        route(M::POST, format!("/v1/orders/{order}/start"), json!({}), &[]),
        route(
            M::POST,
            format!("/v1/orders/{order}/complete"),
            json!({"note": "ok"}),
            &[],
        ),
        route(
            M::POST,
            format!("/v1/orders/{order}/cancel"),
            json!({"reason": "no"}),
            &["reason"],
        ),
        route(
            M::POST,
            "/v1/tokens".into(),
            json!({"login": "some.agent", "role": "agent"}),
            &["login", "role"],
        ),
    ]
}

async fn id_of(answer: Value) -> String {
    answer["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn every_command_route_refuses_bad_input_with_a_problem_and_writes_nothing() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000601", "Gold", "alice.referent").await;
        app.contract("OCB0000602", "Gold", "bob.referent").await;
        let alice = app.token("alice.referent", "customer").await;
        let bob = app.token("bob.referent", "customer").await;
        let admin = app.admin.clone();
        let incident = id_of(app.post("/v1/incidents", &alice, json!({"contract_id": "OCB0000601", "priority": "P3", "title": "T", "description": "D"})).await.expect(201)).await;
        let change = id_of(app.post("/v1/changes", &alice, json!({"contract_id": "OCB0000601", "submit": false, "form": {}})).await.expect(201)).await;
        let order = id_of(app.post("/v1/orders", &alice, json!({"contract_id": "OCB0000601", "item": "prestation-migration", "contact": {
            "civility": "ms", "last_name": "L", "first_name": "F", "email": "e@x.example", "landline": "0123456789"}})).await.expect(201)).await;

        let head = app.log_head().await;
        for route in command_routes(&incident, &change, &order) {
            let label = format!("{backend}: {} {}", route.method, route.path);
            let send_raw = |body: &'static str, content_type: &'static str| {
                app.client
                    .request(route.method.clone(), format!("{}{}", app.base, route.path))
                    .bearer_auth(&admin)
                    .header("content-type", content_type)
                    .body(body)
                    .send()
            };
            let malformed = TestApp::read(send_raw("{oops", "application/json").await.unwrap()).await;
            malformed.problem(400);
            let not_json = TestApp::read(send_raw("to=Gold", "application/x-www-form-urlencoded").await.unwrap()).await;
            not_json.problem(415);

            let mut extra = route.body.clone();
            extra["surprise"] = json!(true);
            let problem = app.send(route.method.clone(), &route.path, Some(&admin), Some(&extra)).await.problem(422);
            assert_eq!(problem["field"], "surprise", "{label}: {problem:#}");

            for field in route.required {
                let mut missing = route.body.clone();
                missing.as_object_mut().unwrap().remove(*field);
                let problem = app.send(route.method.clone(), &route.path, Some(&admin), Some(&missing)).await.problem(422);
                assert_eq!(problem["field"], *field, "{label}: missing {field}: {problem:#}");

                let mut mistyped = route.body.clone();
                mistyped[*field] = match &route.body[*field] {
                    Value::String(_) => json!(12345),
                    _ => json!("a string"),
                };
                let problem = app.send(route.method.clone(), &route.path, Some(&admin), Some(&mistyped)).await.problem(422);
                assert_eq!(problem["field"], *field, "{label}: mistyped {field}: {problem:#}");
            }
            assert_eq!(app.log_head().await, head, "{label}: bad input appended events");
        }

        let refused = |answer: super::app::Answer, status: u16, field: Option<&str>| {
            let problem = answer.problem(status);
            if let Some(field) = field {
                assert_eq!(problem["field"], field, "{backend}: {problem:#}");
            }
        };
        // Overlong strings.
        refused(app.post("/v1/incidents", &alice, json!({"contract_id": "OCB0000601", "priority": "P2", "title": "x".repeat(201), "description": "D"})).await, 422, Some("title"));
        refused(app.post(&format!("/v1/incidents/{incident}/comments"), &alice, json!({"text": "x".repeat(4001)})).await, 422, Some("text"));
        refused(app.post("/v1/changes", &alice, json!({"contract_id": "OCB0000601", "form": {"customer_reference": "r".repeat(65)}})).await, 422, Some("customer_reference"));
        refused(app.post("/v1/contracts/OCB0000601/users", &alice, json!({"login": "short", "email": "s@x.example", "first_name": "S", "last_name": "H"})).await, 422, Some("login"));
        refused(app.post("/v1/contracts/OCB0000601/users", &alice, json!({"login": "valid.login", "email": "not-an-email", "first_name": "S", "last_name": "H"})).await, 422, Some("email"));
        // A sixth attachment.
        let upload = app.client.post(format!("{}/v1/attachments?contract_id=OCB0000601&name=f.txt", app.base))
            .bearer_auth(&alice).header("content-type", "text/plain").body("content").send().await.unwrap();
        let file = TestApp::read(upload).await.expect(201);
        let head = app.log_head().await;
        let six: Vec<Value> = (0..6).map(|i| { let mut f = file.clone(); f["name"] = json!(format!("f{i}.txt")); f }).collect();
        refused(app.post("/v1/changes", &alice, json!({"contract_id": "OCB0000601", "form": {"attachments": six}})).await, 422, Some("attachments"));
        // An attachment never uploaded.
        refused(app.post("/v1/changes", &alice, json!({"contract_id": "OCB0000601", "form": {"attachments": [{"name": "x", "media_type": "text/plain", "size_bytes": 1, "sha256": "ab".repeat(32)}]}})).await, 422, Some("attachments[0].sha256"));
        // Unknown catalogue article and service item.
        refused(app.post("/v1/changes", &alice, json!({"contract_id": "OCB0000601", "form": {"asset": "vm", "catalogue": "Catalogue de Changement Standard", "category": "Quotas", "article": "Nothing like this", "lead_time": "standard"}})).await, 422, Some("article"));
        refused(app.post("/v1/orders", &alice, json!({"contract_id": "OCB0000601", "item": "no-such-item", "contact": {"civility": "mr", "last_name": "L", "first_name": "F", "email": "e@x.example", "mobile": "0612345678"}})).await, 422, Some("item"));
        refused(app.post("/v1/orders", &alice, json!({"contract_id": "OCB0000601", "item": "pack-expert-4h", "contact": {"civility": "mr", "last_name": "L", "first_name": "F", "email": "e@x.example"}})).await, 422, Some("contact.phone"));
        // Invalid transitions.
        refused(app.post(&format!("/v1/incidents/{incident}/reopen"), &alice, json!({"text": "again"})).await, 409, None);
        refused(app.post(&format!("/v1/changes/{change}/accept-quote"), &alice, json!({})).await, 409, None);
        refused(app.post(&format!("/v1/orders/{order}/accept-quote"), &alice, json!({})).await, 409, None);
        // Another contract's ids: not found, never forbidden.
        refused(app.post(&format!("/v1/incidents/{incident}/comments"), &bob, json!({"text": "hello"})).await, 404, None);
        refused(app.post(&format!("/v1/changes/{change}/cancel"), &bob, json!({})).await, 404, None);
        refused(app.post(&format!("/v1/orders/{order}/accept-quote"), &bob, json!({})).await, 404, None);
        refused(app.post("/v1/incidents", &bob, json!({"contract_id": "OCB0000601", "priority": "P2", "title": "T", "description": "D"})).await, 404, None);
        refused(app.get(&format!("/v1/incidents/{incident}"), &bob).await, 404, None);
        // Ids that are not ids at all.
        refused(app.post("/v1/incidents/INC-nope/comments", &alice, json!({"text": "hello"})).await, 404, None);
        assert_eq!(app.log_head().await, head, "{backend}: refused commands appended events");
        app
    })
    .await;
}

#[tokio::test]
async fn issue_20_a_body_cut_short_is_malformed_on_every_command_route() {
    let app = TestApp::spawn(sablier_store::testing::TestDatabase::sqlite().await).await;
    let head = app.log_head().await;
    for route in command_routes("INC-x", "CHG-x", "ORD-x") {
        for body in [r#"{"oops": "#, r#"{"text": "a"#, r#"{"#, r#"["#] {
            let answer = app
                .client
                .request(route.method.clone(), format!("{}{}", app.base, route.path))
                .bearer_auth(&app.admin)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let problem = TestApp::read(answer).await.problem(400);
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("not valid JSON"),
                "{} {} with {body:?}: {problem:#}",
                route.method,
                route.path
            );
            assert!(problem.get("field").is_none(), "{problem:#}");
        }
    }
    assert_eq!(app.log_head().await, head);
    app.stop().await;
}

#[tokio::test]
async fn issue_20_an_incident_comment_is_never_empty_and_at_most_4000_characters() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000611", "Gold", "alice.referent").await;
        let alice = app.token("alice.referent", "customer").await;
        let incident = id_of(app.post("/v1/incidents", &alice, json!({"contract_id": "OCB0000611", "priority": "P3", "title": "T", "description": "D"})).await.expect(201)).await;
        let comments = format!("/v1/incidents/{incident}/comments");
        let head = app.log_head().await;
        for text in [String::new(), "   ".to_owned(), "\n\t ".to_owned(), "é".repeat(4001)] {
            let problem = app.post(&comments, &alice, json!({"text": text})).await.problem(422);
            assert_eq!(problem["field"], "text", "{backend}: {problem:#}");
        }
        assert_eq!(app.log_head().await, head, "{backend}: a refused comment appended events");
        app.post(&comments, &alice, json!({"text": "é".repeat(4000)})).await.expect(200);
        app.post(&comments, &alice, json!({"text": "x".repeat(401)})).await.expect(200);
        // The document states the same rule.
        let document = app.get("/openapi.json", &alice).await.expect(200);
        let body = &document["components"]["schemas"]["NewComment"]["properties"]["text"];
        let rule = &document["components"]["schemas"][body["$ref"].as_str().unwrap().rsplit('/').next().unwrap()];
        assert_eq!((rule["minLength"].as_u64(), rule["maxLength"].as_u64()), (Some(1), Some(4000)), "{rule:#}");
        app
    })
    .await;
}

#[tokio::test]
async fn issue_20_a_pause_reason_is_a_code_in_the_document_as_on_the_server() {
    let app = TestApp::spawn(sablier_store::testing::TestDatabase::sqlite().await).await;
    app.contract("OCB0000612", "Gold", "alice.referent").await;
    let alice = app.token("alice.referent", "customer").await;
    let agent = app.token("agent.martin", "agent").await;
    let incident = id_of(app.post("/v1/incidents", &alice, json!({"contract_id": "OCB0000612", "priority": "P3", "title": "T", "description": "D"})).await.expect(201)).await;
    app.post(
        &format!("/v1/incidents/{incident}/start-intervention"),
        &agent,
        json!({}),
    )
    .await
    .expect(200);
    let pause = format!("/v1/incidents/{incident}/await-customer");
    let problem = app
        .post(
            &pause,
            &agent,
            json!({"reason": "Waiting for the customer's logs"}),
        )
        .await
        .problem(422);
    assert_eq!(problem["field"], "reason", "{problem:#}");
    app.post(&pause, &agent, json!({"reason": "awaiting_logs"}))
        .await
        .expect(200);

    let document = app.get("/openapi.json", &alice).await.expect(200);
    let schemas = &document["components"]["schemas"];
    let reason = serde_json::to_string(&schemas["AwaitCustomer"]["properties"]["reason"]).unwrap();
    assert!(
        reason.contains("#/components/schemas/PauseReason"),
        "{reason}"
    );
    assert!(
        !reason.contains("maxLength"),
        "the reason is a code, not free text: {reason}"
    );
    assert_eq!(schemas["PauseReason"]["pattern"], "^[a-z0-9_]{1,64}$");
    app.stop().await;
}
