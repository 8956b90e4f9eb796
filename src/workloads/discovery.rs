//! Finds which Secrets and PersistentVolumeClaims a pod template reads, so workloads that
//! consume a target Secret become consumers of the rotation without being listed by hand.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodSpec};

/// Annotation by which Huawei CCE's Everest CSI driver names the Secret holding an OBS
/// volume's access key; the driver reads it only when it mounts the volume.
pub const OBS_SECRET_NAME_ANNOTATION: &str = "csi.storage.k8s.io/node-publish-secret-name";
pub const OBS_SECRET_NAMESPACE_ANNOTATION: &str = "csi.storage.k8s.io/node-publish-secret-namespace";

/// Way a pod template reads a Secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretUse {
    /// `env[].valueFrom.secretKeyRef`, in a container or init container.
    EnvKey,
    /// `envFrom[].secretRef`.
    EnvFrom,
    /// A `secret` volume or a `projected` volume source.
    Volume,
    /// An OBS volume mounted through a PersistentVolumeClaim whose annotations name the Secret.
    ObsVolumeClaim(String),
}

/// Names of the Secrets a pod spec reads directly (env, envFrom, volumes, projected
/// volumes), with how each one is read.
pub fn secrets_read_by(spec: &PodSpec) -> BTreeSet<(String, SecretUse)> {
    let mut found = BTreeSet::new();

    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for container in containers {
        for env in container.env.iter().flatten() {
            let key_ref = env
                .value_from
                .as_ref()
                .and_then(|source| source.secret_key_ref.as_ref());
            if let Some(key_ref) = key_ref {
                found.insert((key_ref.name.clone(), SecretUse::EnvKey));
            }
        }
        for env_from in container.env_from.iter().flatten() {
            if let Some(secret_ref) = &env_from.secret_ref {
                found.insert((secret_ref.name.clone(), SecretUse::EnvFrom));
            }
        }
    }

    for volume in spec.volumes.iter().flatten() {
        if let Some(name) = volume.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            found.insert((name, SecretUse::Volume));
        }
        let projected = volume
            .projected
            .as_ref()
            .and_then(|projected| projected.sources.as_ref());
        for source in projected.into_iter().flatten() {
            if let Some(secret) = &source.secret {
                found.insert((secret.name.clone(), SecretUse::Volume));
            }
        }
    }
    found
}

/// Claim names of the PersistentVolumeClaim volumes in a pod spec.
pub fn claims_mounted_by(spec: &PodSpec) -> BTreeSet<String> {
    spec.volumes
        .iter()
        .flatten()
        .filter_map(|volume| volume.persistent_volume_claim.as_ref())
        .map(|claim| claim.claim_name.clone())
        .collect()
}

/// Returns the Secret (namespace, name) an Everest OBS claim names for its key. Without a namespace
/// annotation the claim's own namespace is meant.
pub fn obs_secret_of_claim(claim: &PersistentVolumeClaim) -> Option<(String, String)> {
    let annotations = claim.metadata.annotations.as_ref()?;
    let name = annotations.get(OBS_SECRET_NAME_ANNOTATION)?.clone();
    let namespace = annotations
        .get(OBS_SECRET_NAMESPACE_ANNOTATION)
        .cloned()
        .or_else(|| claim.metadata.namespace.clone())
        .unwrap_or_default();
    Some((namespace, name))
}

/// Returns how a pod spec in `namespace` reads Secret `secret_name` directly or through an OBS
/// claim among `claims`. Returns how, or `None`.
pub fn consumes_secret(
    spec: &PodSpec,
    namespace: &str,
    secret_name: &str,
    claims: &[PersistentVolumeClaim],
) -> Option<SecretUse> {
    let direct = secrets_read_by(spec)
        .into_iter()
        .find(|(name, _)| name == secret_name)
        .map(|(_, how)| how);
    if direct.is_some() {
        return direct;
    }

    let mounted = claims_mounted_by(spec);
    claims
        .iter()
        .filter(|claim| claim.metadata.namespace.as_deref() == Some(namespace))
        .filter(|claim| {
            claim
                .metadata
                .name
                .as_ref()
                .is_some_and(|name| mounted.contains(name))
        })
        .find(|claim| {
            obs_secret_of_claim(claim)
                .is_some_and(|(ns, name)| ns == namespace && name == secret_name)
        })
        .map(|claim| SecretUse::ObsVolumeClaim(claim.metadata.name.clone().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    fn obs_claim(name: &str, secret: &str, secret_namespace: Option<&str>) -> PersistentVolumeClaim {
        let mut annotations = serde_json::Map::new();
        annotations.insert(OBS_SECRET_NAME_ANNOTATION.into(), json!(secret));
        if let Some(ns) = secret_namespace {
            annotations.insert(OBS_SECRET_NAMESPACE_ANNOTATION.into(), json!(ns));
        }
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "apps", "annotations": annotations}
        }))
        .unwrap()
    }

    #[test]
    fn consumption_table() {
        let claims = vec![
            obs_claim("obs-data", "obs-key", None),
            obs_claim("obs-other", "other-key", Some("apps")),
        ];
        let cases = [
            (
                "env secretKeyRef",
                json!({"containers": [{"name": "c", "env": [{"name": "AK", "valueFrom": {"secretKeyRef": {"name": "hw", "key": "ak"}}}]}]}),
                "hw",
                Some(SecretUse::EnvKey),
            ),
            (
                "init container env",
                json!({"containers": [{"name": "c"}], "initContainers": [{"name": "i", "env": [{"name": "AK", "valueFrom": {"secretKeyRef": {"name": "hw", "key": "ak"}}}]}]}),
                "hw",
                Some(SecretUse::EnvKey),
            ),
            (
                "envFrom",
                json!({"containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "hw"}}]}]}),
                "hw",
                Some(SecretUse::EnvFrom),
            ),
            (
                "secret volume",
                json!({"containers": [{"name": "c"}], "volumes": [{"name": "v", "secret": {"secretName": "hw"}}]}),
                "hw",
                Some(SecretUse::Volume),
            ),
            (
                "projected volume",
                json!({"containers": [{"name": "c"}], "volumes": [{"name": "v", "projected": {"sources": [{"configMap": {"name": "x"}}, {"secret": {"name": "hw"}}]}}]}),
                "hw",
                Some(SecretUse::Volume),
            ),
            (
                "OBS claim",
                json!({"containers": [{"name": "c"}], "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "obs-data"}}]}),
                "obs-key",
                Some(SecretUse::ObsVolumeClaim("obs-data".into())),
            ),
            (
                "OBS claim naming another Secret",
                json!({"containers": [{"name": "c"}], "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "obs-other"}}]}),
                "obs-key",
                None,
            ),
            (
                "other Secret",
                json!({"containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "db"}}]}]}),
                "hw",
                None,
            ),
            (
                "ConfigMap only",
                json!({"containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "hw"}}]}]}),
                "hw",
                None,
            ),
        ];

        for (case, spec, secret, expected) in cases {
            let found = consumes_secret(&pod_spec(spec), "apps", secret, &claims);
            assert_eq!(found, expected, "case {case}");
        }
    }

    #[test]
    fn obs_claim_defaults_to_own_namespace() {
        let claim = obs_claim("c", "obs-key", None);

        assert_eq!(
            obs_secret_of_claim(&claim),
            Some(("apps".to_string(), "obs-key".to_string()))
        );
    }
}
