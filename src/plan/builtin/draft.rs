//! Drafts: what one clause said, and the component it becomes.
//!
//! The readers fill a [`Draft`] with exactly what the user wrote. [`build`]
//! turns it into a [`Component`], filling gaps with archetype defaults and
//! recording every such choice as an assumption, and every conflict as a
//! question. It refuses what cannot be built honestly: a generic workload
//! without an image, an untagged image, a cron job without a schedule.

use super::credentials::{secret_refs, Credential};
use super::naming::{image_basename, tag};
use super::schedule::Schedule;
use crate::plan::Error;
use crate::spec::{
    sanitize_name, Archetype, Autoscaling, Component, EnvVar, Exposure, HealthCheck, HighAvailability, Port,
    Quantities, Storage, WorkloadKind,
};

mod resources;
use resources::resources;

/// Autoscaling bounds as written; missing values are filled in by [`build`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Scale {
    pub(super) min: Option<u32>,
    pub(super) max: Option<u32>,
    pub(super) cpu: Option<u32>,
}

/// What one clause of the intent said.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub(super) archetype: Option<Archetype>,
    /// A vague noun ("a database") when no archetype was named.
    pub(super) vague: Option<&'static str>,
    pub(super) image: Option<String>,
    pub(super) mariadb: bool,
    /// A version asked for a data store (`postgres 16`).
    pub(super) version: Option<String>,
    /// The name as written, unsanitised.
    pub(super) name: Option<String>,
    /// The name came from "called"/"named"/"as", so a bad one is refused.
    pub(super) name_explicit: bool,
    pub(super) replicas: Option<u32>,
    /// "N replicas each": the count applies to every component.
    pub(super) replicas_each: bool,
    pub(super) autoscale: Option<Scale>,
    pub(super) requests: Quantities,
    pub(super) limits: Quantities,
    pub(super) storage_size: Option<String>,
    pub(super) storage_class: Option<String>,
    pub(super) persistent: bool,
    pub(super) ports: Vec<(Option<String>, u32)>,
    pub(super) health: Option<HealthCheck>,
    pub(super) host: Option<String>,
    pub(super) path: Option<String>,
    pub(super) tls: Option<bool>,
    pub(super) expose: bool,
    pub(super) internal: bool,
    pub(super) schedule: Option<Schedule>,
    pub(super) ha: bool,
    pub(super) failover: bool,
    /// "behind a LoadBalancer".
    pub(super) load_balancer: bool,
    /// The schedule's IANA zone ("9am Europe/Berlin time").
    pub(super) time_zone: Option<String>,
    pub(super) env: Vec<EnvVar>,
    pub(super) credentials: Vec<Credential>,
    pub(super) assumptions: Vec<String>,
    pub(super) questions: Vec<String>,
}

impl Draft {
    /// What was recognised, for an error that asks the user to rephrase.
    pub(super) fn understood(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(a) = self.archetype {
            out.push(format!("archetype: {a}"));
        }
        if let Some(v) = self.vague {
            out.push(format!("{v} (of unknown kind)"));
        }
        if let Some(i) = &self.image {
            out.push(format!("image {i}"));
        }
        if let Some(n) = &self.name {
            out.push(format!("name {n}"));
        }
        if let Some(r) = self.replicas {
            out.push(format!("{r} replicas"));
        }
        if let Some(s) = &self.autoscale {
            let bound = |b: Option<u32>| b.map_or("?".to_string(), |n| n.to_string());
            out.push(format!("autoscaling {}-{}", bound(s.min), bound(s.max)));
        }
        for (what, q) in [("requests", &self.requests), ("limits", &self.limits)] {
            if let Some(c) = &q.cpu {
                out.push(format!("cpu {what} {c}"));
            }
            if let Some(m) = &q.memory {
                out.push(format!("memory {what} {m}"));
            }
        }
        if let Some(s) = &self.storage_size {
            out.push(format!("storage {s}"));
        }
        if let Some(c) = &self.storage_class {
            out.push(format!("storage class {c}"));
        }
        for (_, p) in &self.ports {
            out.push(format!("port {p}"));
        }
        if let Some(h) = &self.host {
            out.push(format!("host {h}"));
        }
        if let Some(s) = &self.schedule {
            out.push(format!("schedule {}", s.cron));
        }
        if self.ha {
            out.push("high availability".into());
        }
        out
    }
}

/// Human name of an archetype ("web service", "cron job").
pub(super) fn label(a: Archetype) -> String {
    a.as_str().replace('_', " ")
}

/// Builds one component, pushing assumptions and questions onto the draft.
pub(super) fn build(d: &mut Draft) -> Result<Component, Error> {
    let Some(a) = d.archetype else {
        return Err(not_understood(d, "no workload found"));
    };
    let image = chosen_image(d, a)?;
    let name = match d.name.clone() {
        Some(raw) => match sanitize_name(&raw) {
            Ok(n) => n,
            Err(m) if d.name_explicit => return Err(Error::Refused(format!("the component name {m}"))),
            Err(_) => fallback_name(d, a, image.as_deref())?,
        },
        None => fallback_name(d, a, image.as_deref())?,
    };
    let mut c = Component::new(&name, a);
    c.image = image;
    let shape = Shape::of(a);
    replicas(d, &mut c, shape);
    if d.requests != Quantities::default() || d.limits != Quantities::default() {
        let defaults = a.defaults();
        c.resources = Some(resources(d, defaults.requests, defaults.limits));
    }
    storage(d, &mut c);
    ports_and_health(d, &mut c, shape);
    if d.expose || d.host.is_some() {
        exposure(d, &mut c);
    }
    schedule(d, &mut c)?;
    high_availability(d, &mut c, shape);
    c.env = d.env.clone();
    secret_refs(d, &mut c)?;
    Ok(c)
}

/// Whether a component runs to completion or once per node: neither has a
/// replica count, a health check or a disruption budget.
#[derive(Debug, Clone, Copy)]
struct Shape {
    batch: bool,
    per_node: bool,
}

impl Shape {
    fn of(a: Archetype) -> Shape {
        let workload = a.workload();
        Shape {
            batch: matches!(workload, WorkloadKind::CronJob | WorkloadKind::Job),
            per_node: workload == WorkloadKind::DaemonSet,
        }
    }
}

/// Refuses an image without a tag or with the `latest` tag; a digest pins it.
fn check_pinned(d: &Draft, image: &str) -> Result<(), Error> {
    match tag(image) {
        _ if image.contains('@') => Ok(()),
        None => Err(not_understood(
            d,
            &format!("the image {image} has no tag; pin a version, e.g. \"{image}:1.2.3\""),
        )),
        Some("latest") => Err(not_understood(
            d,
            &format!(
                "the image {image} uses the latest tag; pin a version so the deployment is reproducible"
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// The image: the one asked for (pinned), else the archetype's default for
/// the version asked for, else its default (said in an assumption).
fn chosen_image(d: &mut Draft, a: Archetype) -> Result<Option<String>, Error> {
    let defaults = a.defaults();
    Ok(match d.image.clone() {
        Some(image) => {
            check_pinned(d, &image)?;
            if !a.is_generic() && super::kind::from_image(&image) != Some(a) {
                d.assumptions.push(format!(
                    "{image} is assumed to behave like the official {a} image (ports, data path, user)"
                ));
            }
            Some(image)
        }
        None if a.is_generic() => {
            return Err(not_understood(
                d,
                &format!("a {} needs an image: say \"using image NAME:TAG\"", label(a)),
            ))
        }
        None if d.version.is_some() && !a.is_generic() => {
            let version = d.version.clone().unwrap_or_default();
            let default_repo = defaults
                .image
                .and_then(|i| i.rsplit_once(':'))
                .map_or("", |(r, _)| r);
            let image = format!("{}:{version}", if d.mariadb { "mariadb" } else { default_repo });
            d.assumptions
                .push(format!("image {image} chosen for the {a} version asked for"));
            Some(image)
        }
        None if d.mariadb => {
            d.assumptions
                .push("image mariadb:11.4.4 chosen for MariaDB (mysql archetype)".into());
            Some("mariadb:11.4.4".to_string())
        }
        None => {
            if let Some(i) = defaults.image {
                d.assumptions
                    .push(format!("image {i} chosen as the default for {a}"));
            }
            None
        }
    })
}

/// Replicas and autoscaling, with what does not apply said as a question.
fn replicas(d: &mut Draft, c: &mut Component, shape: Shape) {
    let (a, name) = (c.archetype, c.name.clone());
    let Shape { batch, per_node } = shape;
    c.replicas = d.replicas;
    if (batch || per_node) && c.replicas.is_some() {
        d.questions.push(format!(
            "a {} has no replica count; {} replicas was not used",
            label(a),
            c.replicas.unwrap_or_default()
        ));
        c.replicas = None;
    }
    if d.ha && !batch && !per_node {
        match c.replicas {
            None if d.autoscale.is_none() => {
                c.replicas = Some(3);
                d.assumptions.push(format!(
                    "3 replicas chosen so {name} stays available when a node fails"
                ));
            }
            Some(1) => d.questions.push(format!(
                "{name} is asked to be highly available but has 1 replica; use at least 2"
            )),
            _ => {}
        }
    }
    if matches!(a, Archetype::Postgres | Archetype::Mysql | Archetype::Mongodb)
        && c.replicas.is_some_and(|r| r > 1)
    {
        d.questions.push(format!(
            "{name} gets {} independent {a} pods; the archetype does not set up replication between them — \
             for replicated databases use an operator (e.g. CloudNativePG, MySQL Operator)",
            c.replicas.unwrap_or_default()
        ));
    }
    if let Some(s) = d.autoscale.clone() {
        if !a.autoscales() {
            d.questions.push(format!(
                "autoscaling is not supported for a {}; it was not used",
                label(a)
            ));
        } else {
            c.autoscaling = Some(autoscaling(d, &s, c.replicas));
        }
    }
}

/// A volume, where the archetype takes one.
fn storage(d: &mut Draft, c: &mut Component) {
    let (a, name) = (c.archetype, c.name.clone());
    let defaults = a.defaults();
    let wants_storage = d.persistent || d.storage_size.is_some() || d.storage_class.is_some();
    if wants_storage && !a.takes_storage() {
        d.questions.push(format!(
            "persistent storage is not supported for a {}; it was not used",
            label(a)
        ));
    } else if wants_storage {
        let size = match (&d.storage_size, defaults.storage) {
            (Some(s), _) => s.clone(),
            (None, Some(s)) => {
                d.assumptions
                    .push(format!("storage size {s} is the default for {a}"));
                s.to_string()
            }
            (None, None) => {
                d.assumptions
                    .push("storage size 10Gi chosen; none was given".into());
                "10Gi".to_string()
            }
        };
        if !a.is_stateful() && (c.replicas.unwrap_or(1) > 1 || c.autoscaling.is_some()) {
            d.questions.push(format!(
                "{name} runs several pods of a Deployment sharing one ReadWriteOnce volume, which may not schedule; \
                 use 1 replica or a ReadWriteMany storage class"
            ));
        }
        c.storage = Some(Storage {
            size,
            class: d.storage_class.clone(),
        });
    }
}

/// Ports, the health check, and the port a web service is assumed to listen on.
fn ports_and_health(d: &mut Draft, c: &mut Component, shape: Shape) {
    let (a, name) = (c.archetype, c.name.clone());
    let batch = shape.batch;
    c.ports = ports(d, a);
    c.health_check = d.health.clone();
    if batch && c.health_check.is_some() {
        d.questions
            .push(format!("a {} has no health check; it was not used", label(a)));
        c.health_check = None;
    }
    if let (true, Some(hp)) = (
        c.ports.is_empty() && a == Archetype::WebService,
        c.health_check.as_ref().and_then(|h| h.port),
    ) {
        c.ports = vec![Port {
            name: "http".into(),
            port: hp,
        }];
        d.assumptions.push(format!(
            "{name} listens on port {hp}, the port of its health check"
        ));
    }
    if c.ports.is_empty() && a == Archetype::WebService {
        d.assumptions
            .push(match c.image.as_deref().and_then(crate::spec::known_image) {
                Some(k) => format!(
                    "{name} listens on port {}, where {} serves; say \"on port N\" if not",
                    k.port, k.repository
                ),
                None => {
                    format!("{name} listens on port 8080, the web service default; say \"on port N\" if not")
                }
            });
    }
}

/// The schedule: a cron job's own, refused when missing, and a question on
/// anything else.
fn schedule(d: &mut Draft, c: &mut Component) -> Result<(), Error> {
    let (a, name) = (c.archetype, c.name.clone());
    match (&d.schedule, a) {
        (Some(s), Archetype::CronJob) => {
            c.schedule = Some(s.cron.clone());
            d.assumptions.extend(s.assumptions.iter().cloned());
            d.questions.extend(s.questions.iter().cloned());
        }
        (None, Archetype::CronJob) => {
            return Err(not_understood(
                d,
                "a cron job needs a schedule: say e.g. \"every 15 minutes\", \"nightly at 2am\" or \"every monday at 9am\"",
            ))
        }
        (Some(s), _) => d.questions.push(format!(
            "{name} is a {} and runs continuously; the schedule {:?} was not used (ask for a separate cron job)",
            label(a),
            s.cron
        )),
        (None, _) => {}
    }
    Ok(())
}

/// High availability: a disruption budget and spreading, Sentinel failover for Redis.
fn high_availability(d: &mut Draft, c: &mut Component, shape: Shape) {
    let (a, name) = (c.archetype, c.name.clone());
    let Shape { batch, per_node } = shape;
    if d.ha && (batch || per_node) {
        d.questions.push(format!(
            "high availability does not apply to a {}; it was not used",
            label(a)
        ));
    } else if d.ha {
        let failover = a == Archetype::Redis;
        if d.failover && !failover {
            d.questions.push(format!(
                "automatic failover is built in only for redis (Sentinel); {name} gets a disruption budget and \
                 spreading across nodes, but no failover"
            ));
        }
        if failover {
            d.assumptions
                .push(format!("{name} uses Redis Sentinel for automatic failover"));
        }
        c.high_availability = Some(HighAvailability {
            pod_disruption_budget: true,
            spread: true,
            failover,
        });
    }
}

fn not_understood(d: &Draft, reason: &str) -> Error {
    Error::NotUnderstood {
        reason: reason.to_string(),
        understood: d.understood(),
    }
}

fn fallback_name(d: &mut Draft, a: Archetype, image: Option<&str>) -> Result<String, Error> {
    if !a.is_generic() {
        return Ok(if d.mariadb {
            "mariadb".into()
        } else {
            a.as_str().into()
        });
    }
    let base = image.map(image_basename).unwrap_or_default();
    match sanitize_name(base) {
        Ok(n) => {
            d.assumptions.push(format!(
                "named {n} after its image; say \"called NAME\" to choose another name"
            ));
            Ok(n)
        }
        Err(_) => Err(not_understood(
            d,
            "could not derive a name from the image; say \"called NAME\"",
        )),
    }
}

fn autoscaling(d: &mut Draft, s: &Scale, replicas: Option<u32>) -> Autoscaling {
    let mut min = s.min.or(replicas).unwrap_or_else(|| {
        let min = if d.ha { 3 } else { 2 };
        d.assumptions
            .push(format!("autoscaling minimum of {min} replicas chosen"));
        min
    });
    if min == 0 {
        d.assumptions
            .push("the autoscaler cannot scale to zero; the minimum is 1".into());
        min = 1;
    }
    let max = s.max.unwrap_or_else(|| {
        let max = (min * 3).clamp(10, 100).max(min);
        d.assumptions
            .push(format!("autoscaling maximum of {max} replicas chosen"));
        max
    });
    let cpu = s.cpu.unwrap_or_else(|| {
        d.assumptions
            .push("autoscaling targets 80% average CPU (the default)".into());
        80
    });
    if let Some(r) = replicas.filter(|r| *r < min || *r > max) {
        d.questions.push(format!(
            "{r} replicas is outside the autoscaling range {min}-{max}; the autoscaler will correct it"
        ));
    }
    Autoscaling {
        min_replicas: min,
        max_replicas: max.max(min),
        cpu_target_percent: cpu,
    }
}

/// Names the ports: as written, else the archetype's names, else `http`.
fn ports(d: &mut Draft, a: Archetype) -> Vec<Port> {
    if d.ports.is_empty() {
        return Vec::new();
    }
    let defaults = a.defaults().ports;
    let mut out: Vec<Port> = Vec::new();
    for (k, (name, port)) in d.ports.iter().enumerate() {
        let fallback = defaults.get(k).map(|(n, _)| n.to_string()).unwrap_or_else(|| {
            if k == 0 && matches!(a, Archetype::WebService | Archetype::Grafana) {
                "http".into()
            } else {
                format!("tcp-{port}")
            }
        });
        let mut name = name.clone().unwrap_or(fallback);
        if out.iter().any(|p| p.name == name) {
            name = format!("tcp-{port}");
        }
        out.push(Port { name, port: *port });
    }
    // A data store keeps its other default ports ("rabbitmq on port 5673" keeps management).
    for (n, p) in defaults.iter().skip(out.len()) {
        if !out.iter().any(|o| o.port == *p || o.name == *n) {
            out.push(Port {
                name: n.to_string(),
                port: *p,
            });
        }
    }
    out
}

fn exposure(d: &mut Draft, c: &mut Component) {
    let a = c.archetype;
    if !matches!(a, Archetype::WebService | Archetype::Grafana | Archetype::Minio) {
        d.questions.push(format!(
            "{} is a {} and is not served over HTTP through an Ingress; exposure was not planned",
            c.name,
            label(a)
        ));
        return;
    }
    if d.internal {
        d.questions.push(format!(
            "{} is described as both internal and exposed; it was exposed",
            c.name
        ));
    }
    c.exposure = Some(exposure_of(d, &c.name));
}

/// The Ingress exposure read into `d`, with its defaults (TLS for a host)
/// and questions (no host) recorded; shared by new components and day-2 `expose`.
pub(super) fn exposure_of(d: &mut Draft, name: &str) -> Exposure {
    let tls = d.tls.unwrap_or_else(|| {
        if let Some(h) = &d.host {
            d.assumptions.push(format!(
                "TLS enabled for {h}; a public host is served over HTTPS by default"
            ));
        }
        d.host.is_some()
    });
    if d.host.is_none() {
        d.questions.push(format!(
            "which host name should {name} be served at? the Ingress matches any host until one is given"
        ));
    }
    Exposure {
        host: d.host.clone(),
        path: d.path.clone(),
        tls,
    }
}
