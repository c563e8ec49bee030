//! The authorization matrix: every route × every kind of caller, on objects of one
//! contract (A). Callers: admin, agent, analyst (staff); A's referent (manager
//! everywhere), a visitor everywhere on A, a user declared on A with no role, a customer
//! of another contract only, and no token at all. Every cell is asserted: allowed
//! (2xx, or a 409/422 the object's state or the body decides after the rights check),
//! forbidden (403), hidden (404: another contract's objects are never "forbidden") or
//! unauthenticated (401); and a refused cell appends no event.

use reqwest::Method;
use serde_json::{Value, json};

use super::app::{TestApp, on_every_backend};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Admin,
    Agent,
    Analyst,
    Manager,
    Visitor,
    NoRole,
    Outsider,
    Anonymous,
}

const CALLERS: [Caller; 8] = [
    Caller::Admin,
    Caller::Agent,
    Caller::Analyst,
    Caller::Manager,
    Caller::Visitor,
    Caller::NoRole,
    Caller::Outsider,
    Caller::Anonymous,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Allowed,
    Forbidden,
    Hidden,
    Unauthenticated,
}

/// Who may call a route, in the terms of docs/domain.md "Users and roles".
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Anyone with a token.
    AnyToken,
    /// Admins only.
    AdminOnly,
    /// Declared on the contract (any role), or staff.
    Declared,
    /// At least visitor on the section, or staff.
    Read,
    /// A change draft of A, saved by A's referent: only its author and A's Services
    /// managers see it (docs/domain.md "Drafts"); anyone else, staff included, is told it
    /// does not exist.
    Draft,
    /// A command on A: `visitor_may` whether a visitor passes the section check;
    /// `customer_may` / `staff_may` what the aggregate lets each kind of actor do.
    Act {
        visitor_may: bool,
        customer_may: bool,
        staff_may: bool,
        agent_may: bool,
    },
}

fn expected(rule: Rule, caller: Caller) -> Cell {
    use Caller::*;
    use Cell::*;
    if caller == Anonymous {
        return Unauthenticated;
    }
    match rule {
        Rule::AnyToken => Allowed,
        Rule::AdminOnly => {
            if caller == Admin {
                Allowed
            } else {
                Forbidden
            }
        }
        Rule::Declared => {
            if caller == Outsider {
                Hidden
            } else {
                Allowed
            }
        }
        Rule::Read => match caller {
            Outsider => Hidden,
            NoRole => Forbidden,
            _ => Allowed,
        },
        Rule::Draft => match caller {
            Manager => Allowed,
            _ => Hidden,
        },
        Rule::Act {
            visitor_may,
            customer_may,
            staff_may,
            agent_may,
        } => match caller {
            Analyst => Forbidden,
            Agent => {
                if agent_may {
                    Allowed
                } else {
                    Forbidden
                }
            }
            Admin => {
                if staff_may {
                    Allowed
                } else {
                    Forbidden
                }
            }
            Outsider => Hidden,
            NoRole => Forbidden,
            Visitor if !visitor_may => Forbidden,
            Manager | Visitor => {
                if customer_may {
                    Allowed
                } else {
                    Forbidden
                }
            }
            Anonymous => Unauthenticated,
        },
    }
}

const CUSTOMER_AND_STAFF: Rule = Rule::Act {
    visitor_may: false,
    customer_may: true,
    staff_may: true,
    agent_may: true,
};
/// An upgrade: the customer (manager on Contract) or an admin; agents cannot.
const CUSTOMER_OR_ADMIN: Rule = Rule::Act {
    visitor_may: false,
    customer_may: true,
    staff_may: true,
    agent_may: false,
};
const STAFF_ONLY: Rule = Rule::Act {
    visitor_may: false,
    customer_may: false,
    staff_may: true,
    agent_may: true,
};
const CUSTOMER_ONLY: Rule = Rule::Act {
    visitor_may: false,
    customer_may: true,
    staff_may: false,
    agent_may: false,
};
const SUPPORT_ANYONE: Rule = Rule::Act {
    visitor_may: true,
    customer_may: true,
    staff_may: true,
    agent_may: true,
};
const SUPPORT_STAFF: Rule = Rule::Act {
    visitor_may: true,
    customer_may: false,
    staff_may: true,
    agent_may: true,
};

struct Fixture {
    tokens: Vec<(Caller, Option<String>)>,
    incident: String,
    change: String,
    order: String,
    /// A draft the referent saved, listing the uploaded file.
    draft: String,
    sha256: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    app.contract("OCB0000501", "Gold", "anne.manager").await;
    app.contract("OCB0000502", "Gold", "oscar.outsider").await;
    let manager = app.token("anne.manager", "customer").await;
    for (login, role) in [("victor.visitor", "visitor"), ("nina.noroles", "none")] {
        app.post(
            "/v1/contracts/OCB0000501/users",
            &manager,
            json!({
                "login": login, "email": format!("{login}@acme.example"),
                "first_name": "Test", "last_name": "User",
                "roles": {"contract": role, "dashboard": role, "services": role,
                          "invoices": role, "support": role, "users": role}
            }),
        )
        .await
        .expect(200);
    }
    let incident = app
        .post(
            "/v1/incidents",
            &manager,
            json!({"contract_id": "OCB0000501", "priority": "P2", "title": "Slow", "description": "Latency"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = app
        .client
        .post(format!(
            "{}/v1/attachments?contract_id=OCB0000501&name=a.txt",
            app.base
        ))
        .bearer_auth(&manager)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    let file = TestApp::read(upload).await.expect(201);
    let change = app
        .post(
            "/v1/changes",
            &manager,
            json!({"contract_id": "OCB0000501", "form": {
                "asset": "vm-1", "catalogue": "Catalogue de Changement Standard",
                "category": "Quotas", "article": "Modifier mes quotas", "lead_time": "standard",
                "attachments": [file]}}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = app
        .post(
            "/v1/changes",
            &manager,
            json!({"contract_id": "OCB0000501", "submit": false,
                   "form": {"asset": "vm-draft", "attachments": [file]}}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = app
        .post(
            "/v1/orders",
            &manager,
            json!({"contract_id": "OCB0000501", "item": "pack-expert-4h", "contact": {
                "civility": "ms", "last_name": "Manager", "first_name": "Anne",
                "email": "anne@acme.example", "landline": "+33 1 23 45 67 89"}}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tokens = Vec::new();
    for caller in CALLERS {
        let token = match caller {
            Caller::Admin => Some(app.admin.clone()),
            Caller::Agent => Some(app.token("agent.martin", "agent").await),
            Caller::Analyst => Some(app.token("analyst.roux", "analyst").await),
            Caller::Manager => Some(manager.clone()),
            Caller::Visitor => Some(app.token("victor.visitor", "customer").await),
            Caller::NoRole => Some(app.token("nina.noroles", "customer").await),
            Caller::Outsider => Some(app.token("oscar.outsider", "customer").await),
            Caller::Anonymous => None,
        };
        tokens.push((caller, token));
    }
    Fixture {
        tokens,
        incident,
        change,
        order,
        draft,
        sha256: file["sha256"].as_str().unwrap().to_owned(),
    }
}

fn routes(f: &Fixture) -> Vec<(Method, String, Option<Value>, Rule)> {
    let (inc, chg, ord) = (&f.incident, &f.change, &f.order);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let text = || Some(json!({"text": "some words"}));
    let empty = || Some(json!({}));
    let incident_body = json!({"contract_id": "OCB0000501", "priority": "P4", "title": "Q", "description": "A question"});
    let change_body =
        json!({"contract_id": "OCB0000501", "submit": false, "form": {"asset": "vm-2"}});
    let order_body = json!({"contract_id": "OCB0000501", "item": "pack-expert-4h", "contact": {
        "civility": "mr", "last_name": "X", "first_name": "Y", "email": "x@acme.example", "mobile": "0612345678"}});
    let user_body = json!({"login": "zoe.newuser", "email": "zoe@acme.example", "first_name": "Zoe", "last_name": "New"});
    let contract_body = json!({"contract_id": "OCB0000999", "name": "New", "offer": "Cloud Avenue", "company": "X",
        "referent": {"login": "ref.newcontract", "email": "ref@x.example", "first_name": "R", "last_name": "F"}});
    use Method as M;
    vec![
        (M::GET, "/v1/contracts".into(), None, Rule::AnyToken),
        (
            M::POST,
            "/v1/contracts".into(),
            Some(contract_body),
            Rule::AdminOnly,
        ),
        (
            M::GET,
            "/v1/contracts/OCB0000501".into(),
            None,
            Rule::Declared,
        ),
        (
            M::POST,
            "/v1/contracts/OCB0000501/upgrade".into(),
            Some(json!({"to": "Gold"})),
            CUSTOMER_OR_ADMIN,
        ),
        (
            M::POST,
            "/v1/contracts/OCB0000501/downgrade".into(),
            Some(json!({"to": "Gold"})),
            STAFF_ONLY,
        ),
        (
            M::POST,
            "/v1/contracts/OCB0000501/expert-time".into(),
            Some(json!({"performed_on": "2026-01-01", "minutes": 30})),
            STAFF_ONLY,
        ),
        (
            M::GET,
            "/v1/contracts/OCB0000501/users".into(),
            None,
            Rule::Read,
        ),
        (
            M::POST,
            "/v1/contracts/OCB0000501/users".into(),
            Some(user_body),
            CUSTOMER_AND_STAFF,
        ),
        (
            M::PUT,
            "/v1/contracts/OCB0000501/users/victor.visitor/roles".into(),
            Some(
                json!({"roles": {"contract": "visitor", "dashboard": "visitor", "services": "visitor", "invoices": "visitor", "support": "visitor", "users": "visitor"}}),
            ),
            CUSTOMER_AND_STAFF,
        ),
        (
            M::DELETE,
            "/v1/contracts/OCB0000501/users/anne.manager".into(),
            None,
            CUSTOMER_AND_STAFF,
        ),
        (
            M::GET,
            format!("/v1/contracts/OCB0000501/billing/{month}"),
            None,
            Rule::Read,
        ),
        (
            M::POST,
            "/v1/incidents".into(),
            Some(incident_body),
            SUPPORT_ANYONE,
        ),
        (M::GET, format!("/v1/incidents/{inc}"), None, Rule::Read),
        (
            M::POST,
            format!("/v1/incidents/{inc}/start-intervention"),
            empty(),
            SUPPORT_STAFF,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/await-customer"),
            empty(),
            SUPPORT_STAFF,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/customer-response"),
            empty(),
            SUPPORT_ANYONE,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/diagnosis"),
            text(),
            SUPPORT_STAFF,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/restore"),
            text(),
            SUPPORT_STAFF,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/close"),
            empty(),
            SUPPORT_ANYONE,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/reopen"),
            text(),
            SUPPORT_ANYONE,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/priority"),
            Some(json!({"to": "P2", "reason": "same"})),
            SUPPORT_STAFF,
        ),
        (
            M::POST,
            format!("/v1/incidents/{inc}/comments"),
            text(),
            SUPPORT_ANYONE,
        ),
        (
            M::POST,
            "/v1/changes".into(),
            Some(change_body),
            CUSTOMER_AND_STAFF,
        ),
        (M::GET, format!("/v1/changes/{chg}"), None, Rule::Read),
        (
            M::PUT,
            format!("/v1/changes/{chg}/draft"),
            Some(json!({"asset": "vm-3"})),
            CUSTOMER_AND_STAFF,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/submit"),
            empty(),
            CUSTOMER_AND_STAFF,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/quote"),
            Some(json!({"amount_cents": 1})),
            STAFF_ONLY,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/accept-quote"),
            empty(),
            CUSTOMER_ONLY,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/decline-quote"),
            empty(),
            CUSTOMER_ONLY,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/start"),
            empty(),
            STAFF_ONLY,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/complete"),
            Some(json!({"note": "done"})),
            STAFF_ONLY,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/cancel"),
            Some(json!({"reason": "not needed"})),
            CUSTOMER_ONLY,
        ),
        (
            M::POST,
            format!("/v1/changes/{chg}/reject"),
            Some(json!({"reason": "out of scope"})),
            STAFF_ONLY,
        ),
        (
            M::GET,
            format!("/v1/changes/{chg}/attachments/{}", f.sha256),
            None,
            Rule::Read,
        ),
        // Issue 20: correcting money is for administrators (the change has no quote: 409).
        (
            M::POST,
            format!("/v1/changes/{chg}/quote-correction"),
            Some(json!({"amount_cents": 1, "reason": "typo"})),
            Rule::AdminOnly,
        ),
        (
            M::POST,
            "/v1/orders".into(),
            Some(order_body),
            CUSTOMER_AND_STAFF,
        ),
        (M::GET, format!("/v1/orders/{ord}"), None, Rule::Read),
        (
            M::POST,
            format!("/v1/orders/{ord}/quote"),
            Some(json!({"amount_cents": 1})),
            STAFF_ONLY,
        ),
        (
            M::POST,
            format!("/v1/orders/{ord}/accept-quote"),
            empty(),
            CUSTOMER_ONLY,
        ),
        (
            M::POST,
            format!("/v1/orders/{ord}/decline-quote"),
            empty(),
            CUSTOMER_ONLY,
        ),
        (
            M::POST,
            format!("/v1/orders/{ord}/start"),
            empty(),
            STAFF_ONLY,
        ),
        (
            M::POST,
            format!("/v1/orders/{ord}/complete"),
            Some(json!({"note": "delivered"})),
            STAFF_ONLY,
        ),
        // Issue 20: before the cancellation, which no correction follows in this matrix
        // (a fixed price has no quote: 409 for the administrator).
        (
            M::POST,
            format!("/v1/orders/{ord}/quote-correction"),
            Some(json!({"amount_cents": 1, "reason": "typo"})),
            Rule::AdminOnly,
        ),
        (
            M::POST,
            format!("/v1/orders/{ord}/cancel"),
            Some(json!({"reason": "withdrawn"})),
            STAFF_ONLY,
        ),
        // Issue 20: a draft reads back for those who may go on with it, and for no one
        // else.
        (
            M::GET,
            format!("/v1/changes/{}", f.draft),
            None,
            Rule::Draft,
        ),
        (
            M::GET,
            format!("/v1/changes/{}/attachments/{}", f.draft, f.sha256),
            None,
            Rule::Draft,
        ),
        (
            M::GET,
            format!("/v1/requests/{}/history", f.draft),
            None,
            Rule::Draft,
        ),
        // Last: the form saved again has no attachment.
        (
            M::PUT,
            format!("/v1/changes/{}/draft", f.draft),
            Some(json!({"asset": "vm-draft"})),
            Rule::Draft,
        ),
        (M::GET, "/v1/requests".into(), None, Rule::AnyToken),
        (
            M::GET,
            format!("/v1/requests/{inc}/history"),
            None,
            Rule::Read,
        ),
        (
            M::GET,
            format!("/v1/requests/{inc}/clocks/GTR"),
            None,
            Rule::Read,
        ),
        (
            M::GET,
            "/v1/breach-watch?contract_id=OCB0000501".into(),
            None,
            Rule::Read,
        ),
        (
            M::GET,
            "/v1/catalogues/changes".into(),
            None,
            Rule::AnyToken,
        ),
        (
            M::GET,
            "/v1/catalogues/services".into(),
            None,
            Rule::AnyToken,
        ),
        (
            M::GET,
            "/v1/maintenance-windows".into(),
            None,
            Rule::AnyToken,
        ),
        (
            M::POST,
            "/v1/tokens".into(),
            Some(json!({"login": "someone.else", "role": "agent"})),
            Rule::AdminOnly,
        ),
        (M::GET, "/v1/tokens".into(), None, Rule::AdminOnly),
        (
            M::DELETE,
            "/v1/tokens/tok_0000000000000000".into(),
            None,
            Rule::AdminOnly,
        ),
    ]
}

#[tokio::test]
async fn every_route_answers_every_caller_as_domain_md_says() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        let fixture = fixture(&app).await;
        let mut failures = Vec::new();
        let mut cells = 0;
        for (method, path, body, rule) in routes(&fixture) {
            for (caller, token) in &fixture.tokens {
                let want = expected(rule, *caller);
                let head = app.log_head().await;
                let answer = app
                    .send(method.clone(), &path, token.as_deref(), body.as_ref())
                    .await;
                let status = answer.status.as_u16();
                // Revoking an unknown token id answers 404 once the admin right passed.
                let got = match status {
                    401 => Cell::Unauthenticated,
                    403 => Cell::Forbidden,
                    404 if !(want == Cell::Allowed && path.starts_with("/v1/tokens/")) => {
                        Cell::Hidden
                    }
                    200..=299 | 404 | 409 | 422 => Cell::Allowed,
                    other => panic!(
                        "{backend}: {method} {path} as {caller:?}: unexpected {other} {:#}",
                        answer.body
                    ),
                };
                cells += 1;
                if got != want {
                    failures.push(format!(
                        "{method} {path} as {caller:?}: want {want:?}, got {status} {}",
                        answer.body
                    ));
                }
                if got != Cell::Allowed {
                    assert_eq!(
                        answer.headers["content-type"], "application/problem+json",
                        "{method} {path} as {caller:?}"
                    );
                    assert_eq!(
                        app.log_head().await,
                        head,
                        "{backend}: a refused {method} {path} as {caller:?} appended events"
                    );
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{backend}: {} of {cells} cells differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(cells >= 50 * CALLERS.len(), "{cells}");

        // The upload route takes the file itself as its body: manager on Services, or
        // staff other than analysts.
        for (caller, token) in &fixture.tokens {
            let mut request = app
                .client
                .post(format!(
                    "{}/v1/attachments?contract_id=OCB0000501&name=m.txt",
                    app.base
                ))
                .header("content-type", "text/plain")
                .body("matrix");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let status = request.send().await.unwrap().status().as_u16();
            let want = match expected(CUSTOMER_AND_STAFF, *caller) {
                Cell::Allowed => 201,
                Cell::Forbidden => 403,
                Cell::Hidden => 404,
                Cell::Unauthenticated => 401,
            };
            assert_eq!(
                status, want,
                "{backend}: POST /v1/attachments as {caller:?}"
            );
        }
        // Operations routes answer everyone, without a token.
        for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
            for (caller, token) in &fixture.tokens {
                let answer = app.send(Method::GET, path, token.as_deref(), None).await;
                assert_eq!(answer.status, 200, "{backend}: GET {path} as {caller:?}");
            }
        }

        // The outsider's list never shows contract A's requests.
        let outsider = fixture
            .tokens
            .iter()
            .find(|(c, _)| *c == Caller::Outsider)
            .unwrap()
            .1
            .clone()
            .unwrap();
        let listed = app.get("/v1/requests", &outsider).await.expect(200);
        assert!(
            listed["requests"].as_array().unwrap().is_empty(),
            "{backend}: {listed:#}"
        );
        let contracts = app.get("/v1/contracts", &outsider).await.expect(200);
        let ids: Vec<&str> = contracts
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["contract_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["OCB0000502"], "{backend}");
        app
    })
    .await;
}

/// The request list and the breach watch show a customer, on each contract, only the
/// requests their sections let them read (docs/domain.md "The request list"): incidents on
/// Support, changes and orders on Services, as the requests' own routes do.
#[tokio::test]
async fn lists_show_a_customer_only_the_kinds_their_sections_let_them_read() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        let fixture = fixture(&app).await;
        let token = |wanted: Caller| {
            fixture
                .tokens
                .iter()
                .find(|(caller, _)| *caller == wanted)
                .and_then(|(_, token)| token.clone())
                .unwrap()
        };
        let (manager, nina) = (token(Caller::Manager), token(Caller::NoRole));
        let sorted = |mut ids: Vec<String>| {
            ids.sort();
            ids
        };
        let listed = async |token: &str| {
            let page = app.get("/v1/requests", token).await.expect(200);
            sorted(
                page["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|row| row["request_id"].as_str().unwrap().to_owned())
                    .collect(),
            )
        };
        let watched = async |path: &str, token: &str| {
            let watch = app.get(path, token).await.expect(200);
            sorted(
                watch["next_breaches"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|clock| clock["request_id"].as_str().unwrap().to_owned())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            )
        };
        let (incident, change, order) = (&fixture.incident, &fixture.change, &fixture.order);
        let every_role = |support: &str, services: &str| {
            json!({"roles": {"contract": "none", "dashboard": "none", "services": services,
                             "invoices": "none", "support": support, "users": "none"}})
        };
        let cases = [
            ("none", "none", vec![], vec![]),
            (
                "visitor",
                "none",
                vec![incident.clone()],
                vec![incident.clone()],
            ),
            (
                "none",
                "visitor",
                vec![change.clone(), order.clone()],
                vec![change.clone()],
            ),
            (
                "manager",
                "visitor",
                vec![incident.clone(), change.clone(), order.clone()],
                vec![incident.clone(), change.clone()],
            ),
        ];
        for (support, services, list, watch) in cases {
            app.put(
                "/v1/contracts/OCB0000501/users/nina.noroles/roles",
                &manager,
                every_role(support, services),
            )
            .await
            .expect(200);
            let what = format!("{backend}: support {support}, services {services}");
            assert_eq!(listed(&nina).await, sorted(list), "{what}: the list");
            assert_eq!(
                watched("/v1/breach-watch", &nina).await,
                sorted(watch.clone()),
                "{what}: the breach watch"
            );
            let on_contract = "/v1/breach-watch?contract_id=OCB0000501";
            if watch.is_empty() {
                app.get(on_contract, &nina).await.expect(403);
            } else {
                assert_eq!(
                    watched(on_contract, &nina).await,
                    sorted(watch),
                    "{what}: the breach watch of the contract"
                );
            }
        }
        // Staff and the referent read everything, and the referent, who saved the draft
        // and manages Services, its draft too; staff do not see another's draft.
        let everything = sorted(vec![incident.clone(), change.clone(), order.clone()]);
        let with_the_draft = sorted(vec![
            incident.clone(),
            change.clone(),
            order.clone(),
            fixture.draft.clone(),
        ]);
        assert_eq!(listed(&manager).await, with_the_draft, "{backend}");
        assert_eq!(
            listed(&token(Caller::Analyst)).await,
            everything,
            "{backend}"
        );
        app
    })
    .await;
}

/// Uploads `content` for `contract` as `token`; the description to put in a form.
async fn upload(app: &TestApp, token: &str, contract: &str, name: &str, content: &str) -> Value {
    let answer = app
        .client
        .post(format!(
            "{}/v1/attachments?contract_id={contract}&name={name}",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(content.to_owned())
        .send()
        .await
        .unwrap();
    TestApp::read(answer).await.expect(201)
}

/// Issue 20: an upload belongs to the contract it was uploaded for. In a change of
/// contract A, a file uploaded only for contract B is answered, for every caller and on
/// every route that takes a digest, exactly as a digest nobody uploaded (no oracle of
/// which files exist elsewhere), and nothing is written; B's changes may list it, and A
/// may list the same bytes once uploaded for A.
#[tokio::test]
async fn issue_20_naming_another_contracts_upload_is_refused_like_an_unknown_digest() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        let fixture = fixture(&app).await;
        let token = |wanted: Caller| {
            fixture
                .tokens
                .iter()
                .find(|(caller, _)| *caller == wanted)
                .and_then(|(_, token)| token.clone())
                .unwrap()
        };
        let (manager, outsider) = (token(Caller::Manager), token(Caller::Outsider));
        let secret = "contract B's own file";
        let foreign = upload(&app, &outsider, "OCB0000502", "b.txt", secret).await;
        // The same description with a digest no file has.
        let mut unknown = foreign.clone();
        unknown["sha256"] = json!("ab".repeat(32));
        let draft = app
            .post(
                "/v1/changes",
                &manager,
                json!({"contract_id": "OCB0000501", "submit": false, "form": {"asset": "vm-9"}}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let form = |file: &Value| {
            json!({"asset": "vm-1", "catalogue": "Catalogue de Changement Standard",
                   "category": "Quotas", "article": "Modifier mes quotas",
                   "lead_time": "standard", "attachments": [file]})
        };
        let cells = |file: &Value| {
            vec![
                (
                    Method::POST,
                    "/v1/changes".to_owned(),
                    Some(json!({"contract_id": "OCB0000501", "submit": false, "form": form(file)})),
                ),
                (
                    Method::POST,
                    "/v1/changes".to_owned(),
                    Some(json!({"contract_id": "OCB0000501", "submit": true, "form": form(file)})),
                ),
                (
                    Method::PUT,
                    format!("/v1/changes/{draft}/draft"),
                    Some(form(file)),
                ),
                (
                    Method::GET,
                    format!(
                        "/v1/changes/{draft}/attachments/{}",
                        file["sha256"].as_str().unwrap()
                    ),
                    None,
                ),
            ]
        };
        let mut failures = Vec::new();
        for ((method, path, body), (_, unknown_path, unknown_body)) in
            cells(&foreign).into_iter().zip(cells(&unknown))
        {
            for (caller, token) in &fixture.tokens {
                let head = app.log_head().await;
                let named = app
                    .send(method.clone(), &path, token.as_deref(), body.as_ref())
                    .await;
                let never_uploaded = app
                    .send(
                        method.clone(),
                        &unknown_path,
                        token.as_deref(),
                        unknown_body.as_ref(),
                    )
                    .await;
                assert_eq!(
                    app.log_head().await,
                    head,
                    "{backend}: {method} {path} as {caller:?} appended events"
                );
                if named.status != never_uploaded.status || named.body != never_uploaded.body {
                    failures.push(format!(
                        "{method} {path} as {caller:?}: {} {} where an unknown digest gets {} {}",
                        named.status, named.body, never_uploaded.status, never_uploaded.body
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{backend}:\n{}", failures.join("\n"));
        // Those who may write the form are told which field is wrong, and no more.
        let refused = app
            .post(
                "/v1/changes",
                &manager,
                json!({"contract_id": "OCB0000501", "submit": false, "form": form(&foreign)}),
            )
            .await
            .problem(422);
        assert_eq!(refused["field"], "attachments[0].sha256", "{backend}");

        // Contract B's changes list it, and B's readers download it.
        let on_b = app
            .post(
                "/v1/changes",
                &outsider,
                json!({"contract_id": "OCB0000502", "submit": true, "form": form(&foreign)}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sha = foreign["sha256"].as_str().unwrap();
        let path = format!("/v1/changes/{on_b}/attachments/{sha}");
        let downloaded = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&outsider)
            .send()
            .await
            .unwrap();
        assert_eq!(downloaded.status(), 200, "{backend}");
        assert_eq!(downloaded.text().await.unwrap(), secret, "{backend}");
        // A's manager reads nothing of B's change.
        app.get(&path, &manager).await.problem(404);

        // The same bytes uploaded for A are A's too (stored once, owned by both).
        let own = upload(&app, &manager, "OCB0000501", "a-copy.txt", secret).await;
        assert_eq!(own["sha256"], foreign["sha256"], "{backend}");
        app.put(&format!("/v1/changes/{draft}/draft"), &manager, form(&own))
            .await
            .expect(200);
        app.get(&format!("/v1/changes/{draft}/attachments/{sha}"), &manager)
            .await
            .expect(200);
        app
    })
    .await;
}

/// Staff opening an incident for a customer (a phone call) name a user declared on that
/// contract who may open incidents there (visitor or manager on Support): another
/// contract's customer, a login nobody has, or a user without the Support right is
/// refused with 422 naming `on_behalf_of`, and nothing is appended.
#[tokio::test]
async fn issue_20_on_behalf_of_names_a_user_of_the_contract_who_may_open_incidents() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000531", "Gold", "anne.manager").await;
        app.contract("OCB0000532", "Gold", "oscar.outsider").await;
        let manager = app.token("anne.manager", "customer").await;
        for (login, support) in [("victor.visitor", "visitor"), ("sam.services", "none")] {
            app.post(
                "/v1/contracts/OCB0000531/users",
                &manager,
                json!({
                    "login": login, "email": format!("{login}@acme.example"),
                    "first_name": "Test", "last_name": "User",
                    "roles": {"contract": "manager", "dashboard": "manager", "services": "manager",
                              "invoices": "manager", "support": support, "users": "manager"}
                }),
            )
            .await
            .expect(200);
        }
        let agent = app.token("agent.martin", "agent").await;
        let open = |who: &str| {
            json!({"contract_id": "OCB0000531", "priority": "P2", "title": "Slow",
                   "description": "Latency", "on_behalf_of": who})
        };
        let head = app.log_head().await;
        for who in ["oscar.outsider", "nobody.at.all", "sam.services"] {
            let problem = app
                .post("/v1/incidents", &agent, open(who))
                .await
                .problem(422);
            assert_eq!(
                problem["field"], "on_behalf_of",
                "{backend}: {who}: {problem:#}"
            );
        }
        assert_eq!(
            app.log_head().await,
            head,
            "{backend}: a refused incident was appended"
        );
        for who in ["anne.manager", "victor.visitor"] {
            let opened = app
                .post("/v1/incidents", &agent, open(who))
                .await
                .expect(201);
            let history = app
                .get(
                    &format!("/v1/requests/{}/history", opened["id"].as_str().unwrap()),
                    &agent,
                )
                .await
                .expect(200);
            assert_eq!(history[0]["on_behalf_of"], who, "{backend}: {history:#}");
        }
        app
    })
    .await;
}
