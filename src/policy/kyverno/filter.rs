//! Kyverno `match` and `exclude` blocks: `any`/`all` lists (or the legacy
//! bare entry) of `resources` (`kinds` with optional group and version,
//! `name`/`names`, `namespaces`, all with wildcards; `operations`, which
//! must name `CREATE` as a manifest is about to be created) and `subjects`,
//! `roles`, `clusterRoles`, which name who makes a request and cannot be
//! known offline: `match` ignores them and an `exclude` entry naming them
//! excludes nothing. Label selectors and annotations are not evaluated and
//! are reported by the caller.

use serde_json::Value;

use super::pattern::wildcard;

/// `match` or `exclude`: `any` of these, and `all` of those.
#[derive(Debug, Clone, Default)]
pub(super) struct Filter {
    any: Vec<Entry>,
    all: Vec<Entry>,
}

/// One resource filter: its `resources` block, and whether it also names
/// `subjects`/`roles`/`clusterRoles` (unknowable offline).
#[derive(Debug, Clone)]
struct Entry {
    resources: Option<Resources>,
    user: bool,
}

/// A `resources` block, read once: each list is `None` when the block
/// does not restrict it (absent, or not a list).
#[derive(Debug, Clone, Default)]
struct Resources {
    /// Kinds without their group and version.
    kinds: Option<Vec<String>>,
    names: Option<Vec<String>>,
    name: Option<String>,
    namespaces: Option<Vec<String>>,
    operations: Option<Vec<String>>,
}

impl Resources {
    fn read(r: &Value) -> Resources {
        let strings = |key: &str| -> Option<Vec<String>> {
            r.get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        };
        Resources {
            kinds: strings("kinds").map(|kinds| {
                kinds
                    .iter()
                    .map(|k| k.rsplit('/').next().unwrap_or(k).to_string())
                    .collect()
            }),
            names: strings("names"),
            name: r.get("name").and_then(Value::as_str).map(str::to_string),
            namespaces: strings("namespaces"),
            operations: strings("operations"),
        }
    }
}

/// Reads `match`/`exclude`; `None` when it names no resources at all.
/// Sets `user` when an entry names subjects, roles or cluster roles.
pub(super) fn filter(m: Option<&Value>, skip: &mut Vec<String>, user: &mut bool) -> Option<Filter> {
    let m = m?;
    let mut unread = Vec::new();
    let mut entry = |e: &Value| {
        let resources = e.get("resources");
        for key in ["selector", "namespaceSelector", "annotations"] {
            if resources.is_some_and(|r| r.get(key).is_some()) {
                unread.push(format!("match.resources.{key}"));
            }
        }
        Entry {
            resources: resources.map(Resources::read),
            user: ["subjects", "roles", "clusterRoles"]
                .iter()
                .any(|k| e.get(k).is_some()),
        }
    };
    let mut list = |key: &str| -> Vec<Entry> {
        m.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(&mut entry).collect())
            .unwrap_or_default()
    };
    let mut f = Filter {
        any: list("any"),
        all: list("all"),
    };
    if m.get("resources").is_some()
        || m.get("subjects").is_some()
        || m.get("roles").is_some()
        || m.get("clusterRoles").is_some()
    {
        f.all.push(entry(m));
    }
    skip.extend(unread);
    for e in f.any.iter().chain(&f.all) {
        *user |= e.user;
    }
    f.any
        .iter()
        .chain(&f.all)
        .any(|e| e.resources.is_some())
        .then_some(f)
}

impl Filter {
    /// As `match`: entries naming subjects are taken to hold.
    pub(super) fn matches(&self, doc: &Value, kind: &str) -> bool {
        let hit = |e: &Entry| {
            e.resources
                .as_ref()
                .is_none_or(|r| resource_matches(r, doc, kind))
        };
        (self.any.is_empty() || self.any.iter().any(hit)) && self.all.iter().all(hit)
    }

    /// As `exclude`: an entry naming subjects, or no resources, never
    /// matches offline, and an empty exclude excludes nothing.
    pub(super) fn excludes(&self, doc: &Value, kind: &str) -> bool {
        let hit = |e: &Entry| {
            !e.user
                && e.resources
                    .as_ref()
                    .is_some_and(|r| resource_matches(r, doc, kind))
        };
        if self.any.is_empty() && self.all.is_empty() {
            return false;
        }
        (self.any.is_empty() || self.any.iter().any(hit)) && self.all.iter().all(hit)
    }
}

fn resource_matches(r: &Resources, doc: &Value, kind: &str) -> bool {
    let field = |pointer: &str| doc.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let name = || field("/metadata/name");
    any_of(&r.kinds, || kind)
        && any_of(&r.names, name)
        && r.name.as_deref().is_none_or(|p| wildcard(p, name()))
        && any_of(&r.namespaces, || field("/metadata/namespace"))
        // A manifest is about to be created: `operations` must name CREATE.
        && r.operations.as_ref().is_none_or(|ops| ops.iter().any(|o| o == "CREATE"))
}

/// Whether `text` matches one of `patterns`, or there are none to match.
fn any_of<'a>(patterns: &Option<Vec<String>>, text: impl Fn() -> &'a str) -> bool {
    patterns
        .as_ref()
        .is_none_or(|ps| ps.iter().any(|p| wildcard(p, text())))
}

impl Filter {
    /// The kinds a resource must have for this `match` to hold: the union of
    /// the `any` entries' kinds, else those of the first `all` entry naming
    /// kinds; `None` when that leaves any kind possible.
    pub(super) fn kinds(&self) -> Option<Vec<String>> {
        if !self.any.is_empty() {
            let mut out = Vec::new();
            for entry in &self.any {
                out.extend(entry_kinds(entry)?);
            }
            return Some(out);
        }
        self.all.iter().find_map(entry_kinds)
    }
}

/// `resources.kinds` of an entry without group and version; `None` when it
/// does not restrict kinds.
fn entry_kinds(entry: &Entry) -> Option<Vec<String>> {
    entry.resources.as_ref()?.kinds.clone()
}
