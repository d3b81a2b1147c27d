//! The kinds and objects issue 16's second part added, rendered: a bare
//! Pod, a ReplicaSet, a ReplicationController, a Service over existing
//! pods, an ExternalName Service, ConfigMaps, PersistentVolumes and
//! StorageClasses, full probes, rollout and pod (anti-)affinity. Strictly
//! valid, as snapshotted, and with a finding where a default is loosened.

use super::*;
use crate::finding::Severity;
use crate::spec::*;

fn render_spec(spec: &Spec) -> Rendered {
    let mut spec = spec.clone();
    spec.normalize().unwrap();
    render(&spec, &Layout::default(), &BTreeMap::new()).unwrap()
}

fn kind(k: KindChoice) -> Option<WorkloadOptions> {
    Some(WorkloadOptions {
        kind: Some(k),
        ..Default::default()
    })
}

fn probe(action: ProbeAction) -> ProbeSpec {
    ProbeSpec {
        action,
        path: None,
        port: None,
        command: vec![],
        initial_delay_seconds: None,
        period_seconds: None,
        timeout_seconds: None,
        failure_threshold: None,
        success_threshold: None,
    }
}

fn pod() -> Spec {
    Spec::test(Archetype::WebService).with(|c| {
        c.name = "probe".into();
        c.image = Some("acme/web:1.4".into());
        c.workload = Some(WorkloadOptions {
            kind: Some(KindChoice::Pod),
            restart_policy: Some(PodRestartPolicy::Never),
            ..Default::default()
        });
        c.probes = Some(Probes {
            readiness: Some(ProbeSpec {
                path: Some("/ready".into()),
                port: Some("http".into()),
                period_seconds: Some(3),
                ..probe(ProbeAction::Http)
            }),
            liveness: Some(ProbeSpec {
                command: vec!["cat".into(), "/tmp/healthy".into()],
                initial_delay_seconds: Some(0),
                timeout_seconds: Some(5),
                ..probe(ProbeAction::Exec)
            }),
            startup: Some(probe(ProbeAction::Tcp)),
        });
    })
}

fn deployment() -> Spec {
    Spec::test(Archetype::WebService).with(|c| {
        c.name = "backend".into();
        c.image = Some("acme/backend:2.0".into());
        c.replicas = Some(3);
        c.workload = Some(WorkloadOptions {
            max_surge: Some("50%".into()),
            max_unavailable: Some("0".into()),
            min_ready_seconds: Some(3),
            progress_deadline_seconds: Some(60),
            revision_history_limit: Some(2),
            ..Default::default()
        });
        c.pod = Some(PodOptions {
            pod_affinity: vec![
                PodAffinityTerm {
                    relation: PodRelation::AntiAffinity,
                    required: true,
                    weight: None,
                    topology_key: "kubernetes.io/hostname".into(),
                    match_labels: vec![],
                    match_expressions: vec![],
                },
                PodAffinityTerm {
                    relation: PodRelation::Affinity,
                    required: false,
                    weight: Some(50),
                    topology_key: "topology.kubernetes.io/zone".into(),
                    match_labels: vec![KeyValue {
                        key: "app".into(),
                        value: "cache".into(),
                    }],
                    match_expressions: vec![],
                },
            ],
            topology_spread: vec![TopologySpread {
                max_skew: 1,
                topology_key: "topology.kubernetes.io/zone".into(),
                when_unsatisfiable: Unsatisfiable::ScheduleAnyway,
                match_labels: vec![],
            }],
            ..Default::default()
        });
    })
}

fn objects() -> Spec {
    Spec::test(Archetype::WebService).with(|c| {
        c.name = "redis-master".into();
        c.workload = kind(KindChoice::None);
        c.service = Some(ServiceOptions {
            kind: ServiceType::ClusterIp,
            ports: vec![ServicePort {
                name: "redis".into(),
                port: 6379,
                target_port: Some("6379".into()),
                node_port: None,
                protocol: Protocol::Tcp,
            }],
            cluster_ip: None,
            selector: vec![KeyValue {
                key: "app".into(),
                value: "redis".into(),
            }],
            external_name: None,
        });
        c.objects = Some(Objects {
            config_maps: vec![ConfigMapObject {
                name: "game-config".into(),
                data: vec![ConfigEntry {
                    key: "game.properties".into(),
                    value: "enemies=aliens\nlives=3\n".into(),
                }],
            }],
            persistent_volumes: vec![PersistentVolume {
                name: "pv0001".into(),
                capacity: "5Gi".into(),
                access_modes: vec![AccessMode::ReadWriteOnce],
                reclaim_policy: Some(ReclaimPolicy::Recycle),
                storage_class: Some("slow".into()),
                volume_mode: None,
                source: PvSource::Nfs,
                server: Some("nfs.example.com".into()),
                path: Some("/exports/pv0001".into()),
                driver: None,
                volume_handle: None,
                node_affinity: vec![],
            }],
            storage_classes: vec![StorageClass {
                name: "slow".into(),
                provisioner: "kubernetes.io/no-provisioner".into(),
                parameters: vec![],
                reclaim_policy: Some(ReclaimPolicy::Retain),
                volume_binding_mode: Some(BindingMode::WaitForFirstConsumer),
                allow_volume_expansion: Some(true),
            }],
        });
    })
}

fn replicated(k: KindChoice, name: &str) -> Spec {
    Spec::test(Archetype::Worker).with(|c| {
        c.name = name.into();
        c.image = Some("acme/worker:1.0".into());
        c.replicas = Some(2);
        c.workload = kind(k);
    })
}

fn external() -> Spec {
    Spec::test(Archetype::WebService).with(|c| {
        c.name = "db".into();
        c.workload = kind(KindChoice::None);
        c.service = Some(ServiceOptions {
            kind: ServiceType::ExternalName,
            ports: vec![],
            cluster_ip: None,
            selector: vec![],
            external_name: Some("db.example.com".into()),
        });
    })
}

#[test]
fn new_kinds_and_objects_render_strictly_valid_and_as_snapshotted() {
    let mut text = String::new();
    let specs = [
        pod(),
        deployment(),
        objects(),
        replicated(KindChoice::ReplicaSet, "rs"),
        replicated(KindChoice::ReplicationController, "rc"),
        external(),
    ];
    for spec in &specs {
        let rendered = render_spec(spec);
        let manifests: Vec<File> = rendered
            .files
            .iter()
            .filter(|f| !f.path.ends_with("kustomization.yaml"))
            .cloned()
            .collect();
        let findings = crate::validate::check(&manifests);
        assert!(findings.is_empty(), "{findings:#?}");
        text.extend(
            rendered
                .files
                .iter()
                .map(|f| format!("# {}\n{}", f.path, f.content)),
        );
    }
    insta::assert_snapshot!(text);
}

#[test]
fn a_component_without_a_workload_renders_no_workload_and_no_service_account() {
    let rendered = render_spec(&objects());
    let files: Vec<&str> = rendered
        .files
        .iter()
        .map(|f| f.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "service.yaml",
            "configmaps.yaml",
            "persistentvolumes.yaml",
            "storageclasses.yaml",
            "kustomization.yaml"
        ]
    );
    let svc = &rendered.files[0].content;
    assert!(svc.contains("app: redis") && !svc.contains("app.kubernetes.io/name: redis-master\n  ports"));
}

#[test]
fn a_bare_pod_and_a_host_path_volume_give_warnings() {
    let mut spec = objects();
    let pv = &mut spec.components[0].objects.as_mut().unwrap().persistent_volumes[0];
    pv.source = PvSource::HostPath;
    pv.server = None;
    let mut rules: Vec<(String, Severity)> = Vec::new();
    for s in [pod(), spec, replicated(KindChoice::ReplicaSet, "rs")] {
        rules.extend(render_spec(&s).findings.into_iter().map(|f| (f.rule, f.severity)));
    }
    let warned = |rule: &str| {
        rules
            .iter()
            .filter(|(r, s)| r == rule && *s == Severity::Warning)
            .count()
    };
    assert_eq!(warned("workload-without-controller"), 2, "{rules:?}");
    assert_eq!(warned("host-path-volume"), 1, "{rules:?}");
}
