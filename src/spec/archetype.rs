//! Archetypes and their defaults: images, ports, probes, storage and users.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kind of thing a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Archetype {
    /// A long-running HTTP service (Deployment + Service).
    WebService,
    /// A long-running background worker without a Service.
    Worker,
    /// A scheduled job (CronJob).
    CronJob,
    /// A one-off job (Job).
    Job,
    /// One pod on every node (DaemonSet).
    Daemon,
    Redis,
    Postgres,
    Mysql,
    Mongodb,
    Memcached,
    Rabbitmq,
    Kafka,
    Elasticsearch,
    Zookeeper,
    Minio,
    Grafana,
}

/// The Kubernetes workload kind an archetype renders to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
    /// A bare Pod (`workload.kind: pod`).
    Pod,
    /// A ReplicaSet (`workload.kind: replica_set`).
    ReplicaSet,
    /// A ReplicationController (`workload.kind: replication_controller`).
    ReplicationController,
}

/// How an archetype's health is probed by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// HTTP GET on a path of the first port.
    Http(&'static str),
    /// TCP connect to the first port.
    Tcp,
    /// No probe (batch workloads).
    None,
}

/// Everything the templates need to know about an archetype beyond the spec.
#[derive(Debug, Clone, Copy)]
pub struct ArchetypeDefaults {
    /// Default image with a pinned tag (`None` for generic archetypes).
    pub image: Option<&'static str>,
    /// Default ports as (name, number).
    pub ports: &'static [(&'static str, u32)],
    pub probe: Probe,
    /// Default volume size for stateful archetypes.
    pub storage: Option<&'static str>,
    /// Where the data volume is mounted.
    pub data_path: &'static str,
    /// A non-root user the image is known to run as.
    pub run_as_user: Option<i64>,
    /// Default replicas.
    pub replicas: u32,
    /// Default requests (cpu, memory) and limits (cpu, memory).
    pub requests: (&'static str, &'static str),
    pub limits: (&'static str, &'static str),
}

#[allow(clippy::too_many_arguments)] // a row of the defaults table, read positionally
const fn stateful(
    image: &'static str,
    ports: &'static [(&'static str, u32)],
    probe: Probe,
    storage: &'static str,
    data_path: &'static str,
    user: i64,
    requests: (&'static str, &'static str),
    limits: (&'static str, &'static str),
) -> ArchetypeDefaults {
    ArchetypeDefaults {
        image: Some(image),
        ports,
        probe,
        storage: Some(storage),
        data_path,
        run_as_user: Some(user),
        replicas: 1,
        requests,
        limits,
    }
}

const GENERIC: ArchetypeDefaults = ArchetypeDefaults {
    image: None,
    ports: &[],
    probe: Probe::None,
    storage: None,
    data_path: "/data",
    run_as_user: None,
    replicas: 1,
    requests: ("100m", "128Mi"),
    limits: ("500m", "256Mi"),
};

impl Archetype {
    /// Every archetype, in schema order.
    pub const ALL: [Archetype; 16] = [
        Archetype::WebService,
        Archetype::Worker,
        Archetype::CronJob,
        Archetype::Job,
        Archetype::Daemon,
        Archetype::Redis,
        Archetype::Postgres,
        Archetype::Mysql,
        Archetype::Mongodb,
        Archetype::Memcached,
        Archetype::Rabbitmq,
        Archetype::Kafka,
        Archetype::Elasticsearch,
        Archetype::Zookeeper,
        Archetype::Minio,
        Archetype::Grafana,
    ];

    /// The snake_case name used in the schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Archetype::WebService => "web_service",
            Archetype::Worker => "worker",
            Archetype::CronJob => "cron_job",
            Archetype::Job => "job",
            Archetype::Daemon => "daemon",
            Archetype::Redis => "redis",
            Archetype::Postgres => "postgres",
            Archetype::Mysql => "mysql",
            Archetype::Mongodb => "mongodb",
            Archetype::Memcached => "memcached",
            Archetype::Rabbitmq => "rabbitmq",
            Archetype::Kafka => "kafka",
            Archetype::Elasticsearch => "elasticsearch",
            Archetype::Zookeeper => "zookeeper",
            Archetype::Minio => "minio",
            Archetype::Grafana => "grafana",
        }
    }

    /// True for the data stores that get a StatefulSet and a volume.
    pub fn is_stateful(self) -> bool {
        self.defaults().storage.is_some()
    }

    /// True when the archetype needs an image from the user.
    pub fn is_generic(self) -> bool {
        self.defaults().image.is_none()
    }

    /// True when a HorizontalPodAutoscaler may scale it: stateless
    /// Deployments only. Data stores scale by their own replication, batch
    /// work by its schedule, per-node agents by the nodes.
    pub fn autoscales(self) -> bool {
        self.workload() == WorkloadKind::Deployment
    }

    /// True when it may have a persistent volume: not batch work, not a
    /// per-node agent.
    pub fn takes_storage(self) -> bool {
        !matches!(
            self.workload(),
            WorkloadKind::CronJob | WorkloadKind::Job | WorkloadKind::DaemonSet
        )
    }

    /// The workload kind this archetype renders to.
    pub fn workload(self) -> WorkloadKind {
        match self {
            Archetype::WebService | Archetype::Worker | Archetype::Memcached | Archetype::Grafana => {
                WorkloadKind::Deployment
            }
            Archetype::CronJob => WorkloadKind::CronJob,
            Archetype::Job => WorkloadKind::Job,
            Archetype::Daemon => WorkloadKind::DaemonSet,
            _ => WorkloadKind::StatefulSet,
        }
    }

    /// Images, ports, probes and sizes that work for this archetype: its row
    /// of the defaults table below.
    pub fn defaults(self) -> ArchetypeDefaults {
        match self {
            Archetype::WebService => WEB_SERVICE,
            Archetype::Worker | Archetype::Daemon => GENERIC,
            Archetype::CronJob | Archetype::Job => GENERIC,
            Archetype::Redis => REDIS,
            Archetype::Postgres => POSTGRES,
            Archetype::Mysql => MYSQL,
            Archetype::Mongodb => MONGODB,
            Archetype::Memcached => MEMCACHED,
            Archetype::Rabbitmq => RABBITMQ,
            Archetype::Kafka => KAFKA,
            Archetype::Elasticsearch => ELASTICSEARCH,
            Archetype::Zookeeper => ZOOKEEPER,
            Archetype::Minio => MINIO,
            Archetype::Grafana => GRAFANA,
        }
    }
}

// The defaults table: one row per archetype (`GENERIC` for the archetypes
// whose image the user names).

const WEB_SERVICE: ArchetypeDefaults = ArchetypeDefaults {
    ports: &[("http", 8080)],
    probe: Probe::Tcp,
    ..GENERIC
};

const REDIS: ArchetypeDefaults = stateful(
    "redis:7.4.1",
    &[("redis", 6379)],
    Probe::Tcp,
    "8Gi",
    "/data",
    999,
    ("100m", "256Mi"),
    ("1", "1Gi"),
);

const POSTGRES: ArchetypeDefaults = stateful(
    "postgres:17.2",
    &[("postgres", 5432)],
    Probe::Tcp,
    "20Gi",
    "/var/lib/postgresql/data",
    999,
    ("250m", "512Mi"),
    ("2", "2Gi"),
);

const MYSQL: ArchetypeDefaults = stateful(
    "mysql:8.4.3",
    &[("mysql", 3306)],
    Probe::Tcp,
    "20Gi",
    "/var/lib/mysql",
    999,
    ("250m", "512Mi"),
    ("2", "2Gi"),
);

const MONGODB: ArchetypeDefaults = stateful(
    "mongo:8.0.4",
    &[("mongodb", 27017)],
    Probe::Tcp,
    "20Gi",
    "/data/db",
    999,
    ("250m", "512Mi"),
    ("2", "2Gi"),
);

const MEMCACHED: ArchetypeDefaults = ArchetypeDefaults {
    image: Some("memcached:1.6.34"),
    ports: &[("memcache", 11211)],
    probe: Probe::Tcp,
    run_as_user: Some(11211),
    requests: ("100m", "128Mi"),
    limits: ("500m", "512Mi"),
    ..GENERIC
};

const RABBITMQ: ArchetypeDefaults = stateful(
    "rabbitmq:4.0.5-management",
    &[("amqp", 5672), ("management", 15672)],
    Probe::Tcp,
    "8Gi",
    "/var/lib/rabbitmq",
    999,
    ("250m", "512Mi"),
    ("1", "1Gi"),
);

const KAFKA: ArchetypeDefaults = stateful(
    "apache/kafka:3.9.0",
    &[("kafka", 9092), ("controller", 9093)],
    Probe::Tcp,
    "50Gi",
    "/var/lib/kafka/data",
    1000,
    ("500m", "1Gi"),
    ("2", "4Gi"),
);

const ELASTICSEARCH: ArchetypeDefaults = stateful(
    "docker.elastic.co/elasticsearch/elasticsearch:8.17.0",
    &[("http", 9200), ("transport", 9300)],
    Probe::Tcp,
    "50Gi",
    "/usr/share/elasticsearch/data",
    1000,
    ("500m", "2Gi"),
    ("2", "4Gi"),
);

const ZOOKEEPER: ArchetypeDefaults = stateful(
    "zookeeper:3.9.3",
    &[("client", 2181), ("peer", 2888), ("election", 3888)],
    Probe::Tcp,
    "8Gi",
    "/data",
    1000,
    ("100m", "512Mi"),
    ("1", "1Gi"),
);

const MINIO: ArchetypeDefaults = stateful(
    "quay.io/minio/minio:RELEASE.2024-12-18T13-15-44Z",
    &[("api", 9000), ("console", 9001)],
    Probe::Http("/minio/health/live"),
    "50Gi",
    "/data",
    1000,
    ("250m", "512Mi"),
    ("1", "2Gi"),
);

const GRAFANA: ArchetypeDefaults = ArchetypeDefaults {
    image: Some("grafana/grafana:11.4.0"),
    ports: &[("http", 3000)],
    probe: Probe::Http("/api/health"),
    run_as_user: Some(472),
    requests: ("100m", "256Mi"),
    limits: ("500m", "512Mi"),
    ..GENERIC
};

impl std::fmt::Display for Archetype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stateful_archetype_has_a_pinned_image_and_a_port() {
        for a in Archetype::ALL.into_iter().filter(|a| a.is_stateful()) {
            let d = a.defaults();
            let image = d.image.expect("stateful archetypes have an image");
            assert!(image.contains(':') && !image.ends_with(":latest"), "{a}: {image}");
            assert!(!d.ports.is_empty(), "{a} has no port");
            assert_eq!(a.workload(), WorkloadKind::StatefulSet);
        }
    }

    #[test]
    fn as_str_matches_serde_names() {
        for a in Archetype::ALL {
            let json = serde_json::to_value(a).unwrap();
            assert_eq!(json, a.as_str());
        }
    }
}
