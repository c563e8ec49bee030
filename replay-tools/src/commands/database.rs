//! Opening the database a replay reads, on a runtime of its own.
//!
//! Every subcommand opens an existing database and never migrates it; only `import`
//! creates or migrates its target, once `sablier_store::import::why_not_empty` has found
//! no log there.

use anyhow::{Context, bail};
use sablier_store::Database;

/// Opens a database that must already exist: a replay never creates one, nor migrates it.
pub async fn open_existing(url: &str) -> anyhow::Result<Database> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(path).exists() {
            bail!("no database at {path} ({url})");
        }
    }
    Database::connect(url)
        .await
        .with_context(|| format!("cannot open {url}"))
}

/// Runs a subcommand's database work on a single-threaded runtime.
pub fn block_on<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?
        .block_on(work)
}
