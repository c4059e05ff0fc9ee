//! Tidy test: the crate dependency rules of `docs/ARCHITECTURE.md`, read
//! from every member's `Cargo.toml`. A new internal edge must be argued in
//! that document and added here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([
        ("quant-core", vec![]),
        ("quant-data", vec!["quant-core"]),
        ("quant-indicators", vec!["quant-core"]),
        ("quant-providers", vec!["quant-core", "quant-data"]),
        ("quant-catalog", vec!["quant-core", "quant-data"]),
        ("quant-risk", vec!["quant-core"]),
        (
            "quant-strategy",
            vec!["quant-core", "quant-indicators", "quant-risk"],
        ),
        (
            "quant-exec",
            vec!["quant-core", "quant-strategy", "quant-risk"],
        ),
        (
            "quant-backtest",
            vec![
                "quant-core",
                "quant-data",
                "quant-strategy",
                "quant-exec",
                "quant-risk",
            ],
        ),
    ])
}

/// Crates that must stay synchronous and free of network I/O.
const COMPUTE: [&str; 6] = [
    "quant-core",
    "quant-risk",
    "quant-indicators",
    "quant-strategy",
    "quant-exec",
    "quant-backtest",
];
const ASYNC_OR_NET: [&str; 6] = ["tokio", "async-trait", "reqwest", "sqlx", "hyper", "axum"];

#[test]
fn internal_dependencies_follow_the_architecture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let allowed = allowed();
    let mut seen = BTreeSet::new();
    for group in ["crates", "bins"] {
        for entry in std::fs::read_dir(root.join(group)).unwrap() {
            let dir = entry.unwrap().path();
            let manifest = dir.join("Cargo.toml");
            if !manifest.is_file() {
                continue;
            }
            let t: toml::Table =
                toml::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
            let name = t["package"]["name"].as_str().unwrap().to_string();
            assert_eq!(
                dir.file_name().unwrap().to_str().unwrap(),
                name,
                "folder name = package name"
            );
            let deps: BTreeSet<String> = t
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            if group == "bins" {
                continue; // binaries may wire anything
            }
            seen.insert(name.clone());
            let ok = allowed
                .get(name.as_str())
                .unwrap_or_else(|| panic!("{name} is not in docs/ARCHITECTURE.md's table"));
            for d in deps.iter().filter(|d| d.starts_with("quant-")) {
                assert!(
                    ok.contains(&d.as_str()),
                    "{name} must not depend on {d} (docs/ARCHITECTURE.md)"
                );
            }
            if COMPUTE.contains(&name.as_str()) {
                for d in &deps {
                    assert!(
                        !ASYNC_OR_NET.contains(&d.as_str()),
                        "compute crate {name} must not depend on {d}"
                    );
                }
            }
        }
    }
    assert_eq!(seen.len(), allowed.len(), "every library crate is listed");
}
