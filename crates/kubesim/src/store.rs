//! The object store: every object as JSON, one global resourceVersion counter, and the
//! bounded watch history that every write appends to.

use crate::registry::Registry;
use crate::watch::{EventType, History, StoredEvent};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// (group, plural, namespace, name); the namespace is empty for cluster-scoped objects.
/// Objects of every version of a type share one key, as kube-apiserver keeps one storage
/// version.
pub type ObjKey = (String, String, String, String);

pub fn key(group: &str, plural: &str, namespace: &str, name: &str) -> ObjKey {
    (group.to_string(), plural.to_string(), namespace.to_string(), name.to_string())
}

/// All mutable server state, guarded by one mutex in [`crate::sim::Sim`].
pub struct State {
    pub registry: Registry,
    /// Objects are shared with the watch history, so a kept event costs no second copy.
    objects: BTreeMap<ObjKey, Arc<Value>>,
    /// The last resourceVersion handed out; every write takes the next one.
    pub rv: u64,
    pub history: History,
    /// Set by deletions so the garbage collector runs once per request, not per write.
    pub gc_pending: bool,
    events: broadcast::Sender<Arc<StoredEvent>>,
}

impl State {
    pub fn new(history_size: usize, events: broadcast::Sender<Arc<StoredEvent>>) -> Self {
        Self {
            registry: Registry::with_builtins(),
            objects: BTreeMap::new(),
            rv: 0,
            history: History::new(history_size),
            gc_pending: false,
            events,
        }
    }

    pub fn get(&self, key: &ObjKey) -> Option<&Value> {
        self.objects.get(key).map(Arc::as_ref)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Iterates over every object in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjKey, &Value)> {
        self.objects.iter().map(|(k, v)| (k, v.as_ref()))
    }

    /// Replaces an object without a new resourceVersion or watch event, for a change that a
    /// following write in the same request publishes.
    pub fn replace_unpublished(&mut self, key: ObjKey, object: Value) {
        self.objects.insert(key, Arc::new(object));
    }

    /// Stores an object under a new resourceVersion and records the watch event.
    pub fn put(&mut self, key: ObjKey, mut object: Value) -> Value {
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let shared = Arc::new(object);
        let previous = self.objects.insert(key.clone(), shared.clone());
        let kind = if previous.is_some() { EventType::Modified } else { EventType::Added };
        self.record(kind, &key, shared.clone(), previous);
        Arc::unwrap_or_clone(shared)
    }

    /// Removes an object; the DELETED event carries a new resourceVersion.
    pub fn remove(&mut self, key: &ObjKey) -> Option<Value> {
        let mut object = Arc::unwrap_or_clone(self.objects.remove(key)?);
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let shared = Arc::new(object);
        self.record(EventType::Deleted, key, shared.clone(), None);
        self.gc_pending = true;
        Some(Arc::unwrap_or_clone(shared))
    }

    fn record(&mut self, kind: EventType, key: &ObjKey, object: Arc<Value>, previous: Option<Arc<Value>>) {
        let event = Arc::new(StoredEvent {
            rv: self.rv,
            kind,
            group: key.0.clone(),
            resource: key.1.clone(),
            namespace: key.2.clone(),
            object,
            previous,
        });
        self.history.push(event.clone());
        // tokio broadcast send fails only when there are no receivers, that is no open watch.
        let _ = self.events.send(event);
    }

    /// Objects of one type, in one namespace or in all when `namespace` is `None`, in key order.
    pub fn range<'a>(
        &'a self,
        group: &'a str,
        plural: &'a str,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Value)> + 'a {
        let start = key(group, plural, namespace.unwrap_or(""), "");
        self.objects
            .range(start..)
            .take_while(move |(k, _)| k.0 == group && k.1 == plural && namespace.is_none_or(|ns| k.2 == ns))
            .map(|(k, v)| (k, v.as_ref()))
    }

    /// Keys of every object in a namespace, across all namespaced types.
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<ObjKey> {
        self.objects.keys().filter(|k| k.2 == namespace && !k.2.is_empty()).cloned().collect()
    }
}
