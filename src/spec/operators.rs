//! The Kubernetes operators gitintent knows, one per clustered data-store
//! archetype: their API groups (the repository index reads which ones a
//! repository already uses) and the resource and template that render
//! their clusters (`render::stores` decides when). Plain data, shared by
//! `repo` and `render`; it decides nothing.

use super::Archetype;

/// A Kubernetes operator that runs one kind of data store as a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub archetype: Archetype,
    /// What people call it: `CloudNativePG`.
    pub name: &'static str,
    /// The API group of its resources; its presence in the repository means
    /// the operator is in use.
    pub group: &'static str,
    pub api_version: &'static str,
    pub kind: &'static str,
    /// The template rendering its resource; `None` for operators we only name.
    pub template: Option<&'static str>,
}

/// Every operator we name, one per clustered archetype.
pub const OPERATORS: &[Operator] = &[
    Operator {
        archetype: Archetype::Postgres,
        name: "CloudNativePG",
        group: "postgresql.cnpg.io",
        api_version: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        template: Some("archetypes/operators/cnpg.yaml.j2"),
    },
    Operator {
        archetype: Archetype::Kafka,
        name: "Strimzi",
        group: "kafka.strimzi.io",
        api_version: "kafka.strimzi.io/v1beta2",
        kind: "Kafka",
        template: Some("archetypes/operators/strimzi.yaml.j2"),
    },
    Operator {
        archetype: Archetype::Rabbitmq,
        name: "RabbitMQ Cluster Operator",
        group: "rabbitmq.com",
        api_version: "rabbitmq.com/v1beta1",
        kind: "RabbitmqCluster",
        template: Some("archetypes/operators/rabbitmq.yaml.j2"),
    },
    Operator {
        archetype: Archetype::Elasticsearch,
        name: "ECK (Elastic Cloud on Kubernetes)",
        group: "elasticsearch.k8s.elastic.co",
        api_version: "elasticsearch.k8s.elastic.co/v1",
        kind: "Elasticsearch",
        template: Some("archetypes/operators/eck.yaml.j2"),
    },
    Operator {
        archetype: Archetype::Mysql,
        name: "MySQL Operator for Kubernetes",
        group: "mysql.oracle.com",
        api_version: "mysql.oracle.com/v2",
        kind: "InnoDBCluster",
        template: None,
    },
    Operator {
        archetype: Archetype::Mongodb,
        name: "MongoDB Community Operator",
        group: "mongodbcommunity.mongodb.com",
        api_version: "mongodbcommunity.mongodb.com/v1",
        kind: "MongoDBCommunity",
        template: None,
    },
    Operator {
        archetype: Archetype::Minio,
        name: "MinIO Operator",
        group: "minio.min.io",
        api_version: "minio.min.io/v2",
        kind: "Tenant",
        template: None,
    },
];
