//! Tidy test: the crate dependency rules of `docs/ARCHITECTURE.md`, read
//! from `cargo metadata` (the resolved graph, so transitive edges count
//! too). A new internal edge must be argued in that document and added
//! here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([
        ("quant-core", vec![]),
        ("quant-cli", vec![]),
        ("quant-net", vec![]),
        ("quant-alerts", vec!["quant-net"]),
        ("quant-journal", vec!["quant-core", "quant-engine"]),
        ("quant-data", vec!["quant-core"]),
        ("quant-indicators", vec!["quant-core"]),
        ("quant-providers", vec!["quant-core", "quant-data"]),
        ("quant-catalog", vec!["quant-core", "quant-data"]),
        ("quant-risk", vec!["quant-core"]),
        (
            "quant-strategy",
            vec!["quant-core", "quant-indicators", "quant-risk"],
        ),
        ("quant-exec", vec!["quant-core"]),
        (
            "quant-engine",
            vec!["quant-core", "quant-exec", "quant-strategy", "quant-risk"],
        ),
        (
            "quant-backtest",
            vec![
                "quant-core",
                "quant-data",
                "quant-strategy",
                "quant-exec",
                "quant-engine",
                "quant-risk",
            ],
        ),
        (
            "quant-runtime",
            vec![
                "quant-core",
                "quant-data",
                "quant-strategy",
                "quant-exec",
                "quant-engine",
                "quant-risk",
                "quant-backtest",
                "quant-providers",
                "quant-journal",
                "quant-alerts",
                "quant-net",
            ],
        ),
    ])
}

/// Crates that must stay synchronous and free of network I/O, even
/// through the crates they depend on.
const COMPUTE: [&str; 8] = [
    "quant-core",
    "quant-engine",
    "quant-data",
    "quant-risk",
    "quant-indicators",
    "quant-strategy",
    "quant-exec",
    "quant-backtest",
];
/// Async runtimes and network stacks.
const ASYNC_OR_NET: [&str; 12] = [
    "tokio",
    "async-trait",
    "async-std",
    "smol",
    "futures-executor",
    "reqwest",
    "hyper",
    "axum",
    "sqlx",
    "tungstenite",
    "mio",
    "rustls",
];

/// The workspace's resolved dependency graph for this platform:
/// (package id → name, workspace members by name, normal-dependency
/// edges by package id).
struct Graph {
    names: BTreeMap<String, String>,
    members: BTreeMap<String, (String, bool)>,
    normal: BTreeMap<String, Vec<String>>,
}

/// The host's target triple (`rustc -vV`), so that `cargo metadata`
/// resolves only what builds here and needs no network.
fn host_triple() -> String {
    let out = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_string()
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--locked",
            "--filter-platform",
        ])
        .arg(host_triple())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let mut names = BTreeMap::new();
    let mut members = BTreeMap::new();
    let ws: BTreeSet<&str> = m["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for p in m["packages"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap().to_string();
        let name = p["name"].as_str().unwrap().to_string();
        if ws.contains(id.as_str()) {
            let dir = Path::new(p["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_path_buf();
            assert_eq!(
                dir.file_name().unwrap().to_str().unwrap(),
                name,
                "folder name = package name"
            );
            let is_bin = dir.parent().unwrap().ends_with("bins");
            members.insert(name.clone(), (id.clone(), is_bin));
        }
        names.insert(id, name);
    }
    let mut normal = BTreeMap::new();
    for n in m["resolve"]["nodes"].as_array().unwrap() {
        let deps = n["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap().to_string())
            .collect();
        normal.insert(n["id"].as_str().unwrap().to_string(), deps);
    }
    Graph {
        names,
        members,
        normal,
    }
}

impl Graph {
    /// Names of every package `id` reaches through normal dependencies,
    /// with the path to each (for the message).
    fn reachable(&self, id: &str) -> BTreeMap<String, Vec<String>> {
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut stack = vec![(id.to_string(), vec![self.names[id].clone()])];
        let mut visited = BTreeSet::new();
        while let Some((cur, path)) = stack.pop() {
            for d in self.normal.get(&cur).into_iter().flatten() {
                if visited.insert(d.clone()) {
                    let mut p = path.clone();
                    p.push(self.names[d].clone());
                    seen.entry(self.names[d].clone())
                        .or_insert_with(|| p.clone());
                    stack.push((d.clone(), p));
                }
            }
        }
        seen
    }
}

#[test]
fn internal_dependencies_follow_the_architecture() {
    let g = graph();
    let allowed = allowed();
    let mut libs = BTreeSet::new();
    for (name, (id, is_bin)) in &g.members {
        if *is_bin {
            continue; // binaries may wire anything
        }
        libs.insert(name.clone());
        let ok = allowed
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is not in docs/ARCHITECTURE.md's table"));
        for d in &g.normal[id] {
            let dn = &g.names[d];
            if g.members.contains_key(dn) {
                assert!(
                    ok.contains(&dn.as_str()),
                    "{name} must not depend on {dn} (docs/ARCHITECTURE.md)"
                );
            }
        }
    }
    let listed: BTreeSet<String> = allowed.keys().map(|k| (*k).to_string()).collect();
    assert_eq!(
        libs, listed,
        "every library crate is listed, and only those"
    );
}

/// No async runtime or network stack reaches a compute crate, directly or
/// through another crate.
#[test]
fn compute_crates_stay_synchronous_all_the_way_down() {
    let g = graph();
    for name in COMPUTE {
        let (id, _) = g
            .members
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not a workspace member"));
        let reach = g.reachable(id);
        for bad in ASYNC_OR_NET {
            if let Some(path) = reach.get(bad) {
                panic!("compute crate {name} reaches {bad}: {}", path.join(" → "));
            }
        }
    }
}
