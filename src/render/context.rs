//! The template context: a component with every default resolved.
//!
//! Templates stay declarative; every decision (which image, which probe,
//! which volumes, which environment variables) is made here in Rust where it
//! can be tested, and handed to the templates as plain values.

use serde::Serialize;
use std::collections::BTreeMap;

use super::probe::Fallback;
use super::stores::{self, Members};
use crate::finding::{Finding, Severity};
use crate::spec::{Archetype, ArchetypeDefaults, Component, KnownImage, Probe, Spec, WorkloadKind};

/// A resolved port.
#[derive(Debug, Clone, Serialize)]
pub(super) struct PortView {
    name: String,
    port: u32,
}

/// A ConfigMap of configuration files and a start script, and where it is mounted.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ConfigView {
    pub(super) mount: &'static str,
    pub(super) files: BTreeMap<String, String>,
    command: Vec<String>,
}

/// Everything a template needs for one component.
#[derive(Debug, Clone, Serialize)]
pub(super) struct App {
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) environment: String,
    pub(super) archetype: &'static str,
    pub(super) workload: &'static str,
    labels: BTreeMap<String, String>,
    selector: BTreeMap<String, String>,
    image: String,
    replicas: u32,
    ports: Vec<PortView>,
    resources: serde_json::Value,
    env: Vec<serde_json::Value>,
    args: Vec<String>,
    /// Readiness, liveness and startup probes (`render/probe.rs`).
    probes: serde_json::Value,
    /// A Deployment's rollout (`render/workload.rs`).
    rollout: serde_json::Value,
    /// A bare pod's restart policy.
    restart_policy: Option<&'static str>,
    /// ConfigMaps, PersistentVolumes and StorageClasses (`render/objects.rs`).
    pub(super) objects: serde_json::Value,
    run_as_user: Option<i64>,
    read_only_root: bool,
    /// Persistent volume: size, class and mount path.
    storage: Option<serde_json::Value>,
    pub(super) exposure: Option<serde_json::Value>,
    pub(super) autoscaling: Option<serde_json::Value>,
    pub(super) pdb: bool,
    spread: bool,
    pub(super) sentinel: bool,
    /// A configuration rendered by us, mounted from the `<name>-config`
    /// ConfigMap and started by its script (a ZooKeeper ensemble).
    pub(super) config: Option<ConfigView>,
    schedule: Option<String>,
    pub(super) service: bool,
    pub(super) headless: bool,
    /// Pod and container options (`render/pod.rs`).
    pod: serde_json::Value,
    /// The Service's type, cluster IP and ports.
    svc: serde_json::Value,
    /// Job and cron job settings.
    batch: serde_json::Value,
    /// The Role and binding, or null.
    pub(super) rbac: serde_json::Value,
    /// Namespaces a NetworkPolicy lets in (empty: no policy).
    pub(super) allow_from: Vec<String>,
    /// A log shipper that reads the node's logs through a waived hostPath.
    pub(super) log_shipper: bool,
    /// Annotations on the workload (the log shipper's waiver).
    annotations: BTreeMap<String, String>,
}

/// Images of log shippers, which read container logs from the node.
const LOG_SHIPPERS: &[&str] = &["fluentd", "fluent-bit", "promtail", "vector"];

/// True for a per-node workload running a known log shipper.
pub(super) fn is_log_shipper(comp: &Component) -> bool {
    let base = |i: &str| {
        let repo = i.split(['@', ':']).next().unwrap_or(i);
        repo.rsplit('/').next().unwrap_or(repo).to_string()
    };
    comp.archetype.workload() == WorkloadKind::DaemonSet
        && comp
            .image
            .as_deref()
            .is_some_and(|i| LOG_SHIPPERS.contains(&base(i).as_str()))
}

/// The waiver a log shipper carries: it reads root-owned files under the node's /var/log.
fn log_shipper_waiver() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            crate::manifest::WAIVE_ANNOTATION.to_string(),
            "host-path,run-as-non-root".to_string(),
        ),
        (
            crate::manifest::WAIVE_REASON_ANNOTATION.to_string(),
            "a log shipper reads the node's container logs: /var/log is mounted read-only from the host, and the \
             files there are readable by root only"
                .to_string(),
        ),
    ])
}

impl App {
    /// The image's tag (`8.17.0` of `elasticsearch:8.17.0`), if it has one.
    pub(super) fn image_tag(&self) -> Option<&str> {
        let (repo, tag) = self.image.rsplit_once(':')?;
        (!tag.contains('/') && !repo.contains('@')).then_some(tag)
    }

    pub(super) fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    pub(super) fn replicas(&self) -> u32 {
        self.replicas
    }

    /// True when the volume needs a standalone PersistentVolumeClaim
    /// (a StatefulSet uses volumeClaimTemplates instead).
    pub(super) fn storage_needs_claim(&self, workload: WorkloadKind) -> bool {
        self.storage.is_some() && workload != WorkloadKind::StatefulSet
    }
}

/// Labels every resource carries.
fn labels(spec: &Spec, comp: &Component, extra: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut labels = extra.clone();
    labels.insert("app.kubernetes.io/name".into(), comp.name.clone());
    labels.insert("app.kubernetes.io/instance".into(), comp.name.clone());
    labels.insert(
        "app.kubernetes.io/component".into(),
        comp.archetype.as_str().replace('_', "-"),
    );
    labels.insert("app.kubernetes.io/part-of".into(), comp.name.clone());
    labels.insert("app.kubernetes.io/managed-by".into(), "gitintent".into());
    labels.insert("gitintent.io/environment".into(), spec.environment.clone());
    labels
}

/// Resolves one component; findings note anything the reviewer must act on.
pub(super) fn app(
    spec: &Spec,
    comp: &Component,
    extra_labels: &BTreeMap<String, String>,
    members: Members,
    findings: &mut Vec<Finding>,
) -> App {
    let d = comp.archetype.defaults();
    let workload = comp.workload_kind();
    let replicas = replicas(comp);
    super::workload::findings(comp, findings);
    let image = image(comp, &d, workload, findings);
    let ports = ports(comp, &d);
    let batch = matches!(workload, Some(WorkloadKind::CronJob | WorkloadKind::Job));
    let probes = probes(comp, &d, &ports, batch, findings);
    let (env, args) = env_and_args(comp, replicas, findings);
    let storage = storage(comp, &d);
    let long_running = !batch && workload.is_some();
    let serving = serving(comp, workload, &ports, long_running, findings);
    let scaled = long_running && workload != Some(WorkloadKind::DaemonSet);
    App {
        pod: super::pod::pod(comp),
        svc: serving.svc,
        batch: super::pod::batch(comp),
        rbac: super::pod::rbac(comp, findings),
        name: comp.name.clone(),
        namespace: spec.namespace.clone(),
        environment: spec.environment.clone(),
        archetype: comp.archetype.as_str(),
        workload: super::workload::name(workload),
        labels: labels(spec, comp, extra_labels),
        selector: selector(comp),
        image,
        replicas,
        resources: resources(comp, &d),
        env,
        args,
        probes,
        rollout: super::workload::rollout(comp, storage.is_some()),
        restart_policy: super::workload::restart_policy(comp),
        objects: super::objects::objects(comp, findings),
        run_as_user: d.run_as_user,
        read_only_root: comp.archetype.is_generic(),
        storage,
        exposure: serving.exposure,
        autoscaling: autoscaling(comp, scaled),
        pdb: scaled && wants_pdb(spec, comp, replicas),
        spread: comp.high_availability.as_ref().is_some_and(|h| h.spread) && long_running,
        sentinel: members == Members::Sentinel,
        config: (members == Members::Ensemble).then(|| zookeeper(comp, replicas, d.data_path)),
        schedule: comp.schedule.clone(),
        service: serving.service,
        headless: workload == Some(WorkloadKind::StatefulSet),
        ports,
        allow_from: comp.allow_from_namespaces.clone(),
        log_shipper: is_log_shipper(comp),
        annotations: annotations(comp),
    }
}

/// The known image a web service runs ([`crate::spec::known_image`]), whose
/// port and probe it gets by default.
fn known_web_image(comp: &Component) -> Option<KnownImage> {
    comp.image
        .as_deref()
        .filter(|_| comp.archetype == Archetype::WebService)
        .and_then(crate::spec::known_image)
}

/// Whether a disruption budget is wanted: asked for, or several replicas in
/// production.
fn wants_pdb(spec: &Spec, comp: &Component, replicas: u32) -> bool {
    let asked = comp
        .high_availability
        .as_ref()
        .is_some_and(|h| h.pod_disruption_budget);
    asked || replicas > 1 && spec.environment == "production"
}

/// The workload's annotations: a log shipper's waiver, else none.
fn annotations(comp: &Component) -> BTreeMap<String, String> {
    if is_log_shipper(comp) {
        log_shipper_waiver()
    } else {
        BTreeMap::new()
    }
}

/// The image a component runs (its own, else the archetype's), with a
/// warning when a workload's image is `latest` or has no tag.
fn image(
    comp: &Component,
    d: &ArchetypeDefaults,
    workload: Option<WorkloadKind>,
    findings: &mut Vec<Finding>,
) -> String {
    let image = comp
        .image
        .clone()
        .or_else(|| d.image.map(str::to_string))
        .unwrap_or_default();
    let tag = image
        .rsplit_once(':')
        .filter(|(repo, _)| !repo.ends_with('/') && !repo.is_empty());
    let kind_label = format!("{:?}", workload.unwrap_or(WorkloadKind::Deployment));
    match tag {
        _ if workload.is_none() => {}
        Some((_, "latest")) => findings.push(Finding::new(
            Severity::Warning,
            "image-tag-latest",
            format!("{kind_label}/{}", comp.name),
            "/spec/template/spec/containers/0/image",
            format!("image {image} uses the latest tag; pin a version so the deployment is reproducible"),
        )),
        None if !image.contains('@') => findings.push(Finding::new(
            Severity::Warning,
            "image-untagged",
            format!("{kind_label}/{}", comp.name),
            "/spec/template/spec/containers/0/image",
            format!("image {image} has no tag; pin a version"),
        )),
        _ => {}
    }
    image
}

/// The ports a component listens on: its own, else the known image's, else
/// the archetype's.
fn ports(comp: &Component, d: &ArchetypeDefaults) -> Vec<PortView> {
    let port = |name: &str, port: u32| PortView {
        name: name.to_string(),
        port,
    };
    if let (true, Some(k)) = (comp.ports.is_empty(), known_web_image(comp)) {
        vec![port(k.port_name, k.port)]
    } else if comp.ports.is_empty() {
        d.ports.iter().map(|(n, p)| port(n, *p)).collect()
    } else {
        comp.ports.iter().map(|p| port(&p.name, p.port)).collect()
    }
}

/// Readiness, liveness and startup probes: none for batch work or a bare
/// pod; otherwise the component's health check, else the default probe (the
/// known image's, else the archetype's) on the first port.
fn probes(
    comp: &Component,
    d: &ArchetypeDefaults,
    ports: &[PortView],
    batch: bool,
    findings: &mut Vec<Finding>,
) -> serde_json::Value {
    if batch || comp.workload_kind().is_none() {
        return serde_json::json!({"readiness": null, "liveness": null, "startup": null});
    }
    let first_port = ports.first().map(|p| p.port);
    let default_probe = known_web_image(comp).map_or(d.probe, |k| k.probe);
    let fallback = match (&comp.health_check, default_probe, first_port) {
        (Some(h), _, _) => h.port.or(first_port).map(|port| Fallback {
            path: h.path.clone(),
            port,
            initial_delay: 10,
        }),
        (None, Probe::Http(path), Some(port)) => Some(Fallback {
            path: Some(path.to_string()),
            port,
            initial_delay: 15,
        }),
        (None, Probe::Tcp, Some(port)) => Some(Fallback {
            path: None,
            port,
            initial_delay: 15,
        }),
        _ => None,
    };
    super::probe::probes(comp, fallback, first_port, findings)
}

/// Requests and limits: the component's, else the archetype's defaults.
fn resources(comp: &Component, d: &ArchetypeDefaults) -> serde_json::Value {
    let r = comp.resources.clone().unwrap_or(crate::spec::Resources {
        requests: Default::default(),
        limits: Default::default(),
    });
    serde_json::json!({
        "requests": {"cpu": r.requests.cpu.unwrap_or(d.requests.0.into()), "memory": r.requests.memory.unwrap_or(d.requests.1.into())},
        "limits": {"cpu": r.limits.cpu.unwrap_or(d.limits.0.into()), "memory": r.limits.memory.unwrap_or(d.limits.1.into())},
    })
}

/// The container's environment and arguments: what the archetype needs to
/// start, then the spec's variables, Secret and ConfigMap references; the
/// pod's own arguments replace the archetype's.
fn env_and_args(
    comp: &Component,
    replicas: u32,
    findings: &mut Vec<Finding>,
) -> (Vec<serde_json::Value>, Vec<String>) {
    let (mut env, mut args) = super::start::archetype_env(comp, replicas, findings);
    if let Some(p) = comp.pod.as_ref().filter(|p| !p.args.is_empty()) {
        args = p.args.clone();
    }
    env.extend(
        comp.env
            .iter()
            .map(|e| serde_json::json!({"name": e.name, "value": e.value})),
    );
    env.extend(comp.secret_refs.iter().map(|s| {
        serde_json::json!({"name": s.env, "valueFrom": {"secretKeyRef": {"name": s.secret, "key": s.key}}})
    }));
    env.extend(comp.pod.iter().flat_map(|p| &p.config_map_refs).map(|r| {
        serde_json::json!({"name": r.env, "valueFrom": {"configMapKeyRef": {"name": r.config_map, "key": r.key}}})
    }));
    (env, args)
}

/// The persistent volume (size, class, mount path): the component's, else
/// the archetype's default size.
fn storage(comp: &Component, d: &ArchetypeDefaults) -> Option<serde_json::Value> {
    comp.storage
        .as_ref()
        .map(|s| (s.size.clone(), s.class.clone()))
        .or_else(|| d.storage.map(|size| (size.to_string(), None)))
        .map(|(size, class)| serde_json::json!({"size": size, "class": class, "mount": d.data_path}))
}

/// The Service, its Ingress, and whether the Service is rendered.
struct Serving {
    svc: serde_json::Value,
    exposure: Option<serde_json::Value>,
    service: bool,
}

/// The component's Service ([`super::pod::service`]) and Ingress, and
/// whether the Service is rendered.
fn serving(
    comp: &Component,
    workload: Option<WorkloadKind>,
    ports: &[PortView],
    long_running: bool,
    findings: &mut Vec<Finding>,
) -> Serving {
    let port_pairs: Vec<(String, u32)> = ports.iter().map(|p| (p.name.clone(), p.port)).collect();
    let svc = super::pod::service(comp, &port_pairs, findings);
    let exposure = exposure(comp, &svc, workload, ports.is_empty(), findings);
    let has_service_ports = svc["ports"].as_array().is_some_and(|p| !p.is_empty());
    let service = has_service(comp, workload, long_running, has_service_ports);
    Serving {
        svc,
        exposure,
        service,
    }
}

/// The HorizontalPodAutoscaler's bounds and CPU target, when the component
/// autoscales and is `scaled` (long-running, not per node).
fn autoscaling(comp: &Component, scaled: bool) -> Option<serde_json::Value> {
    comp.autoscaling.as_ref().filter(|_| scaled).map(
        |a| serde_json::json!({"min": a.min_replicas, "max": a.max_replicas, "cpu": a.cpu_target_percent}),
    )
}

/// The Ingress's host, path, TLS and Service port; an error finding when
/// the component is exposed but listens on no port (`no_ports` for a
/// workload; a bare pod's Service ports otherwise).
fn exposure(
    comp: &Component,
    svc: &serde_json::Value,
    workload: Option<WorkloadKind>,
    no_ports: bool,
    findings: &mut Vec<Finding>,
) -> Option<serde_json::Value> {
    let service_port = svc["ports"][0]["name"].as_str().map(str::to_string);
    let exposure = comp.exposure.as_ref().map(|e| {
        serde_json::json!({
            "host": e.host, "path": e.path.clone().unwrap_or_else(|| "/".into()), "tls": e.tls,
            "port": service_port.clone().unwrap_or_else(|| "http".into()),
        })
    });
    let has_service_ports = svc["ports"].as_array().is_some_and(|p| !p.is_empty());
    let no_port = if workload.is_none() {
        !has_service_ports
    } else {
        no_ports
    };
    if comp.exposure.is_some() && no_port {
        findings.push(Finding::new(
            Severity::Error,
            "exposure-without-port",
            format!("Ingress/{}", comp.name),
            "/spec/rules/0/http/paths/0/backend/service/port",
            format!(
                "{} is exposed but has no port; name the port it listens on",
                comp.name
            ),
        ));
    }
    exposure
}

/// Whether a Service is rendered: a bare pod's when the spec asks for one;
/// a long-running workload's when it has ports (a worker's only when asked).
fn has_service(
    comp: &Component,
    workload: Option<WorkloadKind>,
    long_running: bool,
    has_service_ports: bool,
) -> bool {
    match workload {
        None => comp.service.is_some(),
        Some(_) => {
            long_running
                && has_service_ports
                && (comp.archetype != Archetype::Worker || comp.service.is_some())
        }
    }
}

/// The selector labels of the component's pods.
fn selector(comp: &Component) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), comp.name.clone()),
        ("app.kubernetes.io/instance".to_string(), comp.name.clone()),
    ])
}

/// The replicas a component runs: as asked, else its autoscaling minimum,
/// else 3 for Redis with failover (a Sentinel quorum), else the archetype's default.
pub(super) fn replicas(comp: &Component) -> u32 {
    let failover = comp.high_availability.as_ref().is_some_and(|h| h.failover);
    comp.replicas
        .or_else(|| comp.autoscaling.as_ref().map(|a| a.min_replicas))
        .unwrap_or(if comp.archetype == Archetype::Redis && failover {
            3
        } else {
            comp.archetype.defaults().replicas
        })
}

/// A ZooKeeper ensemble's `zoo.cfg` and start script, mounted at `/config`.
fn zookeeper(comp: &Component, replicas: u32, data: &str) -> ConfigView {
    const MOUNT: &str = "/config";
    ConfigView {
        mount: MOUNT,
        files: BTreeMap::from([
            ("zoo.cfg".to_string(), stores::zoo_cfg(&comp.name, replicas, data)),
            ("start.sh".to_string(), stores::zookeeper_start(data, MOUNT)),
            ("logback.xml".to_string(), stores::ZOOKEEPER_LOGBACK.to_string()),
        ]),
        command: vec!["sh".into(), format!("{MOUNT}/start.sh")],
    }
}
