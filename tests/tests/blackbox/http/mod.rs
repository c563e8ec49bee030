//! The HTTP API, driven from outside: one scenario per DOMAIN.md section, the
//! authorization matrix, bad input on every command route, and the edges (idempotency,
//! limits, unknown routes, tokens).

mod app;
mod authorization;
mod bad_input;
mod edges;
mod read_after;
mod scenarios;
mod smaller_defects;
