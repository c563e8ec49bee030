//! Sablier's black-box tests: one binary, one module per concern.

mod architecture;
mod as_of;
mod backfill;
mod cli;
mod explain;
mod export;
mod http;
mod leadership;
mod progress;
mod projector;
mod rebuild;
mod report;
mod timeline;
mod verify;
mod what_if;
mod workload;
