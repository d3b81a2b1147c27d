//! Checks on a spec that a JSON schema cannot express, and name sanitising.
//!
//! Every value that reaches a template or a file path passes through here:
//! names become DNS-1123 labels, and images, hosts, paths, quantities and
//! cron expressions are checked character by character. Problems are
//! collected, not returned at the first one, so a model's repair attempt
//! sees all of them.

use super::values::{check_cron, check_image, is_cpu, is_dns_subdomain, is_env_name, is_memory, is_url_path};
use super::{Archetype, Autoscaling, Component, HealthCheck, Port, Quantities, Spec, Storage};

/// One thing wrong with a spec, with the JSON path of the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer into the spec, e.g. `/components/0/name`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Longest name we accept: 63 minus room for suffixes such as `-sentinel`.
const MAX_NAME: usize = 50;

/// Turns a human name into a DNS-1123 label, or says why it cannot.
///
/// Case is folded and spaces or underscores become `-`. Anything that could
/// steer a path (`/`, `\`, `.`) or is not `[a-z0-9-]` is refused rather than
/// silently dropped, so `../../etc` is an error, not `etc`.
pub fn sanitize_name(raw: &str) -> Result<String, String> {
    let folded: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    if let Some(bad) = folded
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "{raw:?} is not a valid name: {bad:?} is not allowed (use lowercase letters, digits and '-')"
        ));
    }
    let mut name = String::with_capacity(folded.len());
    for c in folded.chars() {
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name = name.trim_matches('-').to_string();
    if name.is_empty() {
        return Err(format!("{raw:?} is not a valid name: it is empty"));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "{raw:?} is not a valid name: longer than {MAX_NAME} characters"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "{raw:?} is not a valid name: it must start with a letter"
        ));
    }
    Ok(name)
}

/// A port as a probe or a Service targets it: a number (1-65535), or a
/// port name as sanitising leaves it, at most 15 characters.
pub(super) fn is_port_ref(port: &str) -> bool {
    match port.parse::<u32>() {
        Ok(n) => (1..=65535).contains(&n),
        Err(_) => sanitize_name(port).as_deref() == Ok(port) && port.len() <= 15,
    }
}

pub(super) struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    pub(super) fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(super) fn name(&mut self, path: &str, value: &mut String) {
        match sanitize_name(value) {
            Ok(clean) => *value = clean,
            Err(message) => self.fail(path, message),
        }
    }

    pub(super) fn text(&mut self, path: &str, value: &str, max: usize) {
        if value.len() > max {
            self.fail(path, format!("longer than {max} characters"));
        }
        if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            self.fail(path, "contains control characters");
        }
    }
}

/// Sanitises names in place and returns every problem found.
pub(super) fn normalize(spec: &mut Spec) -> Vec<Problem> {
    let mut c = Checker { problems: Vec::new() };
    c.name("/environment", &mut spec.environment);
    super::environments::check(&mut c, spec);
    c.name("/namespace", &mut spec.namespace);
    if spec.components.is_empty() && spec.changes.is_empty() {
        c.fail("/components", "at least one component or change is required");
    }
    if spec.components.len() > 20 {
        c.fail("/components", "more than 20 components in one plan");
    }
    for (i, comp) in spec.components.iter_mut().enumerate() {
        component(&mut c, &format!("/components/{i}"), comp);
    }
    if spec.changes.len() > 20 {
        c.fail("/changes", "more than 20 changes in one plan");
    }
    for (i, change) in spec.changes.iter_mut().enumerate() {
        super::change::check(&mut c, &format!("/changes/{i}"), change);
    }
    targets(&mut c, spec);
    duplicates(&mut c, spec);
    notes(&mut c, spec);
    c.problems
}

/// Each change's target: not a component the same plan creates, and not
/// changed twice.
fn targets(c: &mut Checker, spec: &Spec) {
    let mut targets = std::collections::HashSet::new();
    for (i, change) in spec.changes.iter().enumerate() {
        if spec.components.iter().any(|comp| comp.name == change.target) {
            c.fail(
                format!("/changes/{i}/target"),
                format!("{:?} is both created and changed in one plan", change.target),
            );
        }
        if !targets.insert((change.target.clone(), change.kind.clone())) {
            c.fail(
                format!("/changes/{i}/target"),
                format!(
                    "{:?} is changed twice; merge the two changes into one",
                    change.target
                ),
            );
        }
    }
}

/// Component names are unique.
fn duplicates(c: &mut Checker, spec: &Spec) {
    let mut seen = std::collections::HashSet::new();
    for (i, comp) in spec.components.iter().enumerate() {
        if !seen.insert(comp.name.clone()) {
            c.fail(
                format!("/components/{i}/name"),
                format!("duplicate component name {:?}", comp.name),
            );
        }
    }
}

/// The free text of `unsupported`, `assumptions` and `questions`: at most 30
/// entries each, each at most 500 characters.
fn notes(c: &mut Checker, spec: &Spec) {
    if spec.unsupported.len() > 30 {
        c.fail("/unsupported", "more than 30 entries");
    }
    for (i, u) in spec.unsupported.iter().enumerate() {
        c.text(&format!("/unsupported/{i}/phrase"), &u.phrase, 500);
        c.text(&format!("/unsupported/{i}/reason"), &u.reason, 500);
    }
    for (key, list) in [("assumptions", &spec.assumptions), ("questions", &spec.questions)] {
        if list.len() > 30 {
            c.fail(format!("/{key}"), "more than 30 entries");
        }
        for (i, s) in list.iter().enumerate() {
            c.text(&format!("/{key}/{i}"), s, 500);
        }
    }
}

/// Checks one component at `at` (`/components/<i>`), sanitising its names.
fn component(c: &mut Checker, at: &str, comp: &mut Component) {
    c.name(&format!("{at}/name"), &mut comp.name);
    image(c, at, comp);
    if let Some(r) = comp.replicas {
        if r > 100 {
            c.fail(
                format!("{at}/replicas"),
                format!("{r} replicas is more than the limit of 100"),
            );
        }
    }
    ports(c, at, &mut comp.ports);
    if let Some(r) = &comp.resources {
        quantities(c, &format!("{at}/resources/requests"), &r.requests);
        quantities(c, &format!("{at}/resources/limits"), &r.limits);
    }
    if let Some(s) = &comp.storage {
        storage(c, at, s);
    }
    if let Some(e) = &comp.exposure {
        exposure(c, &format!("{at}/exposure"), e);
    }
    fits_archetype(c, at, comp);
    if let Some(a) = &comp.autoscaling {
        autoscaling(c, at, a);
    }
    if let Some(h) = &comp.health_check {
        health_check(c, at, h);
    }
    env(c, at, comp);
    options(c, at, comp);
    schedule(c, at, comp);
    extras(c, at, comp);
}

/// The component's image, or the lack of one where the archetype needs it.
fn image(c: &mut Checker, at: &str, comp: &Component) {
    match &comp.image {
        Some(image) => {
            if let Err(m) = check_image(image) {
                c.fail(format!("{at}/image"), m);
            }
        }
        None if comp.archetype.is_generic() && !comp.has_no_workload() => c.fail(
            format!("{at}/image"),
            format!("a {} needs an image; the intent must name one", comp.archetype),
        ),
        None => {}
    }
}

/// Port numbers, and port names: sanitised, at most 15 characters, unique.
fn ports(c: &mut Checker, at: &str, ports: &mut [Port]) {
    let mut port_names = std::collections::HashSet::new();
    for (j, p) in ports.iter_mut().enumerate() {
        if !(1..=65535).contains(&p.port) {
            c.fail(
                format!("{at}/ports/{j}/port"),
                format!("{} is not a port number (1-65535)", p.port),
            );
        }
        c.name(&format!("{at}/ports/{j}/name"), &mut p.name);
        if p.name.len() > 15 {
            c.fail(
                format!("{at}/ports/{j}/name"),
                "port names are at most 15 characters",
            );
        }
        if !port_names.insert(p.name.clone()) {
            c.fail(
                format!("{at}/ports/{j}/name"),
                format!("duplicate port name {:?}", p.name),
            );
        }
    }
}

/// A volume's size and StorageClass name.
fn storage(c: &mut Checker, at: &str, s: &Storage) {
    if !is_memory(&s.size) {
        c.fail(
            format!("{at}/storage/size"),
            format!("{:?} is not a size such as 10Gi", s.size),
        );
    }
    if let Some(class) = &s.class {
        if !is_dns_subdomain(class) {
            c.fail(
                format!("{at}/storage/class"),
                format!("{class:?} is not a valid StorageClass name"),
            );
        }
    }
}

/// Autoscaling and storage only where the archetype can have them.
fn fits_archetype(c: &mut Checker, at: &str, comp: &Component) {
    if comp.autoscaling.is_some() && !comp.archetype.autoscales() {
        c.fail(
            format!("{at}/autoscaling"),
            format!(
                "a {} cannot be autoscaled (only stateless Deployments can); set autoscaling to null",
                comp.archetype
            ),
        );
    }
    if comp.storage.is_some() && !comp.archetype.takes_storage() {
        c.fail(
            format!("{at}/storage"),
            format!(
                "a {} cannot have persistent storage; set storage to null",
                comp.archetype
            ),
        );
    }
}

/// Autoscaling bounds (1 <= min <= max <= 100) and CPU target (1-100).
fn autoscaling(c: &mut Checker, at: &str, a: &Autoscaling) {
    if a.min_replicas < 1 || a.min_replicas > a.max_replicas || a.max_replicas > 100 {
        c.fail(
            format!("{at}/autoscaling"),
            format!(
                "need 1 <= min ({}) <= max ({}) <= 100",
                a.min_replicas, a.max_replicas
            ),
        );
    }
    if !(1..=100).contains(&a.cpu_target_percent) {
        c.fail(
            format!("{at}/autoscaling/cpu_target_percent"),
            "must be between 1 and 100",
        );
    }
}

/// A health check's URL path and port.
fn health_check(c: &mut Checker, at: &str, h: &HealthCheck) {
    if let Some(path) = &h.path {
        if !is_url_path(path) {
            c.fail(
                format!("{at}/health_check/path"),
                format!("{path:?} is not a URL path"),
            );
        }
    }
    if let Some(port) = h.port {
        if !(1..=65535).contains(&port) {
            c.fail(
                format!("{at}/health_check/port"),
                format!("{port} is not a port number"),
            );
        }
    }
}

/// Environment variables and Secret references: variable names, values,
/// Secret names (sanitised) and keys.
fn env(c: &mut Checker, at: &str, comp: &mut Component) {
    for (j, e) in comp.env.iter().enumerate() {
        if !is_env_name(&e.name) {
            c.fail(
                format!("{at}/env/{j}/name"),
                format!("{:?} is not a valid variable name", e.name),
            );
        }
        c.text(&format!("{at}/env/{j}/value"), &e.value, 4096);
    }
    for (j, s) in comp.secret_refs.iter_mut().enumerate() {
        if !is_env_name(&s.env) {
            c.fail(
                format!("{at}/secret_refs/{j}/env"),
                format!("{:?} is not a valid variable name", s.env),
            );
        }
        c.name(&format!("{at}/secret_refs/{j}/secret"), &mut s.secret);
        if s.key.is_empty()
            || !s
                .key
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._".contains(ch))
        {
            c.fail(
                format!("{at}/secret_refs/{j}/key"),
                format!("{:?} is not a valid Secret key", s.key),
            );
        }
    }
}

/// A schedule for a cron job, and for nothing else.
fn schedule(c: &mut Checker, at: &str, comp: &Component) {
    match (&comp.schedule, comp.archetype) {
        (Some(s), Archetype::CronJob) => {
            if let Err(m) = check_cron(s) {
                c.fail(format!("{at}/schedule"), m);
            }
        }
        (None, Archetype::CronJob) => c.fail(format!("{at}/schedule"), "a cron_job needs a schedule"),
        (Some(_), other) => c.fail(
            format!("{at}/schedule"),
            format!("a {other} has no schedule; use null"),
        ),
        (None, _) => {}
    }
}

/// The allowed namespaces.
fn extras(c: &mut Checker, at: &str, comp: &mut Component) {
    if comp.allow_from_namespaces.len() > 10 {
        c.fail(format!("{at}/allow_from_namespaces"), "more than 10 namespaces");
    }
    for (j, ns) in comp.allow_from_namespaces.iter_mut().enumerate() {
        c.name(&format!("{at}/allow_from_namespaces/{j}"), ns);
    }
}

/// The option groups added by issue 16, each checked by its own module.
fn options(c: &mut Checker, at: &str, comp: &mut Component) {
    let batch = matches!(comp.archetype, Archetype::Job | Archetype::CronJob);
    if let Some(pod) = &mut comp.pod {
        super::pod::check(c, &format!("{at}/pod"), pod);
    }
    let no_workload = comp.has_no_workload();
    if let Some(service) = &mut comp.service {
        super::service::check(c, &format!("{at}/service"), service, no_workload);
    }
    super::workload::check(c, &format!("{at}/workload"), comp);
    if let Some(p) = &comp.probes {
        super::probe::check(c, &format!("{at}/probes"), p);
    }
    if let Some(o) = &mut comp.objects {
        super::objects::check(c, &format!("{at}/objects"), o);
    }
    match &comp.batch {
        Some(b) if batch => {
            super::batch::check(c, &format!("{at}/batch"), b, comp.archetype == Archetype::CronJob)
        }
        Some(_) => c.fail(
            format!("{at}/batch"),
            format!("a {} is not a job; set batch to null", comp.archetype),
        ),
        None => {}
    }
    if let Some(r) = &comp.rbac {
        super::rbac::check(c, &format!("{at}/rbac"), r);
    }
}

pub(super) fn exposure(c: &mut Checker, at: &str, e: &super::Exposure) {
    if let Some(host) = &e.host {
        let bare = host.strip_prefix("*.").unwrap_or(host);
        if !is_dns_subdomain(bare) || !bare.contains('.') {
            c.fail(format!("{at}/host"), format!("{host:?} is not a host name"));
        }
    }
    if let Some(path) = &e.path {
        if !is_url_path(path) {
            c.fail(format!("{at}/path"), format!("{path:?} is not a URL path"));
        }
    }
}

pub(super) fn quantities(c: &mut Checker, at: &str, q: &Quantities) {
    if let Some(cpu) = &q.cpu {
        if !is_cpu(cpu) {
            c.fail(
                format!("{at}/cpu"),
                format!("{cpu:?} is not a CPU quantity such as 500m or 2"),
            );
        }
    }
    if let Some(mem) = &q.memory {
        if !is_memory(mem) {
            c.fail(
                format!("{at}/memory"),
                format!("{mem:?} is not a memory quantity such as 512Mi"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Archetype, Spec};

    #[test]
    fn names_are_folded_to_dns_labels() {
        assert_eq!(sanitize_name("Api Gateway").unwrap(), "api-gateway");
        assert_eq!(sanitize_name("orders_worker").unwrap(), "orders-worker");
        assert_eq!(sanitize_name("--redis--").unwrap(), "redis");
    }

    #[test]
    fn path_like_names_are_refused_not_stripped() {
        for bad in ["../../etc", "a/b", "..", "x\\y", "", "   ", "9lives", "héllo"] {
            assert!(sanitize_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn cron_expressions_are_checked() {
        assert!(check_cron("0 2 * * *").is_ok());
        assert!(check_cron("*/15 * * * *").is_ok());
        assert!(check_cron("0 9 * * mon-fri").is_ok());
        assert!(check_cron("@daily").is_ok());
        assert!(check_cron("61 * * * *").is_err());
        assert!(check_cron("* * *").is_err());
        assert!(check_cron("*/0 * * * *").is_err());
    }

    #[test]
    fn quantities_are_checked() {
        assert!(is_cpu("500m") && is_cpu("2") && is_cpu("0.5"));
        assert!(!is_cpu("500Mi") && !is_cpu("") && !is_cpu("lots"));
        assert!(is_memory("512Mi") && is_memory("2Gi") && is_memory("1G"));
        assert!(!is_memory("2 gigs") && !is_memory("-1Gi"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut spec = Spec::test(Archetype::WebService).with(|c| {
            c.name = "../../etc".into();
            c.replicas = Some(1000);
            c.schedule = Some("0 2 * * *".into());
        });
        let problems = normalize(&mut spec);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/components/0/name",
                "/components/0/image",
                "/components/0/replicas",
                "/components/0/schedule"
            ]
        );
    }

    /// The same domain rules whichever planner filled the spec.
    #[test]
    fn data_stores_are_not_autoscaled_and_batch_work_has_no_volume() {
        let mut redis = Spec::test(Archetype::Redis).with(|c| {
            c.autoscaling = Some(crate::spec::Autoscaling {
                min_replicas: 2,
                max_replicas: 5,
                cpu_target_percent: 80,
            });
        });
        let problems = normalize(&mut redis);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].path, "/components/0/autoscaling");
        let mut job = Spec::test(Archetype::CronJob).with(|c| {
            c.image = Some("ghcr.io/acme/report:1.0".into());
            c.schedule = Some("0 2 * * *".into());
            c.storage = Some(crate::spec::Storage {
                size: "1Gi".into(),
                class: None,
            });
        });
        let problems = normalize(&mut job);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].path, "/components/0/storage");
        let mut web = Spec::test(Archetype::WebService).with(|c| {
            c.image = Some("ghcr.io/acme/web:1.0".into());
            c.autoscaling = Some(crate::spec::Autoscaling {
                min_replicas: 2,
                max_replicas: 5,
                cpu_target_percent: 80,
            });
        });
        assert_eq!(normalize(&mut web), vec![]);
    }

    #[test]
    fn hostile_hosts_and_images_are_refused() {
        let mut spec = Spec::test(Archetype::Redis).with(|c| {
            c.image = Some("redis:7 ; rm -rf /".into());
            c.exposure = Some(crate::spec::Exposure {
                host: Some("evil.com\n  privileged: true".into()),
                path: Some("/../secret".into()),
                tls: true,
            });
        });
        let problems = normalize(&mut spec);
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }
}
