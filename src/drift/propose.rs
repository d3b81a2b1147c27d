//! Turn a drift report into a commit: the files to write and the message.
//!
//! - `revert` keeps Git's values and records the drift: each drifted
//!   resource gets a `gitintent.io/drift` annotation summarising what the
//!   cluster had, so the commit changes the resource (reconciliation then
//!   re-applies Git's values) and documents what happened; the message has
//!   the full list.
//! - `adopt` writes the live values of the drifted scalar fields into the
//!   Git files, editing only those lines (comments and formatting stay).
//!   Each edit is checked by parsing the result back; a field that cannot be
//!   edited that way (not a plain scalar, absent in the cluster) is listed
//!   in [`Proposal::skipped`] instead. Missing and extra objects are never
//!   added to or removed from Git by `adopt`.
//!
//! File contents are read from the same [`Source`] the report was built
//! from, so a proposal never carries uncommitted working-tree edits. It does
//! not commit, push or open a pull request (the CLI hands `files` and
//! `message` to `crate::propose`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::compare::compare;
use super::edit::{replace_scalar, set_annotation, split_documents};
use super::report::{Entry, Report, Status};
use super::source::Source;
use super::Error;
use crate::manifest::File;

/// The annotation a revert writes on each drifted resource.
pub const DRIFT_ANNOTATION: &str = "gitintent.io/drift";

/// What to do about drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Keep Git's values and record the drift.
    Revert,
    /// Write the live values into Git.
    Adopt,
}

/// A field or resource the proposal leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// `Kind namespace/name`.
    pub resource: String,
    /// The field path, empty for a whole resource.
    pub path: String,
    pub reason: String,
}

/// A proposed commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub mode: Mode,
    /// First line of the commit message (and PR title).
    pub title: String,
    /// The whole commit message.
    pub message: String,
    /// Full new content of every file that changes.
    pub files: Vec<File>,
    pub skipped: Vec<Skipped>,
}

fn label(e: &Entry) -> String {
    match &e.namespace {
        Some(ns) => format!("{} {ns}/{}", e.kind, e.name),
        None => format!("{} {}", e.kind, e.name),
    }
}

fn summary_line(e: &Entry) -> String {
    let fields: Vec<String> = e
        .differences
        .iter()
        .map(|d| format!("{}: git {}, live {}", d.path, d.git, d.live))
        .collect();
    fields.join("; ")
}

/// Builds the revert or adopt commit for `report`, reading the declared
/// files from `source` (the one the report was collected from).
pub fn propose(source: &Source, report: &Report, mode: Mode) -> Result<Proposal, Error> {
    let (by_file, mut skipped) = by_file(report, mode);
    let mut files = Vec::new();
    for (path, entries) in by_file {
        files.extend(edit_file(source, path, &entries, mode, &mut skipped)?);
    }
    let title = title(report, mode);
    let message = message(report, mode, &title, &skipped);
    Ok(Proposal {
        mode,
        title,
        message,
        files,
        skipped,
    })
}

/// The drifted resources by the file that declares them, and the missing
/// and extra ones, which a proposal leaves alone (with why).
fn by_file(report: &Report, mode: Mode) -> (BTreeMap<&str, Vec<&Entry>>, Vec<Skipped>) {
    let mut skipped = Vec::new();
    let mut by_file: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &report.resources {
        match (e.status, &e.file) {
            (Status::Drifted, Some(file)) => by_file.entry(file).or_default().push(e),
            (Status::Missing, _) => skipped.push(Skipped {
                resource: label(e),
                path: String::new(),
                reason: match mode {
                    Mode::Revert => "missing in the cluster: reconciliation recreates it from Git".into(),
                    Mode::Adopt => {
                        "missing in the cluster: remove it from Git with a plan, not by adopting".into()
                    }
                },
            }),
            (Status::Extra, _) => skipped.push(Skipped {
                resource: label(e),
                path: String::new(),
                reason: "not in Git: add it with a plan or delete it from the cluster".into(),
            }),
            _ => {}
        }
    }
    (by_file, skipped)
}

/// The new content of `path` with each of `entries`' documents annotated
/// (revert) or given the live values (adopt); `None` when nothing changed.
/// What cannot be edited joins `skipped`.
fn edit_file(
    source: &Source,
    path: &str,
    entries: &[&Entry],
    mode: Mode,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<File>, Error> {
    crate::repo::join_inside(std::path::Path::new(""), path)?;
    let text = source.read(path)?.ok_or_else(|| Error::Read {
        path: path.into(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file at the base"),
    })?;
    let ranges = split_documents(&text);
    let mut docs: Vec<String> = ranges.iter().map(|r| text[r.clone()].to_string()).collect();
    for e in entries {
        let Some(doc) = docs.get_mut(e.document) else {
            continue;
        };
        match mode {
            Mode::Revert => match set_annotation(doc, DRIFT_ANNOTATION, &summary_line(e)) {
                Some(new) => *doc = new,
                None => skipped.push(Skipped {
                    resource: label(e),
                    path: "metadata.annotations".into(),
                    reason: "metadata is not in block style; the drift is recorded in the message only"
                        .into(),
                }),
            },
            Mode::Adopt => adopt(doc, e, skipped),
        }
    }
    // The documents back between the original separators and comments.
    let mut content = String::new();
    let mut prev_end = 0;
    for (range, doc) in ranges.iter().zip(&docs) {
        content.push_str(&text[prev_end..range.start]);
        content.push_str(doc);
        prev_end = range.end;
    }
    Ok((content != text).then(|| File {
        path: path.to_string(),
        content,
    }))
}

/// The commit's first line: the mode, the environment, how many drifted.
fn title(report: &Report, mode: Mode) -> String {
    let drifted = report
        .resources
        .iter()
        .filter(|e| e.status == Status::Drifted)
        .count();
    match mode {
        Mode::Revert => format!(
            "drift({}): restore Git values of {drifted} drifted resource(s)",
            report.environment,
        ),
        Mode::Adopt => format!(
            "drift({}): adopt live values of {drifted} drifted resource(s)",
            report.environment,
        ),
    }
}

/// The whole commit message: the title, every drifted, missing and extra
/// resource, what the mode does, and what is left alone.
fn message(report: &Report, mode: Mode, title: &str, skipped: &[Skipped]) -> String {
    let mut message = format!(
        "{title}\n\nDrift found in {} on {} (score {}):\n",
        report.environment, report.server, report.score
    );
    for e in &report.resources {
        match e.status {
            Status::Drifted => {
                message.push_str(&format!(
                    "- {} ({}):\n",
                    label(e),
                    e.file.as_deref().unwrap_or("")
                ));
                for d in &e.differences {
                    message.push_str(&format!("    {}: git {}, live {}\n", d.path, d.git, d.live));
                }
            }
            Status::Missing => message.push_str(&format!("- {}: missing in the cluster\n", label(e))),
            Status::Extra => message.push_str(&format!("- {}: in the cluster, not in Git\n", label(e))),
            _ => {}
        }
    }
    message.push_str(match mode {
        Mode::Revert => "\nGit stays the source of truth: reconciliation restores the Git values above.\n",
        Mode::Adopt => "\nThe live values above are written into Git.\n",
    });
    if !skipped.is_empty() {
        message.push_str("\nLeft alone:\n");
        for s in skipped {
            let path = if s.path.is_empty() {
                String::new()
            } else {
                format!(" {}", s.path)
            };
            message.push_str(&format!("- {}{path}: {}\n", s.resource, s.reason));
        }
    }
    message
}

fn adopt(doc: &mut String, e: &Entry, skipped: &mut Vec<Skipped>) {
    for d in &e.differences {
        let skip = |reason: &str| Skipped {
            resource: label(e),
            path: d.path.clone(),
            reason: reason.to_string(),
        };
        if d.live.is_null() {
            skipped.push(skip("absent in the cluster"));
            continue;
        }
        if d.live.is_object() || d.live.is_array() {
            skipped.push(skip("not a scalar; edit it by hand"));
            continue;
        }
        let Some(new) = replace_scalar(doc, &d.segments, &d.live) else {
            skipped.push(skip("not a plain one-line scalar in the file; edit it by hand"));
            continue;
        };
        if still_differs(&new, d) {
            skipped.push(skip(
                "the edit did not read back as the live value; edit it by hand",
            ));
            continue;
        }
        *doc = new;
    }
}

/// Parses an edited document back and checks the path now has the live value.
fn still_differs(text: &str, d: &super::report::Difference) -> bool {
    let Ok(parsed) = crate::yaml::manifest_values(text) else {
        return true;
    };
    let Some(doc) = parsed.into_iter().find(|v| !v.is_null()) else {
        return true;
    };
    let mut live = doc.clone();
    if !set_at(&mut live, &d.segments, d.live.clone()) {
        return true;
    }
    compare(&doc, &live).iter().any(|x| x.path == d.segments)
        || compare(&live, &doc).iter().any(|x| x.path == d.segments)
}

/// Sets the value at a path in a JSON value; false when the path is absent.
fn set_at(v: &mut Value, path: &[super::compare::Seg], new: Value) -> bool {
    use super::compare::Seg;
    let Some((first, rest)) = path.split_first() else {
        *v = new;
        return true;
    };
    let next = match first {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
        Seg::Named(n) => v.as_array_mut().and_then(|a| {
            a.iter_mut()
                .find(|x| x.get("name").and_then(Value::as_str) == Some(n))
        }),
    };
    next.is_some_and(|n| set_at(n, rest, new))
}
