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
        serde_saphyr::from_str(by_path["clusters/production/apps/api-gateway/ingress.yaml"]).unwrap();
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
