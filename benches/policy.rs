//! Policy gate: the built-in pack over a 2,000-resource file.
//!
//! Run with `cargo bench --bench policy`. The target is under 200 ms for
//! `builtin/check_2000` (YAML parsing included); figures go in BENCHMARKS.md.
//! Big batches use every core; `taskset -c 0 cargo bench --bench policy`
//! gives the single-threaded figures.

use criterion::{criterion_group, criterion_main, Criterion};
use gitintent::manifest::File;
use gitintent::policy::{PolicySet, Settings};

/// 500 apps × (Deployment, Service, ConfigMap, PodDisruptionBudget).
fn manifests() -> String {
    let mut out = String::new();
    for i in 0..500 {
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
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
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
metadata: {{name: app-{i}, namespace: ns-{ns}, labels: {{app: app-{i}, team: t}}}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: app-{i}}}}}}}
"#,
            ns = i % 10,
            replicas = 1 + i % 3,
            image = if i % 7 == 0 { "nginx".to_string() } else { format!("ghcr.io/acme/app-{i}:1.{i}.0") },
        ));
    }
    out
}

fn bench(c: &mut Criterion) {
    let files = [File {
        path: "big.yaml".into(),
        content: manifests(),
    }];
    let settings = Settings {
        environment: "production".into(),
        required_labels: vec!["team".into()],
        allowed_registries: vec!["ghcr.io/acme".into()],
        ..Settings::default()
    };
    let set = PolicySet::builtin().expect("built-in pack compiles");
    let docs: Vec<serde_json::Value> = gitintent::yaml::values(&files[0].content).expect("yaml");
    let refs: Vec<(Option<&str>, &serde_json::Value)> = docs.iter().map(|d| (None, d)).collect();
    assert_eq!(refs.len(), 2000);

    let mut group = c.benchmark_group("builtin");
    group.sample_size(10);
    group.bench_function("check_2000", |b| b.iter(|| set.check(&files, &settings)));
    group.bench_function("check_documents_2000", |b| {
        b.iter(|| set.check_documents(&refs, &settings))
    });
    // A typical plan: three apps (12 resources), checked on the caller's thread.
    let plan = refs[..12].to_vec();
    group.sample_size(50);
    group.bench_function("check_documents_12", |b| {
        b.iter(|| set.check_documents(&plan, &settings))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
