//! Generation of the committed Kubernetes schema bundle from k8s-openapi.
//!
//! One JSON document: `$defs` holds every definition reachable from the
//! built-in kinds below (hardened by `strict.rs`), and `kinds` indexes
//! `(apiVersion, kind)` to its definition. The bundle is committed under
//! `schemas/kubernetes/` and embedded in the binary; a test fails when the
//! committed copy drifts from what this module produces.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use schemars::{generate::SchemaSettings, JsonSchema, SchemaGenerator};
use serde_json::{json, Value};

use super::strict;

k8s_openapi::k8s_if_1_37! {
    /// The Kubernetes version the bundle describes (k8s-openapi's `latest`).
    /// Compilation fails here when k8s-openapi moves on, as a reminder to regenerate.
    pub(crate) const KUBERNETES_VERSION: &str = "1.37";
}

/// File name of the bundle inside `schemas/kubernetes/`.
pub(crate) const BUNDLE_FILE: &str = "kubernetes.json";

/// One entry of the bundle's index.
struct Kind {
    api_version: &'static str,
    kind: &'static str,
    definition: String,
}

fn kind<T: Resource + JsonSchema>(generator: &mut SchemaGenerator) -> Kind {
    // Registers T and everything it references under `$defs`.
    generator.subschema_for::<T>();
    Kind {
        api_version: T::API_VERSION,
        kind: T::KIND,
        definition: T::schema_name().into_owned(),
    }
}

macro_rules! kinds {
    ($generator:expr; $($($segment:ident)::+,)*) => {
        vec![$(kind::<k8s_openapi::$($segment)::+>($generator),)*]
    };
}

/// Every top-level kind k8s-openapi offers (discovery types such as
/// `APIGroup` and `Status` left out: they are responses, not manifests).
fn all_kinds(generator: &mut SchemaGenerator) -> Vec<Kind> {
    kinds! { generator;
        api::admissionregistration::v1::MutatingAdmissionPolicy,
        api::admissionregistration::v1::MutatingAdmissionPolicyBinding,
        api::admissionregistration::v1::MutatingWebhookConfiguration,
        api::admissionregistration::v1::ValidatingAdmissionPolicy,
        api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        api::admissionregistration::v1::ValidatingWebhookConfiguration,
        api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
        api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
        api::admissionregistration::v1beta1::MutatingAdmissionPolicy,
        api::admissionregistration::v1beta1::MutatingAdmissionPolicyBinding,
        api::apiserverinternal::v1alpha1::StorageVersion,
        api::apps::v1::ControllerRevision,
        api::apps::v1::DaemonSet,
        api::apps::v1::Deployment,
        api::apps::v1::ReplicaSet,
        api::apps::v1::StatefulSet,
        api::authentication::v1::SelfSubjectReview,
        api::authentication::v1::TokenRequest,
        api::authentication::v1::TokenReview,
        api::authorization::v1::LocalSubjectAccessReview,
        api::authorization::v1::SelfSubjectAccessReview,
        api::authorization::v1::SelfSubjectRulesReview,
        api::authorization::v1::SubjectAccessReview,
        api::autoscaling::v1::HorizontalPodAutoscaler,
        api::autoscaling::v1::Scale,
        api::autoscaling::v2::HorizontalPodAutoscaler,
        api::batch::v1::CronJob,
        api::batch::v1::Job,
        api::certificates::v1::CertificateSigningRequest,
        api::certificates::v1::ClusterTrustBundle,
        api::certificates::v1::PodCertificateRequest,
        api::certificates::v1beta1::ClusterTrustBundle,
        api::certificates::v1beta1::PodCertificateRequest,
        api::coordination::v1::Lease,
        api::coordination::v1alpha2::LeaseCandidate,
        api::coordination::v1beta1::LeaseCandidate,
        api::core::v1::Binding,
        api::core::v1::ComponentStatus,
        api::core::v1::ConfigMap,
        api::core::v1::Endpoints,
        api::core::v1::Event,
        api::core::v1::LimitRange,
        api::core::v1::Namespace,
        api::core::v1::Node,
        api::core::v1::PersistentVolume,
        api::core::v1::PersistentVolumeClaim,
        api::core::v1::Pod,
        api::core::v1::PodTemplate,
        api::core::v1::ReplicationController,
        api::core::v1::ResourceQuota,
        api::core::v1::Secret,
        api::core::v1::Service,
        api::core::v1::ServiceAccount,
        api::discovery::v1::EndpointSlice,
        api::events::v1::Event,
        api::flowcontrol::v1::FlowSchema,
        api::flowcontrol::v1::PriorityLevelConfiguration,
        api::lifecycle::v1alpha1::Eviction,
        api::lifecycle::v1alpha1::EvictionRequest,
        api::networking::v1::Ingress,
        api::networking::v1::IngressClass,
        api::networking::v1::IPAddress,
        api::networking::v1::NetworkPolicy,
        api::networking::v1::ServiceCIDR,
        api::node::v1::RuntimeClass,
        api::policy::v1::Eviction,
        api::policy::v1::PodDisruptionBudget,
        api::rbac::v1::ClusterRole,
        api::rbac::v1::ClusterRoleBinding,
        api::rbac::v1::Role,
        api::rbac::v1::RoleBinding,
        api::resource::v1::DeviceClass,
        api::resource::v1::DeviceTaintRule,
        api::resource::v1::ResourceClaim,
        api::resource::v1::ResourceClaimTemplate,
        api::resource::v1::ResourceSlice,
        api::resource::v1alpha3::DeviceTaintRule,
        api::resource::v1alpha3::ResourcePoolStatusRequest,
        api::resource::v1beta1::DeviceClass,
        api::resource::v1beta1::ResourceClaim,
        api::resource::v1beta1::ResourceClaimTemplate,
        api::resource::v1beta1::ResourceSlice,
        api::resource::v1beta2::DeviceClass,
        api::resource::v1beta2::DeviceTaintRule,
        api::resource::v1beta2::ResourceClaim,
        api::resource::v1beta2::ResourceClaimTemplate,
        api::resource::v1beta2::ResourceSlice,
        api::scheduling::v1::PriorityClass,
        api::scheduling::v1alpha3::CompositePodGroup,
        api::scheduling::v1alpha3::PodGroup,
        api::scheduling::v1alpha3::Workload,
        api::scheduling::v1beta1::PodGroup,
        api::scheduling::v1beta1::Workload,
        api::storage::v1::CSIDriver,
        api::storage::v1::CSINode,
        api::storage::v1::CSIStorageCapacity,
        api::storage::v1::StorageClass,
        api::storage::v1::VolumeAttachment,
        api::storage::v1::VolumeAttributesClass,
        api::storagemigration::v1::StorageVersionMigration,
        api::storagemigration::v1beta1::StorageVersionMigration,
        apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        kube_aggregator::pkg::apis::apiregistration::v1::APIService,
    }
}

/// Definitions whose k8s-openapi schema is replaced, and why.
fn overrides() -> [(&'static str, Value); 3] {
    [
        // k8s-openapi marks both with x-kubernetes-int-or-string; a quantity is
        // really a string or a number (`cpu: 0.5`, `memory: 256000`).
        (
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
            json!({ "type": ["string", "number"] }),
        ),
        (
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            json!({ "type": ["integer", "string"] }),
        ),
        // Any JSON value (CRD `default`, `enum`, `example`), not only an object.
        (
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
            json!({}),
        ),
    ]
}

/// The bundle as pretty JSON, exactly as committed.
pub(crate) fn render() -> String {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut kinds = all_kinds(&mut generator);
    kinds.sort_by(|a, b| (a.api_version, a.kind).cmp(&(b.api_version, b.kind)));
    let mut defs: BTreeMap<String, Value> = generator.take_definitions(true).into_iter().collect();

    for (name, schema) in overrides() {
        defs.insert(name.to_owned(), schema);
    }
    for schema in defs.values_mut() {
        strict::harden(schema);
    }
    // `status` is written by controllers and dropped by the API server on
    // apply; exported manifests carry it, so it never fails validation.
    for kind in &kinds {
        if let Some(Value::Object(props)) = defs
            .get_mut(&kind.definition)
            .and_then(|d| d.get_mut("properties"))
        {
            if let Some(status) = props.get_mut("status") {
                *status = json!({});
            }
        }
    }

    let index: Vec<Value> = kinds
        .iter()
        .map(|k| json!({ "apiVersion": k.api_version, "kind": k.kind, "definition": k.definition }))
        .collect();
    let bundle = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated from k8s-openapi by `gitintent schemas --write`; do not edit. See README.md.",
        "kubernetesVersion": KUBERNETES_VERSION,
        "kinds": index,
        "$defs": defs,
    });
    let mut text = serde_json::to_string_pretty(&bundle).expect("a JSON value always serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_has_no_duplicate_kinds() {
        let mut generator = SchemaSettings::draft2020_12().into_generator();
        let kinds = all_kinds(&mut generator);
        let mut keys: Vec<_> = kinds.iter().map(|k| (k.api_version, k.kind)).collect();
        keys.sort();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len());
        assert!(before > 100, "only {before} kinds");
    }
}
