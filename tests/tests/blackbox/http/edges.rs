//! The edges of the API: idempotency keys, body limits, unknown routes and methods,
//! tokens (missing, wrong, revoked), request ids, the OpenAPI document covering every
//! route, health, readiness and metrics, and a graceful stop.

use reqwest::Method;
use sablier_api::http::state::Limits;
use sablier_store::testing::TestDatabase;
use serde_json::json;

use super::app::{TestApp, on_every_backend};

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_appends_nothing() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000701", "Silver", "ivan.idempotent").await;
        let customer = app.token("ivan.idempotent", "customer").await;
        let body = json!({"contract_id": "OCB0000701", "priority": "P3", "title": "Once", "description": "Only once"});
        let send = |key: &'static str, body: serde_json::Value| {
            app.client
                .post(format!("{}/v1/incidents", app.base))
                .bearer_auth(&customer)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
        };
        let first = TestApp::read(send("key-1", body.clone()).await.unwrap()).await;
        assert_eq!(first.status, 201, "{backend}: {:#}", first.body);
        let head = app.log_head().await;
        let again = TestApp::read(send("key-1", body.clone()).await.unwrap()).await;
        assert_eq!(again.status, 201);
        assert_eq!(again.body, first.body, "{backend}: the same answer");
        assert_eq!(again.headers["idempotent-replayed"], "true");
        assert_eq!(app.log_head().await, head, "{backend}: a retry appended events");
        // The same key for another request is refused.
        let mut other = body.clone();
        other["title"] = json!("Another");
        let reused = TestApp::read(send("key-1", other).await.unwrap()).await;
        assert_eq!(reused.problem(422)["field"], "Idempotency-Key");
        // A refusal is kept too: the retry gets the same 422 and still nothing is written.
        let mut bad = body.clone();
        bad["priority"] = json!("P7");
        let refused = TestApp::read(send("key-2", bad.clone()).await.unwrap()).await.problem(422);
        let refused_again = TestApp::read(send("key-2", bad).await.unwrap()).await.problem(422);
        assert_eq!(refused, refused_again);
        // A new key runs the command again.
        assert_eq!(TestApp::read(send("key-3", body).await.unwrap()).await.status, 201);
        assert_eq!(app.log_head().await, head + 1);
        app
    })
    .await;
}

#[tokio::test]
async fn limits_unknown_routes_methods_and_tokens_get_the_right_status() {
    let db = TestDatabase::sqlite().await;
    let limits = Limits {
        max_body_bytes: 4096,
        max_attachment_bytes: 1024,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(db, limits).await;
    app.contract("OCB0000702", "Gold", "lena.limits").await;
    let customer = app.token("lena.limits", "customer").await;

    let big = json!({"contract_id": "OCB0000702", "priority": "P3", "title": "T", "description": "d".repeat(5000)});
    app.post("/v1/incidents", &customer, big).await.problem(413);
    let upload = app
        .client
        .post(format!(
            "{}/v1/attachments?contract_id=OCB0000702&name=big.bin",
            app.base
        ))
        .bearer_auth(&customer)
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 2048])
        .send()
        .await
        .unwrap();
    TestApp::read(upload).await.problem(413);

    app.get("/v1/nothing-here", &customer).await.problem(404);
    let wrong = app
        .send(Method::PATCH, "/v1/incidents", Some(&customer), None)
        .await;
    assert_eq!(wrong.headers["allow"], "POST");
    wrong.problem(405);

    app.send(Method::GET, "/v1/requests", None, None)
        .await
        .problem(401);
    app.get("/v1/requests", "sbl_not-a-real-token")
        .await
        .problem(401);
    let listed = app.get("/v1/tokens", &app.admin).await.expect(200);
    let token_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["login"] == "lena.limits")
        .unwrap()["token_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/v1/requests", &customer).await.expect(200);
    app.delete(&format!("/v1/tokens/{token_id}"), &app.admin)
        .await
        .expect(204);
    app.get("/v1/requests", &customer).await.problem(401);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_covers_every_route_and_operations_routes_answer() {
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    let document = app
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .expect(200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    // Every route the router serves is documented, with each of its methods.
    let served = [
        ("post", "/v1/contracts"),
        ("get", "/v1/contracts"),
        ("get", "/v1/contracts/{contract_id}"),
        ("post", "/v1/contracts/{contract_id}/upgrade"),
        ("post", "/v1/contracts/{contract_id}/downgrade"),
        ("post", "/v1/contracts/{contract_id}/expert-time"),
        ("get", "/v1/contracts/{contract_id}/users"),
        ("post", "/v1/contracts/{contract_id}/users"),
        ("put", "/v1/contracts/{contract_id}/users/{login}/roles"),
        ("delete", "/v1/contracts/{contract_id}/users/{login}"),
        ("get", "/v1/contracts/{contract_id}/billing/{month}"),
        ("post", "/v1/incidents"),
        ("get", "/v1/incidents/{incident_id}"),
        ("post", "/v1/incidents/{incident_id}/start-intervention"),
        ("post", "/v1/incidents/{incident_id}/await-customer"),
        ("post", "/v1/incidents/{incident_id}/customer-response"),
        ("post", "/v1/incidents/{incident_id}/diagnosis"),
        ("post", "/v1/incidents/{incident_id}/restore"),
        ("post", "/v1/incidents/{incident_id}/close"),
        ("post", "/v1/incidents/{incident_id}/reopen"),
        ("post", "/v1/incidents/{incident_id}/priority"),
        ("post", "/v1/incidents/{incident_id}/comments"),
        ("post", "/v1/changes"),
        ("get", "/v1/changes/{change_id}"),
        ("put", "/v1/changes/{change_id}/draft"),
        ("post", "/v1/changes/{change_id}/submit"),
        ("post", "/v1/changes/{change_id}/quote"),
        ("post", "/v1/changes/{change_id}/accept-quote"),
        ("post", "/v1/changes/{change_id}/decline-quote"),
        ("post", "/v1/changes/{change_id}/start"),
        ("post", "/v1/changes/{change_id}/complete"),
        ("post", "/v1/changes/{change_id}/cancel"),
        ("post", "/v1/changes/{change_id}/reject"),
        ("post", "/v1/changes/{change_id}/quote-correction"),
        ("get", "/v1/changes/{change_id}/attachments/{sha256}"),
        ("post", "/v1/attachments"),
        ("post", "/v1/orders"),
        ("get", "/v1/orders/{order_id}"),
        ("post", "/v1/orders/{order_id}/quote"),
        ("post", "/v1/orders/{order_id}/accept-quote"),
        ("post", "/v1/orders/{order_id}/decline-quote"),
        ("post", "/v1/orders/{order_id}/start"),
        ("post", "/v1/orders/{order_id}/complete"),
        ("post", "/v1/orders/{order_id}/cancel"),
        ("post", "/v1/orders/{order_id}/quote-correction"),
        ("get", "/v1/requests"),
        ("get", "/v1/requests/{request_id}/history"),
        ("get", "/v1/requests/{request_id}/clocks/{metric}"),
        ("get", "/v1/breach-watch"),
        ("get", "/v1/catalogues/changes"),
        ("get", "/v1/catalogues/services"),
        ("get", "/v1/maintenance-windows"),
        ("post", "/v1/tokens"),
        ("get", "/v1/tokens"),
        ("delete", "/v1/tokens/{token_id}"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
    ];
    for (method, path) in served {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    let documented: usize = paths
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        served.len(),
        "a documented route the router does not serve, or the reverse"
    );

    app.send(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    let ready = app
        .send(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    assert_eq!(ready["status"], "ready");
    app.get("/v1/catalogues/services", &app.admin)
        .await
        .expect(200);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("sablier_http_requests_total{method=\"GET\",route=\"/v1/catalogues/services\",status=\"200\"} 1"), "{metrics}");
    assert!(
        metrics.contains("sablier_projector_lag_events"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stop_answers_every_request_it_accepted_and_loses_nothing_acknowledged() {
    let mut app = TestApp::spawn(TestDatabase::sqlite().await).await;
    app.contract("OCB0000703", "Gold", "gina.graceful").await;
    let customer = app.token("gina.graceful", "customer").await;
    let head = app.log_head().await;
    let requests: Vec<_> = (0..40)
        .map(|i| {
            let request = app
                .client
                .post(format!("{}/v1/incidents", app.base))
                .bearer_auth(&customer)
                .json(&json!({"contract_id": "OCB0000703", "priority": "P2", "title": format!("T{i}"), "description": "D"}));
            tokio::spawn(async move { request.send().await.map(|response| response.status()) })
        })
        .collect();
    // Stop while requests are in flight.
    while app.log_head().await == head {
        tokio::task::yield_now().await;
    }
    app.stop_server().await;
    let mut acknowledged = 0;
    for request in requests {
        match request.await.unwrap() {
            Ok(status) => {
                assert_eq!(status, 201, "an accepted request is answered in full");
                acknowledged += 1;
            }
            // Refused before it was accepted: nothing to answer.
            Err(error) => assert!(error.is_connect() || error.is_request(), "{error}"),
        }
    }
    assert!(acknowledged >= 1);
    assert_eq!(
        app.log_head().await,
        head + acknowledged,
        "every acknowledged incident is in the log, and only those"
    );
    app.stop().await;
}

/// Found by fuzzing (scripts/fuzz-api.sh): an `as_of` before a clock started was a 500.
#[tokio::test]
async fn an_instant_before_a_request_existed_shows_no_clock_and_explains_none() {
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    app.contract("OCB0000704", "Gold", "fred.fuzzing").await;
    let customer = app.token("fred.fuzzing", "customer").await;
    let opened = app
        .post("/v1/incidents", &customer, json!({"contract_id": "OCB0000704", "priority": "P1", "title": "T", "description": "D"}))
        .await
        .expect(201);
    let id = opened["id"].as_str().unwrap();
    let before = app
        .get(
            &format!("/v1/incidents/{id}?as_of=2000-01-01T00:00:00Z"),
            &customer,
        )
        .await
        .expect(200);
    assert_eq!(before["clocks"], json!([]), "{before:#}");
    let problem = app
        .get(
            &format!("/v1/requests/{id}/clocks/GTR?as_of=2000-01-01T00:00:00Z"),
            &customer,
        )
        .await
        .problem(422);
    assert_eq!(problem["field"], "as_of");
    app.get("/v1/breach-watch?contract_id=not-a-contract", &customer)
        .await
        .problem(422);
    app.stop().await;
}

/// The request list and the clocks refuse a query parameter they cannot honour, naming it
/// as the query does, instead of answering something else: an unknown detailed status
/// (not an empty list), a cursor they did not hand out (named `after`), an instant too far
/// ahead for a clock's explanation.
#[tokio::test]
async fn reads_refuse_query_parameters_they_cannot_honour_and_name_them() {
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    app.contract("OCB0000705", "Gold", "quentin.query").await;
    let customer = app.token("quentin.query", "customer").await;
    let opened = app
        .post("/v1/incidents", &customer, json!({"contract_id": "OCB0000705", "priority": "P3", "title": "T", "description": "D"}))
        .await
        .expect(201);
    let id = opened["id"].as_str().unwrap();
    for (query, field) in [
        ("detailed_status=awaiting-customer", "detailed_status"),
        ("detailed_status=", "detailed_status"),
        ("after=zz", "after"),
        ("kind=ticket", "kind"),
        ("status=open", "status"),
        ("sort=sideways", "sort"),
    ] {
        let problem = app
            .get(&format!("/v1/requests?{query}"), &customer)
            .await
            .problem(422);
        assert_eq!(problem["field"], field, "{query}: {problem:#}");
    }
    let unknown = app
        .get("/v1/requests?detailed_status=awaiting-customer", &customer)
        .await
        .problem(422);
    assert!(
        unknown.to_string().contains("awaiting_customer"),
        "the accepted words are listed: {unknown:#}"
    );
    let listed = app
        .get("/v1/requests?detailed_status=opened", &customer)
        .await
        .expect(200);
    assert_eq!(listed["requests"][0]["request_id"], id, "{listed:#}");
    // A cursor continues its own list only: not the list in the other order.
    app.post(
        "/v1/incidents",
        &customer,
        json!({"contract_id": "OCB0000705", "priority": "P4", "title": "U", "description": "E"}),
    )
    .await
    .expect(201);
    let first = app.get("/v1/requests?limit=1", &customer).await.expect(200);
    let next = first["next"].as_str().unwrap();
    app.get(&format!("/v1/requests?limit=1&after={next}"), &customer)
        .await
        .expect(200);
    let problem = app
        .get(
            &format!("/v1/requests?limit=1&sort=oldest_first&after={next}"),
            &customer,
        )
        .await
        .problem(422);
    assert_eq!(problem["field"], "after", "{problem:#}");

    let next_year = (chrono::Utc::now() + chrono::Duration::days(300)).format("%Y-%m-%dT%H:%M:%SZ");
    app.get(
        &format!("/v1/requests/{id}/clocks/GTR?as_of={next_year}"),
        &customer,
    )
    .await
    .expect(200);
    for path in [
        format!("/v1/requests/{id}/clocks/GTR?as_of=9999-12-31T00:00:00Z"),
        format!("/v1/incidents/{id}?as_of=2999-01-01T00:00:00Z"),
    ] {
        let problem = app.get(&path, &customer).await.problem(422);
        assert_eq!(problem["field"], "as_of", "{path}: {problem:#}");
    }
    app.stop().await;
}

/// Requests hyper refuses before any route sees them (a target past 65,534 bytes, too many
/// headers, a line that is not HTTP) are answered with a problem body like every other
/// refusal, not an empty one.
#[tokio::test]
async fn issue_20_refusals_hyper_answers_itself_have_problem_bodies() {
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    // Sent by hand: an HTTP client refuses to send a target this long, or a broken line.
    let exchange = async |request: String| {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = app.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{answer}"
        );
        let problem: serde_json::Value = serde_json::from_str(body).expect("a problem body");
        (
            head.split(' ').nth(1).unwrap().parse::<u16>().unwrap(),
            problem,
        )
    };
    let parameters: Vec<String> = (0..10_000).map(|n| format!("p{n}=v")).collect();
    let many_parameters = format!("/v1/requests?{}", parameters.join("&"));
    let long_segment = format!("/v1/incidents/{}", "x".repeat(100_000));
    for path in [many_parameters, long_segment] {
        let (status, problem) = exchange(format!(
            "GET {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\r\n",
            app.admin
        ))
        .await;
        assert_eq!(
            (status, &problem["status"]),
            (414, &json!(414)),
            "{problem:#}"
        );
        assert!(
            problem["type"].as_str().unwrap().ends_with("/uri-too-long"),
            "{problem:#}"
        );
    }
    let headers: String = (0..150).map(|n| format!("x-header-{n}: v\r\n")).collect();
    let (status, problem) =
        exchange(format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{headers}\r\n")).await;
    assert_eq!(
        (status, &problem["status"]),
        (431, &json!(431)),
        "{problem:#}"
    );
    let (status, problem) =
        exchange("GET /healthz HTTP/1.1\r\nhost: x\r\nnot a header\r\n\r\n".to_owned()).await;
    assert_eq!(
        (status, &problem["status"]),
        (400, &json!(400)),
        "{problem:#}"
    );
    app.stop().await;
}

/// Operation ids name client methods: each is used once.
#[tokio::test]
async fn issue_20_every_operation_id_is_unique() {
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    let document = app
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .expect(200);
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operation id"));
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operation id {id} names both {other} and {method} {path}");
            }
        }
    }
    assert_eq!(seen["contracts_create"], "post /v1/contracts");
    app.stop().await;
}

/// The document passes a real OpenAPI 3.1 validator (openapi-spec-validator): the command
/// named by `SABLIER_TEST_OPENAPI_VALIDATOR`. Skipped without it, except under CI.
#[tokio::test]
async fn issue_20_the_document_is_valid_openapi_3_1() {
    let Some(validator) = std::env::var_os("SABLIER_TEST_OPENAPI_VALIDATOR") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must validate the OpenAPI document: set SABLIER_TEST_OPENAPI_VALIDATOR \
             (pip install openapi-spec-validator; SABLIER_TEST_OPENAPI_VALIDATOR=openapi-spec-validator)"
        );
        eprintln!("skipped: SABLIER_TEST_OPENAPI_VALIDATOR is not set");
        return;
    };
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    let document = app
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .expect(200);
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    let output = std::process::Command::new(&validator)
        .arg(&file)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {validator:?}: {error}"));
    assert!(
        output.status.success(),
        "{validator:?} refuses the document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    app.stop().await;
}

/// An explanation's intervals are of the kinds the document lists, `outside_hours` among
/// them (the CLI and the engine's word), and nothing else.
#[tokio::test]
async fn issue_20_an_explanation_s_interval_kinds_are_the_documented_ones() {
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    app.contract("OCB0000705", "Gold", "fred.fuzzing").await;
    let customer = app.token("fred.fuzzing", "customer").await;
    let opened = app
        .post("/v1/incidents", &customer, json!({"contract_id": "OCB0000705", "priority": "P3", "title": "T", "description": "D"}))
        .await
        .expect(201);
    let id = opened["id"].as_str().unwrap();
    let as_of = (chrono::Utc::now() + chrono::Duration::days(4)).format("%Y-%m-%dT%H:%M:%SZ");
    let explained = app
        .get(
            &format!("/v1/requests/{id}/clocks/GTR?as_of={as_of}"),
            &customer,
        )
        .await
        .expect(200);
    let document = app.get("/openapi.json", &customer).await.expect(200);
    let documented: Vec<&str> = document["components"]["schemas"]["IntervalKind"]["enum"]
        .as_array()
        .expect("the document lists the interval kinds")
        .iter()
        .map(|kind| kind.as_str().unwrap())
        .collect();
    let sent: std::collections::BTreeSet<&str> = explained["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|interval| interval["kind"].as_str().unwrap())
        .collect();
    assert!(sent.contains("outside_hours"), "{explained:#}");
    for kind in sent {
        assert!(
            documented.contains(&kind),
            "{kind} is not in {documented:?}"
        );
    }
    app.stop().await;
}
