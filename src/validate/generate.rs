//! Generation of the committed Kubernetes schema bundle from k8s-openapi.
//!
//! One JSON document: `$defs` holds every definition reachable from the
//! built-in kinds below (hardened by `strict.rs`), and `kinds` indexes
//! `(apiVersion, kind)` to its definition. The bundle is committed under
//! `schemas/kubernetes/` and embedded in the binary; a test fails when the
//! committed copy drifts from what this module produces.

use std::collections::BTreeMap;

use k8s_openapi::{api, apiextensions_apiserver, kube_aggregator, Resource};
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

/// Registers one kind's schema with the generator and gives its index entry.
type KindFn = fn(&mut SchemaGenerator) -> Kind;

/// Every top-level kind k8s-openapi offers (discovery types such as
/// `APIGroup` and `Status` left out: they are responses, not manifests).
/// A data table, one line per kind, kept whole so that it reads as the list
/// it is.
const KINDS: &[KindFn] = &[
    kind::<api::admissionregistration::v1::MutatingAdmissionPolicy>,
    kind::<api::admissionregistration::v1::MutatingAdmissionPolicyBinding>,
    kind::<api::admissionregistration::v1::MutatingWebhookConfiguration>,
    kind::<api::admissionregistration::v1::ValidatingAdmissionPolicy>,
    kind::<api::admissionregistration::v1::ValidatingAdmissionPolicyBinding>,
    kind::<api::admissionregistration::v1::ValidatingWebhookConfiguration>,
    kind::<api::admissionregistration::v1alpha1::MutatingAdmissionPolicy>,
    kind::<api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding>,
    kind::<api::admissionregistration::v1beta1::MutatingAdmissionPolicy>,
    kind::<api::admissionregistration::v1beta1::MutatingAdmissionPolicyBinding>,
    kind::<api::apiserverinternal::v1alpha1::StorageVersion>,
    kind::<api::apps::v1::ControllerRevision>,
    kind::<api::apps::v1::DaemonSet>,
    kind::<api::apps::v1::Deployment>,
    kind::<api::apps::v1::ReplicaSet>,
    kind::<api::apps::v1::StatefulSet>,
    kind::<api::authentication::v1::SelfSubjectReview>,
    kind::<api::authentication::v1::TokenRequest>,
    kind::<api::authentication::v1::TokenReview>,
    kind::<api::authorization::v1::LocalSubjectAccessReview>,
    kind::<api::authorization::v1::SelfSubjectAccessReview>,
    kind::<api::authorization::v1::SelfSubjectRulesReview>,
    kind::<api::authorization::v1::SubjectAccessReview>,
    kind::<api::autoscaling::v1::HorizontalPodAutoscaler>,
    kind::<api::autoscaling::v1::Scale>,
    kind::<api::autoscaling::v2::HorizontalPodAutoscaler>,
    kind::<api::batch::v1::CronJob>,
    kind::<api::batch::v1::Job>,
    kind::<api::certificates::v1::CertificateSigningRequest>,
    kind::<api::certificates::v1::ClusterTrustBundle>,
    kind::<api::certificates::v1::PodCertificateRequest>,
    kind::<api::certificates::v1beta1::ClusterTrustBundle>,
    kind::<api::certificates::v1beta1::PodCertificateRequest>,
    kind::<api::coordination::v1::Lease>,
    kind::<api::coordination::v1alpha2::LeaseCandidate>,
    kind::<api::coordination::v1beta1::LeaseCandidate>,
    kind::<api::core::v1::Binding>,
    kind::<api::core::v1::ComponentStatus>,
    kind::<api::core::v1::ConfigMap>,
    kind::<api::core::v1::Endpoints>,
    kind::<api::core::v1::Event>,
    kind::<api::core::v1::LimitRange>,
    kind::<api::core::v1::Namespace>,
    kind::<api::core::v1::Node>,
    kind::<api::core::v1::PersistentVolume>,
    kind::<api::core::v1::PersistentVolumeClaim>,
    kind::<api::core::v1::Pod>,
    kind::<api::core::v1::PodTemplate>,
    kind::<api::core::v1::ReplicationController>,
    kind::<api::core::v1::ResourceQuota>,
    kind::<api::core::v1::Secret>,
    kind::<api::core::v1::Service>,
    kind::<api::core::v1::ServiceAccount>,
    kind::<api::discovery::v1::EndpointSlice>,
    kind::<api::events::v1::Event>,
    kind::<api::flowcontrol::v1::FlowSchema>,
    kind::<api::flowcontrol::v1::PriorityLevelConfiguration>,
    kind::<api::lifecycle::v1alpha1::Eviction>,
    kind::<api::lifecycle::v1alpha1::EvictionRequest>,
    kind::<api::networking::v1::Ingress>,
    kind::<api::networking::v1::IngressClass>,
    kind::<api::networking::v1::IPAddress>,
    kind::<api::networking::v1::NetworkPolicy>,
    kind::<api::networking::v1::ServiceCIDR>,
    kind::<api::node::v1::RuntimeClass>,
    kind::<api::policy::v1::Eviction>,
    kind::<api::policy::v1::PodDisruptionBudget>,
    kind::<api::rbac::v1::ClusterRole>,
    kind::<api::rbac::v1::ClusterRoleBinding>,
    kind::<api::rbac::v1::Role>,
    kind::<api::rbac::v1::RoleBinding>,
    kind::<api::resource::v1::DeviceClass>,
    kind::<api::resource::v1::DeviceTaintRule>,
    kind::<api::resource::v1::ResourceClaim>,
    kind::<api::resource::v1::ResourceClaimTemplate>,
    kind::<api::resource::v1::ResourceSlice>,
    kind::<api::resource::v1alpha3::DeviceTaintRule>,
    kind::<api::resource::v1alpha3::ResourcePoolStatusRequest>,
    kind::<api::resource::v1beta1::DeviceClass>,
    kind::<api::resource::v1beta1::ResourceClaim>,
    kind::<api::resource::v1beta1::ResourceClaimTemplate>,
    kind::<api::resource::v1beta1::ResourceSlice>,
    kind::<api::resource::v1beta2::DeviceClass>,
    kind::<api::resource::v1beta2::DeviceTaintRule>,
    kind::<api::resource::v1beta2::ResourceClaim>,
    kind::<api::resource::v1beta2::ResourceClaimTemplate>,
    kind::<api::resource::v1beta2::ResourceSlice>,
    kind::<api::scheduling::v1::PriorityClass>,
    kind::<api::scheduling::v1alpha3::CompositePodGroup>,
    kind::<api::scheduling::v1alpha3::PodGroup>,
    kind::<api::scheduling::v1alpha3::Workload>,
    kind::<api::scheduling::v1beta1::PodGroup>,
    kind::<api::scheduling::v1beta1::Workload>,
    kind::<api::storage::v1::CSIDriver>,
    kind::<api::storage::v1::CSINode>,
    kind::<api::storage::v1::CSIStorageCapacity>,
    kind::<api::storage::v1::StorageClass>,
    kind::<api::storage::v1::VolumeAttachment>,
    kind::<api::storage::v1::VolumeAttributesClass>,
    kind::<api::storagemigration::v1::StorageVersionMigration>,
    kind::<api::storagemigration::v1beta1::StorageVersionMigration>,
    kind::<apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>,
    kind::<kube_aggregator::pkg::apis::apiregistration::v1::APIService>,
];

/// The index entries of [`KINDS`], their schemas registered with `generator`.
fn all_kinds(generator: &mut SchemaGenerator) -> Vec<Kind> {
    KINDS.iter().map(|kind| kind(generator)).collect()
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
