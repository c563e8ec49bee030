//! A stream of valid commands of every kind, written through the real command buses: the
//! traffic the projector tests run under.

use sablier_domain::Cents;
use std::sync::Arc;

use chrono_tz::Europe::Paris;
use rand::Rng;
use sablier_domain::change::{ArticleRef, ChangeCommand, ChangeForm, LeadTime};
use sablier_domain::contract::{
    ContractCommand, DeclareUser, DeclaredUser, Offer, SectionRole, SectionRoles,
};
use sablier_domain::incident::{IncidentCommand, PauseReason};
use sablier_domain::order::{Civility, OrderCommand, OrderContact, PlaceOrder, ServiceItemId};
use sablier_domain::services::{DomainSettings, StaticPolicyBook};
use sablier_domain::text::{
    AssetRef, Email, FreeText, IncidentComment, Login, Name, PhoneNumber, Title,
};
use sablier_domain::{
    Actor, ActorRole, Authored, ChangeId, Channel, Clock, CommandContext, ContractId, IncidentId,
    OrderId, SystemClock,
};
use sablier_sla::{Priority, Tier};
use sablier_store::{Database, Engine, EventLog, ports};

pub struct Workload {
    engine: Engine,
    /// What the commands' events are stamped with: the day expert time is logged for.
    clock: Arc<dyn Clock>,
    contracts: Vec<ContractId>,
    step: usize,
}

pub fn actor(login: &str, role: ActorRole) -> (Actor, CommandContext) {
    let actor = Actor::new(Login::parse(login).unwrap(), role);
    let context = CommandContext::new(
        actor.clone(),
        Channel::Api,
        format!("workload-{}", uuid_like()),
    );
    (actor, context)
}

fn uuid_like() -> u64 {
    rand::thread_rng().r#gen()
}

fn text(value: &str) -> FreeText {
    FreeText::parse(value).unwrap()
}

impl Workload {
    /// Three contracts (Gold, Silver, Standard) with fresh numbers.
    pub async fn start(database: &Database) -> Self {
        Self::start_with_clock(database, Arc::new(SystemClock)).await
    }

    /// As [`Workload::start`], every event stamped by `clock`.
    pub async fn start_with_clock(database: &Database, clock: Arc<dyn Clock>) -> Self {
        let log = EventLog::new(database.clone());
        let services = ports::services(
            &log,
            clock.clone(),
            Arc::new(StaticPolicyBook::default()),
            DomainSettings::default(),
        );
        let engine = Engine::new(log, services);
        let mut contracts = Vec::new();
        for (index, tier) in [Tier::Gold, Tier::Silver, Tier::Standard]
            .into_iter()
            .enumerate()
        {
            let id = ContractId::parse(format!(
                "OCB{:07}",
                rand::thread_rng().gen_range(0..9_000_000) + index
            ))
            .unwrap();
            let (admin, context) = actor("sablier.admin", ActorRole::Admin);
            let referent = format!("referent{}{}", index, uuid_like() % 100_000);
            let create = ContractCommand::CreateContract {
                contract_id: id.clone(),
                name: Title::parse(format!("SI_{index}")).unwrap(),
                offer: Offer::FlexibleComputingAdvanced,
                company: Name::parse("ACME").unwrap(),
                time_zone: Paris,
                tier,
                referent: DeclaredUser {
                    login: Login::parse(&referent).unwrap(),
                    email: Email::parse(format!("{referent}@example.fr")).unwrap(),
                    first_name: Name::parse("Jean").unwrap(),
                    last_name: Name::parse("Dupont").unwrap(),
                },
            };
            engine
                .contracts
                .execute(id.as_str(), Authored::new(admin, create), &context)
                .await
                .unwrap();
            contracts.push(id);
        }
        Self {
            engine,
            clock,
            contracts,
            step: 0,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn contract(&self, index: usize) -> ContractId {
        self.contracts[index].clone()
    }

    /// One burst of commands: an incident walked part way (a restored one is closed,
    /// reopened or commented on), by turns a change, an order, a user or a tier change
    /// (changes and orders walked to completion, a quote, a cancellation and so on), and
    /// expert time logged on the contract.
    pub async fn burst(&mut self) {
        self.step += 1;
        let contract = self.contracts[self.step % self.contracts.len()].clone();
        self.walk_incident(&contract).await;
        // Turns of each kind are numbered by `turn`; 5 (prime to the 3 contracts) outcomes
        // for changes and orders give every contract every outcome.
        let turn = self.step / 4;
        match self.step % 4 {
            0 => self.walk_change(&contract, turn).await,
            1 => self.walk_order(&contract, turn).await,
            2 => self.manage_user(&contract, turn).await,
            _ => self.change_tier().await,
        }
        self.log_expert_time(&contract).await;
    }

    async fn walk_incident(&self, contract: &ContractId) {
        let agent = actor("agent.martin", ActorRole::Agent);
        let customer = actor("jean.dupont", ActorRole::Customer);
        let id = IncidentId::generate();
        let priority = [Priority::P1, Priority::P2, Priority::P3, Priority::P4][self.step % 4];
        let open = IncidentCommand::Open {
            incident_id: id.clone(),
            contract_id: contract.clone(),
            priority,
            title: Title::parse(format!("Incident {}", self.step)).unwrap(),
            description: text("Something broke"),
        };
        let mut steps = vec![
            (&customer, open),
            (&agent, IncidentCommand::StartIntervention),
            (
                &agent,
                IncidentCommand::AwaitCustomer {
                    reason: PauseReason::awaiting_customer(),
                },
            ),
            (&customer, IncidentCommand::RecordCustomerResponse),
            (
                &agent,
                IncidentCommand::ChangePriority {
                    to: if priority == Priority::P1 {
                        Priority::P2
                    } else {
                        Priority::P1
                    },
                    reason: text("reassessed"),
                },
            ),
            (
                &agent,
                IncidentCommand::ShareDiagnosis {
                    diagnosis: text("found it"),
                },
            ),
            (
                &agent,
                IncidentCommand::Restore {
                    resolution: text("fixed it"),
                },
            ),
        ];
        let keep = 2 + self.step % 6;
        let restored = keep == steps.len();
        steps.truncate(keep);
        if restored {
            match (self.step / 6) % 3 {
                0 => steps.push((&customer, IncidentCommand::Close)),
                1 => steps.extend([
                    (
                        &customer,
                        IncidentCommand::Reopen {
                            reason: text("broke again"),
                        },
                    ),
                    (
                        &agent,
                        IncidentCommand::Restore {
                            resolution: text("fixed it for good"),
                        },
                    ),
                    (&customer, IncidentCommand::Close),
                ]),
                _ => steps.push((
                    &customer,
                    IncidentCommand::AddComment {
                        text: IncidentComment::parse("Thanks, works again").unwrap(),
                    },
                )),
            }
        }
        for ((by, context), command) in steps {
            self.engine
                .incidents
                .execute(id.as_str(), Authored::new(by.clone(), command), context)
                .await
                .unwrap();
        }
    }

    /// A change on `contract`: done at the catalogue price, quoted and done, left in
    /// progress, quoted and declined, or drafted, submitted, then cancelled or rejected.
    async fn walk_change(&self, contract: &ContractId, turn: usize) {
        let agent = actor("agent.martin", ActorRole::Agent);
        let customer = actor("jean.dupont", ActorRole::Customer);
        let id = ChangeId::generate();
        let outcome = turn % 5;
        let form = if outcome == 1 || outcome == 3 {
            change_form(ON_STUDY, LeadTime::Standard)
        } else {
            change_form(AT_CATALOGUE_PRICE, LeadTime::Urgent)
        };
        let quote = || ChangeCommand::Quote {
            amount_cents: Cents::parse("amount_cents", 32_000).unwrap(),
            note: Some(text("two days of study")),
        };
        let done = || ChangeCommand::Complete {
            note: Some(text("done")),
        };
        let mut steps = if outcome == 4 {
            vec![
                (
                    &customer,
                    ChangeCommand::SaveDraft {
                        change_id: id.clone(),
                        contract: contract.clone(),
                        form,
                    },
                ),
                (&customer, ChangeCommand::SubmitDraft),
            ]
        } else {
            vec![(
                &customer,
                ChangeCommand::Submit {
                    change_id: id.clone(),
                    contract: contract.clone(),
                    form,
                },
            )]
        };
        match outcome {
            0 => steps.extend([(&agent, ChangeCommand::Start), (&agent, done())]),
            1 => steps.extend([
                (&agent, quote()),
                (&customer, ChangeCommand::AcceptQuote),
                (&agent, ChangeCommand::Start),
                (&agent, done()),
            ]),
            2 => steps.push((&agent, ChangeCommand::Start)),
            3 => steps.extend([
                (&agent, quote()),
                (
                    &customer,
                    ChangeCommand::DeclineQuote {
                        reason: Some(text("too expensive")),
                    },
                ),
            ]),
            _ if turn.is_multiple_of(2) => {
                steps.push((&customer, ChangeCommand::Cancel { reason: None }));
            }
            _ => steps.push((
                &agent,
                ChangeCommand::Reject {
                    reason: text("not on this asset"),
                },
            )),
        }
        for ((by, context), command) in steps {
            self.engine
                .changes
                .execute(id.as_str(), Authored::new(by.clone(), command), context)
                .await
                .unwrap();
        }
    }

    /// An order on `contract`: delivered at its price, quoted and delivered, left as
    /// placed, quoted and declined, or started and cancelled.
    async fn walk_order(&self, contract: &ContractId, turn: usize) {
        let agent = actor("agent.martin", ActorRole::Agent);
        let customer = actor("jean.dupont", ActorRole::Customer);
        let id = OrderId::generate();
        let outcome = turn % 5;
        let item = match outcome {
            0 | 2 => "pack-expert-4h",
            1 => "prestation-sur-mesure",
            3 => "prestation-migration",
            _ => "pack-formation-api",
        };
        let place = OrderCommand::PlaceOrder(PlaceOrder {
            order_id: id.clone(),
            contract: contract.clone(),
            item: ServiceItemId::parse(item).unwrap(),
            contact: OrderContact {
                civility: Civility::Ms,
                last_name: Name::parse("Moreau").unwrap(),
                first_name: Name::parse("Claire").unwrap(),
                email: Email::parse("claire.moreau@example.fr").unwrap(),
                landline: Some(PhoneNumber::parse("01 23 45 67 89").unwrap()),
                mobile: None,
            },
            comments: None,
        });
        let quote = || OrderCommand::Quote {
            amount_cents: Cents::parse("amount_cents", 120_000).unwrap(),
            note: None,
        };
        let delivered = || OrderCommand::Complete {
            note: Some(text("delivered")),
        };
        let mut steps = vec![(&customer, place)];
        match outcome {
            0 => steps.extend([(&agent, OrderCommand::Start), (&agent, delivered())]),
            1 => steps.extend([
                (&agent, quote()),
                (&customer, OrderCommand::AcceptQuote),
                (&agent, OrderCommand::Start),
                (&agent, delivered()),
            ]),
            2 => {}
            3 => steps.extend([
                (&agent, quote()),
                (&customer, OrderCommand::DeclineQuote { reason: None }),
            ]),
            _ => steps.extend([
                (&agent, OrderCommand::Start),
                (
                    &agent,
                    OrderCommand::Cancel {
                        reason: text("asked by the customer"),
                    },
                ),
            ]),
        }
        for ((by, context), command) in steps {
            self.engine
                .orders
                .execute(id.as_str(), Authored::new(by.clone(), command), context)
                .await
                .unwrap();
        }
    }

    /// A user declared on `contract`; by turns, given other roles, removed, or both.
    async fn manage_user(&self, contract: &ContractId, turn: usize) {
        let (admin, admin_context) = actor("sablier.admin", ActorRole::Admin);
        // Zero-padded: a login has at least 8 characters.
        let login =
            Login::parse(format!("user{:04}{:05}", self.step, uuid_like() % 100_000)).unwrap();
        let mut steps = vec![ContractCommand::DeclareUser(DeclareUser {
            login: login.clone(),
            email: Email::parse(format!("{login}@example.fr")).unwrap(),
            first_name: Name::parse("Paul").unwrap(),
            last_name: Name::parse("Martin").unwrap(),
            roles: SectionRoles::uniform(SectionRole::Visitor),
        })];
        if turn % 2 == 1 {
            steps.push(ContractCommand::ChangeUserRoles {
                login: login.clone(),
                roles: SectionRoles {
                    support: SectionRole::Manager,
                    ..SectionRoles::uniform(SectionRole::Visitor)
                },
            });
        }
        if turn % 4 >= 2 {
            steps.push(ContractCommand::RemoveUser { login });
        }
        for command in steps {
            self.engine
                .contracts
                .execute(
                    contract.as_str(),
                    Authored::new(admin.clone(), command),
                    &admin_context,
                )
                .await
                .unwrap();
        }
    }

    /// The Standard contract upgraded to Gold, or downgraded back, by turns.
    async fn change_tier(&self) {
        let standard = self.contracts[2].clone();
        let (admin, admin_context) = actor("sablier.admin", ActorRole::Admin);
        let command = if self.step % 8 == 3 {
            ContractCommand::UpgradeSupportTier { to: Tier::Gold }
        } else {
            ContractCommand::DowngradeSupportTier { to: Tier::Standard }
        };
        // Either may be refused (already Gold, or nothing to downgrade): both are fine.
        let _ = self
            .engine
            .contracts
            .execute(
                standard.as_str(),
                Authored::new(admin, command),
                &admin_context,
            )
            .await;
    }

    /// An expert's time on `contract` today: every burst adds to the month's used minutes.
    async fn log_expert_time(&self, contract: &ContractId) {
        let (expert, context) = actor("expert.durand", ActorRole::Agent);
        let log = ContractCommand::LogExpertTime {
            performed_on: self.clock.now().with_timezone(&Paris).date_naive(),
            minutes: [15, 30, 45, 60][self.step % 4],
            note: Some(text("architecture review")),
        };
        self.engine
            .contracts
            .execute(contract.as_str(), Authored::new(expert, log), &context)
            .await
            .unwrap();
    }
}

/// A change article with a catalogue price (catalogue, category, article).
const AT_CATALOGUE_PRICE: [&str; 3] = [
    "Catalogue de Changement Standard",
    "Quotas",
    "Modifier mes quotas",
];

/// A change article sold on study: priced by the quote the customer accepts.
const ON_STUDY: [&str; 3] = [
    "OCB - FE: Autres Demandes",
    "Autres Demandes",
    "Faire une demande sur étude",
];

/// A complete change form for the catalogue article named by `[catalogue, category,
/// article]`, on asset `vdc-01`.
fn change_form([catalogue, category, article]: [&str; 3], lead_time: LeadTime) -> ChangeForm {
    ChangeForm {
        asset: Some(AssetRef::parse("vdc-01").unwrap()),
        article: Some(ArticleRef {
            catalogue: Title::parse(catalogue).unwrap(),
            category: Title::parse(category).unwrap(),
            article: Title::parse(article).unwrap(),
        }),
        lead_time: Some(lead_time),
        ..ChangeForm::default()
    }
}
