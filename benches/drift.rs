//! Drift: read, compare and adopt for a 2,000-resource environment.
//!
//! Run with `cargo bench --bench drift`. Input: a repository with 500 apps ×
//! (Deployment, Service, ConfigMap, HorizontalPodAutoscaler) in 10
//! namespaces, commented block YAML; live objects carry server-set fields,
//! and one Deployment in ten drifted (replicas and image). The cluster side
//! (HTTP) is not measured here. Targets: `compare_2000` under 50 ms,
//! `collect_2000` and `adopt_2000` under 500 ms. Figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gitintent::drift::{self, Declared, Mode};
use serde_json::{json, Value};

fn write_repo(root: &std::path::Path) {
    std::fs::write(root.join(".gitintent.yaml"), "environments: [production]\n").unwrap();
    for i in 0..500 {
        let dir = root.join(format!("clusters/production/apps/app-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("kustomization.yaml"),
            format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ns-{}\nresources: [app.yaml]\n", i % 10),
        )
        .unwrap();
        std::fs::write(
            dir.join("app.yaml"),
            format!(
                r#"# app-{i}: owned by team t
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels:
    app: app-{i}
    app.kubernetes.io/managed-by: gitintent
spec:
  replicas: 3 # sized for peak
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
        - name: app
          image: registry.acme.io/app-{i}:1.0.0
          envFrom:
            - configMapRef:
                name: app-{i}
          ports:
            - name: http
              containerPort: 8080
          resources:
            requests: {{cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector:
    app: app-{i}
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}
data:
  LOG_LEVEL: info
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: app-{i}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: app-{i}}}
  minReplicas: 3
  maxReplicas: 10
"#
            ),
        )
        .unwrap();
    }
}

fn live(declared: &[Declared]) -> Vec<Option<Value>> {
    declared
        .iter()
        .enumerate()
        .map(|(n, d)| {
            let mut v = d.resource.clone();
            v["metadata"]["namespace"] = d.namespace.clone().into();
            v["metadata"]["uid"] = format!("uid-{n}").into();
            v["metadata"]["resourceVersion"] = "1".into();
            v["metadata"]["managedFields"] = json!([{"manager": "kustomize-controller"}]);
            v["status"] = json!({"observedGeneration": 1});
            if d.kind() == "Deployment" {
                v["spec"]["progressDeadlineSeconds"] = 600.into();
                v["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent".into();
                if n % 40 == 0 {
                    v["spec"]["replicas"] = 5.into();
                    v["spec"]["template"]["spec"]["containers"][0]["image"] =
                        "registry.acme.io/hotfix:1.0.1".into();
                }
            }
            Some(v)
        })
        .collect()
}

fn commit_all(dir: &std::path::Path) {
    let repo =
        git2::Repository::init_opts(dir, git2::RepositoryInitOptions::new().initial_head("main")).unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("bench", "bench@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "bench", &tree, &[])
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_repo(dir.path());
    let source = drift::Source::open(dir.path(), None).unwrap();
    let declared = drift::collect(&source, "production").unwrap();
    assert_eq!(declared.len(), 2000);
    let live = live(&declared);
    let report = drift::compare_objects("production", &declared, live.clone());
    assert_eq!(report.summary.drifted, 50);

    let mut group = c.benchmark_group("drift");
    group.sample_size(10);
    group.bench_function("collect_2000", |b| {
        b.iter(|| drift::collect(&source, "production").unwrap())
    });
    // The same files committed: read from git objects at `main`.
    let git = tempfile::tempdir().unwrap();
    write_repo(git.path());
    commit_all(git.path());
    group.bench_function("collect_2000_git", |b| {
        b.iter(|| {
            let source = drift::Source::open(git.path(), None).unwrap();
            drift::collect(&source, "production").unwrap()
        })
    });
    group.bench_function("compare_2000", |b| {
        b.iter_batched(
            || live.clone(),
            |live| drift::compare_objects("production", &declared, live),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("adopt_2000", |b| {
        b.iter(|| drift::propose(&source, &report, Mode::Adopt).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
