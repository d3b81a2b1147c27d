//! Data stores with more than one member: whether they form a cluster, and how.
//!
//! For each data-store component this decides, from its archetype, its
//! replica count and the operators the repository already uses, one of:
//! - one member (nothing to form);
//! - a cluster we render ourselves and prove with the real servers in the
//!   integration tests: Redis replication watched by Sentinel (clients reach
//!   the primary through Sentinel), a ZooKeeper ensemble (`myid` from the pod
//!   ordinal, the server list in `zoo.cfg`);
//! - the operator's custom resource, when the repository already holds
//!   resources of that operator (CloudNativePG, Strimzi, RabbitMQ Cluster
//!   Operator, ECK);
//! - a refusal: an error finding naming the operator to use, because N
//!   independent members behind one Service are not a cluster and a cluster
//!   we could not run here is not shipped.
//!
//! It does not render templates, validate, or change the spec.

use crate::finding::{Finding, Severity};
use crate::spec::{Archetype, Component};

pub use crate::spec::{Operator, OPERATORS};

/// The operator that clusters `archetype`, if we know one.
pub fn operator_for(archetype: Archetype) -> Option<&'static Operator> {
    OPERATORS.iter().find(|o| o.archetype == archetype)
}

/// The `(apiVersion, kind)` of every operator resource we render: they have
/// no schema in the Kubernetes bundle (the operator's CRD checks them in the
/// cluster), so validation reports them as not validated instead of failing.
pub fn rendered_kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    OPERATORS
        .iter()
        .filter(|o| o.template.is_some())
        .map(|o| (o.api_version, o.kind))
        .chain([("kafka.strimzi.io/v1beta2", "KafkaNodePool")])
}

/// How a data store's members are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Members {
    /// One member, or not a data store.
    One,
    /// Redis replication with a Sentinel beside every member.
    Sentinel,
    /// A ZooKeeper ensemble.
    Ensemble,
    /// The operator's resource instead of our StatefulSet.
    Operator(&'static Operator),
    /// Several members that would not form a cluster: refused (an error finding).
    Refused,
}

/// The operator that runs `comp` as its own resource, when the repository
/// uses it (its API group is among `operators`) and we render its resource.
pub(super) fn run_by_operator(comp: &Component, operators: &[String]) -> Option<&'static Operator> {
    operator_for(comp.archetype).filter(|o| o.template.is_some() && operators.iter().any(|g| g == o.group))
}

/// Decides how `comp` runs `replicas` members, given the API groups of the
/// operators the repository uses; findings say what was decided.
pub(super) fn members(
    comp: &Component,
    replicas: u32,
    operators: &[String],
    findings: &mut Vec<Finding>,
) -> Members {
    let failover = comp.high_availability.as_ref().is_some_and(|h| h.failover);
    let operator = operator_for(comp.archetype);
    if let Some(op) = run_by_operator(comp, operators) {
        findings.push(Finding::new(
            Severity::Info,
            "store-operator",
            format!("{}/{}", op.kind, comp.name),
            "",
            format!(
                "{} is rendered as a {} {} ({}), as the repository already uses {}; the operator creates its pods, \
                 Services and credentials",
                comp.name, op.api_version, op.kind, op.name, op.name
            ),
        ));
        return Members::Operator(op);
    }
    match comp.archetype {
        Archetype::Redis if failover || replicas > 1 => {
            findings.push(sentinel_endpoint(&comp.name));
            Members::Sentinel
        }
        Archetype::Zookeeper if replicas > 1 => {
            if replicas.is_multiple_of(2) {
                findings.push(Finding::new(
                    Severity::Warning,
                    "ensemble-even",
                    format!("StatefulSet/{}", comp.name),
                    "/spec/replicas",
                    format!(
                        "a ZooKeeper ensemble of {replicas} survives losing {} member(s), as one of {} would; \
                         an odd size is usual",
                        (replicas - 1) / 2,
                        replicas - 1
                    ),
                ));
            }
            Members::Ensemble
        }
        _ if replicas > 1 || failover && comp.archetype.is_stateful() => match operator {
            Some(op) => {
                findings.push(refusal(comp, replicas, op));
                Members::Refused
            }
            None => Members::One,
        },
        _ => Members::One,
    }
}

/// Where clients find the Redis primary, whichever member it is.
fn sentinel_endpoint(name: &str) -> Finding {
    Finding::new(
        Severity::Info,
        "store-endpoint",
        format!("Service/{name}"),
        "/spec/ports",
        format!(
            "clients reach the Redis primary through Sentinel: {name}:26379, master name mymaster (any Sentinel \
             client: redis-py Sentinel, Lettuce, ioredis, go-redis FailoverClient); the {name} Service carries only \
             the Sentinel port, so no write can land on a replica; after a failover Sentinel names the new \
             primary. Read-only replicas: {name}-N.{name}-headless:6379"
        ),
    )
}

/// The refusal to run `replicas` independent members as if they were a cluster.
fn refusal(comp: &Component, replicas: u32, op: &Operator) -> Finding {
    let count = if replicas > 1 {
        format!("{replicas} {} members", comp.archetype)
    } else {
        format!("failover for {}", comp.archetype)
    };
    Finding::new(
        Severity::Error,
        "cluster-unsupported",
        format!("StatefulSet/{}", comp.name),
        "/spec/replicas",
        format!(
            "{count} would be independent servers behind one Service, not a cluster that survives losing one; \
             gitintent renders a {} cluster only as the {} operator's {} ({}) when the repository already uses \
             it: should the operator be installed (add one of its {} resources to the repository), or is 1 replica \
             enough?",
            comp.archetype, op.name, op.kind, op.api_version, op.kind
        ),
    )
}

/// The question the builtin planner asks when a data store is asked for with
/// several members or failover and we do not render its cluster ourselves.
pub fn cluster_question(archetype: Archetype, replicas: u32) -> Option<String> {
    let op = operator_for(archetype)?;
    Some(format!(
        "{archetype} ×{replicas} as a cluster needs the {} ({} {}); unless the repository already uses it, the \
         plan is refused: install the operator, or ask for 1 replica",
        op.name, op.api_version, op.kind
    ))
}

/// The ZooKeeper ensemble's configuration: `zoo.cfg` with every server.
pub(super) fn zoo_cfg(name: &str, replicas: u32, data: &str) -> String {
    let headless = format!("{name}-headless");
    let mut cfg = format!(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={data}\nclientPort=2181\nstandaloneEnabled=false\n\
         reconfigEnabled=false\nadmin.enableServer=false\n4lw.commands.whitelist=srvr,ruok,mntr\n"
    );
    for i in 0..replicas {
        cfg.push_str(&format!("server.{}={name}-{i}.{headless}:2888:3888\n", i + 1));
    }
    cfg
}

/// Console logging at INFO: `--config` puts only our directory on the
/// class path, so the image's own `logback.xml` is not found.
pub(super) const ZOOKEEPER_LOGBACK: &str = "<configuration>
  <appender name=\"CONSOLE\" class=\"ch.qos.logback.core.ConsoleAppender\">
    <encoder><pattern>%d{ISO8601} [myid:%X{myid}] %-5p [%t] %c{1} - %m%n</pattern></encoder>
  </appender>
  <root level=\"INFO\"><appender-ref ref=\"CONSOLE\"/></root>
</configuration>
";

/// The ZooKeeper start script: `myid` is the pod ordinal plus one.
pub(super) fn zookeeper_start(data: &str, config: &str) -> String {
    format!(
        "set -eu\nORDINAL=\"${{HOSTNAME##*-}}\"\necho $((ORDINAL + 1)) > {data}/myid\n\
         exec zkServer.sh --config {config} start-foreground\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::HighAvailability;

    fn decide(archetype: Archetype, replicas: u32, operators: &[&str]) -> (Members, Vec<Finding>) {
        let comp = Component::new(archetype.as_str(), archetype);
        let operators: Vec<String> = operators.iter().map(|s| s.to_string()).collect();
        let mut findings = Vec::new();
        (members(&comp, replicas, &operators, &mut findings), findings)
    }

    #[test]
    fn several_members_cluster_ours_or_the_operators_or_are_refused() {
        assert_eq!(decide(Archetype::Redis, 3, &[]).0, Members::Sentinel);
        assert_eq!(decide(Archetype::Redis, 1, &[]).0, Members::One);
        assert_eq!(decide(Archetype::Zookeeper, 3, &[]).0, Members::Ensemble);
        assert_eq!(decide(Archetype::Postgres, 1, &[]).0, Members::One);
        let (m, f) = decide(Archetype::Kafka, 3, &[]);
        assert_eq!(m, Members::Refused);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("Strimzi"), "{}", f[0].message);
        let (m, _) = decide(Archetype::Kafka, 3, &["kafka.strimzi.io"]);
        assert!(matches!(m, Members::Operator(o) if o.kind == "Kafka"));
        // The operator's resource even for one member: the repository's way.
        let (m, _) = decide(Archetype::Postgres, 1, &["postgresql.cnpg.io"]);
        assert!(matches!(m, Members::Operator(o) if o.kind == "Cluster"));
        // Memcached shards on the client side: several independent members are right.
        assert_eq!(decide(Archetype::Memcached, 3, &[]).0, Members::One);
    }

    #[test]
    fn failover_alone_is_refused_where_we_cannot_fail_over() {
        let mut comp = Component::new("db", Archetype::Postgres);
        comp.high_availability = Some(HighAvailability {
            pod_disruption_budget: false,
            spread: false,
            failover: true,
        });
        let mut findings = Vec::new();
        assert_eq!(members(&comp, 1, &[], &mut findings), Members::Refused);
        assert!(findings[0].message.contains("CloudNativePG"));
    }

    #[test]
    fn zookeeper_lists_every_server_and_takes_myid_from_the_ordinal() {
        let cfg = zoo_cfg("zk", 3, "/data");
        assert!(cfg.contains("server.1=zk-0.zk-headless:2888:3888\n"));
        assert!(cfg.contains("server.3=zk-2.zk-headless:2888:3888\n"));
        assert!(zookeeper_start("/data", "/config").contains("echo $((ORDINAL + 1)) > /data/myid"));
    }
}
