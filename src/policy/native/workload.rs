//! `workload_deny` and `workload_warn` natively: the rules of
//! `policies/workload.rego`, `security.rego`, `availability.rego` and the
//! env-var half of `hygiene.rego`, for kinds with a pod spec.

use serde_json::Value as Json;

use super::{credential_value, field, items, present, quote, sensitive_name, Exact, Facts, Fallback, Out};

/// One entry of the pack's `all_containers`: `{"c", "path", "name"}`.
struct Container<'a> {
    c: &'a serde_json::Map<String, Json>,
    path: String,
    name: String,
    /// In `app_containers` (not an init container).
    app: bool,
}

/// Every `workload_*` rule on one resource of a pod-spec kind.
pub(super) fn check(doc: &Json, kind: &str, facts: &Facts<'_>, out: &mut Out) -> Exact<()> {
    let spec = field(Some(doc), "spec")?;
    let (pod_spec, pod_path) = match kind {
        "Pod" => (spec, "/spec"),
        "CronJob" => {
            let job = field(field(spec, "jobTemplate")?, "spec")?;
            (
                field(field(job, "template")?, "spec")?,
                "/spec/jobTemplate/spec/template/spec",
            )
        }
        _ => (field(field(spec, "template")?, "spec")?, "/spec/template/spec"),
    };
    if pod_spec.is_some_and(|p| !p.is_object()) {
        return Err(Fallback);
    }
    availability(doc, kind, facts, out)?;
    let Some(pod_spec) = pod_spec else {
        return Ok(());
    };
    let long_running = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" => true,
        "Pod" => pod_spec
            .get("restartPolicy")
            .is_none_or(|p| p.as_str() == Some("Always")),
        _ => false,
    };
    for k in containers(pod_spec, pod_path)? {
        if k.app {
            resources(&k, out)?;
            if long_running {
                probes(&k, out)?;
            }
        }
        images(&k, facts, out)?;
        security(&k, pod_spec, out)?;
        credentials(&k, out)?;
    }
    host(pod_spec, pod_path, out)
}

/// `app_containers` then the init containers of `all_containers`.
fn containers<'a>(pod_spec: &'a Json, pod_path: &str) -> Exact<Vec<Container<'a>>> {
    let mut all = Vec::new();
    for (list, app) in [("containers", true), ("initContainers", false)] {
        for (i, c) in items(pod_spec.get(list))?.iter().enumerate() {
            let Json::Object(c) = c else { continue };
            let name = match c.get("name") {
                Some(Json::String(name)) => name.clone(),
                _ => format!("#{i}"),
            };
            let path = format!("{pod_path}/{list}/{i}");
            all.push(Container { c, path, name, app });
        }
    }
    Ok(all)
}

fn get<'a>(k: &Container<'a>, key: &str) -> Option<&'a Json> {
    k.c.get(key)
}

/// cpu/memory requests/limits (workload.rego).
fn resources(k: &Container<'_>, out: &mut Out) -> Exact<()> {
    const FIELDS: [(&str, &str, &str, &str); 4] = [
        ("cpu-requests", "requests", "cpu", "CPU request"),
        ("memory-requests", "requests", "memory", "memory request"),
        ("cpu-limits", "limits", "cpu", "CPU limit"),
        ("memory-limits", "limits", "memory", "memory limit"),
    ];
    let resources = get(k, "resources");
    for (rule, group, name, what) in FIELDS {
        if !present(field(field(resources, group)?, name)?) {
            let msg = format!(
                "container {} has no {what}; set resources.{group}.{name}",
                quote(&k.name)?
            );
            out.deny(rule, format!("{}/resources/{group}/{name}", k.path), msg);
        }
    }
    Ok(())
}

/// readiness and liveness probes (workload.rego).
fn probes(k: &Container<'_>, out: &mut Out) -> Exact<()> {
    if !present(get(k, "readinessProbe")) {
        let msg = format!(
            "container {} has no readinessProbe; add one so traffic waits until it is ready",
            quote(&k.name)?
        );
        out.warn("readiness-probe", format!("{}/readinessProbe", k.path), msg);
    }
    if !present(get(k, "livenessProbe")) {
        let msg = format!(
            "container {} has no livenessProbe; add one so a hung process is restarted",
            quote(&k.name)?
        );
        out.warn("liveness-probe", format!("{}/livenessProbe", k.path), msg);
    }
    Ok(())
}

/// image-tag and image-registry (workload.rego).
fn images(k: &Container<'_>, facts: &Facts<'_>, out: &mut Out) -> Exact<()> {
    let Some(Json::String(image)) = get(k, "image") else {
        return Ok(());
    };
    let last = image.rsplit('/').next().unwrap_or_default();
    let problem = if image.contains('@') {
        None
    } else if !last.contains(':') {
        Some("has no tag")
    } else if last.ends_with(":latest") {
        Some("uses the latest tag")
    } else {
        None
    };
    if let Some(problem) = problem {
        let msg = format!(
            "container {} image {} {problem}; pin a version tag or a digest",
            quote(&k.name)?,
            quote(image)?
        );
        out.deny("image-tag", format!("{}/image", k.path), msg);
    }
    let allowed = facts.allowed_registries;
    if !allowed.is_empty() {
        let full = full_image(image);
        if !allowed
            .iter()
            .any(|a| full.starts_with(&format!("{}/", a.trim_end_matches('/'))))
        {
            let msg = format!(
                "container {} image {} is not from an allowed registry ({}); mirror it into one",
                quote(&k.name)?,
                quote(image)?,
                allowed.join(", ")
            );
            out.deny("image-registry", format!("{}/image", k.path), msg);
        }
    }
    Ok(())
}

/// The pack's `full_image`: the registry made explicit.
fn full_image(image: &str) -> String {
    match image.split_once('/') {
        None => format!("docker.io/library/{image}"),
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            image.to_string()
        }
        Some(_) => format!("docker.io/{image}"),
    }
}

/// The pack's `effective(c, field)`: the container's securityContext field,
/// else the pod's, null counting as unset.
fn effective<'a>(k: &Container<'a>, pod_spec: &'a Json, name: &str) -> Exact<Option<&'a Json>> {
    let own = field(get(k, "securityContext"), name)?;
    if own.is_some_and(|v| !v.is_null()) {
        return Ok(own);
    }
    let pod = field(pod_spec.get("securityContext"), name)?;
    Ok(pod.filter(|v| !v.is_null()))
}

/// run-as-non-root, privileged, privilege-escalation, capabilities and
/// read-only root filesystem (security.rego).
fn security(k: &Container<'_>, pod_spec: &Json, out: &mut Out) -> Exact<()> {
    run_as_non_root(k, pod_spec, out)?;
    let sc = get(k, "securityContext");
    privilege(k, sc, out)?;
    capabilities(k, sc, out)?;
    if field(sc, "readOnlyRootFilesystem")? != Some(&Json::Bool(true)) {
        let msg = format!("container {} has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir for scratch space", quote(&k.name)?);
        out.warn(
            "read-only-root-filesystem",
            format!("{}/securityContext/readOnlyRootFilesystem", k.path),
            msg,
        );
    }
    Ok(())
}

/// run-as-non-root: `runAsNonRoot: true`, or not false with a non-zero
/// `runAsUser` (the container's, else the pod's).
fn run_as_non_root(k: &Container<'_>, pod_spec: &Json, out: &mut Out) -> Exact<()> {
    let non_root = effective(k, pod_spec, "runAsNonRoot")?;
    let user = effective(k, pod_spec, "runAsUser")?;
    let by_user = non_root.is_some_and(|v| v != &Json::Bool(false))
        && user.and_then(Json::as_f64).is_some_and(|u| u > 0.0);
    if non_root != Some(&Json::Bool(true)) && !by_user {
        let msg = format!(
            "container {} may run as root; set securityContext.runAsNonRoot: true",
            quote(&k.name)?
        );
        out.deny(
            "run-as-non-root",
            format!("{}/securityContext/runAsNonRoot", k.path),
            msg,
        );
    }
    Ok(())
}

/// privileged and privilege-escalation, from the container's `securityContext` `sc`.
fn privilege(k: &Container<'_>, sc: Option<&Json>, out: &mut Out) -> Exact<()> {
    if field(sc, "privileged")? == Some(&Json::Bool(true)) {
        let msg = format!(
            "container {} is privileged; remove securityContext.privileged",
            quote(&k.name)?
        );
        out.deny(
            "privileged",
            format!("{}/securityContext/privileged", k.path),
            msg,
        );
    }
    if field(sc, "allowPrivilegeEscalation")? != Some(&Json::Bool(false)) {
        let msg = format!(
            "container {} allows privilege escalation; set securityContext.allowPrivilegeEscalation: false",
            quote(&k.name)?
        );
        out.deny(
            "privilege-escalation",
            format!("{}/securityContext/allowPrivilegeEscalation", k.path),
            msg,
        );
    }
    Ok(())
}

/// dangerous-capabilities: `ALL`, `SYS_ADMIN` or `NET_ADMIN` added.
fn capabilities(k: &Container<'_>, sc: Option<&Json>, out: &mut Out) -> Exact<()> {
    for (i, cap) in items(field(field(sc, "capabilities")?, "add")?)?
        .iter()
        .enumerate()
    {
        let Json::String(cap) = cap else { continue };
        let upper = cap.to_uppercase();
        if matches!(
            upper.strip_prefix("CAP_").unwrap_or(&upper),
            "ALL" | "SYS_ADMIN" | "NET_ADMIN"
        ) {
            let msg = format!(
                "container {} adds capability {cap}; drop it and add only what the process needs",
                quote(&k.name)?
            );
            out.deny(
                "dangerous-capabilities",
                format!("{}/securityContext/capabilities/add/{i}", k.path),
                msg,
            );
        }
    }
    Ok(())
}

/// `credential_env` (hygiene.rego): literal env values that look secret.
fn credentials(k: &Container<'_>, out: &mut Out) -> Exact<()> {
    for (i, e) in items(get(k, "env"))?.iter().enumerate() {
        let Some(Json::String(value)) = e.get("value") else {
            continue;
        };
        let name = match e.get("name") {
            // `{"name": e.name}` is undefined. regorus does not just skip that
            // binding: it drops other results of the rule, or fails the query.
            None if credential_value(value)? => return Err(Fallback),
            None => continue,
            Some(Json::String(name)) => name,
            // lower() of a non-string is an evaluation error.
            Some(_) => return Err(Fallback),
        };
        if (!value.is_empty() && sensitive_name(name)) || credential_value(value)? {
            let msg = format!(
                "container {} sets {} to a literal value that looks like a credential; use valueFrom.secretKeyRef",
                quote(&k.name)?,
                quote(name)?
            );
            out.deny("plaintext-credential", format!("{}/env/{i}/value", k.path), msg);
        }
    }
    Ok(())
}

/// host namespaces and hostPath volumes (security.rego).
fn host(pod_spec: &Json, pod_path: &str, out: &mut Out) -> Exact<()> {
    for (rule, name) in [
        ("host-network", "hostNetwork"),
        ("host-pid", "hostPID"),
        ("host-ipc", "hostIPC"),
    ] {
        if pod_spec.get(name) == Some(&Json::Bool(true)) {
            let msg = format!("the pod shares the node's namespace via {name}; remove {name}");
            out.deny(rule, format!("{pod_path}/{name}"), msg);
        }
    }
    for (i, v) in items(pod_spec.get("volumes"))?.iter().enumerate() {
        let Json::Object(v) = v else { continue };
        if !present(v.get("hostPath")) {
            continue;
        }
        let name = match v.get("name") {
            None => "\"?\"".to_string(),
            Some(Json::String(name)) => quote(name)?,
            Some(_) => return Err(Fallback),
        };
        let msg = format!(
            "volume {name} mounts a hostPath; use a PersistentVolumeClaim, emptyDir or configMap instead"
        );
        out.deny("host-path", format!("{pod_path}/volumes/{i}/hostPath"), msg);
    }
    Ok(())
}

/// pod-disruption-budget and replicas (availability.rego), production only.
fn availability(doc: &Json, kind: &str, facts: &Facts<'_>, out: &mut Out) -> Exact<()> {
    if !facts.production || !matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet") {
        return Ok(());
    }
    let spec = field(Some(doc), "spec")?;
    let replicas = match field(spec, "replicas")? {
        Some(Json::Number(n)) => n.as_u64().ok_or(Fallback)?,
        _ => return Ok(()),
    };
    if kind != "ReplicaSet" && replicas > 1 && !has_pdb(doc, spec, facts)? {
        let msg = format!("{replicas} replicas in production without a PodDisruptionBudget selecting the pod labels; add one (e.g. maxUnavailable: 1)");
        out.deny("pod-disruption-budget", "/spec/replicas".to_string(), msg);
    }
    if kind != "StatefulSet" && replicas < 2 {
        let msg = format!("a stateless workload runs {replicas} replica in production; run at least 2 (or autoscale) so one pod can fail");
        out.warn("replicas", "/spec/replicas".to_string(), msg);
    }
    Ok(())
}

/// The pack's `has_pdb`: a PDB of the namespace, found through one of the
/// pod labels (or `*`), whose selector selects the pod labels.
fn has_pdb(doc: &Json, spec: Option<&Json>, facts: &Facts<'_>) -> Exact<bool> {
    if !facts.pdbs_exact {
        return Err(Fallback);
    }
    let labels = match field(field(field(spec, "template")?, "metadata")?, "labels")? {
        Some(Json::Object(labels)) => Some(labels),
        _ => None,
    };
    let empty = serde_json::Map::new();
    let labels = labels.unwrap_or(&empty);
    let namespace = match field(field(Some(doc), "metadata")?, "namespace")? {
        None => "",
        Some(Json::String(ns)) => ns,
        Some(_) => return Err(Fallback),
    };
    let Some(Json::Object(by_label)) = facts.pdbs.and_then(|p| p.get(namespace)) else {
        return Ok(false);
    };
    let mut keys = vec!["*".to_string()];
    for (key, value) in labels {
        keys.push(format!("{key}={}", value.as_str().ok_or(Fallback)?));
    }
    Ok(keys
        .iter()
        .filter_map(|key| by_label.get(key).and_then(Json::as_array))
        .flatten()
        .any(|selector| selects(selector, labels)))
}

/// The pack's `selects(selector, labels)`, for an [`exact_selector`].
fn selects(selector: &Json, labels: &serde_json::Map<String, Json>) -> bool {
    let match_labels = selector.get("matchLabels").and_then(Json::as_object);
    let expressions = selector.get("matchExpressions").and_then(Json::as_array);
    if match_labels.map_or(0, |m| m.len()) + expressions.map_or(0, |e| e.len()) == 0 {
        return false;
    }
    match_labels.is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)))
        && expressions.is_none_or(|e| e.iter().all(|e| expression_matches(e, labels)))
}

/// The pack's `expression_matches(e, labels)`.
fn expression_matches(e: &Json, labels: &serde_json::Map<String, Json>) -> bool {
    let label = e.get("key").and_then(Json::as_str).and_then(|k| labels.get(k));
    // label_in: undefined (no values, no label) is false.
    let label_in = || {
        e.get("values")
            .and_then(Json::as_array)
            .is_some_and(|values| label.is_some_and(|l| values.contains(l)))
    };
    match e.get("operator").and_then(Json::as_str) {
        Some("In") => label_in(),
        Some("NotIn") => !label_in(),
        Some("Exists") => label.is_some(),
        Some("DoesNotExist") => label.is_none(),
        _ => false,
    }
}

/// A PDB selector whose reading above is exact: an object; `matchLabels`
/// absent or an object of strings; `matchExpressions` absent or an array of
/// objects with a string `key` and `operator` and `values` absent or an array.
pub(super) fn exact_selector(selector: &Json) -> bool {
    let Some(selector) = selector.as_object() else {
        return false;
    };
    let labels_ok = match selector.get("matchLabels") {
        None => true,
        Some(Json::Object(m)) => m.values().all(Json::is_string),
        Some(_) => false,
    };
    let expression_ok = |e: &Json| {
        e.get("key").is_some_and(Json::is_string)
            && e.get("operator").is_some_and(Json::is_string)
            && e.get("values").is_none_or(Json::is_array)
    };
    let expressions_ok = match selector.get("matchExpressions") {
        None => true,
        Some(Json::Array(a)) => a.iter().all(|e| e.is_object() && expression_ok(e)),
        Some(_) => false,
    };
    labels_ok && expressions_ok
}
