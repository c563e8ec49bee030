//! The order aggregate: decides placing an order (its reference and confirmation), the
//! quote of an item sold on quote (and an administrator's correction of it), and the
//! delivery of the service.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, ActorRole, Authored};
use crate::ids::{ContractId, OrderId};
use crate::month::YearMonth;
use crate::order::{
    OrderCommand, OrderError, OrderEvent, OrderReference, OrderStatus, PlaceOrder, Price,
};
use crate::services::Services;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    id: Option<OrderId>,
    contract: Option<ContractId>,
    reference: Option<OrderReference>,
    /// `None` until the order is placed.
    status: Option<OrderStatus>,
    price: Option<Price>,
    quote_cents: Option<u64>,
    quote_accepted: bool,
    confirmation_recorded: bool,
    placed_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
}

impl Order {
    pub fn id(&self) -> Option<&OrderId> {
        self.id.as_ref()
    }

    pub fn contract(&self) -> Option<&ContractId> {
        self.contract.as_ref()
    }

    pub fn reference(&self) -> Option<&OrderReference> {
        self.reference.as_ref()
    }

    pub fn status(&self) -> Option<OrderStatus> {
        self.status
    }

    /// The catalogue price as ordered.
    pub fn price(&self) -> Option<Price> {
        self.price
    }

    /// The quote issued (or as an administrator corrected it), in euro cents excluding
    /// tax.
    pub fn quote_cents(&self) -> Option<u64> {
        self.quote_cents
    }

    pub fn quote_accepted(&self) -> bool {
        self.quote_accepted
    }

    pub fn confirmation_recorded(&self) -> bool {
        self.confirmation_recorded
    }

    pub fn placed_at(&self) -> Option<DateTime<Utc>> {
        self.placed_at
    }

    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.started_at
    }

    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.completed_at
    }

    /// The reference and current status if the status is one of `allowed`.
    fn require_status(
        &self,
        allowed: &[OrderStatus],
        action: &'static str,
    ) -> Result<(OrderReference, OrderStatus), OrderError> {
        let (Some(reference), Some(status)) = (&self.reference, self.status) else {
            return Err(OrderError::NotFound);
        };
        if allowed.contains(&status) {
            Ok((reference.clone(), status))
        } else {
            Err(OrderError::WrongStatus { status, action })
        }
    }

    async fn decide(
        &self,
        Authored { by, command }: Authored<OrderCommand>,
        services: &Services,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let at = services.now();
        let role = by.role;
        role.refuse_analyst("change an order (analysts are read-only)")?;
        let event = match command {
            OrderCommand::PlaceOrder(order) => {
                return self.place(order, &by, services, at).await;
            }
            OrderCommand::Quote { amount_cents, note } => {
                role.staff_only("quote an order")?;
                let (reference, _) = self.require_status(&[OrderStatus::Transmitted], "quote")?;
                if self.price != Some(Price::OnQuote) {
                    return Err(OrderError::NotOnQuote);
                }
                OrderEvent::OrderQuoted {
                    at,
                    reference,
                    amount_cents: amount_cents.get(),
                    note,
                }
            }
            OrderCommand::AcceptQuote => {
                role.customer_only("accept a quote (the customer does)")?;
                let (reference, _) =
                    self.require_status(&[OrderStatus::Quoted], "accept the quote of")?;
                OrderEvent::OrderQuoteAccepted {
                    at,
                    reference,
                    amount_cents: self.quote_cents.unwrap_or_default(),
                }
            }
            OrderCommand::DeclineQuote { reason } => {
                role.customer_only("decline a quote (the customer does)")?;
                let (reference, _) =
                    self.require_status(&[OrderStatus::Quoted], "decline the quote of")?;
                OrderEvent::OrderQuoteDeclined {
                    at,
                    reference,
                    amount_cents: self.quote_cents.unwrap_or_default(),
                    reason,
                }
            }
            OrderCommand::Start => {
                role.staff_only("start an order")?;
                let (reference, status) = self.require_status(
                    &[OrderStatus::Transmitted, OrderStatus::QuoteAccepted],
                    "start",
                )?;
                if status == OrderStatus::Transmitted && self.price == Some(Price::OnQuote) {
                    return Err(OrderError::QuoteRequired);
                }
                OrderEvent::OrderStarted { at, reference }
            }
            OrderCommand::Complete { note } => {
                role.staff_only("complete an order")?;
                let (reference, _) = self.require_status(&[OrderStatus::InProgress], "complete")?;
                let amount_cents = match self.price {
                    Some(Price::Fixed { cents_excl_tax }) => cents_excl_tax,
                    Some(Price::OnQuote) | None => self.quote_cents.unwrap_or_default(),
                };
                OrderEvent::OrderCompleted {
                    at,
                    reference,
                    amount_cents,
                    note,
                }
            }
            OrderCommand::Cancel { reason } => {
                role.staff_only("cancel an order (ask Support)")?;
                let (reference, previous_status) = self.require_status(
                    &[
                        OrderStatus::Transmitted,
                        OrderStatus::Quoted,
                        OrderStatus::QuoteAccepted,
                        OrderStatus::InProgress,
                    ],
                    "cancel",
                )?;
                OrderEvent::OrderCancelled {
                    at,
                    reference,
                    previous_status,
                    reason,
                }
            }
            OrderCommand::CorrectQuote {
                amount_cents,
                reason,
            } => {
                role.admin_only("correct a quote (an administrator does)")?;
                let (Some(reference), Some(status)) = (&self.reference, self.status) else {
                    return Err(OrderError::NotFound);
                };
                let previous_amount_cents = self.quote_cents.ok_or(OrderError::NoQuoteToCorrect)?;
                if previous_amount_cents == amount_cents.get() {
                    return Err(OrderError::QuoteUnchanged(previous_amount_cents));
                }
                OrderEvent::OrderQuoteCorrected {
                    at,
                    reference: reference.clone(),
                    amount_cents: amount_cents.get(),
                    previous_amount_cents,
                    reason,
                    status,
                }
            }
        };
        Ok(vec![event])
    }

    /// Everything that can refuse the order is checked before a reference sequence is
    /// taken, so a refused order never consumes one.
    async fn place(
        &self,
        order: PlaceOrder,
        by: &Actor,
        services: &Services,
        at: DateTime<Utc>,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        if self.status.is_some() {
            return Err(OrderError::AlreadyExists);
        }
        let contract = services
            .contracts
            .contract_at(&order.contract, at)
            .await?
            .ok_or_else(|| OrderError::UnknownContract(order.contract.clone()))?;
        let item = services
            .service_catalogue
            .item(&order.item)
            .cloned()
            .ok_or_else(|| OrderError::UnknownItem(order.item.clone()))?;
        if !order.contact.has_phone() {
            return Err(OrderError::MissingPhone);
        }
        let mut recipients = vec![order.contact.email.clone()];
        if by.role == ActorRole::Customer
            && let Some(email) = services.identities.email_for_login(&by.login).await?
            && !recipients.contains(&email)
        {
            recipients.push(email);
        }
        let month = YearMonth::containing(at, contract.time_zone);
        let sequence = services
            .order_references
            .next_sequence(&order.contract, month)
            .await?;
        let reference = OrderReference::new(contract.offer, &order.contract, month, sequence);
        Ok(vec![
            OrderEvent::OrderPlaced {
                at,
                order_id: order.order_id,
                contract: order.contract,
                reference: reference.clone(),
                reference_month: month,
                reference_sequence: sequence,
                item: item.clone(),
                contact: order.contact,
                comments: order.comments,
            },
            OrderEvent::OrderConfirmationRecorded {
                at,
                reference,
                recipients,
                item_name: item.name,
            },
        ])
    }
}

impl Aggregate for Order {
    const TYPE: &'static str = "Order";
    type Command = Authored<OrderCommand>;
    type Event = OrderEvent;
    type Error = OrderError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let Some(status) = event.status_after() {
            self.status = Some(status);
        }
        match event {
            OrderEvent::OrderPlaced {
                at,
                order_id,
                contract,
                reference,
                item,
                ..
            } => {
                self.id = Some(order_id);
                self.contract = Some(contract);
                self.reference = Some(reference);
                self.price = Some(item.price);
                self.placed_at = Some(at);
            }
            OrderEvent::OrderConfirmationRecorded { .. } => {
                self.confirmation_recorded = true;
            }
            OrderEvent::OrderQuoted { amount_cents, .. }
            | OrderEvent::OrderQuoteCorrected { amount_cents, .. } => {
                self.quote_cents = Some(amount_cents);
            }
            OrderEvent::OrderQuoteAccepted { .. } => {
                self.quote_accepted = true;
            }
            OrderEvent::OrderStarted { at, .. } => {
                self.started_at = Some(at);
            }
            OrderEvent::OrderCompleted { at, .. } => {
                self.completed_at = Some(at);
            }
            OrderEvent::OrderQuoteDeclined { .. } | OrderEvent::OrderCancelled { .. } => {}
        }
    }
}
