//! The synthetic workload file the repository benches write (`index`,
//! `reach`): a Deployment with its Service, ServiceAccount, ConfigMap and
//! PodDisruptionBudget, five documents.

/// Part `part` of `app`, with `env` in its arguments.
pub(crate) fn deployment(app: &str, part: usize, env: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}-{part}
  namespace: {app}
  labels:
    app.kubernetes.io/name: {app}-{part}
    app.kubernetes.io/part-of: {app}
    team: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}-{part}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}-{part}
    spec:
      serviceAccountName: {app}-{part}
      securityContext:
        runAsNonRoot: true
      containers:
        - name: app
          image: registry.example.com/shop/{app}:1.{part}.0
          args: ["--port=8080", "--env={env}"]
          ports:
            - containerPort: 8080
              name: http
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{memory: 256Mi}}
          readinessProbe:
            httpGet: {{path: /ready, port: http}}
---
apiVersion: v1
kind: Service
metadata:
  name: {app}-{part}
  namespace: {app}
  labels:
    app.kubernetes.io/name: {app}-{part}
spec:
  selector:
    app.kubernetes.io/name: {app}-{part}
  ports:
    - port: 80
      targetPort: http
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}-{part}
  namespace: {app}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-{part}-config
  namespace: {app}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "a,b,c"
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}-{part}
  namespace: {app}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}-{part}
"#
    )
}
