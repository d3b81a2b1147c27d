//! A pod template to a component's container, probe, security, scheduling
//! and volume fields. A field is taken only when the templates render it
//! back with the same value; anything else stays for `unsupported`.

use serde_json::{json, Map, Value};

use super::tree::Tree;
use crate::spec::{
    Component, ConfigMapRef, DnsPolicy, EnvFrom, EnvFromSource, EnvVar, HostAlias, KeyValue, NodeRequirement,
    PodOptions, Port, PullPolicy, Quantities, Resources, RestartPolicy, SecretRef, SelectorOperator,
    TaintEffect, Toleration, TolerationOperator, Volume, VolumeSource,
};

/// Lifts the pod spec at `at` into `comp`.
/// `pod_labels`: the pod's own labels, which an empty selector stands for.
pub(super) fn lift(t: &mut Tree, at: &str, pod_labels: &Map<String, Value>, comp: &mut Component) {
    let c = format!("{at}/containers/0");
    let mut pod = PodOptions::default();
    let image = t
        .get(&format!("{c}/image"))
        .and_then(Value::as_str)
        .map(str::to_string);
    comp.image = image.filter(|i| crate::spec::check_image(i).is_ok());
    if comp.image.is_some() {
        t.take(&format!("{c}/image"));
    }
    pod.image_pull_policy = pull_policy(t, &format!("{c}/imagePullPolicy"));
    pod.command = t.strings(&format!("{c}/command")).unwrap_or_default();
    pod.args = t.strings(&format!("{c}/args")).unwrap_or_default();
    comp.ports = ports(t, &c);
    env(t, &c, comp, &mut pod);
    comp.resources = resources(t, &c);
    if !matches!(
        comp.archetype,
        crate::spec::Archetype::Job | crate::spec::Archetype::CronJob
    ) {
        comp.probes = super::probe::lift(t, &c);
    }
    security(t, at, &c, comp);
    batch_restart(t, at, comp);
    t.take_if(&format!("{at}/automountServiceAccountToken"), &json!(false));
    scheduling(t, at, &mut pod);
    super::spread::lift(t, at, pod_labels, &mut pod);
    extras(t, at, &c, &mut pod);
    volumes(t, at, &c, &mut pod);
    if pod != PodOptions::default() {
        comp.pod = Some(pod);
    }
}

fn pull_policy(t: &mut Tree, p: &str) -> Option<PullPolicy> {
    let policy = match t.get(p)?.as_str()? {
        "Always" => Some(PullPolicy::Always),
        "IfNotPresent" => None,
        "Never" => Some(PullPolicy::Never),
        _ => return None,
    };
    t.take(p);
    policy
}

fn ports(t: &mut Tree, c: &str) -> Vec<Port> {
    let mut out = Vec::new();
    for i in 0..t.len(&format!("{c}/ports")) {
        let at = format!("{c}/ports/{i}");
        let Some(number) = t.get(&format!("{at}/containerPort")).and_then(Value::as_u64) else {
            continue;
        };
        let name = match t.get(&format!("{at}/name")).and_then(Value::as_str) {
            Some(n) if crate::spec::sanitize_name(n).as_deref() == Ok(n) && n.len() <= 15 => n.to_string(),
            Some(_) => continue,
            None => format!("port-{number}"),
        };
        let tcp = t.get(&format!("{at}/protocol")).is_none_or(|p| p == "TCP");
        if !tcp || out.iter().any(|p: &Port| p.name == name) {
            continue;
        }
        t.take(&format!("{at}/name"));
        t.take(&format!("{at}/protocol"));
        t.take(&format!("{at}/containerPort"));
        out.push(Port {
            name,
            port: u32::try_from(number).unwrap_or(0),
        });
    }
    out
}

/// The container at `c`'s `env` and `envFrom`.
fn env(t: &mut Tree, c: &str, comp: &mut Component, pod: &mut PodOptions) {
    env_vars(t, c, comp, pod);
    env_from(t, c, pod);
}

/// Each `env` entry with a valid name and a plain value, a Secret key or a
/// ConfigMap key (anything else stays for coverage to report).
fn env_vars(t: &mut Tree, c: &str, comp: &mut Component, pod: &mut PodOptions) {
    for i in 0..t.len(&format!("{c}/env")) {
        let at = format!("{c}/env/{i}");
        let Some(name) = t
            .get(&format!("{at}/name"))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        if !crate::spec::is_env_name(&name) {
            continue;
        }
        if let Some(value) = t.get(&format!("{at}/value")).and_then(Value::as_str) {
            comp.env.push(EnvVar {
                name,
                value: value.to_string(),
            });
        } else if let Some((secret, key)) = key_ref(t, &at, "secretKeyRef") {
            comp.secret_refs.push(SecretRef {
                env: name,
                secret,
                key,
            });
        } else if let Some((config_map, key)) = key_ref(t, &at, "configMapKeyRef") {
            pod.config_map_refs.push(ConfigMapRef {
                env: name,
                config_map,
                key,
            });
        } else {
            continue;
        }
        t.take(&at);
    }
}

/// The `(name, key)` of the env entry at `at`'s `valueFrom.<kind>` when it
/// has those two fields and nothing else.
fn key_ref(t: &Tree, at: &str, kind: &str) -> Option<(String, String)> {
    let r = t.get(&format!("{at}/valueFrom/{kind}"))?;
    let keys: Vec<&String> = r.as_object()?.keys().collect();
    (keys.iter().all(|k| *k == "name" || *k == "key"))
        .then(|| {
            Some((
                r.get("name")?.as_str()?.to_string(),
                r.get("key")?.as_str()?.to_string(),
            ))
        })
        .flatten()
}

/// Each `envFrom` entry that is a plain ConfigMap or Secret reference.
fn env_from(t: &mut Tree, c: &str, pod: &mut PodOptions) {
    for i in 0..t.len(&format!("{c}/envFrom")) {
        let at = format!("{c}/envFrom/{i}");
        let plain = |r: &Value| r.as_object().is_some_and(|m| m.len() == 1) && r.get("name").is_some();
        let source = match t.get(&at) {
            Some(e)
                if e.get("configMapRef").is_some_and(plain)
                    && e.as_object().is_some_and(|m| m.len() == 1) =>
            {
                EnvFromSource::ConfigMap
            }
            Some(e)
                if e.get("secretRef").is_some_and(plain) && e.as_object().is_some_and(|m| m.len() == 1) =>
            {
                EnvFromSource::Secret
            }
            _ => continue,
        };
        let key = if source == EnvFromSource::ConfigMap {
            "configMapRef"
        } else {
            "secretRef"
        };
        if let Some(name) = t.string(&format!("{at}/{key}/name")) {
            pod.env_from.push(EnvFrom { source, name });
        }
    }
}

fn resources(t: &mut Tree, c: &str) -> Option<Resources> {
    let mut r = Resources {
        requests: Quantities::default(),
        limits: Quantities::default(),
    };
    for (group, q) in [("requests", &mut r.requests), ("limits", &mut r.limits)] {
        for (key, slot, ok) in [
            ("cpu", &mut q.cpu, crate::spec::is_cpu as fn(&str) -> bool),
            ("memory", &mut q.memory, crate::spec::is_memory),
        ] {
            let p = format!("{c}/resources/{group}/{key}");
            let text = match t.get(&p) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            if ok(&text) {
                t.take(&p);
                *slot = Some(text);
            }
        }
    }
    (r.requests != Quantities::default() || r.limits != Quantities::default()).then_some(r)
}

/// The secure defaults the templates always render, taken when equal.
fn security(t: &mut Tree, at: &str, c: &str, comp: &Component) {
    let d = comp.archetype.defaults();
    let pod = format!("{at}/securityContext");
    t.take_if(&format!("{pod}/runAsNonRoot"), &json!(true));
    if let Some(user) = d.run_as_user {
        for key in ["runAsUser", "runAsGroup", "fsGroup"] {
            t.take_if(&format!("{pod}/{key}"), &json!(user));
        }
    }
    t.take_if(&format!("{pod}/seccompProfile/type"), &json!("RuntimeDefault"));
    let sc = format!("{c}/securityContext");
    t.take_if(&format!("{sc}/allowPrivilegeEscalation"), &json!(false));
    t.take_if(
        &format!("{sc}/readOnlyRootFilesystem"),
        &json!(comp.archetype.is_generic()),
    );
    t.take_if(&format!("{sc}/runAsNonRoot"), &json!(true));
    t.take_if(&format!("{sc}/capabilities/drop"), &json!(["ALL"]));
}

fn batch_restart(t: &mut Tree, at: &str, comp: &mut Component) {
    if !matches!(
        comp.archetype,
        crate::spec::Archetype::Job | crate::spec::Archetype::CronJob
    ) {
        return;
    }
    let p = format!("{at}/restartPolicy");
    if t.take_if(&p, &json!("Never")) {
        comp.batch.get_or_insert_with(Default::default).restart_policy = Some(RestartPolicy::Never);
    } else {
        t.take_if(&p, &json!("OnFailure"));
    }
}

fn scheduling(t: &mut Tree, at: &str, pod: &mut PodOptions) {
    if let Some(map) = t
        .get(&format!("{at}/nodeSelector"))
        .and_then(Value::as_object)
        .cloned()
    {
        for (k, v) in map {
            if let Some(v) = v.as_str() {
                let key = k.replace('~', "~0").replace('/', "~1");
                t.take(&format!("{at}/nodeSelector/{key}"));
                pod.node_selector.push(KeyValue {
                    key: k.clone(),
                    value: v.to_string(),
                });
            }
        }
    }
    for i in 0..t.len(&format!("{at}/tolerations")) {
        let p = format!("{at}/tolerations/{i}");
        if let Some(tol) = t.get(&p).and_then(toleration) {
            t.take(&p);
            pod.tolerations.push(tol);
        }
    }
    let terms = format!(
        "{at}/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms"
    );
    if t.len(&terms) == 1 {
        let exprs = format!("{terms}/0/matchExpressions");
        let reqs: Option<Vec<NodeRequirement>> = t
            .get(&exprs)
            .and_then(Value::as_array)
            .map(|list| list.iter().map(requirement).collect())
            .unwrap_or(None);
        let only_expressions = t
            .get(&format!("{terms}/0"))
            .and_then(Value::as_object)
            .is_some_and(|m| m.len() == 1);
        if let Some(reqs) = reqs.filter(|_| only_expressions) {
            t.take(&exprs);
            pod.node_affinity = reqs;
        }
    }
    pod.priority_class_name = t.string(&format!("{at}/priorityClassName"));
}

fn toleration(v: &Value) -> Option<Toleration> {
    let m = v.as_object()?;
    let known = ["key", "operator", "value", "effect", "tolerationSeconds"];
    if m.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    Some(Toleration {
        key: s("key"),
        operator: match s("operator").as_deref() {
            Some("Exists") => TolerationOperator::Exists,
            Some("Equal") => TolerationOperator::Equal,
            _ => return None,
        },
        value: s("value"),
        effect: match s("effect").as_deref() {
            None => None,
            Some("NoSchedule") => Some(TaintEffect::NoSchedule),
            Some("PreferNoSchedule") => Some(TaintEffect::PreferNoSchedule),
            Some("NoExecute") => Some(TaintEffect::NoExecute),
            Some(_) => return None,
        },
        toleration_seconds: match m.get("tolerationSeconds") {
            None => None,
            Some(n) => Some(u32::try_from(n.as_u64()?).ok()?),
        },
    })
}

fn requirement(v: &Value) -> Option<NodeRequirement> {
    let operator = match v.get("operator")?.as_str()? {
        "In" => SelectorOperator::In,
        "NotIn" => SelectorOperator::NotIn,
        "Exists" => SelectorOperator::Exists,
        "DoesNotExist" => SelectorOperator::DoesNotExist,
        _ => return None,
    };
    let values = match v.get("values") {
        None => Vec::new(),
        Some(list) => list
            .as_array()?
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()?,
    };
    Some(NodeRequirement {
        key: v.get("key")?.as_str()?.to_string(),
        operator,
        values,
    })
}

/// Host aliases, DNS, the grace period and lifecycle hooks.
fn extras(t: &mut Tree, at: &str, c: &str, pod: &mut PodOptions) {
    for i in 0..t.len(&format!("{at}/hostAliases")) {
        let p = format!("{at}/hostAliases/{i}");
        let ip = t
            .get(&format!("{p}/ip"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let (Some(ip), Some(hostnames)) = (ip, t.strings(&format!("{p}/hostnames"))) {
            t.take(&format!("{p}/ip"));
            pod.host_aliases.push(HostAlias { ip, hostnames });
        }
    }
    pod.dns_policy = match t.get(&format!("{at}/dnsPolicy")).and_then(Value::as_str) {
        Some("ClusterFirst") => Some(DnsPolicy::ClusterFirst),
        Some("ClusterFirstWithHostNet") => Some(DnsPolicy::ClusterFirstWithHostNet),
        Some("Default") => Some(DnsPolicy::Default),
        Some("None") => Some(DnsPolicy::None),
        _ => None,
    };
    if pod.dns_policy.is_some() {
        t.take(&format!("{at}/dnsPolicy"));
    }
    pod.dns_nameservers = t
        .strings(&format!("{at}/dnsConfig/nameservers"))
        .unwrap_or_default();
    pod.dns_searches = t.strings(&format!("{at}/dnsConfig/searches")).unwrap_or_default();
    pod.termination_grace_period_seconds = t.number(&format!("{at}/terminationGracePeriodSeconds"));
    pod.post_start = t
        .strings(&format!("{c}/lifecycle/postStart/exec/command"))
        .unwrap_or_default();
    pod.pre_stop = t
        .strings(&format!("{c}/lifecycle/preStop/exec/command"))
        .unwrap_or_default();
}

/// Volumes with a source the spec has, each with exactly one mount.
fn volumes(t: &mut Tree, at: &str, c: &str, pod: &mut PodOptions) {
    for i in 0..t.len(&format!("{at}/volumes")) {
        let p = format!("{at}/volumes/{i}");
        let Some(v) = t.get(&p).cloned() else { continue };
        let Some(name) = v.get("name").and_then(Value::as_str) else {
            continue;
        };
        if matches!(name, "data" | "tmp" | "scripts" | "sentinel-config") {
            continue;
        }
        let Some((source, from)) = source(&v) else {
            continue;
        };
        let mounts: Vec<usize> = (0..t.len(&format!("{c}/volumeMounts")))
            .filter(|j| {
                t.get(&format!("{c}/volumeMounts/{j}/name"))
                    .and_then(Value::as_str)
                    == Some(name)
            })
            .collect();
        let [j] = mounts[..] else { continue };
        let m = format!("{c}/volumeMounts/{j}");
        let Some(mount) = t.get(&m).and_then(Value::as_object).cloned() else {
            continue;
        };
        let known = ["name", "mountPath", "subPath", "readOnly"];
        let Some(mount_path) = mount.get("mountPath").and_then(Value::as_str) else {
            continue;
        };
        if mount.keys().any(|k| !known.contains(&k.as_str())) {
            continue;
        }
        let read_only = mount.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
        if mount.get("readOnly") == Some(&json!(false)) {
            continue;
        }
        pod.volumes.push(Volume {
            name: name.to_string(),
            source,
            from,
            mount_path: mount_path.to_string(),
            sub_path: mount.get("subPath").and_then(Value::as_str).map(str::to_string),
            read_only,
        });
        t.take(&p);
        t.take(&m);
    }
}

fn source(v: &Value) -> Option<(VolumeSource, Option<String>)> {
    let m = v.as_object()?;
    if m.len() != 2 {
        return None;
    }
    let one = |key: &str, field: &str| -> Option<String> {
        let inner = m.get(key)?.as_object()?;
        (inner.len() == 1)
            .then(|| inner.get(field)?.as_str().map(str::to_string))
            .flatten()
    };
    if m.get("emptyDir")
        .and_then(Value::as_object)
        .is_some_and(|e| e.is_empty())
    {
        return Some((VolumeSource::EmptyDir, None));
    }
    if let Some(n) = one("configMap", "name") {
        return Some((VolumeSource::ConfigMap, Some(n)));
    }
    if let Some(n) = one("secret", "secretName") {
        return Some((VolumeSource::Secret, Some(n)));
    }
    one("persistentVolumeClaim", "claimName").map(|n| (VolumeSource::Claim, Some(n)))
}
