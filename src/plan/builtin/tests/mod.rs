//! End-to-end tests of the builtin planner: intent text in, spec out.

use super::plan;
use crate::intent::Intent;
use crate::plan::Error;
use crate::spec::{Archetype, Component, Spec};

fn spec(text: &str) -> Spec {
    plan(&Intent::new(text, None).unwrap()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn spec_env(text: &str, env: &str) -> Spec {
    plan(&Intent::new(text, Some(env)).unwrap()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn one(text: &str) -> Component {
    let s = spec(text);
    assert_eq!(s.components.len(), 1, "{text:?}: {:#?}", s.components);
    s.components.into_iter().next().unwrap()
}

fn error(text: &str) -> Error {
    match plan(&Intent::new(text, None).unwrap()) {
        Ok(s) => panic!("{text:?} was accepted: {s:#?}"),
        Err(e) => e,
    }
}

fn not_understood(text: &str) -> (String, Vec<String>) {
    match error(text) {
        Error::NotUnderstood { reason, understood } => (reason, understood),
        other => panic!("{text:?}: expected NotUnderstood, got {other}"),
    }
}

fn refused(text: &str) -> String {
    match error(text) {
        Error::Refused(m) => m,
        other => panic!("{text:?}: expected Refused, got {other}"),
    }
}

fn json(s: &Spec) -> String {
    serde_json::to_string(s).unwrap()
}

#[test]
fn redis_ha_in_production_is_the_headline_case() {
    let s = spec(
        "Deploy a Redis cluster with 3 replicas, persistent storage and automatic failover in production",
    );
    assert_eq!(s.environment, "production");
    assert_eq!(s.namespace, "redis");
    let c = &s.components[0];
    assert_eq!((c.name.as_str(), c.archetype), ("redis", Archetype::Redis));
    assert_eq!(c.replicas, Some(3));
    assert_eq!(c.storage.as_ref().unwrap().size, "8Gi");
    let ha = c.high_availability.as_ref().unwrap();
    assert!(ha.pod_disruption_budget && ha.spread && ha.failover);
    assert!(
        s.assumptions.iter().any(|a| a.contains("redis:7.4.1")),
        "{:?}",
        s.assumptions
    );
    assert!(
        s.assumptions.iter().any(|a| a.contains("8Gi")),
        "{:?}",
        s.assumptions
    );
}

#[test]
fn every_stateful_archetype_is_recognised_by_keyword() {
    for (text, a) in [
        ("deploy redis", Archetype::Redis),
        ("a postgresql database", Archetype::Postgres),
        ("a postgres db", Archetype::Postgres),
        ("mysql", Archetype::Mysql),
        ("a MariaDB server", Archetype::Mysql),
        ("mongo", Archetype::Mongodb),
        ("MongoDB replica set", Archetype::Mongodb),
        ("memcached", Archetype::Memcached),
        ("RabbitMQ", Archetype::Rabbitmq),
        ("a kafka cluster", Archetype::Kafka),
        ("elasticsearch", Archetype::Elasticsearch),
        ("an elastic search cluster", Archetype::Elasticsearch),
        ("zookeeper ensemble", Archetype::Zookeeper),
        ("minio", Archetype::Minio),
        ("an S3-compatible object store", Archetype::Minio),
        ("grafana", Archetype::Grafana),
    ] {
        assert_eq!(one(text).archetype, a, "{text}");
    }
}

#[test]
fn mariadb_gets_the_mariadb_image_and_name() {
    let c = one("a MariaDB server in dev");
    assert_eq!(c.name, "mariadb");
    assert_eq!(c.image.as_deref(), Some("mariadb:11.4.4"));
}

#[test]
fn generic_archetypes_are_recognised_with_an_image() {
    for (text, a) in [
        ("a web service using image acme/api:1.0", Archetype::WebService),
        ("an API using image acme/api:1.0", Archetype::WebService),
        ("the frontend using image acme/web:3", Archetype::WebService),
        ("a background worker using image acme/w:1", Archetype::Worker),
        ("a queue consumer using image acme/w:1", Archetype::Worker),
        (
            "a cron job every 5 minutes using image acme/c:1",
            Archetype::CronJob,
        ),
        ("a one-off migration job using image acme/m:1", Archetype::Job),
        (
            "a log shipper on every node using image fluent/fluent-bit:3.2.2",
            Archetype::Daemon,
        ),
        ("a daemonset using image acme/agent:0.9", Archetype::Daemon),
    ] {
        assert_eq!(one(text).archetype, a, "{text}");
    }
}

#[test]
fn a_web_service_without_an_image_is_rejected_with_a_hint() {
    let (reason, understood) = not_understood("Deploy a web service with 3 replicas in production");
    assert!(reason.contains("using image NAME:TAG"), "{reason}");
    assert!(
        understood.contains(&"environment: production".to_string()),
        "{understood:?}"
    );
    assert!(understood.contains(&"3 replicas".to_string()), "{understood:?}");
}

#[test]
fn untagged_and_latest_images_are_rejected() {
    assert!(not_understood("a web app using image nginx").0.contains("no tag"));
    assert!(not_understood("a web app using image nginx:latest")
        .0
        .contains("latest"));
    assert_eq!(
        one("a web app using image ghcr.io/acme/api@sha256:0123abcd")
            .image
            .as_deref(),
        Some("ghcr.io/acme/api@sha256:0123abcd")
    );
}

#[test]
fn deploy_image_as_name() {
    let s = spec("Deploy acme/checkout:2.4.0 as checkout listening on port 8080");
    let c = &s.components[0];
    assert_eq!(c.name, "checkout");
    assert_eq!(c.archetype, Archetype::WebService);
    assert_eq!(c.image.as_deref(), Some("acme/checkout:2.4.0"));
    assert_eq!(c.ports[0].port, 8080);
    assert_eq!(c.ports[0].name, "http");
}

#[test]
fn names_come_from_called_named_or_the_image() {
    assert_eq!(one("redis called session-cache").name, "session-cache");
    assert_eq!(
        one("a worker named Orders_Worker using image acme/w:1").name,
        "orders-worker"
    );
    assert_eq!(
        one("the checkout service using image acme/shop:2").name,
        "checkout"
    );
    let s = spec("a web app using image ghcr.io/acme/storefront:1.4");
    assert_eq!(s.components[0].name, "storefront");
    assert!(s.assumptions.iter().any(|a| a.contains("after its image")));
}

#[test]
fn path_traversal_names_are_refused() {
    assert!(refused("Deploy redis called ../../etc").contains("not a valid name"));
    assert!(refused("a web app named ../../../root/.ssh using image a/b:1").contains("name"));
    assert!(matches!(
        error("deploy redis in namespace ../kube-system"),
        Error::Refused(_)
    ));
}

#[test]
fn environment_flag_wins_over_the_text() {
    let s = spec_env("Deploy redis in staging", "production");
    assert_eq!(s.environment, "production");
    assert!(
        s.questions.iter().any(|q| q.contains("staging")),
        "{:?}",
        s.questions
    );
    assert_eq!(spec_env("Deploy redis", "qa").environment, "qa");
}

#[test]
fn environments_are_read_from_the_text() {
    assert_eq!(spec("redis in prod").environment, "production");
    assert_eq!(spec("a staging copy of redis").environment, "staging");
    assert_eq!(spec("redis in dev").environment, "dev");
    assert_eq!(spec("redis in the perf environment").environment, "perf");
}

#[test]
fn no_environment_means_default_with_an_assumption_and_a_question() {
    let s = spec("deploy redis");
    assert_eq!(s.environment, "default");
    assert!(s
        .assumptions
        .contains(&"no environment given; using default".to_string()));
    assert!(s.questions.iter().any(|q| q.contains("which environment")));
}

#[test]
fn namespace_is_given_or_taken_from_the_component() {
    assert_eq!(spec("redis in namespace caching").namespace, "caching");
    assert_eq!(
        spec("redis in the payments namespace in production").namespace,
        "payments"
    );
    let s = spec("postgres in production");
    assert_eq!(s.namespace, "postgres");
    assert!(s.assumptions.iter().any(|a| a.contains("namespace postgres")));
}

#[test]
fn three_replicas_in_words() {
    assert_eq!(one("redis with three replicas").replicas, Some(3));
    assert_eq!(one("a 5-node kafka cluster").replicas, Some(5));
    assert_eq!(one("zookeeper with three instances").replicas, Some(3));
}

#[test]
fn half_a_cpu_is_500m() {
    let c = one("a worker using image acme/w:1 with half a CPU and 2 gigs of RAM");
    let r = c.resources.unwrap();
    assert_eq!(r.requests.cpu.as_deref(), Some("500m"));
    assert_eq!(r.limits.cpu.as_deref(), Some("500m"));
    assert_eq!(r.limits.memory.as_deref(), Some("2Gi"));
}

#[test]
fn a_lone_limit_below_the_default_request_lowers_the_request() {
    let s = spec("postgres with a memory limit of 256Mi");
    let r = s.components[0].resources.clone().unwrap();
    assert_eq!(r.limits.memory.as_deref(), Some("256Mi"));
    assert_eq!(
        r.requests.memory.as_deref(),
        Some("256Mi"),
        "the default request 512Mi would exceed the limit"
    );
}

#[test]
fn two_cores_is_2() {
    let r = one("kafka with 2 cores and 8GB memory").resources.unwrap();
    assert_eq!(r.limits.cpu.as_deref(), Some("2"));
    assert_eq!(r.limits.memory.as_deref(), Some("8Gi"));
}

#[test]
fn fifty_gb_disks_and_a_storage_class() {
    let c = one("postgres with 50 GB disks on storage class fast-ssd");
    let st = c.storage.unwrap();
    assert_eq!(st.size, "50Gi");
    assert_eq!(st.class.as_deref(), Some("fast-ssd"));
}

#[test]
fn persistent_storage_uses_the_archetype_default_size() {
    assert_eq!(one("kafka with persistent storage").storage.unwrap().size, "50Gi");
    assert_eq!(one("redis with 20Gi of storage").storage.unwrap().size, "20Gi");
    assert_eq!(
        one("redis").storage,
        None,
        "stateful archetypes get a volume from the renderer"
    );
}

#[test]
fn listening_on_port_3000() {
    let c = one("a node.js api using image acme/api:1.2 listening on port 3000");
    assert_eq!(c.ports.len(), 1);
    assert_eq!((c.ports[0].name.as_str(), c.ports[0].port), ("http", 3000));
}

#[test]
fn a_data_store_on_another_port_keeps_its_other_ports() {
    let c = one("rabbitmq on port 5673");
    let ports: Vec<(&str, u32)> = c.ports.iter().map(|p| (p.name.as_str(), p.port)).collect();
    assert_eq!(ports, [("amqp", 5673), ("management", 15672)]);
}

#[test]
fn host_and_https_make_an_exposure() {
    let c = one("a web app using image acme/api:1.2 at api.example.com over HTTPS");
    let e = c.exposure.unwrap();
    assert_eq!(e.host.as_deref(), Some("api.example.com"));
    assert!(e.tls);
    assert_eq!(e.path, None);
}

#[test]
fn a_host_defaults_to_tls_and_says_so() {
    let s = spec("expose the shop using image acme/shop:1 at shop.example.com/store");
    let e = s.components[0].exposure.clone().unwrap();
    assert_eq!(
        (e.host.as_deref(), e.path.as_deref(), e.tls),
        (Some("shop.example.com"), Some("/store"), true)
    );
    assert!(s.assumptions.iter().any(|a| a.contains("TLS")));
}

#[test]
fn expose_without_a_host_asks_for_one() {
    let s = spec("a web app using image acme/api:1 exposed publicly");
    assert_eq!(s.components[0].exposure.as_ref().unwrap().host, None);
    assert!(s.questions.iter().any(|q| q.contains("which host")));
}

#[test]
fn data_stores_are_not_exposed_through_an_ingress() {
    let s = spec("deploy redis exposed publicly at redis.example.com");
    assert_eq!(s.components[0].exposure, None);
    assert!(s.questions.iter().any(|q| q.contains("not served over HTTP")));
}

#[test]
fn nightly_at_2am_is_0_2() {
    let c = one("a nightly backup job at 2am using image acme/backup:1.0");
    assert_eq!(c.archetype, Archetype::CronJob);
    assert_eq!(c.schedule.as_deref(), Some("0 2 * * *"));
}

#[test]
fn every_15_minutes_makes_a_cron_job() {
    let c = one("run acme/sync:3.1 every 15 minutes");
    assert_eq!(c.archetype, Archetype::CronJob);
    assert_eq!(c.schedule.as_deref(), Some("*/15 * * * *"));
    assert_eq!(c.name, "sync");
}

#[test]
fn schedules_in_many_phrasings() {
    for (text, cron) in [
        ("an hourly job using image a/b:1", "0 * * * *"),
        ("a job daily at 6:30pm using image a/b:1", "30 18 * * *"),
        ("a report job every monday at 9am using image a/b:1", "0 9 * * 1"),
        ("a weekly cron job using image a/b:1", "0 0 * * 0"),
    ] {
        assert_eq!(one(text).schedule.as_deref(), Some(cron), "{text}");
    }
}

#[test]
fn a_cron_job_without_a_schedule_is_rejected() {
    assert!(not_understood("a cron job using image acme/c:1")
        .0
        .contains("schedule"));
}

#[test]
fn between_3_and_12_replicas_at_70_percent_cpu() {
    let c = one("the api using image acme/api:2 autoscaling between 3 and 12 replicas at 70% CPU");
    let a = c.autoscaling.unwrap();
    assert_eq!(
        (a.min_replicas, a.max_replicas, a.cpu_target_percent),
        (3, 12, 70)
    );
    assert!(c.resources.is_none());
}

#[test]
fn autoscale_from_2_to_10_defaults_the_target_to_80() {
    let s = spec("a web app using image acme/api:2, autoscale from 2 to 10");
    let a = s.components[0].autoscaling.clone().unwrap();
    assert_eq!(
        (a.min_replicas, a.max_replicas, a.cpu_target_percent),
        (2, 10, 80)
    );
    assert!(s.assumptions.iter().any(|x| x.contains("80%")));
}

#[test]
fn health_check_on_healthz_port_3000() {
    let s = spec("a web app using image acme/api:2 with a health check on /healthz port 3000");
    let c = &s.components[0];
    let h = c.health_check.clone().unwrap();
    assert_eq!((h.path.as_deref(), h.port), (Some("/healthz"), Some(3000)));
    assert_eq!(
        c.ports[0].port, 3000,
        "the app is assumed to listen where it is probed"
    );
}

#[test]
fn readiness_at_ready() {
    let c = one("a web app using image acme/api:2 on port 8080 with readiness at /ready");
    assert_eq!(c.health_check.unwrap().path.as_deref(), Some("/ready"));
    assert_eq!(c.ports[0].port, 8080);
}

mod safety;
