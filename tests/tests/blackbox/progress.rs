//! Progress bars (issue 6): `verify`, `export`, `import` and `rebuild` draw one on stderr
//! when it is a terminal (run under `script`, which gives them a pseudo-terminal), and
//! write nothing to stderr when it is a pipe.

use std::process::Command;

use sablier_store::testing::TestDatabase;

use crate::cli::binary;
use crate::export::{generated_log, run_on_url};

/// `sablier-replay args…` with stdout thrown away and stderr on a pseudo-terminal: what
/// the terminal showed.
fn on_a_terminal(url: &str, args: &str) -> Option<String> {
    let shell = format!("{} {args} > /dev/null", binary("sablier-replay").display());
    let output = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_work_shows_progress_on_a_terminal_only() {
    let db = TestDatabase::sqlite().await;
    // Enough events for the bar to move (it is updated every 1,024 positions).
    generated_log(&db.database, 260).await;
    assert!(
        run_on_url(&db.url, "sablier", &["project", "--once"])
            .await
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.jsonl");
    let file = file.to_str().unwrap();
    let copy = format!("sqlite://{}", dir.path().join("copy.db").display());

    for args in [
        vec!["verify"],
        vec!["export", "--output", file],
        vec!["rebuild"],
    ] {
        let output = run_on_url(&db.url, "sablier-replay", &args).await;
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(
            output.stderr.is_empty(),
            "{args:?}: {:?}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = run_on_url(&copy, "sablier-replay", &["import", file]).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty());

    let Some(shown) = on_a_terminal(&db.url, "verify") else {
        eprintln!("no `script` here: the terminal half of this test is skipped");
        return;
    };
    assert!(shown.contains("verify ["), "{shown:?}");
    assert!(shown.contains(" events"), "{shown:?}");
    let shown = on_a_terminal(&db.url, &format!("export --output {file}")).unwrap();
    assert!(shown.contains("export ["), "{shown:?}");
    let shown = on_a_terminal(&db.url, "rebuild").unwrap();
    assert!(shown.contains("rebuild ["), "{shown:?}");
    let again = format!("sqlite://{}", dir.path().join("again.db").display());
    let shown = on_a_terminal(&again, &format!("import {file}")).unwrap();
    assert!(shown.contains("import "), "{shown:?}");
    db.cleanup().await;
}
