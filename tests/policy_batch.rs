//! The built-in pack over one big mixed batch, pinned by a snapshot.
//!
//! The snapshot was taken with the pack and `PolicySet` as they were before
//! the policy gate was made fast (one session, every rule, every resource),
//! so it holds the fast path (kind dispatch, regex pre-filters, several
//! threads) to byte-identical findings: same rules, paths, messages, order.
//! The batch is big enough (over 128 resources) to be split across threads.

use std::path::Path;

use gitintent::manifest::File;
use gitintent::policy::{PolicySet, Settings};

/// Apps like those of `benches/policy.rs`: Deployment, Service, ConfigMap
/// and PodDisruptionBudget, some untagged, some with one replica.
fn apps(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            r#"---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata: {{labels: {{app: app-{i}}}}}
    spec:
      securityContext: {{runAsNonRoot: true, runAsUser: 1000}}
      containers:
        - name: app
          image: {image}
          resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}
          livenessProbe: {{httpGet: {{path: /live, port: 8080}}}}
          securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {{drop: [ALL]}}}}
          env:
            - {{name: LOG_LEVEL, value: info}}
            - {{name: DB_PASSWORD, valueFrom: {{secretKeyRef: {{name: db, key: password}}}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}{team}}}}}
spec:
  selector: {{app: app-{i}}}
  ports: [{{name: http, port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
data: {{greeting: hello, url: "https://example.com/{i}"}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: app-{pdb}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: app-{pdb}}}}}}}
"#,
            ns = i % 10,
            replicas = 1 + i % 3,
            image = match i % 7 {
                0 => "nginx".to_string(),
                3 => format!("docker.io/acme/app-{i}:latest"),
                _ => format!("ghcr.io/acme/app-{i}:1.{i}.0"),
            },
            team = if i % 11 == 0 { "" } else { ", team: t" },
            pdb = if i % 5 == 0 { format!("other-{i}") } else { i.to_string() },
        ));
    }
    out
}

/// Resources that break the rules the apps do not: credentials of every
/// pattern, host namespaces, capabilities, init containers, Ingress TLS.
const ODD_ONES: &str = r#"---
apiVersion: v1
kind: Pod
metadata: {name: bad, labels: {team: t}}
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  volumes: [{name: root, hostPath: {path: /}}, {name: scratch, emptyDir: {}}]
  initContainers:
    - name: init
      image: busybox:latest
      securityContext: {privileged: true, capabilities: {add: [CAP_SYS_ADMIN, NET_ADMIN, chown]}}
  containers:
    - image: quay.io/x/y@sha256:0123
      env:
        - {name: API_TOKEN, value: abc}
        - {name: TOKEN_FILE, value: /run/token}
        - {name: UPSTREAM, value: "https://user:hunter2@db.example.com/x"}
        - {name: GH, value: ghp_0123456789abcdefghijklmnopqrstuvwxyz}
        - {name: SLACK, value: xoxb-1234567890-abcdef}
        - {name: AWS, value: AKIAABCDEFGHIJKLMNOP}
        - {name: my.access_key.v2, value: x}
        - {name: "", value: ""}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: creds, labels: {team: t}, annotations: {gitintent.io/waive: "plaintext-credential"}}
data:
  db_password: hunter2
  api-key-path: /etc/key
  key: "-----BEGIN RSA PRIVATE KEY-----"
  notes: "AKIA0123456789ABCDEF in a note"
  empty_secret: ""
  Credential_Name: ok
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: open, labels: {team: t}}
spec:
  rules: [{host: a.example.com}, {host: b.example.com}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: partial, labels: {team: t}}
spec:
  tls: [{hosts: [a.example.com], secretName: a}]
  rules: [{host: a.example.com}, {host: b.example.com}, {}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data, labels: {team: t}}
spec:
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, tier: data}}
    spec:
      containers: [{name: db, image: "postgres:16", securityContext: {runAsUser: 0}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: data-tier, namespace: data}
spec:
  minAvailable: 1
  selector: {matchExpressions: [{key: tier, operator: In, values: [cache]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, labels: {team: t}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: job, image: "ghcr.io/acme/job:1", resources: {limits: {cpu: 1}}}]
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: listed}}
  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: listed, labels: {team: t}}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: custom}
spec: {containers: [{name: not-a-pod}]}
"#;

/// Every Polaris fixture, one file each, in path order.
fn polaris() -> Vec<File> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/polaris-checks");
    let mut paths = Vec::new();
    for check in std::fs::read_dir(&root).expect("Polaris fixtures") {
        let check = check.unwrap().path();
        if !check.is_dir() {
            continue; // LICENSE
        }
        for file in std::fs::read_dir(check).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|x| x == "yaml") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| File {
            path: p.strip_prefix(&root).unwrap().display().to_string(),
            content: std::fs::read_to_string(&p).unwrap(),
        })
        .collect()
}

fn render(findings: &[gitintent::Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} {f}\n", f.file.as_deref().unwrap_or("-")))
        .collect()
}

#[test]
fn a_big_mixed_batch_gives_the_same_findings_as_before() {
    let mut files = vec![File {
        path: "apps.yaml".into(),
        content: format!("{}{ODD_ONES}", apps(60)),
    }];
    files.extend(polaris());
    let settings = Settings {
        environment: "production".into(),
        required_labels: vec!["team".into()],
        allowed_registries: vec!["ghcr.io/acme".into(), "quay.io/x/".into()],
        ..Settings::default()
    };
    let set = PolicySet::builtin().unwrap();
    let findings = set.check(&files, &settings);
    insta::assert_snapshot!("builtin_batch_production", render(&findings));

    let findings = set.check(&files, &Settings::default());
    insta::assert_snapshot!("builtin_batch_defaults", render(&findings));
}

// The native pack (src/policy/native/) against the Rego pack: identical
// findings over generated and real manifests, with the native path shown to
// answer most of them (otherwise two interpreter runs would be compared).

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// One of `options`; the first ones are the common shapes, the last the
    /// odd ones, drawn more rarely.
    fn pick(&mut self, options: &[serde_json::Value]) -> serde_json::Value {
        let n = options.len() as u64;
        let i = if self.next().is_multiple_of(4) {
            self.next() % n
        } else {
            self.next() % n.div_ceil(2)
        };
        options[i as usize].clone()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Sets `key` to a value drawn from `options`, where `null` stands for absent.
fn put(g: &mut Gen, o: &mut serde_json::Value, key: &str, options: &[serde_json::Value]) {
    let v = g.pick(options);
    if !v.is_null() {
        o[key] = v;
    }
}

fn container(g: &mut Gen) -> serde_json::Value {
    use serde_json::json;
    let mut c = json!({});
    put(
        g,
        &mut c,
        "name",
        &[
            json!("app"),
            json!("side-car"),
            json!(null),
            json!("a\"b"),
            json!("é"),
            json!(5),
        ],
    );
    let images = [
        json!("ghcr.io/acme/app:1.2"),
        json!("nginx"),
        json!("nginx:latest"),
        json!("quay.io/x/y@sha256:0a"),
        json!("localhost:5000/x:1"),
        json!("library/redis"),
        json!("docker.io/acme/a:2"),
        json!(null),
        json!(""),
        json!(3),
    ];
    put(g, &mut c, "image", &images);
    let resources = [
        json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": 1, "memory": "1Gi"}}),
        json!(null),
        json!({"requests": {"cpu": "", "memory": null}}),
        json!({"limits": {}}),
        json!({"requests": "x"}),
    ];
    put(g, &mut c, "resources", &resources);
    for probe in ["readinessProbe", "livenessProbe"] {
        put(
            g,
            &mut c,
            probe,
            &[
                json!({"httpGet": {"port": 80}}),
                json!(null),
                json!(""),
                json!({}),
            ],
        );
    }
    let security = [
        json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}),
        json!(null),
        json!({"runAsNonRoot": true}),
        json!({"runAsUser": 0, "runAsNonRoot": "yes"}),
        json!({"privileged": true, "allowPrivilegeEscalation": "false"}),
        json!({"runAsNonRoot": null, "runAsUser": 7}),
        json!({"capabilities": {"add": ["NET_ADMIN", "cap_sys_admin", "chown", 3]}}),
        json!({"capabilities": {"add": "ALL"}}),
        json!("odd"),
    ];
    put(g, &mut c, "securityContext", &security);
    let names = [
        json!("LOG_LEVEL"),
        json!("DB_PASSWORD"),
        json!("TOKEN_FILE"),
        json!("my.access_key.v2"),
        json!(null),
        json!(""),
        json!(7),
    ];
    let values = [
        json!("info"),
        json!(null),
        json!(""),
        json!("AKIAABCDEFGHIJKLMNOP"),
        json!("https://u:pw@db.example/x"),
        json!("-----BEGIN RSA PRIVATE KEY-----"),
        json!("xoxb-1234567890-abcdef"),
        json!(3),
    ];
    let env: Vec<serde_json::Value> = (0..g.next() % 4)
        .map(|_| {
            let mut e = json!({});
            put(g, &mut e, "name", &names);
            put(g, &mut e, "value", &values);
            e
        })
        .collect();
    if !env.is_empty() {
        c["env"] = json!(env);
    }
    c
}

fn pod_spec(g: &mut Gen) -> serde_json::Value {
    use serde_json::json;
    let mut spec = json!({});
    let security = [
        json!(null),
        json!({"runAsNonRoot": true}),
        json!({"runAsUser": 1000}),
        json!({"runAsNonRoot": false, "runAsUser": 5}),
        json!({"runAsUser": 0}),
    ];
    put(g, &mut spec, "securityContext", &security);
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if g.chance(10) {
            spec[host] = g.pick(&[json!(true), json!(false), json!("true")]);
        }
    }
    let volumes = [
        json!(null),
        json!([{"name": "tmp", "emptyDir": {}}]),
        json!([{"name": "root", "hostPath": {"path": "/"}}]),
        json!([{"hostPath": ""}, "odd", {"hostPath": {}}]),
        json!([{"name": 3, "hostPath": {}}]),
    ];
    put(g, &mut spec, "volumes", &volumes);
    put(
        g,
        &mut spec,
        "restartPolicy",
        &[json!(null), json!("Always"), json!("Never"), json!(null)],
    );
    spec["containers"] = json!((0..1 + g.next() % 3).map(|_| container(g)).collect::<Vec<_>>());
    if g.chance(25) {
        spec["initContainers"] = json!((0..1 + g.next() % 2).map(|_| container(g)).collect::<Vec<_>>());
    }
    spec
}

fn metadata(g: &mut Gen, i: usize) -> serde_json::Value {
    use serde_json::json;
    let mut m = json!({"name": format!("r-{i}")});
    put(
        g,
        &mut m,
        "namespace",
        &[
            json!("shop"),
            json!(null),
            json!("kube-system"),
            json!(""),
            json!(3),
        ],
    );
    let labels = [
        json!({"team": "t"}),
        json!(null),
        json!({"team": ""}),
        json!({"app": "web", "team": "t"}),
        json!("odd"),
    ];
    put(g, &mut m, "labels", &labels);
    if g.chance(5) {
        m["annotations"] =
            json!({"gitintent.io/waive": "run-as-non-root", "gitintent.io/waive-reason": "test"});
    }
    m
}

/// One resource of a random kind, shapes mostly usual and sometimes odd.
fn resource(g: &mut Gen, i: usize) -> serde_json::Value {
    use serde_json::json;
    let kinds = [
        "Deployment",
        "Service",
        "ConfigMap",
        "StatefulSet",
        "Ingress",
        "Pod",
        "CronJob",
        "PodDisruptionBudget",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "Namespace",
    ];
    let kind = kinds[(g.next() % kinds.len() as u64) as usize];
    let mut doc = json!({"apiVersion": "v1", "kind": kind, "metadata": metadata(g, i)});
    let template_labels = [
        json!({"app": "web"}),
        json!({"app": "web", "tier": "front"}),
        json!(null),
        json!({}),
        json!({"app": 1}),
    ];
    doc["spec"] = match kind {
        "Pod" => pod_spec(g),
        "CronJob" => json!({"jobTemplate": {"spec": {"template": {"spec": pod_spec(g)}}}}),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            let mut spec = json!({"template": {"metadata": {}, "spec": pod_spec(g)}});
            put(g, &mut spec["template"]["metadata"], "labels", &template_labels);
            let replicas = [json!(3), json!(1), json!(null), json!(2), json!(0), json!(2.5), json!(-1), json!("2")];
            put(g, &mut spec, "replicas", &replicas);
            spec
        }
        "Ingress" => g.pick(&[
            json!({"tls": [{"hosts": ["a.example"]}], "rules": [{"host": "a.example"}, {"host": "b.example"}, {}]}),
            json!({"rules": [{"host": "a.example"}]}),
            json!({"tls": [], "rules": []}),
            json!({"tls": [{"hosts": ["a.example"]}, "x", {"hosts": [1]}], "rules": [{"host": "a.example"}]}),
            json!({"tls": null}),
        ]),
        "PodDisruptionBudget" => {
            let selectors = [
                json!({"matchLabels": {"app": "web"}}),
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}),
                json!({"matchExpressions": [{"key": "tier", "operator": "NotIn"}]}),
                json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "Exists"}]}),
                json!({}),
                json!({"matchExpressions": [{"key": "team", "operator": "DoesNotExist", "values": []}]}),
            ];
            json!({"selector": g.pick(&selectors)})
        }
        _ => json!({"ports": [{"port": 80}]}),
    };
    if kind == "ConfigMap" {
        doc.as_object_mut().unwrap().remove("spec");
        let data = [
            json!({"greeting": "hello"}),
            json!({"db_password": "x", "url": "https://u:pw@h/"}),
            json!(null),
            json!({"key": "", "api-key-path": "/k", "n": 1, "a/b": "AKIAABCDEFGHIJKLMNOP"}),
            json!(["odd"]),
        ];
        put(g, &mut doc, "data", &data);
    }
    doc
}

fn agree(docs: &[(Option<&str>, &serde_json::Value)], settings: &Settings, what: &str) {
    let native = PolicySet::builtin().unwrap().check_documents(docs, settings);
    let interpreted = PolicySet::builtin()
        .unwrap()
        .interpreted()
        .check_documents(docs, settings);
    same(&native, &interpreted, what);
}

/// The first differing finding, rather than two pages of them.
fn same(native: &[gitintent::Finding], interpreted: &[gitintent::Finding], what: &str) {
    let (a, b) = (render(native), render(interpreted));
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        assert_eq!(x, y, "{what}: finding {i} differs (native left, Rego right)");
    }
    assert_eq!(
        a.lines().count(),
        b.lines().count(),
        "{what}: not as many findings"
    );
    assert_eq!(native, interpreted, "{what}");
}

fn settings_variants() -> [Settings; 3] {
    [
        Settings::default(),
        Settings {
            environment: "production".into(),
            required_labels: vec!["team".into(), "a/b~c".into()],
            allowed_registries: vec!["ghcr.io/acme/".into(), "docker.io".into()],
            ..Settings::default()
        },
        Settings {
            environment: "prod".into(),
            allowed_registries: vec!["localhost:5000".into()],
            ..Settings::default()
        },
    ]
}

#[test]
fn native_and_rego_packs_agree_on_generated_manifests() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let (mut total, mut fallbacks) = (0, 0);
    for batch in 0..6 {
        let docs: Vec<serde_json::Value> = (0..70).map(|i| resource(&mut g, i)).collect();
        let refs: Vec<(Option<&str>, &serde_json::Value)> =
            docs.iter().map(|d| (Some("gen.yaml"), d)).collect();
        let settings = &settings_variants()[batch % 3];
        agree(&refs, settings, &format!("batch {batch}"));
        let plain: Vec<&serde_json::Value> = docs.iter().collect();
        total += docs.len();
        fallbacks += gitintent::policy::native_fallbacks(&plain, settings);
    }
    // Odd shapes go to Rego; the usual ones must be answered natively.
    assert!(
        fallbacks > 0 && fallbacks * 2 < total,
        "{fallbacks} of {total} fell back"
    );
}

#[test]
fn native_and_rego_packs_agree_on_real_manifests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut files: Vec<File> = paths
        .iter()
        .map(|p| File {
            path: p.strip_prefix(&root).unwrap().display().to_string(),
            content: std::fs::read_to_string(p).unwrap(),
        })
        .collect();
    files.push(File {
        path: "apps.yaml".into(),
        content: format!("{}{ODD_ONES}", apps(40)),
    });
    assert!(files.len() > 600, "{} files", files.len());
    // Production settings turn every rule on (the generated test covers the others).
    for settings in settings_variants().into_iter().skip(1).take(1) {
        let native = PolicySet::builtin().unwrap().check(&files, &settings);
        let interpreted = PolicySet::builtin()
            .unwrap()
            .interpreted()
            .check(&files, &settings);
        same(&native, &interpreted, &format!("{settings:?}"));
        assert!(native.len() > 1000, "{}", native.len());
    }
}
