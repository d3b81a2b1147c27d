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
use crate::spec::{Archetype, Component, Probe, Spec, WorkloadKind};

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

/// Environment variables and arguments an archetype needs to start at all,
/// and a `secret-required` finding for the Secret it (or the spec) reads.
fn archetype_env(
    comp: &Component,
    replicas: u32,
    findings: &mut Vec<Finding>,
) -> (Vec<serde_json::Value>, Vec<String>) {
    let before = findings.len();
    let out = archetype_start(comp, replicas, findings);
    let secret = format!("{}-credentials", comp.name);
    let keys: Vec<&str> = comp
        .secret_refs
        .iter()
        .filter(|s| s.secret == secret)
        .map(|s| s.key.as_str())
        .collect();
    if findings.len() == before && !keys.is_empty() {
        findings.push(secret_required(&comp.name, &secret, &keys));
    }
    out
}

fn secret_required(name: &str, secret: &str, keys: &[&str]) -> Finding {
    Finding::new(
        Severity::Info,
        "secret-required",
        format!("Secret/{secret}"),
        "",
        format!(
            "{name} reads Secret {secret} (keys: {}); create it outside Git or as a SealedSecret/ExternalSecret before merging",
            keys.join(", ")
        ),
    )
}

fn archetype_start(
    comp: &Component,
    replicas: u32,
    findings: &mut Vec<Finding>,
) -> (Vec<serde_json::Value>, Vec<String>) {
    let secret = format!("{}-credentials", comp.name);
    // Keys the spec itself reads from the same Secret (an app's user, wired in).
    let own: Vec<&str> = comp
        .secret_refs
        .iter()
        .filter(|s| s.secret == secret)
        .map(|s| s.key.as_str())
        .collect();
    let mut need_secret = |keys: &[&str]| {
        let extra: Vec<&str> = own.iter().copied().filter(|k| !keys.contains(k)).collect();
        let keys: Vec<&str> = keys.iter().copied().chain(extra).collect();
        findings.push(secret_required(&comp.name, &secret, &keys));
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
            let heap = es_heap(comp);
            let mut env = vec![
                plain("ES_JAVA_OPTS", &format!("-Xms{heap}m -Xmx{heap}m")),
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
            // One broker (several are refused without Strimzi, see stores.rs):
            // node id 0 as in the voters, a cluster id fixed by the name, and
            // the pod's own DNS name advertised to clients.
            (
                vec![
                    serde_json::json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}),
                    plain("KAFKA_NODE_ID", "0"),
                    plain("CLUSTER_ID", &kafka_cluster_id(&comp.name)),
                    plain("KAFKA_PROCESS_ROLES", "broker,controller"),
                    plain("KAFKA_CONTROLLER_QUORUM_VOTERS", &voters.join(",")),
                    plain("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093"),
                    plain(
                        "KAFKA_ADVERTISED_LISTENERS",
                        &format!("PLAINTEXT://$(POD_NAME).{headless}:9092"),
                    ),
                    plain(
                        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    ),
                    plain("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
                    plain("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT"),
                    plain("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1"),
                    plain("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1"),
                    plain("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1"),
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

/// Elasticsearch's heap in MiB: half the memory limit (Elastic's advice; the
/// rest is the file-system cache), at least 256 MiB and under 31 GiB so the
/// JVM keeps compressed pointers.
fn es_heap(comp: &Component) -> u64 {
    let limit = comp
        .resources
        .as_ref()
        .and_then(|r| r.limits.memory.clone())
        .unwrap_or_else(|| comp.archetype.defaults().limits.1.to_string());
    let mib = crate::spec::memory_bytes(&limit).unwrap_or(2.0 * 1024f64.powi(3)) / 1024f64.powi(2);
    ((mib / 2.0) as u64).clamp(256, 31 * 1024 - 1)
}

/// A KRaft cluster id (16 bytes, URL-safe base64 without padding) fixed by
/// the component's name, so re-rendering never changes it.
fn kafka_cluster_id(name: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("gitintent kafka cluster {name}"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
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
    let ha = comp.high_availability.clone();
    let sentinel = members == Members::Sentinel;
    let replicas = replicas(comp);

    let image = comp
        .image
        .clone()
        .or_else(|| d.image.map(str::to_string))
        .unwrap_or_default();
    let tag = image
        .rsplit_once(':')
        .filter(|(repo, _)| !repo.ends_with('/') && !repo.is_empty());
    super::workload::findings(comp, findings);
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
    let batch = matches!(workload, Some(WorkloadKind::CronJob | WorkloadKind::Job));
    let default_probe = known.map_or(d.probe, |k| k.probe);
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
    let probes = if batch || workload.is_none() {
        serde_json::json!({"readiness": null, "liveness": null, "startup": null})
    } else {
        super::probe::probes(comp, fallback, first_port, findings)
    };

    let r = comp.resources.clone().unwrap_or(crate::spec::Resources {
        requests: Default::default(),
        limits: Default::default(),
    });
    let resources = serde_json::json!({
        "requests": {"cpu": r.requests.cpu.unwrap_or(d.requests.0.into()), "memory": r.requests.memory.unwrap_or(d.requests.1.into())},
        "limits": {"cpu": r.limits.cpu.unwrap_or(d.limits.0.into()), "memory": r.limits.memory.unwrap_or(d.limits.1.into())},
    });

    let (mut env, mut args) = archetype_env(comp, replicas, findings);
    if let Some(p) = comp.pod.as_ref().filter(|p| !p.args.is_empty()) {
        args = p.args.clone();
    }
    let config = (members == Members::Ensemble).then(|| zookeeper(comp, replicas, d.data_path));
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

    let storage = comp
        .storage
        .as_ref()
        .map(|s| (s.size.clone(), s.class.clone()))
        .or_else(|| d.storage.map(|size| (size.to_string(), None)))
        .map(|(size, class)| serde_json::json!({"size": size, "class": class, "mount": d.data_path}));

    let port_pairs: Vec<(String, u32)> = ports.iter().map(|p| (p.name.clone(), p.port)).collect();
    let svc = super::pod::service(comp, &port_pairs, findings);
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
        ports.is_empty()
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

    let long_running = !batch && workload.is_some();
    App {
        pod: super::pod::pod(comp),
        svc,
        batch: super::pod::batch(comp),
        rbac: super::pod::rbac(comp, findings),
        name: comp.name.clone(),
        namespace: spec.namespace.clone(),
        environment: spec.environment.clone(),
        archetype: comp.archetype.as_str(),
        workload: super::workload::name(workload),
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
        probes,
        rollout: super::workload::rollout(comp, storage.is_some()),
        restart_policy: super::workload::restart_policy(comp),
        objects: super::objects::objects(comp, findings),
        run_as_user: d.run_as_user,
        read_only_root: comp.archetype.is_generic(),
        storage,
        exposure,
        autoscaling: comp.autoscaling.as_ref().filter(|_| long_running && workload != Some(WorkloadKind::DaemonSet)).map(|a| {
            serde_json::json!({"min": a.min_replicas, "max": a.max_replicas, "cpu": a.cpu_target_percent})
        }),
        pdb: long_running
            && workload != Some(WorkloadKind::DaemonSet)
            && (ha.as_ref().is_some_and(|h| h.pod_disruption_budget) || replicas > 1 && spec.environment == "production"),
        spread: ha.as_ref().is_some_and(|h| h.spread) && long_running,
        sentinel,
        config,
        schedule: comp.schedule.clone(),
        service: match workload {
            None => comp.service.is_some(),
            Some(_) => {
                long_running && has_service_ports && (comp.archetype != Archetype::Worker || comp.service.is_some())
            }
        },
        headless: workload == Some(WorkloadKind::StatefulSet),
        ports,
        allow_from: comp.allow_from_namespaces.clone(),
        log_shipper: is_log_shipper(comp),
        annotations: if is_log_shipper(comp) {
            log_shipper_waiver()
        } else {
            BTreeMap::new()
        },
    }
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
