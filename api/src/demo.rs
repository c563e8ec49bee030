//! `sablier demo`: writes a small but complete story on the database, through the same
//! command buses the server uses, then prints every event it wrote as JSON lines.
//!
//! The story is timed in the recent past (it starts eight hours ago, on a clock the demo
//! advances step by step), so its SLA clocks read like a real day's work. Contract numbers
//! are drawn at random, so the demo can run again on the same database.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use chrono::{Duration, SubsecRound, Utc};
use chrono_tz::Europe::Paris;
use futures::TryStreamExt;
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
    Actor, ActorRole, Authored, ChangeId, Channel, CommandContext, ContractId, FixedClock,
    IncidentId, OrderId,
};
use sablier_sla::{Priority, Tier};
use sablier_store::{Database, Engine, EventLog, FeedFilter, ports};

pub async fn run(database: &Database) -> anyhow::Result<()> {
    let log = EventLog::new(database.clone());
    let (start_position, _) = log.head().await?;
    let clock = FixedClock::at(Utc::now().trunc_subsecs(0) - Duration::hours(8));
    let services = ports::services(
        &log,
        Arc::new(clock.clone()),
        Arc::new(StaticPolicyBook::default()),
        DomainSettings::default(),
    );
    let engine = Engine::new(log.clone(), services);
    let story = Story::new(&engine, &clock);
    story.play().await?;

    let mut stdout = std::io::stdout().lock();
    let mut events = std::pin::pin!(log.stream_after(start_position, FeedFilter::all()));
    while let Some(event) = events.try_next().await? {
        let line = serde_json::json!({
            "position": event.position,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "sequence": event.sequence,
            "event_type": event.event_type,
            "event_version": event.event_version,
            "payload": event.payload_json()?,
            "metadata": serde_json::from_str::<serde_json::Value>(&event.metadata)?,
            "hash": event.hash,
        });
        writeln!(stdout, "{line}")?;
    }
    Ok(())
}

struct Story<'a> {
    engine: &'a Engine,
    clock: &'a FixedClock,
    admin: Actor,
    agent: Actor,
    customer: Actor,
}

fn parse<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, E>,
) -> anyhow::Result<T> {
    result.context("demo data is invalid")
}

fn random_contract_id() -> anyhow::Result<ContractId> {
    let number: u32 = rand::thread_rng().gen_range(1_000_000..10_000_000);
    parse(ContractId::parse(format!("OCB{number:07}")))
}

impl<'a> Story<'a> {
    fn new(engine: &'a Engine, clock: &'a FixedClock) -> Self {
        let actor =
            |login: &str, role| Actor::new(Login::parse(login).expect("a valid demo login"), role);
        Self {
            engine,
            clock,
            admin: actor("sablier.admin", ActorRole::Admin),
            agent: actor("agent.martin", ActorRole::Agent),
            customer: actor("jean.dupont", ActorRole::Customer),
        }
    }

    fn context(&self, actor: &Actor, channel: Channel) -> CommandContext {
        CommandContext::new(
            actor.clone(),
            channel,
            format!("demo-{}", uuid::Uuid::now_v7()),
        )
    }

    fn later(&self, minutes: i64) {
        self.clock.advance(Duration::minutes(minutes));
    }

    async fn create_contract(
        &self,
        name: &str,
        tier: Tier,
        referent: &Actor,
    ) -> anyhow::Result<ContractId> {
        let contract_id = random_contract_id()?;
        let login = referent.login.as_str();
        let command = ContractCommand::CreateContract {
            contract_id: contract_id.clone(),
            name: parse(Title::parse(name))?,
            offer: Offer::FlexibleComputingAdvanced,
            company: parse(Name::parse("Société Démo SA"))?,
            time_zone: Paris,
            tier,
            referent: DeclaredUser {
                login: referent.login.clone(),
                email: parse(Email::parse(format!("{login}@demo.example")))?,
                first_name: parse(Name::parse("Jean"))?,
                last_name: parse(Name::parse("Dupont"))?,
            },
        };
        self.engine
            .contracts
            .execute(
                contract_id.as_str(),
                Authored::new(self.admin.clone(), command),
                &self.context(&self.admin, Channel::Cli),
            )
            .await?;
        Ok(contract_id)
    }

    async fn play(&self) -> anyhow::Result<()> {
        let gold = self
            .create_contract("SI_Prod", Tier::Gold, &self.customer)
            .await?;
        let visitor = ContractCommand::DeclareUser(DeclareUser {
            login: parse(Login::parse("claire.moreau"))?,
            email: parse(Email::parse("claire.moreau@demo.example"))?,
            first_name: parse(Name::parse("Claire"))?,
            last_name: parse(Name::parse("Moreau"))?,
            roles: SectionRoles {
                support: SectionRole::Manager,
                ..SectionRoles::uniform(SectionRole::Visitor)
            },
        });
        self.contract(&gold, &self.customer, visitor).await?;

        self.incident_walked_to_restoration(&gold).await?;
        self.change_submitted(&gold).await?;
        self.order_placed(&gold).await?;

        let standard = self
            .create_contract("SI_Recette", Tier::Standard, &self.customer)
            .await?;
        self.later(5);
        self.contract(
            &standard,
            &self.customer,
            ContractCommand::UpgradeSupportTier { to: Tier::Silver },
        )
        .await?;
        Ok(())
    }

    async fn contract(
        &self,
        id: &ContractId,
        by: &Actor,
        command: ContractCommand,
    ) -> anyhow::Result<()> {
        self.engine
            .contracts
            .execute(
                id.as_str(),
                Authored::new(by.clone(), command),
                &self.context(by, Channel::Portal),
            )
            .await?;
        Ok(())
    }

    async fn incident(
        &self,
        id: &IncidentId,
        by: &Actor,
        command: IncidentCommand,
    ) -> anyhow::Result<()> {
        let channel = if by.role == ActorRole::Customer {
            Channel::Portal
        } else {
            Channel::Api
        };
        self.engine
            .incidents
            .execute(
                id.as_str(),
                Authored::new(by.clone(), command),
                &self.context(by, channel),
            )
            .await?;
        Ok(())
    }

    async fn incident_walked_to_restoration(&self, contract: &ContractId) -> anyhow::Result<()> {
        let id = IncidentId::generate();
        let text = |value: &str| parse(FreeText::parse(value));
        self.later(10);
        let open = IncidentCommand::Open {
            incident_id: id.clone(),
            contract_id: contract.clone(),
            priority: Priority::P1,
            title: parse(Title::parse("Production VMs unreachable"))?,
            description: text("All VMs of the vDC SI_Prod stopped answering at 09:00.")?,
        };
        self.incident(&id, &self.customer, open).await?;
        self.later(12);
        self.incident(&id, &self.agent, IncidentCommand::StartIntervention)
            .await?;
        self.later(20);
        let reason = PauseReason::awaiting_customer();
        self.incident(&id, &self.agent, IncidentCommand::AwaitCustomer { reason })
            .await?;
        self.later(25);
        self.incident(&id, &self.customer, IncidentCommand::RecordCustomerResponse)
            .await?;
        self.later(40);
        let diagnosis = text("A storage controller failed over and left the datastore read-only.")?;
        self.incident(
            &id,
            &self.agent,
            IncidentCommand::ShareDiagnosis { diagnosis },
        )
        .await?;
        self.later(75);
        let resolution = text("Datastore remounted read-write; VMs restarted.")?;
        self.incident(&id, &self.agent, IncidentCommand::Restore { resolution })
            .await?;
        Ok(())
    }

    async fn change_submitted(&self, contract: &ContractId) -> anyhow::Result<()> {
        self.later(30);
        let id = ChangeId::generate();
        let submit = ChangeCommand::Submit {
            change_id: id.clone(),
            contract: contract.clone(),
            form: ChangeForm {
                asset: Some(parse(AssetRef::parse("vdc-si-prod-01"))?),
                article: Some(ArticleRef {
                    catalogue: parse(Title::parse("Catalogue de Changement Standard"))?,
                    category: parse(Title::parse("Quotas"))?,
                    article: parse(Title::parse("Modifier mes quotas"))?,
                }),
                lead_time: Some(LeadTime::Standard),
                ..ChangeForm::default()
            },
        };
        self.engine
            .changes
            .execute(
                id.as_str(),
                Authored::new(self.customer.clone(), submit),
                &self.context(&self.customer, Channel::Portal),
            )
            .await?;
        Ok(())
    }

    async fn order_placed(&self, contract: &ContractId) -> anyhow::Result<()> {
        self.later(15);
        let id = OrderId::generate();
        let place = OrderCommand::PlaceOrder(PlaceOrder {
            order_id: id.clone(),
            contract: contract.clone(),
            item: parse(ServiceItemId::parse("pack-expert-4h"))?,
            contact: OrderContact {
                civility: Civility::Mr,
                last_name: parse(Name::parse("Dupont"))?,
                first_name: parse(Name::parse("Jean"))?,
                email: parse(Email::parse("jean.dupont@demo.example"))?,
                landline: None,
                mobile: Some(parse(PhoneNumber::parse("+33 6 12 34 56 78"))?),
            },
            comments: None,
        });
        self.engine
            .orders
            .execute(
                id.as_str(),
                Authored::new(self.customer.clone(), place),
                &self.context(&self.customer, Channel::Portal),
            )
            .await?;
        Ok(())
    }
}
