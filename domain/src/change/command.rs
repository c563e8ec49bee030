//! What may be asked of a change request. Fields are already parsed newtypes; rules that
//! depend on configuration or on other aggregates (catalogue, attachment size, contract)
//! are checked by the aggregate.

use serde::{Deserialize, Serialize};

use crate::change::{ArticleRef, Attachment, LeadTime};
use crate::ids::{ChangeId, ContractId};
use crate::money::Cents;
use crate::text::{AssetRef, Comment, CustomerReference, FreeText};

/// The change form as the customer fills it. A draft may leave any field empty; submission
/// requires the asset, the article and the lead time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeForm {
    /// The asset concerned (élément de parc).
    pub asset: Option<AssetRef>,
    pub article: Option<ArticleRef>,
    pub lead_time: Option<LeadTime>,
    pub customer_reference: Option<CustomerReference>,
    pub additional_information: Option<FreeText>,
    pub attachments: Vec<Attachment>,
    pub comment: Option<Comment>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChangeCommand {
    /// Creates the change as a draft ("Enregistrer en brouillon"). Customer or staff.
    SaveDraft {
        change_id: ChangeId,
        contract: ContractId,
        form: ChangeForm,
    },
    /// Replaces the whole form of a draft. Customer or staff.
    EditDraft { form: ChangeForm },
    /// Submits the draft as last saved. Customer or staff.
    SubmitDraft,
    /// Creates and submits in one step, without a draft ("Confirmer la demande").
    /// Customer or staff.
    Submit {
        change_id: ChangeId,
        contract: ContractId,
        form: ChangeForm,
    },
    /// Staff: the price of the study, in euro cents excluding tax.
    Quote {
        amount_cents: Cents,
        note: Option<FreeText>,
    },
    /// Customer.
    AcceptQuote,
    /// Customer. Closes the change: no work is done.
    DeclineQuote { reason: Option<FreeText> },
    /// Staff: work begins.
    Start,
    /// Staff: work is done.
    Complete { note: Option<FreeText> },
    /// Customer, before work starts.
    Cancel { reason: Option<FreeText> },
    /// Staff, before work starts.
    Reject { reason: FreeText },
    /// Administrators: replaces the quote of a change that has one, in any status (a
    /// completed change's bill included), with a reason. The audited way to amend an
    /// amount, such as one written before amounts were bounded.
    CorrectQuote {
        amount_cents: Cents,
        reason: FreeText,
    },
}
