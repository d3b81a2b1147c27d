//! Issue 16's kinds and objects through the openai planner: the model is
//! told about them (the system prompt), fills them in its reply, is sent
//! back what the spec's checks refuse, and the plan renders what it asked
//! for: a bare Pod with full probes and a ConfigMap, and a Service over pods
//! that already run with a PersistentVolume and a StorageClass.

use gitintent::pipeline::{self, Context, Plan};
use gitintent::plan::{OpenAi, Planner};
use gitintent::{Intent, Severity};
use serde_json::{json, Value};

use crate::openai::config;
use crate::util::fake_llm::{FakeLlm, Reply};

/// A component as the model sends it: every field, the new ones included.
fn component(name: &str, archetype: &str) -> Value {
    json!({
        "name": name, "archetype": archetype, "image": null, "replicas": null, "ports": [],
        "resources": null, "storage": null, "exposure": null, "autoscaling": null,
        "health_check": null, "env": [], "secret_refs": [], "schedule": null,
        "high_availability": null, "pod": null, "service": null, "batch": null, "rbac": null,
        "workload": null, "probes": null, "objects": null, "allow_from_namespaces": []
    })
}

fn spec(components: Vec<Value>) -> Value {
    json!({"environment": "dev", "namespace": "default", "components": components,
        "changes": [], "assumptions": [], "questions": [], "unsupported": []})
}

fn probe(action: &str, command: Value, period: Value) -> Value {
    json!({"action": action, "path": null, "port": null, "command": command,
        "initial_delay_seconds": null, "period_seconds": period, "timeout_seconds": null,
        "failure_threshold": null, "success_threshold": null})
}

fn bare_pod(replicas: Value) -> Value {
    let mut c = component("checker", "worker");
    c["image"] = json!("busybox:1.36");
    c["replicas"] = replicas;
    c["pod"] = json!({"command": ["sh", "-c", "touch /tmp/healthy; sleep 3600"], "args": [],
        "image_pull_policy": null, "node_selector": [], "node_affinity": [], "tolerations": [],
        "priority_class_name": null, "pod_affinity": [], "topology_spread": [], "volumes": [
            {"name": "config", "source": "config_map", "from": "checker-config", "mount_path": "/etc/checker",
             "sub_path": null, "read_only": true}],
        "config_map_refs": [], "env_from": [], "host_aliases": [], "dns_policy": null,
        "dns_nameservers": [], "dns_searches": [], "termination_grace_period_seconds": null,
        "post_start": [], "pre_stop": []});
    c["workload"] = json!({"kind": "pod", "restart_policy": "never", "strategy": null, "max_surge": null,
        "max_unavailable": null, "min_ready_seconds": null, "progress_deadline_seconds": null,
        "revision_history_limit": null});
    c["probes"] = json!({"readiness": probe("exec", json!(["cat", "/tmp/healthy"]), json!(5)),
        "liveness": null, "startup": null});
    c["objects"] = json!({"config_maps": [{"name": "checker-config",
        "data": [{"key": "checker.conf", "value": "interval=5\n"}]}],
        "persistent_volumes": [], "storage_classes": []});
    spec(vec![c])
}

async fn run(intent: &str, replies: Vec<Value>) -> (Plan, FakeLlm) {
    let server = FakeLlm::start(replies.iter().map(Reply::spec).collect::<Vec<_>>()).await;
    let planner = Planner::OpenAi(OpenAi::new(config(&server)).expect("a valid config"));
    let intent = Intent::new(intent, None).unwrap();
    let plan = pipeline::run(&intent, &planner, &Context::default())
        .await
        .unwrap();
    (plan, server)
}

fn file<'a>(plan: &'a Plan, name: &str) -> &'a str {
    plan.files
        .iter()
        .find(|f| f.path.ends_with(name))
        .map(|f| f.content.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {name} in {:?}",
                plan.files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
}

#[tokio::test]
async fn the_model_fills_a_bare_pod_with_an_exec_probe_and_is_repaired_when_it_gives_it_replicas() {
    let intent = "in dev, a pod called checker running busybox:1.36 that never restarts, ready when cat /tmp/healthy \
                  succeeds every 5 seconds, with a checker-config ConfigMap (interval=5) mounted at /etc/checker";
    let (plan, server) = run(intent, vec![bare_pod(json!(3)), bare_pod(json!(null))]).await;

    let system = &server.requests()[0].messages()[0].1;
    assert!(system.contains("kind \"pod\" (a bare Pod)"), "{system}");
    let repair = &server.requests()[1].messages()[3].1;
    assert!(
        repair.contains("/components/0/replicas") && repair.contains("bare pod"),
        "{repair}"
    );
    assert_eq!(plan.attempts, 2);

    let pod = file(&plan, "/checker/pod.yaml");
    for expected in [
        "kind: Pod",
        "restartPolicy: Never",
        "- /tmp/healthy",
        "periodSeconds: 5",
    ] {
        assert!(pod.contains(expected), "{expected} in\n{pod}");
    }
    let config_map = file(&plan, "/checker/configmaps.yaml");
    assert!(
        config_map.contains("checker.conf: |\n    interval=5"),
        "{config_map}"
    );
    let warning = plan
        .findings
        .iter()
        .find(|f| f.rule == "workload-without-controller")
        .expect("a bare pod is reported");
    assert_eq!(warning.severity, Severity::Warning);
    let errors: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn the_model_fills_a_service_over_existing_pods_with_storage_objects() {
    let mut c = component("redis-primary", "web_service");
    c["workload"] = json!({"kind": "none", "restart_policy": null, "strategy": null, "max_surge": null,
        "max_unavailable": null, "min_ready_seconds": null, "progress_deadline_seconds": null,
        "revision_history_limit": null});
    c["service"] = json!({"type": "cluster_ip", "cluster_ip": null, "external_name": null,
        "ports": [{"name": "redis", "port": 6379, "target_port": "6379", "node_port": null, "protocol": "tcp"}],
        "selector": [{"key": "app", "value": "redis"}, {"key": "role", "value": "primary"}]});
    c["objects"] = json!({"config_maps": [], "persistent_volumes": [{"name": "redis-data", "capacity": "10Gi",
        "access_modes": ["read_write_once"], "reclaim_policy": "retain", "storage_class": "manual",
        "volume_mode": null, "source": "nfs", "server": "10.0.0.20", "path": "/exports/redis",
        "driver": null, "volume_handle": null, "node_affinity": []}],
        "storage_classes": [{"name": "manual", "provisioner": "kubernetes.io/no-provisioner", "parameters": [],
        "reclaim_policy": null, "volume_binding_mode": "wait_for_first_consumer", "allow_volume_expansion": null}]});
    let intent = "in dev, a Service redis-primary on port 6379 for the pods labelled app=redis,role=primary, \
                  a 10Gi NFS PersistentVolume redis-data from 10.0.0.20:/exports/redis and a StorageClass manual";
    let (plan, _) = run(intent, vec![spec(vec![c])]).await;

    let names: Vec<&str> = plan
        .files
        .iter()
        .map(|f| f.path.rsplit('/').next().unwrap())
        .collect();
    assert!(
        !names.contains(&"deployment.yaml") && !names.contains(&"serviceaccount.yaml"),
        "{names:?}"
    );
    let service = file(&plan, "/redis-primary/service.yaml");
    assert!(
        service.contains("role: primary") && service.contains("port: 6379"),
        "{service}"
    );
    let pv = file(&plan, "/redis-primary/persistentvolumes.yaml");
    assert!(
        pv.contains("server: 10.0.0.20") && pv.contains("storageClassName: manual"),
        "{pv}"
    );
    assert!(file(&plan, "/redis-primary/storageclasses.yaml").contains("WaitForFirstConsumer"));
    let errors: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
