//! The service catalogue: what a customer may order from the portal, at which price.
//! Configuration, not code: [`ServiceCatalogue::default`] holds the items of seed 003, and
//! the whole list (de)serializes so a deployment may load its own.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::{FreeText, InvalidField, Title};

/// A catalogue item's stable id: 1 to 64 lower-case ASCII letters, digits and `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceItemId(String);

impl ServiceItemId {
    pub const MAX_CHARS: usize = 64;
    /// The id as the API's document states it, a JSON-Schema pattern: it starts with a
    /// letter or a digit, as every catalogue id does. [`ServiceItemId::parse`] also takes
    /// a leading `-`.
    pub const PATTERN: &'static str = "^[a-z0-9][a-z0-9-]*$";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        let valid = (1..=Self::MAX_CHARS).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(InvalidField::new(
                "item",
                format!("must be 1 to 64 lower-case letters, digits or '-' (got '{value}')"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A catalogue category (`FORMATION`, `MIGRATION`, `EXPERTISE`, `LOGICIEL`, ...): 1 to 32
/// upper-case ASCII letters, digits and `_`. Open-ended: categories are configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceCategory(String);

impl ServiceCategory {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, InvalidField> {
        let value = value.as_ref().trim();
        let valid = (1..=32).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(InvalidField::new(
                "category",
                format!("must be 1 to 32 upper-case letters, digits or '_' (got '{value}')"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A catalogue price: fixed, in euro cents excluding tax, or set by a quote ("sur devis").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Price {
    Fixed { cents_excl_tax: u64 },
    OnQuote,
}

impl Price {
    pub fn euros(euros: u64) -> Self {
        Price::Fixed {
            cents_excl_tax: euros * 100,
        }
    }

    pub fn is_on_quote(self) -> bool {
        self == Price::OnQuote
    }
}

/// One orderable service. Orders keep a copy of the item as it was when placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceItem {
    pub id: ServiceItemId,
    pub name: Title,
    pub category: ServiceCategory,
    pub description: FreeText,
    pub price: Price,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceCatalogue {
    items: Vec<ServiceItem>,
}

impl ServiceCatalogue {
    pub fn new(items: Vec<ServiceItem>) -> Self {
        Self { items }
    }

    pub fn items(&self) -> &[ServiceItem] {
        &self.items
    }

    pub fn item(&self, id: &ServiceItemId) -> Option<&ServiceItem> {
        self.items.iter().find(|item| &item.id == id)
    }
}

/// The Flexible Computing Advanced catalogue of seed 003 (figure 13): id, name, category,
/// description, and the price in euros excluding tax (`None`: on quote).
const SEED_003: [(&str, &str, &str, &str, Option<u64>); 12] = [
    (
        "pack-formation-vcloud-director",
        "Pack Formation vCloud Director",
        "FORMATION",
        "Vous former à l'administration de votre solution Cloud computing et \
                 bénéficier de premiers conseils de mise en œuvre",
        Some(600),
    ),
    (
        "prestation-migration",
        "Prestation de migration",
        "MIGRATION",
        "Assurer le succès de la migration dans votre solution Cloud Computing grâce \
                 aux conseils et savoir-faire de nos experts migration",
        None,
    ),
    (
        "pack-expert-4h",
        "Pack Expert 4H",
        "EXPERTISE",
        "Bénéficier des conseils et recommandations d'un expert pour vous aider à \
                 maîtriser votre solution et optimiser votre projet",
        Some(450),
    ),
    (
        "pack-formation-api",
        "Pack Formation API",
        "FORMATION",
        "Vous former à l'utilisation de l'API de votre solution Cloud computing",
        Some(400),
    ),
    (
        "prestation-sur-mesure",
        "Prestation sur mesure",
        "EXPERTISE",
        "Bénéficier d'une prestation d'expertise ou de conseil sur mesure pour vous \
                 accompagner dans votre projet Cloud",
        None,
    ),
    (
        "pack-expert-8h",
        "Pack Expert 8H",
        "EXPERTISE",
        "Bénéficier des conseils et recommandations d'un expert pour vous aider à \
                 maîtriser votre solution et optimiser votre projet",
        Some(800),
    ),
    (
        "pack-logiciel-wamp",
        "Pack logiciel WAMP",
        "LOGICIEL",
        "Disposer d'un serveur virtuel WAMP prêt à l'emploi",
        Some(300),
    ),
    (
        "pack-logiciel-proxy-squid",
        "Pack logiciel Proxy Squid",
        "LOGICIEL",
        "Disposer d'un serveur virtuel Proxy prêt à l'emploi pour contrôler les \
                 connexions sortantes de votre solution Cloud Computing vers Internet",
        Some(1_000),
    ),
    (
        "pack-logiciel-reverse-proxy-nginx",
        "Pack logiciel Reverse-Proxy Nginx",
        "LOGICIEL",
        "Disposer d'un serveur virtuel Reverse-Proxy prêt à l'emploi pour contrôler \
                 les connexions entrantes d'Internet vers votre solution Cloud Computing",
        Some(1_000),
    ),
    (
        "pack-logiciel-openvpn",
        "Pack logiciel OpenVPN",
        "LOGICIEL",
        "Disposer d'un serveur virtuel OpenVPN prêt à l'emploi pour sécuriser les \
                 connexions entre l'un de vos sites et votre solution Cloud Computing",
        Some(1_000),
    ),
    (
        "pack-logiciel-owncloud",
        "Pack logiciel OwnCloud",
        "LOGICIEL",
        "Disposer d'un serveur virtuel OwnCloud prêt à l'emploi pour partager et \
                 synchroniser des documents entre vos utilisateurs",
        Some(550),
    ),
    (
        "pack-logiciel-lamp",
        "Pack logiciel LAMP",
        "LOGICIEL",
        "Disposer d'un serveur virtuel LAMP prêt à l'emploi",
        Some(300),
    ),
];

impl Default for ServiceCatalogue {
    fn default() -> Self {
        Self::new(
            SEED_003
                .iter()
                .map(|&(id, name, category, description, euros)| ServiceItem {
                    id: ServiceItemId::parse(id).expect("a valid default item id"),
                    name: Title::parse(name).expect("a valid default item name"),
                    category: ServiceCategory::parse(category).expect("a valid default category"),
                    description: FreeText::parse(description).expect("a valid default description"),
                    price: euros.map_or(Price::OnQuote, Price::euros),
                })
                .collect(),
        )
    }
}
