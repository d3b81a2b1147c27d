//! The spec: the typed contract between a planner and the templates.
//!
//! A planner (the LLM or the builtin parser) fills in a [`Spec`]; nothing else
//! it says is used. The JSON schema the model must follow is generated from
//! these types ([`schema`]) and committed as `schemas/spec.schema.json`.
//!
//! Model output is untrusted: [`Spec::from_untrusted_json`] checks it against
//! the schema, then [`Spec::check`] checks what a schema cannot (DNS names,
//! images, hosts, cron expressions, quantities), and [`Spec::normalize`]
//! sanitises names. This module does not render anything and does not decide
//! file paths.

mod absent;
mod affinity;
mod archetype;
mod batch;
mod change;
mod check;
mod environments;
mod images;
mod objects;
mod operators;
mod pod;
mod probe;
mod rbac;
mod schema;
pub mod secrets;
mod service;
mod values;
mod workload;

pub use affinity::{PodAffinityTerm, PodRelation, TopologySpread, Unsatisfiable};
pub use archetype::{Archetype, ArchetypeDefaults, Probe, WorkloadKind};
pub use batch::{BatchOptions, ConcurrencyPolicy, RestartPolicy};
pub use change::{Change, Field, Operation, Promotion, Update, EVERY};

/// In `environments`: every environment the repository has.
pub const ALL_ENVIRONMENTS: &str = "*";
pub use check::{sanitize_name, Problem};
pub use images::{known_image, KnownImage};
pub use objects::{
    AccessMode, BindingMode, ConfigEntry, ConfigMapObject, Objects, PersistentVolume, PvSource,
    ReclaimPolicy, StorageClass, VolumeMode,
};
pub use operators::{Operator, OPERATORS};
pub use pod::{
    ConfigMapRef, DnsPolicy, EnvFrom, EnvFromSource, HostAlias, KeyValue, NodeRequirement, PodOptions,
    PullPolicy, SelectorOperator, TaintEffect, Toleration, TolerationOperator, Volume, VolumeSource,
};
pub use probe::{ProbeAction, ProbeSpec, Probes};
pub use rbac::{Rbac, RbacRule, Verb};
pub use schema::{schema, schema_json};
pub use service::{Protocol, ServiceOptions, ServicePort, ServiceType};
pub(crate) use values::{
    check_image, is_cpu, is_env_name, is_memory, is_url_path, memory_bytes, CRON_MACROS,
};
pub use workload::{KindChoice, PodRestartPolicy, Strategy, WorkloadOptions};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Errors raised while turning untrusted JSON into a [`Spec`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text was not JSON at all.
    #[error("the planner's reply is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON does not match `schemas/spec.schema.json`.
    #[error("the planner's reply does not match the spec schema:\n{}", bullet(.0))]
    Schema(Vec<String>),
    /// The JSON matches the schema but a value is unsafe or malformed.
    #[error("the spec is not acceptable:\n{}", bullet(&.0.iter().map(ToString::to_string).collect::<Vec<_>>()))]
    Invalid(Vec<Problem>),
}

fn bullet(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("  - {s}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the user asked for, as a typed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Spec")]
pub struct Spec {
    /// Target environment, e.g. `production`, `staging`, `dev`: the one
    /// named first when the request names several.
    pub environment: String,
    // Added by issue 14; absent in older replies reads as empty (see `absent.rs`).
    /// Every environment the changes are meant for when the request names
    /// more than one ("in staging and production": `["staging",
    /// "production"]`, `environment` among them), or `["*"]` for "in all
    /// environments" / "everywhere". Empty when it is for `environment` alone.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Kubernetes namespace for every new component. With only changes: the
    /// namespace the request names, else `default` (it only chooses between
    /// existing workloads of the same name).
    pub namespace: String,
    /// New components (workloads) to create; empty when the intent only changes existing ones.
    pub components: Vec<Component>,
    /// Updates and deletions of workloads the repository already holds; empty for a pure create.
    pub changes: Vec<Change>,
    /// What was inferred rather than stated, shown to the reviewer.
    pub assumptions: Vec<String>,
    /// What is ambiguous and should be confirmed by a person.
    pub questions: Vec<String>,
    /// Every part of the request this spec cannot express, so the plan does
    /// not do it: the words as written and why. Empty when the plan does all
    /// of it. Absent (a reply written before the field existed) reads as empty.
    #[serde(default)]
    pub unsupported: Vec<Unsupported>,
}

/// A part of the request the plan does not do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unsupported {
    /// The words of the request, as written, e.g. `a canary rollout with 10% traffic`.
    pub phrase: String,
    /// Why the plan does not do it, and what would (a tool, an operator, a hand edit).
    pub reason: String,
}

/// One workload and everything around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// DNS-1123 label, e.g. `redis`, `api-gateway`.
    pub name: String,
    /// What kind of thing this is; decides the workload kind and defaults.
    pub archetype: Archetype,
    /// Container image with a pinned tag; null uses the archetype's default.
    pub image: Option<String>,
    /// Replica count; null uses the archetype's default.
    pub replicas: Option<u32>,
    /// Container ports; empty uses the archetype's default ports.
    pub ports: Vec<Port>,
    /// CPU and memory requests and limits; null uses defaults.
    pub resources: Option<Resources>,
    /// Persistent storage; null means none (stateful archetypes get a default).
    pub storage: Option<Storage>,
    /// Expose through an Ingress; null means cluster-internal only.
    pub exposure: Option<Exposure>,
    /// Horizontal autoscaling on CPU; null means a fixed replica count.
    pub autoscaling: Option<Autoscaling>,
    /// Health check; null uses the archetype's probe.
    pub health_check: Option<HealthCheck>,
    /// Plain environment variables. Never put credentials here.
    pub env: Vec<EnvVar>,
    /// Environment variables taken from Kubernetes Secrets (names, never values).
    pub secret_refs: Vec<SecretRef>,
    /// Cron schedule (5 fields) for cron jobs; null otherwise.
    pub schedule: Option<String>,
    /// High availability; null means none.
    pub high_availability: Option<HighAvailability>,
    // Added by issue 16; absent in older replies reads as null (see `absent.rs`).
    /// Container and pod options (command, args, scheduling, volumes, DNS, hooks); null keeps the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodOptions>,
    /// The Service's type and ports; null keeps the default ClusterIP Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceOptions>,
    /// Job and cron job options; null keeps the defaults. Only for job and cron_job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchOptions>,
    /// Kubernetes API rights of the component's ServiceAccount; null means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rbac: Option<Rbac>,
    /// The workload's kind (a bare pod, a ReplicaSet, none) and rollout; null keeps the archetype's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadOptions>,
    /// Readiness, liveness and startup probes in full (http, tcp or exec, with timings); null keeps health_check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Probes>,
    /// ConfigMaps, PersistentVolumes and StorageClasses to create with it; null means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<Objects>,
    /// Namespaces whose pods alone may connect to this component (a
    /// NetworkPolicy); empty means no policy.
    #[serde(default)]
    pub allow_from_namespaces: Vec<String>,
}

/// A container port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// IANA-style port name (at most 15 characters), e.g. `http`.
    pub name: String,
    /// Port number, 1 to 65535.
    pub port: u32,
}

/// Requests and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: Quantities,
    /// The ceiling.
    pub limits: Quantities,
}

/// CPU and memory quantities in Kubernetes notation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantities {
    /// CPU, e.g. `500m` or `2`; null uses the default.
    pub cpu: Option<String>,
    /// Memory, e.g. `512Mi` or `2Gi`; null uses the default.
    pub memory: Option<String>,
}

/// A persistent volume per replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Size, e.g. `10Gi`.
    pub size: String,
    /// StorageClass name; null uses the cluster default.
    pub class: Option<String>,
}

/// Ingress exposure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exposure {
    /// Public host name, e.g. `api.example.com`; null matches any host.
    pub host: Option<String>,
    /// URL path prefix; null means `/`.
    pub path: Option<String>,
    /// Serve over HTTPS with a certificate in a Secret.
    pub tls: bool,
}

/// CPU-based horizontal autoscaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    /// Minimum replicas, at least 1.
    pub min_replicas: u32,
    /// Maximum replicas, at least `min_replicas`.
    pub max_replicas: u32,
    /// Target average CPU utilisation in percent, 1 to 100.
    pub cpu_target_percent: u32,
}

/// An HTTP or TCP health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// HTTP path, e.g. `/healthz`; null means a TCP check.
    pub path: Option<String>,
    /// Port to probe; null uses the first container port.
    pub port: Option<u32>,
}

/// A plain environment variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    /// Variable name, e.g. `LOG_LEVEL`.
    pub name: String,
    /// Value. Credentials are moved to a Secret reference and dropped.
    pub value: String,
}

/// An environment variable read from a Secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Variable name in the container, e.g. `DATABASE_PASSWORD`.
    pub env: String,
    /// Secret name, e.g. `orders-db`.
    pub secret: String,
    /// Key inside the Secret, e.g. `password`.
    pub key: String,
}

/// High-availability options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HighAvailability {
    /// Add a PodDisruptionBudget.
    pub pod_disruption_budget: bool,
    /// Spread replicas across nodes and zones.
    pub spread: bool,
    /// Use the archetype's failover mechanism (e.g. Redis Sentinel).
    pub failover: bool,
}

impl Spec {
    /// Parses and checks untrusted JSON (a model's reply) into a spec.
    ///
    /// The value is checked against the spec schema first, so the error lists
    /// every schema violation at once; then [`Spec::check`] runs.
    pub fn from_untrusted_json(text: &str) -> Result<Spec, Error> {
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(Error::Json)?;
        absent::fill(&mut value);
        let errors = schema::violations(&value);
        if !errors.is_empty() {
            return Err(Error::Schema(errors));
        }
        let mut spec: Spec = serde_json::from_value(value).map_err(Error::Json)?;
        spec.normalize()?;
        Ok(spec)
    }

    /// Sanitises names and checks every value a schema cannot check.
    pub fn normalize(&mut self) -> Result<(), Error> {
        let problems = check::normalize(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(problems))
        }
    }

    /// The environments the plan is meant for: `environment`, then the
    /// others of `environments` in their order (`*` kept as written; the
    /// change stage reads it as every environment the repository has).
    pub fn asked_environments(&self) -> Vec<String> {
        let mut out = vec![self.environment.clone()];
        for e in &self.environments {
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        out
    }

    /// The SHA-256 of the spec's canonical JSON, as lowercase hex.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        let json = serde_json::to_vec(self).expect("a spec always serialises");
        let digest = sha2::Sha256::digest(json);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Component {
    /// A component of the given archetype with every optional field empty.
    pub fn new(name: &str, archetype: Archetype) -> Component {
        Component {
            name: name.to_string(),
            archetype,
            image: None,
            replicas: None,
            ports: Vec::new(),
            resources: None,
            storage: None,
            exposure: None,
            autoscaling: None,
            health_check: None,
            env: Vec::new(),
            secret_refs: Vec::new(),
            schedule: None,
            high_availability: None,
            pod: None,
            service: None,
            batch: None,
            rbac: None,
            workload: None,
            probes: None,
            objects: None,
            allow_from_namespaces: Vec::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    impl Spec {
        /// A one-component spec for tests.
        pub(crate) fn test(archetype: Archetype) -> Spec {
            Spec {
                environment: "production".into(),
                environments: vec![],
                namespace: "default".into(),
                components: vec![Component::new(archetype.as_str(), archetype)],
                changes: vec![],
                assumptions: vec![],
                questions: vec![],
                unsupported: vec![],
            }
        }

        pub(crate) fn with(mut self, f: impl FnOnce(&mut Component)) -> Spec {
            f(&mut self.components[0]);
            self
        }
    }
}
