//! The layers of the host, bottom first, and a check that no module reaches
//! up: a module names (`crate::…`) only modules below it. The order is the
//! one `docs/ARCHITECTURE.md` draws; a new module takes its place here.
//!
//! Read from the source, as the compiler would not tell: comments and test
//! code are left out (a test may reach anywhere).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom first. Each group may use the groups before it, and the modules
/// before it within its own group.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaf facts and pure logic",
        &[
            "errors",
            "identity",
            "lenient",
            "paths",
            "private",
            "logfile",
            "memory",
            "proctree",
            "ipc",
            "cost",
            "limits",
            "screen",
            "approval",
            "edit_review",
            "launch",
        ],
    ),
    ("git, the sandbox, the records", &["worktree", "sandbox", "model"]),
    ("processes and the store", &["pty", "store"]),
    ("the agents", &["hook", "agent", "adapter", "acp"]),
    ("the typed interface", &["api"]),
    ("the core", &["supervisor"]),
    (
        "the edge",
        &["rpc", "host", "daemon", "relay", "link", "outer", "client"],
    ),
    ("the command line", &["cli"]),
];

fn order() -> Vec<&'static str> {
    LAYERS.iter().flat_map(|(_, modules)| modules.iter().copied()).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments and its test items (an item
/// under `#[cfg(test)]` at the top level, to its closing brace), and
/// nothing of a file that is a test module.
fn production_code(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    let mut kept = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line == "#[cfg(test)]" {
            // One line (`mod tests;`, a `use`), or a block to its `}`.
            if let Some(item) = lines.next()
                && !item.ends_with(';')
            {
                for inner in lines.by_ref() {
                    if inner == "}" {
                        break;
                    }
                }
            }
            continue;
        }
        if !line.trim_start().starts_with("//") {
            kept.push(line);
        }
    }
    kept.join("\n")
}

/// The top-level modules `code` names through `crate::`.
fn named(code: &str, modules: &BTreeSet<&str>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let word: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if modules.contains(word.as_str()) {
                    found.insert(word);
                }
            }
        } else {
            let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if modules.contains(word.as_str()) {
                found.insert(word);
            }
        }
    }
    found
}

#[test]
fn no_module_reaches_a_layer_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = order();
    let known: BTreeSet<&str> = order.iter().copied().collect();
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';'))
        .collect();
    assert_eq!(
        declared, known,
        "every module of lib.rs has a place in LAYERS, and no other"
    );
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let top = top.trim_end_matches(".rs");
        let Some(rank) = order.iter().position(|m| *m == top) else {
            continue; // lib.rs, main.rs
        };
        for used in named(&production_code(&file), &known) {
            let used_rank = order.iter().position(|m| *m == used).unwrap();
            if used != top && used_rank > rank {
                wrong.push(format!(
                    "{} ({top}) uses crate::{used}, a layer above it",
                    relative.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "layers reached upward:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_a_reach_upward() {
    let modules: BTreeSet<&str> = ["worktree", "rpc", "api"].into_iter().collect();
    let code = "use crate::rpc::protocol::X;\nfn f() { crate::api::g() }\nuse crate::{worktree, rpc};";
    let found = named(code, &modules);
    assert_eq!(
        found,
        ["api", "rpc", "worktree"].into_iter().map(String::from).collect()
    );
}

/// Where agents may be named in production code: their adapters, the
/// built-in defaults (`agent.rs`), and the transcript formats an adapter
/// picks (`cost/`, whose literals are the formats' own message types).
const MAY_NAME_AGENTS: &[&str] = &["adapter/", "agent.rs", "cost/"];

#[test]
fn no_agent_is_named_outside_its_adapter_and_the_defaults() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut named = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        if MAY_NAME_AGENTS.iter().any(|allowed| relative.starts_with(allowed)) {
            continue;
        }
        for (number, line) in production_code(&file).lines().enumerate() {
            for agent in ["\"claude\"", "\"codex\"", "\"gemini\""] {
                if line.contains(agent) {
                    named.push(format!(
                        "{relative}: {agent} in {:?} (line {})",
                        line.trim(),
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(
        named.is_empty(),
        "agents named outside their adapters (ask the adapter instead):\n{}",
        named.join("\n")
    );
}

/// Most lines of production code in one file.
const MAX_FILE: usize = 400;
/// Most lines of one production function.
const MAX_FUNCTION: usize = 60;
/// Functions still longer than [`MAX_FUNCTION`], to be cut: the list only
/// shrinks (one that is no longer long must leave it).
const LONG_YET: &[&str] = &[];

/// `(name, lines)` of each function in `code` (a `fn` line to the `}` at
/// its indentation).
fn functions(code: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let Some(rest) = [
            "pub fn ",
            "pub(super) fn ",
            "pub(crate) fn ",
            "fn ",
            "async fn ",
            "pub async fn ",
            "pub(super) async fn ",
        ]
        .iter()
        .find_map(|prefix| trimmed.strip_prefix(prefix)) else {
            continue;
        };
        if trimmed.ends_with(';') {
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let close = format!("{indent}}}");
        if let Some(end) = lines[at + 1..].iter().position(|l| *l == close) {
            found.push((name, end + 2));
        }
    }
    found
}

#[test]
fn no_production_file_or_function_is_past_what_one_person_holds_in_mind() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut problems = Vec::new();
    let mut still_long = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        let code = production_code(&file);
        let count = code.lines().count();
        if count > MAX_FILE {
            problems.push(format!(
                "{relative}: {count} lines of production code (most {MAX_FILE})"
            ));
        }
        for (name, length) in functions(&code) {
            if length > MAX_FUNCTION {
                let key = format!("{relative} {name}");
                if LONG_YET.contains(&key.as_str()) {
                    still_long.insert(key);
                } else {
                    problems.push(format!("{key}: {length} lines (most {MAX_FUNCTION})"));
                }
            }
        }
    }
    for listed in LONG_YET {
        if !still_long.contains(*listed) {
            problems.push(format!("{listed} is no longer long: take it off LONG_YET"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
