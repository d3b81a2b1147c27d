use super::*;
use crate::spec::{ServiceType, VolumeSource};

fn docs(text: &str) -> Vec<Source> {
    read::parse("m.yaml", text).unwrap()
}

const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {gpu: "true"}
      tolerations: [{key: dedicated, operator: Equal, value: batch, effect: NoSchedule}]
      containers:
        - name: main
          image: acme/web:1.2
          command: [python, manage.py]
          args: [runserver]
          ports: [{containerPort: 8080, name: http}]
          env: [{name: MODE, value: fast}, {name: LEVEL, valueFrom: {configMapKeyRef: {name: app-config, key: level}}}]
          resources: {requests: {cpu: 100m, memory: 64Mi}}
          volumeMounts: [{name: config, mountPath: /etc/app, readOnly: true}]
          securityContext: {privileged: true}
      volumes: [{name: config, configMap: {name: app-config}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {level: debug}
"#;

#[test]
fn a_deployment_with_its_service_lifts_and_every_loss_is_listed() {
    let lifted = lift(&docs(APP), "production");
    assert_eq!(lifted.spec.namespace, "shop");
    let c = &lifted.spec.components[0];
    assert_eq!((c.name.as_str(), c.replicas), ("web", Some(3)));
    let pod = c.pod.as_ref().unwrap();
    assert_eq!(pod.command, ["python", "manage.py"]);
    assert_eq!(pod.node_selector[0].key, "gpu");
    assert_eq!(pod.tolerations.len(), 1);
    assert_eq!(pod.volumes[0].source, VolumeSource::ConfigMap);
    assert_eq!(pod.config_map_refs[0].config_map, "app-config");
    let svc = c.service.as_ref().unwrap();
    assert_eq!(svc.kind, ServiceType::NodePort);
    assert_eq!(svc.ports[0].node_port, Some(30080));
    let paths: Vec<(&str, &str)> = lifted
        .unsupported
        .iter()
        .map(|u| (u.resource.as_str(), u.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [(
            "Deployment/web",
            "/spec/template/spec/containers/0/securityContext"
        )]
    );
    let config = &c.objects.as_ref().unwrap().config_maps[0];
    assert_eq!(
        (config.name.as_str(), config.data[0].key.as_str()),
        ("app-config", "level")
    );
    let cov = coverage(&lifted);
    assert!(cov.unlisted().is_empty(), "{:#?}", cov.unlisted());
    let covered: Vec<(&str, bool)> = cov
        .resources
        .iter()
        .map(|r| (r.resource.as_str(), r.covered))
        .collect();
    assert_eq!(
        covered,
        [
            ("Deployment/web", false),
            ("Service/web", true),
            ("ConfigMap/app-config", true)
        ]
    );
}

#[test]
fn a_lifted_spec_passes_the_model_checker_after_serialising() {
    let lifted = lift(&docs(APP), "production");
    let json = serde_json::to_string(&lifted.spec).unwrap();
    let back = Spec::from_untrusted_json(&json).unwrap();
    assert_eq!(back, lifted.spec);
}

#[test]
fn a_generic_statefulset_is_unsupported_as_a_whole_and_a_bare_pod_is_a_pod() {
    let text = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: thing}
spec:
  selector: {matchLabels: {app: thing}}
  template:
    metadata: {labels: {app: thing}}
    spec: {containers: [{name: c, image: acme/thing:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: p}}
spec:
  restartPolicy: Never
  containers: [{name: c, image: "busybox:1.36", command: [sleep, "3600"]}]
"#;
    let lifted = lift(&docs(text), "dev");
    assert_eq!(lifted.unsupported.len(), 1);
    assert_eq!(
        (
            lifted.unsupported[0].resource.as_str(),
            lifted.unsupported[0].path.as_str()
        ),
        ("StatefulSet/thing", "")
    );
    let pod = &lifted.spec.components[0];
    let w = pod.workload.as_ref().unwrap();
    assert_eq!(w.kind, Some(crate::spec::KindChoice::Pod));
    assert_eq!(w.restart_policy, Some(crate::spec::PodRestartPolicy::Never));
    let cov = coverage(&lifted);
    assert_eq!(cov.covered(), 1, "{cov:#?}");
    assert!(cov.unlisted().is_empty());
}

#[test]
fn a_service_over_pods_of_no_lifted_workload_is_a_component_without_one() {
    let text = r#"
apiVersion: v1
kind: Service
metadata: {name: redis-master}
spec:
  selector: {app: redis, role: master}
  ports: [{port: 6379, targetPort: 6379}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {type: ExternalName, externalName: db.example.com}
"#;
    let lifted = lift(&docs(text), "dev");
    assert!(lifted.unsupported.is_empty(), "{:#?}", lifted.unsupported);
    let svc = lifted.spec.components[0].service.as_ref().unwrap();
    assert_eq!(svc.selector.len(), 2);
    assert!(lifted.spec.components.iter().all(|c| c.has_no_workload()));
    let external = lifted.spec.components[1].service.as_ref().unwrap();
    assert_eq!(external.external_name.as_deref(), Some("db.example.com"));
    let cov = coverage(&lifted);
    assert_eq!(cov.covered(), 2, "{cov:#?}");
}

#[test]
fn probes_rollout_and_anti_affinity_round_trip() {
    let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend}
spec:
  minReadySeconds: 3
  progressDeadlineSeconds: 60
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: "50%"}}
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {labelSelector: {matchLabels: {app: backend}}, topologyKey: kubernetes.io/hostname}
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: backend}}}
      containers:
        - name: backend
          image: acme/backend:1.0
          ports: [{name: http, containerPort: 9898}]
          livenessProbe: {exec: {command: [podcli, check]}, initialDelaySeconds: 5, timeoutSeconds: 5}
          readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 3}
"#;
    let lifted = lift(&docs(text), "dev");
    assert!(lifted.unsupported.is_empty(), "{:#?}", lifted.unsupported);
    let c = &lifted.spec.components[0];
    let w = c.workload.as_ref().unwrap();
    assert_eq!(w.max_surge.as_deref(), Some("50%"));
    assert_eq!(w.max_unavailable.as_deref(), Some("0"));
    let probes = c.probes.as_ref().unwrap();
    assert_eq!(probes.liveness.as_ref().unwrap().command, ["podcli", "check"]);
    assert_eq!(probes.readiness.as_ref().unwrap().port.as_deref(), Some("http"));
    let pod = c.pod.as_ref().unwrap();
    assert!(pod.pod_affinity[0].match_labels.is_empty(), "own pods");
    let cov = coverage(&lifted);
    assert_eq!(cov.covered(), 1, "{cov:#?}");
}
