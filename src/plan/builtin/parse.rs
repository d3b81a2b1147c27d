//! The parse: one intent, read layer by layer into a checked spec.
//!
//! Runs the readers in order over one token stream (see the module docs of
//! `builtin`), attaches credentials and variables to their clauses, decides
//! the environment and namespace, builds each component and normalises the
//! result. A last check makes sure no plaintext credential reached a field
//! built from the user's words.

use std::ops::Range;

use super::draft::{self, Draft};
use super::kind::{self, Mention, Resolved};
use super::lexicon::Class;
use super::text::Words;
use super::{
    access, credentials, day2, guard, kinds, leftover, naming, network, options, scaling, schedule, scope,
    sizing, spell, verbs, wiring,
};
use crate::intent::Intent;
use crate::plan::Error;
use crate::spec::{Archetype, EnvVar, Spec};

/// The image a Service over existing pods is drafted with, never planned.
const NO_IMAGE: &str = "none:0";

/// Assumptions and questions a spec may carry (see `spec::check`).
const MAX_NOTES: usize = 30;

/// Parses an intent into a spec without any network access.
#[cfg(test)]
pub(in crate::plan) fn plan(intent: &Intent) -> Result<Spec, Error> {
    plan_knowing(intent, &[], &[])
}

/// [`plan`], where `environments` are the repository's own environment
/// names (`staging-eu`, `prod-us`), read as environments and never as
/// workload names, and `workloads` the names of the workloads it holds.
/// Close misspellings of these and of the planner's own words are corrected
/// first ([`spell`]), each correction an assumption.
pub(in crate::plan) fn plan_knowing(
    intent: &Intent,
    environments: &[String],
    workloads: &[String],
) -> Result<Spec, Error> {
    let known: Vec<String> = environments.iter().chain(workloads).cloned().collect();
    let fixed = spell::correct(&intent.text, &known);
    let corrected = Intent {
        text: fixed.text.clone(),
        ..intent.clone()
    };
    let mut spec = plan_text(&corrected, environments, workloads)?;
    if !fixed.assumptions.is_empty() || !fixed.questions.is_empty() {
        spec.assumptions = cap(fixed.assumptions.into_iter().chain(spec.assumptions).collect());
        spec.questions = cap(fixed.questions.into_iter().chain(spec.questions).collect());
    }
    Ok(spec)
}

/// [`plan_knowing`] on text already corrected.
fn plan_text(intent: &Intent, environments: &[String], workloads: &[String]) -> Result<Spec, Error> {
    guard::refuse(&intent.text)?;
    if let Some(changes) = day2::plan(intent, environments, workloads) {
        return changes;
    }
    let (rest, options) = options::extract(&intent.text)?;
    let mut w = Words::new(&rest);
    if let Some(e) = verbs::change_inside_create(&w) {
        return Err(e);
    }
    let (credentials, plaintext) = credentials::credentials(&mut w);
    let vars = credentials::env_vars(&mut w);
    let allowed = access::allowed_from(&mut w);
    let namespace = scope::namespace(&mut w)?;
    let team = match namespace {
        None => scope::team(&mut w)?,
        Some(_) => None,
    };
    let env = scope::environment(&mut w, environments)?;
    let mentions = kind::mentions(&w);
    let clauses = kind::clauses(&w, &mentions);
    let mut drafts = read_drafts(&mut w, &clauses, &mentions, credentials, vars);

    let (environment, mut notes) = first_notes(intent, env, namespace.as_deref(), &mut drafts);
    let mut components = build_all(&mut drafts, &w, &options, &allowed, &mut notes)?;
    notes
        .questions
        .extend(clusters(&components, &mut notes.assumptions));
    notes.assumptions.extend(wiring::wire(&mut components));
    let namespace = choose_namespace(namespace, team, &components, &mut notes.assumptions);
    let mut seen = notes.understood.clone();
    seen.extend(apply_options(options, &mut components)?);
    kind_of(&rest, &mut components, &mut seen);
    kinds::check(&rest, &components, &seen)?;
    let unsupported = leftover::unsupported(&w, &mentions, &components, &intent.text);
    let spec = Spec {
        environment,
        environments: vec![],
        namespace,
        components,
        changes: Vec::new(),
        assumptions: cap(notes.assumptions),
        questions: cap(notes.questions),
        unsupported: cap_unsupported(unsupported),
    };
    finish(spec, &notes.understood, &plaintext)
}

/// What a plan (a create or a change) has understood, assumed and asked so far.
#[derive(Default)]
pub(super) struct Notes {
    pub(super) understood: Vec<String>,
    pub(super) assumptions: Vec<String>,
    pub(super) questions: Vec<String>,
}

/// Chooses the environment; the first notes say it, the namespace named,
/// and a host moved from one draft to the one it belongs to.
fn first_notes(
    intent: &Intent,
    env: scope::Environment,
    namespace: Option<&str>,
    drafts: &mut [Draft],
) -> (String, Notes) {
    let mut notes = Notes {
        assumptions: wiring::move_host(drafts).into_iter().collect(),
        ..Notes::default()
    };
    let environment = choose_environment(
        intent,
        env,
        &mut notes.understood,
        &mut notes.assumptions,
        &mut notes.questions,
    );
    if let Some(ns) = namespace {
        notes.understood.push(format!("namespace: {ns}"));
    }
    (environment, notes)
}

/// Reads each clause into a draft, shares a replica count said "each", and
/// attaches each credential and variable to its clause.
fn read_drafts(
    w: &mut Words,
    clauses: &[Range<usize>],
    mentions: &[Mention],
    credentials: Vec<credentials::Credential>,
    vars: Vec<credentials::Var>,
) -> Vec<Draft> {
    let mut drafts: Vec<Draft> = clauses.iter().map(|r| read(w, r, mentions)).collect();
    if let Some(n) = drafts.iter().find(|d| d.replicas_each).and_then(|d| d.replicas) {
        for d in drafts.iter_mut().filter(|d| d.replicas.is_none()) {
            d.replicas = Some(n);
        }
    }
    for c in credentials {
        let k = clause_of(clauses, c.at);
        drafts[k].credentials.push(c);
    }
    for v in vars {
        let k = clause_of(clauses, v.at);
        drafts[k].env.push(EnvVar {
            name: v.name,
            value: v.value,
        });
    }
    drafts
}

/// Builds every draft into a component, collecting its notes (prefixed by
/// its name when there are several).
fn build_all(
    drafts: &mut [Draft],
    w: &Words,
    options: &options::Options,
    allowed: &[String],
    notes: &mut Notes,
) -> Result<Vec<crate::spec::Component>, Error> {
    let mut components = Vec::new();
    let many = drafts.len() > 1;
    for d in drafts {
        let c = build_one(d, w, options, allowed, &notes.understood)?;
        let prefix = |s: &String| {
            if many {
                format!("{}: {s}", c.name)
            } else {
                s.clone()
            }
        };
        notes.assumptions.extend(d.assumptions.iter().map(prefix));
        notes.questions.extend(d.questions.iter().map(prefix));
        components.push(c);
    }
    Ok(components)
}

/// Builds one draft; refuses one that names no workload.
fn build_one(
    d: &mut Draft,
    w: &Words,
    options: &options::Options,
    allowed: &[String],
    understood: &[String],
) -> Result<crate::spec::Component, Error> {
    if d.archetype.is_none() {
        let mut seen = understood.to_vec();
        seen.extend(d.understood());
        let reason = missing_workload(d, unknown_word(w));
        return Err(Error::NotUnderstood {
            reason,
            understood: seen,
        });
    }
    let placeholder = options.selects() && d.image.is_none() && d.archetype.is_some_and(|a| a.is_generic());
    if placeholder {
        // A Service over existing pods runs no image: the component is
        // rebuilt without one by `Options::apply`; this only lets the
        // draft build, and no note may mention it.
        d.image = Some(NO_IMAGE.to_string());
    }
    let mut c = draft::build(d).map_err(|e| with_context(e, understood))?;
    if options.selects() {
        d.assumptions
            .retain(|a| !a.contains(NO_IMAGE) && !a.contains("image"));
    }
    access::finish(d, &mut c, allowed);
    Ok(c)
}

/// The namespace: the one named, else the team's, else the first
/// component's name (each default an assumption).
fn choose_namespace(
    namespace: Option<String>,
    team: Option<String>,
    components: &[crate::spec::Component],
    assumptions: &mut Vec<String>,
) -> String {
    let namespace = namespace.or_else(|| {
        let team = team?;
        assumptions.push(format!(
            "namespace {team} chosen after the {team} team; say \"in namespace X\" to choose"
        ));
        Some(team)
    });
    namespace.unwrap_or_else(|| {
        let ns = components[0].name.clone();
        assumptions.push(format!(
            "namespace {ns} chosen after the component name; say \"in namespace X\" to choose"
        ));
        ns
    })
}

/// Applies the options (commands, placement, mounts, Service, roles) to the
/// one component; returns what they said, for the kinds check.
fn apply_options(
    options: options::Options,
    components: &mut [crate::spec::Component],
) -> Result<Vec<String>, Error> {
    let option_words = options.understood.clone();
    if options.is_empty() {
        return Ok(option_words);
    }
    if components.len() != 1 {
        return Err(Error::NotUnderstood {
            reason: "commands, node placement, mounts, Service types and roles apply to one workload; plan                          the workloads one at a time"
                .into(),
            understood: options.understood,
        });
    }
    options.apply(&mut components[0])?;
    Ok(option_words)
}

/// Normalises the spec; a value it refuses is an error that says what was
/// understood.
pub(super) fn normalized(mut spec: Spec, understood: &[String]) -> Result<Spec, Error> {
    spec.normalize().map_err(|e| Error::NotUnderstood {
        reason: format!("the intent gives values that are not acceptable: {e}"),
        understood: understood.to_vec(),
    })?;
    Ok(spec)
}

/// Normalises the spec and checks that no plaintext credential reached it.
fn finish(spec: Spec, understood: &[String], plaintext: &[String]) -> Result<Spec, Error> {
    let spec = normalized(spec, understood)?;
    if leaks(&spec, plaintext) {
        return Err(Error::Refused(
            "a credential in the intent could not be kept out of the plan; remove it from the intent and create it \
             as a Secret (SealedSecret or ExternalSecret)"
                .into(),
        ));
    }
    Ok(spec)
}

/// "a pod", "a ReplicaSet": the kind of the one generic workload the text asks for.
fn kind_of(rest: &str, components: &mut [crate::spec::Component], understood: &mut Vec<String>) {
    let Some(kind) = kinds::read(rest) else {
        return;
    };
    if let [c] = components {
        if c.archetype.workload() == crate::spec::WorkloadKind::Deployment {
            c.workload = Some(crate::spec::WorkloadOptions {
                kind: Some(kind),
                ..Default::default()
            });
            understood.push(format!("kind: {kind:?}"));
        }
    }
}

/// Data stores asked for with several members or failover: Redis and
/// ZooKeeper form their cluster (an assumption says how clients reach it);
/// for the others, a question naming the operator that would run the cluster.
fn clusters(components: &[crate::spec::Component], assumptions: &mut Vec<String>) -> Vec<String> {
    let mut questions = Vec::new();
    for c in components {
        let failover = c.high_availability.as_ref().is_some_and(|h| h.failover);
        let replicas = c.replicas.unwrap_or(if failover { 3 } else { 1 });
        if replicas < 2 && !failover {
            continue;
        }
        match c.archetype {
            Archetype::Redis => assumptions.push(format!(
                "{0} ×{replicas}: one primary and replicas watched by Sentinel; clients reach the primary through \
                 Sentinel at {0}:26379, master name mymaster, which keeps working after a failover",
                c.name
            )),
            Archetype::Zookeeper => assumptions.push(format!(
                "{0} ×{replicas}: one ensemble (myid from the pod ordinal, every server in zoo.cfg); clients use \
                 {0}:2181",
                c.name
            )),
            a if a.is_stateful() => {
                questions.extend(crate::render::stores::cluster_question(a, replicas).map(|q| format!("{}: {q}", c.name)))
            }
            _ => {}
        }
    }
    questions
}

/// The environment the plan targets: `--env` first, then the text, then
/// `default` (with a question). Records what was read or assumed.
pub(super) fn choose_environment(
    intent: &Intent,
    env: scope::Environment,
    understood: &mut Vec<String>,
    assumptions: &mut Vec<String>,
    questions: &mut Vec<String>,
) -> String {
    if env.every {
        questions.push(
            "the intent says every environment; a new app is planned for one environment — plan the others separately"
                .to_string(),
        );
    }
    match (&intent.environment, env.name) {
        (Some(given), text) => {
            if let Some(t) = text.filter(|t| t != given) {
                questions.push(format!(
                    "the intent says {t} but the environment was set to {given}; the plan targets {given}"
                ));
            }
            given.clone()
        }
        (None, Some(text)) => {
            understood.push(format!("environment: {text}"));
            if !env.others.is_empty() {
                questions.push(format!(
                    "the intent also names {}; this plan covers {text} only — plan the others separately",
                    env.others.join(", ")
                ));
            }
            text
        }
        (None, None) => {
            assumptions.push("no environment given; using default".to_string());
            questions.push(
                "which environment is this for? say \"in staging\", or name the environment with the request"
                    .to_string(),
            );
            "default".to_string()
        }
    }
}

/// Words that make a clause a scheduled job, so a bare time means daily:
/// this reader's cue for the schedule reader.
const JOB_CUES: &[&str] = &[
    "cron",
    "cronjob",
    "job",
    "jobs",
    "scheduled",
    "schedule",
    "task",
    "backup",
    "backups",
    "run",
    "runs",
    "report",
];

/// Reads one clause into a draft.
fn read(w: &mut Words, r: &Range<usize>, mentions: &[Mention]) -> Draft {
    let time_zone = schedule::zone(w, r);
    let mut d = Draft {
        image: naming::image(w, r),
        time_zone,
        ..Draft::default()
    };
    if d.image.is_none() {
        if let Some((name, image, why)) = naming::well_known(w, r) {
            d.assumptions
                .push(format!("image {image} chosen for {name}: {why}"));
            d.image = Some(image.to_string());
            d.name = Some(name.to_string());
        }
    }
    d.schedule = schedule::find(w, r, w.has(r.clone(), JOB_CUES));
    match kind::resolve(mentions, r, d.image.as_deref(), d.schedule.is_some()) {
        Resolved::Is(a) => d.archetype = Some(a),
        Resolved::Vague(v) => d.vague = Some(v),
        Resolved::Nothing => {}
    }
    d.mariadb = d.archetype == Some(Archetype::Mysql)
        && (w.has(r.clone(), &["mariadb"])
            || d.image
                .as_deref()
                .is_some_and(|i| naming::image_basename(i) == "mariadb"));
    if d.image.is_none()
        && d.archetype
            .is_some_and(|a| !a.is_generic() && a != Archetype::Minio)
    {
        d.version = naming::version(w, r, mentions);
    }
    if let Some((name, explicit)) = naming::name(w, r, mentions, d.archetype) {
        d.name = Some(name);
        d.name_explicit = explicit;
    }
    for (_, reader) in CLAUSE_READERS {
        reader(w, r, &mut d);
    }
    d
}

/// A reader of one clause: claims the words it reads and fills the draft.
type ClauseReader = fn(&mut Words, &Range<usize>, &mut Draft);

/// The clause readers that run after the image, schedule, kind and name are
/// known, in order. Order matters because each claims the words it reads:
/// the autoscaling reader takes "70% CPU" as a target before sizing could
/// read it as a CPU quantity (`tests::between_3_and_12_replicas_at_70_percent_cpu`
/// and its neighbours pin the orderings that matter).
const CLAUSE_READERS: &[(&str, ClauseReader)] = &[
    ("health check", network::health),
    ("autoscaling", scaling::autoscaling),
    ("sizes", sizing::resources),
    ("replicas", scaling::replicas),
    ("ports", network::ports),
    ("load balancer", access::load_balancer),
    ("exposure", network::exposure),
    ("availability", network::availability),
];

fn clause_of(clauses: &[Range<usize>], at: usize) -> usize {
    clauses.iter().position(|r| r.contains(&at)).unwrap_or(0)
}

/// The first unread word after a deploy verb ("Deploy nginx"), which may be
/// an image given without a tag.
fn unknown_word(w: &Words) -> Option<String> {
    /// Verbs after which the first unread word may be an untagged image: the hint's own list.
    const VERBS: &[&str] = &[
        "deploy",
        "run",
        "install",
        "launch",
        "start",
        "create",
        "add",
        "up",
        "provision",
    ];
    let verb = (0..w.len()).find(|&i| w.is(i, VERBS))?;
    let k = (verb + 1..w.len()).find(|&k| !w.is(k, Class::Determiner))?;
    let word = w.low(k);
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c));
    (w.free(k) && plain && !w.is(k, Class::Stop)).then(|| w.raw(k).to_string())
}

/// Why a clause names no workload, with a hint at what would work.
fn missing_workload(d: &Draft, unknown: Option<String>) -> String {
    if let (None, Some(word)) = (d.vague, unknown) {
        return format!(
            "{word:?} is not a workload the builtin planner knows; if it is an image, give it with a pinned tag, \
             e.g. \"Deploy {word}:1.2.3 as NAME\" (a web service), or name a data store such as redis or postgres"
        );
    }
    match d.vague {
        Some(v) => format!(
            "{v} was asked for, but not which one; name it: redis, postgres, mysql, mongodb, memcached, rabbitmq, \
             kafka, elasticsearch, zookeeper, minio or grafana"
        ),
        None => "no workload found; name a data store (redis, postgres, mysql, mongodb, kafka, ...) or a web \
                 service, worker, cron job, job or daemon with \"using image NAME:TAG\""
            .to_string(),
    }
}

/// Adds the global facts (environment, namespace) to a component's error.
fn with_context(e: Error, global: &[String]) -> Error {
    match e {
        Error::NotUnderstood { reason, understood } => Error::NotUnderstood {
            reason,
            understood: global.iter().cloned().chain(understood).collect(),
        },
        other => other,
    }
}

/// Keeps at most [`MAX_NOTES`] entries, saying how many were dropped.
pub(super) fn cap(mut notes: Vec<String>) -> Vec<String> {
    if notes.len() > MAX_NOTES {
        let extra = notes.len() - (MAX_NOTES - 1);
        notes.truncate(MAX_NOTES - 1);
        notes.push(format!("... and {extra} more"));
    }
    notes
}

/// Keeps at most [`MAX_NOTES`] unsupported entries, folding the rest into the last.
pub(super) fn cap_unsupported(mut list: Vec<crate::spec::Unsupported>) -> Vec<crate::spec::Unsupported> {
    if list.len() > MAX_NOTES {
        let rest: Vec<String> = list.drain(MAX_NOTES - 1..).map(|u| u.phrase).collect();
        list.push(crate::spec::Unsupported {
            phrase: rest.join("; "),
            reason: "not understood by the builtin planner".into(),
        });
    }
    for u in &mut list {
        if u.phrase.chars().count() > 200 {
            u.phrase = u.phrase.chars().take(199).collect::<String>() + "…";
        }
    }
    list
}

/// True when a plaintext credential reached a field built from the user's words.
fn leaks(spec: &Spec, plaintext: &[String]) -> bool {
    let mut fields: Vec<&str> = vec![&spec.environment, &spec.namespace];
    for c in &spec.components {
        fields.push(&c.name);
        fields.extend(c.image.as_deref());
        fields.extend(c.ports.iter().map(|p| p.name.as_str()));
        fields.extend(c.env.iter().flat_map(|e| [e.name.as_str(), e.value.as_str()]));
        fields.extend(
            c.secret_refs
                .iter()
                .flat_map(|s| [s.env.as_str(), s.secret.as_str(), s.key.as_str()]),
        );
        if let Some(e) = &c.exposure {
            fields.extend(e.host.as_deref());
            fields.extend(e.path.as_deref());
        }
        if let Some(s) = &c.storage {
            fields.extend(s.class.as_deref());
        }
        if let Some(h) = &c.health_check {
            fields.extend(h.path.as_deref());
        }
    }
    plaintext
        .iter()
        .filter(|p| p.len() >= 4)
        .any(|p| fields.iter().any(|f| f.contains(p.as_str())))
}
