//! Unit tests of Kyverno policies: parsing, matching and the pattern language.

use super::*;

fn one(yaml: &str) -> Policy {
    let mut p = parse("p.yaml", yaml).unwrap();
    assert_eq!(p.len(), 1);
    p.remove(0)
}

fn policy_with(pattern: &str) -> Policy {
    one(&format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: t}}\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: r\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n      validate:\n        message: nope\n        pattern: {pattern}\n"
    ))
}

fn passes(pattern: &str, pod: Value) -> bool {
    policy_with(pattern).check(&pod).is_empty()
}

fn pod(spec: Value) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

#[test]
fn wildcards_negation_and_alternatives() {
    assert!(wildcard("?*", "a") && !wildcard("?*", ""));
    assert!(wildcard("*", "") && wildcard("nginx:*", "nginx:1") && !wildcard("nginx:?", "nginx:10"));
    // Without `*` or `?` a pattern is compared as it is; `?` is one
    // character, not one byte.
    assert!(wildcard("nginx", "nginx") && !wildcard("nginx", "nginx2") && !wildcard("", "a"));
    assert!(wildcard("caf?", "café") && !wildcard("caf??", "café") && wildcard("é*", "éa"));
    let p = "{spec: {containers: [{image: \"!*:latest\"}]}}";
    assert!(passes(
        p,
        pod(serde_json::json!({"containers": [{"image": "a:1"}]}))
    ));
    assert!(!passes(
        p,
        pod(serde_json::json!({"containers": [{"image": "a:1"}, {"image": "a:latest"}]}))
    ));
    let p = "{spec: {restartPolicy: \"Always | OnFailure\"}}";
    assert!(passes(p, pod(serde_json::json!({"restartPolicy": "OnFailure"}))));
    assert!(!passes(p, pod(serde_json::json!({"restartPolicy": "Never"}))));
}

#[test]
fn numeric_and_quantity_comparisons() {
    let p = "{spec: {containers: [{resources: {limits: {memory: \"<=1Gi\", cpu: \">100m\"}}}]}}";
    let c = |m: &str, cpu: &str| {
        pod(serde_json::json!({"containers": [{"resources": {"limits": {"memory": m, "cpu": cpu}}}]}))
    };
    assert!(passes(p, c("512Mi", "200m")));
    assert!(!passes(p, c("2Gi", "200m")));
    assert!(!passes(p, c("512Mi", "100m")));
    assert!(passes(
        "{spec: {priority: \">=10\"}}",
        pod(serde_json::json!({"priority": 10}))
    ));
}

#[test]
fn anchors() {
    // Conditional: only containers named web need a tag.
    let p = "{spec: {containers: [{(name): web, image: \"*:?*\"}]}}";
    assert!(passes(
        p,
        pod(serde_json::json!({"containers": [{"name": "side", "image": "x"}]}))
    ));
    assert!(!passes(
        p,
        pod(serde_json::json!({"containers": [{"name": "web", "image": "x"}]}))
    ));
    // Equality: hostNetwork may be absent, but if present must be false.
    let p = "{spec: {=(hostNetwork): false}}";
    assert!(passes(p, pod(serde_json::json!({}))));
    assert!(!passes(p, pod(serde_json::json!({"hostNetwork": true}))));
    // Negation: no hostPID at all.
    let p = "{spec: {X(hostPID): null}}";
    assert!(passes(p, pod(serde_json::json!({}))));
    let hits = policy_with(p).check(&pod(serde_json::json!({"hostPID": false})));
    assert_eq!(hits[0].path, "/spec/hostPID");
    // Existence: at least one container from the corporate registry.
    let p = "{spec: {^(containers): [{image: \"corp.io/*\"}]}}";
    assert!(passes(
        p,
        pod(serde_json::json!({"containers": [{"image": "x"}, {"image": "corp.io/a"}]}))
    ));
    assert!(!passes(
        p,
        pod(serde_json::json!({"containers": [{"image": "x"}]}))
    ));
}

#[test]
fn pod_rules_apply_to_controllers_with_template_paths() {
    let p = policy_with("{spec: {containers: [{securityContext: {privileged: false}}]}}");
    let deploy = serde_json::json!({"kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"securityContext": {"privileged": true}}]}}}});
    let hits = p.check(&deploy);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].path,
        "/spec/template/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(
        (hits[0].rule.as_str(), hits[0].severity, hits[0].message.as_str()),
        ("t/r", Severity::Error, "nope")
    );
    assert!(p
        .check(&serde_json::json!({"kind": "Service", "metadata": {"name": "s"}}))
        .is_empty());
}

#[test]
fn unsupported_rules_are_one_finding_each_an_error_when_enforced() {
    let p = one("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: cel}\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: a\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {cel: {expressions: [{expression: \"url(object.metadata.name).getHost() == 'x'\"}]}}\n    - name: b\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      context: [{name: cm, configMap: {name: c, namespace: d}}]\n      validate: {failureAction: Audit, message: x, deny: {conditions: {any: [{key: a, operator: Equals, value: b}]}}}\n    - name: c\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {message: x, pattern: {metadata: {name: '{{ time_now() }}'}}}\n");
    let f = p.findings();
    assert_eq!(f.len(), 3, "{f:?}");
    assert_eq!(
        (f[0].severity, f[0].rule.as_str(), f[0].resource.as_str()),
        (Severity::Error, "kyverno-unsupported", "ClusterPolicy/cel")
    );
    assert!(
        f[0].message.contains("rule \"a\"") && f[0].message.contains("the CEL function url"),
        "{}",
        f[0].message
    );
    assert_eq!(f[1].severity, Severity::Warning, "an audit rule only warns");
    assert!(f[1].message.contains("context.configMap"), "{}", f[1].message);
    assert!(f[2].message.contains("JMESPath function time_now()") && f[2].severity == Severity::Error);
    assert!(p.check(&pod(serde_json::json!({}))).is_empty());
}

#[test]
fn an_exclude_naming_only_roles_does_not_disable_the_rule() {
    let p = one("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: t}\nspec:\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      exclude: {any: [{clusterRoles: [cluster-admin]}]}\n      validate: {message: m, pattern: {spec: {hostNetwork: false}}}\n");
    assert_eq!(p.check(&pod(serde_json::json!({"hostNetwork": true}))).len(), 1);
    let notes = p.findings();
    assert_eq!(
        (notes.len(), notes[0].severity, notes[0].rule.as_str()),
        (1, Severity::Info, "kyverno-offline")
    );
}

#[test]
fn failure_action_overrides_set_the_severity_per_namespace() {
    let p = one("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: t}\nspec:\n  validationFailureAction: Audit\n  validationFailureActionOverrides: [{action: Enforce, namespaces: [prod-*]}]\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {message: m, pattern: {spec: {hostNetwork: false}}}\n    - name: u\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {message: m, manifests: {attestors: []}}\n");
    let in_ns = |ns: &str| serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns}, "spec": {"hostNetwork": true}});
    assert_eq!(p.check(&in_ns("prod-eu"))[0].severity, Severity::Error);
    assert_eq!(p.check(&in_ns("dev"))[0].severity, Severity::Warning);
    assert_eq!(
        p.findings()[0].severity,
        Severity::Error,
        "enforced somewhere: not evaluating it is an error"
    );
}

#[test]
fn wildcard_keys_match_every_key_they_name() {
    let p = "{metadata: {=(annotations): {X(fluxcd.io/*): null, =(container.apparmor.security.beta.kubernetes.io/*): 'runtime/default | localhost/*'}}}";
    let with = |a: Value| serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": a}});
    assert!(passes(p, with(serde_json::json!({"other": "x"}))));
    assert!(!passes(
        p,
        with(serde_json::json!({"fluxcd.io/automated": "true"}))
    ));
    assert!(passes(
        p,
        with(serde_json::json!({"container.apparmor.security.beta.kubernetes.io/c": "runtime/default"}))
    ));
    assert!(!passes(
        p,
        with(serde_json::json!({"container.apparmor.security.beta.kubernetes.io/c": "unconfined"}))
    ));
}

#[test]
fn a_conditional_array_with_no_matching_element_does_not_apply() {
    let p = "{spec: {(containers): [{(name): web}], securityContext: {runAsNonRoot: true}}}";
    assert!(passes(
        p,
        pod(serde_json::json!({"containers": [{"name": "db"}]}))
    ));
    assert!(!passes(
        p,
        pod(serde_json::json!({"containers": [{"name": "web"}]}))
    ));
}

#[test]
fn bad_yaml_and_bad_policies_name_file_line_and_column() {
    let err = parse(
        "k.yaml",
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec: [a, b\n",
    )
    .unwrap_err();
    let Error::Invalid {
        file, line, column, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(file, "k.yaml");
    assert!(*line >= 3 && *column > 0, "{err}");
    let err = parse(
        "k.yaml",
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec:\n  rules: {}\n",
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kyverno {
                line: 5,
                column: 3,
                ..
            }
        ),
        "{err}"
    );
    let err = parse("k.yaml", "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec:\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {message: m}\n").unwrap_err();
    assert!(err.to_string().contains("pattern"), "{err}");
}

#[test]
fn other_yaml_documents_are_ignored() {
    assert!(
        parse("k.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
            .unwrap()
            .is_empty()
    );
}

fn rule(body: &str) -> Policy {
    one(&format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: t}}\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: r\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n{body}"
    ))
}

#[test]
fn foreach_deny_and_preconditions_follow_kyverno() {
    let p = rule("      preconditions:\n        all:\n        - {key: \"{{ request.operation || 'BACKGROUND' }}\", operator: NotEquals, value: DELETE}\n      validate:\n        message: drop ALL\n        foreach:\n        - list: request.object.spec.[ephemeralContainers, initContainers, containers][]\n          deny:\n            conditions:\n              all:\n              - {key: ALL, operator: AnyNotIn, value: \"{{ element.securityContext.capabilities.drop[].to_upper(@) || `[]` }}\"}\n");
    assert!(p.findings().is_empty(), "{:?}", p.findings());
    let c =
        |drop: Value| serde_json::json!({"name": "c", "securityContext": {"capabilities": {"drop": drop}}});
    let good = pod(serde_json::json!({"containers": [c(serde_json::json!(["all"]))]}));
    let bad = pod(
        serde_json::json!({"containers": [c(serde_json::json!(["all"]))], "initContainers": [{"name": "i"}]}),
    );
    assert!(p.check(&good).is_empty());
    let hits = p.check(&bad);
    assert_eq!(
        (hits.len(), hits[0].message.as_str()),
        (1, "drop ALL"),
        "{hits:?}"
    );
    // Autogen: the pod template of a Deployment, its path prefixed.
    let deploy = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}});
    assert_eq!(p.check(&deploy).len(), 1);
}

#[test]
fn deny_conditions_context_variables_and_messages() {
    let p = rule("      context:\n      - name: allowed\n        variable: {value: [a, b], default: []}\n      - name: count\n        variable: {jmesPath: 'length(request.object.spec.containers)'}\n      validate:\n        message: \"{{ request.object.metadata.name }} has {{ count }} containers\"\n        deny:\n          conditions:\n            any:\n            - {key: \"{{ request.object.spec.containers[].name }}\", operator: AnyNotIn, value: \"{{ allowed }}\"}\n            - {key: \"{{ count }}\", operator: GreaterThan, value: 2}\n");
    let named = |names: &[&str]| {
        let cs: Vec<Value> = names.iter().map(|n| serde_json::json!({"name": n})).collect();
        pod(serde_json::json!({"containers": cs}))
    };
    assert!(p.check(&named(&["a", "b"])).is_empty());
    let hits = p.check(&named(&["a", "z"]));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].message, "p has 2 containers");
    assert_eq!(p.check(&named(&["a", "a", "b"])).len(), 1);
}

#[test]
fn an_unresolvable_variable_is_a_finding_never_a_pass() {
    let p = rule("      validate:\n        message: m\n        deny:\n          conditions:\n            all:\n            - {key: \"{{ request.object.metadata.labels.team }}\", operator: Equals, value: x}\n");
    let hits = p.check(&pod(serde_json::json!({})));
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].message.contains("could not be evaluated"),
        "{}",
        hits[0].message
    );
    assert_eq!(hits[0].severity, Severity::Error);
}

#[test]
fn foreach_patterns_apply_to_each_element_and_nest() {
    let p = rule("      validate:\n        message: no latest\n        foreach:\n        - list: request.object.spec.containers\n          pattern: {image: '!*:latest'}\n        - list: request.object.spec.initContainers\n          preconditions: {all: [{key: '{{ element.name }}', operator: Equals, value: 'init-*'}]}\n          foreach:\n          - list: element.ports\n            deny: {conditions: [{key: '{{ element1.containerPort }}', operator: LessThan, value: 1024}]}\n");
    let ok = pod(
        serde_json::json!({"containers": [{"image": "a:1"}], "initContainers": [{"name": "x", "ports": [{"containerPort": 80}]}]}),
    );
    assert!(p.check(&ok).is_empty(), "{:?}", p.check(&ok));
    let latest = pod(serde_json::json!({"containers": [{"image": "a:1"}, {"image": "a:latest"}]}));
    assert_eq!(p.check(&latest).len(), 1);
    let low = pod(
        serde_json::json!({"containers": [], "initContainers": [{"name": "init-a", "ports": [{"containerPort": 80}]}]}),
    );
    assert_eq!(p.check(&low).len(), 1);
}

#[test]
fn unknown_operators_are_rejected_with_the_rule() {
    let err = parse("k.yaml", "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec:\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {message: m, deny: {conditions: [{key: a, operator: Sometimes, value: b}]}}\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown condition operator \"Sometimes\""),
        "{err}"
    );
    assert!(matches!(err, Error::Kyverno { line: 6, .. }), "{err}");
}

#[test]
fn policies_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Policy>();
}

#[test]
fn images_and_nested_variables_in_foreach() {
    let p = rule("      validate:\n        message: \"{{ request.object.metadata.name }}: registry not allowed\"\n        foreach:\n        - list: request.object.spec.containers\n          deny:\n            conditions:\n              all:\n              - {key: '{{ images.containers.\"{{element.name}}\".registry }}', operator: AnyNotIn, value: [ghcr.io, 'registry.example.*']}\n");
    assert!(p.findings().is_empty(), "{:?}", p.findings());
    let with = |image: &str| pod(serde_json::json!({"containers": [{"name": "c", "image": image}]}));
    assert!(p.check(&with("ghcr.io/org/app:1")).is_empty());
    assert!(p.check(&with("registry.example.com/app:1")).is_empty());
    let hits = p.check(&with("nginx:1"));
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].message, "p: registry not allowed");
}

fn cel_policy(rules: &str) -> Result<Vec<Policy>, Error> {
    parse(
        "cel.yaml",
        &format!("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: c}}\nspec:\n  validationFailureAction: Enforce\n  rules:\n{rules}"),
    )
}

const CEL_RULE: &str = "    - name: drop-all
      match: {any: [{resources: {kinds: [Pod]}}]}
      celPreconditions:
        - name: not-system
          expression: \"!object.metadata.name.startsWith('system-')\"
      validate:
        message: Containers must drop ALL.
        cel:
          variables:
            - name: containers
              expression: \"object.spec.containers + object.spec.?initContainers.orValue([])\"
          expressions:
            - expression: \"variables.containers.all(c, 'ALL' in c.?securityContext.?capabilities.?drop.orValue([]))\"
            - expression: \"variables.containers.all(c, !c.image.endsWith(':latest'))\"
              messageExpression: \"'no latest tag in ' + object.metadata.name\"
";

#[test]
fn cel_rules_evaluate_expressions_variables_and_preconditions() {
    let p = cel_policy(CEL_RULE).unwrap().remove(0);
    assert!(p.findings().is_empty(), "{:?}", p.findings());
    let container = |image: &str, drop: bool| {
        let caps = if drop {
            serde_json::json!(["ALL"])
        } else {
            serde_json::json!([])
        };
        serde_json::json!({"name": "c", "image": image, "securityContext": {"capabilities": {"drop": caps}}})
    };
    let named = |name: &str, c: Value| serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [c]}});
    assert!(p.check(&named("web", container("nginx:1", true))).is_empty());
    let hits = p.check(&named("web", container("nginx:1", false)));
    assert_eq!(
        (hits[0].rule.as_str(), hits[0].severity, hits[0].message.as_str()),
        ("c/drop-all", Severity::Error, "Containers must drop ALL.")
    );
    let hits = p.check(&named("web", container("nginx:latest", true)));
    assert_eq!(hits[0].message, "no latest tag in web");
    assert!(
        p.check(&named("system-x", container("nginx:latest", false)))
            .is_empty(),
        "celPreconditions not met: skipped"
    );
    // Autogen: the Deployment's pod template is the object.
    let deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"metadata": {"name": "web"}, "spec": {"containers": [container("nginx:1", false)]}}}});
    assert_eq!(p.check(&deployment).len(), 1);
}

#[test]
fn cel_rules_name_syntax_errors_and_report_what_they_cannot_evaluate() {
    let broken = CEL_RULE.replace("c.image.endsWith(':latest')", "c.image.endsWith(':latest'");
    let err = cel_policy(&broken).unwrap_err().to_string();
    assert!(
        err.starts_with("cel.yaml:20:") && err.contains("validate.cel.expressions[1].expression"),
        "{err}"
    );
    let with_params = CEL_RULE.replace(
        "        cel:\n",
        "        cel:\n          paramKind: {apiVersion: v1, kind: ConfigMap}\n          paramRef: {name: limits}\n",
    );
    let p = cel_policy(&with_params).unwrap().remove(0);
    let f = p.findings();
    assert_eq!((f.len(), f[0].severity), (1, Severity::Error), "{f:?}");
    assert!(
        f[0].message.contains("validate.cel.paramKind"),
        "{}",
        f[0].message
    );
}

#[test]
fn pod_security_rules_check_pods_and_controllers() {
    let p = rule("      validate:\n        podSecurity: {level: baseline, version: v1.29}\n");
    let deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "nginx"}]}}}});
    let hits = p.check(&deployment);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].path, "/spec/template/spec/hostNetwork");
    assert!(
        hits[0].message.contains("PodSecurity \"baseline:v1.29\"")
            && hits[0].message.contains("host namespaces"),
        "{}",
        hits[0].message
    );
    let err = parse(
        "p.yaml",
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: t}\nspec:\n  rules:\n    - name: r\n      match: {any: [{resources: {kinds: [Pod]}}]}\n      validate: {podSecurity: {level: baseline, exclude: [{controlName: Capabilities}]}}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("p.yaml:6:") && err.contains("images must be specified"),
        "{err}"
    );
}

#[test]
fn request_old_object_is_null_as_for_a_create() {
    let p = rule("      validate:\n        message: \"{{ request.oldObject.metadata.name || 'new' }}\"\n        deny: {conditions: {all: [{key: \"{{ contains(keys(request), 'oldObject') }}\", operator: Equals, value: true}]}}\n");
    let hits = p.check(&pod(serde_json::json!({"containers": []})));
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].message, "new");
}

#[test]
fn rules_for_other_operations_than_create_do_not_apply() {
    let p = one("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: t}\nspec:\n  rules:\n    - name: on-delete\n      match: {any: [{resources: {kinds: [Pod], operations: [DELETE]}}]}\n      validate: {message: m, pattern: {spec: {hostNetwork: false}}}\n    - name: on-create\n      match: {any: [{resources: {kinds: [Pod], operations: [CREATE, UPDATE]}}]}\n      validate: {message: m, pattern: {spec: {hostNetwork: false}}}\n");
    let hits = p.check(&pod(serde_json::json!({"hostNetwork": true})));
    let rules: Vec<&str> = hits.iter().map(|h| h.rule.as_str()).collect();
    assert_eq!(rules, ["t/on-create"]);
}
