//! Phrasing found by the evals (`evals/platform.yaml`): a platform team's
//! words and word order, each fixed in the planner and pinned here.

use super::plan;
use crate::intent::Intent;
use crate::spec::{Archetype, Spec};

fn spec(text: &str) -> Spec {
    plan(&Intent::new(text, None).unwrap()).unwrap()
}

#[test]
fn nginx_named_alone_gets_the_pinned_unprivileged_image() {
    let s = spec("spin up 2 nginx pods behind an ingress at shop.example.com with TLS in staging");
    let c = &s.components[0];
    assert_eq!(c.name, "nginx");
    assert_eq!(c.image.as_deref(), Some("nginxinc/nginx-unprivileged:1.27.3"));
    assert_eq!(c.replicas, Some(2));
    assert!(
        s.assumptions.iter().any(|a| a.contains("non-root")),
        "{:?}",
        s.assumptions
    );
    let behind = spec("deploy acme/api:1.2 behind nginx in staging");
    assert_eq!(behind.components[0].image.as_deref(), Some("acme/api:1.2"));
}

#[test]
fn the_owning_team_names_the_namespace() {
    let s = spec("I need a postgres db for the billing team in staging with 20Gi disk");
    assert_eq!(s.namespace, "billing");
    assert_eq!(s.components[0].name, "postgres");
    let explicit = spec("redis for the billing team in namespace shared in staging");
    assert_eq!(explicit.namespace, "shared");
}

#[test]
fn once_means_a_one_off_job_and_once_a_day_a_schedule() {
    assert_eq!(
        spec("run acme/migrate:3.0 once in production").components[0].archetype,
        Archetype::Job
    );
    assert_eq!(
        spec("run acme/report:1.0 once a day in production").components[0].archetype,
        Archetype::CronJob
    );
}

#[test]
fn x3_after_a_workload_is_a_replica_count() {
    assert_eq!(spec("redis x3 in prod").components[0].replicas, Some(3));
}

#[test]
fn stand_up_and_spin_up_are_verbs_not_dependencies() {
    let s = spec("stand up a mysql 8.4 database in dev");
    assert_eq!(s.components[0].image.as_deref(), Some("mysql:8.4"));
    let s = spec("spin up a postgres 16 in staging");
    assert_eq!(s.components[0].image.as_deref(), Some("postgres:16"));
    // "backs up postgres" still makes postgres what the job works on.
    let s = spec("a nightly job using acme/backup:1.2 that backs up postgres in production");
    assert_eq!(s.components[0].archetype, Archetype::CronJob);
}

#[test]
fn a_size_per_node_is_not_a_daemon() {
    let s = spec("deploy a 3-node elasticsearch cluster with 50Gi per node in production");
    let c = &s.components[0];
    assert_eq!(c.archetype, Archetype::Elasticsearch);
    assert_eq!(c.replicas, Some(3));
    assert_eq!(c.storage.as_ref().unwrap().size, "50Gi");
    let d = spec("run acme/agent:1.0 on every node in production");
    assert_eq!(d.components[0].archetype, Archetype::Daemon);
}

#[test]
fn asking_for_a_pdb_gives_the_disruption_budget() {
    let s = spec("deploy the api using acme/api:1.2 to prod with 3 replicas and a PDB");
    let ha = s.components[0].high_availability.as_ref().expect("HA");
    assert!(ha.pod_disruption_budget);
    assert_eq!(s.components[0].replicas, Some(3));
}

#[test]
fn an_image_with_its_own_database_is_two_components() {
    let s = spec("deploy acme/api:1.2 in staging with its own postgres");
    let parts: Vec<(&str, Archetype, Option<&str>)> = s
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.archetype, c.image.as_deref()))
        .collect();
    assert_eq!(
        parts,
        [
            ("api", Archetype::WebService, Some("acme/api:1.2")),
            ("postgres", Archetype::Postgres, None)
        ]
    );
    // An image for the data store itself stays one component.
    let one = spec("deploy postgres using image bitnami/postgresql:16.4.0 in staging");
    assert_eq!(one.components.len(), 1);
}

#[test]
fn half_a_dozen_is_six() {
    assert_eq!(
        spec("deploy half a dozen nginx pods in staging").components[0].replicas,
        Some(6)
    );
}

#[test]
fn naming_a_port_does_not_name_the_workload() {
    let s = spec("deploy acme/api:1.2 in staging using port 8443 named https");
    assert_eq!(s.components[0].name, "api");
    assert_eq!(s.components[0].ports[0].port, 8443);
}

#[test]
fn a_version_before_a_singular_noun_is_a_version() {
    let s = spec("a PostgreSQL 16 instance for the ledger team in production with 200 GB of storage");
    let c = &s.components[0];
    assert_eq!(c.image.as_deref(), Some("postgres:16"));
    assert_eq!(c.replicas, None);
    assert_eq!(s.namespace, "ledger");
    assert_eq!(
        spec("a redis 3 node cluster in staging").components[0].replicas,
        Some(3)
    );
    assert_eq!(
        spec("postgres 16 with 3 instances in staging").components[0].replicas,
        Some(3)
    );
}

/// The plain phrasings of issue 16's options, each with the spec it must give.
#[test]
fn pod_service_and_rbac_options_in_plain_words() {
    use crate::spec::{ServiceType, TolerationOperator, Verb, VolumeSource};
    let s = spec("run a job using image acme/shop:2.1 running `python manage.py migrate` in staging");
    let c = &s.components[0];
    assert_eq!(c.archetype, Archetype::Job);
    assert_eq!(
        c.pod.as_ref().unwrap().command,
        ["python", "manage.py", "migrate"]
    );
    let s = spec("deploy a worker using image acme/tool:1.0 with command /bin/tool and args --fast in dev");
    let pod = s.components[0].pod.clone().unwrap();
    assert_eq!(
        (pod.command, pod.args),
        (vec!["/bin/tool".to_string()], vec!["--fast".to_string()])
    );
    let s = spec("deploy a worker using image acme/train:3 on nodes labelled gpu=true tolerating the dedicated=batch taint in prod");
    let pod = s.components[0].pod.clone().unwrap();
    assert_eq!(
        (
            pod.node_selector[0].key.as_str(),
            pod.node_selector[0].value.as_str()
        ),
        ("gpu", "true")
    );
    let t = &pod.tolerations[0];
    assert_eq!(
        (t.key.as_deref(), t.operator, t.value.as_deref()),
        (Some("dedicated"), TolerationOperator::Equal, Some("batch"))
    );
    let s = spec(
        "deploy acme/web:1.4 as web on port 8080 and mount the app-config ConfigMap at /etc/app in staging",
    );
    let v = &s.components[0].pod.as_ref().unwrap().volumes[0];
    assert_eq!(
        (v.source, v.from.as_deref(), v.mount_path.as_str()),
        (VolumeSource::ConfigMap, Some("app-config"), "/etc/app")
    );
    let s = spec("deploy acme/web:1.4 as web on port 8080 with a NodePort service on 30080 in staging");
    let svc = s.components[0].service.as_ref().unwrap();
    assert_eq!(
        (svc.kind, svc.ports[0].node_port, svc.ports[0].port),
        (ServiceType::NodePort, Some(30080), 8080)
    );
    let s = spec("deploy a worker using image acme/watcher:1 with a Role that can get and list pods in dev");
    let rbac = s.components[0].rbac.as_ref().unwrap();
    assert!(!rbac.cluster_wide);
    assert_eq!(rbac.rules[0].resources, ["pods"]);
    assert_eq!(rbac.rules[0].verbs, [Verb::Get, Verb::List]);
    assert_eq!(rbac.rules[0].api_groups, [""]);
}

#[test]
fn an_option_phrase_that_cannot_be_read_is_refused_not_half_applied() {
    let refused = |text: &str| plan(&Intent::new(text, None).unwrap()).unwrap_err().to_string();
    assert!(
        refused("deploy a worker using image acme/w:1 with a Role that can frobnicate pods in dev")
            .contains("frobnicate")
    );
    assert!(
        refused("deploy a worker using image acme/w:1 with a Role that can get widgets in dev")
            .contains("widgets")
    );
    assert!(
        refused("deploy a worker using image acme/w:1 with a NodePort service on 30080 in dev")
            .contains("port")
    );
}

// Issue 15: what the plan did silently differently from the intent.

#[test]
fn a_request_and_a_limit_are_read_separately() {
    let s = spec("Deploy acme/api:2.0.0 as api with a 1Gi memory request and a 2Gi limit in staging");
    let r = s.components[0].resources.as_ref().unwrap();
    assert_eq!(r.requests.memory.as_deref(), Some("1Gi"));
    assert_eq!(r.limits.memory.as_deref(), Some("2Gi"));
    assert!(s.unsupported.is_empty(), "{:?}", s.unsupported);
}

#[test]
fn a_size_each_applies_to_every_replica_as_memory() {
    let s = spec("memcached x2 with 512Mi each in staging");
    let c = &s.components[0];
    assert_eq!(c.replicas, Some(2));
    assert_eq!(
        c.resources.as_ref().unwrap().limits.memory.as_deref(),
        Some("512Mi")
    );
    assert!(s.questions.is_empty(), "{:?}", s.questions);
}

#[test]
fn half_a_cpu_and_three_gigs_of_ram() {
    let c = &spec("acme/api:1.0.0 with half a cpu and 3 gigs of ram in staging").components[0];
    let r = c.resources.as_ref().unwrap();
    assert_eq!(r.requests.cpu.as_deref(), Some("500m"));
    assert_eq!(r.requests.memory.as_deref(), Some("3Gi"));
}

#[test]
fn a_schedule_in_a_named_zone_gets_the_time_zone() {
    let s = spec("a cron job using acme/report:1.0 every day at 9am Europe/Berlin time in staging");
    let c = &s.components[0];
    assert_eq!(c.schedule.as_deref(), Some("0 9 * * *"));
    assert_eq!(
        c.batch.as_ref().and_then(|b| b.time_zone.as_deref()),
        Some("Europe/Berlin")
    );
    assert!(s.unsupported.is_empty(), "{:?}", s.unsupported);
}

#[test]
fn an_adjective_before_the_noun_leaves_the_name_to_the_image() {
    let s = spec("an internal-only service for acme/ledger:1.4.0 in staging");
    assert_eq!(s.components[0].name, "ledger");
    assert!(s.components[0].exposure.is_none());
    assert!(s.unsupported.is_empty(), "{:?}", s.unsupported);
}

#[test]
fn behind_a_load_balancer_is_a_load_balancer_service() {
    let s = spec("Deploy acme/web:1.0.0 as web behind a LoadBalancer in staging");
    assert_eq!(
        s.components[0].service.as_ref().map(|o| o.kind),
        Some(crate::spec::ServiceType::LoadBalancer)
    );
    assert!(s.unsupported.is_empty(), "{:?}", s.unsupported);
}

#[test]
fn only_allow_traffic_from_a_namespace_is_a_network_policy_not_the_namespace() {
    let s = spec("Deploy acme/api:2.0.0 as api in staging, only allow traffic from the frontend namespace");
    assert_eq!(s.namespace, "api");
    assert_eq!(s.components[0].allow_from_namespaces, ["frontend"]);
    assert!(s.unsupported.is_empty(), "{:?}", s.unsupported);
}

#[test]
fn kong_listens_where_kong_serves() {
    let s = spec("Deploy kong:3.8.1 in staging");
    assert!(
        s.assumptions.iter().any(|a| a.contains("port 8000")),
        "{:?}",
        s.assumptions
    );
}

#[test]
fn misspelt_words_are_corrected_out_loud() {
    let s = spec("redis with 3 replcias in prodution");
    assert_eq!(s.components[0].replicas, Some(3));
    assert_eq!(s.environment, "production");
    assert!(s
        .assumptions
        .iter()
        .any(|a| a.contains("\"replcias\" read as \"replicas\"")));
    assert!(s
        .assumptions
        .iter()
        .any(|a| a.contains("\"prodution\" read as \"production\"")));
}

#[test]
fn what_the_spec_cannot_express_is_listed_not_dropped() {
    let s = spec("a postgres with a read replica in staging");
    assert!(
        s.unsupported
            .iter()
            .any(|u| u.phrase.contains("read replica") && u.reason.contains("CloudNativePG")),
        "{:?}",
        s.unsupported
    );
    let s = spec("Deploy acme/api:1.2.0 as api with a canary rollout sending 10% traffic to the new version in staging");
    assert_eq!(s.unsupported.len(), 1, "{:?}", s.unsupported);
}

/// Issue 14: a change meant for several environments names them all, or
/// `*` for every one; a new app stays in one environment and says so.
#[test]
fn a_change_for_several_environments_lists_them() {
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "bump api to acme/api:1.4 in staging and production",
            "staging",
            &["staging", "production"],
        ),
        (
            "scale web to 3 in prod, staging and dev",
            "production",
            &["production", "staging", "dev"],
        ),
        ("scale web to 3 in all environments", "default", &["*"]),
        ("bump api to acme/api:1.4 everywhere", "default", &["*"]),
        ("scale web to 3 across every environment", "default", &["*"]),
        ("scale web to 3 in staging", "staging", &[]),
    ];
    for (text, environment, several) in cases {
        let s = spec(text);
        assert_eq!(s.environment, environment, "{text}");
        assert_eq!(s.environments, several, "{text}");
        assert_eq!(s.changes.len(), 1, "{text}: {:?}", s.changes);
        assert!(s.questions.is_empty(), "{text}: {:?}", s.questions);
    }
    let removal = spec("remove memcached in all environments");
    assert_eq!(removal.environments, ["*"]);
    assert_eq!(removal.changes[0].target, "memcached");
    assert!(plan(&Intent::new("remove all apps in all environments", None).unwrap()).is_err());
    let new_app = spec("deploy redis in all environments");
    assert!(new_app.environments.is_empty());
    assert!(
        new_app.questions.iter().any(|q| q.contains("every environment")),
        "{:?}",
        new_app.questions
    );
}
