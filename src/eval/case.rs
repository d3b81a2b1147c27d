//! Eval cases: the YAML format of `evals/*.yaml` and its loader.
//!
//! Loading checks everything that can be checked before a run (one intent
//! source, compilable regular expressions, unique names), so a typo fails the
//! whole load with the file and case named instead of silently checking
//! nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::Error;

/// One eval case: an intent and what must be true of its plan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique across every loaded file.
    pub name: String,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    intent_repeat: Option<Repeat>,
    /// The `--env` value, overriding any environment the text names.
    #[serde(default)]
    pub environment: Option<String>,
    /// A directory (relative to the case file) holding a GitOps repository's
    /// files: the case plans against it as `plan --repo` would, at a commit
    /// of exactly those files. Day-2 cases need one.
    #[serde(default)]
    pub repo: Option<PathBuf>,
    #[serde(default)]
    pub expect: Expect,
    /// The file the case came from.
    #[serde(skip)]
    pub file: PathBuf,
}

/// `text` repeated `times` times: oversized input without a huge line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    text: String,
    times: usize,
}

/// The assertions of a case; every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Existing files a change must edit in place.
    #[serde(default)]
    pub modified: Vec<String>,
    /// Files a change must remove.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// Resources that must be rendered: `Kind/name`, or a bare `Kind`.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Values at dotted paths of a rendered resource.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Paths of files that must be rendered (`clusters/staging/apps/redis/statefulset.yaml`).
    #[serde(default)]
    pub files: Vec<String>,
    /// Kinds or `Kind/name`s that must not be rendered.
    #[serde(default)]
    pub absent_kinds: Vec<String>,
    /// Strings that must appear nowhere in the plan.
    #[serde(default)]
    pub forbidden_strings: Vec<String>,
    /// Planning must fail.
    #[serde(default)]
    pub rejected: bool,
    /// With `rejected`: a regular expression the error message must match,
    /// saying which rejection is expected.
    #[serde(default)]
    pub error_matches: Option<String>,
    /// Most error findings allowed.
    #[serde(default)]
    pub max_error_findings: Option<usize>,
    /// Rules of findings the plan must carry (`cluster-unsupported`).
    #[serde(default)]
    pub findings: Vec<String>,
    /// Regular expressions each of which must match one of the spec's
    /// assumptions or questions.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Regular expressions; each must match the phrase or the reason of an
    /// entry of `spec.unsupported` (what the plan says it does not do).
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// Most `spec.unsupported` entries allowed (0: the plan does all of it).
    #[serde(default)]
    pub max_unsupported: Option<usize>,
    /// Regular expressions; each must match one of `spec.assumptions`.
    #[serde(default)]
    pub assumptions: Vec<String>,
    /// Regular expressions; each must match one of `spec.questions`.
    #[serde(default)]
    pub questions: Vec<String>,
}

/// A field assertion: `equals` (JSON equality) and/or `matches` (regex).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// `Kind/name` of the resource.
    pub resource: String,
    /// Dotted path; numeric segments index lists.
    pub path: String,
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default)]
    pub matches: Option<String>,
}

impl Case {
    /// The intent text, built from `intent_repeat` when that is given.
    pub fn intent_text(&self) -> String {
        match (&self.intent, &self.intent_repeat) {
            (Some(t), _) => t.clone(),
            (None, Some(r)) => r.text.repeat(r.times),
            (None, None) => String::new(),
        }
    }

    /// The problems [`load`] reports for this case.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match (&self.intent, &self.intent_repeat) {
            (Some(_), Some(_)) => problems.push("give `intent` or `intent_repeat`, not both".into()),
            (None, None) => problems.push("has neither `intent` nor `intent_repeat`".into()),
            (None, Some(r)) if r.times == 0 || r.times > 1_000_000 => {
                problems.push("`intent_repeat.times` must be between 1 and 1000000".into())
            }
            _ => {}
        }
        if self.name.trim().is_empty() {
            problems.push("has an empty name".into());
        }
        let e = &self.expect;
        if e.error_matches.is_some() && !e.rejected {
            problems.push("`error_matches` needs `rejected: true`".into());
        }
        let patterns = e
            .fields
            .iter()
            .filter_map(|f| f.matches.as_deref())
            .chain(e.error_matches.as_deref())
            .chain(e.notes.iter().map(String::as_str))
            .chain(e.unsupported.iter().map(String::as_str))
            .chain(e.assumptions.iter().map(String::as_str))
            .chain(e.questions.iter().map(String::as_str));
        for pattern in patterns {
            if let Err(err) = regex_lite::Regex::new(pattern) {
                problems.push(format!("invalid regular expression {pattern:?}: {err}"));
            }
        }
        for f in &e.fields {
            if f.equals.is_none() && f.matches.is_none() {
                problems.push(format!(
                    "field {} {} has neither `equals` nor `matches`",
                    f.resource, f.path
                ));
            }
            if !f.resource.contains('/') {
                problems.push(format!("field resource {:?} is not Kind/name", f.resource));
            }
        }
        problems
    }
}

/// The case files under `paths`: files as given, directories' `*.yaml` and
/// `*.yml` files (not recursive), each directory's in name order.
pub fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// Loads and checks every case under `paths` (see [`files`]).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Case>, Error> {
    let mut cases = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for file in files(paths)? {
        for case in load_file(&file)? {
            if let Some(first) = seen.get(&case.name) {
                return Err(Error::Case {
                    path: file,
                    case: case.name,
                    message: format!("the name is already used in {}", first.display()),
                });
            }
            seen.insert(case.name.clone(), file.clone());
            cases.push(case);
        }
    }
    if cases.is_empty() {
        return Err(Error::NoCases(paths.to_vec()));
    }
    Ok(cases)
}

fn load_file(path: &Path) -> Result<Vec<Case>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut cases: Vec<Case> = if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
    {
        Vec::new()
    } else {
        crate::yaml::typed(&text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
    };
    for case in &mut cases {
        case.file = path.to_path_buf();
        if let Some(repo) = &case.repo {
            let dir = path.parent().unwrap_or(Path::new("")).join(repo);
            if !dir.is_dir() {
                return Err(Error::Case {
                    path: path.to_path_buf(),
                    case: case.name.clone(),
                    message: format!("repo {} is not a directory", dir.display()),
                });
            }
            case.repo = Some(dir);
        }
        if let Some(problem) = case.problems().into_iter().next() {
            return Err(Error::Case {
                path: path.to_path_buf(),
                case: case.name.clone(),
                message: problem,
            });
        }
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_directory_loads_its_yaml_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.yaml", "- name: two\n  intent: deploy redis\n");
        write(
            dir.path(),
            "a.yml",
            "- name: one\n  intent_repeat: {text: 'x ', times: 3}\n",
        );
        write(dir.path(), "notes.txt", "- name: ignored\n");
        let cases = load(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(cases[0].intent_text(), "x x x ");
        assert!(cases[1].file.ends_with("b.yaml"));
    }

    #[test]
    fn bad_cases_name_the_file_and_the_case() {
        let dir = tempfile::tempdir().unwrap();
        let bad = [
            ("- name: both\n  intent: a\n  intent_repeat: {text: a, times: 2}\n", "not both"),
            ("- name: none\n", "neither"),
            (
                "- name: re\n  intent: a\n  expect:\n    fields: [{resource: Service/a, path: x, matches: '('}]\n",
                "invalid regular expression",
            ),
            ("- name: why\n  intent: a\n  expect: {error_matches: x}\n", "needs `rejected"),
        ];
        for (text, want) in bad {
            let path = write(dir.path(), "bad.yaml", text);
            let err = load(&[path]).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::Case { .. }), "{msg}");
            assert!(msg.contains("bad.yaml") && msg.contains(want), "{msg}");
        }
        let typo = write(
            dir.path(),
            "typo.yaml",
            "- name: t\n  intent: a\n  expect: {kind: [x]}\n",
        );
        let msg = load(&[typo]).unwrap_err().to_string();
        assert!(msg.contains("typo.yaml") && msg.contains("kind"), "{msg}");
    }

    #[test]
    fn duplicate_names_and_empty_sets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.yaml", "- name: same\n  intent: a\n");
        let b = write(dir.path(), "b.yaml", "- name: same\n  intent: b\n");
        let msg = load(&[a, b]).unwrap_err().to_string();
        assert!(msg.contains("already used in") && msg.contains("a.yaml"), "{msg}");
        let empty = write(dir.path(), "empty.yaml", "# nothing yet\n");
        assert!(matches!(load(&[empty]), Err(Error::NoCases(_))));
        let missing = dir.path().join("missing.yaml");
        assert!(load(&[missing]).unwrap_err().to_string().contains("missing.yaml"));
    }
}
