//! Kyverno `validate.podSecurity`: the Pod Security Standards of a `level`
//! and `version`, minus the controls `exclude` names, evaluated on a pod
//! (or a controller's pod template) as Kyverno's `pkg/pss` does.
//!
//! Kyverno runs every default check of the pod-security-admission library
//! whose level is the rule's (`baseline`: baseline checks only; otherwise,
//! `privileged` included, every check: Kyverno does not skip the checks a
//! restricted check overrides), each at the newest revision not newer than
//! `version` (or its first revision when all are newer). An `exclude` entry
//! without `images` re-runs the checks on the pod with one empty container
//! and removes, per field error of the named control (optionally only for
//! `restrictedField` and bad values matching `values`), one error of the
//! same field (indexes ignored); with `images` it re-runs them on the
//! containers whose image matches and removes errors of the same field and
//! container name. The rule fails when any check keeps an error.
//!
//! Input is the rule's `podSecurity` block (read once, invalid exclusions
//! are errors as Kyverno refuses such a policy) and a pod; output is pass or
//! the failed checks as Kyverno prints them. It does not read namespaces'
//! Pod Security labels or apply PolicyExceptions. A CronJob's metadata is
//! its pod template's (Kyverno reads the job template's).

mod checks;
mod pod;

use serde_json::{json, Value};

use super::pattern::wildcard;

/// The pod under check: its `metadata` and `spec` (either may be null).
pub(super) struct Pod<'a> {
    meta: &'a Value,
    spec: &'a Value,
}

/// The offending value of a field error, as the library records it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Bad {
    /// No value (a required field, or a forbidden one without value).
    None,
    Str(String),
    Bool(bool),
    Int(i64),
    List(Vec<String>),
}

impl Bad {
    /// The values exclusions' `values` are matched against.
    fn values(&self) -> Vec<String> {
        match self {
            Bad::None => Vec::new(),
            Bad::Str(s) if s.is_empty() => Vec::new(),
            Bad::Str(s) => vec![s.clone()],
            Bad::Bool(b) => vec![b.to_string()],
            Bad::Int(i) => vec![i.to_string()],
            Bad::List(l) => l.clone(),
        }
    }
}

/// One field error: `spec.containers[0].securityContext.privileged`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FieldError {
    field: String,
    bad: Bad,
    required: bool,
}

impl FieldError {
    fn required(field: String) -> FieldError {
        FieldError {
            field,
            bad: Bad::None,
            required: true,
        }
    }

    fn forbidden(field: String, bad: Bad) -> FieldError {
        FieldError {
            field,
            bad,
            required: false,
        }
    }

    /// As Kyverno prints it.
    fn text(&self) -> String {
        let value = match &self.bad {
            Bad::None => String::new(),
            Bad::Str(s) => s.clone(),
            Bad::Bool(b) => b.to_string(),
            Bad::Int(i) => i.to_string(),
            Bad::List(l) => format!("[{}]", l.join(" ")),
        };
        match (self.required, value.is_empty()) {
            (true, _) => format!("{}: Required value", self.field),
            (false, true) => format!("{}: Forbidden", self.field),
            (false, false) => format!("{} is forbidden, forbidden values found: {value}", self.field),
        }
    }
}

/// A check that does not allow the pod.
#[derive(Debug, Clone)]
pub(super) struct CheckResult {
    reason: String,
    detail: String,
    /// `None` for checks the library gives no field errors.
    errors: Option<Vec<FieldError>>,
}

type CheckFn = fn(&Pod<'_>, u32) -> Option<CheckResult>;

/// The library's default checks, in its order: ID, restricted level, check.
const CHECKS: [(&str, bool, CheckFn); 18] = [
    (
        "allowPrivilegeEscalation",
        true,
        checks::allow_privilege_escalation,
    ),
    ("appArmorProfile", false, pod::app_armor),
    ("capabilities_baseline", false, checks::capabilities_baseline),
    ("capabilities_restricted", true, checks::capabilities_restricted),
    ("hostNamespaces", false, pod::host_namespaces),
    ("hostPathVolumes", false, pod::host_path_volumes),
    ("hostPorts", false, checks::host_ports),
    ("hostProbesAndHostLifecycle", false, checks::host_probes),
    ("privileged", false, checks::privileged),
    ("procMount", false, checks::proc_mount),
    ("restrictedVolumes", true, pod::restricted_volumes),
    ("runAsNonRoot", true, checks::run_as_non_root),
    ("runAsUser", true, checks::run_as_user),
    ("seLinuxOptions", false, pod::se_linux),
    ("seccompProfile_baseline", false, pod::seccomp_baseline),
    ("seccompProfile_restricted", true, pod::seccomp_restricted),
    ("sysctls", false, pod::sysctls),
    ("windowsHostProcess", false, checks::windows_host_process),
];

/// Kyverno's control names and the check IDs each covers.
const CONTROLS: [(&str, &[&str]); 15] = [
    (
        "Capabilities",
        &["capabilities_baseline", "capabilities_restricted"],
    ),
    (
        "Seccomp",
        &["seccompProfile_baseline", "seccompProfile_restricted"],
    ),
    ("Privileged Containers", &["privileged"]),
    ("Host Ports", &["hostPorts"]),
    ("/proc Mount Type", &["procMount"]),
    ("HostProcess", &["windowsHostProcess"]),
    ("SELinux", &["seLinuxOptions"]),
    ("Host Namespaces", &["hostNamespaces"]),
    ("HostPath Volumes", &["hostPathVolumes"]),
    ("Sysctls", &["sysctls"]),
    ("AppArmor", &["appArmorProfile"]),
    ("Privilege Escalation", &["allowPrivilegeEscalation"]),
    ("Running as Non-root", &["runAsNonRoot"]),
    ("Running as Non-root user", &["runAsUser"]),
    ("Volume Types", &["restrictedVolumes"]),
];

/// Controls that are per container (exclusions must name images) and per
/// pod (exclusions must not), and those a baseline rule cannot exclude.
const CONTAINER_CONTROLS: [&str; 5] = [
    "Capabilities",
    "Privileged Containers",
    "Host Ports",
    "/proc Mount Type",
    "Privilege Escalation",
];
const POD_CONTROLS: [&str; 4] = ["Host Namespaces", "HostPath Volumes", "Sysctls", "Volume Types"];
const RESTRICTED_CONTROLS: [&str; 6] = [
    "Volume Types",
    "Privilege Escalation",
    "Running as Non-root",
    "Running as Non-root user",
    "Seccomp",
    "Capabilities",
];

/// A failed check.
#[derive(Debug, Clone)]
struct Failed {
    id: &'static str,
    result: CheckResult,
}

/// One `exclude` entry.
#[derive(Debug, Clone)]
struct Exclusion {
    control: String,
    images: Vec<String>,
    restricted_field: String,
    values: Vec<String>,
}

/// A rule's `podSecurity` block, read.
#[derive(Debug, Clone)]
pub(super) struct PodSecurity {
    level: String,
    /// `latest` or `v1.N`, as written (for messages).
    version: String,
    /// The minor version; `u32::MAX` for `latest`.
    minor: u32,
    exclude: Vec<Exclusion>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

impl PodSecurity {
    /// Reads `validate.podSecurity`; `Err` says what Kyverno would refuse.
    pub(super) fn read(v: &Value) -> Result<PodSecurity, String> {
        let level = v.get("level").and_then(Value::as_str).unwrap_or("");
        if !matches!(level, "privileged" | "baseline" | "restricted") {
            return Err(format!(
                "podSecurity.level must be privileged, baseline or restricted, not {level:?}"
            ));
        }
        let version = v.get("version").and_then(Value::as_str).unwrap_or("latest");
        let minor = match version {
            "" | "latest" => u32::MAX,
            v => v
                .strip_prefix("v1.")
                .and_then(|m| m.parse::<u32>().ok())
                .ok_or_else(|| format!("podSecurity.version must be \"latest\" or \"v1.x\", not {v:?}"))?,
        };
        let mut exclude = Vec::new();
        let entries = v.get("exclude").and_then(Value::as_array);
        for (i, e) in entries.into_iter().flatten().enumerate() {
            exclude.push(exclusion(e, level).map_err(|m| format!("podSecurity.exclude[{i}]: {m}"))?);
        }
        let version = if version.is_empty() { "latest" } else { version };
        Ok(PodSecurity {
            level: level.to_string(),
            version: version.to_string(),
            minor,
            exclude,
        })
    }

    /// Checks the pod `pod` (a Pod, or a controller's pod view): `Err`
    /// with the JSON pointer of the first remaining error and the failed
    /// checks as Kyverno prints them.
    pub(super) fn evaluate(&self, pod: &Value) -> Result<(), (String, String)> {
        let view = Pod {
            meta: pod.get("metadata").unwrap_or(&Value::Null),
            spec: pod.get("spec").unwrap_or(&Value::Null),
        };
        let mut failed = self.run(&view);
        for exclusion in &self.exclude {
            if failed.is_empty() {
                break;
            }
            failed = self.apply(exclusion, failed, &view);
        }
        if failed.is_empty() {
            return Ok(());
        }
        let path = failed
            .iter()
            .flat_map(|f| f.result.errors.iter().flatten())
            .next()
            .map(|e| pointer(&e.field))
            .unwrap_or_default();
        let checks: Vec<String> = failed
            .iter()
            .map(|f| {
                let errors: Vec<String> = f.result.errors.iter().flatten().map(FieldError::text).collect();
                // Checks without field errors say what they found in the detail.
                let reason = match errors.is_empty() {
                    true => format!("{} ({})", f.result.reason, f.result.detail),
                    false => f.result.reason.clone(),
                };
                format!(
                    "(Forbidden reason: {reason}, field error list: [{}])",
                    errors.join(", ")
                )
            })
            .collect();
        let detail = format!(
            "it violates PodSecurity \"{}:{}\": {}",
            self.level,
            self.version,
            checks.concat()
        );
        Err((path, detail))
    }

    /// The checks of the level on `pod` that do not allow it.
    fn run(&self, pod: &Pod<'_>) -> Vec<Failed> {
        CHECKS
            .iter()
            .filter(|(_, restricted, _)| self.level != "baseline" || !restricted)
            .filter_map(|(id, _, check)| check(pod, self.minor).map(|result| Failed { id, result }))
            .collect()
    }

    /// Removes from `failed` what `exclusion` exempts.
    fn apply(&self, exclusion: &Exclusion, failed: Vec<Failed>, pod: &Pod<'_>) -> Vec<Failed> {
        if exclusion.images.is_empty() {
            // The pod with one empty container: its pod-level errors.
            let mut spec = pod.spec.as_object().cloned().unwrap_or_default();
            spec.insert("containers".into(), json!([{"name": "fake"}]));
            spec.remove("initContainers");
            spec.remove("ephemeralContainers");
            let spec = Value::Object(spec);
            let fake = Pod {
                meta: pod.meta,
                spec: &spec,
            };
            let excluded = self.run(&fake);
            return exempt(failed, &excluded, exclusion, pod, None);
        }
        // Only the containers whose image matches, in an otherwise empty pod.
        let mut spec = serde_json::Map::new();
        for key in ["containers", "initContainers", "ephemeralContainers"] {
            let list = checks::at(pod.spec, &[key]).and_then(Value::as_array);
            let chosen: Vec<Value> = list
                .into_iter()
                .flatten()
                .filter(|c| {
                    let image = checks::text(c.get("image"));
                    exclusion.images.iter().any(|p| wildcard(p, image))
                })
                .cloned()
                .collect();
            if !chosen.is_empty() {
                spec.insert(key.into(), Value::Array(chosen));
            }
        }
        let meta = json!({
            "name": checks::at(pod.meta, &["name"]),
            "namespace": checks::at(pod.meta, &["namespace"]),
        });
        let spec = Value::Object(spec);
        let matching = Pod {
            meta: &meta,
            spec: &spec,
        };
        let excluded = self.run(&matching);
        exempt(failed, &excluded, exclusion, pod, Some(&matching))
    }
}

/// Reads and validates one `exclude` entry of a rule at `level`.
fn exclusion(e: &Value, level: &str) -> Result<Exclusion, String> {
    let control = e.get("controlName").and_then(Value::as_str).unwrap_or("");
    if !CONTROLS.iter().any(|(name, _)| *name == control) {
        let names: Vec<&str> = CONTROLS.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "unknown controlName {control:?} (one of {})",
            names.join(", ")
        ));
    }
    let out = Exclusion {
        control: control.to_string(),
        images: strings(e.get("images")),
        restricted_field: e
            .get("restrictedField")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        values: strings(e.get("values")),
    };
    if CONTAINER_CONTROLS.contains(&control) && out.images.is_empty() {
        return Err(format!(
            "images must be specified for the container level control {control:?}"
        ));
    }
    if POD_CONTROLS.contains(&control) && !out.images.is_empty() {
        return Err(format!(
            "images must not be specified for the pod level control {control:?}"
        ));
    }
    if out.restricted_field.is_empty() != out.values.is_empty() {
        return Err("restrictedField and values go together".into());
    }
    let always = ["Seccomp", "Capabilities"].contains(&control);
    if level == "baseline" && !always && RESTRICTED_CONTROLS.contains(&control) {
        return Err(format!("control {control:?} is not part of the baseline level"));
    }
    Ok(out)
}

/// `field` with every number replaced by `*`, the numbers, and the second
/// word (`containers` in `spec.containers[0]…`).
fn parse_field(field: &str) -> (String, Vec<usize>, String) {
    let (mut wild, mut numbers, mut words) = (String::new(), Vec::new(), Vec::new());
    let mut chars = field.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                n.push(d);
            }
            numbers.push(n.parse().unwrap_or(usize::MAX));
            wild.push('*');
        } else if c.is_ascii_alphabetic() {
            let mut w = String::new();
            while let Some(a) = chars.next_if(char::is_ascii_alphabetic) {
                w.push(a);
            }
            wild.push_str(&w);
            words.push(w);
        } else {
            wild.push(c);
            chars.next();
        }
    }
    (wild, numbers, words.get(1).cloned().unwrap_or_default())
}

/// The name of a container a field error points at, if it points at one.
fn container_of(pod: &Pod<'_>, field: &str) -> (String, Option<String>) {
    let (wild, numbers, kind) = parse_field(field);
    if !matches!(
        kind.as_str(),
        "containers" | "initContainers" | "ephemeralContainers"
    ) {
        return (wild, None);
    }
    let name = numbers
        .first()
        .and_then(|&i| checks::at(pod.spec, &[&kind])?.as_array()?.get(i))
        .map(|c| checks::text(c.get("name")).to_string())
        .unwrap_or_default();
    (wild, Some(name))
}

/// Kyverno's `exemptExclusions`: each field error `excluded` has for the
/// control removes one matching error of `failed`; `matching` is the pod of
/// the chosen containers for an exclusion with images.
fn exempt(
    mut failed: Vec<Failed>,
    excluded: &[Failed],
    exclusion: &Exclusion,
    pod: &Pod<'_>,
    matching: Option<&Pod<'_>>,
) -> Vec<Failed> {
    let ids = CONTROLS
        .iter()
        .find(|(name, _)| *name == exclusion.control)
        .map_or(&[][..], |(_, ids)| *ids);
    for ex in excluded.iter().filter(|ex| ids.contains(&ex.id)) {
        for error in ex.result.errors.iter().flatten() {
            let (field, name) = match matching {
                Some(m) => container_of(m, &error.field),
                None => (parse_field(&error.field).0, None),
            };
            if !(exclusion.restricted_field.is_empty() || field == exclusion.restricted_field) {
                continue;
            }
            let values_ok = exclusion.values.is_empty()
                || error
                    .bad
                    .values()
                    .iter()
                    .all(|b| exclusion.values.iter().any(|p| wildcard(p, b)));
            if !values_ok {
                continue;
            }
            let Some(pos) = failed.iter().position(|f| f.id == ex.id) else {
                continue;
            };
            let Some(errors) = failed[pos].result.errors.as_mut() else {
                continue;
            };
            let found = errors.iter().position(|d| match matching {
                Some(_) => {
                    let (d_field, d_name) = container_of(pod, &d.field);
                    d_field == field && (d_name.is_none() || d_name == Some(name.clone().unwrap_or_default()))
                }
                None => parse_field(&d.field).0 == field,
            });
            if let Some(i) = found {
                errors.swap_remove(i);
            }
            if errors.is_empty() {
                failed.remove(pos);
            }
        }
    }
    failed
}

/// `spec.containers[0].securityContext` as a JSON pointer.
fn pointer(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while !rest.is_empty() {
        let (segment, next) = if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').unwrap_or(inner.len());
            (&inner[..end], inner.get(end + 1..).unwrap_or(""))
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push('/');
        out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        rest = next.strip_prefix('.').unwrap_or(next);
    }
    out
}

#[cfg(test)]
mod tests;
