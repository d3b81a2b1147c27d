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
        [
            (
                "Deployment/web",
                "/spec/template/spec/containers/0/securityContext"
            ),
            ("ConfigMap/app-config", ""),
        ]
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
            ("ConfigMap/app-config", false)
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
fn a_generic_statefulset_and_a_bare_pod_are_unsupported_as_a_whole() {
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
metadata: {name: p}
spec: {containers: [{name: c, image: busybox:1.36}]}
"#;
    let lifted = lift(&docs(text), "dev");
    assert!(lifted.spec.components.is_empty());
    assert_eq!(lifted.unsupported.len(), 2);
    assert!(lifted.unsupported.iter().all(|u| u.path.is_empty()));
    let cov = coverage(&lifted);
    assert_eq!(cov.covered(), 0);
    assert!(cov.unlisted().is_empty());
}
