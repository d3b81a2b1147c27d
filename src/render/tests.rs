use super::*;
use crate::spec::{Archetype, Autoscaling, Exposure, HighAvailability, Storage};

fn files(spec: &Spec) -> Vec<File> {
    let mut spec = spec.clone();
    spec.normalize().unwrap();
    render(&spec, &Layout::default(), &BTreeMap::new()).unwrap().files
}

fn doc(files: &[File], suffix: &str) -> serde_json::Value {
    let file = files
        .iter()
        .find(|f| f.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix}"));
    crate::yaml::values(&file.content).unwrap().remove(0)
}

#[test]
fn every_archetype_renders_to_parseable_yaml_under_the_layout() {
    for a in Archetype::ALL {
        let spec = Spec::test(a).with(|c| {
            if a.is_generic() {
                c.image = Some("acme/app:1.2.3".into());
            }
            if a == Archetype::CronJob {
                c.schedule = Some("0 2 * * *".into());
            }
        });
        for f in files(&spec) {
            assert!(
                f.path.starts_with(&format!(
                    "clusters/production/apps/{}/",
                    a.as_str().replace('_', "-")
                )),
                "{}",
                f.path
            );
            crate::yaml::values(&f.content).unwrap_or_else(|e| panic!("{}: {e}", f.path));
        }
    }
}

#[test]
fn every_archetype_passes_strict_schema_validation() {
    for a in Archetype::ALL {
        for ha in [
            None,
            Some(HighAvailability {
                pod_disruption_budget: true,
                spread: true,
                failover: true,
            }),
        ] {
            let spec = Spec::test(a).with(|c| {
                if a.is_generic() {
                    c.image = Some("acme/app:1.2.3".into());
                    c.ports = vec![crate::spec::Port {
                        name: "http".into(),
                        port: 8080,
                    }];
                }
                if a == Archetype::CronJob {
                    c.schedule = Some("*/15 * * * *".into());
                }
                c.replicas = Some(3);
                c.high_availability = ha.clone();
                c.exposure = Some(Exposure {
                    host: Some("app.example.com".into()),
                    path: None,
                    tls: true,
                });
                // Everything the spec checker allows for the archetype.
                c.autoscaling = a.autoscales().then_some(Autoscaling {
                    min_replicas: 3,
                    max_replicas: 6,
                    cpu_target_percent: 75,
                });
                c.storage = a.takes_storage().then(|| Storage {
                    size: "5Gi".into(),
                    class: Some("fast-ssd".into()),
                });
            });
            let files: Vec<File> = files(&spec)
                .into_iter()
                .filter(|f| !f.path.ends_with("kustomization.yaml"))
                .collect();
            let findings = crate::validate::check(&files);
            assert!(findings.is_empty(), "{a} (ha: {}): {findings:#?}", ha.is_some());
        }
    }
}

#[test]
fn redis_with_failover_gets_sentinel_pdb_and_spread() {
    let spec = Spec::test(Archetype::Redis).with(|c| {
        c.replicas = Some(3);
        c.storage = Some(Storage {
            size: "10Gi".into(),
            class: None,
        });
        c.high_availability = Some(HighAvailability {
            pod_disruption_budget: true,
            spread: true,
            failover: true,
        });
    });
    let files = files(&spec);
    let sts = doc(&files, "statefulset.yaml");
    assert_eq!(sts["spec"]["replicas"], 3);
    let containers = sts["spec"]["template"]["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[1]["name"], "sentinel");
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "10Gi"
    );
    assert!(sts["spec"]["template"]["spec"]["topologySpreadConstraints"].is_array());
    assert_eq!(doc(&files, "pdb.yaml")["kind"], "PodDisruptionBudget");
    let scripts = doc(&files, "configmap.yaml");
    assert!(scripts["data"]["start-sentinel.sh"]
        .as_str()
        .unwrap()
        .contains("sentinel monitor mymaster"));
    assert!(scripts["data"]["start-sentinel.sh"]
        .as_str()
        .unwrap()
        .contains(" 6379 2\n"));
}

#[test]
fn containers_get_secure_defaults() {
    let spec = Spec::test(Archetype::WebService).with(|c| c.image = Some("acme/api:1.0.0".into()));
    let files = files(&spec);
    let pod = &doc(&files, "deployment.yaml")["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert!(c["resources"]["limits"]["memory"].is_string());
    assert!(c["readinessProbe"].is_object() && c["livenessProbe"].is_object());
}

#[test]
fn exposure_and_autoscaling_render_ingress_and_hpa() {
    let spec = Spec::test(Archetype::WebService).with(|c| {
        c.image = Some("acme/api:1.0.0".into());
        c.exposure = Some(Exposure {
            host: Some("api.example.com".into()),
            path: None,
            tls: true,
        });
        c.autoscaling = Some(Autoscaling {
            min_replicas: 3,
            max_replicas: 12,
            cpu_target_percent: 70,
        });
    });
    let files = files(&spec);
    let ing = doc(&files, "ingress.yaml");
    assert_eq!(ing["spec"]["rules"][0]["host"], "api.example.com");
    assert_eq!(ing["spec"]["tls"][0]["secretName"], "web-service-tls");
    let hpa = doc(&files, "hpa.yaml");
    assert_eq!(hpa["spec"]["minReplicas"], 3);
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        70
    );
    assert!(doc(&files, "deployment.yaml")["spec"].get("replicas").is_none());
    let k = doc(&files, "kustomization.yaml");
    assert_eq!(
        k["resources"],
        serde_json::json!([
            "serviceaccount.yaml",
            "deployment.yaml",
            "service.yaml",
            "ingress.yaml",
            "hpa.yaml",
            "pdb.yaml"
        ])
    );
}

#[test]
fn hostile_values_stay_values() {
    let spec = Spec::test(Archetype::Worker).with(|c| {
        c.image = Some("acme/w:1".into());
        c.env = vec![crate::spec::EnvVar {
            name: "MOTD".into(),
            value: "x\n  privileged: true\n\"}".into(),
        }];
    });
    let files = files(&spec);
    let c = &doc(&files, "deployment.yaml")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["env"][0]["value"], "x\n  privileged: true\n\"}");
    assert!(c.get("privileged").is_none() && c["securityContext"].get("privileged").is_none());
}

#[test]
fn redis_with_failover_renders_as_snapshotted() {
    let spec = Spec::test(Archetype::Redis).with(|c| {
        c.replicas = Some(3);
        c.high_availability = Some(HighAvailability {
            pod_disruption_budget: true,
            spread: true,
            failover: true,
        });
    });
    let text: String = files(&spec)
        .iter()
        .map(|f| format!("# {}\n{}", f.path, f.content))
        .collect();
    insta::assert_snapshot!(text);
}

#[test]
fn operator_resources_render_as_snapshotted_and_pass_the_gate() {
    let operators: Vec<String> = stores::OPERATORS.iter().map(|o| o.group.to_string()).collect();
    let mut text = String::new();
    for a in [
        Archetype::Postgres,
        Archetype::Kafka,
        Archetype::Rabbitmq,
        Archetype::Elasticsearch,
    ] {
        let mut spec = Spec::test(a).with(|c| c.replicas = Some(3));
        spec.normalize().unwrap();
        let out = render_with(&spec, &Layout::default(), &BTreeMap::new(), &operators).unwrap();
        assert!(
            out.files.iter().all(|f| !f.path.ends_with("statefulset.yaml")),
            "{a}"
        );
        assert!(out.findings.iter().any(|f| f.rule == "store-operator"), "{a}");
        let manifests: Vec<File> = out
            .files
            .iter()
            .filter(|f| !f.path.ends_with("kustomization.yaml"))
            .cloned()
            .collect();
        let gate =
            crate::pipeline::check_files(&manifests, &crate::pipeline::Context::default(), "production");
        assert!(gate.iter().all(|f| !f.is_error()), "{a}: {gate:?}");
        text.extend(out.files.iter().map(|f| format!("# {}\n{}", f.path, f.content)));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn a_zookeeper_ensemble_renders_as_snapshotted() {
    let spec = Spec::test(Archetype::Zookeeper).with(|c| c.replicas = Some(3));
    let text: String = files(&spec)
        .iter()
        .map(|f| format!("# {}\n{}", f.path, f.content))
        .collect();
    insta::assert_snapshot!(text);
}

#[test]
fn a_job_has_no_ttl_so_a_gitops_controller_does_not_run_it_again() {
    let spec = Spec::test(Archetype::Job).with(|c| c.image = Some("acme/migrate:1.0".into()));
    let job = doc(&files(&spec), "/job.yaml");
    assert!(job["spec"].get("ttlSecondsAfterFinished").is_none(), "{job}");
}

#[test]
fn load_balancer_time_zone_and_allowed_namespaces_are_rendered() {
    let web = Spec::test(Archetype::WebService).with(|c| {
        c.image = Some("acme/web:1.0".into());
        c.service = Some(crate::spec::ServiceOptions {
            kind: crate::spec::ServiceType::LoadBalancer,
            ports: vec![],
            cluster_ip: None,
            selector: Vec::new(),
            external_name: None,
        });
        c.allow_from_namespaces = vec!["frontend".into()];
    });
    let out = files(&web);
    assert_eq!(doc(&out, "/service.yaml")["spec"]["type"], "LoadBalancer");
    let policy = doc(&out, "/networkpolicy.yaml");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
            ["kubernetes.io/metadata.name"],
        "frontend"
    );
    let cron = Spec::test(Archetype::CronJob).with(|c| {
        c.image = Some("acme/report:1.0".into());
        c.schedule = Some("0 9 * * *".into());
        c.batch = Some(crate::spec::BatchOptions {
            time_zone: Some("Europe/Berlin".into()),
            ..Default::default()
        });
    });
    assert_eq!(
        doc(&files(&cron), "/cronjob.yaml")["spec"]["timeZone"],
        "Europe/Berlin"
    );
}

#[test]
fn a_well_known_image_gets_its_own_port() {
    let kong = Spec::test(Archetype::WebService).with(|c| c.image = Some("kong:3.8.1".into()));
    let out = files(&kong);
    let deployment = doc(&out, "/deployment.yaml");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        8000
    );
    assert_eq!(doc(&out, "/service.yaml")["spec"]["ports"][0]["port"], 8000);
}

#[test]
fn a_log_shipper_mounts_var_log_read_only_under_a_waiver_in_a_privileged_namespace() {
    let mut spec = Spec::test(Archetype::Daemon).with(|c| c.image = Some("fluent/fluent-bit:3.2.2".into()));
    spec.namespace = "logging".into();
    spec.normalize().unwrap();
    let out = render_in(&spec, &Layout::default(), &BTreeMap::new(), &[], true).unwrap();
    let ds = doc(&out.files, "/daemonset.yaml");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][0]["hostPath"]["path"], "/var/log");
    assert_eq!(pod["containers"][0]["volumeMounts"][0]["readOnly"], true);
    assert_eq!(
        ds["metadata"]["annotations"]["gitintent.io/waive"],
        "host-path,run-as-non-root"
    );
    let ns = doc(&out.files, "/namespace.yaml");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
    let kustomization = doc(&out.files, "/kustomization.yaml");
    assert!(kustomization["resources"]
        .as_array()
        .unwrap()
        .contains(&"namespace.yaml".into()));
}

#[test]
fn a_new_namespace_is_restricted_in_production_and_baseline_elsewhere() {
    let mut spec = Spec::test(Archetype::Redis);
    spec.namespace = "cache".into();
    spec.normalize().unwrap();
    let level = |spec: &Spec| {
        let out = render_in(spec, &Layout::default(), &BTreeMap::new(), &[], true).unwrap();
        doc(&out.files, "/namespace.yaml")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"].clone()
    };
    assert_eq!(level(&spec), "restricted");
    spec.environment = "staging".into();
    assert_eq!(level(&spec), "baseline");
    spec.namespace = "default".into();
    let out = render_in(&spec, &Layout::default(), &BTreeMap::new(), &[], true).unwrap();
    assert!(!out.files.iter().any(|f| f.path.ends_with("/namespace.yaml")));
}

/// The app `shop`, wired as the builtin planner wires an app to the stores
/// `postgres` and `search` (one variable that only looks like a store's).
fn shop_wired_to_postgres_and_search() -> crate::spec::Component {
    use crate::spec::{Component, EnvVar, SecretRef};
    let mut app = Component::new("shop", Archetype::WebService);
    app.image = Some("acme/shop:1.9.0".into());
    for (name, value) in [
        ("DATABASE_HOST", "postgres"),
        ("DATABASE_PORT", "5432"),
        ("DATABASE_NAME", "postgres"),
        ("DATABASE_USER", "postgres"),
        ("ELASTICSEARCH_URL", "http://search:9200"),
        ("UNRELATED", "postgres-ish"),
    ] {
        app.env.push(EnvVar {
            name: name.into(),
            value: value.into(),
        });
    }
    for (env, secret) in [
        ("DATABASE_PASSWORD", "postgres-credentials"),
        ("ELASTICSEARCH_PASSWORD", "search-credentials"),
    ] {
        app.secret_refs.push(SecretRef {
            env: env.into(),
            secret: secret.into(),
            key: "password".into(),
        });
    }
    app
}

#[test]
fn apps_wired_to_an_operator_run_store_use_the_operators_names() {
    use crate::spec::Component;
    let operators = vec![
        "postgresql.cnpg.io".to_string(),
        "elasticsearch.k8s.elastic.co".to_string(),
    ];
    let app = shop_wired_to_postgres_and_search();
    let mut spec = Spec::test(Archetype::Postgres);
    spec.components
        .push(Component::new("search", Archetype::Elasticsearch));
    spec.components.push(app);
    spec.normalize().unwrap();
    let out = render_with(&spec, &Layout::default(), &BTreeMap::new(), &operators).unwrap();
    let deployment = doc(&out.files, "shop/deployment.yaml");
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    let var = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {env}"))
            .clone()
    };
    assert_eq!(var("DATABASE_HOST")["value"], "postgres-rw");
    assert_eq!(var("DATABASE_PORT")["value"], "5432");
    assert_eq!(var("UNRELATED")["value"], "postgres-ish");
    assert_eq!(var("ELASTICSEARCH_URL")["value"], "https://search-es-http:9200");
    let from = |name: &str| {
        let v = var(name);
        let r = &v["valueFrom"]["secretKeyRef"];
        assert!(r.is_object(), "{name}: {v}");
        (
            r["name"].as_str().unwrap().to_string(),
            r["key"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        from("DATABASE_PASSWORD"),
        ("postgres-app".into(), "password".into())
    );
    assert_eq!(from("DATABASE_NAME"), ("postgres-app".into(), "dbname".into()));
    assert_eq!(from("DATABASE_USER"), ("postgres-app".into(), "username".into()));
    assert_eq!(
        from("ELASTICSEARCH_PASSWORD"),
        ("search-es-elastic-user".into(), "elastic".into())
    );
    let said: Vec<&str> = out
        .findings
        .iter()
        .filter(|f| f.rule == "store-operator-endpoint")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].contains("CloudNativePG") && said[0].contains("DATABASE_HOST=postgres-rw"),
        "{said:?}"
    );
    // The spec itself, as the reviewer sees it, is not changed.
    assert_eq!(spec.components[2].env[0].value, "postgres");
}

#[test]
fn elasticsearch_heap_is_half_the_limit_and_kafka_has_its_kraft_identity() {
    let env_of = |spec: &Spec, file: &str| {
        let d = doc(&files(spec), file);
        d["spec"]["template"]["spec"]["containers"][0]["env"].clone()
    };
    let value = |env: &serde_json::Value, name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .map(|v| v["value"].clone())
            .unwrap_or_else(|| panic!("no {name} in {env}"))
    };
    let es = Spec::test(Archetype::Elasticsearch);
    assert_eq!(
        value(&env_of(&es, "statefulset.yaml"), "ES_JAVA_OPTS"),
        "-Xms2048m -Xmx2048m"
    );
    let es = es.with(|c| {
        c.resources = Some(crate::spec::Resources {
            limits: crate::spec::Quantities {
                memory: Some("8Gi".into()),
                ..Default::default()
            },
            requests: Default::default(),
        })
    });
    assert_eq!(
        value(&env_of(&es, "statefulset.yaml"), "ES_JAVA_OPTS"),
        "-Xms4096m -Xmx4096m"
    );
    let kafka = env_of(&Spec::test(Archetype::Kafka), "statefulset.yaml");
    assert_eq!(value(&kafka, "KAFKA_NODE_ID"), "0");
    let id = value(&kafka, "CLUSTER_ID");
    assert_eq!(id.as_str().unwrap().len(), 22, "{id}");
    assert_eq!(
        id,
        value(
            &env_of(&Spec::test(Archetype::Kafka), "statefulset.yaml"),
            "CLUSTER_ID"
        )
    );
    assert_eq!(
        value(&kafka, "KAFKA_ADVERTISED_LISTENERS"),
        "PLAINTEXT://$(POD_NAME).kafka-headless:9092"
    );
}
