//! The shared simulator core that HTTP handlers, the workload controllers and the Rust
//! control handle all act on.

use crate::fields::Scope;
use crate::registry::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{ObjKey, State, key};
use crate::watch::StoredEvent;
use crate::workloads::RolloutControl;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, broadcast, watch};

/// Namespaces every cluster starts with.
pub const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

pub struct Sim {
    state: Mutex<State>,
    pub(crate) events: broadcast::Sender<Arc<StoredEvent>>,
    pub(crate) bookmark_interval: Duration,
    pub(crate) rollouts: RolloutControl,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Wakes the workload controllers after a write to a workload.
    pub(crate) controller_wake: Notify,
    pub(crate) tokens: crate::tokens::Tokens,
}

/// The type, version, namespace and name a request addresses.
#[derive(Debug, Clone)]
pub struct Target {
    pub rt: ResourceType,
    pub version: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub scope: Scope,
}

impl Target {
    pub fn key_for(&self, name: &str) -> ObjKey {
        key(&self.rt.group, &self.rt.plural, self.namespace.as_deref().unwrap_or(""), name)
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
}

/// Query options of list and watch requests.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
}

/// Query options of create, update and patch requests.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub field_manager: String,
    /// The client set `fieldManager`, which server-side apply requires; otherwise the
    /// manager was derived from the User-Agent.
    pub field_manager_given: bool,
    pub dry_run: bool,
    pub force: bool,
    /// `fieldValidation=Strict`: unknown fields of a custom resource are an error, not pruned.
    pub strict: bool,
}

/// Options of delete requests, from the query string or a `DeleteOptions` body.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub propagation: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

/// The body encodings of PATCH, selected by Content-Type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" | "application/apply-patch+cbor" => Some(Self::Apply),
            _ => None,
        }
    }
}

impl Sim {
    pub(crate) fn new(
        history: usize,
        bookmark_interval: Duration,
        rollouts: RolloutControl,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let (events, _) = broadcast::channel(history.clamp(16, 65_536));
        let mut state = State::new(history, events.clone());
        let now = crate::meta::now_rfc3339();
        for ns in INITIAL_NAMESPACES {
            let mut object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": ns, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now}});
            let rt = state.registry.by_group_resource("", "namespaces").expect("namespaces are built in").clone();
            crate::kinds::normalize(&rt, &mut object);
            state.put(key("", "namespaces", "", ns), object);
        }
        // kube-apiserver bootstraps this role; charts and tests bind to it.
        let cluster_admin = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "cluster-admin", "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now,
                "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]});
        state.put(key("rbac.authorization.k8s.io", "clusterroles", "", "cluster-admin"), cluster_admin);
        Self {
            state: Mutex::new(state),
            events,
            bookmark_interval,
            rollouts,
            shutdown,
            controller_wake: Notify::new(),
            tokens: crate::tokens::Tokens::default(),
        }
    }

    /// Locks the state. A panic while locked leaves data that is still consistent JSON, so a
    /// poisoned lock is recovered rather than failing every later request.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn object_count(&self) -> usize {
        self.lock().len()
    }
}

/// Rewrites `apiVersion` for the version a client asked for; versions of one custom
/// resource share a schema here (conversion strategy `None`).
pub fn to_version(rt: &ResourceType, version: &str, mut object: Value) -> Value {
    if rt.versions.len() > 1 {
        object["apiVersion"] = json!(rt.api_version(version));
    }
    object
}
