//! What an archetype needs to start at all: its environment variables and
//! arguments (credentials from the `<name>-credentials` Secret, Elasticsearch
//! discovery and heap, a KRaft Kafka broker), and the `secret-required`
//! finding for the Secret it (or the spec) reads.
//!
//! It does not create the Secret (credentials never go into Git) and does not
//! add the spec's own `env`, `secret_refs` or arguments (`render/context.rs`).

use serde_json::{json, Value};

use crate::finding::{Finding, Severity};
use crate::spec::{Archetype, Component};

/// Environment variables and arguments an archetype needs to start at all,
/// and a `secret-required` finding for the Secret it (or the spec) reads.
pub(super) fn archetype_env(
    comp: &Component,
    replicas: u32,
    findings: &mut Vec<Finding>,
) -> (Vec<Value>, Vec<String>) {
    let secret = format!("{}-credentials", comp.name);
    let credentials = credentials(comp.archetype);
    let needed: Vec<&str> = credentials.iter().map(|(_, key)| *key).collect();
    // Keys the spec itself reads from the same Secret (an app's user, wired in).
    let own = comp
        .secret_refs
        .iter()
        .filter(|s| s.secret == secret)
        .map(|s| s.key.as_str())
        .filter(|k| !needed.contains(k));
    let keys: Vec<&str> = needed.iter().copied().chain(own).collect();
    if !keys.is_empty() {
        findings.push(secret_required(&comp.name, &secret, &keys));
    }
    let mut env: Vec<Value> = credentials
        .iter()
        .map(|(var, key)| json!({"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}))
        .collect();
    match comp.archetype {
        Archetype::Postgres => env.push(plain("PGDATA", "/var/lib/postgresql/data/pgdata")),
        Archetype::Elasticsearch => env = elasticsearch_env(comp, replicas),
        Archetype::Kafka => env = kafka_env(comp, replicas),
        _ => {}
    }
    (env, archetype_args(comp.archetype))
}

/// The credentials an archetype reads from its `<name>-credentials` Secret,
/// as (environment variable, key): a table, one row per archetype.
fn credentials(archetype: Archetype) -> &'static [(&'static str, &'static str)] {
    match archetype {
        Archetype::Postgres => &[("POSTGRES_PASSWORD", "password")],
        Archetype::Mysql => &[("MYSQL_ROOT_PASSWORD", "root-password")],
        Archetype::Mongodb => &[
            ("MONGO_INITDB_ROOT_USERNAME", "username"),
            ("MONGO_INITDB_ROOT_PASSWORD", "password"),
        ],
        Archetype::Rabbitmq => &[("RABBITMQ_ERLANG_COOKIE", "erlang-cookie")],
        Archetype::Minio => &[
            ("MINIO_ROOT_USER", "root-user"),
            ("MINIO_ROOT_PASSWORD", "root-password"),
        ],
        Archetype::Grafana => &[("GF_SECURITY_ADMIN_PASSWORD", "admin-password")],
        _ => &[],
    }
}

/// The arguments an archetype's image needs (MinIO's server and console,
/// Redis with an append-only file).
fn archetype_args(archetype: Archetype) -> Vec<String> {
    let args: &[&str] = match archetype {
        Archetype::Minio => &["server", "/data", "--console-address", ":9001"],
        Archetype::Redis => &["redis-server", "--appendonly", "yes"],
        _ => &[],
    };
    args.iter().map(|a| a.to_string()).collect()
}

/// A plain `name: value` environment variable.
fn plain(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// An environment variable holding the pod's own name.
fn pod_name(name: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
}

/// Elasticsearch's heap, security, and discovery: a single node, or the
/// headless Service's seed hosts and up to three initial masters.
fn elasticsearch_env(comp: &Component, replicas: u32) -> Vec<Value> {
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
        env.push(pod_name("node.name"));
    }
    env.push(plain("cluster.name", &comp.name));
    env
}

/// One KRaft Kafka broker (several are refused without Strimzi, see
/// stores.rs): node id 0 as in the voters, a cluster id fixed by the name,
/// and the pod's own DNS name advertised to clients.
fn kafka_env(comp: &Component, replicas: u32) -> Vec<Value> {
    let headless = format!("{}-headless", comp.name);
    let voters: Vec<String> = (0..replicas.max(1))
        .map(|i| format!("{i}@{}-{i}.{headless}:9093", comp.name))
        .collect();
    vec![
        pod_name("POD_NAME"),
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
    ]
}

/// The `secret-required` note: `name` reads Secret `secret` (`keys`), which
/// must exist before the change is merged.
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
