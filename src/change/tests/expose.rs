//! Expose: an Ingress for an existing Service.

use super::*;

#[test]
fn expose_adds_an_ingress_for_the_service_and_lists_it() {
    let repo = shop();
    let set = Update {
        exposure: Some(Exposure {
            host: Some("api.example.com".into()),
            path: None,
            tls: true,
        }),
        ..Update::default()
    };
    let out = run(
        &repo,
        &spec("production", update("api-gateway", set)),
        Scope::Stated("production"),
    )
    .unwrap();
    assert_eq!(out.created, ["clusters/production/apps/api-gateway/ingress.yaml"]);
    assert_eq!(
        out.modified,
        ["clusters/production/apps/api-gateway/kustomization.yaml"]
    );
    let by_path: BTreeMap<&str, &str> = out
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str()))
        .collect();
    assert_eq!(
        by_path["clusters/production/apps/api-gateway/kustomization.yaml"],
        "resources:\n  - deployment.yaml\n  - service.yaml\n  - ingress.yaml\n"
    );
    let ingress: serde_json::Value =
        crate::yaml::value(by_path["clusters/production/apps/api-gateway/ingress.yaml"]).unwrap();
    assert_eq!(ingress["metadata"]["namespace"], "edge");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "api.example.com");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "api-gateway-tls");
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], "api-gateway");
    assert_eq!(backend["port"]["name"], "http");
}

#[test]
fn expose_without_a_service_is_refused() {
    let repo = shop();
    let set = Update {
        exposure: Some(Exposure {
            host: Some("orders.example.com".into()),
            path: None,
            tls: false,
        }),
        ..Update::default()
    };
    let err = run(
        &repo,
        &spec("staging", update("orders-worker", set)),
        Scope::Stated("staging"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("there is no Service for it"), "{err}");
}

const FRONT_INGRESS: &str = "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api-gateway
  namespace: edge
spec:
  rules:
  - host: old.example.com # the launch host
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: api-gateway
            port:
              number: 80
  tls:
  - hosts: [old.example.com]
    secretName: old-tls
";

fn with_ingress() -> Repo {
    repo(&[
        (
            "clusters/production/apps/api-gateway/kustomization.yaml",
            "resources:\n  - deployment.yaml\n  - service.yaml\n  - ingress.yaml\n",
        ),
        ("clusters/production/apps/api-gateway/deployment.yaml", API),
        ("clusters/production/apps/api-gateway/service.yaml", API_SERVICE),
        ("clusters/production/apps/api-gateway/ingress.yaml", FRONT_INGRESS),
    ])
}

fn expose_at(host: &str) -> Spec {
    let set = Update {
        exposure: Some(Exposure {
            host: Some(host.into()),
            path: None,
            tls: false,
        }),
        ..Update::default()
    };
    spec("production", update("api-gateway", set))
}

#[test]
fn expose_with_an_existing_host_adds_a_rule_and_keeps_the_old_host() {
    let repo = with_ingress();
    let out = run(&repo, &expose_at("shop.example.com"), Scope::Stated("production")).unwrap();
    let text = &out.files[0].content;
    let ingress: serde_json::Value = crate::yaml::value(text).unwrap();
    let hosts: Vec<&str> = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["old.example.com", "shop.example.com"], "{text}");
    let backend = &ingress["spec"]["rules"][1]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], "api-gateway");
    assert_eq!(backend["port"]["number"], 80);
    // Only lines were added; the comment and the tls section stay.
    let (added, removed) = line_diff(FRONT_INGRESS, text);
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(added.len(), 10, "{added:?}");
    assert!(text.contains("old.example.com # the launch host\n"), "{text}");
    assert!(
        out.notes[0].contains("keeps old.example.com and now also serves shop.example.com"),
        "{:?}",
        out.notes
    );
}

#[test]
fn expose_replaces_the_host_only_when_asked_and_says_so() {
    let repo = with_ingress();
    let aim = Aim {
        replace_host: true,
        ..Aim::default()
    };
    let out = apply_aimed(
        &expose_at("shop.example.com"),
        &repo.inventory,
        Scope::Stated("production"),
        &aim,
        &BTreeMap::new(),
    )
    .unwrap();
    let (added, removed) = line_diff(FRONT_INGRESS, &out.files[0].content);
    assert_eq!(removed, ["  - host: old.example.com # the launch host"]);
    assert_eq!(added, ["  - host: shop.example.com # the launch host"]);
    assert!(
        out.notes[0].contains("host old.example.com replaced by shop.example.com"),
        "{:?}",
        out.notes
    );
}
