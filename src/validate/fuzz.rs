//! Property tests of the YAML parsers (proptest, stable Rust).
//!
//! - the fast parser either declines or agrees with serde-saphyr, on
//!   generated manifest-like YAML and on mutations of it;
//! - deep inputs (flow, compact `- - -`, block) never crash and are refused
//!   past `MAX_DEPTH` with the limit's message, on a 2 MiB stack, so any
//!   unbounded recursion aborts the test binary;
//! - alias bombs of any shape finish and are refused when they expand past
//!   the limits.
//!
//! `cargo test` runs a few cases of each from a fixed seed, so a run is
//! reproducible and the "the fast parser answered often enough" checks
//! cannot flake; `GITINTENT_FUZZ_CASES=20000 GITINTENT_FUZZ_RANDOM=1 cargo
//! test --release --lib validate::fuzz` runs a longer campaign from a fresh
//! seed (CONTRIBUTING.md).
//! Inputs that once failed are pinned as plain tests at the bottom.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRng, TestRunner};

use crate::limits::{ALIAS_BOMB, MAX_DEPTH, TOO_DEEP};
use crate::yaml::parse::Document;
use crate::yaml::resources::{resources, Parsed};

/// Cases per property: `GITINTENT_FUZZ_CASES`, else `default`.
fn config(default: u32) -> Config {
    let cases = std::env::var("GITINTENT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A runner with [`config`]: a fixed seed unless `GITINTENT_FUZZ_RANDOM` is set.
fn runner(default: u32) -> TestRunner {
    let config = config(default);
    if std::env::var_os("GITINTENT_FUZZ_RANDOM").is_some() {
        return TestRunner::new(config);
    }
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    TestRunner::new_with_rng(config, rng)
}

/// A YAML node to render.
#[derive(Debug, Clone)]
enum Node {
    Scalar(&'static str),
    Seq(Vec<Node>),
    Map(Vec<(&'static str, Node)>),
}

const SCALARS: &[&str] = &[
    "web",
    "80",
    "-2",
    "0",
    "1.5",
    "0x1F",
    "007",
    "yes",
    "Off",
    "~",
    "null",
    "\"q\\\"x\"",
    "'it''s'",
    "a b",
    "100m",
    "25%",
    "http://x:8080/p",
    "\"\"",
    "''",
    "true",
    "nan",
    ".inf",
    "1e3",
    "a#b",
    "12:30",
    "-",
    "\"a: b\"",
    "\"\\u00e9\"",
    "a:b",
    "x # c",
    "&a v",
    "*a",
    "!!str 1",
    "'two''",
    "|",
    ">",
    "[]",
    "{}",
    "[1, 2]",
    "{k: v}",
];

const KEYS: &[&str] = &[
    "a", "name", "kind", "\"q k\"", "'s'", "x-y", "a.b/c", "1", "true", "~", "k", "a", "dup", "dup",
    "\"a:b\"", "on",
];

fn node() -> impl Strategy<Value = Node> {
    prop::sample::select(SCALARS)
        .prop_map(Node::Scalar)
        .prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Node::Seq),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(Node::Map),
            ]
        })
}

/// Renders nodes as YAML, taking style choices (flow or block, compact
/// or indented sequences, comments) from `choices`.
struct Render<'a> {
    choices: &'a [u8],
    at: usize,
    out: String,
}

impl Render<'_> {
    fn choose(&mut self, n: u8) -> u8 {
        let c = self
            .choices
            .get(self.at % self.choices.len().max(1))
            .copied()
            .unwrap_or(0);
        self.at += 1;
        c % n
    }

    fn flow(&mut self, node: &Node) -> String {
        match node {
            Node::Scalar(s) => (*s).to_owned(),
            Node::Seq(items) => {
                let items: Vec<String> = items.iter().map(|i| self.flow(i)).collect();
                format!("[{}]", items.join(", "))
            }
            Node::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", self.flow(v)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }

    fn is_empty(node: &Node) -> bool {
        matches!(node, Node::Seq(v) if v.is_empty()) || matches!(node, Node::Map(v) if v.is_empty())
    }

    /// `node` as the value after `key:` or `- ` at `indent`.
    fn value(&mut self, node: &Node, indent: usize) {
        if matches!(node, Node::Scalar(_)) || Self::is_empty(node) || self.choose(4) == 0 {
            let text = self.flow(node);
            let comment = if self.choose(6) == 0 { " # c" } else { "" };
            self.out.push_str(&format!(" {text}{comment}\n"));
            return;
        }
        self.out.push('\n');
        let step = if matches!(node, Node::Seq(_)) && self.choose(2) == 0 {
            0
        } else {
            2
        };
        self.block(node, indent + step);
    }

    fn block(&mut self, node: &Node, indent: usize) {
        let pad = " ".repeat(indent);
        match node {
            Node::Scalar(_) => {
                let text = self.flow(node);
                self.out.push_str(&format!("{pad}{text}\n"));
            }
            Node::Seq(items) if items.is_empty() => self.out.push_str(&format!("{pad}[]\n")),
            Node::Map(entries) if entries.is_empty() => self.out.push_str(&format!("{pad}{{}}\n")),
            Node::Seq(items) => {
                for item in items {
                    self.out.push_str(&format!("{pad}-"));
                    match item {
                        // Compact: `- - x` or `- k: v`, the rest at indent + 2.
                        Node::Seq(_) | Node::Map(_) if !Self::is_empty(item) && self.choose(2) == 0 => {
                            self.out.push(' ');
                            let mut inner = Render {
                                choices: self.choices,
                                at: self.at,
                                out: String::new(),
                            };
                            inner.block(item, indent + 2);
                            self.at = inner.at;
                            self.out.push_str(inner.out.trim_start_matches(' '));
                        }
                        _ => self.value(item, indent),
                    }
                }
            }
            Node::Map(entries) => {
                for (key, value) in entries {
                    self.out.push_str(&format!("{pad}{key}:"));
                    self.value(value, indent);
                }
            }
        }
    }
}

fn render(root: &Node, choices: &[u8]) -> String {
    let mut r = Render {
        choices,
        at: 0,
        out: String::new(),
    };
    r.block(root, 0);
    r.out
}

fn fast(text: &str) -> Option<(serde_json::Value, Vec<(String, String)>)> {
    crate::yaml::fast::parse(text).map(|(tree, root, dups)| {
        let mut dups: Vec<_> = dups
            .into_iter()
            .map(crate::yaml::parse::Duplicate::into_pointer)
            .collect();
        dups.sort();
        (tree.to_value(root), dups)
    })
}

/// The fast parser declines `text` (false) or agrees with serde-saphyr on it (true).
fn agrees(text: &str) -> Result<bool, TestCaseError> {
    let Some(fast) = fast(text) else {
        return Ok(false);
    };
    prop_assert_eq!(
        Ok(fast),
        crate::yaml::parse::slow(text),
        "fast and slow disagree on:\n{}",
        text
    );
    Ok(true)
}

/// Runs `f` on a thread with the stack of tokio's blocking threads and of
/// the index's parser threads (2 MiB): unbounded recursion aborts, and even
/// a debug build must fit the limit's 128 levels in it.
fn on_small_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(scope, f)
            .unwrap()
            .join()
            .unwrap()
    })
}

/// The parse error of the one document `text` holds, if any.
fn broken(text: &str) -> Option<String> {
    resources(Document::whole(text))
        .into_iter()
        .find_map(|p| match p {
            Parsed::Broken(message) => Some(message),
            Parsed::Object { .. } => None,
        })
}

/// One level of nesting, written in one of the ways YAML allows.
#[derive(Debug, Clone, Copy)]
enum Level {
    FlowSeq,
    FlowMap,
    Compact,
    Block,
}

/// A document nested `levels.len()` deep: block mappings first, then
/// compact sequences, then flow collections (each style can hold the next).
fn nested(levels: &[Level]) -> String {
    let count = |f: fn(&Level) -> bool| levels.iter().filter(|l| f(l)).count();
    let blocks = count(|l| matches!(l, Level::Block));
    let compact = count(|l| matches!(l, Level::Compact));
    let mut text = String::new();
    for indent in 0..blocks {
        text.push_str(&format!("{}k:\n", " ".repeat(indent)));
    }
    text.push_str(&" ".repeat(blocks));
    text.push_str(&"- ".repeat(compact));
    let flow: Vec<bool> = levels
        .iter()
        .filter_map(|l| match l {
            Level::FlowSeq => Some(true),
            Level::FlowMap => Some(false),
            _ => None,
        })
        .collect();
    for &seq in &flow {
        text.push_str(if seq { "[" } else { "{a: " });
    }
    text.push('x');
    for &seq in flow.iter().rev() {
        text.push(if seq { ']' } else { '}' });
    }
    text.push('\n');
    text
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        Just(Level::FlowSeq),
        Just(Level::FlowMap),
        Just(Level::Compact),
        Just(Level::Block),
    ]
}

#[test]
fn generated_yaml_never_makes_the_parsers_disagree() {
    let mut runner = runner(64);
    let cases = runner.config().cases as usize;
    let strategy = (node(), prop::collection::vec(any::<u8>(), 1..32));
    let taken = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(root, choices)| {
            let root = match root {
                Node::Map(_) => root,
                other => Node::Map(vec![("root", other)]),
            };
            if agrees(&render(&root, &choices))? {
                taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // The comparison only has teeth where the fast parser answers.
    let taken = taken.into_inner();
    assert!(
        taken * 5 >= cases,
        "the fast parser took only {taken} of {cases} cases"
    );
}

/// What `Manifests` hands the policies from its trees is what the policies'
/// own serde-saphyr reading gives, for every file it calls exact.
#[test]
fn exact_manifests_give_the_policies_own_reading() {
    let mut runner = runner(64);
    let cases = runner.config().cases as usize;
    let strategy = (node(), node(), prop::collection::vec(any::<u8>(), 1..32));
    let taken = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(first, second, choices)| {
            let text = format!(
                "{}---\n{}",
                render(
                    &Node::Map(vec![("kind", Node::Scalar("web")), ("a", first)]),
                    &choices
                ),
                render(&Node::Map(vec![("b", second)]), &choices)
            );
            let files = [crate::manifest::File {
                path: "f.yaml".into(),
                content: text.clone(),
            }];
            let values = super::Manifests::parse(&files).values();
            if let Some(Some(values)) = values.into_iter().next() {
                let policies: Vec<serde_json::Value> = crate::yaml::manifest_values(&text)
                    .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?
                    .into_iter()
                    .filter(|v| !v.is_null())
                    .collect();
                prop_assert_eq!(values, policies, "on:\n{}", text);
                taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let taken = taken.into_inner();
    assert!(taken * 10 >= cases, "only {taken} of {cases} files were exact");
}

#[test]
fn mutated_yaml_never_makes_the_parsers_disagree() {
    const PIECES: &[&str] = &[
        " ", "  ", "-", "- ", ":", ": ", "#", " #", "\"", "'", "\n", "[", "]", "{", "}", ",", "|", "~", "0",
        "\t", "&a ", "*a", "!", "?", "---", ">", "\\",
    ];
    let mut runner = runner(64);
    let edits = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::sample::select(PIECES),
            any::<bool>(),
        ),
        1..4,
    );
    let strategy = (node(), prop::collection::vec(any::<u8>(), 1..32), edits);
    runner
        .run(&strategy, |(root, choices, edits)| {
            let mut text = render(&Node::Map(vec![("root", root)]), &choices);
            for (at, piece, insert) in edits {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if insert || at == text.len() {
                    text.insert_str(at, piece);
                } else {
                    text.remove(at);
                }
            }
            agrees(&text).map(|_| ())
        })
        .unwrap();
}

#[test]
fn deep_documents_are_refused_past_the_limit_and_never_crash() {
    let mut runner = runner(48);
    let strategy = prop_oneof![
        prop::collection::vec(level(), 100..160),
        prop::collection::vec(level(), 1..3000),
    ];
    runner
        .run(&strategy, |mut levels| {
            // Block levels cost their depth in indentation on every line: keep them few.
            let mut blocks = 0;
            levels.retain(|l| {
                !matches!(l, Level::Block) || {
                    blocks += 1;
                    blocks <= 300
                }
            });
            let text = nested(&levels);
            let depth = crate::yaml::saphyr::depth_of(&text);
            let message = on_small_stack(|| broken(&text));
            match depth {
                Some(d) if d > MAX_DEPTH => {
                    prop_assert!(
                        message.as_deref().is_some_and(|m| m.contains(TOO_DEEP)),
                        "{:?} at depth {}",
                        message,
                        d
                    )
                }
                _ => prop_assert!(
                    !message.as_deref().is_some_and(|m| m.contains(TOO_DEEP)),
                    "{:?}",
                    message
                ),
            }
            Ok(())
        })
        .unwrap();
}

/// `levels` anchors, each a sequence of `fan_out` aliases of the previous one.
fn alias_bomb(levels: usize, fan_out: usize, leaf: &str) -> String {
    let mut text = format!("a0: &a0 {leaf}\n");
    for i in 1..=levels {
        let refs = vec![format!("*a{}", i - 1); fan_out].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    text
}

#[test]
fn alias_bombs_finish_and_are_refused_past_the_limits() {
    let mut runner = runner(48);
    let strategy = (
        1usize..12,
        1usize..12,
        prop_oneof![Just(1usize), Just(64), Just(200_000)],
    );
    runner
        .run(&strategy, |(levels, fan_out, leaf_len)| {
            let text = alias_bomb(levels, fan_out, &"x".repeat(leaf_len));
            let message = on_small_stack(|| broken(&text));
            let expanded = (fan_out as f64).powi(levels as i32);
            if expanded * leaf_len as f64 > 4.0 * (1 << 20) as f64 || expanded > 100_000.0 {
                prop_assert!(
                    message.as_deref().is_some_and(|m| m.contains(ALIAS_BOMB)),
                    "{:?}",
                    message
                );
            }
            if expanded < 500.0 && (expanded * leaf_len as f64) < 100_000.0 {
                prop_assert!(message.is_none(), "{:?}", message);
            }
            Ok(())
        })
        .unwrap();
}

// Regression tests: inputs these properties (or the hostile-input pass) broke.

#[test]
fn thirty_thousand_flow_levels_are_refused_not_a_stack_overflow() {
    let text = format!("data: {{a: {}{}}}\n", "[".repeat(30_000), "]".repeat(30_000));
    let message = on_small_stack(|| broken(&text));
    assert!(message.is_some_and(|m| m.contains(TOO_DEEP)));
}

#[test]
fn ten_thousand_compact_levels_are_refused_not_a_stack_overflow() {
    let text = format!("{}x\n", "- ".repeat(10_000));
    let message = on_small_stack(|| broken(&text));
    assert!(message.is_some_and(|m| m.contains(TOO_DEEP)));
}

#[test]
fn json_nested_past_the_limit_is_refused() {
    let text = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let message = on_small_stack(|| broken(&text));
    assert!(message.is_some_and(|m| m.contains(TOO_DEEP)));
}
