//! The route table: every method and path of the API with the [`Right`] it needs, side by
//! side, one function per resource. A route is registered only through `Table::route`,
//! which wraps it in [`auth::declared`] so its handler's [`crate::http::auth::Caller`]
//! carries that right; `issue_21_every_route_declares_the_right_it_needs` reads the
//! application's router ([`crate::http::router`]) and fails on any method and path it
//! serves that no table declared, however the route was added.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodFilter, on};
use sablier_domain::contract::Section;

use crate::http::auth::{self, Need, Right};
use crate::http::state::AppState;
use crate::http::{changes, contracts, incidents, openapi, ops, orders, reads, reference, tokens};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

/// Manager on Services: changes, orders, attachments.
const MANAGE_SERVICES: Right = Right::On(Need::Manage(Section::Services));
const CORRECT_QUOTE: Right = Right::Admin("correct a quote (an administrator does)");

/// One route as the table declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub method: Method,
    pub path: &'static str,
    pub right: Right,
}

/// Routes registered with the right each needs.
pub struct Table {
    router: Router<AppState>,
    declared: Vec<Declared>,
}

impl Table {
    fn new() -> Self {
        Self {
            router: Router::new(),
            declared: Vec::new(),
        }
    }

    /// Registers `handler` for `method` on `path`, needing `right`.
    fn route<H, T>(mut self, method: Method, path: &'static str, right: Right, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a method the API serves");
        let endpoint =
            on(filter, handler).route_layer(middleware::from_fn_with_state(right, auth::declared));
        self.router = self.router.route(path, endpoint);
        self.declared.push(Declared {
            method,
            path,
            right,
        });
        self
    }

    /// The routes, for the layers [`crate::http::router`] puts around them.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    /// What the table declared, route by route.
    pub fn declared(&self) -> &[Declared] {
        &self.declared
    }
}

/// The routes anyone may call, without a token.
pub fn public() -> Table {
    Table::new()
        .route(GET, "/healthz", Right::Public, ops::healthz)
        .route(GET, "/readyz", Right::Public, ops::readyz)
        .route(GET, "/metrics", Right::Public, ops::metrics)
        .route(GET, "/openapi.json", Right::Public, openapi::document)
}

/// The routes behind a token, with the ordinary body limit.
pub fn authenticated() -> Table {
    let table = contracts_routes(Table::new());
    let table = incidents_routes(table);
    let table = changes_routes(table);
    let table = orders_routes(table);
    reads_and_reference_routes(table)
}

/// Attachment uploads: behind a token, with the attachment body limit.
pub fn uploads() -> Table {
    Table::new().route(POST, "/v1/attachments", MANAGE_SERVICES, changes::upload)
}

fn contracts_routes(table: Table) -> Table {
    let manage_users = Right::On(Need::Manage(Section::Users));
    table
        .route(
            POST,
            "/v1/contracts",
            Right::Admin("create a contract"),
            contracts::create,
        )
        .route(GET, "/v1/contracts", Right::Anyone, contracts::list)
        .route(
            GET,
            "/v1/contracts/{contract_id}",
            Right::On(Need::Declared),
            contracts::detail,
        )
        .route(
            POST,
            "/v1/contracts/{contract_id}/upgrade",
            Right::On(Need::Manage(Section::Contract)),
            contracts::upgrade,
        )
        .route(
            POST,
            "/v1/contracts/{contract_id}/downgrade",
            Right::StaffOn("downgrade a support tier"),
            contracts::downgrade,
        )
        .route(
            POST,
            "/v1/contracts/{contract_id}/expert-time",
            Right::StaffOn("log expert time"),
            contracts::expert_time,
        )
        .route(
            GET,
            "/v1/contracts/{contract_id}/users",
            Right::On(Need::Read(Section::Users)),
            contracts::users,
        )
        .route(
            POST,
            "/v1/contracts/{contract_id}/users",
            manage_users,
            contracts::declare_user,
        )
        .route(
            PUT,
            "/v1/contracts/{contract_id}/users/{login}/roles",
            manage_users,
            contracts::change_roles,
        )
        .route(
            DELETE,
            "/v1/contracts/{contract_id}/users/{login}",
            manage_users,
            contracts::remove_user,
        )
        .route(
            GET,
            "/v1/contracts/{contract_id}/billing/{month}",
            Right::On(Need::Read(Section::Invoices)),
            contracts::billing,
        )
}

fn incidents_routes(table: Table) -> Table {
    let act = Right::On(Need::ActOnSupport);
    table
        .route(POST, "/v1/incidents", act, incidents::open)
        .route(
            GET,
            "/v1/incidents/{incident_id}",
            Right::ReadRequest,
            incidents::detail,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/start-intervention",
            act,
            incidents::start_intervention,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/await-customer",
            act,
            incidents::await_customer,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/customer-response",
            act,
            incidents::customer_response,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/diagnosis",
            act,
            incidents::share_diagnosis,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/restore",
            act,
            incidents::restore,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/close",
            act,
            incidents::close,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/reopen",
            act,
            incidents::reopen,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/priority",
            act,
            incidents::change_priority,
        )
        .route(
            POST,
            "/v1/incidents/{incident_id}/comments",
            act,
            incidents::comment,
        )
}

fn changes_routes(table: Table) -> Table {
    let act = MANAGE_SERVICES;
    table
        .route(POST, "/v1/changes", act, changes::create)
        .route(
            GET,
            "/v1/changes/{change_id}",
            Right::ReadRequest,
            changes::detail,
        )
        .route(
            PUT,
            "/v1/changes/{change_id}/draft",
            act,
            changes::edit_draft,
        )
        .route(POST, "/v1/changes/{change_id}/submit", act, changes::submit)
        .route(POST, "/v1/changes/{change_id}/quote", act, changes::quote)
        .route(
            POST,
            "/v1/changes/{change_id}/accept-quote",
            act,
            changes::accept_quote,
        )
        .route(
            POST,
            "/v1/changes/{change_id}/decline-quote",
            act,
            changes::decline_quote,
        )
        .route(POST, "/v1/changes/{change_id}/start", act, changes::start)
        .route(
            POST,
            "/v1/changes/{change_id}/complete",
            act,
            changes::complete,
        )
        .route(POST, "/v1/changes/{change_id}/cancel", act, changes::cancel)
        .route(POST, "/v1/changes/{change_id}/reject", act, changes::reject)
        .route(
            POST,
            "/v1/changes/{change_id}/quote-correction",
            CORRECT_QUOTE,
            changes::correct_quote,
        )
        .route(
            GET,
            "/v1/changes/{change_id}/attachments/{sha256}",
            Right::On(Need::Read(Section::Services)),
            changes::download,
        )
}

fn orders_routes(table: Table) -> Table {
    let act = MANAGE_SERVICES;
    table
        .route(POST, "/v1/orders", act, orders::place)
        .route(
            GET,
            "/v1/orders/{order_id}",
            Right::ReadRequest,
            orders::detail,
        )
        .route(POST, "/v1/orders/{order_id}/quote", act, orders::quote)
        .route(
            POST,
            "/v1/orders/{order_id}/accept-quote",
            act,
            orders::accept_quote,
        )
        .route(
            POST,
            "/v1/orders/{order_id}/decline-quote",
            act,
            orders::decline_quote,
        )
        .route(POST, "/v1/orders/{order_id}/start", act, orders::start)
        .route(
            POST,
            "/v1/orders/{order_id}/complete",
            act,
            orders::complete,
        )
        .route(POST, "/v1/orders/{order_id}/cancel", act, orders::cancel)
        .route(
            POST,
            "/v1/orders/{order_id}/quote-correction",
            CORRECT_QUOTE,
            orders::correct_quote,
        )
}

fn reads_and_reference_routes(table: Table) -> Table {
    table
        .route(GET, "/v1/requests", Right::Anyone, reads::list)
        .route(
            GET,
            "/v1/requests/{request_id}/history",
            Right::ReadRequest,
            reads::history,
        )
        .route(
            GET,
            "/v1/requests/{request_id}/clocks/{metric}",
            Right::ReadRequest,
            reads::explain,
        )
        .route(GET, "/v1/breach-watch", Right::Anyone, reads::breach_watch)
        .route(
            GET,
            "/v1/catalogues/changes",
            Right::Anyone,
            reference::changes,
        )
        .route(
            GET,
            "/v1/catalogues/services",
            Right::Anyone,
            reference::services,
        )
        .route(
            GET,
            "/v1/maintenance-windows",
            Right::Anyone,
            reference::maintenance,
        )
        .route(
            POST,
            "/v1/tokens",
            Right::Admin("create tokens"),
            tokens::create,
        )
        .route(GET, "/v1/tokens", Right::Admin("list tokens"), tokens::list)
        .route(
            DELETE,
            "/v1/tokens/{token_id}",
            Right::Admin("revoke tokens"),
            tokens::revoke,
        )
}

#[cfg(test)]
mod tests {
    use sablier_store::Database;

    use super::*;
    use crate::http::state::Limits;

    const METHODS: [(&str, Method); 9] = [
        ("get", Method::GET),
        ("head", Method::HEAD),
        ("delete", Method::DELETE),
        ("options", Method::OPTIONS),
        ("patch", Method::PATCH),
        ("post", Method::POST),
        ("put", Method::PUT),
        ("trace", Method::TRACE),
        ("connect", Method::CONNECT),
    ];

    /// Every method and path `router` serves, as axum itself describes its routes (its
    /// `Debug` form: each route id with its method router, then each route id's path).
    fn registered<S>(router: &Router<S>) -> Vec<(Method, String)> {
        let described = format!("{router:?}");
        let routes = &described[..described
            .find("fallback_router")
            .expect("a router describes its fallback")];
        let (endpoints, paths) = routes
            .split_once("node: Node")
            .expect("a router describes its paths");
        let path_of = |id: &str| {
            let start = paths
                .find(&format!("{id}: \""))
                .expect("every route has a path")
                + id.len()
                + 3;
            paths[start..start + paths[start..].find('"').expect("a quoted path")].to_owned()
        };
        let mut registered = Vec::new();
        for endpoint in endpoints.split("RouteId(").skip(1) {
            let id = format!("RouteId({})", &endpoint[..endpoint.find(')').unwrap_or(0)]);
            let methods = endpoint
                .split_once("MethodRouter {")
                .map(|(_, fields)| fields)
                .unwrap_or_else(|| panic!("{} is not a method router: {endpoint}", path_of(&id)));
            for (field, method) in &METHODS {
                let value = methods
                    .split_once(&format!(" {field}: "))
                    .map(|(_, rest)| rest.split([',', ' ', '(']).next().unwrap_or_default())
                    .unwrap_or_else(|| panic!("no field {field} in {methods}"));
                if value != "None" {
                    registered.push((method.clone(), path_of(&id)));
                }
            }
        }
        registered
    }

    /// The application's own router, as `sablier serve` builds it (over a database it
    /// never queries).
    async fn app() -> Router {
        let database = Database::connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        let (state, _projector) = crate::serve::shared_state(&database, Limits::default());
        crate::http::router(state)
    }

    #[tokio::test]
    async fn issue_21_every_route_declares_the_right_it_needs() {
        let registered = registered(&app().await);
        let tables = [
            ("public", public()),
            ("authenticated", authenticated()),
            ("uploads", uploads()),
        ];
        let declared: Vec<&Declared> = tables
            .iter()
            .flat_map(|(_, table)| table.declared())
            .collect();
        let undeclared: Vec<String> = registered
            .iter()
            .filter(|(method, path)| {
                !declared
                    .iter()
                    .any(|declared| declared.method == *method && declared.path == path)
            })
            .map(|(method, path)| format!("{method} {path}"))
            .collect();
        let unregistered: Vec<String> = declared
            .iter()
            .filter(|declared| {
                !registered.contains(&(declared.method.clone(), declared.path.to_owned()))
            })
            .map(|declared| format!("{} {}", declared.method, declared.path))
            .collect();
        assert!(
            undeclared.is_empty(),
            "routes the application serves without a declared right: {undeclared:?}"
        );
        assert!(
            unregistered.is_empty(),
            "routes declared but not served (the test cannot read the router): {unregistered:?}"
        );
        assert!(
            registered.len() > 50,
            "the router shows only {} routes: the test cannot read it",
            registered.len()
        );
        for (name, table) in &tables {
            for declared in table.declared() {
                assert_eq!(
                    declared.right == Right::Public,
                    *name == "public",
                    "{} {} is declared {:?} in the {name} routes: only the routes without a \
                     token are public",
                    declared.method,
                    declared.path,
                    declared.right
                );
            }
        }
    }
}
