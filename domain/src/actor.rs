//! Who issues a command, through what, and on whose behalf: the audit facts every event
//! records in its metadata.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::text::Login;

/// The kind of person (or process) behind a command. Customer section rights are checked
/// by the API before a command reaches an aggregate; the aggregate checks what only the
/// kind of actor decides (staff-only commands, read-only analysts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    Customer,
    Agent,
    Analyst,
    Admin,
    /// Sablier itself (demo data, imports).
    System,
}

impl ActorRole {
    /// Every role, in the order the API lists them.
    pub const ALL: [ActorRole; 5] = [
        ActorRole::Customer,
        ActorRole::Agent,
        ActorRole::Analyst,
        ActorRole::Admin,
        ActorRole::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorRole::Customer => "customer",
            ActorRole::Agent => "agent",
            ActorRole::Analyst => "analyst",
            ActorRole::Admin => "admin",
            ActorRole::System => "system",
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(
            self,
            ActorRole::Agent | ActorRole::Admin | ActorRole::System
        )
    }

    /// Refuses analysts, who are read-only everywhere.
    pub fn refuse_analyst(self, action: &'static str) -> Result<(), Forbidden> {
        self.require(self != ActorRole::Analyst, action)
    }

    /// Agents, admins and Sablier itself.
    pub fn staff_only(self, action: &'static str) -> Result<(), Forbidden> {
        self.require(self.is_staff(), action)
    }

    /// Administrators, and Sablier itself replaying what they did (imports).
    pub fn admin_only(self, action: &'static str) -> Result<(), Forbidden> {
        self.require(matches!(self, ActorRole::Admin | ActorRole::System), action)
    }

    /// Customers, and Sablier itself replaying what customers did (imports, demo data).
    pub fn customer_only(self, action: &'static str) -> Result<(), Forbidden> {
        self.require(
            matches!(self, ActorRole::Customer | ActorRole::System),
            action,
        )
    }

    fn require(self, allowed: bool, action: &'static str) -> Result<(), Forbidden> {
        if allowed {
            Ok(())
        } else {
            Err(Forbidden { role: self, action })
        }
    }
}

/// A command the actor's role may not issue; each aggregate's error turns it into its
/// `NotPermitted` variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forbidden {
    pub role: ActorRole,
    pub action: &'static str,
}

impl fmt::Display for ActorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no actor role.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown actor role '{value}'")]
pub struct UnknownRole {
    pub value: String,
}

impl FromStr for ActorRole {
    type Err = UnknownRole;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| UnknownRole {
                value: value.to_owned(),
            })
    }
}

/// The channel a command came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Portal,
    Phone,
    Api,
    Cli,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Phone => "phone",
            Channel::Api => "api",
            Channel::Cli => "cli",
        }
    }
}

/// The authenticated author of a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub login: Login,
    pub role: ActorRole,
}

impl Actor {
    pub fn new(login: Login, role: ActorRole) -> Self {
        Self { login, role }
    }

    /// The actor Sablier uses for its own writes (demo, import).
    pub fn system() -> Self {
        Self {
            login: Login::parse("sablier.system").expect("a valid login"),
            role: ActorRole::System,
        }
    }
}

/// Everything about a command that is not the command itself: stored as each event's
/// metadata (cqrs-es envelopes carry a string map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandContext {
    pub actor: Actor,
    pub on_behalf_of: Option<Login>,
    pub channel: Channel,
    pub request_id: String,
}

impl CommandContext {
    pub fn new(actor: Actor, channel: Channel, request_id: impl Into<String>) -> Self {
        Self {
            actor,
            on_behalf_of: None,
            channel,
            request_id: request_id.into(),
        }
    }

    pub fn on_behalf_of(mut self, login: Login) -> Self {
        self.on_behalf_of = Some(login);
        self
    }

    pub fn to_metadata(&self) -> HashMap<String, String> {
        let mut metadata = HashMap::from([
            ("actor".to_owned(), self.actor.login.to_string()),
            ("actor_role".to_owned(), self.actor.role.as_str().to_owned()),
            ("channel".to_owned(), self.channel.as_str().to_owned()),
            ("request_id".to_owned(), self.request_id.clone()),
        ]);
        if let Some(on_behalf_of) = &self.on_behalf_of {
            metadata.insert("on_behalf_of".to_owned(), on_behalf_of.to_string());
        }
        metadata
    }
}

/// A command together with its author: the `Command` type of every Sablier aggregate.
#[derive(Clone, Debug, PartialEq)]
pub struct Authored<C> {
    pub by: Actor,
    pub command: C,
}

impl<C> Authored<C> {
    pub fn new(by: Actor, command: C) -> Self {
        Self { by, command }
    }
}
