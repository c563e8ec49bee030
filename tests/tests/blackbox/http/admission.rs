//! What reaches the server before its caller is known (issue 20): a request with a bad
//! token is refused before its body is read and leaves nothing behind; failed
//! authentications are throttled per client address and requests per token (429 with
//! Retry-After, in the document too); idempotency records belong to their token, expire
//! and are bounded.

use std::io::{Read, Write};
use std::num::NonZeroU32;
use std::time::Duration;

use reqwest::Method;
use sablier_api::http::state::Limits;
use sablier_api::http::throttle::RateLimits;
use sablier_store::access::{IdempotencyKeys, IdempotencyRetention};
use sablier_store::testing::TestDatabase;
use serde_json::{Value, json};

use super::app::{Answer, TestApp};

/// A token of the right shape that no one was given.
const UNKNOWN_TOKEN: &str = "sbl_00000000000000000000000000000000000000000000000000000000deadbeef";

fn limits(rate: RateLimits, idempotency: IdempotencyRetention) -> Limits {
    Limits {
        rate,
        idempotency,
        ..Limits::default()
    }
}

fn per(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap()
}

async fn keyed(app: &TestApp, token: &str, key: &str, body: &Value) -> Answer {
    let response = app
        .client
        .post(format!("{}/v1/incidents", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    TestApp::read(response).await
}

/// Sends the head of a POST announcing a 10 MiB body, and one byte of it, then waits
/// for the answer: the server must answer without waiting for the rest.
fn answer_to_a_stalled_body(base: &str, token: &str) -> std::io::Result<String> {
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "POST /v1/incidents HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Idempotency-Key: stalled\r\nContent-Type: application/json\r\n\
         Content-Length: 10485760\r\n\r\n{{"
    )?;
    stream.flush()?;
    let mut head = [0u8; 64];
    let read = stream.read(&mut head)?;
    Ok(String::from_utf8_lossy(&head[..read]).into_owned())
}

#[tokio::test]
async fn issue_20_a_bad_token_is_refused_before_its_body_is_read_and_leaves_no_idempotency_record()
{
    for db in TestDatabase::all().await {
        let generous = RateLimits {
            failed_authentications_per_address_per_minute: per(10_000),
            ..RateLimits::default()
        };
        let app = TestApp::spawn_with(db, limits(generous, IdempotencyRetention::default())).await;
        let backend = app.backend();
        let base = app.base.clone();
        let head =
            tokio::task::spawn_blocking(move || answer_to_a_stalled_body(&base, UNKNOWN_TOKEN))
                .await
                .unwrap()
                .expect("an answer before the body is sent");
        assert!(head.starts_with("HTTP/1.1 401"), "{backend}: {head}");

        let body = json!({"contract_id": "OCB0000001", "priority": "P3", "title": "T", "description": "D"});
        for attempt in 0..50 {
            let token = if attempt % 2 == 0 {
                UNKNOWN_TOKEN.to_owned()
            } else {
                format!("junk-{attempt}")
            };
            keyed(&app, &token, &format!("key-{attempt}"), &body)
                .await
                .problem(401);
        }
        let missing = app
            .client
            .post(format!("{}/v1/incidents", app.base))
            .header("Idempotency-Key", "no-token")
            .json(&body)
            .send()
            .await
            .unwrap();
        TestApp::read(missing).await.problem(401);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM idempotency_keys").await,
            0,
            "{backend}: unauthenticated requests left idempotency records"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn issue_20_idempotency_records_belong_to_their_token_and_expire() {
    for db in TestDatabase::all().await {
        let retention = IdempotencyRetention {
            ttl: Duration::from_secs(2),
            ..IdempotencyRetention::default()
        };
        let app = TestApp::spawn_with(db, limits(RateLimits::default(), retention)).await;
        let backend = app.backend();
        app.contract("OCB0000821", "Silver", "kim.keys").await;
        let (first, second) = (
            app.token("kim.keys", "customer").await,
            app.token("kim.keys", "customer").await,
        );
        let body = json!({"contract_id": "OCB0000821", "priority": "P3", "title": "Once", "description": "D"});
        let answered = keyed(&app, &first, "same-key", &body).await.expect(201);
        // The same key from another token is another record: it runs, and is not replayed.
        let other = keyed(&app, &second, "same-key", &body).await;
        assert!(
            other.headers.get("idempotent-replayed").is_none(),
            "{backend}"
        );
        assert_ne!(other.expect(201)["id"], answered["id"], "{backend}");
        let replayed = keyed(&app, &first, "same-key", &body).await;
        assert_eq!(replayed.headers["idempotent-replayed"], "true", "{backend}");
        assert_eq!(replayed.expect(201), answered, "{backend}");

        // Past the retention the key is forgotten: a retry runs as a new request.
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        let head = app.log_head().await;
        let again = keyed(&app, &first, "same-key", &body).await;
        assert!(
            again.headers.get("idempotent-replayed").is_none(),
            "{backend}"
        );
        assert_ne!(again.expect(201)["id"], answered["id"], "{backend}");
        assert_eq!(app.log_head().await, head + 1, "{backend}");
        // The sweep deletes what expired (the other token's record), not what is live.
        let keys = IdempotencyKeys::new(app.db.database.clone(), retention);
        let swept = keys.sweep(chrono::Utc::now()).await.unwrap();
        assert_eq!(swept.expired, 1, "{backend}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM idempotency_keys").await,
            1,
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn issue_20_each_token_keeps_at_most_its_bound_of_idempotency_records() {
    for db in TestDatabase::all().await {
        let retention = IdempotencyRetention {
            records_per_caller: 3,
            ..IdempotencyRetention::default()
        };
        let app = TestApp::spawn_with(db, limits(RateLimits::default(), retention)).await;
        let backend = app.backend();
        app.contract("OCB0000822", "Silver", "lou.bound").await;
        let (busy, quiet) = (
            app.token("lou.bound", "customer").await,
            app.token("lou.bound", "customer").await,
        );
        let body = |n: u32| json!({"contract_id": "OCB0000822", "priority": "P3", "title": format!("T{n}"), "description": "D"});
        for n in 0..6 {
            keyed(&app, &busy, &format!("busy-{n}"), &body(n))
                .await
                .expect(201);
            // One second apart, so that "oldest" is unambiguous at the records' precision.
            if n < 5 {
                tokio::time::sleep(Duration::from_millis(1_050)).await;
            }
        }
        keyed(&app, &quiet, "quiet-0", &body(0)).await.expect(201);
        let swept = IdempotencyKeys::new(app.db.database.clone(), retention)
            .sweep(chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(swept.beyond_bound, 3, "{backend}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM idempotency_keys").await,
            4,
            "{backend}: three of the busy token's, the quiet token's one"
        );
        // The newest three still replay; the oldest runs anew.
        let newest = keyed(&app, &busy, "busy-5", &body(5)).await;
        assert_eq!(newest.headers["idempotent-replayed"], "true", "{backend}");
        let head = app.log_head().await;
        let oldest = keyed(&app, &busy, "busy-0", &body(0)).await;
        assert!(
            oldest.headers.get("idempotent-replayed").is_none(),
            "{backend}"
        );
        assert_eq!(app.log_head().await, head + 1, "{backend}");
        let quiet_again = keyed(&app, &quiet, "quiet-0", &body(0)).await;
        assert_eq!(
            quiet_again.headers["idempotent-replayed"], "true",
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn issue_20_failed_authentications_are_throttled_per_client_address() {
    let rate = RateLimits {
        failed_authentications_per_address_per_minute: per(5),
        ..RateLimits::default()
    };
    let app = TestApp::spawn_with(
        TestDatabase::sqlite().await,
        limits(rate, IdempotencyRetention::default()),
    )
    .await;
    let mut statuses = Vec::new();
    for attempt in 0..12 {
        let token = if attempt % 2 == 0 {
            UNKNOWN_TOKEN
        } else {
            "junk"
        };
        let answer = app.get("/v1/requests", token).await;
        if answer.status == 429 {
            let retry_after: u64 = answer.headers["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry_after), "{retry_after}");
            let problem = answer.problem(429);
            assert_eq!(problem["retry_after"].as_u64(), Some(retry_after));
            statuses.push(429);
        } else {
            statuses.push(answer.problem(401)["status"].as_u64().unwrap());
        }
    }
    assert_eq!(statuses, [[401; 5].as_slice(), &[429; 7]].concat());
    // A missing token counts too; a valid token from the same address still gets in.
    app.send(Method::GET, "/v1/requests", None, None)
        .await
        .problem(429);
    app.get("/v1/requests", &app.admin).await.expect(200);
    app.stop().await;
}

#[tokio::test]
async fn issue_20_a_token_past_its_request_rate_is_answered_429_and_others_are_not() {
    let rate = RateLimits {
        requests_per_token_per_second: per(5),
        ..RateLimits::default()
    };
    let app = TestApp::spawn_with(
        TestDatabase::sqlite().await,
        limits(rate, IdempotencyRetention::default()),
    )
    .await;
    app.contract("OCB0000823", "Silver", "rita.rate").await;
    let busy = app.token("rita.rate", "customer").await;
    let mut answers = Vec::new();
    for _ in 0..20 {
        answers.push(app.get("/v1/catalogues/services", &busy).await);
    }
    let throttled: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(throttled.len() >= 10, "{} throttled of 20", throttled.len());
    for answer in throttled {
        assert!(answer.headers.contains_key("retry-after"));
        assert_eq!(
            answer.body["type"],
            "https://sablier.dev/problems/too-many-requests"
        );
    }
    app.get("/v1/catalogues/services", &app.admin)
        .await
        .expect(200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    app.get("/v1/catalogues/services", &busy).await.expect(200);
    app.stop().await;
}

#[tokio::test]
async fn issue_20_the_document_says_which_operations_may_answer_429() {
    let app = TestApp::spawn(TestDatabase::sqlite().await).await;
    let document = app
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .expect(200);
    let mut secured = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let needs_token = operation["security"]
                .as_array()
                .is_some_and(|requirements| !requirements.is_empty());
            let throttled = &operation["responses"]["429"];
            if needs_token {
                secured += 1;
                assert!(
                    throttled["headers"]["Retry-After"].is_object(),
                    "{method} {path}: {throttled:#}"
                );
                assert_eq!(
                    throttled["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}"
                );
            } else {
                assert!(throttled.is_null(), "{method} {path} is not throttled");
            }
        }
    }
    assert!(secured >= 50, "{secured}");
    app.stop().await;
}
