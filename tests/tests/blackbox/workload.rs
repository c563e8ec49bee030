//! A stream of valid commands of every kind, written through the real command buses: the
//! traffic the projector tests run under.

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
use sablier_domain::text::{AssetRef, Email, FreeText, Login, Name, PhoneNumber, Title};
use sablier_domain::{
    Actor, ActorRole, Authored, ChangeId, Channel, Clock, CommandContext, ContractId, IncidentId,
    OrderId, SystemClock,
};
use sablier_sla::{Priority, Tier};
use sablier_store::{Database, Engine, EventLog, ports};

pub struct Workload {
    engine: Engine,
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
            clock,
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

    /// One burst of commands: an incident walked to restoration, and by turns a change, an
    /// order, a user or a tier change.
    pub async fn burst(&mut self) {
        self.step += 1;
        let contract = self.contracts[self.step % self.contracts.len()].clone();
        let (agent, agent_context) = actor("agent.martin", ActorRole::Agent);
        let (customer, customer_context) = actor("jean.dupont", ActorRole::Customer);
        let id = IncidentId::generate();
        let priority = [Priority::P1, Priority::P2, Priority::P3, Priority::P4][self.step % 4];
        let open = IncidentCommand::Open {
            incident_id: id.clone(),
            contract_id: contract.clone(),
            priority,
            title: Title::parse(format!("Incident {}", self.step)).unwrap(),
            description: text("Something broke"),
        };
        let incidents = &self.engine.incidents;
        incidents
            .execute(
                id.as_str(),
                Authored::new(customer.clone(), open),
                &customer_context,
            )
            .await
            .unwrap();
        let steps = [
            (agent.clone(), IncidentCommand::StartIntervention),
            (
                agent.clone(),
                IncidentCommand::AwaitCustomer {
                    reason: PauseReason::awaiting_customer(),
                },
            ),
            (customer.clone(), IncidentCommand::RecordCustomerResponse),
            (
                agent.clone(),
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
                agent.clone(),
                IncidentCommand::ShareDiagnosis {
                    diagnosis: text("found it"),
                },
            ),
            (
                agent.clone(),
                IncidentCommand::Restore {
                    resolution: text("fixed it"),
                },
            ),
        ];
        let keep = 1 + self.step % steps.len();
        for (by, command) in steps.into_iter().take(keep) {
            let context = if by.role == ActorRole::Customer {
                &customer_context
            } else {
                &agent_context
            };
            incidents
                .execute(id.as_str(), Authored::new(by, command), context)
                .await
                .unwrap();
        }
        match self.step % 4 {
            0 => {
                let change = ChangeId::generate();
                let submit = ChangeCommand::Submit {
                    change_id: change.clone(),
                    contract: contract.clone(),
                    form: ChangeForm {
                        asset: Some(AssetRef::parse("vdc-01").unwrap()),
                        article: Some(ArticleRef {
                            catalogue: Title::parse("Catalogue de Changement Standard").unwrap(),
                            category: Title::parse("Quotas").unwrap(),
                            article: Title::parse("Modifier mes quotas").unwrap(),
                        }),
                        lead_time: Some(LeadTime::Urgent),
                        ..ChangeForm::default()
                    },
                };
                self.engine
                    .changes
                    .execute(
                        change.as_str(),
                        Authored::new(customer.clone(), submit),
                        &customer_context,
                    )
                    .await
                    .unwrap();
                self.engine
                    .changes
                    .execute(
                        change.as_str(),
                        Authored::new(agent.clone(), ChangeCommand::Start),
                        &agent_context,
                    )
                    .await
                    .unwrap();
            }
            1 => {
                let order = OrderId::generate();
                let place = OrderCommand::PlaceOrder(PlaceOrder {
                    order_id: order.clone(),
                    contract: contract.clone(),
                    item: ServiceItemId::parse("pack-expert-4h").unwrap(),
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
                self.engine
                    .orders
                    .execute(
                        order.as_str(),
                        Authored::new(customer.clone(), place),
                        &customer_context,
                    )
                    .await
                    .unwrap();
            }
            2 => {
                // Zero-padded: a login has at least 8 characters.
                let login = format!("user{:04}{:05}", self.step, uuid_like() % 100_000);
                let declare = ContractCommand::DeclareUser(DeclareUser {
                    login: Login::parse(&login).unwrap(),
                    email: Email::parse(format!("{login}@example.fr")).unwrap(),
                    first_name: Name::parse("Paul").unwrap(),
                    last_name: Name::parse("Martin").unwrap(),
                    roles: SectionRoles::uniform(SectionRole::Visitor),
                });
                let (admin, admin_context) = actor("sablier.admin", ActorRole::Admin);
                self.engine
                    .contracts
                    .execute(
                        contract.as_str(),
                        Authored::new(admin, declare),
                        &admin_context,
                    )
                    .await
                    .unwrap();
            }
            _ => {
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
        }
    }
}
