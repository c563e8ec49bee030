//! The server under test: `sablier_api::Server` started on port 0 against a fresh
//! database (zero2prod's `spawn_app`), driven over real HTTP.

use reqwest::{Method, StatusCode};
use sablier_api::Server;
use sablier_api::http::state::Limits;
use sablier_store::testing::TestDatabase;
use sablier_store::{Database, EventLog};
use serde_json::{Value, json};

use super::document::check_answer;

pub struct TestApp {
    pub base: String,
    pub admin: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    server: Option<Server>,
}

/// An answer: status, headers and the body as JSON (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Asserts the status, then gives the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        self.body
    }

    /// Asserts a problem+json body with this status, and gives it.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "a problem body: {:#}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{:#}", self.body);
        assert!(self.body["type"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        self.body
    }
}

impl TestApp {
    pub async fn spawn(db: TestDatabase) -> Self {
        Self::spawn_with(db, Limits::default()).await
    }

    pub async fn spawn_with(db: TestDatabase, limits: Limits) -> Self {
        let server = Server::start(db.database.clone(), "127.0.0.1:0".parse().unwrap(), limits)
            .await
            .expect("the server starts");
        let admin = match &server.first_admin_token {
            Some(first) => first.secret.clone(),
            // A database written before (an upgrade test's): an administrator's token of
            // its own, as `sablier token create` would issue it.
            None => {
                sablier_store::access::Tokens::new(db.database.clone())
                    .issue(
                        "test.admin",
                        "admin",
                        "test admin",
                        "test",
                        chrono::Utc::now(),
                    )
                    .await
                    .expect("an admin token")
                    .secret
            }
        };
        Self {
            base: format!("http://{}", server.address),
            admin,
            client: reqwest::Client::new(),
            db,
            server: Some(server),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend_name()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::read_answer(
            Some(&method),
            request.send().await.expect("the server answers"),
        )
        .await
    }

    /// Reads an answer to a request built by hand; like every answer the suite reads, it
    /// is checked against the OpenAPI document (`document::check_answer`).
    pub async fn read(response: reqwest::Response) -> Answer {
        Self::read_answer(None, response).await
    }

    async fn read_answer(method: Option<&Method>, response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let path = response.url().path().to_owned();
        let bytes = response.bytes().await.expect("a body");
        check_answer(
            method,
            &path,
            status.as_u16(),
            headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok()),
            &bytes,
        );
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(&body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(token), Some(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// A token for `login` acting as `role`, created by the admin.
    pub async fn token(&self, login: &str, role: &str) -> String {
        let body = self
            .post(
                "/v1/tokens",
                &self.admin,
                json!({"login": login, "role": role}),
            )
            .await
            .expect(201);
        body["token"].as_str().expect("a token").to_owned()
    }

    /// Creates a contract (as admin) whose referent is `referent`; returns its id.
    pub async fn contract(&self, contract_id: &str, tier: &str, referent: &str) -> String {
        self.post(
            "/v1/contracts",
            &self.admin,
            json!({
                "contract_id": contract_id,
                "name": format!("SI_{contract_id}"),
                "offer": "Flexible Computing Advanced",
                "company": "ACME SA",
                "tier": tier,
                "referent": {
                    "login": referent,
                    "email": format!("{referent}@acme.example"),
                    "first_name": "Jean",
                    "last_name": "Dupont"
                }
            }),
        )
        .await
        .expect(201);
        contract_id.to_owned()
    }

    /// The position of the last event in the log: what "no new event" is checked against.
    pub async fn log_head(&self) -> i64 {
        EventLog::new(self.db.database.clone())
            .head()
            .await
            .expect("the log head")
            .0
    }

    /// A number the database answers to `sql` (a `COUNT(*)`), on either backend.
    pub async fn count(&self, sql: &str) -> i64 {
        match &self.db.database {
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect("the count")
    }

    /// Runs statements on the database, on either backend (to set up a past state).
    pub async fn execute(&self, sql: &str) {
        match &self.db.database {
            Database::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            Database::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        }
        .expect("the statements run");
    }

    /// Starts a server again on the same database (after [`Self::stop_server`]), with the
    /// same admin token and the default limits.
    pub async fn restart_server(&mut self) {
        assert!(self.server.is_none(), "stop the server first");
        let server = Server::start(
            self.db.database.clone(),
            "127.0.0.1:0".parse().unwrap(),
            Limits::default(),
        )
        .await
        .expect("the server starts");
        self.base = format!("http://{}", server.address);
        self.server = Some(server);
    }

    /// Stops the server gracefully, keeping the database for inspection.
    pub async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("a clean stop");
        }
    }

    pub async fn stop(mut self) {
        self.stop_server().await;
        self.db.cleanup().await;
    }
}

/// Runs `scenario` on a fresh server for every enabled backend.
pub async fn on_every_backend<F, Fut>(scenario: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    for db in TestDatabase::all().await {
        let app = TestApp::spawn(db).await;
        let app = scenario(app).await;
        app.stop().await;
    }
}
