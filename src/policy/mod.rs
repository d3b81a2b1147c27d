//! The policy gate: is a well-formed manifest acceptable to this organisation?
//!
//! Input is files of Kubernetes manifests (YAML, multi-document) plus
//! [`Settings`] taken from `.gitintent.yaml`; output is [`Finding`]s. Three
//! kinds of policy make a [`PolicySet`]:
//!
//! - the built-in pack, Rego in `policies/` embedded in the binary
//!   ([`PolicySet::builtin`]; rule table in `policies/README.md`),
//!   evaluated natively where that is exact (`native/`), by regorus otherwise;
//! - the repo's own Rego, conftest style (`deny`/`violation` → error,
//!   `warn` → warning, packages `main` or [`Settings::namespaces`]);
//! - the repo's Kyverno `ClusterPolicy`/`Policy` documents with
//!   validate rules (patterns, deny conditions, foreach, preconditions,
//!   JMESPath variables, `podSecurity`, `cel`), evaluated natively (see
//!   `kyverno/`);
//! - the repo's Gatekeeper `ConstraintTemplate`s (Rego or CEL code) and
//!   constraints (see `gatekeeper/`);
//! - the repo's CEL policies: Kyverno `ValidatingPolicy` and Kubernetes
//!   `ValidatingAdmissionPolicy` with its bindings and params (see `cel/`).
//!
//! Fail closed: every other policy-shaped document (other Kyverno CEL
//! policies, mutating admission policies, …) and every rule that cannot
//! be evaluated is a finding (`reported.rs`): an error when it enforces, a
//! warning when it only audits. Nothing is dropped in silence.
//!
//! Every policy is parsed when the set is built, never at check time; a
//! policy file that does not parse is an [`Error`] naming file, line and
//! column, and no partial set is returned. A set is cheap to clone and
//! `Send + Sync`, so build it once and share it.
//!
//! Waivers (`gitintent.io/waive` + `gitintent.io/waive-reason` annotations)
//! downgrade findings to `info` inside [`PolicySet::check`].
//!
//! It does not read `.gitintent.yaml` (the caller passes [`Settings`]), fetch
//! policies from the network or mutate manifests.

mod builtin;
mod cel;
mod gatekeeper;
mod kyverno;
mod native;
mod rego;
mod reported;
mod source;
mod waiver;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::finding::Finding;
use crate::manifest::File;
use crate::validate::Manifests;

/// Faults of the policy gate: policies that cannot be read or parsed.
/// Manifests that break a rule are findings, not errors.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A policy file or directory could not be read.
    #[error("cannot read policy {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    /// A Rego module does not parse (as v0 nor as v1).
    #[error("{file}:{line}:{column}: invalid Rego: {message}")]
    Rego {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A Kyverno policy is not a valid policy.
    #[error("{file}:{line}:{column}: invalid Kyverno policy: {message}")]
    Kyverno {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A policy file is not valid YAML, or a Gatekeeper template or
    /// constraint is not valid (`what` says which).
    #[error("{file}:{line}:{column}: invalid {what}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        what: String,
        message: String,
    },
}

/// What the repo asks of its manifests, from `.gitintent.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Label keys every resource must carry (`required-labels`).
    pub required_labels: Vec<String>,
    /// Image registries (or `registry/path` prefixes) images must come from;
    /// empty allows any (`allowed-registries`).
    pub allowed_registries: Vec<String>,
    /// The target environment; `production` (or `prod`) turns on the
    /// availability rules (PDB, replicas, Ingress TLS).
    pub environment: String,
    /// Rego packages whose `deny`/`violation`/`warn` rules are evaluated in
    /// the repo's policies (`policy-namespaces`); default `["main"]`.
    pub namespaces: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            required_labels: Vec::new(),
            allowed_registries: Vec::new(),
            environment: String::new(),
            namespaces: vec!["main".to_string()],
        }
    }
}

impl Settings {
    /// What `.gitintent.yaml` asks of the gate, for one environment.
    pub fn for_repo(config: &crate::repo::RepoConfig, environment: &str) -> Settings {
        let namespaces = match config.policy_namespaces.is_empty() {
            true => Settings::default().namespaces,
            false => config.policy_namespaces.clone(),
        };
        Settings {
            required_labels: config.required_labels.clone(),
            allowed_registries: config.allowed_registries.clone(),
            environment: environment.to_string(),
            namespaces,
        }
    }

    /// True for `production` and `prod` (any case).
    pub fn is_production(&self) -> bool {
        matches!(
            self.environment.to_ascii_lowercase().as_str(),
            "production" | "prod"
        )
    }
}

/// A compiled set of policies. Clone it freely: the compiled parts are shared.
#[derive(Clone)]
pub struct PolicySet {
    builtin: Option<Arc<rego::Rego>>,
    repo: Arc<rego::Rego>,
    kyverno: Arc<Vec<kyverno::Policy>>,
    gatekeeper: Arc<gatekeeper::Gatekeeper>,
    cel: Arc<self::cel::Cel>,
    /// Findings about the policies themselves: what is not evaluated, notes.
    reported: Arc<Vec<Finding>>,
    /// The built-in pack runs natively where that is exact (`native/`).
    native: bool,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("builtin", &self.builtin.is_some())
            .field("rego_packages", &self.repo.packages())
            .field("kyverno_policies", &self.kyverno.len())
            .field("gatekeeper", &!self.gatekeeper.is_empty())
            .field("cel", &!self.cel.is_empty())
            .field("reported", &self.reported.len())
            .finish()
    }
}

impl PolicySet {
    /// No policies at all; add some with [`PolicySet::with_dir`].
    pub fn empty() -> PolicySet {
        PolicySet {
            builtin: None,
            repo: Arc::new(rego::Rego::new()),
            kyverno: Arc::new(Vec::new()),
            gatekeeper: Arc::new(gatekeeper::Gatekeeper::default()),
            cel: Arc::new(self::cel::Cel::default()),
            reported: Arc::new(Vec::new()),
            native: true,
        }
    }

    /// The same set with the built-in pack always evaluated by the Rego
    /// interpreter, never natively: the reference the differential tests
    /// (`tests/policy_batch.rs`) and the `gate` bench compare against.
    #[doc(hidden)]
    pub fn interpreted(self) -> PolicySet {
        PolicySet {
            native: false,
            ..self
        }
    }

    /// The built-in pack, compiled once per process.
    pub fn builtin() -> Result<PolicySet, Error> {
        static PACK: OnceLock<Result<Arc<rego::Rego>, Error>> = OnceLock::new();
        let pack = PACK.get_or_init(|| builtin::compile().map(Arc::new)).clone()?;
        Ok(PolicySet {
            builtin: Some(pack),
            ..PolicySet::empty()
        })
    }

    /// Only the policies found in `dir` (no built-in pack).
    pub fn load_dir(dir: &Path) -> Result<PolicySet, Error> {
        PolicySet::empty().with_dir(dir)
    }

    /// Adds the policies of `path`: a directory (see [`PolicySet::with_dir`])
    /// or one file (`.rego`, or YAML of any extension).
    pub fn with_path(self, path: &Path) -> Result<PolicySet, Error> {
        if path.is_dir() {
            return self.with_dir(path);
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        self.with_source(&path.display().to_string(), &text)
    }

    /// Adds every `.rego` file and every policy document in
    /// `*.yaml`/`*.yml` under `dir` (recursively, in path order). Rego test
    /// files (`*_test.rego`) are skipped; YAML documents that are not
    /// policies are ignored.
    pub fn with_dir(self, dir: &Path) -> Result<PolicySet, Error> {
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        files.sort();
        let mut set = self;
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::Read {
                path: path.clone(),
                message: e.to_string(),
            })?;
            set = set.with_source(&path.display().to_string(), &text)?;
        }
        Ok(set)
    }

    /// Adds one policy source: Rego when `name` ends in `.rego`, otherwise
    /// YAML that may hold Kyverno, Gatekeeper or admission policies. On
    /// error the set is unchanged (it is consumed; nothing half-loaded
    /// escapes).
    pub fn with_source(mut self, name: &str, text: &str) -> Result<PolicySet, Error> {
        if name.ends_with(".rego") {
            Arc::make_mut(&mut self.repo).add(name, text)?;
            return Ok(self);
        }
        let mut kyverno = Vec::new();
        let mut gatekeeper = Vec::new();
        let mut reported = Vec::new();
        // On error the whole set is dropped, so adding in place is safe.
        let cel = Arc::make_mut(&mut self.cel);
        for doc in source::documents(name, text)? {
            if kyverno::is_policy(&doc) {
                let policy = kyverno::policy(name, text, &doc)?;
                reported.extend(policy.findings());
                kyverno.push(policy);
            } else if gatekeeper::is_template(&doc) {
                gatekeeper.push(Ok(gatekeeper::template(name, text, &doc)?));
            } else if gatekeeper::is_constraint(&doc) {
                gatekeeper.push(Err(gatekeeper::constraint(name, text, &doc)?));
            } else if self::cel::handles(&doc) {
                cel.add(name, text, &doc)?;
            } else if let Some(finding) = reported::finding(name, &doc) {
                reported.push(finding);
            } else {
                cel.add_document(&doc);
            }
        }
        Arc::make_mut(&mut self.kyverno).extend(kyverno);
        Arc::make_mut(&mut self.reported).extend(reported);
        if !gatekeeper.is_empty() {
            let set = Arc::make_mut(&mut self.gatekeeper);
            for item in gatekeeper {
                match item {
                    Ok(template) => set.add_template(template),
                    Err(constraint) => set.add_constraint(constraint),
                }
            }
        }
        Ok(self)
    }

    /// Checks every resource in `files`. Files that do not parse as YAML are
    /// skipped (schema validation reports them).
    pub fn check(&self, files: &[File], settings: &Settings) -> Vec<Finding> {
        self.check_parsed(&Manifests::parse(files), settings)
    }

    /// [`PolicySet::check`] over files already parsed, so that schema
    /// validation and the policies share one parse: the documents the fast
    /// parser read exactly come from its trees, every other file is read
    /// with serde-saphyr as policies always read files.
    pub fn check_parsed(&self, manifests: &Manifests<'_>, settings: &Settings) -> Vec<Finding> {
        let mut docs = Vec::new();
        let mut unparsed = Vec::new();
        for (file, values) in manifests.files().iter().zip(manifests.values()) {
            match values.map_or_else(|| parse_stream(&file.content), Ok) {
                Ok(values) => docs.extend(values.into_iter().map(|v| (file.path.as_str(), v))),
                Err(e) => unparsed.push(
                    Finding::new(
                        crate::finding::Severity::Warning,
                        "policy-skipped",
                        &file.path,
                        "",
                        format!(
                            "not checked by policies: the file is not valid YAML ({})",
                            first_line(&crate::yaml::saphyr::message(&e))
                        ),
                    )
                    .in_file(&file.path),
                ),
            }
        }
        let docs: Vec<(Option<&str>, &serde_json::Value)> = docs.iter().map(|(f, v)| (Some(*f), v)).collect();
        let mut findings = self.check_documents(&docs, settings);
        findings.extend(unparsed);
        findings
    }

    /// Checks parsed resources, each with the file it came from if known.
    /// `kind: List` documents are expanded; non-objects are skipped.
    pub fn check_documents(
        &self,
        docs: &[(Option<&str>, &serde_json::Value)],
        settings: &Settings,
    ) -> Vec<Finding> {
        let mut resources: Vec<(Option<&str>, &serde_json::Value)> = Vec::new();
        for (file, doc) in docs {
            expand(*file, doc, &mut resources);
        }
        let facts = batch_data(&resources, settings);
        let data = rego::batch_data(&facts);
        let native_facts = self.native.then(|| native::Facts::new(settings, &facts));
        let repo_packages: Vec<String> = self
            .repo
            .packages()
            .iter()
            .filter(|p| settings.namespaces.contains(p))
            .cloned()
            .collect();
        let mut findings: Vec<Finding> = self.reported.iter().cloned().collect();
        findings.extend(self.unselected(&repo_packages, settings));
        findings.extend(self.gatekeeper.findings());
        findings.extend(self.cel.findings());
        let gatekeeper_data = self.gatekeeper.data(&resources);
        let cel_batch = self.cel.batch(&resources);
        let kyverno_index = kyverno::Index::new(&self.kyverno);
        // Each run of resources gets its own sessions (an engine is mutable
        // while it evaluates); the runs' findings are joined in input order.
        let check_run = |run: &[(Option<&str>, &serde_json::Value)]| -> Vec<Finding> {
            let mut builtin = self
                .builtin
                .as_deref()
                .map(|rego| native::Pack::new(rego, &data, native_facts.as_ref()));
            let mut repo = (!self.repo.is_empty()).then(|| (self.repo.session(&data), repo_packages.clone()));
            let mut gatekeeper = self.gatekeeper.session(&gatekeeper_data);
            let mut findings = Vec::new();
            for (file, doc) in run {
                let mut hits = Vec::new();
                if let Some(pack) = builtin.as_mut() {
                    hits.extend(pack.eval(doc));
                }
                if let Some((session, packages)) = repo.as_mut() {
                    hits.extend(session.eval(rego::input(doc), packages));
                }
                hits.extend(self.kyverno_hits(&kyverno_index, doc));
                hits.extend(gatekeeper.check(doc));
                hits.extend(self.cel.check(doc, &cel_batch));
                findings.extend(resource_findings(*file, doc, hits));
            }
            findings
        };
        findings.extend(crate::par::map_runs(&resources, MIN_PER_THREAD, check_run));
        findings
    }

    /// Rego rules in packages nobody asked for are not evaluated: say so.
    fn unselected(&self, repo_packages: &[String], settings: &Settings) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (package, file) in self.repo.ruled() {
            if !repo_packages.contains(package) {
                findings.push(
                    Finding::new(
                        crate::finding::Severity::Warning,
                        "rego-unselected",
                        format!("package {package}"),
                        "",
                        format!("Rego package {package} defines deny/violation/warn rules but is not evaluated: it is not among the selected packages ({}); select it with --rego-package or policy-namespaces", settings.namespaces.join(", ")),
                    )
                    .in_file(file),
                );
            }
        }
        findings
    }
}

/// The `hits` on one resource as findings on it (in `file` when known), its waivers applied.
fn resource_findings(file: Option<&str>, doc: &serde_json::Value, hits: Vec<rego::Hit>) -> Vec<Finding> {
    let name = resource_name(doc);
    let mut own: Vec<Finding> = hits
        .into_iter()
        .map(|h| {
            let f = Finding::new(h.severity, h.rule, &name, h.path, h.message);
            match file {
                Some(path) => f.in_file(path),
                None => f,
            }
        })
        .collect();
    waiver::apply(doc, &name, file, &mut own);
    own
}

impl PolicySet {
    /// The Kyverno policies' hits on `doc`, from only the policies `index`
    /// says can apply to its kind, sharing its pod view.
    fn kyverno_hits(&self, index: &kyverno::Index, doc: &serde_json::Value) -> Vec<rego::Hit> {
        let kind = doc.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let target = kyverno::Target::new(doc);
        self.kyverno
            .iter()
            .enumerate()
            .filter(|(i, _)| index.may_apply(*i, kind))
            .flat_map(|(_, policy)| policy.check_target(&target))
            .collect()
    }
}

/// How many resources of `docs` (after `List` expansion) the built-in pack
/// cannot evaluate natively, so that the Rego interpreter does: for the
/// differential tests, which must not compare two interpreter runs.
#[doc(hidden)]
pub fn native_fallbacks(docs: &[&serde_json::Value], settings: &Settings) -> usize {
    let mut resources = Vec::new();
    for doc in docs {
        expand(None, doc, &mut resources);
    }
    let facts = batch_data(&resources, settings);
    let facts = native::Facts::new(settings, &facts);
    resources
        .iter()
        .filter(|(_, doc)| native::eval(doc, &facts).is_err())
        .count()
}

/// Fewest resources worth a thread of their own: below this, spawning and
/// cloning an engine cost more than they save (a plan of 5–15 resources is
/// checked on the caller's thread).
const MIN_PER_THREAD: usize = 64;

/// [`crate::yaml::saphyr::manifest_values`] (a repeated key takes its last
/// value, as validation reads it), with big streams cut at `---` lines into
/// runs of documents parsed on all cores. Any run that fails sends the whole
/// text through it again, so errors (and what a failure skips) are the same.
fn parse_stream(text: &str) -> Result<Vec<serde_json::Value>, crate::yaml::Error> {
    let runs = runs_of_documents(text);
    if runs.len() > 1 {
        let parsed = crate::par::map(&runs, 1, |run| crate::yaml::saphyr::manifest_values(run));
        if parsed.iter().all(Result::is_ok) {
            return Ok(parsed.into_iter().flatten().flatten().collect());
        }
    }
    crate::yaml::saphyr::manifest_values(text)
}

/// `text` cut before `---` marker lines into runs of at least 256 KiB (one
/// run per core at most).
fn runs_of_documents(text: &str) -> Vec<&str> {
    crate::yaml::parse::chunks(text, crate::par::threads(), 256 * 1024)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// `Kind/name` of a resource.
fn resource_name(doc: &serde_json::Value) -> String {
    let kind = doc.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
    let name = doc
        .pointer("/metadata/name")
        .and_then(|k| k.as_str())
        .unwrap_or("?");
    format!("{kind}/{name}")
}

fn expand<'a>(
    file: Option<&'a str>,
    doc: &'a serde_json::Value,
    out: &mut Vec<(Option<&'a str>, &'a serde_json::Value)>,
) {
    if !doc.is_object() {
        return;
    }
    let is_list = doc
        .get("kind")
        .and_then(|k| k.as_str())
        .is_some_and(|k| k == "List" || k.ends_with("List"));
    match doc.get("items").and_then(|i| i.as_array()) {
        Some(items) if is_list => items.iter().for_each(|item| expand(file, item, out)),
        _ => out.push((file, doc)),
    }
}

/// `data.gitintent`: settings plus the cross-resource facts rules need.
fn batch_data(resources: &[(Option<&str>, &serde_json::Value)], settings: &Settings) -> serde_json::Value {
    // PDB selectors indexed by namespace, then by each `key=value` of their
    // matchLabels (`*` for selectors without matchLabels), so that a workload
    // only looks at PDBs that share one of its labels.
    let mut pdbs = serde_json::Map::new();
    for (_, doc) in resources {
        if doc.get("kind").and_then(|k| k.as_str()) != Some("PodDisruptionBudget") {
            continue;
        }
        let Some(selector) = doc.pointer("/spec/selector").filter(|s| s.is_object()) else {
            continue;
        };
        let namespace = doc
            .pointer("/metadata/namespace")
            .and_then(|n| n.as_str())
            .unwrap_or("");
        let by_label = pdbs.entry(namespace).or_insert_with(|| serde_json::json!({}));
        let mut keys: Vec<String> = selector
            .get("matchLabels")
            .and_then(|m| m.as_object())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        if keys.is_empty() {
            keys.push("*".to_string());
        }
        for key in keys {
            let list = by_label
                .as_object_mut()
                .map(|o| o.entry(key).or_insert_with(|| serde_json::json!([])));
            if let Some(serde_json::Value::Array(list)) = list {
                list.push(selector.clone());
            }
        }
    }
    serde_json::json!({
        "settings": {
            "required_labels": settings.required_labels,
            "allowed_registries": settings.allowed_registries,
            "environment": settings.environment,
            "production": settings.is_production(),
        },
        "pdbs": pdbs,
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Read {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    for entry in entries {
        let path = entry
            .map_err(|e| Error::Read {
                path: dir.to_path_buf(),
                message: e.to_string(),
            })?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if (name.ends_with(".rego") && !name.ends_with("_test.rego"))
            || name.ends_with(".yaml")
            || name.ends_with(".yml")
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
