//! Day-2 intents through the builtin planner: text in, `changes` out.
//! Every phrasing the README lists is pinned here, with the refusals.

use super::plan;
use crate::intent::Intent;
use crate::plan::Error;
use crate::spec::{Change, Exposure, Operation, Quantities, Resources, Spec, Update};

fn spec(text: &str) -> Spec {
    plan(&Intent::new(text, None).unwrap()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// The one change of a one-clause intent.
fn one(text: &str) -> Change {
    let s = spec(text);
    assert!(s.components.is_empty(), "{text:?}: {:#?}", s.components);
    assert_eq!(s.changes.len(), 1, "{text:?}: {:#?}", s.changes);
    s.changes.into_iter().next().unwrap()
}

fn set(text: &str) -> (String, Update) {
    let c = one(text);
    assert_eq!(c.operation, Operation::Update, "{text:?}");
    (c.target, c.set.unwrap())
}

fn error(text: &str) -> Error {
    match plan(&Intent::new(text, None).unwrap()) {
        Ok(s) => panic!("{text:?} was accepted: {s:#?}"),
        Err(e) => e,
    }
}

fn not_understood(text: &str) -> String {
    match error(text) {
        Error::NotUnderstood { reason, .. } => reason,
        other => panic!("{text:?}: expected NotUnderstood, got {other}"),
    }
}

fn refused(text: &str) -> String {
    match error(text) {
        Error::Refused(m) => m,
        other => panic!("{text:?}: expected Refused, got {other}"),
    }
}

fn replicas(n: u32) -> Update {
    Update {
        replicas: Some(n),
        ..Update::default()
    }
}

#[test]
fn scale_to_a_replica_count() {
    let s = spec("scale api-gateway to 5 replicas in production");
    assert_eq!(
        (s.environment.as_str(), s.namespace.as_str()),
        ("production", "default")
    );
    assert_eq!(
        s.changes,
        [Change {
            operation: Operation::Update,
            promote: None,
            target: "api-gateway".into(),
            kind: None,
            set: Some(replicas(5)),
        }]
    );
    assert_eq!(set("scale checkout down to 2"), ("checkout".into(), replicas(2)));
    assert_eq!(set("scale down checkout to 2"), ("checkout".into(), replicas(2)));
    assert_eq!(
        set("please scale checkout to 0 in staging"),
        ("checkout".into(), replicas(0))
    );
    assert_eq!(
        set("run 4 replicas of the orders worker"),
        ("orders-worker".into(), replicas(4))
    );
    assert_eq!(set("set replicas of api to 3"), ("api".into(), replicas(3)));
    assert_eq!(set("set the api replicas to three"), ("api".into(), replicas(3)));
    assert_eq!(
        set("can you scale the orders worker to 4"),
        ("orders-worker".into(), replicas(4))
    );
}

#[test]
fn bump_an_image_to_a_pinned_reference() {
    let s = spec("bump checkout to acme/checkout:2.4.0 in staging");
    assert_eq!(s.environment, "staging");
    let image = |i: &str| Update {
        image: Some(i.into()),
        ..Update::default()
    };
    assert_eq!(s.changes[0].set, Some(image("acme/checkout:2.4.0")));
    assert_eq!(
        set("update the api image to ghcr.io/acme/api:v1.8.2"),
        ("api".into(), image("ghcr.io/acme/api:v1.8.2"))
    );
    assert_eq!(
        set("roll out grafana/grafana:10.4.1 to grafana in production"),
        ("grafana".into(), image("grafana/grafana:10.4.1"))
    );
    assert_eq!(
        set("set the image of checkout to acme/checkout:2.4.0 in staging"),
        ("checkout".into(), image("acme/checkout:2.4.0"))
    );
    assert_eq!(
        set("upgrade grafana to grafana/grafana:10.4.1"),
        ("grafana".into(), image("grafana/grafana:10.4.1"))
    );
}

#[test]
fn a_bare_tag_is_refused_with_the_form_to_use() {
    let reason = not_understood("upgrade grafana to 10.4.1");
    assert!(reason.contains("name:tag"), "{reason}");
    assert!(reason.contains("grafana/grafana:10.4.1"), "{reason}");
    assert!(not_understood("update the api image to v1.8.2").contains("name:tag"));
    assert!(not_understood("update checkout to 2.4.1").contains("name:tag"));
    let untagged = not_understood("bump checkout to acme/checkout");
    assert!(untagged.contains("pinned tag"), "{untagged}");
}

fn quantities(cpu: Option<&str>, memory: Option<&str>) -> Quantities {
    Quantities {
        cpu: cpu.map(Into::into),
        memory: memory.map(Into::into),
    }
}

fn resources(text: &str) -> (String, Resources, Vec<String>) {
    let s = spec(text);
    assert_eq!(s.changes.len(), 1, "{text:?}");
    let c = &s.changes[0];
    let set = c.set.clone().unwrap();
    assert_eq!(
        (set.replicas, &set.image, &set.exposure),
        (None, &None, &None),
        "{text:?}"
    );
    (c.target.clone(), set.resources.unwrap(), s.assumptions)
}

#[test]
fn memory_said_once_sets_request_and_limit_and_says_so() {
    let (target, r, assumptions) = resources("give the orders worker 1Gi of memory");
    assert_eq!(target, "orders-worker");
    assert_eq!(r.requests, quantities(None, Some("1Gi")));
    assert_eq!(r.limits, quantities(None, Some("1Gi")));
    assert!(
        assumptions
            .iter()
            .any(|a| a.contains("memory request and limit both set to 1Gi")),
        "{assumptions:?}"
    );
    let (target, r, _) = resources("set cpu of api to 500m");
    assert_eq!(target, "api");
    assert_eq!(
        (r.requests, r.limits),
        (quantities(Some("500m"), None), quantities(Some("500m"), None))
    );
    let (target, r, _) = resources("set the memory limit of checkout to 2Gi");
    assert_eq!(target, "checkout");
    assert_eq!(
        (r.requests, r.limits),
        (Quantities::default(), quantities(None, Some("2Gi")))
    );
    let (_, r, _) = resources("change the cpu request of api to 1");
    assert_eq!(
        (r.requests, r.limits),
        (quantities(Some("1"), None), Quantities::default())
    );
    let (_, r, _) = resources("give api 2 cpus and 4Gi memory");
    assert_eq!(r.requests, quantities(Some("2"), Some("4Gi")));
    assert_eq!(r.limits, quantities(Some("2"), Some("4Gi")));
}

#[test]
fn limit_and_request_set_one_side_only() {
    let (target, r, _) = resources("limit checkout to 1Gi memory");
    assert_eq!(target, "checkout");
    assert_eq!(
        (r.requests, r.limits),
        (Quantities::default(), quantities(None, Some("1Gi")))
    );
    let (target, r, _) = resources("request 250m cpu for api");
    assert_eq!(target, "api");
    assert_eq!(
        (r.requests, r.limits),
        (quantities(Some("250m"), None), Quantities::default())
    );
}

#[test]
fn expose_at_a_host_with_the_create_defaults() {
    let s = spec("expose grafana at grafana.example.com");
    let first = s.changes[0].set.clone().unwrap();
    assert_eq!(s.changes[0].target, "grafana");
    assert_eq!(
        first.exposure,
        Some(Exposure {
            host: Some("grafana.example.com".into()),
            path: None,
            tls: true
        })
    );
    assert!(s
        .assumptions
        .iter()
        .any(|a| a.contains("TLS enabled for grafana.example.com")));
    let (target, with_path) = set("expose api on api.example.com/v1 with tls");
    assert_eq!(target, "api");
    assert_eq!(
        with_path.exposure,
        Some(Exposure {
            host: Some("api.example.com".into()),
            path: Some("/v1".into()),
            tls: true
        })
    );
    let (_, plain) = set("expose api at http://api.example.com");
    assert!(!plain.exposure.unwrap().tls);
    // No host: exposed on any host, and a question asks which.
    let s = spec("expose api publicly in staging");
    assert_eq!(
        s.changes[0].set.as_ref().unwrap().exposure.as_ref().unwrap().host,
        None
    );
    assert!(
        s.questions.iter().any(|q| q.contains("which host")),
        "{:?}",
        s.questions
    );
}

#[test]
fn a_data_store_is_not_exposed_through_an_ingress() {
    let reason = not_understood("expose redis publicly at redis.example.com in production");
    assert!(reason.contains("not served over HTTP"), "{reason}");
}

#[test]
fn remove_a_named_workload() {
    let delete = |target: &str, kind: Option<&str>| Change {
        operation: Operation::Delete,
        promote: None,
        target: target.into(),
        kind: kind.map(Into::into),
        set: None,
    };
    let s = spec("remove the memcached app from staging");
    assert_eq!(
        (s.environment.as_str(), &s.changes[..]),
        ("staging", &[delete("memcached", None)][..])
    );
    assert!(
        s.assumptions.iter().any(|a| a.contains("app")),
        "{:?}",
        s.assumptions
    );
    assert_eq!(one("delete redis in production"), delete("redis", None));
    assert_eq!(
        one("decommission the legacy-billing service"),
        delete("legacy-billing", None)
    );
    assert_eq!(
        one("tear down orders-worker in dev"),
        delete("orders-worker", None)
    );
    assert_eq!(one("please tear down the staging api"), delete("api", None));
    assert_eq!(
        one("delete the api deployment"),
        delete("api", Some("Deployment"))
    );
    assert_eq!(
        one("uninstall the metrics statefulset in namespace monitoring"),
        delete("metrics", Some("StatefulSet"))
    );
    assert_eq!(spec("remove redis from the cache namespace").namespace, "cache");
    assert_eq!(spec("scale redis to 3 for the billing team").namespace, "billing");
    assert_eq!(one("remove redis but keep the data"), delete("redis", None));
    let s = spec("delete the redis statefulset in staging");
    assert_eq!(s.changes, [delete("redis", Some("StatefulSet"))]);
}

#[test]
fn destructive_removals_are_refused() {
    for text in [
        "destroy the staging cluster",
        "delete the payments namespace",
        "delete namespace payments",
        "remove redis and its data",
        "delete the postgres pvc",
        "drop the orders database",
        "wipe redis in production",
        "purge everything",
    ] {
        let m = refused(text);
        assert!(m.contains("never deletes data"), "{text}: {m}");
    }
    for text in ["remove everything", "delete all apps in staging"] {
        let m = not_understood(text);
        assert!(m.contains("name it"), "{text}: {m}");
    }
}

#[test]
fn ambiguous_targets_ask_which_workload() {
    for (text, example) in [
        ("scale the app", "scale api-gateway to 5"),
        ("scale it to 3", "scale api-gateway to 5"),
        ("bump the image", "bump checkout to"),
        ("remove the service", "remove memcached"),
        ("give it more memory", "give orders-worker 1Gi"),
        ("expose it at shop.example.com", "expose grafana"),
    ] {
        let m = not_understood(text);
        assert!(
            m.contains("which workload?") && m.contains(example),
            "{text}: {m}"
        );
    }
    let m = not_understood("scale api to 3 replicas like web");
    assert!(m.contains("one workload per change"), "{m}");
    let m = not_understood("scale kube-system/coredns to 3");
    assert!(m.contains("in namespace kube-system"), "{m}");
    let m = not_understood("scale api");
    assert!(m.contains("nothing to change"), "{m}");
}

#[test]
fn unsupported_changes_are_refused_not_dropped() {
    for (text, what) in [
        ("scale api between 2 and 10", "autoscaling"),
        ("give redis 50Gi of storage", "storage"),
        ("set api port to 9090", "ports"),
        ("update api with password hunter2", "credentials"),
        ("scale api to 3 and 5", "more than one replica count"),
        ("expose api and web to 2", "\"2\" was not understood"),
        ("give api 2", "\"2\" was not understood"),
    ] {
        let m = not_understood(text);
        assert!(m.contains(what), "{text}: {m}");
        assert!(!m.contains("hunter2"), "{m}");
    }
}

#[test]
fn several_clauses_make_several_changes_and_it_refers_back() {
    let s = spec("scale api to 3 and bump web to acme/web:2.0.1 in staging");
    let targets: Vec<&str> = s.changes.iter().map(|c| c.target.as_str()).collect();
    assert_eq!(targets, ["api", "web"]);
    let s = spec("remove redis, the memcached app and kafka from staging");
    let targets: Vec<&str> = s.changes.iter().map(|c| c.target.as_str()).collect();
    assert_eq!(targets, ["redis", "memcached", "kafka"]);
    let s = spec("scale api and web to 3 in staging");
    assert!(s
        .changes
        .iter()
        .all(|c| c.set.as_ref().unwrap().replicas == Some(3)));
    assert_eq!(s.changes.len(), 2);
    let s = spec("expose api and web at shop.example.com");
    let tls: Vec<_> = s.assumptions.iter().filter(|a| a.contains("TLS")).collect();
    assert_eq!(tls.len(), 1, "{:?}", s.assumptions);
    let (target, both) = set("scale api to 3, then give it 1Gi of memory");
    assert_eq!((target.as_str(), both.replicas), ("api", Some(3)));
    assert_eq!(both.resources.unwrap().limits.memory.as_deref(), Some("1Gi"));
}

#[test]
fn a_create_mixed_with_a_change_is_two_requests() {
    for text in [
        "deploy redis and scale api to 3",
        "scale api to 3 and deploy redis",
    ] {
        let m = not_understood(text);
        assert!(m.contains("two requests"), "{text}: {m}");
    }
}

#[test]
fn creates_that_start_like_changes_are_still_creates() {
    for text in [
        "give me a kafka cluster with 3 brokers in production",
        "Set up kafka with three brokers in production",
        "can you set up a mongo database with 50 gigs of storage for analytics in staging",
        "deploy acme/api:1.2 in staging, limit it to 1 cpu and 1Gi of memory",
        "request a postgres database for the billing team",
        "deploy redis and remove nothing",
    ] {
        let s = spec(text);
        assert!(s.changes.is_empty() && s.components.len() == 1, "{text}: {s:#?}");
    }
}

#[test]
fn hostile_targets_and_values_are_refused() {
    assert!(matches!(
        error("scale ../../etc to 3"),
        Error::NotUnderstood { .. }
    ));
    assert!(matches!(
        error("scale api to 3 in namespace ../kube-system"),
        Error::Refused(_)
    ));
    let m = not_understood("scale api to 500");
    assert!(m.contains("limit of 100"), "{m}");
}

#[test]
fn the_environment_flag_wins_and_output_is_deterministic() {
    let s = plan(&Intent::new("scale api to 3 in staging", Some("production")).unwrap()).unwrap();
    assert_eq!(s.environment, "production");
    assert!(!s.questions.is_empty());
    let again = plan(&Intent::new("scale api to 3 in staging", Some("production")).unwrap()).unwrap();
    assert_eq!(s, again);
    let mut n = s.clone();
    n.normalize().unwrap();
    assert_eq!(n, s);
}

/// The day-2 verbs (and lead-ins) the robustness test starts each text with.
const VERBS: &[&str] = &[
    "scale",
    "scale down",
    "bump",
    "update",
    "upgrade",
    "roll out",
    "set",
    "give",
    "limit",
    "request",
    "expose",
    "remove",
    "delete",
    "tear down",
    "please scale",
    "can you remove",
    "run 3 replicas of",
];
/// What the robustness test puts after each verb: targets, values, and junk.
const TAILS: &[&str] = &[
    "",
    "api",
    "the api deployment to 3",
    "it",
    "api to acme/api:1.2.3",
    "api to 1.2.3",
    "api 1Gi of memory",
    "api at api.example.com",
    "api and web to 2",
    "api to 3, then",
    "the staging cluster",
    "api, web, and",
    "to to to",
    "api to 500",
    "../../etc to 3",
    "api to 3 and deploy redis",
];

#[test]
fn every_verb_and_tail_gives_a_checked_spec_or_a_clear_error() {
    for v in VERBS {
        for t in TAILS {
            let text = format!("{v} {t}");
            let Ok(intent) = Intent::new(&text, None) else {
                continue;
            };
            match plan(&intent) {
                Ok(s) => {
                    assert!(!(s.components.is_empty() && s.changes.is_empty()), "{text:?}");
                    let mut n = s.clone();
                    n.normalize().unwrap_or_else(|e| panic!("{text:?}: {e}"));
                    assert_eq!(n, s, "{text:?}");
                }
                Err(e) => assert!(
                    matches!(e, Error::NotUnderstood { .. } | Error::Refused(_)),
                    "{text:?}: {e}"
                ),
            }
        }
    }
}

/// Environments with the repository's own names are environments, never
/// workloads: "in prod-us" used to be read as a second target.
#[test]
fn the_repositorys_own_environment_names_are_environments() {
    let known = ["prod-us".to_string(), "staging-eu".to_string(), "qa".to_string()];
    for (text, env) in [
        ("scale simple-deployment to 5 replicas in prod-us", "prod-us"),
        (
            "bump checkout to acme/checkout:2.4.0 in the staging-eu environment",
            "staging-eu",
        ),
    ] {
        let s = super::plan_knowing(&Intent::new(text, None).unwrap(), &known, &[])
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(s.environment, env, "{text}");
        assert_eq!(s.changes.len(), 1, "{text}: {s:?}");
    }
    assert_eq!(
        super::plan_knowing(
            &Intent::new("scale simple-deployment to 5 replicas in prod-us", None).unwrap(),
            &known,
            &[]
        )
        .unwrap()
        .changes[0]
            .target,
        "simple-deployment"
    );
}
