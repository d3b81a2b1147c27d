//! The pipeline: intent -> spec -> manifests -> findings, shared by every front end.
//!
//! [`run`] plans with the chosen planner, moves plaintext credentials out of
//! the spec, renders, and validates. The same render-and-validate step is the
//! [`Critic`] the openai planner's repair loop consults, so the model sees
//! exactly the findings the user would. Nothing here writes files or talks to
//! git; front ends decide what to do with a [`Plan`].

use serde::Serialize;
use std::sync::LazyLock;

use crate::change::{self, Inventory, Scope};
use crate::finding::{Finding, Severity};
use crate::intent::Intent;
use crate::manifest::{File, InPlace};
use crate::plan::{Critic, Planner, Usage};
use crate::policy::PolicySet;
use crate::repo::{Conventions, Index, Layout, RepoConfig, Snapshot};
use crate::spec::{secrets, Spec};
use crate::{render, validate, Result};

/// The built-in policy pack, compiled once per process.
static BUILTIN: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::builtin().expect("the built-in policy pack compiles"));

/// The outcome of planning one intent: the stable `plan --format json` contract.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The intent as given, with credential-looking values redacted.
    pub intent: String,
    pub planner: crate::plan::PlannerName,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub spec: Spec,
    /// Every file the plan adds or modifies, with its full new content.
    pub files: Vec<File>,
    /// What each update or delete of an existing workload did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<change::Applied>,
    /// Which of `files` the changes edited in place, and which files they
    /// remove (shown in `changes`, not in `files`).
    #[serde(skip)]
    pub in_place: InPlace,
    pub findings: Vec<Finding>,
    pub usage: Usage,
    pub attempts: u32,
    /// The model's last raw reply, for the service's audit trail; not part
    /// of the JSON contract (it may hold values the pipeline redacted).
    #[serde(skip)]
    pub raw_reply: Option<String>,
}

impl Plan {
    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        crate::finding::has_errors(&self.findings)
    }

    /// Takes in what the diff against the repository found: its conflicts and
    /// notes join the findings (errors first), and the kustomizations it wires
    /// join `files`, so `files` holds every file the plan adds or modifies.
    pub fn absorb(&mut self, changes: &crate::repo::Changeset) {
        self.findings.extend(changes.findings.iter().cloned());
        crate::finding::sort(&mut self.findings);
        for wired in changes.wiring_files() {
            if !self.files.iter().any(|f| f.path == wired.path) {
                self.files.push(wired);
            }
        }
    }
}

/// What the repository contributes to a plan.
#[derive(Debug, Clone)]
pub struct Context {
    pub layout: Layout,
    pub config: RepoConfig,
    /// The built-in pack plus the repository's own policies.
    pub policies: PolicySet,
    /// What the repository's layout and manifests show (empty without a repository).
    pub conventions: Conventions,
    /// The workloads the repository holds, for day-2 changes and the planner
    /// (empty without a repository at a ref).
    pub inventory: std::sync::Arc<Inventory>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            layout: Layout::default(),
            config: RepoConfig::default(),
            policies: BUILTIN.clone(),
            conventions: Conventions::default(),
            inventory: Default::default(),
        }
    }
}

impl Context {
    /// Checks a repo config into a context.
    pub fn new(config: RepoConfig) -> Result<Context, crate::repo::Error> {
        let layout = config.layout().map_err(|message| crate::repo::Error::Config {
            path: ".gitintent.yaml".into(),
            message,
        })?;
        Ok(Context {
            layout,
            config,
            policies: BUILTIN.clone(),
            conventions: Conventions::default(),
            inventory: Default::default(),
        })
    }

    /// Like [`Context::load`], but from git objects at `snapshot`'s commit:
    /// `.gitintent.yaml`, the policy directories, and the environments the
    /// layout shows (add the index's namespaces and labels with
    /// [`Context::with_conventions`]).
    pub fn from_snapshot(snapshot: &Snapshot) -> Result<Context> {
        let config = match snapshot.read(".gitintent.yaml")? {
            Some(text) => RepoConfig::parse(&text, std::path::Path::new(".gitintent.yaml"))?,
            None => RepoConfig::default(),
        };
        let mut ctx = Context::new(config)?;
        let dirs: Vec<String> = if ctx.config.policies.is_empty() {
            vec!["policies".to_string()]
        } else {
            ctx.config.policies.clone()
        };
        for dir in dirs {
            let dir = dir.trim_end_matches('/');
            crate::repo::join_inside(std::path::Path::new(""), dir)?;
            if !snapshot.is_dir(dir) {
                if ctx.config.policies.is_empty() {
                    continue;
                }
                return Err(crate::repo::Error::NotADirectory(snapshot.root().join(dir)).into());
            }
            for entry in snapshot.files_under(dir) {
                let rel = &entry.path[dir.len() + 1..];
                let name = rel.rsplit('/').next().unwrap_or(rel);
                let policy = (name.ends_with(".rego") && !name.ends_with("_test.rego"))
                    || name.ends_with(".yaml")
                    || name.ends_with(".yml");
                if !policy || rel.split('/').any(|seg| seg.starts_with('.')) {
                    continue;
                }
                let text = snapshot
                    .read(&entry.path)?
                    .ok_or_else(|| crate::repo::Error::NotText(entry.path.clone()))?;
                ctx.policies = ctx.policies.with_source(&entry.path, &text)?;
            }
        }
        ctx.conventions = Conventions::from_layout(snapshot);
        Ok(ctx)
    }

    /// The same context, with conventions learnt from an index.
    pub fn with_conventions(mut self, conventions: Conventions) -> Context {
        self.conventions = conventions;
        self
    }

    /// The same context, with what `index` (of `snapshot`) shows: conventions,
    /// and the inventory of workloads that day-2 changes resolve against.
    pub fn with_index(self, snapshot: &Snapshot, index: &Index) -> Result<Context> {
        let conventions = index.conventions();
        // `.gitintent.yaml` wins; otherwise the layout, Flux and Argo CD objects.
        let environments = crate::repo::select_environments(
            snapshot,
            index.environments(),
            &self.config.environments.with_roots(),
        );
        let inventory = Inventory::build_with(snapshot, index, &environments)?;
        let mut ctx = self.with_conventions(conventions);
        ctx.inventory = std::sync::Arc::new(inventory);
        Ok(ctx)
    }

    /// Reads `.gitintent.yaml` and the repository's policy directories
    /// (`policies:`, default `policies/` when it exists) from `root`.
    pub fn load(root: &std::path::Path) -> Result<Context> {
        let mut ctx = Context::new(RepoConfig::load(root)?)?;
        let dirs: Vec<String> = if ctx.config.policies.is_empty() {
            vec!["policies".to_string()]
        } else {
            ctx.config.policies.clone()
        };
        for dir in dirs {
            let path = crate::repo::join_inside(root, dir.trim_end_matches('/'))?;
            if path.is_dir() || path.is_file() {
                ctx.policies = ctx.policies.with_path(&path)?;
            } else if !ctx.config.policies.is_empty() {
                return Err(crate::repo::Error::NotADirectory(path).into());
            }
        }
        Ok(ctx)
    }
}

/// Plans, renders and validates one intent.
pub async fn run(intent: &Intent, planner: &Planner, ctx: &Context) -> Result<Plan> {
    let stated = intent.environment.is_some() || mentions_environment(&intent.text, ctx);
    let intent = match (&intent.environment, &ctx.config.default_environment) {
        (None, Some(default)) if !stated => Intent {
            environment: Some(default.clone()),
            ..intent.clone()
        },
        _ => intent.clone(),
    };
    // What the intent gave as credentials stays secret wherever the planner puts it.
    let known = secrets::credentials(&intent.text);
    let mut critic = Remembering::new(ctx, stated)
        .knowing(known.clone())
        .covering(&intent.text);
    // Where to look for the targets: `--target` and the paths the intent names.
    critic.aim.within = intent.target.iter().cloned().collect();
    critic
        .aim
        .within
        .extend(crate::plan::builtin::paths_in(&intent.text));
    critic.aim.replace_host = crate::plan::builtin::replaces_host(&intent.text);
    let existing = ctx.inventory.summary(intent.environment.as_deref());
    let planned = planner.plan(&intent, &existing, &critic).await?;
    let mut spec = planned.spec;
    if let Some(env) = &intent.environment {
        spec.environment = env.clone();
    }
    // What the planner did not list but the intent plainly asks for is still not done.
    crate::plan::coverage::complete(&intent.text, &mut spec);
    spec.normalize()?;
    let reviewed = match critic.take(&spec) {
        Some((final_spec, reviewed)) => {
            spec = final_spec;
            reviewed
        }
        None => review_in(&mut spec, ctx, stated, &known, &critic.aim)?,
    };
    Ok(Plan {
        intent: secrets::redact_text(&intent.text),
        planner: planned.planner,
        model: planned.model,
        prompt_version: planned.prompt_version,
        spec,
        files: reviewed.files,
        operations: reviewed.operations,
        in_place: reviewed.in_place,
        findings: reviewed.findings,
        usage: planned.usage,
        attempts: planned.attempts,
        raw_reply: planned.raw_reply.map(|raw| secrets::redact_known(&raw, &known)),
    })
}

/// Renders and validates a spec given as is (`plan --spec`): it is checked
/// as a model's reply would be ([`Spec::from_untrusted_json`] upstream), then
/// reviewed like any planned spec. The plan's planner is `spec`.
pub fn run_spec(mut spec: Spec, ctx: &Context) -> Result<Plan> {
    spec.normalize()?;
    let reviewed = review(&mut spec, ctx)?;
    Ok(Plan {
        intent: String::new(),
        planner: crate::plan::PlannerName::Spec,
        model: None,
        prompt_version: None,
        spec,
        files: reviewed.files,
        operations: reviewed.operations,
        in_place: reviewed.in_place,
        findings: reviewed.findings,
        usage: Usage::default(),
        attempts: 0,
        raw_reply: None,
    })
}

/// What [`review`] makes of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    /// Rendered files of new components, then the files changes edit or add.
    pub files: Vec<File>,
    /// Sorted, errors first.
    pub findings: Vec<Finding>,
    pub operations: Vec<change::Applied>,
    pub in_place: InPlace,
}

/// Extracts secrets, applies changes, renders and validates; the spec's
/// environment is taken as stated.
pub fn review(spec: &mut Spec, ctx: &Context) -> Result<Reviewed> {
    review_in(spec, ctx, true, &[], &change::Aim::default())
}

/// [`review`], where `stated` says whether the intent named the environment
/// (when it did not, changes may move the spec to their targets' environment)
/// `known` holds the credentials the intent gave, and `aim` where the
/// changes' targets are looked for and how an existing host is treated.
fn review_in(
    spec: &mut Spec,
    ctx: &Context,
    stated: bool,
    known: &[String],
    aim: &change::Aim,
) -> Result<Reviewed> {
    let mut findings = secrets::extract(spec, known);
    let asked = several_environments(spec, &ctx.inventory)?;
    let scope = if stated || asked.len() > 1 {
        Scope::Stated(&spec.environment)
    } else {
        Scope::Assumed(&spec.environment)
    };
    let outcome = change::apply_aimed(spec, &ctx.inventory, scope, aim, &ctx.config.labels)?;
    spec.assumptions.extend(outcome.notes.iter().cloned());
    if let Some(env) = &outcome.environment {
        spec.assumptions.push(format!(
            "environment {env}: where {} lives (the intent named none)",
            outcome
                .applied
                .iter()
                .map(|a| a.target.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        spec.environment = env.clone();
    }
    let asked = if asked.len() > 1 {
        asked
    } else {
        vec![spec.environment.clone()]
    };
    findings.extend(blast_radius(&outcome, &ctx.inventory, &asked));
    if !ctx.config.environments.is_empty() && !ctx.config.environments.contains(&spec.environment) {
        findings.push(Finding::new(
            Severity::Error,
            "environment-unknown",
            format!("environment/{}", spec.environment),
            "/environment",
            format!(
                "environment {:?} is not one of this repository's environments: {}",
                spec.environment,
                ctx.config.environments.join(", ")
            ),
        ));
    }
    if !spec.components.is_empty() {
        findings.extend(ctx.conventions.review(spec, &ctx.config));
    }
    findings.extend(not_done(spec));
    // New apps go where the environment's build reaches them.
    let placement = match spec.components.first() {
        Some(c) => {
            let configured = ctx.config.layout != RepoConfig::default().layout;
            let at = (spec.environment.as_str(), spec.namespace.as_str());
            Some(change::place(
                &ctx.inventory,
                &ctx.layout,
                configured,
                at,
                &c.name,
            )?)
        }
        None => None,
    };
    let layout = placement.as_ref().map_or(&ctx.layout, |p| &p.layout);
    let new_namespace = spec.components.first().is_some_and(|c| {
        let dir = layout.directory(&spec.environment, &spec.namespace, &c.name);
        // An overlay that sets the namespace of everything it builds decides it.
        placement.as_ref().is_none_or(|p| p.namespace.is_none())
            && ctx
                .conventions
                .creates_namespace(&spec.namespace, &format!("{dir}/namespace.yaml"))
    });
    findings.extend(placement.iter().flat_map(|p| p.findings.iter().cloned()));
    let rendered = render::render_in(
        spec,
        layout,
        &ctx.config.labels,
        &ctx.conventions.operators,
        new_namespace,
    )?;
    findings.extend(rendered.findings);
    let is_manifest = |f: &&File| {
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        !matches!(name, "kustomization.yaml" | "kustomization.yml" | "Kustomization")
            && (name.ends_with(".yaml") || name.ends_with(".yml"))
    };
    let mut manifests: Vec<File> = rendered.files.iter().filter(is_manifest).cloned().collect();
    let edited: Vec<File> = outcome
        .files
        .iter()
        .filter(is_manifest)
        .filter(|f| !outcome.patches.contains(&f.path))
        .cloned()
        .collect();
    manifests.extend(edited.iter().cloned());
    // An overlay patch is checked as the workload it makes: the base merged with it.
    manifests.extend(outcome.merged.iter().map(|(_, after)| after.clone()));
    let mut checked = check_files(&manifests, ctx, &spec.environment);
    if !edited.is_empty() || !outcome.merged.is_empty() {
        // What the repository already had is not this change's doing.
        let mut before: Vec<File> = edited
            .iter()
            .filter_map(|f| {
                Some(File {
                    path: f.path.clone(),
                    content: ctx.inventory.text(&f.path)?.to_string(),
                })
            })
            .collect();
        before.extend(outcome.merged.iter().map(|(before, _)| before.clone()));
        let old = check_files(&before, ctx, &spec.environment);
        for f in checked.iter_mut().filter(|f| f.severity > Severity::Info) {
            if old
                .iter()
                .any(|o| o.rule == f.rule && o.resource == f.resource && o.path == f.path)
            {
                f.severity = Severity::Info;
                f.message
                    .push_str(" (already so in the repository; not introduced by this change)");
            }
        }
    }
    findings.extend(checked);
    findings.extend(outcome.findings);
    crate::finding::sort(&mut findings);
    let mut files = rendered.files;
    files.extend(outcome.files);
    Ok(Reviewed {
        files,
        findings,
        operations: outcome.applied,
        in_place: InPlace {
            changed: outcome.modified.into_iter().chain(outcome.created).collect(),
            deleted: outcome.deleted,
            patches: outcome.patches,
            patched: outcome.merged.into_iter().map(|(_, after)| after).collect(),
        },
    })
}

/// The environments a spec is meant for ([`change::asked_environments`]);
/// `*` ("in all environments") is replaced in the spec by the repository's
/// environments, said in an assumption.
fn several_environments(spec: &mut Spec, inventory: &Inventory) -> Result<Vec<String>> {
    let asked = change::asked_environments(spec, inventory)?;
    if spec
        .environments
        .iter()
        .any(|e| e == crate::spec::ALL_ENVIRONMENTS)
    {
        spec.assumptions.push(format!(
            "all environments: {} (every environment this repository has)",
            asked.join(", ")
        ));
        spec.environment = asked[0].clone();
        spec.environments = asked.clone();
    }
    Ok(asked)
}

/// One warning per part of the intent the plan does not do.
fn not_done(spec: &Spec) -> Vec<Finding> {
    spec.unsupported
        .iter()
        .enumerate()
        .map(|(i, u)| {
            Finding::new(
                Severity::Warning,
                "not-done",
                "spec",
                format!("/unsupported/{i}"),
                format!("not done: \"{}\": {}", u.phrase, u.reason),
            )
        })
        .collect()
}

/// The gate every proposal passes: strict schemas, then the context's
/// policies with `environment`'s settings. `files` are manifests (no
/// `kustomization.yaml`); findings are sorted, errors first.
/// The reach invariant: a change alters the build of the environments it
/// was asked for (`asked`) and of no other. Each existing file the changes
/// edit or remove is checked against the environments that build it; one
/// that other environments build too is an error finding, so the plan
/// cannot be proposed (the change stage patches each environment's own
/// overlay instead whenever it can).
fn blast_radius(outcome: &change::Outcome, inventory: &Inventory, asked: &[String]) -> Vec<Finding> {
    let environment = asked.join(", ");
    let mut out = Vec::new();
    for path in outcome.modified.iter().chain(&outcome.deleted) {
        let reach = inventory.reach(path);
        let others: Vec<&String> = reach.iter().filter(|e| !asked.contains(e)).collect();
        if others.is_empty() {
            continue;
        }
        let mut finding = Finding::new(
            Severity::Error,
            "reach",
            format!("file/{path}"),
            "",
            format!(
                "{path} is part of the build of {}; a change asked for {environment} would also change {}",
                reach.join(", "),
                others.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "),
            ),
        );
        finding.file = Some(path.clone());
        out.push(finding);
    }
    out
}

pub fn check_files(files: &[File], ctx: &Context, environment: &str) -> Vec<Finding> {
    // The data-store operators' resources we render have no schema in the
    // bundle: the operator's CRD checks them in the cluster.
    let options = validate::Options {
        skip: render::stores::rendered_kinds()
            .map(|(api_version, kind)| format!("{api_version}/{kind}"))
            .collect(),
        ..Default::default()
    };
    // One parse for schema validation and the policies.
    let manifests = validate::Manifests::parse(files);
    let mut findings = manifests.validate(&options).findings();
    let settings = crate::policy::Settings::for_repo(&ctx.config, environment);
    findings.extend(ctx.policies.check_parsed(&manifests, &settings));
    crate::finding::sort(&mut findings);
    findings
}

/// Whether the intent itself names an environment: the builtin planner's
/// one environment reader, plus the environments the repository has.
fn mentions_environment(text: &str, ctx: &Context) -> bool {
    let known: Vec<String> = ctx
        .config
        .environments
        .iter()
        .chain(&ctx.conventions.environments)
        .cloned()
        .collect();
    crate::plan::builtin::mentions_environment(text, &known)
}

/// The critic of one [`run`]: the same review as [`Context`]'s, remembering the
/// last one so that `run` does not render, validate and check policies a
/// second time when the planner's final spec is the one the critic saw.
/// [`review`] is deterministic for a given spec and context, so reusing it is
/// exact, not an approximation.
struct Remembering<'a> {
    ctx: &'a Context,
    stated: bool,
    /// The intent's credentials ([`secrets::credentials`]).
    known: Vec<String>,
    /// Where the changes' targets are looked for (`--target`, paths in the
    /// intent), and whether an `expose` replaces an existing host.
    aim: change::Aim,
    /// The intent's text, for the coverage check (empty: no check).
    intent: String,
    /// The spec as the critic received it, then as reviewed, with the review.
    last: std::sync::Mutex<Option<(Spec, Spec, Reviewed)>>,
}

impl<'a> Remembering<'a> {
    fn new(ctx: &'a Context, stated: bool) -> Self {
        Remembering {
            ctx,
            stated,
            known: Vec::new(),
            aim: change::Aim::default(),
            intent: String::new(),
            last: std::sync::Mutex::new(None),
        }
    }

    /// The same critic, treating `known` as credentials wherever they appear.
    fn knowing(mut self, known: Vec<String>) -> Self {
        self.known = known;
        self
    }

    /// The same critic, also checking that `spec.unsupported` lists every
    /// known concept `intent` asks for that the spec cannot express.
    fn covering(mut self, intent: &str) -> Self {
        self.intent = intent.to_string();
        self
    }

    /// The remembered review of `spec`, if the critic's last input was `spec`.
    fn take(&self, spec: &Spec) -> Option<(Spec, Reviewed)> {
        let last = self.last.lock().ok()?.take()?;
        (last.0 == *spec).then_some((last.1, last.2))
    }
}

impl Critic for Remembering<'_> {
    fn review(&self, spec: &Spec) -> Vec<Finding> {
        let mut reviewed = spec.clone();
        match review_in(&mut reviewed, self.ctx, self.stated, &self.known, &self.aim) {
            Ok(review) => {
                let mut errors: Vec<Finding> =
                    review.findings.iter().filter(|f| f.is_error()).cloned().collect();
                errors.extend(uncovered(&self.intent, spec));
                if let Ok(mut last) = self.last.lock() {
                    *last = Some((spec.clone(), reviewed, review));
                }
                errors
            }
            Err(e) => vec![critique(&e)],
        }
    }
}

/// What the intent asks for that the spec cannot express and
/// `spec.unsupported` does not list, as errors the repair loop shows the model.
fn uncovered(intent: &str, spec: &Spec) -> Vec<Finding> {
    crate::plan::coverage::uncovered(intent, spec)
        .into_iter()
        .map(|u| {
            Finding::new(
                Severity::Error,
                "not-listed",
                "spec",
                "/unsupported",
                format!(
                    "the intent asks for \"{}\", which the spec cannot express; add it to unsupported with the reason: {}",
                    u.phrase, u.reason
                ),
            )
        })
        .collect()
}

/// A review that failed, as the finding the repair loop shows the model.
fn critique(e: &crate::Error) -> Finding {
    match e {
        crate::Error::Change(c) => Finding::new(
            Severity::Error,
            "change-target",
            "spec",
            "/changes",
            c.to_string(),
        ),
        e => Finding::new(Severity::Error, "render", "spec", "", e.to_string()),
    }
}

/// The repair loop's critic: the same review a user gets, errors only.
impl Critic for Context {
    fn review(&self, spec: &Spec) -> Vec<Finding> {
        let mut spec = spec.clone();
        match review(&mut spec, self) {
            Ok(reviewed) => reviewed.findings.into_iter().filter(Finding::is_error).collect(),
            Err(e) => vec![critique(&e)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Archetype, Component};

    fn spec(environment: &str) -> Spec {
        let mut web = Component::new("web", Archetype::WebService);
        web.image = Some("ghcr.io/acme/web:1.2.3".into());
        Spec {
            environment: environment.into(),
            environments: vec![],
            namespace: "shop".into(),
            components: vec![web, Component::new("redis", Archetype::Redis)],
            changes: vec![],
            assumptions: vec![],
            questions: vec![],
            unsupported: vec![],
        }
    }

    #[test]
    fn a_remembered_review_is_exactly_a_fresh_review_of_the_same_spec() {
        let ctx = Context::default();
        let critic = Remembering::new(&ctx, true);
        let seen = spec("production");
        let errors = critic.review(&seen);

        let mut fresh = seen.clone();
        let fresh_review = review(&mut fresh, &ctx).unwrap();
        let findings = fresh_review.findings.clone();
        assert_eq!(
            errors,
            findings
                .iter()
                .filter(|f| f.is_error())
                .cloned()
                .collect::<Vec<_>>()
        );
        let (reviewed, remembered) = critic.take(&seen).unwrap();
        assert_eq!(reviewed, fresh);
        assert_eq!(remembered, fresh_review);
        assert!(critic.take(&seen).is_none(), "taken once");
    }

    #[test]
    fn a_different_final_spec_is_reviewed_again() {
        let ctx = Context::default();
        let critic = Remembering::new(&ctx, true);
        critic.review(&spec("production"));
        assert!(critic.take(&spec("staging")).is_none());
    }
}

#[cfg(test)]
mod environment_tests {
    use super::*;

    /// One environment reader: a word that only starts like an alias names
    /// nothing, so the repository's default environment applies.
    #[tokio::test]
    async fn a_word_that_starts_like_an_environment_does_not_name_one() {
        let ctx = Context::default();
        for (text, named) in [
            ("Deploy the products api using ghcr.io/acme/products:1.0", false),
            ("deploy a developer portal from ghcr.io/acme/portal:2", false),
            ("deploy redis in prod", true),
            ("deploy redis to the perf environment", true),
            ("deploy redis in pre-prod", true),
        ] {
            assert_eq!(mentions_environment(text, &ctx), named, "{text}");
        }
        let config = RepoConfig {
            environments: vec!["prod-us".to_string()].into(),
            default_environment: Some("staging".into()),
            ..Default::default()
        };
        let ctx = Context::new(config).unwrap();
        assert!(mentions_environment("scale web to 3 in prod-us", &ctx));

        let intent = Intent::new("Deploy the products api using ghcr.io/acme/products:1.0", None).unwrap();
        let plan = run(&intent, &Planner::Builtin, &ctx).await.unwrap();
        assert_eq!(plan.spec.environment, "staging");
    }
}

#[cfg(test)]
mod reach_tests {
    use super::*;
    use crate::repo::testing::repo_with;
    use crate::repo::IndexCache;

    /// A base under `deploy/` shared by three overlays: an edit of the base
    /// reaches all three and is an error for a change asked for one; an
    /// edit of one overlay reaches that one only.
    #[test]
    fn an_edit_that_reaches_other_environments_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers: [{name: api, image: a/api:1}]\n";
        let mut files = vec![
            ("deploy/bases/api/deployment.yaml", deployment.to_string()),
            (
                "deploy/bases/api/kustomization.yaml",
                "resources: [deployment.yaml]\n".to_string(),
            ),
        ];
        for env in ["dev", "staging", "production"] {
            files.push((
                Box::leak(format!("deploy/overlays/{env}/kustomization.yaml").into_boxed_str()),
                "resources: [../../bases/api]\n".to_string(),
            ));
        }
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        repo_with(dir.path(), "main", &files, true);
        let snapshot = Snapshot::open_base(dir.path(), None).unwrap();
        let index = Index::build(&snapshot, &mut IndexCache::new()).unwrap();
        let envs = index.conventions().environments;
        assert_eq!(envs, ["dev", "production", "staging"]);
        let inventory = Inventory::build(&snapshot, &index, &envs).unwrap();
        assert_eq!(inventory.reach("deploy/bases/api/deployment.yaml"), envs);
        assert_eq!(
            inventory.reach("deploy/overlays/staging/kustomization.yaml"),
            ["staging"]
        );

        let base_edit = change::Outcome {
            modified: vec!["deploy/bases/api/deployment.yaml".into()],
            ..Default::default()
        };
        let found = blast_radius(&base_edit, &inventory, &["staging".to_string()]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].is_error() && found[0].message.contains("dev, production"),
            "{found:?}"
        );
        let overlay_edit = change::Outcome {
            modified: vec!["deploy/overlays/staging/kustomization.yaml".into()],
            ..Default::default()
        };
        assert!(blast_radius(&overlay_edit, &inventory, &["staging".to_string()]).is_empty());
    }
}
