//! The HTTP API, driven from outside: one scenario per DOMAIN.md section, the
//! authorization matrix, bad input on every command route, the edges (idempotency,
//! limits, unknown routes, tokens), what reaches the server before its caller is known
//! (admission), attachments across an upgrade, and a full disk.

mod admission;
mod app;
mod attachments;
mod authorization;
mod bad_input;
mod document;
mod edges;
mod full_disk;
mod read_after;
mod scenarios;
mod smaller_defects;
mod stalls;
