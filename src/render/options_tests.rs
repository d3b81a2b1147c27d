//! The options issue 16 added, rendered: strictly valid, as snapshotted, and
//! with a finding wherever a secure default is loosened.

use super::*;
use crate::finding::Severity;
use crate::spec::*;

fn everything() -> PodOptions {
    PodOptions {
        command: vec!["python".into(), "manage.py".into()],
        args: vec!["migrate".into()],
        image_pull_policy: Some(PullPolicy::Always),
        node_selector: vec![KeyValue {
            key: "gpu".into(),
            value: "true".into(),
        }],
        node_affinity: vec![NodeRequirement {
            key: "topology.kubernetes.io/zone".into(),
            operator: SelectorOperator::In,
            values: vec!["eu-west-1a".into()],
        }],
        tolerations: vec![Toleration {
            key: Some("dedicated".into()),
            operator: TolerationOperator::Equal,
            value: Some("batch".into()),
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: Some(60),
        }],
        priority_class_name: Some("high".into()),
        pod_affinity: vec![],
        topology_spread: vec![],
        volumes: two_volumes(),
        config_map_refs: vec![ConfigMapRef {
            env: "LEVEL".into(),
            config_map: "app-config".into(),
            key: "level".into(),
        }],
        env_from: vec![EnvFrom {
            source: EnvFromSource::Secret,
            name: "app-env".into(),
        }],
        host_aliases: vec![HostAlias {
            ip: "10.0.0.5".into(),
            hostnames: vec!["db.internal".into()],
        }],
        dns_policy: Some(DnsPolicy::None),
        dns_nameservers: vec!["1.1.1.1".into()],
        dns_searches: vec!["svc.cluster.local".into()],
        termination_grace_period_seconds: Some(45),
        post_start: vec![],
        pre_stop: vec!["sleep".into(), "5".into()],
    }
}

/// A read-only ConfigMap file and a scratch directory.
fn two_volumes() -> Vec<Volume> {
    vec![
        Volume {
            name: "config".into(),
            source: VolumeSource::ConfigMap,
            from: Some("app-config".into()),
            mount_path: "/etc/app".into(),
            sub_path: Some("app.yaml".into()),
            read_only: true,
        },
        Volume {
            name: "cache".into(),
            source: VolumeSource::EmptyDir,
            from: None,
            mount_path: "/cache".into(),
            sub_path: None,
            read_only: false,
        },
    ]
}

fn render_spec(spec: &Spec) -> Rendered {
    let mut spec = spec.clone();
    spec.normalize().unwrap();
    render(&spec, &Layout::default(), &BTreeMap::new()).unwrap()
}

/// A cron job with every pod, batch and RBAC option set.
fn cron_with_every_option() -> Spec {
    Spec::test(Archetype::CronJob).with(|c| {
        c.image = Some("acme/shop:2.1".into());
        c.schedule = Some("0 3 * * *".into());
        c.pod = Some(everything());
        c.batch = Some(BatchOptions {
            restart_policy: Some(RestartPolicy::Never),
            completions: Some(3),
            parallelism: Some(2),
            backoff_limit: Some(4),
            active_deadline_seconds: Some(600),
            ttl_seconds_after_finished: Some(100),
            concurrency_policy: Some(ConcurrencyPolicy::Replace),
            starting_deadline_seconds: Some(30),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(5),
            time_zone: Some("Europe/Paris".into()),
            suspend: true,
        });
        c.rbac = Some(Rbac {
            cluster_wide: false,
            rules: vec![RbacRule {
                api_groups: vec!["".into()],
                resources: vec!["pods".into()],
                verbs: vec![Verb::Get, Verb::List],
                resource_names: vec![],
            }],
        });
    })
}

/// A web service with a node port Service and a fixed cluster IP.
fn web_with_node_port() -> Spec {
    Spec::test(Archetype::WebService).with(|c| {
        c.image = Some("acme/web:1.4".into());
        c.ports = vec![Port {
            name: "http".into(),
            port: 8080,
        }];
        c.service = Some(ServiceOptions {
            kind: ServiceType::NodePort,
            ports: vec![ServicePort {
                name: "web".into(),
                port: 80,
                target_port: Some("8080".into()),
                node_port: Some(30080),
                protocol: Protocol::Tcp,
            }],
            cluster_ip: Some("10.96.0.50".into()),
            selector: vec![],
            external_name: None,
        });
    })
}

#[test]
fn every_option_renders_strictly_valid_and_as_snapshotted() {
    let (cron, web) = (cron_with_every_option(), web_with_node_port());
    let mut text = String::new();
    for spec in [&cron, &web] {
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
fn loosened_defaults_give_findings() {
    let web = Spec::test(Archetype::WebService).with(|c| {
        c.image = Some("acme/web:1.4".into());
        c.ports = vec![Port {
            name: "http".into(),
            port: 8080,
        }];
        c.service = Some(ServiceOptions {
            kind: ServiceType::LoadBalancer,
            ports: vec![],
            cluster_ip: None,
            selector: vec![],
            external_name: None,
        });
        c.rbac = Some(Rbac {
            cluster_wide: true,
            rules: vec![RbacRule {
                api_groups: vec!["apps".into()],
                resources: vec!["deployments".into()],
                verbs: vec![Verb::Get],
                resource_names: vec![],
            }],
        });
    });
    let rendered = render_spec(&web);
    let rules: Vec<(&str, Severity)> = rendered
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity))
        .collect();
    assert!(
        rules.contains(&("service-exposed", Severity::Warning)),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("serviceaccount-token-mounted", Severity::Warning)),
        "{rules:?}"
    );
    let sa = rendered
        .files
        .iter()
        .find(|f| f.path.ends_with("serviceaccount.yaml"))
        .unwrap();
    assert!(sa.content.contains("automountServiceAccountToken: true"));
    let rbac = rendered
        .files
        .iter()
        .find(|f| f.path.ends_with("rbac.yaml"))
        .unwrap();
    assert!(
        rbac.content.contains("kind: ClusterRoleBinding"),
        "{}",
        rbac.content
    );
}
