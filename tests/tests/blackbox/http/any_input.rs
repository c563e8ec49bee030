//! Issue 20: every command of every aggregate, driven over HTTP with arbitrary input (any
//! unicode, lengths at and beyond the bounds, numbers up to 2^64 and below zero, dates at
//! and beyond 1970-01-01 and 2099-12-31, values of the wrong type) in sequences that
//! reach the later states. Each answer is an acceptance or a 4xx refusal that wrote
//! nothing, never a 5xx; afterwards every view has applied every event, none is stalled,
//! and every stored event decodes as its aggregate's event.
//!
//! The input comes from a seeded generator: the seed is printed, and
//! `SABLIER_ANY_INPUT_SEED=<seed>` replays a failing run.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use sablier_domain::change::ChangeEvent;
use sablier_domain::contract::ContractEvent;
use sablier_domain::incident::IncidentEvent;
use sablier_domain::order::OrderEvent;
use sablier_store::{EventLog, FeedFilter};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::app::{TestApp, on_every_backend};

/// Characters a text field accepts, the awkward ones first: bidi overrides, zero-width
/// joiners, combining marks, emoji, a byte-order mark, the last code points of the
/// planes, quotes and backslashes, a line separator.
const ODD_CHARS: &[char] = &[
    '\u{202E}',
    '\u{202D}',
    '\u{2066}',
    '\u{2069}',
    '\u{200B}',
    '\u{200D}',
    '\u{0301}',
    '\u{FEFF}',
    '\u{FFFD}',
    '\u{FFFF}',
    '\u{FFFE}',
    '\u{D7FF}',
    '\u{E000}',
    '\u{10FFFF}',
    '\u{1F600}',
    '\u{1F468}',
    '\u{1F3FD}',
    '\u{2028}',
    '\u{2029}',
    '\u{00A0}',
    '\u{3000}',
    '中',
    'é',
    'ß',
    'İ',
    'ﷺ',
    '"',
    '\'',
    '\\',
    '/',
    '<',
    '>',
    '&',
    '%',
    '$',
    '{',
    '}',
    '\n',
    '\t',
    ' ',
    'a',
    'Z',
    '0',
    '9',
    '.',
    '-',
    '_',
];

/// Characters no text field accepts.
const CONTROL_CHARS: &[char] = &['\0', '\u{1B}', '\u{7F}', '\u{85}', '\r', '\u{8}', '\u{9F}'];

/// How one field is filled.
#[derive(Clone, Copy)]
enum Field {
    /// Bounded text: at most this many characters, empty allowed or not.
    Text(usize, bool),
    Login,
    Email,
    Phone,
    Date,
    Minutes,
    Cents,
    Tier,
    Priority,
    PauseReason,
    Roles,
    TimeZone,
    Offer,
    Civility,
    TokenRole,
    /// A contract id not yet used.
    NewContractId,
    /// One of these values.
    OneOf(&'static [&'static str]),
}

struct Input {
    rng: StdRng,
    contracts_made: u32,
    /// Bodies that are not valid break one field only (the others valid), rather than
    /// each field at random.
    one_broken: bool,
}

impl Input {
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.gen_range(0..100) < percent
    }

    fn pick<T: Copy>(&mut self, values: &[T]) -> T {
        *values.choose(&mut self.rng).expect("a value to pick")
    }

    /// A length for a field of at most `max`: short, or at the bound.
    fn length(&mut self, min: usize, max: usize) -> usize {
        match self.rng.gen_range(0..6) {
            0 => max,
            1 => max.saturating_sub(1).max(min),
            2 => self.rng.gen_range(min..=max),
            _ => self.rng.gen_range(min..=max.min(min + 12)),
        }
    }

    /// Text the field accepts: any characters but controls (tab and line feed allowed),
    /// at most `max` of them, not blank unless `empty`.
    fn text(&mut self, max: usize, empty: bool) -> String {
        let length = self.length(usize::from(!empty), max);
        let mut text: String = (0..length)
            .map(|_| {
                if self.chance(70) {
                    self.pick(ODD_CHARS)
                } else {
                    char::from_u32(self.rng.gen_range(0x20..0x11_0000))
                        .filter(|c| !c.is_control())
                        .unwrap_or('x')
                }
            })
            .collect();
        if !empty && text.trim().is_empty() {
            text.pop();
            text.push('\u{1F600}');
        }
        text
    }

    /// Text the field refuses: blank, too long, or with a control character.
    fn bad_text(&mut self, max: usize, empty: bool) -> String {
        match self.rng.gen_range(0..4) {
            0 if !empty => self.pick(&["", " ", "\n\t ", "\u{3000}"]).to_owned(),
            1 => {
                let mut text = self.text(max, false);
                let at = self.rng.gen_range(0..=text.chars().count());
                let control = self.pick(CONTROL_CHARS);
                let mut chars: Vec<char> = text.chars().collect();
                chars.insert(at, control);
                text = chars.into_iter().collect();
                text
            }
            _ => {
                let over = max + self.rng.gen_range(1..3);
                (0..over)
                    .map(|_| self.pick(&['x', 'é', '\u{1F600}']))
                    .collect()
            }
        }
    }

    /// Any JSON value, mostly of the wrong type or beyond a bound.
    fn any_json(&mut self) -> Value {
        match self.rng.gen_range(0..14) {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(-1),
            3 => json!(9_223_372_036_854_775_808_u64),
            4 => json!(u64::MAX),
            5 => json!(i64::MIN),
            6 => json!(1.5),
            7 => json!(1e300),
            8 => json!([]),
            9 => json!({}),
            10 => json!({"nested": [1, "two"]}),
            11 => json!(0),
            12 => json!(""),
            _ => {
                let max = self.rng.gen_range(1..300);
                json!(self.bad_text(max, false))
            }
        }
    }

    fn login(&mut self) -> String {
        const LOGIN: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        let length = self.length(8, 64);
        (0..length).map(|_| char::from(self.pick(LOGIN))).collect()
    }

    fn email(&mut self) -> String {
        let local_bytes = self.rng.gen_range(1..=64);
        let mut local = String::new();
        loop {
            let c = if self.chance(50) {
                self.pick(ODD_CHARS)
            } else {
                self.pick(&['a', 'B', '9', '+', '.', '中', '\u{1F600}', 'é', '\u{202E}'])
            };
            if c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"') {
                continue;
            }
            if local.len() + c.len_utf8() > local_bytes {
                break;
            }
            local.push(c);
        }
        if local.is_empty() {
            local.push('a');
        }
        let domain = self.pick(&[
            "acme.example",
            "X-1.EXAMPLE",
            "a.b.c.d",
            "xn--80ak6aa92e.example",
        ]);
        format!("{local}@{domain}")
    }

    fn phone(&mut self) -> String {
        let digits = self.rng.gen_range(6..=20);
        let mut phone = if self.chance(50) {
            "+".to_owned()
        } else {
            String::new()
        };
        for _ in 0..digits {
            phone.push(char::from(b'0' + self.rng.gen_range(0..10)));
            if self.chance(20) {
                phone.push(self.pick(&[' ', '.', '-', '(', ')']));
            }
        }
        phone
    }

    fn date(&mut self) -> String {
        match self.rng.gen_range(0..4) {
            0 => "1970-01-01".to_owned(),
            1 => "2099-12-31".to_owned(),
            2 => self
                .pick(&["2024-02-29", "2000-02-29", "2026-12-31", "2027-01-01"])
                .to_owned(),
            _ => {
                let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                    + chrono::Days::new(self.rng.gen_range(0..47_482));
                day.to_string()
            }
        }
    }

    /// A value `field` accepts.
    fn valid(&mut self, field: Field) -> Value {
        match field {
            Field::Text(max, empty) => json!(self.text(max, empty)),
            Field::Login => json!(self.login()),
            Field::Email => json!(self.email()),
            Field::Phone => json!(self.phone()),
            Field::Date => json!(self.date()),
            Field::Minutes => {
                let any = self.rng.gen_range(1..=1440);
                json!(self.pick(&[1, 1440, 1439, 30, any]))
            }
            Field::Cents => {
                let any = self.rng.gen_range(0..=100_000_000_000_u64);
                json!(self.pick(&[0, 1, 100_000_000_000_u64, 99_999_999_999, any]))
            }
            Field::Tier => json!(self.pick(&["Standard", "Bronze", "Silver", "Gold"])),
            Field::Priority => json!(self.pick(&["P1", "P2", "P3", "P4"])),
            Field::PauseReason => {
                const CODE: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
                let length = self.length(1, 64);
                json!(
                    (0..length)
                        .map(|_| char::from(self.pick(CODE)))
                        .collect::<String>()
                )
            }
            Field::Roles => {
                let mut roles = Map::new();
                for section in [
                    "contract",
                    "dashboard",
                    "services",
                    "invoices",
                    "support",
                    "users",
                ] {
                    if self.chance(60) {
                        roles.insert(
                            section.into(),
                            json!(self.pick(&["none", "visitor", "manager"])),
                        );
                    }
                }
                Value::Object(roles)
            }
            Field::TimeZone => json!(self.pick(&[
                "Europe/Paris",
                "UTC",
                "Pacific/Kiritimati",
                "Pacific/Pago_Pago",
                "Asia/Kathmandu",
                "America/St_Johns",
                "Australia/Lord_Howe",
                "Antarctica/Troll",
                "Etc/GMT-14",
                "Etc/GMT+12",
                "Asia/Tehran",
                "America/Caracas",
            ])),
            Field::Offer => json!(self.pick(&[
                "Flexible Computing Advanced",
                "Flexible Engine",
                "Cloud Avenue"
            ])),
            Field::Civility => json!(self.pick(&["ms", "mr"])),
            Field::TokenRole => json!(self.pick(&["customer", "agent", "analyst", "admin"])),
            Field::NewContractId => {
                self.contracts_made += 1;
                json!(format!(
                    "OCB{:07}",
                    9_000_000 + self.contracts_made * 7 + self.rng.gen_range(0..7)
                ))
            }
            Field::OneOf(values) => json!(self.pick(values)),
        }
    }

    /// A value `field` refuses.
    fn invalid(&mut self, field: Field) -> Value {
        if self.chance(10) {
            return self.any_json();
        }
        match field {
            Field::Text(max, empty) => json!(self.bad_text(max, empty)),
            Field::Login => json!(self.pick(&[
                "short",
                "has space1",
                "é.accent.login",
                "x".repeat(65).as_str(),
                ""
            ])),
            Field::Email => json!(self.pick(&[
                "no-at-sign",
                "a@b",
                "a@@b.example",
                "a b@c.example",
                "@x.example",
                "a@-x.example",
                "a@x..example"
            ])),
            Field::Phone => json!(self.pick(&[
                "12345",
                "+33 6 12 34 56 78 90 12 34 56 78",
                "06-12-34-56-7a",
                "++33612345678",
                ""
            ])),
            Field::Date => json!(self.pick(&[
                "1969-12-31",
                "2100-01-01",
                "-0001-12-31",
                "+99999-01-01",
                "0000-01-01",
                "2023-02-29",
                "2026-13-01",
                "2026-1-1",
                " 2026-01-01",
                "2026-01-01T00:00:00Z",
                "",
            ])),
            Field::Minutes => {
                json!(self.pick(&[0_i64, 1441, -1, 4_294_967_295, 4_294_967_296, i64::MAX]))
            }
            // Beyond what a signed 64-bit column holds, most often.
            Field::Cents => json!(self.pick(&[
                100_000_000_001_u64,
                9_223_372_036_854_775_807,
                9_223_372_036_854_775_808,
                u64::MAX,
                9_223_372_036_854_775_808,
                u64::MAX
            ])),
            Field::Tier => json!(self.pick(&["gold", "Platinum", "", " Gold"])),
            Field::Priority => json!(self.pick(&["P0", "P5", "p1", "P1 "])),
            Field::PauseReason => {
                json!(self.pick(&["Awaiting", "awaiting customer", "x".repeat(65).as_str(), ""]))
            }
            Field::Roles => match self.rng.gen_range(0..3) {
                0 => json!({"kitchen": "manager"}),
                1 => json!({"support": "owner"}),
                _ => json!({"users": 1}),
            },
            Field::TimeZone => json!(self.pick(&[
                "Mars/Olympus_Mons",
                "utc",
                "",
                "+02:00",
                "Europe/Paris\u{0}"
            ])),
            Field::Offer => json!(self.pick(&["Flexible", "cloud avenue", ""])),
            Field::Civility => json!(self.pick(&["mrs", "MR", ""])),
            Field::TokenRole => json!(self.pick(&["system", "root", "Agent"])),
            Field::NewContractId => {
                json!(self.pick(&["OCB123", "ocb0000001", "OCB00000001", "OCBabcdefg", ""]))
            }
            Field::OneOf(_) => json!(self.bad_text(64, false)),
        }
    }

    /// An object with `fields`: every value accepted (`valid`); or one field refused, of
    /// another type or beyond its bound (`one_broken`); or each field accepted, refused
    /// or left out at random.
    fn body(&mut self, fields: &[(&str, Field, bool)], valid: bool) -> Value {
        let mut body = Map::new();
        let broken = self.rng.gen_range(0..fields.len().max(1));
        for (index, &(name, field, required)) in fields.iter().enumerate() {
            if !valid && self.one_broken {
                if index == broken {
                    body.insert(name.into(), self.invalid(field));
                } else if required || self.chance(70) {
                    body.insert(name.into(), self.valid(field));
                }
                continue;
            }
            if valid {
                if required || self.chance(70) {
                    body.insert(name.into(), self.valid(field));
                }
                continue;
            }
            match self.rng.gen_range(0..10) {
                0..=4 => {
                    body.insert(name.into(), self.valid(field));
                }
                5..=8 => {
                    body.insert(name.into(), self.invalid(field));
                }
                _ => {}
            }
        }
        if !valid && self.chance(3) {
            body.insert("surprise".into(), json!(1));
        }
        Value::Object(body)
    }
}

/// A catalogue article or service item, as the reference routes list them.
struct Offered {
    body: Value,
    on_quote: bool,
}

struct Run {
    app: TestApp,
    input: Input,
    seed: u64,
    agent: String,
    /// Accepted commands, by route.
    accepted: BTreeMap<&'static str, u32>,
    sent: u32,
    /// The last refusal's problem body.
    last_problem: Value,
}

/// Whether a step must be accepted when every field is valid.
#[derive(Clone, Copy, PartialEq)]
enum Must {
    Accept,
    MayRefuse,
}

impl Run {
    /// Sends `body` and checks the answer: accepted, or a 4xx problem that wrote nothing.
    async fn send(
        &mut self,
        route: &'static str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Option<Value> {
        let head = self.app.log_head().await;
        let answer = self.app.send(method.clone(), path, Some(token), body).await;
        self.sent += 1;
        let status = answer.status.as_u16();
        let seed = self.seed;
        let shown = |body: &Option<&Value>| {
            body.map(|b| serde_json::to_string(b).unwrap())
                .unwrap_or_default()
        };
        assert!(
            answer.status.is_success() || answer.status.is_client_error(),
            "{}: seed {seed}: {method} {path} {} answered {status}: {:#}",
            self.app.backend(),
            shown(&body),
            answer.body
        );
        if answer.status.is_success() {
            *self.accepted.entry(route).or_default() += 1;
            Some(answer.body)
        } else {
            assert_eq!(
                self.app.log_head().await,
                head,
                "{}: seed {seed}: refused {method} {path} {} wrote events: {:#}",
                self.app.backend(),
                shown(&body),
                answer.body
            );
            self.last_problem = answer.problem(status);
            None
        }
    }

    /// Tries a command with a body where one field is beyond its rule, then with one where
    /// any field may be, then with one whose every field is valid;
    /// gives the answer of the first accepted.
    async fn step(
        &mut self,
        route: &'static str,
        method: Method,
        path: &str,
        token: &str,
        make: impl Fn(&mut Input, bool) -> Value,
        must: Must,
    ) -> Option<Value> {
        for one_broken in [true, false] {
            self.input.one_broken = one_broken;
            let body = make(&mut self.input, false);
            if let Some(answer) = self
                .send(route, method.clone(), path, token, Some(&body))
                .await
            {
                return Some(answer);
            }
        }
        let body = make(&mut self.input, true);
        let answer = self
            .send(route, method.clone(), path, token, Some(&body))
            .await;
        if must == Must::Accept {
            assert!(
                answer.is_some(),
                "{}: seed {}: {method} {path} refused a body whose every field is valid: {:#}\n{}",
                self.app.backend(),
                self.seed,
                self.last_problem,
                serde_json::to_string(&body).unwrap()
            );
        }
        answer
    }
}

fn empty(_: &mut Input, _: bool) -> Value {
    json!({})
}

fn id(answer: Option<Value>) -> String {
    answer.expect("accepted")["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

fn form(
    input: &mut Input,
    valid: bool,
    articles: &[Offered],
    attachment: &Value,
    complete: bool,
) -> Value {
    let mut form = input.body(
        &[
            ("asset", Field::Text(128, false), complete),
            ("customer_reference", Field::Text(64, false), false),
            ("additional_information", Field::Text(10_000, false), false),
            ("comment", Field::Text(400, true), false),
            ("lead_time", Field::OneOf(&["standard"]), complete),
        ],
        valid,
    );
    if complete || input.chance(60) {
        let article = articles.choose(&mut input.rng).expect("an article");
        for key in ["catalogue", "category", "article"] {
            form[key] = article.body[key].clone();
        }
        if !valid && input.chance(10) {
            form["article"] = input.invalid(Field::Text(200, false));
        }
    }
    if input.chance(40) {
        let mut file = attachment.clone();
        file["name"] = json!(input.text(255, false).replace(['/', '\\', '\n', '\t'], "_"));
        if !valid && input.chance(20) {
            file["size_bytes"] = input.any_json();
        }
        let count = if valid { 1 } else { input.rng.gen_range(0..=6) };
        form["attachments"] = json!(vec![file; count]);
    }
    form
}

/// Instants to read at: the span's edges, odd offsets, a leap second, beyond the span.
const AS_OF: &[&str] = &[
    "1970-01-01T00:00:00Z",
    "2099-12-31T23:59:59Z",
    "2099-12-31T23:59:60Z",
    "2100-01-01T00:59:59+01:00",
    "1970-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59-12:00",
    "2026-06-30T23:59:60+05:45",
    "2100-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "2026-03-27T16:30:00.123456789-03:30",
    "2026-03-27",
    "now",
];

/// Contracts walked through their lifecycles, per backend.
const CONTRACTS: usize = 3;

/// Commands sent at random after the lifecycles, per contract.
const NOISE: usize = 40;

/// One contract: created, its users declared, re-roled and removed, its tier changed, expert
/// time logged; incidents, changes and orders walked through their lifecycles.
async fn contract_lifecycle(run: &mut Run, articles: &[Offered], items: &[Offered]) {
    let admin = run.app.admin.clone();
    let agent = run.agent.clone();
    let referent_fields: &[(&str, Field, bool)] = &[
        ("login", Field::Login, true),
        ("email", Field::Email, true),
        ("first_name", Field::Text(128, false), true),
        ("last_name", Field::Text(128, false), true),
    ];
    let mut created = None;
    for attempt in 0..3 {
        let valid = attempt == 2;
        let mut body = run.input.body(
            &[
                ("contract_id", Field::NewContractId, true),
                ("name", Field::Text(200, false), true),
                ("offer", Field::Offer, true),
                ("company", Field::Text(128, false), true),
                ("time_zone", Field::TimeZone, false),
                ("tier", Field::Tier, false),
            ],
            valid,
        );
        body["referent"] = run.input.body(referent_fields, valid);
        if run
            .send(
                "create contract",
                Method::POST,
                "/v1/contracts",
                &admin,
                Some(&body),
            )
            .await
            .is_some()
        {
            created = Some(body);
            break;
        }
        assert!(
            !valid,
            "seed {}: a valid contract was refused: {body}",
            run.seed
        );
    }
    let created = created.expect("a contract");
    let contract = created["contract_id"].as_str().unwrap().to_owned();
    let referent = created["referent"]["login"].as_str().unwrap().to_owned();
    let customer = run.app.token(&referent, "customer").await;
    let base = format!("/v1/contracts/{contract}");
    let (mut incidents, mut changes, mut orders) = (Vec::new(), Vec::new(), Vec::new());

    // Users.
    run.step(
        "declare user",
        Method::POST,
        &format!("{base}/users"),
        &customer,
        |input, valid| {
            let mut body = input.body(referent_fields, valid);
            if input.chance(70) {
                body["roles"] = if valid || input.chance(70) {
                    input.valid(Field::Roles)
                } else {
                    input.invalid(Field::Roles)
                };
            }
            body
        },
        Must::MayRefuse,
    )
    .await;
    let users = run
        .app
        .get(&format!("{base}/users"), &customer)
        .await
        .expect(200);
    let declared: Vec<String> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["login"].as_str().unwrap().to_owned())
        .filter(|login| *login != referent)
        .collect();
    for login in &declared {
        run.step("change roles", Method::PUT, &format!("{base}/users/{login}/roles"), &customer, |input, valid| {
            json!({"roles": if valid || input.chance(60) { input.valid(Field::Roles) } else { input.invalid(Field::Roles) }})
        }, Must::Accept)
        .await;
    }

    // Tier and expert time.
    for _ in 0..2 {
        run.step(
            "upgrade",
            Method::POST,
            &format!("{base}/upgrade"),
            &customer,
            |input, valid| input.body(&[("to", Field::Tier, true)], valid),
            Must::MayRefuse,
        )
        .await;
        run.step(
            "downgrade",
            Method::POST,
            &format!("{base}/downgrade"),
            &agent,
            |input, valid| input.body(&[("to", Field::Tier, true)], valid),
            Must::MayRefuse,
        )
        .await;
    }
    for _ in 0..3 {
        run.step(
            "expert time",
            Method::POST,
            &format!("{base}/expert-time"),
            &agent,
            |input, valid| {
                input.body(
                    &[
                        ("performed_on", Field::Date, true),
                        ("minutes", Field::Minutes, true),
                        ("note", Field::Text(10_000, false), false),
                    ],
                    valid,
                )
            },
            Must::Accept,
        )
        .await;
    }

    // Incidents: opened by the customer or on their behalf, walked to restored, reopened,
    // restored and closed, with comments and priority changes on the way.
    for on_behalf in [false, true] {
        let contract_id = contract.clone();
        let referent_login = referent.clone();
        let (opener, route) = if on_behalf {
            (agent.clone(), "open incident on behalf")
        } else {
            (customer.clone(), "open incident")
        };
        let incident = id(run
            .step(
                route,
                Method::POST,
                "/v1/incidents",
                &opener,
                |input, valid| {
                    let mut body = input.body(
                        &[
                            ("priority", Field::Priority, true),
                            ("title", Field::Text(200, false), true),
                            ("description", Field::Text(10_000, false), true),
                        ],
                        valid,
                    );
                    body["contract_id"] = json!(contract_id);
                    if on_behalf {
                        body["on_behalf_of"] = json!(referent_login);
                    }
                    body
                },
                Must::Accept,
            )
            .await);
        incidents.push(incident.clone());
        let at = |action: &str| format!("/v1/incidents/{incident}/{action}");
        let text = |input: &mut Input, valid: bool| {
            input.body(&[("text", Field::Text(10_000, false), true)], valid)
        };
        let comment = |input: &mut Input, valid: bool| {
            input.body(&[("text", Field::Text(4000, false), true)], valid)
        };
        let priority = |input: &mut Input, valid: bool| {
            input.body(
                &[
                    ("to", Field::Priority, true),
                    ("reason", Field::Text(10_000, false), true),
                ],
                valid,
            )
        };
        run.step(
            "comment",
            Method::POST,
            &at("comments"),
            &customer,
            comment,
            Must::Accept,
        )
        .await;
        run.step(
            "change priority",
            Method::POST,
            &at("priority"),
            &agent,
            priority,
            Must::MayRefuse,
        )
        .await;
        run.step(
            "start intervention",
            Method::POST,
            &at("start-intervention"),
            &agent,
            empty,
            Must::Accept,
        )
        .await;
        run.step(
            "await customer",
            Method::POST,
            &at("await-customer"),
            &agent,
            |input, valid| input.body(&[("reason", Field::PauseReason, false)], valid),
            Must::Accept,
        )
        .await;
        run.step(
            "comment",
            Method::POST,
            &at("comments"),
            &agent,
            comment,
            Must::Accept,
        )
        .await;
        run.step(
            "customer response",
            Method::POST,
            &at("customer-response"),
            &customer,
            empty,
            Must::Accept,
        )
        .await;
        run.step(
            "diagnosis",
            Method::POST,
            &at("diagnosis"),
            &agent,
            text,
            Must::Accept,
        )
        .await;
        run.step(
            "change priority",
            Method::POST,
            &at("priority"),
            &agent,
            priority,
            Must::MayRefuse,
        )
        .await;
        run.step(
            "restore",
            Method::POST,
            &at("restore"),
            &agent,
            text,
            Must::Accept,
        )
        .await;
        run.step(
            "reopen",
            Method::POST,
            &at("reopen"),
            &customer,
            text,
            Must::Accept,
        )
        .await;
        run.step(
            "restore",
            Method::POST,
            &at("restore"),
            &agent,
            text,
            Must::Accept,
        )
        .await;
        run.step(
            "close",
            Method::POST,
            &at("close"),
            &customer,
            empty,
            Must::Accept,
        )
        .await;
        run.step(
            "comment",
            Method::POST,
            &at("comments"),
            &customer,
            comment,
            Must::MayRefuse,
        )
        .await;
    }

    // Changes: a draft edited then submitted; submitted ones quoted, accepted or declined,
    // started, completed, cancelled, rejected.
    let upload = run
        .app
        .client
        .post(format!("{}/v1/attachments", run.app.base))
        .query(&[
            ("contract_id", contract.as_str()),
            (
                "name",
                run.input
                    .text(255, false)
                    .replace(['/', '\\', '\n', '\t'], "_")
                    .as_str(),
            ),
        ])
        .bearer_auth(&customer)
        .header("content-type", "text/plain")
        .body("content")
        .send()
        .await
        .unwrap();
    let attachment = match TestApp::read(upload).await {
        answer if answer.status.is_success() => answer.body,
        answer => {
            assert!(
                answer.status.is_client_error(),
                "seed {}: upload answered {:#}",
                run.seed,
                answer.body
            );
            let upload = run
                .app
                .client
                .post(format!(
                    "{}/v1/attachments?contract_id={contract}&name=f.txt",
                    run.app.base
                ))
                .bearer_auth(&customer)
                .header("content-type", "text/plain")
                .body("content")
                .send()
                .await
                .unwrap();
            TestApp::read(upload).await.expect(201)
        }
    };
    let study: Vec<&Offered> = articles.iter().filter(|a| a.on_quote).collect();
    let fixed: Vec<&Offered> = articles.iter().filter(|a| !a.on_quote).collect();
    {
        let contract_id = contract.clone();
        let draft = id(run
            .step("save draft", Method::POST, "/v1/changes", &customer, |input, valid| {
                json!({"contract_id": contract_id, "submit": false, "form": form(input, valid, articles, &attachment, false)})
            }, Must::Accept)
            .await);
        changes.push(draft.clone());
        let path = format!("/v1/changes/{draft}/draft");
        run.step(
            "edit draft",
            Method::PUT,
            &path,
            &customer,
            |input, valid| form(input, valid, articles, &attachment, false),
            Must::Accept,
        )
        .await;
        let complete: Vec<Offered> = fixed
            .iter()
            .map(|a| Offered {
                body: a.body.clone(),
                on_quote: false,
            })
            .collect();
        run.step(
            "edit draft",
            Method::PUT,
            &path,
            &customer,
            |input, valid| form(input, valid, &complete, &attachment, true),
            Must::Accept,
        )
        .await;
        // A body of mixed fields may have left the form incomplete: complete it.
        let completed = form(&mut run.input, true, &complete, &attachment, true);
        run.send(
            "edit draft",
            Method::PUT,
            &path,
            &customer,
            Some(&completed),
        )
        .await
        .expect("a complete draft is saved");
        run.step(
            "submit draft",
            Method::POST,
            &format!("/v1/changes/{draft}/submit"),
            &customer,
            empty,
            Must::Accept,
        )
        .await;
        run.step(
            "start change",
            Method::POST,
            &format!("/v1/changes/{draft}/start"),
            &agent,
            empty,
            Must::Accept,
        )
        .await;
        run.step(
            "complete change",
            Method::POST,
            &format!("/v1/changes/{draft}/complete"),
            &agent,
            |input, valid| input.body(&[("note", Field::Text(10_000, false), false)], valid),
            Must::Accept,
        )
        .await;
    }
    for (ending, pool) in [
        ("accept", &study),
        ("accept", &study),
        ("decline", &study),
        ("cancel", &fixed),
        ("reject", &fixed),
    ] {
        let contract_id = contract.clone();
        let chosen: Vec<Offered> = pool
            .iter()
            .map(|a| Offered {
                body: a.body.clone(),
                on_quote: a.on_quote,
            })
            .collect();
        let change = id(run
            .step("submit change", Method::POST, "/v1/changes", &customer, |input, valid| {
                json!({"contract_id": contract_id, "form": form(input, valid, &chosen, &attachment, true)})
            }, Must::Accept)
            .await);
        changes.push(change.clone());
        let at = |action: &str| format!("/v1/changes/{change}/{action}");
        let reason = |input: &mut Input, valid: bool| {
            input.body(&[("reason", Field::Text(10_000, false), false)], valid)
        };
        match ending {
            "accept" | "decline" => {
                run.step(
                    "quote change",
                    Method::POST,
                    &at("quote"),
                    &agent,
                    |input, valid| {
                        input.body(
                            &[
                                ("amount_cents", Field::Cents, true),
                                ("note", Field::Text(10_000, false), false),
                            ],
                            valid,
                        )
                    },
                    Must::Accept,
                )
                .await;
                if ending == "accept" {
                    run.step(
                        "accept change quote",
                        Method::POST,
                        &at("accept-quote"),
                        &customer,
                        empty,
                        Must::Accept,
                    )
                    .await;
                    run.step(
                        "start change",
                        Method::POST,
                        &at("start"),
                        &agent,
                        empty,
                        Must::Accept,
                    )
                    .await;
                    run.step(
                        "complete change",
                        Method::POST,
                        &at("complete"),
                        &agent,
                        |input, valid| {
                            input.body(&[("note", Field::Text(10_000, false), false)], valid)
                        },
                        Must::Accept,
                    )
                    .await;
                } else {
                    run.step(
                        "decline change quote",
                        Method::POST,
                        &at("decline-quote"),
                        &customer,
                        reason,
                        Must::Accept,
                    )
                    .await;
                }
            }
            "cancel" => {
                run.step(
                    "cancel change",
                    Method::POST,
                    &at("cancel"),
                    &customer,
                    reason,
                    Must::Accept,
                )
                .await;
            }
            _ => {
                run.step(
                    "reject change",
                    Method::POST,
                    &at("reject"),
                    &agent,
                    |input, valid| {
                        input.body(&[("reason", Field::Text(10_000, false), true)], valid)
                    },
                    Must::Accept,
                )
                .await;
            }
        }
    }

    // Orders: an item on quote quoted at any amount up to the bound, accepted, started and
    // completed (billed), or declined; a priced one started and completed, or cancelled.
    let on_quote: Vec<&Offered> = items.iter().filter(|i| i.on_quote).collect();
    let priced: Vec<&Offered> = items.iter().filter(|i| !i.on_quote).collect();
    for (ending, pool) in [
        ("accept", &on_quote),
        ("accept", &on_quote),
        ("decline", &on_quote),
        ("complete", &priced),
        ("cancel", &priced),
    ] {
        let contract_id = contract.clone();
        let item = pool.choose(&mut run.input.rng).unwrap().body["id"].clone();
        let order = id(run
            .step(
                "place order",
                Method::POST,
                "/v1/orders",
                &customer,
                |input, valid| {
                    let mut contact = input.body(
                        &[
                            ("civility", Field::Civility, true),
                            ("last_name", Field::Text(128, false), true),
                            ("first_name", Field::Text(128, false), true),
                            ("email", Field::Email, true),
                            ("landline", Field::Phone, false),
                        ],
                        valid,
                    );
                    contact["mobile"] = if valid || input.chance(70) {
                        input.valid(Field::Phone)
                    } else {
                        input.invalid(Field::Phone)
                    };
                    let mut body =
                        input.body(&[("comments", Field::Text(10_000, false), false)], valid);
                    body["contract_id"] = json!(contract_id);
                    body["item"] = item.clone();
                    body["contact"] = contact;
                    body
                },
                Must::Accept,
            )
            .await);
        orders.push(order.clone());
        let at = |action: &str| format!("/v1/orders/{order}/{action}");
        let note = |input: &mut Input, valid: bool| {
            input.body(&[("note", Field::Text(10_000, false), false)], valid)
        };
        match ending {
            "accept" | "decline" => {
                run.step(
                    "quote order",
                    Method::POST,
                    &at("quote"),
                    &agent,
                    |input, valid| {
                        input.body(
                            &[
                                ("amount_cents", Field::Cents, true),
                                ("note", Field::Text(10_000, false), false),
                            ],
                            valid,
                        )
                    },
                    Must::Accept,
                )
                .await;
                if ending == "accept" {
                    run.step(
                        "accept order quote",
                        Method::POST,
                        &at("accept-quote"),
                        &customer,
                        empty,
                        Must::Accept,
                    )
                    .await;
                    run.step(
                        "start order",
                        Method::POST,
                        &at("start"),
                        &agent,
                        empty,
                        Must::Accept,
                    )
                    .await;
                    run.step(
                        "complete order",
                        Method::POST,
                        &at("complete"),
                        &agent,
                        note,
                        Must::Accept,
                    )
                    .await;
                } else {
                    run.step(
                        "decline order quote",
                        Method::POST,
                        &at("decline-quote"),
                        &customer,
                        |input, valid| {
                            input.body(&[("reason", Field::Text(10_000, false), false)], valid)
                        },
                        Must::Accept,
                    )
                    .await;
                }
            }
            "complete" => {
                run.step(
                    "start order",
                    Method::POST,
                    &at("start"),
                    &agent,
                    empty,
                    Must::Accept,
                )
                .await;
                run.step(
                    "complete order",
                    Method::POST,
                    &at("complete"),
                    &agent,
                    note,
                    Must::Accept,
                )
                .await;
            }
            _ => {
                run.step(
                    "cancel order",
                    Method::POST,
                    &at("cancel"),
                    &agent,
                    |input, valid| {
                        input.body(&[("reason", Field::Text(10_000, false), true)], valid)
                    },
                    Must::Accept,
                )
                .await;
            }
        }
    }

    // Reads at any instant: an answer or a refusal, never a failure.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let mut reads = vec![
        format!("{base}/billing/{month}"),
        format!("{base}/billing/2099-12"),
        format!("{base}/billing/1970-01"),
        format!("{base}/billing/9999-12"),
        format!("{base}/billing/0000-01"),
    ];
    for (kind, ids) in [
        ("incidents", &incidents),
        ("changes", &changes),
        ("orders", &orders),
    ] {
        for request in ids {
            for as_of in AS_OF {
                reads.push(format!(
                    "/v1/{kind}/{request}?as_of={}",
                    as_of.replace('+', "%2B")
                ));
            }
            reads.push(format!("/v1/requests/{request}/history"));
            reads.push(format!("/v1/requests/{request}/clocks/GTR"));
        }
    }
    for path in reads {
        run.send("read", Method::GET, &path, &customer, None).await;
    }

    // Any command on any request, by any caller, with any body.
    let callers = [customer.clone(), agent.clone(), admin.clone()];
    let mut commands: Vec<(String, Method)> = Vec::new();
    for incident in &incidents {
        for action in [
            "start-intervention",
            "await-customer",
            "customer-response",
            "diagnosis",
            "restore",
            "close",
            "reopen",
            "priority",
            "comments",
        ] {
            commands.push((format!("/v1/incidents/{incident}/{action}"), Method::POST));
        }
    }
    for change in &changes {
        commands.push((format!("/v1/changes/{change}/draft"), Method::PUT));
        for action in [
            "submit",
            "quote",
            "accept-quote",
            "decline-quote",
            "start",
            "complete",
            "cancel",
            "reject",
        ] {
            commands.push((format!("/v1/changes/{change}/{action}"), Method::POST));
        }
    }
    for order in &orders {
        for action in [
            "quote",
            "accept-quote",
            "decline-quote",
            "start",
            "complete",
            "cancel",
        ] {
            commands.push((format!("/v1/orders/{order}/{action}"), Method::POST));
        }
    }
    for action in ["upgrade", "downgrade", "expert-time", "users"] {
        commands.push((format!("{base}/{action}"), Method::POST));
    }
    let any_fields: &[(&str, Field, bool)] = &[
        ("text", Field::Text(4000, false), false),
        ("reason", Field::Text(10_000, false), false),
        ("note", Field::Text(10_000, false), false),
        ("amount_cents", Field::Cents, false),
        ("to", Field::Tier, false),
        ("performed_on", Field::Date, false),
        ("minutes", Field::Minutes, false),
        ("asset", Field::Text(128, false), false),
    ];
    for _ in 0..NOISE {
        let (path, method) = commands.choose(&mut run.input.rng).unwrap().clone();
        let caller = callers.choose(&mut run.input.rng).unwrap().clone();
        let valid = run.input.chance(50);
        let mut body = run.input.body(any_fields, valid);
        if path.ends_with("/priority") && run.input.chance(70) {
            body["to"] = run.input.valid(Field::Priority);
        }
        run.send("any command", method, &path, &caller, Some(&body))
            .await;
    }

    // Users removed last (the referent never).
    for login in declared {
        run.send(
            "remove user",
            Method::DELETE,
            &format!("{base}/users/{login}"),
            &customer,
            None,
        )
        .await
        .expect("a declared user is removed");
    }
    run.app
        .get(&format!("{base}/billing/{month}"), &customer)
        .await
        .expect(200);
}

/// Waits until every view has applied the log head; fails at once if one is stalled.
async fn every_view_reaches_the_head(app: &TestApp, seed: u64) {
    let backend = app.backend();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = app.send(Method::GET, "/readyz", None, None).await;
        assert!(
            ready.status.as_u16() == 200,
            "{backend}: seed {seed}: a view is stalled: {:#}",
            ready.body
        );
        let head = ready.body["log_head"].as_i64().unwrap();
        let views = ready.body["views"].as_array().unwrap();
        if views
            .iter()
            .all(|view| view["position"].as_i64() == Some(head))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{backend}: seed {seed}: views behind the log head: {:#}",
            ready.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stalled: Vec<&str> = metrics
        .lines()
        .filter(|line| line.starts_with("sablier_view_stalled{"))
        .collect();
    assert!(!stalled.is_empty(), "{metrics}");
    for line in stalled {
        assert!(line.ends_with(" 0"), "{backend}: seed {seed}: {line}");
    }
}

/// Every stored event decodes as its aggregate's event.
async fn every_event_decodes(app: &TestApp, seed: u64) -> usize {
    let events = EventLog::new(app.db.database.clone())
        .read_after(0, &FeedFilter::all(), 1_000_000)
        .await
        .unwrap();
    for event in &events {
        let decoded = match event.aggregate_type.as_str() {
            "Contract" => serde_json::from_str::<ContractEvent>(&event.payload).map(drop),
            "Incident" => serde_json::from_str::<IncidentEvent>(&event.payload).map(drop),
            "Change" => serde_json::from_str::<ChangeEvent>(&event.payload).map(drop),
            "Order" => serde_json::from_str::<OrderEvent>(&event.payload).map(drop),
            other => panic!("an event of an unknown aggregate {other}"),
        };
        assert!(
            decoded.is_ok(),
            "{}: seed {seed}: event at position {} ({}) does not decode: {:?}: {}",
            app.backend(),
            event.position,
            event.event_type,
            decoded.err(),
            event.payload
        );
    }
    events.len()
}

#[tokio::test]
async fn issue_20_every_command_with_any_input_is_refused_or_stored_so_that_it_reads_back_and_every_view_applies_it()
 {
    let seed = std::env::var("SABLIER_ANY_INPUT_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("SABLIER_ANY_INPUT_SEED={seed}");
    on_every_backend(|app| async move {
        let started = Instant::now();
        let agent = app.token("agent.anyinput", "agent").await;
        let articles: Vec<Offered> = app
            .get("/v1/catalogues/changes", &agent)
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|article| Offered {
                body: article.clone(),
                on_quote: article["requires_study"] == true,
            })
            .collect();
        let items: Vec<Offered> = app
            .get("/v1/catalogues/services", &agent)
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|item| Offered {
                body: item.clone(),
                on_quote: item["on_quote"] == true,
            })
            .collect();
        let mut run = Run {
            app,
            input: Input {
                rng: StdRng::seed_from_u64(seed),
                contracts_made: 0,
                one_broken: false,
            },
            seed,
            agent,
            accepted: BTreeMap::new(),
            sent: 0,
            last_problem: Value::Null,
        };
        for _ in 0..CONTRACTS {
            contract_lifecycle(&mut run, &articles, &items).await;
        }
        // Tokens (not events, but arbitrary input all the same).
        let admin = run.app.admin.clone();
        for _ in 0..4 {
            run.step(
                "create token",
                Method::POST,
                "/v1/tokens",
                &admin,
                |input, valid| {
                    input.body(
                        &[
                            ("login", Field::Login, true),
                            ("role", Field::TokenRole, true),
                            ("label", Field::Text(200, true), false),
                        ],
                        valid,
                    )
                },
                Must::Accept,
            )
            .await;
        }
        every_view_reaches_the_head(&run.app, seed).await;
        let events = every_event_decodes(&run.app, seed).await;
        eprintln!(
            "{}: seed {seed}: {} requests, {events} events, {:?}; accepted by route: {:?}",
            run.app.backend(),
            run.sent,
            started.elapsed(),
            run.accepted
        );
        for route in [
            "create contract",
            "declare user",
            "change roles",
            "remove user",
            "expert time",
            "open incident",
            "open incident on behalf",
            "comment",
            "start intervention",
            "await customer",
            "customer response",
            "diagnosis",
            "restore",
            "reopen",
            "close",
            "save draft",
            "edit draft",
            "submit draft",
            "submit change",
            "quote change",
            "accept change quote",
            "decline change quote",
            "start change",
            "complete change",
            "cancel change",
            "reject change",
            "place order",
            "quote order",
            "accept order quote",
            "decline order quote",
            "start order",
            "complete order",
            "cancel order",
            "create token",
        ] {
            assert!(
                run.accepted.contains_key(route),
                "{}: seed {seed}: no {route} was accepted",
                run.app.backend()
            );
        }
        run.app
    })
    .await;
}

#[tokio::test]
async fn issue_20_a_token_label_with_a_control_character_is_refused_naming_the_field() {
    on_every_backend(|app| async move {
        let head = app.count("SELECT COUNT(*) FROM api_tokens").await;
        for label in ["nul\u{0}", "escape\u{1B}", "c1\u{85}", &"x".repeat(201)] {
            let refused = app
                .post(
                    "/v1/tokens",
                    &app.admin,
                    json!({"login": "some.agent", "role": "agent", "label": label}),
                )
                .await
                .problem(422);
            assert_eq!(refused["field"], "label", "{}: {refused:#}", app.backend());
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, head);
        let issued = app
            .post(
                "/v1/tokens",
                &app.admin,
                json!({"login": "some.agent", "role": "agent", "label": " \u{202E}é\u{1F600}\t "}),
            )
            .await
            .expect(201);
        assert_eq!(issued["label"], "\u{202E}é\u{1F600}", "{issued:#}");
        app
    })
    .await;
}
