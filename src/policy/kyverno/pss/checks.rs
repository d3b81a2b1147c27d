//! The Pod Security Standards checks as the Kubernetes pod-security-admission
//! library runs them with field errors (Kyverno's fork, which `validate.
//! podSecurity` calls): one function per check ID, each returning the
//! forbidden reason, a detail and the field errors (path, bad value) that
//! exclusions are matched against. Pod-level checks are in `pod.rs`.
//!
//! Values are read from JSON as the API types would decode them: a field
//! is set when it is present and not null; only a JSON `true` is true.

use serde_json::Value;

use super::{Bad, CheckResult, FieldError, Pod};

/// `v` at `path`, unless absent or null.
pub(super) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(v, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

pub(super) fn is_true(v: Option<&Value>) -> bool {
    v == Some(&Value::Bool(true))
}

pub(super) fn text(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// `"a", "b"` as the library quotes names.
pub(super) fn join_quote(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    format!("\"{}\"", items.join("\", \""))
}

pub(super) fn plural(singular: &'static str, plural: &'static str, n: usize) -> &'static str {
    if n == 1 {
        singular
    } else {
        plural
    }
}

/// Sorted, without duplicates (Go's `sets.String.List`).
pub(super) fn set(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    items
}

/// One container: its field path (`spec.containers[0]`), name and value.
pub(super) struct Container<'a> {
    pub(super) path: String,
    pub(super) name: String,
    pub(super) value: &'a Value,
}

impl Container<'_> {
    /// `securityContext.<path>`, when the security context is set.
    pub(super) fn sc(&self, path: &[&str]) -> Option<&Value> {
        let sc = at(self.value, &["securityContext"])?;
        at(sc, path)
    }

    pub(super) fn field(&self, rest: &str) -> String {
        format!("{}.{rest}", self.path)
    }
}

/// Init containers, containers, then ephemeral containers (the library's
/// visiting order).
pub(super) fn containers<'a>(pod: &Pod<'a>) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        let list = at(pod.spec, &[key]).and_then(Value::as_array);
        for (i, c) in list.into_iter().flatten().enumerate() {
            out.push(Container {
                path: format!("spec.{key}[{i}]"),
                name: text(c.get("name")).to_string(),
                value: c,
            });
        }
    }
    out
}

pub(super) fn windows(pod: &Pod<'_>) -> bool {
    text(at(pod.spec, &["os", "name"])) == "windows"
}

pub(super) fn result(reason: &str, detail: String, errors: Vec<FieldError>) -> Option<CheckResult> {
    Some(CheckResult {
        reason: reason.to_string(),
        detail,
        errors: Some(errors),
    })
}

/// Names and field errors of the containers a check flags.
#[derive(Default)]
pub(super) struct Flagged {
    pub(super) names: Vec<String>,
    pub(super) errors: Vec<FieldError>,
}

impl Flagged {
    pub(super) fn add(&mut self, name: &str, errors: impl IntoIterator<Item = FieldError>) {
        self.names.push(name.to_string());
        self.errors.extend(errors);
    }
    pub(super) fn containers(&self) -> String {
        format!(
            "{} {}",
            plural("container", "containers", self.names.len()),
            join_quote(&self.names)
        )
    }
}

/// `allowPrivilegeEscalation` (restricted; v1.25 exempts Windows pods).
pub(super) fn allow_privilege_escalation(pod: &Pod<'_>, minor: u32) -> Option<CheckResult> {
    if minor >= 25 && windows(pod) {
        return None;
    }
    let mut bad = Flagged::default();
    for c in containers(pod) {
        let field = c.field("securityContext.allowPrivilegeEscalation");
        if at(c.value, &["securityContext"]).is_none() {
            bad.add(&c.name, [FieldError::required(field)]);
        } else {
            match c.sc(&["allowPrivilegeEscalation"]) {
                None => bad.add(&c.name, [FieldError::forbidden(field, Bad::Str("nil".into()))]),
                Some(Value::Bool(true)) => bad.add(&c.name, [FieldError::forbidden(field, Bad::Bool(true))]),
                Some(_) => {}
            }
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must set securityContext.allowPrivilegeEscalation=false",
        bad.containers()
    );
    result("allowPrivilegeEscalation != false", detail, bad.errors)
}

/// The capabilities the baseline profile allows to add.
const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
        .collect()
}

/// `capabilities_baseline`: only the default set may be added.
pub(super) fn capabilities_baseline(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let mut bad = Flagged::default();
    let mut all = Vec::new();
    for c in containers(pod) {
        if c.sc(&["capabilities"]).is_none() {
            continue;
        }
        let forbidden: Vec<String> = strings(c.sc(&["capabilities", "add"]))
            .into_iter()
            .filter(|cap| !DEFAULT_CAPABILITIES.contains(&cap.as_str()))
            .collect();
        if !forbidden.is_empty() {
            all.extend(forbidden.iter().cloned());
            let field = c.field("securityContext.capabilities.add");
            bad.add(&c.name, [FieldError::forbidden(field, Bad::List(set(forbidden)))]);
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must not include {} in securityContext.capabilities.add",
        bad.containers(),
        join_quote(&set(all))
    );
    result("non-default capabilities", detail, bad.errors)
}

/// `capabilities_restricted`: drop `ALL`, add at most `NET_BIND_SERVICE`
/// (v1.25 exempts Windows pods).
pub(super) fn capabilities_restricted(pod: &Pod<'_>, minor: u32) -> Option<CheckResult> {
    if minor >= 25 && windows(pod) {
        return None;
    }
    let (mut missing, mut adding, mut forbidden_caps) = (Flagged::default(), Flagged::default(), Vec::new());
    for c in containers(pod) {
        let drop_field = c.field("securityContext.capabilities.drop");
        if c.sc(&["capabilities"]).is_none() {
            missing.add(&c.name, [FieldError::required(drop_field)]);
            continue;
        }
        let dropped = strings(c.sc(&["capabilities", "drop"]));
        if !dropped.iter().any(|d| d == "ALL") {
            let error = if dropped.is_empty() {
                FieldError::required(drop_field)
            } else {
                FieldError::forbidden(drop_field, Bad::List(set(dropped)))
            };
            missing.add(&c.name, [error]);
        }
        let added: Vec<String> = strings(c.sc(&["capabilities", "add"]))
            .into_iter()
            .filter(|cap| cap != "NET_BIND_SERVICE")
            .collect();
        if !added.is_empty() {
            forbidden_caps.extend(added.iter().cloned());
            let field = c.field("securityContext.capabilities.add");
            adding.add(&c.name, [FieldError::forbidden(field, Bad::List(set(added)))]);
        }
    }
    let mut details = Vec::new();
    if !missing.names.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            missing.containers()
        ));
    }
    if !adding.names.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            adding.containers(),
            join_quote(&set(forbidden_caps))
        ));
    }
    if details.is_empty() {
        return None;
    }
    let mut errors = missing.errors;
    errors.extend(adding.errors);
    result("unrestricted capabilities", details.join("; "), errors)
}

/// `hostPorts`: no container port may set a host port.
pub(super) fn host_ports(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let (mut bad, mut ports) = (Flagged::default(), Vec::new());
    for c in containers(pod) {
        let mut errors = Vec::new();
        let list = at(c.value, &["ports"]).and_then(Value::as_array);
        for (i, port) in list.into_iter().flatten().enumerate() {
            let host = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
            if host != 0 {
                ports.push(host.to_string());
                let field = c.field(&format!("ports[{i}].hostPort"));
                errors.push(FieldError::forbidden(field, Bad::Int(host)));
            }
        }
        if !errors.is_empty() {
            bad.add(&c.name, errors);
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    let ports = set(ports);
    let detail = format!(
        "{} {} {} {}",
        bad.containers(),
        plural("uses", "use", bad.names.len()),
        plural("hostPort", "hostPorts", ports.len()),
        ports.join(", ")
    );
    result("hostPort", detail, bad.errors)
}

/// `hostProbesAndHostLifecycle` (v1.34): probes and lifecycle handlers may
/// not name a host. The library gives it no field errors, so no exclusion
/// can remove it.
pub(super) fn host_probes(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let (mut names, mut hosts) = (Vec::new(), Vec::new());
    for c in containers(pod) {
        let handlers = [
            &["livenessProbe"][..],
            &["readinessProbe"],
            &["startupProbe"],
            &["lifecycle", "postStart"],
            &["lifecycle", "preStop"],
        ];
        let mut found = Vec::new();
        for handler in handlers {
            let Some(h) = at(c.value, handler) else { continue };
            for kind in ["httpGet", "tcpSocket"] {
                let host = text(at(h, &[kind, "host"]));
                if !host.is_empty() {
                    found.push(host.to_string());
                }
            }
        }
        if !found.is_empty() {
            names.push(c.name.clone());
            hosts.extend(found);
        }
    }
    if names.is_empty() {
        return None;
    }
    let (names, hosts) = (set(names), set(hosts));
    Some(CheckResult {
        reason: "probe or lifecycle host".into(),
        detail: format!(
            "{} {} {} {} {}",
            plural("container", "containers", names.len()),
            join_quote(&names),
            plural("uses", "use", names.len()),
            plural("probe or lifecycle host", "probe or lifecycle hosts", hosts.len()),
            join_quote(&hosts)
        ),
        errors: None,
    })
}

/// `privileged`: no container may be privileged.
pub(super) fn privileged(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let mut bad = Flagged::default();
    for c in containers(pod) {
        if is_true(c.sc(&["privileged"])) {
            let field = c.field("securityContext.privileged");
            bad.add(&c.name, [FieldError::forbidden(field, Bad::Bool(true))]);
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must not set securityContext.privileged=true",
        bad.containers()
    );
    result("privileged", detail, bad.errors)
}

/// `procMount`: unset or `Default`.
pub(super) fn proc_mount(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let (mut bad, mut types) = (Flagged::default(), Vec::new());
    for c in containers(pod) {
        let Some(mount) = c.sc(&["procMount"]) else {
            continue;
        };
        let mount = text(Some(mount));
        if mount != "Default" {
            types.push(mount.to_string());
            let field = c.field("securityContext.procMount");
            bad.add(&c.name, [FieldError::forbidden(field, Bad::Str(mount.into()))]);
        }
    }
    if bad.names.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must not set securityContext.procMount to {}",
        bad.containers(),
        join_quote(&set(types))
    );
    result("procMount", detail, bad.errors)
}

/// `runAsNonRoot`: the pod or every container sets it to true, none to
/// false.
pub(super) fn run_as_non_root(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let mut setters = Flagged::default();
    let pod_value = at(pod.spec, &["securityContext", "runAsNonRoot"]);
    let pod_true = is_true(pod_value);
    if pod_value.is_some() && !pod_true {
        let field = "spec.securityContext.runAsNonRoot".to_string();
        setters.add("pod", [FieldError::forbidden(field, Bad::Bool(false))]);
    }
    let (mut explicit, mut implicit) = (Flagged::default(), Flagged::default());
    for c in containers(pod) {
        let field = c.field("securityContext.runAsNonRoot");
        match c.sc(&["runAsNonRoot"]) {
            Some(v) if !is_true(Some(v)) => {
                explicit.add(&c.name, [FieldError::forbidden(field, Bad::Bool(false))])
            }
            Some(_) => {}
            None if !pod_true => implicit.add(&c.name, [FieldError::required(field)]),
            None => {}
        }
    }
    if !explicit.names.is_empty() {
        let names = explicit.containers();
        setters.add(&names, explicit.errors);
    }
    let mut details = Vec::new();
    if !setters.names.is_empty() {
        details.push(format!(
            "{} must not set securityContext.runAsNonRoot=false",
            setters.names.join(" and ")
        ));
    }
    if !implicit.names.is_empty() {
        details.push(format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            implicit.containers()
        ));
    }
    if details.is_empty() {
        return None;
    }
    let mut errors = setters.errors;
    errors.extend(implicit.errors);
    result("runAsNonRoot != true", details.join("\n"), errors)
}

/// `runAsUser` (v1.23): neither the pod nor a container runs as user 0.
pub(super) fn run_as_user(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let mut setters = Flagged::default();
    if at(pod.spec, &["securityContext", "runAsUser"]).and_then(Value::as_i64) == Some(0) {
        let field = "spec.securityContext.runAsUser".to_string();
        setters.add("pod", [FieldError::forbidden(field, Bad::Int(0))]);
    }
    let mut explicit = Flagged::default();
    for c in containers(pod) {
        if c.sc(&["runAsUser"]).and_then(Value::as_i64) == Some(0) {
            let field = c.field("securityContext.runAsUser");
            explicit.add(&c.name, [FieldError::forbidden(field, Bad::Int(0))]);
        }
    }
    if !explicit.names.is_empty() {
        let names = explicit.containers();
        setters.add(&names, explicit.errors);
    }
    if setters.names.is_empty() {
        return None;
    }
    let detail = format!("{} must not set runAsUser=0", setters.names.join(" and "));
    result("runAsUser=0", detail, setters.errors)
}

/// `windowsHostProcess`: neither the pod nor a container sets
/// `windowsOptions.hostProcess` to true.
pub(super) fn windows_host_process(pod: &Pod<'_>, _minor: u32) -> Option<CheckResult> {
    let mut containers_bad = Flagged::default();
    for c in containers(pod) {
        if is_true(c.sc(&["windowsOptions", "hostProcess"])) {
            let field = c.field("securityContext.windowsOptions.hostProcess");
            containers_bad.add(&c.name, [FieldError::forbidden(field, Bad::Bool(true))]);
        }
    }
    let mut setters = Flagged::default();
    if is_true(at(
        pod.spec,
        &["securityContext", "windowsOptions", "hostProcess"],
    )) {
        let field = "spec.securityContext.windowsOptions.hostProcess".to_string();
        setters.add("pod", [FieldError::forbidden(field, Bad::Bool(true))]);
    }
    if !containers_bad.names.is_empty() {
        let names = containers_bad.containers();
        setters.add(&names, containers_bad.errors);
    }
    if setters.names.is_empty() {
        return None;
    }
    let detail = format!(
        "{} must not set securityContext.windowsOptions.hostProcess=true",
        setters.names.join(" and ")
    );
    result("hostProcess", detail, setters.errors)
}
