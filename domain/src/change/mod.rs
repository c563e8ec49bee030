//! A change request (seed 000): a customer asks for a change on one asset, picked from the
//! change catalogue, with a lead time that sets its delivery clock. Some articles need a
//! study: staff quote, the customer accepts or declines, then the work is done.

mod aggregate;
mod attachment;
mod billing;
mod catalogue;
mod command;
mod error;
mod event;
mod status;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod stored_form;
#[cfg(test)]
mod tests;

pub use aggregate::{BUSINESS_DAY_SECONDS, Change, DELIVERY_CALENDAR};
pub use attachment::{Attachment, AttachmentName, MAX_ATTACHMENTS, MediaType, Sha256Digest};
pub use billing::{DEFAULT_FREE_CHANGES_PER_MONTH, SubmissionBilling};
pub use catalogue::{
    Article, ArticleRef, Catalogue, Category, ChangeCatalogue, LeadTime, LeadTimeOffer,
    NotInCatalogue,
};
pub use command::{ChangeCommand, ChangeForm};
pub use error::ChangeError;
pub use event::ChangeEvent;
pub use status::ChangeStatus;
