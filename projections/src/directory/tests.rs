//! The directory fed with events the contract aggregate really produces.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use sablier_domain::contract::{
    Contract, ContractCommand, DeclareUser, DeclaredUser, Offer, SectionRole, SectionRoles,
};
use sablier_domain::testing::{TestServices, contract_id, utc};
use sablier_domain::text::{Email, Login, Name, Title};
use sablier_domain::{Actor, ActorRole, Authored};
use sablier_sla::Tier;

use super::Directory;
use crate::event::DomainEvent;
use crate::testing::feed;

async fn contract_events(
    steps: Vec<(DateTime<Utc>, ActorRole, ContractCommand)>,
) -> Vec<(String, DomainEvent)> {
    let services = TestServices::at(steps[0].0);
    let mut contract = Contract::default();
    let mut events = Vec::new();
    for (at, role, command) in steps {
        services.clock.set(at);
        let by = Actor::new(Login::parse("sablier.admin").unwrap(), role);
        let sink = EventSink::default();
        contract
            .handle(Authored::new(by, command), &services.services, &sink)
            .await
            .expect("accepted");
        events.extend(
            sink.collect()
                .await
                .into_iter()
                .map(|e| (contract_id().to_string(), DomainEvent::Contract(e))),
        );
    }
    events
}

fn create(tier: Tier) -> ContractCommand {
    ContractCommand::CreateContract {
        contract_id: contract_id(),
        name: Title::parse("SI_Prod").unwrap(),
        offer: Offer::FlexibleEngine,
        company: Name::parse("ACME").unwrap(),
        time_zone: Paris,
        tier,
        referent: DeclaredUser {
            login: Login::parse("jean.dupont").unwrap(),
            email: Email::parse("jean.dupont@acme.fr").unwrap(),
            first_name: Name::parse("Jean").unwrap(),
            last_name: Name::parse("Dupont").unwrap(),
        },
    }
}

fn declare(login: &str, roles: SectionRoles) -> ContractCommand {
    ContractCommand::DeclareUser(DeclareUser {
        login: Login::parse(login).unwrap(),
        email: Email::parse(format!("{login}@acme.fr")).unwrap(),
        first_name: Name::parse("Claire").unwrap(),
        last_name: Name::parse("Moreau").unwrap(),
        roles,
    })
}

#[tokio::test]
async fn contracts_users_and_roles_follow_the_events() {
    let visitor = SectionRoles::uniform(SectionRole::Visitor);
    let support_manager = SectionRoles {
        support: SectionRole::Manager,
        ..visitor
    };
    let events = contract_events(vec![
        (
            utc(2026, 3, 2, 9, 0, 0),
            ActorRole::Admin,
            create(Tier::Silver),
        ),
        (
            utc(2026, 3, 2, 9, 5, 0),
            ActorRole::Admin,
            declare("claire.moreau", visitor),
        ),
        (
            utc(2026, 3, 2, 9, 6, 0),
            ActorRole::Admin,
            declare("paul.martin", visitor),
        ),
        (
            utc(2026, 3, 3, 10, 0, 0),
            ActorRole::Admin,
            ContractCommand::ChangeUserRoles {
                login: Login::parse("claire.moreau").unwrap(),
                roles: support_manager,
            },
        ),
        (
            utc(2026, 3, 4, 10, 0, 0),
            ActorRole::Admin,
            ContractCommand::RemoveUser {
                login: Login::parse("paul.martin").unwrap(),
            },
        ),
    ])
    .await;
    let (_db, reader) = feed(&Directory, events).await.unwrap();

    let contract = Directory::contract(&reader, "OCB0000124")
        .await
        .unwrap()
        .expect("listed");
    assert_eq!(
        (
            contract.name.as_str(),
            contract.offer.as_str(),
            contract.company.as_str(),
            contract.time_zone.as_str(),
            contract.referent.as_str()
        ),
        (
            "SI_Prod",
            "Flexible Engine",
            "ACME",
            "Europe/Paris",
            "jean.dupont"
        )
    );
    assert_eq!(contract.created_at, "2026-03-02T09:00:00Z");
    assert_eq!(contract.last_position, 5);

    let users = Directory::users(&reader, "OCB0000124").await.unwrap();
    let logins: Vec<&str> = users.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(
        logins,
        ["claire.moreau", "jean.dupont"],
        "paul.martin was removed"
    );
    assert_eq!(users[0].roles().unwrap(), support_manager);
    assert_eq!(
        users[1].roles().unwrap(),
        SectionRoles::all_managers(),
        "the referent manages everything"
    );

    let memberships = Directory::memberships(&reader, "claire.moreau")
        .await
        .unwrap();
    assert_eq!(memberships.len(), 1);
    assert!(
        Directory::memberships(&reader, "paul.martin")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        Directory::contract(&reader, "OCB9999999")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_tier_timeline_keeps_what_took_effect_and_what_is_scheduled() {
    // Silver from 2026-03-02; upgraded to Gold on 2026-03-10 (SLA at once, billed from
    // 1 April); downgrade to Bronze asked on 2026-03-20 (effective 1 April 00:00 Paris =
    // 2026-03-31T22:00Z, summer time); then a second downgrade to Standard on 2026-03-25
    // replaces it.
    let events = contract_events(vec![
        (
            utc(2026, 3, 2, 9, 0, 0),
            ActorRole::Admin,
            create(Tier::Silver),
        ),
        (
            utc(2026, 3, 10, 14, 0, 0),
            ActorRole::Admin,
            ContractCommand::UpgradeSupportTier { to: Tier::Gold },
        ),
        (
            utc(2026, 3, 20, 8, 0, 0),
            ActorRole::Agent,
            ContractCommand::DowngradeSupportTier { to: Tier::Bronze },
        ),
        (
            utc(2026, 3, 25, 8, 0, 0),
            ActorRole::Agent,
            ContractCommand::DowngradeSupportTier { to: Tier::Standard },
        ),
    ])
    .await;
    let (_db, reader) = feed(&Directory, events).await.unwrap();
    let timeline: Vec<(String, String, String, String)> = Directory::tiers(&reader, "OCB0000124")
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.effective_at, t.tier, t.change, t.billing_effective_on))
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())
    };
    assert_eq!(
        timeline,
        vec![
            row("2026-03-02T09:00:00Z", "Silver", "created", "2026-03-02"),
            row("2026-03-10T14:00:00Z", "Gold", "upgrade", "2026-04-01"),
            row(
                "2026-03-31T22:00:00Z",
                "Standard",
                "downgrade",
                "2026-04-01"
            ),
        ]
    );
}

#[tokio::test]
async fn an_upgrade_cancels_a_pending_downgrade_in_the_timeline() {
    let events = contract_events(vec![
        (
            utc(2026, 3, 2, 9, 0, 0),
            ActorRole::Admin,
            create(Tier::Silver),
        ),
        (
            utc(2026, 3, 20, 8, 0, 0),
            ActorRole::Agent,
            ContractCommand::DowngradeSupportTier { to: Tier::Bronze },
        ),
        (
            utc(2026, 3, 21, 8, 0, 0),
            ActorRole::Admin,
            ContractCommand::UpgradeSupportTier { to: Tier::Gold },
        ),
    ])
    .await;
    let (db, reader) = feed(&Directory, events).await.unwrap();
    let tiers: Vec<String> = Directory::tiers(&reader, "OCB0000124")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.tier)
        .collect();
    assert_eq!(tiers, ["Silver", "Gold"]);

    let mut tx = crate::sql::begin(&db.database).await.unwrap();
    crate::projection::Projection::reset(&Directory, &mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(Directory::contracts(&reader).await.unwrap().is_empty());
    assert!(
        Directory::tiers(&reader, "OCB0000124")
            .await
            .unwrap()
            .is_empty()
    );
}
