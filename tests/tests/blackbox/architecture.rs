//! The rules of ARCHITECTURE.md checked by tests: the dependency direction (over `cargo
//! metadata`), and that the document stays a short map with a paragraph per crate.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Crates that mean storage, HTTP or an async runtime.
const INFRASTRUCTURE: &[&str] = &[
    "sqlx",
    "sqlite-es",
    "postgres-es",
    "axum",
    "hyper",
    "tower",
    "tower-http",
    "reqwest",
    "tokio",
    "mio",
    "rusqlite",
    "libsqlite3-sys",
];

struct Graph {
    /// package name → its normal (non-dev, non-build) dependencies' names.
    normal_dependencies: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn load() -> Self {
        let output = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
        let names: BTreeMap<&str, &str> = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let normal_dependencies = metadata["resolve"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| {
                let name = names[node["id"].as_str().unwrap()].to_owned();
                let dependencies = node["deps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|dep| {
                        dep["dep_kinds"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|kind| kind["kind"].is_null())
                    })
                    .map(|dep| names[dep["pkg"].as_str().unwrap()].to_owned())
                    .collect();
                (name, dependencies)
            })
            .collect();
        Self {
            normal_dependencies,
        }
    }

    fn direct(&self, package: &str) -> &BTreeSet<String> {
        &self.normal_dependencies[package]
    }

    fn closure(&self, package: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut pending = vec![package.to_owned()];
        while let Some(next) = pending.pop() {
            for dependency in self.direct(&next) {
                if seen.insert(dependency.clone()) {
                    pending.push(dependency.clone());
                }
            }
        }
        seen
    }
}

#[test]
fn the_sla_engine_depends_on_no_storage_http_or_runtime_crate_at_all() {
    let closure = Graph::load().closure("sablier-sla");
    let offending: Vec<_> = INFRASTRUCTURE
        .iter()
        .filter(|c| closure.contains(**c))
        .collect();
    assert!(offending.is_empty(), "sablier-sla pulls in {offending:?}");
}

#[test]
fn the_domain_declares_no_storage_http_or_runtime_dependency() {
    // cqrs-es itself depends on tokio (its event sink uses a tokio mutex); the domain's own
    // dependencies stay free of infrastructure.
    let graph = Graph::load();
    let direct = graph.direct("sablier-domain");
    let offending: Vec<_> = INFRASTRUCTURE
        .iter()
        .filter(|c| direct.contains(**c))
        .collect();
    assert!(
        offending.is_empty(),
        "sablier-domain depends on {offending:?}"
    );
    assert!(
        !graph
            .closure("sablier-domain")
            .iter()
            .any(|c| c.starts_with("sablier-") && c != "sablier-sla")
    );
}

#[test]
fn dependencies_point_one_way() {
    let graph = Graph::load();
    let allowed: &[(&str, &[&str])] = &[
        ("sablier-sla", &[]),
        ("sablier-domain", &["sablier-sla"]),
        ("sablier-store", &["sablier-domain", "sablier-sla"]),
        (
            "sablier-projections",
            &["sablier-domain", "sablier-sla", "sablier-store"],
        ),
        (
            "sablier-api",
            &[
                "sablier-domain",
                "sablier-sla",
                "sablier-store",
                "sablier-projections",
            ],
        ),
        (
            "sablier-replay",
            &[
                "sablier-domain",
                "sablier-sla",
                "sablier-store",
                "sablier-projections",
            ],
        ),
    ];
    for (package, may_use) in allowed {
        let ours: BTreeSet<_> = graph
            .closure(package)
            .into_iter()
            .filter(|c| c.starts_with("sablier-"))
            .collect();
        let extra: Vec<_> = ours
            .iter()
            .filter(|c| !may_use.contains(&c.as_str()))
            .collect();
        assert!(extra.is_empty(), "{package} depends on {extra:?}, above it");
    }
}

/// The workspace's crate directories, relative to its root (`sla-rules`, `tests`…).
fn crate_directories() -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--no-deps"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let root = std::path::Path::new(metadata["workspace_root"].as_str().unwrap());
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let manifest = std::path::Path::new(package["manifest_path"].as_str().unwrap());
            let directory = manifest.parent().unwrap().strip_prefix(root).unwrap();
            directory.to_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn issue_21_architecture_md_stays_a_short_map() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).expect("ARCHITECTURE.md is readable");
    // Counted as `wc -w` counts.
    let words = text.split_whitespace().count();
    assert!(
        words <= 1_500,
        "ARCHITECTURE.md has {words} words, over 1,500: mechanics go to the `//!` comments of \
         their modules, measurements to docs/benchmarks.md"
    );
    let code_map = text
        .split("\n## ")
        .find(|section| section.starts_with("Code map"))
        .expect("ARCHITECTURE.md has a `## Code map` section");
    let missing: Vec<String> = crate_directories()
        .into_iter()
        .filter(|directory| !code_map.contains(&format!("\n### `{directory}/`")))
        .collect();
    assert!(
        missing.is_empty(),
        "the code map of ARCHITECTURE.md has no `### `dir/`` paragraph for {missing:?}"
    );
}

/// Issue 21: the fakes of the `testing` modules (fake ports, test databases) stay out of
/// the binaries: no crate the two binaries are built from enables a `testing` feature.
#[test]
fn issue_21_the_binaries_are_built_without_the_testing_fakes() {
    for binary in ["sablier-api", "sablier-replay"] {
        let output = Command::new(env!("CARGO"))
            .args([
                "tree",
                "--offline",
                "-e",
                "normal",
                "--prefix",
                "none",
                "-f",
                "{p} [{f}]",
                "-p",
            ])
            .arg(binary)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .output()
            .expect("cargo tree runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let tree = String::from_utf8_lossy(&output.stdout);
        assert!(tree.contains("sablier-store"), "{tree}");
        let with_fakes: Vec<&str> = tree
            .lines()
            .filter(|line| line.starts_with("sablier-") && line.contains("testing"))
            .collect();
        assert!(
            with_fakes.is_empty(),
            "{binary} is built with test fakes: {with_fakes:?}"
        );
    }
}
