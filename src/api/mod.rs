//! Custom resource types of `akguard.io/v1alpha1` and the CustomResourceDefinitions
//! generated from them.

pub mod common;
pub mod conditions;
pub mod leak;
pub mod rotation;
pub mod template;

pub use common::{
    BillingSite, CredentialsSecretRef, DurationString, EndpointOverrides, IamScope, ProviderSpec,
};
pub use leak::{LeakIncident, LeakIncidentSpec, LeakIncidentStatus};
pub use rotation::{AccessKeyRotation, AccessKeyRotationSpec, AccessKeyRotationStatus};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// API group of both custom resources.
pub const GROUP: &str = "akguard.io";
/// API version of both custom resources.
pub const VERSION: &str = "v1alpha1";

/// Builds every CustomResourceDefinition of the operator, in a fixed order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![AccessKeyRotation::crd(), LeakIncident::crd()]
}

/// Renders each CustomResourceDefinition as `(file name, YAML document)`, the layout of
/// `crds/`.
pub fn crd_files() -> Vec<(String, String)> {
    crds()
        .iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap_or_default();
            (format!("{name}.yaml"), to_yaml(crd))
        })
        .collect()
}

/// Renders every CustomResourceDefinition as one multi-document YAML stream, as
/// `akguard crds` prints it.
pub fn crds_yaml() -> String {
    crd_files()
        .into_iter()
        .map(|(_, yaml)| yaml)
        .collect::<Vec<_>>()
        .join("---\n")
}

fn to_yaml(crd: &CustomResourceDefinition) -> String {
    // Serializing a CustomResourceDefinition built from our own types cannot fail: every
    // value is a string, number, boolean, list or map.
    serde_saphyr::to_string(crd).expect("a CustomResourceDefinition serializes to YAML")
}
