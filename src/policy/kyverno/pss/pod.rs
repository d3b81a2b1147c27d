//! The Pod Security Standards checks that read pod-level fields (some also
//! container fields): AppArmor, host namespaces, hostPath and restricted
//! volume types, SELinux, seccomp (baseline and restricted) and sysctls.
//! Container-only checks are in `checks.rs`.

use serde_json::Value;

use super::checks::{at, containers, join_quote, plural, result, set, text, windows, Flagged};
use super::{Bad, CheckResult, FieldError, Pod};

const APPARMOR_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// Go's `%q` of a string, near enough for messages.
fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn annotations<'a>(pod: &Pod<'a>) -> Vec<(&'a String, &'a str)> {
    let mut out: Vec<(&String, &str)> = at(pod.meta, &["annotations"])
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.as_str().unwrap_or("")))
        .collect();
    out.sort();
    out
}

/// `appArmorProfile`: profile types `RuntimeDefault` or `Localhost`, and
/// the beta annotations `runtime/default`, `localhost/*` or empty.
pub(super) fn app_armor(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let allowed = |t: &str| matches!(t, "RuntimeDefault" | "Localhost");
    let (mut setters, mut values) = (Flagged::default(), Vec::new());
    if at(pod.spec, &["securityContext", "appArmorProfile"]).is_some() {
        let t = text(at(pod.spec, &["securityContext", "appArmorProfile", "type"]));
        if !allowed(t) {
            let field = "spec.securityContext.appArmorProfile.type".to_string();
            setters.add("pod", [FieldError::forbidden(field, Bad::Str(t.into()))]);
            values.push(t.to_string());
        }
    }
    let mut bad = Flagged::default();
    for c in containers(pod) {
        if c.sc(&["appArmorProfile"]).is_none() {
            continue;
        }
        let t = text(c.sc(&["appArmorProfile", "type"]));
        if !allowed(t) {
            let field = c.field("securityContext.appArmorProfile.type");
            bad.add(&c.name, [FieldError::forbidden(field, Bad::Str(t.into()))]);
            values.push(t.to_string());
        }
    }
    if !bad.names.is_empty() {
        let names = bad.containers();
        setters.add(&names, bad.errors);
    }
    let mut values = set(values);
    let mut forbidden = Flagged::default();
    for (key, value) in annotations(pod) {
        let ok = value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
        if key.starts_with(APPARMOR_PREFIX) && !ok {
            let field = format!("metadata.annotations[{key}]");
            forbidden.add(
                &format!("{key}={}", quoted(value)),
                [FieldError::forbidden(field, Bad::Str(value.into()))],
            );
        }
    }
    if !forbidden.names.is_empty() {
        let n = forbidden.names.len();
        values.extend(forbidden.names.iter().cloned());
        setters.add(plural("annotation", "annotations", n), forbidden.errors);
    }
    if setters.names.is_empty() {
        return None;
    }
    let reason = plural(
        "forbidden AppArmor profile",
        "forbidden AppArmor profiles",
        values.len(),
    );
    let detail = format!(
        "{} must not set AppArmor profile type to {}",
        setters.names.join(" and "),
        join_quote(&values)
    );
    result(reason, detail, setters.errors)
}

/// `hostNamespaces`: `hostNetwork`, `hostPID`, `hostIPC` unset or false.
pub(super) fn host_namespaces(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let mut bad = Flagged::default();
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if at(pod.spec, &[key]) == Some(&Value::Bool(true)) {
            let field = format!("spec.{key}");
            bad.add(
                &format!("{key}=true"),
                [FieldError::forbidden(field, Bad::Bool(true))],
            );
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    result("host namespaces", bad.names.join(", "), bad.errors)
}

fn volumes<'a>(pod: &Pod<'a>) -> impl Iterator<Item = (usize, &'a Value)> {
    at(pod.spec, &["volumes"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// `hostPathVolumes`: no volume is a hostPath.
pub(super) fn host_path_volumes(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let mut bad = Flagged::default();
    for (i, volume) in volumes(pod) {
        if let Some(host) = at(volume, &["hostPath"]) {
            let field = format!("spec.volumes[{i}].hostPath");
            let path = text(host.get("path")).to_string();
            bad.add(
                text(volume.get("name")),
                [FieldError::forbidden(field, Bad::Str(path))],
            );
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    let detail = format!(
        "{} {}",
        plural("volume", "volumes", bad.names.len()),
        join_quote(&bad.names)
    );
    result("hostPath volumes", detail, bad.errors)
}

const ALLOWED_VOLUMES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

const RESTRICTED_VOLUMES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// `restrictedVolumes`: only the volume types the restricted profile lists.
pub(super) fn restricted_volumes(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let (mut bad, mut types) = (Flagged::default(), Vec::new());
    for (i, volume) in volumes(pod) {
        if ALLOWED_VOLUMES.iter().any(|k| at(volume, &[k]).is_some()) {
            continue;
        }
        let kind = RESTRICTED_VOLUMES
            .iter()
            .find(|k| at(volume, &[k]).is_some())
            .copied()
            .unwrap_or("unknown");
        types.push(kind.to_string());
        let field = format!("spec.volumes[{i}].{kind}");
        bad.add(
            text(volume.get("name")),
            [FieldError::forbidden(field, Bad::None)],
        );
    }
    if bad.names.is_empty() {
        return None;
    }
    let types = set(types);
    let n = bad.names.len();
    let detail = format!(
        "{} {} {} {} {}",
        plural("volume", "volumes", n),
        join_quote(&bad.names),
        plural("uses", "use", n),
        plural("restricted volume type", "restricted volume types", types.len()),
        join_quote(&types)
    );
    result("restricted volume types", detail, bad.errors)
}

/// What one `seLinuxOptions` sets that is not allowed.
#[derive(Default)]
struct SeLinux {
    types: Vec<String>,
    user: bool,
    role: bool,
}

impl SeLinux {
    /// Field errors of `options` at `prefix` (`spec.securityContext` or a
    /// container's); empty when they are allowed.
    fn check(&mut self, options: &Value, prefix: &str, minor: u32) -> Vec<FieldError> {
        let mut allowed = vec!["", "container_t", "container_init_t", "container_kvm_t"];
        if minor >= 31 {
            allowed.push("container_engine_t");
        }
        let mut errors = Vec::new();
        let t = text(options.get("type"));
        if !allowed.contains(&t) {
            self.types.push(t.to_string());
            let field = format!("{prefix}.seLinuxOptions.type");
            errors.push(FieldError::forbidden(field, Bad::Str(t.into())));
        }
        for (key, flag) in [("user", &mut self.user), ("role", &mut self.role)] {
            let v = text(options.get(key));
            if !v.is_empty() {
                *flag = true;
                let field = format!("{prefix}.seLinuxOptions.{key}");
                errors.push(FieldError::forbidden(field, Bad::Str(v.into())));
            }
        }
        errors
    }
}

/// `seLinuxOptions`: allowed types only (v1.31 adds
/// `container_engine_t`), no user, no role.
pub(super) fn se_linux(pod: &Pod<'_>, minor: u32) -> Option<CheckResult> {
    let (mut seen, mut setters) = (SeLinux::default(), Flagged::default());
    if let Some(options) = at(pod.spec, &["securityContext", "seLinuxOptions"]) {
        let errors = seen.check(options, "spec.securityContext", minor);
        if !errors.is_empty() {
            setters.add("pod", errors);
        }
    }
    let mut bad = Flagged::default();
    for c in containers(pod) {
        if let Some(options) = c.sc(&["seLinuxOptions"]) {
            let errors = seen.check(options, &c.field("securityContext"), minor);
            if !errors.is_empty() {
                bad.add(&c.name, errors);
            }
        }
    }
    if !bad.names.is_empty() {
        let names = bad.containers();
        setters.add(&names, bad.errors);
    }
    if setters.names.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    let types = set(seen.types);
    if !types.is_empty() {
        data.push(format!(
            "{} {}",
            plural("type", "types", types.len()),
            join_quote(&types)
        ));
    }
    if seen.user {
        data.push("user may not be set".to_string());
    }
    if seen.role {
        data.push("role may not be set".to_string());
    }
    let detail = format!(
        "{} set forbidden securityContext.seLinuxOptions: {}",
        setters.names.join(" and "),
        data.join("; ")
    );
    result("seLinuxOptions", detail, setters.errors)
}

fn valid_seccomp(t: &str) -> bool {
    matches!(t, "Localhost" | "RuntimeDefault")
}

/// `seccompProfile_baseline`: before v1.19 the alpha annotations, from
/// v1.19 the profile types (unset, `RuntimeDefault`, `Localhost`).
pub(super) fn seccomp_baseline(pod: &Pod<'_>, minor: u32) -> Option<CheckResult> {
    if minor < 19 {
        return seccomp_annotations(pod);
    }
    let (mut setters, mut values) = (Flagged::default(), Vec::new());
    if at(pod.spec, &["securityContext", "seccompProfile"]).is_some() {
        let t = text(at(pod.spec, &["securityContext", "seccompProfile", "type"]));
        if !valid_seccomp(t) {
            let field = "spec.securityContext.seccompProfile.type".to_string();
            setters.add("pod", [FieldError::forbidden(field, Bad::Str(t.into()))]);
            values.push(t.to_string());
        }
    }
    let mut bad = Flagged::default();
    for c in containers(pod) {
        if c.sc(&["seccompProfile"]).is_none() {
            continue;
        }
        let t = text(c.sc(&["seccompProfile", "type"]));
        if !valid_seccomp(t) {
            let field = c.field("securityContext.seccompProfile.type");
            bad.add(&c.name, [FieldError::forbidden(field, Bad::Str(t.into()))]);
            values.push(t.to_string());
        }
    }
    if !bad.names.is_empty() {
        let names = bad.containers();
        setters.add(&names, bad.errors);
    }
    if setters.names.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must not set securityContext.seccompProfile.type to {}",
        setters.names.join(" and "),
        join_quote(&set(values))
    );
    result("seccompProfile", detail, setters.errors)
}

/// The v1.0 seccomp check: the alpha annotations of the pod and its
/// containers.
fn seccomp_annotations(pod: &Pod<'_>) -> Option<CheckResult> {
    const POD: &str = "seccomp.security.alpha.kubernetes.io/pod";
    const CONTAINER: &str = "container.seccomp.security.alpha.kubernetes.io/";
    let valid = |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let mut keys = vec![POD.to_string()];
    keys.extend(containers(pod).iter().map(|c| format!("{CONTAINER}{}", c.name)));
    let mut bad = Flagged::default();
    for key in set(keys) {
        let Some(value) = at(pod.meta, &["annotations", &key]) else {
            continue;
        };
        let value = text(Some(value));
        if !valid(value) {
            let field = format!("metadata.annotations[{key}]");
            bad.add(
                &format!("{key}={}", quoted(value)),
                [FieldError::forbidden(field, Bad::Str(value.into()))],
            );
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    let names = set(bad.names.clone());
    let detail = format!(
        "forbidden {} {}",
        plural("annotation", "annotations", names.len()),
        names.join(", ")
    );
    result("seccompProfile", detail, bad.errors)
}

/// `seccompProfile_restricted` (v1.19; v1.25 exempts Windows pods): the
/// pod, or else every container, sets `RuntimeDefault` or `Localhost`.
pub(super) fn seccomp_restricted(pod: &Pod<'_>, minor: u32) -> Option<CheckResult> {
    if minor >= 25 && windows(pod) {
        return None;
    }
    let (mut setters, mut values, mut pod_set) = (Flagged::default(), Vec::new(), false);
    if at(pod.spec, &["securityContext", "seccompProfile"]).is_some() {
        let t = text(at(pod.spec, &["securityContext", "seccompProfile", "type"]));
        if valid_seccomp(t) {
            pod_set = true;
        } else {
            let field = "spec.securityContext.seccompProfile.type".to_string();
            setters.add("pod", [FieldError::forbidden(field, Bad::Str(t.into()))]);
            values.push(t.to_string());
        }
    }
    let (mut explicit, mut implicit) = (Flagged::default(), Flagged::default());
    for c in containers(pod) {
        let field = c.field("securityContext.seccompProfile.type");
        if c.sc(&["seccompProfile"]).is_some() {
            let t = text(c.sc(&["seccompProfile", "type"]));
            if !valid_seccomp(t) {
                explicit.add(&c.name, [FieldError::forbidden(field, Bad::Str(t.into()))]);
                values.push(t.to_string());
            }
        } else if !pod_set {
            implicit.add(&c.name, [FieldError::required(field)]);
        }
    }
    if !explicit.names.is_empty() {
        let names = explicit.containers();
        setters.add(&names, explicit.errors);
    }
    if !setters.names.is_empty() {
        let detail = format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.names.join(" and "),
            join_quote(&set(values))
        );
        return result("seccompProfile", detail, setters.errors);
    }
    if implicit.names.is_empty() {
        return None;
    }
    let detail = format!(
        "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
        implicit.containers()
    );
    result("seccompProfile", detail, implicit.errors)
}

/// `sysctls`: only the safe set of the version (grown in v1.27, v1.29 and
/// v1.32).
pub(super) fn sysctls(pod: &Pod<'_>, minor: u32) -> Option<CheckResult> {
    let mut allowed = vec![
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ];
    if minor >= 27 {
        allowed.push("net.ipv4.ip_local_reserved_ports");
    }
    if minor >= 29 {
        allowed.extend([
            "net.ipv4.tcp_keepalive_time",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes",
        ]);
    }
    if minor >= 32 {
        allowed.extend(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]);
    }
    let mut bad = Flagged::default();
    let list = at(pod.spec, &["securityContext", "sysctls"]).and_then(Value::as_array);
    for (i, sysctl) in list.into_iter().flatten().enumerate() {
        let name = text(sysctl.get("name"));
        if !allowed.contains(&name) {
            let field = format!("spec.securityContext.sysctls[{i}].name");
            bad.add(name, [FieldError::forbidden(field, Bad::Str(name.into()))]);
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    result("forbidden sysctls", bad.names.join(", "), bad.errors)
}
