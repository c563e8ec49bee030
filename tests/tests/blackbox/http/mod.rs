//! The HTTP API, driven from outside: one scenario per section of docs/domain.md
//! ("Incidents", "Change requests", "Orders"), the
//! authorization matrix, bad input on every command route, the edges (idempotency,
//! limits, unknown routes, tokens), what reaches the server before its caller is known
//! (admission), attachments across an upgrade, the recovery of quotes written before
//! amounts were bounded, and a full disk.

mod admission;
mod any_input;
mod app;
mod attachments;
mod authorization;
mod bad_input;
mod document;
mod edges;
mod full_disk;
mod quote_correction;
mod read_after;
mod scenarios;
mod smaller_defects;
mod stalls;
mod upgrade;
