//! The template context: a component with every default resolved.
//!
//! Templates stay declarative; every decision (which image, which probe,
//! which volumes, which environment variables) is made here in Rust where it
//! can be tested, and handed to the templates as plain values.

use serde::Serialize;
use std::collections::BTreeMap;

use crate::finding::{Finding, Severity};
use crate::spec::{Archetype, Component, Probe, Spec, WorkloadKind};

/// A resolved port.
#[derive(Debug, Clone, Serialize)]
pub(super) struct PortView {
    name: String,
    port: u32,
}

/// A resolved probe: `http` (path + port) or `tcp` (port).
#[derive(Debug, Clone, Serialize)]
pub(super) struct ProbeView {
    kind: &'static str,
    path: Option<String>,
    port: u32,
    initial_delay: u32,
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
    probe: Option<ProbeView>,
    run_as_user: Option<i64>,
    read_only_root: bool,
    /// Persistent volume: size, class and mount path.
    storage: Option<serde_json::Value>,
    pub(super) exposure: Option<serde_json::Value>,
    pub(super) autoscaling: Option<serde_json::Value>,
    pub(super) pdb: bool,
    spread: bool,
    pub(super) sentinel: bool,
    schedule: Option<String>,
    pub(super) service: bool,
    pub(super) headless: bool,
    /// `type: LoadBalancer` on the Service.
    load_balancer: bool,
    /// The CronJob's `timeZone`.
    time_zone: Option<String>,
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
            crate::policy::WAIVE.to_string(),
            "host-path,run-as-non-root".to_string(),
        ),
        (
            crate::policy::WAIVE_REASON.to_string(),
            "a log shipper reads the node's container logs: /var/log is mounted read-only from the host, and the \
             files there are readable by root only"
                .to_string(),
        ),
    ])
}

impl App {
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

/// Environment variables and arguments an archetype needs to start at all.
fn archetype_env(
    comp: &Component,
    replicas: u32,
    findings: &mut Vec<Finding>,
) -> (Vec<serde_json::Value>, Vec<String>) {
    let secret = format!("{}-credentials", comp.name);
    let mut need_secret = |keys: &[&str]| {
        findings.push(Finding::new(
            Severity::Info,
            "secret-required",
            format!("Secret/{secret}"),
            "",
            format!(
                "{} reads Secret {secret} (keys: {}); create it outside Git or as a SealedSecret/ExternalSecret before merging",
                comp.name,
                keys.join(", ")
            ),
        ));
    };
    let from_secret = |env: &str, key: &str| serde_json::json!({"name": env, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}});
    let plain = |env: &str, value: &str| serde_json::json!({"name": env, "value": value});
    match comp.archetype {
        Archetype::Postgres => {
            need_secret(&["password"]);
            (
                vec![
                    from_secret("POSTGRES_PASSWORD", "password"),
                    plain("PGDATA", "/var/lib/postgresql/data/pgdata"),
                ],
                vec![],
            )
        }
        Archetype::Mysql => {
            need_secret(&["root-password"]);
            (vec![from_secret("MYSQL_ROOT_PASSWORD", "root-password")], vec![])
        }
        Archetype::Mongodb => {
            need_secret(&["username", "password"]);
            (
                vec![
                    from_secret("MONGO_INITDB_ROOT_USERNAME", "username"),
                    from_secret("MONGO_INITDB_ROOT_PASSWORD", "password"),
                ],
                vec![],
            )
        }
        Archetype::Rabbitmq => {
            need_secret(&["erlang-cookie"]);
            (
                vec![from_secret("RABBITMQ_ERLANG_COOKIE", "erlang-cookie")],
                vec![],
            )
        }
        Archetype::Minio => {
            need_secret(&["root-user", "root-password"]);
            (
                vec![
                    from_secret("MINIO_ROOT_USER", "root-user"),
                    from_secret("MINIO_ROOT_PASSWORD", "root-password"),
                ],
                vec![
                    "server".into(),
                    "/data".into(),
                    "--console-address".into(),
                    ":9001".into(),
                ],
            )
        }
        Archetype::Grafana => {
            need_secret(&["admin-password"]);
            (
                vec![from_secret("GF_SECURITY_ADMIN_PASSWORD", "admin-password")],
                vec![],
            )
        }
        Archetype::Elasticsearch => {
            let mut env = vec![
                plain("ES_JAVA_OPTS", "-Xms1g -Xmx1g"),
                plain("xpack.security.enabled", "true"),
            ];
            if replicas <= 1 {
                env.push(plain("discovery.type", "single-node"));
            } else {
                let headless = format!("{}-headless", comp.name);
                let masters: Vec<String> = (0..replicas.min(3))
                    .map(|i| format!("{}-{i}", comp.name))
                    .collect();
                env.push(plain("discovery.seed_hosts", &headless));
                env.push(plain("cluster.initial_master_nodes", &masters.join(",")));
                env.push(serde_json::json!({"name": "node.name", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}));
            }
            env.push(plain("cluster.name", &comp.name));
            (env, vec![])
        }
        Archetype::Kafka => {
            let headless = format!("{}-headless", comp.name);
            let voters: Vec<String> = (0..replicas.max(1))
                .map(|i| format!("{i}@{}-{i}.{headless}:9093", comp.name))
                .collect();
            (
                vec![
                    plain("KAFKA_PROCESS_ROLES", "broker,controller"),
                    plain("KAFKA_CONTROLLER_QUORUM_VOTERS", &voters.join(",")),
                    plain("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093"),
                    plain("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
                    plain("KAFKA_LOG_DIRS", "/var/lib/kafka/data"),
                ],
                vec![],
            )
        }
        Archetype::Redis => (
            vec![],
            vec!["redis-server".into(), "--appendonly".into(), "yes".into()],
        ),
        _ => (vec![], vec![]),
    }
}

/// Resolves one component; findings note anything the reviewer must act on.
pub(super) fn app(
    spec: &Spec,
    comp: &Component,
    extra_labels: &BTreeMap<String, String>,
    findings: &mut Vec<Finding>,
) -> App {
    let d = comp.archetype.defaults();
    let workload = comp.archetype.workload();
    let ha = comp.high_availability.clone();
    let sentinel = comp.archetype == Archetype::Redis && ha.as_ref().is_some_and(|h| h.failover);
    let replicas = comp
        .replicas
        .or_else(|| comp.autoscaling.as_ref().map(|a| a.min_replicas))
        .unwrap_or(if sentinel { 3 } else { d.replicas });

    let image = comp
        .image
        .clone()
        .or_else(|| d.image.map(str::to_string))
        .unwrap_or_default();
    let tag = image
        .rsplit_once(':')
        .filter(|(repo, _)| !repo.ends_with('/') && !repo.is_empty());
    match tag {
        Some((_, "latest")) => findings.push(Finding::new(
            Severity::Warning,
            "image-tag-latest",
            format!("{:?}/{}", workload, comp.name),
            "/spec/template/spec/containers/0/image",
            format!("image {image} uses the latest tag; pin a version so the deployment is reproducible"),
        )),
        None if !image.contains('@') => findings.push(Finding::new(
            Severity::Warning,
            "image-untagged",
            format!("{:?}/{}", workload, comp.name),
            "/spec/template/spec/containers/0/image",
            format!("image {image} has no tag; pin a version"),
        )),
        _ => {}
    }

    let known = comp
        .image
        .as_deref()
        .filter(|_| comp.archetype == Archetype::WebService)
        .and_then(crate::spec::known_image);
    let ports: Vec<PortView> = if let (true, Some(k)) = (comp.ports.is_empty(), known) {
        vec![PortView {
            name: k.port_name.to_string(),
            port: k.port,
        }]
    } else if comp.ports.is_empty() {
        d.ports
            .iter()
            .map(|(n, p)| PortView {
                name: n.to_string(),
                port: *p,
            })
            .collect()
    } else {
        comp.ports
            .iter()
            .map(|p| PortView {
                name: p.name.clone(),
                port: p.port,
            })
            .collect()
    };
    let first_port = ports.first().map(|p| p.port);
    let batch = matches!(workload, WorkloadKind::CronJob | WorkloadKind::Job);
    let default_probe = known.map_or(d.probe, |k| k.probe);
    let probe = match (&comp.health_check, default_probe, first_port) {
        _ if batch => None,
        (Some(h), _, _) => h.port.or(first_port).map(|port| ProbeView {
            kind: if h.path.is_some() { "http" } else { "tcp" },
            path: h.path.clone(),
            port,
            initial_delay: 10,
        }),
        (None, Probe::Http(path), Some(port)) => Some(ProbeView {
            kind: "http",
            path: Some(path.to_string()),
            port,
            initial_delay: 15,
        }),
        (None, Probe::Tcp, Some(port)) => Some(ProbeView {
            kind: "tcp",
            path: None,
            port,
            initial_delay: 15,
        }),
        _ => None,
    };

    let r = comp.resources.clone().unwrap_or(crate::spec::Resources {
        requests: Default::default(),
        limits: Default::default(),
    });
    let resources = serde_json::json!({
        "requests": {"cpu": r.requests.cpu.unwrap_or(d.requests.0.into()), "memory": r.requests.memory.unwrap_or(d.requests.1.into())},
        "limits": {"cpu": r.limits.cpu.unwrap_or(d.limits.0.into()), "memory": r.limits.memory.unwrap_or(d.limits.1.into())},
    });

    let (mut env, args) = archetype_env(comp, replicas, findings);
    env.extend(
        comp.env
            .iter()
            .map(|e| serde_json::json!({"name": e.name, "value": e.value})),
    );
    env.extend(comp.secret_refs.iter().map(|s| {
        serde_json::json!({"name": s.env, "valueFrom": {"secretKeyRef": {"name": s.secret, "key": s.key}}})
    }));

    let storage = comp
        .storage
        .as_ref()
        .map(|s| (s.size.clone(), s.class.clone()))
        .or_else(|| d.storage.map(|size| (size.to_string(), None)))
        .map(|(size, class)| serde_json::json!({"size": size, "class": class, "mount": d.data_path}));

    let exposure = comp.exposure.as_ref().map(|e| {
        serde_json::json!({
            "host": e.host, "path": e.path.clone().unwrap_or_else(|| "/".into()), "tls": e.tls,
            "port": ports.first().map(|p| p.name.clone()).unwrap_or_else(|| "http".into()),
        })
    });
    if comp.exposure.is_some() && ports.is_empty() {
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

    let long_running = !batch;
    App {
        name: comp.name.clone(),
        namespace: spec.namespace.clone(),
        environment: spec.environment.clone(),
        archetype: comp.archetype.as_str(),
        workload: match workload {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
            WorkloadKind::CronJob => "cronjob",
            WorkloadKind::Job => "job",
        },
        labels: labels(spec, comp, extra_labels),
        selector: BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), comp.name.clone()),
            ("app.kubernetes.io/instance".to_string(), comp.name.clone()),
        ]),
        image,
        replicas,
        resources,
        env,
        args,
        probe,
        run_as_user: d.run_as_user,
        read_only_root: comp.archetype.is_generic(),
        storage,
        exposure,
        autoscaling: comp.autoscaling.as_ref().filter(|_| long_running && workload != WorkloadKind::DaemonSet).map(|a| {
            serde_json::json!({"min": a.min_replicas, "max": a.max_replicas, "cpu": a.cpu_target_percent})
        }),
        pdb: long_running
            && workload != WorkloadKind::DaemonSet
            && (ha.as_ref().is_some_and(|h| h.pod_disruption_budget) || replicas > 1 && spec.environment == "production"),
        spread: ha.as_ref().is_some_and(|h| h.spread) && long_running,
        sentinel,
        schedule: comp.schedule.clone(),
        service: long_running && !ports.is_empty() && comp.archetype != Archetype::Worker,
        headless: workload == WorkloadKind::StatefulSet,
        ports,
        load_balancer: comp.load_balancer,
        time_zone: comp.time_zone.clone(),
        allow_from: comp.allow_from_namespaces.clone(),
        log_shipper: is_log_shipper(comp),
        annotations: if is_log_shipper(comp) {
            log_shipper_waiver()
        } else {
            BTreeMap::new()
        },
    }
}
