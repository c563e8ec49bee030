//! The change catalogue: which articles a customer may request, under which catalogue and
//! category, with which lead times, whether they need a study (a quote) first, and their
//! price when billable. Configuration, not code: [`ChangeCatalogue::default`] is the
//! default of docs/domain.md ("Default change catalogue"), and the whole tree
//! (de)serializes so a deployment may load its own.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::Title;

/// The delivery lead time a customer asks for (délai de réalisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadTime {
    Standard,
    Urgent,
}

impl LeadTime {
    pub const ALL: [LeadTime; 2] = [LeadTime::Standard, LeadTime::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadTime::Standard => "standard",
            LeadTime::Urgent => "urgent",
        }
    }
}

impl fmt::Display for LeadTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The article a change asks for, named by its catalogue, category and article names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArticleRef {
    pub catalogue: Title,
    pub category: Title,
    pub article: Title,
}

/// One lead time an article offers, and how many business days it gives staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadTimeOffer {
    pub lead_time: LeadTime,
    pub business_days: u32,
}

impl LeadTimeOffer {
    /// `standard`: 5 business days (docs/domain.md "Submission").
    pub const STANDARD: LeadTimeOffer = LeadTimeOffer {
        lead_time: LeadTime::Standard,
        business_days: 5,
    };
    /// `urgent`: 1 business day (docs/domain.md "Submission").
    pub const URGENT: LeadTimeOffer = LeadTimeOffer {
        lead_time: LeadTime::Urgent,
        business_days: 1,
    };
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub name: Title,
    /// Staff must quote, and the customer accept the quote, before work starts.
    pub requires_study: bool,
    /// The lead times a customer may choose, at least one.
    pub lead_times: Vec<LeadTimeOffer>,
    /// Price in euro cents excluding tax when the change is billable (beyond the month's
    /// free changes). `None`: no catalogue price (a study article is priced by its quote).
    pub price_cents: Option<u64>,
}

impl Article {
    pub fn lead_time(&self, lead_time: LeadTime) -> Option<LeadTimeOffer> {
        self.lead_times
            .iter()
            .copied()
            .find(|offer| offer.lead_time == lead_time)
    }

    pub fn offered_lead_times(&self) -> Vec<LeadTime> {
        self.lead_times
            .iter()
            .map(|offer| offer.lead_time)
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub name: Title,
    pub articles: Vec<Article>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub name: Title,
    pub categories: Vec<Category>,
}

/// Which level of an [`ArticleRef`] the catalogue does not know, as the API names the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotInCatalogue {
    pub field: &'static str,
    pub name: Title,
}

/// Every change catalogue offered to customers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChangeCatalogue {
    catalogues: Vec<Catalogue>,
}

impl ChangeCatalogue {
    pub fn new(catalogues: Vec<Catalogue>) -> Self {
        Self { catalogues }
    }

    pub fn catalogues(&self) -> &[Catalogue] {
        &self.catalogues
    }

    /// The article `article` names, or the first level that does not exist.
    pub fn find(&self, article: &ArticleRef) -> Result<&Article, NotInCatalogue> {
        let missing = |field, name: &Title| NotInCatalogue {
            field,
            name: name.clone(),
        };
        let catalogue = self
            .catalogues
            .iter()
            .find(|catalogue| catalogue.name == article.catalogue)
            .ok_or_else(|| missing("catalogue", &article.catalogue))?;
        let category = catalogue
            .categories
            .iter()
            .find(|category| category.name == article.category)
            .ok_or_else(|| missing("category", &article.category))?;
        category
            .articles
            .iter()
            .find(|candidate| candidate.name == article.article)
            .ok_or_else(|| missing("article", &article.article))
    }
}

/// The default catalogue (docs/domain.md "Default change catalogue", seed 000).
///
/// The seed shows a category level only for `Catalogue de Changement Standard`; the portal
/// hides that level when a catalogue has a single category, so the other catalogues hold
/// one category named after what they manage. Articles and prices the seed does not list
/// are Sablier's defaults: configuration, to be replaced by the provider's own.
impl Default for ChangeCatalogue {
    fn default() -> Self {
        let title = |name: &str| Title::parse(name).expect("a valid default catalogue name");
        let article = |name: &str, price_cents: Option<u64>| Article {
            name: title(name),
            requires_study: false,
            lead_times: vec![LeadTimeOffer::STANDARD, LeadTimeOffer::URGENT],
            price_cents,
        };
        let category = |name: &str, articles: Vec<Article>| Category {
            name: title(name),
            articles,
        };
        Self::new(vec![
            Catalogue {
                name: title("Catalogue de Changement Standard"),
                categories: vec![
                    category("Quotas", vec![article("Modifier mes quotas", Some(9_000))]),
                    category(
                        "Autres Demandes",
                        vec![article("Faire une autre demande", Some(15_000))],
                    ),
                ],
            },
            Catalogue {
                name: title("Gérer mes licences RDS"),
                categories: vec![category(
                    "Licences RDS",
                    vec![
                        article("Ajouter des licences RDS", Some(9_000)),
                        article("Supprimer des licences RDS", Some(9_000)),
                    ],
                )],
            },
            Catalogue {
                name: title("Gérer mon accès GIN"),
                categories: vec![category(
                    "Accès GIN",
                    vec![article("Modifier mon accès GIN", Some(15_000))],
                )],
            },
            Catalogue {
                name: title("OCB - FE: Autres Demandes"),
                categories: vec![category(
                    "Autres Demandes",
                    vec![Article {
                        name: title("Faire une demande sur étude"),
                        requires_study: true,
                        lead_times: vec![LeadTimeOffer::STANDARD],
                        price_cents: None,
                    }],
                )],
            },
        ])
    }
}
