//! Unit tests of the Pod Security Standards checks (Kyverno `validate.podSecurity`).

use serde_json::{json, Value};

use super::*;

fn rule(v: Value) -> PodSecurity {
    PodSecurity::read(&v).expect("valid podSecurity")
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

/// A container that satisfies the restricted profile.
fn good(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image, "securityContext": {
        "allowPrivilegeEscalation": false, "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}})
}

#[test]
fn baseline_allows_a_plain_pod_and_refuses_a_privileged_one() {
    let baseline = rule(json!({"level": "baseline", "version": "latest"}));
    assert_eq!(
        baseline.evaluate(&pod(json!({"containers": [{"name": "c", "image": "nginx"}]}))),
        Ok(())
    );
    let (path, detail) = baseline
        .evaluate(&pod(
            json!({"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}),
        ))
        .unwrap_err();
    assert_eq!(path, "/spec/containers/0/securityContext/privileged");
    assert!(detail.contains("PodSecurity \"baseline:latest\""), "{detail}");
    assert!(detail.contains("Forbidden reason: privileged"), "{detail}");
}

#[test]
fn restricted_needs_every_restricted_field_and_runs_the_baseline_checks_too() {
    let restricted = rule(json!({"level": "restricted"}));
    assert_eq!(
        restricted.evaluate(&pod(json!({"containers": [good("c", "nginx")]}))),
        Ok(())
    );
    let (_, detail) = restricted
        .evaluate(&pod(json!({"containers": [{"name": "c", "image": "nginx"}]})))
        .unwrap_err();
    for reason in [
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "runAsNonRoot != true",
        "seccompProfile",
    ] {
        assert!(detail.contains(reason), "{reason}: {detail}");
    }
    let mut host = good("c", "nginx");
    host["ports"] = json!([{"containerPort": 80, "hostPort": 8080}]);
    let (path, detail) = restricted
        .evaluate(&pod(json!({"containers": [host]})))
        .unwrap_err();
    assert_eq!(path, "/spec/containers/0/ports/0/hostPort");
    assert!(detail.contains("forbidden values found: 8080"), "{detail}");
}

#[test]
fn an_exclusion_with_images_exempts_only_the_matching_containers() {
    let mut added = good("nginx", "ghcr.io/kyverno/test-nginx:1");
    added["securityContext"]["capabilities"]["add"] = json!(["NET_ADMIN"]);
    let mut other = good("busybox", "busybox:1");
    other["securityContext"]["capabilities"]["add"] = json!(["SYS_ADMIN"]);
    let exempt = rule(
        json!({"level": "restricted", "exclude": [{"controlName": "Capabilities", "images": ["ghcr.io/kyverno/test-nginx*"]}]}),
    );
    assert_eq!(
        exempt.evaluate(&pod(json!({"containers": [added.clone()]}))),
        Ok(())
    );
    let (path, _) = exempt
        .evaluate(&pod(json!({"containers": [added, other]})))
        .unwrap_err();
    assert_eq!(path, "/spec/containers/1/securityContext/capabilities/add");
}

#[test]
fn restricted_field_and_values_narrow_an_exclusion() {
    let mut c = good("c", "nginx");
    c["securityContext"]["capabilities"]["add"] = json!(["NET_ADMIN"]);
    let only = |values: Value| {
        rule(
            json!({"level": "restricted", "exclude": [{"controlName": "Capabilities", "images": ["*"],
            "restrictedField": "spec.containers[*].securityContext.capabilities.add", "values": values}]}),
        )
    };
    assert_eq!(
        only(json!(["NET_ADMIN"])).evaluate(&pod(json!({"containers": [c.clone()]}))),
        Ok(())
    );
    assert!(only(json!(["SYS_TIME"]))
        .evaluate(&pod(json!({"containers": [c]})))
        .is_err());
}

#[test]
fn a_pod_level_exclusion_exempts_the_control_for_the_pod() {
    let mut c = good("c", "nginx");
    c["securityContext"]
        .as_object_mut()
        .unwrap()
        .remove("seccompProfile");
    let exempt = rule(json!({"level": "restricted", "exclude": [{"controlName": "Seccomp"}]}));
    assert_eq!(exempt.evaluate(&pod(json!({"containers": [c.clone()]}))), Ok(()));
    // One empty container exempts one container's error, as Kyverno does.
    assert!(exempt
        .evaluate(&pod(json!({"containers": [c.clone(), c]})))
        .is_err());
}

#[test]
fn the_version_selects_each_checks_revision() {
    let spec = json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "1"}]},
        "containers": [{"name": "c", "image": "nginx"}]});
    assert_eq!(
        rule(json!({"level": "baseline"})).evaluate(&pod(spec.clone())),
        Ok(())
    );
    let (path, _) = rule(json!({"level": "baseline", "version": "v1.28"}))
        .evaluate(&pod(spec))
        .unwrap_err();
    assert_eq!(path, "/spec/securityContext/sysctls/0/name");
}

#[test]
fn apparmor_annotations_are_checked_and_pointed_at() {
    let doc = json!({"kind": "Pod", "metadata": {"name": "p", "annotations": {
        "container.apparmor.security.beta.kubernetes.io/c": "unconfined"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let (path, detail) = rule(json!({"level": "baseline"})).evaluate(&doc).unwrap_err();
    assert_eq!(
        path,
        "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1c"
    );
    assert!(detail.contains("forbidden AppArmor profile"), "{detail}");
}

#[test]
fn invalid_blocks_are_refused_with_the_reason() {
    let err = |v: Value| PodSecurity::read(&v).unwrap_err();
    assert!(err(json!({"level": "strict"})).contains("podSecurity.level"));
    assert!(err(json!({"level": "baseline", "version": "1.25"})).contains("v1.x"));
    assert!(
        err(json!({"level": "baseline", "exclude": [{"controlName": "Nope"}]}))
            .contains("unknown controlName")
    );
    assert!(
        err(json!({"level": "baseline", "exclude": [{"controlName": "Host Ports"}]}))
            .contains("images must be specified")
    );
    assert!(
        err(json!({"level": "baseline", "exclude": [{"controlName": "Sysctls", "images": ["*"]}]}))
            .contains("must not be specified")
    );
    assert!(
        err(json!({"level": "baseline", "exclude": [{"controlName": "Volume Types"}]}))
            .contains("not part of the baseline")
    );
    assert!(err(
        json!({"level": "restricted", "exclude": [{"controlName": "Seccomp", "restrictedField": "spec.x"}]})
    )
    .contains("go together"));
}

#[test]
fn fields_become_pointers_and_numbers_wildcards() {
    assert_eq!(pointer("spec.volumes[2].hostPath"), "/spec/volumes/2/hostPath");
    let (wild, numbers, kind) = parse_field("spec.initContainers[3].ports[1].hostPort");
    assert_eq!(
        (wild.as_str(), numbers, kind.as_str()),
        (
            "spec.initContainers[*].ports[*].hostPort",
            vec![3, 1],
            "initContainers"
        )
    );
}
