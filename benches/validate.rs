//! Throughput of strict validation over one multi-document file of 2,000
//! resources: 1,000 Deployments and 1,000 Services, as a GitOps repo holds them.
//!
//! Run with `cargo bench --bench validate`; figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gitintent::manifest::File;
use gitintent::validate::{self, Options, Status};

const PAIRS: usize = 1000;

fn deployment(i: usize) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{team}
  labels:
    app.kubernetes.io/name: app-{i}
    app.kubernetes.io/part-of: shop
  annotations:
    gitintent.dev/intent: "deploy app-{i} with 3 replicas"
spec:
  replicas: 3
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{i}
    spec:
      serviceAccountName: app-{i}
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: app
        image: registry.example.com/shop/app-{i}:1.{i}.0
        imagePullPolicy: IfNotPresent
        args: ["--port=8080", "--log-format=json"]
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        env:
        - name: RUST_LOG
          value: info
        - name: DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: app-{i}-db
              key: url
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            cpu: "1"
            memory: 512Mi
        readinessProbe:
          httpGet:
            path: /readyz
            port: http
          periodSeconds: 10
        livenessProbe:
          httpGet:
            path: /healthz
            port: 8080
          initialDelaySeconds: 5
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: ["ALL"]
        volumeMounts:
        - name: tmp
          mountPath: /tmp
      volumes:
      - name: tmp
        emptyDir: {{}}
"#,
        team = i % 7
    )
}

fn service(i: usize) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: team-{team}
  labels:
    app.kubernetes.io/name: app-{i}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: app-{i}
  ports:
  - name: http
    port: 80
    targetPort: http
    protocol: TCP
"#,
        team = i % 7
    )
}

/// The 2,000-resource stream the figures in BENCHMARKS.md are for.
fn stream() -> File {
    let docs: Vec<String> = (0..PAIRS).flat_map(|i| [deployment(i), service(i)]).collect();
    File {
        path: "bench.yaml".into(),
        content: docs.join("---\n"),
    }
}

fn bench(c: &mut Criterion) {
    let files = [stream()];
    let options = Options::default();
    // Sanity: the stream is what it claims to be, and all valid.
    let report = validate::validate(&files, &options);
    assert_eq!(report.resources.len(), 2 * PAIRS);
    if let Some(bad) = report.resources.iter().find(|r| r.status != Status::Valid) {
        panic!("bench input is not valid: {bad}");
    }

    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements((2 * PAIRS) as u64));
    group.sample_size(30);
    group.bench_function("2000 resources (1000 Deployments + 1000 Services)", |b| {
        b.iter(|| validate::validate(&files, &options))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
