//! The module order ARCHITECTURE.md promises, checked: a module's non-test
//! code names (`crate::x`) only modules of a lower layer, so plain data
//! lives low and nothing reaches back up. The front ends form one layer and
//! may use each other (the service mounts MCP's HTTP transport; MCP calls the
//! service's plan queue). A new top-level module fails this test until it is
//! given a layer here and a row in ARCHITECTURE.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lowest first. A module may use any module of an earlier layer.
const LAYERS: &[&[&str]] = &[
    &["finding", "manifest", "limits", "par", "grant"],
    &["yaml"],
    &["validate"],
    &["spec"],
    &["intent"],
    &["repo"],
    &["render"],
    &["policy"],
    &["change"],
    &["lift"],
    &["plan"],
    &["cassette"],
    &["pipeline"],
    &["propose"],
    &["workspace"],
    &["drift"],
    &["eval"],
    &["view"],
    &["class"],
    &["cli", "serve", "slack", "mcp"],
];

/// The front ends: the one layer whose modules may use each other.
const FRONT_ENDS: usize = LAYERS.len() - 1;

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level modules under `src/` (files and directories).
fn modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            match name.strip_suffix(".rs") {
                Some("main" | "lib") => None,
                Some(stem) => Some(stem.to_string()),
                None if p.is_dir() => Some(name),
                None => None,
            }
        })
        .collect()
}

/// A module's source files, without its test files.
fn files(src: &Path, module: &str) -> Vec<PathBuf> {
    let dir = src.join(module);
    if !dir.is_dir() {
        return vec![src.join(format!("{module}.rs"))];
    }
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            if p.is_dir() {
                if name != "tests" {
                    stack.push(p);
                }
            } else if name.ends_with(".rs") && !name.starts_with("tests") && !name.ends_with("_tests.rs") {
                out.push(p);
            }
        }
    }
    out
}

/// The text before the file's `#[cfg(test)]` module, without comment lines.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `text` names through `crate::x` or `crate::{x, …}`.
fn named(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let list = match rest.strip_prefix('{') {
            Some(group) => &group[..group.find('}').unwrap_or(group.len())],
            None => rest,
        };
        let words = list.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'));
        for word in words.take(if rest.starts_with('{') { usize::MAX } else { 1 }) {
            let first = word.split("::").next().unwrap_or_default();
            if modules.contains(first) {
                out.insert(first.to_string());
            }
        }
    }
    out
}

#[test]
fn no_module_uses_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    let unplaced: Vec<&String> = modules.iter().filter(|m| layer(m).is_none()).collect();
    assert!(unplaced.is_empty(), "give these modules a layer: {unplaced:?}");
    let mut backward = Vec::new();
    for module in &modules {
        let own = layer(module).unwrap();
        for file in files(&src, module) {
            for used in named(&code(&file), &modules) {
                let theirs = layer(&used).unwrap();
                let allowed = used == *module || theirs < own || (own == FRONT_ENDS && theirs == own);
                if !allowed {
                    backward.push(format!("{} uses crate::{used}", file.display()));
                }
            }
        }
    }
    assert!(backward.is_empty(), "backward edges:\n{}", backward.join("\n"));
}

#[test]
fn the_reader_sees_grouped_and_plain_paths() {
    let modules: BTreeSet<String> = ["spec", "repo", "yaml"].map(String::from).into();
    let text = "use crate::{spec::Spec, repo};\nlet x = crate::yaml::parse(y);\nlet z = crate::Error::X;";
    assert_eq!(named(text, &modules), modules);
}
