//! `sablier-api`: Sablier's HTTP API and its command line.
//!
//! - [`http`]: the axum router (every command and view, rights, problem+json errors,
//!   idempotency keys, metrics, OpenAPI).
//! - [`serve`]: the server with its in-process projector and graceful shutdown.
//! - [`cli`]: `sablier serve | migrate | demo | project | token`.

// Handlers return `Result<_, Problem>`; a problem is built once per refused request and
// answered at once, so its size on the error path costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod demo;
pub mod http;
pub mod project;
pub mod serve;
pub mod telemetry;

pub use serve::Server;
